"""The labs' data sets (MNIST and Fashion-MNIST, online and offline) and the input corruptions.

``LABS_DATASET`` picks the data set of every lab: ``mnist`` (default) or
``fashion_mnist``. :func:`load_dataset` loads the chosen one; where it looks,
in order:

1. the directory named by the environment variable ``LABUTILS_DATA_DIR``: first
   its sub-folder named after the data set (``mnist/``, ``fashion-mnist/``),
   then the directory itself;
2. the same in ``data/`` of the current directory and ``data/`` of the checkout;
3. ``keras.datasets.mnist.load_data()`` or ``keras.datasets.fashion_mnist.load_data()``
   (Keras' cached copy under ``~/.keras``, or a download).

In a directory, either a Keras-style ``.npz`` (``mnist.npz``, ``fashion_mnist.npz``)
or the four IDX files (``train-images-idx3-ubyte.gz`` ... ``t10k-labels-idx1-ubyte.gz``,
gzip or not) are accepted; both are validated (shapes, dtypes, label range,
counts). MNIST and Fashion-MNIST use the same file names, so a directory is
recognised by its first ten test labels: a folder that holds the other data set
is skipped, never read as this one. When only the 10,000-image test split is
there (MNIST on machines without internet), :func:`load_dataset` makes the
project's fixed, stratified 8,000 / 2,000 train/test split of it and says so.

Sources: Y. LeCun, C. Cortes and C. J. C. Burges, *The MNIST database of
handwritten digits* (IDX format as described there); H. Xiao, K. Rasul and
R. Vollgraf, *Fashion-MNIST*, arXiv:1708.07747 (2017).
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
    "DATASET_ENV",
    "DATASETS",
    "IDX_FILES",
    "Dataset",
    "DataSource",
    "DatasetNotFoundError",
    "MnistSource",
    "MnistNotFoundError",
    "dataset_name",
    "dataset_info",
    "class_names",
    "read_idx",
    "find_dataset",
    "find_mnist",
    "offline_split",
    "load_dataset",
    "load_mnist",
    "stratified_subset",
    "gaussian_noise",
    "masking_noise",
    "salt_and_pepper",
    "binarize",
    "dequantize",
    "dynamic_binarize",
]

DATA_DIR_ENV = "LABUTILS_DATA_DIR"
DATASET_ENV = "LABS_DATASET"
PROJECT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: The four IDX files, by role (the same names for MNIST and Fashion-MNIST).
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


@dataclass(frozen=True)
class Dataset:
    """What the labs need to know about one data set.

    Attributes:
        name: the value of ``LABS_DATASET``: ``"mnist"`` or ``"fashion_mnist"``.
        title: for texts and figure titles, e.g. ``"Fashion-MNIST"``.
        folder: the sub-folder looked for in a data directory (``"fashion-mnist"``).
        npz: the Keras-style ``.npz`` file name accepted in a data directory.
        class_names: the 10 class names, index = label.
        item: what one image shows, singular (``"digit"``, ``"fashion item"``).
        test_signature: the first ten labels of the official test split; they
            tell MNIST files from Fashion-MNIST files with the same names.
    """

    name: str
    title: str
    folder: str
    npz: str
    class_names: tuple
    item: str
    test_signature: tuple

    def class_name(self, label) -> str:
        """The name of class ``label`` (an int 0-9), e.g. ``"7"`` or ``"Sneaker"``."""
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) < 10:
            raise ValueError(f"label must be an int in 0-9; got {label!r}.")
        return self.class_names[int(label)]


#: The data sets every lab runs on, by ``LABS_DATASET`` value.
DATASETS = {
    "mnist": Dataset(
        name="mnist", title="MNIST", folder="mnist", npz="mnist.npz",
        class_names=tuple(str(d) for d in range(10)), item="digit",
        test_signature=(7, 2, 1, 0, 4, 1, 4, 9, 5, 9)),
    "fashion_mnist": Dataset(
        name="fashion_mnist", title="Fashion-MNIST", folder="fashion-mnist", npz="fashion_mnist.npz",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        item="fashion item",
        test_signature=(9, 2, 1, 1, 6, 1, 4, 6, 5, 7)),
}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a data set is neither on disk nor downloadable; the message says what to do."""


MnistNotFoundError = DatasetNotFoundError


