"""labutils.aae: the MMD statistic and penalty against NumPy, the prior sampler, the AAE's and the WAE's training
steps on a tiny problem, saving with safe_mode=True, and the errors for bad input. Backend-free (TensorFlow, JAX,
PyTorch) and fast."""
import keras
import numpy as np
import pytest

from labutils import aae, vae

D = 16  # pixels of the tiny images
LATENT = 2


def _images(n=64, seed=0):
    """Tiny 16-pixel images in [0, 1] with structure: two prototypes, noisy."""
    rng = np.random.default_rng(seed)
    protos = np.stack([np.linspace(0.05, 0.95, D), np.linspace(0.95, 0.05, D)])
    x = protos[rng.integers(0, 2, n)] + rng.normal(0.0, 0.05, (n, D))
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _numpy_imq(a, b, scales=aae.IMQ_SCALES):
    """The kernel matrix, pair by pair."""
    d = a.shape[1]
    return np.array([[sum(2 * d * s / (2 * d * s + np.sum((u - v) ** 2)) for s in scales) for v in b] for u in a])


def _numpy_mmd(a, b, unbiased=True, scales=aae.IMQ_SCALES):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    kxx, kyy, kxy = _numpy_imq(a, a, scales), _numpy_imq(b, b, scales), _numpy_imq(a, b, scales)
    n, m = len(a), len(b)
    if unbiased:
        return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                - 2 * kxy.mean())
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


def _small_wae(lam=10.0, seed=0):
    keras.utils.set_random_seed(seed)
    model = aae.WAE(aae.dense_encoder(LATENT, input_dim=D, hidden_units=(32,)),
                    vae.dense_decoder(LATENT, output_dim=D, hidden_units=(32,)), lam=lam, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def _small_aae(lam=1.0, seed=0):
    keras.utils.set_random_seed(seed)
    model = aae.AAE(aae.dense_encoder(LATENT, input_dim=D, hidden_units=(32,)),
                    vae.dense_decoder(LATENT, output_dim=D, hidden_units=(32,)),
                    aae.code_discriminator(LATENT, hidden_units=(16,)), lam=lam, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), d_optimizer=keras.optimizers.Adam(1e-2))
    return model


def _np(t):
    return keras.ops.convert_to_numpy(t)


# ------------------------------------------------------------------------- prior, kernel, MMD

def test_sample_prior_is_seeded_standard_normal():
    z = aae.sample_prior(4000, 3, seed=5)
    assert z.shape == (4000, 3) and z.dtype == np.float32
    assert np.array_equal(z, aae.sample_prior(4000, 3, seed=5))
    assert not np.array_equal(z, aae.sample_prior(4000, 3, seed=6))
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.06)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.04)


@pytest.mark.parametrize("kwargs, error", [
    ({"n": 0, "latent_dim": 2}, ValueError), ({"n": 2.0, "latent_dim": 2}, TypeError),
    ({"n": 10**6, "latent_dim": 2}, ValueError), ({"n": 3, "latent_dim": 0}, ValueError),
    ({"n": 3, "latent_dim": 2, "seed": -1}, ValueError), ({"n": 3, "latent_dim": 2, "seed": "0"}, TypeError),
])
def test_sample_prior_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        aae.sample_prior(**kwargs)


def test_imq_kernel_matches_numpy_and_is_the_number_of_scales_on_the_diagonal():
    a = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]], np.float32)
    b = np.array([[0.0, 0.0], [3.0, -1.0]], np.float32)
    np.testing.assert_allclose(_np(aae.imq_kernel(a, b)), _numpy_imq(a, b), rtol=1e-5)
    # one scale by hand: d = 2, s = 1, C = 4; ||(1, 2) - (3, -1)||^2 = 13
    assert _np(aae.imq_kernel(a, b, scales=1.0))[1, 1] == pytest.approx(4.0 / 17.0, rel=1e-6)
    np.testing.assert_allclose(np.diag(_np(aae.imq_kernel(a, a))), len(aae.IMQ_SCALES), rtol=1e-6)


