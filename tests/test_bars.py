"""The labs' quality bars are real: an untrained model and the Keras 3
default-Adadelta recipe of the classic course code both fail them."""

import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import autoencoders, checks, classifiers, data, metrics

PROFILES = ("full", "quick")


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    """The quick profile's data: 2,000 training images of the offline split, all 2,000 test images."""
    with data_dir(mnist_dir):
        return data.load_mnist(scale=True, channel_axis=True, n_train=2000, verbose=False)


def _missed(lab, metric, value, label="this baseline"):
    """Assert that `value` misses the MNIST bar on `metric` in every profile that has it (an unknown name fails)."""
    assert_misses(lab, metric, value, label)


def _dense_ae_bce(x_train, x_test, optimizer, epochs):
    import keras

    keras.utils.set_random_seed(0)
    autoencoder, _, _ = autoencoders.dense_autoencoder(784, 32)
    if epochs:
        autoencoder.compile(optimizer=optimizer, loss="binary_crossentropy")
        autoencoder.fit(x_train, x_train, epochs=epochs, batch_size=256, verbose=0)
    return metrics.bce(x_test, autoencoder.predict(x_test, verbose=0))


def test_lab01_bars_fail_untrained_and_default_adadelta(mnist):
    import keras

    (x_train, _), (x_test, _) = mnist
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    untrained = _dense_ae_bce(x_train, x_test, None, 0)
    adadelta = _dense_ae_bce(x_train, x_test, keras.optimizers.Adadelta(), 5)
    assert untrained > 0.6 and adadelta > 0.6, (untrained, adadelta)
    _missed("01", "test BCE", untrained)
    _missed("01", "test BCE", adadelta)
    # The same budget with Adam clears the quick bar: the bar separates a trained model from these.
    adam = _dense_ae_bce(x_train, x_test, keras.optimizers.Adam(), 40)  # lab 01's quick profile
    assert checks.bars_for("01", "quick")["test BCE"].passes(adam), adam


def test_lab01_pca_and_untrained_miss_the_pca_ratio_bar(mnist):
    """'test BCE vs PCA-32' < 1 means beating PCA with 32 components: PCA itself (ratio 1) and an untrained
    autoencoder miss it, and so does lab 01's quick recipe, which does not beat PCA yet."""
    import keras
    from sklearn.decomposition import PCA

    (x_train, _), (x_test, _) = mnist
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    pca = PCA(32, random_state=0).fit(x_train)
    pca_bce = metrics.bce(x_test, np.clip(pca.inverse_transform(pca.transform(x_test)), 0.0, 1.0))
    untrained = _dense_ae_bce(x_train, x_test, None, 0)
    quick = _dense_ae_bce(x_train, x_test, keras.optimizers.Adam(), 40)
    _missed("01", "test BCE vs PCA-32", 1.0, "PCA-32 itself")
    _missed("01", "test BCE vs PCA-32", untrained / pca_bce, "an untrained autoencoder")
    _missed("01", "test BCE vs PCA-32", quick / pca_bce, "the quick recipe (320 steps)")
    _missed("01", "test BCE", untrained, "an untrained autoencoder")


