"""Classifiers that several labs share, and the judge.

* :func:`cnn_classifier` - the labs' small CNN (images, reconstructions or codes);
* :func:`encoder_classifier` - a classifier on top of a (pretrained) encoder;
* :func:`train_classifier` - the one recipe that trains them (Adam, cosine decay);
* :func:`judge` - one CNN per data set, split and profile that scores generated
  samples in labs 07 and 08, trained once and cached (:func:`labutils.paths.cache_path`).

Builders return uncompiled Keras 3 functional models whose layers have
readable names (``features``, ...), so that notebooks can pick parts out with
``model.get_layer(name)``.
"""
from __future__ import annotations

import numpy as np

from . import _validate, paths, profile

__all__ = [
    "cnn_classifier",
    "encoder_classifier",
    "train_classifier",
    "JUDGE_RECIPE",
    "judge",
    "judge_name",
]


def _keras():
    import keras

    return keras


def cnn_classifier(input_shape=(28, 28, 1), num_classes: int = 10, *, filters=(32, 64, 128),
                   dense_units: int = 128, dropout: float = 0.25, augment: bool = True):
    """A small CNN classifier, the one every lab uses (and lab 08's feature extractor).

    Architecture: [augmentation] -> for each ``f`` in ``filters``: a 3x3
    ``Conv2D(f)`` + batch norm + ReLU, then 2x2 max pooling -> flatten ->
    dropout -> ``Dense(dense_units, relu)`` named ``"features"`` -> dropout ->
    ``Dense(num_classes, softmax)``. The augmentation (small rotations,
    shifts and zooms, active only in training) is what lets it pass 98.5% on
    8,000 training images; turn it off for inputs that are not images (codes).

    Args:
        input_shape: ``(H, W, C)``, e.g. ``(28, 28, 1)``, or ``(8, 4, 1)`` for
            32-d codes (with ``filters=(32, 64)``); H and W must be at least
            ``2 ** len(filters)``.
        num_classes: number of classes.
        filters: channels per convolution block.
        dense_units: width of the penultimate ("features") layer.
        dropout: dropout rate in [0, 1).
        augment: add ``RandomRotation``/``RandomTranslation``/``RandomZoom``.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(batch, H, W, C)`` float32 in
        [0, 1] to class probabilities ``(batch, num_classes)``. Compile it with
        ``sparse_categorical_crossentropy`` for integer labels.

    Raises:
        ValueError: a malformed ``input_shape``, or H/W too small for the pooling;
            non-positive ``num_classes``, ``filters`` or ``dense_units``; a
            ``dropout`` outside [0, 1).
        TypeError: sizes that are not ints (booleans included), ``filters`` not a tuple of ints.
    """
    keras = _keras()
    layers = keras.layers
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (H, W, C), a tuple; got {input_shape!r}.")
    h, w, c = (_validate.positive_int(v, "input_shape[i]") for v in input_shape)
    num_classes = _validate.positive_int(num_classes, "num_classes")
    filters = _validate.sizes(filters, "filters")
    dense_units = _validate.positive_int(dense_units, "dense_units")
    pool = 2 ** len(filters)
    if h < pool or w < pool:
        raise ValueError(f"input_shape {input_shape} is too small for {len(filters)} pooling steps: H and W must be >= {pool}.")
    dropout = _validate.probability(dropout, "dropout", allow_one=False)

    x_in = keras.Input(shape=(h, w, c), name="image")
    x = x_in
    if augment:
        x = layers.RandomRotation(0.04, fill_mode="constant", name="augment_rotate")(x)
        x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant", name="augment_shift")(x)
        x = layers.RandomZoom(0.1, fill_mode="constant", name="augment_zoom")(x)
    for b, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{b + 1}")(x)
        # momentum 0.9 (Keras: 0.99): the moving statistics settle within a short run
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{b + 1}")(x)
        x = layers.Activation("relu", name=f"relu{b + 1}")(x)
        x = layers.MaxPooling2D(name=f"pool{b + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout_1")(x)
    x = layers.Dense(dense_units, activation="relu", name="features")(x)
    x = layers.Dropout(dropout, name="dropout_2")(x)
    out = layers.Dense(num_classes, activation="softmax", name="class_probabilities")(x)
    return keras.Model(x_in, out, name="cnn_classifier")


