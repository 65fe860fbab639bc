"""Tests for labutils.rbm: the Keras RBM (CD-k, persistent CD, trackers, serialisation), Gibbs chains,
filters, the free-energy figure, the deep-belief-net helpers, and the likelihoods: free energy, pseudo-likelihood,
exact log partition function, AIS schedule and estimate, log-likelihood."""
from __future__ import annotations

import inspect
import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp

keras = pytest.importorskip("keras")

from labutils import metrics, rbm  # noqa: E402


def sgd(lr=1.0):
    return keras.optimizers.SGD(learning_rate=lr, momentum=0.0)


def binary(n, d, p=0.3, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < p).astype(np.float32)


def one_step(model, v):
    """Apply one train_step to the batch v with SGD(lr=1); return the parameter changes."""
    before = [p.copy() for p in model.parameters()]
    model.compile(optimizer=sgd())
    model.fit(v, epochs=1, batch_size=len(v), shuffle=False, verbose=0)
    return [a - b for a, b in zip(model.parameters(), before)]


# ---------------------------------------------------------------- the update

@pytest.mark.parametrize("persistent", [False, True])
def test_update_is_data_statistics_minus_model_statistics(persistent):
    """With visible biases of -60 every negative-phase sample is the all-zero image, so the model
    statistics are known exactly: <v h>_model = 0, <v>_model = 0, <h>_model = sigmoid(c)."""
    model = rbm.RBM(12, 5, k=2, persistent=persistent, n_chains=7, weight_decay=0.01, seed=0)
    rng = np.random.default_rng(1)
    W0 = rng.normal(0, 0.1, (12, 5)).astype(np.float32)
    c0 = rng.normal(0, 1, 5).astype(np.float32)
    model.W.assign(W0)
    model.b.assign(np.full(12, -60.0, np.float32))
    model.c.assign(c0)
    v = binary(20, 12, seed=2)
    dW, db, dc = one_step(model, v)
    ph = 1 / (1 + np.exp(-(v @ W0 + c0)))
    np.testing.assert_allclose(dW, v.T @ ph / 20 - 0.01 * W0, atol=1e-5)
    np.testing.assert_allclose(db, v.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(dc, ph.mean(axis=0) - 1 / (1 + np.exp(-c0)), atol=1e-5)
    if persistent:
        chains = keras.ops.convert_to_numpy(model.chains)
        assert chains.shape == (7, 12) and not chains.any()


def test_momentum_comes_from_the_optimizer():
    model = rbm.RBM(6, 3, seed=0)
    model.b.assign(np.full(6, -60.0, np.float32))
    v = np.ones((4, 6), np.float32)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9))
    model.fit(v, epochs=2, batch_size=4, verbose=0)
    # db = mean(v) - 0 = 1 at every step: velocity 1, then 1.9 -> b rises by 0.1 * 2.9
    np.testing.assert_allclose(model.parameters()[1], -60.0 + 0.29, atol=1e-4)


def test_dynamic_binarization_samples_each_batch():
    model = rbm.RBM(50, 4, dynamic_binarization=True, seed=0)
    model.b.assign(np.full(50, -60.0, np.float32))
    db = one_step(model, np.full((100, 50), 0.5, np.float32))[1]
    counts = db * 100  # the means of 100 binary samples are multiples of 1/100
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)
    assert 0.35 < db.mean() < 0.65 and db.std() > 0.01
    # without it the grey values are used as they are
    plain = rbm.RBM(50, 4, seed=0)
    plain.b.assign(np.full(50, -60.0, np.float32))
    np.testing.assert_allclose(one_step(plain, np.full((100, 50), 0.5, np.float32))[1], 0.5, atol=1e-6)


