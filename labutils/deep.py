"""Builders and layers for labs 05-06: denoising, deep, tied, stacked and convolutional autoencoders.

* :func:`corrupt` and :class:`NoisyBatches` - Gaussian or masking noise, fresh for
  every batch of every epoch (a ``keras.utils.PyDataset``), for denoising
  autoencoders (Vincent et al., ICML 2008; JMLR 11, 2010);
* :func:`median_filter` - the classical denoising baseline (``scipy.ndimage``);
* :func:`conv_autoencoder` - ``Conv2D`` / ``Conv2DTranspose`` autoencoder, with
  a convolutional code (denoising, lab 05) or a ``Dense`` bottleneck (lab 06);
* :class:`DenseTranspose` and :func:`tied_dense_autoencoder` - tied weights: the
  decoder reuses the transposed encoder kernels with its own biases;
* :func:`greedy_layerwise_pretrain` - stack of shallow autoencoders trained one
  at a time (Hinton & Salakhutdinov, Science 2006; Bengio et al., NIPS 2007).

Everything here saves as ``.keras`` and loads with ``safe_mode=True``.
Importing this module imports Keras.
"""
from __future__ import annotations

import math
import time

import keras
import numpy as np
from keras import ops

from . import _validate, data

__all__ = [
    "NOISE_KINDS",
    "corrupt",
    "NoisyBatches",
    "median_filter",
    "conv_autoencoder",
    "DenseTranspose",
    "tied_dense_autoencoder",
    "greedy_layerwise_pretrain",
    "count_params",
    "tsne",
]

#: The corruptions :func:`corrupt` knows, with the meaning of their ``level``.
NOISE_KINDS = {
    "gaussian": "noise factor: standard deviation of N(0, 1) noise added before clipping to [0, 1]",
    "masking": "fraction of pixels set to 0",
}


# --------------------------------------------------------------------------
# Corruption and the classical baseline (lab 05)
# --------------------------------------------------------------------------

