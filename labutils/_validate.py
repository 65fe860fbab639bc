"""Input checks shared by the labutils modules (private)."""
from __future__ import annotations

import numpy as np


def as_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a NumPy array, or raise TypeError for non-numeric input."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} must be array-like; got {type(x).__name__}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array; got dtype {arr.dtype} ({type(x).__name__}).")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real-valued array; got complex dtype {arr.dtype} "
                        "(an imaginary part would be dropped silently).")
    return arr


def unit_interval(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as float32 after checking that it lies in [0, 1].

    Raises:
        TypeError: non-numeric input.
        ValueError: values outside [0, 1] (0-255 pixels get a hint), NaN or inf.
    """
    arr = as_array(x, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty; expected at least one image.")
    arr = arr.astype(np.float32, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; expected finite values in [0, 1].")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        hint = " It looks like 0-255 pixels: divide by 255 first." if hi > 1.0 and hi <= 255.0 and lo >= 0 else ""
        raise ValueError(f"{name} must be float values in [0, 1]; got values in [{lo:g}, {hi:g}].{hint}")
    return arr


def images(x, name: str = "images") -> np.ndarray:
    """Return a batch of square grey images as ``(n, side, side)`` float32.

    Accepts ``(n, side*side)`` flat vectors, ``(n, side, side)`` or
    ``(n, side, side, 1)``.

    Raises:
        ValueError: any other shape, e.g. a single unbatched image or RGB.
    """
    arr = as_array(x, name)
    if arr.ndim == 2:
        side = int(round(np.sqrt(arr.shape[1])))
        if side * side != arr.shape[1]:
            raise ValueError(
                f"{name} of shape {arr.shape}: flat images need a square number of pixels "
                f"(e.g. 784 = 28x28); got {arr.shape[1]}."
            )
        arr = arr.reshape(arr.shape[0], side, side)
    elif arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    elif arr.ndim != 3:
        raise ValueError(
            f"{name} must be a batch of grey images shaped (n, 784), (n, 28, 28) or "
            f"(n, 28, 28, 1); got shape {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; expected at least one image.")
    return arr.astype(np.float32, copy=False)


def positive_int(value, name: str) -> int:
    """Return ``value`` if it is a positive int, else raise TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r} ({type(value).__name__}).")
    if value <= 0:
        raise ValueError(f"{name} must be positive; got {value}.")
    return int(value)


def probability(value, name: str, *, allow_one: bool = True) -> float:
    """Return ``value`` as float after checking 0 <= value <= 1 (or < 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    upper_ok = value <= 1.0 if allow_one else value < 1.0
    if not (value >= 0.0 and upper_ok):
        bound = "1" if allow_one else "1 (exclusive)"
        raise ValueError(f"{name} must lie between 0 and {bound}; got {value}.")
    return value
