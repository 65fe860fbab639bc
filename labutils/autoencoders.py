"""Autoencoders: the dense, undercomplete, sparse, contractive, denoising, deep, tied, stacked and
convolutional autoencoders of labs 01-06, their measurements, baselines and figures.

Models and training:

* :func:`dense_autoencoder` - the one dense autoencoder builder: the classic
  784-32-784 model with its defaults, deeper mirrored variants, linear layers,
  the code's activation, an activity penalty on the code (L1 as a Keras
  regularizer, or the KL sparsity layer) and unit-norm decoder filters;
* :func:`fit_autoencoder` - the one training recipe: Adam (cosine-decayed or
  constant learning rate), copying the input;
* :class:`KLSparsity` - the KL-divergence sparsity penalty towards a target mean
  activation ``rho`` (A. Ng, "Sparse autoencoder", CS294A lecture notes, 2011,
  section 2.4), a registered layer that adds its loss with ``add_loss``;
* :class:`ContractiveAutoencoder` - the contractive autoencoder (Rifai, Vincent,
  Muller, Glorot & Bengio, "Contractive auto-encoders: explicit invariance
  during feature extraction", ICML 2011, eq. 4 and 5) with its own ``train_step``;
* :func:`conv_autoencoder` - ``Conv2D`` / ``Conv2DTranspose`` autoencoder, with
  a convolutional code (denoising, lab 05) or a ``Dense`` bottleneck (lab 06);
* :class:`DenseTranspose` and :func:`tied_dense_autoencoder` - tied weights: the
  decoder reuses the transposed encoder kernels with its own biases;
* :func:`greedy_layerwise_pretrain` - stack of shallow autoencoders trained one
  at a time (Hinton & Salakhutdinov, Science 2006; Bengio et al., NIPS 2007);
* :func:`corrupt` and :class:`NoisyBatches` - Gaussian or masking noise, fresh for
  every batch of every epoch (a ``keras.utils.PyDataset``), for denoising
  autoencoders (Vincent et al., ICML 2008; JMLR 11, 2010).

Measurements and baselines: :func:`reconstruction_mse`,
:func:`fraction_of_variance_unexplained`, :func:`principal_angles`,
:func:`kl_sparsity`, :func:`activation_stats`, :func:`sensitivity_ratio`,
:func:`encoder_jacobian_norm`, :func:`code_sensitivity`, :func:`logistic_probe`,
:func:`count_params`, :func:`tsne`; the baselines :func:`mean_image_reconstruction`,
:func:`pca_reconstruction` and :func:`median_filter` (the classical denoiser,
``scipy.ndimage``). Figures: :func:`reconstruction_figure`, :func:`filter_grid`,
:func:`image_rows`. Measurements that other families share (BCE, PSNR, SSIM,
k-NN accuracy) are in :mod:`labutils.metrics`.

Conventions: images are flat ``(batch, 784)`` ``float32`` in [0, 1] unless a
function says otherwise. Every loss is per pixel as Keras reports
``"mse"``/``"binary_crossentropy"`` (averaged over the 784 pixels and the
batch); the code penalties are per image (summed over code units, averaged over
the batch), so their weights are quoted relative to a per-pixel reconstruction loss.

This module imports Keras when imported: its layers and models are registered
serializable classes, so that saved ``.keras`` files load with ``safe_mode=True``.
"""
from __future__ import annotations

import math
import time

import keras
import numpy as np
from keras import ops

from . import _validate, backends, data, training
from .plots import Figure, _as_image_batch, image_grid

__all__ = [
    "KLSparsity",
    "ContractiveAutoencoder",
    "dense_autoencoder",
    "fit_autoencoder",
    "build_contractive_autoencoder",
    "contractive_penalty",
    "encoder_jacobian_norm",
    "code_sensitivity",
    "logistic_probe",
    "reconstruction_mse",
    "fraction_of_variance_unexplained",
    "principal_angles",
    "kl_sparsity",
    "activation_stats",
    "sensitivity_ratio",
    "reconstruction_figure",
    "filter_grid",
    "image_rows",
    "mean_image_reconstruction",
    "pca_reconstruction",
    "NOISE_KINDS",
    "corrupt",
    "NoisyBatches",
    "median_filter",
    "conv_autoencoder",
    "DenseTranspose",
    "tied_dense_autoencoder",
    "count_params",
    "greedy_layerwise_pretrain",
    "tsne",
]

PACKAGE = "labutils"


