"""Tests for labutils.plots: every function returns a matplotlib Figure with the right panels."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from labutils import plots


@pytest.fixture(scope="module")
def imgs():
    return np.random.default_rng(0).random((12, 28, 28), dtype=np.float32)


def _visible_images(fig):
    return [ax for ax in fig.axes if ax.images]


# ============================================================== image_grid

def test_image_grid_axes_count(imgs):
    fig = plots.image_grid(imgs, ncols=5)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15  # 3 rows x 5 columns
    assert len(_visible_images(fig)) == 12  # the last 3 cells stay empty
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), imgs[0])
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)


@pytest.mark.parametrize("shape", [(6, 784), (6, 28, 28), (6, 28, 28, 1)])
def test_image_grid_accepts_layouts(shape):
    x = np.random.default_rng(1).random(shape)
    fig = plots.image_grid(x, ncols=3)
    assert len(fig.axes) == 6
    assert fig.axes[5].images[0].get_array().shape == (28, 28)


def test_image_grid_ncols_capped_and_non_square():
    x = np.zeros((3, 8, 4))
    fig = plots.image_grid(x)  # ncols=10 > 3 images: one row of 3
    assert len(fig.axes) == 3
    assert fig.axes[0].images[0].get_array().shape == (8, 4)


def test_image_grid_titles_row_titles_suptitle(imgs):
    fig = plots.image_grid(imgs[:6], ncols=3, row_titles=["noisy", "clean"], titles=list("abcdef"),
                           suptitle="Grid")
    assert [ax.get_title() for ax in fig.axes] == list("abcdef")
    assert fig.axes[0].get_ylabel() == "noisy" and fig.axes[3].get_ylabel() == "clean"
    assert fig.get_suptitle() == "Grid"


def test_image_grid_vrange_none_uses_batch_range():
    codes = np.linspace(-3, 5, 2 * 32).reshape(2, 8, 4)
    fig = plots.image_grid(codes, vrange=None)
    assert fig.axes[0].images[0].get_clim() == (-3.0, 5.0)
    flat = plots.image_grid(np.full((2, 4, 4), 2.0), vrange=None)
    assert flat.axes[0].images[0].get_clim() == (2.0, 3.0)


def test_image_grid_length_errors(imgs):
    with pytest.raises(ValueError, match=r"row_titles has 2 entries but the grid has 3 rows"):
        plots.image_grid(imgs, ncols=5, row_titles=["a", "b"])
    with pytest.raises(ValueError, match=r"titles has 11 entries but there are 12 images"):
        plots.image_grid(imgs, titles=["t"] * 11)


@pytest.mark.parametrize("x, exc, pattern", [
    (np.zeros((4, 28, 28, 3)), ValueError, r"grey images shaped \(n, 784\).*got shape \(4, 28, 28, 3\)"),
    (np.zeros(784), ValueError, r"got shape \(784,\)"),
    (np.zeros((4, 783)), ValueError, r"square number of pixels"),
    (np.zeros((0, 28, 28)), ValueError, r"images is empty"),
    (np.array([["a"]]), TypeError, r"images must be a numeric array"),
])
def test_image_grid_bad_images(x, exc, pattern):
    with pytest.raises(exc, match=pattern):
        plots.image_grid(x)


@pytest.mark.parametrize("ncols, exc, pattern", [(2.5, TypeError, r"ncols must be an int"),
                                                 (0, ValueError, r"ncols must be positive")])
def test_image_grid_bad_ncols(imgs, ncols, exc, pattern):
    with pytest.raises(exc, match=pattern):
        plots.image_grid(imgs, ncols=ncols)


# ============================================================== reconstruction_figure


# ============================================================== training_curves

def test_training_curves_from_dict():
    hist = {"loss": [0.5, 0.3, 0.2], "val_loss": [0.6, 0.4, 0.35], "accuracy": [0.7, 0.8, 0.9],
            "learning_rate": [1e-3] * 3}
    fig = plots.training_curves(hist, ylabel="BCE", logy=True)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # loss and accuracy; learning_rate and val_* get no panel
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["train", "validation"]
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [0.6, 0.4, 0.35])
    assert len(acc_ax.lines) == 1
    assert loss_ax.get_ylabel() == "BCE" and loss_ax.get_yscale() == "log"
    assert loss_ax.get_xlabel() == "epoch"
    assert loss_ax.get_title() == "loss per epoch" and acc_ax.get_title() == "accuracy per epoch"  # every panel titled


def test_training_curves_titles_and_suptitle():
    hist = {"loss": [3.0, 2.0], "kl": [1.0, 2.0], "val_kl": [1.5, 2.5]}
    fig = plots.training_curves(hist, titles={"kl": "KL term"}, suptitle="VAE")
    assert [ax.get_title() for ax in fig.axes] == ["loss per epoch", "KL term"]
    assert fig._suptitle.get_text() == "VAE"
    with pytest.raises(TypeError, match="titles must be a dict"):
        plots.training_curves(hist, titles=["KL term"])


def test_training_curves_selected_metrics():
    fig = plots.training_curves({"loss": [1, 2], "accuracy": [0.1, 0.2]}, metrics=["accuracy"])
    assert len(fig.axes) == 1
    assert fig.axes[0].get_ylabel() == "accuracy"


def test_training_curves_from_keras_history():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(x, y, epochs=2, batch_size=8, validation_data=(x, y), verbose=0)
    fig = plots.training_curves(history)
    assert {ax.get_ylabel() for ax in fig.axes} == {"loss", "mae"}
    loss_ax = next(ax for ax in fig.axes if ax.get_ylabel() == "loss")
    assert len(loss_ax.lines) == 2
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), history.history["loss"])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2])


def test_training_curves_errors():
    with pytest.raises(ValueError, match=r"history has no \['accuracy'\]; it has \['loss', 'val_loss'\]"):
        plots.training_curves({"loss": [1.0], "val_loss": [1.0]}, metrics=["accuracy"])
    with pytest.raises(ValueError, match=r"history holds no curves to plot"):
        plots.training_curves({})
    with pytest.raises(ValueError, match=r"history holds no curves to plot"):
        plots.training_curves({"val_loss": [1.0]})
    with pytest.raises(ValueError, match=r"loss has 3 epochs but val_loss has 2"):
        plots.training_curves({"loss": [1, 2, 3], "val_loss": [1, 2]})
    with pytest.raises(TypeError, match=r"history must be a keras History or a dict of lists; got list"):
        plots.training_curves([0.5, 0.4])


# ============================================================== compare_curves

def test_compare_curves():
    fig = plots.compare_curves({"adam": [0.3, 0.2, 0.1], "sgd": np.array([0.5, 0.4])}, ylabel="test BCE",
                               title="optimizers", logy=True)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["adam", "sgd"]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [0.3, 0.2, 0.1])
    assert ax.get_ylabel() == "test BCE" and ax.get_xlabel() == "epoch"
    assert ax.get_title() == "optimizers" and ax.get_yscale() == "log"


def test_compare_curves_errors():
    with pytest.raises(TypeError, match=r"curves must be a dict \{label: values\}; got list"):
        plots.compare_curves([[1, 2]], ylabel="y")
    with pytest.raises(ValueError, match=r"curves is empty"):
        plots.compare_curves({}, ylabel="y")
    with pytest.raises(ValueError, match=r"curve 'b' is empty"):
        plots.compare_curves({"a": [1.0], "b": []}, ylabel="y")
    with pytest.raises(TypeError, match=r"curves\['a'\] must be a numeric array"):
        plots.compare_curves({"a": ["x", "y"]}, ylabel="y")


# ============================================================== confusion_matrix

def test_confusion_matrix_counts():
    from sklearn.metrics import confusion_matrix as sk_cm

    y_true = np.array([0, 1, 2, 2, 1, 0, 2])
    y_pred = np.array([0, 2, 2, 2, 1, 0, 1])
    fig = plots.confusion_matrix(y_true, y_pred, title="CM")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1  # no colour bar
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), sk_cm(y_true, y_pred))
    assert ax.get_title() == "CM"
    assert ax.get_ylabel() == "True label" and ax.get_xlabel() == "Predicted label"


def test_confusion_matrix_labels_order():
    fig = plots.confusion_matrix([1, 1, 0], [1, 0, 0], labels=[1, 0])
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), [[1, 1], [0, 1]])


@pytest.mark.parametrize("y_true, y_pred", [
    (np.array([0, 1, 2]), np.random.default_rng(0).random((3, 3))),
    (np.array([0, 1, 2]), np.array([0, 1])),
    (np.zeros((3, 1), dtype=int), np.zeros((3, 1), dtype=int)),
])
def test_confusion_matrix_bad_shapes(y_true, y_pred):
    with pytest.raises(ValueError, match=r"1-D label arrays of equal length.*probs\.argmax\(axis=1\)"):
        plots.confusion_matrix(y_true, y_pred)


def test_confusion_matrix_non_numeric():
    with pytest.raises(TypeError, match=r"y_true must be a numeric array"):
        plots.confusion_matrix(["a", "b"], [0, 1])


def test_figures_render_as_png_in_jupyter_whatever_the_backend():
    """Jupyter shows a returned figure through _repr_png_ even when pyplot's inline backend is off."""
    fig = plots.image_grid(np.random.default_rng(0).random((4, 784)), ncols=2)
    png = fig._repr_png_()
    assert isinstance(fig, plots.Figure)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def test_training_curves_val_label_names_the_watched_set():
    fig = plots.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, val_label="test")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["train", "test"]


