"""Tests for labutils.autoencoders: the dense builder and its recipe, the KL sparsity layer, the contractive
autoencoder, code probes, measurements, baselines, corruptions, the median filter, convolutional, tied and
stacked autoencoders, t-SNE and the figures."""
import numpy as np
import pytest
from matplotlib.figure import Figure

keras = pytest.importorskip("keras")

from labutils import autoencoders, backends  # noqa: E402


def _data(n=64, d=16, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


# ----------------------------------------------------------------- builders

def test_dense_autoencoder_shapes_and_names():
    ae, enc, dec = autoencoders.dense_autoencoder(16, 4, hidden_units=(8,))
    x = _data()
    assert enc.predict(x, verbose=0).shape == (64, 4)
    out = ae.predict(x, verbose=0)
    assert out.shape == (64, 16) and out.min() >= 0 and out.max() <= 1
    assert enc.get_layer("code").units == 4
    assert dec.get_layer("reconstruction").units == 16


def test_dense_autoencoder_rejects_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        autoencoders.dense_autoencoder(16, 0)
    with pytest.raises(TypeError, match="int"):
        autoencoders.dense_autoencoder(16, 2.5)
    with pytest.raises(ValueError, match="pair"):
        autoencoders.dense_autoencoder(16, 4, kl_sparsity=0.05)


def test_unit_norm_decoder_keeps_filters_unit_length():
    ae, _, dec = autoencoders.dense_autoencoder(16, 4, unit_norm_decoder=True, code_regularizer=keras.regularizers.L1(1e-2))
    autoencoders.fit_autoencoder(ae, _data(), epochs=2, batch_size=16, verbose=0)
    kernel = dec.get_layer("reconstruction").kernel.numpy()  # (4, 16): one filter per row
    assert np.allclose(np.linalg.norm(kernel, axis=1), 1.0, atol=1e-4)


def test_linear_autoencoder_is_affine_with_biases():
    """No activations and biases in both layers: the map is affine, x -> x W_e W_d + c (Baldi & Hornik's setting)."""
    keras.utils.set_random_seed(0)
    ae, enc, dec = autoencoders.dense_autoencoder(16, 3, activation="linear", output_activation="linear")
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
    ae, _, _ = autoencoders.dense_autoencoder(16, 4)
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
    expected = autoencoders.kl_sparsity(0.1, h.mean(axis=0))
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
        ae, enc, _ = autoencoders.dense_autoencoder(16, 8, activation="sigmoid", kl_sparsity=(0.05, beta))
        autoencoders.fit_autoencoder(ae, x, epochs=30, batch_size=32, learning_rate=1e-2, verbose=0)
        means[beta] = float(enc.predict(x, verbose=0).mean())
    assert means[1.0] < 0.15 < means[0.0], means


def test_sparse_autoencoder_round_trip(tmp_path):
    ae, _, _ = autoencoders.dense_autoencoder(16, 4, activation="sigmoid", kl_sparsity=(0.1, 0.5),
                                             code_regularizer=keras.regularizers.L1(1e-3), unit_norm_decoder=True)
    x = _data(8)
    path = tmp_path / "sparse.keras"
    ae.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(loaded.predict(x, verbose=0), ae.predict(x, verbose=0), atol=1e-6)
    layer = loaded.get_layer("encoder").get_layer("kl_sparsity")
    assert isinstance(layer, autoencoders.KLSparsity) and layer.rho == 0.1 and layer.beta == 0.5


# ----------------------------------------------------------------- contractive

def test_contractive_penalty_matches_automatic_differentiation():
    """The closed form (Rifai et al. 2011, eq. 5) equals ||J||_F^2 from the backend's automatic differentiation."""
    keras.utils.set_random_seed(0)
    model = autoencoders.build_contractive_autoencoder(12, 5, compile=False)
    x = _data(10, 12).astype(np.float32)
    by_autodiff = backends.jacobian_squared_norm(lambda t: model.encoder(t, training=False), x)
    h = model.encoder(x)
    closed_form = keras.ops.convert_to_numpy(autoencoders.contractive_penalty(h, model.code_layer.kernel))
    assert closed_form.shape == (10,)
    assert np.allclose(closed_form, by_autodiff, rtol=1e-4)
    assert np.allclose(autoencoders.encoder_jacobian_norm(model.encoder, x, batch_size=3), by_autodiff, rtol=1e-4)


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
    _, enc, dec = autoencoders.dense_autoencoder(16, 4, activation="relu")
    with pytest.raises(ValueError, match="sigmoid"):
        autoencoders.ContractiveAutoencoder(enc, dec)
    _, deep, _ = autoencoders.dense_autoencoder(16, 4, hidden_units=(8,), activation="sigmoid")
    with pytest.raises(ValueError, match="one-layer"):
        autoencoders.ContractiveAutoencoder(deep, dec)
    _, enc, _ = autoencoders.dense_autoencoder(16, 4, activation="sigmoid")
    _, _, dec3 = autoencoders.dense_autoencoder(16, 3)
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


# ----------------------------------------------------------------- measurements


def test_reconstruction_mse_accepts_values_outside_unit_interval():
    x = np.zeros((2, 4))
    assert autoencoders.reconstruction_mse(x, x - 0.5) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="same shape"):
        autoencoders.reconstruction_mse(x, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="finite"):
        autoencoders.reconstruction_mse(x, np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="batch"):
        autoencoders.reconstruction_mse(np.zeros(4), np.zeros(4))


