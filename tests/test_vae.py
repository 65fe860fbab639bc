"""Tests for labutils.vae: the Sampling layer, the builders, the VAE model, KL warm-up, importance weights, and the
measurements: gaussian_kl, importance_sampled_log_likelihood, active_units.

The importance-sampling estimator is checked on a linear-Gaussian latent model, whose log p(x) is known in
closed form: p(z) = N(0, I), p(x|z) = N(Wz + b, s^2 I)  =>  p(x) = N(b, W W^T + s^2 I).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

keras = pytest.importorskip("keras")

from labutils import vae  # noqa: E402


@pytest.fixture(scope="module")
def binary_data():
    """200 binary 'images' of 784 pixels with structure: two prototypes plus pixel noise."""
    rng = np.random.default_rng(0)
    protos = (rng.random((2, 784)) < 0.3).astype(np.float32)
    labels = rng.integers(0, 2, 200)
    flips = rng.random((200, 784)) < 0.05
    return np.abs(protos[labels] - flips).astype(np.float32), labels


# ============================================================== Sampling


def test_sampling_moments_and_shape():
    layer = vae.Sampling(seed=1)
    n = 20_000
    z = keras.ops.convert_to_numpy(layer([np.full((n, 2), [1.0, -2.0], np.float32), np.full((n, 2), [np.log(4.0), 0.0], np.float32)]))
    assert z.shape == (n, 2)
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [2.0, 1.0], atol=0.05)


def test_sampling_seeded_repeats_and_draws_fresh_noise():
    m, lv = np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)
    a, b = vae.Sampling(seed=7), vae.Sampling(seed=7)
    first = keras.ops.convert_to_numpy(a([m, lv]))
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(b([m, lv])))
    assert not np.allclose(first, keras.ops.convert_to_numpy(a([m, lv]))), "each call draws new noise"


def test_sampling_gradient_flows_to_mean_and_log_variance():
    from labutils import backends

    m, lv = keras.Variable(np.zeros((5, 2), np.float32)), keras.Variable(np.zeros((5, 2), np.float32))
    sampling = vae.Sampling(seed=0)

    def loss_fn():
        z = sampling([m, lv])
        return keras.ops.sum(z ** 2), None

    _, _, (gm, glv) = backends.value_and_grad(loss_fn, [m, lv], watch=[m, lv, *sampling.variables])
    gm, glv = keras.ops.convert_to_numpy(gm), keras.ops.convert_to_numpy(glv)
    assert np.all(np.isfinite(gm)) and np.abs(gm).sum() > 0 and np.abs(glv).sum() > 0


def test_sampling_save_load_safe_mode(tmp_path):
    m_in, lv_in = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([m_in, lv_in], vae.Sampling(seed=5, name="sampling")([m_in, lv_in]))
    path = tmp_path / "sampling.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    layer = loaded.get_layer("sampling")
    assert isinstance(layer, vae.Sampling) and layer.seed == 5
    assert loaded.predict([np.zeros((2, 3)), np.full((2, 3), -50.0)], verbose=0) == pytest.approx(0.0, abs=1e-6)


def test_sampling_bad_seed():
    with pytest.raises(TypeError, match="seed"):
        vae.Sampling(seed=1.5)


# ============================================================== BoundedLogVariance


def test_bounded_log_variance():
    layer = vae.BoundedLogVariance(10.0)
    out = keras.ops.convert_to_numpy(layer(np.array([[-1e4, -1.0, 0.0, 0.5, 1e4]], np.float32)))[0]
    assert out.min() > -10.0 - 1e-6 and out.max() < 10.0 + 1e-6
    np.testing.assert_allclose(out[1:4], [-1.0, 0.0, 0.5], atol=0.01)  # close to identity near 0
    assert vae.BoundedLogVariance.from_config(layer.get_config()).limit == 10.0


@pytest.mark.parametrize("limit, exc", [(0.0, ValueError), (-1, ValueError), (float("inf"), ValueError),
                                        ("10", TypeError), (True, TypeError)])
def test_bounded_log_variance_errors(limit, exc):
    with pytest.raises(exc, match="limit"):
        vae.BoundedLogVariance(limit)


# ============================================================== builders


def test_dense_encoder_and_decoder_shapes():
    enc = vae.dense_encoder(8, hidden_units=(64,))
    dec = vae.dense_decoder(8, hidden_units=(64,))
    z_mean, z_log_var = enc(np.zeros((3, 784), np.float32))
    assert z_mean.shape == (3, 8) and z_log_var.shape == (3, 8)
    assert dec(np.zeros((3, 8), np.float32)).shape == (3, 784)
    assert enc.name == "encoder" and dec.name == "decoder" and dec.layers[-1].name == "logits"


def test_conditional_builders_take_labels():
    enc = vae.dense_encoder(4, hidden_units=(16,), num_classes=10)
    dec = vae.dense_decoder(4, hidden_units=(16,), num_classes=10)
    assert len(enc.inputs) == 2 and len(dec.inputs) == 2
    y = np.eye(10, dtype=np.float32)[[1, 2]]
    assert enc([np.zeros((2, 784), np.float32), y])[0].shape == (2, 4)
    assert dec([np.zeros((2, 4), np.float32), y]).shape == (2, 784)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"latent_dim": 0}, ValueError, "latent_dim"),
    ({"latent_dim": 2.5}, TypeError, "latent_dim"),
    ({"hidden_units": (0,)}, ValueError, "hidden_units"),
    ({"num_classes": -1}, ValueError, "num_classes"),
    ({"num_classes": 2.0}, TypeError, "num_classes"),
])
def test_builder_errors(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        vae.dense_encoder(**kwargs)
    with pytest.raises(exc, match=pattern):
        vae.dense_decoder(**kwargs)


# ============================================================== VAE


def test_vae_constructor_errors():
    enc, dec = vae.dense_encoder(4, hidden_units=(8,)), vae.dense_decoder(4, hidden_units=(8,))
    with pytest.raises(TypeError, match="encoder"):
        vae.VAE("encoder", dec)
    with pytest.raises(ValueError, match="latent size"):
        vae.VAE(enc, vae.dense_decoder(3, hidden_units=(8,)))
    with pytest.raises(ValueError, match="conditional"):
        vae.VAE(enc, vae.dense_decoder(4, hidden_units=(8,), num_classes=10))
    with pytest.raises(ValueError, match="beta"):
        vae.VAE(enc, dec, beta=-1.0)
    with pytest.raises(TypeError, match="beta"):
        vae.VAE(enc, dec, beta="1")


def test_vae_trains_and_logs_its_terms_in_nats_per_image(binary_data):
    x, _ = binary_data
    keras.utils.set_random_seed(0)
    model = vae.build_vae(4, hidden_units=(64,), seed=0, learning_rate=3e-3)
    untrained = model.evaluate(x, verbose=0, return_dict=True)
    assert untrained["reconstruction"] == pytest.approx(784 * np.log(2), rel=0.05), "sum over pixels, not mean"
    history = model.fit(x, epochs=8, batch_size=50, verbose=0)
    assert set(history.history) == {"loss", "reconstruction", "kl"}
    trained = model.evaluate(x, verbose=0, return_dict=True)
    assert trained["loss"] < 0.6 * untrained["loss"]
    assert trained["loss"] == pytest.approx(trained["reconstruction"] + trained["kl"], rel=0.02)
    assert trained["kl"] > 0.5


def test_beta_weights_the_kl_term(binary_data):
    x, _ = binary_data
    keras.utils.set_random_seed(0)
    model = vae.build_vae(4, hidden_units=(16,), beta=3.0, seed=0)
    logs = model.evaluate(x, verbose=0, return_dict=True)
    assert float(model.beta.numpy()) == 3.0
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + 3.0 * logs["kl"], rel=0.05)


def test_elbo_terms_kl_is_the_closed_form(binary_data):
    x, _ = binary_data
    model = vae.build_vae(3, hidden_units=(16,), seed=0)
    _, kl = model.elbo_terms(x[:10])
    z_mean, z_log_var = model.encode(x[:10])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl), vae.gaussian_kl(z_mean, z_log_var), rtol=1e-4, atol=1e-5)


def test_dynamic_binarization_in_training_only():
    model = vae.build_vae(2, hidden_units=(8,), seed=0)
    grey = np.full((4, 784), 0.5, np.float32)
    seen = []
    original = model._loss_terms

    def spy(x, y, training):
        seen.append((training, np.unique(keras.ops.convert_to_numpy(x))))
        return original(x, y, training)

    model._loss_terms = spy
    model.train_step(grey)
    model.test_step(grey)
    (train_flag, train_values), (test_flag, test_values) = seen
    assert train_flag and set(train_values.tolist()) == {0.0, 1.0}, "training batches are binarized"
    assert not test_flag and test_values.tolist() == [0.5], "evaluation uses the data as given"


def test_conditional_vae_needs_labels(binary_data):
    x, labels = binary_data
    model = vae.build_vae(2, hidden_units=(16,), num_classes=2, seed=0)
    with pytest.raises(ValueError, match="one-hot labels"):
        model.fit(x, epochs=1, verbose=0)
    model.fit(x, keras.utils.to_categorical(labels, 2), epochs=1, batch_size=50, verbose=0)
    out = model.sample_means(6, labels=np.array([0, 1, 0, 1, 0, 1]))
    assert out.shape == (6, 784) and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="needs labels"):
        model.sample_means(3)
    with pytest.raises(ValueError, match="integers in"):
        model.sample_means(2, labels=np.array([0, 5]))


def test_sample_and_decode_means():
    model = vae.build_vae(3, hidden_units=(8,), seed=0)
    means = model.sample_means(5, seed=1)
    assert means.shape == (5, 784) and means.dtype == np.float32 and 0 <= means.min() and means.max() <= 1
    np.testing.assert_allclose(means, model.sample_means(5, seed=1))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        model.decode_means(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="conditional"):
        model.sample_means(2, labels=np.array([0, 1]))


def test_vae_save_load_safe_mode(tmp_path, binary_data):
    x, labels = binary_data
    keras.utils.set_random_seed(0)
    model = vae.build_vae(3, hidden_units=(16,), num_classes=2, beta=2.0, seed=4)
    y = keras.utils.to_categorical(labels, 2)
    model.fit(x, y, epochs=1, batch_size=50, verbose=0)
    path = tmp_path / "cvae.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, vae.VAE) and loaded.conditional and loaded.latent_dim == 3
    assert loaded.initial_beta == 2.0 and float(loaded.beta.numpy()) == 2.0
    np.testing.assert_allclose(loaded.predict([x[:5], y[:5]], verbose=0), model.predict([x[:5], y[:5]], verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_kl_warmup_ramps_beta(binary_data):
    x, _ = binary_data
    model = vae.build_vae(2, hidden_units=(8,), seed=0)
    betas = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: betas.append(float(model.beta.numpy())))
    model.fit(x, epochs=6, batch_size=100, verbose=0, callbacks=[vae.KLWarmup(4), record])
    np.testing.assert_allclose(betas, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="epochs"):
        vae.KLWarmup(0)
    with pytest.raises(ValueError, match="beta"):
        vae.KLWarmup(3, target=-1.0)


# ============================================================== importance weights


def test_log_importance_weights_average_to_the_elbo(binary_data):
    x, _ = binary_data
    keras.utils.set_random_seed(0)
    model = vae.build_vae(4, hidden_units=(32,), seed=0)
    model.fit(x, epochs=3, batch_size=50, verbose=0)
    log_w = vae.log_importance_weights(model, x[:20], 400, chunk_size=1000)
    assert log_w.shape == (20, 400) and log_w.dtype == np.float64
    reconstruction, kl = (keras.ops.convert_to_numpy(t).astype(np.float64) for t in model.elbo_terms(np.repeat(x[:20], 400, axis=0)))
    per_sample = -(reconstruction + kl).reshape(20, 400)
    # two independent Monte Carlo estimates of the same ELBO agree within 5 standard errors
    stderr = np.sqrt((log_w.var(axis=1) + per_sample.var(axis=1)) / 400)
    assert np.all(np.abs(log_w.mean(axis=1) - per_sample.mean(axis=1)) < 5 * stderr + 1e-3)
    assert np.all(stderr < 0.02 * np.abs(per_sample.mean(axis=1))), "the check above must be able to fail"
    bound = vae.importance_sampled_log_likelihood(log_w)
    assert np.all(bound >= vae.importance_sampled_log_likelihood(log_w, 1) - 1e-9)


def test_log_importance_weights_term_by_term_with_scipy(binary_data):
    from scipy.stats import bernoulli, norm

    x, _ = binary_data
    model = vae.build_vae(3, hidden_units=(16,), seed=0)
    k = 6
    log_w = vae.log_importance_weights(model, x[:4], k, seed=11)
    # the same noise as the function draws: one chunk, eps of shape (n, k, latent_dim)
    eps = np.random.default_rng(11).standard_normal((4, k, 3))
    z_mean, z_log_var = (keras.ops.convert_to_numpy(t).astype(np.float64) for t in model.encode(x[:4]))
    sd = np.exp(0.5 * z_log_var)
    z = z_mean[:, None] + sd[:, None] * eps
    log_q = norm.logpdf(z, loc=z_mean[:, None], scale=sd[:, None]).sum(axis=-1)
    log_prior = norm.logpdf(z).sum(axis=-1)
    p = np.asarray(model.decode_means(z.reshape(-1, 3).astype(np.float32)), dtype=np.float64).reshape(4, k, 784)
    log_px = bernoulli.logpmf(x[:4, None, :], np.clip(p, 1e-12, 1 - 1e-12)).sum(axis=-1)
    np.testing.assert_allclose(log_w, log_px + log_prior - log_q, rtol=1e-4)


def test_log_importance_weights_chunking_does_not_change_the_result(binary_data):
    x, _ = binary_data
    model = vae.build_vae(2, hidden_units=(8,), seed=0)
    a = vae.log_importance_weights(model, x[:7], 10, chunk_size=10, seed=3)
    b = vae.log_importance_weights(model, x[:7], 10, chunk_size=1000, seed=3)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_log_importance_weights_errors(binary_data):
    x, _ = binary_data
    model = vae.build_vae(2, hidden_units=(8,), seed=0)
    with pytest.raises(TypeError, match="VAE"):
        vae.log_importance_weights(model.decoder, x, 5)
    with pytest.raises(ValueError, match=r"\(n, 784\)"):
        vae.log_importance_weights(model, x.reshape(-1, 28, 28), 5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.log_importance_weights(model, x * 255, 5)
    with pytest.raises(ValueError, match="k"):
        vae.log_importance_weights(model, x, 0)


# ============================================================== latent_grid


def test_latent_grid_quantiles():
    from scipy.stats import norm

    grid = vae.latent_grid(5, quantile=0.9)
    assert grid.shape == (25, 2) and grid.dtype == np.float32
    ends = norm.ppf([0.1, 0.9])
    np.testing.assert_allclose(grid[0], [ends[0], ends[1]], rtol=1e-6)  # top-left: low z_1, high z_2
    np.testing.assert_allclose(grid[-1], [ends[1], ends[0]], rtol=1e-6)
    np.testing.assert_allclose(np.unique(grid[:, 0]), norm.ppf(np.linspace(0.1, 0.9, 5)), rtol=1e-6)


@pytest.mark.parametrize("n, q, exc", [(1, 0.95, ValueError), (0, 0.95, ValueError), (5, 1.0, ValueError),
                                       (5, 0.4, ValueError), (2.0, 0.95, TypeError)])
def test_latent_grid_errors(n, q, exc):
    with pytest.raises(exc):
        vae.latent_grid(n, quantile=q)


# ============================================================== measurements


def test_gaussian_kl_zero_for_the_prior():
    np.testing.assert_array_equal(vae.gaussian_kl(np.zeros((3, 4)), np.zeros((3, 4))), np.zeros(3))


def test_gaussian_kl_known_values():
    # 1-d: KL(N(1, 1) || N(0, 1)) = 1/2; KL(N(0, e^2) || N(0, 1)) = (e^2 - 2 - 1) / 2
    kl = vae.gaussian_kl([[1.0], [0.0]], [[0.0], [2.0]])
    assert kl.dtype == np.float64 and kl.shape == (2,)
    assert kl[0] == pytest.approx(0.5)
    assert kl[1] == pytest.approx((np.exp(2.0) - 2.0 - 1.0) / 2)


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    m, lv = np.array([0.7, -1.2, 0.1]), np.array([-0.5, 0.3, -2.0])
    z = m + np.exp(0.5 * lv) * rng.standard_normal((400_000, 3))
    log_q = multivariate_normal(m, np.diag(np.exp(lv))).logpdf(z)
    log_p = multivariate_normal(np.zeros(3), np.eye(3)).logpdf(z)
    assert vae.gaussian_kl(m[None], lv[None])[0] == pytest.approx(np.mean(log_q - log_p), abs=0.01)


@pytest.mark.parametrize("m, lv, pattern", [
    (np.zeros((2, 3)), np.zeros((2, 4)), "both be"),
    (np.zeros(3), np.zeros(3), "both be"),
    (np.array([[np.nan, 0.0]]), np.zeros((1, 2)), "finite"),
])
def test_gaussian_kl_errors(m, lv, pattern):
    with pytest.raises(ValueError, match=pattern):
        vae.gaussian_kl(m, lv)


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
        np.testing.assert_allclose(vae.importance_sampled_log_likelihood(log_w, k), model.log_px(x), atol=1e-8)


def test_estimate_converges_to_log_px_with_a_poor_proposal(lg):
    model, x = lg
    log_w = model.log_weights(x, 20_000, scale=1.8, shift=0.3)
    truth = model.log_px(x)
    estimate = vae.importance_sampled_log_likelihood(log_w)
    np.testing.assert_allclose(estimate, truth, atol=0.03)
    elbo = vae.importance_sampled_log_likelihood(log_w, 1)
    assert np.all(truth - elbo > 0.3), "the ELBO of a poor proposal is clearly below log p(x)"


def test_bound_tightens_as_k_grows(lg):
    model, x = lg
    log_w = model.log_weights(x, 10_000, scale=1.8, shift=0.3)
    bounds = [vae.importance_sampled_log_likelihood(log_w, k).mean() for k in (1, 10, 100, 1000)]
    assert all(a < b for a, b in zip(bounds, bounds[1:])), bounds
    assert bounds[-1] <= model.log_px(x).mean() + 0.01


def test_k1_is_the_mean_log_weight_and_default_uses_all_samples():
    log_w = np.log(np.array([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_allclose(vae.importance_sampled_log_likelihood(log_w, 1), log_w.mean(axis=1))
    np.testing.assert_allclose(vae.importance_sampled_log_likelihood(log_w), np.log([2.0, 2.0]))


def test_stable_for_very_negative_log_weights():
    log_w = np.array([[-1000.0, -1001.0, -999.0, -1000.5]])
    expected = -1000.0 + np.log(np.mean(np.exp(log_w + 1000.0)))
    assert vae.importance_sampled_log_likelihood(log_w)[0] == pytest.approx(expected)


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
        vae.importance_sampled_log_likelihood(log_w, k)


def test_active_units_counts_varying_columns():
    rng = np.random.default_rng(0)
    z = np.column_stack([rng.normal(size=500), np.full(500, 3.0), 0.05 * rng.normal(size=500), rng.normal(size=500)])
    assert vae.active_units(z) == 2  # variance 1, 0, 0.0025, 1
    assert vae.active_units(z, threshold=0.001) == 3


def test_active_units_errors():
    with pytest.raises(ValueError, match="n >= 2"):
        vae.active_units(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n >= 2"):
        vae.active_units(np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        vae.active_units(np.array([[0.0], [np.inf]]))
    with pytest.raises(ValueError, match="threshold"):
        vae.active_units(np.zeros((3, 2)), threshold=0)


# ============================================================== decoders: likelihoods, bits per pixel, samples


def _np_sigmoid(l):
    return 1.0 / (1.0 + np.exp(-l))


def test_continuous_bernoulli_normalizer_makes_a_density():
    from scipy.integrate import quad
    logits = np.array([-40.0, -8.0, -1.0, -0.005, 0.0, 0.003, 0.5, 6.0, 25.0], dtype=np.float32)
    log_c = keras.ops.convert_to_numpy(vae.continuous_bernoulli_log_normalizer(logits)).astype(np.float64)
    for l, lc in zip(logits.astype(np.float64), log_c):
        lam = _np_sigmoid(l)
        integral, _ = quad(lambda x: lam ** x * (1 - lam) ** (1 - x), 0.0, 1.0, epsabs=1e-13, epsrel=1e-10)
        np.testing.assert_allclose(lc, -np.log(integral), rtol=1e-5, atol=1e-5)
    assert np.all(log_c >= np.log(2.0) - 1e-6)
    np.testing.assert_allclose(log_c[4], np.log(2.0), atol=1e-7)


def test_decoder_log_likelihood_each_decoder_against_numpy():
    from scipy.stats import norm
    rng = np.random.default_rng(0)
    x = rng.random((3, 5)).astype(np.float32)
    xb = (x > 0.5).astype(np.float32)
    l = rng.normal(0, 2, (3, 5)).astype(np.float32)
    lv = rng.normal(-3, 1, (3, 5)).astype(np.float32)
    mu = _np_sigmoid(l.astype(np.float64))
    f = lambda *a, **k: keras.ops.convert_to_numpy(vae.decoder_log_likelihood(*a, **k)).astype(np.float64)
    bern = np.sum(xb * np.log(mu) + (1 - xb) * np.log(1 - mu), axis=1)
    np.testing.assert_allclose(f(xb, l), bern, rtol=1e-5)
    cb_c = np.log(np.abs(2 * np.arctanh(1 - 2 * mu) / (1 - 2 * mu)))
    cb = np.sum(x * np.log(mu) + (1 - x) * np.log(1 - mu) + cb_c, axis=1)
    np.testing.assert_allclose(f(x, l, "continuous_bernoulli"), cb, rtol=1e-4)
    np.testing.assert_allclose(f(x, l, "gaussian", sigma=0.2), norm.logpdf(x, mu, 0.2).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(f(x, l, "gaussian_learned", log_var=lv),
                               norm.logpdf(x, mu, np.exp(0.5 * lv.astype(np.float64))).sum(axis=1), rtol=1e-5)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"likelihood": "poisson"}, ValueError, "likelihood must be one of"),
    ({"likelihood": "gaussian_learned"}, ValueError, "log_var is needed by likelihood='gaussian_learned'"),
    ({"likelihood": "gaussian", "log_var": np.zeros((1, 2))}, ValueError, "log_var is needed .* and only by it"),
    ({"likelihood": "gaussian", "sigma": 0.0}, ValueError, "sigma must be a positive finite number"),
])
def test_decoder_log_likelihood_errors(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        vae.decoder_log_likelihood(np.zeros((1, 2)), np.zeros((1, 2)), **kwargs)


def test_bits_per_pixel():
    assert vae.bits_per_pixel(0.0) == pytest.approx(8.0)  # the uniform density on [0, 1]^784
    assert vae.bits_per_pixel(-784 * np.log(256.0)) == pytest.approx(0.0)
    np.testing.assert_allclose(vae.bits_per_pixel(np.array([0.0, 10 * np.log(2)]), pixels=10, levels=4), [2.0, 3.0])
    with pytest.raises(ValueError, match="levels must be at least 2"):
        vae.bits_per_pixel(0.0, levels=1)
    with pytest.raises(ValueError, match="nll"):
        vae.bits_per_pixel(np.nan)


@pytest.mark.parametrize("likelihood", ["continuous_bernoulli", "gaussian", "gaussian_learned"])
def test_density_decoders_train_on_dequantized_data_and_save(tmp_path, binary_data, likelihood):
    from labutils import data
    x = (0.1 + 0.8 * binary_data[0][:, :64]).astype(np.float32)
    keras.utils.set_random_seed(0)
    enc = vae.dense_encoder(2, input_dim=64, hidden_units=(32,))
    dec = vae.dense_decoder(2, output_dim=64, hidden_units=(32,), learned_variance=likelihood == "gaussian_learned")
    model = vae.VAE(enc, dec, seed=1, likelihood=likelihood, binarize_inputs=False, dequantize_inputs=True,
                    decoder_sigma=0.2)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, epochs=15, batch_size=50, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] - 5.0, losses
    x_deq = data.dequantize(x[:20], seed=0)
    log_w = vae.log_importance_weights(model, x_deq, 10, seed=0)
    assert log_w.shape == (20, 10) and np.isfinite(log_w).all()
    path = tmp_path / f"{likelihood}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.likelihood == likelihood and loaded.dequantize_inputs and loaded.decoder_sigma == 0.2
    np.testing.assert_allclose(vae.log_importance_weights(loaded, x_deq, 10, seed=0), log_w, rtol=1e-4, atol=1e-3)


def test_likelihood_constructor_and_scoring_errors(binary_data):
    enc = vae.dense_encoder(2, hidden_units=(8,))
    with pytest.raises(ValueError, match="likelihood='gaussian_learned' needs a decoder with 2 output"):
        vae.VAE(enc, vae.dense_decoder(2, hidden_units=(8,)), likelihood="gaussian_learned", binarize_inputs=False)
    with pytest.raises(ValueError, match="likelihood='bernoulli' needs a decoder with 1 output"):
        vae.VAE(enc, vae.dense_decoder(2, hidden_units=(8,), learned_variance=True))
    with pytest.raises(ValueError, match="binarize_inputs and dequantize_inputs exclude each other"):
        vae.VAE(enc, vae.dense_decoder(2, hidden_units=(8,)), dequantize_inputs=True)
    with pytest.raises(ValueError, match="decoder_sigma must be a positive finite number"):
        vae.VAE(enc, vae.dense_decoder(2, hidden_units=(8,)), likelihood="gaussian", decoder_sigma=-1.0)
    with pytest.raises(ValueError, match="log_var_limit must be a positive finite number; got 0.0"):
        vae.dense_decoder(2, hidden_units=(8,), learned_variance=True, log_var_limit=0.0)
    bern = vae.build_vae(2, hidden_units=(8,), seed=0)
    with pytest.raises(ValueError, match="does not fit this model's decoder"):
        vae.log_importance_weights(bern, binary_data[0][:2], 2, likelihood="gaussian_learned")
    learned = vae.build_vae(2, hidden_units=(8,), seed=0, likelihood="gaussian_learned")
    with pytest.raises(ValueError, match="does not fit this model's decoder"):
        vae.log_importance_weights(learned, binary_data[0][:2], 2, likelihood="gaussian")


def test_bernoulli_scored_as_continuous_bernoulli_adds_the_normalizer(binary_data):
    model = vae.build_vae(2, hidden_units=(8,), seed=0)
    x = (0.2 + 0.6 * binary_data[0][:4]).astype(np.float32)
    bern = vae.log_importance_weights(model, x, 3, seed=5)
    cb = vae.log_importance_weights(model, x, 3, seed=5, likelihood="continuous_bernoulli")
    assert np.all(cb - bern >= 784 * np.log(2.0) - 1e-2)  # log C >= log 2 per pixel


@pytest.mark.parametrize("likelihood", vae.LIKELIHOODS)
def test_sample_decoder_means_and_samples(likelihood):
    keras.utils.set_random_seed(0)
    model = vae.build_vae(2, hidden_units=(8,), seed=0, likelihood=likelihood)
    means, samples = vae.sample_decoder(model, 4000, seed=2)
    assert means.shape == samples.shape == (4000, 784) and means.dtype == samples.dtype == np.float32
    assert means.min() >= 0 and means.max() <= 1 and samples.min() >= 0 and samples.max() <= 1
    if likelihood == "bernoulli":
        assert set(np.unique(samples)) <= {0.0, 1.0}
    if likelihood in ("bernoulli", "continuous_bernoulli"):  # unclipped: sample averages estimate the means
        assert abs(float(samples.mean() - means.mean())) < 0.01
    np.testing.assert_array_equal(means, vae.sample_decoder(model, 4000, seed=2)[0])


def test_continuous_bernoulli_mean_is_not_lambda():
    model = vae.build_vae(2, hidden_units=(8,), seed=0, likelihood="continuous_bernoulli")
    for layer in (model.decoder.get_layer("logits"),):
        w, b = layer.get_weights()
        layer.set_weights([np.zeros_like(w), np.full_like(b, 2.0)])  # lambda = sigmoid(2) = 0.881 everywhere
    means, samples = vae.sample_decoder(model, 2000, seed=0)
    expected = np.exp(2.0) / np.expm1(2.0) - 0.5  # e^l / (e^l - 1) - 1 / l
    np.testing.assert_allclose(means, expected, rtol=1e-5)
    assert abs(float(samples.mean()) - expected) < 0.005 and abs(expected - _np_sigmoid(2.0)) > 0.2


def test_sample_decoder_errors():
    cvae = vae.build_vae(2, hidden_units=(8,), num_classes=3, seed=0)
    with pytest.raises(ValueError, match="unconditional"):
        vae.sample_decoder(cvae, 2)
    with pytest.raises(TypeError, match="labutils.vae.VAE"):
        vae.sample_decoder("vae", 2)
