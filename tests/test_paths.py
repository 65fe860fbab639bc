"""Tests for labutils.paths: the model cache under the build directory."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from labutils import autoencoders, backends, paths  # noqa: E402


def test_cache_path_under_build_dir(build_dir, monkeypatch):
    path = paths.cache_path("dense_autoencoder")
    # no data on disk: MNIST through keras.datasets, the standard 60,000 / 10,000 split
    assert path == build_dir / "models" / "mnist" / "standard" / "full" / backends.name() / "dense_autoencoder.keras"
    assert path.parent.is_dir() and not path.exists()
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert paths.cache_path("ae") == build_dir / "models" / "mnist" / "standard" / "quick" / backends.name() / "ae.keras"
    monkeypatch.setenv("LABS_DATASET", "fashion_mnist")
    assert paths.cache_path("ae") == build_dir / "models" / "fashion_mnist" / "standard" / "quick" / backends.name() / "ae.keras"


def test_cache_path_offline_split(build_dir, mnist_dir, monkeypatch):
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(mnist_dir))
    assert paths.cache_path("ae") == build_dir / "models" / "mnist" / "offline-8k" / "full" / backends.name() / "ae.keras"


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", ".hidden", "../up", None, 3])
def test_cache_path_bad_names(name):
    with pytest.raises(ValueError, match=r"cache name must be a plain file name"):
        paths.cache_path(name)


def test_save_and_load_cached_round_trip(build_dir):
    keras.utils.set_random_seed(0)
    ae, _, _ = autoencoders.dense_autoencoder(16, 4, hidden_units=(8,))
    path = paths.save_cached(ae, "tiny_ae")
    assert path == build_dir / "models" / "mnist" / "standard" / "full" / backends.name() / "tiny_ae.keras" and path.is_file()
    loaded = paths.load_cached("tiny_ae")
    assert loaded is not None and loaded is not ae
    x = np.random.default_rng(0).random((6, 16), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), ae.predict(x, verbose=0))
    assert loaded.get_layer("encoder").get_layer("code").units == 4


def test_load_cached_missing_returns_none(build_dir, monkeypatch):
    assert paths.load_cached("never_saved") is None
    keras.utils.set_random_seed(0)
    ae, _, _ = autoencoders.dense_autoencoder(8, 2)
    paths.save_cached(ae, "full_only")
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert paths.load_cached("full_only") is None  # quick runs never see full models


def test_load_cached_corrupt_file(build_dir):
    paths.cache_path("broken").write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"cannot load the cached model .*broken\.keras .*delete the file and rerun"):
        paths.load_cached("broken")


def test_load_cached_uses_safe_mode(build_dir):
    inp = keras.Input(shape=(3,))
    model = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2.0)(inp))
    paths.save_cached(model, "with_lambda")
    with pytest.raises(ValueError, match=r"cannot load the cached model .*(safe_mode|lambda)"):
        paths.load_cached("with_lambda")