def dataset_name() -> str:
    """The data set chosen by ``LABS_DATASET``: ``"mnist"`` (default) or ``"fashion_mnist"``.

    Case and surrounding blanks are ignored, and ``fashion-mnist`` is read as
    ``fashion_mnist``.

    Raises:
        ValueError: ``LABS_DATASET`` names another data set.
    """
    raw = os.environ.get(DATASET_ENV, "").strip().lower().replace("-", "_")
    if raw == "":
        return "mnist"
    if raw not in DATASETS:
        raise ValueError(f"{DATASET_ENV}={os.environ[DATASET_ENV]!r} is not a data set; expected one of "
                         f"{', '.join(DATASETS)} (or leave it unset for mnist).")
    return raw


def dataset_info(name: str | None = None) -> Dataset:
    """The :class:`Dataset` called ``name`` (default: :func:`dataset_name`).

    Raises:
        ValueError: unknown name. TypeError: ``name`` not a string.
    """
    if name is None:
        return DATASETS[dataset_name()]
    if not isinstance(name, str):
        raise TypeError(f"name must be a data set name (str); got {name!r} ({type(name).__name__}).")
    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}.")
    return DATASETS[key]


def class_names(name: str | None = None) -> tuple:
    """The 10 class names of a data set (default: the active one), index = label.

    MNIST: ``("0", ..., "9")``; Fashion-MNIST: ``("T-shirt/top", ..., "Ankle boot")``.
    """
    return dataset_info(name).class_names


@dataclass(frozen=True)
class DataSource:
    """Where a data set was found.

    Attributes:
        kind: ``"npz"`` (a Keras-style ``.npz`` in a data directory), ``"idx"``
            (all four IDX files), ``"idx-test-only"`` (only the t10k files: the
            offline 8,000 / 2,000 split is used) or ``"keras"``
            (``keras.datasets.<name>.load_data()``).
        path: the directory (or ``.npz`` file) that was used; None for ``"keras"``.
        dataset: the data set's name, ``"mnist"`` or ``"fashion_mnist"``.
    """

    kind: str
    path: str | None
    dataset: str = "mnist"

    @property
    def offline_split(self) -> bool:
        """True when the 8,000 / 2,000 split of the 10,000 test images is used."""
        return self.kind == "idx-test-only"

    @property
    def info(self) -> Dataset:
        """The :class:`Dataset` this source holds."""
        return DATASETS[self.dataset]

    @property
    def split(self) -> str:
        """``"offline-8k"`` for the 8,000 / 2,000 split of the test images, ``"standard"`` otherwise."""
        return "offline-8k" if self.offline_split else "standard"

    def sizes(self) -> tuple[int, int]:
        """``(n_train, n_test)`` of the split this source gives, read from the headers (cheap)."""
        if self.kind == "keras":
            return 60000, 10000
        if self.kind == "npz":
            headers = _npz_headers(self.path)  # the shapes without decompressing the arrays
            return int(headers["y_train"][0][0]), int(headers["y_test"][0][0])
        d = Path(self.path)
        n_test = _idx_dims(_find_idx(d, "test_labels"))[0]
        if self.offline_split:
            return n_test - OFFLINE_TEST_SIZE, OFFLINE_TEST_SIZE
        return _idx_dims(_find_idx(d, "train_labels"))[0], n_test

    def describe(self) -> str:
        """One line for a notebook's set-up cell and the results table."""
        title = self.info.title
        if self.kind == "keras":
            return f"{title} 60,000 / 10,000 via keras.datasets.{self.dataset}.load_data()"
        n_train, n_test = self.sizes()
        if self.offline_split:
            return (
                f"{title} test split only ({self.path}): stratified {n_train:,} / {n_test:,} "
                f"train/test split (random_state={OFFLINE_RANDOM_STATE})"
            )
        return f"{title} {n_train:,} / {n_test:,} from {self.path}"


