"""Adversarial and Wasserstein autoencoders (lab 10): deterministic autoencoders whose *aggregate* code
distribution is pushed onto a prior, by a discriminator on the code (AAE) or by a maximum mean discrepancy
(WAE-MMD), and the MMD two-sample statistic that measures how well it worked.

Makhzani, Shlens, Jaitly, Goodfellow & Frey, "Adversarial Autoencoders", ICLR 2016 workshop
(arXiv:1511.05644): section 2 (the discriminator on the code, reconstruction and regularization phases).
Tolstikhin, Bousquet, Gelly & Schölkopf, "Wasserstein Auto-Encoders", ICLR 2018: theorem 1 and eq. 4 (the
objective: reconstruction + lambda * D_Z(q(z), p(z))), algorithms 1 (WAE-GAN) and 2 (WAE-MMD), section 4 (the
inverse multiquadratics kernel ``C / (C + ||x - y||^2)`` with ``C = 2 d sigma_z^2``). Gretton, Borgwardt,
Rasch, Schölkopf & Smola, "A kernel two-sample test", JMLR 13, 2012: eq. 3 (the unbiased MMD^2 estimate,
lemma 6) and eq. 5 (the biased one).

Conventions, as in :mod:`labutils.vae`: images are flat ``(batch, 784)`` ``float32`` in [0, 1]; the decoder
outputs Bernoulli *logits*; the reconstruction term is the binary cross-entropy **summed over the 784 pixels**
(nats per image) and averaged over the batch. The prior is ``N(0, I)`` in ``latent_dim`` dimensions.

Like the other model-family modules this one imports Keras when imported: the models are registered
serializable classes, so that saved ``.keras`` files load with ``safe_mode=True``.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from . import _validate, backends
from .vae import _mlp_trunk, dense_decoder

__all__ = [
    "IMQ_SCALES",
    "sample_prior",
    "imq_kernel",
    "mmd_penalty",
    "mmd",
    "dense_encoder",
    "code_discriminator",
    "AAE",
    "WAE",
    "build_aae",
    "build_wae",
]

PACKAGE = "labutils"

#: The kernel scales ``s`` whose kernels are summed: ``C = 2 d s`` for each (Tolstikhin et al.'s code sums the
#: inverse multiquadratics kernel over these multiples of ``sigma_z^2 = 1``, so no single width has to be guessed).
IMQ_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def _scales(scales):
    if isinstance(scales, (int, float, np.integer, np.floating)) and not isinstance(scales, bool):
        scales = (scales,)
    if isinstance(scales, (str, bytes)) or not isinstance(scales, (list, tuple, np.ndarray)) or len(scales) == 0:
        raise TypeError(f"scales must be a positive number or a non-empty tuple of them; got {scales!r}.")
    return tuple(_validate.number(s, "scales[i]", positive=True) for s in scales)


def sample_prior(n: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """``n`` draws from the prior ``p(z) = N(0, I)`` in ``latent_dim`` dimensions (NumPy, seeded).

    Args:
        n: number of codes, an int from 1 to 100,000.
        latent_dim: size of z, a positive int.
        seed: NumPy seed (an int from 0 to 2**32 - 1).

    Returns:
        ``float32`` ``(n, latent_dim)``.

    Raises:
        TypeError / ValueError: ``n``, ``latent_dim`` or ``seed`` not an int in range.
    """
    n = _validate.bounded_int(n, "n", _validate.MAX_SAMPLES)
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    seed = _validate.seed(seed)
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def imq_kernel(x, y, scales=IMQ_SCALES):
    """The inverse multiquadratics kernel matrix ``sum_s C_s / (C_s + ||x_i - y_j||^2)``, ``C_s = 2 d s``.

    Tolstikhin et al. (2018), section 4: ``k(x, y) = C / (C + ||x - y||^2)`` with ``C = 2 d sigma_z^2``
    (``d`` = latent size, ``sigma_z^2 = 1`` for ``N(0, I)``), summed over several scales. Its tails are
    heavy, so unlike a Gaussian (RBF) kernel it still gives a gradient to codes far from the prior's mass.
    Written with ``keras.ops``: it runs inside a ``train_step`` on every backend.

    Args:
        x: ``(n, d)`` float tensor or array.
        y: ``(m, d)`` float tensor or array.
        scales: the ``s`` of each term (positive numbers).

    Returns:
        ``(n, m)`` tensor of the backend, values in ``(0, len(scales)]`` (``len(scales)`` where ``x_i = y_j``).

    Raises:
        TypeError / ValueError: bad ``scales``.
    """
    scales = _scales(scales)
    x = ops.convert_to_tensor(x, "float32")
    y = ops.convert_to_tensor(y, "float32")
    d = ops.cast(ops.shape(x)[-1], "float32")
    sq = (ops.sum(ops.square(x), axis=1)[:, None] + ops.sum(ops.square(y), axis=1)[None, :]
          - 2.0 * ops.matmul(x, ops.transpose(y)))
    sq = ops.maximum(sq, 0.0)  # rounding can make a distance of 0 slightly negative
    total = 0.0
    for s in scales:
        c = 2.0 * d * s
        total = total + c / (c + sq)
    return total


def mmd_penalty(z, z_prior, scales=IMQ_SCALES):
    """The WAE-MMD penalty: the unbiased estimate of MMD^2 between codes ``z`` and prior draws ``z_prior``.

    Tolstikhin et al. (2018), algorithm 2 (the U-statistic of Gretton et al. 2012, lemma 6)::

        MMD^2_u = 1/(n(n-1)) sum_{i != j} k(z_i, z_j) + 1/(m(m-1)) sum_{i != j} k(p_i, p_j)
                  - 2/(n m) sum_{i, j} k(z_i, p_j)

    with the kernel of :func:`imq_kernel`. Written with ``keras.ops`` (differentiable on every backend). It
    can be slightly negative when the two samples come from the same distribution (its mean is then 0).

    Args:
        z: ``(n, d)`` codes, ``n >= 2``.
        z_prior: ``(m, d)`` draws from the prior, ``m >= 2``.
        scales: the kernel's scales (see :func:`imq_kernel`).

    Returns:
        A scalar float32 tensor.
    """
    z = ops.convert_to_tensor(z, "float32")
    z_prior = ops.convert_to_tensor(z_prior, "float32")
    n = ops.cast(ops.shape(z)[0], "float32")
    m = ops.cast(ops.shape(z_prior)[0], "float32")
    k_zz, k_pp, k_zp = imq_kernel(z, z, scales), imq_kernel(z_prior, z_prior, scales), imq_kernel(z, z_prior, scales)
    on_diagonal = float(len(_scales(scales)))  # k(x, x) = number of scales
    within_z = (ops.sum(k_zz) - n * on_diagonal) / (n * (n - 1.0))
    within_p = (ops.sum(k_pp) - m * on_diagonal) / (m * (m - 1.0))
    return within_z + within_p - 2.0 * ops.sum(k_zp) / (n * m)


def mmd(x, y, *, scales=IMQ_SCALES, unbiased: bool = True) -> float:
    """Maximum mean discrepancy (squared) between two samples, with the inverse multiquadratics kernel, in NumPy.

    The measurement of the lab: how far the codes of test images (the aggregate posterior ``q(z)``) are
    from draws of the prior. Gretton et al. (2012): ``unbiased=True`` is the U-statistic of eq. 3 (lemma 6;
    the estimator of :func:`mmd_penalty`, mean 0 when both samples come from one distribution, so it can be
    slightly negative); ``unbiased=False`` the V-statistic of eq. 5 (all pairs, >= 0, exactly 0 for two
    identical samples). Kernel: :func:`imq_kernel`'s, ``sum_s C_s / (C_s + ||x - y||^2)`` with ``C_s = 2 d s``
    (Tolstikhin et al. 2018, section 4). Computed in float64, in blocks of 1,000 rows.

    Args:
        x: ``(n, d)`` real numbers, ``n >= 2``.
        y: ``(m, d)`` real numbers, ``m >= 2``, the same ``d``.
        scales: the kernel's scales, positive numbers.
        unbiased: the U-statistic (default) or the V-statistic.

    Returns:
        MMD^2 as a float, in the kernel's units (each kernel value lies in (0, len(scales)]).

    Raises:
        TypeError: non-numeric, complex or object arrays; bad ``scales``; ``unbiased`` not a bool.
        ValueError: not 2-d, fewer than 2 rows, different ``d``, NaN or inf.
    """
    if not isinstance(unbiased, (bool, np.bool_)):
        raise TypeError(f"unbiased must be True or False; got {unbiased!r} ({type(unbiased).__name__}).")
    scales = _scales(scales)
    a = _validate.finite_array(x, "x")
    b = _validate.finite_array(y, "y")
    for name, arr in (("x", a), ("y", b)):
        if arr.ndim != 2 or arr.shape[0] < 2:
            raise ValueError(f"{name} must be (n, d) samples with n >= 2; got shape {arr.shape}.")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension; got {a.shape[1]} and {b.shape[1]}.")
    d = a.shape[1]

    def kernel_sum(p, q):
        total = 0.0
        q_sq = np.sum(q * q, axis=1)
        for start in range(0, len(p), 1000):
            block = p[start:start + 1000]
            sq = np.maximum(np.sum(block * block, axis=1)[:, None] + q_sq[None, :] - 2.0 * block @ q.T, 0.0)
            total += sum(float(np.sum(2.0 * d * s / (2.0 * d * s + sq))) for s in scales)
        return total

    n, m = len(a), len(b)
    k_diag = float(len(scales))
    if unbiased:
        xx = (kernel_sum(a, a) - n * k_diag) / (n * (n - 1))
        yy = (kernel_sum(b, b) - m * k_diag) / (m * (m - 1))
    else:
        xx = kernel_sum(a, a) / (n * n)
        yy = kernel_sum(b, b) / (m * m)
    return float(xx + yy - 2.0 * kernel_sum(a, b) / (n * m))


# ------------------------------------------------------------------------------------------ networks

def dense_encoder(latent_dim: int = 8, *, input_dim: int = 784, hidden_units=(512, 256)):
    """A deterministic encoder ``x -> z``: ReLU Dense layers, then a linear ``Dense(latent_dim)`` named ``"code"``.

    The same trunk as :func:`labutils.vae.dense_encoder`, with one head (no variance): AAEs and WAEs map each
    image to one code (Tolstikhin et al. 2018 use deterministic encoders for MNIST).

    Args:
        latent_dim: size of z.
        input_dim: pixels per image.
        hidden_units: widths of the hidden layers.

    Returns:
        A ``keras.Model`` named ``"encoder"``: ``(batch, input_dim)`` float32 in [0, 1] -> ``(batch, latent_dim)``.

    Raises:
        TypeError / ValueError: sizes that are not positive ints.
    """
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    input_dim = _validate.positive_int(input_dim, "input_dim")
    x_in, h = _mlp_trunk("image", input_dim, 0, hidden_units, "encoder")  # the VAE encoder's trunk
    return keras.Model(x_in, keras.layers.Dense(latent_dim, name="code")(h), name="encoder")


def code_discriminator(latent_dim: int = 8, *, hidden_units=(512, 512)):
    """The AAE's discriminator on codes: ``z -> logit`` of "drawn from the prior" (Makhzani et al. 2016, section 2).

    ``z -> Dense(h, relu) ... -> Dense(1) "logit"``. It outputs a logit, not a probability: the losses use
    ``binary_crossentropy(..., from_logits=True)``.

    Args:
        latent_dim: size of z.
        hidden_units: widths of the hidden layers.

    Returns:
        A ``keras.Model`` named ``"discriminator"``: ``(batch, latent_dim)`` float32 -> ``(batch, 1)`` logits.

    Raises:
        TypeError / ValueError: sizes that are not positive ints.
    """
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    z_in, h = _mlp_trunk("z", latent_dim, 0, hidden_units, "discriminator")
    return keras.Model(z_in, keras.layers.Dense(1, name="logit")(h), name="discriminator")


def _lam(value):
    return _validate.number(value, "lam", nonnegative=True)


class _CodeAutoencoder(backends.Model):
    """What AAE and WAE share: a deterministic encoder, a Bernoulli decoder, measurements (private)."""

    def __init__(self, encoder, decoder, lam: float, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, m in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{name} must be a keras.Model; got {type(m).__name__}.")
        if len(encoder.outputs) != 1 or len(encoder.inputs) != 1 or len(decoder.inputs) != 1:
            raise ValueError("encoder must map one image input to one code output, and the decoder one code to "
                             "logits (build them with aae.dense_encoder and vae.dense_decoder).")
        latent = encoder.outputs[0].shape[-1]
        if latent != decoder.inputs[0].shape[-1]:
            raise ValueError(f"encoder's code size {latent} differs from the decoder's input size "
                             f"{decoder.inputs[0].shape[-1]}.")
        if encoder.inputs[0].shape[-1] != decoder.outputs[0].shape[-1]:
            raise ValueError(f"encoder reads {encoder.inputs[0].shape[-1]} pixels but the decoder writes "
                             f"{decoder.outputs[0].shape[-1]}.")
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = int(latent)
        self.pixels = int(decoder.outputs[0].shape[-1])
        self.lam = _lam(lam)
        seed = _validate.seed(seed, allow_none=True)
        self.seed = seed
        self.prior_seed = keras.random.SeedGenerator(seed)

    def _check_images(self, x, where="x"):
        # fail before Keras traces the step: an error inside a trace leaves a half-built train function
        if isinstance(x, np.ndarray):
            x = _validate.unit_interval(x, where)
            if x.ndim != 2 or x.shape[1] != self.pixels:
                raise ValueError(f"{where} must be flat images (n, {self.pixels}) in [0, 1]; got shape {x.shape}.")

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_images(x)
        val = kwargs.get("validation_data")
        if isinstance(val, (tuple, list)) and val and isinstance(val[0], np.ndarray):
            self._check_images(val[0], "validation_data")
        return super().fit(x, y, *args, **kwargs)

    def call(self, x, training=False):
        return ops.sigmoid(self.decoder(self.encoder(x, training=training), training=training))

    def reconstruction(self, x, z, training=False):
        """Per-image reconstruction loss ``(batch,)``: BCE of ``x`` under ``decoder(z)`` summed over pixels (nats)."""
        logits = self.decoder(z, training=training)
        return ops.sum(ops.binary_crossentropy(ops.cast(x, logits.dtype), logits, from_logits=True), axis=-1)

    def _prior(self, batch):
        return keras.random.normal((batch, self.latent_dim), seed=self.prior_seed)

    def encode(self, x, batch_size: int = 1000) -> np.ndarray:
        """Codes of images ``x`` ``(n, 784)`` in [0, 1]: ``(n, latent_dim)`` float32 (NumPy).

        Raises:
            TypeError / ValueError: ``x`` not ``(n, 784)`` numbers in [0, 1].
        """
        x = _validate.unit_interval(x, "x")
        if x.ndim != 2 or x.shape[1] != self.pixels:
            raise ValueError(f"x must be flat images (n, {self.pixels}) in [0, 1]; got shape {x.shape}.")
        return np.concatenate([ops.convert_to_numpy(self.encoder(x[s:s + batch_size], training=False))
                               for s in range(0, len(x), batch_size)]).astype(np.float32)

    def decode_means(self, z, batch_size: int = 1000) -> np.ndarray:
        """``sigmoid(decoder(z))`` for codes ``z`` ``(n, latent_dim)``: ``(n, 784)`` float32 in [0, 1].

        Raises:
            TypeError: complex or object ``z``. ValueError: ``z`` not ``(n, latent_dim)``, NaN or inf.
        """
        z = _validate.finite_array(z, "z", np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim or len(z) == 0:
            raise ValueError(f"z must be (n, {self.latent_dim}); got shape {z.shape}.")
        logits = np.concatenate([ops.convert_to_numpy(self.decoder(z[s:s + batch_size], training=False))
                                 for s in range(0, len(z), batch_size)]).astype(np.float64)
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def sample_means(self, n: int, seed: int = 0) -> np.ndarray:
        """Decode ``n`` draws from the prior (:func:`sample_prior`): ``(n, 784)`` float32 means of p(x|z) in [0, 1].

        Raises:
            TypeError / ValueError: ``n`` not an int from 1 to 100,000; a bad ``seed``.
        """
        return self.decode_means(sample_prior(n, self.latent_dim, seed))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "lam": self.lam,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class WAE(_CodeAutoencoder):
    """A Wasserstein autoencoder with the MMD penalty (WAE-MMD; Tolstikhin et al. 2018, algorithm 2).

    Per batch of images ``x`` with codes ``z = encoder(x)`` and as many prior draws ``z~ ~ N(0, I)``::

        loss = mean_x BCE(x, decoder(z)) + lam * MMD^2_u({z}, {z~})

    (eq. 4 with the reconstruction cost of a Bernoulli decoder, nats per image; the penalty is
    :meth:`penalty`, by default :func:`mmd_penalty`, the inverse multiquadratics kernel). The penalty
    compares the *batch* of codes with the prior: it constrains the aggregate posterior
    ``q(z) = E_x q(z|x)``, never one image's code, so each image keeps a code of its own. ``lam = 0`` gives a
    plain autoencoder with the same networks (the lab's baseline). ``fit`` logs ``loss``,
    ``reconstruction`` (nats per image) and ``mmd``.

    Args:
        encoder: from :func:`dense_encoder` (one code per image).
        decoder: from :func:`labutils.vae.dense_decoder` (logits).
        lam: weight of the penalty, >= 0.
        scales: the kernel's scales (see :func:`imq_kernel`).
        seed: seed of the prior draws (None: unseeded).

    Raises:
        TypeError: encoder/decoder not Keras models; non-numeric ``lam``/``scales``; a bad ``seed``.
        ValueError: a negative, NaN or inf ``lam``; networks that disagree on sizes; at ``fit`` time, NumPy
            images that are not ``(n, 784)`` in [0, 1].
    """

    def __init__(self, encoder, decoder, lam: float = 100.0, scales=IMQ_SCALES, seed=None, **kwargs):
        super().__init__(encoder, decoder, lam, seed, **kwargs)
        self.scales = _scales(scales)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.mmd_tracker = keras.metrics.Mean(name="mmd")
        self.built = True  # encoder and decoder are built functional models

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.mmd_tracker]

    def penalty(self, z, z_prior):
        """The divergence between the batch of codes and the prior draws: :func:`mmd_penalty` (a scalar)."""
        return mmd_penalty(z, z_prior, self.scales)

    def loss_terms(self, x, training=False):
        """``(loss, (reconstruction, mmd))`` of a batch: scalars, the reconstruction in nats per image."""
        x = ops.convert_to_tensor(x, "float32")
        z = self.encoder(x, training=training)
        reconstruction = ops.mean(self.reconstruction(x, z, training=training))
        penalty = self.penalty(z, self._prior(ops.shape(x)[0]))
        return reconstruction + self.lam * penalty, (reconstruction, penalty)

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss, (reconstruction, penalty), grads = backends.value_and_grad(
            lambda: self.loss_terms(x, training=True), self.trainable_variables, watch=self.variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._track(loss, reconstruction, penalty)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss, (reconstruction, penalty) = self.loss_terms(x, training=False)
        return self._track(loss, reconstruction, penalty)

    def _track(self, loss, reconstruction, penalty):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.mmd_tracker.update_state(penalty)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {**super().get_config(), "scales": list(self.scales)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


@keras.saving.register_keras_serializable(package=PACKAGE)
class AAE(_CodeAutoencoder):
    """An adversarial autoencoder: a discriminator on the code pushes the aggregate posterior onto the prior.

    Makhzani et al. (2016), section 2: the discriminator ``D`` learns to tell prior draws ``z~ ~ p(z)`` from
    codes ``z = encoder(x)``; the encoder, the generator of this game, learns to fool it. Each ``train_step``
    (one batch ``x``):

    1. discriminator step, on ``D``'s variables only (``d_optimizer``)::

           d_loss = BCE(1, D(z~)) + BCE(0, D(encoder(x)))

    2. autoencoder step, on the encoder's and decoder's variables (``optimizer``)::

           loss = mean_x BCE(x, decoder(z)) + lam * BCE(1, D(z))      (the non-saturating loss -log D(z))

    Makhzani et al. alternate a reconstruction phase and a regularization phase with separate updates;
    step 2 adds them into one update weighted by ``lam``, which is Tolstikhin et al.'s WAE-GAN (2018,
    algorithm 1): the same game, a fixed balance between its two terms. ``fit`` logs ``loss``,
    ``reconstruction`` (nats per image), ``d_loss``, ``g_loss`` (nats, batch means) and ``d_prior`` /
    ``d_code``, the mean ``D`` on prior draws and on codes (probabilities, before the step's update).

    Args:
        encoder: from :func:`dense_encoder`.
        decoder: from :func:`labutils.vae.dense_decoder` (logits).
        discriminator: from :func:`code_discriminator` (logits).
        lam: weight of the adversarial term, >= 0.
        seed: seed of the prior draws (None: unseeded).

    Raises:
        TypeError: networks that are not Keras models; a bad ``seed``; at ``compile``, optimizers that
            are missing or shared. ValueError: a negative, NaN or inf ``lam``; networks that disagree on
            sizes; at ``fit`` time, a model not compiled, or NumPy images that are not ``(n, 784)`` in [0, 1].
    """

    def __init__(self, encoder, decoder, discriminator, lam: float = 1.0, seed=None, **kwargs):
        super().__init__(encoder, decoder, lam, seed, **kwargs)
        if not isinstance(discriminator, keras.Model):
            raise TypeError(f"discriminator must be a keras.Model; got {type(discriminator).__name__}.")
        if discriminator.inputs[0].shape[-1] != self.latent_dim or discriminator.outputs[0].shape[-1] != 1:
            raise ValueError(f"discriminator must map codes (batch, {self.latent_dim}) to one logit; it maps "
                             f"{tuple(discriminator.inputs[0].shape)} to {tuple(discriminator.outputs[0].shape)}.")
        self.discriminator = discriminator
        self.ae_optimizer = None
        self.d_optimizer = None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_prior_tracker = keras.metrics.Mean(name="d_prior")
        self.d_code_tracker = keras.metrics.Mean(name="d_code")
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.d_loss_tracker, self.g_loss_tracker,
                self.d_prior_tracker, self.d_code_tracker]

    def compile(self, optimizer=None, d_optimizer=None, **kwargs):
        """One optimizer for the autoencoder (``optimizer``), one for the discriminator (``d_optimizer``).

        Raises:
            TypeError: a missing optimizer, one that is not a ``keras.optimizers.Optimizer``, or the same
                object for both.
        """
        for name, opt in (("optimizer", optimizer), ("d_optimizer", d_optimizer)):
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise TypeError(f"{name} must be a keras optimizer, e.g. keras.optimizers.Adam(1e-3); "
                                f"got {type(opt).__name__}.")
        if optimizer is d_optimizer:
            raise TypeError("optimizer and d_optimizer must be two optimizer objects (one per network).")
        super().compile(**kwargs)
        self.ae_optimizer = optimizer
        self.d_optimizer = d_optimizer
        optimizer.build(self.encoder.trainable_variables + self.decoder.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        self.optimizer = backends.OptimizerGroup([d_optimizer, optimizer])
        self._aae_compile_config = {"optimizer": keras.saving.serialize_keras_object(optimizer),
                                    "d_optimizer": keras.saving.serialize_keras_object(d_optimizer)}

    def get_compile_config(self):
        return getattr(self, "_aae_compile_config", None)

    def compile_from_config(self, config):
        self.compile(optimizer=keras.saving.deserialize_keras_object(config["optimizer"]),
                     d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]))

    def fit(self, x=None, y=None, *args, **kwargs):
        if self.ae_optimizer is None:
            raise ValueError("compile the AAE first: aae.compile(optimizer=..., d_optimizer=...) (or use build_aae).")
        return super().fit(x, y, *args, **kwargs)

    def d_loss_fn(self, z_code, z_prior):
        """Discriminator loss: prior draws "real" (1), codes "fake" (0); ``(d_loss, (prior_logits, code_logits))``."""
        prior_logits = self.discriminator(z_prior, training=True)
        code_logits = self.discriminator(z_code, training=True)
        d_loss = (ops.mean(ops.binary_crossentropy(ops.ones_like(prior_logits), prior_logits, from_logits=True))
                  + ops.mean(ops.binary_crossentropy(ops.zeros_like(code_logits), code_logits, from_logits=True)))
        return d_loss, (prior_logits, code_logits)

    def ae_loss_fn(self, x):
        """Autoencoder loss ``reconstruction + lam * (-log D(z))``; returns ``(loss, (reconstruction, g_loss))``."""
        z = self.encoder(x, training=True)
        reconstruction = ops.mean(self.reconstruction(x, z, training=True))
        logits = self.discriminator(z, training=True)
        g_loss = ops.mean(ops.binary_crossentropy(ops.ones_like(logits), logits, from_logits=True))
        return reconstruction + self.lam * g_loss, (reconstruction, g_loss)

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.convert_to_tensor(x, "float32")

        # 1. discriminator step: prior draws against the codes, gradients with respect to D's variables only
        z_code = self.encoder(x, training=True)
        z_prior = self._prior(ops.shape(x)[0])
        d_vars = self.discriminator.trainable_variables
        d_loss, (prior_logits, code_logits), d_grads = backends.value_and_grad(
            lambda: self.d_loss_fn(z_code, z_prior), d_vars, watch=self.variables)
        self.d_optimizer.apply(d_grads, d_vars)

        # 2. autoencoder step: reconstruct, and fool D, gradients with respect to the encoder and decoder
        ae_vars = self.encoder.trainable_variables + self.decoder.trainable_variables
        loss, (reconstruction, g_loss), ae_grads = backends.value_and_grad(
            lambda: self.ae_loss_fn(x), ae_vars, watch=self.variables)
        self.ae_optimizer.apply(ae_grads, ae_vars)

        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_prior_tracker.update_state(ops.mean(ops.sigmoid(prior_logits)))
        self.d_code_tracker.update_state(ops.mean(ops.sigmoid(code_logits)))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.convert_to_tensor(x, "float32")
        z = self.encoder(x, training=False)
        reconstruction = ops.mean(self.reconstruction(x, z))
        logits = self.discriminator(z, training=False)
        g_loss = ops.mean(ops.binary_crossentropy(ops.ones_like(logits), logits, from_logits=True))
        self.loss_tracker.update_state(reconstruction + self.lam * g_loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in (self.loss_tracker, self.reconstruction_tracker, self.g_loss_tracker)}

    def get_config(self):
        return {**super().get_config(),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _hidden_and_rate(hidden_units, learning_rate, compile):
    hidden_units = _validate.sizes(hidden_units, "hidden_units")
    if compile:
        learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
    return hidden_units, learning_rate


def build_wae(latent_dim: int = 8, *, hidden_units=(512, 256), lam: float = 100.0, scales=IMQ_SCALES,
              learning_rate: float = 1e-3, seed=None, compile: bool = True) -> WAE:
    """A WAE-MMD ``784-512-256-latent`` (decoder mirrored), compiled with Adam; ``lam=0``: a plain autoencoder.

    Args:
        latent_dim: size of z.
        hidden_units: encoder widths; the decoder uses them reversed.
        lam: weight of the MMD penalty, >= 0 (0: no penalty, a plain deterministic autoencoder).
        scales: the kernel's scales (see :func:`imq_kernel`).
        learning_rate: Adam's learning rate (a positive finite number or a Keras schedule).
        seed: seed of the prior draws (an int from 0 to 2**32 - 1, or None).
        compile: compile with Adam.

    Returns:
        A :class:`WAE` named ``"wae"`` (``"autoencoder"`` when ``lam == 0``).

    Raises:
        TypeError / ValueError: as :func:`dense_encoder` and :class:`WAE`; a learning rate that is 0,
            negative, NaN or inf.
    """
    hidden_units, learning_rate = _hidden_and_rate(hidden_units, learning_rate, compile)
    lam = _lam(lam)
    encoder = dense_encoder(latent_dim, hidden_units=hidden_units)
    decoder = dense_decoder(latent_dim, hidden_units=tuple(reversed(hidden_units)))
    model = WAE(encoder, decoder, lam=lam, scales=scales, seed=seed, name="wae" if lam else "autoencoder")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


def build_aae(latent_dim: int = 8, *, hidden_units=(512, 256), d_hidden_units=(512, 512), lam: float = 1.0,
              learning_rate: float = 1e-3, d_learning_rate: float | None = None, seed=None,
              compile: bool = True) -> AAE:
    """An AAE ``784-512-256-latent`` (decoder mirrored) with a code discriminator, two Adam optimizers.

    Args:
        latent_dim: size of z.
        hidden_units: encoder widths; the decoder uses them reversed.
        d_hidden_units: the discriminator's widths.
        lam: weight of the adversarial term, >= 0.
        learning_rate: the autoencoder's Adam learning rate.
        d_learning_rate: the discriminator's (default: ``learning_rate``).
        seed: seed of the prior draws (an int from 0 to 2**32 - 1, or None).
        compile: compile with the two Adam optimizers.

    Returns:
        An :class:`AAE` named ``"aae"``.

    Raises:
        TypeError / ValueError: as the builders and :class:`AAE`; a learning rate that is 0, negative,
            NaN or inf.
    """
    hidden_units, learning_rate = _hidden_and_rate(hidden_units, learning_rate, compile)
    if compile and d_learning_rate is not None:
        d_learning_rate = _validate.learning_rate(d_learning_rate, "d_learning_rate", allow_schedule=True)
    encoder = dense_encoder(latent_dim, hidden_units=hidden_units)
    decoder = dense_decoder(latent_dim, hidden_units=tuple(reversed(hidden_units)))
    discriminator = code_discriminator(latent_dim, hidden_units=d_hidden_units)
    model = AAE(encoder, decoder, discriminator, lam=lam, seed=seed, name="aae")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      d_optimizer=keras.optimizers.Adam(learning_rate if d_learning_rate is None else d_learning_rate))
    return model