def _nonneg(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return value


def _open_unit(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1; got {value!r}.")
    return value


@keras.saving.register_keras_serializable(package=PACKAGE)
class KLSparsity(keras.layers.Layer):
    """KL sparsity penalty on a sigmoid code; the layer passes its input through unchanged.

    With ``rho_hat_j`` the mean activation of code unit ``j`` over the batch, it adds
    (Ng, CS294A notes, section 2.4)::

        beta * sum_j KL(rho || rho_hat_j),
        KL(rho || r) = rho log(rho / r) + (1 - rho) log((1 - rho) / (1 - r))

    to the model's losses during training and evaluation. It is a layer and not a
    Keras ``activity_regularizer`` on purpose: Keras 3 divides every activity
    regularizer's value by the batch size, which is right for a per-example sum
    (L1) and wrong for a batch statistic like this one (its weight would change
    with the batch size).

    Args:
        rho: target mean activation, in (0, 1), e.g. 0.05.
        beta: weight of the penalty, >= 0 (relative to the model's loss).

    Input: ``(batch, units)`` activations in (0, 1) (a sigmoid code); they are
    clipped to ``[1e-7, 1 - 1e-7]`` inside the logs. Output: the same tensor.

    Raises:
        TypeError / ValueError: ``rho`` outside (0, 1), a negative ``beta``.
    """

    def __init__(self, rho: float = 0.05, beta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.rho = _open_unit(rho, "rho")
        self.beta = _nonneg(beta, "beta")

    def penalty(self, h):
        """``sum_j KL(rho || rho_hat_j)`` for a batch of codes ``h`` (a scalar, nats)."""
        rho_hat = ops.clip(ops.mean(h, axis=0), 1e-7, 1.0 - 1e-7)
        rho = self.rho
        return ops.sum(rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat)))

    def call(self, h):
        if self.beta > 0:
            self.add_loss(self.beta * self.penalty(h))
        return h

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "beta": self.beta}


def dense_autoencoder(input_dim: int = 784, latent_dim: int = 32, *, hidden_units=(), activation: str = "relu",
                      code_activation: str | None = None, output_activation: str = "sigmoid",
                      code_regularizer=None, kl_sparsity: tuple | None = None, unit_norm_decoder: bool = False,
                      name: str = "autoencoder"):
    """A dense autoencoder ``input -> hidden... -> code -> hidden... -> reconstruction``.

    With the defaults it is the classic assignment's ``Input(784) -> Dense(32, relu)
    -> Dense(784, sigmoid)`` (the Keras blog's "Building Autoencoders in Keras",
    F. Chollet, 2016); ``hidden_units=(128, 64)`` gives ``784-128-64-32-64-128-784``
    (mirrored). With ``activation="linear", output_activation="linear"`` it is the
    linear autoencoder ``input -> Dense(latent_dim) -> Dense(input_dim)``, with
    biases: trained with the squared error, its decoder spans the same subspace
    as the top ``latent_dim`` principal components (Bourlard & Kamp, Biol.
    Cybern. 59, 1988; Baldi & Hornik, Neural Networks 2, 1989); the biases let it
    centre the data as PCA does.

    Args:
        input_dim: size of the flat input, e.g. 784.
        latent_dim: size of the code (undercomplete when below ``input_dim``,
            overcomplete when above).
        hidden_units: widths of the encoder's hidden layers (the decoder mirrors them).
        activation: activation of the hidden layers (``"linear"`` for a linear autoencoder).
        code_activation: activation of the code layer; default ``activation``.
        output_activation: ``"sigmoid"`` for pixels in [0, 1], ``"linear"`` for PCA-like models.
        code_regularizer: a Keras regularizer for the code layer's activity, e.g.
            ``keras.regularizers.L1(1e-4)`` (Keras adds it per example).
        kl_sparsity: ``(rho, beta)`` to add a :class:`KLSparsity` layer after the
            code (use a sigmoid code).
        unit_norm_decoder: constrain each code unit's decoder filter (a row of the
            first decoder kernel) to unit length. Without it an activity penalty
            can be dodged by shrinking the code and growing the decoder weights.
        name: the autoencoder's name.

    Returns:
        ``(autoencoder, encoder, decoder)``, uncompiled: ``encoder`` maps
        ``(batch, input_dim)`` to the code ``(batch, latent_dim)`` (layer
        ``"code"``; with ``kl_sparsity`` the penalty layer ``"kl_sparsity"``
        follows it), ``decoder`` maps it back (last layer ``"reconstruction"``),
        and ``autoencoder = decoder(encoder(x))``, which holds the other two as
        its layers named ``"encoder"`` and ``"decoder"`` (they share their layers,
        so training the autoencoder trains both).

    Raises:
        TypeError / ValueError: non-positive or non-int sizes (booleans included),
            ``hidden_units`` not a tuple of ints, a bad ``kl_sparsity``.
    """
    layers = keras.layers
    input_dim = _validate.positive_int(input_dim, "input_dim")
    latent_dim = _validate.positive_int(latent_dim, "latent_dim")
    hidden_units = _validate.sizes(hidden_units, "hidden_units")
    if kl_sparsity is not None and (not isinstance(kl_sparsity, (tuple, list)) or len(kl_sparsity) != 2):
        raise ValueError(f"kl_sparsity must be a pair (rho, beta); got {kl_sparsity!r}.")

    x_in = keras.Input(shape=(input_dim,), name="image")
    h = x_in
    for i, units in enumerate(hidden_units):
        h = layers.Dense(units, activation=activation, name=f"encoder_hidden_{i + 1}")(h)
    code = layers.Dense(latent_dim, activation=code_activation or activation,
                        activity_regularizer=code_regularizer, name="code")(h)
    if kl_sparsity is not None:
        code = KLSparsity(*kl_sparsity, name="kl_sparsity")(code)
    encoder = keras.Model(x_in, code, name="encoder")

    z_in = keras.Input(shape=(latent_dim,), name="code_input")
    h = z_in
    constraint = keras.constraints.UnitNorm(axis=1) if unit_norm_decoder else None
    for i, units in enumerate(reversed(hidden_units)):
        h = layers.Dense(units, activation=activation, kernel_constraint=constraint if i == 0 else None,
                         name=f"decoder_hidden_{i + 1}")(h)
    x_out = layers.Dense(input_dim, activation=output_activation,
                         kernel_constraint=constraint if not hidden_units else None, name="reconstruction")(h)
    decoder = keras.Model(z_in, x_out, name="decoder")

    ae_in = keras.Input(shape=(input_dim,), name="image")
    autoencoder = keras.Model(ae_in, decoder(encoder(ae_in)), name=name)
    return autoencoder, encoder, decoder


