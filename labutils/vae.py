"""The variational autoencoder of lab 07: sampling layer, encoder/decoder builders,
a ``keras.Model`` with its own ``train_step``, KL warm-up, importance weights, and
its measurements in NumPy (the Gaussian KL, the importance-sampled log-likelihood,
active units).

Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (the ELBO,
section 2.3; the reparameterization, section 2.4; the Gaussian KL, appendix B).
Importance-weighted likelihood: Burda, Grosse & Salakhutdinov, "Importance
Weighted Autoencoders", ICLR 2016, eq. 8.

Conventions: images are flat ``(batch, 784)`` ``float32`` in [0, 1]; the decoder
outputs *logits* per pixel: of a Bernoulli distribution (``p = sigmoid(logits)``)
by default, or the mean ``sigmoid(logits)`` of a continuous Bernoulli or a
Gaussian decoder (``likelihood=``, see :func:`decoder_log_likelihood`);
every loss is in **nats per image**: summed over the 784 pixels (and latent
units), averaged over the batch. A conditional VAE gets the one-hot label
``(batch, num_classes)`` as a second input of both encoder and decoder.

Like the other model-family modules this one imports Keras when imported: the
custom layers and the model are registered serializable classes, so that saved
``.keras`` files load with ``safe_mode=True``.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from . import _validate, backends

__all__ = [
    "Sampling",
    "BoundedLogVariance",
    "VAE",
    "LIKELIHOODS",
    "KLWarmup",
    "dense_encoder",
    "dense_decoder",
    "build_vae",
    "decoder_log_likelihood",
    "continuous_bernoulli_log_normalizer",
    "bits_per_pixel",
    "sample_decoder",
    "log_importance_weights",
    "latent_grid",
    "gaussian_kl",
    "importance_sampled_log_likelihood",
    "active_units",
]

PACKAGE = "labutils"

#: The decoders p(x|z) a :class:`VAE` can have (see :func:`decoder_log_likelihood`).
LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian", "gaussian_learned")
_LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sampling(keras.layers.Layer):
    """The reparameterization trick: ``z = z_mean + exp(z_log_var / 2) * eps``, ``eps ~ N(0, I)``.

    Kingma & Welling (2014), section 2.4: writing the sample as a deterministic,
    differentiable function of ``(z_mean, z_log_var)`` and independent noise
    lets gradients flow into the encoder. The noise comes from Keras' seeded
    random ops (a ``keras.random.SeedGenerator``), so a fixed seed repeats it.

    Call with ``[z_mean, z_log_var]``, both ``(batch, latent_dim)`` float32;
    returns ``z`` of the same shape.

    Raises:
        TypeError: a ``seed`` that is not an int or None (booleans, floats, strings).
        ValueError: a negative ``seed`` or one above 2**32 - 1.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _validate.seed(seed, allow_none=True)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BoundedLogVariance(keras.layers.Layer):
    """Softly bound a log-variance to ``(-limit, limit)``: ``limit * tanh(x / limit)``.

    An unbounded ``z_log_var`` can overflow ``exp`` early in training (a NaN
    loss); with ``limit=10`` the posterior standard deviation stays within
    ``[exp(-5), exp(5)] = [0.0067, 148]``, far beyond what a trained VAE uses,
    and the map is smooth with slope 1 at 0, so gradients are unaffected near
    the values that matter.

    Input and output: ``(batch, latent_dim)`` float32.
    """

    def __init__(self, limit: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(limit, bool) or not isinstance(limit, (int, float, np.integer, np.floating)):
            raise TypeError(f"limit must be a number; got {limit!r} ({type(limit).__name__}).")
        if not math.isfinite(limit) or limit <= 0:
            raise ValueError(f"limit must be a finite number > 0; got {limit!r}.")
        self.limit = float(limit)

    def call(self, x):
        return self.limit * ops.tanh(x / self.limit)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "limit": self.limit}


def _sizes(values, name):
    return _validate.sizes(values, name)


