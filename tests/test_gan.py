"""Lab 08's GAN: builders, the train_step (each optimizer updates only its own network), save/load
with safe_mode=True, sample generation, and the two callbacks."""
import keras
import numpy as np
import pytest

from labutils import classifiers, gan, paths

RNG = np.random.default_rng(0)
X = (RNG.random((64, 28, 28, 1)) * 2 - 1).astype(np.float32)  # tiny "images" in [-1, 1]
Y = np.eye(10, dtype=np.float32)[np.arange(64) % 10]


def _small(num_classes=0, **kw):
    return gan.build_gan(8, num_classes=num_classes, g_filters=(8, 4), d_filters=(4, 8), seed=0, **kw)


# ---------------------------------------------------------------- builders

def test_generator_shapes_and_tanh_range():
    g = gan.dcgan_generator(16, filters=(8, 4))
    out = keras.ops.convert_to_numpy(g(np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32)))
    assert out.shape == (5, 28, 28, 1)
    assert out.min() >= -1 and out.max() <= 1
    assert [type(layer).__name__ for layer in g.layers].count("Conv2DTranspose") == 2
    assert any(type(layer).__name__ == "BatchNormalization" for layer in g.layers)
    cg = gan.dcgan_generator(16, num_classes=10, filters=(8, 4))
    assert keras.ops.convert_to_numpy(cg([np.zeros((3, 16), np.float32), Y[:3]])).shape == (3, 28, 28, 1)


def test_discriminator_outputs_logits_and_has_no_pooling():
    d = gan.dcgan_discriminator(filters=(4, 8))
    out = keras.ops.convert_to_numpy(d(X[:6]))
    assert out.shape == (6, 1)
    kinds = {type(layer).__name__ for layer in d.layers}
    assert "LeakyReLU" in kinds and not any("Pooling" in k for k in kinds)
    assert d.get_layer("logit").activation.__name__ == "linear"
    cd = gan.dcgan_discriminator(num_classes=10, filters=(4, 8))
    assert keras.ops.convert_to_numpy(cd([X[:3], Y[:3]])).shape == (3, 1)
    bn = gan.dcgan_discriminator(filters=(4, 8), batch_norm=True)
    assert [type(layer).__name__ for layer in bn.layers].count("BatchNormalization") == 1
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in d.layers)


def test_builders_reject_bad_arguments():
    with pytest.raises(TypeError):
        gan.dcgan_generator(8.5)
    with pytest.raises(ValueError, match="filters"):
        gan.dcgan_generator(8, filters=(8,))
    with pytest.raises(ValueError, match=">= 0"):
        gan.dcgan_generator(8, num_classes=-1)
    with pytest.raises(ValueError, match="dropout"):
        gan.dcgan_discriminator(dropout=1.0)
    with pytest.raises(TypeError, match="num_classes"):
        gan.dcgan_discriminator(num_classes=True)


