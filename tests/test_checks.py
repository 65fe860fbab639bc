"""Tests for labutils.checks: bars, bars_for, report."""
from __future__ import annotations

import json
import math

import numpy as np
import keras
import pytest

from labutils import checks


# ============================================================== Bar

@pytest.mark.parametrize("factory, op", [
    (checks.at_most, "<="), (checks.at_least, ">="), (checks.below, "<"), (checks.above, ">"),
])
def test_factories(factory, op):
    bar = factory(0.25, "why not")
    assert isinstance(bar, checks.Bar)
    assert (bar.op, bar.threshold, bar.why) == (op, 0.25, "why not")
    assert str(bar) == f"{op} 0.25"


@pytest.mark.parametrize("bar, value, expected", [
    (checks.at_most(0.1), 0.1, True), (checks.at_most(0.1), 0.1000001, False), (checks.at_most(0.1), -5, True),
    (checks.at_least(0.9), 0.9, True), (checks.at_least(0.9), 0.8999, False), (checks.at_least(0.9), 1, True),
    (checks.below(0.1), 0.1, False), (checks.below(0.1), 0.0999, True),
    (checks.above(0.9), 0.9, False), (checks.above(0.9), 0.9001, True),
])
def test_passes_and_strictness(bar, value, expected):
    assert bar.passes(value) is expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf")])
@pytest.mark.parametrize("factory", [checks.at_most, checks.at_least, checks.below, checks.above])
def test_nan_inf_never_pass(factory, value):
    # thresholds chosen so that inf would pass the comparison if it were allowed
    bar = factory(1e9) if factory in (checks.at_most, checks.below) else factory(-1e9)
    assert bar.passes(value) is False


def test_passes_numpy_and_tensor_scalars():
    keras = pytest.importorskip("keras")

    bar = checks.above(0.5)
    assert bar.passes(np.float32(0.75)) is True
    assert bar.passes(np.array(0.75)) is True
    assert bar.passes(keras.ops.convert_to_tensor(0.75)) is True
    assert bar.passes(np.float64(0.25)) is False


@pytest.mark.parametrize("value", [None, [0.9], {"x": 1}, object(), "fast"])
def test_non_numbers_never_pass(value):
    assert checks.at_least(0.5).passes(value) is False


@pytest.mark.parametrize("value", ["0.9", True])
def test_numeric_strings_and_bools_never_pass(value):
    assert checks.at_least(0.5).passes(value) is False


def test_bar_validation():
    with pytest.raises(ValueError, match=r"op must be one of .*got '=='"):
        checks.Bar("==", 1.0)
    for bad in ("0.5", None, True, math.nan, math.inf):
        with pytest.raises(TypeError, match=r"threshold must be a finite number"):
            checks.Bar("<", bad)
    with pytest.raises(TypeError, match=r"threshold must be a finite number; got '0.1'"):
        checks.below("0.1")
    with pytest.raises(TypeError, match=r"threshold must be a finite number"):
        checks.at_least(None)


def test_bar_is_frozen():
    bar = checks.below(1.0)
    with pytest.raises(Exception, match=r"cannot assign"):
        bar.threshold = 2.0


def test_check_returns_value_when_met():
    assert checks.below(0.1).check("test BCE", 0.05) == 0.05


def test_check_message_names_metric_value_threshold_and_reason():
    with pytest.raises(AssertionError, match=(
            r"test BCE = 0\.6931 misses its bar: it must be below 0\.1 \(untrained gives 0\.69\)\.")):
        checks.below(0.1, "untrained gives 0.69").check("test BCE", 0.693147)
    with pytest.raises(AssertionError, match=r"^accuracy = 0\.5 misses its bar: it must be at least 0\.9\. Check"):
        checks.at_least(0.9).check("accuracy", 0.5)
    with pytest.raises(AssertionError, match=r"loss = nan misses its bar: it must be at most 1"):
        checks.at_most(1.0).check("loss", math.nan)
    with pytest.raises(AssertionError, match=r"tiny = 1\.000e-05 misses its bar: it must be above 0\.001"):
        checks.above(0.001).check("tiny", 1e-5)


# ============================================================== bars_for / BARS

def test_bars_for_known_labs():
    full = checks.bars_for("01", "full")
    assert set(full) == {"test BCE", "test BCE vs PCA-32"}
    assert full["test BCE"] == checks.below(0.100, full["test BCE"].why)
    quick = checks.bars_for("02", "quick")
    assert list(quick) == ["CNN accuracy (raw images)"]
    assert quick["CNN accuracy (raw images)"].op == ">"


