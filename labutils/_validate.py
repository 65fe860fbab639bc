"""Input checks shared by the labutils modules (private)."""
from __future__ import annotations

import math
import re

import numpy as np


def as_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a NumPy array, or raise TypeError for non-numeric input.

    Tensors of any Keras backend are converted (a PyTorch tensor that requires a gradient is detached first).
    """
    if hasattr(x, "detach") and hasattr(x, "requires_grad"):  # a PyTorch tensor, perhaps part of a graph
        x = x.detach().cpu()
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
        ValueError: any other shape, e.g. a single unbatched image ``(28, 28)``,
            ``(28, 28, 1)`` or ``(784,)``, non-square images, or RGB.
        TypeError: complex, object or non-numeric arrays.
    """
    arr = as_array(x, name)
    shape = arr.shape
    single = f" A single unbatched image? Use {name}[None] for a batch of one."
    if arr.ndim == 2:
        side = int(round(np.sqrt(arr.shape[1])))
        if side * side != arr.shape[1]:
            raise ValueError(
                f"{name} of shape {arr.shape}: flat images need a square number of pixels "
                f"(e.g. 784 = 28x28); got {arr.shape[1]}." + (single if arr.shape[0] == arr.shape[1] else "")
            )
        arr = arr.reshape(arr.shape[0], side, side)
    elif arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    elif arr.ndim != 3:
        raise ValueError(
            f"{name} must be a batch of grey images shaped (n, 784), (n, 28, 28) or "
            f"(n, 28, 28, 1); got shape {arr.shape}." + (single if arr.ndim == 1 else "")
        )
    if arr.shape[1] != arr.shape[2]:
        raise ValueError(f"{name} must be a batch of square grey images (n, side, side[, 1]); got shape "
                         f"{shape}." + (single if arr.shape[-1] == 1 else ""))
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; expected at least one image.")
    return arr.astype(np.float32, copy=False)


def positive_int(value, name: str) -> int:
    """Return ``value`` if it is a positive int, else raise TypeError/ValueError.

    Booleans are refused (``True`` is not a size), as are floats such as ``2.0``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r} ({type(value).__name__}).")
    if value <= 0:
        raise ValueError(f"{name} must be positive; got {value}.")
    return int(value)


def probability(value, name: str, *, allow_one: bool = True) -> float:
    """Return ``value`` as float after checking 0 <= value <= 1 (or < 1); NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    upper_ok = value <= 1.0 if allow_one else value < 1.0
    if not (value >= 0.0 and upper_ok):
        bound = "1" if allow_one else "1 (exclusive)"
        raise ValueError(f"{name} must lie between 0 and {bound}; got {value}.")
    return value


# ---------------------------------------------------------------- numbers, seeds, batches, sizes, names

#: Seeds are ints in [0, 2**32 - 1]: what NumPy's ``RandomState``, scikit-learn's
#: ``random_state`` and ``keras.utils.set_random_seed`` all accept.
MAX_SEED = 2**32 - 1
#: Upper bounds on arguments that set a loop count or an allocation, so that a typo
#: (an extra zero or three) fails at once with a clear message instead of running for days.
MAX_EPOCHS = 100_000
MAX_SAMPLES = 100_000
MAX_ITER = 100_000

_NUMBER_TYPES = (int, float, np.integer, np.floating)


def _is_number(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, _NUMBER_TYPES)


def bounded_int(value, name: str, maximum: int, why: str = "") -> int:
    """Return ``value`` if it is an int in ``[1, maximum]``, else raise TypeError/ValueError.

    For arguments that set a loop count or the size of an allocation.
    """
    value = positive_int(value, name)
    if value > maximum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be at most {maximum:,}{reason}; got {value:,}.")
    return value


