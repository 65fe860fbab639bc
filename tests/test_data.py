"""Tests for labutils.data: IDX reading, MNIST lookup and loading, splits, corruptions."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from conftest import idx_bytes, make_idx_dir, make_npz, synthetic_mnist, write_idx

from labutils import data

README_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
README_FIRST_TEN = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


# ============================================================== real MNIST

@pytest.fixture(scope="module")
def real_t10k(mnist_dir):
    x = data.read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    y = data.read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    return x, y


def test_read_idx_real_images_shape_dtype_and_mean(real_t10k):
    x, _ = real_t10k
    assert x.shape == (10000, 28, 28)
    assert x.dtype == np.uint8
    assert x.min() == 0 and x.max() == 255
    assert float(x.mean(dtype=np.float64)) == pytest.approx(33.79, abs=0.005)


def test_read_idx_real_labels_match_readme(real_t10k):
    _, y = real_t10k
    assert y.shape == (10000,)
    assert y.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == README_COUNTS
    assert y[:10].tolist() == README_FIRST_TEN


@pytest.fixture
def real_env(mnist_dir, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(mnist_dir))
    return mnist_dir


def test_find_mnist_real_dir_is_test_only(real_env):
    src = data.find_mnist()
    assert src.kind == "idx-test-only"
    assert src.offline_split is True
    assert src.path == str(real_env)
    assert "8,000 / 2,000" in src.describe() and "random_state=0" in src.describe()


def test_load_mnist_offline_split_matches_sklearn(real_env, real_t10k, capsys):
    from sklearn.model_selection import train_test_split

    x_all, y_all = real_t10k
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    train_idx, test_idx = train_test_split(np.arange(10000), test_size=2000, stratify=y_all, random_state=0)
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, x_all[train_idx])
    np.testing.assert_array_equal(y_train, y_all[train_idx])
    np.testing.assert_array_equal(x_test, x_all[test_idx])
    np.testing.assert_array_equal(y_test, y_all[test_idx])
    # stratified: class shares of the test part follow the full set's (within 1 image)
    expected = np.array(README_COUNTS) * 2000 / 10000
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - expected) <= 1)
    out = capsys.readouterr().out
    assert "8,000 / 2,000" in out and "using 8,000 train / 2,000 test images" in out


def test_load_mnist_scale_flatten_subset(real_env, real_t10k):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(scale=True, flatten=True, n_train=100, n_test=50,
                                                           verbose=False)
    assert x_train.shape == (100, 784) and x_test.shape == (50, 784)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (100,) and y_test.shape == (50,) and y_train.dtype == np.uint8
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert x_train.max() == pytest.approx(1.0)
    # the subset is the first n of the split, and scaling is pixel / 255
    (xr_train, yr_train), _ = data.load_mnist(verbose=False)
    np.testing.assert_allclose(x_train, xr_train[:100].reshape(100, 784) / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(y_train, yr_train[:100])


def test_load_mnist_channel_axis(real_env):
    (x_train, _), (x_test, y_test) = data.load_mnist(channel_axis=True, scale=True, n_train=10, n_test=5,
                                                      verbose=False)
    assert x_train.shape == (10, 28, 28, 1) and x_test.shape == (5, 28, 28, 1)
    assert x_train.dtype == np.float32
    assert y_test.shape == (5,)


def test_load_mnist_n_train_too_large(real_env):
    with pytest.raises(ValueError, match=r"n_train=8001 exceeds the 8000 images"):
        data.load_mnist(n_train=8001, verbose=False)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"n_test": 0}, ValueError, r"n_test must be positive"),
    ({"n_train": 10.5}, TypeError, r"n_train must be an int"),
    ({"n_train": True}, TypeError, r"n_train must be an int"),
])
def test_load_mnist_bad_subset_sizes(real_env, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        data.load_mnist(verbose=False, **kwargs)


def test_load_mnist_flatten_and_channel_axis_conflict():
    # checked before any lookup, so no data is needed
    with pytest.raises(ValueError, match=r"at most one of flatten=True.*channel_axis=True"):
        data.load_mnist(flatten=True, channel_axis=True)


# ============================================================== read_idx on synthetic files

def test_read_idx_round_trip_gz_and_plain(tmp_path):
    x, y = synthetic_mnist(7)
    for name in ("imgs.gz", "imgs"):
        np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / name, x)), x)
    got = data.read_idx(str(write_idx(tmp_path / "labels.gz", y)))  # str path works too
    assert got.dtype == np.uint8 and got.shape == (7,)
    np.testing.assert_array_equal(got, y)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"IDX file not found: .*nothing-here\.gz"):
        data.read_idx(tmp_path / "nothing-here.gz")


def test_read_idx_truncated_gzip(tmp_path):
    x, _ = synthetic_mnist(5)
    blob = gzip.compress(idx_bytes(x))
    path = tmp_path / "t.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match=r"corrupt or truncated: cannot decompress"):
        data.read_idx(path)


def test_read_idx_not_gzip_although_named_gz(tmp_path):
    x, _ = synthetic_mnist(2)
    path = write_idx(tmp_path / "plain.gz", x, compress=False)
    with pytest.raises(ValueError, match=r"cannot decompress"):
        data.read_idx(path)


@pytest.mark.parametrize("magic", [2050, 2052, 0x0D03, 0])
def test_read_idx_wrong_magic(tmp_path, magic):
    x, _ = synthetic_mnist(2)
    path = write_idx(tmp_path / "m.gz", x, magic=magic)
    with pytest.raises(ValueError, match=rf"not an MNIST IDX file: magic number {magic}, expected 2051"):
        data.read_idx(path)


def test_read_idx_header_promises_more_than_payload(tmp_path):
    x, _ = synthetic_mnist(2)
    path = write_idx(tmp_path / "short.gz", x, dims=(3, 28, 28))
    with pytest.raises(ValueError, match=r"header promises \(3, 28, 28\) = 2352 bytes.*holds 1568"):
        data.read_idx(path)


def test_read_idx_padded_payload(tmp_path):
    raw = idx_bytes(np.arange(5, dtype=np.uint8)) + b"\x00\x00"
    path = write_idx(tmp_path / "pad.gz", raw=raw)
    with pytest.raises(ValueError, match=r"header promises \(5,\) = 5 bytes.*holds more"):
        data.read_idx(path)


def test_read_idx_labels_above_nine(tmp_path):
    path = write_idx(tmp_path / "l.gz", np.array([0, 3, 10, 2], dtype=np.uint8))
    with pytest.raises(ValueError, match=r"labels must be digits 0-9; found 10"):
        data.read_idx(path)


def test_read_idx_not_28x28(tmp_path):
    path = write_idx(tmp_path / "i.gz", np.zeros((2, 27, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"expected 28x28 images, header says \(27, 28\)"):
        data.read_idx(path)


def test_read_idx_too_short_and_truncated_header(tmp_path):
    p1 = write_idx(tmp_path / "tiny.gz", raw=b"\x00\x00\x08")
    with pytest.raises(ValueError, match=r"3 bytes is too short for an IDX header"):
        data.read_idx(p1)
    p2 = write_idx(tmp_path / "hdr.gz", raw=b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02")  # 3 dims promised, 1 given
    with pytest.raises(ValueError, match=r"truncated inside its header"):
        data.read_idx(p2)


# ============================================================== lookup order

@pytest.fixture
def lookup(tmp_path, monkeypatch):
    """cwd = an empty tmp dir, the checkout's data/ replaced by an empty dir, no env var."""
    work = tmp_path / "work"
    work.mkdir()
    project_data = tmp_path / "project_data"
    project_data.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", project_data)
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    return {"cwd_data": work / "data", "project_data": project_data, "tmp": tmp_path}


