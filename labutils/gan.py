"""The GANs of lab 08: DCGAN generator/discriminator builders, a ``keras.Model``
with its own ``train_step``, the conditional variant, the callbacks that
draw a fixed-noise sample grid and measure sample quality every epoch, and two
figures (:func:`gan_progress`, :func:`class_histograms`). The sample-quality
measurements themselves (Fréchet distance, class coverage in a judge's
outputs) are shared with other generative models: :mod:`labutils.metrics`.

Goodfellow et al., "Generative Adversarial Nets", NIPS 2014 (the minimax
objective, eq. 1; the non-saturating generator loss, section 3). Radford,
Metz & Chintala, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", ICLR 2016 (the DCGAN
guidelines, section 3: strided convolutions instead of pooling, batch norm in
the generator, ReLU in the generator with a tanh output, LeakyReLU in the
discriminator, Adam with learning rate 2e-4 and beta_1 = 0.5). Mirza &
Osindero, "Conditional Generative Adversarial Nets", arXiv:1411.1784, 2014.

Conventions: images are ``(batch, 28, 28, 1)`` ``float32`` in **[-1, 1]**
(the range of the generator's tanh; :func:`to_tanh_range` and
:func:`to_unit_range` convert from and to the [0, 1] pixels of
``labutils.data``); the discriminator outputs **logits** ``(batch, 1)``
(``D(x) = sigmoid(logit)``), and every loss is a cross-entropy computed from
logits, in nats per image averaged over the batch. A conditional GAN gets the
one-hot label ``(batch, num_classes)`` as a second input of both networks.

Like the other model-family modules this one imports Keras when imported: the model is
a registered serializable class, so that saved ``.keras`` files load with
``safe_mode=True``.
"""
from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from . import _validate, backends, paths, plots
from .plots import Figure

__all__ = [
    "dcgan_generator",
    "dcgan_discriminator",
    "GAN",
    "build_gan",
    "to_tanh_range",
    "to_unit_range",
    "SampleGrid",
    "QualityMonitor",
    "gan_progress",
    "class_histograms",
]

PACKAGE = "labutils"


def to_tanh_range(x) -> np.ndarray:
    """Pixels in [0, 1] -> ``2 x - 1`` in [-1, 1] (float32, same shape).

    Raises:
        TypeError / ValueError: non-numeric input or values outside [0, 1].
    """
    return (2.0 * _validate.unit_interval(x, "x") - 1.0).astype(np.float32)


def to_unit_range(x) -> np.ndarray:
    """Generator output in [-1, 1] -> ``(x + 1) / 2`` in [0, 1] (float32, clipped against rounding).

    Raises:
        TypeError: non-numeric input. ValueError: NaN/inf or values outside [-1, 1] (beyond 1e-4).
    """
    arr = _validate.as_array(x, "x").astype(np.float32)
    if arr.size == 0:
        raise ValueError("x is empty; expected at least one image.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x contains NaN or inf; expected generator output in [-1, 1].")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1.0001 or hi > 1.0001:
        raise ValueError(f"x must lie in [-1, 1] (tanh output); got values in [{lo:g}, {hi:g}]. "
                         "For [0, 1] pixels there is nothing to convert.")
    return np.clip((arr + 1.0) / 2.0, 0.0, 1.0)


def _num_classes(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"num_classes must be an int (0 for an unconditional GAN); got {value!r}.")
    if value < 0:
        raise ValueError(f"num_classes must be >= 0; got {value}.")
    return int(value)


