"""Metrics, computed in NumPy (float64) so they do not depend on a model.

Units: binary cross-entropy in nats per pixel (natural log, averaged over
pixels and images, as Keras' ``binary_crossentropy`` reports it); mean squared
error per pixel on the [0, 1] scale; KL divergences and log-likelihoods in
nats per image.
"""
from __future__ import annotations

import numpy as np

from . import _validate

__all__ = ["EPSILON", "bce", "mse", "per_image_bce", "gaussian_kl", "importance_sampled_log_likelihood",
           "active_units"]

#: Clipping of predictions before the log, the same as Keras' default epsilon.
EPSILON = 1e-7


def _pair(x, x_hat):
    x = _validate.unit_interval(x, "x")
    x_hat = _validate.unit_interval(x_hat, "x_hat")
    if x.ndim == 0 or x_hat.ndim == 0:
        raise ValueError(f"x and x_hat must be batches (n, ...); got shapes {x.shape} and {x_hat.shape}.")
    if x.shape != x_hat.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must have the same shape.")
    return x.reshape(x.shape[0], -1).astype(np.float64), x_hat.reshape(x.shape[0], -1).astype(np.float64)


def per_image_bce(x, x_hat) -> np.ndarray:
    """Binary cross-entropy of each image, averaged over its pixels.

    ``-mean_j [x_j log p_j + (1 - x_j) log(1 - p_j)]`` with ``p`` clipped to
    ``[EPSILON, 1 - EPSILON]``: the Bernoulli negative log-likelihood per
    pixel (for binary x), or the cross-entropy between grey levels (for grey x).

    Args:
        x: targets ``(n, ...)``, float in [0, 1].
        x_hat: reconstructions of the same shape, float in [0, 1].

    Returns:
        ``float64`` array ``(n,)``, nats per pixel.

    Raises:
        ValueError: shapes differ or values outside [0, 1] (e.g. 0-255 pixels).
    """
    x, p = _pair(x, x_hat)
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).mean(axis=1)


def bce(x, x_hat) -> float:
    """Mean binary cross-entropy over all images and pixels (nats per pixel).

    Keras' ``binary_crossentropy`` on a sigmoid output gives the same value
    (computed here in float64; Keras clips in float32, which differs only for
    predictions of exactly 0 or 1). See :func:`per_image_bce` for the formula;
    raises ValueError like it.
    """
    return float(per_image_bce(x, x_hat).mean())


def mse(x, x_hat) -> float:
    """Mean squared error over all images and pixels (pixels in [0, 1]).

    Raises:
        ValueError: shapes differ or values outside [0, 1].
    """
    x, p = _pair(x, x_hat)
    return float(np.mean((x - p) ** 2))


# --------------------------------------------------------------------------
# Variational autoencoders (lab 07)
# --------------------------------------------------------------------------

def _latent_pair(z_mean, z_log_var):
    m = _validate.as_array(z_mean, "z_mean").astype(np.float64)
    lv = _validate.as_array(z_log_var, "z_log_var").astype(np.float64)
    if m.ndim != 2 or m.shape != lv.shape:
        raise ValueError(f"z_mean and z_log_var must both be (n, latent_dim); got {m.shape} and {lv.shape}.")
    if not (np.isfinite(m).all() and np.isfinite(lv).all()):
        raise ValueError("z_mean and z_log_var must be finite (a NaN here usually means training diverged).")
    return m, lv


def gaussian_kl(z_mean, z_log_var) -> np.ndarray:
    """KL(N(mu, diag(s^2)) || N(0, I)) per example, in closed form.

    ``1/2 * sum_j (mu_j^2 + s_j^2 - log s_j^2 - 1)`` (Kingma & Welling,
    "Auto-Encoding Variational Bayes", ICLR 2014, appendix B): the VAE's
    KL term, the "rate" of the code.

    Args:
        z_mean: ``(n, latent_dim)`` posterior means.
        z_log_var: ``(n, latent_dim)`` posterior log-variances ``log s^2``.

    Returns:
        ``float64`` array ``(n,)``, nats per example (>= 0).

    Raises:
        ValueError: shapes differ or are not 2-D, or non-finite values.
    """
    m, lv = _latent_pair(z_mean, z_log_var)
    return 0.5 * np.sum(m ** 2 + np.exp(lv) - lv - 1.0, axis=1)


