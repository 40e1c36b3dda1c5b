#!/usr/bin/env python3
"""CPython's ThreadPoolExecutor on the C benchmark's pool rows, for the ratio to rthread.

The C benchmark (benches/c/bench.c, `cargo run --release --example c_bench`) times:

  pool: empty task, 2 workers    n empty tasks submitted to a pool of 2 workers, then every
                                 result collected (n = 1,000,000)
  pool: submit->result, idle     submit then result, one task at a time, on a pool of 1
                                 worker that exists already (n = 20,000)

This script times the same with CPython's concurrent.futures.ThreadPoolExecutor, in the same
way (one untimed round of n/10 + 1 first, then the median of the rounds, per task), and prints
each row as the C benchmark prints it:

  operation                        CPython      rthread   ratio   reference

with CPython's time per task in the first column. The rthread column and the ratio (CPython /
rthread: how many times faster rthread is; the target for the first row is at least 50) are
filled in from the C benchmark's output when it is given with --c-bench FILE (its rows are
found by name), else left as "-".

Usage:
  python3 benches/python/futures_cpython.py              # quick: n = 20,000 and 2,000, 3 rounds
  python3 benches/python/futures_cpython.py --full       # the C benchmark's sizes, 11 rounds
  python3 benches/python/futures_cpython.py -n 100000 --rounds 5 --c-bench c_bench.txt

Figures are worth recording only on a quiet machine.
"""

import argparse
import concurrent.futures
import platform
import statistics
import sys
import time

TASKS_ROW = "pool: empty task, 2 workers"
ROUND_TRIP_ROW = "pool: submit->result, idle"

FULL_TASKS = 1_000_000
FULL_ROUND_TRIPS = 20_000
FULL_ROUNDS = 11  # the C benchmark's ROUNDS


def empty_task():
    return None


def pool_tasks(n):
    """n empty tasks through 2 workers, every result collected; total nanoseconds."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="bench") as ex:
        t0 = time.perf_counter_ns()
        fs = [ex.submit(empty_task) for _ in range(n)]
        for f in fs:
            f.result()
        t = time.perf_counter_ns() - t0
    return t


def pool_round_trip(n):
    """submit -> result, one at a time, on a pool whose one worker exists; total nanoseconds."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench") as ex:
        ex.submit(empty_task).result()  # the worker exists
        t0 = time.perf_counter_ns()
        for _ in range(n):
            ex.submit(empty_task).result()
        t = time.perf_counter_ns() - t0
    return t


def measure(fn, n, rounds):
    """Median nanoseconds per task, after one untimed round of n/10 + 1 (as bench.c does)."""
    fn(n // 10 + 1)
    return statistics.median(fn(n) / n for _ in range(rounds))


def c_bench_rows(path):
    """{row name: rthread nanoseconds per operation} from the C benchmark's output."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            for name in (TASKS_ROW, ROUND_TRIP_ROW):
                if not line.startswith(name):
                    continue
                fields = line[len(name):].split()
                # "<rthread> <unit> <pthread> <unit> <ratio> <reference...>"
                if len(fields) >= 2:
                    value, unit = float(fields[0]), fields[1]
                    rows[name] = value * 1000.0 if unit == "us" else value
    return rows


def fmt_time(ns):
    # bench.c's units: microseconds from 1,000 ns up, else nanoseconds.
    if ns >= 1000.0:
        return "%9.2f us" % (ns / 1000.0)
    return "%9.2f ns" % ns


def row(name, cpython_ns, rthread_ns, reference):
    if rthread_ns is None:
        return "%-30s %s %12s %7s   %s" % (name, fmt_time(cpython_ns), "-", "-", reference)
    return "%-30s %s %s %7.2f   %s" % (
        name,
        fmt_time(cpython_ns),
        fmt_time(rthread_ns),
        cpython_ns / rthread_ns,
        reference,
    )


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=20_000,
                   help="tasks for the first row (default 20,000; --full: 1,000,000)")
    p.add_argument("--round-trips", type=int, default=2_000,
                   help="round trips for the second row (default 2,000; --full: 20,000)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, median taken (default 3)")
    p.add_argument("--full", action="store_true",
                   help="the C benchmark's sizes and rounds (1,000,000 / 20,000, 11 rounds)")
    p.add_argument("--c-bench", metavar="FILE",
                   help="the C benchmark's output, for the rthread column and the ratio")
    args = p.parse_args(argv)
    if args.full:
        args.n, args.round_trips, args.rounds = FULL_TASKS, FULL_ROUND_TRIPS, FULL_ROUNDS
    if args.n < 1 or args.round_trips < 1 or args.rounds < 1:
        p.error("sizes and rounds must be at least 1")
    rthread = c_bench_rows(args.c_bench) if args.c_bench else {}

    version = "%s %s" % (platform.python_implementation(), platform.python_version())
    print("medians of %d rounds; ratio = CPython / rthread (above 1: rthread is faster)" %
          args.rounds)
    print("tasks: %d; round trips: %d; %s" % (args.n, args.round_trips, version))
    print()
    print("%-30s %12s %12s %7s   %s" % ("operation", "CPython", "rthread", "ratio", "reference"))
    sys.stdout.flush()
    t = measure(pool_tasks, args.n, args.rounds)
    print(row(TASKS_ROW, t, rthread.get(TASKS_ROW),
              "ThreadPoolExecutor(2), every result collected (target: ratio >= 50)"))
    sys.stdout.flush()
    t = measure(pool_round_trip, args.round_trips, args.rounds)
    print(row(ROUND_TRIP_ROW, t, rthread.get(ROUND_TRIP_ROW),
              "ThreadPoolExecutor(1), submit().result()"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