def test_fraction_of_variance_unexplained():
    x = np.random.default_rng(0).random((50, 6))
    assert autoencoders.fraction_of_variance_unexplained(x, x) == 0.0
    assert autoencoders.fraction_of_variance_unexplained(x, np.tile(x.mean(0), (50, 1))) == pytest.approx(1.0)
    assert autoencoders.fraction_of_variance_unexplained(x, np.zeros_like(x)) > 1.0
    with pytest.raises(ValueError, match="no variance"):
        autoencoders.fraction_of_variance_unexplained(np.ones((3, 2)), np.ones((3, 2)))


def test_principal_angles_basis_free():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 10))
    mixed = rng.standard_normal((3, 3)) @ a  # same row space, another basis
    assert np.allclose(autoencoders.principal_angles(a, mixed), 0.0, atol=1e-5)
    eye = np.eye(4)
    angles = autoencoders.principal_angles(eye[:2], np.array([[1.0, 0, 0, 0], [0, 1.0, 1.0, 0]]))
    assert angles[0] == pytest.approx(45.0) and angles[1] == pytest.approx(0.0, abs=1e-6)
    assert autoencoders.principal_angles(eye[:2], eye[2:])[0] == pytest.approx(90.0)
    with pytest.raises(ValueError, match="rows of length"):
        autoencoders.principal_angles(eye[:2], np.eye(5)[:2])
    with pytest.raises(ValueError, match=r"\(k, d\)"):
        autoencoders.principal_angles(np.zeros(4), eye)
    with pytest.raises(TypeError):
        autoencoders.principal_angles([["a"]], eye)


def test_kl_sparsity():
    assert autoencoders.kl_sparsity(0.05, [0.05, 0.05]) == pytest.approx(0.0)
    expected = 0.1 * np.log(0.1 / 0.5) + 0.9 * np.log(0.9 / 0.5)
    assert autoencoders.kl_sparsity(0.1, [0.5]) == pytest.approx(expected)
    assert autoencoders.kl_sparsity(0.1, [0.5, 0.5]) == pytest.approx(2 * expected)
    with pytest.raises(ValueError, match="strictly"):
        autoencoders.kl_sparsity(0.1, [0.0])
    with pytest.raises(ValueError, match="strictly"):
        autoencoders.kl_sparsity(1.0, [0.5])


def test_activation_stats_is_scale_free():
    h = np.array([[0.0, 1.0], [2.0, 0.01], [4.0, 1.0], [0.1, 0.0]])
    mean, share = autoencoders.activation_stats(h, rel_tol=0.05)
    assert np.allclose(mean, h.mean(axis=0))
    # unit 0: 0 and 0.1 <= 0.05*4 = 0.2 -> 2 near zero; unit 1: 0.01 and 0 <= 0.05 -> 2 near zero
    assert share == pytest.approx(4 / 8)
    assert autoencoders.activation_stats(h * 1e-3, rel_tol=0.05)[1] == pytest.approx(share), "a smaller scale is not sparser"
    assert autoencoders.activation_stats(np.zeros((3, 2)))[1] == 1.0, "a dead unit is zero everywhere"
    with pytest.raises(ValueError, match="rel_tol|between"):
        autoencoders.activation_stats(h, rel_tol=1.0)
    with pytest.raises(ValueError, match=r"\(n, units\)"):
        autoencoders.activation_stats(np.zeros(3))


def test_sensitivity_ratio():
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((5, 8))
    codes = rng.standard_normal((5, 8))
    assert autoencoders.sensitivity_ratio(codes, codes + eps, eps) == pytest.approx(1.0)
    assert autoencoders.sensitivity_ratio(codes, codes + 0.5 * eps, eps) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-zero"):
        autoencoders.sensitivity_ratio(codes, codes, np.zeros((5, 8)))
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        autoencoders.sensitivity_ratio(codes, codes, eps[:4])


