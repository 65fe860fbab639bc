"""Lab 08's sample-quality metrics: Fréchet distance, class histogram, KL to uniform, classifier score."""

import numpy as np
import pytest
from conftest import data_dir

from labutils import metrics


# ---------------------------------------------------------------- Fréchet distance

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


# ---------------------------------------------------------------- the judge on real data

@pytest.fixture(scope="module")
def small_judge_and_data(mnist_dir):
    """A small CNN with a "features" layer, trained for one epoch on 1,000 real images, and 2,000 test images."""
    import keras

    from labutils import data, models

    with data_dir(mnist_dir):
        (x_train, y_train), (x_test, y_test) = data.load_mnist(scale=True, channel_axis=True, n_train=1000,
                                                               verbose=False)
    keras.utils.set_random_seed(0)
    judge = models.cnn_classifier(filters=(8, 16), dense_units=32, augment=False)
    models.train_classifier(judge, x_train, y_train, epochs=3, batch_size=32, learning_rate=3e-3, verbose=0)
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


# ---------------------------------------------------------------- class coverage

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
