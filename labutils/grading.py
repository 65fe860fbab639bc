"""Instructor workflow: student releases and autograding with nbgrader.

``make release`` and ``make grade`` call this module::

    python -m labutils.grading release [--lab 01 ...] [--out release]
    python -m labutils.grading grade SUBMISSIONS [--lab 01 ...] [--cell-timeout 600] [--out build/grading]

*Release.* The nbgrader course directory ``build/nbgrader/`` is assembled from
``notebooks/`` (``source/NN_name/NN_name.ipynb`` and an ``nbgrader_config.py``);
``nbgrader generate_assignment`` writes the student versions, which are copied to
``release/NN_name/NN_name.ipynb``. In a student version each region between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by
``raise NotImplementedError()`` and hidden tests (``### BEGIN HIDDEN TESTS``) are
removed; the locked test cells keep their points.

*Grading.* ``SUBMISSIONS`` holds nbgrader's ``submitted/{student}/{lab}/{lab}.ipynb``
layout (the directory may be ``submitted/`` itself or its parent). Every student is
graded in a sandbox of its own (a copy of the course's gradebook and a copy of that
student's notebooks, taken before any submission runs), with nbgrader's per-cell
timeout (a cell that runs longer is interrupted and scores zero) and a timeout for
the whole notebook (the kernel is killed; the notebook scores zero). Scores and
feedback are collected in memory and written at the end, so a submission that
deletes or rewrites files cannot change another student's grade. Written under
``build/grading/``:

* ``grades.csv``: one row per student and lab, the columns of ``nbgrader export``
  plus ``status`` (``graded``, ``timeout`` or ``error``) and ``seconds``;
* ``grades_by_cell.csv``: the score of every graded test cell;
* ``feedback/{student}/{lab}/{lab}.html``: nbgrader's feedback pages.

This is grading, not a security boundary: submissions run as the instructor's
user. Grade untrusted work in a container or a throwaway account.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import paths

__all__ = [
    "COURSE_ID", "GRADES_COLUMNS", "CellGrade", "Grade", "assignment_name", "assemble_course", "run_nbgrader",
    "release", "find_submissions", "grade", "execute_notebook", "error_cells", "solution_lines", "main",
]

COURSE_ID = "genlabs"
# ``nbgrader export``'s CSV columns, then ours.
GRADES_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score", "status", "seconds")
_NAME = re.compile(r"^[0-9]{2}_[A-Za-z0-9_]+$")
_STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class CellGrade:
    """The score of one graded test cell (``grade_id`` from its nbgrader metadata), in points."""

    student: str
    assignment: str
    cell: str
    score: float
    max_score: float


@dataclass
class Grade:
    """One student's result for one lab.

    Attributes:
        student, assignment: e.g. ``"ada"``, ``"01_dense_autoencoder"``.
        score, max_score: points (``score`` is 0 when the notebook could not be graded).
        status: ``"graded"``, ``"timeout"`` (the whole notebook ran past its limit) or
            ``"error"`` (nbgrader failed, e.g. the submission damaged its sandbox).
        message: why, when ``status`` is not ``"graded"``.
        seconds: wall time of autograding this notebook.
        cells: the per-cell scores (:class:`CellGrade`).
        feedback_html: nbgrader's feedback page (empty when none was generated).
    """

    student: str
    assignment: str
    score: float
    max_score: float
    status: str = "graded"
    message: str = ""
    seconds: float = 0.0
    cells: list = field(default_factory=list)
    feedback_html: bytes = b""


def assignment_name(notebook) -> str:
    """The nbgrader assignment (and notebook) name of a lab notebook: its file stem.

    Args:
        notebook: path of ``NN_name.ipynb``.

    Returns:
        e.g. ``"01_dense_autoencoder"``.

    Raises:
        ValueError: the file name does not look like ``NN_name.ipynb``.
    """
    path = Path(notebook)
    if path.suffix != ".ipynb" or not _NAME.match(path.stem):
        raise ValueError(f"expected a lab notebook named NN_name.ipynb; got {path.name!r}.")
    return path.stem


def _notebooks(notebooks_dir, labs):
    from .runner import find_notebooks

    return find_notebooks(notebooks_dir or (paths.project_root() or Path.cwd()) / "notebooks", labs)


def assemble_course(course_dir=None, *, labs=None, notebooks_dir=None) -> Path:
    """Build the nbgrader course directory from the lab notebooks.

    Writes ``course_dir/source/NN_name/NN_name.ipynb`` for each chosen lab (the
    ``source/`` and ``release/`` folders are emptied first) and ``course_dir/nbgrader_config.py`` (course id, root, the
    solution stub), so an instructor can also run ``nbgrader`` there by hand.

    Args:
        course_dir: default ``build/nbgrader``.
        labs: lab numbers (``"01"``, ``1``); default all.
        notebooks_dir: default ``<checkout>/notebooks``.

    Returns:
        The course directory (absolute).

    Raises:
        FileNotFoundError / ValueError: from :func:`labutils.runner.find_notebooks`.
    """
    course = Path(course_dir or paths.build_dir() / "nbgrader").resolve()
    notebooks = _notebooks(notebooks_dir, labs)
    for old in ("source", "release"):  # only the chosen labs, so one ``generate_assignment "*"`` does them all
        shutil.rmtree(course / old, ignore_errors=True)
    for nb in notebooks:
        name = assignment_name(nb)
        target = course / "source" / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, target / nb.name)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        "# Written by labutils.grading (make release / make grade); regenerated each time.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
    )
    return course


def _env(extra=None) -> dict:
    env = dict(os.environ)
    # nbgrader runs the ``alembic`` script of the same environment to set up its gradebook.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


def run_nbgrader(args, course_dir, *, timeout=None, env=None) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in ``course_dir`` (its own process group).

    Args:
        args: e.g. ``["generate_assignment", "01_dense_autoencoder", "--force"]``.
        course_dir: the course root (also the working directory).
        timeout: seconds; on expiry the whole process group (kernels included) is killed.
        env: extra environment variables.

    Returns:
        The completed process (stdout and stderr merged, as text).

    Raises:
        subprocess.TimeoutExpired: it ran past ``timeout``.
        RuntimeError: nbgrader exited non-zero or logged an error; the message ends with its log.
    """
    cmd = [sys.executable, "-m", "nbgrader", *map(str, args), f"--CourseDirectory.root={Path(course_dir).resolve()}"]
    proc = subprocess.Popen(cmd, cwd=course_dir, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    done = subprocess.CompletedProcess(cmd, proc.returncode, out, "")
    # nbgrader logs a cell timeout as an ERROR and goes on; a failed conversion says "There was an error".
    if proc.returncode != 0 or "There was an error processing" in out:
        tail = "\n".join(out.strip().splitlines()[-25:])
        raise RuntimeError(f"nbgrader {args[0]} failed (exit {proc.returncode}):\n{tail}")
    return done


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def release(out_dir="release", *, labs=None, notebooks_dir=None, course_dir=None) -> list[Path]:
    """Generate the student versions of the labs (``make release``).

    Args:
        out_dir: where ``NN_name/NN_name.ipynb`` are written (default ``release/``
            in the current directory; ``make release`` runs in the checkout).
        labs, notebooks_dir: as in :func:`assemble_course`.
        course_dir: default ``build/nbgrader``.

    Returns:
        The student notebooks written, sorted.

    Raises:
        RuntimeError: nbgrader refused a notebook (e.g. solution markers in a cell
            without nbgrader metadata); the message quotes its log.
    """
    course = assemble_course(course_dir, labs=labs, notebooks_dir=notebooks_dir)
    out = Path(out_dir)
    written = []
    run_nbgrader(["generate_assignment", "*", "--force"], course)
    for nb in sorted((course / "source").glob("*/*.ipynb")):
        name = nb.parent.name
        shutil.rmtree(out / name, ignore_errors=True)
        shutil.copytree(course / "release" / name, out / name)
        written.append(out / name / nb.name)
    return sorted(written)


def find_submissions(submissions_dir) -> dict:
    """The submitted notebooks in nbgrader's ``submitted/{student}/{lab}/{lab}.ipynb`` layout.

    Args:
        submissions_dir: the ``submitted`` directory, or a directory that contains one.

    Returns:
        ``{(student, assignment): path}`` sorted by student, then lab.

    Raises:
        FileNotFoundError: the directory does not exist.
        ValueError: it holds no submissions, a student or lab folder name is not a
            plain name, or a lab folder lacks its ``{lab}.ipynb``.
    """
    root = Path(submissions_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"submissions directory not found: {root}")
    if (root / "submitted").is_dir():
        root = root / "submitted"
    found = {}
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if not _STUDENT.match(student_dir.name):
            raise ValueError(f"student folder names are plain ids (letters, digits, _.-); got {student_dir.name!r}.")
        for lab_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not _NAME.match(lab_dir.name):
                raise ValueError(f"lab folders are named like 01_dense_autoencoder; got {lab_dir} .")
            nb = lab_dir / f"{lab_dir.name}.ipynb"
            if not nb.is_file():
                raise ValueError(f"{lab_dir} holds no {nb.name}; nbgrader's layout is "
                                 "submitted/{student}/{lab}/{lab}.ipynb.")
            found[(student_dir.name, lab_dir.name)] = nb
    if not found:
        raise ValueError(f"no submissions in {root}; expected submitted/{{student}}/{{lab}}/{{lab}}.ipynb.")
    return found


def _read_scores(sandbox, student, name):
    from nbgrader.api import Gradebook

    db = sandbox / "gradebook.db"
    if not db.is_file():
        raise RuntimeError("the gradebook is gone: the submission deleted grading files")
    with Gradebook(f"sqlite:///{db}") as gb:
        sub = gb.find_submission_notebook(name, name, student)
        cells = [CellGrade(student, name, g.name, float(g.score), float(g.max_score))
                 for g in sorted(sub.grades, key=lambda g: g.name)]
        return float(sub.score), float(sub.max_score), cells


def _max_score(course, name):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return float(gb.find_assignment(name).max_score)


def _grade_one(course, work, student, name, notebook, cell_timeout, total_timeout, env) -> Grade:
    sandbox = work / student / name
    shutil.rmtree(sandbox, ignore_errors=True)
    shutil.copytree(course / "source" / name, sandbox / "source" / name)
    shutil.copyfile(course / "gradebook.db", sandbox / "gradebook.db")
    (sandbox / "submitted" / student / name).mkdir(parents=True)
    shutil.copyfile(notebook, sandbox / "submitted" / student / name / f"{name}.ipynb")
    (sandbox / "build").mkdir()
    models = paths.build_dir() / "models"
    if models.is_dir():  # the instructor's cached models (lab judges), copied so a student cannot alter them
        shutil.copytree(models, sandbox / "build" / "models")
    env = dict(env or {}, LABUTILS_BUILD_DIR=str(sandbox / "build"))
    start = time.perf_counter()
    result = Grade(student, name, 0.0, _max_score(course, name))
    try:
        run_nbgrader(["autograde", name, "--student", student, "--force",
                      f"--ExecutePreprocessor.timeout={int(cell_timeout)}"], sandbox, timeout=total_timeout, env=env)
        result.score, result.max_score, result.cells = _read_scores(sandbox, student, name)
        run_nbgrader(["generate_feedback", name, "--student", student, "--force"], sandbox, timeout=300)
        page = sandbox / "feedback" / student / name / f"{name}.html"
        result.feedback_html = page.read_bytes() if page.is_file() else b""
    except subprocess.TimeoutExpired:
        result.status = "timeout"
        result.message = f"the notebook ran past {total_timeout:.0f} s and was stopped"
        result.score, result.cells = 0.0, []
    except Exception as exc:  # nbgrader failed or the sandbox was damaged: this notebook scores zero
        result.status, result.message = "error", str(exc).splitlines()[0]
        result.score, result.cells = 0.0, []
    result.seconds = time.perf_counter() - start
    return result


def grade(submissions_dir, out_dir=None, *, labs=None, cell_timeout: float = 600, total_timeout: float | None = None,
          notebooks_dir=None, env=None) -> list[Grade]:
    """Autograde submitted notebooks with nbgrader (``make grade SUBMISSIONS=dir``).

    Args:
        submissions_dir: see :func:`find_submissions`.
        out_dir: default ``build/grading``; ``grades.csv``, ``grades_by_cell.csv``
            and ``feedback/`` are (re)written there.
        labs: grade only these lab numbers (default: every lab submitted).
        cell_timeout: seconds a cell may run before nbgrader interrupts it (the cell
            scores zero; later cells still run).
        total_timeout: seconds for one notebook, nbgrader included; default
            ``cell_timeout`` times the number of code cells (at least 300).
        notebooks_dir: the instructor's notebooks (default ``<checkout>/notebooks``).
        env: extra environment for the kernels (e.g. ``{"LABS_PROFILE": "quick"}``).

    Returns:
        One :class:`Grade` per submission, sorted by lab then student.

    Raises:
        FileNotFoundError / ValueError: from :func:`find_submissions`.
        ValueError: a positive ``cell_timeout`` is needed; a submitted lab has no notebook.
    """
    import nbformat

    import math

    if (isinstance(cell_timeout, bool) or not isinstance(cell_timeout, (int, float))
            or not math.isfinite(cell_timeout) or cell_timeout <= 0):
        raise ValueError(f"cell_timeout must be a positive, finite number of seconds; got {cell_timeout!r}.")
    cell_timeout = math.ceil(cell_timeout)  # nbgrader takes whole seconds, and 0 would mean "no limit"
    if total_timeout is not None and (isinstance(total_timeout, bool) or not isinstance(total_timeout, (int, float))
                                      or not math.isfinite(total_timeout) or total_timeout <= 0):
        raise ValueError(f"total_timeout must be a positive, finite number of seconds or None; got {total_timeout!r}.")
    from .runner import lab_numbers

    wanted = None if labs is None else set(lab_numbers(labs))
    submissions = {k: v for k, v in find_submissions(submissions_dir).items() if wanted is None or k[1][:2] in wanted}
    if not submissions:
        raise ValueError(f"no submissions for lab(s) {sorted(wanted or [])} in {submissions_dir}.")
    out = Path(out_dir or paths.build_dir() / "grading").resolve()
    work = Path(tempfile.mkdtemp(prefix="grading-", dir=paths.build_dir()))
    # Copy every submission before any runs: a notebook that deletes files cannot reach the others.
    snapshot = {}
    for (student, name), nb in submissions.items():
        snapshot[(student, name)] = work / "snapshot" / student / name / nb.name
        snapshot[(student, name)].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, snapshot[(student, name)])
    lab_numbers = sorted({name[:2] for _, name in submissions})
    course = assemble_course(work / "course", labs=lab_numbers, notebooks_dir=notebooks_dir)
    known = {p.name for p in (course / "source").iterdir()}
    unknown = sorted({name for _, name in submissions} - known)
    if unknown:
        raise ValueError(f"submitted lab(s) {unknown} do not match a lab notebook; known: {sorted(known)}.")
    run_nbgrader(["generate_assignment", "*", "--force"], course)
    grades = []
    for (student, name) in sorted(submissions, key=lambda k: (k[1], k[0])):
        n_code = sum(c.cell_type == "code" for c in nbformat.read(course / "source" / name / f"{name}.ipynb", 4).cells)
        limit = total_timeout or max(300.0, cell_timeout * n_code)
        print(f"grading {student} / {name} ...", flush=True)
        g = _grade_one(course, work / "students", student, name, snapshot[(student, name)], cell_timeout, limit, env)
        print(f"  {g.score:g} / {g.max_score:g} points, {g.status} in {g.seconds:.0f} s"
              + (f": {g.message}" if g.message else ""), flush=True)
        grades.append(g)
    _write(out, grades)
    shutil.rmtree(work, ignore_errors=True)
    return grades


