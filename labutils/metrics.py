"""Measurements that several model families share, computed in NumPy (float64) so they do not depend on a model.

* reconstruction losses: :func:`bce`, :func:`per_image_bce`, :func:`mse`;
* the base-rate model of binary pixels, :func:`base_rate_visible_bias` (the VAE's
  independent-pixel reference and the RBM's AIS start and visible-bias initialisation);
* image quality: :func:`psnr`, :func:`ssim` (and their per-image forms);
* codes as features: :func:`knn_accuracy`;
* samples scored by a judge classifier: :func:`judge_outputs`,
  :func:`feature_statistics`, :func:`frechet_distance`, :func:`class_histogram`,
  :func:`kl_to_uniform`, :func:`classifier_score`.

A family's own measurements live in its module (:mod:`labutils.autoencoders`,
:mod:`labutils.vae`, :mod:`labutils.rbm`).

Units: binary cross-entropy in nats per pixel (natural log, averaged over
pixels and images, as Keras' ``binary_crossentropy`` reports it); mean squared
error per pixel on the [0, 1] scale; PSNR in dB; KL divergences in nats.
"""
from __future__ import annotations

import math

import keras
import numpy as np

from . import _validate

__all__ = ["EPSILON", "bce", "mse", "per_image_bce", "base_rate_visible_bias", "per_image_psnr", "psnr",
           "per_image_ssim", "ssim", "knn_accuracy", "judge_outputs", "feature_statistics", "frechet_distance",
           "class_histogram", "kl_to_uniform", "classifier_score"]

#: Clipping of predictions before the log, the same as Keras' default epsilon.
EPSILON = 1e-7


def _pair(x, x_hat):
    x = _validate.unit_interval(x, "x")
    x_hat = _validate.unit_interval(x_hat, "x_hat")
    # a single flat image (784,) would be read as 784 one-pixel images, a single (28, 28, 1) as 28 images
    _validate.batch(x, "x", "(n, ...)")
    _validate.batch(x_hat, "x_hat", "(n, ...)")
    if x.shape != x_hat.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must have the same shape.")
    return x.reshape(x.shape[0], -1).astype(np.float64), x_hat.reshape(x.shape[0], -1).astype(np.float64)


def per_image_bce(x, x_hat) -> np.ndarray:
    """Binary cross-entropy of each image, averaged over its pixels.

    ``-mean_j [x_j log p_j + (1 - x_j) log(1 - p_j)]`` with ``p`` clipped to
    ``[EPSILON, 1 - EPSILON]``: the Bernoulli negative log-likelihood per
    pixel (for binary x), or the cross-entropy between grey levels (for grey x).

    Args:
        x: targets ``(n, ...)``, float in [0, 1] (a batch: at least two dimensions).
        x_hat: reconstructions of the same shape, float in [0, 1].

    Returns:
        ``float64`` array ``(n,)``, nats per pixel.

    Raises:
        ValueError: shapes differ, an unbatched single image ``(784,)``, values
            outside [0, 1] (e.g. 0-255 pixels), NaN or inf.
        TypeError: complex, object or non-numeric arrays.
    """
    x, p = _pair(x, x_hat)
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).mean(axis=1)


def bce(x, x_hat) -> float:
    """Mean binary cross-entropy over all images and pixels (nats per pixel).

    Keras' ``binary_crossentropy`` on a sigmoid output gives the same value
    (computed here in float64; Keras clips in float32, which differs only for
    predictions of exactly 0 or 1). See :func:`per_image_bce` for the formula;
    raises ValueError like it.
    """
    return float(per_image_bce(x, x_hat).mean())


def mse(x, x_hat) -> float:
    """Mean squared error over all images and pixels (pixels in [0, 1]).

    Raises:
        ValueError: shapes differ, an unbatched single image, values outside
            [0, 1], NaN or inf. TypeError: complex, object or non-numeric arrays.
    """
    x, p = _pair(x, x_hat)
    return float(np.mean((x - p) ** 2))


