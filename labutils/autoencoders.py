"""Autoencoders of labs 03-04: undercomplete (linear and nonlinear), sparse and contractive.

* :func:`build_autoencoder` - a dense autoencoder with the knobs these labs turn:
  linear or nonlinear layers, the code's activation, an activity penalty on the
  code (L1 as a Keras regularizer, or the KL sparsity layer) and unit-norm
  decoder filters.
* :class:`KLSparsity` - the KL-divergence sparsity penalty towards a target mean
  activation ``rho`` (A. Ng, "Sparse autoencoder", CS294A lecture notes, 2011,
  section 2.4), a registered layer that adds its loss with ``add_loss``.
* :class:`ContractiveAutoencoder` - the contractive autoencoder (Rifai, Vincent,
  Muller, Glorot & Bengio, "Contractive auto-encoders: explicit invariance
  during feature extraction", ICML 2011, eq. 4 and 5) with its own ``train_step``.
* :func:`encoder_jacobian_norm`, :func:`code_sensitivity` and
  :func:`logistic_probe` measure the codes.

Conventions: images are flat ``(batch, 784)`` ``float32`` in [0, 1]. Every loss
is per pixel as Keras reports ``"mse"``/``"binary_crossentropy"`` (averaged
over the 784 pixels and the batch); the code penalties are per image (summed
over code units, averaged over the batch), so their weights are quoted
relative to a per-pixel reconstruction loss.

Like :mod:`labutils.vae`, this module imports Keras when imported: its layers
and models are registered serializable classes, so that saved ``.keras`` files
load with ``safe_mode=True``.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from . import _validate, metrics

__all__ = [
    "KLSparsity",
    "ContractiveAutoencoder",
    "build_autoencoder",
    "linear_autoencoder",
    "fit_autoencoder",
    "build_contractive_autoencoder",
    "contractive_penalty",
    "encoder_jacobian_norm",
    "code_sensitivity",
    "logistic_probe",
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


def build_autoencoder(input_dim: int = 784, latent_dim: int = 32, *, hidden_units=(), activation: str = "relu",
                      code_activation: str | None = None, output_activation: str = "sigmoid",
                      code_regularizer=None, kl_sparsity: tuple | None = None, unit_norm_decoder: bool = False,
                      name: str = "autoencoder"):
    """A dense autoencoder ``input -> hidden... -> code -> hidden... -> reconstruction``.

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
        and ``autoencoder = decoder(encoder(x))``.

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


def linear_autoencoder(input_dim: int = 784, latent_dim: int = 32):
    """``input -> Dense(latent_dim) -> Dense(input_dim)``: no activations, with biases.

    Trained with the squared error, its decoder spans the same subspace as the
    top ``latent_dim`` principal components (Bourlard & Kamp, Biol. Cybern. 59,
    1988; Baldi & Hornik, Neural Networks 2, 1989); the biases let it centre the
    data as PCA does. See :func:`build_autoencoder` for the return value and errors.
    """
    return build_autoencoder(input_dim, latent_dim, activation="linear", output_activation="linear",
                             name="linear_autoencoder")


def fit_autoencoder(autoencoder, x_train, *, epochs: int, loss: str = "mse", batch_size: int = 128,
                    learning_rate: float = 1e-3, validation_data=None, verbose="auto"):
    """Compile ``autoencoder`` (Adam with a cosine-decayed learning rate) and fit it to copy ``x_train``.

    The learning rate falls from ``learning_rate`` to 0 over the run (Loshchilov &
    Hutter, ICLR 2017), which lets a linear autoencoder settle into PCA's
    subspace instead of jittering around it.

    Args:
        autoencoder: a Keras model mapping ``(n, d)`` to ``(n, d)``.
        x_train: ``(n, d)`` float32 in [0, 1]; input and target.
        epochs: positive int (at most 100,000).
        loss: Keras loss name, ``"mse"`` or ``"binary_crossentropy"`` (per pixel).
        batch_size: minibatch size (capped at ``n``).
        learning_rate: Adam's initial learning rate, a positive finite number.
        validation_data: optional ``(n_val, d)`` array in [0, 1], watched only.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The Keras ``History``.

    Raises:
        ValueError: ``x_train`` not flat ``(n, d)`` in [0, 1] (NaN, inf included), or
            its width differs from the model's input; ``validation_data`` likewise;
            a learning rate that is 0, negative, NaN or inf; non-positive sizes.
        TypeError: ``autoencoder`` not a Keras model, non-int epochs, complex or
            object arrays.
    """
    if not isinstance(autoencoder, keras.Model):
        raise TypeError(f"autoencoder must be a keras.Model; got {type(autoencoder).__name__}.")
    x = _validate.unit_interval(x_train, "x_train")
    if x.ndim != 2 or x.shape[1] != autoencoder.input.shape[-1]:
        raise ValueError(f"x_train must be (n, {autoencoder.input.shape[-1]}); got shape {x.shape}.")
    epochs = _validate.bounded_int(epochs, "epochs", _validate.MAX_EPOCHS)
    batch_size = min(_validate.positive_int(batch_size, "batch_size"), len(x))
    learning_rate = _validate.learning_rate(learning_rate)
    steps = epochs * -(-len(x) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
    val = None
    if validation_data is not None:
        v = _validate.unit_interval(validation_data, "validation_data")
        if v.ndim != 2 or v.shape[1] != x.shape[1]:
            raise ValueError(f"validation_data must be (n_val, {x.shape[1]}) like x_train; got shape {v.shape}.")
        val = (v, v)
    return autoencoder.fit(x, x, epochs=epochs, batch_size=batch_size, shuffle=True, validation_data=val,
                           verbose=verbose)


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
class ContractiveAutoencoder(keras.Model):
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
        import tensorflow as tf

        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss, reconstruction, contraction = self.loss_terms(x, training=True)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(loss, reconstruction, contraction)

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._track(*self.loss_terms(x))

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
    _, encoder, decoder = build_autoencoder(input_dim, latent_dim, activation="sigmoid",
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

    Uses ``tf.GradientTape.batch_jacobian``: a ``(batch, units, input_dim)``
    Jacobian per batch, so keep ``batch_size * units * input_dim`` moderate.

    Args:
        encoder: a Keras model ``(n, d) -> (n, units)``.
        x: ``(n, d)`` inputs (any finite reals).
        batch_size: examples per Jacobian.

    Returns:
        ``float64`` ``(n,)`` squared Frobenius norms.

    Raises:
        TypeError: not a Keras model. ValueError: ``x`` not ``(n, d)`` or not finite.
    """
    import tensorflow as tf

    x = _encoder_and_images(encoder, x)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    out = []
    for start in range(0, len(x), batch_size):
        xb = tf.convert_to_tensor(x[start:start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            h = encoder(xb, training=False)
        jac = tape.batch_jacobian(h, xb)
        out.append(tf.reduce_sum(tf.square(jac), axis=[1, 2]).numpy())
    return np.concatenate(out).astype(np.float64)


def code_sensitivity(encoder, x, sigma: float = 0.01, seed: int = 0) -> float:
    """Mean ``||f(x + eps) - f(x)|| / ||eps||`` for Gaussian ``eps ~ N(0, sigma^2 I)``.

    A finite-difference view of the Jacobian: for small ``sigma`` it tends to
    ``||J_f(x)||_F / sqrt(d)`` on average. See :func:`labutils.metrics.sensitivity_ratio`.

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
    return metrics.sensitivity_ratio(codes, moved, eps)


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
