"""Run labs under several seeds and print each metric per seed: the numbers the bars are set from.

    python benchmarks/seeds.py --lab 01 --lab 02 --seeds 0 1 2 --profile full

Each seed runs in its own build directory (build/seeds/<profile>/seed<N>/), so cached models and results
of different seeds never mix; within a seed the labs run in order, so lab 02 reuses lab 01's model.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", action="append", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", choices=("full", "quick"), default="full")
    args = parser.parse_args(argv)
    per_seed = {}
    for seed in args.seeds:
        build = ROOT / "build" / "seeds" / args.profile / f"seed{seed}"
        env = dict(os.environ, LABS_SEED=str(seed), LABUTILS_BUILD_DIR=str(build))
        cmd = [sys.executable, "-m", "labutils.runner", "--profile", args.profile]
        for lab in args.lab:
            cmd += ["--lab", lab]
        print(f"seed {seed}: {' '.join(cmd)}", flush=True)
        subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
        per_seed[seed] = json.loads((build / "results.json").read_text())
    print(f"\n{args.profile} profile, seeds {args.seeds}\n")
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
    failed = [(s, r["lab"], r["status"]) for s, recs in per_seed.items() for r in recs if r["status"] != "passed"]
    for s, lab, status in failed:
        print(f"seed {s} lab {lab}: {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
