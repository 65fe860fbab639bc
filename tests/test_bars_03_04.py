"""Labs 03-04's bars are real: untrained or broken models miss them, the quick budget clears the quick bars."""

import numpy as np
import pytest
from conftest import assert_misses, data_dir

keras = pytest.importorskip("keras")

from labutils import autoencoders, checks, data, profile  # noqa: E402

K = 32
# the quick profile of notebooks/03_undercomplete_pca.ipynb: step budgets, 40 and 5 epochs of 2,000 images
QUICK_03 = dict(n_train=2000, n_test=2000, linear_steps=640, linear_lr=3e-3, over_steps=80, batch_size=128)
QUICK_03["linear_epochs"] = profile.epochs_for(QUICK_03["linear_steps"], n_train=2000, batch_size=128)
QUICK_03["over_epochs"] = profile.epochs_for(QUICK_03["over_steps"], n_train=2000, batch_size=128)


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    with data_dir(mnist_dir):
        return data.load_mnist(scale=True, flatten=True, n_train=QUICK_03["n_train"], verbose=False)


def _misses(lab, metric, value, profiles=None, dataset="mnist", label="this baseline"):
    assert_misses(lab, metric, value, label, dataset=dataset, profiles=profiles)


def _pca_32(x_train, x_test):
    from sklearn.decomposition import PCA

    pca = PCA(K, random_state=0).fit(x_train)
    return pca, autoencoders.reconstruction_mse(x_test, pca.inverse_transform(pca.transform(x_test)))


def test_lab03_bars_exist_for_both_profiles():
    for prof in ("full", "quick"):
        assert checks.bars_for("03", prof), prof
        assert checks.bars_for("04", prof), prof


def test_untrained_linear_autoencoder_misses_the_pca_bars(mnist):
    (x_train, _), (x_test, _) = mnist
    pca, pca_mse = _pca_32(x_train, x_test)
    keras.utils.set_random_seed(0)
    ae, _, dec = autoencoders.dense_autoencoder(784, K, activation="linear", output_activation="linear")
    ratio = autoencoders.reconstruction_mse(x_test, ae.predict(x_test, verbose=0)) / pca_mse
    angle = autoencoders.principal_angles(dec.get_layer("reconstruction").kernel.numpy(), pca.components_)[0]
    assert ratio > 2 and angle > 60, (ratio, angle)
    _misses("03", f"linear AE / PCA test MSE (k={K})", ratio)
    _misses("03", "largest principal angle AE vs PCA (deg)", angle)
    # a "nonlinear AE" no better than PCA misses the nonlinear bars
    for k in (8, 32):
        _misses("03", f"nonlinear AE / PCA test MSE (k={k})", 1.0)


def test_untrained_overcomplete_autoencoder_misses_the_copy_bars(mnist):
    (_, _), (x_test, _) = mnist
    keras.utils.set_random_seed(0)
    over, _, _ = autoencoders.dense_autoencoder(784, 1024, activation="linear", output_activation="linear")
    _misses("03", "overcomplete AE test MSE", autoencoders.reconstruction_mse(x_test, over.predict(x_test, verbose=0)))
    # an undercomplete model that copied (gain 1) would miss the undercomplete bar
    _misses("03", "perturbation gain, undercomplete AE", 1.0, label="a copy")
    # the overcomplete bar asks for a model that passes noise on like a copy: a projection onto PCA-32's
    # subspace (what a 32-unit linear code does) removes most of it and misses the bar
    (x_train, _), _ = mnist
    pca, _ = _pca_32(x_train, x_test)
    x, eps = x_test[:500], 0.05 * np.random.default_rng(0).standard_normal((500, 784)).astype(np.float32)
    project = lambda v: pca.inverse_transform(pca.transform(v))  # noqa: E731
    pca_gain = autoencoders.sensitivity_ratio(project(x), project(x + eps), eps)
    assert pca_gain < 0.3, pca_gain
    _misses("03", "perturbation gain, overcomplete AE", pca_gain, label="a projection onto PCA-32")


