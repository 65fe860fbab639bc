"""Tests for the RBM likelihood tools of labutils.metrics: free energy, pseudo-likelihood,
exact log partition function, base-rate model, AIS schedule and estimate, log-likelihood."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp

from labutils import metrics


def tiny_rbm(n_visible=10, n_hidden=6, scale=1.0, seed=0):
    """A small RBM with strong couplings, so that log Z is far from the base-rate model's."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, scale, (n_visible, n_hidden))
    b = rng.normal(-0.5, 1.0, n_visible)
    c = rng.normal(0.0, 1.0, n_hidden)
    return W, b, c


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def joint_log_z(W, b, c):
    """log Z summed over every joint state (v, h) of the energy E = -b.v - c.h - v.W.h: no shortcut."""
    V, H = all_states(W.shape[0]), all_states(W.shape[1])
    neg_energy = (V @ b)[:, None] + (H @ c)[None, :] + V @ W @ H.T
    return float(logsumexp(neg_energy))


# ---------------------------------------------------------------- free energy and exact log Z

def test_free_energy_sums_the_hidden_units_out():
    W, b, c = tiny_rbm(5, 4)
    V, H = all_states(5), all_states(4)
    brute = -logsumexp((V @ b)[:, None] + (H @ c)[None, :] + V @ W @ H.T, axis=1)
    np.testing.assert_allclose(metrics.rbm_free_energy(V, W, b, c), brute, rtol=1e-12, atol=1e-12)


def test_free_energy_matches_scikit_learn():
    from sklearn.neural_network import BernoulliRBM

    W, b, c = tiny_rbm(12, 7, seed=3)
    sk = BernoulliRBM(n_components=7)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.T, b, c
    v = (np.random.default_rng(1).random((30, 12)) < 0.4).astype(float)
    np.testing.assert_allclose(metrics.rbm_free_energy(v, W, b, c), sk._free_energy(v), rtol=1e-10)


def test_free_energy_accepts_image_batches_and_float32():
    W, b, c = tiny_rbm(16, 3)
    v = (np.random.default_rng(2).random((4, 4, 4)) < 0.5).astype(np.float32)
    assert metrics.rbm_free_energy(v, W, b, c).shape == (4,)
    assert metrics.rbm_free_energy(v, W, b, c).dtype == np.float64


@pytest.mark.parametrize("shape", [(10, 6), (6, 10), (8, 8)])
def test_exact_log_z_equals_the_joint_sum(shape):
    W, b, c = tiny_rbm(*shape, seed=sum(shape))
    assert metrics.rbm_log_partition_exact(W, b, c) == pytest.approx(joint_log_z(W, b, c), abs=1e-9)


def test_exact_log_z_makes_probabilities_sum_to_one():
    W, b, c = tiny_rbm(9, 5, scale=2.0)
    log_z = metrics.rbm_log_partition_exact(W, b, c)
    log_p = metrics.rbm_log_likelihood(all_states(9), W, b, c, log_z)
    assert np.all(log_p < 0)
    assert float(np.exp(log_p).sum()) == pytest.approx(1.0, abs=1e-10)


def test_exact_log_z_of_the_empty_model_is_n_log_2():
    W = np.zeros((7, 3))
    assert metrics.rbm_log_partition_exact(W, np.zeros(7), np.zeros(3)) == pytest.approx(10 * math.log(2))


def test_exact_log_z_refuses_large_models():
    W = np.zeros((30, 25))
    with pytest.raises(ValueError, match="at most 24 units"):
        metrics.rbm_log_partition_exact(W, np.zeros(30), np.zeros(25))
    # but one small layer is enough: 784 visible units, 12 hidden units
    W = np.random.default_rng(0).normal(0, 0.01, (784, 12))
    assert np.isfinite(metrics.rbm_log_partition_exact(W, np.zeros(784), np.zeros(12)))


# ---------------------------------------------------------------- base-rate model and schedule

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


