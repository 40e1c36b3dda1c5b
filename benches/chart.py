#!/usr/bin/env python3
"""SVG charts from the C benchmark's machine-readable output (standard library only).

    cargo run --release --example c_bench -- --quick --tsv results.tsv
    python3 benches/chart.py results.tsv -o benches/charts/

Every input is a TSV file written by `c_bench -- --tsv FILE` or by `benches/compare.py`
(its summary.tsv); when several lines describe the same (row, impl, threads), as with several
runs' files given together, the chart plots the median of their medians.

For every row measured at several thread counts (lock contention, condition hand-off, the
queues) it writes <row>.svg: throughput (operations per second, all threads together) against
the number of threads on a log scale, one line per implementation (rthread, pthread, nsync,
absl, glib, ...). Lock contention also gets lock-contention-fairness.svg (the least-served
thread's share). Rows measured at one thread count (lock pair, semaphore pair, condition
ping-pong, pool) go together in single.svg as bars of time per operation relative to pthread.

With --criterion DIR (criterion's output, target/criterion, after `cargo bench --bench queue`)
it also draws the Rust queue benches, where crossbeam-channel is measured:
criterion-queue-bounded.svg and criterion-queue-unbounded.svg (SPSC at 2 threads, 2P/2C at 4,
4P/4C at 8, 8P/8C at 16).
"""

import argparse
import json
import math
import os
import statistics
import sys
from xml.sax.saxutils import escape

COLOURS = {
    "rthread": "#d62728",
    "pthread": "#1f77b4",
    "nsync": "#2ca02c",
    "absl": "#9467bd",
    "glib": "#ff7f0e",
    "glib-asyncqueue": "#8c564b",
    "crossbeam": "#17becf",
    "std": "#7f7f7f",
    "rthread-core": "#f7a1a1",
}
OTHER = ["#7f7f7f", "#bcbd22", "#e377c2"]


def colour(impl, seen):
    if impl in COLOURS:
        return COLOURS[impl]
    if impl not in seen:
        seen[impl] = OTHER[len(seen) % len(OTHER)]
    return seen[impl]


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def read(paths):
    """{(row, impl, threads): {"median": [...], "share": [...], "unit": str}}"""
    data = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            header = None
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if header is None:
                    if cols[0] != "row":
                        sys.exit(f"{path}: not a c_bench TSV (no header line)")
                    header = {name: i for i, name in enumerate(cols)}
                    continue
                if len(cols) < len(header):
                    continue
                row, impl, threads = cols[0], cols[1], int(cols[2])
                d = data.setdefault((row, impl, threads), {"median": [], "share": [], "unit": cols[header["unit"]]})
                m = num(cols[header["median"]])
                if m is not None:
                    d["median"].append(m)
                s = num(cols[header["share_median"]])
                if s is not None:
                    d["share"].append(s)
    return data


# criterion group -> (row, threads); bench id -> impl
CRITERION_GROUPS = {
    "queue_spsc": ("criterion-queue-bounded", 2),
    "queue_2p2c": ("criterion-queue-bounded", 4),
    "queue_4p4c": ("criterion-queue-bounded", 8),
    "queue_8p8c": ("criterion-queue-bounded", 16),
    "queue_unbounded_spsc": ("criterion-queue-unbounded", 2),
    "queue_unbounded_2p2c": ("criterion-queue-unbounded", 4),
}


def criterion_impl(bench):
    for prefix, name in (("rthread_c_abi", "rthread"), ("rthread_core", "rthread-core"),
                         ("crossbeam", "crossbeam"), ("std_", "std"), ("pthread", "pthread")):
        if bench.startswith(prefix):
            return name
    return bench


def read_criterion(root, data):
    """Adds the queue groups' medians (ns per item) from criterion's estimates.json files."""
    for group, (row, threads) in CRITERION_GROUPS.items():
        gdir = os.path.join(root, group)
        if not os.path.isdir(gdir):
            continue
        for bench in sorted(os.listdir(gdir)):
            est = os.path.join(gdir, bench, "new", "estimates.json")
            if not os.path.isfile(est):
                continue
            with open(est, encoding="utf-8") as f:
                median = json.load(f)["median"]["point_estimate"]
            d = data.setdefault((row, criterion_impl(bench), threads), {"median": [], "share": [], "unit": "ns/op"})
            d["median"].append(median)


def nice_ceiling(v):
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def fmt(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.2f}".rstrip("0").rstrip(".")


W, H = 640, 400
L, R, T, B = 70, 150, 40, 50  # margins: the legend sits on the right


def svg_open(title):
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>",
    ]


