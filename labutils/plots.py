"""Figures that several model families share: image grids, training and comparison curves, x-y plots,
2-d latent scatter plots, confusion matrices; and :class:`Figure`, the figure class of every labutils figure.

A family's own figures live in its module (:mod:`labutils.autoencoders`,
:mod:`labutils.gan`, :mod:`labutils.rbm`).

Every function returns a ``matplotlib.figure.Figure`` that is created without
pyplot, so a notebook shows it exactly once (as the cell's value) and a script
can ``fig.savefig(...)`` it; nothing is drawn on a global figure. The figures
render themselves as PNG in Jupyter whatever the matplotlib backend (also with
``MPLBACKEND=Agg`` or when pyplot was never imported).
"""
from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.figure import Figure as _MplFigure

from . import _validate

__all__ = ["Figure", "CURVE_COLORS", "image_grid", "training_curves", "compare_curves", "xy_plot",
           "latent_scatter", "confusion_matrix"]


#: The colours of curves, bars and histograms in every labutils figure, in this order: Okabe & Ito's
#: colour-blind-safe palette (2008), "Color Universal Design" (blue, orange, bluish green, reddish purple,
#: sky blue, vermilion, yellow, black). Any two of them stay distinct under red-green colour blindness.
CURVE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


class Figure(_MplFigure):
    """A matplotlib ``Figure`` that Jupyter displays as a PNG (``_repr_png_``).

    Its panels cycle through :data:`CURVE_COLORS` (not matplotlib's default, whose green and red
    look alike to red-green colour-blind readers); the global matplotlib settings are left alone.
    """

    def add_subplot(self, *args, **kwargs):
        ax = super().add_subplot(*args, **kwargs)
        ax.set_prop_cycle(color=CURVE_COLORS)
        return ax

    def add_axes(self, *args, **kwargs):
        ax = super().add_axes(*args, **kwargs)
        ax.set_prop_cycle(color=CURVE_COLORS)
        return ax

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        return buffer.getvalue()


def _as_image_batch(x, name):
    """(n, H, W) float32 from (n, H*W) with square H=W, (n, H, W) or (n, H, W, 1); finite values only."""
    arr = _validate.as_array(x, name)
    if arr.ndim == 3 and arr.shape[-1] == 1 and arr.shape[1] > 1:
        raise ValueError(f"{name} of shape {arr.shape} looks like a single unbatched image (H, W, 1); use "
                         f"{name}[None] for a batch of one (or pass (n, H, W) images).")
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3:
        if arr.shape[0] == 0:
            raise ValueError(f"{name} is empty; expected at least one image.")
        arr = arr.astype(np.float32)
    else:
        arr = _validate.images(arr, name)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; an image needs finite values.")
    return arr


def _size(value, name):
    return _validate.number(value, name, positive=True)