def test_ais_betas_follow_salakhutdinov_and_murray():
    betas = metrics.ais_betas(14500)
    assert betas.shape == (14501,) and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    assert np.sum(betas < 0.5) == 500 and np.sum((betas >= 0.5) & (betas < 0.9)) == 4000
    assert np.sum(betas >= 0.9) == 10001  # 10,000 steps in [0.9, 1], both ends included
    small = metrics.ais_betas(3)
    np.testing.assert_allclose(small, [0.0, 0.5, 0.9, 1.0])
    for bad, err in ((2, ValueError), (0, ValueError), (10.0, TypeError)):
        with pytest.raises(err):
            metrics.ais_betas(bad)


# ---------------------------------------------------------------- AIS against enumeration

@pytest.fixture(scope="module")
def coupled():
    """A 10-6 RBM with weights of scale 1.5 and its exact log Z."""
    W, b, c = tiny_rbm(10, 6, scale=1.5, seed=7)
    return (W, b, c), metrics.rbm_log_partition_exact(W, b, c)


def test_ais_matches_the_exact_log_partition_function(coupled):
    (W, b, c), exact = coupled
    data = (np.random.default_rng(0).random((200, 10)) < 0.3).astype(float)
    result = metrics.ais_log_partition(W, b, c, base_visible_bias=metrics.base_rate_visible_bias(data),
                                       n_betas=10000, n_runs=100, seed=0)
    assert result.log_z == pytest.approx(exact, abs=0.03)
    assert result.log_z_low <= exact <= result.log_z_high
    assert result.spread < 0.1
    assert result.n_runs == 100 and result.n_betas == 10000 and result.log_weights.shape == (100,)
    assert result.log_z_base == pytest.approx(6 * math.log(2) + np.logaddexp(0, metrics.base_rate_visible_bias(data)).sum())


def test_ais_is_right_for_any_base_rate_model(coupled):
    """AIS is consistent whatever the base model: zeros (uniform pixels) also converge to log Z."""
    (W, b, c), exact = coupled
    result = metrics.ais_log_partition(W, b, c, base_visible_bias=np.zeros(10), n_betas=10000, n_runs=100, seed=1)
    assert result.log_z == pytest.approx(exact, abs=0.03)


def test_ais_tolerance_separates_a_different_model(coupled):
    """The 0.03-nat tolerance above is tight: a slightly different RBM, or AIS without intermediate
    distributions (plain importance sampling from the base rate), lands outside it."""
    (W, b, c), exact = coupled
    base = np.zeros(10)
    other = metrics.ais_log_partition(W * 1.05, b, c, base_visible_bias=base, n_betas=10000, n_runs=100, seed=0)
    assert abs(other.log_z - exact) > 0.1
    assert other.log_z == pytest.approx(metrics.rbm_log_partition_exact(W * 1.05, b, c), abs=0.03)
    no_annealing = metrics.ais_log_partition(W * 3, b, c, base_visible_bias=base, betas=[0.0, 1.0], n_runs=100, seed=0)
    assert abs(no_annealing.log_z - metrics.rbm_log_partition_exact(W * 3, b, c)) > 0.1


def test_ais_on_a_wide_rbm_against_enumerating_the_hidden_layer():
    """784 visible units as in MNIST, 10 hidden units: exact by enumerating 2^10 hidden states."""
    rng = np.random.default_rng(5)
    W = rng.normal(0, 0.3, (784, 10))
    b = rng.normal(-1.0, 1.0, 784)
    c = rng.normal(0, 1.0, 10)
    exact = metrics.rbm_log_partition_exact(W, b, c)
    result = metrics.ais_log_partition(W, b, c, base_visible_bias=b, n_betas=3000, n_runs=100, seed=0)
    assert result.log_z_low <= exact <= result.log_z_high
    assert result.log_z == pytest.approx(exact, abs=0.2)
    assert abs(result.log_z - metrics.rbm_log_partition_exact(W * 1.02, b, c)) > 1.0


def test_ais_is_reproducible_and_seeded(coupled):
    (W, b, c), _ = coupled
    kwargs = dict(base_visible_bias=np.zeros(10), n_betas=200, n_runs=10)
    r1 = metrics.ais_log_partition(W, b, c, seed=3, **kwargs)
    r2 = metrics.ais_log_partition(W, b, c, seed=3, **kwargs)
    r3 = metrics.ais_log_partition(W, b, c, seed=4, **kwargs)
    np.testing.assert_array_equal(r1.log_weights, r2.log_weights)
    assert not np.array_equal(r1.log_weights, r3.log_weights)


