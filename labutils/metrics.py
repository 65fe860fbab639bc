"""Reconstruction metrics, computed in NumPy so they do not depend on a model.

Units: binary cross-entropy in nats per pixel (natural log, averaged over
pixels and images, as Keras' ``binary_crossentropy`` reports it); mean squared
error per pixel on the [0, 1] scale.
"""
from __future__ import annotations

import numpy as np

from . import _validate

__all__ = ["EPSILON", "bce", "mse", "per_image_bce"]

#: Clipping of predictions before the log, the same as Keras' default epsilon.
EPSILON = 1e-7


def _pair(x, x_hat):
    x = _validate.unit_interval(x, "x")
    x_hat = _validate.unit_interval(x_hat, "x_hat")
    if x.ndim == 0 or x_hat.ndim == 0:
        raise ValueError(f"x and x_hat must be batches (n, ...); got shapes {x.shape} and {x_hat.shape}.")
    if x.shape != x_hat.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must have the same shape.")
    return x.reshape(x.shape[0], -1).astype(np.float64), x_hat.reshape(x.shape[0], -1).astype(np.float64)


def per_image_bce(x, x_hat) -> np.ndarray:
    """Binary cross-entropy of each image, averaged over its pixels.

    ``-mean_j [x_j log p_j + (1 - x_j) log(1 - p_j)]`` with ``p`` clipped to
    ``[EPSILON, 1 - EPSILON]``: the Bernoulli negative log-likelihood per
    pixel (for binary x), or the cross-entropy between grey levels (for grey x).

    Args:
        x: targets ``(n, ...)``, float in [0, 1].
        x_hat: reconstructions of the same shape, float in [0, 1].

    Returns:
        ``float64`` array ``(n,)``, nats per pixel.

    Raises:
        ValueError: shapes differ or values outside [0, 1] (e.g. 0-255 pixels).
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
        ValueError: shapes differ or values outside [0, 1].
    """
    x, p = _pair(x, x_hat)
    return float(np.mean((x - p) ** 2))