def test_filter_grid():
    w = np.random.default_rng(0).standard_normal((784, 20))
    fig = autoencoders.filter_grid(w, n=20, ncols=10)
    assert len([ax for ax in fig.axes if ax.images]) == 20
    assert len(autoencoders.filter_grid(w.T, n=5, axis=1).axes) == 5
    constant = autoencoders.filter_grid(np.zeros((784, 2)), n=2)  # dead filters draw grey, no division by zero
    assert np.allclose(constant.axes[0].images[0].get_array(), 0.5)
    with pytest.raises(ValueError, match="only 20 filters"):
        autoencoders.filter_grid(w, n=21)
    with pytest.raises(ValueError, match="axis"):
        autoencoders.filter_grid(w, axis=2)
    with pytest.raises(ValueError, match="square"):
        autoencoders.filter_grid(np.zeros((785, 2)), n=2)
    with pytest.raises(ValueError, match="2-D"):
        autoencoders.filter_grid(np.zeros(784))


# ----------------------------------------------------------------- denoising, convolutional, tied, stacked; t-SNE


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.random((12, 28, 28, 1)).astype(np.float32)


def test_corrupt_gaussian_and_masking_match_the_data_module(images):
    from labutils import data

    g = autoencoders.corrupt(images, "gaussian", 0.5, seed=3)
    assert np.array_equal(g, data.gaussian_noise(images, 0.5, seed=3))
    assert g.dtype == np.float32 and g.min() >= 0 and g.max() <= 1 and not np.array_equal(g, images)
    m = autoencoders.corrupt(images, "masking", 0.5, seed=3)
    assert np.array_equal(m, data.masking_noise(images, 0.5, seed=3))
    zeroed = (m == 0) & (images > 0)
    assert 0.4 < zeroed.mean() < 0.6, "about half of the pixels are masked"
    assert np.array_equal(m[~zeroed], images[~zeroed]), "masking only zeroes pixels"


def test_corrupt_level_zero_is_identity(images):
    assert np.array_equal(autoencoders.corrupt(images, "gaussian", 0.0), images)
    assert np.array_equal(autoencoders.corrupt(images, "masking", 0.0), images)


@pytest.mark.parametrize("kind, level, error", [("salt", 0.5, ValueError), (3, 0.5, TypeError),
                                                ("gaussian", -0.1, ValueError), ("masking", 1.5, ValueError)])
def test_corrupt_rejects_bad_arguments(images, kind, level, error):
    with pytest.raises(error):
        autoencoders.corrupt(images, kind, level)


def test_corrupt_rejects_0_255_pixels(images):
    with pytest.raises(ValueError, match="255"):
        autoencoders.corrupt(images * 255, "gaussian", 0.5)


def test_noisy_batches_give_fresh_noise_every_epoch(images):
    ds = autoencoders.NoisyBatches(images, "gaussian", 0.5, batch_size=5, seed=1)
    assert len(ds) == 3
    noisy, clean = ds[0]
    assert noisy.shape == clean.shape == (5, 28, 28, 1)
    assert len(ds[2][0]) == 2, "the last batch holds the remainder"
    # the clean targets are training images; the noise differs between epochs
    assert any(np.array_equal(clean[0], im) for im in images)
    all_clean = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert np.allclose(np.sort(all_clean.ravel()), np.sort(images.ravel())), "each image once per epoch"
    again = ds[0]
    assert np.array_equal(again[0], noisy), "within an epoch a batch is reproducible"
    ds.on_epoch_end()
    noisy_2, clean_2 = ds[0]
    diff_noise = not np.array_equal(noisy_2 - clean_2, noisy - clean)
    assert diff_noise, "the next epoch draws new noise"


def test_noisy_batches_validate_before_fit(images):
    with pytest.raises(ValueError):
        autoencoders.NoisyBatches(images, "speckle", 0.5)
    with pytest.raises(ValueError):
        autoencoders.NoisyBatches(images, "masking", 2.0)
    with pytest.raises(ValueError):
        autoencoders.NoisyBatches(images * 255, "gaussian", 0.5)
    with pytest.raises(ValueError):
        autoencoders.NoisyBatches(images, "gaussian", 0.5, batch_size=0)


def test_median_filter_removes_an_isolated_speck_and_keeps_shapes():
    x = np.zeros((2, 28, 28, 1), np.float32)
    x[0, 5, 5, 0] = 1.0          # a speck: gone
    x[1, 10:20, 10:20, 0] = 1.0  # a block: its inside survives
    out = autoencoders.median_filter(x, 3)
    assert out.shape == x.shape and out.dtype == np.float32
    assert out[0].max() == 0.0
    assert out[1, 15, 15, 0] == 1.0 and out[1, 10, 10, 0] == 0.0, "corners of the block are eroded"
    flat = autoencoders.median_filter(x.reshape(2, 784), 3)
    assert flat.shape == (2, 784) and np.array_equal(flat.reshape(x.shape), out)
    assert np.array_equal(autoencoders.median_filter(x, 1), x)