def base_rate_visible_bias(x, pseudo_count: float = 1.0) -> np.ndarray:
    """Visible biases of the base-rate model: the log-odds of the smoothed pixel means.

    ``p_i = (sum_n x_ni + pseudo_count) / (n + 2 * pseudo_count)`` and
    ``b_i = log(p_i / (1 - p_i))``: the RBM with ``W = 0`` whose visible units
    are independent with the data's pixel means (Salakhutdinov & Murray, ICML
    2008, section 4.1; the smoothing keeps pixels that are always 0 finite).
    AIS starts from it; :meth:`labutils.rbm.RBM.set_visible_bias` uses it to
    initialise visible biases (Hinton's guide, section 8).

    Args:
        x: ``(n, n_visible)`` training images, float in [0, 1] (binary or grey levels).
        pseudo_count: >= 0; 0 gives the raw log-odds (infinite for constant pixels).

    Returns:
        ``float64`` ``(n_visible,)``.

    Raises:
        ValueError: ``x`` outside [0, 1] or not ``(n, n_visible)``; negative
            ``pseudo_count``, or 0 with a pixel that is constant in ``x``.
    """
    arr = _validate.unit_interval(x, "x")
    if arr.ndim != 2:
        raise ValueError(f"x must be (n, n_visible) images; got shape {arr.shape}.")
    if isinstance(pseudo_count, bool) or not isinstance(pseudo_count, (int, float, np.integer, np.floating)):
        raise TypeError(f"pseudo_count must be a number; got {pseudo_count!r}.")
    if not (math.isfinite(pseudo_count) and pseudo_count >= 0):
        raise ValueError(f"pseudo_count must be a finite number >= 0; got {pseudo_count}.")
    p = (arr.astype(np.float64).sum(axis=0) + pseudo_count) / (arr.shape[0] + 2.0 * pseudo_count)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("some pixels are constant in x, so their log-odds are infinite; use pseudo_count > 0.")
    return np.log(p) - np.log1p(-p)




def _image_pair_4d(x, x_hat):
    """Both batches as (n, H, W, 1) float32 in [0, 1], of equal shape."""
    x = _validate.unit_interval(x, "x")
    x_hat = _validate.unit_interval(x_hat, "x_hat")
    a = _validate.images(x, "x")
    b = _validate.images(x_hat, "x_hat")
    if a.shape != b.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must hold the same number of equally sized images.")
    return a[..., None], b[..., None]


def per_image_psnr(x, x_hat) -> np.ndarray:
    """Peak signal-to-noise ratio of each image, ``10 log10(1 / MSE)`` in dB (scikit-image, ``data_range=1``).

    Higher is better; +10 dB means a ten times smaller mean squared error. An
    image reconstructed exactly has MSE 0 and an infinite PSNR.

    Args:
        x: clean images ``(n, 28, 28, 1)``, ``(n, 28, 28)`` or ``(n, 784)``, float in [0, 1].
        x_hat: noisy or denoised images of the same shape, float in [0, 1].

    Returns:
        ``float64`` array ``(n,)`` in dB (``inf`` where ``x_hat == x``).

    Raises:
        ValueError: different shapes, values outside [0, 1] (e.g. 0-255 pixels),
            or not a batch of grey images. TypeError: non-numeric input.
    """
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _image_pair_4d(x, x_hat)
    with np.errstate(divide="ignore"):  # an exact reconstruction has MSE 0: inf dB, as documented
        return np.array([peak_signal_noise_ratio(u[..., 0], v[..., 0], data_range=1.0) for u, v in zip(a, b)],
                        dtype=np.float64)


def psnr(x, x_hat) -> float:
    """Mean PSNR over a batch in dB; see :func:`per_image_psnr` (raises like it).

    Raises:
        ValueError: also when some image is reconstructed exactly (infinite PSNR),
            because a mean over infinities says nothing.
    """
    values = per_image_psnr(x, x_hat)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{int(np.sum(~np.isfinite(values)))} image(s) equal their reference exactly "
                         "(infinite PSNR); the mean PSNR is undefined. Use per_image_psnr.")
    return float(values.mean())


