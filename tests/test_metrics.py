"""Tests for labutils.metrics: BCE, MSE, the base-rate model, PSNR and SSIM (against tf.image), k-NN accuracy
(scikit-learn), the judge's outputs, the Fréchet distance and class coverage."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import data_dir

from labutils import metrics


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    x = rng.random((16, 784), dtype=np.float32)
    x_hat = rng.random((16, 784), dtype=np.float32)
    return x, x_hat


def test_bce_matches_keras(pair):
    import keras

    x, x_hat = pair
    expected = float(np.mean(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(x, x_hat))))
    assert metrics.bce(x, x_hat) == pytest.approx(expected, abs=1e-5)


def test_bce_matches_keras_on_binary_targets_and_extreme_predictions():
    import keras

    if keras.backend.backend() == "jax":
        pytest.skip("JAX computes Keras' reference in float32 (x64 is off); this float64 comparison runs on "
                    "TensorFlow and PyTorch")

    rng = np.random.default_rng(1)
    x = (rng.random((8, 64)) < 0.3).astype(np.float64)
    x_hat = rng.random((8, 64))
    x_hat[0, :5] = 0.0  # clipped to EPSILON like Keras
    x_hat[1, :5] = 1.0  # clipped to 1 - EPSILON
    # float64 on both sides: in float32 Keras' 1 - 1e-7 rounds to 1 - 1.19e-7 (see the report)
    expected = float(np.mean(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(x, x_hat))))
    assert metrics.bce(x, x_hat) == pytest.approx(expected, rel=1e-6)
    assert metrics.per_image_bce(x, x_hat)[1] > 0.2  # the saturated wrong pixels cost about 16 nats each


def test_bce_formula_by_hand():
    x = np.array([[1.0, 0.0, 0.5, 1.0]])
    p = np.array([[0.8, 0.1, 0.5, 0.5]])
    expected = -np.mean([math.log(0.8), math.log(0.9), math.log(0.5), math.log(0.5)])
    assert metrics.bce(x, p) == pytest.approx(expected, rel=1e-6)
    assert metrics.per_image_bce(x, p)[0] == pytest.approx(expected, rel=1e-6)


def test_bce_of_perfect_binary_reconstruction_is_about_zero():
    x = (np.random.default_rng(2).random((10, 28, 28)) < 0.5).astype(np.float32)
    value = metrics.bce(x, x)
    assert 0.0 <= value < 1e-6  # only the EPSILON clipping is left
    assert value == pytest.approx(-math.log1p(-metrics.EPSILON), rel=1e-3)


def test_bce_of_constant_half_is_log2():
    x = (np.random.default_rng(3).random((5, 100)) < 0.5).astype(np.float32)
    assert metrics.bce(x, np.full_like(x, 0.5)) == pytest.approx(math.log(2), rel=1e-6)


def test_per_image_bce_shape_dtype_and_mean(pair):
    x, x_hat = pair
    per = metrics.per_image_bce(x, x_hat)
    assert per.shape == (16,)
    assert per.dtype == np.float64
    assert np.all(per > 0)
    assert float(per.mean()) == pytest.approx(metrics.bce(x, x_hat), rel=1e-12)
    # each image's value only depends on that image
    np.testing.assert_allclose(metrics.per_image_bce(x[3:4], x_hat[3:4]), per[3:4], rtol=1e-12)


def test_per_image_bce_image_shaped_inputs(pair):
    x, x_hat = pair
    flat = metrics.per_image_bce(x, x_hat)
    np.testing.assert_allclose(metrics.per_image_bce(x.reshape(16, 28, 28, 1), x_hat.reshape(16, 28, 28, 1)), flat)


def test_mse_matches_numpy(pair):
    x, x_hat = pair
    expected = float(np.mean((x.astype(np.float64) - x_hat.astype(np.float64)) ** 2))
    assert metrics.mse(x, x_hat) == pytest.approx(expected, rel=1e-12)
    assert metrics.mse(x, x) == 0.0
    assert metrics.mse(np.zeros((2, 3)), np.ones((2, 3))) == 1.0


def test_metrics_accept_tensors_and_lists():
    keras = pytest.importorskip("keras")

    x = [[0.0, 1.0], [1.0, 0.0]]
    assert metrics.mse(keras.ops.convert_to_tensor(x), np.array(x)) == 0.0
    assert metrics.bce(x, x) < 1e-6


@pytest.mark.parametrize("func", [metrics.bce, metrics.mse, metrics.per_image_bce])
def test_shape_mismatch(func, pair):
    x, x_hat = pair
    with pytest.raises(ValueError, match=r"x \(16, 784\) and x_hat \(16, 28, 28\) must have the same shape"):
        func(x, x_hat.reshape(16, 28, 28))
    with pytest.raises(ValueError, match=r"must have the same shape"):
        func(x[:4], x_hat[:5])


@pytest.mark.parametrize("func", [metrics.bce, metrics.mse, metrics.per_image_bce])
def test_0_255_inputs(func, pair):
    x, x_hat = pair
    with pytest.raises(ValueError, match=r"x must be float values in \[0, 1\].*0-255 pixels: divide by 255"):
        func(x * 255, x_hat)
    with pytest.raises(ValueError, match=r"x_hat must be float values in \[0, 1\].*divide by 255"):
        func(x, x_hat * 255)


@pytest.mark.parametrize("func", [metrics.bce, metrics.mse, metrics.per_image_bce])
def test_bad_values_and_types(func):
    ok = np.full((2, 4), 0.5)
    with pytest.raises(ValueError, match=r"x_hat contains NaN or inf"):
        func(ok, np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match=r"x_hat must be float values in \[0, 1\]; got values in \[-0.1, 0.5\]\.$"):
        func(ok, np.array([[0.5] * 3 + [-0.1]] * 2))
    with pytest.raises(TypeError, match=r"x must be a numeric array; got dtype <U"):
        func(np.array([["a"] * 4] * 2), ok)
    with pytest.raises(ValueError, match=r"x is empty"):
        func(np.zeros((0, 4)), np.zeros((0, 4)))


# ---------------------------------------------------------------- PSNR, SSIM, k-NN accuracy


@pytest.fixture
def image_pair():
    rng = np.random.default_rng(0)
    x = rng.random((6, 28, 28, 1)).astype(np.float32)
    noisy = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    return x, noisy


def test_psnr_is_ten_log10_of_one_over_mse(image_pair):
    x, noisy = image_pair
    mse = np.mean((x.astype(np.float64) - noisy) ** 2, axis=(1, 2, 3))
    expected = 10 * np.log10(1.0 / mse)
    assert np.allclose(metrics.per_image_psnr(x, noisy), expected, atol=1e-3)
    assert metrics.psnr(x, noisy) == pytest.approx(expected.mean(), abs=1e-3)
    # an MSE of 0.01 is exactly 20 dB
    assert metrics.psnr(np.zeros((2, 784)), np.full((2, 784), 0.1)) == pytest.approx(20.0, abs=1e-4)


def test_psnr_accepts_all_image_layouts(image_pair):
    x, noisy = image_pair
    ref = metrics.per_image_psnr(x, noisy)
    assert np.allclose(metrics.per_image_psnr(x[..., 0], noisy[..., 0]), ref)
    assert np.allclose(metrics.per_image_psnr(x.reshape(6, 784), noisy.reshape(6, 784)), ref)


def test_psnr_of_identical_images_is_infinite_and_the_mean_refuses(image_pair):
    x, noisy = image_pair
    noisy = noisy.copy()
    noisy[0] = x[0]
    values = metrics.per_image_psnr(x, noisy)
    assert np.isinf(values[0]) and np.all(np.isfinite(values[1:]))
    with pytest.raises(ValueError, match="infinite"):
        metrics.psnr(x, noisy)


def test_more_noise_lowers_psnr_and_ssim(image_pair):
    x, small = image_pair
    big = np.clip(x + 0.4 * np.random.default_rng(1).standard_normal(x.shape), 0, 1)
    assert metrics.psnr(x, small) > metrics.psnr(x, big) + 5
    assert metrics.ssim(x, small) > metrics.ssim(x, big)


def test_ssim_identity_is_one_and_sees_structure():
    rng = np.random.default_rng(3)
    x = rng.random((3, 28, 28, 1)).astype(np.float32)
    assert np.allclose(metrics.per_image_ssim(x, x), 1.0, atol=1e-5)
    # SSIM sees structure that PSNR does not: a brightness shift of 0.05 keeps the structure, random +-0.05
    # noise of the same (or, after clipping, smaller) MSE destroys it
    x = 0.05 + 0.9 * x
    shifted = x + 0.05
    noisy = np.clip(x + 0.05 * rng.choice([-1.0, 1.0], size=x.shape), 0, 1).astype(np.float32)
    assert metrics.psnr(x, noisy) >= metrics.psnr(x, shifted) - 1e-6
    assert metrics.ssim(x, shifted) > metrics.ssim(x, noisy)


def test_ssim_matches_scikit_image_and_tensorflow(image_pair):
    """The same numbers as skimage's structural_similarity (Gaussian window) and, for any window, tf.image.ssim."""
    from skimage.metrics import structural_similarity

    x, noisy = image_pair
    reference = [structural_similarity(a[..., 0], b[..., 0], data_range=1.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False) for a, b in zip(x, noisy)]
    np.testing.assert_allclose(metrics.per_image_ssim(x, noisy), reference, atol=1e-6)
    tf = pytest.importorskip("tensorflow")
    for size, sigma in ((11, 1.5), (7, 1.0), (5, 2.0)):
        expected = tf.image.ssim(x, noisy, max_val=1.0, filter_size=size, filter_sigma=sigma).numpy()
        np.testing.assert_allclose(metrics.per_image_ssim(x, noisy, filter_size=size, filter_sigma=sigma), expected,
                                   atol=1e-5)


