"""Every lab, executed once in the quick profile, and the instructor workflow on it.

`make test` runs each lab exactly once, here: its student version is released by nbgrader, checked to hide
the answers, and executed with each exercise tried blank and answered (see ``paired``); the lab's results
cell asserts its bars. Lab 01 is also graded for three crafted submissions. Minutes, not seconds.
"""
import copy
import csv
import itertools
import os
import re
import time

import nbformat
import pytest

from labutils import grading
from test_notebooks import NOTEBOOKS

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
CELL_TIMEOUT = float(os.environ.get("LABS_TEST_CELL_TIMEOUT", 900))  # seconds per cell (make test: CELL_TIMEOUT)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    course = tmp_path_factory.mktemp("course")
    start = time.perf_counter()
    written = grading.release(out, course_dir=course)
    print(f"make release: {len(written)} labs in {time.perf_counter() - start:.1f} s")
    return {p.name: p for p in written}


@pytest.fixture(scope="module")
def shared_build(lab_build):
    """One build directory for the labs, so a later lab reuses an earlier lab's cached model, as in a course."""
    return lab_build


def test_every_lab_is_released(released):
    assert sorted(released) == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.name)
def test_lab_runs_once_blank_answers_fail_and_solutions_pass(source, released, shared_build, mnist_dir):
    """The one execution of each lab in `make test` (quick profile, labs in order sharing one build directory).

    The student version is checked as released (no solution text, no hidden test, one stub per exercise), then
    run in one kernel as :func:`paired` arranges it: every cell outside the exercises must pass (the results
    cell asserts the lab's bars), every blank answer's visible test must fail (the blank itself may raise only
    ``NotImplementedError``; a stub ``def`` raises nothing until called), and the instructor's answer must pass its
    full test, hidden part included.
    """
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
    assert stubs == sum(c.metadata.get("nbgrader", {}).get("solution", False) for c in solution.cells
                        if c.cell_type == "code")
    written = [c for c in student.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert all(c.source.count("YOUR ANSWER HERE") == 1 for c in written), \
        "each written answer's model answer is released as nbgrader's blank 'YOUR ANSWER HERE'"

    start = time.perf_counter()
    found = run_once(student, solution, cwd=source.parent, timeout=CELL_TIMEOUT, env={
        "LABS_PROFILE": "quick", "LABS_STRICT": "1", "LABUTILS_DATA_DIR": str(mnist_dir),
        "LABUTILS_BUILD_DIR": str(shared_build)}, executed_to=shared_build / "notebooks" / source.name)
    print(f"{source.name}: executed once in {time.perf_counter() - start:.0f} s")
    assert not found["raised"], f"cells that must pass raised (role, cell, grade_id, error): {found['raised']}"
    assert not found["blank raised otherwise"], f"blank answers that raised more than NotImplementedError: " \
        f"{found['blank raised otherwise']}"
    assert not found["passed blank"], f"test cells that pass without an answer: {found['passed blank']}"


def run_once(student, solution, *, cwd, env=None, timeout=900, executed_to=None):
    """Execute :func:`paired` once; return what went wrong, as lists of ``(role, cell, grade_id, error)``.

    Keys: ``"raised"`` (a lab cell, an answer or its full test raised), ``"blank raised otherwise"`` (a blank
    answer raised something other than ``NotImplementedError``), ``"passed blank"`` (a visible test passed a
    blank answer). With ``executed_to``, the instructor notebook ``solution`` with the outputs of this run (its
    lab cells, answers and full tests) is written there, as `make run` writes ``build/notebooks/``.
    """
    done = grading.execute_notebook(paired(student, solution), timeout=timeout, cwd=cwd, env=env)
    if executed_to is not None:
        executed = nbformat.from_dict(copy.deepcopy(dict(solution)))
        for cell in done.cells:
            if cell.metadata[ROLE] in ("lab", "answer", "test of the answer"):
                target = executed.cells[cell.metadata["origin"]]  # nbgrader keeps every cell in its place
                assert target.source == cell.source, f"cell {cell.metadata['origin']} moved in the released version"
                target.outputs, target.execution_count = cell.outputs, cell.execution_count
                target.metadata["execution"] = cell.metadata.get("execution", {})
        executed_to.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, executed_to)
    outcome = [(c.metadata[ROLE], c.metadata["origin"], c.metadata.get("nbgrader", {}).get("grade_id", ""),
                _error(c)) for c in done.cells]
    return {
        "raised": [o for o in outcome if o[0] in ("lab", "answer", "test of the answer") and o[3]],
        "blank raised otherwise": [o for o in outcome if o[0] == "blank answer" and o[3]
                                   and not o[3].startswith("NotImplementedError")],
        "passed blank": [o for o in outcome if o[0] == "test of a blank answer" and not o[3]],
    }


ROLE = "labtest_role"