def dense_encoder(latent_dim: int = 32, *, input_dim: int = 784, hidden_units=(512, 256),
                  num_classes: int = 0, log_var_limit: float = 10.0):
    """The inference network q(z|x): an MLP with two heads, ``z_mean`` and ``z_log_var``.

    ``x [, one-hot y] -> Dense(h, relu) ... -> (Dense(latent_dim) "z_mean",
    BoundedLogVariance(Dense(latent_dim)) "z_log_var")``.

    Args:
        latent_dim: size of z.
        input_dim: pixels per image (784 for MNIST).
        hidden_units: widths of the hidden layers.
        num_classes: 0 for a plain VAE; ``k > 0`` adds a second input, the
            one-hot label ``(batch, k)``, concatenated to the image (conditional VAE).
        log_var_limit: the bound of :class:`BoundedLogVariance`.

    Returns:
        A ``keras.Model`` named ``"encoder"``: ``(batch, input_dim)`` float32 in
        [0, 1] (and ``(batch, k)`` one-hot) -> ``[z_mean, z_log_var]``, each
        ``(batch, latent_dim)`` float32.

    Raises:
        TypeError / ValueError: non-positive or non-int sizes, negative ``num_classes``.
    """
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    input_dim = _validate.positive_int(input_dim, "input_dim")
    inputs, h = _mlp_trunk("image", input_dim, num_classes, hidden_units, "encoder")
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = BoundedLogVariance(log_var_limit, name="z_log_var")(
        keras.layers.Dense(latent_dim, name="z_log_var_raw")(h))
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def dense_decoder(latent_dim: int = 32, *, output_dim: int = 784, hidden_units=(256, 512),
                  num_classes: int = 0, learned_variance: bool = False, log_var_limit: float = 9.0):
    """The generative network p(x|z): an MLP that outputs logits per pixel.

    ``z [, one-hot y] -> Dense(h, relu) ... -> Dense(output_dim) "logits"``.
    ``sigmoid(logits)`` is the *mean* of p(x|z), the grey image usually shown
    as "the VAE's output"; a sample of the model is a binary image drawn from it
    (Bernoulli decoder), or the mean plus noise (Gaussian decoder).

    With ``learned_variance=True`` the decoder has a second head, the per-pixel
    log-variance of a Gaussian p(x|z) (Kingma & Welling 2014, appendix C.2),
    softly bounded to ``(-log_var_limit, log_var_limit)`` by
    :class:`BoundedLogVariance`. The bound is a floor against overconfidence:
    with the default 9 the standard deviation stays above ``exp(-4.5) = 0.011``
    (about 3 of 256 grey levels). With 15 (``sigma >= 0.00055``) a VAE trained
    on the offline MNIST split for 1,200 steps scored a median of 3.4 bits per
    pixel on 1,000 dequantized test images but a mean of 6.7: one image, with
    ink where the decoder was sure of background, cost 1,588 bits per pixel.

    Args:
        latent_dim: size of z.
        output_dim: pixels per image.
        hidden_units: widths of the hidden layers.
        num_classes: 0, or ``k > 0`` for a conditional decoder with a one-hot label input.
        learned_variance: add the ``"log_var"`` head.
        log_var_limit: the bound of that head (a positive number).

    Returns:
        A ``keras.Model`` named ``"decoder"``: ``(batch, latent_dim)`` float32 (and
        ``(batch, k)`` one-hot) -> logits ``(batch, output_dim)`` float32, or
        ``[logits, log_var]`` (both ``(batch, output_dim)``) with a learned variance.

    Raises:
        TypeError / ValueError: non-positive or non-int sizes, negative ``num_classes``,
            a non-positive ``log_var_limit``.
    """
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    output_dim = _validate.positive_int(output_dim, "output_dim")
    log_var_limit = _validate.number(log_var_limit, "log_var_limit", positive=True)
    inputs, h = _mlp_trunk("z", latent_dim, num_classes, hidden_units, "decoder")
    logits = keras.layers.Dense(output_dim, name="logits")(h)
    if not learned_variance:
        return keras.Model(inputs, logits, name="decoder")
    log_var = BoundedLogVariance(log_var_limit, name="log_var")(keras.layers.Dense(output_dim, name="log_var_raw")(h))
    return keras.Model(inputs, [logits, log_var], name="decoder")


def _mlp_trunk(input_name, dim, num_classes, hidden_units, prefix):
    """``Input(dim)`` [+ one-hot label input, concatenated] -> ReLU Dense layers ``<prefix>_hidden_i``.

    Returns ``(inputs, h)``: the model input (one tensor, or ``[x, label]`` when
    ``num_classes > 0``) and the last hidden tensor.
    """
    hidden_units = _sizes(hidden_units, "hidden_units")
    num_classes = _num_classes(num_classes)
    x_in = keras.Input(shape=(dim,), name=input_name)
    inputs, h = x_in, x_in
    if num_classes:
        y_in = keras.Input(shape=(num_classes,), name="label")
        inputs = [x_in, y_in]
        h = keras.layers.Concatenate(name=f"{input_name}_and_label")(inputs)
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation="relu", name=f"{prefix}_hidden_{i + 1}")(h)
    return inputs, h


def _num_classes(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"num_classes must be an int (0 for an unconditional VAE); got {value!r}.")
    if value < 0:
        raise ValueError(f"num_classes must be >= 0; got {value}.")
    return int(value)