def test_quick_budget_clears_the_quick_bars_of_lab03(mnist):
    (x_train, _), (x_test, _) = mnist
    bars = checks.bars_for("03", "quick")
    _, pca_mse = _pca_32(x_train, x_test)
    keras.utils.set_random_seed(0)
    ae, _, _ = autoencoders.dense_autoencoder(784, K, activation="linear", output_activation="linear")
    autoencoders.fit_autoencoder(ae, x_train, epochs=QUICK_03["linear_epochs"], learning_rate=QUICK_03["linear_lr"],
                                 batch_size=QUICK_03["batch_size"], verbose=0)
    ratio = autoencoders.reconstruction_mse(x_test, ae.predict(x_test, verbose=0)) / pca_mse
    bars[f"linear AE / PCA test MSE (k={K})"].check("ratio", ratio)
    over, _, _ = autoencoders.dense_autoencoder(784, 1024, activation="linear", output_activation="linear")
    autoencoders.fit_autoencoder(over, x_train, epochs=QUICK_03["over_epochs"], batch_size=QUICK_03["batch_size"],
                                 verbose=0)
    bars["overcomplete AE test MSE"].check("over", autoencoders.reconstruction_mse(x_test, over.predict(x_test, verbose=0)))
    gain = autoencoders.code_sensitivity(over, x_test[:500], sigma=0.05)
    bars["perturbation gain, overcomplete AE"].check("gain", gain)


