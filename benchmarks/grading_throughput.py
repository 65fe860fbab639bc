"""Measure autograding throughput: submissions per hour, and per hour per core, for JOBS=1, 2, ...

    python benchmarks/grading_throughput.py --lab 01 --profile quick --submissions 4 --jobs 1 2
    python benchmarks/grading_throughput.py --lab 01 --profile full --submissions 2 --jobs 1 2 --class-size 300

Each submission is lab N's student version (nbgrader's release) with every exercise answered by the instructor's
solution, so every one runs the whole notebook and should score full marks; they are graded as `make grade`
does (a bubblewrap sandbox per notebook, the profile given), once per --jobs value. The table gives the wall
time, submissions per hour, per hour per core used (min(jobs, cores)) and the projection for --class-size
submissions of this lab. Run it alone on the machine (LABUTILS_DATA_DIR as for `make run`).
"""
import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STUB = re.compile(r"^([ \t]*)# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)[ \t]*$", re.M)
REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)


def solved(student_nb, source_nb):
    """The student version with each stub replaced by the instructor's solution region of the same cell."""
    import nbformat

    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in source_nb.cells}
    nb = nbformat.from_dict(student_nb)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not (gid and cell.metadata["nbgrader"].get("solution")):
            continue
        regions = [m.group(1).rstrip("\n") for m in REGION.finditer(by_id[gid])]
        stubs = STUB.findall(cell.source)
        if len(regions) != len(stubs):
            raise ValueError(f"cell {gid}: {len(regions)} solution regions but {len(stubs)} stubs")
        answers = iter(regions)
        cell.source = STUB.sub(lambda m: next(answers), cell.source)
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="01")
    parser.add_argument("--profile", choices=("quick", "full"), default="quick")
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--class-size", type=int, default=300)
    parser.add_argument("--cell-timeout", type=float, default=900)
    args = parser.parse_args(argv)
    if args.submissions < 1 or min(args.jobs) < 1 or args.class_size < 1:
        parser.error("--submissions, --jobs and --class-size must be positive")

    import nbformat

    from labutils import grading

    lab = f"{int(args.lab):02d}"
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="throughput-", dir=ROOT / "build"))
    os.environ.setdefault("LABUTILS_BUILD_DIR", str(work / "build"))
    (released,) = grading.release(work / "release", labs=[lab], course_dir=work / "course")
    source = nbformat.read(next((ROOT / "notebooks").glob(f"{lab}_*.ipynb")), 4)
    submission = solved(nbformat.read(released, 4), source)
    name = released.stem
    subs = work / "submitted"
    for i in range(args.submissions):
        path = subs / f"student{i:03d}" / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(submission, path)
    env = {"LABS_PROFILE": args.profile}
    if os.environ.get("LABUTILS_DATA_DIR"):
        env["LABUTILS_DATA_DIR"] = os.environ["LABUTILS_DATA_DIR"]
    rows = []
    for jobs in args.jobs:
        start = time.perf_counter()
        grades = grading.grade(subs, work / f"out-jobs{jobs}", labs=[lab], cell_timeout=args.cell_timeout,
                               env=env, jobs=jobs)
        took = time.perf_counter() - start
        full_marks = sum(g.status == "graded" and g.score == g.max_score for g in grades)
        per_hour = args.submissions / took * 3600
        used = min(jobs, cores)
        rows.append((jobs, took, per_hour, per_hour / used, full_marks,
                     sum(g.seconds for g in grades) / len(grades)))
    print(f"\nlab {name}, {args.profile} profile, {args.submissions} submissions, {cores} cores\n")
    print("| JOBS | wall time (s) | s per submission (own) | submissions / hour | per hour per core "
          f"| full marks | {args.class_size} submissions on this machine (h) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for jobs, took, per_hour, per_core, full_marks, own in rows:
        print(f"| {jobs} | {took:.0f} | {own:.0f} | {per_hour:.0f} | {per_core:.0f} | "
              f"{full_marks}/{args.submissions} | {args.class_size / per_hour:.1f} |")
    return 0 if all(r[4] == args.submissions for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
