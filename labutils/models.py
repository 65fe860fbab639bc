"""Model builders that several labs share, baselines, and the model cache.

Builders return uncompiled Keras 3 functional models whose layers have
readable names (``encoder``, ``code``, ``decoder``, ``features``, ...), so that
notebooks can pick parts out with ``model.get_layer(name)``.

Models are cached as ``build/models/<data set>/<split>/<profile>/<name>.keras`` and loaded with
``safe_mode=True`` (no ``Lambda`` layers anywhere).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _validate, paths, profile

__all__ = [
    "dense_autoencoder",
    "train_dense_autoencoder",
    "cnn_classifier",
    "encoder_classifier",
    "train_classifier",
    "JUDGE_RECIPE",
    "judge",
    "judge_name",
    "mean_image_reconstruction",
    "pca_reconstruction",
    "cache_path",
    "save_cached",
    "load_cached",
]


def _keras():
    import keras

    return keras


def dense_autoencoder(input_dim: int = 784, latent_dim: int = 32, *, hidden_units=(),
                      activation: str = "relu", output_activation: str = "sigmoid"):
    """The dense autoencoder of the classic assignment, and deeper variants.

    With the defaults: ``Input(784) -> Dense(32, relu) -> Dense(784, sigmoid)``
    (the Keras blog's "Building Autoencoders in Keras", F. Chollet, 2016).
    ``hidden_units=(128, 64)`` gives ``784-128-64-32-64-128-784`` (mirrored).

    Args:
        input_dim: size of the flat input, e.g. 784 for 28x28 images.
        latent_dim: size of the code.
        hidden_units: widths of the encoder's hidden layers (the decoder mirrors them).
        activation: activation of the code and hidden layers.
        output_activation: ``"sigmoid"`` for pixels in [0, 1] with BCE, or
            ``"linear"`` for MSE on unbounded data.

    Returns:
        ``(autoencoder, encoder, decoder)``: ``encoder`` maps ``(batch, input_dim)``
        to the code ``(batch, latent_dim)``, ``decoder`` maps it back to
        ``(batch, input_dim)``; ``autoencoder`` is ``decoder(encoder(x))`` and
        holds the other two as its layers named ``"encoder"`` and ``"decoder"``.
        Uncompiled.

    Raises:
        TypeError: sizes that are not ints (``True``, ``2.0``), ``hidden_units``
            that is not a tuple of ints (e.g. a single int).
        ValueError: sizes that are not positive.
    """
    keras = _keras()
    layers = keras.layers
    input_dim = _validate.positive_int(input_dim, "input_dim")
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    hidden_units = _validate.sizes(hidden_units, "hidden_units")

    x_in = keras.Input(shape=(input_dim,), name="image")
    h = x_in
    for i, units in enumerate(hidden_units):
        h = layers.Dense(units, activation=activation, name=f"encoder_hidden_{i + 1}")(h)
    code = layers.Dense(latent_dim, activation=activation, name="code")(h)
    encoder = keras.Model(x_in, code, name="encoder")

    z_in = keras.Input(shape=(latent_dim,), name="code_input")
    h = z_in
    for i, units in enumerate(reversed(hidden_units)):
        h = layers.Dense(units, activation=activation, name=f"decoder_hidden_{i + 1}")(h)
    x_out = layers.Dense(input_dim, activation=output_activation, name="reconstruction")(h)
    decoder = keras.Model(z_in, x_out, name="decoder")

    ae_in = keras.Input(shape=(input_dim,), name="image")
    autoencoder = keras.Model(ae_in, decoder(encoder(ae_in)), name="autoencoder")
    return autoencoder, encoder, decoder


def train_dense_autoencoder(x_train, *, epochs: int, latent_dim: int = 32, batch_size: int = 256,
                            learning_rate: float = 1e-3, validation_data=None, seed: int = 0,
                            verbose="auto"):
    """Build, compile (Adam, BCE) and fit the assignment's dense autoencoder.

    Lab 01's recipe in one call, for labs that need its autoencoder but not its
    lesson (lab 02 uses it when no cached model exists).

    Args:
        x_train: ``(n, 784)`` float32 in [0, 1].
        epochs: number of epochs (positive int, at most 100,000).
        latent_dim: code size.
        batch_size: minibatch size (positive int).
        learning_rate: Adam's learning rate (a positive finite number or a Keras schedule).
        validation_data: optional ``(n_val, 784)`` array in [0, 1].
        seed: passed to ``keras.utils.set_random_seed`` before building (an int
            from 0 to 2**32 - 1).
        verbose: Keras ``fit`` verbosity (progress bar by default).

    Returns:
        ``(autoencoder, encoder, decoder, history)``.

    Raises:
        ValueError: ``x_train`` or ``validation_data`` not ``(n, d)`` in [0, 1]
            (NaN and inf included); a learning rate that is 0, negative, NaN or
            inf; non-positive ``epochs``/``batch_size``/``latent_dim``; a negative ``seed``.
        TypeError: complex or object arrays; sizes, ``seed`` or ``learning_rate``
            of the wrong type (booleans included).
    """
    keras = _keras()
    x_train = _validate.unit_interval(x_train, "x_train")
    if x_train.ndim != 2:
        raise ValueError(f"x_train must be flat (n, 784); got shape {x_train.shape}. Use load_mnist(flatten=True).")
    epochs = _validate.bounded_int(epochs, "epochs", _validate.MAX_EPOCHS)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
    seed = _validate.seed(seed)
    val = None
    if validation_data is not None:
        x_val = _validate.unit_interval(validation_data, "validation_data")
        if x_val.ndim != 2 or x_val.shape[1] != x_train.shape[1]:
            raise ValueError(f"validation_data must be (n_val, {x_train.shape[1]}) like x_train; got shape "
                             f"{x_val.shape}.")
        val = (x_val, x_val)
    keras.utils.set_random_seed(seed)
    autoencoder, encoder, decoder = dense_autoencoder(x_train.shape[1], latent_dim)
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    history = autoencoder.fit(x_train, x_train, epochs=epochs,
                              batch_size=batch_size, shuffle=True, validation_data=val, verbose=verbose)
    return autoencoder, encoder, decoder, history


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
    steps = epochs * -(-y.shape[0] // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True,
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

    With :func:`cache_path`'s directory (data set, split, profile) it names one
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
    sidecar = cache_path(name).with_suffix(".json")
    model = load_cached(name)
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
        save_cached(model, name)
        sidecar.write_text(json.dumps({"test_accuracy": accuracy, "train_seconds": round(seconds, 1),
                                       "epochs": epochs, "n_train": int(len(x_train))}) + "\n")
    saved = json.loads(sidecar.read_text())
    keras.utils.set_random_seed(reseed)
    return model, {"name": name, "dataset": source.dataset, "split": source.split,
                   "test_accuracy": saved["test_accuracy"], "trained_now": trained_now,
                   "train_seconds": round(seconds, 1)}


def mean_image_reconstruction(x_train, n: int) -> np.ndarray:
    """Baseline: "reconstruct" every image as the training set's mean image.

    Args:
        x_train: ``(m, d)`` or ``(m, 28, 28[, 1])`` float in [0, 1] (a batch: a
            single image ``(784,)`` is refused, not read as 784 one-pixel images).
        n: number of reconstructions to return (at most 100,000).

    Returns:
        ``float32`` ``(n, d)`` (flattened), each row the mean training image.

    Raises:
        ValueError: values outside [0, 1], NaN or inf; an unbatched ``x_train``;
            ``n`` not positive or above 100,000.
        TypeError: complex or object arrays, a non-int ``n``.
    """
    x = _validate.batch(_validate.unit_interval(x_train, "x_train"), "x_train", "(m, d)")
    n = _validate.bounded_int(n, "n", _validate.MAX_SAMPLES)
    mean = x.reshape(x.shape[0], -1).mean(axis=0)
    return np.tile(mean, (n, 1)).astype(np.float32)


def pca_reconstruction(x_train, x_test, n_components: int = 32, seed: int = 0) -> np.ndarray:
    """Baseline: project onto the top principal components and back (scikit-learn PCA).

    PCA is the optimal *linear* code of its size under squared error
    (Eckart-Young); a nonlinear autoencoder must beat it to earn its keep.

    Args:
        x_train: ``(m, d)`` or image-shaped, float in [0, 1]; fits the PCA.
        x_test: ``(n, d)`` or image-shaped, float in [0, 1]; reconstructed.
        n_components: number of principal components (< min(m, d)).
        seed: random_state for the PCA solver (an int from 0 to 2**32 - 1).

    Returns:
        ``float32`` ``(n, d)`` reconstructions clipped to [0, 1] (so that BCE is
        defined; unclipped PCA output leaves [0, 1] slightly).

    Raises:
        ValueError: values outside [0, 1] (NaN, inf included), unbatched inputs,
            differing pixel counts, too many components, a negative ``seed``.
        TypeError: complex or object arrays; a non-int ``n_components`` or ``seed``.
    """
    from sklearn.decomposition import PCA

    xtr = _validate.batch(_validate.unit_interval(x_train, "x_train"), "x_train", "(m, d)")
    xte = _validate.batch(_validate.unit_interval(x_test, "x_test"), "x_test", "(n, d)")
    seed = _validate.seed(seed)
    xtr, xte = xtr.reshape(xtr.shape[0], -1), xte.reshape(xte.shape[0], -1)
    if xtr.shape[1] != xte.shape[1]:
        raise ValueError(f"x_train has {xtr.shape[1]} pixels per image, x_test {xte.shape[1]}.")
    k = _validate.positive_int(n_components, "n_components")
    if k >= min(xtr.shape):
        raise ValueError(f"n_components={k} must be below min(n_samples, n_pixels) = {min(xtr.shape)}.")
    pca = PCA(n_components=k, random_state=seed).fit(xtr)
    return np.clip(pca.inverse_transform(pca.transform(xte)), 0.0, 1.0).astype(np.float32)


def cache_path(name: str) -> Path:
    """``build/models/<data set>/<split>/<profile>/<name>.keras`` for the active data and profile.

    Models are cached per data set (``LABS_DATASET``), split (``standard`` or
    ``offline-8k``) and profile, so a full lab never picks up a quick model and
    a Fashion-MNIST lab never an MNIST one.

    Raises:
        ValueError: a name that is not a plain file name, so that the file stays
            inside the build folder: empty, not a string, with a path separator
            (``a/b``, ``/abs``, ``../x``), starting with ``.``, with NUL or other
            control characters, or longer than 120 characters; a build folder
            that cannot be created (the message names ``LABUTILS_BUILD_DIR``).
    """
    _validate.file_name(name, "cache name")
    from . import data

    source = data.find_dataset()
    d = paths.build_subdir("models", source.dataset, source.split, profile.name())
    path = d / f"{name}.keras"
    if not path.resolve().is_relative_to(paths.build_dir().resolve()):  # pragma: no cover - belt and braces
        raise ValueError(f"cache name {name!r} leads outside the build directory ({path}).")
    return path


def save_cached(model, name: str) -> Path:
    """Save ``model`` in the ``.keras`` format under :func:`cache_path` and return the path.

    Raises:
        TypeError: ``model`` is not a Keras model. ValueError: a bad name (see :func:`cache_path`).
    """
    if not isinstance(model, _keras().Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    path = cache_path(name)
    model.save(path)
    return path


def load_cached(name: str):
    """Load a cached model with ``safe_mode=True``, or return None when there is none.

    Raises:
        ValueError: the file exists but is not a loadable ``.keras`` model
            (e.g. it was written by an older, incompatible lab); delete it and rerun;
            a bad name (see :func:`cache_path`).
    """
    path = cache_path(name)
    if not path.is_file():
        return None
    keras = _keras()
    try:
        return keras.models.load_model(path, safe_mode=True)
    except Exception as exc:
        raise ValueError(f"cannot load the cached model {path} ({exc}); delete the file and rerun the lab that writes it.") from exc