def corrupt(x, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Corrupt images with one of :data:`NOISE_KINDS`.

    ``"gaussian"``: ``clip(x + level * N(0, 1), 0, 1)`` (:func:`labutils.data.gaussian_noise`);
    ``"masking"``: each pixel set to 0 with probability ``level``
    (:func:`labutils.data.masking_noise`; Vincent et al. 2008, section 2.3).

    Args:
        x: images of any shape, e.g. ``(batch, 28, 28, 1)``, float in [0, 1].
        kind: ``"gaussian"`` or ``"masking"``.
        level: the noise factor (>= 0) or the masked fraction (in [0, 1]).
        seed: NumPy seed (an int from 0 to 2**32 - 1, or a list of them); the
            same seed gives the same noise.

    Returns:
        ``float32`` array of ``x``'s shape in [0, 1].

    Raises:
        ValueError: an unknown ``kind``, a level out of range (NaN, inf included),
            ``x`` outside [0, 1] or not finite, a negative ``seed``.
        TypeError: a non-string ``kind``, non-numeric, complex or object input, a non-int ``seed``.
    """
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a string, one of {sorted(NOISE_KINDS)}; got {kind!r}.")
    if kind == "gaussian":
        return data.gaussian_noise(x, noise_factor=level, seed=seed)
    if kind == "masking":
        return data.masking_noise(x, fraction=level, seed=seed)
    raise ValueError(f"unknown noise kind {kind!r}; expected one of {sorted(NOISE_KINDS)}.")


class NoisyBatches(keras.utils.PyDataset):
    """``(noisy, clean)`` batches with fresh noise in every batch of every epoch.

    A denoising autoencoder should never see the same corrupted copy twice:
    with a fixed noisy training set (the popular recipe) it can partly memorise
    the noise instead of learning to map corrupted inputs back to the data.
    Pass it to ``model.fit(NoisyBatches(...), validation_data=(fixed_noisy, clean))``.

    Args:
        x: clean images ``(n, ...)``, float in [0, 1] (e.g. ``(n, 28, 28, 1)``).
        kind, level: the corruption, see :func:`corrupt`.
        batch_size: images per batch (the last batch may be smaller).
        seed: base seed; batch ``i`` of epoch ``e`` uses its own derived seed, and
            the order of the images is reshuffled each epoch.
        shuffle: reshuffle the images every epoch (default True).

    Raises:
        ValueError / TypeError: as :func:`corrupt` (checked once, on a batch, at
            construction), a non-positive ``batch_size``, a ``seed`` that is not an
            int from 0 to 2**32 - 1 (``1.5`` or ``True`` included).
    """

    def __init__(self, x, kind: str, level: float, *, batch_size: int = 128, seed: int = 0, shuffle: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.x = _validate.unit_interval(x, "x")
        if self.x.ndim < 2:
            raise ValueError(f"x must be a batch of images (n, ...); got shape {self.x.shape}.")
        self.batch_size = _validate.positive_int(batch_size, "batch_size")
        seed = _validate.seed(seed)
        corrupt(self.x[:2], kind, level, seed=0)  # validate kind and level now, not inside fit
        self.kind, self.level, self.seed, self.shuffle = kind, level, int(seed), bool(shuffle)
        self.epoch = 0
        self._order = self._permutation()

    def _permutation(self):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch, 7]).permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        idx = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        clean = self.x[idx]
        noisy = corrupt(clean, self.kind, self.level, seed=[self.seed, self.epoch, int(index)])
        return noisy, clean

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._permutation()


def median_filter(x, size: int = 3) -> np.ndarray:
    """Denoise each image with a ``size`` x ``size`` median filter (``scipy.ndimage.median_filter``).

    The classical baseline for impulse-like noise: each pixel becomes the median
    of its neighbourhood (image borders reflected, scipy's default). Images are
    filtered one by one, never across the batch.

    Args:
        x: ``(batch, 28, 28, 1)``, ``(batch, 28, 28)`` or ``(batch, 784)`` float in [0, 1].
        size: odd window side >= 1 (1 returns the input).

    Returns:
        ``float32`` array of ``x``'s shape in [0, 1].

    Raises:
        ValueError: an even or non-positive ``size``, a wrong shape, values outside [0, 1].
        TypeError: a non-int ``size``.
    """
    from scipy import ndimage

    size = _validate.positive_int(size, "size")
    if size % 2 == 0:
        raise ValueError(f"size must be odd so that the window has a centre pixel; got {size}.")
    arr = _validate.unit_interval(x, "x")
    imgs = _validate.images(arr, "x")
    out = ndimage.median_filter(imgs, size=(1, size, size))
    return out.reshape(arr.shape).astype(np.float32)


# --------------------------------------------------------------------------
# Convolutional autoencoder (labs 05 and 06)
# --------------------------------------------------------------------------

def conv_autoencoder(input_shape=(28, 28, 1), *, filters=(32, 64), latent_dim: int | None = None,
                     kernel_size: int = 3, activation: str = "relu"):
    """A convolutional autoencoder: strided ``Conv2D`` down, ``Conv2DTranspose`` up.

    Encoder: one ``Conv2D(f, kernel_size, strides=2, padding="same")`` per entry of
    ``filters`` (28x28 -> 14x14 -> 7x7 with two), then, if ``latent_dim`` is
    given, ``Flatten -> Dense(latent_dim)`` (the layer named ``"code"``).
    Decoder: the mirror image (``Dense -> Reshape`` if needed, one
    ``Conv2DTranspose(strides=2)`` per level, the last one with ``channels``
    filters and a sigmoid: the image itself).
    With ``latent_dim=None`` the code is the last feature map (e.g. 7x7x64), the
    usual choice for denoising where the code need not be small.

    Args:
        input_shape: ``(height, width, channels)``; height and width divisible
            by ``2 ** len(filters)``.
        filters: channels per level, e.g. ``(32, 64)``.
        latent_dim: size of a dense code ``(batch, latent_dim)``, or None.
        kernel_size: side of the convolution kernels.
        activation: hidden (and dense-code) activation.

    Returns:
        ``(autoencoder, encoder, decoder)``, uncompiled; ``autoencoder`` maps
        ``(batch, *input_shape)`` to a sigmoid output of the same shape in
        (0, 1) and holds ``encoder`` and ``decoder`` as layers of those names.

    Raises:
        ValueError: empty ``filters``, sizes not divisible, non-positive sizes,
            an ``input_shape`` that is not three sizes.
        TypeError: non-int sizes (booleans included), ``filters`` not a tuple of ints.
    """
    layers = keras.layers
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape!r}.")
    input_shape = tuple(_validate.positive_int(s, "input_shape[i]") for s in input_shape)
    filters = _validate.sizes(filters, "filters")
    if not filters:
        raise ValueError("filters must name at least one convolution level, e.g. (32, 64).")
    kernel_size = _validate.positive_int(kernel_size, "kernel_size")
    factor = 2 ** len(filters)
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ValueError(f"{len(filters)} stride-2 levels need height and width divisible by {factor}; "
                         f"got {input_shape[:2]}.")
    if latent_dim is not None:
        latent_dim = _validate.positive_int(latent_dim, "latent_dim")

    x_in = keras.Input(shape=input_shape, name="image")
    h = x_in
    for i, f in enumerate(filters):
        h = layers.Conv2D(f, kernel_size, strides=2, padding="same", activation=activation, name=f"conv_{i + 1}")(h)
    map_shape = tuple(h.shape[1:])
    if latent_dim is not None:
        h = layers.Flatten(name="flatten")(h)
        h = layers.Dense(latent_dim, activation=activation, name="code")(h)
    encoder = keras.Model(x_in, h, name="encoder")

    z_in = keras.Input(shape=tuple(h.shape[1:]), name="code_input")
    g = z_in
    if latent_dim is not None:
        g = layers.Dense(int(np.prod(map_shape)), activation=activation, name="decoder_dense")(g)
        g = layers.Reshape(map_shape, name="reshape")(g)
    for i, f in enumerate(reversed(filters[:-1])):
        g = layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation=activation,
                                   name=f"deconv_{i + 1}")(g)
    # the last transposed convolution outputs the image itself: a further Conv2D(1, 3) at full
    # resolution would cost more than the rest of the model on a CPU (measured 5x) for no gain
    out = layers.Conv2DTranspose(input_shape[2], kernel_size, strides=2, padding="same", activation="sigmoid",
                                 name="reconstruction")(g)
    decoder = keras.Model(z_in, out, name="decoder")

    autoencoder = keras.Model(x_in, decoder(encoder(x_in)), name="conv_autoencoder")
    return autoencoder, encoder, decoder


# --------------------------------------------------------------------------
# Tied weights (lab 06)
# --------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="labutils")
class DenseTranspose(keras.layers.Layer):
    """A decoder layer that reuses a ``Dense`` layer's kernel, transposed: ``act(x W^T + b')``.

    Tied weights halve the parameters of a mirrored autoencoder: the decoder
    layer owns only its bias ``b'`` (Vincent et al., JMLR 2010, section 2.2;
    Hinton & Salakhutdinov 2006 start fine-tuning from tied weights).

    Args:
        dense: a **built** ``keras.layers.Dense`` with kernel ``(n_in, n_out)``;
            this layer maps ``(batch, n_out)`` to ``(batch, n_in)``.
        activation: activation name or function (e.g. ``"sigmoid"`` for pixels).

    Serialization: ``get_config`` holds the Dense layer's serialized form. In a
    model saved as ``.keras``, Keras' object sharing restores it as **the same**
    layer object as the encoder's (the tie survives ``load_model(...,
    safe_mode=True)``); ``from_config`` on its own builds an untied copy.

    Raises:
        TypeError: ``dense`` is not a Dense layer.
        ValueError (at build): ``dense`` not built yet, or an input width other
            than ``n_out``.
    """

    def __init__(self, dense, activation=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dense, keras.layers.Dense):
            raise TypeError(f"dense must be a keras.layers.Dense layer; got {type(dense).__name__}.")
        self.dense = dense
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        if not self.dense.built:
            raise ValueError(f"DenseTranspose needs a built Dense layer; call {self.dense.name!r} on an input first.")
        n_in, n_out = self.dense.kernel.shape
        if input_shape[-1] is not None and input_shape[-1] != n_out:
            raise ValueError(f"DenseTranspose of {self.dense.name!r} expects inputs of width {n_out} "
                             f"(the Dense layer's units); got {input_shape[-1]}.")
        self.bias = self.add_weight(name="bias", shape=(n_in,), initializer="zeros")

    def call(self, inputs):
        return self.activation(ops.matmul(inputs, ops.transpose(self.dense.kernel)) + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.dense.kernel.shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(dense=keras.saving.serialize_keras_object(self.dense),
                      activation=keras.activations.serialize(self.activation))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["dense"] = keras.saving.deserialize_keras_object(config["dense"])
        return cls(**config)


def tied_dense_autoencoder(input_dim: int = 784, latent_dim: int = 32, *, hidden_units=(128, 64),
                           activation: str = "relu", output_activation: str = "sigmoid"):
    """A mirrored dense autoencoder whose decoder reuses the encoder's kernels.

    ``784-128-64-32`` encoder (``Dense`` layers ``encoder_hidden_1``, ...,
    ``code``), decoder ``DenseTranspose`` layers in reverse order, so
    ``W_decoder = W_encoder^T`` and only the biases are new: 111,792 parameters
    against 222,384 untied for the defaults.

    Args:
        input_dim, latent_dim, hidden_units, activation, output_activation: as
            :func:`labutils.models.dense_autoencoder`.

    Returns:
        ``(autoencoder, encoder)``: ``(batch, input_dim) -> (batch, input_dim)``
        and ``(batch, input_dim) -> (batch, latent_dim)``, uncompiled. (A
        separate decoder model would share the encoder's kernels, so none is
        returned.)

    Raises:
        TypeError / ValueError: non-positive or non-int sizes (booleans included),
            ``hidden_units`` not a tuple of ints.
    """
    input_dim = _validate.positive_int(input_dim, "input_dim")
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    hidden_units = _validate.sizes(hidden_units, "hidden_units")
    x_in = keras.Input(shape=(input_dim,), name="image")
    h = x_in
    dense_layers = []
    for i, units in enumerate(hidden_units + (latent_dim,)):
        name = "code" if i == len(hidden_units) else f"encoder_hidden_{i + 1}"
        layer = keras.layers.Dense(units, activation=activation, name=name)
        h = layer(h)
        dense_layers.append(layer)
    encoder = keras.Model(x_in, h, name="encoder")
    g = h
    for i, layer in enumerate(reversed(dense_layers)):
        last = i == len(dense_layers) - 1
        g = DenseTranspose(layer, activation=output_activation if last else activation,
                           name="reconstruction" if last else f"decoder_hidden_{len(dense_layers) - 1 - i}")(g)
    autoencoder = keras.Model(x_in, g, name="tied_autoencoder")
    return autoencoder, encoder


def count_params(model) -> int:
    """Number of distinct trainable parameters (a shared variable counts once).

    Raises:
        TypeError: not a Keras model or layer.
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"model must be a Keras model or layer; got {type(model).__name__}.")
    seen = {}
    for w in model.trainable_weights:
        seen[id(w)] = int(np.prod(w.shape))
    return int(sum(seen.values()))