def _cnn_accuracy(x_train, y_train, x_test, y_test, optimizer, epochs):
    import keras

    keras.utils.set_random_seed(0)
    cnn = classifiers.cnn_classifier()
    cnn.compile(optimizer=optimizer or "adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if epochs:
        cnn.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
    return cnn.evaluate(x_test, y_test, verbose=0)[1]


def test_lab02_bars_fail_untrained_and_default_adadelta(mnist):
    import keras

    (x_train, y_train), (x_test, y_test) = mnist
    untrained = _cnn_accuracy(x_train, y_train, x_test, y_test, None, 0)
    adadelta = _cnn_accuracy(x_train, y_train, x_test, y_test, keras.optimizers.Adadelta(), 4)
    assert untrained < 0.3, untrained
    _missed("02", "CNN accuracy (raw images)", untrained)
    _missed("02", "CNN accuracy (raw images)", adadelta)
    adam = _cnn_accuracy(x_train, y_train, x_test, y_test, keras.optimizers.Adam(), 4)  # lab 02 quick
    assert checks.bars_for("02", "quick")["CNN accuracy (raw images)"].passes(adam), adam


def test_lab02_reconstruction_bar_fails_a_code_that_keeps_nothing_and_an_untrained_cnn(mnist):
    """'CNN accuracy (reconstructions)': reconstructions that keep nothing (the mean image for every input) leave
    the CNN one guess, the largest class share; an untrained CNN on good reconstructions scores about chance."""
    (x_train, y_train), (x_test, y_test) = mnist
    keep_nothing = float(np.bincount(y_test).max() / len(y_test))
    assert keep_nothing < 0.15, keep_nothing
    _missed("02", "CNN accuracy (reconstructions)", keep_nothing, "reconstructions that keep nothing")
    # the originals stand in for perfect reconstructions: the untrained CNN still misses
    untrained = _cnn_accuracy(x_train, y_train, x_test, y_test, None, 0)
    _missed("02", "CNN accuracy (reconstructions)", untrained, "an untrained CNN")
    # no bar on pretraining: random initialisation beats lab 01's encoder at both label budgets (lab 02, part d)
    assert not [name for prof in PROFILES for name in checks.bars_for("02", prof) if "pretrained" in name]


@pytest.fixture(scope="module")
def fashion_quick(fashion_dir):
    """Fashion-MNIST at the quick profile's size: the first 2,000 training and 2,000 test images."""
    with data_dir(fashion_dir):
        return data.load_dataset("fashion_mnist", scale=True, channel_axis=True, n_train=2000, n_test=2000,
                                 verbose=False)


def _missed_fashion(lab, metric, value, label="this baseline"):
    """Assert that `value` misses lab's Fashion-MNIST bar on `metric` in every profile that has it."""
    assert_misses(lab, metric, value, label, dataset="fashion_mnist")


def test_lab01_fashion_bar_fails_untrained_default_adadelta_and_mean_image(fashion_quick):
    import keras

    (x_train, _), (x_test, _) = fashion_quick
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    untrained = _dense_ae_bce(x_train, x_test, None, 0)
    adadelta = _dense_ae_bce(x_train, x_test, keras.optimizers.Adadelta(), 5)
    mean_image = metrics.bce(x_test, autoencoders.mean_image_reconstruction(x_train, len(x_test)))
    assert untrained > 0.6 and adadelta > 0.6, (untrained, adadelta)
    for value in (untrained, adadelta, mean_image):
        _missed_fashion("01", "test BCE", value)
    # Lab 01's quick recipe (Adam, 320 steps) clears it: the bar separates a trained model from these.
    adam = _dense_ae_bce(x_train, x_test, keras.optimizers.Adam(), 40)
    assert checks.bars_for("01", "quick", "fashion_mnist")["test BCE"].passes(adam), adam


def test_lab02_fashion_bar_fails_untrained_and_default_adadelta(fashion_quick):
    import keras

    (x_train, y_train), (x_test, y_test) = fashion_quick
    untrained = _cnn_accuracy(x_train, y_train, x_test, y_test, None, 0)
    adadelta = _cnn_accuracy(x_train, y_train, x_test, y_test, keras.optimizers.Adadelta(), 4)
    assert untrained < 0.3, untrained
    _missed_fashion("02", "CNN accuracy (raw images)", untrained, "an untrained CNN")
    _missed_fashion("02", "CNN accuracy (raw images)", adadelta, "Keras 3's default Adadelta")
    # the reconstructions (full profile): an untrained CNN on the images themselves, and reconstructions that keep
    # nothing (one guess: Fashion-MNIST's test set has 1,000 images of each class)
    _missed_fashion("02", "CNN accuracy (reconstructions)", untrained, "an untrained CNN")
    _missed_fashion("02", "CNN accuracy (reconstructions)", float(np.bincount(y_test).max() / len(y_test)),
                    "reconstructions that keep nothing")
    adam = _cnn_accuracy(x_train, y_train, x_test, y_test, keras.optimizers.Adam(), 4)  # lab 02 quick: 64 steps
    assert checks.bars_for("02", "quick", "fashion_mnist")["CNN accuracy (raw images)"].passes(adam), adam


def test_every_lab_bar_has_a_reason_and_every_profile():
    for lab, per_profile in checks.BARS.items():
        assert set(per_profile) == set(PROFILES), f"lab {lab} needs bars for {PROFILES}"
        for prof, bars in per_profile.items():
            assert bars, f"lab {lab} {prof}: no bars"
            assert all(b.why for b in bars.values()), f"lab {lab} {prof}: say where each bar comes from"


def _vae_test_nll(x_train, x_test_bin, epochs, learning_rate=3e-3):
    import keras

    from labutils import vae

    keras.utils.set_random_seed(0)
    model = vae.build_vae(32, learning_rate=learning_rate, seed=0)
    if epochs:
        model.fit(x_train, epochs=epochs, batch_size=100, verbose=0)
    log_w = vae.log_importance_weights(model, x_test_bin, 100)
    return -vae.importance_sampled_log_likelihood(log_w).mean()


def test_lab07_nll_bar_fails_untrained_and_passes_quick_recipe(mnist):
    (x_train, _), (x_test, _) = mnist
    x_train, x_test = x_train.reshape(-1, 784), x_test[:500].reshape(-1, 784)
    x_test_bin = data.dynamic_binarize(x_test, seed=123)
    untrained = _vae_test_nll(x_train, x_test_bin, 0)
    assert untrained > 500, untrained  # about 784 log 2 = 543 nats
    _missed("07", "test NLL (IS, nats)", untrained, "an untrained VAE")
    b = metrics.base_rate_visible_bias(x_train)  # independent pixels with the training means, as in the notebook
    independent = float(np.mean(np.sum(np.logaddexp(0.0, b) - x_test_bin * b, axis=1)))
    assert 180 < independent < 230, independent  # about 206 nats on the offline split
    _missed("07", "test NLL (IS, nats)", independent, "independent pixels")
    quick = _vae_test_nll(x_train, x_test_bin, 10)  # lab 07's quick profile
    assert checks.bars_for("07", "quick")["test NLL (IS, nats)"].passes(quick), quick
