"""Metrics and the filter plot of labs 03-04 (labutils.metrics / labutils.plots blocks)."""
import numpy as np
import pytest

from labutils import metrics, plots


def test_reconstruction_mse_accepts_values_outside_unit_interval():
    x = np.zeros((2, 4))
    assert metrics.reconstruction_mse(x, x - 0.5) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="same shape"):
        metrics.reconstruction_mse(x, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="finite"):
        metrics.reconstruction_mse(x, np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="batch"):
        metrics.reconstruction_mse(np.zeros(4), np.zeros(4))


def test_fraction_of_variance_unexplained():
    x = np.random.default_rng(0).random((50, 6))
    assert metrics.fraction_of_variance_unexplained(x, x) == 0.0
    assert metrics.fraction_of_variance_unexplained(x, np.tile(x.mean(0), (50, 1))) == pytest.approx(1.0)
    assert metrics.fraction_of_variance_unexplained(x, np.zeros_like(x)) > 1.0
    with pytest.raises(ValueError, match="no variance"):
        metrics.fraction_of_variance_unexplained(np.ones((3, 2)), np.ones((3, 2)))


def test_principal_angles_basis_free():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 10))
    mixed = rng.standard_normal((3, 3)) @ a  # same row space, another basis
    assert np.allclose(metrics.principal_angles(a, mixed), 0.0, atol=1e-5)
    eye = np.eye(4)
    angles = metrics.principal_angles(eye[:2], np.array([[1.0, 0, 0, 0], [0, 1.0, 1.0, 0]]))
    assert angles[0] == pytest.approx(45.0) and angles[1] == pytest.approx(0.0, abs=1e-6)
    assert metrics.principal_angles(eye[:2], eye[2:])[0] == pytest.approx(90.0)
    with pytest.raises(ValueError, match="rows of length"):
        metrics.principal_angles(eye[:2], np.eye(5)[:2])
    with pytest.raises(ValueError, match=r"\(k, d\)"):
        metrics.principal_angles(np.zeros(4), eye)
    with pytest.raises(TypeError):
        metrics.principal_angles([["a"]], eye)


def test_kl_sparsity():
    assert metrics.kl_sparsity(0.05, [0.05, 0.05]) == pytest.approx(0.0)
    expected = 0.1 * np.log(0.1 / 0.5) + 0.9 * np.log(0.9 / 0.5)
    assert metrics.kl_sparsity(0.1, [0.5]) == pytest.approx(expected)
    assert metrics.kl_sparsity(0.1, [0.5, 0.5]) == pytest.approx(2 * expected)
    with pytest.raises(ValueError, match="strictly"):
        metrics.kl_sparsity(0.1, [0.0])
    with pytest.raises(ValueError, match="strictly"):
        metrics.kl_sparsity(1.0, [0.5])


def test_activation_stats_is_scale_free():
    h = np.array([[0.0, 1.0], [2.0, 0.01], [4.0, 1.0], [0.1, 0.0]])
    mean, share = metrics.activation_stats(h, rel_tol=0.05)
    assert np.allclose(mean, h.mean(axis=0))
    # unit 0: 0 and 0.1 <= 0.05*4 = 0.2 -> 2 near zero; unit 1: 0.01 and 0 <= 0.05 -> 2 near zero
    assert share == pytest.approx(4 / 8)
    assert metrics.activation_stats(h * 1e-3, rel_tol=0.05)[1] == pytest.approx(share), "a smaller scale is not sparser"
    assert metrics.activation_stats(np.zeros((3, 2)))[1] == 1.0, "a dead unit is zero everywhere"
    with pytest.raises(ValueError, match="rel_tol|between"):
        metrics.activation_stats(h, rel_tol=1.0)
    with pytest.raises(ValueError, match=r"\(n, units\)"):
        metrics.activation_stats(np.zeros(3))


def test_sensitivity_ratio():
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((5, 8))
    codes = rng.standard_normal((5, 8))
    assert metrics.sensitivity_ratio(codes, codes + eps, eps) == pytest.approx(1.0)
    assert metrics.sensitivity_ratio(codes, codes + 0.5 * eps, eps) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-zero"):
        metrics.sensitivity_ratio(codes, codes, np.zeros((5, 8)))
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        metrics.sensitivity_ratio(codes, codes, eps[:4])


def test_filter_grid():
    w = np.random.default_rng(0).standard_normal((784, 20))
    fig = plots.filter_grid(w, n=20, ncols=10)
    assert len([ax for ax in fig.axes if ax.images]) == 20
    assert len(plots.filter_grid(w.T, n=5, axis=1).axes) == 5
    constant = plots.filter_grid(np.zeros((784, 2)), n=2)  # dead filters draw grey, no division by zero
    assert np.allclose(constant.axes[0].images[0].get_array(), 0.5)
    with pytest.raises(ValueError, match="only 20 filters"):
        plots.filter_grid(w, n=21)
    with pytest.raises(ValueError, match="axis"):
        plots.filter_grid(w, axis=2)
    with pytest.raises(ValueError, match="square"):
        plots.filter_grid(np.zeros((785, 2)), n=2)
    with pytest.raises(ValueError, match="2-D"):
        plots.filter_grid(np.zeros(784))
