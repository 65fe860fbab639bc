"""Fashion-MNIST's full-profile bars (60,000 / 10,000 images) are real: each named baseline misses them.

The baselines are computed here on the real data, as the labs compute them: the mean image, PCA with 32
components, raw pixels, untrained networks, the noisy input and the median filter, independent pixels. Ratios
to PCA and gains over the median filter have their baseline by definition (1 and 0 dB). Needs
``../shared/datasets/fashion-mnist`` (fails under ``CI=true`` when it is missing).
"""
import numpy as np
import pytest
from conftest import assert_misses, data_dir

from labutils import checks, data, metrics

keras = pytest.importorskip("keras")

from labutils import autoencoders  # noqa: E402

LABS = ("01", "02", "03", "04", "05", "06", "07", "08", "09")


@pytest.fixture(scope="module")
def fashion_full(fashion_dir):
    """All 60,000 training and 10,000 test images, flat, in [0, 1]."""
    with data_dir(fashion_dir):
        return data.load_dataset("fashion_mnist", scale=True, flatten=True, verbose=False)


@pytest.fixture(scope="module")
def pca32(fashion_full):
    from sklearn.decomposition import PCA

    (x_train, _), (x_test, _) = fashion_full
    pca = PCA(32, random_state=0).fit(x_train)
    return pca, np.clip(pca.inverse_transform(pca.transform(x_test)), 0.0, 1.0)


def _bars(lab):
    return checks.bars_for(lab, "full", "fashion_mnist")


def _misses(lab, metric, value, label):
    assert_misses(lab, metric, value, label, dataset="fashion_mnist", profiles=("full",))


def test_full_bars_exist_with_reasons_from_three_seeds():
    for lab in LABS:
        bars = _bars(lab)
        assert bars, f"lab {lab}: no Fashion-MNIST full bars"
        assert all("over seeds 0-2" in b.why or "round trip" in b.why for b in bars.values()), lab


def test_lab01_mean_image_pca_and_untrained_miss(fashion_full, pca32):
    (x_train, _), (x_test, _) = fashion_full
    pca_bce = metrics.bce(x_test, pca32[1])
    keras.utils.set_random_seed(0)
    untrained, _, _ = autoencoders.dense_autoencoder(784, 32)
    untrained_bce = metrics.bce(x_test, untrained.predict(x_test, verbose=0))
    mean_bce = metrics.bce(x_test, autoencoders.mean_image_reconstruction(x_train, len(x_test)))
    for label, value in (("PCA-32", pca_bce), ("mean image", mean_bce), ("untrained", untrained_bce)):
        _misses("01", "test BCE", value, label)
    _misses("01", "test BCE vs PCA-32", 1.0, "PCA-32 itself")
    _misses("01", "test BCE vs PCA-32", untrained_bce / pca_bce, "untrained")


def test_lab03_pca_untrained_and_copy_miss(fashion_full, pca32):
    (x_train, _), (x_test, _) = fashion_full
    pca, pca_hat = pca32
    pca_mse = autoencoders.reconstruction_mse(x_test, pca.inverse_transform(pca.transform(x_test)))
    keras.utils.set_random_seed(0)
    linear, _, _ = autoencoders.dense_autoencoder(784, 32, activation="linear", output_activation="linear")
    _misses("03", "linear AE / PCA test MSE (k=32)", autoencoders.reconstruction_mse(x_test, linear.predict(x_test, verbose=0))
            / pca_mse, "untrained linear AE")
    for k in (8, 32):
        _misses("03", f"nonlinear AE / PCA test MSE (k={k})", 1.0, "PCA itself")
    over, _, _ = autoencoders.dense_autoencoder(784, 1024, activation="linear", output_activation="linear")
    for label, x_hat in (("untrained overcomplete AE", over.predict(x_test, verbose=0)), ("PCA-32", pca_hat),
                         ("mean image", autoencoders.mean_image_reconstruction(x_train, len(x_test)))):
        _misses("03", "overcomplete AE test MSE", autoencoders.reconstruction_mse(x_test, x_hat), label)
    x, eps = x_test[:500], 0.1 * np.random.default_rng(0).standard_normal((500, 784)).astype(np.float32)
    project = lambda v: pca.inverse_transform(pca.transform(v))  # noqa: E731
    _misses("03", "perturbation gain, overcomplete AE", autoencoders.sensitivity_ratio(project(x), project(x + eps), eps),
            "a projection onto PCA-32")
    _misses("03", "perturbation gain, undercomplete AE", 1.0, "a copy")
    _misses("03", "perturbation gain, undercomplete AE", autoencoders.code_sensitivity(over, x, sigma=0.1),
            "the untrained overcomplete AE")