def importance_sampled_log_likelihood(log_weights, k: int | None = None) -> np.ndarray:
    """The importance-weighted bound ``L_k = E[log (1/k) sum_i w_i]`` per example.

    With ``w_i = p(x, z_i) / q(z_i|x)`` and ``z_i ~ q(z|x)``, ``L_k`` is a lower
    bound of ``log p(x)`` that tightens as ``k`` grows and reaches it as
    ``k -> inf``; ``L_1`` is the ELBO (Burda, Grosse & Salakhutdinov,
    "Importance Weighted Autoencoders", ICLR 2016, eq. 8 and theorem 1). The
    negative of ``L_k`` for large ``k`` (e.g. 5,000 in the paper) is the
    "importance-sampled NLL" reported for VAEs.

    Given ``K`` log weights per example, ``k`` (a divisor of ``K``) splits them
    into ``K / k`` disjoint groups of ``k``; the estimate is the mean over the
    groups of ``logsumexp(group) - log k`` (scipy's ``logsumexp``, stable for
    log weights of -100 nats and below). So one pass with ``K = 1000`` gives
    unbiased estimates of ``L_1``, ``L_10``, ``L_100`` and ``L_1000``.

    Args:
        log_weights: ``(n, K)`` finite log importance weights in nats
            (``labutils.vae.log_importance_weights`` computes them for a VAE).
        k: samples per estimate; default ``K`` (all of them). Must divide ``K``.

    Returns:
        ``float64`` array ``(n,)``: the estimate of ``log p(x)`` per example, nats.

    Raises:
        ValueError: ``log_weights`` not 2-D or not finite, or ``k`` not a divisor of ``K``.
        TypeError: ``k`` not an int.
    """
    from scipy.special import logsumexp

    lw = _validate.as_array(log_weights, "log_weights").astype(np.float64)
    if lw.ndim != 2 or lw.shape[1] == 0:
        raise ValueError(f"log_weights must be (n, K) with K >= 1; got shape {lw.shape}.")
    if not np.isfinite(lw).all():
        raise ValueError("log_weights must be finite; NaN or inf usually means the model diverged.")
    total = lw.shape[1]
    k = total if k is None else _validate.positive_int(k, "k")
    if total % k:
        raise ValueError(f"k={k} must divide the number of samples K={total}.")
    groups = lw.reshape(lw.shape[0], total // k, k)
    return (logsumexp(groups, axis=2) - np.log(k)).mean(axis=1)


def active_units(z_mean, threshold: float = 0.01) -> int:
    """Number of active latent units: ``Cov_x(E_q[z_u | x]) > threshold``.

    A unit whose posterior mean does not change with the input carries no
    information about it (its posterior equals the prior: "posterior
    collapse"). Burda, Grosse & Salakhutdinov, ICLR 2016, section 5.2, with
    their threshold 0.01.

    Args:
        z_mean: ``(n, latent_dim)`` posterior means over a data set (n >= 2).
        threshold: variance above which a unit counts as active, > 0.

    Returns:
        ``int`` in ``[0, latent_dim]``.

    Raises:
        ValueError: ``z_mean`` not 2-D with at least two rows, non-finite values,
            or a non-positive threshold.
    """
    m = _validate.as_array(z_mean, "z_mean").astype(np.float64)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(f"z_mean must be (n, latent_dim) with n >= 2; got shape {m.shape}.")
    if not np.isfinite(m).all():
        raise ValueError("z_mean must be finite.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) or not threshold > 0:
        raise ValueError(f"threshold must be a number > 0; got {threshold!r}.")
    return int((m.var(axis=0) > threshold).sum())