def test_median_filter_does_not_mix_images():
    x = np.zeros((3, 28, 28), np.float32)
    x[1] = 1.0
    out = autoencoders.median_filter(x, 3)
    assert out[0].max() == 0 and out[2].max() == 0 and out[1].min() == 1


@pytest.mark.parametrize("size, error", [(4, ValueError), (0, ValueError), (3.0, TypeError)])
def test_median_filter_rejects_bad_sizes(images, size, error):
    with pytest.raises(error):
        autoencoders.median_filter(images, size)


def test_median_filter_rejects_bad_images(images):
    with pytest.raises(ValueError):
        autoencoders.median_filter(images[0, :, :, 0].ravel(), 3)  # one unbatched image, shape (784,)
    with pytest.raises(ValueError):
        autoencoders.median_filter(images * 2, 3)


def test_conv_autoencoder_shapes_and_names():
    ae, enc, dec = autoencoders.conv_autoencoder(filters=(4, 8))
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    assert enc(x).shape == (3, 7, 7, 8)
    out = keras.ops.convert_to_numpy(ae(x))
    assert out.shape == x.shape and out.min() > 0 and out.max() < 1
    assert ae.get_layer("encoder") is enc and ae.get_layer("decoder") is dec
    ae2, enc2, _ = autoencoders.conv_autoencoder(filters=(4, 8), latent_dim=16)
    assert enc2(x).shape == (3, 16) and enc2.get_layer("code").units == 16
    assert ae2(x).shape == x.shape


@pytest.mark.parametrize("kwargs, error", [
    (dict(filters=()), ValueError), (dict(filters=(4, 8, 16)), ValueError),  # 28 not divisible by 8
    (dict(latent_dim=0), ValueError), (dict(filters=(4.0,)), TypeError), (dict(input_shape=(28, 28)), ValueError),
])
def test_conv_autoencoder_rejects_bad_sizes(kwargs, error):
    with pytest.raises(error):
        autoencoders.conv_autoencoder(**kwargs)


def test_conv_denoising_autoencoder_learns_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    clean = np.zeros((64, 28, 28, 1), np.float32)
    for i in range(64):  # bars at random rows: a simple "manifold"
        clean[i, rng.integers(4, 24), 4:24] = 1.0
    ae, _, _ = autoencoders.conv_autoencoder(filters=(8, 16))
    ae.compile(keras.optimizers.Adam(5e-3), "binary_crossentropy")
    noisy = autoencoders.corrupt(clean, "gaussian", 0.3, seed=9)
    before = ae.evaluate(noisy, clean, verbose=0)
    ae.fit(autoencoders.NoisyBatches(clean, "gaussian", 0.3, batch_size=16), epochs=8, verbose=0)
    after = ae.evaluate(noisy, clean, verbose=0)
    assert after < 0.7 * before
    path = tmp_path / "dae.keras"
    ae.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(loaded.predict(noisy, verbose=0), ae.predict(noisy, verbose=0), atol=1e-6)


def test_tied_autoencoder_shares_kernels_and_halves_parameters():
    tied, enc = autoencoders.tied_dense_autoencoder(784, 32, hidden_units=(128, 64))
    untied, _, _ = autoencoders.dense_autoencoder(784, 32, hidden_units=(128, 64))
    assert autoencoders.count_params(untied) == 222_384
    assert autoencoders.count_params(tied) == 111_792 == tied.count_params()
    dt = tied.get_layer("reconstruction")
    assert isinstance(dt, autoencoders.DenseTranspose) and dt.dense is tied.get_layer("encoder_hidden_1")
    x = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    assert enc(x).shape == (5, 32)
    # the reconstruction layer computes sigmoid(h W1^T + b)
    h = keras.ops.convert_to_numpy(keras.Model(tied.input, tied.get_layer("decoder_hidden_1").output)(x))
    expected = 1 / (1 + np.exp(-(h @ dt.dense.kernel.numpy().T + dt.bias.numpy())))
    assert np.allclose(keras.ops.convert_to_numpy(tied(x)), expected, atol=1e-5)