def number(value, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as float after checking that it is a finite real number.

    Raises:
        TypeError: not a real number (booleans, strings and complex numbers included).
        ValueError: NaN, inf, or the sign that ``positive``/``nonnegative`` forbid.
    """
    if not _is_number(value):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if positive and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}.")
    if nonnegative and not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    return value


def learning_rate(value, name: str = "learning_rate", *, allow_schedule: bool = False):
    """A learning rate: a positive finite number (or, with ``allow_schedule``, a Keras schedule).

    Raises:
        TypeError: not a number (nor a ``keras.optimizers.schedules.LearningRateSchedule``
            where one is allowed). ValueError: 0, negative, NaN or inf.
    """
    if allow_schedule and not _is_number(value) and not isinstance(value, (bool, np.bool_)):
        import keras

        if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
            return value
    if not _is_number(value):
        kinds = "a positive number or a keras LearningRateSchedule" if allow_schedule else "a positive number"
        raise TypeError(f"{name} must be {kinds}; got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        shown = int(value) if math.isfinite(value) and value.is_integer() else value
        raise ValueError(f"{name} must be a positive finite number; got {shown!r}.")
    return value


def seed(value, name: str = "seed", *, allow_none: bool = False, allow_sequence: bool = False):
    """A random seed: an int in ``[0, 2**32 - 1]`` (booleans, floats and strings refused).

    Args:
        allow_none: accept None (an unseeded generator).
        allow_sequence: also accept a non-empty list or tuple of such ints (what
            ``numpy.random.default_rng`` takes), e.g. ``[seed, epoch, batch]``.

    Raises:
        TypeError: not an int. ValueError: negative or above ``2**32 - 1``.
    """
    if value is None and allow_none:
        return None
    if allow_sequence and isinstance(value, (list, tuple)) and len(value) > 0:
        return [seed(v, f"{name}[i]") for v in value]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        also = " or None" if allow_none else ""
        raise TypeError(f"{name} must be an int from 0 to 2**32 - 1{also}; got {value!r} ({type(value).__name__}).")
    if not 0 <= int(value) <= MAX_SEED:
        raise ValueError(f"{name} must be an int from 0 to 2**32 - 1; got {value}.")
    return int(value)


def finite_array(x, name: str, dtype=np.float64) -> np.ndarray:
    """``x`` as a real ``dtype`` array after checking that every value is finite.

    Raises:
        TypeError: complex, object or non-numeric arrays. ValueError: NaN or inf.
    """
    arr = as_array(x, name)
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; expected finite numbers.")
    return arr.astype(dtype, copy=False)


def batch(arr: np.ndarray, name: str, example: str = "(n, ...)") -> np.ndarray:
    """Check that ``arr`` is a non-empty batch (at least 2-D), not one unbatched example.

    Raises:
        ValueError: fewer than two dimensions (e.g. a single flat image ``(784,)``,
            which would otherwise be read as 784 one-pixel images), a single
            image with a channel axis ``(H, W, 1)`` (read as H images of W x 1
            pixels otherwise), or no examples.
    """
    if arr.ndim < 2 or (arr.ndim == 3 and arr.shape[-1] == 1 and arr.shape[1] > 1):
        raise ValueError(f"{name} must be a batch {example}; got shape {arr.shape}: a single example? "
                         f"Use {name}[None] for a batch of one.")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; expected at least one example.")
    return arr


def sizes(values, name: str) -> tuple:
    """A sequence of layer sizes as a tuple of positive ints (may be empty).

    Raises:
        TypeError: not a list or tuple of ints (a single int, a string, a float inside).
        ValueError: a size that is not positive.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a tuple of positive ints, e.g. (128, 64); got {values!r} "
                        f"({type(values).__name__}).")
    return tuple(positive_int(v, f"{name}[i]") for v in values)


_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def file_name(value, what: str, *, max_length: int = 120) -> str:
    """A plain file name that stays inside its folder: letters, digits, ``.``, ``_`` and ``-``.

    Refuses empty names, ``.``/``..`` and names that start with a dot, path
    separators (``a/b``, ``/abs``, ``a\\b``), NUL and other control characters,
    and names longer than ``max_length``.

    Raises:
        ValueError: any other name (also a name that is not a string), naming ``what``.
    """
    if not isinstance(value, str) or len(value) > max_length or not _FILE_NAME.fullmatch(value):
        raise ValueError(f"{what} must be a plain file name like 'dense_autoencoder' (letters, digits, '.', '_', "
                         f"'-'; no path separators, not starting with '.', at most {max_length} characters); "
                         f"got {value!r}.")
    return value
