"""Lab 07's decoder-comparison bars are real, on both data sets and in both profiles.

The lab trains four VAEs on dequantized grey images and scores each by its test NLL bound in bits per pixel
(``vae.bits_per_pixel``). The continuous Bernoulli's bar must be missed by an untrained continuous-Bernoulli VAE
and by the popular recipe it fixes, binary cross-entropy on grey pixels, scored as the density its logits
define; the learned-variance Gaussian's bar by an untrained one and by the fixed-variance Gaussian
(sigma = 0.1). The baselines train with the notebook's quick recipe (2,000 images, 200 steps, learning rate
3e-3, batch 100) and are scored on its 500 dequantized test images (seed 123) with 20 importance samples.
"""
import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import checks, data, profile

CB = "bits per pixel, continuous Bernoulli"
LEARNED = "bits per pixel, Gaussian, learned sigma"


@pytest.fixture(scope="module", params=["mnist", "fashion_mnist"])
def grey(request, mnist_dir, fashion_dir):
    name = request.param
    with data_dir(mnist_dir if name == "mnist" else fashion_dir):
        (x_train, _), (x_test, _) = data.load_dataset(name, scale=True, flatten=True, n_train=2000, n_test=500,
                                                      verbose=False)
    return name, x_train, data.dequantize(x_test, seed=123)


def _bpp(x_train, x_test_deq, likelihood, steps, scored_as=None):
    import keras

    from labutils import vae

    keras.utils.set_random_seed(0)
    model = vae.build_vae(32, learning_rate=3e-3, seed=0, likelihood=likelihood, dequantize_inputs=True)
    if steps:
        model.fit(x_train, epochs=profile.epochs_for(steps, n_train=len(x_train), batch_size=100), batch_size=100,
                  verbose=0)
    log_w = vae.log_importance_weights(model, x_test_deq, 20, seed=0, likelihood=scored_as)
    return float(vae.bits_per_pixel(-vae.importance_sampled_log_likelihood(log_w).mean()))


def test_lab07_decoder_bars_exist_with_reasons():
    for dataset in ("mnist", "fashion_mnist"):
        for prof in ("full", "quick"):
            bars = checks.bars_for("07", prof, dataset)
            assert bars[CB].op == "<=" and bars[LEARNED].op == "<=" and bars[CB].why and bars[LEARNED].why


def test_lab07_untrained_decoders_miss_the_bars(grey):
    dataset, x_train, x_test_deq = grey
    untrained_cb = _bpp(x_train, x_test_deq, "continuous_bernoulli", 0)
    untrained_learned = _bpp(x_train, x_test_deq, "gaussian_learned", 0)
    assert untrained_cb > 7.0 and untrained_learned > 8.0, (untrained_cb, untrained_learned)
    assert_misses("07", CB, untrained_cb, "an untrained continuous-Bernoulli VAE", dataset=dataset)
    assert_misses("07", LEARNED, untrained_learned, "an untrained learned-variance Gaussian VAE", dataset=dataset)


def test_lab07_bce_on_grey_misses_the_continuous_bernoulli_bar(grey):
    dataset, x_train, x_test_deq = grey
    bce = _bpp(x_train, x_test_deq, "bernoulli", 200, scored_as="continuous_bernoulli")
    assert 5.0 < bce < 7.5, bce
    assert_misses("07", CB, bce, "binary cross-entropy on grey pixels, scored as its density", dataset=dataset)


def test_lab07_fixed_variance_misses_the_learned_variance_bar(grey):
    dataset, x_train, x_test_deq = grey
    fixed = _bpp(x_train, x_test_deq, "gaussian", 200)
    assert 7.0 < fixed < 8.5, fixed
    assert_misses("07", LEARNED, fixed, "a Gaussian decoder with sigma fixed at 0.1", dataset=dataset)
