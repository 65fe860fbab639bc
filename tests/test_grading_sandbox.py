"""labutils.grading's sandbox: crafted submissions of a tiny lab, graded beside honest ones.

Each crafted submission tries one thing the grader must not allow (read the solutions, rewrite the
gradebook or the grades, reach the other submissions, outlive grading, pass tests without answers,
blow up the feedback page, ...). The honest students are graded once on their own (``clean``) and once
among the crafted submissions, two sandboxes at a time (``crafted``): their grades must be the same.
The lab has two exercises (2 + 1 points) and no training, so a kernel runs in about a second.
"""
import csv
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labutils import grading

LAB = "91_box_lab"
SOLUTION_MARK = "SOLUTION-MARK-5d1c"
HIDDEN_MARK = "HIDDEN-MARK-7f3a"
DAEMON_MARK = "DAEMON-MARK-3b9e"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
RIGHT = {"ex1": "answer = 42", "ex2": "    return math.pi * r ** 2"}
HONEST = {"z_full": RIGHT, "z_part": dict(RIGHT, ex1="answer = 41"), "z_blank": {}}
EXPECTED_HONEST = {"z_full": (3, {"ex1-test": 2, "ex2-test": 1}), "z_part": (1, {"ex1-test": 0, "ex2-test": 1}),
                   "z_blank": (0, {"ex1-test": 0, "ex2-test": 0})}


@pytest.fixture(scope="module", autouse=True)
def bwrap():
    if not grading.shutil.which("bwrap"):
        why = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap (.ci/run installs it)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(why + " (CI=true: fails instead of skipping)")
        pytest.skip(why)


def _nbg(cell, **kw):
    cell.metadata["nbgrader"] = dict({"schema_version": 3, "task": False, "locked": False, "solution": False,
                                      "grade": False}, **kw)
    return cell