def fit_autoencoder(autoencoder, x_train, *, epochs: int, loss: str = "mse", batch_size: int = 128,
                    learning_rate: float = 1e-3, cosine: bool = True, validation_data=None, verbose="auto"):
    """Compile ``autoencoder`` (Adam) and fit it to copy ``x_train``.

    With ``cosine=True`` (the default) the learning rate falls from
    ``learning_rate`` to 0 over the run (Loshchilov & Hutter, ICLR 2017), which
    lets a linear autoencoder settle into PCA's subspace instead of jittering
    around it. ``cosine=False`` keeps it constant: lab 01's recipe (Adam at
    1e-3, ``"binary_crossentropy"``, batch 256, after
    ``keras.utils.set_random_seed`` and :func:`dense_autoencoder`), which lab 02
    repeats when lab 01's model is not cached. See :func:`labutils.training.fit_adam`.

    Args:
        autoencoder: a Keras model mapping ``(n, d)`` to ``(n, d)``.
        x_train: ``(n, d)`` float32 in [0, 1]; input and target.
        epochs: positive int (at most 100,000).
        loss: Keras loss name, ``"mse"`` or ``"binary_crossentropy"`` (per pixel).
        batch_size: minibatch size (capped at ``n``).
        learning_rate: Adam's initial learning rate, a positive finite number
            (with ``cosine=False`` also a Keras schedule).
        cosine: decay the learning rate to 0 along a cosine over the run.
        validation_data: optional ``(n_val, d)`` array in [0, 1], watched only.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The Keras ``History``.

    Raises:
        ValueError: ``x_train`` not flat ``(n, d)`` in [0, 1] (NaN, inf included), or
            its width differs from the model's input; ``validation_data`` likewise;
            a learning rate that is 0, negative, NaN or inf; non-positive sizes.
        TypeError: ``autoencoder`` not a Keras model, non-int epochs, complex or
            object arrays, a non-bool ``cosine``.
    """
    if not isinstance(autoencoder, keras.Model):
        raise TypeError(f"autoencoder must be a keras.Model; got {type(autoencoder).__name__}.")
    if not isinstance(cosine, bool):
        raise TypeError(f"cosine must be True or False; got {cosine!r}.")
    x = _validate.unit_interval(x_train, "x_train")
    if x.ndim != 2 or x.shape[1] != autoencoder.input.shape[-1]:
        raise ValueError(f"x_train must be (n, {autoencoder.input.shape[-1]}); got shape {x.shape}.")
    epochs = _validate.bounded_int(epochs, "epochs", _validate.MAX_EPOCHS)
    batch_size = min(_validate.positive_int(batch_size, "batch_size"), len(x))
    learning_rate = _validate.learning_rate(learning_rate, allow_schedule=not cosine)
    val = None
    if validation_data is not None:
        v = _validate.unit_interval(validation_data, "validation_data")
        if v.ndim != 2 or v.shape[1] != x.shape[1]:
            raise ValueError(f"validation_data must be (n_val, {x.shape[1]}) like x_train; got shape {v.shape}.")
        val = (v, v)
    return training.fit_adam(autoencoder, x, x, loss=loss, epochs=epochs, batch_size=batch_size,
                             learning_rate=learning_rate, cosine=cosine, validation_data=val, verbose=verbose)