MnistSource = DataSource


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _read_header(f, path: Path):
    """(magic, dims) from an open IDX stream; reads only the header."""
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(f"{path} is corrupt: {len(head)} bytes is too short for an IDX header.")
    (magic,) = struct.unpack(">i", head)
    if magic not in (_IMAGE_MAGIC, _LABEL_MAGIC):
        raise ValueError(
            f"{path} is not an MNIST IDX file: magic number {magic}, expected "
            f"{_IMAGE_MAGIC} (images) or {_LABEL_MAGIC} (labels)."
        )
    ndim = magic & 0xFF
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise ValueError(f"{path} is truncated inside its header.")
    dims = struct.unpack(">" + "i" * ndim, raw)
    if any(d < 0 for d in dims):
        raise ValueError(f"{path} is corrupt: negative size in its header {dims}.")
    return magic, dims


def _idx_dims(path: Path) -> tuple:
    try:
        with _open(path) as f:
            return _read_header(f, path)[1]
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path} is corrupt or truncated: cannot decompress it ({exc}).") from exc


def read_idx(path, *, max_items: int | None = None) -> np.ndarray:
    """Read one MNIST-format IDX file (optionally gzip-compressed) and validate it.

    The header is read first and the payload is decompressed only up to the
    size the header promises (plus one byte to detect padding), so a small
    compressed file cannot expand into gigabytes before it is rejected.

    Args:
        path: ``str`` or ``Path`` to e.g. ``t10k-images-idx3-ubyte.gz``.
        max_items: if given, a positive int: read only the first ``max_items``
            entries (images or labels) and skip the size check of the rest; used
            to recognise a data set by its first test labels.

    Returns:
        ``uint8`` array: images ``(n, 28, 28)`` in 0-255 for magic 2051, labels
        ``(n,)`` in 0-9 for magic 2049.

    Raises:
        FileNotFoundError: the file does not exist.
        TypeError: ``path`` is not a str or Path; ``max_items`` not an int (booleans included).
        ValueError: ``max_items`` not positive; the file is corrupt: not gzip although named ``.gz``, a
            wrong magic number (only unsigned-byte 2051/2049 are MNIST), a
            header that disagrees with the payload size (truncated or padded),
            more than 70,000 entries, images that are not 28x28, or labels
            outside 0-9.

    Format: LeCun et al., "The MNIST database", section "File formats": a
    big-endian int32 magic number ``0x000008NN`` (NN = number of dimensions),
    one big-endian int32 per dimension, then the data in C order.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path naming an IDX file; got {path!r} ({type(path).__name__}).")
    if max_items is not None:
        max_items = _validate.positive_int(max_items, "max_items")  # read(-1) would decompress everything
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        with _open(path) as f:
            magic, dims = _read_header(f, path)
            if magic == _IMAGE_MAGIC and tuple(dims[1:]) != (28, 28):
                raise ValueError(f"{path}: expected 28x28 images, header says {tuple(dims[1:])}.")
            if dims[0] > 70000:
                raise ValueError(f"{path}: the header promises {dims[0]:,} entries; MNIST-format files hold at most 70,000.")
            if max_items is not None:
                dims = (min(dims[0], int(max_items)),) + tuple(dims[1:])
            expected = int(np.prod(dims))
            raw = f.read(expected + (0 if max_items is not None else 1))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path} is corrupt or truncated: cannot decompress it ({exc}).") from exc
    if len(raw) != expected:
        held = f"{len(raw)}" if len(raw) < expected else "more"
        raise ValueError(
            f"{path} is corrupt or truncated: its header promises {tuple(dims)} = {expected} "
            f"bytes of data, but the file holds {held}."
        )
    data = np.frombuffer(raw, dtype=np.uint8).reshape(dims).copy()
    if magic == _LABEL_MAGIC and data.size and data.max() > 9:
        raise ValueError(f"{path}: labels must be digits 0-9; found {int(data.max())}.")
    return data


def _find_idx(directory: Path, key: str) -> Path | None:
    for suffix in (".gz", ""):
        candidate = directory / (IDX_FILES[key] + suffix)
        if candidate.is_file():
            return candidate
    return None


def _base_dirs() -> list[Path]:
    dirs = []
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        dirs.append(Path(env).expanduser())
    for d in (Path.cwd() / "data", PROJECT_DATA_DIR):
        if d.resolve() not in [x.resolve() for x in dirs]:
            dirs.append(d)
    return dirs


def _candidate_dirs(info: Dataset) -> list[Path]:
    out = []
    for base in _base_dirs():
        out += [base / info.folder, base]
    return out


def _identify(test_labels) -> str | None:
    """The known data set whose official test split starts with these labels, else None."""
    head = tuple(int(v) for v in np.asarray(test_labels)[:10])
    for name, info in DATASETS.items():
        if head == info.test_signature:
            return name
    return None


def _source_in(d: Path, info: Dataset) -> tuple[DataSource | None, str | None]:
    """The source for ``info`` in directory ``d``: (source, None), (None, other data set) or (None, None)."""
    npz = d / info.npz
    if npz.is_file():
        return DataSource("npz", str(npz), info.name), None
    other_npz = [o for o in DATASETS.values() if o.name != info.name and (d / o.npz).is_file()]
    found = {k: _find_idx(d, k) for k in IDX_FILES}
    if not any(found.values()):
        return None, (other_npz[0].name if other_npz else None)
    if found["test_labels"] is not None:
        try:
            held = _identify(read_idx(found["test_labels"], max_items=10))
        except ValueError:
            held = None  # a corrupt file is reported when it is loaded
        if held is not None and held != info.name:
            return None, held
    for split in ("train", "test"):
        have = [found[f"{split}_images"] is not None, found[f"{split}_labels"] is not None]
        if any(have) and not all(have):
            missing = [IDX_FILES[f"{split}_{r}"] for r, h in zip(("images", "labels"), have) if not h]
            raise ValueError(f"{d} holds only part of the {info.title} {split} split: {missing[0]}(.gz) is missing.")
    if all(found.values()):
        return DataSource("idx", str(d), info.name), None
    if found["test_images"] is not None:
        return DataSource("idx-test-only", str(d), info.name), None
    raise ValueError(f"{d} holds the {info.title} train split but not the test split "
                     "(t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).")


def find_dataset(name: str | None = None) -> DataSource:
    """Say where :func:`load_dataset` would read a data set from, without loading it.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``; default :func:`dataset_name`
            (``LABS_DATASET``).

    Returns:
        The first :class:`DataSource` found on disk (see the module docstring
        for the order), or ``DataSource("keras", None, name)`` when no local
        copy exists (Keras then uses its cache or downloads).

    Raises:
        ValueError: unknown data set; ``LABUTILS_DATA_DIR`` names a directory
            that does not exist; a directory holds only some of a split's IDX
            files (e.g. test images without test labels).
    """
    info = dataset_info(name)
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env and not Path(env).expanduser().is_dir():
        raise ValueError(f"{DATA_DIR_ENV}={env!r} is not a directory; point it at the folder holding the "
                         f"{info.title} files (or at a folder with a '{info.folder}/' sub-folder).")
    for d in _candidate_dirs(info):
        if not d.is_dir():
            continue
        source, _ = _source_in(d, info)
        if source is not None:
            return source
    return DataSource("keras", None, info.name)


def find_mnist() -> DataSource:
    """:func:`find_dataset` for MNIST, whatever ``LABS_DATASET`` says."""
    return find_dataset("mnist")


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
        ValueError: labels not one-dimensional integers, test_size not below n,
            a negative ``random_state``. TypeError: non-int ``test_size`` or
            ``random_state`` (booleans included).
    """
    from sklearn.model_selection import train_test_split

    labels = _int_labels(labels, "labels", "(n,)")
    test_size = _validate.positive_int(test_size, "test_size")
    random_state = _validate.seed(random_state, "random_state")
    if test_size >= labels.shape[0]:
        raise ValueError(f"test_size={test_size} must be smaller than the {labels.shape[0]} labels.")
    return train_test_split(
        np.arange(labels.shape[0]), test_size=test_size, stratify=labels, random_state=random_state
    )


