"""Everything that differs between Keras 3's backends (TensorFlow, JAX, PyTorch), in one place.

The labs' models are written once, with ``keras.ops``: the loss, the sampling,
the update. Only three things need the backend's own machinery, and this module
holds each of them once:

- **gradients** of a loss with respect to some variables (:func:`value_and_grad`):
  ``tf.GradientTape`` on TensorFlow, ``torch.autograd.grad`` on PyTorch,
  ``jax.value_and_grad`` on JAX;
- **a stateful ``train_step`` under JAX** (:class:`Model`): JAX's trainer passes
  the model's state in and expects the new state back, so the step runs inside a
  ``keras.StatelessScope`` that maps every variable to its value in that state and
  collects the assignments (the approach Keras' own JAX trainer takes for its
  metrics); on TensorFlow and PyTorch the same code simply runs;
- **input Jacobians** (:func:`jacobian_squared_norm`), for the contractive penalty
  measured by automatic differentiation.

Everything else in ``labutils`` is backend-free: it uses ``keras.ops`` and
converts tensors with ``keras.ops.convert_to_numpy``.
"""

from __future__ import annotations

import functools

import keras
import numpy as np

__all__ = ["name", "value_and_grad", "Model", "OptimizerGroup", "jacobian_squared_norm", "BACKENDS"]

BACKENDS = ("tensorflow", "jax", "torch")