def box_lab(setup="", ex1=None, ex2=None, last="print('done', base + 1)", hidden=True):
    """The instructor's lab (defaults) or a student's submission (``hidden=False``: no hidden tests; the
    solution regions hold ``ex1``/``ex2``, or the stub when they are None)."""
    answer = f"### BEGIN SOLUTION\nanswer = 42  # {SOLUTION_MARK}\n### END SOLUTION" if hidden else (ex1 or STUB)
    area = ("def area(r):\n    ### BEGIN SOLUTION\n    return math.pi * r ** 2\n    ### END SOLUTION" if hidden
            else "def area(r):\n" + (ex2 or "".join(f"    {line}\n" for line in STUB.splitlines())))
    test1 = "assert answer == 42, 'the answer'"
    if hidden:
        test1 += (f"\n### BEGIN HIDDEN TESTS\nassert isinstance(answer, int) and round(answer * 1.0) == 42  # "
                  f"{HIDDEN_MARK}\n### END HIDDEN TESTS")
    cells = [
        new_markdown_cell("# Lab 91 - in a box"),
        new_code_cell("import math\nimport os\n\nbase = 20" + (f"\n{setup}" if setup else "")),
        _nbg(new_code_cell(answer), grade_id="ex1", solution=True),
        _nbg(new_code_cell(test1), grade_id="ex1-test", grade=True, locked=True, points=2),
        _nbg(new_code_cell(area), grade_id="ex2", solution=True),
        _nbg(new_code_cell("assert math.isclose(area(2.0), 4 * math.pi), 'the area of a circle'"),
             grade_id="ex2-test", grade=True, locked=True, points=1),
        new_code_cell(last),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def answers(given, **kw):
    return box_lab(ex1=given.get("ex1"), ex2=given.get("ex2"), hidden=False, **kw)


def submit(subs, student, nb=None, text=None):
    path = subs / "submitted" / student / LAB / f"{LAB}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if nb is not None:
        nbformat.write(nb, path)
    elif text is not None:
        path.write_text(text)
    return path


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """The instructor's notebooks and a build directory for the module's grading runs."""
    root = tmp_path_factory.mktemp("box")
    (root / "notebooks").mkdir()
    nbformat.write(box_lab(), root / "notebooks" / f"{LAB}.ipynb")
    (root / "build").mkdir()
    return root


def run_grade(place, subs, out, **kw):
    mp = pytest.MonkeyPatch()
    mp.setenv("LABUTILS_BUILD_DIR", str(place / "build"))
    try:
        start = time.perf_counter()
        grades = grading.grade(subs, out, notebooks_dir=place / "notebooks", cell_timeout=kw.pop("cell_timeout", 20),
                               **kw)
        print(f"graded {len(grades)} submissions in {time.perf_counter() - start:.0f} s")
        return grades, time.perf_counter() - start
    finally:
        mp.undo()


def table(grades):
    return {g.student: (g.status, g.score, {c.cell: c.score for c in g.cells}) for g in grades}


@pytest.fixture(scope="module")
def clean(place):
    """The honest students alone, one at a time."""
    subs = place / "clean"
    for student, given in HONEST.items():
        submit(subs, student, answers(given))
    grades, _ = run_grade(place, subs, place / "clean-out", jobs=1)
    return table(grades)


def crafted_submissions(place, subs, out):
    """{student: (expected score, expected status, what it tries)} and the files, written under ``subs``."""
    build, notebooks = place / "build", place / "notebooks"
    wrong_area = "    return -1.0"
    c = {}

    def add(student, expected, status, what, nb=None, **kw):
        c[student] = (expected, status, what)
        return submit(subs, student, nb, **kw)

    add("a_exit", 2, "stopped", "os._exit(0) after a right first answer",
        answers({"ex1": RIGHT["ex1"], "ex2": "    pass\nimport os\nos._exit(0)"}))
    add("a_gradebook", 3, "graded", "delete and rewrite every gradebook and grades.csv it can find", answers(RIGHT, setup=(
        "import glob, sqlite3\nfound = []\n"
        f"for pattern in ['../../../gradebook.db', '../../../../*/gradebook.db', {str(build)!r} + '/**/gradebook.db',"
        f" {str(out)!r} + '/*.csv']:\n"
        "    for p in glob.glob(pattern, recursive=True):\n"
        "        found.append(p)\n"
        "        try:\n"
        "            sqlite3.connect(p).execute('UPDATE grade SET manual_score = 0')\n"
        "        except Exception:\n"
        "            pass\n"
        "        try:\n"
        "            os.remove(p)\n"
        "        except OSError:\n"
        "            pass\n"
        "print(f'GRADEBOOK-FOUND:{len(found)}')")))
    add("a_reader", 3, "graded", "look for the instructor's notebook and print solutions and hidden tests",
        answers(RIGHT, setup=(
            "found = []\n"
            f"for top in [{str(notebooks)!r}, {str(build)!r}, {str(place)!r}, '/', '..', '../..', '../../..']:\n"
            "    for d, dirs, files in os.walk(top):\n"
            "        dirs[:] = [x for x in dirs if x not in ('proc', 'sys', 'dev', 'usr', 'lib', 'site-packages')]\n"
            "        for f in files:\n"
            "            if f.endswith(('.ipynb', '.db', '.csv')):\n"
            "                try:\n"
            "                    found.append((os.path.join(d, f), open(os.path.join(d, f), errors='replace').read()))\n"
            "                except OSError:\n"
            "                    pass\n"
            "for p, text in found:\n"
            "    print('READ', p, text[:20000])\n"
            f"print('NOTEBOOKS-DIR-VISIBLE' if os.path.exists({str(notebooks)!r}) else 'NOTEBOOKS-DIR-ABSENT')"),
            last=("print('done', base + 1)\nfor source in In:\n    print(source)\n"
                  "from IPython.display import HTML, display\n"
                  "display(HTML('<script>window.GRADER_XSS = 1</script><b>bold</b>'))")))
    add("a_rebind", 0, "graded", "wrong answers; builtins.round, math.isclose and the name math rebound",
        answers({"ex1": "answer = Anything(7)", "ex2": wrong_area}, setup=(
            "import builtins\n"
            "class Anything(int):\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "    __hash__ = int.__hash__\n"
            "builtins.round = lambda *a, **k: 42\n"
            "math.isclose = lambda *a, **k: True\n"
            "class FakeMath:\n"
            "    pi = 3.0\n"
            "    @staticmethod\n"
            "    def isclose(*a, **k):\n"
            "        return True\n"
            "math = FakeMath()")))
    add("a_hooks", 0, "graded", "no answers; IPython hooks that blank every later cell and swallow errors",
        answers({}, setup=(
            "ip = get_ipython()\n"
            "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
            "ip.set_custom_exc((BaseException,), lambda *a, **k: None)")))
    targets = f"{str(build)!r} + '/**/*.ipynb', {str(subs)!r} + '/**/*.ipynb'"
    add("a_vandal", 2, "graded", "overwrite and delete every other submission and copy it can reach",
        answers({"ex1": RIGHT["ex1"], "ex2": wrong_area}, setup=(
            "import glob\nhit = 0\n"
            f"for p in [q for pattern in [{targets}] for q in glob.glob(pattern, recursive=True)]:\n"
            "    try:\n"
            "        open(p, 'w').write('{}')\n"
            "        hit += 1\n"
            "    except OSError:\n"
            "        pass\n"
            "print(f'OVERWROTE:{hit}')")))
    add("a_daemon", 3, "graded", "a double-forked background process that rewrites grades.csv after grading",
        answers(RIGHT, setup=(
            "import subprocess, sys\n"
            "loop = ('import os, time\\nos.setsid()\\nwhile True:\\n    time.sleep(0.2)\\n    try:\\n'\n"
            f"        '        open({str(out / 'grades.csv')!r}, \"a\").write(\"tampered\\\\n\")\\n'\n"
            "        '    except OSError:\\n        pass\\n')\n"
            f"subprocess.Popen([sys.executable, '-c', loop, {DAEMON_MARK!r}], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            f"        os.execv(sys.executable, [sys.executable, '-c', loop, {DAEMON_MARK!r}])\n"
            "    os._exit(0)")))
    add("a_bigprint", 3, "graded", "print 50 MB", answers(RIGHT, last="print('x' * 50_000_000)"))
    add("a_probe", 3, "graded", "probe the limits: memory, threads, file size, network, uid, read-only root",
        answers(RIGHT, setup=(
            "import socket, threading, time\n"
            "try:\n"
            "    block = bytearray(3 * 2**30)\n"
            "    print('MEMORY-UNLIMITED')\n"
            "except MemoryError:\n"
            "    print('MEMORY-LIMITED')\n"
            "threads, release = [], threading.Event()\n"
            "try:\n"
            "    for _ in range(300):\n"
            "        threads.append(threading.Thread(target=release.wait, daemon=True))\n"
            "        threads[-1].start()\n"
            "    print('THREADS-UNLIMITED')\n"
            "except RuntimeError:\n"
            "    print('THREADS-LIMITED')\n"
            "release.set()\n"
            "for t in threads:\n"
            "    if t.ident:\n"
            "        t.join()\n"
            "try:\n"
            "    with open('big.bin', 'wb') as f:\n"
            "        f.write(b'0' * (20 * 2**20))\n"
            "    print('FILE-UNLIMITED')\n"
            "except OSError:\n"
            "    print('FILE-LIMITED')\n"
            "try:\n"
            "    socket.create_connection(('1.1.1.1', 53), timeout=3)\n"
            "    print('NET-OPEN')\n"
            "except OSError:\n"
            "    print('NET-BLOCKED')\n"
            "try:\n"
            "    open('/usr/grader-was-here', 'w')\n"
            "    print('ROOT-WRITABLE')\n"
            "except OSError:\n"
            "    print('ROOT-READONLY')\n"
            "print(f'UID:{os.getuid()}')")))
    link = subs / "submitted" / "a_symlink" / LAB / f"{LAB}.ipynb"
    link.parent.mkdir(parents=True)
    link.symlink_to(notebooks / f"{LAB}.ipynb")
    c["a_symlink"] = (0, "rejected", "a symbolic link to the instructor's notebook")
    add("a_malformed", 0, "rejected", "not JSON", text='{"cells": [ not json')
    add("a_invalid", 0, "rejected", "JSON that is no notebook", text='{"cells": 3, "nbformat": 4}')
    other = subs / "submitted" / "a_notebookless" / LAB
    other.mkdir(parents=True)
    (other / "answers.py").write_text("answer = 42\n")
    c["a_notebookless"] = (0, "rejected", "a lab folder with a .py file and no notebook")
    for student, given in HONEST.items():
        add(student, EXPECTED_HONEST[student][0], "graded", "honest", answers(given))
    return c


@pytest.fixture(scope="module")
def crafted(place):
    subs, out = place / "crafted", place / "crafted-out"
    expected = crafted_submissions(place, subs, out)
    before = {p: p.read_bytes() for p in subs.rglob("*.ipynb") if not p.is_symlink()}
    limits = grading.Limits(memory_bytes=2**30, processes=128, file_bytes=10 * 2**20)
    grades, took = run_grade(place, subs, out, jobs=2, limits=limits, cell_timeout=10)
    grades_csv = (out / "grades.csv").read_bytes()
    time.sleep(2)  # a background process that survived would rewrite grades.csv now
    return {"grades": grades, "expected": expected, "out": out, "subs": subs, "before": before, "took": took,
            "grades_csv": grades_csv}


# ---------------------------------------------------------------------------- the honest students
def test_honest_students_alone(clean):
    assert clean == {s: ("graded", score, cells) for s, (score, cells) in EXPECTED_HONEST.items()}


def test_honest_grades_unchanged_among_crafted_submissions_and_jobs_2_same_as_jobs_1(clean, crafted):
    """``clean`` graded one at a time; ``crafted`` two at a time (make grade JOBS=2), beside hostile notebooks."""
    got = table(crafted["grades"])
    assert {s: got[s] for s in HONEST} == clean
    assert [g.student for g in crafted["grades"]] == sorted(crafted["expected"])


# ---------------------------------------------------------------------------- the crafted ones
def test_every_crafted_submission_gets_its_expected_grade(crafted):
    got = {g.student: (g.score, g.status) for g in crafted["grades"]}
    expected = {s: (score, status) for s, (score, status, _) in crafted["expected"].items()}
    print("\n".join(f"{s:16} expected {expected[s]}  got {got[s]}  ({crafted['expected'][s][2]})" for s in expected))
    assert got == expected
    assert crafted["took"] < 240


def test_grades_csv_lists_status_and_reason_and_no_process_outlives_grading(crafted):
    rows = {r["student_id"]: r for r in csv.DictReader(crafted["grades_csv"].decode().splitlines())}
    assert set(rows) == set(crafted["expected"])
    assert rows["a_symlink"]["status"] == "rejected" and "symbolic link" in rows["a_symlink"]["reason"]
    assert "not a valid notebook" in rows["a_malformed"]["reason"]
    assert "not a valid notebook" in rows["a_invalid"]["reason"]
    assert "no 91_box_lab.ipynb" in rows["a_notebookless"]["reason"] and "answers.py" in rows["a_notebookless"]["reason"]
    assert "the kernel died in cell 4" in rows["a_exit"]["reason"]
    assert rows["z_full"]["reason"] == "" and float(rows["z_full"]["score"]) == 3
    # the table on disk is the one written at the end; nothing rewrote it afterwards
    assert (crafted["out"] / "grades.csv").read_bytes() == crafted["grades_csv"]
    assert b"tampered" not in crafted["grades_csv"]
    alive = []
    for proc in Path("/proc").iterdir():
        try:
            if DAEMON_MARK.encode() in (proc / "cmdline").read_bytes():
                alive.append(proc.name)
        except OSError:
            pass
    assert not alive, f"processes started by a submission outlived grading: {alive}"


def test_submissions_are_untouched_and_cells_scored(crafted):
    for path, data in crafted["before"].items():
        assert path.read_bytes() == data, f"{path} was changed"
    cells = {g.student: {c.cell: c.score for c in g.cells} for g in crafted["grades"]}
    assert cells["a_exit"] == {"ex1-test": 2, "ex2-test": 0}, "the points earned before the kernel died are kept"
    assert cells["a_rebind"] == {"ex1-test": 0, "ex2-test": 0}
    assert cells["a_hooks"] == {"ex1-test": 0, "ex2-test": 0}
    assert cells["a_symlink"] == {}


def feedback(crafted, student):
    page = crafted["out"] / "feedback" / student / LAB / f"{LAB}.html"
    return page.read_text() if page.is_file() else ""


def test_feedback_holds_no_solution_or_hidden_test_and_shows_the_sandbox(crafted):
    pages = {s: feedback(crafted, s) for s in crafted["expected"]}
    for student, page in pages.items():
        assert SOLUTION_MARK not in page, student
        assert HIDDEN_MARK not in page, student
        assert "round(answer * 1.0)" not in page, student
    reader = pages["a_reader"]
    assert "NOTEBOOKS-DIR-ABSENT" in reader and "READ " not in reader
    assert "[hidden test]" in reader, "the hidden test printed from In[] is blanked out"
    assert "<script>window.GRADER_XSS" not in reader and "<b>bold</b>" in reader, "HTML outputs are sanitized"
    assert "GRADEBOOK-FOUND:0" in pages["a_gradebook"]
    assert "OVERWROTE:0" in pages["a_vandal"]
    for word in ("MEMORY-LIMITED", "THREADS-LIMITED", "FILE-LIMITED", "NET-BLOCKED", "ROOT-READONLY", "UID:65534"):
        assert word in pages["a_probe"], word
    assert "kernel died" in pages["a_exit"] and "not run" in pages["a_exit"]
    assert pages["z_full"] and "ex1-test" in pages["z_full"]


def test_a_huge_output_is_cut_and_the_page_says_so(crafted):
    page = feedback(crafted, "a_bigprint")
    assert len(page) < 3_000_000
    assert "characters of this cell&#x27;s output were left out" in page or \
        "characters of this cell's output were left out" in page
    for student in HONEST:
        assert len(feedback(crafted, student)) < 1_000_000


# ---------------------------------------------------------------------------- limits and set-up
def test_a_sub_second_cell_timeout_still_interrupts(place):
    subs = place / "sleepy"
    submit(subs, "sam", answers(RIGHT, setup="import time\ntime.sleep(120)"))
    [g], took = run_grade(place, subs, place / "sleepy-out", cell_timeout=0.5)
    assert took < 90, "the 0.5 s limit (rounded up to 1 s) stopped the two-minute cell"
    assert g.status == "graded"


def test_bad_timeouts_and_jobs_are_refused(place, capsys):
    subs = place / "args"
    submit(subs, "ann", answers(RIGHT))
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="cell_timeout"):
            grading.grade(subs, place / "args-out", cell_timeout=bad, notebooks_dir=place / "notebooks")
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="jobs"):
            grading.grade(subs, place / "args-out", jobs=bad, notebooks_dir=place / "notebooks")
    for bad in ("0", "nan", "-3", "inf", "soon"):
        assert grading.main(["grade", str(subs), "--cell-timeout", bad]) == 2
        err = capsys.readouterr().err
        assert "--cell-timeout" in err and bad in err
    assert grading.main(["grade", str(subs), "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Limits.processes"):
        grading.Limits(processes=0)


def test_without_bubblewrap_grading_refuses(place, monkeypatch, capsys):
    subs = place / "nobwrap"
    submit(subs, "ann", answers(RIGHT))
    monkeypatch.setattr(grading.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(RuntimeError, match=r"bubblewrap \(bwrap\) is not installed.*--no-sandbox"):
        grading.grade(subs, place / "nobwrap-out", notebooks_dir=place / "notebooks")
    assert grading.main(["grade", str(subs)]) == 2
    assert "apt-get install bubblewrap" in capsys.readouterr().err


def test_no_sandbox_grades_but_says_it_is_unsafe(place, capsys):
    subs = place / "unsafe"
    submit(subs, "ann", answers(RIGHT))
    [g], _ = run_grade(place, subs, place / "unsafe-out", sandbox=False)
    assert (g.status, g.score) == ("graded", 3)
    assert "WITHOUT the sandbox" in capsys.readouterr().err
