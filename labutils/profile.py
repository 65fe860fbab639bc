"""Run profiles: the full lab (default) or a quick profile for CI.

One environment variable, ``LABS_PROFILE``, switches every notebook:

* unset, empty or ``full``: the full lab, with the epochs and data sizes a
  student should run;
* ``quick``: fewer epochs and a subset of the data, so that CI can execute
  every notebook in about a minute each.

Notebooks keep their hyperparameters visible at the top, as budgets of
gradient steps so that a lab costs about the same on 8,000 and on 60,000
training images::

    TRAIN_STEPS = profile.pick(full=3200, quick=320)
    ...
    EPOCHS = profile.epochs_for(TRAIN_STEPS, n_train=len(x_train), batch_size=BATCH_SIZE)
"""
from __future__ import annotations

import math
import os
import re

ENV_VAR = "LABS_PROFILE"
SEED_VAR = "LABS_SEED"
PROFILES = ("full", "quick")

__all__ = ["ENV_VAR", "SEED_VAR", "PROFILES", "name", "is_quick", "pick", "seed", "describe", "epochs_for"]


def name() -> str:
    """Return the active profile, ``"full"`` or ``"quick"``.

    Read from the environment variable ``LABS_PROFILE`` each time it is called
    (case-insensitive, surrounding blanks ignored; unset or empty means
    ``"full"``).

    Raises:
        ValueError: if ``LABS_PROFILE`` holds anything else, e.g. ``"fast"``.
    """
    raw = os.environ.get(ENV_VAR, "").strip().lower()
    if raw == "":
        return "full"
    if raw not in PROFILES:
        raise ValueError(
            f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not a profile; expected one of "
            f"{', '.join(PROFILES)} (or leave it unset for the full lab)."
        )
    return raw


def is_quick() -> bool:
    """Return True when the quick (CI) profile is active."""
    return name() == "quick"


def pick(*, full, quick):
    """Return ``full`` or ``quick`` according to the active profile.

    Args:
        full: the value for the full lab (any type).
        quick: the value for the quick profile; should be of the same kind as
            ``full`` (both ints, both tuples, ...).

    Returns:
        ``quick`` when ``LABS_PROFILE=quick``, otherwise ``full``.

    Raises:
        TypeError: if ``full`` and ``quick`` are of different types (a common
            typo such as ``pick(full=50, quick="2")``); ints and floats mix.
        ValueError: if ``LABS_PROFILE`` is set to an unknown profile.
    """
    numbers = (int, float)
    same = type(full) is type(quick) or (
        isinstance(full, numbers) and isinstance(quick, numbers)
        and not isinstance(full, bool) and not isinstance(quick, bool)
    ) or full is None or quick is None
    if not same:
        raise TypeError(
            f"profile.pick expects values of the same type for both profiles; got "
            f"full={full!r} ({type(full).__name__}) and quick={quick!r} ({type(quick).__name__})."
        )
    return quick if is_quick() else full


def seed(default: int = 0) -> int:
    """The lab's random seed: ``LABS_SEED`` if set, else ``default``.

    Notebooks write ``SEED = profile.seed()``; ``benchmarks/seeds.py`` sets
    ``LABS_SEED`` to rerun a lab under several seeds when its bars are set.

    Args:
        default: the seed when ``LABS_SEED`` is unset, an int from 0 to 2**32 - 1.

    Raises:
        ValueError: ``LABS_SEED`` is not an integer from 0 to 2**32 - 1 (written
            with the digits 0-9); a negative ``default``.
        TypeError: ``default`` is not an int (booleans and floats included).
    """
    from . import _validate

    default = _validate.seed(default, "default")
    raw = os.environ.get(SEED_VAR, "").strip()
    if raw == "":
        return default
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) > _validate.MAX_SEED:
        raise ValueError(f"{SEED_VAR}={raw!r} must be a non-negative integer (at most 2**32 - 1 = "
                         f"{_validate.MAX_SEED}).")
    return int(raw)


def describe() -> str:
    """Return a one-line description of the active profile (and print nothing).

    Example: ``"profile: quick (LABS_PROFILE=quick): fewer epochs, data subset"``.
    """
    text = (f"profile: quick ({ENV_VAR}=quick): fewer epochs and a data subset, for CI" if is_quick()
            else f"profile: full (set {ENV_VAR}=quick for the short CI run)")
    return text + f"; seed {seed()}"


def epochs_for(steps: int, *, n_train: int, batch_size: int) -> int:
    """Whole epochs that give about ``steps`` gradient steps over ``n_train`` images.

    A lab's training budget is a number of gradient steps, not of epochs: 100
    epochs are 3,200 steps of 256 images on the offline 8,000-image split but
    23,500 on the 60,000 images of ``keras.datasets``. With a step budget a
    lab costs about the same on both, and more data can only help.

    Args:
        steps: the budget of gradient steps, a positive int.
        n_train: training examples per epoch, a positive int.
        batch_size: examples per step, a positive int.

    Returns:
        ``max(1, round(steps / ceil(n_train / batch_size)))``: e.g. 100 for
        3,200 steps of 256 on 8,000 images, 14 on 60,000 (3,290 steps).

    Raises:
        TypeError: an argument that is not an int (booleans included).
        ValueError: an argument that is not positive.
    """
    import numpy as np

    for value, arg in ((steps, "steps"), (n_train, "n_train"), (batch_size, "batch_size")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, int) and not hasattr(value, "__index__"):
            raise TypeError(f"{arg} must be an int; got {value!r} ({type(value).__name__}).")
        if int(value) <= 0:
            raise ValueError(f"{arg} must be positive; got {value}.")
    per_epoch = math.ceil(int(n_train) / int(batch_size))
    return max(1, round(int(steps) / per_epoch))
