"""Deep Boltzmann machines in Keras 3: doubled greedy pretraining, mean-field + PCD training, AIS and a bound.

The model of lab 12. A deep Boltzmann machine (DBM; Salakhutdinov & Hinton,
"Deep Boltzmann machines", AISTATS 2009) with binary visible units ``v``
(784 pixels) and two binary hidden layers ``h1``, ``h2`` has the energy::

    E(v, h1, h2) = -v^T W1 h1 - h1^T W2 h2 - b^T v - c1^T h1 - c2^T h2

(lab 09's notation: ``b`` the visible biases, ``c`` hidden biases). Unlike a
deep belief net, every connection is undirected, so ``h1`` listens to ``v``
and to ``h2`` at once: ``p(h1 = 1 | v, h2) = sigmoid(v W1 + h2 W2^T + c1)``.

The layers form a bipartite graph: the odd layers ``(v, h2)`` on one side,
``h1`` on the other. A DBM is therefore an RBM whose "visible" layer is the
concatenation ``(v, h2)`` and whose "hidden" layer is ``h1``, with weights
``[W1; W2^T]`` ``(n_visible + n_hidden2, n_hidden1)``, visible biases
``[b; c2]`` and hidden biases ``c1`` (:func:`as_rbm`). This module uses that
view to reuse lab 09's exact enumeration, annealed importance sampling and Gibbs
chains (:mod:`labutils.rbm`) without new sampling code.

What is new here: :class:`DBM`, a ``keras.Model`` whose ``train_step`` takes
the data statistics from mean-field inference and the model statistics from
persistent Gibbs chains (no autodiff; written once with ``keras.ops``);
:func:`pretrain`, the greedy layer-wise start with the "doubled" RBMs; the
NumPy functions :func:`mean_field`, :func:`variational_bound` (the lower bound
on ``log p(v)`` that the paper reports) and :func:`log_likelihood_exact` for
DBMs small enough to enumerate.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from . import _validate, backends, rbm

__all__ = [
    "MAX_MEAN_FIELD_STEPS",
    "DBM",
    "pretrain",
    "parameters",
    "as_rbm",
    "mean_field",
    "variational_bound",
    "log_partition_exact",
    "ais_log_partition",
    "log_likelihood_exact",
    "gibbs_chains",
]

#: Upper bound of the mean-field iterations (they are unrolled into the training graph).
MAX_MEAN_FIELD_STEPS = 100


def _mean_field_steps(value, name="mean_field_steps"):
    value = _validate.bounded_int(value, name, MAX_MEAN_FIELD_STEPS, "the iterations are unrolled")
    return value


@keras.saving.register_keras_serializable(package="labutils")
class DBM(backends.Model):
    """A two-hidden-layer Bernoulli deep Boltzmann machine trained by mean-field + persistent CD.

    Variables (float32, trainable): ``W1`` ``(n_visible, n_hidden1)`` and
    ``W2`` ``(n_hidden1, n_hidden2)`` (initialised N(0, 0.01^2)), biases ``b``
    ``(n_visible,)``, ``c1`` ``(n_hidden1,)``, ``c2`` ``(n_hidden2,)`` (zeros);
    non-trainable: the persistent chains' visible states ``(n_chains, n_visible)``
    and top-layer states ``(n_chains, n_hidden2)`` in {0, 1}.

    ``call(v)`` returns the mean-field features ``[mu1, mu2]``
    ``(batch, n_hidden1 + n_hidden2)`` float32 in (0, 1), so ``dbm.predict(x)``
    gives features for a classifier.

    Training (Salakhutdinov & Hinton 2009, their Algorithm 1): for a batch
    ``v`` (binarized afresh each step from grey levels in [0, 1]),

    * data statistics from the fully factorised mean-field posterior
      ``q(h1, h2 | v)``: ``mean_field_steps`` fixed-point sweeps of
      ``mu1 = sigmoid(v W1 + mu2 W2^T + c1)``, ``mu2 = sigmoid(mu1 W2 + c2)``,
      started from the bottom-up pass ``mu1 = sigmoid(2 v W1 + c1)``;
    * model statistics from ``k`` sweeps of the persistent chains
      ``h1 ~ p(h1 | v, h2)``, then ``v ~ p(v | h1)`` and ``h2 ~ p(h2 | h1)``
      (the two sides of the bipartite graph), with ``p(h1 | v, h2)`` of the
      final state in place of the ``h1`` sample;
    * the ascent direction ``<v h1^T>_data - <v h1^T>_model`` for ``W1``,
      ``<h1 h2^T>_data - <h1 h2^T>_model`` for ``W2`` (likewise the biases),
      minus ``weight_decay`` times the weights, negated for the optimizer.

    Tracker: ``reconstruction_error``, the mean squared error per pixel between
    ``v`` and ``p(v | h1 = mu1)``.

    Args:
        n_visible, n_hidden1, n_hidden2: layer sizes (positive ints).
        k: Gibbs sweeps of the persistent chains per update (1 to 1000).
        mean_field_steps: mean-field sweeps per batch (1 to :data:`MAX_MEAN_FIELD_STEPS`).
        n_chains: persistent chains (1 to 100,000).
        weight_decay: L2 cost on ``W1`` and ``W2`` (finite, >= 0).
        seed: seed of the model's ``keras.random.SeedGenerator`` (0 to 2**32 - 1, or None).

    Raises:
        TypeError / ValueError: a size, ``k``, ``mean_field_steps`` or
            ``n_chains`` that is not a positive int in range; a negative or
            non-finite ``weight_decay``; a bad ``seed``.
    """

    def __init__(self, n_visible: int = 784, n_hidden1: int = 500, n_hidden2: int = 500, *, k: int = 1,
                 mean_field_steps: int = 10, n_chains: int = 100, weight_decay: float = 0.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.n_visible = _validate.positive_int(n_visible, "n_visible")
        self.n_hidden1 = _validate.positive_int(n_hidden1, "n_hidden1")
        self.n_hidden2 = _validate.positive_int(n_hidden2, "n_hidden2")
        self.k = _validate.bounded_int(k, "k", rbm.MAX_K, "Gibbs sweeps are unrolled into the training graph")
        self.mean_field_steps = _mean_field_steps(mean_field_steps)
        self.n_chains = _validate.bounded_int(n_chains, "n_chains", _validate.MAX_SAMPLES)
        self.weight_decay = _validate.number(weight_decay, "weight_decay", nonnegative=True)
        self.seed = _validate.seed(seed, allow_none=True)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        init = keras.initializers.RandomNormal(stddev=0.01, seed=self.seed)
        self.W1 = self.add_weight(shape=(self.n_visible, self.n_hidden1), name="W1", initializer=init)
        self.W2 = self.add_weight(shape=(self.n_hidden1, self.n_hidden2), name="W2", initializer=init)
        self.b = self.add_weight(shape=(self.n_visible,), name="visible_bias", initializer="zeros")
        self.c1 = self.add_weight(shape=(self.n_hidden1,), name="hidden1_bias", initializer="zeros")
        self.c2 = self.add_weight(shape=(self.n_hidden2,), name="hidden2_bias", initializer="zeros")
        self.chains_v = self.add_weight(shape=(self.n_chains, self.n_visible), name="chains_visible",
                                        initializer="zeros", trainable=False)
        self.chains_h2 = self.add_weight(shape=(self.n_chains, self.n_hidden2), name="chains_hidden2",
                                         initializer="zeros", trainable=False)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_error")
        self.built = True

    # ------------------------------------------------------------ inference in keras.ops
    _bernoulli = rbm.RBM._bernoulli                             # Bernoulli draws from the model's seed generator

    def mean_field(self, v, n_steps: int | None = None):
        """Mean-field posterior ``(mu1, mu2)`` of ``v`` ``(batch, n_visible)`` in [0, 1]: float32 tensors in (0, 1).

        ``n_steps`` sweeps (default ``mean_field_steps``) of ``mu1 = sigmoid(v W1 + mu2 W2^T + c1)``,
        ``mu2 = sigmoid(mu1 W2 + c2)`` from ``mu1 = sigmoid(2 v W1 + c1)`` (Salakhutdinov & Hinton 2009).
        """
        n_steps = self.mean_field_steps if n_steps is None else _mean_field_steps(n_steps, "n_steps")
        bottom_up = ops.matmul(v, self.W1) + self.c1
        mu1 = ops.sigmoid(bottom_up + ops.matmul(v, self.W1))
        mu2 = ops.sigmoid(ops.matmul(mu1, self.W2) + self.c2)
        for _ in range(n_steps):
            mu1 = ops.sigmoid(bottom_up + ops.matmul(mu2, ops.transpose(self.W2)))
            mu2 = ops.sigmoid(ops.matmul(mu1, self.W2) + self.c2)
        return mu1, mu2

    def call(self, inputs):
        mu1, mu2 = self.mean_field(ops.convert_to_tensor(inputs, "float32"))
        return ops.concatenate([mu1, mu2], axis=-1)

    # lab 09's helpers, shared: b from the pixel means, the data check before fit, the batch as a tensor
    set_visible_bias = rbm.RBM.set_visible_bias
    _check_data = rbm.RBM._check_data
    _batch = rbm.RBM._batch

    def init_chains(self, x, seed: int = 0):
        """Start the persistent chains at images: ``v`` binarized from ``x`` ``(n >= n_chains, n_visible)`` in [0, 1]
        (the first ``n_chains`` rows), ``h2`` sampled from its mean-field posterior. Raises ValueError on a bad ``x``."""
        arr = _validate.unit_interval(x, "x")
        if arr.ndim != 2 or arr.shape[1] != self.n_visible or arr.shape[0] < self.n_chains:
            raise ValueError(f"x must be (n >= {self.n_chains}, {self.n_visible}) in [0, 1]; got shape {arr.shape}.")
        rng = np.random.default_rng(_validate.seed(seed))
        v = (rng.random((self.n_chains, self.n_visible)) < arr[:self.n_chains]).astype(np.float32)
        _, mu2 = mean_field(v, parameters(self), n_steps=self.mean_field_steps)
        self.chains_v.assign(v)
        self.chains_h2.assign((rng.random(mu2.shape) < mu2).astype(np.float32))

    # ------------------------------------------------------------ training
    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_data(x)
        return super().fit(x, y, *args, **kwargs)

    def _track(self, v, mu1):
        pv = ops.sigmoid(ops.matmul(mu1, ops.transpose(self.W1)) + self.b)
        self.reconstruction_tracker.update_state(ops.mean(ops.square(v - pv), axis=-1))

    def train_step(self, data):
        v0 = self._bernoulli(self._batch(data))                 # a fresh binarization of the batch
        mu1, mu2 = self.mean_field(v0)                          # data statistics: mean-field q(h | v)
        vm, h2m = self.chains_v, self.chains_h2                 # model statistics: persistent chains
        for _ in range(self.k):
            h1m = self._bernoulli(ops.sigmoid(ops.matmul(vm, self.W1) + ops.matmul(h2m, ops.transpose(self.W2))
                                              + self.c1))
            vm = self._bernoulli(ops.sigmoid(ops.matmul(h1m, ops.transpose(self.W1)) + self.b))
            h2m = self._bernoulli(ops.sigmoid(ops.matmul(h1m, self.W2) + self.c2))
        self.chains_v.assign(vm)
        self.chains_h2.assign(h2m)
        p1m = ops.sigmoid(ops.matmul(vm, self.W1) + ops.matmul(h2m, ops.transpose(self.W2)) + self.c1)
        n = ops.cast(ops.shape(v0)[0], "float32")
        m = ops.cast(ops.shape(vm)[0], "float32")
        d_W1 = ops.matmul(ops.transpose(v0), mu1) / n - ops.matmul(ops.transpose(vm), p1m) / m
        d_W2 = ops.matmul(ops.transpose(mu1), mu2) / n - ops.matmul(ops.transpose(p1m), h2m) / m
        d_b = ops.mean(v0, axis=0) - ops.mean(vm, axis=0)
        d_c1 = ops.mean(mu1, axis=0) - ops.mean(p1m, axis=0)
        d_c2 = ops.mean(mu2, axis=0) - ops.mean(h2m, axis=0)
        if self.weight_decay:
            d_W1 = d_W1 - self.weight_decay * self.W1
            d_W2 = d_W2 - self.weight_decay * self.W2
        self._track(v0, mu1)
        # Keras optimizers minimise: hand them the negated ascent direction
        self.optimizer.apply([-d_W1, -d_W2, -d_b, -d_c1, -d_c2], [self.W1, self.W2, self.b, self.c1, self.c2])
        return {m_.name: m_.result() for m_ in self.metrics}

    def test_step(self, data):
        v0 = self._batch(data)
        mu1, _ = self.mean_field(v0)
        self._track(v0, mu1)
        return {m_.name: m_.result() for m_ in self.metrics}

    @property
    def metrics(self):
        return [self.reconstruction_tracker]

    def get_config(self):
        config = super().get_config()
        config.update({"n_visible": self.n_visible, "n_hidden1": self.n_hidden1, "n_hidden2": self.n_hidden2,
                       "k": self.k, "mean_field_steps": self.mean_field_steps, "n_chains": self.n_chains,
                       "weight_decay": self.weight_decay, "seed": self.seed})
        return config

    def parameters(self):
        """``(W1, W2, b, c1, c2)`` as float64 NumPy arrays (shapes as the variables)."""
        return tuple(np.asarray(ops.convert_to_numpy(p), dtype=np.float64)
                     for p in (self.W1, self.W2, self.b, self.c1, self.c2))


class _DoubledRBM(rbm.RBM):
    """Lab 09's RBM with one direction's input doubled, for :func:`pretrain` (Salakhutdinov & Hinton 2009).

    ``up=2``: ``p(h = 1 | v) = sigmoid(2 v W + c)`` (the bottom RBM: ``v`` counted twice, as ``h1`` will later
    hear both ``v`` and ``h2``); ``down=2``: ``p(v = 1 | h) = sigmoid(2 h W^T + b)`` (the top RBM, whose
    visible layer ``h1`` will hear ``h2`` and ``v``). Training is lab 09's PCD step unchanged; its
    pseudo-likelihood tracker ignores the doubling and is not used.
    """

    def __init__(self, *args, up: int = 1, down: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.up, self.down = float(up), float(down)

    def _hidden_input(self, v):
        return self.up * ops.matmul(v, self.W) + self.c

    def visible_probabilities(self, h):
        return ops.sigmoid(self.down * ops.matmul(h, ops.transpose(self.W)) + self.b)


def pretrain(x, n_hidden1: int, n_hidden2: int, *, steps: int, optimizer_factory, batch_size: int = 100,
             k: int = 1, mean_field_steps: int = 10, n_chains: int = 100, weight_decay: float = 1e-4,
             seed: int = 0, verbose=0) -> DBM:
    """Greedy layer-wise pretraining of a DBM with "doubled" RBMs (Salakhutdinov & Hinton, AISTATS 2009).

    The bottom RBM ``v``-``h1`` is trained by PCD with its bottom-up input
    doubled (``p(h1 | v) = sigmoid(2 v W + c)``), the top RBM ``h1``-``h2`` on
    the bottom one's hidden probabilities with its top-down input doubled.
    Composed into a DBM, ``h1`` receives ``v W1`` from below and ``h2 W2^T``
    from above, each about half of what the doubled RBMs gave it, so the
    states of the composed model are about as decisive as those of each RBM.
    The DBM takes ``W1``, ``b`` from the bottom RBM, ``W2``, ``c2`` from the
    top one, and ``c1`` as the mean of the two biases that ``h1`` had (the
    bottom RBM's hidden and the top RBM's visible biases).

    Args:
        x: ``(n, n_visible)`` float32 in [0, 1]: grey images (binarized afresh each step).
        n_hidden1, n_hidden2: hidden layer sizes.
        steps: PCD updates per RBM (positive int).
        optimizer_factory: ``callable(layer_index) -> keras optimizer``, a fresh one per RBM.
        batch_size: minibatch size.
        k, weight_decay: of the RBMs' PCD; ``mean_field_steps``, ``n_chains``: of the returned DBM.
        seed: RBM ``l`` gets ``seed + l``; the DBM ``seed``.
        verbose: Keras ``fit`` verbosity.

    Returns:
        An uncompiled :class:`DBM` with the composed weights and its persistent chains
        started at images of ``x`` (:meth:`DBM.init_chains`).

    Raises:
        ValueError / TypeError: ``x`` not ``(n, n_visible)`` in [0, 1]; non-positive sizes,
            ``steps`` or ``batch_size``; ``optimizer_factory`` not callable; a bad ``seed``.
    """
    x = _validate.unit_interval(x, "x").astype(np.float32)
    if x.ndim != 2:
        raise ValueError(f"x must be flat (n, n_visible); got shape {x.shape}.")
    n_hidden1 = _validate.positive_int(n_hidden1, "n_hidden1")
    n_hidden2 = _validate.positive_int(n_hidden2, "n_hidden2")
    steps = _validate.bounded_int(steps, "steps", 10_000_000)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    seed = _validate.seed(seed)
    if not callable(optimizer_factory):
        raise TypeError(f"optimizer_factory must be a callable layer_index -> keras optimizer; got "
                        f"{type(optimizer_factory).__name__}.")
    from . import profile

    epochs = profile.epochs_for(steps, n_train=len(x), batch_size=batch_size)
    layers, inputs = [], x
    for layer, (size, up, down) in enumerate(((n_hidden1, 2, 1), (n_hidden2, 1, 2))):
        r = _DoubledRBM(inputs.shape[1], size, up=up, down=down, k=k, persistent=True, n_chains=batch_size,
                        weight_decay=weight_decay, dynamic_binarization=True, seed=seed + layer,
                        name=f"doubled_rbm_{layer + 1}")
        r.set_visible_bias(inputs)
        r.compile(optimizer=optimizer_factory(layer))
        r.fit(inputs, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
        layers.append(r.parameters())
        inputs = r.predict(inputs, batch_size=1000, verbose=0)
    (W1, b, c_low), (W2, b_high, c2) = layers
    model = DBM(x.shape[1], n_hidden1, n_hidden2, k=k, mean_field_steps=mean_field_steps, n_chains=n_chains,
                weight_decay=weight_decay, seed=seed)
    for var, value in zip((model.W1, model.W2, model.b, model.c1, model.c2),
                          (W1, W2, b, 0.5 * (c_low + b_high), c2)):
        var.assign(value.astype(np.float32))
    model.init_chains(x if len(x) >= n_chains else np.resize(x, (n_chains, x.shape[1])), seed=seed)
    return model


# ---------------------------------------------------------------- NumPy: parameters, inference, likelihood

def parameters(model):
    """``(W1, W2, b, c1, c2)`` of a DBM as float64 NumPy arrays.

    Args:
        model: a :class:`DBM` or a tuple ``(W1 (n_v, n_1), W2 (n_1, n_2), b (n_v,), c1 (n_1,), c2 (n_2,))``.

    Raises:
        TypeError: neither. ValueError: shapes that do not fit together, NaN or inf.
    """
    if isinstance(model, DBM):
        return model.parameters()
    if not isinstance(model, (tuple, list)) or len(model) != 5:
        raise TypeError(f"model must be a DBM or a tuple (W1, W2, b, c1, c2); got {type(model).__name__}.")
    W1, W2, b, c1, c2 = (_validate.finite_array(a, n) for a, n in zip(model, ("W1", "W2", "b", "c1", "c2")))
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape[0] != W1.shape[1]:
        raise ValueError(f"W1 (n_visible, n_hidden1) and W2 (n_hidden1, n_hidden2) must chain; got {W1.shape}, "
                         f"{W2.shape}.")
    for name, arr, size in (("b", b, W1.shape[0]), ("c1", c1, W1.shape[1]), ("c2", c2, W2.shape[1])):
        if arr.shape != (size,):
            raise ValueError(f"{name} must have shape ({size},); got {arr.shape}.")
    return W1, W2, b, c1, c2


def as_rbm(model):
    """The DBM as an RBM between ``(v, h2)`` and ``h1`` (the bipartite view; see the module docstring).

    Returns:
        ``(W (n_visible + n_hidden2, n_hidden1), b (n_visible + n_hidden2,), c (n_hidden1,))`` float64,
        for :func:`labutils.rbm.ais_log_partition`, :func:`labutils.rbm.log_partition_exact` and
        :func:`labutils.rbm.gibbs_chains`. Its ``Z`` is the DBM's ``Z``.
    """
    W1, W2, b, c1, c2 = parameters(model)
    return np.concatenate([W1, W2.T]), np.concatenate([b, c2]), c1


def _binary(v, n_visible, name="v"):
    arr = _validate.unit_interval(v, name)
    if arr.ndim != 2 or arr.shape[1] != n_visible:
        raise ValueError(f"{name} must be (n, {n_visible}); got shape {arr.shape}.")
    return arr.astype(np.float64)


def mean_field(v, model, *, n_steps: int = 10):
    """Mean-field posterior ``q(h1, h2 | v) = prod Bernoulli(mu)`` of images, in NumPy (float64).

    ``n_steps`` sweeps of ``mu1 = sigmoid(v W1 + mu2 W2^T + c1)``, ``mu2 = sigmoid(mu1 W2 + c2)`` from the
    doubled bottom-up pass ``mu1 = sigmoid(2 v W1 + c1)``, ``mu2 = sigmoid(mu1 W2 + c2)``
    (Salakhutdinov & Hinton 2009); the same as :meth:`DBM.mean_field`.

    Args:
        v: ``(n, n_visible)`` in [0, 1] (binary images for the bound).
        model: a :class:`DBM` or a parameter tuple (see :func:`parameters`).
        n_steps: sweeps, 0 to :data:`MAX_MEAN_FIELD_STEPS` (0: the bottom-up pass only).

    Returns:
        ``(mu1 (n, n_hidden1), mu2 (n, n_hidden2))`` float64 in (0, 1).

    Raises:
        ValueError / TypeError: ``v`` of the wrong shape or outside [0, 1]; a bad ``n_steps``.
    """
    W1, W2, b, c1, c2 = parameters(model)
    x = _binary(v, W1.shape[0])
    n_steps = _validate.bounded_int(n_steps, "n_steps", MAX_MEAN_FIELD_STEPS) if n_steps != 0 else 0
    bottom_up = x @ W1 + c1
    mu1 = rbm._sigmoid(bottom_up + x @ W1)
    mu2 = rbm._sigmoid(mu1 @ W2 + c2)
    for _ in range(n_steps):
        mu1 = rbm._sigmoid(bottom_up + mu2 @ W2.T)
        mu2 = rbm._sigmoid(mu1 @ W2 + c2)
    return mu1, mu2


def _entropy(mu):
    """Summed Bernoulli entropies ``-sum mu log mu + (1 - mu) log(1 - mu)`` per row, nats (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(np.where(mu > 0, mu * np.log(mu), 0.0) + np.where(mu < 1, (1 - mu) * np.log1p(-mu), 0.0))
    return terms.sum(axis=1)


def variational_bound(v, model, log_z, *, n_steps: int = 10) -> np.ndarray:
    """The mean-field lower bound on ``log p(v)`` per image (Salakhutdinov & Hinton 2009), nats.

    ``log p(v) >= sum_h q(h) (-E(v, h)) + H(q) - log Z``
    ``= v^T W1 mu1 + mu1^T W2 mu2 + b^T v + c1^T mu1 + c2^T mu2 + H(mu1) + H(mu2) - log Z``
    with ``(mu1, mu2)`` from :func:`mean_field`. It holds for any ``q``; mean-field
    makes it tight up to ``KL(q || p(h | v))``. With ``log_z`` from AIS it is an
    estimate: AIS tends to underestimate ``log Z``, which makes the bound optimistic.

    Args:
        v: ``(n, n_visible)`` binary images.
        model: a :class:`DBM` or a parameter tuple.
        log_z: ``log Z`` (a float or a :class:`labutils.rbm.AISResult`).
        n_steps: mean-field sweeps.

    Returns:
        ``float64`` ``(n,)`` nats.

    Raises:
        ValueError / TypeError: as :func:`mean_field`; non-binary ``v``; a non-finite ``log_z``.
    """
    W1, W2, b, c1, c2 = params = parameters(model)
    x = _binary(v, W1.shape[0])
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("v must be binary (0/1) images: the DBM's likelihood is defined for binary visible units.")
    log_z = _log_z(log_z)
    mu1, mu2 = mean_field(x, params, n_steps=n_steps)
    neg_energy = (np.einsum("ni,ij,nj->n", x, W1, mu1) + np.einsum("ni,ij,nj->n", mu1, W2, mu2)
                  + x @ b + mu1 @ c1 + mu2 @ c2)
    return neg_energy + _entropy(mu1) + _entropy(mu2) - log_z


def _log_z(log_z):
    if isinstance(log_z, rbm.AISResult):
        log_z = log_z.log_z
    if isinstance(log_z, bool) or not isinstance(log_z, (int, float, np.integer, np.floating)):
        raise TypeError(f"log_z must be a number or an AISResult; got {log_z!r} ({type(log_z).__name__}).")
    if not math.isfinite(log_z):
        raise ValueError(f"log_z must be finite; got {log_z}.")
    return float(log_z)


def log_partition_exact(model) -> float:
    """Exact ``log Z`` of a small DBM, nats: ``h1`` enumerated (at most ``rbm.EXACT_MAX_UNITS`` units), ``v`` and
    ``h2`` summed out analytically (:func:`labutils.rbm.log_partition_exact` on :func:`as_rbm`). Raises ValueError
    when ``h1`` (and ``(v, h2)``) are too large to enumerate."""
    return rbm.log_partition_exact(*as_rbm(model))


def ais_log_partition(model, *, base_visible_bias, n_betas: int = 14500, n_runs: int = 100,
                      seed: int = 0) -> rbm.AISResult:
    """``log Z`` of a DBM by annealed importance sampling (Salakhutdinov & Murray 2008; Salakhutdinov & Hinton 2009).

    Lab 09's :func:`labutils.rbm.ais_log_partition` run on the RBM view :func:`as_rbm`: the chains anneal
    ``(v, h2)`` and ``h1`` from the base-rate model (pixels independent with biases ``base_visible_bias``,
    ``h2`` and ``h1`` uniform) to the DBM; one Gibbs sweep ``(v, h2) -> h1 -> (v, h2)`` per temperature.

    Args:
        model: a :class:`DBM` or a parameter tuple.
        base_visible_bias: ``(n_visible,)`` pixel log-odds of the base model (e.g.
            :func:`labutils.metrics.base_rate_visible_bias` of the training images).
        n_betas, n_runs, seed: as :func:`labutils.rbm.ais_log_partition`.

    Returns:
        :class:`labutils.rbm.AISResult` (``log_z`` and its ±3-sigma band in nats).

    Raises:
        ValueError / TypeError: as :func:`labutils.rbm.ais_log_partition`; ``base_visible_bias`` not ``(n_visible,)``.
    """
    W, b, c = as_rbm(model)
    n_visible = W.shape[0] - parameters(model)[1].shape[1]
    base = _validate.finite_array(base_visible_bias, "base_visible_bias")
    if base.shape != (n_visible,):
        raise ValueError(f"base_visible_bias must have shape ({n_visible},); got {base.shape}.")
    base = np.concatenate([base, np.zeros(W.shape[0] - n_visible)])
    return rbm.ais_log_partition(W, b, c, base_visible_bias=base, n_betas=n_betas, n_runs=n_runs, seed=seed)


def log_likelihood_exact(v, model) -> np.ndarray:
    """Exact ``log p(v)`` of binary images under a DBM small enough to enumerate ``h1`` (at most 20 units), nats.

    ``log p(v) = b^T v + log sum_h1 exp(v^T W1 h1 + c1^T h1 + sum_k softplus(c2_k + (h1 W2)_k)) - log Z``.

    Returns:
        ``float64`` ``(n,)``, nats (<= 0).

    Raises:
        ValueError: more than 20 units in ``h1``; ``v`` not binary ``(n, n_visible)``.
    """
    from scipy.special import logsumexp

    W1, W2, b, c1, c2 = params = parameters(model)
    if W1.shape[1] > 20:
        raise ValueError(f"exact log p(v) enumerates h1: at most 20 units; this DBM has {W1.shape[1]}.")
    x = _binary(v, W1.shape[0])
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("v must be binary (0/1) images.")
    m = W1.shape[1]
    H = ((np.arange(1 << m)[:, None] >> np.arange(m)) & 1).astype(np.float64)   # (2^m, m)
    per_h = H @ c1 + rbm._softplus(H @ W2 + c2).sum(axis=1)                   # (2^m,)
    return x @ b + logsumexp(x @ W1 @ H.T + per_h, axis=1) - log_partition_exact(params)


def gibbs_chains(model, start, n_steps: int, *, record_every: int = 1, seed: int = 0) -> np.ndarray:
    """Gibbs chains of a DBM, ``(v, h2) -> h1 -> (v, h2)``, recorded as ``p(v = 1 | h1)`` for pictures.

    :func:`labutils.rbm.gibbs_chains` on the RBM view :func:`as_rbm`; the top layer starts at 0.5.

    Args:
        model: a :class:`DBM` or a parameter tuple.
        start: ``(n_chains, n_visible)`` in [0, 1], the first visible states (used as given).
        n_steps, record_every, seed: as :func:`labutils.rbm.gibbs_chains`.

    Returns:
        ``float32`` ``(n_chains, 1 + n_steps // record_every, n_visible)`` in [0, 1]; frame 0 is ``start``.

    Raises:
        ValueError / TypeError: as :func:`labutils.rbm.gibbs_chains`.
    """
    W, b, c = as_rbm(model)
    n_visible = W.shape[0] - parameters(model)[1].shape[1]
    v = _binary(start, n_visible, "start")
    full = np.concatenate([v, np.full((v.shape[0], W.shape[0] - n_visible), 0.5)], axis=1)
    return rbm.gibbs_chains((W, b, c), full, n_steps, record_every=record_every, seed=seed)[:, :, :n_visible]
