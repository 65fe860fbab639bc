"""Tests for labutils.runner: finding notebooks, the results table, executing tiny notebooks.

Only three notebooks are executed (a kernel start costs seconds): one that passes,
one whose bar fails, one that never reports.
"""
from __future__ import annotations

import json
import os

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from labutils import paths, runner  # noqa: E402


def _write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


PASSING_CELL = (
    "import os, labutils.checks\n"
    "print('cwd', os.getcwd())\n"
    'labutils.checks.report("99", {"x": 1.0}, {"x": labutils.checks.at_least(0.5)}, title="Tiny")'
)
FAILING_CELL = 'import labutils.checks\nlabutils.checks.report("97", {"x": 0.1}, {"x": labutils.checks.at_least(0.5)})'


# ============================================================== find_notebooks

@pytest.fixture
def nb_dir(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    for name in ("02_b.ipynb", "10_c.ipynb", "01_a.ipynb", "notes.ipynb", "1_x.ipynb", "03_d.txt", "ab_x.ipynb"):
        (d / name).write_text("{}")
    return d


def test_find_notebooks_sorted_and_filtered(nb_dir):
    assert [p.name for p in runner.find_notebooks(nb_dir)] == ["01_a.ipynb", "02_b.ipynb", "10_c.ipynb"]
    assert [p.name for p in runner.find_notebooks(str(nb_dir), ["10", 1])] == ["01_a.ipynb", "10_c.ipynb"]
    assert [p.name for p in runner.find_notebooks(nb_dir, ["02", "2"])] == ["02_b.ipynb"]
    assert runner.find_notebooks(nb_dir, []) == []


def test_find_notebooks_missing_lab(nb_dir):
    with pytest.raises(ValueError, match=r"no notebook for lab\(s\) \['05', '07'\] in .*found \['01_a.ipynb', '02_b.ipynb', '10_c.ipynb'\]"):
        runner.find_notebooks(nb_dir, ["1", "5", 7])


def test_find_notebooks_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"notebook directory not found: .*nowhere"):
        runner.find_notebooks(tmp_path / "nowhere")


# ============================================================== results_markdown

def test_results_markdown():
    records = [
        {"lab": "01", "notebook": "01_ae.ipynb", "profile": "quick", "wall_time_s": 12.34, "status": "passed",
         "error": "", "title": "Dense autoencoder", "data": "MNIST test split only",
         "metrics": {"test BCE": 0.0912345, "epochs": 2.0},
         "bars": {"test BCE": {"bar": "< 0.2", "passed": True}}},
        {"lab": "02", "notebook": "02_cnn.ipynb", "profile": "quick", "wall_time_s": 3.0, "status": "failed",
         "error": "AssertionError: acc = 0.5 misses its bar",
         "metrics": {"acc": 0.5}, "bars": {"acc": {"bar": "> 0.8", "passed": False}}},
        {"lab": "03", "notebook": "03_x.ipynb", "profile": "full", "wall_time_s": 1, "status": "no results",
         "error": "the notebook did not call checks.report(...)"},
    ]
    md = runner.results_markdown(records)
    lines = md.splitlines()
    assert lines[0] == "| lab | notebook | data set | profile | backend | wall time (s) | status |"
    assert lines[1] == "|---|---|---|---|---|---:|---|"
    assert lines[2] == "| 01 | 01_ae.ipynb |  | quick |  | 12.3 | passed |"  # no data set or backend recorded
    assert lines[3] == "| 02 | 02_cnn.ipynb |  | quick |  | 3.0 | failed |"
    assert lines[4] == "| 03 | 03_x.ipynb |  | full |  | 1.0 | no results |"
    assert "### Lab 01: Dense autoencoder (quick profile, 12.3 s)" in lines
    assert "Data: MNIST test split only" in lines
    assert "| test BCE | 0.09123 | < 0.2 | yes |" in lines
    assert "| epochs | 2 |  |  |" in lines
    assert "### Lab 02: 02_cnn.ipynb (quick profile, 3.0 s)" in lines  # no title: the notebook's name
    assert "Error: `AssertionError: acc = 0.5 misses its bar`" in lines
    assert "| acc | 0.5 | > 0.8 | NO |" in lines
    assert "Error: `the notebook did not call checks.report(...)`" in lines
    assert md.endswith("\n")
    assert md.count("| metric | value | bar | met |") == 2