def test_tied_training_keeps_the_tie_and_survives_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    tied, _ = autoencoders.tied_dense_autoencoder(784, 8, hidden_units=(16,))
    tied.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    x = np.random.default_rng(1).random((64, 784)).astype(np.float32)
    before = tied.get_layer("encoder_hidden_1").kernel.numpy().copy()
    tied.fit(x, x, epochs=2, verbose=0)
    assert not np.allclose(before, tied.get_layer("encoder_hidden_1").kernel.numpy()), "the kernel was trained"
    path = tmp_path / "tied.keras"
    tied.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert np.array_equal(loaded.predict(x, verbose=0), tied.predict(x, verbose=0))
    assert loaded.get_layer("reconstruction").dense is loaded.get_layer("encoder_hidden_1"), "the tie survives"
    assert autoencoders.count_params(loaded) == autoencoders.count_params(tied)
    loaded.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    loaded.fit(x, x, epochs=1, verbose=0)
    assert loaded.get_layer("reconstruction").dense.kernel is loaded.get_layer("encoder_hidden_1").kernel


def test_dense_transpose_config_round_trip_and_errors():
    dense = keras.layers.Dense(4, name="d")
    dense.build((None, 6))
    layer = autoencoders.DenseTranspose(dense, activation="relu", name="dt")
    out = layer(np.ones((2, 4), np.float32))
    assert out.shape == (2, 6)
    config = layer.get_config()
    assert config["activation"] == "relu" and config["dense"]["config"]["units"] == 4
    copy = autoencoders.DenseTranspose.from_config(config)
    assert isinstance(copy.dense, keras.layers.Dense) and copy.dense.units == 4
    with pytest.raises(TypeError, match="Dense"):
        autoencoders.DenseTranspose(keras.layers.Conv2D(2, 3))
    with pytest.raises(ValueError, match="built"):
        autoencoders.DenseTranspose(keras.layers.Dense(3))(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="width 4"):
        autoencoders.DenseTranspose(dense)(np.ones((1, 5), np.float32))


def test_count_params_rejects_non_models():
    with pytest.raises(TypeError):
        autoencoders.count_params("model")


@pytest.mark.parametrize("kwargs, error", [(dict(latent_dim=0), ValueError), (dict(hidden_units=(8.5,)), TypeError)])
def test_tied_autoencoder_rejects_bad_sizes(kwargs, error):
    with pytest.raises(error):
        autoencoders.tied_dense_autoencoder(784, **{"latent_dim": 8, **kwargs})


def test_greedy_layerwise_pretraining_stacks_trained_layers():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((128, 20)).astype(np.float32)
    ae, enc, info = autoencoders.greedy_layerwise_pretrain(x, units=(12, 6, 3), epochs=2, batch_size=32,
                                                   validation_data=x[:16])
    assert enc(x).shape == (128, 3) and ae(x).shape == (128, 20)
    assert [layer.name for layer in enc.layers[1:]] == ["encoder_hidden_1", "encoder_hidden_2", "code"]
    assert ae.layers[-1].name == "reconstruction" and ae.layers[-1].units == 20
    assert len(info["histories"]) == 3 and info["seconds"] > 0
    for h in info["histories"]:
        assert len(h["loss"]) == 2 and "val_loss" in h
        assert h["loss"][-1] < h["loss"][0], "each shallow autoencoder learns"
    ae.compile("adam", "binary_crossentropy")  # ready for fine-tuning
    ae.fit(x, x, epochs=1, verbose=0)


@pytest.mark.parametrize("kwargs, error", [
    (dict(units=()), ValueError), (dict(epochs=0), ValueError), (dict(epochs=1.5), TypeError),
    (dict(validation_data=np.zeros((3, 7), np.float32)), ValueError), (dict(optimizer="rmsprop"), ValueError),
])
def test_greedy_layerwise_pretraining_rejects_bad_arguments(kwargs, error):
    x = np.random.default_rng(0).random((16, 20)).astype(np.float32)
    args = {"units": (4,), "epochs": 1, **kwargs}
    with pytest.raises(error):
        autoencoders.greedy_layerwise_pretrain(x, **args)


def test_greedy_layerwise_pretraining_rejects_images_and_pixels():
    with pytest.raises(ValueError, match="flat"):
        autoencoders.greedy_layerwise_pretrain(np.zeros((4, 28, 28), np.float32), units=(4,), epochs=1)
    with pytest.raises(ValueError, match="255"):
        autoencoders.greedy_layerwise_pretrain(np.full((4, 20), 200.0), units=(4,), epochs=1)


def test_tsne_keeps_separated_clusters_apart():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    codes = rng.normal(size=(80, 8)) + 20 * labels[:, None]
    emb = autoencoders.tsne(codes, seed=0, perplexity=10, max_iter=250)
    assert emb.shape == (80, 2) and emb.dtype == np.float64
    centre_gap = np.linalg.norm(emb[labels == 0].mean(0) - emb[labels == 1].mean(0))
    spread = max(emb[labels == 0].std(0).max(), emb[labels == 1].std(0).max())
    assert centre_gap > 3 * spread
    assert np.array_equal(emb, autoencoders.tsne(codes, seed=0, perplexity=10, max_iter=250)), "same seed, same picture"