def test_bars_for_uses_active_profile(monkeypatch):
    assert checks.bars_for("01") == checks.BARS["01"]["full"]
    monkeypatch.setenv("LABS_PROFILE", "quick")
    assert checks.bars_for("01") == checks.BARS["01"]["quick"]


def test_bars_for_returns_a_copy():
    bars = checks.bars_for("01", "full")
    bars.clear()
    assert len(checks.BARS["01"]["full"]) == 2


def test_every_defined_bar_is_a_bar():
    for lab, profiles in checks.BARS.items():
        assert set(profiles) <= {"full", "quick"}, lab
        for bars in profiles.values():
            assert all(isinstance(b, checks.Bar) for b in bars.values())


def test_bars_for_unknown():
    with pytest.raises(KeyError, match=r"no bars for lab '99'; known labs: 01, 02"):
        checks.bars_for("99", "full")
    with pytest.raises(KeyError, match=r"no bars for profile 'slow'; profiles are full, quick"):
        checks.bars_for("01", "slow")


# ============================================================== report

def test_results_dir_under_build_dir(build_dir):
    d = checks.results_dir()
    assert d == build_dir / "results"
    assert d.is_dir()


def test_report_prints_writes_and_returns(build_dir, capsys):
    metrics = {"test BCE": np.float32(0.0912), "accuracy": 0.97, "epochs": 3}
    bars = {"test BCE": checks.below(0.1), "accuracy": checks.at_least(0.95)}
    record = checks.report("07", metrics, bars, title="Tiny lab", data="synthetic data")

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Results: lab 07 - Tiny lab [full profile]"
    assert out[1] == "data: synthetic data"
    assert out[2].split() == ["metric", "value", "bar", "ok"]
    assert out[3].split() == ["test", "BCE", "0.0912", "<", "0.1", "yes"]
    assert out[4].split() == ["accuracy", "0.97", ">=", "0.95", "yes"]
    assert out[5].split() == ["epochs", "3"]

    saved = json.loads((build_dir / "results" / "07.json").read_text())
    assert saved == record
    assert record["lab"] == "07" and record["title"] == "Tiny lab" and record["data"] == "synthetic data"
    assert record["profile"] == "full"
    assert record["backend"] == keras.backend.backend() and record["backend"] in ("tensorflow", "jax", "torch")
    assert record["metrics"] == {"test BCE": pytest.approx(0.0912), "accuracy": 0.97, "epochs": 3.0}
    assert all(isinstance(v, float) for v in record["metrics"].values())
    assert record["bars"] == {"test BCE": {"bar": "< 0.1", "passed": True},
                              "accuracy": {"bar": ">= 0.95", "passed": True}}
    assert record["passed"] is True
    assert len(record["finished_at"]) == 19 and record["finished_at"][10] == "T"


def test_report_quick_profile_recorded(build_dir, monkeypatch):
    monkeypatch.setenv("LABS_PROFILE", "quick")
    record = checks.report("01", {"test BCE": 0.15}, checks.bars_for("01"))
    assert record["profile"] == "quick" and record["passed"] is True
    assert json.loads((build_dir / "results" / "01.json").read_text())["profile"] == "quick"


def test_report_without_bars(build_dir):
    record = checks.report("05", {"x": 1})
    assert record["bars"] == {} and record["passed"] is True
    assert (build_dir / "results" / "05.json").is_file()


def test_report_write_false(build_dir):
    record = checks.report("06", {"x": 1.0}, write=False)
    assert record["metrics"] == {"x": 1.0}
    assert not (build_dir / "results" / "06.json").exists()


@pytest.mark.parametrize("labs_strict, ci, expected", [
    (None, None, False), (None, "true", True), (None, "0", False), ("1", None, True), ("TRUE", "false", True),
    ("0", "true", False), ("no", None, False), ("", "true", False), (" on ", None, True)])