def paired(student, solution):
    """The student version arranged to check every exercise both ways in one kernel.

    Each solution cell must be followed by its test cell; the pair becomes four cells: the blank answer as
    released (it may raise only ``NotImplementedError``), the visible test (it must fail), then the instructor's
    answer and full test from ``solution`` (they must pass). Other code cells run as released. Every cell
    carries its role and its index in the student version in its metadata.
    """
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in solution.cells
             if c.metadata.get("nbgrader", {}).get("grade_id")}

    def tagged(cell, role, origin):
        cell = nbformat.from_dict(copy.deepcopy(dict(cell)))
        cell.metadata[ROLE], cell.metadata["origin"] = role, origin
        cell["id"] = f"paired-{next(ids)}"  # copies of one cell must not share an id
        cell.outputs, cell.execution_count = [], None
        return cell

    cells, i, ids = [], 0, itertools.count()
    while i < len(student.cells):
        cell = student.cells[i]
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            i += 1
            continue
        assert not (meta.get("grade") and not meta.get("solution")), f"cell {i}: a test cell must follow its answer"
        if meta.get("solution"):
            test = student.cells[i + 1] if i + 1 < len(student.cells) else None
            assert test is not None and test.metadata.get("nbgrader", {}).get("grade"), \
                f"cell {i} ({meta['grade_id']}): the solution cell must be followed by its test cell"
            gid, tid = meta["grade_id"], test.metadata["nbgrader"]["grade_id"]
            cells += [tagged(cell, "blank answer", i), tagged(test, "test of a blank answer", i + 1),
                      tagged(by_id[gid], "answer", i), tagged(by_id[tid], "test of the answer", i + 1)]
            i += 2
        else:
            cells.append(tagged(cell, "lab", i))
            i += 1
    return nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(dict(student.metadata)))