def test_find_mnist_npz(lookup, monkeypatch):
    env = lookup["tmp"] / "env"
    arrays = make_npz(env)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env))
    src = data.find_mnist()
    assert src == data.MnistSource("npz", str(env / "mnist.npz"))
    assert src.offline_split is False
    (x_train, y_train), (x_test, y_test) = data.load_mnist(verbose=False)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_find_mnist_full_idx(lookup, monkeypatch):
    env = lookup["tmp"] / "env"
    written = make_idx_dir(env, train=30, test=20)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env))
    src = data.find_mnist()
    assert (src.kind, src.path) == ("idx", str(env))
    assert src.describe() == f"MNIST 30 / 20 from {env}"  # the sizes the files hold
    (x_train, y_train), (x_test, y_test) = data.load_mnist(verbose=False)
    np.testing.assert_array_equal(x_train, written["train"][0])
    np.testing.assert_array_equal(y_train, written["train"][1])
    np.testing.assert_array_equal(x_test, written["test"][0])
    np.testing.assert_array_equal(y_test, written["test"][1])


def test_find_mnist_uncompressed_idx(lookup):
    make_idx_dir(lookup["cwd_data"], train=None, test=12, gz=False)
    src = data.find_mnist()
    assert src.kind == "idx-test-only"
    assert src.path == str(lookup["cwd_data"])


