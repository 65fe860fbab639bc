"""The instructor workflow on the real labs (quick profile): every student version
generates cleanly and fails only in its exercises; lab 01 grades as expected.

These tests execute every lab's student version once, so they take minutes.
"""
import csv
import re
import time

import nbformat
import pytest

from labutils import grading
from test_notebooks import NOTEBOOKS

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    course = tmp_path_factory.mktemp("course")
    start = time.perf_counter()
    written = grading.release(out, course_dir=course)
    print(f"make release: {len(written)} labs in {time.perf_counter() - start:.1f} s")
    return {p.name: p for p in written}


@pytest.fixture(scope="module")
def shared_build(tmp_path_factory):
    """One build directory for the module, so a later lab reuses an earlier lab's cached model, as in a course."""
    return tmp_path_factory.mktemp("build")


def test_every_lab_is_released(released):
    assert sorted(released) == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.name)
def test_student_version_has_no_solutions_and_fails_only_in_exercises(source, released, shared_build, mnist_dir):
    student_path = released[source.name]
    student = nbformat.read(student_path, 4)
    text = student_path.read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    solution = nbformat.read(source, 4)
    student_lines = {line.strip() for c in student.cells for line in c.source.splitlines()}
    answer = set(grading.solution_lines(solution))
    elsewhere = outside_solutions(solution)
    # A line of the answer that the notebook also has outside the solution regions (e.g. a call's last line) is no leak.
    leaked = sorted(line for line in answer - elsewhere if line in student_lines)
    assert not leaked, f"solution text in the student version: {leaked}"
    hidden = [c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
              for c in solution.cells if "### BEGIN HIDDEN TESTS" in c.source]
    for block in hidden:
        for line in block.strip().splitlines():
            assert line.strip().startswith("#") or line.strip() not in text, f"hidden test visible: {line}"
    stubs = sum(c.source.count("raise NotImplementedError()") for c in student.cells)
    assert stubs == sum(c.metadata.get("nbgrader", {}).get("solution", False) for c in solution.cells)

    done = grading.execute_notebook(student_path, timeout=900, env={
        "LABS_PROFILE": "quick", "LABUTILS_DATA_DIR": str(mnist_dir), "LABUTILS_BUILD_DIR": str(shared_build)})
    failed = {gid for _, gid, _ in grading.error_cells(done)}
    exercise = {c.metadata["nbgrader"]["grade_id"] for c in student.cells
                if c.metadata.get("nbgrader", {}).get("solution") or c.metadata.get("nbgrader", {}).get("grade")}
    tests = {c.metadata["nbgrader"]["grade_id"] for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert "" not in failed, f"a cell outside the exercises failed: {grading.error_cells(done)}"
    assert failed <= exercise
    assert tests <= failed, f"test cells that pass without an answer: {sorted(tests - failed)}"


def outside_solutions(nb):
    """The stripped lines of a notebook outside its ``### BEGIN/END SOLUTION`` regions."""
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            s = line.strip()
            if s in ("### BEGIN SOLUTION", "### END SOLUTION"):
                inside = s == "### BEGIN SOLUTION"
            elif not inside:
                lines.add(s)
    return lines


def fill(nb, answers):
    """A student's submission: the released notebook with each exercise's stub replaced."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            assert STUB in cell.source, gid
            cell.source = cell.source.replace(STUB, answers[gid])
    return nb


def test_grading_three_submissions_of_lab_01(released, tmp_path, mnist_dir):
    name = "01_dense_autoencoder"
    student = nbformat.read(released[f"{name}.ipynb"], 4)
    right = {"ex1-worst-digits": "worst = np.argsort(per_image)[::-1][:5]",
             "ex2-adadelta": "fixed_optimizer = keras.optimizers.Adadelta(learning_rate=1.0)"}
    subs = tmp_path / "submitted"
    paths = {s: subs / s / name / f"{name}.ipynb" for s in ("ada", "bob", "cleo")}
    for p in paths.values():
        p.parent.mkdir(parents=True)
    nbformat.write(fill(student, right), paths["cleo"])
    nbformat.write(fill(student, dict(right, **{"ex2-adadelta": "fixed_optimizer = keras.optimizers.Adadelta()"})),
                   paths["bob"])
    # ada is graded first: exercise 1 loops forever, exercise 2 deletes the others' submissions and raises.
    vandal = "import os\n" + "".join(f"os.remove({str(paths[s])!r})\n" for s in ("bob", "cleo")) + \
        "raise RuntimeError('no answer')"
    nbformat.write(fill(student, {"ex1-worst-digits": "while True:\n    pass", "ex2-adadelta": vandal}), paths["ada"])

    start = time.perf_counter()
    grades = grading.grade(subs, tmp_path / "grading", cell_timeout=60, total_timeout=600,
                           env={"LABS_PROFILE": "quick", "LABUTILS_DATA_DIR": str(mnist_dir)})
    took = time.perf_counter() - start
    print(f"make grade: 3 submissions of lab 01 in {took:.0f} s")
    assert took < 900
    assert not paths["bob"].exists() and not paths["cleo"].exists(), "ada's cell ran on the originals"
    assert [(g.student, g.status, g.score, g.max_score) for g in grades] == [
        ("ada", "graded", 0, 4), ("bob", "graded", 2, 4), ("cleo", "graded", 4, 4)]
    table = (tmp_path / "grading" / "grades.csv").read_text()
    print(table)
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(table.splitlines())}
    assert rows == {"ada": 0, "bob": 2, "cleo": 4}
    cells = {(r["student_id"], r["cell"]): float(r["score"])
             for r in csv.DictReader(open(tmp_path / "grading" / "grades_by_cell.csv"))}
    assert cells == {("ada", "ex1-test"): 0, ("ada", "ex2-test"): 0, ("bob", "ex1-test"): 2,
                     ("bob", "ex2-test"): 0, ("cleo", "ex1-test"): 2, ("cleo", "ex2-test"): 2}
    page = (tmp_path / "grading" / "feedback" / "ada" / name / f"{name}.html").read_text()
    assert re.search(r"CellTimeoutError|Timeout", page), "ada's feedback shows the interrupted loop"
