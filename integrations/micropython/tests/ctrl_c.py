# Ctrl-C on a main thread blocked in lock.acquire(), with other threads hammering locks.
#
# Run by tests/micropython.rs, which drives it: for each round the script prints
# "waiting <n>", then blocks forever in acquire() of a lock it already holds; the driver waits
# until the main thread sleeps, sends SIGINT, and expects "interrupted <n>" within a second.
# After each interrupt the script checks that everything still works: the same lock can be
# released and taken again, and the hammering threads still make progress. At the end it stops
# the threads, waits for them and prints "done <rounds> <operations>".
#
#   micropython ctrl_c.py [rounds]      (default 20)

import sys
import time
import _thread

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
HAMMERS = 3

blocker = _thread.allocate_lock()
shared = [_thread.allocate_lock(), _thread.allocate_lock()]
state_lock = _thread.allocate_lock()
counts = [0] * HAMMERS
stop = False
finished = 0


def hammer(i):
    global finished
    lock = shared[i % 2]
    n = 0
    while not stop:
        lock.acquire()
        n += 1
        lock.release()
        if n % 64 == 0:
            counts[i] = n
    with state_lock:
        counts[i] = n
        finished += 1


def progress():
    return sum(counts)


# Everything after the threads start runs in main(), on local names: in the build without a
# GIL (sys.implementation._thread == 'unsafe') a new global name may grow the module's dict
# while the threads look up `stop` in it, and MicroPython leaves such a race to the program
# (a lookup during the resize can fail with NameError).
def main():
    global stop
    for i in range(HAMMERS):
        _thread.start_new_thread(hammer, (i,))

    blocker.acquire()
    for n in range(rounds):
        print("waiting", n)
        try:
            blocker.acquire()  # held already: blocks until Ctrl-C
            print("FAIL: acquire returned")
            sys.exit(1)
        except KeyboardInterrupt:
            print("interrupted", n)
        # The lock is intact: still held (by this thread's earlier acquire), releasable, and free
        # to take again at once.
        if not blocker.locked():
            print("FAIL: lock lost its state")
            sys.exit(1)
        blocker.release()
        if not blocker.acquire(0):
            print("FAIL: lock cannot be taken again")
            sys.exit(1)
        # The other threads still run: their count moves within a second.
        before = progress()
        deadline = time.ticks_add(time.ticks_ms(), 1000)
        while progress() == before and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            time.sleep_ms(1)
        if progress() == before:
            print("FAIL: the other threads stopped")
            sys.exit(1)

    stop = True
    deadline = time.ticks_add(time.ticks_ms(), 5000)
    while True:
        with state_lock:
            if finished == HAMMERS:
                break
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            print("FAIL: threads did not finish")
            sys.exit(1)
        time.sleep_ms(1)
    blocker.release()
    print("done", rounds, progress())


main()
