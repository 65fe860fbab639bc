"""Tests for labutils.metrics: bce, per_image_bce, mse."""
from __future__ import annotations

import math

import numpy as np
import pytest

from labutils import metrics


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    x = rng.random((16, 784), dtype=np.float32)
    x_hat = rng.random((16, 784), dtype=np.float32)
    return x, x_hat


def test_bce_matches_keras(pair):
    import keras

    x, x_hat = pair
    expected = float(np.mean(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(x, x_hat))))
    assert metrics.bce(x, x_hat) == pytest.approx(expected, abs=1e-5)


def test_bce_matches_keras_on_binary_targets_and_extreme_predictions():
    import keras

    rng = np.random.default_rng(1)
    x = (rng.random((8, 64)) < 0.3).astype(np.float64)
    x_hat = rng.random((8, 64))
    x_hat[0, :5] = 0.0  # clipped to EPSILON like Keras
    x_hat[1, :5] = 1.0  # clipped to 1 - EPSILON
    # float64 on both sides: in float32 Keras' 1 - 1e-7 rounds to 1 - 1.19e-7 (see the report)
    expected = float(np.mean(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(x, x_hat))))
    assert metrics.bce(x, x_hat) == pytest.approx(expected, rel=1e-6)
    assert metrics.per_image_bce(x, x_hat)[1] > 0.2  # the saturated wrong pixels cost about 16 nats each


def test_bce_formula_by_hand():
    x = np.array([[1.0, 0.0, 0.5, 1.0]])
    p = np.array([[0.8, 0.1, 0.5, 0.5]])
    expected = -np.mean([math.log(0.8), math.log(0.9), math.log(0.5), math.log(0.5)])
    assert metrics.bce(x, p) == pytest.approx(expected, rel=1e-6)
    assert metrics.per_image_bce(x, p)[0] == pytest.approx(expected, rel=1e-6)


def test_bce_of_perfect_binary_reconstruction_is_about_zero():
    x = (np.random.default_rng(2).random((10, 28, 28)) < 0.5).astype(np.float32)
    value = metrics.bce(x, x)
    assert 0.0 <= value < 1e-6  # only the EPSILON clipping is left
    assert value == pytest.approx(-math.log1p(-metrics.EPSILON), rel=1e-3)


def test_bce_of_constant_half_is_log2():
    x = (np.random.default_rng(3).random((5, 100)) < 0.5).astype(np.float32)
    assert metrics.bce(x, np.full_like(x, 0.5)) == pytest.approx(math.log(2), rel=1e-6)


def test_per_image_bce_shape_dtype_and_mean(pair):
    x, x_hat = pair
    per = metrics.per_image_bce(x, x_hat)
    assert per.shape == (16,)
    assert per.dtype == np.float64
    assert np.all(per > 0)
    assert float(per.mean()) == pytest.approx(metrics.bce(x, x_hat), rel=1e-12)
    # each image's value only depends on that image
    np.testing.assert_allclose(metrics.per_image_bce(x[3:4], x_hat[3:4]), per[3:4], rtol=1e-12)


def test_per_image_bce_image_shaped_inputs(pair):
    x, x_hat = pair
    flat = metrics.per_image_bce(x, x_hat)
    np.testing.assert_allclose(metrics.per_image_bce(x.reshape(16, 28, 28, 1), x_hat.reshape(16, 28, 28, 1)), flat)


def test_mse_matches_numpy(pair):
    x, x_hat = pair
    expected = float(np.mean((x.astype(np.float64) - x_hat.astype(np.float64)) ** 2))
    assert metrics.mse(x, x_hat) == pytest.approx(expected, rel=1e-12)
    assert metrics.mse(x, x) == 0.0
    assert metrics.mse(np.zeros((2, 3)), np.ones((2, 3))) == 1.0


def test_metrics_accept_tensors_and_lists():
    import tensorflow as tf

    x = [[0.0, 1.0], [1.0, 0.0]]
    assert metrics.mse(tf.constant(x), np.array(x)) == 0.0
    assert metrics.bce(x, x) < 1e-6


@pytest.mark.parametrize("func", [metrics.bce, metrics.mse, metrics.per_image_bce])
def test_shape_mismatch(func, pair):
    x, x_hat = pair
    with pytest.raises(ValueError, match=r"x \(16, 784\) and x_hat \(16, 28, 28\) must have the same shape"):
        func(x, x_hat.reshape(16, 28, 28))
    with pytest.raises(ValueError, match=r"must have the same shape"):
        func(x[:4], x_hat[:5])


@pytest.mark.parametrize("func", [metrics.bce, metrics.mse, metrics.per_image_bce])
def test_0_255_inputs(func, pair):
    x, x_hat = pair
    with pytest.raises(ValueError, match=r"x must be float values in \[0, 1\].*0-255 pixels: divide by 255"):
        func(x * 255, x_hat)
    with pytest.raises(ValueError, match=r"x_hat must be float values in \[0, 1\].*divide by 255"):
        func(x, x_hat * 255)


@pytest.mark.parametrize("func", [metrics.bce, metrics.mse, metrics.per_image_bce])
def test_bad_values_and_types(func):
    ok = np.full((2, 4), 0.5)
    with pytest.raises(ValueError, match=r"x_hat contains NaN or inf"):
        func(ok, np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match=r"x_hat must be float values in \[0, 1\]; got values in \[-0.1, 0.5\]\.$"):
        func(ok, np.array([[0.5] * 3 + [-0.1]] * 2))
    with pytest.raises(TypeError, match=r"x must be a numeric array; got dtype <U"):
        func(np.array([["a"] * 4] * 2), ok)
    with pytest.raises(ValueError, match=r"x is empty"):
        func(np.zeros((0, 4)), np.zeros((0, 4)))
