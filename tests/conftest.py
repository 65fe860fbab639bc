"""Shared fixtures for the labutils unit tests.

* Keeps TensorFlow quiet and matplotlib headless.
* Every test gets its own ``LABUTILS_BUILD_DIR`` (never the checkout's build/)
  and runs without ``LABS_PROFILE``/``LABS_SEED``/``LABUTILS_DATA_DIR`` from the
  caller (``make test`` runs pytest with ``LABS_PROFILE=quick``).
* ``mnist_dir`` points at the real MNIST test split, or skips.
* ``write_idx`` / ``make_mnist_dir`` build tiny synthetic IDX files.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import gzip  # noqa: E402
import struct  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _real_mnist_dir() -> Path | None:
    """LABUTILS_DATA_DIR if set, else ../shared/datasets/mnist beside the checkout.

    Read once at import time, before the autouse fixture removes the variable.
    """
    env = os.environ.get("LABUTILS_DATA_DIR", "").strip()
    candidates = [Path(env).expanduser()] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist")
    for d in candidates:
        if all((d / f).is_file() for f in MNIST_FILES):
            return d.resolve()
    return None


REAL_MNIST_DIR = _real_mnist_dir()


def pytest_configure(config):
    # Keras' TensorFlow backend converts tensors with np.array(x, copy=False) internally
    config.addinivalue_line(
        "filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """A fresh build dir per test and no profile/seed/data-dir from the caller."""
    build = tmp_path_factory.mktemp("build")
    monkeypatch.setenv("LABUTILS_BUILD_DIR", str(build))
    for var in ("LABS_PROFILE", "LABS_SEED", "LABUTILS_DATA_DIR"):
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
def mnist_dir() -> Path:
    """Directory with the real MNIST t10k files, or skip the test."""
    if REAL_MNIST_DIR is None:
        pytest.skip(
            "real MNIST not found: set LABUTILS_DATA_DIR or put t10k-images-idx3-ubyte.gz and "
            "t10k-labels-idx1-ubyte.gz into ../shared/datasets/mnist beside the checkout"
        )
    return REAL_MNIST_DIR


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
