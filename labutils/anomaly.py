"""Anomaly detection with autoencoders (lab 11): a held-out class, per-image scores, baselines and their ROC.

The set-up (one-class novelty detection, as in Ruff et al., "Deep one-class classification", ICML 2018, section 4):
train on every class but one, then score each test image; a good score ranks the held-out class's images above the
normal ones. Scores are "higher = more anomalous", in **nats per image**:

* :func:`reconstruction_nats` - the reconstruction error, binary cross-entropy summed over the 784 pixels
  (-log p(x | x_hat) of a Bernoulli decoder on grey pixels), for any reconstruction: an autoencoder's, PCA's
  (:func:`pca_scores`) or the mean training image's (:func:`mean_image_scores`);
* :func:`negative_elbo` - a VAE's negative evidence lower bound -ELBO(x) >= -log p(x) (Kingma & Welling 2014,
  eq. 3), estimated with ``k`` posterior samples through :func:`labutils.vae.log_importance_weights`
  (An & Cho, "Variational autoencoder based anomaly detection using reconstruction probability", 2015).

:func:`roc_auc` and :func:`precision_at_recall` measure a score with scikit-learn (``roc_auc_score``,
``precision_recall_curve``); the anomalies are the positive class. :func:`load_other_dataset` gives the real
outliers of the other data set (Fashion-MNIST images for an MNIST model and the reverse), where likelihood-based
scores can rank the outliers as *more* normal than the data (Nalisnick et al., "Do deep generative models know what
they don't know?", ICLR 2019).
"""
from __future__ import annotations

import numpy as np

from . import _validate, data

__all__ = ["HELD_OUT", "held_out_class", "held_out_split", "reconstruction_nats", "mean_image_scores", "pca_scores",
           "negative_elbo", "roc_auc", "precision_at_recall", "roc_curve", "other_dataset", "load_other_dataset"]

#: The class each data set holds out in lab 11: the digit 8 (it shares strokes with 0, 3, 5, 6 and 9) and
#: "Shirt" (6), the Fashion-MNIST class most often confused with T-shirt/top, Pullover and Coat.
HELD_OUT = {"mnist": 8, "fashion_mnist": 6}

_EPS = 1e-7  # probabilities clipped to [eps, 1 - eps], as labutils.metrics.per_image_bce


def held_out_class(name: str | None = None) -> int:
    """The class lab 11 holds out on data set ``name`` (default ``LABS_DATASET``): 8 for MNIST, 6 for Fashion-MNIST.

    Raises:
        ValueError / TypeError: an unknown data set name (see :func:`labutils.data.dataset_info`).
    """
    return HELD_OUT[data.dataset_info(name).name]


def _labels(y, n, name):
    arr = _validate.as_array(y, name)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be ({n},) integer class labels; got shape {arr.shape}, dtype {arr.dtype}.")
    return arr.astype(np.int64)


def _class(value, name="held_out"):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int class label 0-9; got {value!r} ({type(value).__name__}).")
    if not 0 <= int(value) <= 9:
        raise ValueError(f"{name} must be a class label from 0 to 9; got {value}.")
    return int(value)


def held_out_split(x_train, y_train, x_test, y_test, held_out: int):
    """Train on every class but ``held_out``; test on all, with the held-out class as the anomalies.

    Args:
        x_train, x_test: images ``(n, ...)`` (any trailing shape), any dtype.
        y_train, y_test: integer labels ``(n,)`` from 0 to 9.
        held_out: the class left out of training (an int 0-9).

    Returns:
        ``(x_normal, y_normal, is_anomaly)``: the training images and labels of the other nine classes (the
        held-out class removed, order kept), and ``is_anomaly`` ``(n_test,)`` int64, 1 where ``y_test ==
        held_out`` (the positives of :func:`roc_auc`), 0 elsewhere.

    Raises:
        TypeError: non-integer labels or ``held_out``. ValueError: labels whose length differs from the images',
            ``held_out`` outside 0-9, or a split where the held-out class is missing from the test set or is all
            of the training set.
    """
    held_out = _class(held_out)
    x_train, x_test = _validate.as_array(x_train, "x_train"), _validate.as_array(x_test, "x_test")
    y_train = _labels(y_train, len(x_train), "y_train")
    y_test = _labels(y_test, len(x_test), "y_test")
    keep = y_train != held_out
    if not keep.any():
        raise ValueError(f"every training image is of class {held_out}: nothing is left to train on.")
    is_anomaly = (y_test == held_out).astype(np.int64)
    if not is_anomaly.any() or is_anomaly.all():
        raise ValueError(f"the test set must hold images of class {held_out} and of other classes; "
                         f"it has {int(is_anomaly.sum())} of {len(y_test)} of class {held_out}.")
    return x_train[keep], y_train[keep], is_anomaly