def _not_found_message(info: Dataset, keras_error: Exception) -> str:
    looked, skipped = [], []
    for d in _candidate_dirs(info):
        looked.append(f"  - {d}")
        if d.is_dir():
            try:
                _, other = _source_in(d, info)
            except ValueError:
                other = None
            if other:
                skipped.append(f"  - {d} holds {DATASETS[other].title}, not {info.title}")
    return (
        f"{info.title} was not found.\nLooked in these directories (first match wins):\n"
        + "\n".join(looked) + "\n"
        + (("Skipped (another data set):\n" + "\n".join(skipped) + "\n") if skipped else "")
        + f"for '{info.npz}' or the IDX files "
        + ", ".join(f"'{n}.gz'" for n in IDX_FILES.values())
        + " (the two t10k files alone give the offline 8,000/2,000 split).\n"
        f"Then keras.datasets.{info.name}.load_data() failed: {keras_error}\n"
        f"Fix: put the files into one of these directories (or into a '{info.folder}/' sub-folder), or point "
        f"{DATA_DIR_ENV} at the folder that holds them (in this project's CI: "
        f"{DATA_DIR_ENV}=../shared/datasets), or connect to the internet once so that "
        "Keras can download and cache the data set."
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


def _check_arrays(x, y, split: str, where: str):
    """Validate one split as Keras returns it: uint8 (n, 28, 28) images 0-255, integer labels 0-9."""
    for arr, key in ((x, f"x_{split}"), (y, f"y_{split}")):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{where}: {key} must be a NumPy array; got {type(arr).__name__}.")
    if x.dtype != np.uint8:
        raise ValueError(f"{where}: x_{split} must be uint8 pixels 0-255 (as Keras saves them); got dtype {x.dtype}"
                         + (" (already scaled to [0, 1]?)" if np.issubdtype(x.dtype, np.floating) else "") + ".")
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"{where}: x_{split} must have shape (n, 28, 28); got {x.shape}.")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{where}: y_{split} must be one-dimensional integer labels; got shape {y.shape}, dtype {y.dtype}.")
    if y.size and (int(y.min()) < 0 or int(y.max()) > 9):
        raise ValueError(f"{where}: y_{split} must hold labels 0-9; got values in [{int(y.min())}, {int(y.max())}].")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{where}: {x.shape[0]} {split} images but {y.shape[0]} labels.")
    if x.shape[0] == 0:
        raise ValueError(f"{where}: the {split} split is empty.")
    return x, y.astype(np.uint8)


