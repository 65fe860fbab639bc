"""Sequence autoencoders of lab 11: an image read row by row by a recurrent network.

A 28x28 image is a sequence of 28 steps (its rows), each step 28 pixels (Géron, "Hands-On Machine Learning",
3rd ed., chapter 17, "Recurrent autoencoders"). The encoder is a GRU (Cho et al., EMNLP 2014) that reads the rows
and whose last state is mapped to a code; the decoder repeats the code at every step (``RepeatVector``), runs a
second GRU that returns one output per step and maps each output to the 28 logits of that row (``Dense`` applied
to every step, as ``TimeDistributed(Dense)`` would).

* :func:`recurrent_encoder` / :func:`recurrent_decoder` - the two networks; the encoder with one head (a plain
  autoencoder) or two (``z_mean``, ``z_log_var``: a variational recurrent autoencoder, VRAE; Fabius & van
  Amersfoort, ICLR 2015 workshop).
* :func:`build_recurrent_autoencoder` - the plain sequence autoencoder, compiled with binary cross-entropy.
* :func:`build_vrae` - the VRAE: the recurrent encoder and decoder inside :class:`labutils.vae.VAE`, whose ELBO
  ``train_step``, ``encode``/``decode`` and :func:`labutils.vae.log_importance_weights` it reuses unchanged.
* :func:`as_rows` / :func:`as_flat` - images as ``(n, 28, 28)`` row sequences or ``(n, 784)`` vectors.

Conventions: every model here takes **flat images** ``(batch, 784)`` float32 in [0, 1] (the form the other labs and
:class:`labutils.vae.VAE` use) and reshapes them into 28 rows of 28 pixels inside (a ``Reshape`` layer); pass
``(n, 28, 28)`` images through :func:`as_flat` first. Decoders output **logits** ``(batch, 784)``; losses are binary
cross-entropy on grey levels, in nats per image (the VRAE) or per pixel (Keras' ``binary_crossentropy``, the plain
autoencoder). No ``Lambda`` layers: the saved ``.keras`` files load with ``safe_mode=True``.
"""
from __future__ import annotations

import keras
import numpy as np

from . import _validate, vae

__all__ = ["ROWS", "COLUMNS", "as_rows", "as_flat", "recurrent_encoder", "recurrent_decoder",
           "build_recurrent_autoencoder", "build_vrae", "reconstruct"]

ROWS = 28     # time steps: the image's rows, top to bottom
COLUMNS = 28  # features per step: the pixels of one row


def as_rows(x) -> np.ndarray:
    """Images as sequences of rows: ``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)`` -> ``(n, 28, 28)`` float32.

    Step ``t`` of the sequence is row ``t`` of the image (top to bottom), its 28 pixels left to right.

    Raises:
        TypeError: non-numeric, complex or object arrays.
        ValueError: another shape (e.g. one unbatched image), not 28x28, values outside [0, 1], NaN or inf.
    """
    arr = _validate.images(_validate.unit_interval(x, "x"), "x")
    if arr.shape[1:] != (ROWS, COLUMNS):
        raise ValueError(f"x must hold {ROWS}x{COLUMNS} images; got images of {arr.shape[1]}x{arr.shape[2]}.")
    return arr


def as_flat(x) -> np.ndarray:
    """Images as flat vectors: ``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)`` -> ``(n, 784)`` float32 in [0, 1].

    Raises:
        TypeError / ValueError: as :func:`as_rows`.
    """
    return as_rows(x).reshape(-1, ROWS * COLUMNS)


def _units(value, name):
    return _validate.positive_int(value, name)