def test_ssim_window_choices():
    rng = np.random.default_rng(4)
    x = rng.random((2, 28, 28, 1)).astype(np.float32)
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    a = metrics.ssim(x, y, filter_size=7)
    b = metrics.ssim(x, y, filter_size=11)
    assert -1 <= a <= 1 and -1 <= b <= 1 and a != b


@pytest.mark.parametrize("kwargs", [dict(filter_size=29), dict(filter_size=10), dict(filter_sigma=0.0),
                                    dict(filter_sigma=float("nan"))])
def test_ssim_rejects_bad_windows(image_pair, kwargs):
    x, noisy = image_pair
    with pytest.raises(ValueError):
        metrics.ssim(x, noisy, **kwargs)


def test_ssim_rejects_non_int_window(image_pair):
    with pytest.raises(TypeError):
        metrics.ssim(*image_pair, filter_size=11.0)


@pytest.mark.parametrize("fn", [metrics.per_image_psnr, metrics.psnr, metrics.per_image_ssim, metrics.ssim])
def test_image_metrics_reject_bad_input(image_pair, fn):
    x, noisy = image_pair
    with pytest.raises(ValueError, match="255"):
        fn(x * 255, noisy * 255)
    with pytest.raises(ValueError, match="same"):
        fn(x, noisy[:3])
    with pytest.raises(ValueError):
        fn(x[0, :, :, 0].ravel(), noisy[0, :, :, 0].ravel())  # one unbatched image
    with pytest.raises(ValueError):
        fn(np.zeros((2, 28, 28, 3)), np.zeros((2, 28, 28, 3)))  # RGB
    with pytest.raises(TypeError):
        fn([["a"]], [["b"]])