def dcgan_generator(latent_dim: int = 64, *, num_classes: int = 0, filters=(64, 32)):
    """The DCGAN generator for 28x28 grey images (Radford et al. 2016, section 3).

    ``z [, one-hot y] -> Dense(7*7*filters[0]) -> BN -> ReLU -> reshape (7, 7, filters[0])
    -> Conv2DTranspose(filters[1], 4, stride 2) -> BN -> ReLU  (14x14)
    -> Conv2DTranspose(1, 4, stride 2, tanh)  (28x28)``.
    Batch norm everywhere except the output layer, ReLU inside, tanh at the end;
    no pooling or upsampling layers, only learned (transposed) strided convolutions.
    A conditional generator concatenates the one-hot label to ``z``
    (Mirza & Osindero 2014, section 3.2).

    Args:
        latent_dim: size of z.
        num_classes: 0 for a GAN; ``k > 0`` adds the one-hot label input ``(batch, k)``.
        filters: channels of the 7x7 and 14x14 feature maps (two positive ints).

    Returns:
        A ``keras.Model`` named ``"generator"``: ``(batch, latent_dim)`` float32
        [and ``(batch, k)``] -> images ``(batch, 28, 28, 1)`` float32 in [-1, 1].

    Raises:
        TypeError / ValueError: non-positive or non-int sizes, ``filters`` not two ints.
    """
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    num_classes = _num_classes(num_classes)
    f1, f2 = _two_filters(filters)
    layers = keras.layers
    z_in = keras.Input(shape=(latent_dim,), name="z")
    inputs, h = z_in, z_in
    if num_classes:
        y_in = keras.Input(shape=(num_classes,), name="label")
        inputs = [z_in, y_in]
        h = layers.Concatenate(name="z_and_label")(inputs)
    h = layers.Dense(7 * 7 * f1, use_bias=False, name="project")(h)
    h = layers.BatchNormalization(name="bn0")(h)
    h = layers.ReLU(name="relu0")(h)
    h = layers.Reshape((7, 7, f1), name="reshape")(h)
    h = layers.Conv2DTranspose(f2, 4, strides=2, padding="same", use_bias=False, name="deconv1")(h)
    h = layers.BatchNormalization(name="bn1")(h)
    h = layers.ReLU(name="relu1")(h)
    out = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", name="image")(h)
    return keras.Model(inputs, out, name="generator")


def dcgan_discriminator(*, num_classes: int = 0, filters=(32, 64), dropout: float = 0.3,
                        leak: float = 0.2, batch_norm: bool = False):
    """The DCGAN discriminator for 28x28 grey images; it outputs a logit.

    ``x [, label map] -> Conv2D(filters[0], 4, stride 2) -> LeakyReLU(0.2) -> Dropout
    -> Conv2D(filters[1], 4, stride 2) -> LeakyReLU(0.2) -> Dropout -> Flatten -> Dense(1)``.
    Strided convolutions, no pooling, LeakyReLU (Radford et al. 2016,
    section 3). Radford et al. also put batch norm after every convolution of
    D but the first; here it is optional (``batch_norm=True``), off by
    default: it couples the real and the generated batch, and in lab 08's
    budget it started slower. The output is a **logit**
    (no sigmoid), so the losses use ``from_logits=True``, which is exact where
    ``log(sigmoid(.))`` of a saturated float32 sigmoid is not.
    A conditional discriminator maps the one-hot label to a 28x28 map
    (``Dense(784)``) and stacks it onto the image as a second channel.

    Args:
        num_classes: 0, or ``k > 0`` for a conditional discriminator.
        filters: channels of the two strided convolutions (two positive ints).
        dropout: dropout rate in [0, 1) after each convolution.
        leak: LeakyReLU slope for negative inputs, in [0, 1).
        batch_norm: batch norm after the second convolution.

    Returns:
        A ``keras.Model`` named ``"discriminator"``: images ``(batch, 28, 28, 1)``
        float32 in [-1, 1] [and ``(batch, k)``] -> logits ``(batch, 1)`` float32.

    Raises:
        TypeError / ValueError: bad sizes or rates.
    """
    num_classes = _num_classes(num_classes)
    f1, f2 = _two_filters(filters)
    dropout = _validate.probability(dropout, "dropout", allow_one=False)
    leak = _validate.probability(leak, "leak", allow_one=False)
    layers = keras.layers
    x_in = keras.Input(shape=(28, 28, 1), name="image")
    inputs, h = x_in, x_in
    if num_classes:
        y_in = keras.Input(shape=(num_classes,), name="label")
        inputs = [x_in, y_in]
        label_map = layers.Reshape((28, 28, 1), name="label_map")(layers.Dense(28 * 28, name="label_dense")(y_in))
        h = layers.Concatenate(name="image_and_label")([x_in, label_map])
    for i, f in enumerate((f1, f2)):
        h = layers.Conv2D(f, 4, strides=2, padding="same", use_bias=not (batch_norm and i), name=f"conv{i + 1}")(h)
        if batch_norm and i:  # DCGAN: batch norm in D except on its input layer
            h = layers.BatchNormalization(name=f"bn{i + 1}")(h)
        h = layers.LeakyReLU(leak, name=f"leaky{i + 1}")(h)
        h = layers.Dropout(dropout, name=f"dropout{i + 1}")(h)
    h = layers.Flatten(name="flatten")(h)
    out = layers.Dense(1, name="logit")(h)
    return keras.Model(inputs, out, name="discriminator")


