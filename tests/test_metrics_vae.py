"""Tests for the VAE metrics in labutils.metrics: gaussian_kl, importance_sampled_log_likelihood, active_units.

The importance-sampling estimator is checked on a linear-Gaussian latent model, whose log p(x) is known in
closed form: p(z) = N(0, I), p(x|z) = N(Wz + b, s^2 I)  =>  p(x) = N(b, W W^T + s^2 I).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from labutils import metrics

# ============================================================== gaussian_kl


def test_gaussian_kl_zero_for_the_prior():
    np.testing.assert_array_equal(metrics.gaussian_kl(np.zeros((3, 4)), np.zeros((3, 4))), np.zeros(3))


def test_gaussian_kl_known_values():
    # 1-d: KL(N(1, 1) || N(0, 1)) = 1/2; KL(N(0, e^2) || N(0, 1)) = (e^2 - 2 - 1) / 2
    kl = metrics.gaussian_kl([[1.0], [0.0]], [[0.0], [2.0]])
    assert kl.dtype == np.float64 and kl.shape == (2,)
    assert kl[0] == pytest.approx(0.5)
    assert kl[1] == pytest.approx((np.exp(2.0) - 2.0 - 1.0) / 2)


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    m, lv = np.array([0.7, -1.2, 0.1]), np.array([-0.5, 0.3, -2.0])
    z = m + np.exp(0.5 * lv) * rng.standard_normal((400_000, 3))
    log_q = multivariate_normal(m, np.diag(np.exp(lv))).logpdf(z)
    log_p = multivariate_normal(np.zeros(3), np.eye(3)).logpdf(z)
    assert metrics.gaussian_kl(m[None], lv[None])[0] == pytest.approx(np.mean(log_q - log_p), abs=0.01)


@pytest.mark.parametrize("m, lv, pattern", [
    (np.zeros((2, 3)), np.zeros((2, 4)), "both be"),
    (np.zeros(3), np.zeros(3), "both be"),
    (np.array([[np.nan, 0.0]]), np.zeros((1, 2)), "finite"),
])
def test_gaussian_kl_errors(m, lv, pattern):
    with pytest.raises(ValueError, match=pattern):
        metrics.gaussian_kl(m, lv)


# ============================================================== importance sampling


class LinearGaussian:
    """p(z) = N(0, I_d), p(x|z) = N(Wz + b, s^2 I_D), with its exact posterior."""

    def __init__(self, d=2, D=5, s=0.5, seed=0):
        rng = np.random.default_rng(seed)
        self.W, self.b, self.s = rng.normal(size=(D, d)), rng.normal(size=D), s
        self.post_cov = np.linalg.inv(np.eye(d) + self.W.T @ self.W / s ** 2)

    def log_px(self, x):
        cov = self.W @ self.W.T + self.s ** 2 * np.eye(len(self.b))
        return multivariate_normal(self.b, cov).logpdf(x)

    def post_mean(self, x):
        return (x - self.b) @ self.W @ self.post_cov.T / self.s ** 2

    def log_weights(self, x, k, scale=1.0, shift=0.0, seed=1):
        """log p(x, z) - log q(z|x) for z ~ q = N(post_mean + shift, scale^2 post_cov)."""
        rng = np.random.default_rng(seed)
        d = self.post_cov.shape[0]
        chol = np.linalg.cholesky(self.post_cov) * scale
        out = np.empty((len(x), k))
        for i, xi in enumerate(x):
            mu = self.post_mean(xi) + shift
            z = mu + rng.standard_normal((k, d)) @ chol.T
            log_q = multivariate_normal(mu, chol @ chol.T).logpdf(z)
            log_prior = multivariate_normal(np.zeros(d), np.eye(d)).logpdf(z)
            resid = xi - z @ self.W.T - self.b
            log_lik = -0.5 * np.sum(resid ** 2, axis=1) / self.s ** 2 - len(xi) * np.log(self.s * np.sqrt(2 * np.pi))
            out[i] = log_lik + log_prior - log_q
        return out


@pytest.fixture(scope="module")
def lg():
    model = LinearGaussian()
    x = np.random.default_rng(2).normal(size=(6, 5)) + model.b
    return model, x


def test_exact_posterior_gives_log_px_for_every_k(lg):
    model, x = lg
    log_w = model.log_weights(x, 100)
    for k in (1, 10, 100):
        np.testing.assert_allclose(metrics.importance_sampled_log_likelihood(log_w, k), model.log_px(x), atol=1e-8)


def test_estimate_converges_to_log_px_with_a_poor_proposal(lg):
    model, x = lg
    log_w = model.log_weights(x, 20_000, scale=1.8, shift=0.3)
    truth = model.log_px(x)
    estimate = metrics.importance_sampled_log_likelihood(log_w)
    np.testing.assert_allclose(estimate, truth, atol=0.03)
    elbo = metrics.importance_sampled_log_likelihood(log_w, 1)
    assert np.all(truth - elbo > 0.3), "the ELBO of a poor proposal is clearly below log p(x)"


def test_bound_tightens_as_k_grows(lg):
    model, x = lg
    log_w = model.log_weights(x, 10_000, scale=1.8, shift=0.3)
    bounds = [metrics.importance_sampled_log_likelihood(log_w, k).mean() for k in (1, 10, 100, 1000)]
    assert all(a < b for a, b in zip(bounds, bounds[1:])), bounds
    assert bounds[-1] <= model.log_px(x).mean() + 0.01


def test_k1_is_the_mean_log_weight_and_default_uses_all_samples():
    log_w = np.log(np.array([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_allclose(metrics.importance_sampled_log_likelihood(log_w, 1), log_w.mean(axis=1))
    np.testing.assert_allclose(metrics.importance_sampled_log_likelihood(log_w), np.log([2.0, 2.0]))


def test_stable_for_very_negative_log_weights():
    log_w = np.array([[-1000.0, -1001.0, -999.0, -1000.5]])
    expected = -1000.0 + np.log(np.mean(np.exp(log_w + 1000.0)))
    assert metrics.importance_sampled_log_likelihood(log_w)[0] == pytest.approx(expected)


@pytest.mark.parametrize("log_w, k, exc, pattern", [
    (np.zeros((2, 10)), 3, ValueError, "divide"),
    (np.zeros(10), None, ValueError, r"\(n, K\)"),
    (np.zeros((2, 0)), None, ValueError, r"\(n, K\)"),
    (np.array([[0.0, np.nan]]), None, ValueError, "finite"),
    (np.array([[0.0, -np.inf]]), None, ValueError, "finite"),
    (np.zeros((2, 10)), 0, ValueError, "k"),
    (np.zeros((2, 10)), 2.0, TypeError, "k"),
])
def test_importance_sampled_errors(log_w, k, exc, pattern):
    with pytest.raises(exc, match=pattern):
        metrics.importance_sampled_log_likelihood(log_w, k)


# ============================================================== active_units


def test_active_units_counts_varying_columns():
    rng = np.random.default_rng(0)
    z = np.column_stack([rng.normal(size=500), np.full(500, 3.0), 0.05 * rng.normal(size=500), rng.normal(size=500)])
    assert metrics.active_units(z) == 2  # variance 1, 0, 0.0025, 1
    assert metrics.active_units(z, threshold=0.001) == 3


def test_active_units_errors():
    with pytest.raises(ValueError, match="n >= 2"):
        metrics.active_units(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n >= 2"):
        metrics.active_units(np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        metrics.active_units(np.array([[0.0], [np.inf]]))
    with pytest.raises(ValueError, match="threshold"):
        metrics.active_units(np.zeros((3, 2)), threshold=0)
