"""Metrics of labs 05-06: PSNR and SSIM (tf.image), nearest-neighbour accuracy in code space (scikit-learn)."""
import numpy as np
import pytest

from labutils import metrics

pytest.importorskip("tensorflow")


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    x = rng.random((6, 28, 28, 1)).astype(np.float32)
    noisy = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    return x, noisy


def test_psnr_is_ten_log10_of_one_over_mse(pair):
    x, noisy = pair
    mse = np.mean((x.astype(np.float64) - noisy) ** 2, axis=(1, 2, 3))
    expected = 10 * np.log10(1.0 / mse)
    assert np.allclose(metrics.per_image_psnr(x, noisy), expected, atol=1e-3)
    assert metrics.psnr(x, noisy) == pytest.approx(expected.mean(), abs=1e-3)
    # an MSE of 0.01 is exactly 20 dB
    assert metrics.psnr(np.zeros((2, 784)), np.full((2, 784), 0.1)) == pytest.approx(20.0, abs=1e-4)


def test_psnr_accepts_all_image_layouts(pair):
    x, noisy = pair
    ref = metrics.per_image_psnr(x, noisy)
    assert np.allclose(metrics.per_image_psnr(x[..., 0], noisy[..., 0]), ref)
    assert np.allclose(metrics.per_image_psnr(x.reshape(6, 784), noisy.reshape(6, 784)), ref)


def test_psnr_of_identical_images_is_infinite_and_the_mean_refuses(pair):
    x, noisy = pair
    noisy = noisy.copy()
    noisy[0] = x[0]
    values = metrics.per_image_psnr(x, noisy)
    assert np.isinf(values[0]) and np.all(np.isfinite(values[1:]))
    with pytest.raises(ValueError, match="infinite"):
        metrics.psnr(x, noisy)


def test_more_noise_lowers_psnr_and_ssim(pair):
    x, small = pair
    big = np.clip(x + 0.4 * np.random.default_rng(1).standard_normal(x.shape), 0, 1)
    assert metrics.psnr(x, small) > metrics.psnr(x, big) + 5
    assert metrics.ssim(x, small) > metrics.ssim(x, big)


def test_ssim_identity_is_one_and_matches_tf_on_structure():
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


def test_ssim_window_choices():
    rng = np.random.default_rng(4)
    x = rng.random((2, 28, 28, 1)).astype(np.float32)
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1).astype(np.float32)
    a = metrics.ssim(x, y, filter_size=7)
    b = metrics.ssim(x, y, filter_size=11)
    assert -1 <= a <= 1 and -1 <= b <= 1 and a != b


@pytest.mark.parametrize("kwargs", [dict(filter_size=29), dict(filter_size=10), dict(filter_sigma=0.0),
                                    dict(filter_sigma=float("nan"))])
def test_ssim_rejects_bad_windows(pair, kwargs):
    x, noisy = pair
    with pytest.raises(ValueError):
        metrics.ssim(x, noisy, **kwargs)


def test_ssim_rejects_non_int_window(pair):
    with pytest.raises(TypeError):
        metrics.ssim(*pair, filter_size=11.0)


@pytest.mark.parametrize("fn", [metrics.per_image_psnr, metrics.psnr, metrics.per_image_ssim, metrics.ssim])
def test_image_metrics_reject_bad_input(pair, fn):
    x, noisy = pair
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