def image_grid(images, ncols: int = 10, *, row_titles=None, titles=None, vrange=(0.0, 1.0),
               cmap: str = "gray", cell_size: float = 1.1, suptitle: str | None = None) -> Figure:
    """Draw a batch of grey images in a grid, ``ncols`` per row.

    Args:
        images: ``(n, 784)``, ``(n, H, W)`` or ``(n, H, W, 1)``; any real dtype.
        ncols: images per row (the last row may be partly empty).
        row_titles: optional list of one label per row, drawn left of the row.
        titles: optional list of one title per image (e.g. ``"7 -> 1"``).
        vrange: ``(vmin, vmax)`` of the grey scale, default ``(0, 1)`` for
            pixels in [0, 1]; ``None`` scales the whole batch by its own
            min and max (for codes or filters).
        cmap: a matplotlib colormap name.
        cell_size: inches per image.
        suptitle: optional title above the grid.

    Returns:
        The ``Figure``.

    Raises:
        ValueError: a wrong shape (a single unbatched image included), NaN or inf
            pixels, ``row_titles``/``titles`` of the wrong length, a ``vrange``
            that is not two finite numbers with vmin < vmax, a ``cell_size`` that
            is not a positive finite number.
        TypeError: non-numeric, complex or object images; a non-int ``ncols``.
    """
    imgs = _as_image_batch(images, "images")
    ncols = _validate.positive_int(ncols, "ncols")
    cell_size = _size(cell_size, "cell_size")
    if vrange is not None:
        if isinstance(vrange, (str, bytes)) or not isinstance(vrange, (tuple, list)) or len(vrange) != 2:
            raise ValueError(f"vrange must be a pair (vmin, vmax) or None; got {vrange!r}.")
        lo, hi = (_validate.number(v, "vrange[i]") for v in vrange)
        if not lo < hi:
            raise ValueError(f"vrange must have vmin < vmax; got {vrange!r}.")
        vrange = (lo, hi)
    n = imgs.shape[0]
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if row_titles is not None and len(row_titles) != nrows:
        raise ValueError(f"row_titles has {len(row_titles)} entries but the grid has {nrows} rows.")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries but there are {n} images.")
    if vrange is None:
        vmin, vmax = float(imgs.min()), float(imgs.max())
        if vmax <= vmin:
            vmax = vmin + 1.0
    else:
        vmin, vmax = vrange
    aspect = imgs.shape[1] / imgs.shape[2]
    extra_left = 1.2 if row_titles is not None else 0.0
    title_room = 0.3 if titles is not None else 0.0  # inches per row for the per-image titles
    fig = Figure(figsize=(ncols * cell_size + extra_left,
                          nrows * (cell_size * max(aspect, 0.5) + title_room) + (0.4 if suptitle else 0)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i < n:
            ax.imshow(imgs[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if row_titles is not None:
        for r, label in enumerate(row_titles):
            axes[r, 0].set_ylabel(str(label), rotation=0, ha="right", va="center", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def training_curves(history, metrics=None, *, ylabel: str | None = None, logy: bool = False,
                    val_label: str = "validation", titles=None, suptitle: str | None = None) -> Figure:
    """Plot training and validation curves from a Keras ``History`` (or its dict).

    Args:
        history: ``keras.callbacks.History`` or ``{"loss": [...], "val_loss": [...], ...}``.
        metrics: base names to plot (``["loss"]``); default: every key without
            ``val_`` in front. Each gets one panel with train and, if present,
            validation curves.
        ylabel: label for the y axis (e.g. ``"BCE per pixel"``); default the
            metric's name.
        logy: logarithmic y axis.
        val_label: legend entry of the ``val_`` curves; say ``"test"`` when the
            test set was passed as ``validation_data`` only to be watched.
        titles: ``{metric: panel title}``; a metric not in it is titled by its
            name (``"kl"`` -> ``"kl per epoch"``), so every panel has a title.
        suptitle: optional title above all panels.

    Returns:
        The ``Figure`` (one titled panel per metric, epochs on x starting at 1).

    Raises:
        TypeError: ``history`` is neither a History nor a dict; ``metrics`` not a
            list of names; curves that are complex or not numbers.
        ValueError: no curves, a requested metric that is missing, or curves of
            different lengths.
    """
    titles = {} if titles is None else titles
    if not isinstance(titles, dict):
        raise TypeError(f"titles must be a dict {{metric: title}}; got {type(titles).__name__}.")
    hist = getattr(history, "history", history)
    if not isinstance(hist, dict):
        raise TypeError(f"history must be a keras History or a dict of lists; got {type(history).__name__}.")
    if metrics is None:
        metrics = [k for k in hist if not k.startswith("val_") and k not in ("learning_rate", "lr")]
    if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)):
        raise TypeError(f"metrics must be a list of names such as ['loss'] (a single name is split into letters "
                        f"otherwise); got {metrics!r}.")
    if not metrics:
        raise ValueError("history holds no curves to plot.")
    missing = [m for m in metrics if m not in hist]
    if missing:
        raise ValueError(f"history has no {missing}; it has {sorted(hist)}.")
    fig = Figure(figsize=(4.2 * len(metrics), 3.2))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(axes, metrics):
        train = _validate.as_array(hist[m], f"history[{m!r}]").astype(float).ravel()
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, label="train")
        if f"val_{m}" in hist:
            val = _validate.as_array(hist[f"val_{m}"], f"history['val_{m}']").astype(float).ravel()
            if len(val) != len(train):
                raise ValueError(f"{m} has {len(train)} epochs but val_{m} has {len(val)}.")
            ax.plot(epochs, val, label=val_label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel or m)
        ax.set_title(titles.get(m, f"{m.replace('_', ' ')} per epoch"))
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def compare_curves(curves: dict, *, ylabel: str, xlabel: str = "epoch", logy: bool = False,
                   title: str | None = None) -> Figure:
    """Several runs' curves in one panel, e.g. the test loss of two optimizers.

    Args:
        curves: ``{label: sequence of numbers}``; sequences may differ in length.
        ylabel: y-axis label with its unit, e.g. ``"test BCE (nats per pixel)"``.
        xlabel: x-axis label; x runs 1, 2, ... per sequence.
        logy: logarithmic y axis.
        title: optional panel title.

    Returns:
        The ``Figure``.

    Raises:
        ValueError: no curves, or an empty curve. TypeError: ``curves`` not a dict.
    """
    if not isinstance(curves, dict):
        raise TypeError(f"curves must be a dict {{label: values}}; got {type(curves).__name__}.")
    if not curves:
        raise ValueError("curves is empty; give at least one {label: values}.")
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.subplots()
    for label, values in curves.items():
        y = _validate.as_array(values, f"curves[{label!r}]").astype(float).ravel()
        if y.size == 0:
            raise ValueError(f"curve {label!r} is empty.")
        ax.plot(np.arange(1, y.size + 1), y, marker="o" if y.size <= 20 else None, label=str(label))
    return _finish_panel(fig, ax, xlabel, ylabel, logx=False, logy=logy, title=title)


def xy_plot(series: dict, *, xlabel: str, ylabel: str, logx: bool = False, logy: bool = False,
            point_labels: dict | None = None, title: str | None = None) -> Figure:
    """Curves or point sets with their own x values, in one panel.

    E.g. the importance-sampled bound against the number of samples k
    (``logx=True``), or distortion against rate for several beta values.

    Args:
        series: ``{label: (x, y)}`` with two equal-length sequences of numbers.
        xlabel, ylabel: axis labels with units (e.g. ``"rate: KL (nats per image)"``).
        logx, logy: logarithmic axes.
        point_labels: optional ``{label: [text per point]}`` written beside the points.
        title: optional panel title.

    Returns:
        The ``Figure``.

    Raises:
        TypeError: ``series`` not a dict. ValueError: empty, x and y of
            different lengths, or point labels that do not match the points.
    """
    if not isinstance(series, dict):
        raise TypeError(f"series must be a dict {{label: (x, y)}}; got {type(series).__name__}.")
    if not series:
        raise ValueError("series is empty; give at least one {label: (x, y)}.")
    point_labels = point_labels or {}
    fig = Figure(figsize=(6.0, 3.8))
    ax = fig.subplots()
    for label, xy in series.items():
        if not isinstance(xy, (tuple, list)) or len(xy) != 2:
            raise ValueError(f"series[{label!r}] must be a pair (x, y); got {type(xy).__name__}.")
        x = _validate.as_array(xy[0], f"series[{label!r}] x").astype(float).ravel()
        y = _validate.as_array(xy[1], f"series[{label!r}] y").astype(float).ravel()
        if x.size == 0 or x.shape != y.shape:
            raise ValueError(f"series[{label!r}]: x and y must be non-empty and equally long; got {x.size} and {y.size}.")
        ax.plot(x, y, marker="o", label=str(label))
        texts = point_labels.get(label)
        if texts is not None:
            if len(texts) != x.size:
                raise ValueError(f"point_labels[{label!r}] has {len(texts)} entries for {x.size} points.")
            for xi, yi, t in zip(x, y, texts):
                ax.annotate(str(t), (xi, yi), textcoords="offset points", xytext=(5, 5), fontsize=9)
    return _finish_panel(fig, ax, xlabel, ylabel, logx=logx, logy=logy, title=title)


def _finish_panel(fig, ax, xlabel, ylabel, *, logx, logy, title):
    """Labels, log axes, title, grid and legend of a one-panel line plot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


#: Okabe & Ito's colour-blind-safe palette (2008) plus grey and brown for classes 8 and 9; each class also has
#: its own marker, and the class names sit at their medians, so no class is told apart by colour alone.
CLASS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
                "#999999", "#8C564B")
CLASS_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")


def latent_scatter(codes, labels, *, title: str | None = None, xlabel: str = "z_1", ylabel: str = "z_2",
                   max_points: int = 5000, seed: int = 0, class_names=None) -> Figure:
    """2-d codes (a VAE's z_mean, a t-SNE embedding) as points, one colour and one marker per class.

    Colours are Okabe & Ito's colour-blind-safe palette (:data:`CLASS_COLORS`); every class also has its own
    marker (:data:`CLASS_MARKERS`) and its name written at the median of its points, and the legend sits
    outside the panel, so no class is told apart by colour alone and no points are hidden.

    Args:
        codes: ``(n, 2)`` real array.
        labels: ``(n,)`` integer labels from 0 to 9 (MNIST digits, Fashion-MNIST classes).
        title: optional title.
        xlabel, ylabel: axis labels.
        max_points: draw a random subset of at most this many points.
        seed: NumPy seed of that subset (an int from 0 to 2**32 - 1).
        class_names: optional sequence of 10 names (e.g. ``DatasetInfo.class_names``); default the label numbers.

    Returns:
        The ``Figure``: one panel with one scatter per class present, a legend and the class names at the medians.

    Raises:
        ValueError: ``codes`` not ``(n, 2)`` or holding NaN or inf (such points
            would silently vanish), ``labels`` not ``(n,)`` integers from 0 to 9, a negative ``seed``,
            ``class_names`` that does not name labels 0-9.
        TypeError: complex or object arrays; a non-int ``max_points`` or ``seed``.
    """
    z = _validate.finite_array(codes, "codes")
    seed = _validate.seed(seed)
    y = _validate.as_array(labels, "labels")
    if z.ndim != 2 or z.shape[1] != 2 or z.shape[0] == 0:
        raise ValueError(f"codes must be (n, 2) for a scatter plot; got shape {z.shape} "
                         "(embed higher-dimensional codes first, e.g. with sklearn.manifold.TSNE).")
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be ({z.shape[0]},) integers; got shape {y.shape}, dtype {y.dtype}.")
    if y.min() < 0 or y.max() >= len(CLASS_COLORS):
        raise ValueError(f"labels must be class numbers from 0 to {len(CLASS_COLORS) - 1}; "
                         f"got {int(y.min())} to {int(y.max())}.")
    if class_names is None:
        names = [str(k) for k in range(len(CLASS_COLORS))]
    else:
        names = [str(n) for n in class_names]
        if len(names) < int(y.max()) + 1:
            raise ValueError(f"class_names must name every label (0 to {int(y.max())}); got {len(names)} names.")
    keep = np.arange(len(z))
    if len(z) > _validate.positive_int(max_points, "max_points"):
        keep = np.sort(np.random.default_rng(seed).choice(len(z), max_points, replace=False))
    fig = Figure(figsize=(6.6, 4.6))
    ax = fig.subplots()
    for k in np.unique(y[keep]):
        pts = z[keep][y[keep] == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=9, alpha=0.7, color=CLASS_COLORS[k], marker=CLASS_MARKERS[k],
                   linewidths=0, label=f"{k}: {names[k]}" if names[k] != str(k) else str(k))
        mx, my = np.median(pts, axis=0)
        ax.annotate(names[k], (mx, my), ha="center", va="center", fontsize=8, fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": CLASS_COLORS[k],
                          "alpha": 0.85})
    ax.legend(title="class", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=1.8,
              frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, *, labels=None, title: str | None = None) -> Figure:
    """Confusion matrix (counts) drawn by scikit-learn's ``ConfusionMatrixDisplay``.

    Args:
        y_true: ``(n,)`` integer labels.
        y_pred: ``(n,)`` integer predictions (e.g. ``probs.argmax(axis=1)``).
        labels: the class labels in display order; default the sorted union.
        title: optional title.

    Returns:
        The ``Figure``; rows are true classes, columns predicted ones.

    Raises:
        ValueError: ``y_true`` and ``y_pred`` are not 1-D integer labels of the same
            length (e.g. probabilities passed instead of labels).
        TypeError: complex, object or non-numeric labels.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    t = _validate.as_array(y_true, "y_true")
    p = _validate.as_array(y_pred, "y_pred")
    if t.ndim != 1 or p.ndim != 1 or t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must be 1-D label arrays of equal length; got {t.shape} and {p.shape} "
            "(for probabilities pass probs.argmax(axis=1))."
        )
    for arr, name in ((t, "y_true"), (p, "y_pred")):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must be integer labels; got dtype {arr.dtype} (for probabilities pass "
                             "probs.argmax(axis=1)).")
    fig = Figure(figsize=(5.2, 4.6))
    ax = fig.subplots()
    ConfusionMatrixDisplay.from_predictions(t, p, labels=labels, ax=ax, colorbar=False, cmap="Blues")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