@pytest.mark.parametrize("codes, kwargs, error", [
    (np.zeros(10), {}, ValueError), (np.full((40, 2), np.nan), {}, ValueError),
    (np.zeros((20, 2)), dict(perplexity=30), ValueError), (np.zeros((40, 2)), dict(max_iter=100), ValueError),
    (np.zeros((40, 2)), dict(max_iter=300.0), TypeError), ([["a", "b"]], {}, TypeError),
])
def test_tsne_rejects_bad_input(codes, kwargs, error):
    with pytest.raises(error):
        autoencoders.tsne(codes, **kwargs)


def test_image_rows_draws_one_labelled_row_per_batch(images):
    fig = autoencoders.image_rows({"clean": images, "noisy": autoencoders.corrupt(images, "gaussian", 0.5),
                                   "flat": images.reshape(12, 784)}, n=4)
    axes = fig.get_axes()
    assert len(axes) == 12
    assert [axes[i].get_ylabel() for i in (0, 4, 8)] == ["clean", "noisy", "flat"]
    assert isinstance(fig._repr_png_(), bytes)


@pytest.mark.parametrize("rows, n, error", [
    ([], 3, TypeError), ({}, 3, ValueError), ({"a": np.zeros((2, 28, 28))}, 3, ValueError),
    ({"a": np.zeros((4, 28, 28)), "b": np.zeros((4, 14, 14))}, 3, ValueError),
    ({"a": np.full((4, 28, 28), 255.0)}, 3, ValueError), ({"a": np.zeros((4, 28, 28))}, 2.0, TypeError),
])
def test_image_rows_rejects_bad_input(rows, n, error):
    with pytest.raises(error):
        autoencoders.image_rows(rows, n=n)


# ----------------------------------------------------------------- figures


@pytest.fixture(scope="module")
def recon():
    rng = np.random.default_rng(2)
    return rng.random((12, 784), dtype=np.float32), rng.normal(size=(12, 32)), rng.random((12, 784), dtype=np.float32)


def test_reconstruction_figure_layout(recon):
    x, c, r = recon
    fig = autoencoders.reconstruction_figure(x, c, r, n=7)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 21  # 3 x n
    assert fig.axes[0].images[0].get_array().shape == (28, 28)
    assert fig.axes[7].images[0].get_array().shape == (8, 4)
    np.testing.assert_allclose(fig.axes[7].images[0].get_array(), c[0].reshape(8, 4), rtol=1e-6)
    np.testing.assert_allclose(fig.axes[14].images[0].get_array(), r[0].reshape(28, 28))
    assert [fig.axes[i].get_ylabel() for i in (0, 7, 14)] == ["original", "code (8x4)", "reconstruction"]
    assert fig._suptitle.get_text() == "original, code and reconstruction"
    titled = autoencoders.reconstruction_figure(x, c, r, n=2, title="ten test images")
    assert titled._suptitle.get_text() == "ten test images"


def test_reconstruction_figure_other_code_shape(recon):
    x, _, r = recon
    codes = np.zeros((12, 16))
    fig = autoencoders.reconstruction_figure(x.reshape(12, 28, 28, 1), codes, r, code_shape=(4, 4), n=2)
    assert len(fig.axes) == 6
    assert fig.axes[2].images[0].get_array().shape == (4, 4)


def test_reconstruction_figure_errors(recon):
    x, c, r = recon
    with pytest.raises(ValueError, match=r"code_shape \(8, 4\) holds 32 values; the codes have 16"):
        autoencoders.reconstruction_figure(x, c[:, :16], r)
    with pytest.raises(ValueError, match=r"code_shape \(4, 4\) holds 16 values; the codes have 32"):
        autoencoders.reconstruction_figure(x, c, r, code_shape=(4, 4))
    with pytest.raises(ValueError, match=r"batch sizes differ: originals 12, codes 11, reconstructions 12"):
        autoencoders.reconstruction_figure(x, c[:11], r)
    with pytest.raises(ValueError, match=r"n=13 but only 12 examples were given"):
        autoencoders.reconstruction_figure(x, c, r, n=13)
    with pytest.raises(ValueError, match=r"originals must be float values in \[0, 1\].*divide by 255"):
        autoencoders.reconstruction_figure(x * 255, c, r)
    with pytest.raises(ValueError, match=r"codes must be \(n, code_size\); got shape \(12, 8, 4\)"):
        autoencoders.reconstruction_figure(x, c.reshape(12, 8, 4), r)
    with pytest.raises(ValueError, match=r"originals \(12, 28, 28\) and reconstructions \(12, 14, 14\)"):
        autoencoders.reconstruction_figure(x, c, r[:, :196])
    with pytest.raises(TypeError, match=r"n must be an int"):
        autoencoders.reconstruction_figure(x, c, r, n=2.0)


