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
Last, it prints the second round's targets, each from same-run ratios (condition ping-pong
against pthread, nsync and absl; the contention share and throughput at 2-64 threads; the
semaphore pair in every run; throughput at the most threads against the best point; the idle
pool's round trip against the semaphore ping-pong), with "met" or "MISSED".
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


def per_run(runs, row, impl, threads=None):
    """Each run's median of one point (None where the run lacks it)."""
    out = []
    for run in runs:
        v = None
        for r in run:
            if r["row"] == row and r["impl"] == impl and (threads is None or int(r["threads"]) == threads):
                v = num(r["median"])
        out.append(v)
    return out


def run_ratios(runs, row, a, b, threads=None):
    """Same-run ratios a / b over the runs that have both."""
    xs, ys = per_run(runs, row, a, threads), per_run(runs, row, b, threads)
    return [x / y for x, y in zip(xs, ys) if x is not None and y]


def spread(vals):
    if not vals:
        return "not measured"
    return f"{statistics.median(vals):.2f} ({min(vals):.2f}-{max(vals):.2f})"


def targets(runs):
    """The second round's targets, each from same-run ratios: median (range) over the runs."""
    print("\n== targets (same-run ratios: median (range over the runs))")
    lines = []

    def verdict(ok):
        return "met" if ok else "MISSED"

    # Condition ping-pong: <= 0.5x pthread and <= 1.0x nsync and absl.
    for anchor, bound in (("pthread", 0.5), ("nsync", 1.0), ("absl", 1.0)):
        r = run_ratios(runs, "cond-pingpong", "rthread", anchor, 2)
        if r:
            lines.append((f"condition ping-pong / {anchor} <= {bound}", spread(r),
                          verdict(statistics.median(r) <= bound)))
    # Lock contention: least-served share >= 0.85 at 2..64 threads, throughput >= 2x pthread.
    for t in (2, 4, 8, 16, 32, 64):
        shares = []
        for run in runs:
            for r in run:
                if r["row"] == "lock-contention" and r["impl"] == "rthread" and int(r["threads"]) == t:
                    v = num(r["share_median"])
                    if v is not None:
                        shares.append(v)
        r = run_ratios(runs, "lock-contention", "rthread", "pthread", t)
        if shares and r:
            ok = statistics.median(shares) >= 0.85 and statistics.median(r) <= 0.5
            lines.append((f"lock contention {t} threads: share >= 0.85, time <= 0.5x pthread",
                          f"share {spread(shares)}; time {spread(r)}", verdict(ok)))
    # Semaphore pair <= 0.95x sem_t in every run.
    for row in ("sem-pair", "paired/semaphore-pair"):
        r = run_ratios(runs, row, "rthread", "pthread")
        if r:
            lines.append((f"{row} / sem_t <= 0.95 in every run", spread(r), verdict(max(r) <= 0.95)))
    # No collapse: rthread's throughput at the most threads >= 0.5x its best point.
    for row in ("lock-contention", "queue-bounded", "cond-handoff"):
        kept = []
        for run in runs:
            pts = {int(r["threads"]): num(r["median"]) for r in run
                   if r["row"] == row and r["impl"] == "rthread" and num(r["median"])}
            if len(pts) > 1:
                most = max(pts)
                kept.append(min(pts.values()) / pts[most])
        if kept:
            lines.append((f"{row}: throughput at the most threads / best point >= 0.5", spread(kept),
                          verdict(statistics.median(kept) >= 0.5)))
    # Idle pool round trip <= 1.2x rthread's semaphore ping-pong (the paired row's ratio).
    r = run_ratios(runs, "paired/pool-round-trip", "rthread", "pthread")
    if r:
        lines.append(("pool submit->result, idle / semaphore ping-pong <= 1.2", spread(r),
                      verdict(statistics.median(r) <= 1.2)))
    width = max((len(l[0]) for l in lines), default=10)
    for what, measured, v in lines:
        print(f"{what:<{width}}  {measured:<45} {v}")


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
    targets(runs)
    print(f"\n{args.runs} runs in {time.time() - t_start:.0f} s; summary: {summary}")
    if not args.no_charts:
        subprocess.call([sys.executable, os.path.join(HERE, "chart.py"), summary, "-o",
                         os.path.join(args.out, "charts")])


if __name__ == "__main__":
    main()