def per_image_ssim(x, x_hat, *, filter_size: int = 11, filter_sigma: float = 1.5) -> np.ndarray:
    """Structural similarity of each image (Gaussian window, data range 1, k1=0.01, k2=0.03).

    Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error
    visibility to structural similarity", IEEE TIP 13 (2004), eq. 13: local
    means, variances and covariance under a normalised Gaussian window of side
    ``filter_size`` and width ``filter_sigma``, averaged over the valid
    positions (18 x 18 of them for 28 x 28 images and the default 11 x 11
    window), with population (not sample) covariances. Computed with SciPy's
    separable filters on the whole batch; the same numbers as
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    use_sample_covariance=False, data_range=1)`` and ``tf.image.ssim`` (to about
    1e-6). 1 means identical; values may be slightly negative.

    Args:
        x, x_hat: as :func:`per_image_psnr`.
        filter_size: odd window side, at most the image side (28 for MNIST).
        filter_sigma: standard deviation of the Gaussian window in pixels, > 0.

    Returns:
        ``float64`` array ``(n,)`` in [-1, 1].

    Raises:
        ValueError: as :func:`per_image_psnr`, or a window larger than the image,
            even, or a non-positive sigma. TypeError: non-int ``filter_size``.
    """
    from scipy.ndimage import correlate1d

    a, b = _image_pair_4d(x, x_hat)
    filter_size = _validate.positive_int(filter_size, "filter_size")
    if filter_size % 2 == 0:
        raise ValueError(f"filter_size must be odd; got {filter_size}.")
    if filter_size > min(a.shape[1:3]):
        raise ValueError(f"filter_size={filter_size} exceeds the {a.shape[1]}x{a.shape[2]} images; "
                         f"use at most {min(a.shape[1:3])}.")
    if isinstance(filter_sigma, bool) or not isinstance(filter_sigma, (int, float, np.integer, np.floating)) \
            or not filter_sigma > 0 or not math.isfinite(filter_sigma):
        raise ValueError(f"filter_sigma must be a finite number > 0; got {filter_sigma!r}.")
    offsets = np.arange(filter_size) - (filter_size - 1) / 2
    window = np.exp(-0.5 * (offsets / float(filter_sigma)) ** 2)
    window /= window.sum()
    r = (filter_size - 1) // 2

    def local_mean(img):  # Gaussian-weighted mean over each window, valid positions only
        out = correlate1d(correlate1d(img, window, axis=1, mode="constant"), window, axis=2, mode="constant")
        return out[:, r:img.shape[1] - r, r:img.shape[2] - r]

    u, v = a[..., 0].astype(np.float64), b[..., 0].astype(np.float64)
    mu_u, mu_v = local_mean(u), local_mean(v)
    var_u = local_mean(u * u) - mu_u ** 2
    var_v = local_mean(v * v) - mu_v ** 2
    cov = local_mean(u * v) - mu_u * mu_v
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim_map = ((2 * mu_u * mu_v + c1) * (2 * cov + c2)) / ((mu_u ** 2 + mu_v ** 2 + c1) * (var_u + var_v + c2))
    return ssim_map.reshape(len(u), -1).mean(axis=1)