# --------------------------------------------------------------------------
# Greedy layer-wise pretraining (lab 06)
# --------------------------------------------------------------------------

def greedy_layerwise_pretrain(x_train, units=(128, 64, 32), *, epochs: int, batch_size: int = 128,
                              learning_rate: float = 1e-3, optimizer: str = "adam", activation: str = "relu",
                              validation_data=None, verbose=0):
    """Train a stack of shallow autoencoders one layer at a time, then stack them.

    Hinton & Salakhutdinov (Science 2006) and Bengio et al. (NIPS 2007, "greedy
    layer-wise training"): layer 1 is the encoder of a ``784-128-784``
    autoencoder trained on the pixels (sigmoid output, BCE); layer 2 the encoder
    of ``128-64-128`` trained on layer 1's codes (linear output, MSE, since
    ReLU codes are not in [0, 1]); and so on. The trained encoders, followed by
    the decoders in reverse order, form the deep autoencoder, ready to be
    fine-tuned end to end.

    Args:
        x_train: ``(n, d)`` float in [0, 1], e.g. ``(n, 784)``.
        units: widths of the encoder layers, the last one the code.
        epochs: epochs per layer (the stack costs ``len(units) * epochs`` shallow
            epochs), at most 100,000.
        batch_size, learning_rate: the optimizer's settings for every layer (a
            positive int; a positive finite number or a Keras schedule).
        optimizer: ``"adam"`` or ``"sgd"`` (plain SGD, as in 2006).
        activation: activation of the encoder layers (and hidden decoder layers).
        validation_data: optional ``(n_val, d)`` array, encoded alongside and
            used for each layer's ``val_loss``.
        verbose: passed to ``fit``.

    Returns:
        ``(autoencoder, encoder, info)``: the stacked ``(batch, d) -> (batch, d)``
        model (uncompiled, layers named as in
        :func:`labutils.models.dense_autoencoder`), its encoder
        ``(batch, d) -> (batch, units[-1])``, and ``info = {"histories": [dict
        per layer], "seconds": wall time of the pretraining in seconds}``.

    Raises:
        ValueError: ``x_train`` not 2-d in [0, 1] (NaN, inf included), empty
            ``units``, an unknown optimizer, a learning rate that is 0, negative,
            NaN or inf, non-positive sizes.
        TypeError: non-int sizes or epochs (booleans included), complex or object
            arrays, a learning rate that is not a number.
    """
    x = _validate.unit_interval(x_train, "x_train")
    if x.ndim != 2:
        raise ValueError(f"x_train must be flat vectors (n, d); got shape {x.shape}.")
    units = _validate.sizes(units, "units")
    if not units:
        raise ValueError("units must hold at least one layer width, e.g. (128, 64, 32).")
    epochs = _validate.bounded_int(epochs, "epochs", _validate.MAX_EPOCHS)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
    optimizers = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    if not isinstance(optimizer, str) or optimizer not in optimizers:
        raise ValueError(f"optimizer must be one of {sorted(optimizers)}; got {optimizer!r}.")
    val = None if validation_data is None else _validate.unit_interval(validation_data, "validation_data")
    if val is not None and (val.ndim != 2 or val.shape[1] != x.shape[1]):
        raise ValueError(f"validation_data must be (n_val, {x.shape[1]}); got shape {val.shape}.")

    start = time.perf_counter()
    encoders, decoders, histories = [], [], []
    inputs, val_inputs = x, val
    for i, n_units in enumerate(units):
        first = i == 0
        name = "code" if i == len(units) - 1 else f"encoder_hidden_{i + 1}"
        enc = keras.layers.Dense(n_units, activation=activation, name=name)
        dec = keras.layers.Dense(inputs.shape[1], activation="sigmoid" if first else "linear",
                                 name="reconstruction" if first else f"decoder_hidden_{i}")
        x_in = keras.Input(shape=(inputs.shape[1],))
        shallow = keras.Model(x_in, dec(enc(x_in)), name=f"pretrain_layer_{i + 1}")
        shallow.compile(optimizer=optimizers[optimizer](learning_rate),
                        loss="binary_crossentropy" if first else "mse")
        history = shallow.fit(inputs, inputs, epochs=epochs, batch_size=batch_size, verbose=verbose,
                              validation_data=None if val_inputs is None else (val_inputs, val_inputs))
        histories.append(dict(history.history))
        encoders.append(enc)
        decoders.append(dec)
        inputs = np.asarray(enc(inputs))
        if val_inputs is not None:
            val_inputs = np.asarray(enc(val_inputs))
    seconds = time.perf_counter() - start

    x_in = keras.Input(shape=(x.shape[1],), name="image")
    h = x_in
    for enc in encoders:
        h = enc(h)
    encoder = keras.Model(x_in, h, name="encoder")
    g = h
    for dec in reversed(decoders):
        g = dec(g)
    autoencoder = keras.Model(x_in, g, name="stacked_autoencoder")
    return autoencoder, encoder, {"histories": histories, "seconds": seconds}