def test_ais_errors(coupled):
    (W, b, c), _ = coupled
    base = np.zeros(10)
    with pytest.raises(ValueError, match="base_visible_bias"):
        metrics.ais_log_partition(W, b, c, base_visible_bias=np.zeros(9))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.ais_log_partition(W, b, c, base_visible_bias=base, n_runs=1)
    with pytest.raises(ValueError, match="increase strictly"):
        metrics.ais_log_partition(W, b, c, base_visible_bias=base, betas=[0.0, 0.5, 0.4, 1.0])
    with pytest.raises(ValueError, match="increase strictly"):
        metrics.ais_log_partition(W, b, c, base_visible_bias=base, betas=[0.1, 1.0])
    with pytest.raises(ValueError, match="hidden_bias"):
        metrics.ais_log_partition(W, b, c[:3], base_visible_bias=base)
    with pytest.raises(TypeError):
        metrics.ais_log_partition(W, b, c, base_visible_bias=base, n_runs=10.0)


# ---------------------------------------------------------------- log-likelihood and pseudo-likelihood

def test_log_likelihood_takes_an_ais_result(coupled):
    (W, b, c), exact = coupled
    result = metrics.ais_log_partition(W, b, c, base_visible_bias=np.zeros(10), n_betas=100, n_runs=10)
    v = all_states(10)[:5]
    np.testing.assert_allclose(metrics.rbm_log_likelihood(v, W, b, c, result),
                               -metrics.rbm_free_energy(v, W, b, c) - result.log_z)
    with pytest.raises(ValueError, match="finite"):
        metrics.rbm_log_likelihood(v, W, b, c, float("nan"))
    with pytest.raises(TypeError, match="log_z"):
        metrics.rbm_log_likelihood(v, W, b, c, "12.0")


def test_pseudo_likelihood_matches_scikit_learn_score_samples():
    from sklearn.neural_network import BernoulliRBM

    W, b, c = tiny_rbm(20, 8, scale=0.5, seed=11)
    sk = BernoulliRBM(n_components=8, random_state=42)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.T, b, c
    v = (np.random.default_rng(2).random((50, 20)) < 0.3).astype(float)
    ours = metrics.rbm_pseudo_likelihood(v, W, b, c, seed=42)
    np.testing.assert_allclose(ours, sk.score_samples(v), rtol=1e-10)
    assert not np.allclose(metrics.rbm_pseudo_likelihood(v, W, b, c, seed=43), ours)


def test_pseudo_likelihood_of_one_visible_unit_is_the_log_likelihood():
    W, b, c = tiny_rbm(1, 3, seed=4)
    v = np.array([[0.0], [1.0]])
    exact = metrics.rbm_log_likelihood(v, W, b, c, metrics.rbm_log_partition_exact(W, b, c))
    np.testing.assert_allclose(metrics.rbm_pseudo_likelihood(v, W, b, c), exact, rtol=1e-12)


@pytest.mark.parametrize("func", ["rbm_free_energy", "rbm_pseudo_likelihood"])
def test_input_errors(func):
    W, b, c = tiny_rbm(6, 3)
    f = getattr(metrics, func)
    good = np.zeros((2, 6))
    with pytest.raises(ValueError, match="binary"):
        f(np.full((2, 6), 0.5), W, b, c)
    with pytest.raises(ValueError, match="6 visible units"):
        f(np.zeros((2, 7)), W, b, c)
    with pytest.raises(ValueError, match="single vector"):
        f(np.zeros(6), W, b, c)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        f(good * 255 + 2, W, b, c)
    with pytest.raises(ValueError, match="visible_bias"):
        f(good, W, b[:5], c)
    with pytest.raises(ValueError, match="weights"):
        f(good, W[0], b, c)
    with pytest.raises(ValueError, match="NaN"):
        f(good, W * np.nan, b, c)
    with pytest.raises(TypeError):
        f(good, "W", b, c)
