"""Every lab notebook is committed clean and follows the project's conventions."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _code(path):
    return [_source(c) for c in _cells(path) if c["cell_type"] == "code"]


def test_there_are_lab_notebooks():
    assert len(NOTEBOOKS) >= 2, f"expected the lab notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(_cells(path))
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_header_convention(path):
    lab = path.name[:2]
    header = _source(_cells(path)[0])
    assert re.match(rf"# Lab {lab} — \S", header), f"{path.name}: first cell must start with '# Lab {lab} — <title>'"
    assert re.search(r"^(\[!\[Open In Colab\]|\*Open in Colab:)", header, re.M), "a Colab line (make links writes it)"
    assert "**Learning objectives.**" in header
    assert "**Expected run time**" in header and "quick profile" in header


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_seeds_profile_and_results(path):
    code = _code(path)
    setup = next((c for c in code if "keras.utils.set_random_seed" in c), None)
    assert setup is not None, "a set-up cell seeds everything with keras.utils.set_random_seed"
    assert "profile.describe()" in setup and "keras.__version__" in setup, "set-up prints the profile and versions"
    assert any("profile.pick(" in c for c in code[:4]), "hyperparameters at the top use profile.pick(full=..., quick=...)"
    lab = path.name[:2]
    assert f'checks.report("{lab}"' in code[-1] and f'checks.bars_for("{lab}")' in code[-1], \
        "the last code cell reports the results and asserts the lab's bars"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_teaching_sections(path):
    markdown = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    for heading in ("## The idea", "## Exercises", "## Results", "## Summary", "## References"):
        assert heading in markdown, f"{path.name} lacks a '{heading}' section"
    assert "$" in markdown, "the idea is explained with its equations"
    for placeholder in ("SEED0_", "QSEED", "SEED_TABLE", "DISCUSSION", "SUMMARY\n", "RUNTIME_FULL", "_BAR"):
        assert placeholder not in markdown, f"{path.name}: unfilled placeholder {placeholder!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_keras3_only_and_safe_serialisation(path):
    code = "\n".join(_code(path))
    assert "tf.keras" not in code, "use `import keras` (Keras 3), not tf.keras"
    assert "Lambda(" not in code, "Lambda layers do not load with safe_mode=True"
    assert "safe_mode=False" not in code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbgrader_exercise_cells(path):
    cells = _cells(path)
    ids, solutions, tests, hidden, written, keras_answers = [], 0, 0, 0, 0, 0
    for c in cells:
        meta = c.get("metadata", {}).get("nbgrader")
        src = _source(c)
        if "### BEGIN SOLUTION" in src or "### BEGIN HIDDEN TESTS" in src:
            assert meta, f"{path.name}: solution/hidden-test markers in a cell without nbgrader metadata"
        if not meta:
            continue
        ids.append(meta["grade_id"])
        if c["cell_type"] == "markdown":
            # A written answer (an explanation), graded by hand: the instructor's model answer sits between the
            # solution markers and the student version shows "YOUR ANSWER HERE" instead.
            assert meta.get("solution") and meta.get("grade") and meta.get("points", 0) > 0 and not meta.get("locked"), \
                f"{path.name} {meta['grade_id']}: a written answer is an unlocked solution cell with points"
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, f"{path.name} {meta['grade_id']}"
            written += 1
            continue
        if meta.get("solution"):
            solutions += 1
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src
        if meta.get("solution") and "keras." in src.split("### BEGIN SOLUTION", 1)[-1].split("### END SOLUTION")[0]:
            keras_answers += 1
        if meta.get("grade"):
            tests += 1
            assert meta.get("points", 0) > 0 and meta.get("locked"), "autograder cells carry points and are locked"
            assert "assert" in src, "an autograder cell must assert something"
        if "### BEGIN HIDDEN TESTS" in src:
            assert meta.get("grade") and not meta.get("solution"), "hidden tests belong in graded test cells"
            assert src.count("### BEGIN HIDDEN TESTS") == src.count("### END HIDDEN TESTS"), path.name
            body = src.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
            assert "assert" in body, f"{path.name} {meta['grade_id']}: a hidden test must assert something"
            hidden += 1
    assert len(ids) == len(set(ids)), f"{path.name}: nbgrader grade_ids must be unique"
    assert 2 <= solutions <= 5 and 2 <= tests <= 5, f"{path.name}: 2-5 code exercises with solution and test cells"
    assert hidden >= 1, f"{path.name}: at least one test cell with ### BEGIN HIDDEN TESTS"
    assert keras_answers >= 1, f"{path.name}: at least one exercise in which the student writes Keras"
    assert 1 <= written <= 2, f"{path.name}: one or two written explanations (graded by hand) of a measurement"