def test_mmd_of_identical_samples_is_zero_biased_and_slightly_negative_unbiased():
    x = np.random.default_rng(0).normal(size=(20, 3))
    assert aae.mmd(x, x, unbiased=False) == pytest.approx(0.0, abs=1e-12)
    u = aae.mmd(x, x)
    assert u < 0  # the U-statistic of one sample against itself: 2/n (mean off-diagonal k - k(x, x)) < 0
    assert u == pytest.approx(_numpy_mmd(x, x), rel=1e-9)


@pytest.mark.parametrize("unbiased", [True, False])
def test_mmd_matches_a_numpy_computation(unbiased):
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.5, 1.0, (13, 4)), rng.normal(size=(9, 4))
    assert aae.mmd(x, y, unbiased=unbiased) == pytest.approx(_numpy_mmd(x, y, unbiased), rel=1e-9)
    assert aae.mmd(x, y, unbiased=unbiased, scales=(0.5, 3.0)) == pytest.approx(
        _numpy_mmd(x, y, unbiased, scales=(0.5, 3.0)), rel=1e-9)
    assert aae.mmd(y, x, unbiased=unbiased) == pytest.approx(aae.mmd(x, y, unbiased=unbiased), rel=1e-12)


def test_mmd_blocks_give_the_same_answer_as_one_pass():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(1500, 2)), rng.normal(0.3, 1.0, (40, 2))
    sub = _numpy_mmd(x[:40], y)  # a small check of the same code path on a subset
    assert aae.mmd(x[:40], y) == pytest.approx(sub, rel=1e-9)
    assert aae.mmd(x, y) > 0


def test_mmd_separates_shifted_samples_from_the_prior():
    prior = aae.sample_prior(500, 8, seed=0)
    same = aae.mmd(aae.sample_prior(500, 8, seed=1), prior)
    shifted = aae.mmd(aae.sample_prior(500, 8, seed=1) + 1.0, prior)
    assert abs(same) < 0.01 and shifted > 0.1


@pytest.mark.parametrize("x, y, kwargs, error", [
    (np.zeros(5), np.zeros((5, 1)), {}, ValueError),                    # not 2-d
    (np.zeros((1, 2)), np.zeros((5, 2)), {}, ValueError),               # one row
    (np.zeros((4, 2)), np.zeros((4, 3)), {}, ValueError),               # dimensions differ
    (np.full((4, 2), np.nan), np.zeros((4, 2)), {}, ValueError),        # NaN
    (np.zeros((4, 2), complex), np.zeros((4, 2)), {}, TypeError),       # complex
    (np.zeros((4, 2)), np.zeros((4, 2)), {"unbiased": 1}, TypeError),   # not a bool
    (np.zeros((4, 2)), np.zeros((4, 2)), {"scales": ()}, TypeError),    # no scale
    (np.zeros((4, 2)), np.zeros((4, 2)), {"scales": (1.0, -2.0)}, ValueError),
    (np.zeros((4, 2)), np.zeros((4, 2)), {"scales": "1"}, TypeError),
])
def test_mmd_refuses_bad_input(x, y, kwargs, error):
    with pytest.raises(error):
        aae.mmd(x, y, **kwargs)


def test_mmd_penalty_equals_the_numpy_statistic_and_has_a_gradient():
    from labutils import backends

    rng = np.random.default_rng(3)
    z, p = rng.normal(1.0, 0.5, (10, 3)).astype(np.float32), rng.normal(size=(7, 3)).astype(np.float32)
    assert float(_np(aae.mmd_penalty(z, p))) == pytest.approx(aae.mmd(z, p), rel=1e-4, abs=1e-6)
    var = keras.Variable(z)
    _, _, (grad,) = backends.value_and_grad(lambda: (aae.mmd_penalty(var, p), None), [var])
    grad = _np(grad)
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
    # a small step against the gradient lowers the penalty
    lower = float(_np(aae.mmd_penalty(z - 0.1 * grad / np.abs(grad).max(), p)))
    assert lower < float(_np(aae.mmd_penalty(z, p)))


# ------------------------------------------------------------------------- networks and models