def recurrent_encoder(latent_dim: int = 32, *, units: int = 64, variational: bool = False,
                      log_var_limit: float = 10.0, name: str = "encoder"):
    """The encoder: ``(batch, 784) -> Reshape(28, 28) -> GRU(units) -> Dense(latent_dim)``.

    The GRU reads the 28 rows in order and keeps only its last state (``return_sequences=False``), a summary of
    the whole image; a linear ``Dense`` layer turns it into the code.

    Args:
        latent_dim: size of the code (a positive int).
        units: the GRU's state size (a positive int).
        variational: False: one output, the code ``"code"``. True: two heads, ``"z_mean"`` and ``"z_log_var"``
            (the latter softly bounded to ``(-log_var_limit, log_var_limit)`` by
            :class:`labutils.vae.BoundedLogVariance`), the encoder :class:`labutils.vae.VAE` expects.
        log_var_limit: the bound of the log-variance head (a positive number).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model``: ``(batch, 784)`` float32 in [0, 1] -> ``(batch, latent_dim)`` float32, or
        ``[z_mean, z_log_var]`` (each ``(batch, latent_dim)``) when ``variational``.

    Raises:
        TypeError: a size that is not an int (booleans included), a non-bool ``variational``.
        ValueError: a size that is not positive, a non-positive ``log_var_limit``.
    """
    latent_dim = _units(latent_dim, "latent_dim")
    units = _units(units, "units")
    if not isinstance(variational, bool):
        raise TypeError(f"variational must be True or False; got {variational!r}.")
    log_var_limit = _validate.number(log_var_limit, "log_var_limit", positive=True)
    x_in = keras.Input(shape=(ROWS * COLUMNS,), name="image")
    rows = keras.layers.Reshape((ROWS, COLUMNS), name="rows")(x_in)
    h = keras.layers.GRU(units, name="encoder_gru")(rows)
    if not variational:
        return keras.Model(x_in, keras.layers.Dense(latent_dim, name="code")(h), name=name)
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = vae.BoundedLogVariance(log_var_limit, name="z_log_var")(
        keras.layers.Dense(latent_dim, name="z_log_var_raw")(h))
    return keras.Model(x_in, [z_mean, z_log_var], name=name)


def recurrent_decoder(latent_dim: int = 32, *, units: int = 64, name: str = "decoder"):
    """The decoder: ``code -> RepeatVector(28) -> GRU(units, return_sequences) -> Dense(28) -> Reshape(784)``.

    The code is fed at every one of the 28 steps; the GRU's output at step ``t`` is mapped to the 28 logits of
    row ``t`` by one ``Dense`` layer shared by all steps (a ``Dense`` layer on a ``(batch, 28, units)`` tensor acts
    on the last axis, as ``TimeDistributed(Dense(28))``).

    Args:
        latent_dim: size of the code (a positive int).
        units: the GRU's state size (a positive int).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model``: ``(batch, latent_dim)`` float32 -> logits ``(batch, 784)`` float32
        (``sigmoid(logits)`` is the reconstruction, or the mean of a Bernoulli p(x|z), in [0, 1]).

    Raises:
        TypeError / ValueError: a size that is not a positive int.
    """
    latent_dim = _units(latent_dim, "latent_dim")
    units = _units(units, "units")
    z_in = keras.Input(shape=(latent_dim,), name="z")
    h = keras.layers.RepeatVector(ROWS, name="repeat_code")(z_in)
    h = keras.layers.GRU(units, return_sequences=True, name="decoder_gru")(h)
    logits = keras.layers.Dense(COLUMNS, name="row_logits")(h)
    return keras.Model(z_in, keras.layers.Reshape((ROWS * COLUMNS,), name="logits")(logits), name=name)


