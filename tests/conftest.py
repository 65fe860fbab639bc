"""Shared fixtures for the labutils unit tests.

* Keeps TensorFlow quiet and matplotlib headless.
* Every test gets its own ``LABUTILS_BUILD_DIR`` (never the checkout's build/)
  and runs without ``LABS_PROFILE``/``LABS_SEED``/``LABUTILS_DATA_DIR`` from the
  caller (``make test`` runs pytest with ``LABS_PROFILE=quick``).
* ``mnist_dir`` points at the real MNIST test split and ``fashion_dir`` at the
  full Fashion-MNIST, or skip; with ``CI=true`` a missing data set fails the
  test instead, so that CI cannot pass without the data.
* ``write_idx`` / ``make_mnist_dir`` build tiny synthetic IDX files.
* ``lab_build`` is the build directory of the labs' one quick run in `make test`.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("LABS_STRICT", "1")  # every executed notebook raises on a missed bar, as in CI

import contextlib  # noqa: E402
import gzip  # noqa: E402
import struct  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


FASHION_FILES = MNIST_FILES + ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _real_dir(folder: str, files) -> Path | None:
    """The directory holding a real data set: LABUTILS_DATA_DIR (or its ``folder``
    sub-folder) if set, else ../shared/datasets/<folder> beside the checkout.

    Read once at import time, before the autouse fixture removes the variable.
    A directory counts when its first test labels are the data set's own.
    """
    from labutils import data

    info = next(i for i in data.DATASETS.values() if i.folder == folder)
    env = os.environ.get("LABUTILS_DATA_DIR", "").strip()
    candidates = [Path(env).expanduser() / folder, Path(env).expanduser()] if env else []
    candidates.append(SHARED_DATASETS / folder)
    for d in candidates:
        if all((d / f).is_file() for f in files):
            labels = data.read_idx(d / "t10k-labels-idx1-ubyte.gz", max_items=10)
            if tuple(int(v) for v in labels) == info.test_signature:
                return d.resolve()
    return None


REAL_MNIST_DIR = _real_dir("mnist", MNIST_FILES)
REAL_FASHION_DIR = _real_dir("fashion-mnist", FASHION_FILES)


def _missing(what: str):
    """Skip, or fail under CI=true: CI must not pass without the data."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} (CI=true: a test that needs data fails instead of skipping)")
    pytest.skip(what)