def reconstruction_nats(x, x_hat) -> np.ndarray:
    """Reconstruction error per image in nats: ``-sum_j [x_j log p_j + (1 - x_j) log(1 - p_j)]``, ``p = x_hat``.

    The binary cross-entropy summed over pixels, with ``p`` clipped to ``[1e-7, 1 - 1e-7]`` (as
    :func:`labutils.metrics.per_image_bce`, times the number of pixels): 784 x the per-pixel BCE on 28x28 images.

    Args:
        x: images ``(n, ...)`` float in [0, 1] (a batch: at least two dimensions).
        x_hat: reconstructions of the same shape, float in [0, 1].

    Returns:
        ``float64`` ``(n,)``, nats per image (higher = more anomalous).

    Raises:
        ValueError: shapes differ, an unbatched image, values outside [0, 1], NaN or inf.
        TypeError: complex, object or non-numeric arrays.
    """
    x = _validate.batch(_validate.unit_interval(x, "x"), "x", "(n, ...)")
    p = _validate.batch(_validate.unit_interval(x_hat, "x_hat"), "x_hat", "(n, ...)")
    if x.shape != p.shape:
        raise ValueError(f"x {x.shape} and x_hat {p.shape} must have the same shape.")
    x = x.reshape(len(x), -1).astype(np.float64)
    p = np.clip(p.reshape(len(p), -1).astype(np.float64), _EPS, 1.0 - _EPS)
    return -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).sum(axis=1)


def mean_image_scores(x_train, x) -> np.ndarray:
    """Baseline score: :func:`reconstruction_nats` of ``x`` against the mean training image (nats per image).

    Args:
        x_train: ``(m, ...)`` training images, float in [0, 1]; their pixel-wise mean is the "reconstruction".
        x: ``(n, ...)`` images to score, same pixels per image.

    Returns:
        ``float64`` ``(n,)``.

    Raises:
        ValueError / TypeError: as :func:`reconstruction_nats`; differing pixel counts.
    """
    xtr = _validate.batch(_validate.unit_interval(x_train, "x_train"), "x_train", "(m, ...)")
    xs = _validate.batch(_validate.unit_interval(x, "x"), "x", "(n, ...)")
    xtr, xs = xtr.reshape(len(xtr), -1), xs.reshape(len(xs), -1)
    if xtr.shape[1] != xs.shape[1]:
        raise ValueError(f"x_train has {xtr.shape[1]} pixels per image, x {xs.shape[1]}.")
    return reconstruction_nats(xs, np.broadcast_to(xtr.mean(axis=0), xs.shape))


def pca_scores(x_train, x, n_components: int = 32, seed: int = 0) -> np.ndarray:
    """Baseline score: :func:`reconstruction_nats` of ``x`` after PCA with ``n_components`` (scikit-learn).

    PCA is fitted on ``x_train``; each image is projected onto the top components and back, clipped to [0, 1]
    (:func:`labutils.autoencoders.pca_reconstruction`). With ``n_components`` equal to an autoencoder's code size
    it is the linear autoencoder of the same size.

    Args:
        x_train: ``(m, ...)`` float in [0, 1]. x: ``(n, ...)`` float in [0, 1].
        n_components: components kept (a positive int below ``min(m, pixels)``).
        seed: the PCA solver's random_state.

    Returns:
        ``float64`` ``(n,)``, nats per image.

    Raises:
        ValueError / TypeError: as :func:`labutils.autoencoders.pca_reconstruction`.
    """
    from .autoencoders import pca_reconstruction

    x_hat = pca_reconstruction(x_train, x, n_components=n_components, seed=seed)
    return reconstruction_nats(np.asarray(x, dtype=np.float32).reshape(x_hat.shape), x_hat)


def negative_elbo(model, x, *, k: int = 1, seed: int = 0, chunk_size: int = 5000) -> np.ndarray:
    """A VAE's negative ELBO per image, in nats: ``-mean_i log w_i`` over ``k`` samples ``z_i ~ q(z|x)``.

    ``log w = log p(x|z) + log p(z) - log q(z|x)`` (:func:`labutils.vae.log_importance_weights`); its mean over
    samples is an unbiased estimate of the ELBO, so this is an estimate of
    ``-ELBO(x) = E_q[-log p(x|z)] + KL(q(z|x) || p(z)) >= -log p(x)``. Higher = less likely under the model.

    Args:
        model: a trained :class:`labutils.vae.VAE` (dense or recurrent, e.g. :func:`labutils.sequence.build_vrae`).
        x: ``(n, 784)`` float32 in [0, 1] (the data the model was trained on: grey for lab 11's models).
        k: posterior samples per image (a positive int; more samples, less noise).
        seed: NumPy seed of the samples (an int from 0 to 2**32 - 1).
        chunk_size: decoder rows per pass.

    Returns:
        ``float64`` ``(n,)``, nats per image.

    Raises:
        TypeError / ValueError: as :func:`labutils.vae.log_importance_weights`.
    """
    from . import vae

    return -vae.log_importance_weights(model, x, k, chunk_size=chunk_size, seed=seed).mean(axis=1)


