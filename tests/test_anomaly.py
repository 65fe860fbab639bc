"""labutils.anomaly: the held-out-class split, the scores in nats (reconstruction error, mean image, PCA, a VAE's
negative ELBO) against direct computations, ROC AUC and precision at a fixed recall against hand-worked cases, the
other data set, and the errors for bad input. Tiny models, no training: fast on every backend."""
import math

import keras
import numpy as np
import pytest

from labutils import anomaly, data, metrics, vae


def _images(n=30, d=784, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, d)).astype(np.float32)


def test_held_out_split_removes_the_class_from_training_and_marks_it_in_the_test_set():
    x_train, y_train = _images(20, 4), np.arange(20) % 10
    x_test, y_test = _images(10, 4, 1), np.arange(10)
    xn, yn, is_anomaly = anomaly.held_out_split(x_train, y_train, x_test, y_test, 8)
    assert len(xn) == 18 and 8 not in yn and np.array_equal(xn, x_train[y_train != 8])
    assert is_anomaly.dtype == np.int64 and is_anomaly.tolist() == [int(k == 8) for k in range(10)]


@pytest.mark.parametrize("args, error, match", [
    ((np.zeros((3, 2)), np.array([1, 1, 1]), np.zeros((2, 2)), np.array([0, 1]), 1), ValueError, "nothing is left"),
    ((np.zeros((3, 2)), np.array([0, 1, 2]), np.zeros((2, 2)), np.array([0, 1]), 5), ValueError, "must hold images"),
    ((np.zeros((3, 2)), np.array([0, 1]), np.zeros((2, 2)), np.array([0, 1]), 1), ValueError, "y_train must be"),
    ((np.zeros((3, 2)), np.array([0, 1, 2]), np.zeros((2, 2)), np.array([0.0, 1.0]), 1), ValueError, "integer"),
    ((np.zeros((3, 2)), np.array([0, 1, 2]), np.zeros((2, 2)), np.array([0, 1]), 10), ValueError, "0 to 9"),
    ((np.zeros((3, 2)), np.array([0, 1, 2]), np.zeros((2, 2)), np.array([0, 1]), True), TypeError, "held_out"),
])
def test_held_out_split_refuses_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        anomaly.held_out_split(*args)


def test_held_out_classes_per_data_set(monkeypatch):
    assert anomaly.held_out_class("mnist") == 8 and anomaly.held_out_class("fashion_mnist") == 6
    assert data.dataset_info("fashion_mnist").class_name(anomaly.held_out_class("fashion_mnist")) == "Shirt"
    monkeypatch.setenv("LABS_DATASET", "fashion_mnist")
    assert anomaly.held_out_class() == 6 and anomaly.other_dataset() == "mnist"
    assert anomaly.other_dataset("mnist") == "fashion_mnist"


def test_reconstruction_nats_is_the_per_pixel_bce_summed_over_pixels():
    x, x_hat = _images(5), _images(5, seed=1)
    s = anomaly.reconstruction_nats(x, x_hat)
    assert s.shape == (5,) and s.dtype == np.float64
    np.testing.assert_allclose(s, 784 * metrics.per_image_bce(x, x_hat), rtol=1e-10)
    assert anomaly.reconstruction_nats(np.zeros((1, 4)), np.full((1, 4), 0.5))[0] == pytest.approx(4 * math.log(2))
    np.testing.assert_allclose(anomaly.reconstruction_nats(x.reshape(5, 28, 28), x_hat.reshape(5, 28, 28)), s)
    with pytest.raises(ValueError, match="same shape"):
        anomaly.reconstruction_nats(x, x_hat[:, :10])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        anomaly.reconstruction_nats(x * 255, x_hat)
    with pytest.raises(ValueError, match="batch"):
        anomaly.reconstruction_nats(x[0], x_hat[0])


def test_mean_image_and_pca_scores():
    x_train, x = _images(60, 50), _images(7, 50, 2)
    mean = x_train.mean(axis=0)
    np.testing.assert_allclose(anomaly.mean_image_scores(x_train, x),
                               anomaly.reconstruction_nats(x, np.tile(mean, (7, 1))), rtol=1e-6)
    from sklearn.decomposition import PCA

    pca = PCA(5, random_state=0).fit(x_train)
    expected = anomaly.reconstruction_nats(x, np.clip(pca.inverse_transform(pca.transform(x)), 0, 1))
    np.testing.assert_allclose(anomaly.pca_scores(x_train, x, 5), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="pixels per image"):
        anomaly.mean_image_scores(x_train, x[:, :10])
    with pytest.raises(ValueError, match="n_components"):
        anomaly.pca_scores(x_train, x, 50)