# ============================================================== xy_plot


def test_xy_plot_series_with_own_x_and_point_labels():
    fig = plots.xy_plot({"a": ([1, 10, 100], [3.0, 2.0, 1.5]), "b": ((2, 4), (1, 1))},
                        xlabel="k", ylabel="NLL (nats)", logx=True, point_labels={"a": ["x", "y", "z"]})
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 10, 100])
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "NLL (nats)"
    assert [t.get_text() for t in ax.texts] == ["x", "y", "z"]


@pytest.mark.parametrize("series, kwargs, exc, pattern", [
    ([([1], [1])], {}, TypeError, "dict"),
    ({}, {}, ValueError, "empty"),
    ({"a": ([1, 2], [1])}, {}, ValueError, "equally long"),
    ({"a": [1, 2, 3]}, {}, ValueError, "pair"),
    ({"a": ([1, 2], [1, 2])}, {"point_labels": {"a": ["only one"]}}, ValueError, "point_labels"),
])
def test_xy_plot_errors(series, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        plots.xy_plot(series, xlabel="x", ylabel="y", **kwargs)


# ============================================================== latent_scatter


def test_latent_scatter_points_and_subsampling():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(300, 2)), rng.integers(0, 10, 300)
    fig = plots.latent_scatter(z, y, title="codes")
    ax = fig.axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 300 and ax.get_title() == "codes"
    assert len(fig.axes) == 1 and ax.get_xlabel() == "z_1" and ax.get_ylabel() == "z_2"
    fig = plots.latent_scatter(z, y, max_points=50)
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 50