def _scores_and_labels(is_anomaly, scores):
    s = _validate.finite_array(scores, "scores")
    if s.ndim != 1 or len(s) == 0:
        raise ValueError(f"scores must be (n,) numbers, one per image; got shape {s.shape}.")
    y = _validate.as_array(is_anomaly, "is_anomaly")
    if y.shape != s.shape:
        raise ValueError(f"is_anomaly must be ({len(s)},) like scores; got shape {y.shape}.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("is_anomaly must hold only 0 (normal) and 1 (anomaly).")
    y = y.astype(np.int64)
    if y.min() == y.max():
        raise ValueError(f"is_anomaly must hold both classes; all {len(y)} labels are {int(y[0])}.")
    return y, s


def roc_auc(is_anomaly, scores) -> float:
    """Area under the ROC curve of ``scores`` for telling anomalies (1) from normal images (0).

    The probability that a random anomaly scores higher than a random normal image (ties count one half):
    1 is perfect, 0.5 is chance, below 0.5 the score ranks the anomalies as *more* normal. scikit-learn's
    ``roc_auc_score``.

    Args:
        is_anomaly: ``(n,)`` 0/1 labels, both present.
        scores: ``(n,)`` finite numbers, higher = more anomalous.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: shapes differ, labels other than 0/1 or only one class, NaN or inf scores.
        TypeError: non-numeric arrays.
    """
    from sklearn.metrics import roc_auc_score

    y, s = _scores_and_labels(is_anomaly, scores)
    return float(roc_auc_score(y, s))


def roc_curve(is_anomaly, scores):
    """The ROC curve ``(false positive rate, true positive rate)``, each a ``float64`` array (scikit-learn).

    Raises:
        ValueError / TypeError: as :func:`roc_auc`.
    """
    from sklearn.metrics import roc_curve as _roc

    y, s = _scores_and_labels(is_anomaly, scores)
    fpr, tpr, _ = _roc(y, s)
    return fpr, tpr


def precision_at_recall(is_anomaly, scores, recall: float = 0.9) -> float:
    """The precision of the best threshold that still finds at least ``recall`` of the anomalies.

    Over the thresholds of scikit-learn's ``precision_recall_curve``, the largest precision (anomalies among the
    images flagged) whose recall (anomalies flagged among all anomalies) is at least ``recall``. Chance level is
    the fraction of anomalies in the data (about 0.1 for one held-out class of ten).

    Args:
        is_anomaly: ``(n,)`` 0/1 labels, both present. scores: ``(n,)`` finite, higher = more anomalous.
        recall: the recall to reach, in (0, 1].

    Returns:
        A float in (0, 1].

    Raises:
        ValueError: as :func:`roc_auc`; ``recall`` outside (0, 1]. TypeError: a non-number ``recall``.
    """
    from sklearn.metrics import precision_recall_curve

    recall = _validate.probability(recall, "recall")
    if recall <= 0:
        raise ValueError(f"recall must be in (0, 1]; got {recall}.")
    y, s = _scores_and_labels(is_anomaly, scores)
    precision, recalls, _ = precision_recall_curve(y, s)
    return float(precision[recalls >= recall].max())


def other_dataset(name: str | None = None) -> str:
    """The other data set: ``"fashion_mnist"`` for ``"mnist"`` and the reverse (default ``LABS_DATASET``).

    Raises:
        ValueError / TypeError: an unknown data set name.
    """
    return "fashion_mnist" if data.dataset_info(name).name == "mnist" else "mnist"


def load_other_dataset(n: int, name: str | None = None) -> np.ndarray:
    """``n`` test images of the *other* data set (:func:`other_dataset`), flat ``(n, 784)`` float32 in [0, 1].

    Real outliers for a model trained on ``name``: Fashion-MNIST for MNIST and MNIST for Fashion-MNIST. They are
    found as every data set is (``LABUTILS_DATA_DIR``, ``data/``, Keras' cache or download; see
    :func:`labutils.data.load_dataset`) and, when ``LABUTILS_DATA_DIR`` names one data set's own folder (e.g.
    ``.../datasets/mnist``), also in the folder beside it (``.../datasets/fashion-mnist``). With only MNIST's test
    split on disk its offline split's 2,000 test images are used, so ``n`` can be at most 2,000 there.

    Args:
        n: number of images (a positive int, at most the other test split's size).
        name: the data set the model was trained on (default ``LABS_DATASET``).

    Raises:
        TypeError / ValueError: a bad ``n`` or name; ``n`` above the test split's size.
        labutils.data.DatasetNotFoundError: the other data set is not available.
    """
    import os

    n = _validate.positive_int(n, "n")
    other = other_dataset(name)
    try:
        _, (x_test, _) = data.load_dataset(other, scale=True, flatten=True, n_train=1, n_test=n, verbose=False)
    except data.DatasetNotFoundError:
        env = os.environ.get(data.DATA_DIR_ENV, "").strip()
        sibling = os.path.join(os.path.dirname(os.path.abspath(env)), data.dataset_info(other).folder) if env else ""
        if not sibling or not os.path.isdir(sibling):
            raise
        try:  # the data directory names one data set's folder: look beside it
            os.environ[data.DATA_DIR_ENV] = sibling
            _, (x_test, _) = data.load_dataset(other, scale=True, flatten=True, n_train=1, n_test=n, verbose=False)
        finally:
            os.environ[data.DATA_DIR_ENV] = env
    return x_test