def ssim(x, x_hat, *, filter_size: int = 11, filter_sigma: float = 1.5) -> float:
    """Mean SSIM over a batch; see :func:`per_image_ssim` (arguments, errors)."""
    return float(per_image_ssim(x, x_hat, filter_size=filter_size, filter_sigma=filter_sigma).mean())


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, *, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier in code space (scikit-learn).

    ``KNeighborsClassifier(n_neighbors=k)`` (Euclidean distance, majority vote)
    is fitted on the training codes and scored on the test codes: how often a
    test image's nearest training codes carry its label. It measures whether
    codes of the same class lie close together, the number behind a t-SNE
    picture (which preserves neighbourhoods, not distances).

    Args:
        train_codes: ``(n, d)`` real codes (or flattened images, or PCA scores).
        train_labels: ``(n,)`` integer labels.
        test_codes: ``(m, d)`` codes in the same space.
        test_labels: ``(m,)`` integer labels.
        k: number of neighbours, at most ``n``.

    Returns:
        Accuracy as a fraction in [0, 1].

    Raises:
        ValueError: not 2-d codes, differing code sizes, label counts that do not
            match, non-integer labels, NaN/inf codes, ``k`` larger than ``n``.
        TypeError: non-numeric input or non-int ``k``.
    """
    from sklearn.neighbors import KNeighborsClassifier

    arrays = []
    for codes, labels, name in ((train_codes, train_labels, "train"), (test_codes, test_labels, "test")):
        c = _validate.as_array(codes, f"{name}_codes").astype(np.float64)
        y = _validate.as_array(labels, f"{name}_labels")
        if c.ndim != 2 or c.shape[0] == 0:
            raise ValueError(f"{name}_codes must be (n, d) with n >= 1; got shape {c.shape} (flatten images first).")
        if not np.all(np.isfinite(c)):
            raise ValueError(f"{name}_codes contain NaN or inf.")
        if y.shape != (c.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{name}_labels must be ({c.shape[0]},) integers; got shape {y.shape}, dtype {y.dtype}.")
        arrays += [c, y]
    c_train, y_train, c_test, y_test = arrays
    if c_train.shape[1] != c_test.shape[1]:
        raise ValueError(f"train codes have {c_train.shape[1]} dimensions, test codes {c_test.shape[1]}.")
    k = _validate.positive_int(k, "k")
    if k > c_train.shape[0]:
        raise ValueError(f"k={k} exceeds the {c_train.shape[0]} training codes.")
    knn = KNeighborsClassifier(n_neighbors=k).fit(c_train, y_train)
    return float(knn.score(c_test, y_test))




def judge_outputs(judge, images, *, batch_size: int = 500):
    """Penultimate features and class probabilities of a classifier ("judge") for a batch of images.

    The judge is the CNN of ``labutils.classifiers.judge()``; its penultimate
    Dense layer is named ``"features"``. Run in inference mode (no dropout,
    no augmentation).

    Args:
        judge: a ``keras.Model`` with a layer named ``"features"`` and softmax outputs.
        images: ``(n, 28, 28, 1)`` (or ``(n, 784)``, ``(n, 28, 28)``) float32 in [0, 1].
        batch_size: images per forward pass.

    Returns:
        ``(features, probabilities)``: float64 ``(n, d)`` (d = 128 for the labs' CNN)
        and float64 ``(n, classes)`` rows summing to 1.

    Raises:
        TypeError: ``judge`` is not a Keras model. ValueError: it has no
            ``"features"`` layer; images not 28x28 grey in [0, 1].
    """
    import keras

    if not isinstance(judge, keras.Model):
        raise TypeError(f"judge must be a keras.Model; got {type(judge).__name__}.")
    try:
        feature_layer = judge.get_layer("features")
    except ValueError as exc:
        raise ValueError("judge must have a layer named 'features' (labutils.classifiers.cnn_classifier).") from exc
    x = _validate.unit_interval(images, "images")
    x = _validate.images(x, "images")[..., None]
    if tuple(x.shape[1:]) != tuple(judge.inputs[0].shape[1:]):
        raise ValueError(f"images of shape {x.shape[1:]} do not fit the judge's input {judge.inputs[0].shape[1:]}.")
    extractor = keras.Model(judge.inputs[0], [feature_layer.output, judge.outputs[0]])
    feats, probs = [], []
    for s in range(0, len(x), _validate.positive_int(batch_size, "batch_size")):
        f, p = extractor(x[s:s + batch_size], training=False)
        feats.append(keras.ops.convert_to_numpy(f).astype(np.float64))
        probs.append(keras.ops.convert_to_numpy(p).astype(np.float64))
    return np.concatenate(feats), np.concatenate(probs)


def feature_statistics(features):
    """Mean and covariance of a feature matrix: the Gaussian the Fréchet distance compares.

    Args:
        features: ``(n, d)`` real numbers, ``n >= 2``.

    Returns:
        ``(mu, sigma)``: float64 ``(d,)`` and ``(d, d)`` (unbiased covariance, ``np.cov``).

    Raises:
        ValueError: not 2-d, fewer than 2 rows, or NaN/inf.
    """
    f = _validate.as_array(features, "features").astype(np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be (n, d) with n >= 2; got shape {f.shape}.")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or inf.")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet (2-Wasserstein squared) distance between two Gaussians.

    ``FD = |mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``
    (Dowson & Landau, J. Multivariate Anal. 12, 1982; used on Inception
    features as the FID by Heusel et al., "GANs trained by a two time-scale
    update rule...", NIPS 2017, section 3). The matrix square root is
    ``scipy.linalg.sqrtm``; its tiny imaginary part from rounding is dropped,
    and a singular product is regularised with ``1e-6 I`` as in the reference
    FID code. In the squared units of the features; 0 for identical
    Gaussians. Estimated from samples it is biased upwards (more for fewer
    samples), so compare distances only at equal sample sizes.

    Args:
        mu1, mu2: ``(d,)`` means.
        sigma1, sigma2: ``(d, d)`` symmetric positive semi-definite covariances.

    Returns:
        The distance, a float >= 0.

    Raises:
        ValueError: shapes that disagree, NaN/inf, or a square root with a large imaginary part
            (not covariance matrices).
    """
    from scipy import linalg

    mu1 = np.atleast_1d(_validate.as_array(mu1, "mu1").astype(np.float64))
    mu2 = np.atleast_1d(_validate.as_array(mu2, "mu2").astype(np.float64))
    s1 = np.atleast_2d(_validate.as_array(sigma1, "sigma1").astype(np.float64))
    s2 = np.atleast_2d(_validate.as_array(sigma2, "sigma2").astype(np.float64))
    d = mu1.shape[0]
    if mu1.ndim != 1 or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"expected mu (d,) and sigma (d, d) for both Gaussians; got {mu1.shape}, {s1.shape}, "
                         f"{mu2.shape}, {s2.shape}.")
    for name, a in (("mu1", mu1), ("mu2", mu2), ("sigma1", s1), ("sigma2", s2)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf.")
    import warnings

    with warnings.catch_warnings():
        # dead ReLU features make the product singular; sqrtm warns, the offset below handles it
        warnings.simplefilter("ignore", RuntimeWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)):
            offset = 1e-6 * np.eye(d)
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        scale = max(1.0, float(np.abs(covmean).max()))
        if np.max(np.abs(covmean.imag)) > 1e-3 * scale:
            raise ValueError("sqrtm(sigma1 @ sigma2) has a large imaginary part: are sigma1 and sigma2 "
                             "covariance matrices (symmetric, positive semi-definite)?")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(max(0.0, diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)))