def test_networks_have_the_documented_shapes():
    enc, disc = aae.dense_encoder(5, input_dim=D, hidden_units=(8,)), aae.code_discriminator(5, hidden_units=(4,))
    assert enc(np.zeros((3, D), np.float32)).shape == (3, 5)
    assert disc(np.zeros((3, 5), np.float32)).shape == (3, 1)
    assert enc.get_layer("code").units == 5 and disc.get_layer("logit").units == 1


@pytest.mark.parametrize("call, error", [
    (lambda: aae.dense_encoder(0), ValueError), (lambda: aae.dense_encoder(2.0), TypeError),
    (lambda: aae.dense_encoder(2, hidden_units=64), TypeError), (lambda: aae.code_discriminator(-1), ValueError),
    (lambda: aae.build_wae(2, lam=-1.0), ValueError), (lambda: aae.build_wae(2, lam=float("nan")), ValueError),
    (lambda: aae.build_wae(2, lam="1"), TypeError), (lambda: aae.build_wae(2, learning_rate=0.0), ValueError),
    (lambda: aae.build_aae(2, lam=-0.5), ValueError), (lambda: aae.build_aae(2, d_learning_rate=-1.0), ValueError),
    (lambda: aae.build_wae(2, seed=-3), ValueError), (lambda: aae.build_wae(2, scales=(0.0,)), ValueError),
    (lambda: aae.WAE("encoder", vae.dense_decoder(2)), TypeError),
    (lambda: aae.WAE(aae.dense_encoder(3), vae.dense_decoder(2)), ValueError),         # code sizes differ
    (lambda: aae.WAE(aae.dense_encoder(2, input_dim=D), vae.dense_decoder(2)), ValueError),  # pixels differ
    (lambda: aae.AAE(aae.dense_encoder(2), vae.dense_decoder(2), aae.code_discriminator(3)), ValueError),
    (lambda: aae.AAE(aae.dense_encoder(2), vae.dense_decoder(2), None), TypeError),
])
def test_builders_and_models_refuse_bad_arguments(call, error):
    with pytest.raises(error):
        call()


def test_wae_train_step_lowers_its_loss_and_pulls_the_codes_onto_the_prior():
    x = _images(200)
    plain, wae = _small_wae(lam=0.0), _small_wae(lam=20.0)
    assert plain.name and wae.lam == 20.0
    prior = aae.sample_prior(200, LATENT, seed=9)
    before = wae.evaluate(x, batch_size=50, verbose=0, return_dict=True)
    history = wae.fit(x, epochs=12, batch_size=50, verbose=0).history
    plain.fit(x, epochs=12, batch_size=50, verbose=0)
    after = wae.evaluate(x, batch_size=50, verbose=0, return_dict=True)
    assert set(history) == {"loss", "reconstruction", "mmd"}
    assert after["reconstruction"] < before["reconstruction"] and history["loss"][-1] < history["loss"][0]
    assert aae.mmd(wae.encode(x), prior) < 0.5 * aae.mmd(plain.encode(x), prior)


def test_aae_train_step_updates_each_network_with_its_own_optimizer():
    x = _images(200)
    model = _small_aae()
    before = model.evaluate(x, batch_size=50, verbose=0, return_dict=True)
    d_before = [_np(v).copy() for v in model.discriminator.trainable_variables]
    history = model.fit(x, epochs=8, batch_size=50, verbose=0).history
    assert set(history) == {"loss", "reconstruction", "d_loss", "g_loss", "d_prior", "d_code"}
    assert model.evaluate(x, batch_size=50, verbose=0, return_dict=True)["reconstruction"] < before["reconstruction"]
    assert any(not np.allclose(a, _np(b)) for a, b in zip(d_before, model.discriminator.trainable_variables))
    assert all(0.0 <= history[k][-1] <= 1.0 for k in ("d_prior", "d_code"))
    assert int(_np(model.d_optimizer.iterations)) == 32 and int(_np(model.ae_optimizer.iterations)) == 32


