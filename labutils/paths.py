"""Where labutils writes: the ``build/`` directory of the checkout, and the model cache in it.

``LABUTILS_BUILD_DIR`` overrides it (``make run`` and the tests set it). In a
checkout (a directory with ``pyproject.toml`` above the package) the default is
``<checkout>/build``; for an installed copy (e.g. Colab) it is ``./build``.

Models are cached as ``build/models/<data set>/<split>/<profile>/<backend>/<name>.keras``
(:func:`cache_path`, :func:`save_cached`) and loaded with ``safe_mode=True``
(:func:`load_cached`; no ``Lambda`` layers anywhere): lab 01's autoencoder for
labs 02 and 06, the judge (:func:`labutils.classifiers.judge`) for labs 07 and 08.
"""
from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "LABUTILS_BUILD_DIR"

__all__ = ["BUILD_DIR_ENV", "project_root", "build_dir", "build_subdir", "cache_path", "save_cached", "load_cached"]


def project_root() -> Path | None:
    """The checkout's root directory, or None when labutils is installed elsewhere."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def build_dir() -> Path:
    """Directory for results, cached models and figures (created if missing).

    Returns:
        ``$LABUTILS_BUILD_DIR`` if set, else ``<checkout>/build``, else ``./build``.

    Raises:
        ValueError: the directory cannot be created or written to (e.g.
            ``LABUTILS_BUILD_DIR`` names a file or a read-only place); the
            message names the variable.
    """
    env = os.environ.get(BUILD_DIR_ENV, "").strip()
    root = project_root()
    path = Path(env).expanduser() if env else (root / "build" if root else Path.cwd() / "build")
    where = f"{BUILD_DIR_ENV}={env!r}" if env else f"the build directory {path}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:  # ValueError: a name the file system cannot hold
        raise ValueError(f"{where} cannot be used as a directory ({getattr(exc, 'strerror', None) or exc}); point "
                         f"{BUILD_DIR_ENV} at a writable folder.") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{where} is not writable; point {BUILD_DIR_ENV} at a writable folder.")
    return path


def build_subdir(*parts: str) -> Path:
    """``build_dir() / part / ...``, created if missing, for results, models and figures.

    Each part must be a plain name (no separators, not ``..``), so the folder
    stays inside the build directory.

    Raises:
        ValueError: a part that is not a plain name; a folder that cannot be
            created (e.g. a file of that name is in the way); the message names
            ``LABUTILS_BUILD_DIR``.
    """
    from . import _validate

    base = build_dir()
    path = base
    for part in parts:
        path = path / _validate.file_name(part, "a build sub-folder name")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create {path} inside the build directory ({exc.strerror or exc}); remove what "
                         f"is in the way or point {BUILD_DIR_ENV} at another folder.") from exc
    return path


def cache_path(name: str) -> Path:
    """``build/models/<data set>/<split>/<profile>/<backend>/<name>.keras`` for the active data, profile and backend.

    Models are cached per data set (``LABS_DATASET``), split (``standard`` or
    ``offline-8k``), profile and Keras backend, so a full lab never picks up a
    quick model, a Fashion-MNIST lab never an MNIST one, and a run on JAX never
    a model trained on TensorFlow (each backend's results stand on their own).

    Raises:
        ValueError: a name that is not a plain file name, so that the file stays
            inside the build folder: empty, not a string, with a path separator
            (``a/b``, ``/abs``, ``../x``), starting with ``.``, with NUL or other
            control characters, or longer than 120 characters; a build folder
            that cannot be created (the message names ``LABUTILS_BUILD_DIR``).
    """
    from . import _validate, backends, data, profile

    _validate.file_name(name, "cache name")
    source = data.find_dataset()
    d = build_subdir("models", source.dataset, source.split, profile.name(), backends.name())
    path = d / f"{name}.keras"
    if not path.resolve().is_relative_to(build_dir().resolve()):  # pragma: no cover - belt and braces
        raise ValueError(f"cache name {name!r} leads outside the build directory ({path}).")
    return path


def save_cached(model, name: str) -> Path:
    """Save ``model`` in the ``.keras`` format under :func:`cache_path` and return the path.

    Raises:
        TypeError: ``model`` is not a Keras model. ValueError: a bad name (see :func:`cache_path`).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    path = cache_path(name)
    model.save(path)
    return path


def load_cached(name: str):
    """Load a cached model with ``safe_mode=True``, or return None when there is none.

    Raises:
        ValueError: the file exists but is not a loadable ``.keras`` model
            (e.g. it was written by an older, incompatible lab); delete it and rerun;
            a bad name (see :func:`cache_path`).
    """
    path = cache_path(name)
    if not path.is_file():
        return None
    import keras

    try:
        return keras.models.load_model(path, safe_mode=True)
    except Exception as exc:
        raise ValueError(f"cannot load the cached model {path} ({exc}); delete the file and rerun the lab that writes it.") from exc
