"""Tests for labutils.profile (LABS_PROFILE, LABS_SEED)."""
from __future__ import annotations

import pytest

from labutils import profile


def test_constants():
    assert profile.ENV_VAR == "LABS_PROFILE"
    assert profile.SEED_VAR == "LABS_SEED"
    assert profile.PROFILES == ("full", "quick")


def test_unset_means_full():
    assert profile.name() == "full"
    assert profile.is_quick() is False


@pytest.mark.parametrize("raw, expected", [
    ("", "full"), ("   ", "full"), ("full", "full"), ("FULL", "full"),
    ("quick", "quick"), (" Quick \n", "quick"), ("QUICK", "quick"),
])
def test_name_parses_env(monkeypatch, raw, expected):
    monkeypatch.setenv("LABS_PROFILE", raw)
    assert profile.name() == expected
    assert profile.is_quick() is (expected == "quick")


def test_name_is_read_on_every_call(monkeypatch):
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert profile.name() == "quick"
    monkeypatch.setenv("LABS_PROFILE", "full")
    assert profile.name() == "full"
    monkeypatch.delenv("LABS_PROFILE")
    assert profile.name() == "full"


@pytest.mark.parametrize("raw", ["fast", "quick2", "1"])
def test_unknown_profile(monkeypatch, raw):
    monkeypatch.setenv("LABS_PROFILE", raw)
    with pytest.raises(ValueError, match=rf"LABS_PROFILE='{raw}' is not a profile; expected one of full, quick"):
        profile.name()
    with pytest.raises(ValueError, match=r"is not a profile"):
        profile.is_quick()
    with pytest.raises(ValueError, match=r"is not a profile"):
        profile.pick(full=1, quick=2)
    with pytest.raises(ValueError, match=r"is not a profile"):
        profile.describe()


def test_pick_full_and_quick(monkeypatch):
    assert profile.pick(full=50, quick=2) == 50
    assert profile.pick(full=(64, 32), quick=(8, 4)) == (64, 32)
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert profile.pick(full=50, quick=2) == 2
    assert profile.pick(full=(64, 32), quick=(8, 4)) == (8, 4)
    assert profile.pick(full="adam", quick="sgd") == "sgd"


def test_pick_allows_int_float_mix_and_none(monkeypatch):
    assert profile.pick(full=1e-3, quick=1) == 1e-3
    assert profile.pick(full=None, quick=5) is None
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert profile.pick(full=10, quick=0.5) == 0.5
    assert profile.pick(full=10, quick=None) is None


@pytest.mark.parametrize("full, quick", [(50, "2"), (True, 1), (1, False), ([1], (1,)), (2.0, "2.0")])
def test_pick_type_mismatch(full, quick):
    with pytest.raises(TypeError, match=r"profile.pick expects values of the same type for both profiles"):
        profile.pick(full=full, quick=quick)


def test_pick_is_keyword_only():
    with pytest.raises(TypeError):
        profile.pick(50, 2)


def test_seed_default_and_env(monkeypatch):
    assert profile.seed() == 0
    assert profile.seed(default=42) == 42
    monkeypatch.setenv("LABS_SEED", " 7 ")
    assert profile.seed() == 7
    assert profile.seed(default=42) == 7
    monkeypatch.setenv("LABS_SEED", "")
    assert profile.seed(default=3) == 3


@pytest.mark.parametrize("raw", ["-1", "1.5", "abc", "0x10"])
def test_seed_invalid(monkeypatch, raw):
    monkeypatch.setenv("LABS_SEED", raw)
    with pytest.raises(ValueError, match=rf"LABS_SEED='{raw}' must be a non-negative integer"):
        profile.seed()


def test_describe(monkeypatch):
    assert profile.describe() == "profile: full (set LABS_PROFILE=quick for the short CI run); seed 0"
    monkeypatch.setenv("LABS_PROFILE", "quick")
    monkeypatch.setenv("LABS_SEED", "3")
    text = profile.describe()
    assert text.startswith("profile: quick (LABS_PROFILE=quick)")
    assert text.endswith("; seed 3")
    assert "\n" not in text


def test_describe_invalid_seed(monkeypatch):
    monkeypatch.setenv("LABS_SEED", "x")
    with pytest.raises(ValueError, match=r"LABS_SEED='x'"):
        profile.describe()


# ============================================================== step budgets

@pytest.mark.parametrize("steps, n_train, batch, epochs", [
    (3200, 8000, 256, 100),    # lab 01 on the offline split: 32 steps per epoch
    (3200, 60000, 256, 14),    # the same budget on 60,000 images: 235 steps per epoch
    (320, 2000, 256, 40),      # the quick profile's 2,000 images
    (10, 60000, 128, 1),       # never fewer than one epoch
    (63, 8000, 128, 1),
])
def test_epochs_for(steps, n_train, batch, epochs):
    assert profile.epochs_for(steps, n_train=n_train, batch_size=batch) == epochs


def test_epochs_for_keeps_the_step_budget_roughly():
    for n in (2000, 8000, 60000):
        epochs = profile.epochs_for(5000, n_train=n, batch_size=128)
        steps = epochs * -(-n // 128)
        assert abs(steps - 5000) <= -(-n // 128) / 2 + 1


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(steps=0, n_train=10, batch_size=2), ValueError, r"steps must be positive"),
    (dict(steps=10, n_train=-1, batch_size=2), ValueError, r"n_train must be positive"),
    (dict(steps=10, n_train=10, batch_size=0), ValueError, r"batch_size must be positive"),
    (dict(steps=10.0, n_train=10, batch_size=2), TypeError, r"steps must be an int"),
    (dict(steps=True, n_train=10, batch_size=2), TypeError, r"steps must be an int"),
    (dict(steps=10, n_train="10", batch_size=2), TypeError, r"n_train must be an int"),
])
def test_epochs_for_errors(kwargs, exc, pattern):
    steps = kwargs.pop("steps")
    with pytest.raises(exc, match=pattern):
        profile.epochs_for(steps, **kwargs)
