"""Tests for labutils.dbm: the Keras DBM (mean-field data statistics, persistent chains, serialisation), the
doubled greedy pretraining, and the NumPy side: the RBM view, mean-field, exact and AIS log Z (against brute-force
enumeration of every joint state of a tiny DBM), the variational bound, exact log p(v) and Gibbs chains."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

keras = pytest.importorskip("keras")

from labutils import dbm, rbm  # noqa: E402


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tiny(seed=0, shape=(8, 4, 3), scale=1.0):
    rng = np.random.default_rng(seed)
    nv, n1, n2 = shape
    return (rng.normal(0, scale, (nv, n1)), rng.normal(0, scale, (n1, n2)), rng.normal(0, 0.5, nv),
            rng.normal(0, 0.5, n1), rng.normal(0, 0.5, n2))


def brute_force(params):
    """(log Z, log p(v) for every v in enumeration order) from all 2^(nv + n1 + n2) joint states."""
    W1, W2, b, c1, c2 = params
    nv, n1, n2 = W1.shape[0], W1.shape[1], W2.shape[1]
    s = np.array(list(itertools.product([0.0, 1.0], repeat=nv + n1 + n2)))
    v, h1, h2 = s[:, :nv], s[:, nv:nv + n1], s[:, nv + n1:]
    neg_e = np.einsum("ni,ij,nj->n", v, W1, h1) + np.einsum("ni,ij,nj->n", h1, W2, h2) + v @ b + h1 @ c1 + h2 @ c2
    log_z = logsumexp(neg_e)
    codes = (v * (2 ** np.arange(nv)[::-1])).sum(axis=1).astype(int)   # itertools order of v
    log_pv = np.array([logsumexp(neg_e[codes == k]) for k in range(2 ** nv)]) - log_z
    return log_z, log_pv


def all_images(nv):
    return np.array(list(itertools.product([0.0, 1.0], repeat=nv)))


def set_params(model, params):
    for var, value in zip((model.W1, model.W2, model.b, model.c1, model.c2), params):
        var.assign(np.asarray(value, np.float32))


# ---------------------------------------------------------------- the NumPy side

def test_exact_log_z_and_log_p_match_brute_force_enumeration():
    params = tiny(0)
    log_z, log_pv = brute_force(params)
    assert abs(dbm.log_partition_exact(params) - log_z) < 1e-9
    np.testing.assert_allclose(dbm.log_likelihood_exact(all_images(8), params), log_pv, atol=1e-9)
    assert abs(logsumexp(log_pv)) < 1e-9


def test_exact_log_z_of_the_empty_dbm_is_n_log_2():
    zero = tuple(np.zeros_like(p) for p in tiny(0))
    assert abs(dbm.log_partition_exact(zero) - 15 * np.log(2)) < 1e-9


@pytest.mark.parametrize("seed", [0, 1])
def test_ais_estimate_of_log_z_agrees_with_enumeration(seed):
    params = tiny(seed, scale=1.5)
    log_z, _ = brute_force(params)
    est = dbm.ais_log_partition(params, base_visible_bias=np.zeros(8), n_betas=2000, n_runs=100, seed=seed)
    assert abs(est.log_z - log_z) < 0.1, (est.log_z, log_z)
    assert est.log_z_low - 0.05 <= log_z <= est.log_z_high + 0.05
    far = dbm.ais_log_partition(tiny(seed + 5, scale=1.5), base_visible_bias=np.zeros(8), n_betas=2000, n_runs=100)
    assert abs(far.log_z - log_z) > 0.3, "the tolerance must tell a different model apart"


def test_ais_base_rate_model_with_a_data_bias():
    params = tiny(3)
    est = dbm.ais_log_partition(params, base_visible_bias=np.linspace(-2, 2, 8), n_betas=2000, n_runs=100)
    assert abs(est.log_z - brute_force(params)[0]) < 0.1
    with pytest.raises(ValueError, match="base_visible_bias"):
        dbm.ais_log_partition(params, base_visible_bias=np.zeros(11))


def test_as_rbm_is_the_bipartite_view_with_the_same_partition_function():
    params = tiny(1)
    W, b, c = dbm.as_rbm(params)
    assert W.shape == (11, 4) and b.shape == (11,) and c.shape == (4,)
    np.testing.assert_array_equal(W[:8], params[0])
    np.testing.assert_array_equal(W[8:], params[1].T)
    np.testing.assert_array_equal(b, np.concatenate([params[2], params[4]]))
    v_h2 = all_images(11)
    assert abs(logsumexp(-rbm.free_energy(v_h2, W, b, c)) - brute_force(params)[0]) < 1e-9


def test_mean_field_is_a_fixed_point_of_its_updates():
    W1, W2, b, c1, c2 = params = tiny(2)
    v = all_images(8)[::7]
    mu1, mu2 = dbm.mean_field(v, params, n_steps=60)
    np.testing.assert_allclose(mu1, sigmoid(v @ W1 + mu2 @ W2.T + c1), atol=1e-7)
    np.testing.assert_allclose(mu2, sigmoid(mu1 @ W2 + c2), atol=1e-7)
    mu1_0, mu2_0 = dbm.mean_field(v, params, n_steps=0)
    np.testing.assert_allclose(mu1_0, sigmoid(2 * v @ W1 + c1), atol=1e-12)     # the doubled bottom-up pass
    np.testing.assert_allclose(mu2_0, sigmoid(mu1_0 @ W2 + c2), atol=1e-12)
    one1, one2 = dbm.mean_field(v, params, n_steps=1)
    np.testing.assert_allclose(one1, sigmoid(v @ W1 + c1 + mu2_0 @ W2.T), atol=1e-12)
    np.testing.assert_allclose(one2, sigmoid(one1 @ W2 + c2), atol=1e-12)


def test_variational_bound_is_below_and_close_to_the_exact_log_likelihood():
    params = tiny(4, scale=0.7)
    v = all_images(8)
    exact = dbm.log_likelihood_exact(v, params)
    log_z = dbm.log_partition_exact(params)
    bound = dbm.variational_bound(v, params, log_z, n_steps=30)
    assert np.all(bound <= exact + 1e-9)
    assert np.mean(exact - bound) < 0.2, np.mean(exact - bound)
    # the bound by hand for one image: E_q[-E] + H(q) - log Z
    W1, W2, b, c1, c2 = params
    mu1, mu2 = dbm.mean_field(v[5:6], params, n_steps=30)
    ent = -sum(np.sum(m * np.log(m) + (1 - m) * np.log(1 - m)) for m in (mu1, mu2))
    by_hand = (v[5] @ W1 @ mu1[0] + mu1[0] @ W2 @ mu2[0] + v[5] @ b + mu1[0] @ c1 + mu2[0] @ c2 + ent - log_z)
    assert abs(bound[5] - by_hand) < 1e-9
    # more sweeps never lower it (coordinate ascent on the bound)
    sweeps = [dbm.variational_bound(v, params, log_z, n_steps=n).mean() for n in (0, 1, 2, 5, 20)]
    assert all(a <= b_ + 1e-12 for a, b_ in zip(sweeps, sweeps[1:])), sweeps


def test_variational_bound_of_the_empty_dbm_is_exact():
    zero = tuple(np.zeros_like(p) for p in tiny(0))
    v = all_images(8)[:10]
    np.testing.assert_allclose(dbm.variational_bound(v, zero, dbm.log_partition_exact(zero)), -8 * np.log(2),
                               atol=1e-9)


def test_gibbs_chains_shapes_and_records():
    params = tiny(5, shape=(16, 5, 3), scale=2.0)
    start = (np.random.default_rng(0).random((3, 16)) < 0.5).astype(np.float32)
    chains = dbm.gibbs_chains(params, start, 20, record_every=5, seed=1)
    assert chains.shape == (3, 5, 16) and chains.dtype == np.float32
    np.testing.assert_array_equal(chains[:, 0], start)
    assert np.all((chains >= 0) & (chains <= 1)) and not np.allclose(chains[:, 1], chains[:, 4])
    np.testing.assert_array_equal(chains, dbm.gibbs_chains(params, start, 20, record_every=5, seed=1))


def test_numpy_input_errors_name_the_argument():
    params = tiny(0)
    with pytest.raises(TypeError, match="W1, W2, b, c1, c2"):
        dbm.parameters((1, 2, 3))
    with pytest.raises(ValueError, match="chain"):
        dbm.parameters((np.zeros((8, 4)), np.zeros((5, 3)), np.zeros(8), np.zeros(4), np.zeros(3)))
    with pytest.raises(ValueError, match="c2"):
        dbm.parameters(params[:4] + (np.zeros(7),))
    with pytest.raises(ValueError, match="W1"):
        dbm.parameters((np.full((8, 4), np.nan),) + params[1:])
    with pytest.raises(ValueError, match="v must be"):
        dbm.mean_field(np.zeros((2, 7)), params)
    with pytest.raises(ValueError, match="n_steps"):
        dbm.mean_field(np.zeros((2, 8)), params, n_steps=dbm.MAX_MEAN_FIELD_STEPS + 1)
    with pytest.raises(ValueError, match="binary"):
        dbm.variational_bound(np.full((2, 8), 0.5), params, 1.0)
    with pytest.raises(ValueError, match="log_z"):
        dbm.variational_bound(np.zeros((2, 8)), params, float("nan"))
    with pytest.raises(TypeError, match="log_z"):
        dbm.variational_bound(np.zeros((2, 8)), params, "1.0")
    with pytest.raises(ValueError, match="at most 20"):
        dbm.log_likelihood_exact(np.zeros((1, 8)), tiny(0, shape=(8, 21, 2)))
    with pytest.raises(ValueError, match="start"):
        dbm.gibbs_chains(params, np.zeros((2, 9)), 5)


# ---------------------------------------------------------------- the Keras model

def test_mean_field_in_keras_matches_numpy_and_call_concatenates():
    params = tiny(6, shape=(10, 4, 3))
    model = dbm.DBM(10, 4, 3, mean_field_steps=4, seed=0)
    set_params(model, params)
    v = (np.random.default_rng(1).random((5, 10)) < 0.5).astype(np.float32)
    mu1, mu2 = dbm.mean_field(v, params, n_steps=4)
    out = keras.ops.convert_to_numpy(model(v))
    assert out.shape == (5, 7)
    np.testing.assert_allclose(out, np.concatenate([mu1, mu2], axis=1), atol=1e-5)
    for a, b in zip(model.parameters(), params):
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(dbm.parameters(model)[0], params[0], atol=1e-6)


def test_update_is_mean_field_data_statistics_minus_chain_statistics():
    """With visible biases of -60 and h2 biases of -60 the chains sit at v = 0, h2 = 0, so the model statistics
    are known: <v h1>_model = 0, <h1 h2>_model = 0, <h1>_model = sigmoid(c1)."""
    params = tiny(7, shape=(6, 3, 2), scale=0.3)
    params = (params[0], params[1], np.full(6, -60.0), params[3], np.full(2, -60.0))
    model = dbm.DBM(6, 3, 2, mean_field_steps=3, n_chains=4, seed=0)
    set_params(model, params)
    v = np.array([[1, 0, 1, 1, 0, 0], [0, 1, 1, 0, 1, 1]], np.float32)   # binary: the fresh binarization keeps it
    before = model.parameters()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    model.fit(v, epochs=1, batch_size=2, shuffle=False, verbose=0)
    after = model.parameters()
    mu1, mu2 = dbm.mean_field(v, params, n_steps=3)
    np.testing.assert_allclose(after[0] - before[0], v.T @ mu1 / 2, atol=1e-5)
    np.testing.assert_allclose(after[1] - before[1], mu1.T @ mu2 / 2, atol=1e-5)
    np.testing.assert_allclose(after[2] - before[2], v.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(after[3] - before[3], mu1.mean(axis=0) - sigmoid(params[3]), atol=1e-5)
    np.testing.assert_allclose(after[4] - before[4], mu2.mean(axis=0), atol=1e-5)


def test_training_raises_the_exact_log_likelihood():
    rng = np.random.default_rng(0)
    protos = np.array([[1] * 6 + [0] * 6, [0] * 6 + [1] * 6, [1, 0] * 6], np.float32)
    x = np.clip(protos[rng.integers(0, 3, 300)] * 0.9 + 0.05, 0, 1).astype(np.float32)
    x_bin = (rng.random(x.shape) < x).astype(np.float64)
    keras.utils.set_random_seed(0)
    model = dbm.DBM(12, 5, 3, mean_field_steps=5, n_chains=20, seed=0)
    model.set_visible_bias(x)
    model.init_chains(x, seed=0)
    before = dbm.log_likelihood_exact(x_bin, model).mean()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.5))
    history = model.fit(x, epochs=8, batch_size=20, verbose=0)
    after = dbm.log_likelihood_exact(x_bin, model).mean()
    assert after > before + 1.0, (before, after)
    assert history.history["reconstruction_error"][-1] < history.history["reconstruction_error"][0]


def test_persistent_chains_are_non_trainable_state_that_moves():
    model = dbm.DBM(12, 4, 3, n_chains=6, seed=1)
    assert {v.name for v in model.non_trainable_weights} >= {"chains_visible", "chains_hidden2"}
    assert {v.name for v in model.trainable_weights} == {"W1", "W2", "visible_bias", "hidden1_bias", "hidden2_bias"}
    before = keras.ops.convert_to_numpy(model.chains_v).copy()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit((np.random.default_rng(0).random((12, 12)) < 0.5).astype(np.float32), epochs=1, batch_size=6, verbose=0)
    assert not np.array_equal(before, keras.ops.convert_to_numpy(model.chains_v))


def test_save_and_load_with_safe_mode(tmp_path):
    model = dbm.DBM(10, 4, 3, k=2, mean_field_steps=3, n_chains=5, weight_decay=1e-3, seed=4)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit((np.random.default_rng(0).random((20, 10)) < 0.5).astype(np.float32), epochs=1, batch_size=10, verbose=0)
    path = tmp_path / "dbm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert isinstance(loaded, dbm.DBM)
    assert (loaded.k, loaded.mean_field_steps, loaded.n_chains, loaded.weight_decay) == (2, 3, 5, 1e-3)
    for a, b in zip(loaded.parameters(), model.parameters()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded.chains_h2),
                                  keras.ops.convert_to_numpy(model.chains_h2))


@pytest.mark.parametrize("kwargs, err, name", [
    ({"n_hidden1": 0}, ValueError, "n_hidden1"), ({"n_hidden2": 2.5}, TypeError, "n_hidden2"),
    ({"k": 0}, ValueError, "k"), ({"mean_field_steps": 101}, ValueError, "mean_field_steps"),
    ({"n_chains": True}, TypeError, "n_chains"), ({"weight_decay": -1.0}, ValueError, "weight_decay"),
    ({"seed": -1}, ValueError, "seed")])
def test_constructor_errors(kwargs, err, name):
    with pytest.raises(err, match=name):
        dbm.DBM(10, **{"n_hidden1": 4, "n_hidden2": 3, **kwargs})


def test_fit_and_init_chains_check_the_data():
    model = dbm.DBM(10, 4, 3, n_chains=5, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    with pytest.raises(ValueError, match="x"):
        model.fit(np.full((10, 10), 2.0, np.float32), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="x must be"):
        model.init_chains(np.zeros((3, 10)))


def test_pretrain_composes_two_doubled_rbms():
    x = (np.random.default_rng(0).random((40, 12)) < 0.4).astype(np.float32)
    model = dbm.pretrain(x, 5, 3, steps=4, batch_size=10, n_chains=8, seed=0,
                         optimizer_factory=lambda layer: keras.optimizers.SGD(0.1))
    assert isinstance(model, dbm.DBM) and (model.n_visible, model.n_hidden1, model.n_hidden2) == (12, 5, 3)
    W1, W2, b, c1, c2 = model.parameters()
    assert np.abs(W1).max() > 0.011 or np.abs(W2).max() > 0.011          # trained away from N(0, 0.01^2) a bit
    assert np.all(np.isfinite(np.concatenate([W1.ravel(), W2.ravel(), b, c1, c2])))
    chains = keras.ops.convert_to_numpy(model.chains_v)
    assert chains.shape == (8, 12) and set(np.unique(chains)) <= {0.0, 1.0}
    doubled = dbm._DoubledRBM(4, 2, up=2, down=1, seed=0)
    v = np.ones((1, 4), np.float32)
    W, _, c = doubled.parameters()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(doubled.hidden_probabilities(v)),
                               sigmoid(2 * v @ W + c), atol=1e-6)
    with pytest.raises(TypeError, match="optimizer_factory"):
        dbm.pretrain(x, 5, 3, steps=2, optimizer_factory=None)
    with pytest.raises(ValueError, match="n_hidden1"):
        dbm.pretrain(x, 0, 3, steps=2, optimizer_factory=lambda layer: keras.optimizers.SGD(0.1))