def _probabilities(p, name="probabilities"):
    p = _validate.as_array(p, name).astype(np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"{name} must be (n, classes) with n >= 1 and classes >= 2; got shape {p.shape}.")
    if not np.all(np.isfinite(p)) or p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(f"{name} must be rows of class probabilities (>= 0, summing to 1).")
    return p


def class_histogram(probabilities, num_classes: int | None = None) -> np.ndarray:
    """The share of samples the judge assigns to each class (its arg-max label).

    A generator that covers every class gives about ``1 / classes`` each; a
    mode-collapsed one piles up in a few bins.

    Args:
        probabilities: ``(n, classes)`` class probabilities, or ``(n,)`` integer labels.
        num_classes: needed with integer labels (default: ``max + 1``); with
            probabilities it must match their width.

    Returns:
        float64 ``(classes,)`` summing to 1.

    Raises:
        ValueError: malformed probabilities, negative labels, labels beyond ``num_classes``.
    """
    arr = _validate.as_array(probabilities, "probabilities")
    if arr.ndim == 1:
        if not np.issubdtype(arr.dtype, np.integer) or arr.size == 0 or arr.min() < 0:
            raise ValueError("labels must be a non-empty (n,) array of non-negative integers.")
        k = int(arr.max()) + 1 if num_classes is None else _validate.positive_int(num_classes, "num_classes")
        if arr.max() >= k:
            raise ValueError(f"label {arr.max()} is not below num_classes={k}.")
        labels = arr
    else:
        p = _probabilities(arr)
        k = p.shape[1]
        if num_classes is not None and _validate.positive_int(num_classes, "num_classes") != k:
            raise ValueError(f"num_classes={num_classes} but the probabilities have {k} columns.")
        labels = p.argmax(axis=1)
    return np.bincount(labels, minlength=k).astype(np.float64) / len(labels)


def kl_to_uniform(histogram) -> float:
    """``KL(h || uniform) = sum_k h_k log(K h_k) = log K - H(h)`` in nats (0 log 0 = 0).

    0 for a uniform histogram, ``log K`` (2.303 nats for 10 classes) when every
    sample lands in one class: the mode-collapse meter of lab 08.

    Args:
        histogram: ``(K,)`` non-negative shares summing to 1 (``K >= 2``).

    Returns:
        A float in ``[0, log K]``, nats.

    Raises:
        ValueError: not 1-d, negative entries, or not summing to 1.
    """
    h = _validate.as_array(histogram, "histogram").astype(np.float64)
    if h.ndim != 1 or h.shape[0] < 2:
        raise ValueError(f"histogram must be (K,) with K >= 2; got shape {h.shape}.")
    if not np.all(np.isfinite(h)) or h.min() < 0 or abs(h.sum() - 1.0) > 1e-6:
        raise ValueError(f"histogram must be non-negative shares summing to 1; got sum {h.sum():g}.")
    nz = h[h > 0]
    return float(max(0.0, np.sum(nz * np.log(len(h) * nz))))


def classifier_score(probabilities) -> float:
    """The Inception score with an MNIST classifier: ``exp(E_x KL(p(y|x) || p(y)))``.

    Salimans et al., "Improved Techniques for Training GANs", NIPS 2016,
    section 4; ``p(y)`` is the mean of ``p(y|x)`` over the samples. It lies in
    ``[1, K]``: high when each sample is confidently one class (sharp
    ``p(y|x)``) *and* the classes are balanced (broad ``p(y)``). Real MNIST
    test images score close to 10 with a 99% judge.

    Args:
        probabilities: ``(n, K)`` class probabilities from the judge.

    Returns:
        A float in ``[1, K]``.

    Raises:
        ValueError: malformed probabilities.
    """
    p = _probabilities(probabilities)
    p_y = p.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(p_y)), 0.0)
    return float(np.exp(np.sum(terms) / p.shape[0]))