def _write(out: Path, grades):
    shutil.rmtree(out / "feedback", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(GRADES_COLUMNS)
        for g in grades:
            w.writerow([g.assignment, "", "", g.student, "", "", "", g.score, 0.0, g.score, g.max_score,
                        g.status, f"{g.seconds:.1f}"])
    with open(out / "grades_by_cell.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["assignment", "student_id", "cell", "score", "max_score"])
        for g in grades:
            for c in g.cells:
                w.writerow([c.assignment, c.student, c.cell, c.score, c.max_score])
    for g in grades:
        if g.feedback_html:
            page = out / "feedback" / g.student / g.assignment / f"{g.assignment}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_bytes(g.feedback_html)


# ------------------------------------------------------------------ checks of the student versions
def execute_notebook(path, *, timeout: float = 900, env=None, cwd=None):
    """Execute a notebook to the end, errors allowed (e.g. a student version as released).

    The kernel starts in ``cwd`` (default: the notebook's directory) and
    inherits this process's environment plus ``env``.

    Args:
        path: the ``.ipynb``, or an ``nbformat.NotebookNode`` (executed in place;
            then ``cwd`` is required).
        timeout: seconds per cell (a cell that runs longer raises ``CellTimeoutError``).
        env: extra environment variables for the kernel.
        cwd: the kernel's working directory.

    Returns:
        The executed notebook (``nbformat.NotebookNode``), outputs included.

    Raises:
        ValueError: a notebook object without ``cwd``, or a ``cwd`` that is not a directory.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    if isinstance(path, nbformat.NotebookNode):
        if cwd is None:
            raise ValueError("cwd is required when path is a notebook object, not a file.")
        nb = path
    else:
        path = Path(path)
        nb = nbformat.read(path, as_version=4)
        cwd = path.parent if cwd is None else cwd
    cwd = Path(cwd)
    if not cwd.is_dir():
        raise ValueError(f"cwd must be an existing directory; got {str(cwd)!r}.")
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with tempfile.TemporaryDirectory(prefix="labutils-kernel-") as sockets:
            km = (KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
                  if os.name == "posix" else KernelManager(kernel_name="python3"))
            client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True,
                                    resources={"metadata": {"path": str(cwd.resolve())}})
            try:
                client.execute()
            finally:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def error_cells(nb) -> list[tuple[int, str, str]]:
    """The code cells of an executed notebook that raised.

    Returns:
        ``[(cell index, nbgrader grade_id or "", exception name)]`` in notebook order.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, cell.metadata.get("nbgrader", {}).get("grade_id", ""), out.get("ename", "")))
                break
    return found


