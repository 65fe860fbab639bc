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
    # a single flat image (784,) would be read as 784 one-pixel images, a single (28, 28, 1) as 28 images
    _validate.batch(x, "x", "(n, ...)")
    _validate.batch(x_hat, "x_hat", "(n, ...)")
    if x.shape != x_hat.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must have the same shape.")
    return x.reshape(x.shape[0], -1).astype(np.float64), x_hat.reshape(x.shape[0], -1).astype(np.float64)


def per_image_bce(x, x_hat) -> np.ndarray:
    """Binary cross-entropy of each image, averaged over its pixels.

    ``-mean_j [x_j log p_j + (1 - x_j) log(1 - p_j)]`` with ``p`` clipped to
    ``[EPSILON, 1 - EPSILON]``: the Bernoulli negative log-likelihood per
    pixel (for binary x), or the cross-entropy between grey levels (for grey x).

    Args:
        x: targets ``(n, ...)``, float in [0, 1] (a batch: at least two dimensions).
        x_hat: reconstructions of the same shape, float in [0, 1].

    Returns:
        ``float64`` array ``(n,)``, nats per pixel.

    Raises:
        ValueError: shapes differ, an unbatched single image ``(784,)``, values
            outside [0, 1] (e.g. 0-255 pixels), NaN or inf.
        TypeError: complex, object or non-numeric arrays.
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
        ValueError: shapes differ, an unbatched single image, values outside
            [0, 1], NaN or inf. TypeError: complex, object or non-numeric arrays.
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
            or a threshold that is not a positive finite number.
    """
    m = _validate.as_array(z_mean, "z_mean").astype(np.float64)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(f"z_mean must be (n, latent_dim) with n >= 2; got shape {m.shape}.")
    if not np.isfinite(m).all():
        raise ValueError("z_mean must be finite.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not threshold > 0 or not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number > 0; got {threshold!r}.")
    return int((m.var(axis=0) > threshold).sum())


# --------------------------------------------------------------------------
# Restricted Boltzmann machines: free energy, pseudo-likelihood, exact and
# AIS-estimated log partition function, test log-likelihood (lab 09)
# --------------------------------------------------------------------------
# Conventions: an RBM over binary visible units v (n_visible,) and hidden units
# h (n_hidden,) is given by its weights W (n_visible, n_hidden), visible biases b
# and hidden biases c, with energy E(v, h) = -b.v - c.h - v.W.h and free energy
# F(v) = -b.v - sum_j softplus(c_j + (v W)_j), so p(v) = exp(-F(v)) / Z.
# labutils.rbm.parameters(model) turns a Keras RBM or a fitted scikit-learn
# BernoulliRBM into (W, b, c). Everything here is NumPy, float64 where it sums.

import math as _math  # noqa: E402  (this section is self-contained)
import time as _time  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402

__all__ += [
    "rbm_free_energy",
    "rbm_pseudo_likelihood",
    "rbm_log_partition_exact",
    "base_rate_visible_bias",
    "ais_betas",
    "AISResult",
    "ais_log_partition",
    "rbm_log_likelihood",
]

#: Largest number of binary units that rbm_log_partition_exact sums over (2**24 terms).
EXACT_MAX_UNITS = 24
#: Upper bounds of AIS: intermediate distributions (each one a Gibbs step of every run) and runs.
AIS_MAX_BETAS = 1_000_000
AIS_MAX_RUNS = 10_000


