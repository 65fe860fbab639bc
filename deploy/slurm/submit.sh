#!/bin/bash
# Grade a class on a SLURM cluster: one array task per student (deploy/slurm/grade-array.sbatch), then one job
# that merges their parts once every task has ended (deploy/slurm/merge.sbatch).
#   deploy/slurm/submit.sh SUBMISSIONS OUT [grade options, e.g. --lab 01 --cell-timeout 600]
# MAX_PARALLEL=n caps the tasks running at once; SBATCH_ARGS adds sbatch options (e.g. --partition=short).
# Prints the two job ids. Run it from a checkout installed with `make install` on a shared file system.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: deploy/slurm/submit.sh SUBMISSIONS OUT [grade options]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
genlabs=$(cd "$here/../.." && pwd)
subs=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
root=$subs
[ -d "$subs/submitted" ] && root=$subs/submitted
find "$root" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | LC_ALL=C sort > "$out/students.txt"
n=$(wc -l < "$out/students.txt")
if [ "$n" -eq 0 ]; then
    echo "error: no student folders in $root (expected submitted/{student}/{lab}/{lab}.ipynb)" >&2
    exit 2
fi
export GENLABS="$genlabs" SUBMISSIONS="$subs" OUT="$out" STUDENTS="$out/students.txt" GRADE_ARGS="$*"
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL ${SBATCH_ARGS:-} --array="0-$((n - 1))${MAX_PARALLEL:+%$MAX_PARALLEL}" \
    "$here/grade-array.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL ${SBATCH_ARGS:-} --dependency="afterany:$array" "$here/merge.sbatch")
echo "grading $n students: array job $array, merge job ${merge%%;*} (results in $out/grades.csv)"