def test_find_mnist_test_only(lookup, monkeypatch):
    env = lookup["tmp"] / "env"
    make_idx_dir(env, train=None, test=20)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env))
    src = data.find_mnist()
    assert (src.kind, src.path) == ("idx-test-only", str(env))
    assert src.offline_split is True
    # 20 images cannot hold the project's 2,000-image test split
    with pytest.raises(ValueError, match=r"test_size=2000 must be smaller than the 20 labels"):
        data.load_mnist(verbose=False)


def test_npz_wins_over_idx_in_the_same_dir(lookup):
    make_idx_dir(lookup["cwd_data"])
    make_npz(lookup["cwd_data"])
    assert data.find_mnist().kind == "npz"


def test_env_dir_wins_over_data_dirs(lookup, monkeypatch):
    env = lookup["tmp"] / "env"
    make_idx_dir(env, train=None, test=10)
    make_npz(lookup["cwd_data"])
    make_npz(lookup["project_data"])
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env))
    assert data.find_mnist() == data.MnistSource("idx-test-only", str(env))


def test_cwd_data_wins_over_project_data(lookup):
    make_npz(lookup["project_data"])
    make_idx_dir(lookup["cwd_data"], train=None, test=10)
    assert data.find_mnist() == data.MnistSource("idx-test-only", str(lookup["cwd_data"]))


def test_project_data_dir_used_last(lookup):
    make_npz(lookup["project_data"])
    assert data.find_mnist() == data.MnistSource("npz", str(lookup["project_data"] / "mnist.npz"))


def test_empty_env_dir_falls_through_to_data(lookup, monkeypatch):
    env = lookup["tmp"] / "env"
    env.mkdir()
    make_npz(lookup["cwd_data"])
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env))
    assert data.find_mnist().path == str(lookup["cwd_data"] / "mnist.npz")


def test_nothing_on_disk_gives_keras(lookup):
    src = data.find_mnist()
    assert src == data.MnistSource("keras", None)
    assert "keras.datasets.mnist.load_data()" in src.describe()


def test_nonexistent_env_dir(lookup, monkeypatch):
    missing = lookup["tmp"] / "does-not-exist"
    monkeypatch.setenv(data.DATA_DIR_ENV, str(missing))
    with pytest.raises(ValueError, match=r"LABUTILS_DATA_DIR=.*does-not-exist.* is not a directory"):
        data.find_mnist()
    with pytest.raises(ValueError, match=r"is not a directory"):
        data.load_mnist(verbose=False)


def test_partial_test_split(lookup):
    d = lookup["cwd_data"]
    d.mkdir()
    x, _ = synthetic_mnist(3)
    write_idx(d / "t10k-images-idx3-ubyte.gz", x)
    with pytest.raises(ValueError, match=r"only part of the MNIST test split: t10k-labels-idx1-ubyte\(\.gz\) is missing"):
        data.find_mnist()


def test_partial_train_split(lookup):
    d = lookup["cwd_data"]
    make_idx_dir(d, train=None, test=10)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"only part of the MNIST train split: train-images-idx3-ubyte\(\.gz\) is missing"):
        data.find_mnist()


def test_image_label_count_mismatch(lookup):
    d = lookup["cwd_data"]
    d.mkdir()
    x, y = synthetic_mnist(5)
    write_idx(d / "t10k-images-idx3-ubyte.gz", x)
    write_idx(d / "t10k-labels-idx1-ubyte.gz", y[:4])
    with pytest.raises(ValueError, match=r"5 test images but 4 labels"):
        data.load_mnist(verbose=False)


def test_label_file_under_the_images_name_is_rejected(lookup):
    d = lookup["cwd_data"]
    d.mkdir()
    _, y = synthetic_mnist(2500)
    write_idx(d / "t10k-images-idx3-ubyte.gz", y)  # a label file where the images belong
    write_idx(d / "t10k-labels-idx1-ubyte.gz", y)
    with pytest.raises(ValueError, match=r"image"):
        data.load_mnist(flatten=True, verbose=False)


def test_corrupt_file_in_data_dir_raises_on_load(lookup):
    d = lookup["cwd_data"]
    make_idx_dir(d, train=None, test=10)
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"cannot decompress"):
        data.load_mnist(verbose=False)


def test_keras_fallback_success(lookup, monkeypatch):
    import keras

    xtr, ytr = synthetic_mnist(6)
    xte, yte = synthetic_mnist(4, seed=3)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((xtr, ytr), (xte, yte)))
    (a, b), (c, d) = data.load_mnist(scale=True, verbose=False)
    np.testing.assert_allclose(a, xtr / 255.0, atol=1e-7)
    np.testing.assert_array_equal(d, yte)