def test_latent_scatter_tells_classes_apart_without_colour():
    """One scatter per class with its own marker and colour-blind-safe colour, names at the medians, a legend."""
    z = np.repeat(np.arange(10.0)[:, None], 20, axis=0) * [1.0, 2.0]
    y = np.repeat(np.arange(10), 20)
    names = [f"class{k}" for k in range(10)]
    fig = plots.latent_scatter(z, y, class_names=names)
    ax = fig.axes[0]
    assert len(ax.collections) == 10
    paths = {tuple(np.round(c.get_paths()[0].vertices.ravel(), 3)) for c in ax.collections}
    assert len(paths) == 10, "every class needs its own marker"
    colors = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in ax.collections}
    assert len(colors) == 10
    texts = {t.get_text(): t.xy for t in ax.texts}
    assert texts["class3"] == (3.0, 6.0)  # the name at the class's median
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "0: class0" and len(legend) == 10
    assert plots.CLASS_COLORS[:7] == ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")


@pytest.mark.parametrize("z, y, pattern", [
    (np.zeros((5, 3)), np.zeros(5, int), r"\(n, 2\)"),
    (np.zeros((0, 2)), np.zeros(0, int), r"\(n, 2\)"),
    (np.zeros((5, 2)), np.zeros(4, int), "labels"),
    (np.zeros((5, 2)), np.zeros(5), "integers"),
    (np.zeros((5, 2)), np.array([0, 1, 2, 3, 10]), "from 0 to 9"),
    (np.zeros((5, 2)), np.array([0, 1, 2, 3, -1]), "from 0 to 9"),
])
def test_latent_scatter_errors(z, y, pattern):
    with pytest.raises(ValueError, match=pattern):
        plots.latent_scatter(z, y)


def test_every_panel_cycles_through_colour_blind_safe_colours():
    from matplotlib.colors import to_hex

    fig = plots.training_curves({"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]})
    train, val = fig.axes[0].lines
    assert (to_hex(train.get_color()), to_hex(val.get_color())) == (plots.CURVE_COLORS[0].lower(),
                                                                    plots.CURVE_COLORS[1].lower())
    fig = plots.Figure()
    ax = fig.add_axes((0, 0, 1, 1))
    assert to_hex(ax.plot([0, 1])[0].get_color()) == plots.CURVE_COLORS[0].lower()
