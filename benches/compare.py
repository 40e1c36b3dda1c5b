#!/usr/bin/env python3
"""The whole C comparison, several times: medians and ranges over the runs (standard library
only).

    python3 benches/compare.py                  # 5 quick runs (about 12 minutes on 2 cores)
    python3 benches/compare.py --runs 3 queue   # rows whose names contain "queue"
    python3 benches/compare.py --full           # the full sizes (much longer)

Each run is `cargo run --release --example c_bench -- --quick --tsv OUT/run-K.tsv` (its
human table goes to OUT/run-K.txt). The summary gives, for every row, thread count and
implementation, the median over the runs of each run's median, the range of those medians,
the ratio to pthread's median of the same run (median and range over the runs), the CPU time
per operation and the least-served share; it is printed and written to OUT/summary.tsv, which
benches/chart.py turns into SVG charts in OUT/charts/ (done at the end unless --no-charts).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = None
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if header is None:
                header = cols
                continue
            if len(cols) == len(header):
                rows.append(dict(zip(header, cols)))
    return rows


def fmt_value(v, unit):
    if v is None:
        return "-"
    if unit.startswith("bytes"):
        return f"{v / 1048576:.1f} MiB" if v >= 1048576 else f"{v:.0f} B"
    if unit == "ratio":
        return f"{v:.2f}"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} us"
    return f"{v:.2f} ns"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--full", action="store_true", help="full sizes, not --quick")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "bench-compare"))
    ap.add_argument("--no-charts", action="store_true")
    ap.add_argument("filters", nargs="*", help="passed to c_bench: row names to keep")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    runs = []
    t_start = time.time()
    for k in range(1, args.runs + 1):
        tsv = os.path.join(args.out, f"run-{k}.tsv")
        txt = os.path.join(args.out, f"run-{k}.txt")
        cmd = ["cargo", "run", "--quiet", "--release", "--example", "c_bench", "--"]
        cmd += [] if args.full else ["--quick"]
        cmd += ["--tsv", tsv] + args.filters
        t0 = time.time()
        with open(txt, "w", encoding="utf-8") as out:
            rc = subprocess.call(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        if rc != 0:
            sys.exit(f"compare.py: run {k} failed (exit {rc}); see {txt}")
        print(f"run {k}/{args.runs}: {time.time() - t0:.0f} s ({txt})", flush=True)
        runs.append(read_tsv(tsv))

    # (row, impl, threads) -> per-run values
    acc = {}
    order = []  # rows in the order they first appear, then their points in order
    for run in runs:
        for r in run:
            key = (r["row"], r["impl"], int(r["threads"]))
            if key not in acc:
                acc[key] = {"unit": r["unit"], "median": [], "ratio": [], "cpu": [], "share": [], "worst": []}
                order.append(key)
            a = acc[key]
            for field, col in (("median", "median"), ("ratio", "ratio_pthread"), ("cpu", "cpu_ns"),
                               ("share", "share_median"), ("worst", "share_worst")):
                v = num(r[col])
                if v is not None:
                    a[field].append(v)

    rank = {}
    for key in order:
        rank.setdefault(key[0], len(rank))
    order.sort(key=lambda k: rank[k[0]])  # stable: each row's points keep their order

    summary = os.path.join(args.out, "summary.tsv")
    with open(summary, "w", encoding="utf-8") as f:
        f.write("row\timpl\tthreads\tunit\tmedian\tmin\tmax\tcpu_ns\tratio_pthread\tshare_median\t"
                "share_worst\tratio_min\tratio_max\truns\n")
        last_row = None
        for key in order:
            row, impl, threads = key
            a = acc[key]
            if not a["median"]:
                continue
            med = statistics.median(a["median"])
            lo, hi = min(a["median"]), max(a["median"])
            cpu = statistics.median(a["cpu"]) if a["cpu"] else None
            ratio = statistics.median(a["ratio"]) if a["ratio"] else None
            share = statistics.median(a["share"]) if a["share"] else None
            worst = min(a["worst"]) if a["worst"] else None

            def cell(v, spec="{:.4f}"):
                return "-" if v is None else spec.format(v)

            f.write("\t".join([row, impl, str(threads), a["unit"], f"{med:.3f}", f"{lo:.3f}", f"{hi:.3f}",
                               cell(cpu, "{:.3f}"), cell(ratio), cell(share), cell(worst),
                               cell(min(a["ratio"]) if a["ratio"] else None),
                               cell(max(a["ratio"]) if a["ratio"] else None), str(len(a["median"]))]) + "\n")
            if row != last_row:
                print(f"\n== {row}")
                print(f"{'threads':>7} {'impl':<16} {'median':>11} {'range of run medians':>25} "
                      f"{'cpu/op':>11} {'ratio (range)':>20} {'share (worst)':>14}")
                last_row = row
            ratio_s = "" if ratio is None else f"{ratio:.2f} ({min(a['ratio']):.2f}-{max(a['ratio']):.2f})"
            share_s = "" if share is None else f"{share:.2f} ({worst:.2f})"
            print(f"{threads:>7} {impl:<16} {fmt_value(med, a['unit']):>11} "
                  f"{fmt_value(lo, a['unit']) + ' - ' + fmt_value(hi, a['unit']):>25} "
                  f"{fmt_value(cpu, 'ns/op') if cpu is not None else '-':>11} {ratio_s:>20} {share_s:>14}")
    print(f"\n{args.runs} runs in {time.time() - t_start:.0f} s; summary: {summary}")
    if not args.no_charts:
        subprocess.call([sys.executable, os.path.join(HERE, "chart.py"), summary, "-o",
                         os.path.join(args.out, "charts")])


if __name__ == "__main__":
    main()