def test_untrained_and_broken_lab04_models_miss_their_bars(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    keras.utils.set_random_seed(0)
    _, kl_encoder, _ = autoencoders.dense_autoencoder(784, 196, activation="sigmoid", kl_sparsity=(0.05, 1e-3))
    _, l1_encoder, _ = autoencoders.dense_autoencoder(784, 196, activation="relu", unit_norm_decoder=True)
    kl_mean, kl_share = autoencoders.activation_stats(kl_encoder.predict(x_test, verbose=0))
    _misses("04", "near-zero share, sparse KL", kl_share)
    _misses("04", "mean activation, sparse KL", float(kl_mean.mean()))
    # why lab 04 sets no bar on the L1 model's share of zeros: an untrained ReLU code is already about half zeros
    _, relu_share = autoencoders.activation_stats(l1_encoder.predict(x_test, verbose=0))
    assert relu_share > 0.3, relu_share
    # an untrained contractive model is the plain one: ratio 1
    _misses("04", "Jacobian ratio contractive/plain", 1.0)
    # the probe bars sit above both references a code must beat as features, and above a collapsed code
    references = _probe_references(x_train, y_train, x_test, y_test)
    assert references["raw pixels"] > 0.85 and references["PCA-32"] > 0.85, references  # strong references
    untrained = autoencoders.logistic_probe(kl_encoder.predict(x_train, verbose=0), y_train,
                                            kl_encoder.predict(x_test, verbose=0), y_test, max_iter=2000)
    references["an untrained sigmoid code"] = untrained["accuracy"]
    for name in ("sparse L1", "sparse KL"):
        for label, value in references.items():
            _misses("04", f"probe accuracy, {name}", value, label=label)
    # plain and contractive codes lead raw pixels by about the noise of 2,000 test images: lab 04 bars neither
    for prof in ("full", "quick"):
        assert not {"probe accuracy, plain", "probe accuracy, contractive"} & set(checks.bars_for("04", prof))


def _probe_references(x_train, y_train, x_test, y_test):
    """Lab 04's references for the probe: raw pixels, PCA-32 fitted on the training images (as the notebook
    does), and a collapsed (constant) code; each probe trained on the first 2,000 training images."""
    from sklearn.decomposition import PCA

    pca = PCA(K, svd_solver="randomized", random_state=0).fit(x_train)
    px, py = x_train[:2000], y_train[:2000]
    return {"raw pixels": autoencoders.logistic_probe(px, py, x_test, y_test, max_iter=2000)["accuracy"],
            "PCA-32": autoencoders.logistic_probe(pca.transform(px), py, pca.transform(x_test), y_test,
                                                  max_iter=2000)["accuracy"],
            "a collapsed code": autoencoders.logistic_probe(np.zeros((2000, 4)), py, np.zeros((len(y_test), 4)),
                                                            y_test)["accuracy"]}


# ---------------------------------------------------------------- Fashion-MNIST (quick bars only)

def test_quick_budgets_give_todays_epochs_on_the_offline_split():
    assert (QUICK_03["linear_epochs"], QUICK_03["over_epochs"]) == (40, 5)
    assert profile.epochs_for(6300, n_train=8000, batch_size=128) == 100   # lab 03, full: linear AE
    assert profile.epochs_for(1890, n_train=8000, batch_size=128) == 30    # lab 03, full: sweep
    assert profile.epochs_for(630, n_train=8000, batch_size=128) == 10     # lab 03, full: overcomplete AE
    assert profile.epochs_for(1260, n_train=8000, batch_size=128) == 20    # lab 04, full
    assert profile.epochs_for(160, n_train=2000, batch_size=128) == 10     # lab 04, quick


@pytest.fixture(scope="module")
def fashion(fashion_dir):
    with data_dir(fashion_dir):
        return data.load_dataset("fashion_mnist", scale=True, flatten=True, n_train=QUICK_03["n_train"],
                                 n_test=QUICK_03["n_test"], verbose=False)


def _fashion_misses(lab, metric, value, label="this baseline"):
    _misses(lab, metric, value, profiles=("quick",), dataset="fashion_mnist", label=label)


def test_fashion_quick_bars_exist_with_mnists_metric_names():
    for lab in ("03", "04"):
        fashion_bars = checks.bars_for(lab, "quick", "fashion_mnist")
        # every MNIST quick bar but the probes (on Fashion-MNIST no code beats the references there)
        mnist_names = {n for n in checks.bars_for(lab, "quick", "mnist") if not n.startswith("probe accuracy")}
        assert mnist_names <= set(fashion_bars), lab
        assert all("measured" in bar.why for bar in fashion_bars.values()), lab


def test_fashion_untrained_and_baseline_models_miss_the_lab03_bars(fashion):
    (x_train, _), (x_test, _) = fashion
    pca, pca_mse = _pca_32(x_train, x_test)
    keras.utils.set_random_seed(0)
    ae, _, _ = autoencoders.dense_autoencoder(784, K, activation="linear", output_activation="linear")
    ratio = autoencoders.reconstruction_mse(x_test, ae.predict(x_test, verbose=0)) / pca_mse
    assert ratio > 5, ratio
    _fashion_misses("03", f"linear AE / PCA test MSE (k={K})", ratio)
    # the overcomplete AE's error bar: an untrained one and the mean image miss it
    over, _, _ = autoencoders.dense_autoencoder(784, 1024, activation="linear", output_activation="linear")
    _fashion_misses("03", "overcomplete AE test MSE", autoencoders.reconstruction_mse(x_test, over.predict(x_test, verbose=0)))
    mean_image = np.broadcast_to(x_train.mean(axis=0), x_test.shape)
    _fashion_misses("03", "overcomplete AE test MSE", autoencoders.reconstruction_mse(x_test, mean_image))
    # gains: a projection onto PCA's 32-dimensional subspace removes most of a perturbation (about sqrt(32/784)),
    # a copy passes it all on, and so does the untrained overcomplete AE
    x, eps = x_test[:500], 0.05 * np.random.default_rng(0).standard_normal((500, 784)).astype(np.float32)
    project = lambda v: pca.inverse_transform(pca.transform(v))  # noqa: E731
    pca_gain = autoencoders.sensitivity_ratio(project(x), project(x + eps), eps)
    assert pca_gain < 0.3, pca_gain
    _fashion_misses("03", "perturbation gain, overcomplete AE", pca_gain)
    untrained_gain = autoencoders.code_sensitivity(over, x, sigma=0.05)
    assert untrained_gain > 0.9, untrained_gain
    _fashion_misses("03", "perturbation gain, undercomplete AE", untrained_gain)
    _fashion_misses("03", "perturbation gain, undercomplete AE", 1.0)


def test_fashion_untrained_and_collapsed_lab04_models_miss_their_bars(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    keras.utils.set_random_seed(0)
    _, kl_encoder, _ = autoencoders.dense_autoencoder(784, 196, activation="sigmoid", kl_sparsity=(0.05, 1e-3))
    kl_mean, kl_share = autoencoders.activation_stats(kl_encoder.predict(x_test, verbose=0))
    _fashion_misses("04", "mean activation, sparse KL", float(kl_mean.mean()))
    bars = checks.bars_for("04", "quick", "fashion_mnist")
    if "near-zero share, sparse KL" in bars:
        _fashion_misses("04", "near-zero share, sparse KL", kl_share)
    # an untrained contractive model is the plain one: ratio 1
    _fashion_misses("04", "Jacobian ratio contractive/plain", 1.0)
    # why lab 04 sets no quick probe bar on Fashion-MNIST: the references score about 0.80-0.81 and an untrained
    # sigmoid code of 196 units about 0.78-0.80, within the noise of 2,000 test images of the trained codes
    assert not [name for name in bars if name.startswith("probe accuracy")], sorted(bars)
    references = _probe_references(x_train, y_train, x_test, y_test)
    assert 0.78 < references["raw pixels"] < 0.82 and 0.78 < references["PCA-32"] < 0.83, references
    untrained = autoencoders.logistic_probe(kl_encoder.predict(x_train, verbose=0), y_train,
                                            kl_encoder.predict(x_test, verbose=0), y_test, max_iter=2000)
    assert 0.7 < untrained["accuracy"] < 0.85, untrained
