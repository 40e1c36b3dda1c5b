# MicroPython thread benchmarks, run by ../bench.py on the rthread and the stock layer.
#
#   micropython threads.py <lock|start|queue> [scale]
#
# Prints "elapsed_us <n>": the time of the measured part only (not start-up or exit).
#   lock   4 threads x 100,000 acquire/release of one _thread lock
#   start  1,000 threads started, each waited for
#   queue  a producer and a consumer passing 100,000 items through a lock-protected list

import sys
import time
import _thread

mode = sys.argv[1]
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0


class Done:
    # Counts finished threads; wait() returns once `n` have finished.
    def __init__(self, n):
        self.n = n
        self.count = 0
        self.lock = _thread.allocate_lock()
        self.all_done = _thread.allocate_lock()
        self.all_done.acquire()

    def finish(self):
        with self.lock:
            self.count += 1
            last = self.count == self.n
        if last:
            self.all_done.release()

    def wait(self):
        self.all_done.acquire()


def bench_lock():
    threads = 4
    n = int(100000 * scale)
    lock = _thread.allocate_lock()
    go = _thread.allocate_lock()
    go.acquire()
    done = Done(threads)

    def worker():
        go.acquire()
        go.release()
        for _ in range(n):
            lock.acquire()
            lock.release()
        done.finish()

    for _ in range(threads):
        _thread.start_new_thread(worker, ())
    t0 = time.ticks_us()
    go.release()
    done.wait()
    return time.ticks_diff(time.ticks_us(), t0)


def bench_start():
    n = int(1000 * scale)
    t0 = time.ticks_us()
    for _ in range(n):
        done = Done(1)
        _thread.start_new_thread(done.finish, ())
        done.wait()
    return time.ticks_diff(time.ticks_us(), t0)


def bench_queue():
    n = int(100000 * scale)
    items = []
    lock = _thread.allocate_lock()
    done = Done(2)
    received = [0]

    def producer():
        for i in range(n):
            with lock:
                items.append(i)
        done.finish()

    def consumer():
        got = 0
        total = 0
        while got < n:
            with lock:
                if items:
                    total += items.pop(0)
                    got += 1
        received[0] = total
        done.finish()

    t0 = time.ticks_us()
    _thread.start_new_thread(consumer, ())
    _thread.start_new_thread(producer, ())
    done.wait()
    elapsed = time.ticks_diff(time.ticks_us(), t0)
    if received[0] != n * (n - 1) // 2:
        print("FAIL: items lost")
        sys.exit(1)
    return elapsed


elapsed = {"lock": bench_lock, "start": bench_start, "queue": bench_queue}[mode]()
print("elapsed_us", elapsed)
