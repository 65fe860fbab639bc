"""labutils.grading: student releases and autograding with nbgrader.

The mechanics are tested on a tiny lab notebook (pure Python, seconds per
kernel); ``test_grading_lab.py`` does the same with the real labs.
"""
import csv
import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labutils import grading

TINY = "90_tiny_lab"


def _nbg(cell, **kw):
    cell.metadata["nbgrader"] = dict({"schema_version": 3, "task": False, "locked": False, "solution": False,
                                      "grade": False}, **kw)
    return cell


def tiny_lab(answer="answer = 42", double="return 2 * v"):
    """A lab with two exercises (2 + 1 points), one hidden test, and ordinary cells around them."""
    cells = [
        new_markdown_cell("# Lab 90 — tiny"),
        new_code_cell("import os\nbase = 20"),
        _nbg(new_code_cell(f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION"), grade_id="ex1", solution=True),
        _nbg(new_code_cell("assert answer == 42, 'the answer'\n### BEGIN HIDDEN TESTS\n"
                           "assert isinstance(answer, int)\n### END HIDDEN TESTS"),
             grade_id="ex1-test", grade=True, locked=True, points=2),
        _nbg(new_code_cell(f"def double(v):\n    ### BEGIN SOLUTION\n    {double}\n    ### END SOLUTION"),
             grade_id="ex2", solution=True),
        _nbg(new_code_cell("assert double(3) == 6"), grade_id="ex2-test", grade=True, locked=True, points=1),
        new_code_cell("print('done', base + 1)"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


@pytest.fixture
def lab_dir(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    nbformat.write(tiny_lab(), d / f"{TINY}.ipynb")
    return d


def submit(root, student, nb):
    path = root / "submitted" / student / TINY / f"{TINY}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def student_version(**kw):
    """What a student hands in: the released notebook with the solution regions filled in."""
    return tiny_lab(**kw)


# ---------------------------------------------------------------------------- small pieces
def test_assignment_name():
    assert grading.assignment_name("notebooks/01_dense_autoencoder.ipynb") == "01_dense_autoencoder"
    for bad in ("lab1.ipynb", "01_dense.py", "1_x.ipynb", "01-dense.ipynb"):
        with pytest.raises(ValueError, match="NN_name.ipynb"):
            grading.assignment_name(bad)


def test_assemble_course_writes_source_and_config_and_drops_old_labs(tmp_path, lab_dir):
    course = tmp_path / "course"
    (course / "source" / "05_old").mkdir(parents=True)
    out = grading.assemble_course(course, notebooks_dir=lab_dir)
    assert out == course.resolve()
    assert (course / "source" / TINY / f"{TINY}.ipynb").read_bytes() == (lab_dir / f"{TINY}.ipynb").read_bytes()
    assert not (course / "source" / "05_old").exists()
    config = (course / "nbgrader_config.py").read_text()
    assert "course_id = 'genlabs'" in config and "raise NotImplementedError()" in config
    with pytest.raises(ValueError, match="no notebook for lab"):
        grading.assemble_course(course, labs=["03"], notebooks_dir=lab_dir)


def test_find_submissions_layouts_and_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        grading.find_submissions(tmp_path / "missing")
    with pytest.raises(ValueError, match="no submissions"):
        grading.find_submissions(tmp_path)
    p = submit(tmp_path, "bob", tiny_lab())
    submit(tmp_path, "ada", tiny_lab())
    expected = {("ada", TINY): tmp_path / "submitted" / "ada" / TINY / f"{TINY}.ipynb", ("bob", TINY): p}
    assert grading.find_submissions(tmp_path) == expected                  # the parent of submitted/
    assert grading.find_submissions(tmp_path / "submitted") == expected    # submitted/ itself
    assert list(grading.find_submissions(tmp_path)) == [("ada", TINY), ("bob", TINY)]
    (tmp_path / "submitted" / "cy" / TINY).mkdir(parents=True)  # listed; grading rejects it with the reason
    assert grading.find_submissions(tmp_path)[("cy", TINY)] == tmp_path / "submitted" / "cy" / TINY / f"{TINY}.ipynb"
    (tmp_path / "submitted" / "cy" / TINY).rmdir()
    (tmp_path / "submitted" / "cy" / "lab one").mkdir(parents=True)
    with pytest.raises(ValueError, match="lab folders are named like"):
        grading.find_submissions(tmp_path)
    (tmp_path / "submitted" / "cy" / "lab one").rmdir()
    (tmp_path / "submitted" / "cy").rename(tmp_path / "submitted" / "c y")
    with pytest.raises(ValueError, match="student folder names"):
        grading.find_submissions(tmp_path)


def test_solution_lines_and_error_cells():
    nb = tiny_lab()
    assert grading.solution_lines(nb) == ["answer = 42", "return 2 * v"]
    nb.cells[2].outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="x", traceback=[])]
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    assert grading.error_cells(nb) == [(2, "ex1", "NameError")]


def test_execute_notebook_runs_to_the_end_with_errors(tmp_path):
    nb = new_notebook(cells=[new_code_cell("import os\nx = os.environ['GRADING_TEST_VALUE']"),
                             new_code_cell("1 / 0"), new_code_cell("print(x * 2)")])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    done = grading.execute_notebook(path, timeout=60, env={"GRADING_TEST_VALUE": "ab"})
    assert grading.error_cells(done) == [(1, "", "ZeroDivisionError")]
    assert done.cells[2].outputs[0]["text"] == "abab\n"
    assert "GRADING_TEST_VALUE" not in os.environ


def test_execute_notebook_object_in_a_chosen_directory(tmp_path):
    (tmp_path / "here.txt").write_text("found")
    nb = new_notebook(cells=[new_code_cell("print(open('here.txt').read())")])
    done = grading.execute_notebook(nb, timeout=60, cwd=tmp_path)
    assert done is nb and nb.cells[0].outputs[0]["text"] == "found\n"
    with pytest.raises(ValueError, match="cwd is required"):
        grading.execute_notebook(new_notebook(), timeout=60)
    with pytest.raises(ValueError, match="cwd must be an existing directory"):
        grading.execute_notebook(nb, timeout=60, cwd=tmp_path / "missing")


def test_grade_rejects_bad_arguments(tmp_path, lab_dir):
    submit(tmp_path, "ada", tiny_lab())
    for bad in (0, -1, float("nan"), float("inf"), True, "60"):
        with pytest.raises(ValueError, match="cell_timeout must be a positive, finite number"):
            grading.grade(tmp_path, tmp_path / "out", cell_timeout=bad, notebooks_dir=lab_dir)
    with pytest.raises(ValueError, match="total_timeout must be a positive, finite number"):
        grading.grade(tmp_path, tmp_path / "out", cell_timeout=5, total_timeout=float("nan"), notebooks_dir=lab_dir)
    with pytest.raises(ValueError, match=r"labs: each lab must be a number from 1 to 99"):
        grading.grade(tmp_path, tmp_path / "out", labs=["../x"], notebooks_dir=lab_dir)
    with pytest.raises(ValueError, match=r"no submissions for lab\(s\) \['01'\]"):
        grading.grade(tmp_path, tmp_path / "out", labs=["01"], notebooks_dir=lab_dir)
    (tmp_path / "submitted" / "bob" / "90_other").mkdir(parents=True)
    nbformat.write(tiny_lab(), tmp_path / "submitted" / "bob" / "90_other" / "90_other.ipynb")
    with pytest.raises(ValueError, match=r"do not match a lab notebook"):
        grading.grade(tmp_path, tmp_path / "out", notebooks_dir=lab_dir)


# ---------------------------------------------------------------------------- release and grade
def test_release_removes_solutions_and_hidden_tests_and_fails_only_in_exercises(tmp_path, lab_dir):
    (lab_dir / "figures").mkdir()
    (lab_dir / "figures" / f"{TINY}.svg").write_text("<svg><text>Lab 90: tiny</text></svg>\n")
    written = grading.release(tmp_path / "release", notebooks_dir=lab_dir, course_dir=tmp_path / "course")
    assert written == [tmp_path / "release" / TINY / f"{TINY}.ipynb"]
    # the lab's diagram travels with it, where the notebook's figures/NN_name.svg link finds it
    assert (tmp_path / "release" / TINY / "figures" / f"{TINY}.svg").read_text().startswith("<svg>")
    text = written[0].read_text()
    assert "answer = 42" not in text and "2 * v" not in text and "HIDDEN" not in text
    assert "isinstance(answer, int)" not in text
    assert text.count("raise NotImplementedError()") == 2
    student = nbformat.read(written[0], 4)
    points = [c.metadata["nbgrader"].get("points") for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert points == [2, 1]
    done = grading.execute_notebook(written[0], timeout=60)
    assert [gid for _, gid, _ in grading.error_cells(done)] == ["ex1", "ex1-test", "ex2-test"]
    assert done.cells[-1].outputs[0]["text"] == "done 21\n"


def test_grade_scores_each_student_in_isolation(tmp_path, lab_dir):
    subs = tmp_path / "subs"
    bob = submit(subs, "bob", student_version())                        # the solution
    submit(subs, "cy", student_version(answer="answer = 41"))          # wrong in exercise 1
    # ada is graded first: her exercise 1 deletes bob's submission and raises; exercise 2 loops forever.
    submit(subs, "ada", student_version(answer=f"os.remove({str(bob)!r})\nraise RuntimeError('oops')",
                                        double="while True:\n        pass"))
    start = time.perf_counter()
    grades = grading.grade(subs, tmp_path / "out", cell_timeout=5, notebooks_dir=lab_dir)
    assert time.perf_counter() - start < 240
    by_student = {g.student: g for g in grades}
    assert [g.student for g in grades] == ["ada", "bob", "cy"]
    assert all(g.status == "graded" and g.max_score == 3 for g in grades), grades
    assert (by_student["ada"].score, by_student["bob"].score, by_student["cy"].score) == (0, 3, 1)
    cells = {(c.student, c.cell): c.score for g in grades for c in g.cells}
    assert cells == {("ada", "ex1-test"): 0, ("ada", "ex2-test"): 0, ("bob", "ex1-test"): 2,
                     ("bob", "ex2-test"): 1, ("cy", "ex1-test"): 0, ("cy", "ex2-test"): 1}
    assert bob.exists(), "ada's cell ran in a sandbox that holds no submission"
    rows = list(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert list(rows[0]) == list(grading.GRADES_COLUMNS)
    assert [(r["student_id"], float(r["score"]), float(r["max_score"])) for r in rows] == [
        ("ada", 0, 3), ("bob", 3, 3), ("cy", 1, 3)]
    per_cell = list(csv.DictReader(open(tmp_path / "out" / "grades_by_cell.csv")))
    assert len(per_cell) == 6
    for student in ("ada", "bob", "cy"):
        page = tmp_path / "out" / "feedback" / student / TINY / f"{TINY}.html"
        assert page.is_file() and "ex1-test" in page.read_text()


def test_grade_stops_a_notebook_that_ignores_interrupts_and_keeps_the_points_before(tmp_path, lab_dir):
    stubborn = ("import signal, time\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                "    time.sleep(10 ** 6)")
    submit(tmp_path, "dan", student_version(double=stubborn))   # exercise 1 right, exercise 2 hangs
    start = time.perf_counter()
    [g] = grading.grade(tmp_path, tmp_path / "out", cell_timeout=600, total_timeout=20, notebooks_dir=lab_dir)
    assert time.perf_counter() - start < 120
    assert (g.status, g.score, g.max_score) == ("timeout", 2, 3)
    assert "20 s" in g.message and "keep their points" in g.message
    row = next(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert (row["student_id"], row["status"], float(row["score"])) == ("dan", "timeout", 2)
    assert "time limit" in row["reason"]


def test_main_reports_bad_input_without_a_traceback(tmp_path, capsys):
    assert grading.main(["grade", str(tmp_path / "missing")]) == 2
    assert "error: submissions directory not found" in capsys.readouterr().err
    for bad in ("0", "-1", "nan", "inf", "x"):
        assert grading.main(["grade", str(tmp_path), "--cell-timeout", bad]) == 2
        err = capsys.readouterr().err
        assert "argument --cell-timeout" in err and "seconds" in err and "Traceback" not in err
    assert grading._positive_seconds("0.5") == 0.5   # allowed: rounded up to 1 s, never 0 (no limit)
