"""Execute the lab notebooks headless and collect their results table.

``make run`` calls ``python -m labutils.runner``::

    python -m labutils.runner                  # every lab, full profile
    python -m labutils.runner --lab 01 --profile quick

Each notebook in ``notebooks/NN_*.ipynb`` is executed with nbclient in a fresh
kernel (working directory ``notebooks/``, ``LABS_PROFILE`` set), the executed
copy is written to ``build/notebooks/``, and the record that the notebook's
``checks.report(...)`` saved in ``build/results/NN.json`` is joined with the
notebook's wall time into ``build/results.json`` and ``build/results.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from . import checks, paths, profile

__all__ = ["lab_numbers", "find_notebooks", "run_notebook", "run", "results_markdown", "main"]


def lab_numbers(labs) -> list[str]:
    """Lab numbers as two-digit strings: ``"01"``, ``"1"``, ``1`` or a list of them -> ``["01", ...]``.

    A single string or int is one lab (``"01"`` is lab 1, not labs 0 and 1).

    Raises:
        TypeError: an item that is not an int or a string (booleans and floats included).
        ValueError: an item that is not a whole number from 1 to 99.
    """
    if isinstance(labs, (str, int)) and not isinstance(labs, bool):
        labs = [labs]
    try:
        items = list(labs)
    except TypeError:
        raise TypeError(f"labs must be a lab number or a list of them; got {labs!r} ({type(labs).__name__}).") from None
    out = []
    for lab in items:
        if isinstance(lab, bool) or not isinstance(lab, (int, str)):
            raise TypeError(f"labs: each lab must be an int or a string like '01'; got {lab!r} ({type(lab).__name__}).")
        text = str(lab).strip()
        if not re.fullmatch(r"[0-9]+", text) or not 1 <= int(text) <= 99:
            raise ValueError(f"labs: each lab must be a number from 1 to 99 such as '01'; got {lab!r}.")
        out.append(f"{int(text):02d}")
    return out


def find_notebooks(notebooks_dir, labs=None) -> list[Path]:
    """The lab notebooks ``NN_*.ipynb`` in ``notebooks_dir``, sorted by number.

    Args:
        notebooks_dir: directory holding the notebooks.
        labs: optional iterable of lab numbers (``"01"``, ``"1"`` or ``1``) to keep.

    Returns:
        Sorted list of paths.

    Raises:
        FileNotFoundError: the directory does not exist.
        ValueError: a requested lab has no notebook, or is not a number from 1 to 99.
        TypeError: ``notebooks_dir`` not a str or Path; lab numbers of the wrong type.
    """
    if not isinstance(notebooks_dir, (str, os.PathLike)):
        raise TypeError(f"notebooks_dir must be a str or Path; got {notebooks_dir!r} ({type(notebooks_dir).__name__}).")
    d = Path(notebooks_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"notebook directory not found: {d}")
    found = sorted(p for p in d.glob("[0-9][0-9]_*.ipynb"))
    if labs is None:
        return found
    wanted = set(lab_numbers(labs))
    chosen = [p for p in found if p.name[:2] in wanted]
    missing = wanted - {p.name[:2] for p in chosen}
    if missing:
        raise ValueError(f"no notebook for lab(s) {sorted(missing)} in {d}; found {[p.name for p in found]}.")
    return chosen


def run_notebook(path, out_dir, *, timeout: int = 3600) -> dict:
    """Execute one notebook and return its record.

    The kernel inherits this process's environment (so ``LABS_PROFILE`` and
    ``LABUTILS_DATA_DIR`` apply) and starts in the notebook's directory.

    Args:
        path: the ``.ipynb`` to run, named ``NN_name.ipynb`` (``NN`` names its
            results file ``build/results/NN.json``).
        out_dir: where the executed copy is written (even if a cell fails).
        timeout: seconds allowed per cell, a positive int.

    Returns:
        ``{"lab", "notebook", "profile", "wall_time_s", "status", "error", ...}``
        plus the ``metrics``/``bars``/``passed`` that the notebook reported
        (``status`` is ``"passed"``, ``"failed"`` (a cell raised, e.g. a missed
        bar) or ``"no results"`` (ran but reported nothing)).

    Raises:
        ValueError: a file name that is not ``NN_name.ipynb``; a non-positive ``timeout``.
        TypeError: a ``timeout`` that is not an int (booleans included).
    """
    path = Path(path)
    if not re.fullmatch(r"[0-9]{2}_[A-Za-z0-9_.-]*\.ipynb", path.name):
        raise ValueError(f"path must name a lab notebook NN_name.ipynb (NN names build/results/NN.json); "
                         f"got {path.name!r}.")
    timeout = _timeout(timeout)
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    lab = path.name[:2]
    result_file = checks.results_dir() / f"{lab}.json"
    result_file.unlink(missing_ok=True)
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(path, as_version=4)
    error = ""
    with tempfile.TemporaryDirectory(prefix="labutils-kernel-") as sockets:
        # Local IPC sockets on Linux/macOS: no "kernel is running over TCP" warning, no open ports.
        km = (KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
              if os.name == "posix" else KernelManager(kernel_name="python3"))
        client = NotebookClient(nb, km=km, timeout=timeout,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # drop the traceback's colours
            error = text.splitlines()[-1] if text else repr(exc)
        except Exception as exc:  # kernel died, timeout, ...
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=False)
        wall = time.perf_counter() - start
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    from . import backends, data

    record = {"lab": lab, "notebook": path.name, "profile": profile.name(), "dataset": data.dataset_name(),
              "backend": backends.name(), "wall_time_s": round(wall, 1)}
    if result_file.is_file():
        saved = json.loads(result_file.read_text())
        record.update({k: v for k, v in saved.items() if k not in record})
    if error:
        record["status"], record["error"] = "failed", error
    elif not result_file.is_file():
        record["status"], record["error"] = "no results", "the notebook did not call checks.report(...)"
    elif not record.get("passed"):  # a miss reported without raising (LABS_STRICT=0)
        missed = [n for n, b in record.get("bars", {}).items() if not b.get("passed")]
        record["status"] = "failed"
        record["error"] = f"missed bars: {', '.join(missed)}" if missed else "no bars for this data set and profile"
    else:
        record["status"], record["error"] = "passed", ""
    return record


def _timeout(value) -> int:
    from . import _validate

    return _validate.bounded_int(value, "timeout", 7 * 24 * 3600, "seconds per cell; a week at most")


def results_markdown(records) -> str:
    """The results table (Markdown) for a list of :func:`run_notebook` records.

    Raises:
        TypeError: ``records`` is not a list of dicts. ValueError: a record lacks
            ``lab``, ``notebook``, ``profile``, ``wall_time_s`` or ``status``.
    """
    if isinstance(records, (str, bytes, dict)) or not isinstance(records, (list, tuple)):
        raise TypeError(f"records must be a list of run_notebook records (dicts); got {type(records).__name__}.")
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise TypeError(f"records[{i}] must be a dict (a run_notebook record); got {type(r).__name__}.")
        missing = [k for k in ("lab", "notebook", "profile", "wall_time_s", "status") if k not in r]
        if missing:
            raise ValueError(f"records[{i}] lacks {missing}; a run_notebook record has them all.")
    lines = ["| lab | notebook | data set | profile | backend | wall time (s) | status |",
             "|---|---|---|---|---|---:|---|"]
    for r in records:
        lines.append(f"| {r['lab']} | {r['notebook']} | {r.get('dataset', '')} | {r['profile']} | "
                     f"{r.get('backend', '')} | {r['wall_time_s']:.1f} | {r['status']} |")
    for r in records:
        lines += ["", f"### Lab {r['lab']}: {r.get('title') or r['notebook']} ({r['profile']} profile, {r['wall_time_s']:.1f} s)"]
        if r.get("data"):
            lines.append(f"Data: {r['data']}")
        if r.get("error"):
            lines.append(f"Error: `{r['error']}`")
        if r.get("metrics"):
            lines += ["", "| metric | value | bar | met |", "|---|---:|---|---|"]
            bars = r.get("bars", {})
            for name, value in r["metrics"].items():
                bar = bars.get(name, {})
                met = ("yes" if bar.get("passed") else "NO") if bar else ""
                lines.append(f"| {name} | {value:.4g} | {bar.get('bar', '')} | {met} |")
    return "\n".join(lines) + "\n"


def run(labs=None, profile_name: str | None = None, notebooks_dir=None, timeout: int = 3600) -> list[dict]:
    """Execute the chosen notebooks and write ``build/results.{json,md}``.

    Args:
        labs: lab numbers to run (default: all).
        profile_name: ``"full"`` or ``"quick"``; default the active profile. A
            given profile is set as ``LABS_PROFILE`` in this process's
            environment, which the notebook kernels inherit. Relative
            ``LABUTILS_DATA_DIR`` and ``LABUTILS_BUILD_DIR`` are made absolute
            there too (the kernels start in the notebooks' directory).
        notebooks_dir: default ``<checkout>/notebooks``.
        timeout: seconds per cell, a positive int.

    Returns:
        The list of records (see :func:`run_notebook`).

    Raises:
        ValueError: unknown profile or lab; a non-positive ``timeout``; an
            unusable ``LABUTILS_BUILD_DIR`` (named in the message).
        TypeError: a ``timeout`` that is not an int; lab numbers of the wrong type.
    """
    timeout = _timeout(timeout)
    if labs is not None:
        lab_numbers(labs)  # refuse bad lab numbers before the environment is changed
    if profile_name is not None:
        if profile_name not in profile.PROFILES:
            raise ValueError(f"profile must be one of {profile.PROFILES}; got {profile_name!r}.")
        os.environ[profile.ENV_VAR] = profile_name
    checks.strict()  # refuse a malformed LABS_STRICT before any notebook runs
    os.environ.setdefault(checks.STRICT_ENV, "1")  # a missed bar fails its notebook (strict), as in CI
    # The kernels start in notebooks/: relative data and build directories given here would point elsewhere there.
    for var in ("LABUTILS_DATA_DIR", paths.BUILD_DIR_ENV):
        value = os.environ.get(var, "").strip()
        if value:
            os.environ[var] = str(Path(value).expanduser().resolve())
    root = paths.project_root() or Path.cwd()
    nb_dir = Path(notebooks_dir) if notebooks_dir else root / "notebooks"
    build = paths.build_dir()
    records = []
    for nb in find_notebooks(nb_dir, labs):
        print(f"running {nb.name} ({profile.name()} profile) ...", flush=True)
        rec = run_notebook(nb, build / "notebooks", timeout=timeout)
        print(f"  {rec['status']} in {rec['wall_time_s']:.1f} s" + (f": {rec['error']}" if rec["error"] else ""), flush=True)
        records.append(rec)
    (build / "results.json").write_text(json.dumps(records, indent=2) + "\n")
    (build / "results.md").write_text(results_markdown(records))
    return records


def main(argv=None) -> int:
    """Command line: ``python -m labutils.runner [--lab NN ...] [--profile full|quick]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", action="append", help="lab number, e.g. 01 (repeatable; default all)")
    parser.add_argument("--profile", choices=profile.PROFILES, help="default: $LABS_PROFILE or full")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    labs = None
    if args.lab:
        labs = [lab for item in args.lab for lab in item.replace(",", " ").split()]
    records = run(labs, args.profile, timeout=args.timeout)
    print()
    print(results_markdown(records))
    print(f"written: {paths.build_dir() / 'results.md'} and results.json")
    return 0 if records and all(r["status"] == "passed" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
