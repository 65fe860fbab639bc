"""MNIST loading (online and offline) and the input corruptions used by the labs.

Where MNIST is looked for, in order:

1. the directory named by the environment variable ``LABUTILS_DATA_DIR``;
2. ``data/`` in the current directory and ``data/`` in the project checkout;
3. ``keras.datasets.mnist.load_data()`` (its cached copy under ``~/.keras``, or a
   download).

In a directory, either Keras' ``mnist.npz`` or the original IDX files
(``train-images-idx3-ubyte.gz`` ... ``t10k-labels-idx1-ubyte.gz``, gzip or
not) are accepted. When only the 10,000-image test split is there (machines
without internet), :func:`load_mnist` makes the project's fixed, stratified
8,000 / 2,000 train/test split of it and says so.

Source of the data: Y. LeCun, C. Cortes and C. J. C. Burges, *The MNIST
database of handwritten digits* (IDX format as described there).
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _validate

__all__ = [
    "DATA_DIR_ENV",
    "IDX_FILES",
    "MnistNotFoundError",
    "MnistSource",
    "read_idx",
    "find_mnist",
    "offline_split",
    "load_mnist",
    "stratified_subset",
    "gaussian_noise",
    "masking_noise",
    "salt_and_pepper",
    "binarize",
    "dynamic_binarize",
]

DATA_DIR_ENV = "LABUTILS_DATA_DIR"
PROJECT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: The four IDX files of MNIST, by role.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ_FILE = "mnist.npz"

#: The offline split: sizes and seed fixed project-wide so numbers compare.
OFFLINE_TEST_SIZE = 2000
OFFLINE_RANDOM_STATE = 0

_IMAGE_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions
_LABEL_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension


class MnistNotFoundError(FileNotFoundError):
    """Raised when MNIST is neither on disk nor downloadable; the message says what to do."""


@dataclass(frozen=True)
class MnistSource:
    """Where MNIST was found.

    Attributes:
        kind: ``"npz"`` (Keras' mnist.npz in a data directory), ``"idx"`` (all
            four IDX files), ``"idx-test-only"`` (only the t10k files: the
            offline 8,000 / 2,000 split is used) or ``"keras"``
            (``keras.datasets.mnist.load_data()``).
        path: the directory (or file) that was used; None for ``"keras"``.
    """

    kind: str
    path: str | None

    @property
    def offline_split(self) -> bool:
        """True when the 8,000 / 2,000 split of the 10,000 test images is used."""
        return self.kind == "idx-test-only"

    def describe(self) -> str:
        """One line for a notebook's set-up cell and the results table."""
        if self.kind == "keras":
            return "MNIST 60,000 / 10,000 via keras.datasets.mnist.load_data()"
        if self.offline_split:
            return (
                f"MNIST test split only ({self.path}): stratified 8,000 / 2,000 "
                f"train/test split (random_state={OFFLINE_RANDOM_STATE})"
            )
        return f"MNIST 60,000 / 10,000 from {self.path}"


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path) -> np.ndarray:
    """Read one MNIST IDX file (optionally gzip-compressed) and validate it.

    Args:
        path: ``str`` or ``Path`` to e.g. ``t10k-images-idx3-ubyte.gz``.

    Returns:
        ``uint8`` array: images ``(n, 28, 28)`` in 0-255 for magic 2051, labels
        ``(n,)`` in 0-9 for magic 2049.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is corrupt: not gzip although named ``.gz``, a
            wrong magic number (only unsigned-byte 2051/2049 are MNIST), a
            header that disagrees with the payload size (truncated or padded),
            or labels outside 0-9.

    Format: LeCun et al., "The MNIST database", section "File formats": a
    big-endian int32 magic number ``0x000008NN`` (NN = number of dimensions),
    one big-endian int32 per dimension, then the data in C order.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        with _open(path) as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path} is corrupt or truncated: cannot decompress it ({exc}).") from exc
    if len(raw) < 8:
        raise ValueError(f"{path} is corrupt: {len(raw)} bytes is too short for an IDX header.")
    (magic,) = struct.unpack(">i", raw[:4])
    if magic not in (_IMAGE_MAGIC, _LABEL_MAGIC):
        raise ValueError(
            f"{path} is not an MNIST IDX file: magic number {magic}, expected "
            f"{_IMAGE_MAGIC} (images) or {_LABEL_MAGIC} (labels)."
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated inside its header.")
    dims = struct.unpack(">" + "i" * ndim, raw[4:header])
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise ValueError(
            f"{path} is corrupt or truncated: its header promises {dims} = {expected} "
            f"bytes of data, but the file holds {len(raw) - header}."
        )
    data = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()
    if magic == _IMAGE_MAGIC and dims[1:] != (28, 28):
        raise ValueError(f"{path}: expected 28x28 images, header says {dims[1:]}.")
    if magic == _LABEL_MAGIC and data.size and data.max() > 9:
        raise ValueError(f"{path}: labels must be digits 0-9; found {int(data.max())}.")
    return data


def _find_idx(directory: Path, key: str) -> Path | None:
    for suffix in (".gz", ""):
        candidate = directory / (IDX_FILES[key] + suffix)
        if candidate.is_file():
            return candidate
    return None


def _candidate_dirs() -> list[Path]:
    dirs = []
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        dirs.append(Path(env).expanduser())
    for d in (Path.cwd() / "data", PROJECT_DATA_DIR):
        if d.resolve() not in [x.resolve() for x in dirs]:
            dirs.append(d)
    return dirs


def find_mnist() -> MnistSource:
    """Say where :func:`load_mnist` would read MNIST from, without loading it.

    Returns:
        The first :class:`MnistSource` found on disk (see the module docstring
        for the order), or ``MnistSource("keras", None)`` when no local copy
        exists (Keras then uses its cache or downloads).

    Raises:
        ValueError: ``LABUTILS_DATA_DIR`` names a directory that does not exist,
            or a directory holds only some of a split's IDX files (e.g. test
            images without test labels).
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env and not Path(env).expanduser().is_dir():
        raise ValueError(f"{DATA_DIR_ENV}={env!r} is not a directory; point it at the folder holding the MNIST files.")
    for d in _candidate_dirs():
        if (d / NPZ_FILE).is_file():
            return MnistSource("npz", str(d / NPZ_FILE))
        found = {k: _find_idx(d, k) for k in IDX_FILES}
        for split in ("train", "test"):
            have = [found[f"{split}_images"] is not None, found[f"{split}_labels"] is not None]
            if any(have) and not all(have):
                missing = [IDX_FILES[f"{split}_{r}"] for r, h in zip(("images", "labels"), have) if not h]
                raise ValueError(f"{d} holds only part of the MNIST {split} split: {missing[0]}(.gz) is missing.")
        if all(found.values()):
            return MnistSource("idx", str(d))
        if found["test_images"] is not None:
            return MnistSource("idx-test-only", str(d))
        if found["train_images"] is not None:
            raise ValueError(f"{d} holds the MNIST train split but not the test split (t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).")
    return MnistSource("keras", None)