def test_keras_fallback_failure_explains(lookup, monkeypatch):
    import keras

    def no_network():
        raise Exception("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    env = lookup["tmp"] / "empty_env"
    env.mkdir()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(env))
    with pytest.raises(data.MnistNotFoundError) as info:
        data.load_mnist(verbose=False)
    assert isinstance(info.value, FileNotFoundError)
    msg = str(info.value)
    for directory in (env, lookup["cwd_data"], lookup["project_data"]):
        assert str(directory) in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "mnist.npz" in msg
    assert "LABUTILS_DATA_DIR" in msg
    assert "no network" in msg


# ============================================================== offline_split / stratified_subset

def _labels(n_per_class=50, classes=10):
    return np.repeat(np.arange(classes), n_per_class)


def test_offline_split_sizes_disjoint_stratified():
    rng = np.random.default_rng(0)
    labels = rng.permutation(_labels(100))  # 1000 labels, 100 per class
    train, test = data.offline_split(labels, test_size=200)
    assert train.shape == (800,) and test.shape == (200,)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1000))
    assert np.bincount(labels[test]).tolist() == [20] * 10


def test_offline_split_reproducible_and_seeded():
    labels = _labels(30)
    a = data.offline_split(labels, test_size=50)
    b = data.offline_split(labels, test_size=50)
    c = data.offline_split(labels, test_size=50, random_state=1)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_offline_split_default_matches_sklearn():
    from sklearn.model_selection import train_test_split

    labels = np.random.default_rng(2).permutation(_labels(300))  # 3000 labels
    train, test = data.offline_split(labels)
    ref_train, ref_test = train_test_split(np.arange(3000), test_size=2000, stratify=labels, random_state=0)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(test, ref_test)