def build_recurrent_autoencoder(latent_dim: int = 32, *, units: int = 64, learning_rate: float = 1e-3,
                                compile: bool = True):
    """The sequence autoencoder ``x -> recurrent_encoder -> recurrent_decoder -> sigmoid``.

    Trained to copy its input with binary cross-entropy per pixel (Keras' ``"binary_crossentropy"`` on the
    sigmoid output, the loss of labs 01 and 06), with Adam.

    Args:
        latent_dim: code size (32 in lab 11, as labs 01 and 06).
        units: GRU state size of encoder and decoder.
        learning_rate: Adam's learning rate (a positive finite number or a Keras schedule; ignored when
            ``compile=False``).
        compile: compile the autoencoder.

    Returns:
        ``(autoencoder, encoder, decoder)``: ``autoencoder`` maps ``(batch, 784)`` float32 in [0, 1] to
        reconstructions ``(batch, 784)`` in (0, 1) and holds ``encoder`` (-> ``(batch, latent_dim)``) and
        ``decoder`` (-> logits ``(batch, 784)``) as layers of those names.

    Raises:
        TypeError / ValueError: as :func:`recurrent_encoder`; a learning rate that is 0, negative, NaN or inf.
    """
    encoder = recurrent_encoder(latent_dim, units=units)
    decoder = recurrent_decoder(latent_dim, units=units)
    x_in = keras.Input(shape=(ROWS * COLUMNS,), name="image")
    out = keras.layers.Activation("sigmoid", name="reconstruction")(decoder(encoder(x_in)))
    autoencoder = keras.Model(x_in, out, name="recurrent_autoencoder")
    if compile:
        learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
        autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return autoencoder, encoder, decoder


def build_vrae(latent_dim: int = 32, *, units: int = 64, learning_rate: float = 1e-3, seed=None,
               compile: bool = True):
    """A variational recurrent autoencoder: the recurrent networks inside :class:`labutils.vae.VAE`.

    The encoder has the two heads of q(z|x) = N(z_mean, diag exp(z_log_var)); the decoder's logits define a
    Bernoulli p(x|z) scored on the grey images (``binarize_inputs=False``, as lab 10's VAE). The VAE's own
    ``train_step`` maximises the ELBO (Kingma & Welling 2014, eq. 3): loss = reconstruction + KL, in nats per
    image, one z sample per image.

    Args:
        latent_dim: code size.
        units: GRU state size of encoder and decoder.
        learning_rate: Adam's learning rate (``clipnorm=100``, as :func:`labutils.vae.build_vae`).
        seed: seed of the sampling noise (an int from 0 to 2**32 - 1, or None).
        compile: compile with Adam.

    Returns:
        A :class:`labutils.vae.VAE` named ``"vrae"``: ``fit(x)`` with ``x`` ``(n, 784)`` float32 in [0, 1];
        ``encode(x)`` gives ``[z_mean, z_log_var]``, ``decode_logits(z)`` logits ``(n, 784)``.

    Raises:
        TypeError / ValueError: as :func:`recurrent_encoder` and :class:`labutils.vae.VAE`; a learning rate that
            is 0, negative, NaN or inf.
    """
    model = vae.VAE(recurrent_encoder(latent_dim, units=units, variational=True),
                    recurrent_decoder(latent_dim, units=units), binarize_inputs=False, seed=seed, name="vrae")
    if compile:
        learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=100.0))
    return model


def reconstruct(model, x, *, batch_size: int = 500) -> np.ndarray:
    """Reconstructions ``(n, 784)`` float32 in [0, 1] of ``x`` by a sequence autoencoder or a VRAE.

    Args:
        model: the ``autoencoder`` of :func:`build_recurrent_autoencoder` (its output is the reconstruction), or a
            :class:`labutils.vae.VAE` such as :func:`build_vrae`'s (decoded at the posterior mean).
        x: images ``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)``, float in [0, 1].
        batch_size: images per forward pass (a positive int).

    Raises:
        TypeError: ``model`` is not a Keras model; bad ``x`` (see :func:`as_flat`).
        ValueError: bad ``x`` (see :func:`as_flat`); a non-positive ``batch_size``.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    flat = as_flat(x)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    if isinstance(model, vae.VAE):
        z_mean = np.concatenate([keras.ops.convert_to_numpy(model.encode(flat[i:i + batch_size])[0])
                                 for i in range(0, len(flat), batch_size)])
        return model.decode_means(z_mean)
    return np.asarray(model.predict(flat, batch_size=batch_size, verbose=0), dtype=np.float32)