def test_strict_reads_labs_strict_then_ci(monkeypatch, labs_strict, ci, expected):
    for var, value in (("LABS_STRICT", labs_strict), ("CI", ci)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    assert checks.strict() is expected


def test_strict_refuses_a_malformed_switch(monkeypatch):
    monkeypatch.setenv("LABS_STRICT", "maybe")
    with pytest.raises(ValueError, match=r"LABS_STRICT must be 1 or 0 .*got 'maybe'"):
        checks.strict()


def test_report_outside_strict_mode_shows_the_miss_without_raising(build_dir, capsys, monkeypatch):
    """A student's Jupyter session: the table, each miss with its reason, and what to try; no traceback."""
    monkeypatch.delenv("LABS_STRICT", raising=False)
    monkeypatch.delenv("CI", raising=False)
    bars = {"loss": checks.below(0.1, "loss bar"), "acc": checks.above(0.9, "acc bar")}
    record = checks.report("08", {"loss": 0.5, "acc": 0.95}, bars)
    out = capsys.readouterr().out
    assert "MISSED 1 of 2 bars:\n  - loss = 0.5: it must be below 0.1 (loss bar)\n" + checks.MISS_ADVICE in out
    assert "acc = 0.95:" not in out
    assert record["passed"] is False and json.loads((build_dir / "results" / "08.json").read_text())["passed"] is False
    assert repr(record) == "<lab 08 results, full profile: 1 of 2 bars met>"  # not a raw dict in Jupyter
    assert isinstance(record, dict) and json.loads(json.dumps(record)) == dict(record)
    record = checks.report("08", {"loss": 0.05, "acc": 0.95}, bars)
    assert "All 2 bars met." in capsys.readouterr().out and repr(record).endswith("2 of 2 bars met>")
    # no bars here: the reason is printed, nothing raised, and the record does not pass
    record = checks.report("08", {"loss": 0.05}, checks.Unmeasured("no bars measured here yet"))
    assert "NO BARS: no bars measured here yet" in capsys.readouterr().out and record["passed"] is False


def test_report_failure_lists_all_failed_bars_after_writing(build_dir, capsys):
    metrics = {"loss": 0.5, "acc": 0.5, "ok": 1.0}
    bars = {"loss": checks.below(0.1, "loss bar"), "acc": checks.above(0.9, "acc bar"), "ok": checks.at_least(1.0)}
    with pytest.raises(AssertionError) as info:
        checks.report("08", metrics, bars)
    msg = str(info.value)
    assert "loss = 0.5 misses its bar: it must be below 0.1 (loss bar)" in msg
    assert "acc = 0.5 misses its bar: it must be above 0.9 (acc bar)" in msg
    assert "ok =" not in msg
    assert len(msg.splitlines()) == 2
    # printed and written before raising
    out = capsys.readouterr().out
    assert "NO" in out and "yes" in out and "MISSED 2 of 3 bars:" in out and checks.MISS_ADVICE in out
    saved = json.loads((build_dir / "results" / "08.json").read_text())
    assert saved["passed"] is False
    assert saved["bars"]["loss"]["passed"] is False and saved["bars"]["ok"]["passed"] is True


def test_report_nan_metric_fails_its_bar(build_dir):
    with pytest.raises(AssertionError, match=r"loss = nan misses its bar"):
        checks.report("09", {"loss": float("nan")}, {"loss": checks.at_most(1.0)})
    assert json.loads((build_dir / "results" / "09.json").read_text())["passed"] is False


def test_report_bar_for_unreported_metric(build_dir):
    with pytest.raises(ValueError, match=r"bars name metrics that were not reported: \['acc'\]; reported: \['loss'\]"):
        checks.report("10", {"loss": 0.1}, {"acc": checks.above(0.5)})
    assert not (build_dir / "results" / "10.json").exists()


@pytest.mark.parametrize("value", [None, "high", [1.0, 2.0], {"a": 1}])
def test_report_non_number_metric(build_dir, value):
    with pytest.raises(TypeError, match=r"metric 'loss' must be a number"):
        checks.report("11", {"loss": value})
    assert not (build_dir / "results" / "11.json").exists()


@pytest.mark.parametrize("value", ["0.9", True])
def test_report_rejects_numeric_strings_and_bools(build_dir, value):
    with pytest.raises(TypeError, match=r"must be a number"):
        checks.report("12", {"acc": value}, write=False)


def test_report_invalid_profile(monkeypatch):
    monkeypatch.setenv("LABS_PROFILE", "turbo")
    with pytest.raises(ValueError, match=r"LABS_PROFILE='turbo' is not a profile"):
        checks.report("13", {"x": 1.0})


# ============================================================== bars per data set

def test_bars_for_picks_the_data_set(monkeypatch):
    assert checks.bars_for("01", "full", "mnist") == checks.BARS["01"]["full"]
    monkeypatch.setitem(checks.FASHION_MNIST_BARS, "01", {"quick": {"test BCE": checks.below(0.3)}})
    monkeypatch.setenv("LABS_DATASET", "fashion_mnist")
    assert checks.bars_for("01", "quick") == {"test BCE": checks.below(0.3)}
    unmeasured = checks.bars_for("01", "full")
    assert unmeasured == {} and isinstance(unmeasured, checks.Unmeasured)
    assert "no bars for the full profile on fashion_mnist yet" in unmeasured.reason


def test_bars_for_unmeasured_data_set_and_bad_arguments(monkeypatch):
    monkeypatch.delitem(checks.FASHION_MNIST_BARS, "09", raising=False)
    assert isinstance(checks.bars_for("09", "quick", "fashion_mnist"), checks.Unmeasured)
    with pytest.raises(KeyError, match=r"no bars for data set 'cifar10'"):
        checks.bars_for("01", "quick", "cifar10")
    with pytest.raises(TypeError, match=r"lab must be a two-digit string"):
        checks.bars_for(1, "quick")


def test_report_records_the_data_set_and_split(build_dir, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(mnist_dir))
    record = checks.report("98", {"x": 1.0}, {"x": checks.at_least(0.5)})
    assert record["dataset"] == "mnist" and record["split"] == "offline-8k"
    assert "8,000 / 2,000" in record["data"]
    saved = json.loads((checks.results_dir() / "98.json").read_text())
    assert saved["dataset"] == "mnist" and saved["split"] == "offline-8k"
    assert "measured on the offline" not in capsys.readouterr().out


def test_report_on_full_mnist_says_where_its_bars_come_from(build_dir, tmp_path, monkeypatch, capsys):
    from conftest import make_idx_dir

    make_idx_dir(tmp_path / "full", train=30, test=20)
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(tmp_path / "full"))
    record = checks.report("98", {"x": 1.0}, {"x": checks.at_least(0.5)})
    assert record["split"] == "standard"
    assert "bars were measured on the offline 8,000 / 2,000 split" in capsys.readouterr().out


