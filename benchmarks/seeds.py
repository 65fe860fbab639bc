"""Run labs under several seeds and print each metric per seed: the numbers the bars are set from.

    python benchmarks/seeds.py --lab 01 --lab 02 --seeds 0 1 2 --profile full [--dataset fashion_mnist]

Each (data set, profile, seed, set of labs) runs in its own build directory
(build/seeds/<dataset>/<profile>/seed<N>-<labs>/), so cached models and results of different seeds, data sets
or concurrent runs never mix; within one run the labs execute in order, so lab 02 reuses lab 01's model.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_labs(labs, *, seed, profile, dataset, tag="seeds"):
    """Run ``labs`` in one fresh build directory; return the runner's records."""
    build = ROOT / "build" / tag / dataset / profile / f"seed{seed}-{'-'.join(labs)}"
    env = dict(os.environ, LABS_SEED=str(seed), LABUTILS_BUILD_DIR=str(build), LABS_DATASET=dataset)
    cmd = [sys.executable, "-m", "labutils.runner", "--profile", profile]
    for lab in labs:
        cmd += ["--lab", lab]
    print(f"{dataset} seed {seed}: {' '.join(cmd)}  (build: {build})", flush=True)
    subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    return json.loads((build / "results.json").read_text())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", action="append", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", choices=("full", "quick"), default="full")
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default=os.environ.get("LABS_DATASET") or "mnist")
    args = parser.parse_args(argv)
    labs = [f"{int(x):02d}" for item in args.lab for x in item.replace(",", " ").split()]
    per_seed = {seed: run_labs(labs, seed=seed, profile=args.profile, dataset=args.dataset) for seed in args.seeds}
    print(f"\n{args.dataset}, {args.profile} profile, seeds {args.seeds}\n")
    print("| lab | metric | " + " | ".join(f"seed {s}" for s in args.seeds) + " | bar |")
    print("|---|---|" + "---:|" * len(args.seeds) + "---|")
    first = per_seed[args.seeds[0]]
    for i, rec in enumerate(first):
        names = list(rec.get("metrics", {})) + ["wall time (s)"]
        for name in names:
            values = []
            for s in args.seeds:
                r = per_seed[s][i]
                v = r["wall_time_s"] if name == "wall time (s)" else r.get("metrics", {}).get(name)
                values.append("-" if v is None else f"{v:.4g}")
            bar = rec.get("bars", {}).get(name, {}).get("bar", "")
            print(f"| {rec['lab']} | {name} | " + " | ".join(values) + f" | {bar} |")
    failed = [(s, r["lab"], r["status"], r.get("error", "")) for s, recs in per_seed.items() for r in recs
              if r["status"] != "passed"]
    for s, lab, status, error in failed:
        print(f"seed {s} lab {lab}: {status} {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