def _noisy_prototypes(seed=0):
    """300 images of 12 pixels: three random prototypes, each pixel flipped with probability 0.1.
    The entropy of this distribution is about 12 H(0.1) + log 3 = 5.0 nats."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((3, 12)) < 0.5).astype(np.float32)
    x = protos[rng.integers(0, 3, 300)]
    return np.abs(x - (rng.random(x.shape) < 0.1)).astype(np.float32)


def _exact_mean_log_likelihood(x, params):
    return rbm.log_likelihood(x, *params, rbm.log_partition_exact(*params)).mean()


def _train_on_prototypes(persistent, epochs=50, seed=0):
    keras.utils.set_random_seed(seed)
    x = _noisy_prototypes()
    model = rbm.RBM(12, 6, k=1, persistent=persistent, n_chains=20, seed=seed)
    before = _exact_mean_log_likelihood(x, model.parameters())
    schedule = keras.optimizers.schedules.PolynomialDecay(0.1, epochs * 30, 0.0)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=0.5))
    history = model.fit(x, epochs=epochs, batch_size=10, verbose=0)
    return x, before, _exact_mean_log_likelihood(x, model.parameters()), history, model


@pytest.mark.parametrize("persistent", [False, True])
def test_training_raises_the_exact_log_likelihood(persistent):
    x, before, after, history, _ = _train_on_prototypes(persistent)
    base = metrics.base_rate_visible_bias(x)
    independent = _exact_mean_log_likelihood(x, (np.zeros((12, 1)), base, np.zeros(1)))
    assert before == pytest.approx(-12 * np.log(2), abs=0.05)  # near-uniform over 2^12 images at the start
    assert independent < -6.0
    # CD-1 and PCD-1 get close to the data's entropy (5.0 nats), far above independent pixels
    assert after > -5.4, (after, independent)
    rec = history.history["reconstruction_error"]
    assert rec[-1] < 0.7 * rec[0]
    assert history.history["pseudo_likelihood"][-1] > history.history["pseudo_likelihood"][0]


def test_persistent_chains_are_non_trainable_state_that_moves():
    *_, model = _train_on_prototypes(True, epochs=2)
    assert model.chains in model.non_trainable_variables
    assert all(v is not model.chains for v in model.trainable_variables)
    chains = keras.ops.convert_to_numpy(model.chains)
    assert set(np.unique(chains)) <= {0.0, 1.0} and chains.any()
    assert rbm.RBM(12, 4).chains is None


def test_no_autodiff_in_the_rbm():
    source = inspect.getsource(rbm)
    assert "GradientTape" not in source and ".gradient(" not in source and "jax.grad" not in source


# ---------------------------------------------------------------- trackers

def test_trackers_on_a_known_model():
    """W = 0 and b = -60: reconstructions are all zero, so the error is mean(v); with one visible unit
    the pseudo-likelihood is the exact log-likelihood."""
    model = rbm.RBM(8, 3, seed=0)
    model.b.assign(np.full(8, -60.0, np.float32))
    model.W.assign(np.zeros((8, 3), np.float32))
    model.compile(optimizer=sgd(0.0))
    v = binary(40, 8, seed=5)
    logs = model.evaluate(v, batch_size=40, verbose=0, return_dict=True)
    assert logs["reconstruction_error"] == pytest.approx(v.mean(), abs=1e-6)

    single = rbm.RBM(1, 3, seed=0)
    rng = np.random.default_rng(0)
    params = (rng.normal(0, 1, (1, 3)), rng.normal(0, 1, 1), rng.normal(0, 1, 3))
    for var, value in zip((single.W, single.b, single.c), params):
        var.assign(value.astype(np.float32))
    single.compile(optimizer=sgd(0.0))
    v1 = np.array([[0.0], [1.0], [1.0], [1.0]], np.float32)
    logs = single.evaluate(v1, batch_size=4, verbose=0, return_dict=True)
    exact = rbm.log_likelihood(v1, *params, rbm.log_partition_exact(*params)).mean()
    assert logs["pseudo_likelihood"] == pytest.approx(exact, abs=1e-4)


def test_pseudo_likelihood_tracker_agrees_with_metrics_on_average():
    rng = np.random.default_rng(3)
    params = (rng.normal(0, 0.5, (10, 4)), rng.normal(-0.5, 1, 10), rng.normal(0, 1, 4))
    model = rbm.RBM(10, 4, seed=0)
    for var, value in zip((model.W, model.b, model.c), params):
        var.assign(value.astype(np.float32))
    model.compile(optimizer=sgd(0.0))
    v = np.repeat(binary(5, 10, seed=1), 4000, axis=0)
    tracked = model.evaluate(v, batch_size=20000, verbose=0, return_dict=True)["pseudo_likelihood"]
    # expectation over the flipped pixel, computed exactly: PL(v) = n * mean_i log sigmoid(F(v^i) - F(v))
    fe = rbm.free_energy(v[::4000], *params)
    expected, variances = [], []
    for row, f in zip(v[::4000], fe):
        flips = np.repeat(row[None], 10, axis=0)
        flips[np.arange(10), np.arange(10)] = 1 - flips[np.arange(10), np.arange(10)]
        terms = 10 * -np.logaddexp(0, -(rbm.free_energy(flips, *params) - f))  # one value per flipped pixel
        expected.append(terms.mean())
        variances.append(terms.var())
    # the tracker draws one pixel per row: its mean over 20,000 rows has this standard error
    standard_error = np.sqrt(np.mean(variances) / len(v))
    assert tracked == pytest.approx(np.mean(expected), abs=4 * standard_error)
    assert 4 * standard_error < 0.5  # the check is tight enough to catch a wrong formula


def test_history_has_both_trackers_and_validation():
    model = rbm.RBM(16, 4, persistent=True, n_chains=10, seed=0)
    model.compile(optimizer=sgd(0.05))
    x = binary(40, 16)
    history = model.fit(x, epochs=2, batch_size=10, validation_data=x[:20], verbose=0)
    assert {"reconstruction_error", "pseudo_likelihood", "val_reconstruction_error",
            "val_pseudo_likelihood"} <= set(history.history)


# ---------------------------------------------------------------- model API

def test_call_free_energy_and_parameters():
    model = rbm.RBM(20, 7, seed=0)
    model.c.assign(np.linspace(-1, 1, 7).astype(np.float32))
    v = binary(5, 20)
    h = keras.ops.convert_to_numpy(model(v))
    W, b, c = model.parameters()
    assert W.shape == (20, 7) and b.shape == (20,) and c.shape == (7,) and W.dtype == np.float64
    np.testing.assert_allclose(h, 1 / (1 + np.exp(-(v @ W + c))), rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.free_energy(v)),
                               rbm.free_energy(v, W, b, c), rtol=1e-5)
    assert 0.005 < W.std() < 0.015  # N(0, 0.01^2) initialisation


def test_set_visible_bias_from_pixel_means():
    model = rbm.RBM(3, 2)
    x = np.array([[1, 0, 0.5], [1, 1, 0.5]], np.float32)
    model.set_visible_bias(x)
    np.testing.assert_allclose(model.parameters()[1], metrics.base_rate_visible_bias(x), rtol=1e-6)


def test_save_and_load_with_safe_mode(tmp_path):
    model = rbm.RBM(10, 3, k=3, persistent=True, n_chains=5, weight_decay=1e-3, dynamic_binarization=True, seed=4)
    model.compile(optimizer=sgd(0.1))
    model.fit(binary(20, 10), epochs=1, batch_size=10, verbose=0)
    path = tmp_path / "rbm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert isinstance(loaded, rbm.RBM)
    assert (loaded.k, loaded.persistent, loaded.n_chains, loaded.weight_decay, loaded.dynamic_binarization) == \
        (3, True, 5, 1e-3, True)
    for a, b in zip(loaded.parameters(), model.parameters()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded.chains), keras.ops.convert_to_numpy(model.chains))


@pytest.mark.parametrize("kwargs, err", [
    (dict(n_visible=0), ValueError), (dict(n_hidden=2.5), TypeError), (dict(k=0), ValueError),
    (dict(n_chains=-1), ValueError), (dict(weight_decay=-0.1), ValueError), (dict(weight_decay="0"), TypeError),
    (dict(weight_decay=float("inf")), ValueError),
])
def test_constructor_errors(kwargs, err):
    args = dict(n_visible=4, n_hidden=3)
    args.update(kwargs)
    with pytest.raises(err):
        rbm.RBM(**args)


def test_parameters_of_sklearn_and_tuples():
    from sklearn.neural_network import BernoulliRBM

    sk = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(binary(20, 8))
    W, b, c = rbm.parameters(sk)
    assert W.shape == (8, 3) and b.shape == (8,) and c.shape == (3,)
    np.testing.assert_array_equal(W, sk.components_.T)
    W2, _, _ = rbm.parameters((np.ones((4, 2)), np.zeros(4), np.zeros(2)))
    assert W2.dtype == np.float64
    with pytest.raises(TypeError, match="BernoulliRBM"):
        rbm.parameters(BernoulliRBM(n_components=3))
    with pytest.raises(ValueError, match="hidden_bias"):
        rbm.parameters((np.ones((4, 2)), np.zeros(4), np.zeros(3)))


# ---------------------------------------------------------------- Gibbs chains, filters, figure

def test_gibbs_chains_shapes_and_dynamics():
    W = np.zeros((16, 4))
    start = binary(3, 16)
    frames = rbm.gibbs_chains((W, np.full(16, 8.0), np.zeros(4)), start, n_steps=6, record_every=2, seed=0)
    assert frames.shape == (3, 4, 16) and frames.dtype == np.float32
    np.testing.assert_array_equal(frames[:, 0], start)
    np.testing.assert_allclose(frames[:, 1:], 1 / (1 + np.exp(-8.0)), rtol=1e-6)  # p(v|h) of this model
    samples = rbm.gibbs_chains((W, np.full(16, 8.0), np.zeros(4)), start, n_steps=2, show_probabilities=False)
    assert set(np.unique(samples[:, 1:])) <= {0.0, 1.0}
    again = rbm.gibbs_chains((np.ones((16, 4)), np.zeros(16), np.zeros(4)), start, n_steps=3, seed=0)
    np.testing.assert_array_equal(again, rbm.gibbs_chains((np.ones((16, 4)), np.zeros(16), np.zeros(4)), start,
                                                          n_steps=3, seed=0))


def test_gibbs_chains_errors():
    params = (np.zeros((16, 4)), np.zeros(16), np.zeros(4))
    with pytest.raises(ValueError, match=r"\(n_chains, 16\)"):
        rbm.gibbs_chains(params, np.zeros((2, 15)), 3)
    with pytest.raises(ValueError, match="positive"):
        rbm.gibbs_chains(params, np.zeros((2, 16)), 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.gibbs_chains(params, np.full((2, 16), 3.0), 2)
    with pytest.raises(TypeError):
        rbm.gibbs_chains(params, np.zeros((2, 16)), 2, record_every=1.5)


def test_filter_images():
    W = np.stack([np.linspace(-1, 3, 9), np.zeros(9), np.arange(9.0)], axis=1)
    f = rbm.filter_images((W, np.zeros(9), np.zeros(3)), n=3)
    assert f.shape == (3, 9) and f.dtype == np.float32
    np.testing.assert_allclose(f[0], np.linspace(0, 1, 9), atol=1e-6)
    np.testing.assert_allclose(f[1], 0.5)
    assert f[2].min() == 0 and f[2].max() == 1
    with pytest.raises(ValueError, match="only 3 hidden units"):
        rbm.filter_images((W, np.zeros(9), np.zeros(3)), n=4)


def test_free_energy_figure():
    fig = rbm.free_energy_figure({"digits": [-100.0, -90, -95], "noise": np.array([10.0, 20])}, bins=5, title="t")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["digits (mean -95)", "noise (mean 15)"]
    assert len(ax.patches) == 10 and ax.get_xlabel().startswith("free energy")
    assert fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(TypeError):
        rbm.free_energy_figure([1, 2])
    with pytest.raises(ValueError, match="empty"):
        rbm.free_energy_figure({})
    with pytest.raises(ValueError, match="'noise' is empty"):
        rbm.free_energy_figure({"noise": []})


# ---------------------------------------------------------------- deep belief nets

@pytest.fixture(scope="module")
def small_stack():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((60, 30)).astype(np.float32)
    stack = rbm.greedy_stack(x, (12, 5), epochs=[2, 1], batch_size=20, seed=3, verbose=0,
                             optimizer_factory=lambda layer: keras.optimizers.SGD(0.05, momentum=0.5))
    return x, stack


def test_greedy_stack_chains_layers(small_stack):
    x, stack = small_stack
    assert [(r.n_visible, r.n_hidden) for r in stack] == [(30, 12), (12, 5)]
    assert all(r.dynamic_binarization and r.persistent for r in stack)
    feats = rbm.stack_features(stack, x)
    assert feats.shape == (60, 5) and feats.dtype == np.float32 and 0 < feats.min() and feats.max() < 1
    h1 = keras.ops.convert_to_numpy(stack[0](x))
    np.testing.assert_allclose(feats, keras.ops.convert_to_numpy(stack[1](h1)), rtol=1e-5)
    # layer 2's visible biases start at the base rate of layer 1's features, then train
    assert np.abs(stack[1].parameters()[1] - metrics.base_rate_visible_bias(h1)).max() < 1.0


def test_greedy_stack_reuses_a_first_layer(small_stack):
    x, stack = small_stack
    W_before = stack[0].parameters()[0]
    again = rbm.greedy_stack(x, (12, 3), epochs=1, first=stack[0], batch_size=20, verbose=0,
                             optimizer_factory=lambda layer: keras.optimizers.SGD(0.05))
    assert again[0] is stack[0]
    np.testing.assert_array_equal(stack[0].parameters()[0], W_before)
    with pytest.raises(ValueError, match="layer 1 must be 30-7"):
        rbm.greedy_stack(x, (7,), epochs=1, first=stack[0], optimizer_factory=lambda layer: sgd())
    with pytest.raises(ValueError, match="epochs has 1 entries"):
        rbm.greedy_stack(x, (4, 4), epochs=[1], optimizer_factory=lambda layer: sgd())
    with pytest.raises(ValueError, match="empty"):
        rbm.greedy_stack(x, (), epochs=1, optimizer_factory=lambda layer: sgd())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.greedy_stack(x * 255, (4,), epochs=1, optimizer_factory=lambda layer: sgd())


def test_stack_features_errors(small_stack):
    x, stack = small_stack
    with pytest.raises(ValueError, match=r"\(n, 30\)"):
        rbm.stack_features(stack, x[:, :20])
    with pytest.raises(ValueError, match="empty"):
        rbm.stack_features([], x)


def test_dbn_classifier_initialisation(small_stack):
    x, stack = small_stack
    pre = rbm.dbn_classifier(stack=stack, n_classes=3)
    W1, _, c1 = stack[0].parameters()
    k1, b1 = pre.get_layer("hidden_1").get_weights()
    np.testing.assert_allclose(k1, W1, rtol=1e-6)
    np.testing.assert_allclose(b1, c1, rtol=1e-6)
    np.testing.assert_allclose(pre.get_layer("hidden_2").get_weights()[0], stack[1].parameters()[0], rtol=1e-6)
    # the pretrained net's top hidden layer is exactly the stack's features
    top = keras.Model(pre.input, pre.get_layer("hidden_2").output)
    np.testing.assert_allclose(top.predict(x, verbose=0), rbm.stack_features(stack, x), rtol=1e-5, atol=1e-6)
    probs = pre.predict(x, verbose=0)
    assert probs.shape == (60, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    scratch = rbm.dbn_classifier((12, 5), n_visible=30, n_classes=3)
    assert [layer.units for layer in scratch.layers[1:]] == [12, 5, 3]
    assert not np.allclose(scratch.get_layer("hidden_1").get_weights()[0], k1)


def test_dbn_classifier_errors(small_stack):
    _, stack = small_stack
    with pytest.raises(ValueError, match="exactly one"):
        rbm.dbn_classifier()
    with pytest.raises(ValueError, match="exactly one"):
        rbm.dbn_classifier((5,), stack=stack)
    with pytest.raises(ValueError, match="do not chain"):
        rbm.dbn_classifier(stack=[stack[1], stack[0]])
    with pytest.raises(ValueError):
        rbm.dbn_classifier(())


def test_chain_figure():
    chains = np.random.default_rng(0).random((3, 5, 784)).astype(np.float32)
    fig = rbm.chain_figure(chains, row_titles=["a", "b", "c"], title="chains")
    assert len(fig.axes) == 3
    strip = fig.axes[0].get_images()[0].get_array()
    assert strip.shape == (28, 5 * 28 + 4 * 2)  # five frames with white gaps between them
    np.testing.assert_allclose(strip[:, :28], chains[0, 0].reshape(28, 28))
    assert fig.axes[1].get_ylabel() == "b"
    assert fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"\(n_chains, n_frames, 784\)"):
        rbm.chain_figure(chains[:, :, :700])
    with pytest.raises(ValueError, match="row_titles"):
        rbm.chain_figure(chains, row_titles=["a"])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.chain_figure(chains * 3)


# ---------------------------------------------------------------- likelihoods: free energy, pseudo-likelihood, exact and AIS log Z


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


def test_free_energy_sums_the_hidden_units_out():
    W, b, c = tiny_rbm(5, 4)
    V, H = all_states(5), all_states(4)
    brute = -logsumexp((V @ b)[:, None] + (H @ c)[None, :] + V @ W @ H.T, axis=1)
    np.testing.assert_allclose(rbm.free_energy(V, W, b, c), brute, rtol=1e-12, atol=1e-12)


def test_free_energy_matches_scikit_learn():
    from sklearn.neural_network import BernoulliRBM

    W, b, c = tiny_rbm(12, 7, seed=3)
    sk = BernoulliRBM(n_components=7)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.T, b, c
    v = (np.random.default_rng(1).random((30, 12)) < 0.4).astype(float)
    np.testing.assert_allclose(rbm.free_energy(v, W, b, c), sk._free_energy(v), rtol=1e-10)


def test_free_energy_accepts_image_batches_and_float32():
    W, b, c = tiny_rbm(16, 3)
    v = (np.random.default_rng(2).random((4, 4, 4)) < 0.5).astype(np.float32)
    assert rbm.free_energy(v, W, b, c).shape == (4,)
    assert rbm.free_energy(v, W, b, c).dtype == np.float64


@pytest.mark.parametrize("shape", [(10, 6), (6, 10), (8, 8)])
def test_exact_log_z_equals_the_joint_sum(shape):
    W, b, c = tiny_rbm(*shape, seed=sum(shape))
    assert rbm.log_partition_exact(W, b, c) == pytest.approx(joint_log_z(W, b, c), abs=1e-9)


def test_exact_log_z_makes_probabilities_sum_to_one():
    W, b, c = tiny_rbm(9, 5, scale=2.0)
    log_z = rbm.log_partition_exact(W, b, c)
    log_p = rbm.log_likelihood(all_states(9), W, b, c, log_z)
    assert np.all(log_p < 0)
    assert float(np.exp(log_p).sum()) == pytest.approx(1.0, abs=1e-10)


def test_exact_log_z_of_the_empty_model_is_n_log_2():
    W = np.zeros((7, 3))
    assert rbm.log_partition_exact(W, np.zeros(7), np.zeros(3)) == pytest.approx(10 * math.log(2))


def test_exact_log_z_refuses_large_models():
    W = np.zeros((30, 25))
    with pytest.raises(ValueError, match="at most 24 units"):
        rbm.log_partition_exact(W, np.zeros(30), np.zeros(25))
    # but one small layer is enough: 784 visible units, 12 hidden units
    W = np.random.default_rng(0).normal(0, 0.01, (784, 12))
    assert np.isfinite(rbm.log_partition_exact(W, np.zeros(784), np.zeros(12)))


def test_ais_betas_follow_salakhutdinov_and_murray():
    betas = rbm.ais_betas(14500)
    assert betas.shape == (14501,) and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    assert np.sum(betas < 0.5) == 500 and np.sum((betas >= 0.5) & (betas < 0.9)) == 4000
    assert np.sum(betas >= 0.9) == 10001  # 10,000 steps in [0.9, 1], both ends included
    small = rbm.ais_betas(3)
    np.testing.assert_allclose(small, [0.0, 0.5, 0.9, 1.0])
    for bad, err in ((2, ValueError), (0, ValueError), (10.0, TypeError)):
        with pytest.raises(err):
            rbm.ais_betas(bad)


@pytest.fixture(scope="module")
def coupled():
    """A 10-6 RBM with weights of scale 1.5 and its exact log Z."""
    W, b, c = tiny_rbm(10, 6, scale=1.5, seed=7)
    return (W, b, c), rbm.log_partition_exact(W, b, c)


def test_ais_matches_the_exact_log_partition_function(coupled):
    (W, b, c), exact = coupled
    data = (np.random.default_rng(0).random((200, 10)) < 0.3).astype(float)
    result = rbm.ais_log_partition(W, b, c, base_visible_bias=metrics.base_rate_visible_bias(data),
                                       n_betas=10000, n_runs=100, seed=0)
    assert result.log_z == pytest.approx(exact, abs=0.03)
    assert result.log_z_low <= exact <= result.log_z_high
    assert result.spread < 0.1
    assert result.n_runs == 100 and result.n_betas == 10000 and result.log_weights.shape == (100,)
    assert result.log_z_base == pytest.approx(6 * math.log(2) + np.logaddexp(0, metrics.base_rate_visible_bias(data)).sum())


def test_ais_is_right_for_any_base_rate_model(coupled):
    """AIS is consistent whatever the base model: zeros (uniform pixels) also converge to log Z."""
    (W, b, c), exact = coupled
    result = rbm.ais_log_partition(W, b, c, base_visible_bias=np.zeros(10), n_betas=10000, n_runs=100, seed=1)
    assert result.log_z == pytest.approx(exact, abs=0.03)


def test_ais_tolerance_separates_a_different_model(coupled):
    """The 0.03-nat tolerance above is tight: a slightly different RBM, or AIS without intermediate
    distributions (plain importance sampling from the base rate), lands outside it."""
    (W, b, c), exact = coupled
    base = np.zeros(10)
    other = rbm.ais_log_partition(W * 1.05, b, c, base_visible_bias=base, n_betas=10000, n_runs=100, seed=0)
    assert abs(other.log_z - exact) > 0.1
    assert other.log_z == pytest.approx(rbm.log_partition_exact(W * 1.05, b, c), abs=0.03)
    no_annealing = rbm.ais_log_partition(W * 3, b, c, base_visible_bias=base, betas=[0.0, 1.0], n_runs=100, seed=0)
    assert abs(no_annealing.log_z - rbm.log_partition_exact(W * 3, b, c)) > 0.1


def test_ais_on_a_wide_rbm_against_enumerating_the_hidden_layer():
    """784 visible units as in MNIST, 10 hidden units: exact by enumerating 2^10 hidden states."""
    rng = np.random.default_rng(5)
    W = rng.normal(0, 0.3, (784, 10))
    b = rng.normal(-1.0, 1.0, 784)
    c = rng.normal(0, 1.0, 10)
    exact = rbm.log_partition_exact(W, b, c)
    result = rbm.ais_log_partition(W, b, c, base_visible_bias=b, n_betas=3000, n_runs=100, seed=0)
    assert result.log_z_low <= exact <= result.log_z_high
    assert result.log_z == pytest.approx(exact, abs=0.2)
    assert abs(result.log_z - rbm.log_partition_exact(W * 1.02, b, c)) > 1.0


def test_ais_is_reproducible_and_seeded(coupled):
    (W, b, c), _ = coupled
    kwargs = dict(base_visible_bias=np.zeros(10), n_betas=200, n_runs=10)
    r1 = rbm.ais_log_partition(W, b, c, seed=3, **kwargs)
    r2 = rbm.ais_log_partition(W, b, c, seed=3, **kwargs)
    r3 = rbm.ais_log_partition(W, b, c, seed=4, **kwargs)
    np.testing.assert_array_equal(r1.log_weights, r2.log_weights)
    assert not np.array_equal(r1.log_weights, r3.log_weights)


def test_ais_errors(coupled):
    (W, b, c), _ = coupled
    base = np.zeros(10)
    with pytest.raises(ValueError, match="base_visible_bias"):
        rbm.ais_log_partition(W, b, c, base_visible_bias=np.zeros(9))
    with pytest.raises(ValueError, match="at least 2"):
        rbm.ais_log_partition(W, b, c, base_visible_bias=base, n_runs=1)
    with pytest.raises(ValueError, match="increase strictly"):
        rbm.ais_log_partition(W, b, c, base_visible_bias=base, betas=[0.0, 0.5, 0.4, 1.0])
    with pytest.raises(ValueError, match="increase strictly"):
        rbm.ais_log_partition(W, b, c, base_visible_bias=base, betas=[0.1, 1.0])
    with pytest.raises(ValueError, match="hidden_bias"):
        rbm.ais_log_partition(W, b, c[:3], base_visible_bias=base)
    with pytest.raises(TypeError):
        rbm.ais_log_partition(W, b, c, base_visible_bias=base, n_runs=10.0)


def test_log_likelihood_takes_an_ais_result(coupled):
    (W, b, c), exact = coupled
    result = rbm.ais_log_partition(W, b, c, base_visible_bias=np.zeros(10), n_betas=100, n_runs=10)
    v = all_states(10)[:5]
    np.testing.assert_allclose(rbm.log_likelihood(v, W, b, c, result),
                               -rbm.free_energy(v, W, b, c) - result.log_z)
    with pytest.raises(ValueError, match="finite"):
        rbm.log_likelihood(v, W, b, c, float("nan"))
    with pytest.raises(TypeError, match="log_z"):
        rbm.log_likelihood(v, W, b, c, "12.0")


def test_pseudo_likelihood_matches_scikit_learn_score_samples():
    from sklearn.neural_network import BernoulliRBM

    W, b, c = tiny_rbm(20, 8, scale=0.5, seed=11)
    sk = BernoulliRBM(n_components=8, random_state=42)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.T, b, c
    v = (np.random.default_rng(2).random((50, 20)) < 0.3).astype(float)
    ours = rbm.pseudo_likelihood(v, W, b, c, seed=42)
    np.testing.assert_allclose(ours, sk.score_samples(v), rtol=1e-10)
    assert not np.allclose(rbm.pseudo_likelihood(v, W, b, c, seed=43), ours)


def test_pseudo_likelihood_of_one_visible_unit_is_the_log_likelihood():
    W, b, c = tiny_rbm(1, 3, seed=4)
    v = np.array([[0.0], [1.0]])
    exact = rbm.log_likelihood(v, W, b, c, rbm.log_partition_exact(W, b, c))
    np.testing.assert_allclose(rbm.pseudo_likelihood(v, W, b, c), exact, rtol=1e-12)


@pytest.mark.parametrize("func", ["free_energy", "pseudo_likelihood"])
def test_input_errors(func):
    W, b, c = tiny_rbm(6, 3)
    f = getattr(rbm, func)
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