_NPZ_KEYS = {"x_train", "y_train", "x_test", "y_test"}
_MAX_ENTRIES = 70000


def _npz_headers(path) -> dict:
    """``{key: (shape, dtype)}`` of an ``.npz`` read from each member's ``.npy`` header only.

    Checks what can be checked without decompressing the arrays: exactly the
    four Keras keys, no object arrays, at most 70,000 entries of at most 28x28
    values each. So a small compressed file that promises gigabytes (a "zip
    bomb") is refused before any array is decompressed.
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable .npz file ({exc}).") from exc
    headers = {}
    with archive:
        names = {n[:-4] if n.endswith(".npy") else n: n for n in archive.namelist()}
        if set(names) != _NPZ_KEYS:
            raise ValueError(f"{path} must hold exactly the arrays {sorted(_NPZ_KEYS)} (as Keras saves them); "
                             f"it holds {sorted(names)}.")
        for key, member in names.items():
            try:
                with archive.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                              else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = reader(f)
            except Exception as exc:  # not an .npy member, a corrupt header, a version we cannot read
                raise ValueError(f"{path}: {key} is not a readable .npy array ({exc}).") from exc
            if dtype.hasobject:
                raise ValueError(f"{path} holds object arrays ({key}); expected uint8 images and integer labels.")
            per_entry = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            if len(shape) == 0 or shape[0] > _MAX_ENTRIES or per_entry > 28 * 28 or dtype.itemsize > 8:
                raise ValueError(f"{path}: {key} is declared as {shape} {dtype}; MNIST-format arrays hold at most "
                                 f"{_MAX_ENTRIES:,} entries of at most 28x28 values, so it is not read.")
            headers[key] = (tuple(shape), dtype)
    return headers


def _load_npz(path: str):
    _npz_headers(path)  # keys, dtypes and sizes from the headers, before anything is decompressed
    try:
        f = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable .npz file ({exc}).") from exc
    with f:
        keys = _NPZ_KEYS
        if set(f.files) != keys:
            raise ValueError(f"{path} must hold exactly the arrays {sorted(keys)} (as Keras saves them); "
                             f"it holds {sorted(f.files)}.")
        try:
            arrays = {k: f[k] for k in keys}
        except ValueError as exc:  # object arrays need pickle
            raise ValueError(f"{path} holds object arrays; expected uint8 images and integer labels ({exc}).") from exc
    return (_check_arrays(arrays["x_train"], arrays["y_train"], "train", path),
            _check_arrays(arrays["x_test"], arrays["y_test"], "test", path))


def _load_raw(source: DataSource):
    info = source.info
    if source.kind == "npz":
        return _load_npz(source.path)
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

    loader = getattr(keras.datasets, source.dataset)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # Keras raises a bare Exception on a failed download
        raise DatasetNotFoundError(_not_found_message(info, exc)) from exc
    where = f"keras.datasets.{source.dataset}"
    return (_check_arrays(np.asarray(x_train), np.asarray(y_train), "train", where),
            _check_arrays(np.asarray(x_test), np.asarray(y_test), "test", where))


def load_dataset(
    name: str | None = None,
    *,
    scale: bool = False,
    flatten: bool = False,
    channel_axis: bool = False,
    n_train: int | None = None,
    n_test: int | None = None,
    verbose: bool = True,
):
    """Load a data set as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``; default :func:`dataset_name`
            (``LABS_DATASET``), so that one variable switches every lab.
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
        in 0-9. Online (Keras) and with the full files this is the usual
        60,000 / 10,000 split; with only the 10,000 test images on disk it is
        the fixed 8,000 / 2,000 split of :func:`offline_split`.

    Raises:
        ValueError: unknown data set; ``flatten`` and ``channel_axis`` both set;
            ``n_train`` or ``n_test`` not positive or larger than the split;
            corrupt files (see :func:`read_idx`); an ``.npz`` with other keys,
            shapes, dtypes (e.g. images already scaled to floats), labels
            outside 0-9 or unequal image and label counts.
        TypeError: ``n_train``/``n_test`` not an int.
        DatasetNotFoundError: no local copy and Keras cannot download; the
            message lists the directories and file names looked for.
    """
    if flatten and channel_axis:
        raise ValueError("Choose at most one of flatten=True ((n, 784)) and channel_axis=True ((n, 28, 28, 1)).")
    for n, arg in ((n_train, "n_train"), (n_test, "n_test")):
        if n is not None:
            _validate.positive_int(n, arg)  # before any file is read or downloaded
    source = find_dataset(name)
    (x_train, y_train), (x_test, y_test) = _load_raw(source)
    out = []
    for x, y, n, arg in ((x_train, y_train, n_train, "n_train"), (x_test, y_test, n_test, "n_test")):
        if n is not None:
            n = _validate.positive_int(n, arg)
            if n > x.shape[0]:
                raise ValueError(f"{arg}={n} exceeds the {x.shape[0]} images of this split ({source.describe()}).")
            x, y = x[:n], y[:n]
        if scale:
            x = x.astype(np.float32) / np.float32(255.0)
        if flatten:
            x = x.reshape(x.shape[0], -1)
        elif channel_axis:
            x = x[..., None]
        out.append((x, y.astype(np.uint8)))
    if verbose:
        print(f"{source.describe()}; using {out[0][0].shape[0]:,} train / {out[1][0].shape[0]:,} test images")
    return tuple(out)


def load_mnist(**kwargs):
    """:func:`load_dataset` for MNIST, whatever ``LABS_DATASET`` says (same keyword arguments)."""
    return load_dataset("mnist", **kwargs)


def _int_labels(labels, name: str, example: str = "(m,)") -> np.ndarray:
    """``(m,)`` integer class labels, or a clear error (float labels such as 0.5 are refused)."""
    arr = _validate.as_array(labels, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional {example}; got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integer class labels; got dtype {arr.dtype}.")
    return arr


def stratified_subset(labels, n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` labelled examples with equal counts per class (within one).

    For label-budget experiments ("100 labels" = 10 per class): each class gets
    ``n // k`` examples (k classes) and ``n % k`` randomly chosen classes one
    more, drawn without replacement; the same ``seed`` gives the same subset.

    Args:
        labels: ``(m,)`` integer class labels.
        n: budget, between the number of classes and ``m``.
        seed: seed of NumPy's ``default_rng`` for the draw (an int from 0 to 2**32 - 1).

    Returns:
        Sorted int array ``(n,)`` of distinct indices into ``labels``.

    Raises:
        ValueError: ``n`` smaller than the number of classes or larger than ``m``;
            a class with fewer examples than its share; labels not
            one-dimensional integers; a negative ``seed``. TypeError: non-int
            ``n`` or ``seed``; complex or object labels.
    """
    labels = _int_labels(labels, "labels")
    n = _validate.positive_int(n, "n")
    seed = _validate.seed(seed)
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
        seed: seed of NumPy's ``default_rng`` (an int from 0 to 2**32 - 1, or a
            list of them); the same seed gives the same noise.

    Returns:
        ``float32`` array of ``x``'s shape in [0, 1].

    Raises:
        ValueError: ``x`` outside [0, 1] (e.g. 0-255 pixels), NaN or inf in ``x``,
            a negative or non-finite ``noise_factor``, a negative ``seed``.
        TypeError: non-numeric, complex or object input; a ``seed`` that is not an int.
    """
    x = _validate.unit_interval(x, "x")
    if isinstance(noise_factor, (bool, np.bool_)) or not isinstance(noise_factor, (int, float, np.integer, np.floating)):
        raise TypeError(f"noise_factor must be a number; got {noise_factor!r} ({type(noise_factor).__name__}).")
    if not np.isfinite(noise_factor) or noise_factor < 0:
        raise ValueError(f"noise_factor must be a finite number >= 0; got {noise_factor!r}.")
    rng = np.random.default_rng(_validate.seed(seed, allow_sequence=True))
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
        ValueError: ``x`` outside [0, 1] or not finite, ``fraction`` outside [0, 1],
            a negative ``seed``. TypeError: complex or object ``x``, a non-int ``seed``.
    """
    x = _validate.unit_interval(x, "x")
    fraction = _validate.probability(fraction, "fraction")
    rng = np.random.default_rng(_validate.seed(seed, allow_sequence=True))
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
        ValueError: ``x`` outside [0, 1] or not finite, ``amount`` outside [0, 1],
            a negative ``seed``. TypeError: complex or object ``x``, a non-int ``seed``.
    """
    x = _validate.unit_interval(x, "x")
    amount = _validate.probability(amount, "amount")
    rng = np.random.default_rng(_validate.seed(seed, allow_sequence=True))
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
        ValueError: ``x`` outside [0, 1] or not finite, threshold outside [0, 1).
        TypeError: complex or object ``x``, a non-number ``threshold``.
    """
    x = _validate.unit_interval(x, "x")
    threshold = _validate.probability(threshold, "threshold", allow_one=False)
    return (x > threshold).astype(np.float32)