def test_knn_accuracy_separable_and_random_codes():
    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 10, 300), rng.integers(0, 10, 100)
    centres = rng.normal(size=(10, 5)) * 10
    c_train = centres[y_train] + rng.normal(size=(300, 5))
    c_test = centres[y_test] + rng.normal(size=(100, 5))
    assert metrics.knn_accuracy(c_train, y_train, c_test, y_test, k=5) == 1.0
    chance = metrics.knn_accuracy(rng.normal(size=(300, 5)), y_train, rng.normal(size=(100, 5)), y_test)
    assert chance < 0.3


def test_knn_accuracy_matches_a_hand_count():
    c_train = np.array([[0.0], [1.0], [10.0], [11.0]])
    y_train = np.array([0, 0, 1, 1])
    c_test = np.array([[0.4], [10.6], [5.6]])
    y_test = np.array([0, 1, 0])
    # 1-NN: 0.4 -> 0, 10.6 -> 1, 5.6 -> 10.0's label 1 (wrong): 2 of 3
    assert metrics.knn_accuracy(c_train, y_train, c_test, y_test, k=1) == pytest.approx(2 / 3)


@pytest.mark.parametrize("args, error", [
    ((np.zeros((4, 2)), np.zeros(4, int), np.zeros((2, 3)), np.zeros(2, int)), ValueError),   # dims differ
    ((np.zeros((4, 2)), np.zeros(3, int), np.zeros((2, 2)), np.zeros(2, int)), ValueError),   # label count
    ((np.zeros((4, 2)), np.zeros(4), np.zeros((2, 2)), np.zeros(2, int)), ValueError),        # float labels
    ((np.zeros(4), np.zeros(4, int), np.zeros((2, 2)), np.zeros(2, int)), ValueError),        # 1-d codes
    ((np.full((4, 2), np.nan), np.zeros(4, int), np.zeros((2, 2)), np.zeros(2, int)), ValueError),
    ((np.zeros((4, 2)), np.zeros(4, int), "codes", np.zeros(2, int)), TypeError),
])
def test_knn_accuracy_rejects_bad_input(args, error):
    with pytest.raises(error):
        metrics.knn_accuracy(*args, k=1)