# --------------------------------------------------------------------------
# Embedding codes for pictures (lab 06)
# --------------------------------------------------------------------------

def tsne(codes, *, seed: int = 0, perplexity: float = 30.0, max_iter: int = 1000) -> np.ndarray:
    """2-d t-SNE embedding of codes (``sklearn.manifold.TSNE``, Barnes-Hut, PCA initialisation).

    van der Maaten & Hinton, JMLR 9 (2008). The embedding keeps neighbourhoods,
    not distances or cluster sizes: use it to look, and a number such as
    :func:`labutils.metrics.knn_accuracy` to measure. Runs single-threaded
    (``threadpoolctl``): on a small shared CPU, OpenMP threads that wait for
    each other make it several times slower, not faster.

    Args:
        codes: ``(n, d)`` real array with ``n > perplexity`` (e.g. 1,500 test codes).
        seed: ``random_state`` of TSNE (an int from 0 to 2**32 - 1); the same seed
            gives the same picture.
        perplexity: effective number of neighbours, > 0 and < n.
        max_iter: optimisation steps (at least 250, at most 100,000).

    Returns:
        ``float64`` array ``(n, 2)``.

    Raises:
        ValueError: codes not 2-d, NaN/inf, too few points for the perplexity,
            ``max_iter`` below 250 or above 100,000, a negative ``seed``.
        TypeError: non-numeric, complex or object codes; a non-int ``seed`` or ``max_iter``.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    z = _validate.as_array(codes, "codes").astype(np.float64)
    if z.ndim != 2:
        raise ValueError(f"codes must be (n, d); got shape {z.shape} (flatten feature maps first).")
    if not np.all(np.isfinite(z)):
        raise ValueError("codes contain NaN or inf.")
    if isinstance(perplexity, bool) or not isinstance(perplexity, (int, float, np.integer, np.floating)) \
            or not 0 < perplexity < z.shape[0]:
        raise ValueError(f"perplexity must be a number between 0 and the number of codes ({z.shape[0]}); "
                         f"got {perplexity!r}.")
    max_iter = _validate.bounded_int(max_iter, "max_iter", _validate.MAX_ITER)
    seed = _validate.seed(seed)
    if max_iter < 250:
        raise ValueError(f"max_iter must be at least 250 (scikit-learn's minimum); got {max_iter}.")
    with threadpool_limits(1):
        embedding = TSNE(2, perplexity=float(perplexity), init="pca", max_iter=max_iter,
                         random_state=seed).fit_transform(z)
    return np.asarray(embedding, dtype=np.float64)