# ----------------------------------------------------------------- the classic builder, lab 01's recipe, baselines


def _dense_units(model):
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_dense_autoencoder_classic_shapes_and_params():
    ae, enc, dec = autoencoders.dense_autoencoder()
    assert ae.count_params() == 784 * 32 + 32 + 32 * 784 + 784 == 50992
    assert enc.count_params() == 784 * 32 + 32
    assert tuple(ae.input.shape) == (None, 784) and tuple(ae.output.shape) == (None, 784)
    assert tuple(enc.output.shape) == (None, 32)
    assert tuple(dec.input.shape) == (None, 32) and tuple(dec.output.shape) == (None, 784)
    assert ae.get_layer("encoder") is enc and ae.get_layer("decoder") is dec
    code = enc.get_layer("code")
    assert code.units == 32 and code.activation.__name__ == "relu"
    assert dec.get_layer("reconstruction").activation.__name__ == "sigmoid"


def test_dense_autoencoder_composes_encoder_and_decoder():
    ae, enc, dec = autoencoders.dense_autoencoder(16, 4)
    x = np.random.default_rng(1).random((5, 16), dtype=np.float32)
    out = ae.predict(x, verbose=0)
    assert out.shape == (5, 16)
    assert out.min() > 0.0 and out.max() < 1.0  # sigmoid
    np.testing.assert_allclose(out, dec.predict(enc.predict(x, verbose=0), verbose=0), rtol=1e-5, atol=1e-6)


def test_dense_autoencoder_hidden_units_mirrored():
    ae, enc, dec = autoencoders.dense_autoencoder(64, 4, hidden_units=(16, 8), output_activation="linear")
    assert _dense_units(enc) == [16, 8, 4]
    assert _dense_units(dec) == [8, 16, 64]
    assert [la.name for la in enc.layers[1:]] == ["encoder_hidden_1", "encoder_hidden_2", "code"]
    assert [la.name for la in dec.layers[1:]] == ["decoder_hidden_1", "decoder_hidden_2", "reconstruction"]
    assert dec.get_layer("reconstruction").activation.__name__ == "linear"
    assert ae.count_params() == (64 * 16 + 16) + (16 * 8 + 8) + (8 * 4 + 4) + (4 * 8 + 8) + (8 * 16 + 16) + (16 * 64 + 64)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"latent_dim": 0}, ValueError, r"latent_dim must be positive; got 0"),
    ({"input_dim": 784.0}, TypeError, r"input_dim must be an int"),
    ({"hidden_units": (128, 0)}, ValueError, r"hidden_units\[i\] must be positive"),
    ({"hidden_units": ("64",)}, TypeError, r"hidden_units\[i\] must be an int"),
])
def test_dense_autoencoder_bad_sizes(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        autoencoders.dense_autoencoder(**kwargs)


def _trained_weights(fit):
    keras.utils.set_random_seed(0)
    ae, _, _ = autoencoders.dense_autoencoder(16, 4)
    fit(ae)
    return ae.get_weights()


@pytest.mark.parametrize("cosine", [False, True])
def test_fit_autoencoder_is_plain_adam_with_or_without_cosine_decay(tiny_data, cosine):
    x, _ = tiny_data

    def by_hand(ae):
        lr = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=2 * 3) if cosine else 1e-3
        ae.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy")
        ae.fit(x, x, epochs=2, batch_size=8, shuffle=True, verbose=0)

    def recipe(ae):
        history = autoencoders.fit_autoencoder(ae, x, epochs=2, loss="binary_crossentropy", batch_size=8,
                                               learning_rate=1e-3, cosine=cosine, verbose=0)
        assert ae.loss == "binary_crossentropy" and len(history.history["loss"]) == 2

    for a, b in zip(_trained_weights(by_hand), _trained_weights(recipe)):
        np.testing.assert_array_equal(a, b)