def offline_split(labels, test_size: int = OFFLINE_TEST_SIZE, random_state: int = OFFLINE_RANDOM_STATE):
    """Indices of the project's fixed stratified split of the 10,000 test images.

    ``sklearn.model_selection.train_test_split(np.arange(n), test_size=2000,
    stratify=labels, random_state=0)``: every number in the project is measured
    on this split when only the MNIST test set is available.

    Args:
        labels: ``(n,)`` integer labels 0-9.
        test_size: number of test images (default 2000).
        random_state: the split's seed (default 0).

    Returns:
        ``(train_idx, test_idx)``: int arrays of shapes ``(n - test_size,)`` and
        ``(test_size,)``, disjoint, in train_test_split's (shuffled) order.

    Raises:
        ValueError: labels not one-dimensional, or test_size not below n.
    """
    from sklearn.model_selection import train_test_split

    labels = _validate.as_array(labels, "labels")
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (n,); got shape {labels.shape}.")
    test_size = _validate.positive_int(test_size, "test_size")
    if test_size >= labels.shape[0]:
        raise ValueError(f"test_size={test_size} must be smaller than the {labels.shape[0]} labels.")
    return train_test_split(
        np.arange(labels.shape[0]), test_size=test_size, stratify=labels, random_state=random_state
    )


