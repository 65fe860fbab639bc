"""Instructor workflow: student releases and autograding with nbgrader.

``make release`` and ``make grade`` call this module::

    python -m labutils.grading release [--lab 01 ...] [--out release]
    python -m labutils.grading grade SUBMISSIONS [--lab 01 ...] [--cell-timeout 600] [--out build/grading]
                                     [--student ID ...]
    python -m labutils.grading merge OUT PART [PART ...]      # join per-student outputs (batch systems)

*Release.* The nbgrader course directory ``build/nbgrader/`` is assembled from
``notebooks/`` (``source/NN_name/NN_name.ipynb`` and an ``nbgrader_config.py``);
``nbgrader generate_assignment`` writes the student versions, which are copied to
``release/NN_name/NN_name.ipynb``. In a student version each region between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by
``raise NotImplementedError()`` and hidden tests (``### BEGIN HIDDEN TESTS``) are
removed; the locked test cells keep their points.

*Grading.* ``SUBMISSIONS`` holds nbgrader's ``submitted/{student}/{lab}/{lab}.ipynb``
layout (the directory may be ``submitted/`` itself or its parent). Every submission is
read and checked before any runs (a symbolic link, a file that is not a notebook or a
malformed notebook gets a ``rejected`` line with the reason) and graded in a course
directory of its own. The trusted side, this process and the nbgrader processes it
starts, merges the hidden tests back in, reads the scores and writes the results;
the kernel that executes the student's code runs in a bubblewrap sandbox (below).
Options: ``--cell-timeout`` (a cell that runs longer is interrupted and scores zero),
``--timeout`` (the notebook's limit: the kernel is stopped, the test cells that
passed before keep their points), ``--jobs N`` (N sandboxes at once),
``--memory-gb``, ``--no-sandbox`` (unsafe: student code runs as you). Written under
``build/grading/`` (by this process alone, at the end):

* ``grades.csv``: one row per student and lab, the columns of ``nbgrader export``
  plus ``status`` (``graded``, ``timeout``, ``stopped``, ``rejected`` or ``error``),
  ``seconds`` and ``reason``;
* ``grades_by_cell.csv``: the score of every graded test cell;
* ``feedback/{student}/{lab}/{lab}.html``: nbgrader's feedback pages, without the
  hidden tests, outputs capped.

*The sandbox.* Each kernel runs under ``bwrap --unshare-all --die-with-parent
--new-session --uid 65534 --gid 65534 --clearenv`` (own mount, PID, network, IPC,
UTS, user and cgroup namespaces; no network at all) with a read-only root holding
only ``/usr`` and the other library folders, a few ``/etc`` files, the Python
installation and virtual environment, ``labutils`` and the data directory; private
``/tmp`` and ``/dev/shm``; writable: a scratch copy of its working directory, its
build directory (a copy of the cached models) and the folder of its ZeroMQ Unix
sockets. The instructor's notebooks, the course and its gradebook, the other
submissions and the results are not in it. Inside, before ipykernel starts,
RLIMIT_DATA, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_CPU are set (:class:`Limits`).
Before every graded test cell a guard installed before any student cell runs puts
back what the tests rely on: the instructor's imports, the functions and classes of
the packages they come from, builtins and IPython's hooks. See the README for what
this does and does not guarantee.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import stat
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
    "Limits", "find_bwrap", "merge_results",
]

COURSE_ID = "genlabs"
# ``nbgrader export``'s CSV columns, then ours.
GRADES_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score", "status", "seconds", "reason")
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
        status: ``"graded"``; ``"timeout"`` (the notebook ran past its limit: the kernel
            was stopped, the test cells that passed before keep their points);
            ``"stopped"`` (the kernel died, e.g. ``os._exit``, or ignored an interrupt:
            likewise); ``"rejected"`` (not gradable: a link, not a notebook, malformed,
            missing; 0 points); ``"error"`` (nbgrader failed; 0 points).
        message: why, when ``status`` is not ``"graded"`` (the ``reason`` column).
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
        figure = nb.parent / "figures" / f"{nb.stem}.svg"  # the lab's diagram, shown near its top
        if figure.is_file():
            (target / "figures").mkdir(exist_ok=True)
            shutil.copyfile(figure, target / "figures" / figure.name)
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
        TypeError: ``args`` is a single string (it would be split into characters)
            or holds non-strings; a ``timeout`` that is not a number or None.
        ValueError: a ``timeout`` that is not positive and finite; a ``course_dir``
            that is not a directory.
    """
    if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)) or not args:
        raise TypeError(f"args must be a non-empty list of strings such as ['generate_assignment', '*']; "
                        f"got {args!r} ({type(args).__name__}).")
    if not all(isinstance(a, (str, os.PathLike)) for a in args):
        raise TypeError(f"args must hold strings; got {args!r}.")
    if timeout is not None:
        timeout = _seconds(timeout, "timeout")
    if not Path(course_dir).is_dir():
        raise ValueError(f"course_dir must be an existing directory; got {str(course_dir)!r}.")
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