@pytest.mark.parametrize("lab", ["../../x", "1", "001", "0a", 1, None])
def test_report_rejects_lab_names_outside_the_results_folder(build_dir, lab):
    with pytest.raises(ValueError, match=r"lab must be a two-digit string"):
        checks.report(lab, {"x": 1.0})
    assert not list(build_dir.rglob("*.json"))


def test_report_without_measured_bars_saves_the_results_then_fails(build_dir, monkeypatch, capsys):
    """A lab with no bars measured on this data set and profile shows and saves its numbers, then fails."""
    monkeypatch.delitem(checks.FASHION_MNIST_BARS, "01", raising=False)
    monkeypatch.setenv("LABS_DATASET", "fashion_mnist")
    with pytest.raises(AssertionError, match=r"lab 01 has no bars for the full profile on fashion_mnist yet"):
        checks.report("01", {"test BCE": 0.3}, checks.bars_for("01", "full"))
    assert "test BCE" in capsys.readouterr().out
    saved = json.loads((checks.results_dir() / "01.json").read_text())
    assert saved["metrics"] == {"test BCE": 0.3} and saved["passed"] is False and saved["bars"] == {}


def test_assert_misses_fails_on_unknown_bar_names_and_on_values_that_pass():
    """The bar tests' helper (tests/conftest.py) can fail: a renamed bar or a baseline that passes is reported."""
    from conftest import assert_misses

    assert_misses("01", "test BCE", 0.69, "an untrained model")  # misses in both profiles
    assert_misses("01", "test BCE vs PCA-32", 1.0, "PCA itself", profiles=("full",))
    with pytest.raises(pytest.fail.Exception, match="no bar named 'test bce' in any profile"):
        assert_misses("01", "test bce", 0.69, "a typo")
    with pytest.raises(pytest.fail.Exception, match="quick profile\\) has no bar named 'test BCE vs PCA-32'"):
        assert_misses("01", "test BCE vs PCA-32", 2.0, "untrained", profiles=("quick",))
    with pytest.raises(pytest.fail.Exception, match="passes lab 01's mnist quick bar"):
        assert_misses("01", "test BCE", 0.15, "a quick-profile model")
    with pytest.raises(pytest.fail.Exception, match="no bar named"):
        assert_misses("09", "DBN-initialised MLP (few labels)", 0.1, "chance", dataset="fashion_mnist",
                      profiles=("full",))  # no such bar on Fashion-MNIST: nothing to miss
