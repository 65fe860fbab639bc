"""Tests for labutils.models: builders, training helpers, baselines, model cache (all tiny)."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from labutils import models  # noqa: E402


def _dense_units(model):
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


@pytest.fixture
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.random((24, 16), dtype=np.float32)
    y = (np.arange(24) % 3).astype(np.int64)
    return x, y


# ============================================================== dense_autoencoder

def test_dense_autoencoder_classic_shapes_and_params():
    ae, enc, dec = models.dense_autoencoder()
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
    ae, enc, dec = models.dense_autoencoder(16, 4)
    x = np.random.default_rng(1).random((5, 16), dtype=np.float32)
    out = ae.predict(x, verbose=0)
    assert out.shape == (5, 16)
    assert out.min() > 0.0 and out.max() < 1.0  # sigmoid
    np.testing.assert_allclose(out, dec.predict(enc.predict(x, verbose=0), verbose=0), rtol=1e-5, atol=1e-6)


def test_dense_autoencoder_hidden_units_mirrored():
    ae, enc, dec = models.dense_autoencoder(64, 4, hidden_units=(16, 8), output_activation="linear")
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
        models.dense_autoencoder(**kwargs)


# ============================================================== cnn_classifier

def test_cnn_classifier_default():
    model = models.cnn_classifier()
    assert tuple(model.input.shape) == (None, 28, 28, 1)
    assert tuple(model.output.shape) == (None, 10)
    features = model.get_layer("features")
    assert features.units == 128 and tuple(features.output.shape) == (None, 128)
    names = [layer.name for layer in model.layers]
    assert {"augment_rotate", "augment_shift", "augment_zoom"} <= set(names)
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    assert [la.filters for la in convs] == [32, 64, 128]  # one block per entry of filters
    assert sum(isinstance(la, keras.layers.MaxPooling2D) for la in model.layers) == 3
    probs = model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0)
    assert probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_cnn_classifier_on_codes_without_augmentation():
    model = models.cnn_classifier((8, 4, 1), num_classes=3, filters=(4, 8), dense_units=6, augment=False)
    assert not any(layer.name.startswith("augment") for layer in model.layers)
    assert model.get_layer("features").units == 6
    x = np.random.default_rng(0).random((5, 8, 4, 1), dtype=np.float32)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"input_shape": (28, 28)}, ValueError, r"input_shape must be \(H, W, C\), a tuple; got \(28, 28\)"),
    ({"input_shape": 28}, ValueError, r"input_shape must be \(H, W, C\), a tuple; got 28"),
    ({"input_shape": (28, 28, 1, 1)}, ValueError, r"input_shape must be \(H, W, C\)"),
    # H or W too small for the pooling steps (2 ** len(filters))
    ({"input_shape": (4, 28, 1)}, ValueError, r"input_shape \(4, 28, 1\) .*3 pooling steps.*must be >= 8"),
    ({"input_shape": (2, 28, 1), "filters": (32, 64)}, ValueError, r"input_shape \(2, 28, 1\) .*must be >= 4"),
    ({"input_shape": (4, 28, 1), "filters": (8, 8, 8)}, ValueError, r"must be >= 8"),
    ({"input_shape": (28, 28, 0)}, ValueError, r"input_shape\[i\] must be positive"),
    ({"input_shape": (28.0, 28, 1)}, TypeError, r"input_shape\[i\] must be an int"),
    ({"dropout": 1.0}, ValueError, r"dropout must lie between 0 and 1 \(exclusive\)"),
])
def test_cnn_classifier_bad_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        models.cnn_classifier(**kwargs)


# ============================================================== encoder_classifier

@pytest.fixture
def tiny_encoder():
    keras.utils.set_random_seed(0)
    _, enc, _ = models.dense_autoencoder(16, 4)
    return enc


def test_encoder_classifier_pretrained_copies_weights(tiny_encoder):
    clf = models.encoder_classifier(tiny_encoder, num_classes=3)
    assert tuple(clf.output.shape) == (None, 3)
    assert tuple(clf.input.shape) == (None, 16)
    copy = clf.get_layer("encoder")
    assert copy is not tiny_encoder
    assert _same_weights(copy, tiny_encoder)
    assert copy.trainable is False
    assert clf.get_layer("class_probabilities").units == 3
    # only the softmax head is trainable: 4 * 3 + 3 parameters
    assert sum(int(np.prod(w.shape)) for w in clf.trainable_weights) == 15
    x = np.random.default_rng(0).random((4, 16), dtype=np.float32)
    np.testing.assert_allclose(copy.predict(x, verbose=0), tiny_encoder.predict(x, verbose=0), rtol=1e-6)


def test_encoder_classifier_not_pretrained_and_trainable(tiny_encoder):
    clf = models.encoder_classifier(tiny_encoder, num_classes=3, pretrained=False, trainable=True)
    copy = clf.get_layer("encoder")
    assert not _same_weights(copy, tiny_encoder)
    assert [w.shape for w in copy.get_weights()] == [w.shape for w in tiny_encoder.get_weights()]
    assert copy.trainable is True
    assert sum(int(np.prod(w.shape)) for w in clf.trainable_weights) == (16 * 4 + 4) + 15


@pytest.mark.parametrize("trainable", [False, True])
def test_training_the_classifier_leaves_the_encoder_alone(tiny_encoder, tiny_data, trainable):
    x, y = tiny_data
    before = [w.copy() for w in tiny_encoder.get_weights()]
    clf = models.encoder_classifier(tiny_encoder, num_classes=3, trainable=trainable)
    models.train_classifier(clf, x, y, epochs=1, batch_size=8, learning_rate=0.05, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_encoder.get_weights()))
    copy_changed = not all(np.array_equal(a, b) for a, b in zip(before, clf.get_layer("encoder").get_weights()))
    assert copy_changed is trainable


def test_encoder_classifier_errors():
    with pytest.raises(TypeError, match=r"encoder must be a keras.Model; got Dense"):
        models.encoder_classifier(keras.layers.Dense(3))
    with pytest.raises(TypeError, match=r"encoder must be a keras.Model; got function"):
        models.encoder_classifier(lambda x: x)
    inp = keras.Input(shape=(4, 4))
    not_flat = keras.Model(inp, keras.layers.Dense(2)(inp))
    with pytest.raises(ValueError, match=r"encoder must output a flat code \(batch, k\)"):
        models.encoder_classifier(not_flat)


# ============================================================== train_classifier

def _tiny_classifier():
    return keras.Sequential([keras.Input(shape=(16,)), keras.layers.Dense(3, activation="softmax")])


def test_train_classifier_history(tiny_data):
    x, y = tiny_data
    model = _tiny_classifier()
    history = models.train_classifier(model, x, y.astype(np.uint8), epochs=2, batch_size=1000,
                                      validation_data=(x[:6], y[:6]), verbose=0)
    assert isinstance(history, keras.callbacks.History)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 2
    assert all(0.0 <= a <= 1.0 for a in history.history["accuracy"])
    assert model.loss == "sparse_categorical_crossentropy"


@pytest.mark.parametrize("labels, exc, pattern", [
    (lambda y: y.astype(np.float32), ValueError, r"y_train must be integer class labels \(n,\); got dtype float32"),
    (lambda y: np.eye(3, dtype=np.int64)[y], ValueError, r"integer class labels \(n,\); got dtype int64, shape \(24, 3\)"),
    (lambda y: y[:-1], ValueError, r"x_train has 24 examples but y_train has 23 labels"),
    (lambda y: y.astype(bool), ValueError, r"got dtype bool"),
    (lambda y: y.astype(str), TypeError, r"y_train must be a numeric array"),
])
def test_train_classifier_rejects_bad_labels(tiny_data, labels, exc, pattern):
    x, y = tiny_data
    with pytest.raises(exc, match=pattern):
        models.train_classifier(_tiny_classifier(), x, labels(y), epochs=1, verbose=0)


def test_train_classifier_bad_epochs(tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match=r"epochs must be positive"):
        models.train_classifier(_tiny_classifier(), x, y, epochs=0, verbose=0)


# ============================================================== train_dense_autoencoder

def test_train_dense_autoencoder(tiny_data):
    x, _ = tiny_data
    ae, enc, dec, history = models.train_dense_autoencoder(x, epochs=2, latent_dim=4, batch_size=8,
                                                           validation_data=x[:6], verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    assert len(history.history["loss"]) == 2
    # BCE of an untrained sigmoid model on uniform pixels is about 0.69 - 1.0 nats
    assert 0.3 < history.history["loss"][-1] < 1.5
    assert tuple(enc.output.shape) == (None, 4)
    assert tuple(ae.output.shape) == (None, 16)
    assert ae.loss == "binary_crossentropy"


@pytest.mark.parametrize("x, kwargs, exc, pattern", [
    (np.full((4, 4, 4), 0.5, np.float32), {}, ValueError, r"x_train must be flat \(n, 784\); got shape \(4, 4, 4\)"),
    (np.full((4, 16), 200.0), {}, ValueError, r"x_train must be float values in \[0, 1\].*divide by 255"),
    (np.full((4, 16), 0.5), {"validation_data": np.full((2, 16), 255.0)}, ValueError,
     r"validation_data must be float values in \[0, 1\]"),
    (np.full((4, 16), 0.5), {"epochs": 0}, ValueError, r"epochs must be positive"),
    (np.array([["a"] * 16]), {}, TypeError, r"x_train must be a numeric array"),
])
def test_train_dense_autoencoder_errors(x, kwargs, exc, pattern):
    kwargs = {"epochs": 1, **kwargs}
    with pytest.raises(exc, match=pattern):
        models.train_dense_autoencoder(x, latent_dim=2, verbose=0, **kwargs)


# ============================================================== baselines

def test_mean_image_reconstruction():
    x = np.random.default_rng(0).random((10, 28, 28, 1), dtype=np.float32)
    out = models.mean_image_reconstruction(x, 3)
    assert out.shape == (3, 784) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    for row in out:
        np.testing.assert_allclose(row, x.reshape(10, 784).mean(axis=0), rtol=1e-6)


def test_mean_image_reconstruction_errors():
    with pytest.raises(ValueError, match=r"x_train must be float values in \[0, 1\].*divide by 255"):
        models.mean_image_reconstruction(np.full((2, 784), 255.0), 1)
    with pytest.raises(ValueError, match=r"n must be positive"):
        models.mean_image_reconstruction(np.zeros((2, 784)), 0)
    with pytest.raises(TypeError, match=r"n must be an int"):
        models.mean_image_reconstruction(np.zeros((2, 784)), 1.5)


def test_pca_reconstruction_is_exact_for_rank_k_data():
    basis = np.random.default_rng(3).random((5, 100))  # data of rank 5 with entries in [0, 1)

    def make(m, seed):
        return (np.random.default_rng(seed).random((m, 5)) @ basis / 5).astype(np.float32)

    x_train, x_test = make(60, 1), make(20, 2)
    out = models.pca_reconstruction(x_train, x_test, n_components=5)
    assert out.shape == (20, 100) and out.dtype == np.float32
    np.testing.assert_allclose(out, x_test, atol=1e-4)
    # fewer components than the rank cannot be exact
    worse = models.pca_reconstruction(x_train, x_test, n_components=2)
    assert np.abs(worse - x_test).max() > 1e-3


def test_pca_reconstruction_shapes_and_range():
    rng = np.random.default_rng(4)
    x_train = rng.random((40, 28, 28), dtype=np.float32)
    x_test = rng.random((7, 784), dtype=np.float32)
    out = models.pca_reconstruction(x_train, x_test, n_components=8)
    assert out.shape == (7, 784)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_pca_reconstruction_clips_to_unit_interval():
    # training points on the line (t, 2t); the test point (1, 1) projects to (0.6, 1.2)
    t = np.linspace(0.0, 0.5, 11)
    x_train = np.stack([t, 2 * t], axis=1)
    out = models.pca_reconstruction(x_train, np.array([[1.0, 1.0]]), n_components=1)
    np.testing.assert_allclose(out, [[0.6, 1.0]], atol=1e-6)


@pytest.mark.parametrize("x_train, x_test, k, exc, pattern", [
    (np.zeros((10, 16)), np.zeros((2, 9)), 2, ValueError, r"x_train has 16 pixels per image, x_test 9"),
    (np.zeros((10, 16)), np.zeros((2, 16)), 10, ValueError, r"n_components=10 must be below min\(n_samples, n_pixels\) = 10"),
    (np.zeros((10, 16)), np.full((2, 16), 255.0), 2, ValueError, r"x_test must be float values in \[0, 1\].*divide by 255"),
    (np.zeros((10, 16)), np.zeros((2, 16)), 2.0, TypeError, r"n_components must be an int"),
])
def test_pca_reconstruction_errors(x_train, x_test, k, exc, pattern):
    with pytest.raises(exc, match=pattern):
        models.pca_reconstruction(x_train, x_test, n_components=k)


# ============================================================== model cache

def test_cache_path_under_build_dir(build_dir, monkeypatch):
    path = models.cache_path("dense_autoencoder")
    # no data on disk: MNIST through keras.datasets, the standard 60,000 / 10,000 split
    assert path == build_dir / "models" / "mnist" / "standard" / "full" / "dense_autoencoder.keras"
    assert path.parent.is_dir() and not path.exists()
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert models.cache_path("ae") == build_dir / "models" / "mnist" / "standard" / "quick" / "ae.keras"
    monkeypatch.setenv("LABS_DATASET", "fashion_mnist")
    assert models.cache_path("ae") == build_dir / "models" / "fashion_mnist" / "standard" / "quick" / "ae.keras"


def test_cache_path_offline_split(build_dir, mnist_dir, monkeypatch):
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(mnist_dir))
    assert models.cache_path("ae") == build_dir / "models" / "mnist" / "offline-8k" / "full" / "ae.keras"


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", ".hidden", "../up", None, 3])
def test_cache_path_bad_names(name):
    with pytest.raises(ValueError, match=r"cache name must be a plain file name"):
        models.cache_path(name)


def test_save_and_load_cached_round_trip(build_dir):
    keras.utils.set_random_seed(0)
    ae, _, _ = models.dense_autoencoder(16, 4, hidden_units=(8,))
    path = models.save_cached(ae, "tiny_ae")
    assert path == build_dir / "models" / "mnist" / "standard" / "full" / "tiny_ae.keras" and path.is_file()
    loaded = models.load_cached("tiny_ae")
    assert loaded is not None and loaded is not ae
    x = np.random.default_rng(0).random((6, 16), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ae.predict(x, verbose=0))
    assert loaded.get_layer("encoder").get_layer("code").units == 4


def test_load_cached_missing_returns_none(build_dir, monkeypatch):
    assert models.load_cached("never_saved") is None
    keras.utils.set_random_seed(0)
    ae, _, _ = models.dense_autoencoder(8, 2)
    models.save_cached(ae, "full_only")
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert models.load_cached("full_only") is None  # quick runs never see full models


def test_load_cached_corrupt_file(build_dir):
    models.cache_path("broken").write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"cannot load the cached model .*broken\.keras .*delete the file and rerun"):
        models.load_cached("broken")


def test_load_cached_uses_safe_mode(build_dir):
    inp = keras.Input(shape=(3,))
    model = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2.0)(inp))
    models.save_cached(model, "with_lambda")
    with pytest.raises(ValueError, match=r"cannot load the cached model .*(safe_mode|lambda)"):
        models.load_cached("with_lambda")


# ============================================================== the judge

@pytest.fixture
def tiny_judge(build_dir, tmp_path, monkeypatch):
    """A synthetic data set on disk and a judge recipe of a few steps (the real one takes a minute)."""
    from conftest import make_npz

    make_npz(tmp_path / "tiny_data", n_train=40, n_test=20)
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(tmp_path / "tiny_data"))
    monkeypatch.setattr(models, "JUDGE_RECIPE", {p: {"steps": 3, "batch_size": 20, "seed": 7} for p in ("full", "quick")})
    return build_dir


def _judge_scores(samples):
    model, info = models.judge()
    return model.predict(samples, verbose=0), info


def test_judge_trains_once_then_loads_the_cache(tiny_judge):
    samples = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    first, info = _judge_scores(samples)
    assert info["trained_now"] and info["dataset"] == "mnist" and info["split"] == "standard"
    assert 0.0 <= info["test_accuracy"] <= 1.0
    path = models.cache_path(models.judge_name())
    assert path.is_file() and path.with_suffix(".json").is_file()
    assert path.parent == tiny_judge / "models" / "mnist" / "standard" / "full"
    again, info_again = _judge_scores(samples)
    assert not info_again["trained_now"] and info_again["test_accuracy"] == info["test_accuracy"]
    np.testing.assert_array_equal(again, first)


def test_judge_does_not_depend_on_run_order(tiny_judge, tmp_path, monkeypatch):
    """Two fresh build directories, two different histories before the judge is first needed
    (another lab's training, other seeds): identical judge, identical scores."""
    samples = np.random.default_rng(1).random((8, 28, 28, 1), dtype=np.float32)

    monkeypatch.setenv("LABUTILS_BUILD_DIR", str(tmp_path / "order_a"))
    keras.utils.set_random_seed(0)  # "lab 07 first": it trains something, then asks for the judge
    ae, _, _ = models.dense_autoencoder(16, 4)
    ae.compile(optimizer="adam", loss="mse")
    ae.fit(np.random.default_rng(2).random((32, 16), dtype=np.float32), np.zeros((32, 16), np.float32),
           epochs=2, verbose=0)
    scores_a, info_a = _judge_scores(samples)

    monkeypatch.setenv("LABUTILS_BUILD_DIR", str(tmp_path / "order_b"))
    keras.utils.set_random_seed(99)  # "lab 08 first", with another seed and nothing trained before
    np.random.default_rng(3).random(1000)
    scores_b, info_b = _judge_scores(samples)

    assert info_a["trained_now"] and info_b["trained_now"]
    assert info_a["test_accuracy"] == info_b["test_accuracy"]
    np.testing.assert_array_equal(scores_a, scores_b)


def test_judge_reseeds_the_lab_whether_trained_or_loaded(tiny_judge):
    """What a lab does after asking for the judge must not depend on whether it was cached."""
    models.judge(reseed=5)
    after_training = np.random.random(3)
    models.judge(reseed=5)
    after_loading = np.random.random(3)
    np.testing.assert_array_equal(after_training, after_loading)


def test_judge_cache_is_per_data_set_and_profile(tiny_judge, monkeypatch):
    full_path = models.cache_path(models.judge_name())
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert models.cache_path(models.judge_name()) != full_path
    assert "quick" in models.cache_path(models.judge_name()).parts
    with pytest.raises(ValueError, match=r"profile_name must be one of"):
        models.judge_name("slow")