def _error(cell):
    """``"Name: message"`` of the error a code cell raised, or ``""``."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', '')}: {str(out.get('evalue', ''))[:300]}"
    return ""


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
    """A student's submission: the released notebook with each exercise's stub replaced.

    Code stubs (``STUB``, indented as in the cell, e.g. inside a ``def``) get the answer at the same indentation; a
    written answer's ``YOUR ANSWER HERE`` gets the text.
    """
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid not in answers:
            continue
        if cell.cell_type == "markdown":
            assert cell.source.count("YOUR ANSWER HERE") == 1, gid
            cell.source = cell.source.replace("YOUR ANSWER HERE", answers[gid])
            continue
        match = re.search(r"^([ \t]*)# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)", cell.source, re.M)
        assert match, gid
        indent = match.group(1)
        answer = "\n".join(indent + line if line else line for line in answers[gid].splitlines())
        cell.source = cell.source[:match.start()] + answer + cell.source[match.end():]
    return nb


def test_grading_three_submissions_of_lab_01(released, tmp_path, mnist_dir):
    name = "01_dense_autoencoder"
    student = nbformat.read(released[f"{name}.ipynb"], 4)
    deep = ("image = keras.Input(shape=(784,))\n"
            "hidden = keras.layers.Dense(hidden_units, activation='{act}')(image)\n"
            "code = keras.layers.Dense(latent_dim, activation='relu', name='code')(hidden)\n"
            "hidden = keras.layers.Dense(hidden_units, activation='{act}')(code)\n"
            "return keras.Model(image, keras.layers.Dense(784, activation='sigmoid')(hidden))")
    measured = ("pixel_accuracy = {k: float(np.mean(x_test == (r > 0.5))) for k, r in [('all black', 0 * x_test), "
                "('mean image', reconstructions['mean image']), ('autoencoder', x_hat)]}")
    right = {"ex1-worst-digits": "worst = np.argsort(per_image)[::-1][:5]", "ex2-deep": deep.format(act="relu"),
             "ex3-pixel-accuracy": measured, "ex3-explain": "Only black background pixels can count."}
    subs = tmp_path / "submitted"
    paths = {s: subs / s / name / f"{name}.ipynb" for s in ("ada", "bob", "cleo")}
    for p in paths.values():
        p.parent.mkdir(parents=True)
    nbformat.write(fill(student, right), paths["cleo"])
    # bob's deeper model has linear hidden layers: right sizes, so only the hidden test catches it
    nbformat.write(fill(student, dict(right, **{"ex2-deep": deep.format(act="linear")})), paths["bob"])
    # ada is graded first: exercise 1 loops forever, exercise 2 tries to delete the others' submissions (which her
    # sandbox does not hold) and raises.
    vandal = "import os\n" + "".join(f"os.remove({str(paths[s])!r})\n" for s in ("bob", "cleo")) + \
        "raise RuntimeError('no answer')"
    nbformat.write(fill(student, {"ex1-worst-digits": "while True:\n    pass", "ex2-deep": vandal}), paths["ada"])

    start = time.perf_counter()
    grades = grading.grade(subs, tmp_path / "grading", cell_timeout=60, total_timeout=600,
                           env={"LABS_PROFILE": "quick", "LABUTILS_DATA_DIR": str(mnist_dir)})
    took = time.perf_counter() - start
    print(f"make grade: 3 submissions of lab 01 in {took:.0f} s")
    assert took < 900
    assert paths["bob"].exists() and paths["cleo"].exists(), "ada's sandbox holds no other submission"
    # 8 points: exercises 1-3 (2 + 3 + 2, autograded) and exercise 3's explanation (1, graded by hand: 0 until then)
    assert [(g.student, g.status, g.score, g.max_score) for g in grades] == [
        ("ada", "graded", 0, 8), ("bob", "graded", 4, 8), ("cleo", "graded", 7, 8)]
    table = (tmp_path / "grading" / "grades.csv").read_text()
    print(table)
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(table.splitlines())}
    assert rows == {"ada": 0, "bob": 4, "cleo": 7}
    cells = {(r["student_id"], r["cell"]): float(r["score"])
             for r in csv.DictReader(open(tmp_path / "grading" / "grades_by_cell.csv"))}
    expected = {"ada": (0, 0, 0), "bob": (2, 0, 2), "cleo": (2, 3, 2)}
    assert cells == {(s, c): v for s, scores in expected.items()
                     for c, v in zip(("ex1-test", "ex2-test", "ex3-test", "ex3-explain"), scores + (0,))}
    page = (tmp_path / "grading" / "feedback" / "ada" / name / f"{name}.html").read_text()
    assert re.search(r"CellTimeoutError|Timeout", page), "ada's feedback shows the interrupted loop"


def _tiny(answer, test, header=""):
    """A one-exercise lab; ``header`` (e.g. ``"def f():"``) precedes the solution region, as in a stub ``def``."""
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "schema_version": 3, "locked": False, **kw}}
    indent = "    " if header else ""
    solution = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# tiny"),
        nbformat.v4.new_code_cell("base = 20"),
        nbformat.v4.new_code_cell(f"{header}\n{indent}### BEGIN SOLUTION\n{indent}{answer}\n{indent}### END SOLUTION",
                                  metadata=meta("ex1", solution=True, grade=False)),
        nbformat.v4.new_code_cell(test, metadata=meta("ex1-test", solution=False, grade=True, points=1)),
        nbformat.v4.new_code_cell("print(base)"),
    ])
    student = copy.deepcopy(solution)
    student.cells[2].source = f"{header}\n" + "".join(f"{indent}{line}\n" for line in STUB.splitlines())
    student.cells[3].source = test.split("### BEGIN HIDDEN TESTS")[0]
    return student, solution


def test_paired_order_and_roles():
    student, solution = _tiny("x = 2 * base", "assert x == 40")
    nb = paired(student, solution)
    assert [(c.metadata[ROLE], c.metadata["origin"]) for c in nb.cells] == [
        ("lab", 1), ("blank answer", 2), ("test of a blank answer", 3), ("answer", 2), ("test of the answer", 3),
        ("lab", 4)]
    assert nb.cells[1].source.strip() == STUB and "x = 2 * base" in nb.cells[3].source


def test_run_once_writes_the_executed_instructor_notebook(tmp_path):
    student, solution = _tiny("x = 2 * base", "assert x == 40")
    out = tmp_path / "notebooks" / "tiny.ipynb"
    run_once(student, solution, cwd=tmp_path, timeout=60, executed_to=out)
    nb = nbformat.read(out, 4)
    assert [c.source for c in nb.cells] == [c.source for c in solution.cells]  # the instructor's cells, in place
    assert "".join(o.get("text", "") for o in nb.cells[4].outputs) == "20\n"
    assert all(c.execution_count for c in nb.cells[1:])


@pytest.mark.parametrize("answer, test, key", [
    ("x = 2 * base", "assert x == 40", None),                       # right answer, test that needs it
    ("x = 3 * base", "assert x == 40", "raised"),                   # wrong instructor answer
    ("x = 2 * base", "assert True", "passed blank"),                # a visible test that cannot fail
    ("x = 2 * base", "assert True\n### BEGIN HIDDEN TESTS\nassert x == 40\n### END HIDDEN TESTS", "passed blank"),
    ("return 2 * base", "assert f() == 40", None),                 # a stub def raises only when its test calls it
    ("return 2 * base", "assert callable(f)", "passed blank"),       # ... so a test must call it
])
def test_run_once_finds_each_defect(tmp_path, answer, test, key):
    header = "def f():" if answer.startswith("return") else ""
    found = run_once(*_tiny(answer, test, header), cwd=tmp_path, timeout=60)
    assert {k for k, v in found.items() if v} == ({key} if key else set())