def test_gan_rejects_mismatched_networks():
    g = gan.dcgan_generator(8, filters=(8, 4))
    with pytest.raises(ValueError, match="conditional"):
        gan.GAN(g, gan.dcgan_discriminator(num_classes=10, filters=(4, 8)))
    with pytest.raises(TypeError, match="keras.Model"):
        gan.GAN(g, "discriminator")
    flat_d = keras.Sequential([keras.Input((784,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="discriminator reads"):
        gan.GAN(g, flat_d)
    with pytest.raises(ValueError, match="label_smoothing"):
        gan.GAN(g, gan.dcgan_discriminator(filters=(4, 8)), label_smoothing=0.7)


def test_range_conversions():
    x = np.array([[0.0, 0.5, 1.0]], np.float32)
    np.testing.assert_allclose(gan.to_tanh_range(x), [[-1.0, 0.0, 1.0]])
    np.testing.assert_allclose(gan.to_unit_range(gan.to_tanh_range(x)), x)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gan.to_tanh_range(x * 255)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        gan.to_unit_range(np.array([2.0]))
    with pytest.raises(ValueError, match="NaN"):
        gan.to_unit_range(np.array([np.nan]))


# ---------------------------------------------------------------- compile and train_step

def test_compile_needs_two_distinct_optimizers():
    model = _small(compile=False)
    with pytest.raises(TypeError, match="d_optimizer"):
        model.compile(d_optimizer="adam", g_optimizer=keras.optimizers.Adam())
    opt = keras.optimizers.Adam()
    with pytest.raises(TypeError, match="two optimizer objects"):
        model.compile(d_optimizer=opt, g_optimizer=opt)


def test_fit_validates_before_tracing():
    with pytest.raises(ValueError, match="compile"):
        _small(compile=False).fit(X, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="one-hot labels"):
        _small(num_classes=10).fit(X, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        _small().fit((X + 1) * 100, epochs=1, verbose=0)


def _trainable(net):
    return [np.array(v) for v in net.trainable_variables]


def _changed(before, net):
    return [not np.allclose(b, np.array(v)) for b, v in zip(before, net.trainable_variables)]


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_each_optimizer_updates_only_its_own_network(frozen):
    model = _small(compile=False)
    lr = {"generator": (1e-2, 0.0), "discriminator": (0.0, 1e-2)}[frozen]
    model.compile(d_optimizer=keras.optimizers.Adam(lr[0]), g_optimizer=keras.optimizers.Adam(lr[1]))
    g0, d0 = _trainable(model.generator), _trainable(model.discriminator)
    history = model.fit(X, epochs=1, batch_size=32, verbose=0)
    g_changed, d_changed = _changed(g0, model.generator), _changed(d0, model.discriminator)
    if frozen == "generator":
        assert not any(g_changed) and all(d_changed)
    else:
        assert not any(d_changed) and all(g_changed)
    # each optimizer holds the moments of its own network's variables only
    assert model.d_optimizer.iterations.numpy() == 2 and model.g_optimizer.iterations.numpy() == 2
    # Adam: two moments per variable, plus iterations and learning rate
    assert len(model.d_optimizer.variables) == 2 + 2 * len(model.discriminator.trainable_variables)
    assert len(model.g_optimizer.variables) == 2 + 2 * len(model.generator.trainable_variables)
    assert set(history.history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    for key in ("d_real", "d_fake"):
        assert 0.0 < history.history[key][0] < 1.0


def test_losses_are_the_non_saturating_cross_entropies():
    """With a discriminator that outputs a constant logit c, d_loss and g_loss have closed forms."""
    model = _small(compile=False)
    d = model.discriminator
    d.get_layer("logit").kernel.assign(np.zeros_like(d.get_layer("logit").kernel))
    d.get_layer("logit").bias.assign([1.5])
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    logs = model.fit(X, epochs=1, batch_size=64, verbose=0).history
    softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731
    assert logs["d_loss"][0] == pytest.approx(softplus(-1.5) + softplus(1.5), rel=1e-5)
    assert logs["g_loss"][0] == pytest.approx(softplus(-1.5), rel=1e-5)  # -log D(G(z)), not log(1 - D(G(z)))
    assert logs["d_real"][0] == pytest.approx(1 / (1 + np.exp(-1.5)), rel=1e-5)


def test_conditional_gan_trains_and_generates_requested_shapes():
    model = _small(num_classes=10)
    model.fit(X, Y, epochs=1, batch_size=32, verbose=0)
    images = model.generate(20, labels=np.arange(20) % 10, seed=1)
    assert images.shape == (20, 28, 28, 1) and images.min() >= 0 and images.max() <= 1
    with pytest.raises(ValueError, match="needs labels"):
        model.generate(5)
    with pytest.raises(ValueError, match="integers in"):
        model.generate(2, labels=np.array([0, 10]))


def test_generate_is_seeded_and_accepts_fixed_noise():
    model = _small()
    a, b = model.generate(6, seed=3), model.generate(6, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, model.generate(6, seed=4))
    z = np.zeros((4, 8), np.float32)
    assert model.generate(4, z=z, batch_size=3).shape == (4, 28, 28, 1)
    with pytest.raises(ValueError, match="z must be"):
        model.generate(5, z=z)
    with pytest.raises(ValueError, match="only for a conditional"):
        model.generate(2, labels=np.array([0, 1]))
    with pytest.raises(TypeError):
        model.generate(0.5)


# ---------------------------------------------------------------- saving

@pytest.mark.parametrize("num_classes", [0, 10])
def test_save_load_round_trip_safe_mode(tmp_path, num_classes):
    model = _small(num_classes=num_classes, label_smoothing=0.1)
    args = (X, Y) if num_classes else (X,)
    model.fit(*args, epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, gan.GAN) and loaded.conditional == bool(num_classes)
    assert loaded.label_smoothing == pytest.approx(0.1)
    labels = np.arange(8) % 10 if num_classes else None
    np.testing.assert_allclose(loaded.generate(8, labels, seed=2), model.generate(8, labels, seed=2), atol=1e-6)
    assert isinstance(loaded.d_optimizer, keras.optimizers.Adam)
    assert loaded.g_optimizer.learning_rate.numpy() == pytest.approx(2e-4)
    loaded.fit(*args, epochs=1, batch_size=32, verbose=0)  # training goes on after loading


def test_save_cached_and_load_cached(tmp_path):
    model = _small()
    paths.save_cached(model, "tiny_gan")
    loaded = paths.load_cached("tiny_gan")
    np.testing.assert_allclose(loaded.generate(3, seed=0), model.generate(3, seed=0), atol=1e-6)


# ---------------------------------------------------------------- callbacks

def test_sample_grid_keeps_every_epoch_and_saves_pngs(tmp_path):
    model = _small()
    z = np.random.default_rng(0).normal(size=(10, 8)).astype(np.float32)
    grid = gan.SampleGrid(z, directory=tmp_path / "grids", ncols=5)
    model.fit(X, epochs=2, batch_size=32, verbose=0, callbacks=[grid])
    assert sorted(grid.grids) == [1, 2]
    assert grid.grids[2].shape == (10, 28, 28, 1)
    assert [p.name for p in grid.paths] == ["epoch_001.png", "epoch_002.png"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in grid.paths)
    assert not np.allclose(grid.grids[1], grid.grids[2])  # training moved the generator
    with pytest.raises(ValueError, match="z must be"):
        gan.SampleGrid(np.zeros(8))


def test_sample_grid_default_directory_is_under_build(build_dir):
    model = _small(num_classes=10)
    grid = gan.SampleGrid(np.zeros((10, 8), np.float32), labels=np.arange(10))
    model.fit(X, Y, epochs=1, batch_size=32, verbose=0, callbacks=[grid])
    assert grid.paths[0].parent == build_dir / "gan_samples" / "cgan"


@pytest.fixture(scope="module")
def tiny_judge():
    keras.utils.set_random_seed(0)
    return classifiers.cnn_classifier(filters=(4, 8), dense_units=8, augment=False)


def test_quality_monitor_logs_metrics_each_measured_epoch(tiny_judge):
    model = _small()
    reference = np.random.default_rng(1).random((50, 28, 28, 1)).astype(np.float32)
    monitor = gan.QualityMonitor(tiny_judge, reference, floor=0.5, n=40, every=2)
    history = model.fit(X, epochs=3, batch_size=32, verbose=0, callbacks=[monitor])
    assert monitor.history["epoch"] == [2, 3]  # every 2nd epoch and the last one
    h = monitor.history
    assert all(fd >= 0 for fd in h["fd"])
    np.testing.assert_allclose(h["fd_ratio"], np.array(h["fd"]) / 0.5)
    assert all(0 <= kl <= np.log(10) + 1e-9 for kl in h["kl_uniform"])
    assert all(1 <= s <= 10 for s in h["classifier_score"])
    assert all(t > 0 for t in h["epoch_seconds"])
    assert "fd_ratio" in history.history
    with pytest.raises(ValueError, match="floor"):
        gan.QualityMonitor(tiny_judge, reference, floor=0.0)


def test_quality_monitor_asks_a_conditional_gan_for_every_class(tiny_judge):
    model = _small(num_classes=10)
    reference = np.random.default_rng(1).random((30, 28, 28, 1)).astype(np.float32)
    scores = gan.QualityMonitor(tiny_judge, reference, floor=1.0, n=30).measure(model)
    assert set(scores) == {"fd", "fd_ratio", "kl_uniform", "classifier_score"}


# ---------------------------------------------------------------- lab 08's plots

def test_gan_progress_plot_one_and_several_runs():
    h = {"epoch": [1, 2, 3], "fd_ratio": [50.0, 20.0, 8.0], "kl_uniform": [1.0, 0.3, 0.05],
         "classifier_score": [3.0, 6.0, 8.5]}
    fig = gan.gan_progress(h, target_ratio=10, title="t")
    assert len(fig.axes) == 3 and fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].lines) == 3  # the run, the bar, the real-vs-real line
    fig = gan.gan_progress({"a": h, "b": h})
    assert len(fig.axes[1].lines) == 2
    with pytest.raises(ValueError, match="lacks"):
        gan.gan_progress({"epoch": [1], "fd_ratio": [2.0]})
    with pytest.raises(ValueError, match="equal length"):
        gan.gan_progress({**h, "kl_uniform": [1.0]})
    with pytest.raises(ValueError, match="positive"):
        gan.gan_progress({**h, "fd_ratio": [1.0, 0.0, 2.0]})
    with pytest.raises(TypeError):
        gan.gan_progress([1, 2])


def test_class_histograms_plot():
    fig = gan.class_histograms({"real": np.full(10, 0.1), "gan": np.eye(10)[3]}, title="labels")
    ax = fig.axes[0]
    assert len(ax.patches) == 20 and len(ax.lines) == 1  # 2 x 10 bars, the uniform line
    assert fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="summing to 1"):
        gan.class_histograms({"bad": [0.5, 0.6]})
    with pytest.raises(ValueError, match="same number"):
        gan.class_histograms({"a": [0.5, 0.5], "b": [1 / 3, 1 / 3, 1 / 3]})
    with pytest.raises(ValueError, match="empty"):
        gan.class_histograms({})
    with pytest.raises(TypeError):
        gan.class_histograms([0.5, 0.5])
