"""Where labutils writes: the ``build/`` directory of the checkout.

``LABUTILS_BUILD_DIR`` overrides it (``make run`` and the tests set it). In a
checkout (a directory with ``pyproject.toml`` above the package) the default is
``<checkout>/build``; for an installed copy (e.g. Colab) it is ``./build``.
"""
from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "LABUTILS_BUILD_DIR"

__all__ = ["BUILD_DIR_ENV", "project_root", "build_dir", "build_subdir"]


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
