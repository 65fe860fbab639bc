"""Tests for labutils.backends: gradients, stateful steps under JAX, input Jacobians, on the backend that runs.

Run them on each backend with ``make unit BACKEND=jax`` (or ``torch``); CI does.
"""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras import ops  # noqa: E402

from labutils import backends, gan, vae  # noqa: E402


def test_name_is_the_keras_backend():
    assert backends.name() == keras.backend.backend()
    assert backends.name() in backends.BACKENDS


def test_value_and_grad_of_a_quadratic():
    w = keras.Variable(np.array([1.0, -2.0, 3.0], np.float32), name="w")
    unused = keras.Variable(np.ones(2, np.float32), name="unused")
    target = np.array([0.5, 0.5, 0.5], np.float32)

    def loss_fn():
        diff = w - target
        return ops.sum(diff * diff), ops.mean(w)

    loss, aux, (g_w, g_unused) = backends.value_and_grad(loss_fn, [w, unused], watch=[w, unused])
    assert float(ops.convert_to_numpy(loss)) == pytest.approx(0.25 + 6.25 + 6.25)
    assert float(ops.convert_to_numpy(aux)) == pytest.approx(2.0 / 3.0)
    np.testing.assert_allclose(ops.convert_to_numpy(g_w), 2 * (np.array([1.0, -2.0, 3.0]) - 0.5), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(g_unused), np.zeros(2))  # a zero, not None


def test_value_and_grad_rejects_what_is_not_a_variable():
    with pytest.raises(TypeError, match="keras.Variable"):
        backends.value_and_grad(lambda: (0.0, None), [np.zeros(3)])


def test_jacobian_squared_norm_of_a_sigmoid_layer_matches_the_closed_form():
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.3, (6, 4)).astype(np.float32)
    b = rng.normal(0, 0.1, 4).astype(np.float32)
    x = rng.random((5, 6)).astype(np.float32)
    h = 1 / (1 + np.exp(-(x.astype(np.float64) @ W + b)))
    expected = np.sum((h * (1 - h)) ** 2 * np.sum(W.astype(np.float64) ** 2, axis=0), axis=1)
    got = backends.jacobian_squared_norm(lambda t: ops.sigmoid(ops.add(ops.matmul(t, W), b)), x)
    assert got.shape == (5,) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-4)