def test_lab04_raw_pixels_untrained_and_collapsed_codes_miss(fashion_full):
    (x_train, y_train), (x_test, y_test) = fashion_full
    keras.utils.set_random_seed(0)
    _, kl_encoder, _ = autoencoders.dense_autoencoder(784, 196, activation="sigmoid", kl_sparsity=(0.05, 1e-3))
    kl_mean, kl_share = autoencoders.activation_stats(kl_encoder.predict(x_test, verbose=0))
    _misses("04", "mean activation, sparse KL", float(kl_mean.mean()), "untrained sigmoid code")
    _misses("04", "near-zero share, sparse KL", kl_share, "untrained sigmoid code")
    _misses("04", "Jacobian ratio contractive/plain", 1.0, "no penalty")
    from sklearn.decomposition import PCA

    pca = PCA(32, svd_solver="randomized", random_state=0).fit(x_train)  # as the notebook: on all training images
    px, py = x_train[:2000], y_train[:2000]
    references = {
        "raw pixels": autoencoders.logistic_probe(px, py, x_test, y_test, max_iter=2000)["accuracy"],
        "PCA-32": autoencoders.logistic_probe(pca.transform(px), py, pca.transform(x_test), y_test,
                                              max_iter=2000)["accuracy"],
        "a collapsed code": autoencoders.logistic_probe(np.zeros((2000, 4)), py, np.zeros((len(y_test), 4)),
                                                        y_test)["accuracy"]}
    assert references["PCA-32"] > references["raw pixels"] > 0.78, references  # the stronger reference is PCA
    for label, value in references.items():
        _misses("04", "probe accuracy, contractive", value, label)
    # the other codes lead PCA-32 by about the noise of 10,000 test images: no bar on them
    assert [n for n in _bars("04") if n.startswith("probe accuracy")] == ["probe accuracy, contractive"]


def test_lab05_noisy_input_median_filter_and_untrained_miss(fashion_full):
    from test_bars_05_06 import _lab05_metrics

    _, (x_test, _) = fashion_full
    x_test = x_test[:2000].reshape(-1, 28, 28, 1)  # the lab's full profile measures 2,000 test images
    noisy = {k: autoencoders.corrupt(x_test, k, 0.5, seed=2000) for k in ("gaussian", "masking")}  # seed 0's test noise
    median_out = {k: autoencoders.median_filter(n, 3) for k, n in noisy.items()}
    keras.utils.set_random_seed(0)
    untrained, _, _ = autoencoders.conv_autoencoder(filters=(32, 64))
    candidates = {"the noisy input": noisy, "the median filter": median_out,
                  "an untrained DAE": {k: untrained.predict(n, verbose=0) for k, n in noisy.items()}}
    for label, outputs in candidates.items():
        values = _lab05_metrics(outputs, x_test, noisy, median_out)
        for name in _bars("05"):
            _misses("05", name, values[name], label)


def test_lab06_pca_mean_image_untrained_and_collapsed_miss(fashion_full, pca32):
    (x_train, y_train), (x_test, y_test) = fashion_full
    pca_bce = metrics.bce(x_test, pca32[1])
    mean_bce = metrics.bce(x_test, autoencoders.mean_image_reconstruction(x_train, len(x_test)))
    keras.utils.set_random_seed(0)
    _, dense_encoder, _ = autoencoders.dense_autoencoder(784, 32, hidden_units=(128, 64))
    codes = lambda x: dense_encoder.predict(x, batch_size=500, verbose=0)  # noqa: E731
    untrained_knn = metrics.knn_accuracy(codes(x_train[:8000]), y_train[:8000], codes(x_test), y_test, k=5)
    collapsed = metrics.knn_accuracy(np.zeros((8000, 32)), y_train[:8000], np.zeros((len(y_test), 32)), y_test, k=5)
    checked = 0
    for name in _bars("06"):
        if name.endswith("test BCE"):
            for label, value in (("PCA-32", pca_bce), ("the mean image", mean_bce)):
                _misses("06", name, value, label)
                checked += 1
        elif name.endswith("5-NN accuracy"):
            for label, value in (("the untrained encoder", untrained_knn), ("a collapsed code", collapsed)):
                _misses("06", name, value, label)
                checked += 1
        else:
            _misses("06", name, 0.0, "a model that does not reload identically")
    assert checked >= 6


def test_lab07_independent_pixels_untrained_and_label_blind_miss(fashion_full):
    (x_train, _), (x_test, _) = fashion_full
    x_bin = data.dynamic_binarize(x_test[:2000], seed=123)
    logits = metrics.base_rate_visible_bias(x_train)
    independent = float(np.mean(np.sum(np.logaddexp(0.0, logits) - x_bin * logits, axis=1)))
    _misses("07", "test NLL (IS, nats)", independent, "independent pixels")
    _misses("07", "test NLL (IS, nats)", 784 * np.log(2.0), "fair-coin pixels (an untrained VAE)")
    _misses("07", "CVAE recognised as requested", 0.10, "a decoder that ignores the label")
