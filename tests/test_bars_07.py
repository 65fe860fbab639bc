"""Lab 07's Fashion-MNIST quick bars are real: an untrained VAE, the independent-pixel model and a conditional
VAE whose samples all look like one class miss them, on real Fashion-MNIST at the quick profile's sizes (2,000
training images, the first 500 test images binarized with the notebook's seed, 100 importance samples), while
the quick recipe (200 steps, as in the notebook) clears the NLL bar. The MNIST bars are tested in test_bars.py."""

import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import checks, data, metrics, profile

NLL = "test NLL (IS, nats)"
RECOGNISED = "CVAE recognised as requested"


def _fashion_bar(metric):
    return checks.bars_for("07", "quick", dataset="fashion_mnist")[metric]


def _fashion_misses(metric, value, label):
    assert_misses("07", metric, value, label, dataset="fashion_mnist", profiles=("quick",))


@pytest.fixture(scope="module")
def fashion(fashion_dir):
    """The quick profile's Fashion-MNIST: 2,000 grey training images, 500 test images binarized once (seed 123)."""
    with data_dir(fashion_dir):
        (x_train, _), (x_test, _) = data.load_dataset("fashion_mnist", scale=True, flatten=True, n_train=2000,
                                                      n_test=500, verbose=False)
    return x_train, data.dynamic_binarize(x_test, seed=123)


def _vae_test_nll(x_train, x_test_bin, steps):
    """The notebook's 32-d VAE (quick learning rate 3e-3, batch 100) after `steps` gradient steps, K = 100."""
    import keras

    from labutils import vae

    keras.utils.set_random_seed(0)
    model = vae.build_vae(32, learning_rate=3e-3, seed=0)
    if steps:
        model.fit(x_train, epochs=profile.epochs_for(steps, n_train=len(x_train), batch_size=100), batch_size=100,
                  verbose=0)
    log_w = vae.log_importance_weights(model, x_test_bin, 100)
    return float(-vae.importance_sampled_log_likelihood(log_w).mean())


def test_lab07_fashion_quick_bars_exist_with_reasons():
    bars = checks.bars_for("07", "quick", dataset="fashion_mnist")
    assert set(checks.bars_for("07", "quick", dataset="mnist")) <= set(bars)
    assert all(b.why for b in bars.values())
    assert bars[NLL].op == "<=" and bars[RECOGNISED].op == ">="


def test_lab07_fashion_untrained_vae_misses_the_nll_bar(fashion):
    x_train, x_test_bin = fashion
    untrained = _vae_test_nll(x_train, x_test_bin, 0)
    assert untrained > 500, untrained  # fair coins: 784 log 2 = 543 nats
    _fashion_misses(NLL, untrained, "an untrained VAE")


def test_lab07_fashion_independent_pixels_miss_the_nll_bar(fashion):
    x_train, x_test_bin = fashion
    b = metrics.base_rate_visible_bias(x_train)  # as in the notebook
    independent = float(np.mean(np.sum(np.logaddexp(0.0, b) - x_test_bin * b, axis=1)))
    assert 350 < independent < 420, independent  # about 386 nats; MNIST's offline split: about 206
    _fashion_misses(NLL, independent, "independent pixels")


def test_lab07_fashion_quick_recipe_passes_the_nll_bar(fashion):
    x_train, x_test_bin = fashion
    quick = _vae_test_nll(x_train, x_test_bin, 200)  # the notebook's TRAIN_STEPS in the quick profile
    assert _fashion_bar(NLL).passes(quick), quick


def test_lab07_fashion_cvae_that_ignores_the_label_misses_the_recognition_bar():
    # the notebook asks for each class 100 times; samples that all look like one class score exactly 0.1,
    # whichever class the judge sees in them
    asked = np.tile(np.arange(10), 100)
    for seen in range(10):
        _fashion_misses(RECOGNISED, float(np.mean(asked == seen)), f"samples that all look like class {seen}")
    # and samples recognised at random
    judged = np.random.default_rng(0).integers(0, 10, len(asked))
    _fashion_misses(RECOGNISED, float(np.mean(judged == asked)), "samples recognised at random")
