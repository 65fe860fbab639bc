"""Run labs on chosen data sets and Keras backends; print one table: wall time, seconds per gradient step, metrics, bars.

    python benchmarks/scale.py --dataset mnist --dataset fashion_mnist --profile full          # every lab
    python benchmarks/scale.py --lab 01 --lab 07 --dataset fashion_mnist --profile quick --seed 1
    python benchmarks/scale.py --lab 04 --lab 07 --backend tensorflow --backend jax --backend torch --profile quick

Per data set and backend the labs run in order in one build directory
(build/scale/<backend>/<dataset>/<profile>/seed<N>/; backend "tensorflow" unless --backend is given), as
`make run` runs them (lab 02 reuses lab 01's autoencoder; the judge is trained once). A lab's seconds per
gradient step are those it reports as the metric "main model: seconds per step" (its main model's training
time over its gradient steps); "-" where a lab reports none. Needs LABUTILS_DATA_DIR for offline data.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP_METRIC = "main model: seconds per step"
BUDGETS = {"full": 600.0, "quick": 60.0}  # seconds per lab on 2 cores


def run(dataset, labs, profile, seed, backend="tensorflow"):
    build = ROOT / "build" / "scale" / backend / dataset / profile / f"seed{seed}"
    env = dict(os.environ, LABS_SEED=str(seed), LABUTILS_BUILD_DIR=str(build), LABS_DATASET=dataset,
               KERAS_BACKEND=backend)
    cmd = [sys.executable, "-m", "labutils.runner", "--profile", profile]
    for lab in labs or []:
        cmd += ["--lab", lab]
    print(f"{dataset}, {backend}: {' '.join(cmd)}  (build: {build})", flush=True)
    subprocess.run(cmd, env=env, cwd=ROOT, check=False)
    return json.loads((build / "results.json").read_text())


def table(results, profile):
    budget = BUDGETS[profile]
    lines = [f"| data set | backend | lab | wall time (s) | within {budget:.0f} s | s per step | status |",
             "|---|---|---|---:|---|---:|---|"]
    for (dataset, backend), records in results.items():
        for r in records:
            per_step = r.get("metrics", {}).get(STEP_METRIC)
            lines.append(f"| {dataset} | {backend} | {r['lab']} | {r['wall_time_s']:.0f} | "
                         f"{'yes' if r['wall_time_s'] <= budget else 'NO'} | "
                         f"{'-' if per_step is None else f'{per_step:.4f}'} | {r['status']} |")
    for (dataset, backend), records in results.items():
        total = sum(r["wall_time_s"] for r in records)
        lines.append(f"\n{dataset}, {backend}: {len(records)} labs in {total / 60:.1f} min")
    lines += ["", "| data set | backend | lab | metric | value | bar | met |", "|---|---|---|---|---:|---|---|"]
    for (dataset, backend), records in results.items():
        for r in records:
            bars = r.get("bars", {})
            for name, value in r.get("metrics", {}).items():
                bar = bars.get(name, {})
                met = ("yes" if bar.get("passed") else "NO") if bar else ""
                lines.append(f"| {dataset} | {backend} | {r['lab']} | {name} | {value:.4g} | {bar.get('bar', '')} | "
                             f"{met} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", action="append", help="lab number (repeatable; default every lab)")
    parser.add_argument("--dataset", action="append", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--profile", choices=("full", "quick"), default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", action="append", choices=("tensorflow", "jax", "torch"),
                        help="Keras backend (repeatable; default tensorflow); JAX and PyTorch need "
                             "`make install BACKEND=jax|torch`")
    args = parser.parse_args(argv)
    labs = [f"{int(x):02d}" for item in args.lab for x in item.replace(",", " ").split()] if args.lab else None
    backends = args.backend or ["tensorflow"]
    results = {(d, b): run(d, labs, args.profile, args.seed, b) for b in backends for d in (args.dataset or ["mnist"])}
    text = table(results, args.profile)
    print("\n" + text)
    out = ROOT / "build" / "scale" / f"table-{args.profile}-seed{args.seed}-{'-'.join(backends)}.md"
    out.write_text(text + "\n")
    print(f"\nwritten: {out}")
    over = [r for recs in results.values() for r in recs
            if r["status"] != "passed" or r["wall_time_s"] > BUDGETS[args.profile]]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