def test_negative_elbo_is_the_mean_negative_log_weight_and_bounds_minus_log_likelihood():
    keras.utils.set_random_seed(0)
    model = vae.build_vae(2, hidden_units=(8,), seed=0)
    x = _images(6)
    s = anomaly.negative_elbo(model, x, k=50, seed=3)
    log_w = vae.log_importance_weights(model, x, 50, seed=3)
    np.testing.assert_allclose(s, -log_w.mean(axis=1))
    assert s.shape == (6,) and np.all(s >= -vae.importance_sampled_log_likelihood(log_w) - 1e-9), \
        "-ELBO >= the importance-sampled -log p(x) (Jensen)"
    # with k samples it estimates reconstruction + KL, the VAE's own loss terms
    z_mean, z_log_var = (keras.ops.convert_to_numpy(t) for t in model.encode(x))
    kl = vae.gaussian_kl(z_mean, z_log_var)
    big = anomaly.negative_elbo(model, x, k=2000, seed=4)
    recon = big - kl
    assert np.all(recon > 0) and np.all(np.abs(recon - 784 * math.log(2)) < 150), "an untrained decoder: about 784 log 2"
    with pytest.raises(TypeError, match="VAE"):
        anomaly.negative_elbo("model", x)


def test_roc_auc_on_hand_worked_cases():
    y = np.array([0, 0, 1, 1])
    assert anomaly.roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert anomaly.roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert anomaly.roc_auc(y, [0.1, 0.8, 0.2, 0.9]) == 0.75   # 3 of the 4 (anomaly, normal) pairs ordered
    assert anomaly.roc_auc(y, [1, 1, 1, 1]) == 0.5            # ties count one half
    fpr, tpr = anomaly.roc_curve(y, [0.1, 0.8, 0.2, 0.9])
    assert fpr[0] == 0 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)


def test_precision_at_recall_on_a_hand_worked_case():
    # ranked by score: A N A N N A (A = anomaly); 2 of 3 anomalies need the top 3 (precision 2/3), all 3 the top 6
    y = np.array([1, 0, 1, 0, 0, 1])
    s = np.array([6, 5, 4, 3, 2, 1], float)
    assert anomaly.precision_at_recall(y, s, 0.6) == pytest.approx(2 / 3)
    assert anomaly.precision_at_recall(y, s, 0.9) == pytest.approx(3 / 6)
    assert anomaly.precision_at_recall(y, s, 0.3) == 1.0
    perfect = anomaly.precision_at_recall(np.r_[np.ones(10), np.zeros(90)].astype(int), np.r_[np.ones(10), np.zeros(90)])
    assert perfect == 1.0


@pytest.mark.parametrize("y, s, kwargs, error, match", [
    ([0, 1, 1], [0.1, 0.2], {}, ValueError, "is_anomaly must be"),
    ([0, 0, 0], [0.1, 0.2, 0.3], {}, ValueError, "both classes"),
    ([0, 2, 1], [0.1, 0.2, 0.3], {}, ValueError, "only 0"),
    ([0, 1], [0.1, np.nan], {}, ValueError, "NaN"),
    ([0, 1], [[0.1, 0.2]], {}, ValueError, "scores must be"),
    ([0, 1], [0.1, 0.2], {"recall": 0.0}, ValueError, "recall"),
    ([0, 1], [0.1, 0.2], {"recall": 1.5}, ValueError, "recall"),
    ([0, 1], [0.1, 0.2], {"recall": "high"}, TypeError, "recall"),
])
def test_measures_refuse_bad_input(y, s, kwargs, error, match):
    with pytest.raises(error, match=match):
        if kwargs:
            anomaly.precision_at_recall(y, s, **kwargs)
        else:
            anomaly.roc_auc(y, s)


def test_the_other_data_set_is_loaded_as_flat_grey_images(mnist_dir, fashion_dir, monkeypatch):
    if mnist_dir.parent != fashion_dir.parent:
        pytest.skip("needs mnist/ and fashion-mnist/ in one data directory")
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(mnist_dir.parent))
    fashion = anomaly.load_other_dataset(50, "mnist")
    digits = anomaly.load_other_dataset(50, "fashion_mnist")
    _, (fx, _) = data.load_dataset("fashion_mnist", scale=True, flatten=True, n_train=1, n_test=50, verbose=False)
    _, (mx, _) = data.load_dataset("mnist", scale=True, flatten=True, n_train=1, n_test=50, verbose=False)
    assert np.array_equal(fashion, fx) and np.array_equal(digits, mx)
    assert fashion.shape == (50, 784) and fashion.dtype == np.float32 and 0 <= fashion.min() and fashion.max() <= 1
    with pytest.raises(TypeError, match="n must be an int"):
        anomaly.load_other_dataset(2.5)
    # LABUTILS_DATA_DIR naming one data set's own folder: the other is found beside it, and the variable is kept
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(mnist_dir))
    assert np.array_equal(anomaly.load_other_dataset(50, "mnist"), fx)
    import os

    assert os.environ["LABUTILS_DATA_DIR"] == str(mnist_dir)