def _not_found_message(keras_error: Exception) -> str:
    looked = "\n".join(f"  - {d}" for d in _candidate_dirs())
    return (
        "MNIST was not found.\nLooked in these directories (first match wins):\n"
        f"{looked}\n"
        f"for '{NPZ_FILE}' or the IDX files "
        + ", ".join(f"'{n}.gz'" for n in IDX_FILES.values())
        + f" (the two t10k files alone give the offline 8,000/2,000 split).\n"
        f"Then keras.datasets.mnist.load_data() failed: {keras_error}\n"
        "Fix: put the files into one of these directories, or point "
        f"{DATA_DIR_ENV} at the folder that holds them (in this project's CI: "
        f"{DATA_DIR_ENV}=../shared/datasets/mnist), or connect to the internet once so that "
        "Keras can download and cache mnist.npz."
    )


def _read_role(directory: Path, key: str) -> np.ndarray:
    """read_idx, plus a check that an images file holds images and a labels file labels."""
    path = _find_idx(directory, key)
    arr = read_idx(path)
    want = 3 if key.endswith("images") else 1
    if arr.ndim != want:
        kind = "images (magic 2051)" if want == 3 else "labels (magic 2049)"
        raise ValueError(f"{path} should hold {kind} but holds an array of shape {arr.shape}.")
    return arr


def _load_raw(source: MnistSource):
    if source.kind == "npz":
        with np.load(source.path) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    if source.kind in ("idx", "idx-test-only"):
        d = Path(source.path)
        x_t10k, y_t10k = _read_role(d, "test_images"), _read_role(d, "test_labels")
        if x_t10k.shape[0] != y_t10k.shape[0]:
            raise ValueError(f"{d}: {x_t10k.shape[0]} test images but {y_t10k.shape[0]} labels.")
        if source.kind == "idx-test-only":
            train_idx, test_idx = offline_split(y_t10k)
            return (x_t10k[train_idx], y_t10k[train_idx]), (x_t10k[test_idx], y_t10k[test_idx])
        x_train, y_train = _read_role(d, "train_images"), _read_role(d, "train_labels")
        if x_train.shape[0] != y_train.shape[0]:
            raise ValueError(f"{d}: {x_train.shape[0]} train images but {y_train.shape[0]} labels.")
        return (x_train, y_train), (x_t10k, y_t10k)
    import keras

    try:
        return keras.datasets.mnist.load_data()
    except Exception as exc:  # Keras raises a bare Exception on a failed download
        raise MnistNotFoundError(_not_found_message(exc)) from exc


