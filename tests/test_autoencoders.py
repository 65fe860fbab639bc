"""labutils.autoencoders: builders, the KL sparsity layer, the contractive autoencoder and the code probes."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from labutils import autoencoders, metrics  # noqa: E402


def _data(n=64, d=16, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


# ----------------------------------------------------------------- builders

def test_build_autoencoder_shapes_and_names():
    ae, enc, dec = autoencoders.build_autoencoder(16, 4, hidden_units=(8,))
    x = _data()
    assert enc.predict(x, verbose=0).shape == (64, 4)
    out = ae.predict(x, verbose=0)
    assert out.shape == (64, 16) and out.min() >= 0 and out.max() <= 1
    assert enc.get_layer("code").units == 4
    assert dec.get_layer("reconstruction").units == 16


def test_build_autoencoder_rejects_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        autoencoders.build_autoencoder(16, 0)
    with pytest.raises(TypeError, match="int"):
        autoencoders.build_autoencoder(16, 2.5)
    with pytest.raises(ValueError, match="pair"):
        autoencoders.build_autoencoder(16, 4, kl_sparsity=0.05)


def test_unit_norm_decoder_keeps_filters_unit_length():
    ae, _, dec = autoencoders.build_autoencoder(16, 4, unit_norm_decoder=True, code_regularizer=keras.regularizers.L1(1e-2))
    autoencoders.fit_autoencoder(ae, _data(), epochs=2, batch_size=16, verbose=0)
    kernel = dec.get_layer("reconstruction").kernel.numpy()  # (4, 16): one filter per row
    assert np.allclose(np.linalg.norm(kernel, axis=1), 1.0, atol=1e-4)


def test_linear_autoencoder_is_affine_with_biases():
    """No activations and biases in both layers: the map is affine, x -> x W_e W_d + c (Baldi & Hornik's setting)."""
    keras.utils.set_random_seed(0)
    ae, enc, dec = autoencoders.linear_autoencoder(16, 3)
    for layer in (enc.get_layer("code"), dec.get_layer("reconstruction")):
        assert layer.use_bias and keras.activations.serialize(layer.activation) == "linear"
        layer.bias.assign(np.random.default_rng(1).normal(size=layer.bias.shape))
    x1, x2 = _data(5, 16, seed=2), _data(5, 16, seed=3)
    f = lambda x: ae.predict(x, verbose=0)  # noqa: E731
    assert np.allclose(f(0.3 * x1 + 0.7 * x2), 0.3 * f(x1) + 0.7 * f(x2), atol=1e-5)
    m = enc.get_layer("code").kernel.numpy() @ dec.get_layer("reconstruction").kernel.numpy()
    assert np.allclose(f(x1) - f(x2), (x1 - x2) @ m, atol=1e-5)
    assert np.linalg.matrix_rank(m) == 3, "rank at most the code size"


def test_fit_autoencoder_validates_before_training():
    ae, _, _ = autoencoders.build_autoencoder(16, 4)
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        autoencoders.fit_autoencoder(ae, _data(d=8), epochs=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        autoencoders.fit_autoencoder(ae, _data() * 255, epochs=1)
    with pytest.raises(TypeError, match="keras.Model"):
        autoencoders.fit_autoencoder("model", _data(), epochs=1)
    with pytest.raises(ValueError, match="learning_rate"):
        autoencoders.fit_autoencoder(ae, _data(), epochs=1, learning_rate=0)
    history = autoencoders.fit_autoencoder(ae, _data(), epochs=2, validation_data=_data(seed=1), verbose=0)
    assert len(history.history["val_loss"]) == 2


# ----------------------------------------------------------------- KL sparsity

def test_kl_sparsity_penalty_matches_numpy():
    layer = autoencoders.KLSparsity(rho=0.1, beta=2.0)
    h = np.random.default_rng(0).uniform(0.01, 0.99, (32, 5)).astype(np.float32)
    expected = metrics.kl_sparsity(0.1, h.mean(axis=0))
    assert float(layer.penalty(h)) == pytest.approx(expected, rel=1e-4)
    out = layer(h)
    assert np.allclose(out, h), "the layer passes its input through"
    assert float(layer.losses[0]) == pytest.approx(2.0 * expected, rel=1e-4)


def test_kl_sparsity_is_zero_at_target_and_rejects_bad_arguments():
    layer = autoencoders.KLSparsity(rho=0.05)
    assert float(layer.penalty(np.full((8, 3), 0.05, np.float32))) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        autoencoders.KLSparsity(rho=1.0)
    with pytest.raises(ValueError, match=">= 0"):
        autoencoders.KLSparsity(beta=-1.0)
    with pytest.raises(TypeError, match="number"):
        autoencoders.KLSparsity(rho="0.05")


def test_kl_sparsity_lowers_mean_activation():
    x = _data(256)
    means = {}
    for beta in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        ae, enc, _ = autoencoders.build_autoencoder(16, 8, activation="sigmoid", kl_sparsity=(0.05, beta))
        autoencoders.fit_autoencoder(ae, x, epochs=30, batch_size=32, learning_rate=1e-2, verbose=0)
        means[beta] = float(enc.predict(x, verbose=0).mean())
    assert means[1.0] < 0.15 < means[0.0], means


def test_sparse_autoencoder_round_trip(tmp_path):
    ae, _, _ = autoencoders.build_autoencoder(16, 4, activation="sigmoid", kl_sparsity=(0.1, 0.5),
                                             code_regularizer=keras.regularizers.L1(1e-3), unit_norm_decoder=True)
    x = _data(8)
    path = tmp_path / "sparse.keras"
    ae.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(loaded.predict(x, verbose=0), ae.predict(x, verbose=0), atol=1e-6)
    layer = loaded.get_layer("encoder").get_layer("kl_sparsity")
    assert isinstance(layer, autoencoders.KLSparsity) and layer.rho == 0.1 and layer.beta == 0.5


# ----------------------------------------------------------------- contractive

def test_contractive_penalty_matches_batch_jacobian():
    """The closed form (Rifai et al. 2011, eq. 5) equals ||J||_F^2 from GradientTape.batch_jacobian."""
    keras.utils.set_random_seed(0)
    model = autoencoders.build_contractive_autoencoder(12, 5, compile=False)
    x = tf.constant(_data(10, 12))
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = model.encoder(x)
    jac = tape.batch_jacobian(h, x)  # (10, 5, 12)
    by_autodiff = tf.reduce_sum(tf.square(jac), axis=[1, 2]).numpy()
    closed_form = np.asarray(autoencoders.contractive_penalty(h, model.code_layer.kernel))
    assert closed_form.shape == (10,)
    assert np.allclose(closed_form, by_autodiff, rtol=1e-4)
    assert np.allclose(autoencoders.encoder_jacobian_norm(model.encoder, x.numpy(), batch_size=3), by_autodiff, rtol=1e-4)


def test_contractive_penalty_rejects_mismatched_kernel():
    with pytest.raises(ValueError, match="units"):
        autoencoders.contractive_penalty(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32))


def test_contractive_training_shrinks_the_jacobian():
    x = _data(256)
    norms = {}
    for lam in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        model = autoencoders.build_contractive_autoencoder(16, 8, lam=lam, learning_rate=1e-2)
        history = model.fit(x, epochs=10, batch_size=32, verbose=0)
        assert set(history.history) >= {"loss", "reconstruction", "contraction"}
        norms[lam] = autoencoders.encoder_jacobian_norm(model.encoder, x).mean()
    assert norms[1.0] < 0.5 * norms[0.0], norms


def test_contractive_autoencoder_rejects_bad_parts():
    _, enc, dec = autoencoders.build_autoencoder(16, 4, activation="relu")
    with pytest.raises(ValueError, match="sigmoid"):
        autoencoders.ContractiveAutoencoder(enc, dec)
    _, deep, _ = autoencoders.build_autoencoder(16, 4, hidden_units=(8,), activation="sigmoid")
    with pytest.raises(ValueError, match="one-layer"):
        autoencoders.ContractiveAutoencoder(deep, dec)
    _, enc, _ = autoencoders.build_autoencoder(16, 4, activation="sigmoid")
    _, _, dec3 = autoencoders.build_autoencoder(16, 3)
    with pytest.raises(ValueError, match="code size"):
        autoencoders.ContractiveAutoencoder(enc, dec3)
    with pytest.raises(ValueError, match="reconstruction_loss"):
        autoencoders.ContractiveAutoencoder(enc, dec, reconstruction_loss="mae")
    with pytest.raises(ValueError, match=">= 0"):
        autoencoders.ContractiveAutoencoder(enc, dec, lam=-0.1)
    with pytest.raises(TypeError, match="keras.Model"):
        autoencoders.ContractiveAutoencoder("encoder", dec)


def test_contractive_autoencoder_round_trip(tmp_path):
    model = autoencoders.build_contractive_autoencoder(16, 4, lam=0.3, reconstruction_loss="binary_crossentropy")
    x = _data(32)
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "cae.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, autoencoders.ContractiveAutoencoder)
    assert loaded.lam == 0.3 and loaded.reconstruction_loss == "binary_crossentropy"
    assert np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


# ----------------------------------------------------------------- probes

def test_encoder_jacobian_norm_of_a_linear_encoder():
    inp = keras.Input((6,))
    enc = keras.Model(inp, keras.layers.Dense(3, use_bias=False)(inp))
    w = enc.layers[-1].kernel.numpy()
    norms = autoencoders.encoder_jacobian_norm(enc, _data(5, 6))
    assert np.allclose(norms, np.sum(w ** 2), rtol=1e-5)
    with pytest.raises(ValueError, match=r"\(n, 6\)"):
        autoencoders.encoder_jacobian_norm(enc, _data(5, 4))
    with pytest.raises(TypeError, match="keras.Model"):
        autoencoders.encoder_jacobian_norm(lambda x: x, _data(5, 6))


def test_code_sensitivity_of_identity_and_constant():
    inp = keras.Input((6,))
    identity = keras.Model(inp, keras.layers.Identity()(inp))
    assert autoencoders.code_sensitivity(identity, _data(20, 6), sigma=0.01) == pytest.approx(1.0, rel=1e-3)
    zero = keras.Model(inp, keras.layers.Dense(2, kernel_initializer="zeros")(inp))
    assert autoencoders.code_sensitivity(zero, _data(20, 6)) == 0.0
    with pytest.raises(ValueError, match="sigma"):
        autoencoders.code_sensitivity(identity, _data(20, 6), sigma=0.0)


def test_logistic_probe_separable_and_errors():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    feats = rng.normal(size=(90, 4)) + 5.0 * np.eye(3, 4)[y]
    result = autoencoders.logistic_probe(feats, y, feats, y, max_iter=500)
    assert result["accuracy"] > 0.95 and result["converged"] and result["n_iter"] >= 1
    stopped = autoencoders.logistic_probe(feats, y, feats, y, max_iter=1)
    assert stopped["converged"] is False
    with pytest.raises(ValueError, match="integer labels"):
        autoencoders.logistic_probe(feats, y.astype(float), feats, y)
    with pytest.raises(ValueError, match="columns"):
        autoencoders.logistic_probe(feats, y, feats[:, :3], y)
    with pytest.raises(ValueError, match="NaN"):
        autoencoders.logistic_probe(np.full((90, 4), np.nan), y, feats, y)