def _rbm_softplus(x):
    """log(1 + exp(x)) without overflow, float64."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _rbm_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _rbm_params(weights, visible_bias, hidden_bias):
    """Validate ``(W, b, c)`` and return them as float64 arrays."""
    W = _validate.as_array(weights, "weights").astype(np.float64)
    b = _validate.as_array(visible_bias, "visible_bias").astype(np.float64)
    c = _validate.as_array(hidden_bias, "hidden_bias").astype(np.float64)
    if W.ndim != 2 or 0 in W.shape:
        raise ValueError(f"weights must be a non-empty (n_visible, n_hidden) matrix; got shape {W.shape}.")
    if b.shape != (W.shape[0],):
        raise ValueError(f"visible_bias must have shape ({W.shape[0]},) to match weights {W.shape}; got {b.shape}.")
    if c.shape != (W.shape[1],):
        raise ValueError(f"hidden_bias must have shape ({W.shape[1]},) to match weights {W.shape}; got {c.shape}.")
    for name, arr in (("weights", W), ("visible_bias", b), ("hidden_bias", c)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf.")
    return W, b, c


def _binary_visible(v, n_visible, name="v"):
    """``(n, n_visible)`` float64 in {0, 1}, or a clear error."""
    arr = _validate.unit_interval(v, name)
    if arr.ndim == 1:
        raise ValueError(f"{name} must be a batch (n, {n_visible}); got a single vector of shape {arr.shape} "
                         f"(use v[None, :] for one image).")
    arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[1] != n_visible:
        raise ValueError(f"{name} has {arr.shape[1]} pixels per image; the RBM has {n_visible} visible units.")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must be binary (0/1) images: the RBM's likelihood is defined for binary visible "
                         "units. Binarize first (labutils.data.binarize or dynamic_binarize).")
    return arr.astype(np.float64)


def rbm_free_energy(v, weights, visible_bias, hidden_bias) -> np.ndarray:
    """Free energy of binary visible vectors under an RBM (hidden units summed out).

    ``F(v) = -b.v - sum_j log(1 + exp(c_j + (v W)_j))``, so that
    ``p(v) = exp(-F(v)) / Z`` (Hinton, "A practical guide to training RBMs",
    UTML TR 2010-003, section 16.1, eq. 25).

    Args:
        v: ``(n, n_visible)`` (or ``(n, 28, 28)``) binary images, values in {0, 1}.
        weights: ``W`` ``(n_visible, n_hidden)``.
        visible_bias: ``b`` ``(n_visible,)``.
        hidden_bias: ``c`` ``(n_hidden,)``.

    Returns:
        ``float64`` ``(n,)``, nats; lower means more probable.

    Raises:
        ValueError: mismatched shapes, non-binary ``v``, NaN/inf parameters.
        TypeError: non-numeric input.
    """
    W, b, c = _rbm_params(weights, visible_bias, hidden_bias)
    x = _binary_visible(v, W.shape[0])
    return -(x @ b) - _rbm_softplus(x @ W + c).sum(axis=1)


def rbm_pseudo_likelihood(v, weights, visible_bias, hidden_bias, seed=0) -> np.ndarray:
    """Stochastic pseudo-log-likelihood per image, as scikit-learn's ``BernoulliRBM.score_samples``.

    For each image one pixel ``i`` is chosen at random and flipped
    (``v~``); then ``PL(v) = n_visible * log sigmoid(F(v~) - F(v))``, an
    estimate of ``sum_i log p(v_i | v_-i)`` (Besag 1975; scikit-learn 1.x,
    ``sklearn/neural_network/_rbm.py``). With the same integer ``seed`` as
    ``BernoulliRBM(random_state=seed)`` the same pixels are flipped, so the
    values agree with ``score_samples`` exactly.

    Args:
        v: ``(n, n_visible)`` binary images, values in {0, 1}.
        weights, visible_bias, hidden_bias: the RBM, see :func:`rbm_free_energy`.
        seed: int seed of ``numpy.random.RandomState`` that picks the pixels (0 to 2**32 - 1).

    Returns:
        ``float64`` ``(n,)``, nats per image (negative; higher is better).

    Raises:
        ValueError / TypeError: as :func:`rbm_free_energy`; a ``seed`` that is not
            an int from 0 to 2**32 - 1 (booleans and floats included).
    """
    W, b, c = _rbm_params(weights, visible_bias, hidden_bias)
    x = _binary_visible(v, W.shape[0])
    idx = np.random.RandomState(_validate.seed(seed)).randint(0, x.shape[1], x.shape[0])
    rows = np.arange(x.shape[0])
    flipped = x.copy()
    flipped[rows, idx] = 1.0 - flipped[rows, idx]
    fe = -(x @ b) - _rbm_softplus(x @ W + c).sum(axis=1)
    fe_flipped = -(flipped @ b) - _rbm_softplus(flipped @ W + c).sum(axis=1)
    return -x.shape[1] * np.logaddexp(0.0, -(fe_flipped - fe))


def rbm_log_partition_exact(weights, visible_bias, hidden_bias) -> float:
    """Exact ``log Z`` of a small RBM by enumerating the smaller layer's states.

    Summing out the larger layer analytically, with ``m = min(n_visible,
    n_hidden) <= EXACT_MAX_UNITS``:
    ``log Z = logsumexp_v [-F(v)]`` over all ``2^n_visible`` visible vectors, or
    ``log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)]`` over all
    ``2^n_hidden`` hidden vectors (the same sum, ordered the other way).

    Args:
        weights, visible_bias, hidden_bias: the RBM, see :func:`rbm_free_energy`.

    Returns:
        ``log Z`` in nats (float).

    Raises:
        ValueError: both layers larger than ``EXACT_MAX_UNITS`` units (the sum
            would have more than 2**24 terms), or invalid parameters.
    """
    from scipy.special import logsumexp

    W, b, c = _rbm_params(weights, visible_bias, hidden_bias)
    if W.shape[0] > W.shape[1]:  # enumerate the hidden layer instead: transpose the roles
        W, b, c = W.T, c, b
    m = W.shape[0]
    if m > EXACT_MAX_UNITS:
        raise ValueError(f"exact enumeration needs a layer of at most {EXACT_MAX_UNITS} units; the smaller layer "
                         f"has {m} (2^{m} states). Use ais_log_partition for large RBMs.")
    terms = []
    chunk = 1 << min(m, 16)
    for start in range(0, 1 << m, chunk):
        codes = np.arange(start, min(start + chunk, 1 << m), dtype=np.int64)
        states = ((codes[:, None] >> np.arange(m)) & 1).astype(np.float64)
        terms.append(states @ b + _rbm_softplus(states @ W + c).sum(axis=1))
    return float(logsumexp(np.concatenate(terms)))


def base_rate_visible_bias(x, pseudo_count: float = 1.0) -> np.ndarray:
    """Visible biases of the base-rate model: the log-odds of the smoothed pixel means.

    ``p_i = (sum_n x_ni + pseudo_count) / (n + 2 * pseudo_count)`` and
    ``b_i = log(p_i / (1 - p_i))``: the RBM with ``W = 0`` whose visible units
    are independent with the data's pixel means (Salakhutdinov & Murray, ICML
    2008, section 4.1; the smoothing keeps pixels that are always 0 finite).
    AIS starts from it; :meth:`labutils.rbm.RBM.set_visible_bias` uses it to
    initialise visible biases (Hinton's guide, section 8).

    Args:
        x: ``(n, n_visible)`` training images, float in [0, 1] (binary or grey levels).
        pseudo_count: >= 0; 0 gives the raw log-odds (infinite for constant pixels).

    Returns:
        ``float64`` ``(n_visible,)``.

    Raises:
        ValueError: ``x`` outside [0, 1] or not ``(n, n_visible)``; negative
            ``pseudo_count``, or 0 with a pixel that is constant in ``x``.
    """
    arr = _validate.unit_interval(x, "x")
    if arr.ndim != 2:
        raise ValueError(f"x must be (n, n_visible) images; got shape {arr.shape}.")
    if isinstance(pseudo_count, bool) or not isinstance(pseudo_count, (int, float, np.integer, np.floating)):
        raise TypeError(f"pseudo_count must be a number; got {pseudo_count!r}.")
    if not (_math.isfinite(pseudo_count) and pseudo_count >= 0):
        raise ValueError(f"pseudo_count must be a finite number >= 0; got {pseudo_count}.")
    p = (arr.astype(np.float64).sum(axis=0) + pseudo_count) / (arr.shape[0] + 2.0 * pseudo_count)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("some pixels are constant in x, so their log-odds are infinite; use pseudo_count > 0.")
    return np.log(p) - np.log1p(-p)


def ais_betas(n_betas: int = 14500) -> np.ndarray:
    """The inverse temperatures of AIS: ``n_betas + 1`` values from 0 to 1.

    Salakhutdinov & Murray (ICML 2008, section 4.1) use 14,500 steps: 500
    uniformly spaced in [0, 0.5), 4,000 in [0.5, 0.9) and 10,000 in [0.9, 1];
    other ``n_betas`` keep these proportions (denser near 1, where the
    distributions change fastest).

    Args:
        n_betas: number of intermediate transitions (>= 3, at most ``AIS_MAX_BETAS`` = 1,000,000).

    Returns:
        ``float64`` ``(n_betas + 1,)``, strictly increasing, first 0 and last 1.

    Raises:
        ValueError / TypeError: ``n_betas`` not an int from 3 to 1,000,000 (booleans refused).
    """
    n = _validate.bounded_int(n_betas, "n_betas", AIS_MAX_BETAS, "each is one Gibbs step of every AIS run")
    if n < 3:
        raise ValueError(f"n_betas must be at least 3 (one step per segment); got {n}.")
    n1 = max(1, round(n * 500 / 14500))
    n2 = max(1, round(n * 4000 / 14500))
    n3 = n - n1 - n2
    return np.concatenate([np.linspace(0.0, 0.5, n1, endpoint=False), np.linspace(0.5, 0.9, n2, endpoint=False),
                           np.linspace(0.9, 1.0, n3 + 1)])


@_dataclass(frozen=True)
class AISResult:
    """An annealed-importance-sampling estimate of an RBM's log partition function.

    Attributes:
        log_z: the estimate ``log Z_B = log mean_m w_m + log Z_A`` (nats).
        log_z_low, log_z_high: ``log(Z^ -/+ 3 sigma^)`` with ``sigma^`` the
            standard error of the mean importance weight (Salakhutdinov &
            Murray 2008, section 4.1): the "±3 standard deviations" band.
            ``log_z_low`` is ``-inf`` when ``3 sigma^ > Z^`` (the estimate is unreliable).
        log_weights: ``float64`` ``(n_runs,)``, log importance weights ``log w_m``.
        log_z_base: ``log Z_A`` of the base-rate model (exact).
        n_betas: number of intermediate distributions (transitions).
        seconds: wall time of the run.
    """

    log_z: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray
    log_z_base: float
    n_betas: int
    seconds: float

    @property
    def n_runs(self) -> int:
        """Number of independent AIS runs (importance weights)."""
        return int(self.log_weights.shape[0])

    @property
    def spread(self) -> float:
        """Half-width of the ±3-sigma band, ``max(log_z_high - log_z, log_z - log_z_low)`` (nats; inf if unbounded)."""
        return float(max(self.log_z_high - self.log_z, self.log_z - self.log_z_low))


def _ais_runs(W, b, c, b_a, betas, n_runs, seed, expit):
    """The AIS loop of :func:`ais_log_partition`: ``(n_runs,)`` float64 log importance weights."""
    rng = np.random.default_rng(seed)
    n_visible = W.shape[0]
    # float32 for the products and the sampling, float64 where log weights are summed
    W32, Wt32 = W.astype(np.float32), np.ascontiguousarray(W.T, dtype=np.float32)
    b32, c32, b_a32 = b.astype(np.float32), c.astype(np.float32), b_a.astype(np.float32)
    b_diff = b - b_a
    v = (rng.random((n_runs, n_visible)) < _rbm_sigmoid(b_a)).astype(np.float32)  # exact samples of model A
    log_w = np.zeros(n_runs)
    for k in range(1, betas.size):
        beta, beta_prev = betas[k], betas[k - 1]
        x32 = v @ W32 + c32                                  # (n_runs, n_hidden), shared by both terms
        x = x32.astype(np.float64)
        log_w += (beta - beta_prev) * (v @ b_diff) + (_rbm_softplus(beta * x) - _rbm_softplus(beta_prev * x)).sum(axis=1)
        if k < betas.size - 1:                               # one Gibbs step that leaves p_k invariant
            h = (rng.random(x32.shape, dtype=np.float32) < expit(np.float32(beta) * x32)).astype(np.float32)
            pre_v = np.float32(1.0 - beta) * b_a32 + np.float32(beta) * (b32 + h @ Wt32)
            v = (rng.random(pre_v.shape, dtype=np.float32) < expit(pre_v)).astype(np.float32)
    return log_w


def ais_log_partition(weights, visible_bias, hidden_bias, *, base_visible_bias, n_betas: int = 14500,
                      n_runs: int = 100, seed: int = 0, betas=None) -> AISResult:
    """Estimate ``log Z`` of an RBM by annealed importance sampling from a base-rate model.

    Salakhutdinov & Murray, "On the quantitative analysis of deep belief
    networks", ICML 2008, section 4 (Neal 2001 for AIS). The intermediate
    distributions interpolate geometrically between the base-rate model A
    (``W = 0``, visible biases ``b_A``, hidden biases 0) and the RBM B::

        p*_k(v) = exp((1 - beta_k) b_A.v + beta_k b_B.v) * prod_j (1 + exp(beta_k (c_j + (v W)_j)))

    (the paper's eq. 16 with the hidden units summed out); ``Z_0 = Z_A =
    2^n_hidden prod_i (1 + exp(b_A_i))``. Each of ``n_runs`` chains starts
    with an exact sample of A and moves through ``beta_1 < ... < beta_K = 1``
    by one Gibbs step ``v -> h -> v`` at each ``beta_k`` (which leaves ``p_k``
    invariant); its log importance weight is
    ``log w = sum_k [log p*_k(v_k) - log p*_{k-1}(v_k)]``, and ``Z_B / Z_A``
    is estimated by the mean of the weights (log-mean-exp, float64). The
    estimate of ``Z`` is unbiased; that of ``log Z`` tends to be low, which
    makes log-likelihoods computed with it optimistic.

    Args:
        weights: ``W`` ``(n_visible, n_hidden)``; visible_bias ``b`` ``(n_visible,)``;
            hidden_bias ``c`` ``(n_hidden,)``: the RBM B.
        base_visible_bias: ``b_A`` ``(n_visible,)``, usually
            :func:`base_rate_visible_bias` of the training images.
        n_betas: number of intermediate distributions for :func:`ais_betas`
            (the paper: 14,500); ignored when ``betas`` is given.
        n_runs: number of independent AIS runs (the paper: 100), from 2 to ``AIS_MAX_RUNS`` = 10,000.
        seed: NumPy ``default_rng`` seed (an int from 0 to 2**32 - 1).
        betas: optional explicit schedule: increasing, from 0 to 1, at most
            ``AIS_MAX_BETAS + 1`` values.

    Returns:
        :class:`AISResult` (``log_z`` in nats).

    Raises:
        ValueError: shapes that do not match, a schedule that is not increasing
            from 0 to 1 or too long, fewer than 2 or more than 10,000 runs, a
            negative ``seed``, NaN or inf parameters. TypeError: non-numeric,
            complex or object input; a non-int ``n_runs`` or ``seed``.

    Cost: two ``(n_runs, n_visible) x (n_visible, n_hidden)`` products per
    step, run with one BLAS thread (robust when other processes share the
    cores); for a 784-500 RBM and 100 runs about 3 ms per step on a laptop
    CPU core (30-45 s for 10,000-14,500 steps).
    """
    start = _time.perf_counter()
    W, b, c = _rbm_params(weights, visible_bias, hidden_bias)
    b_a = _validate.as_array(base_visible_bias, "base_visible_bias").astype(np.float64)
    if b_a.shape != b.shape or not np.all(np.isfinite(b_a)):
        raise ValueError(f"base_visible_bias must be finite with shape {b.shape}; got shape {b_a.shape}.")
    n_runs = _validate.bounded_int(n_runs, "n_runs", AIS_MAX_RUNS)
    if n_runs < 2:
        raise ValueError(f"n_runs must be at least 2 (the spread of the weights needs two runs); got {n_runs}.")
    seed = _validate.seed(seed)
    if betas is None:
        betas = ais_betas(n_betas)
    else:
        betas = _validate.as_array(betas, "betas").astype(np.float64).ravel()
        if betas.size > AIS_MAX_BETAS + 1:
            raise ValueError(f"betas holds {betas.size:,} values; at most {AIS_MAX_BETAS + 1:,} (AIS_MAX_BETAS + 1).")
        if betas.size < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) <= 0):
            raise ValueError("betas must increase strictly from 0 to 1 (first 0, last 1).")
    from scipy.special import expit
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(limits=1, user_api="blas"):
        # thousands of small products in sequence: one BLAS thread avoids the per-product
        # synchronisation of several, which costs far more than it saves when other processes
        # share the cores
        log_w = _ais_runs(W, b, c, b_a, betas, n_runs, seed, expit)
    n_hidden = W.shape[1]
    log_z_base = n_hidden * _math.log(2.0) + float(_rbm_softplus(b_a).sum())
    top = log_w.max()
    w = np.exp(log_w - top)                                  # weights scaled by exp(-top)
    mean, sem = w.mean(), w.std(ddof=1) / _math.sqrt(n_runs)
    log_z = top + _math.log(mean) + log_z_base
    high = top + _math.log(mean + 3.0 * sem) + log_z_base
    low = top + _math.log(mean - 3.0 * sem) + log_z_base if mean > 3.0 * sem else -_math.inf
    return AISResult(log_z=float(log_z), log_z_low=float(low), log_z_high=float(high), log_weights=log_w,
                     log_z_base=float(log_z_base), n_betas=int(betas.size - 1),
                     seconds=_time.perf_counter() - start)


def rbm_log_likelihood(v, weights, visible_bias, hidden_bias, log_z) -> np.ndarray:
    """Log-likelihood of each binary image under an RBM: ``log p(v) = -F(v) - log Z``.

    With ``log_z`` from :func:`ais_log_partition` this is the test
    log-likelihood of Salakhutdinov & Murray (ICML 2008, section 5), in nats
    per image; average it over the test set.

    Args:
        v: ``(n, n_visible)`` binary images.
        weights, visible_bias, hidden_bias: the RBM, see :func:`rbm_free_energy`.
        log_z: the log partition function (a float, or an :class:`AISResult`).

    Returns:
        ``float64`` ``(n,)``, nats (at most 0 when ``log_z`` is exact).

    Raises:
        ValueError / TypeError: as :func:`rbm_free_energy`; a non-finite ``log_z``.
    """
    if isinstance(log_z, AISResult):
        log_z = log_z.log_z
    if isinstance(log_z, bool) or not isinstance(log_z, (int, float, np.integer, np.floating)):
        raise TypeError(f"log_z must be a number or an AISResult; got {log_z!r} ({type(log_z).__name__}).")
    if not _math.isfinite(log_z):
        raise ValueError(f"log_z must be finite; got {log_z}.")
    return -rbm_free_energy(v, weights, visible_bias, hidden_bias) - float(log_z)


# Autoencoder measurements: subspaces, reconstruction error, sparsity and sensitivity
# --------------------------------------------------------------------------
# Undercomplete, sparse and contractive autoencoders (labs 03-04)
# --------------------------------------------------------------------------

__all__ += ["reconstruction_mse", "fraction_of_variance_unexplained", "principal_angles", "kl_sparsity",
            "activation_stats", "sensitivity_ratio"]


def _real_pair(x, x_hat, names=("x", "x_hat")):
    a, b = names
    x = _validate.as_array(x, a).astype(np.float64)
    x_hat = _validate.as_array(x_hat, b).astype(np.float64)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{a} must be a batch (n, ...) with n >= 1; got shape {x.shape}.")
    if x.shape != x_hat.shape:
        raise ValueError(f"{a} {x.shape} and {b} {x_hat.shape} must have the same shape.")
    for name, arr in ((a, x), (b, x_hat)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf; expected finite numbers.")
    return x.reshape(x.shape[0], -1), x_hat.reshape(x.shape[0], -1)


def reconstruction_mse(x, x_hat) -> float:
    """Mean squared error per pixel for reconstructions that may leave [0, 1].

    Unlike :func:`mse` it accepts any finite reals, as linear autoencoders and
    PCA produce (their output is not clipped, so the error is the one they minimise).

    Args:
        x: ``(n, ...)`` targets; x_hat: the same shape.

    Returns:
        ``mean((x - x_hat)^2)`` over images and pixels (float).

    Raises:
        ValueError: shapes differ, not a batch, NaN or inf. TypeError: non-numeric input.
    """
    x, x_hat = _real_pair(x, x_hat)
    return float(np.mean((x - x_hat) ** 2))


def fraction_of_variance_unexplained(x, x_hat) -> float:
    """``sum ||x - x_hat||^2 / sum ||x - mean(x)||^2``: 0 for a perfect copy, 1 for predicting the mean.

    The mean is the per-pixel mean of ``x`` over the batch. Above 1 the
    reconstruction is worse than the constant mean image.

    Raises:
        ValueError: as :func:`reconstruction_mse`, or ``x`` without variance.
    """
    x, x_hat = _real_pair(x, x_hat)
    total = np.sum((x - x.mean(axis=0)) ** 2)
    if total == 0:
        raise ValueError("x has no variance (all images equal); the fraction is undefined.")
    return float(np.sum((x - x_hat) ** 2) / total)


def principal_angles(a, b) -> np.ndarray:
    """Principal angles between the row spaces of ``a`` and ``b``, in degrees, largest first.

    Wraps ``scipy.linalg.subspace_angles`` (Bjorck & Golub, Math. Comp. 27,
    1973). Use the rows of a decoder kernel ``(k, d)`` and PCA's
    ``components_`` ``(k, d)``: all angles 0 means the same subspace, whatever
    the basis.

    Args:
        a: ``(k1, d)``, b: ``(k2, d)`` real matrices of full row rank.

    Returns:
        ``float64`` ``(min(k1, k2),)`` angles in [0, 90] degrees, descending.

    Raises:
        ValueError: not 2-D, different ``d``, or not finite. TypeError: non-numeric.
    """
    from scipy.linalg import subspace_angles

    mats = []
    for m, name in ((a, "a"), (b, "b")):
        m = _validate.as_array(m, name).astype(np.float64)
        if m.ndim != 2 or m.shape[0] == 0:
            raise ValueError(f"{name} must be a (k, d) matrix whose rows span the subspace; got shape {m.shape}.")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{name} contains NaN or inf.")
        mats.append(m)
    if mats[0].shape[1] != mats[1].shape[1]:
        raise ValueError(f"a has rows of length {mats[0].shape[1]}, b of length {mats[1].shape[1]}.")
    return np.degrees(subspace_angles(mats[0].T, mats[1].T))


def kl_sparsity(rho, rho_hat) -> float:
    """``sum_j KL(rho || rho_hat_j)`` for Bernoulli means, in nats (Ng, CS294A notes, section 2.4).

    Args:
        rho: target mean activation in (0, 1).
        rho_hat: ``(units,)`` mean activations, each in (0, 1).

    Returns:
        The sum (float, >= 0; 0 exactly when every ``rho_hat_j == rho``).

    Raises:
        ValueError: ``rho`` or any ``rho_hat_j`` outside the open interval (0, 1).
    """
    rho = _validate.probability(rho, "rho")
    r = _validate.as_array(rho_hat, "rho_hat").astype(np.float64).ravel()
    if not 0.0 < rho < 1.0:
        raise ValueError(f"rho must lie strictly between 0 and 1; got {rho}.")
    if r.size == 0 or not np.all((r > 0) & (r < 1)):
        raise ValueError("rho_hat must be non-empty with every value strictly between 0 and 1.")
    return float(np.sum(rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))))


def activation_stats(codes, rel_tol: float = 0.05):
    """Mean activation per code unit and the share of near-zero activations.

    An activation ``h_ij`` counts as near zero when ``|h_ij| <= rel_tol *
    max_i |h_ij|``, relative to its unit's largest activation on these inputs,
    so that a code cannot look sparse merely by being small (the decoder can
    undo any scale). A unit that never fires counts as zero everywhere.

    Args:
        codes: ``(n, units)`` activations.
        rel_tol: the threshold as a fraction of each unit's maximum, in [0, 1).

    Returns:
        ``(mean_per_unit, share_near_zero)``: ``float64 (units,)`` and a float in [0, 1].

    Raises:
        ValueError: not ``(n, units)``, NaN or inf, ``rel_tol`` outside [0, 1).
    """
    h = _validate.as_array(codes, "codes").astype(np.float64)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"codes must be (n, units) with n >= 1; got shape {h.shape}.")
    if not np.all(np.isfinite(h)):
        raise ValueError("codes contain NaN or inf.")
    rel_tol = _validate.probability(rel_tol, "rel_tol", allow_one=False)
    peak = np.abs(h).max(axis=0)
    near_zero = np.abs(h) <= rel_tol * peak
    return h.mean(axis=0), float(near_zero.mean())


def sensitivity_ratio(codes, codes_perturbed, noise) -> float:
    """Mean ``||f(x + eps) - f(x)|| / ||eps||`` over examples (code change per input change).

    Args:
        codes: ``(n, k)`` codes ``f(x)``; codes_perturbed: ``(n, k)`` codes ``f(x + eps)``.
        noise: ``(n, d)`` the perturbations ``eps`` (no row may be all zero).

    Returns:
        The mean ratio (float >= 0).

    Raises:
        ValueError: shapes that disagree, a zero perturbation, NaN or inf.
    """
    c, cp = _real_pair(codes, codes_perturbed, ("codes", "codes_perturbed"))
    e = _validate.as_array(noise, "noise").astype(np.float64)
    if e.ndim != 2 or e.shape[0] != c.shape[0]:
        raise ValueError(f"noise must be (n, d) with n = {c.shape[0]}; got shape {e.shape}.")
    norms = np.linalg.norm(e, axis=1)
    if not np.all(np.isfinite(e)) or np.any(norms == 0):
        raise ValueError("noise: every perturbation must be finite and non-zero.")
    return float(np.mean(np.linalg.norm(cp - c, axis=1) / norms))


# Image-quality and code measurements: PSNR, SSIM, k-NN accuracy
import math as _math56  # noqa: E402

__all__ += ["per_image_psnr", "psnr", "per_image_ssim", "ssim", "knn_accuracy"]


def _image_pair_4d(x, x_hat):
    """Both batches as (n, H, W, 1) float32 in [0, 1], of equal shape."""
    x = _validate.unit_interval(x, "x")
    x_hat = _validate.unit_interval(x_hat, "x_hat")
    a = _validate.images(x, "x")
    b = _validate.images(x_hat, "x_hat")
    if a.shape != b.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must hold the same number of equally sized images.")
    return a[..., None], b[..., None]


def per_image_psnr(x, x_hat) -> np.ndarray:
    """Peak signal-to-noise ratio of each image, ``10 log10(1 / MSE)`` in dB (``tf.image.psnr``, max_val=1).

    Higher is better; +10 dB means a ten times smaller mean squared error. An
    image reconstructed exactly has MSE 0 and an infinite PSNR.

    Args:
        x: clean images ``(n, 28, 28, 1)``, ``(n, 28, 28)`` or ``(n, 784)``, float in [0, 1].
        x_hat: noisy or denoised images of the same shape, float in [0, 1].

    Returns:
        ``float64`` array ``(n,)`` in dB (``inf`` where ``x_hat == x``).

    Raises:
        ValueError: different shapes, values outside [0, 1] (e.g. 0-255 pixels),
            or not a batch of grey images. TypeError: non-numeric input.
    """
    import tensorflow as tf

    a, b = _image_pair_4d(x, x_hat)
    return tf.image.psnr(a, b, max_val=1.0).numpy().astype(np.float64)


def psnr(x, x_hat) -> float:
    """Mean PSNR over a batch in dB; see :func:`per_image_psnr` (raises like it).

    Raises:
        ValueError: also when some image is reconstructed exactly (infinite PSNR),
            because a mean over infinities says nothing.
    """
    values = per_image_psnr(x, x_hat)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{int(np.sum(~np.isfinite(values)))} image(s) equal their reference exactly "
                         "(infinite PSNR); the mean PSNR is undefined. Use per_image_psnr.")
    return float(values.mean())


def per_image_ssim(x, x_hat, *, filter_size: int = 11, filter_sigma: float = 1.5) -> np.ndarray:
    """Structural similarity of each image (``tf.image.ssim``, max_val=1, k1=0.01, k2=0.03).

    Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error
    visibility to structural similarity", IEEE TIP 13 (2004), eq. 13: local
    means, variances and covariance under a Gaussian window of side
    ``filter_size`` and width ``filter_sigma``, averaged over the valid
    positions (18 x 18 of them for 28 x 28 images and the default 11 x 11
    window). 1 means identical; values may be slightly negative.

    Args:
        x, x_hat: as :func:`per_image_psnr`.
        filter_size: odd window side, at most the image side (28 for MNIST).
        filter_sigma: standard deviation of the Gaussian window in pixels, > 0.

    Returns:
        ``float64`` array ``(n,)`` in [-1, 1].

    Raises:
        ValueError: as :func:`per_image_psnr`, or a window larger than the image,
            even, or a non-positive sigma. TypeError: non-int ``filter_size``.
    """
    import tensorflow as tf

    a, b = _image_pair_4d(x, x_hat)
    filter_size = _validate.positive_int(filter_size, "filter_size")
    if filter_size % 2 == 0:
        raise ValueError(f"filter_size must be odd; got {filter_size}.")
    if filter_size > min(a.shape[1:3]):
        raise ValueError(f"filter_size={filter_size} exceeds the {a.shape[1]}x{a.shape[2]} images; "
                         f"use at most {min(a.shape[1:3])}.")
    if isinstance(filter_sigma, bool) or not isinstance(filter_sigma, (int, float, np.integer, np.floating)) \
            or not filter_sigma > 0 or not _math56.isfinite(filter_sigma):
        raise ValueError(f"filter_sigma must be a finite number > 0; got {filter_sigma!r}.")
    return tf.image.ssim(a, b, max_val=1.0, filter_size=filter_size,
                         filter_sigma=float(filter_sigma)).numpy().astype(np.float64)


def ssim(x, x_hat, *, filter_size: int = 11, filter_sigma: float = 1.5) -> float:
    """Mean SSIM over a batch; see :func:`per_image_ssim` (arguments, errors)."""
    return float(per_image_ssim(x, x_hat, filter_size=filter_size, filter_sigma=filter_sigma).mean())


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, *, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier in code space (scikit-learn).

    ``KNeighborsClassifier(n_neighbors=k)`` (Euclidean distance, majority vote)
    is fitted on the training codes and scored on the test codes: how often a
    test image's nearest training codes carry its label. It measures whether
    codes of the same class lie close together, the number behind a t-SNE
    picture (which preserves neighbourhoods, not distances).

    Args:
        train_codes: ``(n, d)`` real codes (or flattened images, or PCA scores).
        train_labels: ``(n,)`` integer labels.
        test_codes: ``(m, d)`` codes in the same space.
        test_labels: ``(m,)`` integer labels.
        k: number of neighbours, at most ``n``.

    Returns:
        Accuracy as a fraction in [0, 1].

    Raises:
        ValueError: not 2-d codes, differing code sizes, label counts that do not
            match, non-integer labels, NaN/inf codes, ``k`` larger than ``n``.
        TypeError: non-numeric input or non-int ``k``.
    """
    from sklearn.neighbors import KNeighborsClassifier

    arrays = []
    for codes, labels, name in ((train_codes, train_labels, "train"), (test_codes, test_labels, "test")):
        c = _validate.as_array(codes, f"{name}_codes").astype(np.float64)
        y = _validate.as_array(labels, f"{name}_labels")
        if c.ndim != 2 or c.shape[0] == 0:
            raise ValueError(f"{name}_codes must be (n, d) with n >= 1; got shape {c.shape} (flatten images first).")
        if not np.all(np.isfinite(c)):
            raise ValueError(f"{name}_codes contain NaN or inf.")
        if y.shape != (c.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{name}_labels must be ({c.shape[0]},) integers; got shape {y.shape}, dtype {y.dtype}.")
        arrays += [c, y]
    c_train, y_train, c_test, y_test = arrays
    if c_train.shape[1] != c_test.shape[1]:
        raise ValueError(f"train codes have {c_train.shape[1]} dimensions, test codes {c_test.shape[1]}.")
    k = _validate.positive_int(k, "k")
    if k > c_train.shape[0]:
        raise ValueError(f"k={k} exceeds the {c_train.shape[0]} training codes.")
    knn = KNeighborsClassifier(n_neighbors=k).fit(c_train, y_train)
    return float(knn.score(c_test, y_test))


# Sample-quality measurements with a judge classifier: Frechet distance, class coverage
__all__ += ["judge_outputs", "feature_statistics", "frechet_distance", "class_histogram", "kl_to_uniform",
            "classifier_score"]


def judge_outputs(judge, images, *, batch_size: int = 500):
    """Penultimate features and class probabilities of a classifier ("judge") for a batch of images.

    The judge is the CNN of ``labutils.models.judge()``; its penultimate
    Dense layer is named ``"features"``. Run in inference mode (no dropout,
    no augmentation).

    Args:
        judge: a ``keras.Model`` with a layer named ``"features"`` and softmax outputs.
        images: ``(n, 28, 28, 1)`` (or ``(n, 784)``, ``(n, 28, 28)``) float32 in [0, 1].
        batch_size: images per forward pass.

    Returns:
        ``(features, probabilities)``: float64 ``(n, d)`` (d = 128 for the labs' CNN)
        and float64 ``(n, classes)`` rows summing to 1.

    Raises:
        TypeError: ``judge`` is not a Keras model. ValueError: it has no
            ``"features"`` layer; images not 28x28 grey in [0, 1].
    """
    import keras

    if not isinstance(judge, keras.Model):
        raise TypeError(f"judge must be a keras.Model; got {type(judge).__name__}.")
    try:
        feature_layer = judge.get_layer("features")
    except ValueError as exc:
        raise ValueError("judge must have a layer named 'features' (labutils.models.cnn_classifier).") from exc
    x = _validate.unit_interval(images, "images")
    x = _validate.images(x, "images")[..., None]
    if tuple(x.shape[1:]) != tuple(judge.inputs[0].shape[1:]):
        raise ValueError(f"images of shape {x.shape[1:]} do not fit the judge's input {judge.inputs[0].shape[1:]}.")
    extractor = keras.Model(judge.inputs[0], [feature_layer.output, judge.outputs[0]])
    feats, probs = [], []
    for s in range(0, len(x), _validate.positive_int(batch_size, "batch_size")):
        f, p = extractor(x[s:s + batch_size], training=False)
        feats.append(np.asarray(f, dtype=np.float64))
        probs.append(np.asarray(p, dtype=np.float64))
    return np.concatenate(feats), np.concatenate(probs)


def feature_statistics(features):
    """Mean and covariance of a feature matrix: the Gaussian the Fréchet distance compares.

    Args:
        features: ``(n, d)`` real numbers, ``n >= 2``.

    Returns:
        ``(mu, sigma)``: float64 ``(d,)`` and ``(d, d)`` (unbiased covariance, ``np.cov``).

    Raises:
        ValueError: not 2-d, fewer than 2 rows, or NaN/inf.
    """
    f = _validate.as_array(features, "features").astype(np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be (n, d) with n >= 2; got shape {f.shape}.")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or inf.")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein squared) distance between two Gaussians.

    ``FD = |mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``
    (Dowson & Landau, J. Multivariate Anal. 12, 1982; used on Inception
    features as the FID by Heusel et al., "GANs trained by a two time-scale
    update rule...", NIPS 2017, section 3). The matrix square root is
    ``scipy.linalg.sqrtm``; its tiny imaginary part from rounding is dropped,
    and a singular product is regularised with ``1e-6 I`` as in the reference
    FID code. In the squared units of the features; 0 for identical
    Gaussians. Estimated from samples it is biased upwards (more for fewer
    samples), so compare distances only at equal sample sizes.

    Args:
        mu1, mu2: ``(d,)`` means.
        sigma1, sigma2: ``(d, d)`` symmetric positive semi-definite covariances.

    Returns:
        The distance, a float >= 0.

    Raises:
        ValueError: shapes that disagree, NaN/inf, or a square root with a large imaginary part
            (not covariance matrices).
    """
    from scipy import linalg

    mu1 = np.atleast_1d(_validate.as_array(mu1, "mu1").astype(np.float64))
    mu2 = np.atleast_1d(_validate.as_array(mu2, "mu2").astype(np.float64))
    s1 = np.atleast_2d(_validate.as_array(sigma1, "sigma1").astype(np.float64))
    s2 = np.atleast_2d(_validate.as_array(sigma2, "sigma2").astype(np.float64))
    d = mu1.shape[0]
    if mu1.ndim != 1 or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"expected mu (d,) and sigma (d, d) for both Gaussians; got {mu1.shape}, {s1.shape}, "
                         f"{mu2.shape}, {s2.shape}.")
    for name, a in (("mu1", mu1), ("mu2", mu2), ("sigma1", s1), ("sigma2", s2)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf.")
    import warnings

    with warnings.catch_warnings():
        # dead ReLU features make the product singular; sqrtm warns, the offset below handles it
        warnings.simplefilter("ignore", RuntimeWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)):
            offset = 1e-6 * np.eye(d)
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        scale = max(1.0, float(np.abs(covmean).max()))
        if np.max(np.abs(covmean.imag)) > 1e-3 * scale:
            raise ValueError("sqrtm(sigma1 @ sigma2) has a large imaginary part: are sigma1 and sigma2 "
                             "covariance matrices (symmetric, positive semi-definite)?")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(max(0.0, diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)))


def _probabilities(p, name="probabilities"):
    p = _validate.as_array(p, name).astype(np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"{name} must be (n, classes) with n >= 1 and classes >= 2; got shape {p.shape}.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(f"{name} must be rows of class probabilities (>= 0, summing to 1).")
    return p


def class_histogram(probabilities, num_classes: int | None = None) -> np.ndarray:
    """The share of samples the judge assigns to each class (its arg-max label).

    A generator that covers every class gives about ``1 / classes`` each; a
    mode-collapsed one piles up in a few bins.

    Args:
        probabilities: ``(n, classes)`` class probabilities, or ``(n,)`` integer labels.
        num_classes: needed with integer labels (default: ``max + 1``); with
            probabilities it must match their width.

    Returns:
        float64 ``(classes,)`` summing to 1.

    Raises:
        ValueError: malformed probabilities, negative labels, labels beyond ``num_classes``.
    """
    arr = _validate.as_array(probabilities, "probabilities")
    if arr.ndim == 1:
        if not np.issubdtype(arr.dtype, np.integer) or arr.size == 0 or arr.min() < 0:
            raise ValueError("labels must be a non-empty (n,) array of non-negative integers.")
        k = int(arr.max()) + 1 if num_classes is None else _validate.positive_int(num_classes, "num_classes")
        if arr.max() >= k:
            raise ValueError(f"label {arr.max()} is not below num_classes={k}.")
        labels = arr
    else:
        p = _probabilities(arr)
        k = p.shape[1]
        if num_classes is not None and _validate.positive_int(num_classes, "num_classes") != k:
            raise ValueError(f"num_classes={num_classes} but the probabilities have {k} columns.")
        labels = p.argmax(axis=1)
    return np.bincount(labels, minlength=k).astype(np.float64) / len(labels)


def kl_to_uniform(histogram) -> float:
    """``KL(h || uniform) = sum_k h_k log(K h_k) = log K - H(h)`` in nats (0 log 0 = 0).

    0 for a uniform histogram, ``log K`` (2.303 nats for 10 classes) when every
    sample lands in one class: the mode-collapse meter of lab 08.

    Args:
        histogram: ``(K,)`` non-negative shares summing to 1 (``K >= 2``).

    Returns:
        A float in ``[0, log K]``, nats.

    Raises:
        ValueError: not 1-d, negative entries, or not summing to 1.
    """
    h = _validate.as_array(histogram, "histogram").astype(np.float64)
    if h.ndim != 1 or h.shape[0] < 2:
        raise ValueError(f"histogram must be (K,) with K >= 2; got shape {h.shape}.")
    if not np.all(np.isfinite(h)) or h.min() < 0 or abs(h.sum() - 1.0) > 1e-6:
        raise ValueError(f"histogram must be non-negative shares summing to 1; got sum {h.sum():g}.")
    nz = h[h > 0]
    return float(max(0.0, np.sum(nz * np.log(len(h) * nz))))


def classifier_score(probabilities) -> float:
    """The Inception score with an MNIST classifier: ``exp(E_x KL(p(y|x) || p(y)))``.

    Salimans et al., "Improved Techniques for Training GANs", NIPS 2016,
    section 4; ``p(y)`` is the mean of ``p(y|x)`` over the samples. It lies in
    ``[1, K]``: high when each sample is confidently one class (sharp
    ``p(y|x)``) *and* the classes are balanced (broad ``p(y)``). Real MNIST
    test images score close to 10 with a 99% judge.

    Args:
        probabilities: ``(n, K)`` class probabilities from the judge.

    Returns:
        A float in ``[1, K]``.

    Raises:
        ValueError: malformed probabilities.
    """
    p = _probabilities(probabilities)
    p_y = p.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(p_y)), 0.0)
    return float(np.exp(np.sum(terms) / p.shape[0]))
