"""Tests for labutils.classifiers: the CNN and encoder classifiers, their training recipe, the judge (all tiny)."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from labutils import autoencoders, classifiers, paths  # noqa: E402


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


# ============================================================== cnn_classifier

def test_cnn_classifier_default():
    model = classifiers.cnn_classifier()
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
    model = classifiers.cnn_classifier((8, 4, 1), num_classes=3, filters=(4, 8), dense_units=6, augment=False)
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
        classifiers.cnn_classifier(**kwargs)


# ============================================================== encoder_classifier

@pytest.fixture
def tiny_encoder():
    keras.utils.set_random_seed(0)
    _, enc, _ = autoencoders.dense_autoencoder(16, 4)
    return enc


def test_encoder_classifier_pretrained_copies_weights(tiny_encoder):
    clf = classifiers.encoder_classifier(tiny_encoder, num_classes=3)
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
    clf = classifiers.encoder_classifier(tiny_encoder, num_classes=3, pretrained=False, trainable=True)
    copy = clf.get_layer("encoder")
    assert not _same_weights(copy, tiny_encoder)
    assert [w.shape for w in copy.get_weights()] == [w.shape for w in tiny_encoder.get_weights()]
    assert copy.trainable is True
    assert sum(int(np.prod(w.shape)) for w in clf.trainable_weights) == (16 * 4 + 4) + 15


@pytest.mark.parametrize("trainable", [False, True])
def test_training_the_classifier_leaves_the_encoder_alone(tiny_encoder, tiny_data, trainable):
    x, y = tiny_data
    before = [w.copy() for w in tiny_encoder.get_weights()]
    clf = classifiers.encoder_classifier(tiny_encoder, num_classes=3, trainable=trainable)
    classifiers.train_classifier(clf, x, y, epochs=1, batch_size=8, learning_rate=0.05, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, tiny_encoder.get_weights()))
    copy_changed = not all(np.array_equal(a, b) for a, b in zip(before, clf.get_layer("encoder").get_weights()))
    assert copy_changed is trainable


def test_encoder_classifier_errors():
    with pytest.raises(TypeError, match=r"encoder must be a keras.Model; got Dense"):
        classifiers.encoder_classifier(keras.layers.Dense(3))
    with pytest.raises(TypeError, match=r"encoder must be a keras.Model; got function"):
        classifiers.encoder_classifier(lambda x: x)
    inp = keras.Input(shape=(4, 4))
    not_flat = keras.Model(inp, keras.layers.Dense(2)(inp))
    with pytest.raises(ValueError, match=r"encoder must output a flat code \(batch, k\)"):
        classifiers.encoder_classifier(not_flat)


# ============================================================== train_classifier

def _tiny_classifier():
    return keras.Sequential([keras.Input(shape=(16,)), keras.layers.Dense(3, activation="softmax")])


def test_train_classifier_history(tiny_data):
    x, y = tiny_data
    model = _tiny_classifier()
    history = classifiers.train_classifier(model, x, y.astype(np.uint8), epochs=2, batch_size=1000,
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
        classifiers.train_classifier(_tiny_classifier(), x, labels(y), epochs=1, verbose=0)


def test_train_classifier_bad_epochs(tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match=r"epochs must be positive"):
        classifiers.train_classifier(_tiny_classifier(), x, y, epochs=0, verbose=0)


# ============================================================== fit_autoencoder: the one recipe


# ============================================================== baselines


# ============================================================== model cache


# ============================================================== the judge

@pytest.fixture
def tiny_judge(build_dir, tmp_path, monkeypatch):
    """A synthetic data set on disk and a judge recipe of a few steps (the real one takes a minute)."""
    from conftest import make_npz

    make_npz(tmp_path / "tiny_data", n_train=40, n_test=20)
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(tmp_path / "tiny_data"))
    monkeypatch.setattr(classifiers, "JUDGE_RECIPE", {p: {"steps": 3, "batch_size": 20, "seed": 7} for p in ("full", "quick")})
    return build_dir


def _judge_scores(samples):
    model, info = classifiers.judge()
    return model.predict(samples, verbose=0), info


def test_judge_trains_once_then_loads_the_cache(tiny_judge):
    samples = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    first, info = _judge_scores(samples)
    assert info["trained_now"] and info["dataset"] == "mnist" and info["split"] == "standard"
    assert 0.0 <= info["test_accuracy"] <= 1.0
    path = paths.cache_path(classifiers.judge_name())
    assert path.is_file() and path.with_suffix(".json").is_file()
    assert path.parent == tiny_judge / "models" / "mnist" / "standard" / "full" / keras.backend.backend()
    again, info_again = _judge_scores(samples)
    assert not info_again["trained_now"] and info_again["test_accuracy"] == info["test_accuracy"]
    np.testing.assert_array_equal(again, first)


def test_judge_does_not_depend_on_run_order(tiny_judge, tmp_path, monkeypatch):
    """Two fresh build directories, two different histories before the judge is first needed
    (another lab's training, other seeds): identical judge, identical scores."""
    samples = np.random.default_rng(1).random((8, 28, 28, 1), dtype=np.float32)

    monkeypatch.setenv("LABUTILS_BUILD_DIR", str(tmp_path / "order_a"))
    keras.utils.set_random_seed(0)  # "lab 07 first": it trains something, then asks for the judge
    ae, _, _ = autoencoders.dense_autoencoder(16, 4)
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
    classifiers.judge(reseed=5)
    after_training = np.random.random(3)
    classifiers.judge(reseed=5)
    after_loading = np.random.random(3)
    np.testing.assert_array_equal(after_training, after_loading)


def test_judge_cache_is_per_data_set_and_profile(tiny_judge, monkeypatch):
    full_path = paths.cache_path(classifiers.judge_name())
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert paths.cache_path(classifiers.judge_name()) != full_path
    assert "quick" in paths.cache_path(classifiers.judge_name()).parts
    with pytest.raises(ValueError, match=r"profile_name must be one of"):
        classifiers.judge_name("slow")