class _Counter(backends.Model):
    """A model whose train_step draws noise, assigns a non-trainable variable and applies a hand-made gradient."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = self.add_weight(shape=(3,), initializer="zeros", name="w")
        self.steps = self.add_weight(shape=(), initializer="zeros", trainable=False, name="steps")
        self.last_noise = self.add_weight(shape=(3,), initializer="zeros", trainable=False, name="last_noise")
        self.seed_generator = keras.random.SeedGenerator(0)
        self.tracker = keras.metrics.Mean(name="noise_mean")

    def call(self, x):
        return x + self.w

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        noise = keras.random.normal((3,), seed=self.seed_generator)
        self.last_noise.assign(noise)
        self.steps.assign(self.steps + 1.0)
        loss, _, grads = backends.value_and_grad(lambda: (ops.sum(ops.square(self.w - 1.0)), None),
                                                 [self.w], watch=self.variables)
        self.optimizer.apply(grads, [self.w])
        self.tracker.update_state(ops.mean(noise))
        return {"noise_mean": self.tracker.result(), "loss": loss}


def test_a_stateful_train_step_keeps_its_state_on_every_backend():
    model = _Counter()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    x = np.zeros((8, 3), np.float32)
    model.fit(x, epochs=2, batch_size=4, verbose=0)  # 4 steps
    assert float(model.steps.numpy()) == 4.0  # every assignment came back from JAX's stateless trainer
    assert int(model.optimizer.iterations.numpy()) == 4
    # w follows gradient descent on (w - 1)^2 with lr 0.1: 1 - 0.8^4
    np.testing.assert_allclose(model.w.numpy(), 1 - 0.8 ** 4, rtol=1e-5)
    first = model.last_noise.numpy().copy()
    model.fit(x[:4], epochs=1, batch_size=4, verbose=0)
    assert not np.allclose(model.last_noise.numpy(), first)  # the seed state advanced: fresh noise each step


def test_the_source_of_a_wrapped_step_is_the_step_as_written():
    import inspect

    source = inspect.getsource(_Counter.train_step)
    assert source.lstrip().startswith("def train_step(self, data):")
    assert "self.last_noise.assign(noise)" in source


def test_optimizer_group_lists_every_variable_and_rejects_non_optimizers():
    a, b = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    va, vb = keras.Variable(np.zeros(2, np.float32)), keras.Variable(np.zeros(3, np.float32))
    a.build([va])
    b.build([vb])
    group = backends.OptimizerGroup([a, b])
    assert group.built
    assert [id(v) for v in group.variables] == [id(v) for v in a.variables + b.variables]
    with pytest.raises(TypeError, match="keras optimizers"):
        backends.OptimizerGroup([a, "adam"])


def test_gan_training_advances_both_optimizers_and_moves_both_networks():
    model = gan.build_gan(8, g_filters=(8, 4), d_filters=(4, 8), seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype(np.float32)
    g_before = [v.numpy().copy() for v in model.generator.trainable_variables]
    d_before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    assert int(model.d_optimizer.iterations.numpy()) == 2 and int(model.g_optimizer.iterations.numpy()) == 2
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(g_before, model.generator.trainable_variables))
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(d_before, model.discriminator.trainable_variables))


def test_vae_step_draws_fresh_noise_each_batch():
    """Two epochs on one batch: with the seed state carried between steps, the sampled losses differ."""
    model = vae.build_vae(4, hidden_units=(16,), seed=0, learning_rate=1e-12)  # learning rate ~0: only the noise moves
    x = (np.random.default_rng(1).random((16, 784)) < 0.3).astype(np.float32)
    history = model.fit(x, epochs=3, batch_size=16, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert len(set(round(v, 6) for v in losses)) == 3


_LOAD_ELSEWHERE = """
import sys, numpy as np, keras
import labutils.vae, labutils.gan, labutils.rbm, labutils.autoencoders  # registers the classes
folder = sys.argv[1]
for name in ("vae", "gan", "rbm", "contractive"):
    model = keras.models.load_model(f"{folder}/{name}.keras", safe_mode=True)
    x = np.load(f"{folder}/{name}_in.npy")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), np.load(f"{folder}/{name}_out.npy"),
                               rtol=1e-4, atol=1e-5)
print("loaded", keras.backend.backend())
"""


def _other_backends():
    import importlib.util

    installed = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
    return [b for b in backends.BACKENDS if b != backends.name() and importlib.util.find_spec(installed[b])]


def test_saved_models_load_on_this_backend_and_on_every_other_installed_one(tmp_path):
    import os
    import subprocess
    import sys

    from labutils import autoencoders, rbm

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    flat = (rng.random((4, 784)) < 0.3).astype(np.float32)
    models = {
        "vae": (vae.build_vae(4, hidden_units=(16,), seed=0), flat),
        "gan": (gan.build_gan(8, g_filters=(8, 4), d_filters=(4, 8), seed=0), rng.normal(size=(4, 8)).astype(np.float32)),
        "rbm": (rbm.RBM(784, 8, seed=0), flat),
        "contractive": (autoencoders.build_contractive_autoencoder(784, 8), flat),
    }
    models["rbm"][0].compile(optimizer=keras.optimizers.SGD(0.1))
    for name, (model, x) in models.items():
        model.fit(*((flat,) if name != "gan" else (rng.uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32),)),
                  epochs=1, batch_size=4, verbose=0)
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}_in.npy", x)
        np.save(tmp_path / f"{name}_out.npy", keras.ops.convert_to_numpy(model(x)))
    for backend in [backends.name()] + _other_backends():
        env = dict(os.environ, KERAS_BACKEND=backend)
        done = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(tmp_path)], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"saved on {backends.name()}, loading on {backend} failed:\n{done.stderr[-3000:]}"
        assert f"loaded {backend}" in done.stdout