def encoder_classifier(encoder, num_classes: int = 10, *, pretrained: bool = True, trainable: bool = False):
    """A softmax classifier on top of a copy of ``encoder``: ``Dense(num_classes)(encoder(x))``.

    Used to test an autoencoder's encoder as pretraining (Bengio et al., "Greedy
    layer-wise training of deep networks", NIPS 2006; Erhan et al., JMLR 11,
    2010): with ``pretrained=True, trainable=False`` only the softmax head
    learns (a linear probe of the code); ``trainable=True`` fine-tunes the
    encoder too; ``pretrained=False`` is the same architecture from random
    initialisation, the baseline.

    The encoder is cloned, so ``encoder`` itself is never changed.

    Args:
        encoder: a ``keras.Model`` mapping inputs to a flat code ``(batch, k)``.
        num_classes: number of classes.
        pretrained: copy the encoder's weights (True) or re-initialise them (False).
        trainable: whether the encoder copy is trained.

    Returns:
        An uncompiled ``keras.Model``: ``encoder``'s input -> ``(batch, num_classes)``
        probabilities; its encoder copy is the layer named ``"encoder"``.

    Raises:
        TypeError: ``encoder`` is not a Keras model. ValueError: its output is not flat.
    """
    keras = _keras()
    if not isinstance(encoder, keras.Model):
        raise TypeError(f"encoder must be a keras.Model; got {type(encoder).__name__}.")
    if len(encoder.output.shape) != 2:
        raise ValueError(f"encoder must output a flat code (batch, k); its output shape is {encoder.output.shape}.")
    copy = keras.models.clone_model(encoder)  # fresh weights
    if pretrained:
        copy.set_weights(encoder.get_weights())
    copy.trainable = trainable
    copy.name = "encoder"
    x_in = keras.Input(shape=encoder.input.shape[1:], name="image")
    out = keras.layers.Dense(_validate.positive_int(num_classes, "num_classes"), activation="softmax",
                             name="class_probabilities")(copy(x_in))
    return keras.Model(x_in, out, name="encoder_classifier")


def train_classifier(model, x_train, y_train, *, epochs: int, batch_size: int = 128,
                     learning_rate: float = 1e-3, validation_data=None, verbose="auto"):
    """Compile ``model`` (Adam, sparse categorical cross-entropy, accuracy) and fit it.

    The one training recipe the labs use for classifiers, so that accuracies
    compare across inputs (images, reconstructions, codes) and labs. The
    learning rate follows a cosine decay from ``learning_rate`` to 0 over the
    run (Loshchilov & Hutter, "SGDR", ICLR 2017): the last epoch's weights
    are then stable, so no epoch has to be picked by looking at test data.

    Args:
        model: a Keras model ending in softmax probabilities ``(batch, classes)``.
        x_train: a batch of inputs matching ``model``'s input shape (finite reals:
            images, reconstructions or codes).
        y_train: ``(n,)`` integer labels.
        epochs: positive int (at most 100,000).
        batch_size: minibatch size (it is capped at ``n``).
        learning_rate: Adam's initial learning rate, a positive finite number.
        validation_data: optional ``(x_val, y_val)``, checked like ``x_train`` and ``y_train``.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The Keras ``History``.

    Raises:
        ValueError: labels not ``(n,)`` integers matching ``x_train``'s length;
            ``x_train`` unbatched, empty or holding NaN or inf; a learning rate
            that is 0, negative, NaN or inf; non-positive ``epochs``/``batch_size``.
        TypeError: ``model`` not a Keras model; complex or object inputs; sizes or
            ``learning_rate`` of the wrong type (booleans included).
    """
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    x = _validate.batch(_validate.finite_array(x_train, "x_train", np.float32), "x_train", "(n, ...)")
    y = _validate.as_array(y_train, "y_train")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y_train must be integer class labels (n,); got dtype {y.dtype}, shape {y.shape}.")
    if len(x) != y.shape[0]:
        raise ValueError(f"x_train has {len(x)} examples but y_train has {y.shape[0]} labels.")
    epochs = _validate.bounded_int(epochs, "epochs", _validate.MAX_EPOCHS)
    batch_size = min(_validate.positive_int(batch_size, "batch_size"), y.shape[0])
    learning_rate = _validate.learning_rate(learning_rate)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(f"validation_data must be a pair (x_val, y_val); got {type(validation_data).__name__}.")
        x_val = _validate.batch(_validate.finite_array(validation_data[0], "validation_data[0]", np.float32),
                                "validation_data[0]")
        y_val = _validate.as_array(validation_data[1], "validation_data[1]")
        if y_val.shape != (len(x_val),) or not np.issubdtype(y_val.dtype, np.integer):
            raise ValueError(f"validation_data[1] must be ({len(x_val)},) integer labels; got shape {y_val.shape}, "
                             f"dtype {y_val.dtype}.")
        validation_data = (x_val, y_val)
    from . import training

    return training.fit_adam(model, x, y, loss="sparse_categorical_crossentropy", epochs=epochs,
                             batch_size=batch_size, learning_rate=learning_rate, metrics=["accuracy"],
                             validation_data=validation_data, verbose=verbose)