@pytest.mark.parametrize("labels, kwargs, exc, pattern", [
    (np.zeros((10, 2), dtype=int), {"test_size": 2}, ValueError, r"one-dimensional \(n,\); got shape \(10, 2\)"),
    (np.arange(100) % 10, {"test_size": 100}, ValueError, r"test_size=100 must be smaller than the 100 labels"),
    (np.arange(100) % 10, {"test_size": 0}, ValueError, r"test_size must be positive"),
    (np.arange(100) % 10, {"test_size": 0.2}, TypeError, r"test_size must be an int"),
    (np.array(["a", "b"] * 10), {"test_size": 4}, TypeError, r"labels must be a numeric array"),
])
def test_offline_split_errors(labels, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        data.offline_split(labels, **kwargs)


def test_stratified_subset_balanced_sorted_reproducible():
    labels = np.random.default_rng(1).permutation(_labels(50))
    idx = data.stratified_subset(labels, 100, seed=3)
    assert idx.shape == (100,)
    assert np.all(np.diff(idx) > 0)  # sorted, no duplicates
    assert np.bincount(labels[idx], minlength=10).tolist() == [10] * 10
    np.testing.assert_array_equal(idx, data.stratified_subset(labels, 100, seed=3))
    assert not np.array_equal(idx, data.stratified_subset(labels, 100, seed=4))


def test_stratified_subset_one_per_class_and_all():
    labels = _labels(5)
    idx = data.stratified_subset(labels, 10)
    assert sorted(labels[idx].tolist()) == list(range(10))
    np.testing.assert_array_equal(data.stratified_subset(labels, 50), np.arange(50))


@pytest.mark.parametrize("labels, n, exc, pattern", [
    (np.arange(100) % 10, 9, ValueError, r"n=9 must lie between the number of classes \(10\) and the number of labels \(100\)"),
    (np.arange(100) % 10, 101, ValueError, r"n=101 must lie between"),
    (np.arange(100) % 10, 0, ValueError, r"n must be positive"),
    (np.arange(100) % 10, 10.0, TypeError, r"n must be an int"),
    (np.zeros((5, 5), dtype=int), 5, ValueError, r"one-dimensional \(m,\)"),
    (["x"] * 20, 10, TypeError, r"labels must be a numeric array"),
])
def test_stratified_subset_errors(labels, n, exc, pattern):
    with pytest.raises(exc, match=pattern):
        data.stratified_subset(labels, n)


def test_stratified_subset_just_below_all():
    labels = _labels(10)  # m = 100
    idx = data.stratified_subset(labels, 95)
    assert idx.shape == (95,)


# ============================================================== corruptions

@pytest.fixture(scope="module")
def grey():
    return np.random.default_rng(7).random((20, 28, 28), dtype=np.float32)


CORRUPTIONS = [
    ("gaussian_noise", {"noise_factor": 0.5}),
    ("masking_noise", {"fraction": 0.3}),
    ("salt_and_pepper", {"amount": 0.2}),
    ("dynamic_binarize", {}),
    ("dequantize", {}),
]


@pytest.mark.parametrize("fname, kwargs", CORRUPTIONS)
def test_corruption_range_dtype_shape_seed(grey, fname, kwargs):
    f = getattr(data, fname)
    out = f(grey, seed=1, **kwargs)
    assert out.shape == grey.shape
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not np.array_equal(out, grey)
    np.testing.assert_array_equal(out, f(grey, seed=1, **kwargs))
    assert not np.array_equal(out, f(grey, seed=2, **kwargs))


@pytest.mark.parametrize("fname", ["gaussian_noise", "masking_noise", "salt_and_pepper", "binarize", "dynamic_binarize",
                                   "dequantize"])
def test_corruption_rejects_0_255(fname):
    x = np.array([[0.0, 128.0, 255.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\]; got values in \[0, 255\].*0-255 pixels: divide by 255"):
        getattr(data, fname)(x)


@pytest.mark.parametrize("fname", ["gaussian_noise", "masking_noise", "salt_and_pepper", "binarize", "dynamic_binarize",
                                   "dequantize"])
def test_corruption_rejects_bad_input(fname):
    f = getattr(data, fname)
    with pytest.raises(TypeError, match=r"x must be a numeric array"):
        f(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"NaN or inf"):
        f(np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match=r"got values in \[-0.5, 0.5\]"):
        f(np.array([-0.5, 0.5]))
    with pytest.raises(ValueError, match=r"x is empty"):
        f(np.zeros((0, 4)))


def test_corruptions_do_not_modify_input(grey):
    before = grey.copy()
    for fname, kwargs in CORRUPTIONS:
        getattr(data, fname)(grey, **kwargs)
    data.binarize(grey)
    np.testing.assert_array_equal(grey, before)


def test_gaussian_noise_zero_factor_is_identity(grey):
    np.testing.assert_array_equal(data.gaussian_noise(grey, noise_factor=0.0), grey)
    np.testing.assert_array_equal(data.gaussian_noise(grey, noise_factor=0), grey)


def test_gaussian_noise_statistics():
    x = np.full((200, 500), 0.5, dtype=np.float32)
    out = data.gaussian_noise(x, noise_factor=0.1, seed=0)
    # 0.5 +- 0.1 noise is (almost) never clipped: the deviation is the noise itself
    assert float(np.mean(out - x)) == pytest.approx(0.0, abs=0.002)
    assert float(np.std(out - x)) == pytest.approx(0.1, rel=0.02)


@pytest.mark.parametrize("bad,exc,pattern", [
    (-0.1, ValueError, r"noise_factor must be a finite number >= 0"),
    (float("nan"), ValueError, r"noise_factor must be a finite number >= 0"),
    ("0.5", TypeError, r"noise_factor must be a number"),
    (None, TypeError, r"noise_factor must be a number"),
])
def test_gaussian_noise_bad_factor(grey, bad, exc, pattern):
    with pytest.raises(exc, match=pattern):
        data.gaussian_noise(grey, noise_factor=bad)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.7, 1.0])
def test_masking_noise_fraction(fraction):
    x = np.ones((100, 1000), dtype=np.float32)
    out = data.masking_noise(x, fraction=fraction, seed=0)
    assert set(np.unique(out).tolist()) <= {0.0, 1.0}
    assert float(np.mean(out == 0.0)) == pytest.approx(fraction, abs=0.01)


def test_masking_noise_keeps_unmasked_values(grey):
    out = data.masking_noise(grey, fraction=0.5, seed=0)
    kept = out != 0
    np.testing.assert_array_equal(out[kept], grey[kept])


@pytest.mark.parametrize("fname, kw", [("masking_noise", "fraction"), ("salt_and_pepper", "amount")])
@pytest.mark.parametrize("value, exc, pattern", [
    (1.5, ValueError, r"must lie between 0 and 1; got 1.5"),
    (-0.1, ValueError, r"must lie between 0 and 1; got -0.1"),
    ("0.3", TypeError, r"must be a number"),
])
def test_probability_arguments(grey, fname, kw, value, exc, pattern):
    with pytest.raises(exc, match=rf"{kw} {pattern}"):
        getattr(data, fname)(grey, **{kw: value})


@pytest.mark.parametrize("amount", [0.1, 0.4])
def test_salt_and_pepper_share(amount):
    x = np.full((100, 1000), 0.5, dtype=np.float32)
    out = data.salt_and_pepper(x, amount=amount, seed=0)
    changed = out != 0.5
    assert float(changed.mean()) == pytest.approx(amount, abs=0.01)
    assert set(np.unique(out[changed]).tolist()) == {0.0, 1.0}
    assert float(out[changed].mean()) == pytest.approx(0.5, abs=0.02)  # about half salt, half pepper


def test_salt_and_pepper_extremes(grey):
    np.testing.assert_array_equal(data.salt_and_pepper(grey, amount=0.0), grey)
    full = data.salt_and_pepper(grey, amount=1.0)
    assert set(np.unique(full).tolist()) == {0.0, 1.0}


def test_binarize():
    x = np.array([[0.0, 0.3, 0.5, 0.51, 1.0]], dtype=np.float32)
    out = data.binarize(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert out.tolist() == [[0.0, 0.0, 0.0, 1.0, 1.0]]  # strictly greater than the threshold
    assert data.binarize(x, threshold=0.0).tolist() == [[0.0, 1.0, 1.0, 1.0, 1.0]]
    assert data.binarize(x, threshold=0.9).tolist() == [[0.0, 0.0, 0.0, 0.0, 1.0]]


@pytest.mark.parametrize("threshold, exc, pattern", [
    (1.0, ValueError, r"threshold must lie between 0 and 1 \(exclusive\); got 1.0"),
    (-0.2, ValueError, r"threshold must lie between 0 and 1 \(exclusive\)"),
    (True, TypeError, r"threshold must be a number"),
])
def test_binarize_bad_threshold(threshold, exc, pattern):
    with pytest.raises(exc, match=pattern):
        data.binarize(np.array([0.2, 0.8]), threshold=threshold)


def test_dynamic_binarize_statistics():
    # the data's seed must differ from the binarization's: default_rng(0).random(...) would
    # reproduce x itself as the uniforms, and u < u is never true
    x = np.random.default_rng(123).random((200, 784), dtype=np.float32)
    out = data.dynamic_binarize(x, seed=0)
    assert set(np.unique(out).tolist()) == {0.0, 1.0}
    assert float(out.mean()) == pytest.approx(float(x.mean()), abs=0.005)
    # pixel-wise: bright pixels are on far more often than dark ones
    assert out[x > 0.9].mean() > 0.85 and out[x < 0.1].mean() < 0.15
    # 0 and 1 stay 0 and 1
    assert data.dynamic_binarize(np.array([0.0, 1.0] * 50)).tolist() == [0.0, 1.0] * 50


# ============================================================== data sets by name

@pytest.mark.parametrize("value, expected", [
    (None, "mnist"), ("", "mnist"), ("mnist", "mnist"), (" MNIST ", "mnist"),
    ("fashion_mnist", "fashion_mnist"), ("Fashion-MNIST", "fashion_mnist"),
])
def test_dataset_name_from_env(value, expected, monkeypatch):
    if value is not None:
        monkeypatch.setenv(data.DATASET_ENV, value)
    assert data.dataset_name() == expected
    assert data.dataset_info().name == expected


def test_dataset_name_rejects_unknown(monkeypatch):
    monkeypatch.setenv(data.DATASET_ENV, "cifar10")
    with pytest.raises(ValueError, match=r"LABS_DATASET='cifar10' is not a data set; expected one of mnist, fashion_mnist"):
        data.dataset_name()
    with pytest.raises(ValueError, match=r"LABS_DATASET"):
        data.load_dataset(verbose=False)


def test_dataset_info_and_class_names(monkeypatch):
    assert data.class_names() == tuple("0123456789")
    fashion = data.dataset_info("fashion_mnist")
    assert fashion.title == "Fashion-MNIST" and fashion.folder == "fashion-mnist"
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    assert len(fashion.class_names) == 10 and fashion.class_name(7) == "Sneaker"
    monkeypatch.setenv(data.DATASET_ENV, "fashion_mnist")
    assert data.class_names() == fashion.class_names
    assert data.dataset_info("mnist").item == "digit"


@pytest.mark.parametrize("name, exc", [("svhn", ValueError), (3, TypeError), (b"mnist", TypeError)])
def test_dataset_info_bad_name(name, exc):
    with pytest.raises(exc, match=r"name"):
        data.dataset_info(name)


@pytest.mark.parametrize("label", [-1, 10, 2.0, True, "3"])
def test_class_name_bad_label(label):
    with pytest.raises(ValueError, match=r"label must be an int in 0-9"):
        data.dataset_info("fashion_mnist").class_name(label)


# ============================================================== real Fashion-MNIST

@pytest.fixture(scope="module")
def real_fashion(fashion_dir):
    out = {}
    for key, name in data.IDX_FILES.items():
        out[key] = data.read_idx(fashion_dir / f"{name}.gz")
    return out


def test_real_fashion_mnist_matches_its_readme(real_fashion):
    assert real_fashion["train_images"].shape == (60000, 28, 28)
    assert real_fashion["test_images"].shape == (10000, 28, 28)
    assert np.bincount(real_fashion["train_labels"], minlength=10).tolist() == [6000] * 10
    assert np.bincount(real_fashion["test_labels"], minlength=10).tolist() == [1000] * 10
    assert real_fashion["train_labels"][:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert real_fashion["test_labels"][:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert float(real_fashion["train_images"].mean(dtype=np.float64)) == pytest.approx(72.94, abs=0.005)
    assert float(real_fashion["test_images"].mean(dtype=np.float64)) == pytest.approx(73.15, abs=0.005)


def test_load_dataset_fashion_from_the_shared_parent_dir(fashion_dir, mnist_dir, monkeypatch, capsys):
    """LABUTILS_DATA_DIR may name the folder that holds mnist/ and fashion-mnist/: each data set is found in its own."""
    if fashion_dir.parent != mnist_dir.parent or fashion_dir.name != "fashion-mnist" or mnist_dir.name != "mnist":
        pytest.skip("the two data sets are not side by side as in ../shared/datasets")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(fashion_dir.parent))
    monkeypatch.setenv(data.DATASET_ENV, "fashion_mnist")
    src = data.find_dataset()
    assert src == data.DataSource("idx", str(fashion_dir), "fashion_mnist")
    assert src.split == "standard" and not src.offline_split
    assert src.describe() == f"Fashion-MNIST 60,000 / 10,000 from {fashion_dir}"
    (x_train, y_train), (x_test, y_test) = data.load_dataset(scale=True, flatten=True, n_test=500)
    assert x_train.shape == (60000, 784) and x_train.dtype == np.float32 and x_test.shape == (500, 784)
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert "Fashion-MNIST 60,000 / 10,000" in capsys.readouterr().out
    mnist_src = data.find_dataset("mnist")
    assert (mnist_src.kind, mnist_src.path, mnist_src.split) == ("idx-test-only", str(mnist_dir), "offline-8k")


def test_a_folder_of_the_other_data_set_is_never_read_as_this_one(fashion_dir, mnist_dir, lookup, monkeypatch):
    import keras

    def no_network():
        raise Exception("no network")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", no_network)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(mnist_dir))  # MNIST files, Fashion-MNIST asked for
    monkeypatch.setenv(data.DATASET_ENV, "fashion_mnist")
    assert data.find_dataset() == data.DataSource("keras", None, "fashion_mnist")
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_dataset(verbose=False)
    assert f"{mnist_dir} holds MNIST, not Fashion-MNIST" in str(info.value)
    assert "keras.datasets.fashion_mnist.load_data() failed: no network" in str(info.value)
    # and the other way round
    monkeypatch.setenv(data.DATA_DIR_ENV, str(fashion_dir))
    assert data.find_dataset("mnist").kind == "keras"
    assert data.find_dataset("fashion_mnist").path == str(fashion_dir)


def test_keras_fallback_uses_the_data_sets_own_loader(lookup, monkeypatch):
    import keras

    xtr, ytr = synthetic_mnist(6)
    xte, yte = synthetic_mnist(4, seed=3)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: ((xtr, ytr), (xte, yte)))
    monkeypatch.setenv(data.DATASET_ENV, "fashion_mnist")
    assert "keras.datasets.fashion_mnist.load_data()" in data.find_dataset().describe()
    (a, _), (_, d) = data.load_dataset(verbose=False)
    np.testing.assert_array_equal(a, xtr)
    np.testing.assert_array_equal(d, yte)


# ============================================================== .npz validated like IDX

def _npz(directory, name="mnist.npz", **override):
    directory.mkdir(parents=True, exist_ok=True)
    xtr, ytr = synthetic_mnist(12)
    xte, yte = synthetic_mnist(6, seed=1)
    arrays = {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}
    arrays.update(override)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(directory / name, **arrays)


@pytest.mark.parametrize("override, pattern", [
    ({"x_train": synthetic_mnist(12)[0].astype(np.float32) / 255}, r"x_train must be uint8 pixels 0-255.*already scaled"),
    ({"y_test": np.array([-1, 0, 1, 2, 3, 4], np.int8)}, r"y_test must hold labels 0-9; got values in \[-1, 4\]"),
    ({"y_train": np.arange(11) % 10}, r"12 train images but 11 labels"),
    ({"x_test": np.zeros((6, 784), np.uint8)}, r"x_test must have shape \(n, 28, 28\)"),
    ({"y_train": np.zeros(12, np.float32)}, r"y_train must be one-dimensional integer labels"),
    ({"y_test": None}, r"must hold exactly the arrays"),
    ({"extra": np.zeros(3)}, r"must hold exactly the arrays"),
    ({"x_train": np.zeros((0, 28, 28), np.uint8), "y_train": np.zeros(0, np.uint8)}, r"the train split is empty"),
])
def test_npz_is_validated(lookup, override, pattern):
    _npz(lookup["cwd_data"], **override)
    with pytest.raises(ValueError, match=pattern):
        data.load_mnist(verbose=False)


def test_npz_with_object_arrays_is_rejected(lookup):
    d = lookup["cwd_data"]
    d.mkdir()
    xtr, ytr = synthetic_mnist(4)
    np.savez(d / "mnist.npz", x_train=np.array([xtr, "x"], dtype=object), y_train=ytr, x_test=xtr, y_test=ytr)
    with pytest.raises(ValueError, match=r"object arrays"):
        data.load_mnist(verbose=False)


def test_fashion_npz_is_found_by_its_own_name(lookup, monkeypatch):
    _npz(lookup["cwd_data"], name="fashion_mnist.npz")
    monkeypatch.setenv(data.DATASET_ENV, "fashion_mnist")
    assert data.find_dataset() == data.DataSource("npz", str(lookup["cwd_data"] / "fashion_mnist.npz"), "fashion_mnist")
    assert data.find_dataset("mnist").kind == "keras"  # a fashion_mnist.npz is not MNIST


# ============================================================== bounded decompression

def test_idx_header_promising_too_many_entries_is_rejected_before_reading(tmp_path):
    path = write_idx(tmp_path / "huge.gz", raw=idx_bytes(np.zeros(4, np.uint8), magic=2049, dims=(10**9,)))
    with pytest.raises(ValueError, match=r"promises 1,000,000,000 entries"):
        data.read_idx(path)


def test_idx_gzip_bomb_is_not_decompressed_in_full(tmp_path, monkeypatch):
    """5 labels promised, 50 MB of zeros behind them: rejected after reading 6 bytes of payload."""
    header = idx_bytes(np.zeros(5, np.uint8), magic=2049, dims=(5,))[:8]
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(header + bytes(50_000_000), compresslevel=1))
    reads = []
    original = gzip.GzipFile.read

    def counting_read(self, size=-1):
        reads.append(size)
        return original(self, size)

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    with pytest.raises(ValueError, match=r"promises \(5,\) = 5 bytes of data, but the file holds more"):
        data.read_idx(path)
    assert -1 not in reads and max(reads) <= 6, reads


def test_read_idx_max_items_reads_the_head_only(tmp_path):
    _, y = synthetic_mnist(30)
    path = write_idx(tmp_path / "labels.gz", y)
    np.testing.assert_array_equal(data.read_idx(path, max_items=10), y[:10])


# ============================================================== complex input is never silently made real

@pytest.mark.parametrize("call", [
    lambda z: data.gaussian_noise(z),
    lambda z: data.binarize(z),
    lambda z: data.stratified_subset((np.arange(20) % 10).astype(complex), 10),
    lambda z: data.offline_split((np.arange(20) % 2).astype(complex), test_size=4),
])
def test_complex_arrays_are_rejected(call):
    z = np.full((3, 28, 28), 0.5 + 0.1j)
    with pytest.raises(TypeError, match=r"must be a real-valued array; got complex"):
        call(z)


def test_dequantize_puts_each_grey_level_in_its_bin():
    levels = np.arange(256)
    x = np.repeat(levels / 255.0, 50).reshape(256, 50).astype(np.float32)
    out = data.dequantize(x, seed=3)
    np.testing.assert_array_equal(np.floor(out.astype(np.float64) * 256).astype(int), np.repeat(levels, 50).reshape(256, 50))
    assert out.min() >= 0.0 and out.max() < 1.0
    # uniform within the bin: mean offset 1/2, variance 1/12 (in bin units)
    offsets = out.astype(np.float64) * 256 - np.repeat(levels, 50).reshape(256, 50)
    assert abs(offsets.mean() - 0.5) < 0.02 and abs(offsets.var() - 1 / 12) < 0.01
    coarse = data.dequantize(np.array([0.0, 1.0]), seed=0, levels=2)
    assert 0.0 <= coarse[0] < 0.5 <= coarse[1] < 1.0


def test_dequantize_bad_levels():
    with pytest.raises(ValueError, match="levels must be at least 2; got 1"):
        data.dequantize(np.zeros(3), levels=1)
    with pytest.raises(TypeError, match="levels"):
        data.dequantize(np.zeros(3), levels=2.5)