def test_knn_accuracy_rejects_bad_k():
    args = (np.zeros((4, 2)), np.zeros(4, int), np.zeros((2, 2)), np.zeros(2, int))
    with pytest.raises(ValueError, match="exceeds"):
        metrics.knn_accuracy(*args, k=5)
    with pytest.raises(TypeError):
        metrics.knn_accuracy(*args, k=2.0)


# ---------------------------------------------------------------- judge outputs, Fréchet distance, class coverage


def test_frechet_distance_equals_the_closed_form_for_1d_gaussians():
    # FD(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2
    fd = metrics.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]])
    assert fd == pytest.approx((1 - 3) ** 2 + (2 - 3) ** 2)


def test_frechet_distance_equals_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    v1, v2 = rng.uniform(0.1, 3, 5), rng.uniform(0.1, 3, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_general_covariances_match_the_trace_formula():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = a @ a.T + 0.1 * np.eye(4), b @ b.T + 0.1 * np.eye(4)
    r1 = np.linalg.cholesky(s1)  # tr((s1 s2)^1/2) = sum of sqrt(eig(r1^T s2 r1))
    cross = np.sum(np.sqrt(np.linalg.eigvalsh(r1.T @ s2 @ r1)))
    expected = np.trace(s1) + np.trace(s2) - 2 * cross
    assert metrics.frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(expected, rel=1e-7)
    assert metrics.frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(
        metrics.frechet_distance(np.zeros(4), s2, np.zeros(4), s1), rel=1e-7)


def test_frechet_distance_is_zero_for_identical_and_handles_singular_covariances():
    s = np.diag([1.0, 2.0, 0.0])  # a dead feature: singular covariance
    assert metrics.frechet_distance(np.ones(3), s, np.ones(3), s) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(np.zeros(3), s, np.ones(3), s) == pytest.approx(3.0, abs=1e-6)


def test_frechet_distance_of_sample_statistics_approaches_the_true_one():
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 1.0, size=(20000, 3))
    y = rng.normal(1.0, 2.0, size=(20000, 3))
    fd = metrics.frechet_distance(*metrics.feature_statistics(x), *metrics.feature_statistics(y))
    assert fd == pytest.approx(3 * (1 + 1), rel=0.03)


def test_frechet_distance_rejects_bad_input():
    with pytest.raises(ValueError, match="expected mu"):
        metrics.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance([np.nan], [[1.0]], [0.0], [[1.0]])
    with pytest.raises(ValueError, match="imaginary"):
        metrics.frechet_distance(np.zeros(2), np.array([[1.0, 0], [0, -1.0]]), np.zeros(2), np.eye(2))
    with pytest.raises(TypeError):
        metrics.frechet_distance("a", [[1.0]], [0.0], [[1.0]])