def load_mnist(
    *,
    scale: bool = False,
    flatten: bool = False,
    channel_axis: bool = False,
    n_train: int | None = None,
    n_test: int | None = None,
    verbose: bool = True,
):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Args:
        scale: if True, images are ``float32`` in [0, 1] (pixel / 255);
            otherwise ``uint8`` in 0-255.
        flatten: if True, images are ``(n, 784)``.
        channel_axis: if True, images are ``(n, 28, 28, 1)`` (for Conv2D).
            Without ``flatten`` or ``channel_axis`` they are ``(n, 28, 28)``.
        n_train, n_test: keep only the first n images of each split (a subset
            for the quick profile; the splits are shuffled, so this stays
            close to class-balanced). None keeps all.
        verbose: print one line saying which data is used.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``; labels are ``uint8`` ``(n,)``
        in 0-9. With only the 10,000 test images on disk this is the fixed
        8,000 / 2,000 split of :func:`offline_split`; with full MNIST it is the
        usual 60,000 / 10,000.

    Raises:
        ValueError: ``flatten`` and ``channel_axis`` both set; ``n_train`` or
            ``n_test`` not positive or larger than the split; corrupt files
            (see :func:`read_idx`).
        TypeError: ``n_train``/``n_test`` not an int.
        MnistNotFoundError: no local copy and Keras cannot download; the
            message lists the directories and file names looked for.
    """
    if flatten and channel_axis:
        raise ValueError("Choose at most one of flatten=True ((n, 784)) and channel_axis=True ((n, 28, 28, 1)).")
    source = find_mnist()
    (x_train, y_train), (x_test, y_test) = _load_raw(source)
    out = []
    for x, y, n, name in ((x_train, y_train, n_train, "n_train"), (x_test, y_test, n_test, "n_test")):
        if n is not None:
            n = _validate.positive_int(n, name)
            if n > x.shape[0]:
                raise ValueError(f"{name}={n} exceeds the {x.shape[0]} images of this split ({source.describe()}).")
            x, y = x[:n], y[:n]
        if scale:
            x = x.astype(np.float32) / np.float32(255.0)
        if flatten:
            x = x.reshape(x.shape[0], -1)
        elif channel_axis:
            x = x[..., None]
        out.append((x, y.astype(np.uint8)))
    if verbose:
        print(f"{source.describe()}; using {out[0][0].shape[0]} train / {out[1][0].shape[0]} test images")
    return tuple(out)


def stratified_subset(labels, n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` labelled examples with equal counts per class (within one).

    For label-budget experiments ("100 labels" = 10 per digit): each class gets
    ``n // k`` examples (k classes) and ``n % k`` randomly chosen classes one
    more, drawn without replacement; the same ``seed`` gives the same subset.

    Args:
        labels: ``(m,)`` integer class labels.
        n: budget, between the number of classes and ``m``.
        seed: seed of NumPy's ``default_rng`` for the draw.

    Returns:
        Sorted int array ``(n,)`` of distinct indices into ``labels``.

    Raises:
        ValueError: ``n`` smaller than the number of classes or larger than ``m``;
            a class with fewer examples than its share; labels not
            one-dimensional. TypeError: non-int ``n``.
    """
    labels = _validate.as_array(labels, "labels")
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (m,); got shape {labels.shape}.")
    n = _validate.positive_int(n, "n")
    classes, counts = np.unique(labels, return_counts=True)
    if n < classes.size or n > labels.shape[0]:
        raise ValueError(f"n={n} must lie between the number of classes ({classes.size}) and the number of labels ({labels.shape[0]}).")
    rng = np.random.default_rng(seed)
    share = np.full(classes.size, n // classes.size)
    share[rng.permutation(classes.size)[: n % classes.size]] += 1
    short = [(c, k, s) for c, k, s in zip(classes, counts, share) if k < s]
    if short:
        c, k, s = short[0]
        raise ValueError(f"class {c} has only {k} examples but needs {s} for n={n} in equal shares; choose a smaller n.")
    picked = [rng.choice(np.flatnonzero(labels == c), size=s, replace=False) for c, s in zip(classes, share)]
    return np.sort(np.concatenate(picked))


# --------------------------------------------------------------------------
# Corruptions (denoising autoencoders) and binarization (VAE, RBM)
# --------------------------------------------------------------------------

def gaussian_noise(x, noise_factor: float = 0.5, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise and clip: ``clip(x + noise_factor * N(0, 1), 0, 1)``.

    The classic denoising-autoencoder corruption (the Keras blog's
    "noise_factor = 0.5").

    Args:
        x: images, any shape, ``float`` in [0, 1].
        noise_factor: standard deviation of the noise, >= 0.
        seed: seed of NumPy's ``default_rng``; the same seed gives the same noise.

    Returns:
        ``float32`` array of ``x``'s shape in [0, 1].

    Raises:
        ValueError: ``x`` outside [0, 1] (e.g. 0-255 pixels) or a negative
            ``noise_factor``. TypeError: non-numeric input.
    """
    x = _validate.unit_interval(x, "x")
    if isinstance(noise_factor, (bool, np.bool_)) or not isinstance(noise_factor, (int, float, np.integer, np.floating)):
        raise TypeError(f"noise_factor must be a number; got {noise_factor!r} ({type(noise_factor).__name__}).")
    if not np.isfinite(noise_factor) or noise_factor < 0:
        raise ValueError(f"noise_factor must be a finite number >= 0; got {noise_factor!r}.")
    rng = np.random.default_rng(seed)
    noisy = x + np.float32(noise_factor) * rng.standard_normal(x.shape, dtype=np.float32)
    return np.clip(noisy, 0.0, 1.0)


def masking_noise(x, fraction: float = 0.3, seed: int = 0) -> np.ndarray:
    """Set a random ``fraction`` of each input's values to 0 (masking noise).

    Vincent et al., "Extracting and composing robust features with denoising
    autoencoders", ICML 2008, section 2.3.

    Args:
        x: images ``(n, ...)``, ``float`` in [0, 1].
        fraction: probability that each value is zeroed, in [0, 1].
        seed: NumPy ``default_rng`` seed.

    Returns:
        ``float32`` array of ``x``'s shape in [0, 1].

    Raises:
        ValueError: ``x`` outside [0, 1] or ``fraction`` outside [0, 1].
    """
    x = _validate.unit_interval(x, "x")
    fraction = _validate.probability(fraction, "fraction")
    rng = np.random.default_rng(seed)
    keep = rng.random(x.shape) >= fraction
    return np.where(keep, x, np.float32(0.0)).astype(np.float32)


def salt_and_pepper(x, amount: float = 0.1, seed: int = 0) -> np.ndarray:
    """Set a random ``amount`` of values to 0 or 1, each with probability 1/2.

    Vincent et al., JMLR 11 (2010), "Stacked denoising autoencoders",
    section 4.2 (salt-and-pepper noise).

    Args:
        x: images, ``float`` in [0, 1].
        amount: probability that a value is replaced, in [0, 1].
        seed: NumPy ``default_rng`` seed.

    Returns:
        ``float32`` array of ``x``'s shape in [0, 1].

    Raises:
        ValueError: ``x`` outside [0, 1] or ``amount`` outside [0, 1].
    """
    x = _validate.unit_interval(x, "x")
    amount = _validate.probability(amount, "amount")
    rng = np.random.default_rng(seed)
    hit = rng.random(x.shape) < amount
    salt = rng.random(x.shape) < 0.5
    return np.where(hit, salt.astype(np.float32), x).astype(np.float32)


def binarize(x, threshold: float = 0.5) -> np.ndarray:
    """Static binarization: 1 where ``x > threshold``, else 0.

    Args:
        x: ``float`` in [0, 1], any shape.
        threshold: in [0, 1).

    Returns:
        ``float32`` array of 0s and 1s, ``x``'s shape.

    Raises:
        ValueError: ``x`` outside [0, 1] or threshold outside [0, 1).
    """
    x = _validate.unit_interval(x, "x")
    threshold = _validate.probability(threshold, "threshold", allow_one=False)
    return (x > threshold).astype(np.float32)


def dynamic_binarize(x, seed: int = 0) -> np.ndarray:
    """Dynamic binarization: each pixel is a Bernoulli sample with p = intensity.

    The binarization used for likelihood results on MNIST (Salakhutdinov &
    Murray, ICML 2008, section 5; Burda et al., ICLR 2016, section 5.1):
    resample every epoch for training, fix one sample (one seed) for testing.

    Args:
        x: ``float`` in [0, 1], any shape.
        seed: NumPy ``default_rng`` seed.

    Returns:
        ``float32`` array of 0s and 1s, ``x``'s shape.

    Raises:
        ValueError: ``x`` outside [0, 1].
    """
    x = _validate.unit_interval(x, "x")
    rng = np.random.default_rng(seed)
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