def test_aae_discriminator_frozen_by_a_zero_learning_rate_stays_unchanged():
    model = aae.AAE(aae.dense_encoder(LATENT, input_dim=D, hidden_units=(8,)),
                    vae.dense_decoder(LATENT, output_dim=D, hidden_units=(8,)),
                    aae.code_discriminator(LATENT, hidden_units=(8,)), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), d_optimizer=keras.optimizers.SGD(0.0))
    d_before = [_np(v).copy() for v in model.discriminator.trainable_variables]
    e_before = [_np(v).copy() for v in model.encoder.trainable_variables]
    model.fit(_images(50), epochs=2, batch_size=25, verbose=0)
    assert all(np.array_equal(a, _np(b)) for a, b in zip(d_before, model.discriminator.trainable_variables))
    assert any(not np.allclose(a, _np(b)) for a, b in zip(e_before, model.encoder.trainable_variables))


def test_encode_decode_and_sample_means():
    model = _small_wae()
    x = _images(7)
    z = model.encode(x)
    assert z.shape == (7, LATENT) and z.dtype == np.float32
    means = model.decode_means(z)
    assert means.shape == (7, D) and means.min() >= 0 and means.max() <= 1
    np.testing.assert_allclose(means, _np(model(x)), atol=1e-5)
    s = model.sample_means(5, seed=1)
    np.testing.assert_allclose(s, model.decode_means(aae.sample_prior(5, LATENT, seed=1)), atol=1e-6)
    for bad, error in [(x * 255, ValueError), (x[:, :5], ValueError)]:
        with pytest.raises(error):
            model.encode(bad)
    with pytest.raises(ValueError):
        model.decode_means(np.zeros((3, LATENT + 1)))
    with pytest.raises(ValueError):
        model.decode_means(np.full((3, LATENT), np.inf))
    with pytest.raises(ValueError):
        model.sample_means(0)


def test_fit_refuses_bad_images_and_an_uncompiled_aae():
    model = _small_wae()
    with pytest.raises(ValueError, match="0-255"):
        model.fit(_images(20) * 255, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="flat images"):
        model.fit(_images(20)[:, :8], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(_images(20), epochs=1, verbose=0, validation_data=(_images(4)[:, :8],))
    uncompiled = aae.AAE(aae.dense_encoder(LATENT, input_dim=D), vae.dense_decoder(LATENT, output_dim=D),
                         aae.code_discriminator(LATENT))
    with pytest.raises(ValueError, match="compile"):
        uncompiled.fit(_images(20), epochs=1, verbose=0)
    opt = keras.optimizers.Adam()
    with pytest.raises(TypeError):
        uncompiled.compile(optimizer=opt, d_optimizer=opt)
    with pytest.raises(TypeError):
        uncompiled.compile(optimizer=opt)


@pytest.mark.parametrize("kind", ["wae", "aae"])
def test_save_load_safe_mode_round_trip(tmp_path, kind):
    model = _small_wae(lam=5.0) if kind == "wae" else _small_aae(lam=0.5)
    x = _images(40)
    model.fit(x, epochs=1, batch_size=20, verbose=0)
    path = tmp_path / f"{kind}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.lam == model.lam and loaded.seed == model.seed
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), atol=1e-6)
    np.testing.assert_allclose(loaded.sample_means(4, seed=3), model.sample_means(4, seed=3), atol=1e-6)
    if kind == "aae":
        np.testing.assert_allclose(_np(loaded.discriminator(x[:, :LATENT])), _np(model.discriminator(x[:, :LATENT])),
                                   atol=1e-6)
    loaded.fit(x, epochs=1, batch_size=20, verbose=0)  # training goes on after loading


def test_builders_make_the_lab_models():
    wae, plain, model = aae.build_wae(8, lam=100.0), aae.build_wae(8, lam=0.0), aae.build_aae(8)
    assert wae.name == "wae" and plain.name == "autoencoder" and model.name == "aae"
    assert wae.encoder.output.shape[-1] == 8 and model.discriminator.inputs[0].shape[-1] == 8
    assert [layer.units for layer in wae.decoder.layers if hasattr(layer, "units")] == [256, 512, 784]
