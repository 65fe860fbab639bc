"""Restricted Boltzmann machines in Keras 3: contrastive divergence, persistent chains, deep belief nets.

The model of lab 09. A binary RBM with visible units ``v`` (784 pixels) and
hidden units ``h`` has the energy (Hinton, "A practical guide to training
restricted Boltzmann machines", UTML TR 2010-003, section 2)::

    E(v, h) = -b^T v - c^T h - v^T W h

so that ``p(h_j = 1 | v) = sigmoid(c_j + v^T W[:, j])`` and
``p(v_i = 1 | h) = sigmoid(b_i + W[i, :] h)``, and the free energy
``F(v) = -b^T v - sum_j softplus(c_j + v^T W[:, j])`` gives ``p(v) = exp(-F(v)) / Z``.

:class:`RBM` is a ``keras.Model`` whose training step computes the
contrastive-divergence (CD-k) or persistent-CD update from the data and model
statistics with ``keras.ops`` (no autodiff) and hands it to the compiled
optimizer (``keras.optimizers.SGD`` with momentum and a learning-rate schedule).
The likelihoods are computed in NumPy from the parameters ``(W, b, c)``
(:func:`parameters`): :func:`free_energy`, :func:`pseudo_likelihood`,
:func:`log_partition_exact` of small RBMs, :func:`ais_log_partition` (annealed
importance sampling) and :func:`log_likelihood`. The module also has Gibbs
chains for pictures, the deep-belief-net helpers and two figures.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from . import _validate, backends

__all__ = [
    "MAX_K",
    "MAX_GIBBS_STEPS",
    "RBM",
    "parameters",
    "EXACT_MAX_UNITS",
    "AIS_MAX_BETAS",
    "AIS_MAX_RUNS",
    "free_energy",
    "pseudo_likelihood",
    "log_partition_exact",
    "ais_betas",
    "AISResult",
    "ais_log_partition",
    "log_likelihood",
    "gibbs_chains",
    "chain_figure",
    "filter_images",
    "free_energy_figure",
    "greedy_stack",
    "stack_features",
    "dbn_classifier",
]


#: Upper bound of ``RBM(k=...)``: the k Gibbs steps are unrolled into the training graph.
MAX_K = 1000
#: Upper bound of :func:`gibbs_chains`' ``n_steps`` (the lab runs 1,000).
MAX_GIBBS_STEPS = 100_000


@keras.saving.register_keras_serializable(package="labutils")
class RBM(backends.Model):
    """A Bernoulli-Bernoulli restricted Boltzmann machine trained by CD-k or persistent CD.

    Variables: ``W`` ``(n_visible, n_hidden)`` (initialised N(0, 0.01^2),
    Hinton's guide section 8), visible biases ``b`` ``(n_visible,)`` and
    hidden biases ``c`` ``(n_hidden,)`` (zeros; :meth:`set_visible_bias`
    sets ``b`` from the data's pixel means, section 8), all float32 and
    trainable; with ``persistent=True`` the persistent chains
    ``(n_chains, n_visible)`` float32 in {0, 1} are a non-trainable variable.

    ``call(v)`` returns the hidden probabilities ``p(h = 1 | v)``
    ``(batch, n_hidden)``, so ``rbm.predict(x)`` gives features.

    Training (``compile(optimizer=keras.optimizers.SGD(...))`` then ``fit(x)``):
    each step computes, for a batch ``v0`` ``(batch, n_visible)``,

    * data statistics ``<v h>_data = v0^T p(h | v0) / batch``;
    * model statistics from ``k`` steps of block Gibbs sampling, started at
      ``v0`` (CD-k, Hinton 2002) or at the persistent chains (PCD-k,
      Tieleman, ICML 2008), ``<v h>_model = v_k^T p(h | v_k) / n``;
    * the log-likelihood gradient estimate ``<v h>_data - <v h>_model``
      (and likewise for the biases), minus ``weight_decay * W`` for the
      weights (L2 weight cost, Hinton's guide section 10);

    and the optimizer takes a step along it (it receives the negated
    estimate as the "gradient", since Keras optimizers minimise). Momentum and
    the learning-rate schedule are the optimizer's.

    Trackers (per epoch, shown by Keras' progress bar; ``val_`` versions on
    ``validation_data``): ``reconstruction_error``, the mean squared error per
    pixel between ``v0`` and ``p(v | h)`` for ``h ~ p(h | v0)``; and
    ``pseudo_likelihood``, the stochastic pseudo-log-likelihood of
    scikit-learn's ``BernoulliRBM.score_samples`` in nats per image (see
    :func:`pseudo_likelihood`).

    Args:
        n_visible: number of visible units (784 for MNIST).
        n_hidden: number of hidden units.
        k: Gibbs steps per update (CD-k / PCD-k), >= 1.
        persistent: keep the negative chains between updates (PCD).
        n_chains: number of persistent chains (PCD only), at most 100,000.
        weight_decay: L2 weight cost on ``W`` (>= 0; 1e-4 is Hinton's suggestion).
        dynamic_binarization: in ``train_step`` only, draw each training
            batch's binary visible units afresh as Bernoulli(pixel
            intensity), so that grey images in [0, 1] can be passed to
            ``fit`` and every epoch sees a new binarization.
        seed: seed of the model's ``keras.random.SeedGenerator`` (an int from 0
            to 2**32 - 1; None: drawn from the global seed that
            ``keras.utils.set_random_seed`` set).

    ``fit`` and ``evaluate`` check NumPy data first: ``(n, n_visible)`` in [0, 1],
    no NaN or inf.

    Raises:
        TypeError / ValueError: non-int or non-positive sizes, ``k`` (at most
            :data:`MAX_K`, the steps are unrolled) or ``n_chains``; a negative or
            non-finite ``weight_decay``; a ``seed`` that is not an int from 0 to
            2**32 - 1 or None.
    """

    def __init__(self, n_visible: int = 784, n_hidden: int = 500, *, k: int = 1, persistent: bool = False,
                 n_chains: int = 100, weight_decay: float = 0.0, dynamic_binarization: bool = False,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_visible = _validate.positive_int(n_visible, "n_visible")
        self.n_hidden = _validate.positive_int(n_hidden, "n_hidden")
        self.k = _validate.bounded_int(k, "k", MAX_K, "Gibbs steps are unrolled into the training graph")
        self.n_chains = _validate.bounded_int(n_chains, "n_chains", _validate.MAX_SAMPLES)
        seed = _validate.seed(seed, allow_none=True)
        self.persistent = bool(persistent)
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float, np.floating, np.integer)):
            raise TypeError(f"weight_decay must be a number; got {weight_decay!r}.")
        if not (math.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0; got {weight_decay}.")
        self.weight_decay = float(weight_decay)
        self.dynamic_binarization = bool(dynamic_binarization)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.W = self.add_weight(shape=(self.n_visible, self.n_hidden), name="W",
                                 initializer=keras.initializers.RandomNormal(stddev=0.01, seed=seed))
        self.b = self.add_weight(shape=(self.n_visible,), name="visible_bias", initializer="zeros")
        self.c = self.add_weight(shape=(self.n_hidden,), name="hidden_bias", initializer="zeros")
        self.chains = None
        if self.persistent:
            self.chains = self.add_weight(shape=(self.n_chains, self.n_visible), name="persistent_chains",
                                          initializer="zeros", trainable=False)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_error")
        self.pseudo_likelihood_tracker = keras.metrics.Mean(name="pseudo_likelihood")
        self.built = True

    # ------------------------------------------------------------ conditionals
    def hidden_probabilities(self, v):
        """``p(h = 1 | v)``: ``(batch, n_visible)`` -> ``(batch, n_hidden)`` float32 in (0, 1)."""
        return ops.sigmoid(self._hidden_input(v))

    def _hidden_input(self, v):
        """The hidden units' total input ``v W + c`` ``(batch, n_hidden)``; lab 12's doubled RBMs override it."""
        return ops.matmul(v, self.W) + self.c

    def visible_probabilities(self, h):
        """``p(v = 1 | h)``: ``(batch, n_hidden)`` -> ``(batch, n_visible)`` float32 in (0, 1)."""
        return ops.sigmoid(ops.matmul(h, ops.transpose(self.W)) + self.b)

    def _bernoulli(self, p):
        return ops.cast(keras.random.uniform(ops.shape(p), seed=self.seed_generator) < p, "float32")

    def gibbs_step(self, v):
        """One block Gibbs step ``v -> h ~ p(h|v) -> v' ~ p(v|h)``; returns ``(v', p(v'=1|h))``."""
        h = self._bernoulli(self.hidden_probabilities(v))
        pv = self.visible_probabilities(h)
        return self._bernoulli(pv), pv

    def free_energy(self, v):
        """``F(v) = -b^T v - sum_j softplus(c_j + v^T W_j)``: ``(batch, n_visible)`` -> ``(batch,)`` nats."""
        return -ops.matmul(v, self.b) - ops.sum(ops.softplus(ops.matmul(v, self.W) + self.c), axis=-1)

    def call(self, inputs):
        return self.hidden_probabilities(ops.convert_to_tensor(inputs, "float32"))

    def set_visible_bias(self, x, pseudo_count: float = 1.0):
        """Set ``b`` to the log-odds of the pixel means of ``x`` ``(n, n_visible)`` in [0, 1].

        ``b_i = log(p_i / (1 - p_i))`` with ``p_i = (sum_n x_ni + pseudo_count) / (n + 2 pseudo_count)``
        (Hinton's guide section 8; the same smoothing as
        :func:`labutils.metrics.base_rate_visible_bias`, which it calls).
        """
        from . import metrics

        self.b.assign(metrics.base_rate_visible_bias(x, pseudo_count=pseudo_count).astype("float32"))

    # ------------------------------------------------------------ training
    def _check_data(self, x, name="x"):
        # fail before Keras traces the step: NaN images would train silently to NaN weights
        if isinstance(x, np.ndarray):
            arr = _validate.unit_interval(x, name)
            if arr.ndim != 2 or arr.shape[1] != self.n_visible:
                raise ValueError(f"{name} must be (n, {self.n_visible}) in [0, 1]; got shape {arr.shape}.")

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_data(x)
        val = kwargs.get("validation_data")
        self._check_data(val[0] if isinstance(val, (tuple, list)) and val else val, "validation_data")
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_data(x)
        return super().evaluate(x, y, *args, **kwargs)

    def _batch(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return ops.convert_to_tensor(x, "float32")

    def _pseudo_likelihood(self, v, pre_hidden):
        """sklearn's stochastic pseudo-likelihood, reusing ``v W + c`` ``(batch, n_hidden)``."""
        n = ops.shape(v)[0]
        idx = keras.random.randint((n,), 0, self.n_visible, seed=self.seed_generator)
        vi = ops.take_along_axis(v, ops.expand_dims(idx, 1), axis=1)[:, 0]
        sign = 1.0 - 2.0 * vi                                   # +1 turns a pixel on, -1 off
        pre_flip = pre_hidden + ops.expand_dims(sign, 1) * ops.take(self.W, idx, axis=0)
        fe = -ops.matmul(v, self.b) - ops.sum(ops.softplus(pre_hidden), axis=-1)
        fe_flip = -ops.matmul(v, self.b) - sign * ops.take(self.b, idx) - ops.sum(ops.softplus(pre_flip), axis=-1)
        return self.n_visible * ops.log_sigmoid(fe_flip - fe)

    def _track(self, v0, pre_hidden, ph0):
        pv1 = self.visible_probabilities(self._bernoulli(ph0))
        self.reconstruction_tracker.update_state(ops.mean(ops.square(v0 - pv1), axis=-1))
        self.pseudo_likelihood_tracker.update_state(self._pseudo_likelihood(v0, pre_hidden))

    def train_step(self, data):
        v0 = self._batch(data)
        if self.dynamic_binarization:
            v0 = self._bernoulli(v0)
        pre_hidden = self._hidden_input(v0)
        ph0 = ops.sigmoid(pre_hidden)
        vk = self.chains if self.persistent else v0
        for _ in range(self.k):
            vk, _ = self.gibbs_step(vk)
        if self.persistent:
            self.chains.assign(vk)
        phk = self.hidden_probabilities(vk)
        n_data = ops.cast(ops.shape(v0)[0], "float32")
        n_model = ops.cast(ops.shape(vk)[0], "float32")
        # log-likelihood gradient estimate: data statistics minus model statistics
        d_W = ops.matmul(ops.transpose(v0), ph0) / n_data - ops.matmul(ops.transpose(vk), phk) / n_model
        d_b = ops.mean(v0, axis=0) - ops.mean(vk, axis=0)
        d_c = ops.mean(ph0, axis=0) - ops.mean(phk, axis=0)
        if self.weight_decay:
            d_W = d_W - self.weight_decay * self.W
        self._track(v0, pre_hidden, ph0)  # with the parameters before this update
        # Keras optimizers minimise: hand them the negated ascent direction
        self.optimizer.apply([-d_W, -d_b, -d_c], [self.W, self.b, self.c])
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        v0 = self._batch(data)
        pre_hidden = self._hidden_input(v0)
        self._track(v0, pre_hidden, ops.sigmoid(pre_hidden))
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.reconstruction_tracker, self.pseudo_likelihood_tracker]

    def get_config(self):
        config = super().get_config()
        config.update({"n_visible": self.n_visible, "n_hidden": self.n_hidden, "k": self.k,
                       "persistent": self.persistent, "n_chains": self.n_chains,
                       "weight_decay": self.weight_decay, "dynamic_binarization": self.dynamic_binarization,
                       "seed": self.seed})
        return config

    def parameters(self):
        """``(W, b, c)`` as NumPy float64 arrays ``(n_visible, n_hidden)``, ``(n_visible,)``, ``(n_hidden,)``."""
        return tuple(np.asarray(keras.ops.convert_to_numpy(p), dtype=np.float64) for p in (self.W, self.b, self.c))


def parameters(model):
    """``(W, b, c)`` of an RBM as float64 NumPy arrays, for the likelihood functions below.

    Args:
        model: an :class:`RBM`, a fitted ``sklearn.neural_network.BernoulliRBM``
            (``components_`` is ``W^T``), or a tuple ``(W, b, c)``.

    Returns:
        ``(W (n_visible, n_hidden), b (n_visible,), c (n_hidden,))`` float64.

    Raises:
        TypeError: ``model`` is none of these (e.g. an unfitted BernoulliRBM).
        ValueError: a tuple whose shapes do not fit together.
    """
    if hasattr(model, "components_") and hasattr(model, "intercept_visible_"):
        return (np.asarray(model.components_, np.float64).T.copy(),
                np.asarray(model.intercept_visible_, np.float64), np.asarray(model.intercept_hidden_, np.float64))
    if hasattr(model, "parameters") and callable(model.parameters) and hasattr(model, "n_hidden"):
        return model.parameters()
    if isinstance(model, (tuple, list)) and len(model) == 3:
        return _params(*model)
    raise TypeError(
        f"expected an RBM, a fitted sklearn BernoulliRBM or a tuple (W, b, c); got {type(model).__name__}.")


# ---------------------------------------------------------------- likelihoods in NumPy
# An RBM given as (W, b, c) (see parameters): free energy, pseudo-likelihood, exact and AIS-estimated
# log partition function, test log-likelihood. NumPy, float64 where it sums.

#: Largest number of binary units that log_partition_exact sums over (2**24 terms).
EXACT_MAX_UNITS = 24


#: Upper bounds of AIS: intermediate distributions (each one a Gibbs step of every run) and runs.
AIS_MAX_BETAS = 1_000_000
AIS_MAX_RUNS = 10_000


def _softplus(x):
    """log(1 + exp(x)) without overflow, float64."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))`` in its tanh form (no overflow warnings)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _free_energy(x, W, b, c):
    """``F(v)`` of validated float64 ``(n, n_visible)`` visible vectors: ``(n,)`` nats."""
    return -(x @ b) - _softplus(x @ W + c).sum(axis=1)


def _sample(rng, p):
    """Bernoulli samples with probabilities ``p``, in ``p``'s dtype (one uniform draw per entry)."""
    return (rng.random(p.shape, dtype=p.dtype) < p).astype(p.dtype)


def _gibbs_step(rng, p_hidden, visible_probabilities):
    """One block Gibbs step from ``p(h = 1 | v)``: ``h ~ p(h | v)``, then ``v' ~ p(v | h)``.

    ``visible_probabilities(h)`` gives ``p(v = 1 | h)``; returns ``(v', p(v' = 1 | h))``.
    The hidden units are drawn first, then the visible ones, from one generator.
    """
    pv = visible_probabilities(_sample(rng, p_hidden))
    return _sample(rng, pv), pv


def _params(weights, visible_bias, hidden_bias):
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


def free_energy(v, weights, visible_bias, hidden_bias) -> np.ndarray:
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
    W, b, c = _params(weights, visible_bias, hidden_bias)
    x = _binary_visible(v, W.shape[0])
    return _free_energy(x, W, b, c)


def pseudo_likelihood(v, weights, visible_bias, hidden_bias, seed=0) -> np.ndarray:
    """Stochastic pseudo-log-likelihood per image, as scikit-learn's ``BernoulliRBM.score_samples``.

    For each image one pixel ``i`` is chosen at random and flipped
    (``v~``); then ``PL(v) = n_visible * log sigmoid(F(v~) - F(v))``, an
    estimate of ``sum_i log p(v_i | v_-i)`` (Besag 1975; scikit-learn 1.x,
    ``sklearn/neural_network/_rbm.py``). With the same integer ``seed`` as
    ``BernoulliRBM(random_state=seed)`` the same pixels are flipped, so the
    values agree with ``score_samples`` exactly.

    Args:
        v: ``(n, n_visible)`` binary images, values in {0, 1}.
        weights, visible_bias, hidden_bias: the RBM, see :func:`free_energy`.
        seed: int seed of ``numpy.random.RandomState`` that picks the pixels (0 to 2**32 - 1).

    Returns:
        ``float64`` ``(n,)``, nats per image (negative; higher is better).

    Raises:
        ValueError / TypeError: as :func:`free_energy`; a ``seed`` that is not
            an int from 0 to 2**32 - 1 (booleans and floats included).
    """
    W, b, c = _params(weights, visible_bias, hidden_bias)
    x = _binary_visible(v, W.shape[0])
    idx = np.random.RandomState(_validate.seed(seed)).randint(0, x.shape[1], x.shape[0])
    rows = np.arange(x.shape[0])
    flipped = x.copy()
    flipped[rows, idx] = 1.0 - flipped[rows, idx]
    fe = _free_energy(x, W, b, c)
    fe_flipped = _free_energy(flipped, W, b, c)
    return -x.shape[1] * np.logaddexp(0.0, -(fe_flipped - fe))


def log_partition_exact(weights, visible_bias, hidden_bias) -> float:
    """Exact ``log Z`` of a small RBM by enumerating the smaller layer's states.

    Summing out the larger layer analytically, with ``m = min(n_visible,
    n_hidden) <= EXACT_MAX_UNITS``:
    ``log Z = logsumexp_v [-F(v)]`` over all ``2^n_visible`` visible vectors, or
    ``log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)]`` over all
    ``2^n_hidden`` hidden vectors (the same sum, ordered the other way).

    Args:
        weights, visible_bias, hidden_bias: the RBM, see :func:`free_energy`.

    Returns:
        ``log Z`` in nats (float).

    Raises:
        ValueError: both layers larger than ``EXACT_MAX_UNITS`` units (the sum
            would have more than 2**24 terms), or invalid parameters.
    """
    from scipy.special import logsumexp

    W, b, c = _params(weights, visible_bias, hidden_bias)
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
        terms.append(states @ b + _softplus(states @ W + c).sum(axis=1))
    return float(logsumexp(np.concatenate(terms)))


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


@dataclass(frozen=True)
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
    v = (rng.random((n_runs, n_visible)) < _sigmoid(b_a)).astype(np.float32)  # exact samples of model A
    log_w = np.zeros(n_runs)
    for k in range(1, betas.size):
        beta, beta_prev = betas[k], betas[k - 1]
        x32 = v @ W32 + c32                                  # (n_runs, n_hidden), shared by both terms
        x = x32.astype(np.float64)
        log_w += (beta - beta_prev) * (v @ b_diff) + (_softplus(beta * x) - _softplus(beta_prev * x)).sum(axis=1)
        if k < betas.size - 1:                               # one Gibbs step that leaves p_k invariant
            a, w = np.float32(1.0 - beta), np.float32(beta)
            v, _ = _gibbs_step(rng, expit(w * x32), lambda h: expit(a * b_a32 + w * (b32 + h @ Wt32)))
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
            :func:`labutils.metrics.base_rate_visible_bias` of the training images.
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
    start = time.perf_counter()
    W, b, c = _params(weights, visible_bias, hidden_bias)
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
    log_z_base = n_hidden * math.log(2.0) + float(_softplus(b_a).sum())
    top = log_w.max()
    w = np.exp(log_w - top)                                  # weights scaled by exp(-top)
    mean, sem = w.mean(), w.std(ddof=1) / math.sqrt(n_runs)
    log_z = top + math.log(mean) + log_z_base
    high = top + math.log(mean + 3.0 * sem) + log_z_base
    low = top + math.log(mean - 3.0 * sem) + log_z_base if mean > 3.0 * sem else -math.inf
    return AISResult(log_z=float(log_z), log_z_low=float(low), log_z_high=float(high), log_weights=log_w,
                     log_z_base=float(log_z_base), n_betas=int(betas.size - 1),
                     seconds=time.perf_counter() - start)


def log_likelihood(v, weights, visible_bias, hidden_bias, log_z) -> np.ndarray:
    """Log-likelihood of each binary image under an RBM: ``log p(v) = -F(v) - log Z``.

    With ``log_z`` from :func:`ais_log_partition` this is the test
    log-likelihood of Salakhutdinov & Murray (ICML 2008, section 5), in nats
    per image; average it over the test set.

    Args:
        v: ``(n, n_visible)`` binary images.
        weights, visible_bias, hidden_bias: the RBM, see :func:`free_energy`.
        log_z: the log partition function (a float, or an :class:`AISResult`).

    Returns:
        ``float64`` ``(n,)``, nats (at most 0 when ``log_z`` is exact).

    Raises:
        ValueError / TypeError: as :func:`free_energy`; a non-finite ``log_z``.
    """
    if isinstance(log_z, AISResult):
        log_z = log_z.log_z
    if isinstance(log_z, bool) or not isinstance(log_z, (int, float, np.integer, np.floating)):
        raise TypeError(f"log_z must be a number or an AISResult; got {log_z!r} ({type(log_z).__name__}).")
    if not math.isfinite(log_z):
        raise ValueError(f"log_z must be finite; got {log_z}.")
    return -free_energy(v, weights, visible_bias, hidden_bias) - float(log_z)


# ---------------------------------------------------------------- Gibbs chains and figures

def gibbs_chains(model, start, n_steps: int, *, record_every: int = 1, seed: int = 0,
                 show_probabilities: bool = True) -> np.ndarray:
    """Run block Gibbs chains ``v -> h -> v`` and record snapshots for a strip per chain.

    Args:
        model: an RBM (see :func:`parameters`).
        start: ``(n_chains, n_visible)`` float in [0, 1]: the chains' first
            visible states (e.g. test digits or Bernoulli noise); not sampled,
            used as given.
        n_steps: number of Gibbs steps (positive int, at most :data:`MAX_GIBBS_STEPS`).
        record_every: record after every this many steps (positive int, at most ``n_steps``).
        seed: NumPy ``default_rng`` seed for the chains' sampling (an int from 0 to 2**32 - 1).
        show_probabilities: record ``p(v = 1 | h)`` (smoother pictures, as is
            customary) instead of the binary sample.

    Returns:
        ``float32`` array ``(n_chains, 1 + n_steps // record_every, n_visible)`` in
        [0, 1]; frame 0 is ``start``.

    Raises:
        ValueError: ``start`` not ``(n_chains, n_visible)`` or outside [0, 1] (NaN,
            inf included); ``n_steps`` above :data:`MAX_GIBBS_STEPS`;
            ``record_every`` above ``n_steps``; a negative ``seed``.
        TypeError: non-int ``n_steps``/``record_every``/``seed`` (booleans included).
    """
    W, b, c = parameters(model)
    v = _validate.unit_interval(start, "start").astype(np.float64)
    if v.ndim != 2 or v.shape[1] != W.shape[0]:
        raise ValueError(f"start must be (n_chains, {W.shape[0]}); got shape {v.shape}.")
    n_steps = _validate.bounded_int(n_steps, "n_steps", MAX_GIBBS_STEPS)
    record_every = _validate.positive_int(record_every, "record_every")
    if record_every > n_steps:
        raise ValueError(f"record_every={record_every} exceeds n_steps={n_steps}: no step would be recorded.")
    seed = _validate.seed(seed)
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    rng = np.random.default_rng(seed)
    frames = [v.copy()]
    with threadpool_limits(limits=1, user_api="blas"):  # many tiny products: one thread is fastest
        for step in range(1, n_steps + 1):
            v, pv = _gibbs_step(rng, _sigmoid(v @ W + c), lambda h: _sigmoid(h @ W.T + b))
            if step % record_every == 0:
                frames.append(pv if show_probabilities else v)
    return np.stack(frames, axis=1).astype(np.float32)


def chain_figure(chains, *, row_titles=None, title: str | None = None, side: int = 28):
    """Draw Gibbs chains as strips: one row per chain, its frames left to right.

    Args:
        chains: ``(n_chains, n_frames, side * side)`` in [0, 1], e.g. from
            :func:`gibbs_chains`.
        row_titles: optional list of one label per chain.
        title: optional figure title.
        side: image side in pixels (28 for MNIST).

    Returns:
        A :class:`labutils.plots.Figure` with one image per chain (fast to draw,
        unlike one panel per frame).

    Raises:
        ValueError: a wrong shape, values outside [0, 1] (NaN, inf included),
            ``row_titles`` of the wrong length, a non-positive ``side``.
        TypeError: a ``side`` that is not an int (booleans included).
    """
    from .plots import Figure

    side = _validate.positive_int(side, "side")
    arr = _validate.unit_interval(chains, "chains")
    if arr.ndim != 3 or arr.shape[2] != side * side:
        raise ValueError(f"chains must be (n_chains, n_frames, {side * side}); got shape {arr.shape}.")
    n, frames = arr.shape[:2]
    if row_titles is not None and len(row_titles) != n:
        raise ValueError(f"row_titles has {len(row_titles)} entries for {n} chains.")
    gap = np.ones((side, 2), np.float32)  # a white line between frames
    strips = [np.hstack([part for f in range(frames) for part in (arr[i, f].reshape(side, side), gap)][:-1])
              for i in range(n)]
    width = min(16.0, 0.62 * frames + 1.2)
    fig = Figure(figsize=(width, n * width / strips[0].shape[1] * side * 1.05 + (0.4 if title else 0.1)))
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for i, (ax, strip) in enumerate(zip(axes, strips)):
        ax.imshow(strip, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if row_titles is not None:
            ax.set_ylabel(str(row_titles[i]), rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filter_images(model, n: int = 100) -> np.ndarray:
    """The first ``n`` hidden units' weights as images, each scaled to [0, 1] on its own.

    Args:
        model: an RBM (see :func:`parameters`).
        n: number of hidden units (filters) to return, at most ``n_hidden``.

    Returns:
        ``float32`` ``(n, n_visible)`` in [0, 1]: column ``j`` of ``W`` mapped
        linearly so that its minimum is 0 and maximum 1 (a constant filter is 0.5).

    Raises:
        ValueError: ``n`` larger than the number of hidden units.
    """
    W, _, _ = parameters(model)
    n = _validate.positive_int(n, "n")
    if n > W.shape[1]:
        raise ValueError(f"n={n} but the RBM has only {W.shape[1]} hidden units.")
    f = W[:, :n].T
    lo, hi = f.min(axis=1, keepdims=True), f.max(axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    out = np.where(hi > lo, (f - lo) / span, 0.5)
    return out.astype(np.float32)


def free_energy_figure(free_energies: dict, *, bins: int = 50, title: str | None = None):
    """Histograms of free energies, one per group (test digits, noise, ...), in one panel.

    Args:
        free_energies: ``{label: (n,) free energies in nats}`` (e.g. from
            :func:`free_energy`).
        bins: number of histogram bins shared by all groups.
        title: optional panel title.

    Returns:
        A :class:`labutils.plots.Figure`.

    Raises:
        TypeError: not a dict; complex or object values. ValueError: empty dict,
            an empty group, NaN or inf values.
    """
    from .plots import Figure

    if not isinstance(free_energies, dict):
        raise TypeError(f"free_energies must be a dict {{label: values}}; got {type(free_energies).__name__}.")
    if not free_energies:
        raise ValueError("free_energies is empty; give at least one {label: values}.")
    groups = {}
    for label, values in free_energies.items():
        arr = _validate.finite_array(values, f"free_energies[{label!r}]").ravel()
        if arr.size == 0:
            raise ValueError(f"group {label!r} is empty.")
        groups[str(label)] = arr
    bins = _validate.positive_int(bins, "bins")
    edges = np.histogram_bin_edges(np.concatenate(list(groups.values())), bins=bins)
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.subplots()
    for label, arr in groups.items():
        ax.hist(arr, bins=edges, alpha=0.6, label=f"{label} (mean {arr.mean():.0f})")
    ax.set_xlabel("free energy F(v) (nats)")
    ax.set_ylabel("images")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- deep belief nets

def greedy_stack(x, layer_sizes, *, epochs, optimizer_factory, batch_size: int = 100, first=None, k: int = 1,
                 persistent: bool = True, weight_decay: float = 1e-4, seed: int = 0, verbose=2):
    """Train a deep belief net greedily, one RBM per layer (Hinton, Osindero & Teh 2006, section 4).

    Layer 1 models the images; layer ``l + 1`` models ``p(h_l = 1 | input)`` of
    layer ``l``, binarised afresh each epoch (``dynamic_binarization``).

    Args:
        x: ``(n, n_visible)`` float32 in [0, 1]: the images.
        layer_sizes: hidden units per layer, e.g. ``(500, 500)``.
        epochs: epochs per layer (an int for all, or one int per layer).
        optimizer_factory: ``callable(layer_index) -> keras optimizer`` (a fresh
            one per layer, e.g. SGD with momentum and a decaying learning rate).
        batch_size: minibatch size (positive int).
        first: an already trained :class:`RBM` to use as layer 1 (its
            ``n_hidden`` must equal ``layer_sizes[0]``); None trains one.
        k, persistent, weight_decay: passed to each new :class:`RBM`.
        seed: layer ``l`` gets seed ``seed + l`` (an int from 0 to 2**32 - 1 - layers).
        verbose: Keras ``fit`` verbosity.

    Returns:
        The list of RBMs, bottom first.

    Raises:
        ValueError: empty ``layer_sizes``, a ``first`` RBM of the wrong size,
            ``epochs`` of the wrong length or above 100,000, ``x`` outside [0, 1]
            (NaN, inf included), a non-positive ``batch_size``, a negative ``seed``.
        TypeError: non-int sizes, epochs, ``batch_size`` or ``seed`` (booleans
            included); ``first`` not an :class:`RBM`; ``optimizer_factory`` not callable.
    """
    x = _validate.unit_interval(x, "x")
    if x.ndim != 2:
        raise ValueError(f"x must be flat (n, n_visible); got shape {x.shape}.")
    sizes = list(_validate.sizes(layer_sizes, "layer_sizes"))
    if not sizes:
        raise ValueError("layer_sizes is empty; give at least one layer, e.g. (500, 500).")
    per_layer = list(epochs) if isinstance(epochs, (list, tuple)) else [epochs] * len(sizes)
    if len(per_layer) != len(sizes):
        raise ValueError(f"epochs has {len(per_layer)} entries for {len(sizes)} layers.")
    per_layer = [_validate.bounded_int(e, "epochs", _validate.MAX_EPOCHS) for e in per_layer]
    batch_size = _validate.positive_int(batch_size, "batch_size")
    seed = _validate.seed(seed)
    if seed + len(sizes) > _validate.MAX_SEED:
        raise ValueError(f"seed must leave room for one seed per layer (seed + {len(sizes)} <= 2**32 - 1); got {seed}.")
    if not callable(optimizer_factory):
        raise TypeError(f"optimizer_factory must be a callable layer_index -> keras optimizer; got "
                        f"{type(optimizer_factory).__name__}.")
    if first is not None and not isinstance(first, RBM):
        raise TypeError(f"first must be an RBM (or None); got {type(first).__name__}.")
    if first is not None and (first.n_hidden != sizes[0] or first.n_visible != x.shape[1]):
        raise ValueError(f"first is a {first.n_visible}-{first.n_hidden} RBM; layer 1 must be {x.shape[1]}-{sizes[0]}.")
    stack, inputs = [], x
    for layer, size in enumerate(sizes):
        if layer == 0 and first is not None:
            rbm = first
        else:
            rbm = RBM(inputs.shape[1], size, k=k, persistent=persistent, weight_decay=weight_decay,
                      dynamic_binarization=True, seed=seed + layer, name=f"rbm_{layer + 1}")
            rbm.set_visible_bias(inputs)
            rbm.compile(optimizer=optimizer_factory(layer))
            rbm.fit(inputs, epochs=per_layer[layer], batch_size=batch_size,
                    shuffle=True, verbose=verbose)
        stack.append(rbm)
        inputs = rbm.predict(inputs, batch_size=1000, verbose=0)
    return stack


def stack_features(stack, x) -> np.ndarray:
    """The top layer's hidden probabilities of a DBN, passed up deterministically.

    Args:
        stack: list of RBMs from :func:`greedy_stack`, bottom first.
        x: ``(n, n_visible)`` float in [0, 1].

    Returns:
        ``float32`` ``(n, n_hidden of the top layer)`` in (0, 1).

    Raises:
        ValueError: empty stack, or ``x`` of the wrong width or outside [0, 1] (NaN, inf included).
        TypeError: ``stack`` not a list of :class:`RBM`.
    """
    _rbm_list(stack)
    h = _validate.unit_interval(x, "x")
    if h.ndim != 2 or h.shape[1] != stack[0].n_visible:
        raise ValueError(f"x must be (n, {stack[0].n_visible}); got shape {h.shape}.")
    for rbm in stack:
        h = rbm.predict(h, batch_size=1000, verbose=0)
    return np.asarray(h, dtype=np.float32)


def _rbm_list(stack):
    if isinstance(stack, RBM) or not isinstance(stack, (list, tuple)):
        raise TypeError(f"stack must be a list of RBMs, bottom first; got {type(stack).__name__}.")
    if not stack:
        raise ValueError("stack is empty.")
    for i, r in enumerate(stack):
        if not isinstance(r, RBM):
            raise TypeError(f"stack[{i}] must be an RBM; got {type(r).__name__}.")
    return stack


def dbn_classifier(layer_sizes=None, *, stack=None, n_visible: int = 784, n_classes: int = 10, seed: int = 0):
    """An MLP ``n_visible -> sigmoid layers -> softmax``, from a DBN's weights or from scratch.

    With ``stack`` (a list of RBMs, bottom first), hidden layer ``l`` is
    ``Dense(n_hidden_l, sigmoid)`` initialised with ``W_l`` and the hidden biases
    ``c_l`` of RBM ``l``: the deterministic up-pass of the DBN (Hinton &
    Salakhutdinov, Science 2006, fine-tuning by backpropagation). Without it,
    ``layer_sizes`` gives the widths and Keras' default (Glorot uniform)
    initialisation is used: the baseline. The softmax layer is always new.

    Args:
        layer_sizes: hidden widths, e.g. ``(500, 500)``; with ``stack`` taken from it.
        stack: optional list of RBMs whose weights initialise the hidden layers.
        n_visible: input width.
        n_classes: number of classes of the softmax output.
        seed: seed of the initialisers of the new weights (an int from 0 to 2**32 - 1 - layers).

    Returns:
        An uncompiled ``keras.Model`` mapping ``(batch, n_visible)`` to class
        probabilities ``(batch, n_classes)``; hidden layers named ``hidden_1``, ...

    Raises:
        ValueError: neither or both of ``layer_sizes`` and ``stack``; RBMs whose
            sizes do not chain; non-positive sizes; a negative ``seed``.
        TypeError: ``stack`` not a list of RBMs; non-int sizes or ``seed``.
    """
    import keras

    if (layer_sizes is None) == (stack is None):
        raise ValueError("give exactly one of layer_sizes (random initialisation) and stack (DBN initialisation).")
    seed = _validate.seed(seed)
    if stack is not None:
        _rbm_list(stack)
        n_visible = stack[0].n_visible
        for lower, upper in zip(stack, stack[1:]):
            if upper.n_visible != lower.n_hidden:
                raise ValueError(f"RBMs do not chain: {lower.n_hidden} hidden units feed {upper.n_visible} visible units.")
        sizes = [r.n_hidden for r in stack]
    else:
        sizes = list(_validate.sizes(layer_sizes, "layer_sizes"))
        if not sizes:
            raise ValueError("layer_sizes is empty.")
    if seed + len(sizes) > _validate.MAX_SEED:
        raise ValueError(f"seed must leave room for one seed per layer (seed + {len(sizes)} <= 2**32 - 1); got {seed}.")
    n_visible = _validate.positive_int(n_visible, "n_visible")
    n_classes = _validate.positive_int(n_classes, "n_classes")
    inputs = keras.Input(shape=(n_visible,), name="image")
    h = inputs
    dense = []
    for i, size in enumerate(sizes):
        layer = keras.layers.Dense(size, activation="sigmoid", name=f"hidden_{i + 1}",
                                   kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i))
        h = layer(h)
        dense.append(layer)
    out = keras.layers.Dense(n_classes, activation="softmax", name="classes",
                             kernel_initializer=keras.initializers.GlorotUniform(seed=seed + len(sizes)))(h)
    model = keras.Model(inputs, out, name="dbn_mlp" if stack is not None else "mlp")
    if stack is not None:
        for layer, rbm in zip(dense, stack):
            W, _, c = parameters(rbm)
            layer.set_weights([W.astype(np.float32), c.astype(np.float32)])
    return model