def _seconds(value, name) -> float:
    """A positive, finite number of seconds (booleans refused)."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds; got {value!r} ({type(value).__name__}).")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds; got {value!r}.")
    return float(value)


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

    Every lab folder is listed, with the path its notebook must have; whether that
    path holds a gradable notebook (a plain file, not a link, valid JSON) is checked
    when grading, where a bad one gets a ``rejected`` line of its own instead of
    stopping the class.

    Args:
        submissions_dir: the ``submitted`` directory, or a directory that contains one.

    Returns:
        ``{(student, assignment): path}`` sorted by student, then lab.

    Raises:
        FileNotFoundError: the directory does not exist.
        ValueError: it holds no submissions, or a student or lab folder name is not a
            plain name.
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
            found[(student_dir.name, lab_dir.name)] = lab_dir / f"{lab_dir.name}.ipynb"
    if not found:
        raise ValueError(f"no submissions in {root}; expected submitted/{{student}}/{{lab}}/{{lab}}.ipynb.")
    return found


# A submitted notebook larger than this is rejected unread (nbgrader clears the outputs anyway).
SUBMISSION_MAX_BYTES = 100 * 2**20


def _read_submission(path: Path, root: Path):
    """``(notebook text, "")`` for a gradable submission, else ``(None, reason)``.

    The notebook and the folders from ``root`` down to it must be plain (no symbolic
    links: a link could point at the instructor's solutions); the file must be UTF-8
    JSON that nbformat reads and validates. The text returned is nbformat's own
    rewrite of it, taken before any submission runs.
    """
    import nbformat

    here = root
    for part in path.relative_to(root).parts:
        here = here / part
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            others = sorted(os.listdir(path.parent))[:5] if path.parent.is_dir() else []
            return None, (f"no {path.name} in the lab folder"
                          + (f" (it holds: {', '.join(others)})" if others else " (it is empty)"))
        if stat.S_ISLNK(st.st_mode):
            return None, f"{here.relative_to(root)} is a symbolic link; a submission must be a plain file"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{path.name} is not a regular file"
    if st.st_size > SUBMISSION_MAX_BYTES:
        return None, f"{path.name} is {st.st_size / 2**20:.0f} MB; the limit is {SUBMISSION_MAX_BYTES // 2**20} MB"
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        data = f.read(SUBMISSION_MAX_BYTES + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"{path.name} is not a notebook (not UTF-8 text)"
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # JSON errors, nbformat's ValidationError, a JSON list instead of an object, ...
        detail = " ".join(str(getattr(exc, "message", exc)).split())[:200]
        return None, f"{path.name} is not a valid notebook: {detail}"
    return nbformat.writes(nb), ""


def _read_scores(course, student, name):
    from nbgrader.api import Gradebook

    db = course / "gradebook.db"
    if not db.is_file():
        raise RuntimeError("the gradebook is gone")
    with Gradebook(f"sqlite:///{db}") as gb:
        sub = gb.find_submission_notebook(name, name, student)
        cells = [CellGrade(student, name, g.name, float(g.score), float(g.max_score))
                 for g in sorted(sub.grades, key=lambda g: g.name)]
        return float(sub.score), float(sub.max_score), cells


def _max_score(course, name):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return float(gb.find_assignment(name).max_score)


# ------------------------------------------------------------------ the sandbox
#
# The trusted side (this process and the nbgrader processes it starts) prepares each
# submission's course directory, merges the hidden tests back in, reads the scores and
# writes the results. Only the kernel that executes the notebook is untrusted: it runs
# inside bubblewrap (``bwrap``) with its own mount, PID, network, IPC, UTS and user
# namespaces, as uid/gid 65534, and sees only the system's library directories, the
# Python installation, labutils, the data (all read-only), a scratch copy of its
# working directory, its build directory and the directory of its ZeroMQ sockets.

SANDBOX_UID = 65534
# /etc files a Python kernel needs (dynamic loader, time zone, names of users and groups);
# nothing else of /etc is visible.
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
        "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/alternatives", "/etc/fonts", "/etc/mime.types")
# Variables of the grader's environment that reach the kernel (plus LABS_*, LC_* and grade(env=...)).
_ENV_PASS = ("LANG", "LANGUAGE", "TZ", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "KERAS_BACKEND",
             "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS", "PYTHONHASHSEED", "MPLBACKEND")
_GUARD_MODULE = "__labutils_grading_guard__"
# The largest single ZeroMQ message the grader accepts from a kernel (the connection drops beyond it).
_MAX_MESSAGE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Limits:
    """What one submission's kernel may use (``grade(limits=...)``).

    The four rlimits are set inside the sandbox before the kernel starts, soft and
    hard alike, so student code cannot raise them; they hold per process (each
    process of the sandbox may use ``memory_bytes``; ``processes`` bounds how many
    processes and threads it may have at once).

    Attributes:
        memory_bytes: RLIMIT_DATA (heap and private mappings), default 8 GiB.
        processes: RLIMIT_NPROC, default 512 (the kernel's threads count).
        file_bytes: RLIMIT_FSIZE, the largest file it may write, default 2 GiB.
        cpu_seconds: RLIMIT_CPU; default the notebook's time limit times the CPUs.
        tmp_bytes: size of its private ``/tmp`` (memory-backed), default 1 GiB.
        output_chars_per_cell, output_chars: outputs kept per cell and per notebook
            (characters of text or encoded images); the rest is left out and the
            feedback page says so.
    """

    memory_bytes: int = 8 * 2**30
    processes: int = 512
    file_bytes: int = 2 * 2**30
    cpu_seconds: int | None = None
    tmp_bytes: int = 2**30
    output_chars_per_cell: int = 1_000_000
    output_chars: int = 5_000_000

    def __post_init__(self):
        for name in ("memory_bytes", "processes", "file_bytes", "tmp_bytes", "output_chars_per_cell", "output_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive integer; got {value!r}.")
        if self.cpu_seconds is not None and (isinstance(self.cpu_seconds, bool) or not isinstance(self.cpu_seconds, int)
                                             or self.cpu_seconds <= 0):
            raise ValueError(f"Limits.cpu_seconds must be a positive integer or None; got {self.cpu_seconds!r}.")


def find_bwrap() -> str:
    """The path of bubblewrap's ``bwrap``.

    Raises:
        RuntimeError: it is not installed; the message says how to install it.
    """
    found = shutil.which("bwrap")
    if not found:
        raise RuntimeError(
            "bubblewrap (bwrap) is not installed, and make grade runs every submission in a bubblewrap sandbox. "
            "Install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap), "
            "or pass --no-sandbox (make grade NO_SANDBOX=1) to run student code unconfined as your user: unsafe.")
    return found


def _covered(path, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _system_binds():
    """``(read-only paths, {link: target})``: what the kernel needs of the machine."""
    ro, links = [], {}
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            links[top] = os.readlink(top)
        elif os.path.isdir(top):
            ro.append(top)
    for place in (sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix,
                  os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))), str(Path(__file__).resolve().parent)):
        for p in {os.path.abspath(place), os.path.realpath(place)}:
            if os.path.isdir(p) and not _covered(p, ro):
                ro.append(p)
    for f in _ETC:
        if os.path.islink(f):
            links[f] = os.readlink(f)  # e.g. /etc/localtime -> /usr/share/zoneinfo/...
        elif os.path.exists(f):
            ro.append(f)
    return ro, links


def _check_exposure(ro, protected):
    """Refuse a read-only bind that would show the kernel a protected place (solutions, gradebooks, grades)."""
    for p in protected:
        p = os.path.realpath(p)
        for r in ro:
            r = os.path.realpath(r)
            if _covered(p, [r]):
                raise RuntimeError(f"the sandbox would show student code {p} (it lies inside {r}, which the kernel "
                                   "needs read-only); keep the notebooks, submissions, build and data directories "
                                   "out of the Python installation, or move LABUTILS_DATA_DIR to a folder of its own.")


_LAUNCH = (
    "import os, resource, sys\n"
    "for item in filter(None, sys.argv[1].split(',')):\n"
    "    name, value = item.split('=')\n"
    "    value = int(value)\n"
    "    resource.setrlimit(getattr(resource, name), (value, value + 5 if name == 'RLIMIT_CPU' else value))\n"
    "os.execv(sys.executable, [sys.executable] + sys.argv[2:])\n"
)


def _kernel_command(spec, cwd, connection_file, run_dir, extra_arguments) -> list:
    """The command that starts one kernel: bwrap around the rlimit launcher around ipykernel."""
    limits = ",".join(f"{k}={v}" for k, v in spec["rlimits"].items())
    kernel = [sys.executable, "-c", _LAUNCH, limits, "-m", "ipykernel_launcher", "-f", connection_file,
              *extra_arguments]
    if not spec["sandbox"]:
        return kernel
    cmd = [spec["bwrap"], "--unshare-all", "--die-with-parent", "--new-session",
           "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "grading", "--clearenv"]
    for key, value in spec["env"].items():
        cmd += ["--setenv", key, value]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm",
            "--size", str(spec["tmp_bytes"]), "--tmpfs", "/tmp", "--dir", spec["env"]["HOME"]]
    for path in spec["ro"]:
        cmd += ["--ro-bind", path, path]
    for link, target in spec["links"].items():
        cmd += ["--symlink", target, link]
    cmd += ["--bind", spec["work"], cwd]
    for path in spec["rw"]:
        cmd += ["--bind", path, path]
    cmd += ["--bind", run_dir, run_dir, "--remount-ro", "/", "--chdir", cwd, "--"]
    return cmd + kernel


def _short_tempdir() -> str:
    # ZeroMQ's ipc endpoints are Unix socket paths (at most 107 bytes): keep the directory short.
    base = "/tmp" if os.path.isdir("/tmp") and os.access("/tmp", os.W_OK) else None
    return tempfile.mkdtemp(prefix="lgk-", dir=base)


def _copy_plain_files(src: Path, dest: Path):
    """Regular files of ``src`` (recursively, no links, no notebooks) into ``dest``."""
    for entry in os.scandir(src):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            _copy_plain_files(Path(entry.path), dest / entry.name)
        elif entry.is_file() and not entry.name.endswith(".ipynb"):
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry.path, dest / entry.name)


def _rmtree(path):
    """Remove a tree that student code may have left unreadable (modes are restored first)."""
    def retry(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass
    if os.path.lexists(path):
        shutil.rmtree(path, onerror=retry)


_CLASSES = []


def _kernel_classes():
    """The kernel manager and execute preprocessor that nbgrader runs with (built on first use: they import
    nbgrader and jupyter_client, which ``import labutils.grading`` alone does not)."""
    if _CLASSES:
        return tuple(_CLASSES)
    import asyncio
    import math

    import zmq
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output
    from nbgrader.preprocessors import Execute
    from traitlets import Unicode

    class _Client(AsyncKernelClient):
        """A kernel client that drops (and reconnects) rather than buffer a message over 64 MB."""

        def _create_connected_socket(self, channel, identity=None):
            from jupyter_client.connect import channel_socket_types

            sock = self.context.socket(channel_socket_types[channel])
            sock.linger = 1000
            sock.setsockopt(zmq.MAXMSGSIZE, _MAX_MESSAGE_BYTES)
            if identity:
                sock.identity = identity
            if getattr(self, "curve_publickey", None) is not None:
                sock.curve_secretkey = self.curve_secretkey
                sock.curve_publickey = self.curve_publickey
                sock.curve_serverkey = self.curve_publickey
            sock.connect(self._make_url(channel))
            return sock

    class _KernelManager(AsyncKernelManager):
        """Starts the kernel in the sandbox described by ``sandbox_spec`` (set by the execute preprocessor).

        The kernel talks ZeroMQ over Unix sockets (``transport="ipc"``) in a private
        directory that is bound into the sandbox, so the sandbox needs no network;
        interrupts go as messages on the control channel (a signal would reach bwrap,
        not the kernel).
        """

        def __init__(self, **kw):
            super().__init__(**kw)
            self.sandbox_spec = {}
            self._run_dir = None
            self.client_factory = _Client

        async def _async_pre_start_kernel(self, **kw):
            self._run_dir = _short_tempdir()
            self.transport = "ipc"
            self.ip = os.path.join(self._run_dir, "k")
            self.connection_file = os.path.join(self._run_dir, "kernel.json")
            return await super()._async_pre_start_kernel(**kw)

        def format_kernel_cmd(self, extra_arguments=None):
            cwd = str(self._launch_args.get("cwd") or os.getcwd())
            return _kernel_command(self.sandbox_spec, cwd, self.connection_file, self._run_dir,
                                   list(extra_arguments or []))

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            spec = self.sandbox_spec
            work = Path(spec["work"])
            _rmtree(work)
            work.mkdir(parents=True)
            if kw.get("cwd"):  # files beside the notebook (the assignment's data files), copied, never bound
                _copy_plain_files(Path(kw["cwd"]), work)
            kw["env"] = ({"PATH": os.environ.get("PATH", "/usr/bin:/bin")} if spec["sandbox"] else dict(spec["env"]))
            if not spec["sandbox"]:
                kw["cwd"] = str(work)
            # The kernel's own stdout/stderr (not the notebook's outputs, which go over ZeroMQ): discarded, so
            # that nothing it writes there can fill the grader's memory or disk.
            kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
            await super()._async_launch_kernel(kernel_cmd, **kw)

        async def interrupt_kernel(self):
            if self.has_kernel:
                msg = self.session.msg("interrupt_request", content={})
                self._connect_control_socket()
                self.session.send(self._control_socket, msg)

        async def cleanup_resources(self, restart=False):
            await super()._async_cleanup_resources(restart=restart)
            if self._run_dir:
                _rmtree(self._run_dir)

    class _NotebookTimeout(Exception):
        pass

    class _GraderError(Exception):
        pass

    class _Execute(Execute):
        """nbgrader's Execute, plus: the sandboxed kernel, the grading guard before every test cell, the
        notebook's time limit, output limits, and a kernel that dies or hangs costing only the cells after it."""

        spec_file = Unicode("", help="JSON description of the sandbox (written by labutils.grading)").tag(config=True)

        def __init__(self, **kw):
            kw["kernel_manager_class"] = _KernelManager
            super().__init__(**kw)
            self._spec = json.loads(Path(self.spec_file).read_text()) if self.spec_file else {}

        def create_kernel_manager(self):
            km = super().create_kernel_manager()
            km.sandbox_spec = self._spec
            return km

        # -------------------------------------------------------------- the run
        def preprocess(self, nb, resources=None, km=None):
            spec = self._spec
            self._deadline = time.monotonic() + float(spec.get("notebook_timeout", 10**9))
            self._stopped, self._status = "", "graded"
            self._guarded, self._call_timeout = False, None
            self._chars, self._cell_chars, self._dropped = 0, 0, 0
            self._not_run = 0
            try:
                return super().preprocess(nb, resources, km)
            finally:
                report = {"status": self._status, "reason": self._stopped, "cells_not_run": self._not_run}
                if spec.get("report"):
                    Path(spec["report"]).write_text(json.dumps(report))

        def _get_timeout(self, cell):
            timeout = self._call_timeout if self._call_timeout else super()._get_timeout(cell)
            if cell is None and not self._call_timeout:  # kernel_info and the like, not a cell: not the cell limit
                timeout = max(timeout or 0, 60)
            left = math.ceil(self._deadline - time.monotonic())
            return max(1, left) if timeout is None or left < timeout else timeout

        async def _async_handle_timeout(self, timeout, cell=None):
            if time.monotonic() >= self._deadline - 0.5:
                raise _NotebookTimeout()
            self._interrupted = True
            return await super()._async_handle_timeout(timeout, cell)

        async def _stop(self, why, status):
            self._stopped, self._status = why, status
            try:
                await asyncio.wait_for(asyncio.ensure_future(self.km.shutdown_kernel(now=True)), 30)
            except Exception:  # already dead
                pass

        def _kernel_end(self):
            """How the kernel ended (its exit status, or the signal that killed it), for the grades table."""
            try:
                code = self.km.provisioner.process.poll()
            except AttributeError:
                code = None
            if code is None:
                return ""
            return f" (killed by signal {-code})" if code < 0 else f" (exit status {code})"

        async def _call(self, code="", expressions=None, timeout=None):
            """Run trusted code in the kernel (silently, outside the history); the execute reply or None."""
            self._call_timeout = timeout
            try:
                msg_id = await ensure_async_(self.kc.execute(code, silent=True, store_history=False,
                                                             user_expressions=expressions or {}, allow_stdin=False,
                                                             stop_on_error=False))
                return await self.async_wait_for_reply(msg_id)
            finally:
                self._call_timeout = None

        async def _install_guard(self):
            spec = self._spec
            code = (_GUARD + f"\n__labutils_guard_install({spec.get('imports', [])!r}, {spec.get('packages', [])!r})"
                    "\ndel __labutils_guard_install\n")
            reply = await self._call(code, timeout=max(300, int(self.timeout or 0)))
            content = (reply or {}).get("content", {})
            if content.get("status") != "ok":
                raise _GraderError(f"the grader could not prepare the kernel: {content.get('ename', 'no reply')}: "
                                   f"{content.get('evalue', '')}")
            self._guarded = True

        async def _run_guard(self):
            token = os.urandom(8).hex()
            expr = f"__import__('sys').modules[{_GUARD_MODULE!r}].restore({token!r})"
            reply = await self._call("", {"guard": expr}, timeout=60)
            content = (reply or {}).get("content", {})
            result = content.get("user_expressions", {}).get("guard", {})
            if content.get("status") == "ok" and result.get("status") == "ok" \
                    and result.get("data", {}).get("text/plain") == repr(token):
                return ""
            detail = result.get("ename") or content.get("ename") or "no reply"
            return (f"the grader could not restore the names and hooks this test relies on ({detail}): "
                    "the notebook changed the kernel's machinery, so this test does not count")

        def _error(self, ename, text):
            return new_output("error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if cell.cell_type != "code" or not cell.source.strip():
                return await Execute.async_execute_cell(self, cell, cell_index, execution_count, store_history)
            if self._stopped:
                self._not_run += 1
                cell.outputs = [self._error("NotRun", f"not run: {self._stopped}")]
                return cell
            self._cell_chars, self._dropped, self._interrupted, self._cell_errors = 0, 0, False, 0
            graded = bool(cell.metadata.get("nbgrader", {}).get("grade"))
            try:
                if not self._guarded:
                    await self._install_guard()
                if graded:
                    problem = await self._run_guard()
                    if problem:
                        cell.outputs = [self._error("GradingGuardError", problem)]
                        return cell
                cell = await Execute.async_execute_cell(self, cell, cell_index, execution_count, store_history)
            except _NotebookTimeout:
                limit = self._spec.get("notebook_timeout")
                await self._stop(f"the notebook ran past its time limit ({limit:.0f} s) in cell {cell_index}; the "
                                 "kernel was stopped", "timeout")
                cell.outputs.append(self._error("NotebookTimeout", self._stopped))
            except DeadKernelError:
                await self._stop(f"the kernel died in cell {cell_index}{self._kernel_end()}", "stopped")
                cell.outputs.append(self._error("DeadKernelError", self._stopped))
            except CellTimeoutError:
                if self._interrupted:
                    why = (f"cell {cell_index} ran past the per-cell limit ({self.timeout} s) and did not stop when "
                           "interrupted; the kernel was stopped")
                else:
                    why = (f"the kernel's output stopped arriving in cell {cell_index} (a single output over "
                           f"{_MAX_MESSAGE_BYTES // 2**20} MB is refused); the kernel was stopped")
                await self._stop(why, "stopped")
                cell.outputs.append(self._error("CellTimeoutError", self._stopped))
            except _GraderError:
                raise
            except Exception as exc:  # the kernel's connection broke in some other way
                await self._stop(f"the grader lost the kernel in cell {cell_index} ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})", "stopped")
                cell.outputs.append(self._error("KernelLost", self._stopped))
            if self._dropped:
                cell.outputs.append(new_output("display_data", data={"text/plain": (
                    f"[grader] {self._dropped:,} characters of this cell's output were left out (limits: "
                    f"{self._spec['cell_chars']:,} per cell, {self._spec['notebook_chars']:,} per notebook)")}))
            return cell

        execute_cell = run_sync(async_execute_cell)

        # -------------------------------------------------------------- output limits
        def _allowance(self):
            return max(0, min(self._spec.get("cell_chars", 10**12) - self._cell_chars,
                              self._spec.get("notebook_chars", 10**12) - self._chars))

        def _take(self, n):
            self._cell_chars += n
            self._chars += n

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            kind = msg.get("msg_type")
            if kind == "error":  # a cell's first error is always kept (it decides the grade), shortened
                first = not self._cell_errors
                self._cell_errors += 1
                cap = max(2000, self._spec.get("cell_chars", 10**12) // 4)
                content["evalue"] = _clip(str(content.get("evalue", "")), cap)
                lines, used = [], 0
                for line in content.get("traceback", [])[:200]:
                    used += len(line)
                    if used > cap:
                        lines.append("... [grader: traceback shortened]")
                        break
                    lines.append(line)
                content["traceback"] = lines
                size = len(content["evalue"]) + sum(len(line) for line in lines)
                if not first and size > self._allowance():
                    self._dropped += size
                    return None
                self._take(min(size, self._allowance()))
                return super().output(outs, msg, display_id, cell_index)
            size = _msg_chars(msg)
            allowed = self._allowance()
            if size <= allowed:
                self._take(size)
                return super().output(outs, msg, display_id, cell_index)
            if kind == "stream" and allowed > 0:
                content["text"] = str(content.get("text", ""))[:allowed]
                self._take(allowed)
                self._dropped += size - allowed
                return super().output(outs, msg, display_id, cell_index)
            self._dropped += size
            return None

        def _update_display_id(self, display_id, msg):
            size = _msg_chars(msg)
            if size > self._allowance():
                self._dropped += size
                return
            self._take(size)
            return super()._update_display_id(display_id, msg)

    async def ensure_async_(value):
        return await value if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future) else value

    _KernelManager.__name__ = _KernelManager.__qualname__ = "SandboxKernelManager"
    _Execute.__name__ = _Execute.__qualname__ = "SandboxExecute"
    _KernelManager.__module__ = _Execute.__module__ = __name__
    _CLASSES[:] = [_KernelManager, _Execute]
    return tuple(_CLASSES)


def __getattr__(name):  # ``from labutils.grading import SandboxExecute`` (nbgrader_config.py) builds the classes
    if name in ("SandboxKernelManager", "SandboxExecute"):
        return _kernel_classes()[name == "SandboxExecute"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _clip(text, n):
    return text if len(text) <= n else text[:n] + f"... [grader: {len(text) - n:,} characters left out]"


def _msg_chars(msg) -> int:
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return len(str(content.get("text", "")))
    total = 0
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(repr(value))
    return total


# Kernel side of the grading guard. Installed by the trusted grader before any cell of the
# notebook runs; before every graded test cell, ``restore`` puts back what the tests rely on.
_GUARD = r'''
def __labutils_guard_install(imports, packages):
    import builtins, sys, threading, types
    ip = get_ipython()
    kernel = getattr(ip, "kernel", None)
    trusted = {}
    for stmt in imports:  # the instructor's imports, bound again before every test
        ns = {"__builtins__": builtins}
        try:
            exec(compile(stmt, "<grader>", "exec"), ns)
        except Exception:
            continue
        ns.pop("__builtins__", None)
        trusted.update(ns)
    tops = set(packages)

    def entry(v):
        return callable(v) or isinstance(v, (staticmethod, classmethod, property))

    modules, classes, functions = {}, {}, {}

    def add_function(f):
        if isinstance(f, types.FunctionType) and id(f) not in functions:
            functions[id(f)] = (f, f.__code__, f.__defaults__, f.__kwdefaults__)

    def add_class(cls):
        if id(cls) in classes:
            return
        try:
            entries = {k: v for k, v in vars(cls).items() if entry(v)}
        except TypeError:
            return
        classes[id(cls)] = (cls, entries)
        for v in entries.values():
            add_function(v)
            add_function(getattr(v, "__func__", None))
            add_function(getattr(v, "fget", None))

    for name, mod in list(sys.modules.items()):
        if not isinstance(mod, types.ModuleType) or name.split(".")[0] not in tops:
            continue
        d = getattr(mod, "__dict__", None)
        if type(d) is not dict:
            continue
        entries = {k: v for k, v in d.items() if entry(v)}
        modules[name] = (mod, entries)
        for v in entries.values():
            add_function(v)
            if isinstance(v, type) and str(getattr(v, "__module__", "")).split(".")[0] in tops:
                add_class(v)
    machinery = [o for o in (ip, kernel, getattr(kernel, "session", None), ip.displayhook, ip.display_pub,
                             ip.display_formatter, ip.events, ip.compile, ip.input_transformer_manager,
                             ip.history_manager, sys.stdout, sys.stderr) if o is not None]
    for o in machinery:
        for cls in type(o).__mro__:
            if cls is not object:
                add_class(cls)
    instance = []
    for o in machinery:
        try:
            instance.append((o, {k: v for k, v in vars(o).items() if entry(v)}))
        except TypeError:
            pass
    names = ("displayhook", "display_pub", "display_formatter", "events", "compile", "InteractiveTB", "SyntaxTB",
             "CustomTB", "input_transformer_manager", "input_transformers_cleaned", "input_transformers_post",
             "ast_transformers", "kernel", "builtin_trap", "display_trap", "user_ns", "user_module", "history_manager",
             "session", "iopub_socket", "iopub_thread", "shell", "shell_stream", "control_stream")
    named = []
    for o in (ip, kernel):
        for n in names:
            try:
                named.append((o, n, getattr(o, n)))
            except Exception:
                pass
    lists = []
    for owner, n in ((ip, "input_transformers_cleaned"), (ip, "input_transformers_post"), (ip, "ast_transformers"),
                     (ip.input_transformer_manager, "cleanup_transforms"),
                     (ip.input_transformer_manager, "line_transforms"),
                     (ip.input_transformer_manager, "token_transformers")):
        lst = getattr(owner, n, None)
        if isinstance(lst, list):
            lists.append((lst, list(lst)))
    events = {k: list(v) for k, v in ip.events.callbacks.items()}
    sys_attrs = {n: getattr(sys, n) for n in ("excepthook", "displayhook", "unraisablehook", "breakpointhook",
                                              "stdout", "stderr", "stdin") if hasattr(sys, n)}
    module_objects = {n: m for n, (m, _) in modules.items()}
    builtin_entries = dict(vars(builtins))

    def restore(token):
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        for n, v in sys_attrs.items():
            setattr(sys, n, v)
        bd = vars(builtins)
        for k, v in builtin_entries.items():
            if bd.get(k) is not v and k not in ("_", "__", "___"):
                bd[k] = v
        for n, m in module_objects.items():
            if sys.modules.get(n) is not m:
                sys.modules[n] = m
        for m, entries in modules.values():
            d = m.__dict__
            for k, v in entries.items():
                if d.get(k) is not v:
                    d[k] = v
        for cls, entries in classes.values():
            cd = cls.__dict__
            for k in [k for k in list(cd) if k not in entries and entry(cd[k])]:
                try:
                    delattr(cls, k)
                except (TypeError, AttributeError):
                    pass
            for k, v in entries.items():
                if cd.get(k) is not v:
                    try:
                        setattr(cls, k, v)
                    except (TypeError, AttributeError):
                        pass
        for f, code, defaults, kwdefaults in functions.values():
            if f.__code__ is not code:
                f.__code__ = code
            if f.__defaults__ is not defaults:
                f.__defaults__ = defaults
            if f.__kwdefaults__ is not kwdefaults:
                f.__kwdefaults__ = kwdefaults
        for o, entries in instance:
            d = vars(o)
            for k in [k for k in list(d) if k not in entries and entry(d[k])]:
                del d[k]
            for k, v in entries.items():
                if d.get(k) is not v:
                    d[k] = v
        for o, n, v in named:
            try:
                if getattr(o, n) is not v:
                    setattr(o, n, v)
            except Exception:
                pass
        for lst, saved in lists:
            lst[:] = saved
        callbacks = ip.events.callbacks
        for k in list(callbacks):
            callbacks[k][:] = events.get(k, [])
        ip.custom_exceptions = ()
        ns = ip.user_ns
        for k, v in trusted.items():
            ns[k] = v
        return token

    guard = types.ModuleType("__labutils_grading_guard__")
    guard.restore = restore
    sys.modules["__labutils_grading_guard__"] = guard
'''


def _lab_facts(source_nb):
    """``(imports, packages, hidden lines)`` of the instructor's notebook.

    ``imports``: its top-level ``import`` statements, which the guard binds again
    before every test cell; ``packages``: their top-level packages, whose functions
    and classes the guard restores; ``hidden``: the lines of its hidden tests, which
    feedback pages do not show.
    """
    import ast

    imports, packages, hidden = [], [], []
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        inside = False
        for line in cell.source.splitlines():
            s = line.strip()
            if s in ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
                inside = s == "### BEGIN HIDDEN TESTS"
            elif inside and len(s) >= 6:
                hidden.append(s)
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level and node.module):
                stmt = ast.unparse(node)
                if stmt not in imports:
                    imports.append(stmt)
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                for m in mods:
                    if m.split(".")[0] not in packages:
                        packages.append(m.split(".")[0])
    return imports, packages, hidden


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def _prepare_feedback(path: Path, hidden, max_chars: int):
    """Before nbgrader renders the feedback page: drop the hidden tests from the test cells, blank out any
    line of them that shows up in an output (e.g. in a traceback), and cap what the page holds."""
    import nbformat

    nb = nbformat.read(path, as_version=4)

    def redact(text):
        text = _ANSI.sub("", text) if "\x1b[" in text else text
        for line in hidden:
            if line in text:
                text = text.replace(line, "[hidden test]")
        return text

    used = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = _HIDDEN.sub("", cell.source)
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = redact(_clip(str(out["text"]), max(0, max_chars - used)))
                used += len(out["text"])
            if "traceback" in out:
                out["traceback"] = [redact(line) for line in out["traceback"]]
                out["evalue"] = redact(str(out.get("evalue", "")))
            for key, value in list(out.get("data", {}).items()):
                if isinstance(value, str):
                    used += len(value)
                    if used > max_chars:
                        out["data"] = {"text/plain": "[grader: output left out; the page holds at most "
                                                     f"{max_chars:,} characters]"}
                        break
                    if key.startswith("text/"):
                        out["data"][key] = redact(value)
    nbformat.write(nb, path)


def _sandbox_spec(box: Path, *, sandbox, bwrap, ro, links, env, limits: Limits, cell_timeout, notebook_timeout,
                  imports, packages) -> dict:
    kernel = box / "kernel"
    build = kernel / "build"
    home = "/tmp/home"
    kernel_env = {k: v for k, v in os.environ.items() if k in _ENV_PASS or k.startswith(("LABS_", "LC_"))}
    data_dir = os.environ.get("LABUTILS_DATA_DIR", "").strip()
    if data_dir:
        kernel_env["LABUTILS_DATA_DIR"] = os.path.realpath(os.path.expanduser(data_dir))
    kernel_env.update(env or {})
    if kernel_env.get("LABUTILS_DATA_DIR"):
        kernel_env["LABUTILS_DATA_DIR"] = os.path.realpath(os.path.expanduser(kernel_env["LABUTILS_DATA_DIR"]))
    kernel_env.update({
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": home if sandbox else str(kernel / "home"),
        "LABUTILS_BUILD_DIR": str(build), "NBGRADER_EXECUTION": "autograde", "PYTHONDONTWRITEBYTECODE": "1",
    })
    for var, sub in (("KERAS_HOME", ".keras"), ("MPLCONFIGDIR", ".config/matplotlib"), ("IPYTHONDIR", ".ipython"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_CONFIG_HOME", ".config"), ("JUPYTER_RUNTIME_DIR", ".jupyter")):
        kernel_env[var] = f"{kernel_env['HOME']}/{sub}"
    binds = list(ro)
    if "LABUTILS_DATA_DIR" in kernel_env and os.path.isdir(kernel_env["LABUTILS_DATA_DIR"]):
        binds.append(kernel_env["LABUTILS_DATA_DIR"])
    rlimits = {"RLIMIT_DATA": limits.memory_bytes, "RLIMIT_FSIZE": limits.file_bytes, "RLIMIT_CORE": 0,
               "RLIMIT_CPU": limits.cpu_seconds or int(notebook_timeout * (os.cpu_count() or 1)) + 60}
    if sandbox:  # outside a user namespace RLIMIT_NPROC would count all of your processes
        rlimits["RLIMIT_NPROC"] = limits.processes
    return {
        "sandbox": sandbox, "bwrap": bwrap, "ro": binds, "links": links, "rw": [str(build)], "work": str(kernel / "work"),
        "env": kernel_env, "rlimits": rlimits, "tmp_bytes": limits.tmp_bytes,
        "cell_chars": limits.output_chars_per_cell, "notebook_chars": limits.output_chars,
        "notebook_timeout": notebook_timeout, "cell_timeout": cell_timeout,
        "imports": imports, "packages": packages,
        "report": str(box / "course" / "sandbox-report.json"),
    }


def _check_sandbox(bwrap, ro, links):
    """Start Python once in the sandbox; RuntimeError with bwrap's own words when that fails (e.g. no user
    namespaces in this container)."""
    spec = {"sandbox": True, "bwrap": bwrap, "ro": ro, "links": links, "rw": [], "rlimits": {},
            "env": {"HOME": "/tmp/home", "PATH": "/usr/bin:/bin"}, "tmp_bytes": 2**20}
    with tempfile.TemporaryDirectory(prefix="lgk-") as run:
        os.mkdir(os.path.join(run, "w"))
        spec["work"] = os.path.join(run, "w")
        cmd = _kernel_command(spec, "/tmp/w", os.path.join(run, "none"), run, [])
        cmd = cmd[:cmd.index("--") + 1] + [sys.executable, "-c", "import os, sys; print(os.getuid())"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise RuntimeError("bubblewrap did not start Python within 60 s") from None
    if done.returncode != 0 or done.stdout.strip() != str(SANDBOX_UID):
        raise RuntimeError(f"bubblewrap cannot start the grading sandbox here ({(done.stderr or done.stdout).strip()[:300]}"
                           "). It needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; in "
                           "Docker, a seccomp profile that allows them, and a /proc it can mount: docker run "
                           "--security-opt systempaths=unconfined, podman --security-opt unmask=ALL). --no-sandbox "
                           "grades without it: unsafe.")


_CONFIG = '''# Written by labutils.grading for one submission. Only the grader reads it: the kernel cannot see it.
c = get_config()  # noqa: F821
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades
from labutils.grading import SandboxExecute
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.ClearSolutions.code_stub = {{'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}}
c.Autograde.autograde_preprocessors = [SandboxExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.SandboxExecute.spec_file = {spec!r}
c.SandboxExecute.timeout = {timeout!r}
c.HTMLExporter.sanitize_html = True
'''
# A feedback page larger than this (after the output limits) is replaced by a short note.
FEEDBACK_MAX_BYTES = 20 * 2**20


def _nbgrader_reason(exc) -> str:
    """One line for the grades table from a failed nbgrader run: its first error, not just its exit status."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines[1:] if re.search(r"^\[ERROR\]|\| ERROR\]|^\w*(Error|Exception)\b.*:", line)
              and "There was an error processing" not in line]
    best = re.sub(r"^\[(\w+App \| )?ERROR\]\s*", "", errors[-1] if errors else "")
    head = lines[0] if lines else type(exc).__name__
    return head + (f" {best[:300]}" if best and best != head else "")


# Runs in a subprocess of its own (trusted: the kernel it starts is the sandboxed part): autograde, then the
# feedback page, in one nbgrader process. Exit status 0: both done; 3: scores saved, no feedback; else: failed.
_DRIVER = r"""
import json, sys
# jsonschema imports rfc3987_syntax when it is installed, which builds a grammar for seconds; nbformat's
# schemas do not use the formats it checks.
sys.modules.setdefault("rfc3987_syntax", None)
from pathlib import Path
from traitlets.config.loader import PyFileConfigLoader
from nbgrader.apps import NbGraderAPI
from labutils import grading
course, name, student = sys.argv[1:4]
spec = json.loads(Path(course, "sandbox.json").read_text())
api = NbGraderAPI(config=PyFileConfigLoader("nbgrader_config.py", path=course).load_config())
for step in ("autograde", "generate_feedback"):
    if step == "generate_feedback":
        grading._prepare_feedback(Path(course, "autograded", student, name, name + ".ipynb"), spec["hidden"],
                                  spec["notebook_chars"])
    result = getattr(api, step)(name, student)
    if not result.get("success"):
        print(f"nbgrader {step} failed:")
        print(result.get("log", "")[-6000:])
        print(result.get("error", "")[-6000:])
        sys.exit(1 if step == "autograde" else 3)
"""


def _run_driver(course: Path, name, student, timeout) -> tuple[int, str]:
    """``(exit status, output)`` of :data:`_DRIVER` in ``course``; its process group is killed on timeout
    (subprocess.TimeoutExpired) and when it ends (nothing it started outlives it)."""
    cmd = [sys.executable, "-c", _DRIVER, str(course), name, student]
    proc = subprocess.Popen(cmd, cwd=course, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return proc.returncode, out


def _grade_one(course, box: Path, student, name, text, *, spec, cell_timeout) -> Grade:
    """Autograde one submission in ``box`` (its own course directory, kernel scratch and sandbox)."""
    c = box / "course"
    c.mkdir(parents=True)
    shutil.copytree(course / "source" / name, c / "source" / name)
    shutil.copyfile(course / "gradebook.db", c / "gradebook.db")
    (c / "submitted" / student / name).mkdir(parents=True)
    (c / "submitted" / student / name / f"{name}.ipynb").write_text(text)
    build = box / "kernel" / "build"
    build.mkdir(parents=True)
    (box / "kernel" / "home").mkdir()
    models = paths.build_dir() / "models"
    if models.is_dir():  # the instructor's cached models (lab judges), copied so a student cannot alter them
        shutil.copytree(models, build / "models", symlinks=False)
    (c / "sandbox.json").write_text(json.dumps(spec))
    (c / "nbgrader_config.py").write_text(_CONFIG.format(course_id=COURSE_ID, root=str(c), spec=str(c / "sandbox.json"),
                                                         timeout=int(cell_timeout)))
    start = time.perf_counter()
    result = Grade(student, name, 0.0, _max_score(course, name))
    limit = spec["notebook_timeout"] + 180
    try:
        code, log = _run_driver(c, name, student, limit)
        if code not in (0, 3):
            raise RuntimeError(log.strip() or f"nbgrader exited with status {code}")
        result.score, result.max_score, result.cells = _read_scores(c, student, name)
        report = c / "sandbox-report.json"
        if report.is_file():
            facts = json.loads(report.read_text())
            if facts.get("status", "graded") != "graded":
                result.status = facts["status"]
                result.message = facts.get("reason", "") + "; the cells that ran before keep their points"
        page = c / "feedback" / student / name / f"{name}.html"
        result.feedback_html = page.read_bytes() if code == 0 and page.is_file() else b""
        if len(result.feedback_html) > FEEDBACK_MAX_BYTES:
            result.feedback_html = (f"<html><body><p>The feedback page was {len(result.feedback_html):,} bytes and "
                                    f"is not kept (limit {FEEDBACK_MAX_BYTES:,}).</p></body></html>").encode()
    except subprocess.TimeoutExpired:
        result.status = "timeout"
        result.message = f"grading ran past {limit:.0f} s and was stopped"
        result.score, result.cells = 0.0, []
    except Exception as exc:  # nbgrader failed: this notebook scores zero, with nbgrader's reason
        result.status, result.message = "error", _nbgrader_reason(exc)
        result.score, result.cells = 0.0, []
    finally:
        _rmtree(box / "kernel")
    result.seconds = time.perf_counter() - start
    return result


def grade(submissions_dir, out_dir=None, *, labs=None, cell_timeout: float = 600, total_timeout: float | None = None,
          notebooks_dir=None, env=None, jobs: int = 1, sandbox: bool = True, limits: Limits | None = None,
          students=None) -> list[Grade]:
    """Autograde submitted notebooks with nbgrader, each in a sandbox of its own (``make grade SUBMISSIONS=dir``).

    Args:
        submissions_dir: see :func:`find_submissions`.
        out_dir: default ``build/grading``; ``grades.csv``, ``grades_by_cell.csv``
            and ``feedback/`` are (re)written there.
        labs: grade only these lab numbers (default: every lab submitted).
        cell_timeout: seconds a cell may run before it is interrupted (the cell
            scores zero; later cells still run); rounded up to whole seconds.
        total_timeout: seconds for one notebook; default ``cell_timeout`` times the
            number of code cells (at least 300). Past it the kernel is stopped; the
            test cells that passed before keep their points.
        notebooks_dir: the instructor's notebooks (default ``<checkout>/notebooks``).
        env: extra environment for the kernels (e.g. ``{"LABS_PROFILE": "quick"}``).
        jobs: submissions graded at once (each in its own sandbox).
        sandbox: False runs student code unconfined as your user (unsafe; says so).
        limits: the kernel's resource and output limits (:class:`Limits`).
        students: grade only these student ids (default: everyone submitted). One
            student per call is the unit a batch system runs as an array job; the
            parts are joined with :func:`merge_results`.

    Returns:
        One :class:`Grade` per submission, sorted by lab then student.

    Raises:
        FileNotFoundError / ValueError: from :func:`find_submissions`.
        ValueError: a positive ``cell_timeout`` is needed; a submitted lab has no notebook;
            ``jobs`` is not a positive integer; a student in ``students`` submitted nothing.
        RuntimeError: bubblewrap is missing or cannot start a sandbox here (the
            message says what to do), or the sandbox would expose a protected folder.
    """
    import concurrent.futures
    import math
    import threading

    import nbformat

    if (isinstance(cell_timeout, bool) or not isinstance(cell_timeout, (int, float))
            or not math.isfinite(cell_timeout) or cell_timeout <= 0):
        raise ValueError(f"cell_timeout must be a positive, finite number of seconds; got {cell_timeout!r}.")
    cell_timeout = math.ceil(cell_timeout)  # nbgrader takes whole seconds, and 0 would mean "no limit"
    if total_timeout is not None and (isinstance(total_timeout, bool) or not isinstance(total_timeout, (int, float))
                                      or not math.isfinite(total_timeout) or total_timeout <= 0):
        raise ValueError(f"total_timeout must be a positive, finite number of seconds or None; got {total_timeout!r}.")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer; got {jobs!r}.")
    if not isinstance(sandbox, bool):
        raise ValueError(f"sandbox must be True or False; got {sandbox!r}.")
    limits = Limits() if limits is None else limits
    if not isinstance(limits, Limits):
        raise ValueError(f"limits must be a labutils.grading.Limits; got {limits!r}.")
    if env is not None and (not isinstance(env, dict)
                            or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise ValueError(f"env must be a dict of strings {{name: value}}; got {env!r}.")
    from .runner import lab_numbers

    wanted = None if labs is None else set(lab_numbers(labs))
    found = find_submissions(submissions_dir)
    root = Path(submissions_dir) / "submitted" if (Path(submissions_dir) / "submitted").is_dir() else Path(submissions_dir)
    if students is not None:
        if isinstance(students, str) or not all(isinstance(x, str) for x in students) or not students:
            raise ValueError(f"students must be a non-empty list of student ids; got {students!r}.")
        missing = sorted(set(students) - {student for student, _ in found})
        if missing:
            raise ValueError(f"student(s) {missing} have no submission in {submissions_dir}.")
    submissions = {k: v for k, v in found.items() if (wanted is None or k[1][:2] in wanted)
                   and (students is None or k[0] in students)}
    if not submissions:
        raise ValueError(f"no submissions for lab(s) {sorted(wanted or [])} in {submissions_dir}.")
    ro, links = _system_binds()
    bwrap = None
    out = Path(out_dir or paths.build_dir() / "grading").resolve()
    nb_dir = Path(notebooks_dir or (paths.project_root() or Path.cwd()) / "notebooks").resolve()
    if sandbox:
        bwrap = find_bwrap()
        data = ((env or {}).get("LABUTILS_DATA_DIR") or os.environ.get("LABUTILS_DATA_DIR", "")).strip()
        _check_exposure(ro + ([os.path.expanduser(data)] if data else []),
                        [nb_dir, root.resolve(), out, paths.build_dir()])
        _check_sandbox(bwrap, ro, links)
    else:
        print("WARNING: grading WITHOUT the sandbox (--no-sandbox): student code runs as your user and can read "
              "the solutions, change grades and reach the network. Use it only for trusted notebooks.",
              file=sys.stderr, flush=True)
    # Every submission is read (and checked) before any runs.
    texts = {k: _read_submission(p, root) for k, p in submissions.items()}
    work = Path(tempfile.mkdtemp(prefix="grading-", dir=paths.build_dir()))
    try:
        lab_list = sorted({name[:2] for _, name in submissions})
        course = assemble_course(work / "course", labs=lab_list, notebooks_dir=notebooks_dir)
        known = {p.name for p in (course / "source").iterdir()}
        unknown = sorted({name for _, name in submissions} - known)
        if unknown:
            raise ValueError(f"submitted lab(s) {unknown} do not match a lab notebook; known: {sorted(known)}.")
        run_nbgrader(["generate_assignment", "*", "--force"], course)
        facts = {}
        for name in {name for _, name in submissions}:
            source = nbformat.read(course / "source" / name / f"{name}.ipynb", 4)
            n_code = sum(c.cell_type == "code" for c in source.cells)
            facts[name] = (*_lab_facts(source), float(total_timeout or max(300.0, cell_timeout * n_code)))
        lock = threading.Lock()

        def one(key):
            student, name = key
            text, reason = texts[key]
            if text is None:
                g = Grade(student, name, 0.0, _max_score(course, name), status="rejected", message=reason)
            else:
                imports, packages, hidden, limit = facts[name]
                box = work / "students" / student / name
                spec = _sandbox_spec(box, sandbox=sandbox, bwrap=bwrap, ro=ro, links=links, env=env, limits=limits,
                                     cell_timeout=cell_timeout, notebook_timeout=limit, imports=imports,
                                     packages=packages)
                spec["hidden"] = hidden
                g = _grade_one(course, box, student, name, text, spec=spec, cell_timeout=cell_timeout)
                _rmtree(box)
            with lock:
                print(f"{student} / {name}: {g.score:g} / {g.max_score:g} points, {g.status} in {g.seconds:.0f} s"
                      + (f": {g.message}" if g.message else ""), flush=True)
            return g

        order = sorted(submissions, key=lambda k: (k[1], k[0]))
        print(f"grading {len(order)} submission(s), {jobs} at a time"
              + (" in bubblewrap sandboxes" if sandbox else " WITHOUT a sandbox"), flush=True)
        if jobs == 1:
            grades = [one(k) for k in order]
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
                grades = list(pool.map(one, order))
        _write(out, grades)
        return grades
    finally:
        _rmtree(work)


def _write(out: Path, grades):
    shutil.rmtree(out / "feedback", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(GRADES_COLUMNS)
        for g in grades:
            w.writerow([g.assignment, "", "", g.student, "", "", "", g.score, 0.0, g.score, g.max_score,
                        g.status, f"{g.seconds:.1f}", g.message])
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


def merge_results(out_dir, parts) -> int:
    """Join the results of several grading runs (e.g. one per student, from a batch array job) into one.

    Each part is a directory written by :func:`grade` (``grades.csv``, ``grades_by_cell.csv``,
    ``feedback/``). ``out_dir`` receives the union, rows sorted by lab then student, written by
    this process alone.

    Args:
        out_dir: where to write (created; its ``feedback/`` is replaced).
        parts: the part directories, at least one.

    Returns:
        The number of grade rows written.

    Raises:
        FileNotFoundError: a part has no ``grades.csv`` (its job did not finish: re-run it).
        ValueError: no parts; a part's CSV header is not the grader's; the same student and lab
            appear in two parts; a feedback path that is a link or not a file.
    """
    parts = [Path(p) for p in parts]
    if not parts:
        raise ValueError("parts must name at least one grading output directory; got none.")
    rows, cells, pages, seen = [], [], {}, {}
    for part in parts:
        grades_csv = part / "grades.csv"
        if not grades_csv.is_file():
            raise FileNotFoundError(f"{grades_csv} is missing: that part's grading did not finish.")
        with open(grades_csv, newline="") as f:
            reader = csv.reader(f)
            if tuple(next(reader, ())) != GRADES_COLUMNS:
                raise ValueError(f"{grades_csv}: the header is not {','.join(GRADES_COLUMNS)}.")
            for row in reader:
                key = (row[0], row[3])
                if key in seen:
                    raise ValueError(f"{key[1]} / {key[0]} is graded in both {seen[key]} and {part}.")
                seen[key] = part
                rows.append(row)
        by_cell = part / "grades_by_cell.csv"
        if by_cell.is_file():
            with open(by_cell, newline="") as f:
                reader = csv.reader(f)
                if next(reader, None) != ["assignment", "student_id", "cell", "score", "max_score"]:
                    raise ValueError(f"{by_cell}: not a grades_by_cell.csv written by the grader.")
                cells.extend(reader)
        feedback = part / "feedback"
        if feedback.is_dir():
            for page in feedback.rglob("*"):
                if page.is_symlink() or not (page.is_dir() or page.is_file()):
                    raise ValueError(f"{page}: feedback must be plain files and folders.")
                if page.is_file():
                    pages[page.relative_to(feedback)] = page
    out = Path(out_dir)
    shutil.rmtree(out / "feedback", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r[0], r[3]))
    cells.sort(key=lambda r: (r[0], r[1], r[2]))
    with open(out / "grades.csv", "w", newline="") as f:
        csv.writer(f).writerows([GRADES_COLUMNS, *rows])
    with open(out / "grades_by_cell.csv", "w", newline="") as f:
        csv.writer(f).writerows([["assignment", "student_id", "cell", "score", "max_score"], *cells])
    for rel, page in sorted(pages.items()):
        (out / "feedback" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, out / "feedback" / rel)
    return len(rows)


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
        ValueError: a notebook object without ``cwd``, or a ``cwd`` that is not a
            directory; a ``timeout`` that is not positive and finite.
        TypeError: a ``timeout`` that is not a number; ``env`` not a dict of strings.
    """
    timeout = _seconds(timeout, "timeout")
    if env is not None and (not isinstance(env, dict)
                            or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise TypeError(f"env must be a dict of strings {{name: value}}; got {env!r}.")
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


def _positive_seconds(text):
    """argparse type: a positive, finite number of seconds (the check of :func:`_seconds`)."""
    try:
        return _seconds(float(text), "the value")
    except ValueError as exc:  # float('soon') or _seconds' own refusal
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of seconds; got {text!r}") from exc


def _positive_int(text):
    """argparse type: a positive whole number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number; got {text!r}")
    return value


def main(argv=None) -> int:
    """Command line: ``release`` and ``grade`` (see the module docstring). Returns the exit status (2 for bad
    arguments or input, 1 when a submission was not graded normally)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write the student versions")
    rel.add_argument("--lab", action="append", help="lab number, e.g. 01 (repeatable; default all)")
    rel.add_argument("--out", default="release")
    grd = sub.add_parser("grade", help="autograde submitted/{student}/{lab}/{lab}.ipynb")
    grd.add_argument("submissions")
    grd.add_argument("--lab", action="append")
    grd.add_argument("--out", default=None, help="default build/grading")
    grd.add_argument("--cell-timeout", type=_positive_seconds, default=600,
                     help="seconds per cell, rounded up to whole seconds (default 600)")
    grd.add_argument("--timeout", type=_positive_seconds, default=None,
                     help="seconds per notebook (default: per cell x cells, at least 300)")
    grd.add_argument("--jobs", type=_positive_int, default=1, help="submissions graded at once (default 1)")
    grd.add_argument("--memory-gb", type=_positive_seconds, default=None,
                     help="memory per kernel process, GiB (RLIMIT_DATA; default 8)")
    grd.add_argument("--no-sandbox", action="store_true",
                     help="UNSAFE: run student code without bubblewrap, as your user")
    grd.add_argument("--notebooks", default=None,
                     help="the instructor's notebooks with solutions and hidden tests (default: notebooks/)")
    grd.add_argument("--student", action="append",
                     help="grade only this student (repeatable); one per array task on a batch system")
    mrg = sub.add_parser("merge", help="join grading outputs (e.g. one per student) into one grades.csv")
    mrg.add_argument("out")
    mrg.add_argument("parts", nargs="+")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage and the error
        return int(exc.code or 0)
    given = getattr(args, "lab", None)
    labs = [lab for item in given for lab in item.replace(",", " ").split()] if given else None
    start = time.perf_counter()
    try:
        if args.command == "release":
            for p in release(args.out, labs=labs):
                print(f"wrote {p}")
            print(f"release took {time.perf_counter() - start:.1f} s")
            return 0
        if args.command == "merge":
            n = merge_results(args.out, args.parts)
            with open(Path(args.out) / "grades.csv", newline="") as f:
                statuses = [row["status"] for row in csv.DictReader(f)]
            print(f"wrote {Path(args.out) / 'grades.csv'}: {n} rows from {len(args.parts)} part(s)")
            return 0 if all(s == "graded" for s in statuses) else 1
        limits = Limits(memory_bytes=int(args.memory_gb * 2**30)) if args.memory_gb else None
        grades = grade(args.submissions, args.out, labs=labs, cell_timeout=args.cell_timeout,
                       total_timeout=args.timeout, jobs=args.jobs, sandbox=not args.no_sandbox, limits=limits,
                       students=args.student, notebooks_dir=args.notebooks)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out or paths.build_dir() / "grading")
    print(f"\nwrote {out / 'grades.csv'}, grades_by_cell.csv and feedback/; grading took "
          f"{time.perf_counter() - start:.1f} s")
    return 0 if all(g.status == "graded" for g in grades) else 1


if __name__ == "__main__":
    sys.exit(main())