def line_chart(title, ylabel, series, path, ymax=None):
    """series: {impl: [(threads, value)]}; x is log2(threads)."""
    xs = sorted({t for pts in series.values() for t, _ in pts})
    if not xs:
        return False
    top = ymax if ymax is not None else nice_ceiling(max(v for pts in series.values() for _, v in pts))
    lo, hi = math.log2(xs[0]), math.log2(xs[-1])
    span = hi - lo if hi > lo else 1.0
    pw, ph = W - L - R, H - T - B

    def px(t):
        return L + (math.log2(t) - lo) / span * pw

    def py(v):
        return T + ph - v / top * ph

    out = svg_open(title)
    for i in range(6):  # horizontal grid and y labels
        v = top * i / 5
        y = py(v)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(v)}</text>')
    for t in xs:
        x = px(t)
        out.append(f'<line x1="{x:.1f}" y1="{T + ph}" x2="{x:.1f}" y2="{T + ph + 5}" stroke="#333"/>')
        out.append(f'<text x="{x:.1f}" y="{T + ph + 18}" text-anchor="middle">{t}</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">threads</text>')
    out.append(
        f'<text x="16" y="{T + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {T + ph / 2})">{escape(ylabel)}</text>'
    )
    seen = {}
    for k, (impl, pts) in enumerate(sorted(series.items(), key=lambda kv: (kv[0] != "rthread", kv[0]))):
        c = colour(impl, seen)
        pts = sorted(pts)
        width = 3 if impl == "rthread" else 1.5
        d = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in pts)
        out.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="{width}"/>')
        for t, v in pts:
            out.append(f'<circle cx="{px(t):.1f}" cy="{py(v):.1f}" r="3" fill="{c}"/>')
        ly = T + 10 + 18 * k
        out.append(f'<line x1="{L + pw + 12}" y1="{ly}" x2="{L + pw + 32}" y2="{ly}" stroke="{c}" stroke-width="{width}"/>')
        out.append(f'<text x="{L + pw + 38}" y="{ly + 4}">{escape(impl)}</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return True


def bar_chart(title, bars, path):
    """bars: [(label, ratio, colour)], ratio = time / pthread's time."""
    if not bars:
        return False
    h = T + B + 18 * len(bars)
    top = nice_ceiling(max(r for _, r, _ in bars))
    left, pw = 250, W - 250 - 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" '
        f'viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{h}" fill="white"/>',
        f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    for i in range(6):
        v = top * i / 5
        x = left + v / top * pw
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{h - B + 5}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{h - B + 18}" text-anchor="middle">{fmt(v)}</text>')
    one = left + 1 / top * pw
    out.append(f'<line x1="{one:.1f}" y1="{T}" x2="{one:.1f}" y2="{h - B + 5}" stroke="#333" stroke-dasharray="4 3"/>')
    for k, (label, r, c) in enumerate(bars):
        y = T + 18 * k
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{r / top * pw:.1f}" height="13" fill="{c}"/>')
        out.append(f'<text x="{left + r / top * pw + 4:.1f}" y="{y + 12}">{fmt(r)}</text>')
    out.append(
        f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">'
        "time per operation ÷ pthread's (below 1: faster)</text>"
    )
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tsv", nargs="*", help="c_bench --tsv output or compare.py's summary.tsv")
    ap.add_argument("--criterion", metavar="DIR", help="criterion's output (target/criterion)")
    ap.add_argument("-o", "--out", default="benches/charts", help="output directory")
    args = ap.parse_args()
    data = read(args.tsv)
    if args.criterion:
        read_criterion(args.criterion, data)
    os.makedirs(args.out, exist_ok=True)
    rows = {}
    for (row, impl, threads), d in data.items():
        if row.startswith(("paired/", "guard", "memory")) or not d["median"]:
            continue
        rows.setdefault(row, {}).setdefault(impl, []).append(
            (threads, statistics.median(d["median"]), statistics.median(d["share"]) if d["share"] else None)
        )
    written = []
    bars = []
    seen = {}
    for row in sorted(rows):
        impls = rows[row]
        counts = {t for pts in impls.values() for t, _, _ in pts}
        if len(counts) > 1:
            series = {impl: [(t, 1e3 / m) for t, m, _ in pts if m > 0] for impl, pts in impls.items()}
            path = os.path.join(args.out, f"{row}.svg")
            if line_chart(f"{row}: throughput by threads (2 cores)", "million operations per second", series, path):
                written.append(path)
            if row == "lock-contention":
                shares = {
                    impl: [(t, s) for t, _, s in pts if s is not None and t > 1] for impl, pts in impls.items()
                }
                shares = {k: v for k, v in shares.items() if v}
                path = os.path.join(args.out, f"{row}-fairness.svg")
                if shares and line_chart(
                    "lock contention: least-served thread's share (1 = even)", "share of an even split", shares, path, 1.0
                ):
                    written.append(path)
        else:
            ref = [m for impl, pts in impls.items() if impl == "pthread" for _, m, _ in pts]
            if not ref:
                continue
            for impl, pts in sorted(impls.items(), key=lambda kv: (kv[0] != "rthread", kv[0])):
                for t, m, _ in pts:
                    bars.append((f"{row}: {impl}", m / ref[0], colour(impl, seen)))
    path = os.path.join(args.out, "single.svg")
    if bar_chart("rows at one thread count: time ÷ pthread", bars, path):
        written.append(path)
    for p in written:
        print(p)
    if not written:
        sys.exit("chart.py: nothing to chart in " + ", ".join(args.tsv + [args.criterion or ""]))


if __name__ == "__main__":
    main()