def solution_lines(nb) -> list[str]:
    """The non-blank lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (stripped).

    Used to check that no solution text reaches a student version.
    """
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            s = line.strip()
            if s == "### BEGIN SOLUTION":
                inside = True
            elif s == "### END SOLUTION":
                inside = False
            elif inside and s:
                lines.append(s)
    return lines


def main(argv=None) -> int:
    """Command line: ``release`` and ``grade`` (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write the student versions")
    rel.add_argument("--lab", action="append", help="lab number, e.g. 01 (repeatable; default all)")
    rel.add_argument("--out", default="release")
    grd = sub.add_parser("grade", help="autograde submitted/{student}/{lab}/{lab}.ipynb")
    grd.add_argument("submissions")
    grd.add_argument("--lab", action="append")
    grd.add_argument("--out", default=None, help="default build/grading")
    grd.add_argument("--cell-timeout", type=float, default=600, help="seconds per cell (default 600)")
    grd.add_argument("--timeout", type=float, default=None, help="seconds per notebook (default: per cell x cells)")
    args = parser.parse_args(argv)
    labs = [lab for item in args.lab for lab in item.replace(",", " ").split()] if args.lab else None
    start = time.perf_counter()
    try:
        if args.command == "release":
            for p in release(args.out, labs=labs):
                print(f"wrote {p}")
            print(f"release took {time.perf_counter() - start:.1f} s")
            return 0
        grades = grade(args.submissions, args.out, labs=labs, cell_timeout=args.cell_timeout,
                       total_timeout=args.timeout)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out or paths.build_dir() / "grading")
    print(f"\nwrote {out / 'grades.csv'}, grades_by_cell.csv and feedback/; grading took "
          f"{time.perf_counter() - start:.1f} s")
    return 0 if all(g.status == "graded" for g in grades) else 1


if __name__ == "__main__":
    sys.exit(main())