def test_fit_autoencoder_lab_01_recipe_watches_validation_data(tiny_data):
    x, _ = tiny_data
    keras.utils.set_random_seed(0)
    ae, enc, _ = autoencoders.dense_autoencoder(16, 4)
    history = autoencoders.fit_autoencoder(ae, x, epochs=2, loss="binary_crossentropy", batch_size=8,
                                           cosine=False, validation_data=x[:6], verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    # BCE of an untrained sigmoid model on uniform pixels is about 0.69 - 1.0 nats
    assert 0.3 < history.history["loss"][-1] < 1.5
    assert tuple(enc.output.shape) == (None, 4)
    assert float(keras.ops.convert_to_numpy(ae.optimizer.learning_rate)) == pytest.approx(1e-3)


@pytest.mark.parametrize("x, kwargs, exc, pattern", [
    (np.full((4, 4, 4), 0.5, np.float32), {}, ValueError, r"x_train must be \(n, 16\); got shape \(4, 4, 4\)"),
    (np.full((4, 16), 200.0), {}, ValueError, r"x_train must be float values in \[0, 1\].*divide by 255"),
    (np.full((4, 16), 0.5), {"validation_data": np.full((2, 16), 255.0)}, ValueError,
     r"validation_data must be float values in \[0, 1\]"),
    (np.full((4, 16), 0.5), {"epochs": 0}, ValueError, r"epochs must be positive"),
    (np.array([["a"] * 16]), {}, TypeError, r"x_train must be a numeric array"),
    (np.full((4, 16), 0.5), {"cosine": "no"}, TypeError, r"cosine must be True or False"),
])
def test_fit_autoencoder_errors(x, kwargs, exc, pattern):
    ae, _, _ = autoencoders.dense_autoencoder(16, 2)
    kwargs = {"epochs": 1, "cosine": False, **kwargs}
    with pytest.raises(exc, match=pattern):
        autoencoders.fit_autoencoder(ae, x, verbose=0, **kwargs)


def test_mean_image_reconstruction():
    x = np.random.default_rng(0).random((10, 28, 28, 1), dtype=np.float32)
    out = autoencoders.mean_image_reconstruction(x, 3)
    assert out.shape == (3, 784) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    for row in out:
        np.testing.assert_allclose(row, x.reshape(10, 784).mean(axis=0), rtol=1e-6)


def test_mean_image_reconstruction_errors():
    with pytest.raises(ValueError, match=r"x_train must be float values in \[0, 1\].*divide by 255"):
        autoencoders.mean_image_reconstruction(np.full((2, 784), 255.0), 1)
    with pytest.raises(ValueError, match=r"n must be positive"):
        autoencoders.mean_image_reconstruction(np.zeros((2, 784)), 0)
    with pytest.raises(TypeError, match=r"n must be an int"):
        autoencoders.mean_image_reconstruction(np.zeros((2, 784)), 1.5)


def test_pca_reconstruction_is_exact_for_rank_k_data():
    basis = np.random.default_rng(3).random((5, 100))  # data of rank 5 with entries in [0, 1)

    def make(m, seed):
        return (np.random.default_rng(seed).random((m, 5)) @ basis / 5).astype(np.float32)

    x_train, x_test = make(60, 1), make(20, 2)
    out = autoencoders.pca_reconstruction(x_train, x_test, n_components=5)
    assert out.shape == (20, 100) and out.dtype == np.float32
    np.testing.assert_allclose(out, x_test, atol=1e-4)
    # fewer components than the rank cannot be exact
    worse = autoencoders.pca_reconstruction(x_train, x_test, n_components=2)
    assert np.abs(worse - x_test).max() > 1e-3


def test_pca_reconstruction_shapes_and_range():
    rng = np.random.default_rng(4)
    x_train = rng.random((40, 28, 28), dtype=np.float32)
    x_test = rng.random((7, 784), dtype=np.float32)
    out = autoencoders.pca_reconstruction(x_train, x_test, n_components=8)
    assert out.shape == (7, 784)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_pca_reconstruction_clips_to_unit_interval():
    # training points on the line (t, 2t); the test point (1, 1) projects to (0.6, 1.2)
    t = np.linspace(0.0, 0.5, 11)
    x_train = np.stack([t, 2 * t], axis=1)
    out = autoencoders.pca_reconstruction(x_train, np.array([[1.0, 1.0]]), n_components=1)
    np.testing.assert_allclose(out, [[0.6, 1.0]], atol=1e-6)


@pytest.mark.parametrize("x_train, x_test, k, exc, pattern", [
    (np.zeros((10, 16)), np.zeros((2, 9)), 2, ValueError, r"x_train has 16 pixels per image, x_test 9"),
    (np.zeros((10, 16)), np.zeros((2, 16)), 10, ValueError, r"n_components=10 must be below min\(n_samples, n_pixels\) = 10"),
    (np.zeros((10, 16)), np.full((2, 16), 255.0), 2, ValueError, r"x_test must be float values in \[0, 1\].*divide by 255"),
    (np.zeros((10, 16)), np.zeros((2, 16)), 2.0, TypeError, r"n_components must be an int"),
])
def test_pca_reconstruction_errors(x_train, x_test, k, exc, pattern):
    with pytest.raises(exc, match=pattern):
        autoencoders.pca_reconstruction(x_train, x_test, n_components=k)
