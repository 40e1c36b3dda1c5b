#!/usr/bin/env python3
"""Runs the same MicroPython thread benchmarks (bench/threads.py) on two interpreters, the
stock pthread layer and the rthread layer, alternating them run by run, and prints each
benchmark's median time on both and their ratio (rthread / stock: below 1.0, rthread is
faster).

    integrations/micropython/bench.py --stock <micropython> --rthread <micropython>
        [--runs 11] [--scale 1.0]

Build the interpreters with build.sh: `build.sh <src> <dir> --stock [--gil]` and
`build.sh <src> <dir> [--gil]` (see BENCHMARKS.md). Exits non-zero if a run fails.
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "bench", "threads.py")
BENCHES = [
    ("lock", "4 threads x 100,000 acquire/release of one lock"),
    ("start", "1,000 threads started and waited for"),
    ("queue", "producer/consumer, 100,000 items over a lock-protected list"),
]


def run(exe, mode, scale):
    out = subprocess.run([exe, SCRIPT, mode, str(scale)], capture_output=True, text=True,
                         timeout=600)
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 2 or words[0] != "elapsed_us":
        sys.exit(f"{exe} {mode}: status {out.returncode}\n{out.stdout}{out.stderr}")
    return int(words[1]) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stock", required=True)
    ap.add_argument("--rthread", required=True)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    print(f"| benchmark | stock (s, median of {args.runs}) | rthread (s) | ratio |")
    print("|---|---:|---:|---:|")
    for mode, what in BENCHES:
        times = {"stock": [], "rthread": []}
        for _ in range(args.runs):
            times["stock"].append(run(args.stock, mode, args.scale))
            times["rthread"].append(run(args.rthread, mode, args.scale))
        s = statistics.median(times["stock"])
        r = statistics.median(times["rthread"])
        print(f"| {what} | {s:.3f} | {r:.3f} | {r / s:.2f} |", flush=True)


if __name__ == "__main__":
    main()