def dequantize(x, seed: int = 0, levels: int = 256) -> np.ndarray:
    """Uniform dequantization of 8-bit grey images: ``(round((levels - 1) x) + u) / levels``, ``u ~ U(0, 1)``.

    Each grey level ``k`` becomes a point drawn uniformly from its bin
    ``[k / levels, (k + 1) / levels)``. A density fitted to such data cannot
    pile infinite mass on the 256 exact values, and its log-likelihood bounds
    the discrete images' (Theis, van den Oord & Bethge, ICLR 2016; see
    :func:`labutils.vae.bits_per_pixel`). Fix one seed for the test set; the
    VAE's ``dequantize_inputs`` draws new noise for every training batch.

    Args:
        x: ``float`` in [0, 1], any shape (grey levels ``k / (levels - 1)``).
        seed: NumPy ``default_rng`` seed.
        levels: grey levels (an int >= 2).

    Returns:
        ``float32`` array of ``x``'s shape, in ``[0, 1)``.

    Raises:
        ValueError: ``x`` outside [0, 1] or not finite, a negative ``seed``,
            ``levels`` < 2. TypeError: complex or object ``x``, a non-int
            ``seed`` or ``levels``.
    """
    x = _validate.unit_interval(x, "x")
    levels = _validate.positive_int(levels, "levels")
    if levels < 2:
        raise ValueError(f"levels must be at least 2; got {levels}.")
    rng = np.random.default_rng(_validate.seed(seed, allow_sequence=True))
    k = np.round(x.astype(np.float64) * (levels - 1))
    return ((k + rng.random(x.shape)) / levels).astype(np.float32).clip(0.0, np.nextafter(np.float32(1), 0))


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
        ValueError: ``x`` outside [0, 1] or not finite, a negative ``seed``.
        TypeError: complex or object ``x``, a non-int ``seed``.
    """
    x = _validate.unit_interval(x, "x")
    rng = np.random.default_rng(_validate.seed(seed, allow_sequence=True))
    return (rng.random(x.shape, dtype=np.float32) < x).astype(np.float32)