def _two_filters(filters):
    if not isinstance(filters, (tuple, list)) or len(filters) != 2:
        raise ValueError(f"filters must be two channel counts, e.g. (64, 32); got {filters!r}.")
    return tuple(_validate.positive_int(f, "filters[i]") for f in filters)


def _smoothing(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"label_smoothing must be a number; got {value!r} ({type(value).__name__}).")
    if not 0.0 <= float(value) < 0.5:
        raise ValueError(f"label_smoothing must lie in [0, 0.5); got {value!r}.")
    return float(value)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GAN(backends.Model):
    """A GAN trained with the non-saturating loss, one optimizer per network.

    The minimax game of Goodfellow et al. (2014), eq. 1::

        min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))]

    Each ``train_step`` (per batch of real images ``x``, ``z ~ N(0, I)``):

    1. discriminator step: ``d_loss = BCE(1 - s, logit(x)) + BCE(0, logit(G(z)))``
       (``s`` = one-sided label smoothing, Salimans et al. 2016, section 3.4),
       gradients with respect to the discriminator's variables only, applied
       by ``d_optimizer``;
    2. generator step on fresh noise: the **non-saturating** loss
       ``g_loss = BCE(1, logit(G(z))) = -log D(G(z))`` (Goodfellow et al. 2014,
       section 3), gradients with respect to the generator's variables only,
       applied by ``g_optimizer``.

    Each loss (:meth:`d_loss_fn`, :meth:`g_loss_fn`) is differentiated with
    respect to its own network's variables only (:func:`labutils.backends.value_and_grad`:
    a ``tf.GradientTape``, ``torch.autograd`` or ``jax.value_and_grad``, whichever
    backend runs); no ``trainable`` flags are toggled. ``fit`` logs ``d_loss`` and
    ``g_loss`` (nats, batch means) and ``d_real`` / ``d_fake``, the mean ``D(x)`` and
    ``D(G(z))`` (probabilities, before the D update of the step).

    Data: ``fit(x)`` with ``x`` ``(n, 28, 28, 1)`` float32 in [-1, 1]; a
    conditional GAN takes ``fit(x, y_onehot)`` with ``y_onehot`` ``(n, k)``.
    Calling the model on ``z`` (or ``[z, y_onehot]``) returns ``G(z)``.

    Args:
        generator: from :func:`dcgan_generator`.
        discriminator: from :func:`dcgan_discriminator` (outputs logits).
        label_smoothing: ``s`` in [0, 0.5): real images get the target ``1 - s``.
        seed: seed of the noise ``z`` drawn in ``train_step`` (None: unseeded).

    Raises:
        TypeError: generator/discriminator not Keras models; a ``seed`` that is not
            an int or None. ValueError: networks that disagree on image shape or
            conditioning; a negative ``seed``; at ``fit`` time, a conditional GAN
            without labels, NumPy images outside [-1, 1] or with NaN or inf, or a
            ``fit`` before ``compile``.
    """

    def __init__(self, generator, discriminator, label_smoothing: float = 0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{name} must be a keras.Model; got {type(m).__name__}.")
        if tuple(generator.outputs[0].shape[1:]) != tuple(discriminator.inputs[0].shape[1:]):
            raise ValueError(f"the generator makes images {tuple(generator.outputs[0].shape[1:])} but the "
                             f"discriminator reads {tuple(discriminator.inputs[0].shape[1:])}.")
        if len(generator.inputs) != len(discriminator.inputs):
            raise ValueError("generator and discriminator must both be conditional (two inputs) or both not; "
                             f"they have {len(generator.inputs)} and {len(discriminator.inputs)} inputs.")
        seed = _validate.seed(seed, allow_none=True)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.conditional = len(generator.inputs) == 2
        self.num_classes = int(generator.inputs[1].shape[-1]) if self.conditional else 0
        self.label_smoothing = _smoothing(label_smoothing)
        self.seed = None if seed is None else int(seed)
        self.noise_seed = keras.random.SeedGenerator(self.seed)
        self.d_optimizer = None
        self.g_optimizer = None
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.built = True  # generator and discriminator are built functional models

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Set one optimizer per network (e.g. ``keras.optimizers.Adam(2e-4, beta_1=0.5)`` each).

        Raises:
            TypeError: a missing optimizer or one that is not a ``keras.optimizers.Optimizer``,
                or the same optimizer object for both networks.
        """
        for name, opt in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise TypeError(f"{name} must be a keras optimizer, e.g. keras.optimizers.Adam(2e-4, beta_1=0.5); "
                                f"got {type(opt).__name__}.")
        if d_optimizer is g_optimizer:
            raise TypeError("d_optimizer and g_optimizer must be two optimizer objects: each keeps the moment "
                            "estimates of its own network's variables.")
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # build now: each optimizer holds slots for its own network's variables only, and a saved
        # model always carries the full optimizer state
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)
        # what Keras' trainers read as model.optimizer (JAX's carries its variables from step to step)
        self.optimizer = backends.OptimizerGroup([d_optimizer, g_optimizer])
        self._gan_compile_config = {"d_optimizer": keras.saving.serialize_keras_object(d_optimizer),
                                    "g_optimizer": keras.saving.serialize_keras_object(g_optimizer)}

    def get_compile_config(self):
        return getattr(self, "_gan_compile_config", None)

    def compile_from_config(self, config):
        self.compile(d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
                     g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]))

    def _check_fit_args(self, x, y):
        # fail before Keras traces the step: an error inside a trace leaves a half-built train function
        if self.d_optimizer is None or self.g_optimizer is None:
            raise ValueError("compile the GAN first: gan.compile(d_optimizer=..., g_optimizer=...).")
        if self.conditional and y is None and isinstance(x, np.ndarray):
            raise ValueError("a conditional GAN needs the one-hot labels: fit(x, y_onehot).")
        if isinstance(x, np.ndarray):
            x = _validate.as_array(x, "x")
            if x.size and not np.all(np.isfinite(x)):
                raise ValueError("x contains NaN or inf; expected images in [-1, 1] (see to_tanh_range).")
            if x.size and (x.min() < -1.0001 or x.max() > 1.0001):
                raise ValueError(f"x must be images in [-1, 1] (see to_tanh_range); got values in "
                                 f"[{x.min():g}, {x.max():g}].")
            want = tuple(self.discriminator.inputs[0].shape[1:])
            if tuple(x.shape[1:]) != want:
                raise ValueError(f"x must be a batch of images (n, {', '.join(map(str, want))}); got shape {x.shape}.")
        if self.conditional and isinstance(y, np.ndarray) and isinstance(x, np.ndarray):
            y = _validate.finite_array(y, "y_onehot")
            if y.shape != (len(x), self.num_classes):
                raise ValueError(f"y_onehot must be one-hot labels ({len(x)}, {self.num_classes}); got shape {y.shape}.")

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_fit_args(x, y)
        return super().fit(x, y, *args, **kwargs)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _g_inputs(self, z, y):
        return [z, y] if self.conditional else z

    def _d_inputs(self, x, y):
        return [x, y] if self.conditional else x

    def d_loss_fn(self, x, y, z):
        """Discriminator loss on real ``x`` and fakes ``G(z)``; returns ``(d_loss, (real_logits, fake_logits))``."""
        fake = self.generator(self._g_inputs(z, y), training=True)
        real_logits = self.discriminator(self._d_inputs(x, y), training=True)
        fake_logits = self.discriminator(self._d_inputs(fake, y), training=True)
        real_target = 1.0 - self.label_smoothing
        d_loss = (ops.mean(ops.binary_crossentropy(ops.full_like(real_logits, real_target), real_logits,
                                                   from_logits=True))
                  + ops.mean(ops.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits, from_logits=True)))
        return d_loss, (real_logits, fake_logits)

    def g_loss_fn(self, y, z):
        """Non-saturating generator loss ``-log D(G(z))``; returns ``(g_loss, None)``."""
        fake = self.generator(self._g_inputs(z, y), training=True)
        logits = self.discriminator(self._d_inputs(fake, y), training=True)
        return ops.mean(ops.binary_crossentropy(ops.ones_like(logits), logits, from_logits=True)), None

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if not self.conditional:
            y = None
        batch = ops.shape(x)[0]

        # 1. discriminator step: gradients with respect to D's variables only
        z = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
        d_vars = self.discriminator.trainable_variables
        d_loss, (real_logits, fake_logits), d_grads = backends.value_and_grad(
            lambda: self.d_loss_fn(x, y, z), d_vars, watch=self.variables)
        self.d_optimizer.apply(d_grads, d_vars)

        # 2. generator step on fresh noise: gradients with respect to G's variables only
        z = keras.random.normal((batch, self.latent_dim), seed=self.noise_seed)
        g_vars = self.generator.trainable_variables
        g_loss, _, g_grads = backends.value_and_grad(lambda: self.g_loss_fn(y, z), g_vars, watch=self.variables)
        self.g_optimizer.apply(g_grads, g_vars)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}

    def generate(self, n: int, labels=None, seed: int = 0, *, z=None, batch_size: int = 500) -> np.ndarray:
        """``n`` samples ``G(z)``, ``z ~ N(0, I)`` (NumPy seed ``seed``), or ``G(z)`` for a given ``z``.

        Args:
            n: number of images (an int from 1 to 100,000; must equal ``len(z)`` when ``z`` is given).
            labels: ``(n,)`` integer classes for a conditional GAN (required there, refused otherwise).
            seed: NumPy seed of ``z`` (an int from 0 to 2**32 - 1).
            z: optional ``(n, latent_dim)`` finite noise, e.g. fixed noise or an interpolation.
            batch_size: images per generator pass.

        Returns:
            ``float32`` images ``(n, 28, 28, 1)`` in [0, 1] (the tanh output mapped by
            :func:`to_unit_range`, ready for the judge and the plots).

        Raises:
            ValueError / TypeError: bad ``n``, ``seed``, ``z`` (NaN or inf included) or ``labels``.
        """
        n = _validate.bounded_int(n, "n", _validate.MAX_SAMPLES)
        seed = _validate.seed(seed)
        if z is None:
            z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        z = _validate.finite_array(z, "z", np.float32)
        if z.shape != (n, self.latent_dim):
            raise ValueError(f"z must be ({n}, {self.latent_dim}); got shape {z.shape}.")
        y = self.onehot(labels, n)
        batch_size = _validate.positive_int(batch_size, "batch_size")
        out = []
        for s in range(0, n, batch_size):
            zb = z[s:s + batch_size]
            inputs = [zb, y[s:s + batch_size]] if self.conditional else zb
            out.append(ops.convert_to_numpy(self.generator(inputs, training=False)))
        return to_unit_range(np.concatenate(out))

    def onehot(self, labels, n: int):
        """One-hot ``(n, num_classes)`` float32 for ``labels`` ``(n,)`` ints (None for an unconditional GAN).

        Raises:
            ValueError: labels given to an unconditional GAN, missing for a conditional
                one, or not ``(n,)`` integers in ``[0, num_classes)``.
        """
        if not self.conditional:
            if labels is not None:
                raise ValueError("labels are only for a conditional GAN (built with num_classes > 0).")
            return None
        if labels is None:
            raise ValueError("a conditional GAN needs labels: an (n,) array of integer classes.")
        labels = _validate.as_array(labels, "labels")
        k = self.num_classes
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"labels must be ({n},) integers in [0, {k}); got shape {labels.shape}, "
                             f"dtype {labels.dtype}.")
        return np.eye(k, dtype=np.float32)[labels]

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "label_smoothing": self.label_smoothing,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)


def build_gan(latent_dim: int = 64, *, num_classes: int = 0, g_filters=(64, 32), d_filters=(32, 64),
              dropout: float = 0.3, d_batch_norm: bool = False, label_smoothing: float = 0.0,
              learning_rate: float = 2e-4,
              beta_1: float = 0.5, seed=None, compile: bool = True) -> GAN:
    """A DCGAN (or conditional DCGAN) compiled with two Adam optimizers (Radford et al. 2016: 2e-4, beta_1 0.5).

    Args:
        latent_dim: size of z.
        num_classes: 0 for a GAN, 10 for a conditional GAN on MNIST labels.
        g_filters, d_filters: channels of :func:`dcgan_generator` / :func:`dcgan_discriminator`.
        dropout: the discriminator's dropout rate.
        d_batch_norm: batch norm in the discriminator (see :func:`dcgan_discriminator`).
        label_smoothing: one-sided label smoothing of :class:`GAN`.
        learning_rate, beta_1: Adam's settings, the same for both networks: a
            positive finite number (or a Keras schedule), and a number in [0, 1).
        seed: seed of the training noise (an int from 0 to 2**32 - 1, or None).
        compile: compile with one Adam per network.

    Returns:
        A :class:`GAN` named ``"dcgan"`` or ``"cgan"``.

    Raises:
        TypeError / ValueError: as the builders and :class:`GAN`; a learning rate
            that is 0, negative, NaN or inf; ``beta_1`` outside [0, 1).
    """
    if compile:
        learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
        beta_1 = _validate.probability(beta_1, "beta_1", allow_one=False)
    generator = dcgan_generator(latent_dim, num_classes=num_classes, filters=g_filters)
    discriminator = dcgan_discriminator(num_classes=num_classes, filters=d_filters, dropout=dropout,
                                        batch_norm=d_batch_norm)
    model = GAN(generator, discriminator, label_smoothing=label_smoothing, seed=seed,
                name="cgan" if num_classes else "dcgan")
    if compile:
        model.compile(d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
                      g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1))
    return model


class SampleGrid(keras.callbacks.Callback):
    """Draw the generator's images for a **fixed** noise batch after every epoch and keep them.

    The same ``z`` every epoch shows how one sample evolves (and whether all of
    them drift to one digit, mode collapse). Every grid is kept in
    :attr:`grids` (``{epoch: (n, 28, 28, 1) float32 in [0, 1]}``, epochs
    counted from 1) and saved as ``<directory>/epoch_NNN.png``; with
    ``display_every=k`` every k-th grid is also shown in the notebook as it
    is drawn (never cleared, so the output keeps the whole history).

    Args:
        z: ``(n, latent_dim)`` fixed noise.
        labels: ``(n,)`` integer classes for a conditional GAN.
        directory: where the PNGs go (default ``build/gan_samples/<model name>``).
        ncols: images per grid row.
        display_every: show every k-th epoch's grid with ``IPython.display`` (None: never).

    Raises:
        TypeError / ValueError: ``z`` not a 2-d finite array, bad ``ncols`` or
            ``display_every``; at the start of training, a model name that is not
            a plain file name when ``directory`` is left to its default.
    """

    def __init__(self, z, labels=None, *, directory=None, ncols: int = 10, display_every=None):
        super().__init__()
        z = _validate.finite_array(z, "z", np.float32)
        if z.ndim != 2 or z.shape[0] == 0:
            raise ValueError(f"z must be (n, latent_dim) fixed noise; got shape {z.shape}.")
        self.z = z
        self.labels = None if labels is None else _validate.as_array(labels, "labels")
        self.directory = None if directory is None else Path(directory)
        self.ncols = _validate.positive_int(ncols, "ncols")
        self.display_every = None if display_every is None else _validate.positive_int(display_every, "display_every")
        self.grids: dict[int, np.ndarray] = {}
        self.paths: list[Path] = []

    def on_train_begin(self, logs=None):
        if self.directory is None:  # the default folder is named after the model: keep it inside build/
            _validate.file_name(self.model.name, "the model's name (it names build/gan_samples/<name>)")

    def on_epoch_end(self, epoch, logs=None):
        images = self.model.generate(len(self.z), self.labels, z=self.z)
        self.grids[epoch + 1] = images
        fig = plots.image_grid(images, ncols=self.ncols, suptitle=f"{self.model.name}, epoch {epoch + 1}")
        directory = self.directory or paths.build_subdir("gan_samples", self.model.name)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"epoch_{epoch + 1:03d}.png"
        fig.savefig(path, dpi=60)
        self.paths.append(path)
        if self.display_every and (epoch + 1) % self.display_every == 0:
            from IPython.display import display

            display(fig)


class QualityMonitor(keras.callbacks.Callback):
    """Measure sample quality with a classifier ("judge") after every ``every`` epochs.

    Per measured epoch: the Fréchet distance between ``n`` generated samples
    and the reference images in the judge's penultimate features, divided by
    the ``floor`` (see :func:`labutils.metrics.frechet_distance`), the KL of the
    judge's label histogram to uniform (nats, a mode-collapse meter), the
    classifier score (the Inception-score analogue) and the seconds the epoch
    took to train. The reference statistics are computed once, here; a
    measurement costs one generator pass and one judge pass over ``n`` images.

    Results: :attr:`history` ``{"epoch", "fd", "fd_ratio", "kl_uniform",
    "classifier_score", "epoch_seconds"}`` (lists, one entry per measured epoch),
    also added to Keras' ``logs`` (so ``History`` has them).

    Args:
        judge: the MNIST classifier (with a layer named ``"features"``).
        reference: ``(m, 28, 28, 1)`` real test images in [0, 1].
        floor: the real-vs-real Fréchet distance at the same sample sizes (a positive finite number).
        n: generated samples per measurement (use ``m``: the same size as the floor's), at most 100,000.
        every: measure every k-th epoch (and always after the last one).
        seed: NumPy seed of the noise (the same noise every epoch), an int from 0 to 2**32 - 1.
        labels: ``(n,)`` classes to ask a conditional GAN for (default: n/10 of each).

    Raises:
        TypeError / ValueError: bad images, ``floor`` not a positive finite number,
            bad ``n``/``every``/``seed``, ``judge`` not a Keras model.
    """

    def __init__(self, judge, reference, floor: float, *, n: int = 1000, every: int = 1, seed: int = 12345,
                 labels=None):
        super().__init__()
        from . import metrics

        if isinstance(floor, bool) or not isinstance(floor, (int, float, np.integer, np.floating)) \
                or not floor > 0 or not np.isfinite(floor):
            raise ValueError(f"floor must be a positive finite number (the real-vs-real FD); got {floor!r}.")
        self.judge = judge
        self.floor = float(floor)
        self.n = _validate.bounded_int(n, "n", _validate.MAX_SAMPLES)
        self.every = _validate.positive_int(every, "every")
        self.seed = _validate.seed(seed)
        self.labels = labels
        self.reference_stats = metrics.feature_statistics(metrics.judge_outputs(judge, reference)[0])
        self.history = {k: [] for k in ("epoch", "fd", "fd_ratio", "kl_uniform", "classifier_score",
                                        "epoch_seconds")}
        self._t0 = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - (self._t0 or time.perf_counter())
        last = self.params.get("epochs") == epoch + 1 if self.params else False
        if (epoch + 1) % self.every and not last:
            return
        scores = self.measure(self.model)
        h = self.history
        h["epoch"].append(epoch + 1)
        h["epoch_seconds"].append(seconds)
        for k, v in scores.items():
            h[k].append(v)
        if logs is not None:
            logs.update(scores)

    def measure(self, model) -> dict:
        """``{"fd", "fd_ratio", "kl_uniform", "classifier_score"}`` of ``model``'s samples now."""
        from . import metrics

        labels = self.labels
        if model.conditional and labels is None:
            labels = np.arange(self.n) % model.num_classes
        images = model.generate(self.n, labels, seed=self.seed)
        feats, probs = metrics.judge_outputs(self.judge, images)
        fd = metrics.frechet_distance(*metrics.feature_statistics(feats), *self.reference_stats)
        return {"fd": fd, "fd_ratio": fd / self.floor,
                "kl_uniform": metrics.kl_to_uniform(metrics.class_histogram(probs)),
                "classifier_score": metrics.classifier_score(probs)}


def gan_progress(history: dict, *, target_ratio: float | None = None, title: str | None = None) -> Figure:
    """Sample quality per epoch: FD / floor (log scale), KL of the class histogram to uniform, classifier score.

    Args:
        history: ``labutils.gan.QualityMonitor.history`` or a dict with the lists
            ``"epoch"``, ``"fd_ratio"``, ``"kl_uniform"`` and ``"classifier_score"``
            of equal length; several runs as ``{label: history}``.
        target_ratio: optional horizontal line in the FD panel (e.g. the bar, 10).
        title: optional title above the panels.

    Returns:
        The ``Figure`` (three panels, epochs on x).

    Raises:
        TypeError: ``history`` not a dict; a ``target_ratio`` that is not a number.
        ValueError: missing keys, empty or unequal lists, a non-positive FD
            ratio, NaN or inf values, a ``target_ratio`` that is not positive and finite.
    """
    if not isinstance(history, dict):
        raise TypeError(f"history must be a dict (QualityMonitor.history); got {type(history).__name__}.")
    if target_ratio is not None:
        target_ratio = _validate.number(target_ratio, "target_ratio", positive=True)
    runs = history if history and all(isinstance(v, dict) for v in history.values()) else {"": history}
    keys = ("epoch", "fd_ratio", "kl_uniform", "classifier_score")
    fig = Figure(figsize=(12.0, 3.3))
    axes = fig.subplots(1, 3)
    for label, h in runs.items():
        missing = [k for k in keys if k not in h]
        if missing:
            raise ValueError(f"history{f'[{label!r}]' if label else ''} lacks {missing}; it has {sorted(h)}.")
        cols = [_validate.finite_array(h[k], k).ravel() for k in keys]
        if cols[0].size == 0 or any(c.size != cols[0].size for c in cols):
            raise ValueError(f"history lists must be non-empty and of equal length; got {[c.size for c in cols]}.")
        if np.any(cols[1] <= 0):
            raise ValueError("fd_ratio must be positive (FD divided by the real-vs-real floor).")
        for ax, y in zip(axes, cols[1:]):
            ax.plot(cols[0], y, marker="o" if y.size <= 30 else None, label=label or None)
    if target_ratio is not None:
        axes[0].axhline(float(target_ratio), color="grey", linestyle="--", label=f"bar ({target_ratio:g})")
    axes[0].axhline(1.0, color="black", linestyle=":", label="real vs real (1)")
    axes[0].set_yscale("log")
    labels = ("FD / floor (log)", "KL(histogram || uniform) (nats)", "classifier score (1 to 10)")
    for ax, ylabel in zip(axes, labels):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if len(runs) > 1:
        axes[1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_histograms(histograms: dict, *, title: str | None = None) -> Figure:
    """Grouped bars of class shares (e.g. the judge's labels of real test images and of GAN samples).

    Args:
        histograms: ``{label: (K,) shares summing to 1}`` (``labutils.metrics.class_histogram``).
        title: optional panel title.

    Returns:
        The ``Figure`` with a dashed line at the uniform share ``1 / K``.

    Raises:
        TypeError: not a dict; complex or object shares. ValueError: empty,
            different K, NaN or inf, or shares that do not sum to 1.
    """
    if not isinstance(histograms, dict):
        raise TypeError(f"histograms must be a dict {{label: shares}}; got {type(histograms).__name__}.")
    if not histograms:
        raise ValueError("histograms is empty; give at least one {label: shares}.")
    arrays = {}
    for label, h in histograms.items():
        h = _validate.finite_array(h, f"histograms[{label!r}]").ravel()
        if h.size < 2 or np.any(h < 0) or abs(h.sum() - 1.0) > 1e-6:
            raise ValueError(f"histograms[{label!r}] must be >= 2 non-negative shares summing to 1.")
        arrays[label] = h
    k = {h.size for h in arrays.values()}
    if len(k) != 1:
        raise ValueError(f"all histograms need the same number of classes; got {sorted(k)}.")
    k = k.pop()
    fig = Figure(figsize=(6.5, 3.3))
    ax = fig.subplots()
    width = 0.8 / len(arrays)
    for i, (label, h) in enumerate(arrays.items()):
        ax.bar(np.arange(k) + (i - (len(arrays) - 1) / 2) * width, h, width=width, label=str(label))
    ax.axhline(1.0 / k, color="black", linestyle="--", linewidth=1, label="uniform")
    ax.set_xticks(np.arange(k))
    ax.set_xlabel("class (the judge's label)")
    ax.set_ylabel("share of samples")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