@keras.saving.register_keras_serializable(package=PACKAGE)
class VAE(backends.Model):
    """A VAE trained by maximising the ELBO; a Bernoulli decoder unless ``likelihood`` says otherwise.

    Per image (Kingma & Welling 2014, eq. 3 and appendix B)::

        reconstruction = -log p(x|z) = sum_pixels BCE(x, sigmoid(logits)),  z ~ q(z|x)
                         (Bernoulli; the other decoders: see decoder_log_likelihood)
        kl             = KL(q(z|x) || N(0, I)) = 1/2 sum_j (mu_j^2 + s_j^2 - log s_j^2 - 1)
        loss           = reconstruction + beta * kl       (= -ELBO when beta = 1)

    all in nats per image (summed over pixels and latent units, averaged over
    the batch); ``fit`` logs ``loss``, ``reconstruction`` and ``kl`` (and
    ``val_...`` for validation data). ``beta`` (Higgins et al., ICLR 2017) is a
    non-trainable variable, so :class:`KLWarmup` can change it during training.

    Data: ``fit(x)`` with ``x`` ``(n, 784)`` float32 in [0, 1]; a conditional VAE
    takes ``fit(x, y_onehot)`` with ``y_onehot`` ``(n, k)``. With
    ``binarize_inputs=True`` every training batch is binarized afresh
    (dynamic binarization: pixel ~ Bernoulli(intensity)); evaluation uses the
    data as given, so pass a fixed binarization of the test set.

    With ``dequantize_inputs=True`` every training batch of 8-bit grey images is
    dequantized afresh (``(round(255 x) + u) / 256``, ``u ~ U(0, 1)``, as
    :func:`labutils.data.dequantize`), the data a density decoder (continuous
    Bernoulli, Gaussian) is scored on.

    Calling the model returns ``sigmoid(decoder(z_mean))``: the mean of p(x|z)
    at the posterior mean, ``(batch, 784)`` in [0, 1].

    Args:
        encoder: from :func:`dense_encoder` (outputs ``[z_mean, z_log_var]``).
        decoder: from :func:`dense_decoder` (outputs logits; ``[logits, log_var]``
            for ``likelihood="gaussian_learned"``).
        beta: weight of the KL term, >= 0.
        binarize_inputs: dynamic binarization of training batches.
        seed: seed of the sampling and binarization noise (None: unseeded).
        likelihood: one of :data:`LIKELIHOODS`.
        decoder_sigma: the fixed standard deviation of ``likelihood="gaussian"``
            (a positive number, on the [0, 1] pixel scale).
        dequantize_inputs: dequantize training batches (see above).

    Raises:
        TypeError: encoder/decoder not Keras models; a ``seed`` that is not an int
            or None. ValueError: a negative ``beta``, a negative ``seed``, encoder
            and decoder that disagree on latent size or conditioning, an unknown
            ``likelihood``, a decoder whose outputs do not fit it, a non-positive
            ``decoder_sigma``, both ``binarize_inputs`` and ``dequantize_inputs``;
            at ``fit`` and ``evaluate`` time, a conditional VAE without labels, or
            NumPy images that are not ``(n, 784)`` in [0, 1] (NaN and inf included).
    """

    def __init__(self, encoder, decoder, beta: float = 1.0, binarize_inputs: bool = True, seed=None,
                 likelihood: str = "bernoulli", decoder_sigma: float = 0.1, dequantize_inputs: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        for name, m in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{name} must be a keras.Model; got {type(m).__name__}.")
        if len(encoder.outputs) != 2:
            raise ValueError(f"encoder must output [z_mean, z_log_var]; it has {len(encoder.outputs)} outputs.")
        latent = encoder.outputs[0].shape[-1]
        z_shape = decoder.inputs[0].shape[-1]
        if latent != z_shape:
            raise ValueError(f"encoder's latent size {latent} differs from the decoder's input size {z_shape}.")
        if len(encoder.inputs) != len(decoder.inputs):
            raise ValueError("encoder and decoder must both be conditional (two inputs) or both not (one input); "
                             f"they have {len(encoder.inputs)} and {len(decoder.inputs)} inputs.")
        self.likelihood = _likelihood(likelihood)
        outputs = len(decoder.outputs)
        wanted = 2 if self.likelihood == "gaussian_learned" else 1
        if outputs != wanted:
            raise ValueError(f"likelihood={self.likelihood!r} needs a decoder with {wanted} output(s) "
                             f"({'[logits, log_var]' if wanted == 2 else 'logits'}); this decoder has {outputs}.")
        self.decoder_sigma = _validate.number(decoder_sigma, "decoder_sigma", positive=True)
        self.dequantize_inputs = bool(dequantize_inputs)
        if self.dequantize_inputs and binarize_inputs:
            raise ValueError("binarize_inputs and dequantize_inputs exclude each other: pick binary or grey data.")
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = int(latent)
        self.conditional = len(encoder.inputs) == 2
        self.initial_beta = _beta(beta)
        self.binarize_inputs = bool(binarize_inputs)
        seed = _validate.seed(seed, allow_none=True)
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.sampling.build([(None, self.latent_dim), (None, self.latent_dim)])  # no weights; built before fit
        self.binarize_seed = keras.random.SeedGenerator(None if seed is None else int(seed) + 1)
        self.beta = keras.Variable(self.initial_beta, trainable=False, dtype="float32", name="beta")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder are built functional models; nothing is created lazily

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.convert_to_tensor(x, "float32")
        if self.conditional and y is None:
            raise ValueError("a conditional VAE needs the one-hot labels: fit(x, y_onehot), evaluate(x, y_onehot).")
        return x, (y if self.conditional else None)

    def _check_labels(self, x, y, where="x"):
        # fail before Keras traces the step: an error inside a trace leaves a half-built train function
        if self.conditional and y is None and isinstance(x, np.ndarray):
            raise ValueError("a conditional VAE needs the one-hot labels: fit(x, y_onehot), evaluate(x, y_onehot).")
        if isinstance(x, np.ndarray):  # NumPy data is checked here; datasets and generators are the caller's
            d = self.decoder.outputs[0].shape[-1]
            x = _validate.unit_interval(x, where)
            if x.ndim != 2 or x.shape[1] != d:
                raise ValueError(f"{where} must be flat images (n, {d}) in [0, 1]; got shape {x.shape}.")
        if self.conditional and isinstance(y, np.ndarray) and isinstance(x, np.ndarray):
            k = self.decoder.inputs[1].shape[-1]
            y = _validate.finite_array(y, "y_onehot" if where == "x" else f"{where} labels")
            if y.shape != (len(x), k):
                raise ValueError(f"y_onehot must be one-hot labels ({len(x)}, {k}); got shape {y.shape}.")

    def _check_validation(self, kwargs):
        val = kwargs.get("validation_data")
        if isinstance(val, np.ndarray):
            self._check_labels(val, None, "validation_data")
        elif isinstance(val, (tuple, list)) and val and isinstance(val[0], np.ndarray):
            self._check_labels(val[0], val[1] if len(val) > 1 else None, "validation_data")

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_labels(x, y)
        self._check_validation(kwargs)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_labels(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def encode(self, x, y=None, training=False):
        """``[z_mean, z_log_var]`` for a batch (``y``: one-hot labels of a conditional VAE)."""
        return self.encoder([x, y] if self.conditional else x, training=training)

    def decode(self, z, y=None, training=False):
        """``(logits, log_var)`` of p(x|z), each ``(batch, 784)``; ``log_var`` is None unless learned."""
        out = self.decoder([z, y] if self.conditional else z, training=training)
        return (out[0], out[1]) if self.likelihood == "gaussian_learned" else (out, None)

    def decode_logits(self, z, y=None, training=False):
        """Logits ``(batch, 784)`` of p(x|z): ``sigmoid(logits)`` is its mean (Bernoulli: its probabilities)."""
        return self.decode(z, y, training=training)[0]

    def call(self, inputs, training=False):
        x, y = (inputs[0], inputs[1]) if self.conditional else (inputs, None)
        z_mean, _ = self.encode(x, y, training=training)
        return ops.sigmoid(self.decode_logits(z_mean, y, training=training))

    def log_px(self, x, z, y=None, training=False, likelihood=None):
        """``log p(x|z)`` per image ``(batch,)`` in nats (:func:`decoder_log_likelihood`)."""
        logits, log_var = self.decode(z, y, training=training)
        return decoder_log_likelihood(x, logits, likelihood or self.likelihood, log_var=log_var,
                                      sigma=self.decoder_sigma)

    def elbo_terms(self, x, y=None, training=False):
        """``(reconstruction, kl)`` per image ``(batch,)`` in nats, with one z sample per image."""
        z_mean, z_log_var = self.encode(x, y, training=training)
        z = self.sampling([z_mean, z_log_var])
        reconstruction = -self.log_px(x, z, y, training=training)
        kl = 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - z_log_var - 1.0, axis=-1)
        return reconstruction, kl

    def _loss_terms(self, x, y, training):
        reconstruction, kl = self.elbo_terms(x, y, training=training)
        reconstruction, kl = ops.mean(reconstruction), ops.mean(kl)
        loss = reconstruction + self.beta * kl
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss, (reconstruction, kl)

    def _track(self, loss, reconstruction, kl):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, y = self._unpack(data)
        if self.binarize_inputs:
            x = ops.cast(keras.random.uniform(ops.shape(x), seed=self.binarize_seed) < x, "float32")
        elif self.dequantize_inputs:
            x = (ops.round(x * 255.0) + keras.random.uniform(ops.shape(x), seed=self.binarize_seed)) / 256.0
        loss, (reconstruction, kl), grads = backends.value_and_grad(
            lambda: self._loss_terms(x, y, training=True), self.trainable_variables, watch=self.variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._track(loss, reconstruction, kl)

    def test_step(self, data):
        x, y = self._unpack(data)
        loss, (reconstruction, kl) = self._loss_terms(x, y, training=False)
        return self._track(loss, reconstruction, kl)

    def sample_means(self, n: int, labels=None, seed: int = 0) -> np.ndarray:
        """Decode ``n`` draws from the prior N(0, I): the means of p(x|z), ``(n, 784)`` float32 in [0, 1].

        ``labels``: ``(n,)`` integer classes for a conditional VAE (required
        there, refused otherwise). Draw binary samples with
        ``rng.random(p.shape) < p`` if you want samples rather than means.

        Raises:
            TypeError / ValueError: ``n`` not an int from 1 to 100,000; a ``seed``
                that is not an int from 0 to 2**32 - 1; bad ``labels``.
        """
        n = _validate.bounded_int(n, "n", _validate.MAX_SAMPLES)
        seed = _validate.seed(seed)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return self.decode_means(z, labels)

    def decode_means(self, z, labels=None) -> np.ndarray:
        """``sigmoid(decoder(z))`` for ``z`` ``(n, latent_dim)``: ``(n, 784)`` float32 in [0, 1].

        Raises:
            TypeError: complex or object ``z``. ValueError: ``z`` not ``(n, latent_dim)``,
                NaN or inf in ``z``, bad ``labels``.
        """
        z = _validate.finite_array(z, "z", np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be (n, {self.latent_dim}); got shape {z.shape}.")
        y = self._onehot(labels, len(z))
        logits = ops.convert_to_numpy(self.decode_logits(z, y)).astype(np.float64)
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def _onehot(self, labels, n):
        if not self.conditional:
            if labels is not None:
                raise ValueError("labels are only for a conditional VAE (built with num_classes > 0).")
            return None
        if labels is None:
            raise ValueError("a conditional VAE needs labels: an (n,) array of integer classes.")
        k = self.decoder.inputs[1].shape[-1]
        labels = _validate.as_array(labels, "labels")
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"labels must be ({n},) integers in [0, {k}); got shape {labels.shape}, dtype {labels.dtype}.")
        return np.eye(k, dtype=np.float32)[labels]

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.initial_beta,
            "binarize_inputs": self.binarize_inputs,
            "seed": self.seed,
            "likelihood": self.likelihood,
            "decoder_sigma": self.decoder_sigma,
            "dequantize_inputs": self.dequantize_inputs,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def _likelihood(value):
    if not isinstance(value, str) or value not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {value!r}.")
    return value


def continuous_bernoulli_log_normalizer(logits):
    """``log C(lambda)`` of the continuous Bernoulli with ``lambda = sigmoid(logits)``, elementwise.

    The continuous Bernoulli (Loaiza-Ganem & Cunningham, "The continuous
    Bernoulli: fixing a pervasive error in variational autoencoders", NeurIPS
    2019) is the density ``C(lambda) lambda^x (1 - lambda)^(1 - x)`` on
    ``x in [0, 1]``, with ``C = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)`` (2 at
    lambda = 1/2). In logits ``l`` this is ``C = l / tanh(l / 2)``, computed as
    ``log|l| - log tanh(|l| / 2)`` and, for ``|l| < 0.01``, by its series
    ``log 2 + l^2 / 12`` (error below 1e-9). Binary cross-entropy on grey
    pixels is ``-log`` of the *unnormalised* density: it leaves out this term,
    which is at least ``log 2`` per pixel and grows with ``|l|``.

    Args:
        logits: a tensor or array of any shape, float.

    Returns:
        A tensor of the same shape, nats (``>= log 2``).
    """
    logits = ops.convert_to_tensor(logits, "float32")
    a = ops.abs(logits)
    small = a < 0.01
    safe = ops.where(small, ops.ones_like(a), a)
    exact = ops.log(safe) - ops.log(ops.tanh(0.5 * safe))
    return ops.where(small, math.log(2.0) + ops.square(a) / 12.0, exact)


def decoder_log_likelihood(x, logits, likelihood: str = "bernoulli", *, log_var=None, sigma: float = 0.1):
    """``log p(x|z)`` per image, summed over pixels, for each decoder of :data:`LIKELIHOODS`; ``keras.ops``.

    With ``mu = sigmoid(logits)`` the mean of p(x|z) and ``d`` pixels::

        bernoulli             sum x l - softplus(l)                   = -BCE (a pmf on binary x)
        continuous_bernoulli  sum x l - softplus(l) + log C(l)        (a density on [0, 1]^d)
        gaussian              -1/2 sum (x - mu)^2 / sigma^2 + log(2 pi sigma^2)     (fixed sigma)
        gaussian_learned      -1/2 sum (x - mu)^2 / s^2 + log s^2 + log(2 pi),  log s^2 = log_var

    Kingma & Welling, ICLR 2014, appendix C (Bernoulli and Gaussian MLP
    decoders); Loaiza-Ganem & Cunningham, NeurIPS 2019 (the continuous
    Bernoulli, :func:`continuous_bernoulli_log_normalizer`). The Bernoulli is
    a probability of binary images; the other three are densities of grey
    images, comparable with each other (score them on dequantized pixels,
    :func:`bits_per_pixel`) but not with the Bernoulli's numbers. "bernoulli"
    applied to grey pixels is binary cross-entropy, the popular recipe: not the
    log of any normalised distribution over grey images.

    Args:
        x: ``(batch, d)`` float images in [0, 1] (binary for "bernoulli").
        logits: ``(batch, d)`` decoder logits.
        likelihood: one of :data:`LIKELIHOODS`.
        log_var: ``(batch, d)`` per-pixel log-variances; required for
            "gaussian_learned" and refused otherwise.
        sigma: the fixed standard deviation of "gaussian" (a positive number).

    Returns:
        A ``(batch,)`` float32 tensor, nats per image.

    Raises:
        ValueError: an unknown ``likelihood``, ``log_var`` missing or given
            where it does not belong, a non-positive ``sigma``.
    """
    likelihood = _likelihood(likelihood)
    if (log_var is None) == (likelihood == "gaussian_learned"):
        raise ValueError(f"log_var is needed by likelihood='gaussian_learned' and only by it; got "
                         f"likelihood={likelihood!r} with log_var {'missing' if log_var is None else 'given'}.")
    logits = ops.convert_to_tensor(logits, "float32")
    x = ops.cast(x, logits.dtype)
    if likelihood in ("bernoulli", "continuous_bernoulli"):
        log_p = x * logits - ops.softplus(logits)
        if likelihood == "continuous_bernoulli":
            log_p = log_p + continuous_bernoulli_log_normalizer(logits)
        return ops.sum(log_p, axis=-1)
    mu = ops.sigmoid(logits)
    if likelihood == "gaussian":
        sigma = _validate.number(sigma, "sigma", positive=True)
        return -0.5 * ops.sum(ops.square(x - mu) / sigma ** 2 + math.log(sigma ** 2) + _LOG_2PI, axis=-1)
    log_var = ops.convert_to_tensor(log_var, "float32")
    return -0.5 * ops.sum(ops.square(x - mu) * ops.exp(-log_var) + log_var + _LOG_2PI, axis=-1)


def bits_per_pixel(nll, *, pixels: int = 784, levels: int = 256):
    """An upper bound on the negative log-probability of 8-bit images, in bits per pixel.

    A density ``p`` on ``[0, 1]^d`` fitted to dequantized pixels
    ``(k + u) / levels`` (``u ~ U(0, 1)``) gives the discrete images the
    probability ``P(k) >= exp(E_u log p) / levels^d`` (Jensen), so
    ``-log2 P(k) / d <= (nll + d ln levels) / (d ln 2)`` with ``nll`` the
    density's negative log-likelihood in nats per image (Theis, van den Oord &
    Bethge, "A note on the evaluation of generative models", ICLR 2016). The
    bound puts densities on one scale with discrete models: 8 bits per pixel is
    a uniform guess, 0 a certain one.

    Args:
        nll: negative log-density in nats per image (a number or array; may be
            negative, since densities exceed 1).
        pixels: ``d``, pixels per image (positive int).
        levels: grey levels per pixel (an int >= 2).

    Returns:
        ``float`` or ``float64`` array like ``nll``: bits per pixel.

    Raises:
        TypeError / ValueError: non-finite ``nll``, bad ``pixels`` or ``levels``.
    """
    pixels = _validate.positive_int(pixels, "pixels")
    levels = _validate.positive_int(levels, "levels")
    if levels < 2:
        raise ValueError(f"levels must be at least 2; got {levels}.")
    values = _validate.finite_array(nll, "nll")
    out = (values + pixels * math.log(levels)) / (pixels * math.log(2.0))
    return float(out) if out.ndim == 0 else out


def sample_decoder(model: VAE, n: int, *, seed: int = 0):
    """Draw ``n`` images from the model: ``z ~ N(0, I)``, then the mean of p(x|z) and one sample ``x ~ p(x|z)``.

    The mean is ``sigmoid(l)`` for the Bernoulli and the Gaussians, and
    ``e^l / (e^l - 1) - 1 / l`` for the continuous Bernoulli, whose mean is not
    its parameter ``lambda = sigmoid(l)`` (Loaiza-Ganem & Cunningham 2019, sec. 3).
    Samples: Bernoulli, binary pixels; Gaussian, ``mean + sigma * eps`` clipped
    to [0, 1] for display; continuous Bernoulli, the inverse CDF
    ``log1p(u expm1(l)) / l`` of ``u ~ U(0, 1)``.

    Args:
        model: an unconditional :class:`VAE`.
        n: images (an int from 1 to 100,000).
        seed: NumPy seed of the prior and pixel noise (an int from 0 to 2**32 - 1).

    Returns:
        ``(means, samples)``, each ``(n, 784)`` float32 in [0, 1].

    Raises:
        TypeError: ``model`` not a :class:`VAE`; a non-int ``n`` or ``seed``.
        ValueError: a conditional model, ``n`` out of range, a negative ``seed``.
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a labutils.vae.VAE; got {type(model).__name__}.")
    if model.conditional:
        raise ValueError("sample_decoder draws from an unconditional VAE; this one is conditional.")
    n = _validate.bounded_int(n, "n", _validate.MAX_SAMPLES)
    rng = np.random.default_rng(_validate.seed(seed))
    z = rng.standard_normal((n, model.latent_dim)).astype(np.float32)
    logits, log_var = model.decode(z)
    l = np.clip(ops.convert_to_numpy(logits).astype(np.float64), -30.0, 30.0)
    p = 1.0 / (1.0 + np.exp(-l))
    u = rng.random(l.shape)
    if model.likelihood == "bernoulli":
        means, samples = p, (u < p).astype(np.float64)
    elif model.likelihood == "continuous_bernoulli":
        tiny = np.abs(l) < 1e-3
        safe = np.where(tiny, 1.0, l)
        means = np.where(tiny, 0.5 + l / 12.0, np.exp(safe) / np.expm1(safe) - 1.0 / safe)
        samples = np.where(tiny, u, np.log1p(u * np.expm1(safe)) / safe)
    else:
        sigma = (model.decoder_sigma if log_var is None
                 else np.exp(0.5 * ops.convert_to_numpy(log_var).astype(np.float64)))
        means = p
        samples = p + sigma * rng.standard_normal(l.shape)
    return means.astype(np.float32), np.clip(samples, 0.0, 1.0).astype(np.float32)


def _beta(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"beta must be a number; got {value!r} ({type(value).__name__}).")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"beta must be a finite number >= 0; got {value!r}.")
    return float(value)


def build_vae(latent_dim: int = 32, *, hidden_units=(512, 256), num_classes: int = 0, beta: float = 1.0,
              learning_rate: float = 1e-3, seed=None, compile: bool = True, likelihood: str = "bernoulli",
              decoder_sigma: float = 0.1, dequantize_inputs: bool = False):
    """An MLP VAE ``784-512-256-latent`` (decoder mirrored), compiled with Adam.

    Args:
        latent_dim: size of z.
        hidden_units: encoder widths; the decoder uses them reversed.
        num_classes: 0 for a VAE, 10 for a conditional VAE on MNIST labels.
        beta: weight of the KL term (1: the ELBO).
        learning_rate: Adam's learning rate, a positive finite number or a Keras
            schedule (ignored with ``compile=False``).
        seed: seed of the sampling and binarization noise (an int from 0 to 2**32 - 1, or None).
        compile: compile with Adam (``clipnorm=100`` guards the first steps).
        likelihood: the decoder, one of :data:`LIKELIHOODS` ("gaussian_learned"
            adds the decoder's log-variance head).
        decoder_sigma: the fixed standard deviation of "gaussian".
        dequantize_inputs: train on freshly dequantized grey batches; otherwise
            a "bernoulli" VAE binarizes every batch (dynamic binarization) and the
            others train on the data as given.

    Returns:
        A :class:`VAE`.

    Raises:
        TypeError / ValueError: as :func:`dense_encoder` and :class:`VAE`; a
            learning rate that is 0, negative, NaN or inf (or not a number).
    """
    hidden_units = _sizes(hidden_units, "hidden_units")
    if compile:
        learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
    likelihood = _likelihood(likelihood)
    encoder = dense_encoder(latent_dim, hidden_units=hidden_units, num_classes=num_classes)
    decoder = dense_decoder(latent_dim, hidden_units=tuple(reversed(hidden_units)), num_classes=num_classes,
                            learned_variance=likelihood == "gaussian_learned")
    model = VAE(encoder, decoder, beta=beta, seed=seed, name="vae" if not num_classes else "cvae",
                likelihood=likelihood, decoder_sigma=decoder_sigma, dequantize_inputs=dequantize_inputs,
                binarize_inputs=likelihood == "bernoulli" and not dequantize_inputs)
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=100.0))
    return model


class KLWarmup(keras.callbacks.Callback):
    """KL warm-up: raise ``model.beta`` linearly from 0 to ``target`` over ``epochs`` epochs.

    Bowman et al., "Generating sentences from a continuous space", CoNLL 2016,
    section 3.1; Sønderby et al., "Ladder variational autoencoders", NIPS 2016,
    section 2.3. Early in training the KL term pushes every posterior onto the
    prior before the decoder can use z; starting with a small weight keeps
    more latent units active. Epoch ``e`` (0-based) trains with
    ``beta = target * min(1, (e + 1) / epochs)``.

    Raises:
        ValueError / TypeError: non-positive ``epochs`` or negative ``target``.
    """

    def __init__(self, epochs: int, target: float = 1.0):
        super().__init__()
        self.warmup_epochs = _validate.positive_int(epochs, "epochs")
        self.target = _beta(target)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(self.target * min(1.0, (epoch + 1) / self.warmup_epochs))


def log_importance_weights(model: VAE, x, k: int, labels=None, *, chunk_size: int = 5000, seed: int = 0,
                           likelihood: str | None = None) -> np.ndarray:
    """``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` for ``k`` samples ``z_i ~ q(z|x)``.

    The input of :func:`importance_sampled_log_likelihood`
    (Burda et al. 2016, eq. 8). ``log p(x|z)`` is the decoder's log-likelihood
    (:func:`decoder_log_likelihood`; Bernoulli: ``x*l - softplus(l)`` summed
    over pixels, float32, stable for any logit); ``p(z) = N(0, I)``; ``q(z|x)`` is
    the encoder's diagonal Gaussian (both in float64). The mean over i
    estimates the ELBO. Cost: ``n * k`` decoder passes.

    Args:
        model: a trained :class:`VAE`.
        x: ``(n, 784)`` float32, binary (a fixed binarization of the test set)
            for a Bernoulli decoder; dequantized grey images for the others.
        k: samples per image (positive int, at most 100,000).
        labels: ``(n,)`` integer classes for a conditional VAE.
        chunk_size: decoder rows per pass (memory: ``chunk_size * 784`` floats).
        seed: NumPy seed of the noise (an int from 0 to 2**32 - 1).
        likelihood: score with another decoder likelihood than the model was
            trained with (e.g. "continuous_bernoulli" for a Bernoulli decoder
            trained on grey images: the normalised density its logits define);
            default the model's own.

    Returns:
        ``float64`` array ``(n, k)`` of log weights, in nats.

    Raises:
        TypeError: ``model`` is not a :class:`VAE`; complex or object ``x``; a
            non-int ``k``, ``chunk_size`` or ``seed``. ValueError: ``x`` not
            ``(n, 784)`` in [0, 1] (NaN, inf included), ``k`` not in [1, 100,000],
            a negative ``seed``, bad ``labels``, a ``likelihood`` the decoder
            cannot give ("gaussian_learned" needs the log-variance head, the
            others a decoder without it).
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a labutils.vae.VAE; got {type(model).__name__}.")
    likelihood = model.likelihood if likelihood is None else _likelihood(likelihood)
    if (likelihood == "gaussian_learned") != (model.likelihood == "gaussian_learned"):
        raise ValueError(f"likelihood={likelihood!r} does not fit this model's decoder "
                         f"(trained with likelihood={model.likelihood!r}).")
    x = _validate.unit_interval(x, "x")
    d = model.decoder.outputs[0].shape[-1]
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"x must be flat images (n, {d}); got shape {x.shape}.")
    k = _validate.bounded_int(k, "k", _validate.MAX_SAMPLES, "importance samples per image")
    y = model._onehot(labels, len(x))
    images_per_pass = max(1, _validate.positive_int(chunk_size, "chunk_size") // k)
    rng = np.random.default_rng(_validate.seed(seed))
    log_2pi = math.log(2.0 * math.pi)
    out = np.empty((len(x), k), dtype=np.float64)
    for start in range(0, len(x), images_per_pass):
        xb = x[start:start + images_per_pass]
        yb = None if y is None else y[start:start + images_per_pass]
        z_mean, z_log_var = (ops.convert_to_numpy(a).astype(np.float64) for a in model.encode(xb, yb))
        eps = rng.standard_normal((len(xb), k, model.latent_dim))
        z = z_mean[:, None, :] + np.exp(0.5 * z_log_var)[:, None, :] * eps
        log_q = -0.5 * np.sum(eps ** 2 + z_log_var[:, None, :] + log_2pi, axis=-1)
        log_prior = -0.5 * np.sum(z ** 2 + log_2pi, axis=-1)
        zf = z.reshape(-1, model.latent_dim).astype(np.float32)
        yf = None if yb is None else np.repeat(yb, k, axis=0)
        xf = np.repeat(xb, k, axis=0)
        log_px = model.log_px(xf, zf, yf, likelihood=likelihood)
        out[start:start + len(xb)] = ops.convert_to_numpy(log_px).astype(np.float64).reshape(len(xb), k) + log_prior - log_q
    return out


def latent_grid(n: int = 15, *, quantile: float = 0.95) -> np.ndarray:
    """A ``n x n`` grid of 2-d latent points at standard-normal quantiles.

    The points are ``scipy.stats.norm.ppf`` of ``n`` evenly spaced
    probabilities in ``[1 - quantile, quantile]``, so each grid cell covers an
    equal share of the prior's mass (the decoded manifold of Kingma & Welling
    2014, figure 4). Rows run from high to low z_2, columns from low to high z_1.

    Returns:
        ``float32`` array ``(n * n, 2)``, row-major.

    Raises:
        ValueError: ``n`` not in [2, 100] (``n * n`` images are decoded) or
            ``quantile`` outside (0.5, 1). TypeError: a non-int ``n``.
    """
    from scipy.stats import norm

    n = _validate.bounded_int(n, "n", 100, "the grid has n * n points")
    if n < 2:
        raise ValueError(f"n must be at least 2; got {n}.")
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0.5 < quantile < 1:
        raise ValueError(f"quantile must be in (0.5, 1); got {quantile!r}.")
    z = norm.ppf(np.linspace(1.0 - quantile, quantile, n))
    z1, z2 = np.meshgrid(z, z[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)


def _latent_pair(z_mean, z_log_var):
    m = _validate.as_array(z_mean, "z_mean").astype(np.float64)
    lv = _validate.as_array(z_log_var, "z_log_var").astype(np.float64)
    if m.ndim != 2 or m.shape != lv.shape:
        raise ValueError(f"z_mean and z_log_var must both be (n, latent_dim); got {m.shape} and {lv.shape}.")
    if not (np.isfinite(m).all() and np.isfinite(lv).all()):
        raise ValueError("z_mean and z_log_var must be finite (a NaN here usually means training diverged).")
    return m, lv


def gaussian_kl(z_mean, z_log_var) -> np.ndarray:
    """KL(N(mu, diag(s^2)) || N(0, I)) per example, in closed form.

    ``1/2 * sum_j (mu_j^2 + s_j^2 - log s_j^2 - 1)`` (Kingma & Welling,
    "Auto-Encoding Variational Bayes", ICLR 2014, appendix B): the VAE's
    KL term, the "rate" of the code.

    Args:
        z_mean: ``(n, latent_dim)`` posterior means.
        z_log_var: ``(n, latent_dim)`` posterior log-variances ``log s^2``.

    Returns:
        ``float64`` array ``(n,)``, nats per example (>= 0).

    Raises:
        ValueError: shapes differ or are not 2-D, or non-finite values.
    """
    m, lv = _latent_pair(z_mean, z_log_var)
    return 0.5 * np.sum(m ** 2 + np.exp(lv) - lv - 1.0, axis=1)


def importance_sampled_log_likelihood(log_weights, k: int | None = None) -> np.ndarray:
    """The importance-weighted bound ``L_k = E[log (1/k) sum_i w_i]`` per example.

    With ``w_i = p(x, z_i) / q(z_i|x)`` and ``z_i ~ q(z|x)``, ``L_k`` is a lower
    bound of ``log p(x)`` that tightens as ``k`` grows and reaches it as
    ``k -> inf``; ``L_1`` is the ELBO (Burda, Grosse & Salakhutdinov,
    "Importance Weighted Autoencoders", ICLR 2016, eq. 8 and theorem 1). The
    negative of ``L_k`` for large ``k`` (e.g. 5,000 in the paper) is the
    "importance-sampled NLL" reported for VAEs.

    Given ``K`` log weights per example, ``k`` (a divisor of ``K``) splits them
    into ``K / k`` disjoint groups of ``k``; the estimate is the mean over the
    groups of ``logsumexp(group) - log k`` (scipy's ``logsumexp``, stable for
    log weights of -100 nats and below). So one pass with ``K = 1000`` gives
    unbiased estimates of ``L_1``, ``L_10``, ``L_100`` and ``L_1000``.

    Args:
        log_weights: ``(n, K)`` finite log importance weights in nats
            (``labutils.vae.log_importance_weights`` computes them for a VAE).
        k: samples per estimate; default ``K`` (all of them). Must divide ``K``.

    Returns:
        ``float64`` array ``(n,)``: the estimate of ``log p(x)`` per example, nats.

    Raises:
        ValueError: ``log_weights`` not 2-D or not finite, or ``k`` not a divisor of ``K``.
        TypeError: ``k`` not an int.
    """
    from scipy.special import logsumexp

    lw = _validate.as_array(log_weights, "log_weights").astype(np.float64)
    if lw.ndim != 2 or lw.shape[1] == 0:
        raise ValueError(f"log_weights must be (n, K) with K >= 1; got shape {lw.shape}.")
    if not np.isfinite(lw).all():
        raise ValueError("log_weights must be finite; NaN or inf usually means the model diverged.")
    total = lw.shape[1]
    k = total if k is None else _validate.positive_int(k, "k")
    if total % k:
        raise ValueError(f"k={k} must divide the number of samples K={total}.")
    groups = lw.reshape(lw.shape[0], total // k, k)
    return (logsumexp(groups, axis=2) - np.log(k)).mean(axis=1)


def active_units(z_mean, threshold: float = 0.01) -> int:
    """Number of active latent units: ``Cov_x(E_q[z_u | x]) > threshold``.

    A unit whose posterior mean does not change with the input carries no
    information about it (its posterior equals the prior: "posterior
    collapse"). Burda, Grosse & Salakhutdinov, ICLR 2016, section 5.2, with
    their threshold 0.01.

    Args:
        z_mean: ``(n, latent_dim)`` posterior means over a data set (n >= 2).
        threshold: variance above which a unit counts as active, > 0.

    Returns:
        ``int`` in ``[0, latent_dim]``.

    Raises:
        ValueError: ``z_mean`` not 2-D with at least two rows, non-finite values,
            or a threshold that is not a positive finite number.
    """
    m = _validate.as_array(z_mean, "z_mean").astype(np.float64)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(f"z_mean must be (n, latent_dim) with n >= 2; got shape {m.shape}.")
    if not np.isfinite(m).all():
        raise ValueError("z_mean must be finite.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not threshold > 0 or not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number > 0; got {threshold!r}.")
    return int((m.var(axis=0) > threshold).sum())