def pytest_configure(config):
    # Keras' TensorFlow backend converts tensors with np.array(x, copy=False) internally
    config.addinivalue_line(
        "filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
    # Hypothesis (tests/test_validation.py) caches in ./.hypothesis, even while collecting: use a tmp dir instead
    try:
        from hypothesis import configuration
    except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
        return
    import tempfile

    config._labutils_hypothesis_home = tempfile.mkdtemp(prefix="labutils-hypothesis-")
    configuration.set_hypothesis_home_dir(config._labutils_hypothesis_home)


def pytest_unconfigure(config):
    home = getattr(config, "_labutils_hypothesis_home", None)
    if home:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """A fresh build dir per test and no profile/seed/data-dir from the caller."""
    build = tmp_path_factory.mktemp("build")
    monkeypatch.setenv("LABUTILS_BUILD_DIR", str(build))
    for var in ("LABS_PROFILE", "LABS_SEED", "LABUTILS_DATA_DIR", "LABS_DATASET"):
        # setenv first so that monkeypatch always records the variable and restores
        # it at teardown, even when the code under test sets it (runner.run does).
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    return build


@pytest.fixture
def build_dir(isolated_env) -> Path:
    """The test's LABUTILS_BUILD_DIR."""
    return isolated_env


@pytest.fixture(scope="session")
def lab_build(tmp_path_factory) -> Path:
    """The build directory of the one quick-profile execution of every lab in `make test`.

    tests/test_grading_lab.py runs the labs in order here (a later lab reuses an earlier lab's cached model, as in a
    course) and writes each executed instructor notebook to ``notebooks/`` and its results to ``results/``, as
    `make run PROFILE=quick` would; tests/test_zz_book.py builds the book from them.
    """
    return tmp_path_factory.mktemp("labs")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """Directory with the real MNIST t10k files, or skip the test."""
    if REAL_MNIST_DIR is None:
        _missing(
            "real MNIST not found: set LABUTILS_DATA_DIR or put t10k-images-idx3-ubyte.gz and "
            "t10k-labels-idx1-ubyte.gz into ../shared/datasets/mnist beside the checkout"
        )
    return REAL_MNIST_DIR


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Directory with the real Fashion-MNIST (60,000 + 10,000 IDX files), or skip (fail under CI=true)."""
    if REAL_FASHION_DIR is None:
        _missing("real Fashion-MNIST not found: set LABUTILS_DATA_DIR or put its four IDX files into "
                 "../shared/datasets/fashion-mnist beside the checkout")
    return REAL_FASHION_DIR


# ---------------------------------------------------------------- IDX writing

def idx_bytes(array: np.ndarray, magic: int | None = None, dims=None) -> bytes:
    """IDX bytes for a uint8 array: big-endian magic, one int32 per dim, data."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 2051 if array.ndim == 3 else 2049
    if dims is None:
        dims = array.shape
    header = struct.pack(">i", magic) + struct.pack(">" + "i" * len(dims), *dims)
    return header + array.tobytes()


def write_idx(path: Path, array=None, *, raw: bytes | None = None, magic=None, dims=None, compress=None) -> Path:
    """Write an IDX file (gzip when the name ends in .gz, unless ``compress`` says otherwise)."""
    path = Path(path)
    payload = raw if raw is not None else idx_bytes(array, magic, dims)
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def synthetic_mnist(n: int, seed: int = 0):
    """Tiny random MNIST-like data: uint8 images (n, 28, 28), uint8 labels (n,) cycling 0-9."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = (np.arange(n) % 10).astype(np.uint8)
    return x, y


def make_idx_dir(directory: Path, *, train: int | None = 30, test: int | None = 20, gz: bool = True, seed: int = 0):
    """Write synthetic IDX files into ``directory``; returns the arrays written."""
    directory.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    out = {}
    if train:
        x, y = synthetic_mnist(train, seed)
        write_idx(directory / f"train-images-idx3-ubyte{ext}", x)
        write_idx(directory / f"train-labels-idx1-ubyte{ext}", y)
        out["train"] = (x, y)
    if test:
        x, y = synthetic_mnist(test, seed + 1)
        write_idx(directory / f"t10k-images-idx3-ubyte{ext}", x)
        write_idx(directory / f"t10k-labels-idx1-ubyte{ext}", y)
        out["test"] = (x, y)
    return out


def make_npz(directory: Path, n_train: int = 12, n_test: int = 6, seed: int = 5) -> dict:
    """Write a synthetic Keras-style mnist.npz into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    xtr, ytr = synthetic_mnist(n_train, seed)
    xte, yte = synthetic_mnist(n_test, seed + 1)
    arrays = {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}
    np.savez(directory / "mnist.npz", **arrays)
    return arrays


@contextlib.contextmanager
def data_dir(directory):
    """Point LABUTILS_DATA_DIR at ``directory`` for the ``with`` block, then restore it.

    For module-scoped fixtures, which cannot use ``monkeypatch``.
    """
    old = os.environ.get("LABUTILS_DATA_DIR")
    os.environ["LABUTILS_DATA_DIR"] = str(directory)
    try:
        yield Path(directory)
    finally:
        if old is None:
            del os.environ["LABUTILS_DATA_DIR"]
        else:
            os.environ["LABUTILS_DATA_DIR"] = old


#: Every miss that assert_misses has seen in this session: {(dataset, profile, lab, metric): {label, ...}};
#: tests/test_zz_bar_coverage.py checks that each bar got one.
BAR_MISSES: dict[tuple[str, str, str, str], set[str]] = {}
#: The outcome of each test that has run in this session, by node id ("passed", "failed", "skipped").
OUTCOMES: dict[str, str] = {}


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        OUTCOMES[report.nodeid] = report.outcome


def assert_misses(lab: str, metric: str, value, label: str, *, dataset: str = "mnist", profiles=None):
    """Fail unless ``value`` (what ``label`` scores) misses lab ``lab``'s bar on ``metric``.

    ``profiles=None`` checks every profile with a bar of that name and fails when none has it; named
    ``profiles`` must each have it. An unknown bar name fails (never skips): a renamed or removed bar must
    not leave behind a test that can no longer fail.
    """
    from labutils import checks

    named = profiles is not None
    found = []
    for prof in (tuple(profiles) if named else ("full", "quick")):
        bars = checks.bars_for(lab, prof, dataset)
        if metric not in bars:
            if named:
                pytest.fail(f"lab {lab} ({dataset}, {prof} profile) has no bar named {metric!r}; "
                            f"its bars: {sorted(bars)}")
            continue
        found.append(prof)
        BAR_MISSES.setdefault((dataset, prof, lab, metric), set()).add(label)
        if bars[metric].passes(value):
            pytest.fail(f"{label} scores {value:.4g}, which passes lab {lab}'s {dataset} {prof} bar "
                        f"{metric!r} {bars[metric]}: the bar does not separate a trained model from it")
    if not found:
        pytest.fail(f"lab {lab} ({dataset}) has no bar named {metric!r} in any profile")


@pytest.fixture
def tiny_data():
    """24 random 16-pixel float32 images in [0, 1) and labels 0, 1, 2 repeating: for fast training tests."""
    rng = np.random.default_rng(0)
    x = rng.random((24, 16), dtype=np.float32)
    y = (np.arange(24) % 3).astype(np.int64)
    return x, y
