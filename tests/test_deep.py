"""labutils.deep: corruptions, noisy batches, median filter, conv / tied / stacked autoencoders."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from labutils import deep  # noqa: E402


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.random((12, 28, 28, 1)).astype(np.float32)


# ------------------------------------------------------------------ corruption

def test_corrupt_gaussian_and_masking_match_the_data_module(images):
    from labutils import data

    g = deep.corrupt(images, "gaussian", 0.5, seed=3)
    assert np.array_equal(g, data.gaussian_noise(images, 0.5, seed=3))
    assert g.dtype == np.float32 and g.min() >= 0 and g.max() <= 1 and not np.array_equal(g, images)
    m = deep.corrupt(images, "masking", 0.5, seed=3)
    assert np.array_equal(m, data.masking_noise(images, 0.5, seed=3))
    zeroed = (m == 0) & (images > 0)
    assert 0.4 < zeroed.mean() < 0.6, "about half of the pixels are masked"
    assert np.array_equal(m[~zeroed], images[~zeroed]), "masking only zeroes pixels"


def test_corrupt_level_zero_is_identity(images):
    assert np.array_equal(deep.corrupt(images, "gaussian", 0.0), images)
    assert np.array_equal(deep.corrupt(images, "masking", 0.0), images)


@pytest.mark.parametrize("kind, level, error", [("salt", 0.5, ValueError), (3, 0.5, TypeError),
                                                ("gaussian", -0.1, ValueError), ("masking", 1.5, ValueError)])
def test_corrupt_rejects_bad_arguments(images, kind, level, error):
    with pytest.raises(error):
        deep.corrupt(images, kind, level)


def test_corrupt_rejects_0_255_pixels(images):
    with pytest.raises(ValueError, match="255"):
        deep.corrupt(images * 255, "gaussian", 0.5)


def test_noisy_batches_give_fresh_noise_every_epoch(images):
    ds = deep.NoisyBatches(images, "gaussian", 0.5, batch_size=5, seed=1)
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
        deep.NoisyBatches(images, "speckle", 0.5)
    with pytest.raises(ValueError):
        deep.NoisyBatches(images, "masking", 2.0)
    with pytest.raises(ValueError):
        deep.NoisyBatches(images * 255, "gaussian", 0.5)
    with pytest.raises(ValueError):
        deep.NoisyBatches(images, "gaussian", 0.5, batch_size=0)


# ------------------------------------------------------------------ median filter

def test_median_filter_removes_an_isolated_speck_and_keeps_shapes():
    x = np.zeros((2, 28, 28, 1), np.float32)
    x[0, 5, 5, 0] = 1.0          # a speck: gone
    x[1, 10:20, 10:20, 0] = 1.0  # a block: its inside survives
    out = deep.median_filter(x, 3)
    assert out.shape == x.shape and out.dtype == np.float32
    assert out[0].max() == 0.0
    assert out[1, 15, 15, 0] == 1.0 and out[1, 10, 10, 0] == 0.0, "corners of the block are eroded"
    flat = deep.median_filter(x.reshape(2, 784), 3)
    assert flat.shape == (2, 784) and np.array_equal(flat.reshape(x.shape), out)
    assert np.array_equal(deep.median_filter(x, 1), x)


def test_median_filter_does_not_mix_images():
    x = np.zeros((3, 28, 28), np.float32)
    x[1] = 1.0
    out = deep.median_filter(x, 3)
    assert out[0].max() == 0 and out[2].max() == 0 and out[1].min() == 1


@pytest.mark.parametrize("size, error", [(4, ValueError), (0, ValueError), (3.0, TypeError)])
def test_median_filter_rejects_bad_sizes(images, size, error):
    with pytest.raises(error):
        deep.median_filter(images, size)


def test_median_filter_rejects_bad_images(images):
    with pytest.raises(ValueError):
        deep.median_filter(images[0, :, :, 0].ravel(), 3)  # one unbatched image, shape (784,)
    with pytest.raises(ValueError):
        deep.median_filter(images * 2, 3)


# ------------------------------------------------------------------ conv autoencoder

def test_conv_autoencoder_shapes_and_names():
    ae, enc, dec = deep.conv_autoencoder(filters=(4, 8))
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    assert enc(x).shape == (3, 7, 7, 8)
    out = np.asarray(ae(x))
    assert out.shape == x.shape and out.min() > 0 and out.max() < 1
    assert ae.get_layer("encoder") is enc and ae.get_layer("decoder") is dec
    ae2, enc2, _ = deep.conv_autoencoder(filters=(4, 8), latent_dim=16)
    assert enc2(x).shape == (3, 16) and enc2.get_layer("code").units == 16
    assert ae2(x).shape == x.shape


@pytest.mark.parametrize("kwargs, error", [
    (dict(filters=()), ValueError), (dict(filters=(4, 8, 16)), ValueError),  # 28 not divisible by 8
    (dict(latent_dim=0), ValueError), (dict(filters=(4.0,)), TypeError), (dict(input_shape=(28, 28)), ValueError),
])
def test_conv_autoencoder_rejects_bad_sizes(kwargs, error):
    with pytest.raises(error):
        deep.conv_autoencoder(**kwargs)


def test_conv_denoising_autoencoder_learns_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    clean = np.zeros((64, 28, 28, 1), np.float32)
    for i in range(64):  # bars at random rows: a simple "manifold"
        clean[i, rng.integers(4, 24), 4:24] = 1.0
    ae, _, _ = deep.conv_autoencoder(filters=(8, 16))
    ae.compile(keras.optimizers.Adam(5e-3), "binary_crossentropy")
    noisy = deep.corrupt(clean, "gaussian", 0.3, seed=9)
    before = ae.evaluate(noisy, clean, verbose=0)
    ae.fit(deep.NoisyBatches(clean, "gaussian", 0.3, batch_size=16), epochs=8, verbose=0)
    after = ae.evaluate(noisy, clean, verbose=0)
    assert after < 0.7 * before
    path = tmp_path / "dae.keras"
    ae.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert np.allclose(loaded.predict(noisy, verbose=0), ae.predict(noisy, verbose=0), atol=1e-6)


# ------------------------------------------------------------------ tied weights

def test_tied_autoencoder_shares_kernels_and_halves_parameters():
    from labutils import models

    tied, enc = deep.tied_dense_autoencoder(784, 32, hidden_units=(128, 64))
    untied, _, _ = models.dense_autoencoder(784, 32, hidden_units=(128, 64))
    assert deep.count_params(untied) == 222_384
    assert deep.count_params(tied) == 111_792 == tied.count_params()
    dt = tied.get_layer("reconstruction")
    assert isinstance(dt, deep.DenseTranspose) and dt.dense is tied.get_layer("encoder_hidden_1")
    x = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    assert enc(x).shape == (5, 32)
    # the reconstruction layer computes sigmoid(h W1^T + b)
    h = np.asarray(keras.Model(tied.input, tied.get_layer("decoder_hidden_1").output)(x))
    expected = 1 / (1 + np.exp(-(h @ dt.dense.kernel.numpy().T + dt.bias.numpy())))
    assert np.allclose(np.asarray(tied(x)), expected, atol=1e-5)


def test_tied_training_keeps_the_tie_and_survives_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    tied, _ = deep.tied_dense_autoencoder(784, 8, hidden_units=(16,))
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
    assert deep.count_params(loaded) == deep.count_params(tied)
    loaded.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    loaded.fit(x, x, epochs=1, verbose=0)
    assert loaded.get_layer("reconstruction").dense.kernel is loaded.get_layer("encoder_hidden_1").kernel


def test_dense_transpose_config_round_trip_and_errors():
    dense = keras.layers.Dense(4, name="d")
    dense.build((None, 6))
    layer = deep.DenseTranspose(dense, activation="relu", name="dt")
    out = layer(np.ones((2, 4), np.float32))
    assert out.shape == (2, 6)
    config = layer.get_config()
    assert config["activation"] == "relu" and config["dense"]["config"]["units"] == 4
    copy = deep.DenseTranspose.from_config(config)
    assert isinstance(copy.dense, keras.layers.Dense) and copy.dense.units == 4
    with pytest.raises(TypeError, match="Dense"):
        deep.DenseTranspose(keras.layers.Conv2D(2, 3))
    with pytest.raises(ValueError, match="built"):
        deep.DenseTranspose(keras.layers.Dense(3))(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="width 4"):
        deep.DenseTranspose(dense)(np.ones((1, 5), np.float32))


def test_count_params_rejects_non_models():
    with pytest.raises(TypeError):
        deep.count_params("model")


@pytest.mark.parametrize("kwargs, error", [(dict(latent_dim=0), ValueError), (dict(hidden_units=(8.5,)), TypeError)])
def test_tied_autoencoder_rejects_bad_sizes(kwargs, error):
    with pytest.raises(error):
        deep.tied_dense_autoencoder(784, **{"latent_dim": 8, **kwargs})


# ------------------------------------------------------------------ greedy layer-wise pretraining

def test_greedy_layerwise_pretraining_stacks_trained_layers():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((128, 20)).astype(np.float32)
    ae, enc, info = deep.greedy_layerwise_pretrain(x, units=(12, 6, 3), epochs=2, batch_size=32,
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
        deep.greedy_layerwise_pretrain(x, **args)


def test_greedy_layerwise_pretraining_rejects_images_and_pixels():
    with pytest.raises(ValueError, match="flat"):
        deep.greedy_layerwise_pretrain(np.zeros((4, 28, 28), np.float32), units=(4,), epochs=1)
    with pytest.raises(ValueError, match="255"):
        deep.greedy_layerwise_pretrain(np.full((4, 20), 200.0), units=(4,), epochs=1)


# ------------------------------------------------------------------ t-SNE

def test_tsne_keeps_separated_clusters_apart():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    codes = rng.normal(size=(80, 8)) + 20 * labels[:, None]
    emb = deep.tsne(codes, seed=0, perplexity=10, max_iter=250)
    assert emb.shape == (80, 2) and emb.dtype == np.float64
    centre_gap = np.linalg.norm(emb[labels == 0].mean(0) - emb[labels == 1].mean(0))
    spread = max(emb[labels == 0].std(0).max(), emb[labels == 1].std(0).max())
    assert centre_gap > 3 * spread
    assert np.array_equal(emb, deep.tsne(codes, seed=0, perplexity=10, max_iter=250)), "same seed, same picture"


@pytest.mark.parametrize("codes, kwargs, error", [
    (np.zeros(10), {}, ValueError), (np.full((40, 2), np.nan), {}, ValueError),
    (np.zeros((20, 2)), dict(perplexity=30), ValueError), (np.zeros((40, 2)), dict(max_iter=100), ValueError),
    (np.zeros((40, 2)), dict(max_iter=300.0), TypeError), ([["a", "b"]], {}, TypeError),
])
def test_tsne_rejects_bad_input(codes, kwargs, error):
    with pytest.raises(error):
        deep.tsne(codes, **kwargs)


# ------------------------------------------------------------------ plots.image_rows (labs 05-06)

def test_image_rows_draws_one_labelled_row_per_batch(images):
    from labutils import plots

    fig = plots.image_rows({"clean": images, "noisy": deep.corrupt(images, "gaussian", 0.5),
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
    from labutils import plots

    with pytest.raises(error):
        plots.image_rows(rows, n=n)
