"""Grading at class scale: one student per job (``grade --student``), parts joined by ``merge``, and the SLURM
route in deploy/slurm/ run end to end with a stand-in ``sbatch`` that executes each job at once (these machines
have no SLURM cluster; the scripts, the per-student jobs and the merge are what is tested). Uses the tiny lab of
tests/test_grading_sandbox.py: the grades must equal those of one ``grade`` call on one machine."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_grading_sandbox import HONEST, LAB, answers, run_grade, submit, table

from labutils import grading

ROOT = Path(__file__).resolve().parents[1]
SLURM = ROOT / "deploy" / "slurm"

FAKE_SBATCH = r"""#!/bin/bash
# stand-in for SLURM's sbatch: runs the job at once with this environment (--export=ALL), every array task in turn
array=""; script=""
for a in "$@"; do
    case "$a" in --array=*) array=${a#--array=} ;; --*) ;; *) script=$a ;; esac
done
echo "$*" >> "$FAKE_LOG"
if [ -n "$array" ]; then
    range=${array%%\%*}
    for i in $(seq "${range%-*}" "${range#*-}"); do
        SLURM_ARRAY_TASK_ID=$i bash "$script" > "$FAKE_LOG.task$i" 2>&1 || echo "task $i exit $?" >> "$FAKE_LOG"
    done
    echo "1001"
else
    bash "$script" > "$FAKE_LOG.merge" 2>&1 || echo "merge exit $?" >> "$FAKE_LOG"
    echo "1002;cluster"
fi
"""


@pytest.fixture(scope="module")
def bwrap_needed():
    if not grading.shutil.which("bwrap"):
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail("bubblewrap is not installed (CI=true: fails instead of skipping)")
        pytest.skip("bubblewrap (bwrap) is not installed")


@pytest.fixture(scope="module")
def place(tmp_path_factory, bwrap_needed):
    import nbformat
    from test_grading_sandbox import box_lab

    root = tmp_path_factory.mktemp("batch")
    (root / "notebooks").mkdir()
    nbformat.write(box_lab(), root / "notebooks" / f"{LAB}.ipynb")
    (root / "build").mkdir()
    subs = root / "class"
    for student, given in HONEST.items():
        submit(subs, student, answers(given))
    submit(subs, "z_text", text="not a notebook")  # a 'rejected' row must travel through the merge too
    return root, subs


@pytest.fixture(scope="module")
def one_machine(place):
    root, subs = place
    grades, _ = run_grade(root, subs, root / "one-machine", jobs=1)
    return table(grades)


def _rows(path):
    with open(path, newline="") as f:
        return {(r["student_id"], r["assignment"]): (r["status"], float(r["score"])) for r in csv.DictReader(f)}


def test_one_student_per_call_and_merge_give_the_one_machine_grades(place, one_machine, tmp_path):
    root, subs = place
    parts = []
    for student in sorted(one_machine):
        grades, _ = run_grade(root, subs, tmp_path / student, jobs=1, students=[student])
        assert [g.student for g in grades] == [student]
        parts.append(tmp_path / student)
    assert grading.merge_results(tmp_path / "merged", parts) == len(one_machine)
    merged = _rows(tmp_path / "merged" / "grades.csv")
    assert merged == {(s, LAB): (status, score) for s, (status, score, _) in one_machine.items()}
    assert (tmp_path / "merged" / "feedback" / "z_full" / LAB / f"{LAB}.html").is_file()
    with open(tmp_path / "merged" / "grades_by_cell.csv", newline="") as f:
        assert {(r["student_id"], r["cell"]) for r in csv.DictReader(f)} >= {("z_full", "ex1-test"), ("z_part", "ex2-test")}


def test_grade_refuses_students_who_submitted_nothing(place, tmp_path):
    root, subs = place
    with pytest.raises(ValueError, match=r"student\(s\) \['nobody'\] have no submission"):
        run_grade(root, subs, tmp_path / "x", students=["nobody"])
    with pytest.raises(ValueError, match="students must be a non-empty list"):
        run_grade(root, subs, tmp_path / "x", students="z_full")


def test_merge_refuses_duplicates_missing_parts_and_foreign_csv(place, one_machine, tmp_path):
    root, _ = place
    part = root / "one-machine"
    with pytest.raises(ValueError, match="is graded in both"):
        grading.merge_results(tmp_path / "m", [part, part])
    with pytest.raises(FileNotFoundError, match="did not finish"):
        grading.merge_results(tmp_path / "m", [part, tmp_path / "never-ran"])
    with pytest.raises(ValueError, match="at least one"):
        grading.merge_results(tmp_path / "m", [])
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "grades.csv").write_text("student,score\nada,3\n")
    with pytest.raises(ValueError, match="header is not"):
        grading.merge_results(tmp_path / "m", [foreign])
    assert not (tmp_path / "m" / "grades.csv").exists()


def test_merge_command_exits_1_when_a_row_is_not_graded(place, one_machine, tmp_path, capsys):
    root, _ = place
    assert grading.main(["merge", str(tmp_path / "m"), str(root / "one-machine")]) == 1  # z_text is 'rejected'
    assert "4 rows from 1 part(s)" in capsys.readouterr().out


def _fake_sbatch(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "sbatch").chmod(0o755)
    return bin_dir


def test_slurm_route_end_to_end_with_a_stand_in_sbatch(place, one_machine, tmp_path):
    root, subs = place
    bin_dir = _fake_sbatch(tmp_path)
    log = tmp_path / "sbatch.log"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_LOG=str(log), MAX_PARALLEL="2",
               LABUTILS_BUILD_DIR=str(root / "build"), PYTHON=sys.executable)
    out = tmp_path / "out"
    result = subprocess.run(["bash", str(SLURM / "submit.sh"), str(subs), str(out), "--cell-timeout", "20",
                             "--notebooks", str(root / "notebooks")], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "grading 4 students: array job 1001, merge job 1002" in result.stdout
    calls = log.read_text()
    assert "--array=0-3%2" in calls and "--dependency=afterany:1001" in calls, calls
    # z_text (task 3) is 'rejected': its task and the merge exit with 1, as `make grade` would; nothing else fails
    assert [line for line in calls.splitlines() if "exit" in line] == ["task 3 exit 1", "merge exit 1"], calls
    assert (out / "students.txt").read_text().split() == sorted(one_machine)
    assert _rows(out / "grades.csv") == {(s, LAB): (st, sc) for s, (st, sc, _) in one_machine.items()}
    # a task that never finished stops the merge, naming the student
    (out / "parts" / "z_part" / "grades.csv").unlink()
    merge = subprocess.run(["bash", str(SLURM / "merge.sbatch")], capture_output=True, text=True, cwd=tmp_path,
                           env=dict(env, GENLABS=str(ROOT), OUT=str(out), STUDENTS=str(out / "students.txt")))
    assert merge.returncode == 2 and "z_part" in merge.stderr, merge.stderr


def test_slurm_scripts_refuse_to_run_outside_submit(tmp_path):
    for script in ("grade-array.sbatch", "merge.sbatch"):
        env = {k: v for k, v in os.environ.items() if k not in ("GENLABS", "OUT", "STUDENTS", "SUBMISSIONS")}
        env["SLURM_ARRAY_TASK_ID"] = "0"
        r = subprocess.run(["bash", str(SLURM / script)], env=env, capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 2 and "is not set" in r.stderr, (script, r.stderr)
    r = subprocess.run(["bash", str(SLURM / "submit.sh"), str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_container_image_copies_what_exists_and_installs_like_make_install():
    text = (ROOT / "Dockerfile").read_text()
    sources = [word for line in text.splitlines() if line.startswith("COPY ") for word in line.split()[1:-1]]
    assert sources and all((ROOT / s).exists() for s in sources), sources
    for needed in ("bubblewrap", "-r requirements.txt", "--no-deps -e .", 'ENTRYPOINT ["python", "-m", "labutils.grading"]'):
        assert needed in text, needed
    make = (ROOT / "Makefile").read_text()
    assert "-r requirements.txt" in make and "--no-deps -e ." in make