def contractive_penalty(code, kernel):
    """Squared Frobenius norm of a sigmoid encoder's Jacobian, per example, in closed form.

    For ``h = sigmoid(x W + b)`` with ``W`` of shape ``(input_dim, units)``
    (Keras' kernel layout), ``dh_j/dx_i = h_j (1 - h_j) W_ij``, so (Rifai et al.
    2011, eq. 5)::

        ||J_f(x)||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ij^2

    Args:
        code: ``(batch, units)`` sigmoid activations ``h`` (tensor or array).
        kernel: ``(input_dim, units)`` encoder kernel ``W``.

    Returns:
        ``(batch,)`` tensor of squared norms.

    Raises:
        ValueError: ``code``'s width differs from ``kernel``'s number of units.
        TypeError: NumPy (or list) inputs that are complex, object or non-numeric.
    """
    if isinstance(code, (np.ndarray, list, tuple)):
        code = _validate.as_array(code, "code").astype(np.float32)
    if isinstance(kernel, (np.ndarray, list, tuple)):
        kernel = _validate.as_array(kernel, "kernel").astype(np.float32)
    if code.shape[-1] is not None and kernel.shape[-1] != code.shape[-1]:
        raise ValueError(f"code has {code.shape[-1]} units but kernel {tuple(kernel.shape)} has {kernel.shape[-1]}.")
    code = ops.convert_to_tensor(code)
    kernel = ops.cast(ops.convert_to_tensor(kernel), code.dtype)
    w2 = ops.sum(ops.square(kernel), axis=0)
    return ops.sum(ops.square(code * (1.0 - code)) * w2, axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ContractiveAutoencoder(backends.Model):
    """Contractive autoencoder with a one-layer sigmoid encoder (Rifai et al., ICML 2011).

    Loss per batch::

        loss = reconstruction + lam * mean_x ||J_f(x)||_F^2

    with ``reconstruction`` the Keras loss named by ``reconstruction_loss`` (per
    pixel) and the Jacobian penalty from :func:`contractive_penalty` (per
    image). ``fit`` logs ``loss``, ``reconstruction`` and ``contraction`` (the
    mean squared Frobenius norm, without ``lam``).

    Args:
        encoder: a Keras model whose last layer is a ``Dense`` with sigmoid
            activation applied directly to the input (``x -> sigmoid(xW + b)``).
        decoder: maps the code back to ``(batch, input_dim)``.
        lam: weight ``lambda`` of the penalty, >= 0 (0 is a plain autoencoder).
        reconstruction_loss: ``"mse"`` or ``"binary_crossentropy"``.

    Calling the model returns the reconstruction ``(batch, input_dim)``.

    Raises:
        TypeError: encoder/decoder not Keras models. ValueError: an encoder that
            is not one sigmoid ``Dense`` layer, mismatched sizes, a negative ``lam``
            or an unknown loss.
    """

    LOSSES = ("mse", "binary_crossentropy")

    def __init__(self, encoder, decoder, lam: float = 0.1, reconstruction_loss: str = "mse", **kwargs):
        super().__init__(**kwargs)
        for name, m in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{name} must be a keras.Model; got {type(m).__name__}.")
        dense = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Dense)]
        if len(dense) != 1 or keras.activations.serialize(dense[0].activation) != "sigmoid":
            raise ValueError("the closed-form penalty needs a one-layer sigmoid encoder x -> sigmoid(xW + b); "
                             f"got Dense layers {[d.name for d in dense]}.")
        if encoder.output.shape[-1] != decoder.input.shape[-1]:
            raise ValueError(f"encoder's code size {encoder.output.shape[-1]} differs from the decoder's input "
                             f"size {decoder.input.shape[-1]}.")
        if reconstruction_loss not in self.LOSSES:
            raise ValueError(f"reconstruction_loss must be one of {self.LOSSES}; got {reconstruction_loss!r}.")
        self.encoder = encoder
        self.decoder = decoder
        self.code_layer = dense[0]
        self.lam = _nonneg(lam, "lam")
        self.reconstruction_loss = reconstruction_loss
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.contraction_tracker = keras.metrics.Mean(name="contraction")
        self.built = True  # encoder and decoder are built functional models

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.contraction_tracker]

    def call(self, x, training=False):
        return self.decoder(self.encoder(x, training=training), training=training)

    def loss_terms(self, x, training=False):
        """``(loss, reconstruction, contraction)`` for a batch ``x`` (scalars)."""
        code = self.encoder(x, training=training)
        x_hat = self.decoder(code, training=training)
        if self.reconstruction_loss == "mse":
            reconstruction = ops.mean(ops.square(x - x_hat))
        else:
            reconstruction = ops.mean(ops.binary_crossentropy(x, x_hat))
        contraction = ops.mean(contractive_penalty(code, self.code_layer.kernel))
        return reconstruction + self.lam * contraction, reconstruction, contraction

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss, (reconstruction, contraction), grads = backends.value_and_grad(
            lambda: self._loss_and_terms(x, training=True), self.trainable_variables, watch=self.variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._track(loss, reconstruction, contraction)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._track(*self.loss_terms(x))

    def _loss_and_terms(self, x, training):
        loss, reconstruction, contraction = self.loss_terms(x, training=training)
        return loss, (reconstruction, contraction)

    def _track(self, loss, reconstruction, contraction):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.contraction_tracker.update_state(contraction)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "lam": self.lam,
            "reconstruction_loss": self.reconstruction_loss,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def build_contractive_autoencoder(input_dim: int = 784, latent_dim: int = 128, *, lam: float = 0.1,
                                  reconstruction_loss: str = "mse", learning_rate: float = 1e-3,
                                  compile: bool = True):
    """``input -> Dense(latent_dim, sigmoid) -> Dense(input_dim, sigmoid)`` as a :class:`ContractiveAutoencoder`.

    ``lam=0`` gives the plain autoencoder with the same architecture (the
    comparison of the lab). Compiled with Adam(``learning_rate``) unless
    ``compile=False``.

    Returns:
        The model; ``model.encoder`` and ``model.decoder`` are its two halves.

    Raises:
        TypeError / ValueError: bad sizes, a negative ``lam``, an unknown loss, a
            learning rate that is 0, negative, NaN or inf (or not a number).
    """
    if compile:
        learning_rate = _validate.learning_rate(learning_rate, allow_schedule=True)
    _, encoder, decoder = dense_autoencoder(input_dim, latent_dim, activation="sigmoid",
                                            output_activation="sigmoid")
    model = ContractiveAutoencoder(encoder, decoder, lam=lam, reconstruction_loss=reconstruction_loss,
                                   name="contractive_autoencoder")
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


def _encoder_and_images(encoder, x):
    if not isinstance(encoder, keras.Model):
        raise TypeError(f"encoder must be a keras.Model; got {type(encoder).__name__}.")
    x = _validate.as_array(x, "x").astype(np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != encoder.input.shape[-1]:
        hint = " (a single example? use x[None])" if x.ndim == 1 else ""
        raise ValueError(f"x must be (n, {encoder.input.shape[-1]}) with n >= 1; got shape {x.shape}{hint}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf; expected finite inputs.")
    return x


def encoder_jacobian_norm(encoder, x, batch_size: int = 250) -> np.ndarray:
    """``||J_f(x)||_F^2`` of any encoder for each input, by automatic differentiation.

    Uses the backend's automatic differentiation (:func:`labutils.backends.jacobian_squared_norm`:
    ``tf.GradientTape.batch_jacobian``, ``jax.jacrev`` or one ``torch.autograd.grad``
    per code unit), a batch at a time; keep ``batch_size * units * input_dim`` moderate.

    Args:
        encoder: a Keras model ``(n, d) -> (n, units)``.
        x: ``(n, d)`` inputs (any finite reals).
        batch_size: examples per Jacobian.

    Returns:
        ``float64`` ``(n,)`` squared Frobenius norms.

    Raises:
        TypeError: not a Keras model. ValueError: ``x`` not ``(n, d)`` or not finite.
    """
    x = _encoder_and_images(encoder, x)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    out = [backends.jacobian_squared_norm(lambda xb: encoder(xb, training=False), x[start:start + batch_size])
           for start in range(0, len(x), batch_size)]
    return np.concatenate(out).astype(np.float64)


def code_sensitivity(encoder, x, sigma: float = 0.01, seed: int = 0) -> float:
    """Mean ``||f(x + eps) - f(x)|| / ||eps||`` for Gaussian ``eps ~ N(0, sigma^2 I)``.

    A finite-difference view of the Jacobian: for small ``sigma`` it tends to
    ``||J_f(x)||_F / sqrt(d)`` on average. See :func:`sensitivity_ratio`.

    Args:
        encoder: a Keras model ``(n, d) -> (n, units)``.
        x: ``(n, d)`` inputs.
        sigma: noise standard deviation (> 0), in pixel units ([0, 1] scale).
        seed: NumPy seed of the noise (an int from 0 to 2**32 - 1).

    Returns:
        The mean ratio (a float, code units per pixel unit).

    Raises:
        TypeError / ValueError: as :func:`encoder_jacobian_norm`, ``sigma`` not a
            positive finite number, a bad ``seed``.
    """
    x = _encoder_and_images(encoder, x)
    sigma = _validate.number(sigma, "sigma", positive=True)
    seed = _validate.seed(seed)
    eps = (np.random.default_rng(seed).standard_normal(x.shape) * sigma).astype(np.float32)
    codes = np.asarray(encoder.predict(x, verbose=0))
    moved = np.asarray(encoder.predict(x + eps, verbose=0))
    return sensitivity_ratio(codes, moved, eps)


def logistic_probe(train_features, y_train, test_features, y_test, *, max_iter: int = 1000, C: float = 1.0):
    """Test accuracy of scikit-learn's ``LogisticRegression`` on features (codes or pixels).

    The features are standardised (``StandardScaler``, fitted on the training
    features) so that codes of different scales are compared fairly and L-BFGS
    converges; the classifier is multinomial with an L2 penalty of strength ``1/C``.

    Args:
        train_features: ``(n, k)`` real features; test_features: ``(m, k)``.
        y_train: ``(n,)`` integer labels; y_test: ``(m,)``.
        max_iter: L-BFGS iteration budget (at most 100,000).
        C: inverse regularisation strength, a positive finite number.

    Returns:
        ``{"accuracy": float in [0, 1], "converged": bool, "n_iter": int}``:
        ``converged`` is False when L-BFGS stopped at ``max_iter``.

    Raises:
        ValueError: shapes that do not match, non-integer labels, non-finite
            features, ``max_iter`` not in [1, 100,000], ``C`` not positive and finite.
        TypeError: complex or object features, ``max_iter``/``C`` of the wrong type.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    arrays = []
    for feats, labels, name in ((train_features, y_train, "train"), (test_features, y_test, "test")):
        f = _validate.as_array(feats, f"{name}_features").astype(np.float64)
        y = _validate.as_array(labels, f"y_{name}")
        if f.ndim != 2 or f.shape[0] == 0:
            raise ValueError(f"{name}_features must be (n, k) with n >= 1; got shape {f.shape}.")
        if not np.all(np.isfinite(f)):
            raise ValueError(f"{name}_features contains NaN or inf.")
        if y.shape != (f.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y_{name} must be ({f.shape[0]},) integer labels; got shape {y.shape}, dtype {y.dtype}.")
        arrays.append((f, y))
    (ftr, ytr), (fte, yte) = arrays
    if ftr.shape[1] != fte.shape[1]:
        raise ValueError(f"train features have {ftr.shape[1]} columns, test features {fte.shape[1]}.")
    max_iter = _validate.bounded_int(max_iter, "max_iter", _validate.MAX_ITER)
    C = _validate.number(C, "C", positive=True)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, C=C))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(ftr, ytr)
    n_iter = int(np.max(clf[-1].n_iter_))
    return {"accuracy": float(np.mean(clf.predict(fte) == yte)), "converged": n_iter < max_iter, "n_iter": n_iter}


def _real_pair(x, x_hat, names=("x", "x_hat")):
    a, b = names
    x = _validate.as_array(x, a).astype(np.float64)
    x_hat = _validate.as_array(x_hat, b).astype(np.float64)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{a} must be a batch (n, ...) with n >= 1; got shape {x.shape}.")
    if x.shape != x_hat.shape:
        raise ValueError(f"{a} {x.shape} and {b} {x_hat.shape} must have the same shape.")
    for name, arr in ((a, x), (b, x_hat)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf; expected finite numbers.")
    return x.reshape(x.shape[0], -1), x_hat.reshape(x.shape[0], -1)


def reconstruction_mse(x, x_hat) -> float:
    """Mean squared error per pixel for reconstructions that may leave [0, 1].

    Unlike :func:`labutils.metrics.mse` it accepts any finite reals, as linear autoencoders and
    PCA produce (their output is not clipped, so the error is the one they minimise).

    Args:
        x: ``(n, ...)`` targets; x_hat: the same shape.

    Returns:
        ``mean((x - x_hat)^2)`` over images and pixels (float).

    Raises:
        ValueError: shapes differ, not a batch, NaN or inf. TypeError: non-numeric input.
    """
    x, x_hat = _real_pair(x, x_hat)
    return float(np.mean((x - x_hat) ** 2))


def fraction_of_variance_unexplained(x, x_hat) -> float:
    """``sum ||x - x_hat||^2 / sum ||x - mean(x)||^2``: 0 for a perfect copy, 1 for predicting the mean.

    The mean is the per-pixel mean of ``x`` over the batch. Above 1 the
    reconstruction is worse than the constant mean image.

    Raises:
        ValueError: as :func:`reconstruction_mse`, or ``x`` without variance.
    """
    x, x_hat = _real_pair(x, x_hat)
    total = np.sum((x - x.mean(axis=0)) ** 2)
    if total == 0:
        raise ValueError("x has no variance (all images equal); the fraction is undefined.")
    return float(np.sum((x - x_hat) ** 2) / total)


def principal_angles(a, b) -> np.ndarray:
    """Principal angles between the row spaces of ``a`` and ``b``, in degrees, largest first.

    Wraps ``scipy.linalg.subspace_angles`` (Bjorck & Golub, Math. Comp. 27,
    1973). Use the rows of a decoder kernel ``(k, d)`` and PCA's
    ``components_`` ``(k, d)``: all angles 0 means the same subspace, whatever
    the basis.

    Args:
        a: ``(k1, d)``, b: ``(k2, d)`` real matrices of full row rank.

    Returns:
        ``float64`` ``(min(k1, k2),)`` angles in [0, 90] degrees, descending.

    Raises:
        ValueError: not 2-D, different ``d``, or not finite. TypeError: non-numeric.
    """
    from scipy.linalg import subspace_angles

    mats = []
    for m, name in ((a, "a"), (b, "b")):
        m = _validate.as_array(m, name).astype(np.float64)
        if m.ndim != 2 or m.shape[0] == 0:
            raise ValueError(f"{name} must be a (k, d) matrix whose rows span the subspace; got shape {m.shape}.")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{name} contains NaN or inf.")
        mats.append(m)
    if mats[0].shape[1] != mats[1].shape[1]:
        raise ValueError(f"a has rows of length {mats[0].shape[1]}, b of length {mats[1].shape[1]}.")
    return np.degrees(subspace_angles(mats[0].T, mats[1].T))


def kl_sparsity(rho, rho_hat) -> float:
    """``sum_j KL(rho || rho_hat_j)`` for Bernoulli means, in nats (Ng, CS294A notes, section 2.4).

    Args:
        rho: target mean activation in (0, 1).
        rho_hat: ``(units,)`` mean activations, each in (0, 1).

    Returns:
        The sum (float, >= 0; 0 exactly when every ``rho_hat_j == rho``).

    Raises:
        ValueError: ``rho`` or any ``rho_hat_j`` outside the open interval (0, 1).
    """
    rho = _validate.probability(rho, "rho")
    r = _validate.as_array(rho_hat, "rho_hat").astype(np.float64).ravel()
    if not 0.0 < rho < 1.0:
        raise ValueError(f"rho must lie strictly between 0 and 1; got {rho}.")
    if r.size == 0 or not np.all((r > 0) & (r < 1)):
        raise ValueError("rho_hat must be non-empty with every value strictly between 0 and 1.")
    return float(np.sum(rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))))


def activation_stats(codes, rel_tol: float = 0.05):
    """Mean activation per code unit and the share of near-zero activations.

    An activation ``h_ij`` counts as near zero when ``|h_ij| <= rel_tol *
    max_i |h_ij|``, relative to its unit's largest activation on these inputs,
    so that a code cannot look sparse merely by being small (the decoder can
    undo any scale). A unit that never fires counts as zero everywhere.

    Args:
        codes: ``(n, units)`` activations.
        rel_tol: the threshold as a fraction of each unit's maximum, in [0, 1).

    Returns:
        ``(mean_per_unit, share_near_zero)``: ``float64 (units,)`` and a float in [0, 1].

    Raises:
        ValueError: not ``(n, units)``, NaN or inf, ``rel_tol`` outside [0, 1).
    """
    h = _validate.as_array(codes, "codes").astype(np.float64)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"codes must be (n, units) with n >= 1; got shape {h.shape}.")
    if not np.all(np.isfinite(h)):
        raise ValueError("codes contain NaN or inf.")
    rel_tol = _validate.probability(rel_tol, "rel_tol", allow_one=False)
    peak = np.abs(h).max(axis=0)
    near_zero = np.abs(h) <= rel_tol * peak
    return h.mean(axis=0), float(near_zero.mean())


def sensitivity_ratio(codes, codes_perturbed, noise) -> float:
    """Mean ``||f(x + eps) - f(x)|| / ||eps||`` over examples (code change per input change).

    Args:
        codes: ``(n, k)`` codes ``f(x)``; codes_perturbed: ``(n, k)`` codes ``f(x + eps)``.
        noise: ``(n, d)`` the perturbations ``eps`` (no row may be all zero).

    Returns:
        The mean ratio (float >= 0).

    Raises:
        ValueError: shapes that disagree, a zero perturbation, NaN or inf.
    """
    c, cp = _real_pair(codes, codes_perturbed, ("codes", "codes_perturbed"))
    e = _validate.as_array(noise, "noise").astype(np.float64)
    if e.ndim != 2 or e.shape[0] != c.shape[0]:
        raise ValueError(f"noise must be (n, d) with n = {c.shape[0]}; got shape {e.shape}.")
    norms = np.linalg.norm(e, axis=1)
    if not np.all(np.isfinite(e)) or np.any(norms == 0):
        raise ValueError("noise: every perturbation must be finite and non-zero.")
    return float(np.mean(np.linalg.norm(cp - c, axis=1) / norms))


def reconstruction_figure(originals, codes, reconstructions, *, code_shape=(8, 4), n: int = 10,
                          title: str | None = "original, code and reconstruction") -> Figure:
    """The assignment's figure: original, code (as a small image), reconstruction.

    Args:
        originals: ``(m, 784)`` or ``(m, 28, 28[, 1])`` float in [0, 1].
        codes: ``(m, prod(code_shape))``, e.g. ``(m, 32)`` shown as 8x4 images;
            any real values (shown on their own grey scale, shared by all codes).
        reconstructions: like ``originals``.
        code_shape: ``(rows, cols)`` to display each code as; its product must
            equal the code size.
        n: how many of the first examples to show (``n <= m``).
        title: the figure's title (``None``: none).

    Returns:
        A ``Figure`` with three rows of ``n`` images.

    Raises:
        ValueError: mismatched batch sizes, pixels outside [0, 1] (NaN, inf
            included), NaN or inf codes, a code size that does not match
            ``code_shape`` (two positive ints), or ``n`` larger than the batch.
        TypeError: complex or object arrays; non-int ``n`` or ``code_shape`` entries.
    """
    x = _validate.unit_interval(_validate.images(originals, "originals"), "originals")
    r = _validate.unit_interval(_validate.images(reconstructions, "reconstructions"), "reconstructions")
    c = _validate.finite_array(codes, "codes", np.float32)
    n = _validate.positive_int(n, "n")
    if not isinstance(code_shape, (tuple, list)) or len(code_shape) != 2:
        raise ValueError(f"code_shape must be (rows, cols), two positive ints; got {code_shape!r}.")
    code_shape = _validate.sizes(code_shape, "code_shape")
    if c.ndim != 2:
        raise ValueError(f"codes must be (n, code_size); got shape {c.shape}.")
    if not (x.shape[0] == c.shape[0] == r.shape[0]):
        raise ValueError(f"batch sizes differ: originals {x.shape[0]}, codes {c.shape[0]}, reconstructions {r.shape[0]}.")
    if x.shape != r.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {r.shape} must have the same image shape.")
    if int(np.prod(code_shape)) != c.shape[1]:
        raise ValueError(f"code_shape {tuple(code_shape)} holds {int(np.prod(code_shape))} values; the codes have {c.shape[1]}.")
    if n > x.shape[0]:
        raise ValueError(f"n={n} but only {x.shape[0]} examples were given.")
    fig = Figure(figsize=(n * 1.1 + 1.4, 3 * 1.15 + 0.5))
    axes = fig.subplots(3, n, squeeze=False)
    cmin, cmax = float(c[:n].min()), float(c[:n].max())
    if cmax <= cmin:
        cmax = cmin + 1.0
    rows = [(x, (0, 1), "original"), (c.reshape((-1, *code_shape)), (cmin, cmax), f"code ({code_shape[0]}x{code_shape[1]})"),
            (r, (0, 1), "reconstruction")]
    for row, (batch, (lo, hi), label) in enumerate(rows):
        for i in range(n):
            ax = axes[row, i]
            ax.imshow(batch[i], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def filter_grid(weights, n: int = 64, ncols: int = 16, *, axis: int = 0, suptitle: str | None = None,
                cell_size: float = 0.7) -> Figure:
    """Learned filters (weight vectors of code units) as images, each on its own grey scale.

    Each filter is scaled to [0, 1] by its own min and max, so weak and strong
    filters are equally visible (a dead unit's constant filter is drawn grey).

    Args:
        weights: a 2-D weight matrix holding one filter of ``side*side`` values per
            code unit: an encoder kernel ``(784, units)`` (filters are columns,
            ``axis=0``) or a decoder kernel ``(units, 784)`` (filters are rows, ``axis=1``).
        n: how many filters to draw (the first ``n``; at most the number of units).
        ncols: filters per row.
        axis: the axis of ``weights`` that runs over pixels (0 or 1).
        suptitle: optional title.
        cell_size: inches per filter.

    Returns:
        The ``Figure``.

    Raises:
        ValueError: not 2-D, NaN or inf, ``axis`` not 0/1, a pixel count that is
            not a square, or ``n`` larger than the number of filters.
        TypeError: non-numeric, complex or object weights.
    """
    w = _validate.finite_array(weights, "weights")
    if w.ndim != 2:
        raise ValueError(f"weights must be a 2-D kernel; got shape {w.shape}.")
    if axis not in (0, 1) or isinstance(axis, bool):
        raise ValueError(f"axis must be 0 or 1 (the axis that runs over pixels); got {axis!r}.")
    filters = w.T if axis == 0 else w
    n = _validate.positive_int(n, "n")
    if n > filters.shape[0]:
        raise ValueError(f"n={n} but the kernel holds only {filters.shape[0]} filters.")
    filters = _validate.images(filters[:n], "weights")  # (n, side, side); checks the square pixel count
    lo = filters.min(axis=(1, 2), keepdims=True)
    span = filters.max(axis=(1, 2), keepdims=True) - lo
    scaled = np.where(span > 0, (filters - lo) / np.where(span > 0, span, 1.0), 0.5)
    return image_grid(scaled.astype(np.float32), ncols=ncols, cell_size=cell_size, suptitle=suptitle)


def image_rows(rows: dict, n: int = 10, *, cell_size: float = 1.0, suptitle: str | None = None) -> Figure:
    """Several batches of the same images, one row each: e.g. clean / noisy / median / denoised.

    Args:
        rows: ``{row label: images}``; each batch ``(m, 784)``, ``(m, 28, 28)`` or
            ``(m, 28, 28, 1)`` float in [0, 1], all of the same image shape, with
            at least ``n`` images (row ``r``'s image ``i`` belongs to column ``i``).
        n: images per row (the first ``n`` of every batch).
        cell_size: inches per image.
        suptitle: optional title.

    Returns:
        The ``Figure``: ``len(rows)`` rows of ``n`` images, labelled on the left.

    Raises:
        TypeError: ``rows`` not a dict, or a non-int ``n``.
        ValueError: no rows, a batch with fewer than ``n`` images, batches of
            different image shapes, values outside [0, 1] (NaN, inf included).
    """
    if not isinstance(rows, dict):
        raise TypeError(f"rows must be a dict {{label: images}}; got {type(rows).__name__}.")
    if not rows:
        raise ValueError("rows is empty; give at least one {label: images}.")
    n = _validate.positive_int(n, "n")
    batches = []
    for label, imgs in rows.items():
        batch = _validate.unit_interval(_as_image_batch(imgs, f"rows[{label!r}]"), f"rows[{label!r}]")
        if batch.shape[0] < n:
            raise ValueError(f"rows[{label!r}] holds {batch.shape[0]} images; n={n} are needed.")
        if batches and batch.shape[1:] != batches[0].shape[1:]:
            raise ValueError(f"rows[{label!r}] has images of shape {batch.shape[1:]}, the first row "
                             f"{batches[0].shape[1:]}.")
        batches.append(batch[:n])
    return image_grid(np.concatenate(batches), ncols=n, row_titles=[str(k) for k in rows],
                      cell_size=cell_size, suptitle=suptitle)


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


#: The corruptions :func:`corrupt` knows, with the meaning of their ``level``.
NOISE_KINDS = {
    "gaussian": "noise factor: standard deviation of N(0, 1) noise added before clipping to [0, 1]",
    "masking": "fraction of pixels set to 0",
}


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
            :func:`dense_autoencoder`.

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
        :func:`dense_autoencoder`), its encoder
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
        inputs = keras.ops.convert_to_numpy(enc(inputs))
        if val_inputs is not None:
            val_inputs = keras.ops.convert_to_numpy(enc(val_inputs))
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