#: The judge's one recipe per profile: gradient steps of :func:`train_classifier` over every
#: training image of the active data set, a fixed seed, and a version that names the cache file.
JUDGE_RECIPE = {
    "full": {"steps": 500, "batch_size": 128, "seed": 1234},
    "quick": {"steps": 200, "batch_size": 128, "seed": 1234},
}
JUDGE_VERSION = "cnn3-v1"


def judge_name(profile_name: str | None = None) -> str:
    """The judge's cache name for a profile, e.g. ``"judge-cnn3-v1-500steps-b128-seed1234"``.

    With :func:`labutils.paths.cache_path`'s directory (data set, split, profile) it names one
    recipe on one data set. Raises ValueError for an unknown profile.
    """
    prof = profile_name or profile.name()
    if prof not in JUDGE_RECIPE:
        raise ValueError(f"profile_name must be one of {sorted(JUDGE_RECIPE)}; got {profile_name!r}.")
    r = JUDGE_RECIPE[prof]
    return f"judge-{JUDGE_VERSION}-{r['steps']}steps-b{r['batch_size']}-seed{r['seed']}"


def judge(*, reseed: int | None = None, verbose=0):
    """The labs' judge: one CNN per (data set, split, profile), the same whichever lab trains it.

    Generative labs ask a classifier what their samples show (lab 07's
    conditional VAE, lab 08's Frechet distance, class coverage and
    "recognised as requested"). So that these numbers never depend on which
    lab ran before, the judge has one fixed recipe (:data:`JUDGE_RECIPE`):
    :func:`cnn_classifier` trained by :func:`train_classifier` for a fixed
    number of gradient steps on every training image of the active data set
    (``LABS_DATASET``), from a fixed seed. The first lab that needs it trains
    and caches it under :func:`judge_name` (``build/models/<data set>/<split>/
    <profile>/``); later labs load it with ``safe_mode=True``. Its test
    accuracy is measured once on the whole test split and kept beside it.

    On return the global random generators are re-seeded with ``reseed``
    (default :func:`profile.seed`), so whatever the lab does next does not
    depend on whether the judge was trained now or loaded.

    Args:
        reseed: seed for ``keras.utils.set_random_seed`` on return; None
            means ``profile.seed()``.
        verbose: Keras ``fit`` verbosity when it has to be trained.

    Returns:
        ``(model, info)``: the ``keras.Model`` mapping ``(batch, 28, 28, 1)``
        float32 in [0, 1] to class probabilities ``(batch, 10)``, and
        ``{"name", "dataset", "split", "test_accuracy" (fraction of the whole
        test split), "trained_now" (bool), "train_seconds"}``.

    Raises:
        ValueError: a cached file that cannot be loaded; data errors of
            :func:`labutils.data.load_dataset`; a negative ``reseed``.
        TypeError: a ``reseed`` that is not an int or None (booleans included).
    """
    import json
    import time

    from . import data

    keras = _keras()
    reseed = _validate.seed(reseed, "reseed", allow_none=True)
    if reseed is None:
        reseed = profile.seed()
    source = data.find_dataset()
    name = judge_name()
    sidecar = paths.cache_path(name).with_suffix(".json")
    model = paths.load_cached(name)
    trained_now = model is None or not sidecar.is_file()
    seconds = 0.0
    if trained_now:
        recipe = JUDGE_RECIPE[profile.name()]
        (x_train, y_train), (x_test, y_test) = data.load_dataset(scale=True, channel_axis=True, verbose=False)
        keras.utils.set_random_seed(recipe["seed"])
        start = time.perf_counter()
        model = cnn_classifier()
        epochs = profile.epochs_for(recipe["steps"], n_train=len(x_train), batch_size=recipe["batch_size"])
        train_classifier(model, x_train, y_train, epochs=epochs, batch_size=recipe["batch_size"], verbose=verbose)
        seconds = time.perf_counter() - start
        probabilities = model.predict(x_test, batch_size=500, verbose=0)
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y_test))
        paths.save_cached(model, name)
        sidecar.write_text(json.dumps({"test_accuracy": accuracy, "train_seconds": round(seconds, 1),
                                       "epochs": epochs, "n_train": int(len(x_train))}) + "\n")
    saved = json.loads(sidecar.read_text())
    keras.utils.set_random_seed(reseed)
    return model, {"name": name, "dataset": source.dataset, "split": source.split,
                   "test_accuracy": saved["test_accuracy"], "trained_now": trained_now,
                   "train_seconds": round(seconds, 1)}

