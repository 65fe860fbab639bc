"""Where labutils writes: the ``build/`` directory of the checkout.

``LABUTILS_BUILD_DIR`` overrides it (``make run`` and the tests set it). In a
checkout (a directory with ``pyproject.toml`` above the package) the default is
``<checkout>/build``; for an installed copy (e.g. Colab) it is ``./build``.
"""
from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "LABUTILS_BUILD_DIR"

__all__ = ["BUILD_DIR_ENV", "project_root", "build_dir"]


def project_root() -> Path | None:
    """The checkout's root directory, or None when labutils is installed elsewhere."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def build_dir() -> Path:
    """Directory for results, cached models and figures (created if missing).

    Returns:
        ``$LABUTILS_BUILD_DIR`` if set, else ``<checkout>/build``, else ``./build``.

    Raises:
        ValueError: the directory cannot be created (e.g. ``LABUTILS_BUILD_DIR``
            names a file or a read-only place); the message names the variable.
    """
    env = os.environ.get(BUILD_DIR_ENV, "").strip()
    root = project_root()
    path = Path(env).expanduser() if env else (root / "build" if root else Path.cwd() / "build")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = f"{BUILD_DIR_ENV}={env!r}" if env else f"the build directory {path}"
        raise ValueError(f"{where} cannot be used as a directory ({exc.strerror or exc}); point "
                         f"{BUILD_DIR_ENV} at a writable folder.") from exc
    return path