def test_feature_statistics_shapes_and_errors():
    mu, sigma = metrics.feature_statistics(np.arange(12.0).reshape(4, 3))
    assert mu.shape == (3,) and sigma.shape == (3, 3)
    np.testing.assert_allclose(mu, [4.5, 5.5, 6.5])
    mu1, sigma1 = metrics.feature_statistics(np.arange(4.0)[:, None])
    assert sigma1.shape == (1, 1)
    with pytest.raises(ValueError, match="n >= 2"):
        metrics.feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n >= 2"):
        metrics.feature_statistics(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        metrics.feature_statistics(np.array([[0.0], [np.inf]]))


@pytest.fixture(scope="module")
def small_judge_and_data(mnist_dir):
    """A small CNN with a "features" layer, trained for one epoch on 1,000 real images, and 2,000 test images."""
    import keras

    from labutils import classifiers, data

    with data_dir(mnist_dir):
        (x_train, y_train), (x_test, y_test) = data.load_mnist(scale=True, channel_axis=True, n_train=1000,
                                                               verbose=False)
    keras.utils.set_random_seed(0)
    judge = classifiers.cnn_classifier(filters=(8, 16), dense_units=32, augment=False)
    classifiers.train_classifier(judge, x_train, y_train, epochs=3, batch_size=32, learning_rate=3e-3, verbose=0)
    return judge, x_test, y_test


def test_judge_outputs_shapes_and_probabilities(small_judge_and_data):
    judge, x_test, _ = small_judge_and_data
    feats, probs = metrics.judge_outputs(judge, x_test[:7], batch_size=3)
    assert feats.shape == (7, 32) and probs.shape == (7, 10)
    assert feats.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    flat_feats, _ = metrics.judge_outputs(judge, x_test[:7].reshape(7, 784))
    np.testing.assert_allclose(flat_feats, feats, rtol=1e-5, atol=1e-5)


def test_judge_outputs_rejects_bad_input(small_judge_and_data):
    import keras

    judge, x_test, _ = small_judge_and_data
    with pytest.raises(TypeError, match="keras.Model"):
        metrics.judge_outputs("judge", x_test[:2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.judge_outputs(judge, x_test[:2] * 2 - 1)
    plain = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="features"):
        metrics.judge_outputs(plain, x_test[:2])


def test_frechet_distance_near_zero_for_real_halves_and_large_for_noise(small_judge_and_data):
    judge, x_test, y_test = small_judge_and_data
    a, b = x_test[:1000], x_test[1000:2000]
    fa, pa = metrics.judge_outputs(judge, a)
    fb, _ = metrics.judge_outputs(judge, b)
    noise = np.random.default_rng(0).random((1000, 28, 28, 1)).astype(np.float32)
    fn, pn = metrics.judge_outputs(judge, noise)
    stats_a = metrics.feature_statistics(fa)
    floor = metrics.frechet_distance(*metrics.feature_statistics(fb), *stats_a)
    noise_fd = metrics.frechet_distance(*metrics.feature_statistics(fn), *stats_a)
    spread = np.trace(stats_a[1])  # FD of a point mass at the mean: the scale of "far"
    assert floor < 0.1 * spread
    assert noise_fd > 20 * floor
    # one digit only (mode collapse): far from the real data, and the histogram shows it
    ones = x_test[y_test == 1]
    f1, p1 = metrics.judge_outputs(judge, ones)
    assert metrics.frechet_distance(*metrics.feature_statistics(f1), *stats_a) > 5 * floor
    assert metrics.kl_to_uniform(metrics.class_histogram(p1)) > 1.5
    assert metrics.kl_to_uniform(metrics.class_histogram(pa)) < 0.1


def test_class_histogram_from_probabilities_and_labels():
    p = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(metrics.class_histogram(p), [0.5, 0.25, 0.25])
    np.testing.assert_allclose(metrics.class_histogram(np.array([0, 0, 3]), num_classes=5), [2 / 3, 0, 0, 1 / 3, 0])
    np.testing.assert_allclose(metrics.class_histogram(np.array([1, 1])), [0, 1])


def test_class_histogram_rejects_bad_input():
    with pytest.raises(ValueError, match="probabilities"):
        metrics.class_histogram(np.array([[0.5, 0.6]]))
    with pytest.raises(ValueError, match="num_classes"):
        metrics.class_histogram(np.full((2, 4), 0.25), num_classes=10)
    with pytest.raises(ValueError, match="not below"):
        metrics.class_histogram(np.array([0, 5]), num_classes=3)
    with pytest.raises(ValueError, match="integers"):
        metrics.class_histogram(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="integers"):
        metrics.class_histogram(np.array([-1, 2]))


def test_kl_to_uniform_known_values():
    assert metrics.kl_to_uniform(np.full(10, 0.1)) == pytest.approx(0.0, abs=1e-12)
    assert metrics.kl_to_uniform(np.eye(10)[3]) == pytest.approx(np.log(10))
    h = np.array([0.5, 0.5, 0.0, 0.0])
    assert metrics.kl_to_uniform(h) == pytest.approx(np.log(2))
    h = np.array([0.7, 0.2, 0.1])
    assert metrics.kl_to_uniform(h) == pytest.approx(np.sum(h * np.log(3 * h)))


def test_kl_to_uniform_rejects_bad_input():
    with pytest.raises(ValueError, match="summing to 1"):
        metrics.kl_to_uniform([0.5, 0.6])
    with pytest.raises(ValueError, match="summing to 1"):
        metrics.kl_to_uniform([1.5, -0.5])
    with pytest.raises(ValueError, match="K >= 2"):
        metrics.kl_to_uniform([1.0])
    with pytest.raises(TypeError):
        metrics.kl_to_uniform(["a", "b"])


def test_classifier_score_bounds_and_known_values():
    k = 10
    confident_balanced = np.eye(k)[np.arange(100) % k]
    assert metrics.classifier_score(confident_balanced) == pytest.approx(k)
    confident_collapsed = np.eye(k)[np.zeros(100, dtype=int)]
    assert metrics.classifier_score(confident_collapsed) == pytest.approx(1.0)
    unsure = np.full((100, k), 1.0 / k)
    assert metrics.classifier_score(unsure) == pytest.approx(1.0)
    two_classes = np.eye(k)[np.arange(100) % 2]
    assert metrics.classifier_score(two_classes) == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(k), size=50)
    assert 1.0 <= metrics.classifier_score(p) <= k


def test_classifier_score_rejects_bad_input():
    with pytest.raises(ValueError, match="class probabilities"):
        metrics.classifier_score(np.array([[0.5, 0.2]]))
    with pytest.raises(ValueError, match=r"\(n, classes\)"):
        metrics.classifier_score(np.array([0.5, 0.5]))


# ---------------------------------------------------------------- base-rate model


def test_base_rate_bias_is_the_log_odds_of_the_smoothed_means():
    x = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 1, 0]], dtype=float)
    b = metrics.base_rate_visible_bias(x, pseudo_count=1.0)
    p = np.array([4.0, 4.0, 1.0]) / 6.0
    np.testing.assert_allclose(b, np.log(p / (1 - p)))
    grey = np.full((5, 2), 0.25)
    np.testing.assert_allclose(metrics.base_rate_visible_bias(grey, pseudo_count=0), [math.log(1 / 3)] * 2)


def test_base_rate_bias_errors():
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="constant"):
        metrics.base_rate_visible_bias(x, pseudo_count=0)
    with pytest.raises(ValueError, match=">= 0"):
        metrics.base_rate_visible_bias(x, pseudo_count=-1)
    with pytest.raises(TypeError, match="pseudo_count"):
        metrics.base_rate_visible_bias(x, pseudo_count="1")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.base_rate_visible_bias(x * 255)
    with pytest.raises(ValueError, match="n_visible"):
        metrics.base_rate_visible_bias(np.zeros(4))