def test_results_markdown_empty():
    assert runner.results_markdown([]) == ("| lab | notebook | data set | profile | backend | wall time (s) | status |\n"
                                           "|---|---|---|---|---|---:|---|\n")


# ============================================================== executing notebooks

def test_run_passing_notebook(tmp_path, build_dir, monkeypatch):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _write_notebook(nbs / "99_tiny.ipynb", PASSING_CELL)
    _write_notebook(nbs / "98_other.ipynb", "raise RuntimeError('must not run')")
    monkeypatch.setenv("LABS_PROFILE", "full")  # run() overwrites it; monkeypatch restores it

    records = runner.run(["99"], "quick", notebooks_dir=nbs, timeout=120)

    assert os.environ["LABS_PROFILE"] == "quick"
    assert len(records) == 1
    rec = records[0]
    assert rec["status"] == "passed" and rec["error"] == ""
    assert rec["lab"] == "99" and rec["notebook"] == "99_tiny.ipynb"
    assert rec["profile"] == "quick"
    assert rec["wall_time_s"] > 0
    assert rec["metrics"] == {"x": 1.0}
    assert rec["bars"] == {"x": {"bar": ">= 0.5", "passed": True}}
    assert rec["passed"] is True and rec["title"] == "Tiny"

    # the kernel inherited LABUTILS_BUILD_DIR and LABS_PROFILE
    saved = json.loads((build_dir / "results" / "99.json").read_text())
    assert saved["profile"] == "quick" and saved["metrics"] == {"x": 1.0}
    assert json.loads((build_dir / "results.json").read_text()) == records
    md = (build_dir / "results.md").read_text()
    assert "| 99 | 99_tiny.ipynb | mnist | quick |" in md and "| x | 1 | >= 0.5 | yes |" in md

    executed = nbformat.read(build_dir / "notebooks" / "99_tiny.ipynb", as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert f"cwd {nbs.resolve()}" in text  # the kernel starts in the notebook's directory
    assert "Results: lab 99 - Tiny [quick profile]" in text


def test_run_notebook_reports_a_miss_that_did_not_raise(tmp_path, build_dir, monkeypatch):
    """LABS_STRICT=0 (as in a student's Jupyter): the notebook runs to the end, the runner still fails the lab."""
    monkeypatch.setenv("LABS_STRICT", "0")
    nb = _write_notebook(tmp_path / "97_misses.ipynb", FAILING_CELL, "print('after the miss')")
    rec = runner.run_notebook(nb, tmp_path / "executed", timeout=120)
    assert rec["status"] == "failed" and rec["error"] == "missed bars: x" and rec["passed"] is False
    executed = nbformat.read(tmp_path / "executed" / "97_misses.ipynb", as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert "MISSED 1 of 1 bar:" in text and not [o for o in executed.cells[0].outputs if o.output_type == "error"]
    assert "after the miss" in "".join(o.get("text", "") for o in executed.cells[1].outputs)


def test_run_refuses_a_malformed_strict_switch(tmp_path, build_dir, monkeypatch):
    monkeypatch.setenv("LABS_STRICT", "sometimes")
    with pytest.raises(ValueError, match="LABS_STRICT must be 1 or 0"):
        runner.run(notebooks_dir=tmp_path)


def test_run_notebook_failing_cell(tmp_path, build_dir):
    nb = _write_notebook(tmp_path / "97_fails.ipynb", FAILING_CELL, "print('after the failure')")
    out_dir = tmp_path / "executed"

    rec = runner.run_notebook(nb, out_dir, timeout=120)

    assert rec["status"] == "failed"
    assert "AssertionError" in rec["error"] and "x = 0.1 misses its bar" in rec["error"]
    assert "\x1b" not in rec["error"]  # no terminal colour codes in results.md
    assert rec["metrics"] == {"x": 0.1}  # report() saved before it raised
    assert rec["passed"] is False and rec["profile"] == "full"
    executed = nbformat.read(out_dir / "97_fails.ipynb", as_version=4)
    errors = [o for o in executed.cells[0].outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "AssertionError"
    assert executed.cells[1].outputs == []  # execution stopped at the failing cell


def test_main_returns_1_when_a_notebook_reports_nothing(tmp_path, build_dir, monkeypatch, capsys):
    (tmp_path / "notebooks").mkdir()
    _write_notebook(tmp_path / "notebooks" / "96_silent.ipynb", "x = 1 + 1")
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    stale = build_dir / "results" / "96.json"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text('{"metrics": {"old": 1.0}, "passed": true}')  # a previous run's record must not count

    assert runner.main(["--lab", "96", "--timeout", "120"]) == 1

    records = json.loads((build_dir / "results.json").read_text())
    assert [r["status"] for r in records] == ["no results"]
    assert records[0]["error"] == "the notebook did not call checks.report(...)"
    assert "metrics" not in records[0] and not stale.exists()
    assert (build_dir / "notebooks" / "96_silent.ipynb").is_file()
    out = capsys.readouterr().out
    assert "running 96_silent.ipynb (full profile)" in out
    assert "| 96 | 96_silent.ipynb | mnist | full |" in out and "| no results |" in out


def test_main_and_run_reject_bad_arguments(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    with pytest.raises(SystemExit) as info:
        runner.main(["--profile", "slow"])
    assert info.value.code == 2
    assert "invalid choice: 'slow'" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"no notebook for lab\(s\) \['42'\]"):
        runner.main(["--lab", "42"])
    with pytest.raises(ValueError, match=r"profile must be one of \('full', 'quick'\); got 'fast'"):
        runner.run(profile_name="fast", notebooks_dir=tmp_path / "notebooks")


def test_main_with_no_notebooks_returns_1(tmp_path, build_dir, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    assert runner.main([]) == 1
    assert json.loads((build_dir / "results.json").read_text()) == []


@pytest.mark.parametrize("labs, expected", [
    ("01", ["01"]), (1, ["01"]), (["1", 2, " 09 "], ["01", "02", "09"]), (("07",), ["07"]),
])
def test_lab_numbers(labs, expected):
    assert runner.lab_numbers(labs) == expected


@pytest.mark.parametrize("labs, exc, pattern", [
    (True, TypeError, r"labs must be a lab number or a list"),
    ([True], TypeError, r"each lab must be an int or a string"),
    ([1.0], TypeError, r"each lab must be an int or a string"),
    (None, TypeError, r"labs must be a lab number or a list"),
    (["x1"], ValueError, r"number from 1 to 99"),
    ([0], ValueError, r"number from 1 to 99"),
    (["100"], ValueError, r"number from 1 to 99"),
    (["../01"], ValueError, r"number from 1 to 99"),
])
def test_lab_numbers_errors(labs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        runner.lab_numbers(labs)


def test_build_dir_error_names_the_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LABUTILS_BUILD_DIR", str(blocker / "build"))
    with pytest.raises(ValueError, match=r"LABUTILS_BUILD_DIR=.*a_file/build.* cannot be used as a directory"):
        paths.build_dir()


def test_run_makes_relative_data_and_build_dirs_absolute(tmp_path, monkeypatch):
    """The kernels start in the notebooks' directory, so relative paths given to make run must not reach them."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _write_notebook(nbs / "99_tiny.ipynb", PASSING_CELL)
    (tmp_path / "datasets").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LABUTILS_DATA_DIR", "datasets")
    monkeypatch.setenv("LABUTILS_BUILD_DIR", "relbuild")
    records = runner.run(["99"], "quick", notebooks_dir=nbs, timeout=120)
    assert records[0]["status"] == "passed", records[0]["error"]
    assert os.environ["LABUTILS_DATA_DIR"] == str(tmp_path / "datasets")
    assert os.environ["LABUTILS_BUILD_DIR"] == str(tmp_path / "relbuild")
    assert (tmp_path / "relbuild" / "results.json").is_file() and not (nbs / "relbuild").exists()
