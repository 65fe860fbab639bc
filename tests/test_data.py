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


@pytest.mark.parametrize("fname", ["gaussian_noise", "masking_noise", "salt_and_pepper", "binarize", "dynamic_binarize"])
def test_corruption_rejects_0_255(fname):
    x = np.array([[0.0, 128.0, 255.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\]; got values in \[0, 255\].*0-255 pixels: divide by 255"):
        getattr(data, fname)(x)


@pytest.mark.parametrize("fname", ["gaussian_noise", "masking_noise", "salt_and_pepper", "binarize", "dynamic_binarize"])
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