def name() -> str:
    """The Keras backend this process runs on: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def value_and_grad(loss_fn, variables, *, watch=()):
    """Run ``loss_fn()`` and differentiate its loss with respect to ``variables``.

    ``loss_fn`` takes no argument and returns ``(loss, aux)``: a scalar tensor and
    anything else to hand back (metrics' inputs, intermediate tensors). It may
    read any model variable and assign non-trainable ones (batch-norm statistics,
    random seed states); those assignments take effect as if it had run eagerly.

    Args:
        loss_fn: ``() -> (loss, aux)``.
        variables: the ``keras.Variable`` s to differentiate with respect to (e.g.
            ``model.discriminator.trainable_variables``).
        watch: on JAX, every other variable ``loss_fn`` may read or assign (a
            model's ``variables``); ignored on TensorFlow and PyTorch.

    Returns:
        ``(loss, aux, grads)``, ``grads`` a list in the order of ``variables`` (a
        zero tensor where the loss does not depend on a variable).

    Raises:
        TypeError: ``variables`` holds something that is not a ``keras.Variable``.
    """
    variables = list(variables)
    for v in variables:
        if not isinstance(v, keras.Variable):
            raise TypeError(f"variables must be keras.Variable objects; got {type(v).__name__}.")
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss, aux = loss_fn()
        grads = tape.gradient(loss, variables)
        grads = [keras.ops.zeros_like(v) if g is None else g for v, g in zip(variables, grads)]
        return loss, aux, grads
    if backend == "torch":
        import torch

        loss, aux = loss_fn()
        grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
        grads = [torch.zeros_like(v.value) if g is None else g for v, g in zip(variables, grads)]
        return loss, aux, grads
    if backend == "jax":
        return _jax_value_and_grad(loss_fn, variables, watch)
    raise RuntimeError(f"labutils supports the backends {BACKENDS}; this process runs on {backend!r}.")


def _jax_value_and_grad(loss_fn, variables, watch):
    import jax

    seen = {id(v) for v in variables}
    others = []
    for v in watch:  # every watched variable once, the differentiated ones excluded
        if id(v) not in seen:
            seen.add(id(v))
            others.append(v)
    # read every value now: inside the caller's StatelessScope these are the values of this step
    other_values = [v.value for v in others]

    def pure(values):
        mapping = list(zip(variables, values)) + list(zip(others, other_values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, aux = loss_fn()
        updates = [scope.get_current_value(v) for v in others]
        return loss, (aux, updates)

    (loss, (aux, updates)), grads = jax.value_and_grad(pure, has_aux=True)([v.value for v in variables])
    for v, old, new in zip(others, other_values, updates):
        if new is not None and new is not old and not v.trainable:
            v.assign(new)
    return loss, aux, list(grads)


class Model(keras.Model):
    """A ``keras.Model`` whose ``train_step(data)`` and ``test_step(data)`` run on every backend.

    Write the steps once, statefully, as Keras' TensorFlow and PyTorch guides do:
    compute the loss with ``keras.ops``, get gradients from :func:`value_and_grad`,
    call ``optimizer.apply``, update metrics, assign variables, return the logs.
    TensorFlow and PyTorch call them as they are. JAX's trainer is stateless: it
    calls ``train_step(state, data)`` and expects ``(logs, new_state)``; for it,
    this class wraps each step so that it runs inside a ``keras.StatelessScope``
    mapping every variable (model, optimizers, metrics) to its value in ``state``
    and returns the values the step assigned (Keras' own JAX trainer updates its
    metrics the same way). ``inspect.getsource(cls.train_step)`` still shows the
    step as written.

    A model with more than one optimizer sets ``self.optimizer =
    OptimizerGroup([...])`` after ``compile`` so that all their variables travel
    in the optimizer state of JAX's trainer.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for step in ("train_step", "test_step"):
            fn = cls.__dict__.get(step)
            if fn is not None and not hasattr(fn, "__wrapped__"):
                setattr(cls, step, _any_backend(fn, training=step == "train_step"))

    def _state_groups(self, training):
        # the same lists, in the same order, as Keras' JAX trainer builds its state from
        if training:
            optimizer_variables = list(self.optimizer.variables) if self.optimizer is not None else []
            return [self.trainable_variables, self.non_trainable_variables, optimizer_variables,
                    self.metrics_variables]
        return [self.trainable_variables, self.non_trainable_variables, self.metrics_variables]


class OptimizerGroup:
    """Several optimizers seen by Keras' trainers as one ``model.optimizer``.

    A GAN applies one optimizer per network inside its ``train_step``; Keras'
    JAX trainer carries ``model.optimizer.variables`` from step to step, so they
    must be every optimizer's variables. The group only lists them; each
    optimizer still applies its own gradients and is saved as the model's own
    attribute (this object is not saved).
    """

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)
        for opt in self.optimizers:
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise TypeError(f"optimizers must be keras optimizers; got {type(opt).__name__}.")

    @property
    def variables(self):
        return [v for opt in self.optimizers for v in opt.variables]

    @property
    def built(self):
        return all(opt.built for opt in self.optimizers)

    @property
    def iterations(self):
        return self.optimizers[-1].iterations

    def build(self, variables):  # each optimizer is built for its own network's variables
        if not self.built:
            raise ValueError("build each optimizer of an OptimizerGroup for its own variables first.")

    def finalize_variable_values(self, variables):
        return None


def _any_backend(step, training):
    @functools.wraps(step)
    def run(self, *args):
        if len(args) == 2 and name() == "jax":
            state, data = args
            return _run_stateless(self._state_groups(training), state, lambda: step(self, data))
        return step(self, *args)

    return run


def _run_stateless(groups, values, step):
    mapping = []
    for group, vals in zip(groups, values):
        if len(group) != len(vals):  # e.g. a second optimizer that is not in model.optimizer
            raise RuntimeError(f"JAX's trainer passed {len(vals)} state values where the model has {len(group)} "
                               "variables; a model with several optimizers must set model.optimizer = "
                               "OptimizerGroup([...]) after compile.")
        mapping.extend(zip(group, vals))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step()
    new_state = []
    for group, vals in zip(groups, values):
        new = []
        for v, old in zip(group, vals):
            current = scope.get_current_value(v)
            new.append(old if current is None else current)
        new_state.append(new)
    return logs, tuple(new_state)


def jacobian_squared_norm(fn, x) -> np.ndarray:
    """``||J(x)||_F^2`` of ``fn`` at each row of ``x``, by automatic differentiation.

    ``fn`` maps ``(batch, d)`` to ``(batch, units)`` row by row (no interaction
    between rows: a Keras model in inference mode). The squared Frobenius norm of
    the ``(units, d)`` Jacobian of each row is the sum over units ``j`` of
    ``||d fn_j / d x||^2``; each of the ``units`` gradients of ``sum_rows fn_j``
    gives row ``j`` of every example's Jacobian at once.

    Args:
        fn: a callable ``(batch, d) -> (batch, units)`` written with Keras layers or ``keras.ops``.
        x: ``(batch, d)`` float32 NumPy array.

    Returns:
        ``float64`` ``(batch,)``.
    """
    x = np.asarray(x, dtype=np.float32)
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            h = fn(xt)
        jac = tape.batch_jacobian(h, xt)
        return tf.reduce_sum(tf.square(jac), axis=[1, 2]).numpy().astype(np.float64)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def one(xi):
            return fn(xi[None])[0]

        jac = jax.vmap(jax.jacrev(one))(jnp.asarray(x))
        return np.asarray(jnp.sum(jnp.square(jac), axis=(1, 2)), dtype=np.float64)
    if backend == "torch":
        import torch

        xt = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        h = fn(xt)
        total = torch.zeros(x.shape[0], dtype=torch.float64, device=xt.device)
        for j in range(h.shape[1]):
            (g,) = torch.autograd.grad(h[:, j].sum(), xt, retain_graph=j + 1 < h.shape[1])
            total += g.double().square().sum(dim=1)
        return total.cpu().numpy()
    raise RuntimeError(f"labutils supports the backends {BACKENDS}; this process runs on {backend!r}.")
