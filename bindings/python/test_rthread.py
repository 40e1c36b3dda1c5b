"""The Python binding's suite: CPython's Lib/test/lock_tests.py behaviours, and those of
threading.Thread and queue, run against rthread through ctypes.

    cd bindings/python && RTHREAD_LIB=../../target/debug/librthread.so \
        python3 -m unittest -v test_rthread

(`cargo test --test python_binding` runs it against the freshly built library.) Instead of
sleeping "long enough" for threads to block, the tests count the threads asleep in rthread
with its blocking hooks, and wait for that count.
"""

import gc
import queue
import sys
import threading
import time
import unittest
import weakref

import rthread

SHORT = 10.0  # the bound for anything that should happen at once


def wait_until(predicate, timeout=SHORT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        time.sleep(0.001)


class Sleepers:
    """Counts the threads asleep in rthread right now (through rt_set_blocking_hooks)."""

    def __init__(self):
        self.count = 0

    def __enter__(self):
        def before():
            self.count += 1

        def after():
            self.count -= 1

        rthread.set_blocking_hooks(before, after)
        return self

    def __exit__(self, *exc):
        rthread.set_blocking_hooks(None, None)

    def wait_for(self, n):
        wait_until(lambda: self.count >= n)


class Bunch:
    """`n` threads started with rthread.start_new_thread, each running `func`; leaving the
    `with` block waits until all have finished. Exceptions are collected and re-raised."""

    def __init__(self, func, n, wait_before_exit=False):
        self.func, self.n = func, n
        self.started, self.finished, self.exceptions = [], [], []
        self._can_exit = not wait_before_exit

    def _task(self):
        self.started.append(rthread.get_ident())
        try:
            self.func()
        except BaseException as e:  # noqa: BLE001 - reported by __exit__
            self.exceptions.append(e)
        finally:
            self.finished.append(rthread.get_ident())
            wait_until(lambda: self._can_exit)

    def __enter__(self):
        for _ in range(self.n):
            rthread.start_new_thread(self._task, ())
        wait_until(lambda: len(self.started) >= self.n)
        return self

    def __exit__(self, *exc):
        self._can_exit = True
        wait_until(lambda: len(self.finished) >= self.n)
        if self.exceptions:
            raise self.exceptions[0]

    def do_finish(self):
        self._can_exit = True


class BaseTestCase(unittest.TestCase):
    def setUp(self):
        self._threads = rthread._lib.rt_thread_count()

    def tearDown(self):
        # Every thread a test started has ended (no thread leaks): _thread._count().
        wait_until(lambda: rthread._lib.rt_thread_count() <= self._threads)

    def assertTimeout(self, actual, expected):
        self.assertGreaterEqual(actual, expected)  # rthread never returns early
        self.assertLess(actual, expected * 10 + 1.0)


class BaseLockTests:
    """Tests for Lock and RLock (mixed into LockTests and RLockTests)."""

    def test_constructor(self):
        lock = self.locktype()
        del lock

    def test_repr(self):
        lock = self.locktype()
        self.assertRegex(repr(lock), "<unlocked .* object (.*)?at .*>")
        lock.acquire()
        self.assertRegex(repr(lock), "<locked .* object (.*)?at .*>")
        lock.release()

    def test_acquire_destroy(self):
        lock = self.locktype()
        lock.acquire()
        del lock  # a held lock may be destroyed

    def test_acquire_release(self):
        lock = self.locktype()
        self.assertIs(lock.acquire(), True)
        lock.release()

    def test_try_acquire(self):
        lock = self.locktype()
        self.assertTrue(lock.acquire(False))
        lock.release()

    def test_try_acquire_contended(self):
        lock = self.locktype()
        lock.acquire()
        result = []
        with Bunch(lambda: result.append(lock.acquire(False)), 1):
            pass
        self.assertFalse(result[0])
        lock.release()

    def test_acquire_contended(self):
        lock = self.locktype()
        lock.acquire()

        def f():
            lock.acquire()
            lock.release()

        n = 5
        with Sleepers() as sleepers:
            with Bunch(f, n) as bunch:
                sleepers.wait_for(n)
                self.assertEqual(len(bunch.finished), 0)
                lock.release()
        self.assertEqual(len(bunch.finished), n)

    def test_with(self):
        lock = self.locktype()

        def f():
            lock.acquire()
            lock.release()

        with lock:
            pass
        with Bunch(f, 1):
            pass
        with self.assertRaises(TypeError):
            with lock:
                raise TypeError
        with Bunch(f, 1):  # released by the with block despite the exception
            pass

    def test_thread_leak(self):
        lock = self.locktype()

        def f():
            lock.acquire()
            lock.release()

        with Bunch(f, 15):
            pass

    def test_timeout(self):
        lock = self.locktype()
        self.assertRaises(ValueError, lock.acquire, False, 1)
        self.assertRaises(ValueError, lock.acquire, timeout=-100)
        self.assertRaises(OverflowError, lock.acquire, timeout=1e100)
        self.assertRaises(OverflowError, lock.acquire, timeout=rthread.TIMEOUT_MAX + 1)
        self.assertRaises(ValueError, lock.acquire, timeout=float("nan"))
        self.assertRaises(TypeError, lock.acquire, timeout=None)
        lock.acquire(timeout=rthread.TIMEOUT_MAX)
        lock.release()
        t1 = time.monotonic()
        self.assertTrue(lock.acquire(timeout=5))
        self.assertLess(time.monotonic() - t1, 5)
        results = []

        def f():
            t1 = time.monotonic()
            results.append(lock.acquire(timeout=0.5))
            results.append(time.monotonic() - t1)

        with Bunch(f, 1):
            pass
        self.assertFalse(results[0])
        self.assertTimeout(results[1], 0.5)

    def test_error_messages(self):
        lock = self.locktype()
        with self.assertRaisesRegex(ValueError, "^can't specify a timeout for a non-blocking call$"):
            lock.acquire(False, 1)
        with self.assertRaisesRegex(ValueError, "^timeout value must be a non-negative number$"):
            lock.acquire(timeout=-2)
        with self.assertRaisesRegex(OverflowError, "^timestamp out of range for platform time_t$"):
            lock.acquire(timeout=1e100)

    def test_weakref(self):
        lock = self.locktype()
        ref = weakref.ref(lock)
        self.assertIsNotNone(ref())
        del lock
        gc.collect()
        self.assertIsNone(ref())


class LockTests(BaseLockTests, BaseTestCase):
    locktype = rthread.Lock

    def test_reacquire(self):
        # A Lock has no owner: a second acquire blocks until someone releases it.
        lock = self.locktype()
        phase = []

        def f():
            lock.acquire()
            phase.append(None)
            lock.acquire()
            phase.append(None)

        with Sleepers() as sleepers:
            with Bunch(f, 1):
                wait_until(lambda: len(phase) == 1)
                sleepers.wait_for(1)
                self.assertEqual(len(phase), 1)
                lock.release()
                wait_until(lambda: len(phase) == 2)

    def test_different_thread(self):
        lock = self.locktype()
        lock.acquire()
        with Bunch(lock.release, 1):
            pass
        lock.acquire()
        lock.release()

    def test_state_after_timeout(self):
        # Issue #11618: the lock is in a proper state after a timed-out acquire.
        lock = self.locktype()
        lock.acquire()
        self.assertFalse(lock.acquire(timeout=0.01))
        lock.release()
        self.assertFalse(lock.locked())
        self.assertTrue(lock.acquire(blocking=False))

    def test_release_unlocked(self):
        lock = self.locktype()
        with self.assertRaisesRegex(RuntimeError, "^release unlocked lock$"):
            lock.release()

    def test_allocate_lock(self):
        self.assertIsInstance(rthread.allocate_lock(), rthread.Lock)


class RLockTests(BaseLockTests, BaseTestCase):
    locktype = rthread.RLock

    def test_reacquire(self):
        lock = self.locktype()
        lock.acquire()
        lock.acquire()
        lock.release()
        lock.acquire()
        lock.release()
        lock.release()

    def test_release_unacquired(self):
        lock = self.locktype()
        with self.assertRaisesRegex(RuntimeError, "^cannot release un-acquired lock$"):
            lock.release()
        lock.acquire()
        lock.acquire()
        lock.release()
        lock.acquire()
        lock.release()
        lock.release()
        self.assertRaises(RuntimeError, lock.release)

    def test_recursion_count(self):
        lock = self.locktype()
        self.assertEqual(0, lock._recursion_count())
        lock.acquire()
        lock.acquire()
        lock.acquire()
        self.assertEqual(3, lock._recursion_count())
        lock.release()
        self.assertEqual(2, lock._recursion_count())
        lock.release()
        lock.release()
        self.assertEqual(0, lock._recursion_count())
        phase = []

        def f():
            lock.acquire()
            phase.append(None)
            wait_until(lambda: len(phase) == 2)
            lock.release()

        with Bunch(f, 1):
            wait_until(lambda: len(phase) == 1)
            self.assertEqual(0, lock._recursion_count())  # another thread's count
            phase.append(None)

    def test_different_thread(self):
        lock = self.locktype()
        with Bunch(lock.acquire, 1, True) as bunch:
            try:
                self.assertRaises(RuntimeError, lock.release)
            finally:
                bunch.do_finish()

    def test__is_owned(self):
        lock = self.locktype()
        self.assertFalse(lock._is_owned())
        lock.acquire()
        self.assertTrue(lock._is_owned())
        lock.acquire()
        result = []
        with Bunch(lambda: result.append(lock._is_owned()), 1):
            pass
        self.assertFalse(result[0])
        lock.release()
        self.assertTrue(lock._is_owned())
        lock.release()
        self.assertFalse(lock._is_owned())


class EventTests(BaseTestCase):
    def test_is_set(self):
        evt = rthread.Event()
        self.assertFalse(evt.is_set())
        evt.set()
        self.assertTrue(evt.is_set())
        evt.set()
        self.assertTrue(evt.is_set())
        evt.clear()
        self.assertFalse(evt.is_set())

    def _check_notify(self, evt):
        n = 5
        results1, results2 = [], []

        def f():
            results1.append(evt.wait())
            results2.append(evt.wait())

        with Sleepers() as sleepers:
            with Bunch(f, n):
                sleepers.wait_for(n)
                self.assertEqual(len(results1), 0)
                evt.set()
        self.assertEqual(results1, [True] * n)
        self.assertEqual(results2, [True] * n)

    def test_notify(self):
        evt = rthread.Event()
        self._check_notify(evt)
        evt.set()
        evt.clear()
        self._check_notify(evt)

    def test_timeout(self):
        evt = rthread.Event()
        results1, results2 = [], []
        n = 5

        def f():
            results1.append(evt.wait(0.0))
            t1 = time.monotonic()
            r = evt.wait(0.5)
            results2.append((r, time.monotonic() - t1))

        with Bunch(f, n):
            pass
        self.assertEqual(results1, [False] * n)
        for r, dt in results2:
            self.assertFalse(r)
            self.assertTimeout(dt, 0.5)
        results1, results2 = [], []
        evt.set()
        with Bunch(f, n):
            pass
        self.assertEqual(results1, [True] * n)
        self.assertEqual([r for r, _ in results2], [True] * n)

    def test_negative_and_nan_timeouts_return_at_once(self):
        evt = rthread.Event()
        t1 = time.monotonic()
        self.assertFalse(evt.wait(-1))
        self.assertFalse(evt.wait(float("nan")))
        self.assertLess(time.monotonic() - t1, SHORT)
        self.assertRaises(OverflowError, evt.wait, 1e10)

    def test_set_and_clear(self):
        # gh-57711: wait() returns True even if the event is cleared before the waiter wakes.
        event = rthread.Event()
        results = []
        n = 5
        with Sleepers() as sleepers:
            with Bunch(lambda: results.append(event.wait(60)), n):
                sleepers.wait_for(n)
                event.set()
                event.clear()
        self.assertEqual(results, [True] * n)

    def test_repr(self):
        evt = rthread.Event()
        self.assertRegex(repr(evt), r"<\w+\.Event at .*: unset>")
        evt.set()
        self.assertRegex(repr(evt), r"<\w+\.Event at .*: set>")


class ConditionTests(BaseTestCase):
    def test_acquire(self):
        cond = rthread.Condition()
        cond.acquire()  # an RLock by default: re-entrant
        cond.acquire()
        cond.release()
        cond.release()
        lock = rthread.Lock()
        cond = rthread.Condition(lock)
        cond.acquire()
        self.assertFalse(lock.acquire(False))
        cond.release()
        self.assertTrue(lock.acquire(False))
        self.assertFalse(cond.acquire(False))
        lock.release()
        with cond:
            self.assertFalse(lock.acquire(False))

    def test_unacquired_wait(self):
        cond = rthread.Condition()
        with self.assertRaisesRegex(RuntimeError, "^cannot wait on un-acquired lock$"):
            cond.wait()

    def test_unacquired_notify(self):
        cond = rthread.Condition()
        with self.assertRaisesRegex(RuntimeError, "^cannot notify on un-acquired lock$"):
            cond.notify()

    def _check_notify(self, cond):
        # Waiters block in cond.wait(); notify(3) releases exactly three, notify(5) the rest
        # (in their first or second wait), notify_all every one. No spurious wake-ups.
        ready, results1, results2 = [], [], []
        phase = [0]

        def f():
            cond.acquire()
            ready.append(phase[0])
            result = cond.wait()
            cond.release()
            results1.append((result, phase[0]))
            cond.acquire()
            ready.append(phase[0])
            result = cond.wait()
            cond.release()
            results2.append((result, phase[0]))

        n = 5
        with Sleepers() as sleepers:
            with Bunch(f, n):
                wait_until(lambda: len(ready) >= n)
                sleepers.wait_for(n)
                ready.clear()
                self.assertEqual(results1, [])
                count1 = 3
                cond.acquire()
                cond.notify(count1)
                phase[0] = 1
                cond.release()
                wait_until(lambda: len(results1) >= count1)
                self.assertEqual(results1, [(True, 1)] * count1)
                self.assertEqual(results2, [])
                wait_until(lambda: len(ready) >= count1)
                sleepers.wait_for(n)
                cond.acquire()
                cond.notify(5)
                phase[0] = 2
                cond.release()
                count2 = n - count1
                wait_until(lambda: len(results1) + len(results2) >= n + count1)
                self.assertEqual(results1, [(True, 1)] * count1 + [(True, 2)] * count2)
                self.assertEqual(results2, [(True, 2)] * count1)
                wait_until(lambda: len(ready) >= n)
                sleepers.wait_for(count2)
                cond.acquire()
                cond.notify_all()
                phase[0] = 3
                cond.release()
                wait_until(lambda: len(results2) >= n)
                self.assertEqual(results2, [(True, 2)] * count1 + [(True, 3)] * count2)

    def test_notify(self):
        cond = rthread.Condition()
        self._check_notify(cond)
        self._check_notify(cond)  # internal state still fine

    def test_timeout(self):
        cond = rthread.Condition()
        results = []

        def f():
            with cond:
                t1 = time.monotonic()
                result = cond.wait(0.5)
                results.append((time.monotonic() - t1, result))

        n = 5
        with Bunch(f, n):
            pass
        self.assertEqual(len(results), n)
        for dt, result in results:
            self.assertTimeout(dt, 0.5)
            self.assertFalse(result)  # no spurious wake-up

    def test_waitfor(self):
        cond = rthread.Condition()
        state = [0]

        def f():
            with cond:
                result = cond.wait_for(lambda: state[0] == 4)
                self.assertTrue(result)
                self.assertEqual(state[0], 4)

        with Bunch(f, 1):
            for _ in range(4):
                with cond:
                    state[0] += 1
                    cond.notify()

    def test_waitfor_timeout(self):
        cond = rthread.Condition()
        state = [0]
        success = []

        def f():
            with cond:
                t1 = time.monotonic()
                result = cond.wait_for(lambda: state[0] == 4, timeout=0.1)
                self.assertFalse(result)
                self.assertTimeout(time.monotonic() - t1, 0.1)
                success.append(None)

        with Bunch(f, 1):
            for _ in range(3):
                with cond:
                    state[0] += 1
                    cond.notify()
        self.assertEqual(len(success), 1)

    def test_wait_for_returns_the_predicates_value_and_propagates_its_error(self):
        cond = rthread.Condition()
        with cond:
            self.assertEqual(cond.wait_for(lambda: "yes"), "yes")
            self.assertEqual(cond.wait_for(lambda: 0, timeout=0), 0)
            with self.assertRaises(ZeroDivisionError):
                cond.wait_for(lambda: 1 / 0)
            cond.notify()  # the lock is still held after the exception

    def test_wait_releases_a_recursive_rlock_fully(self):
        lock = rthread.RLock()
        cond = rthread.Condition(lock)
        done = []

        def f():
            with lock:  # only possible once the waiter released every level
                done.append(True)
                cond.notify()

        with lock, lock, lock:
            with Bunch(f, 1):
                self.assertTrue(cond.wait_for(lambda: done, timeout=SHORT))
                self.assertEqual(lock._recursion_count(), 3)

    def test_only_rthread_locks(self):
        self.assertRaises(TypeError, rthread.Condition, threading.Lock())


class BaseSemaphoreTests:
    """Tests for Semaphore and BoundedSemaphore (mixed into their classes)."""

    def test_constructor(self):
        self.assertRaises(ValueError, self.semtype, value=-1)
        self.assertRaises(ValueError, self.semtype, value=-sys.maxsize)

    def test_acquire(self):
        sem = self.semtype(2)
        sem.acquire()
        sem.acquire()
        sem.release()
        sem.release()

    def test_acquire_destroy(self):
        sem = self.semtype()
        sem.acquire()
        del sem

    def test_acquire_contended(self):
        sem_value = 7
        sem = self.semtype(sem_value)
        sem.acquire()
        sem_results, results1, results2 = [], [], []
        phase = [0]

        def func():
            sem_results.append(sem.acquire())
            results1.append(phase[0])
            sem_results.append(sem.acquire())
            results2.append(phase[0])

        def wait_count(count):
            wait_until(lambda: len(results1) + len(results2) >= count)

        with Sleepers() as sleepers:
            with Bunch(func, 10):
                count1 = sem_value - 1
                wait_count(count1)
                sleepers.wait_for(10 * 2 - count1 - 10)  # every thread that must block has
                self.assertEqual(results1 + results2, [0] * count1)
                phase[0] = 1
                for _ in range(sem_value):
                    sem.release()
                count2 = sem_value
                wait_count(count1 + count2)
                self.assertEqual(sorted(results1 + results2), [0] * count1 + [1] * count2)
                phase[0] = 2
                count3 = sem_value - 1
                for _ in range(count3):
                    sem.release()
                wait_count(count1 + count2 + count3)
                self.assertEqual(sorted(results1 + results2),
                                 [0] * count1 + [1] * count2 + [2] * count3)
                self.assertFalse(sem.acquire(False))
                sem.release()
        self.assertEqual(sem_results, [True] * (count1 + count2 + count3 + 1))

    def test_multirelease(self):
        sem = self.semtype(7)
        sem.acquire()
        results = []

        def func():
            sem.acquire()
            results.append(1)
            sem.acquire()
            results.append(2)

        with Bunch(func, 10):
            wait_until(lambda: len(results) >= 6)
            sem.release(7)
            wait_until(lambda: len(results) >= 13)
            sem.release(6)
            wait_until(lambda: len(results) >= 19)
            self.assertFalse(sem.acquire(False))
            sem.release()
        self.assertEqual(len(results), 20)

    def test_try_acquire(self):
        sem = self.semtype(2)
        self.assertTrue(sem.acquire(False))
        self.assertTrue(sem.acquire(False))
        self.assertFalse(sem.acquire(False))
        sem.release()
        self.assertTrue(sem.acquire(False))

    def test_try_acquire_contended(self):
        sem = self.semtype(4)
        sem.acquire()
        results = []

        def f():
            results.append(sem.acquire(False))
            results.append(sem.acquire(False))

        with Bunch(f, 5):
            pass
        self.assertEqual(sorted(results), [False] * 7 + [True] * 3)

    def test_acquire_timeout(self):
        sem = self.semtype(2)
        with self.assertRaisesRegex(ValueError, "^can't specify timeout for non-blocking acquire$"):
            sem.acquire(False, timeout=1.0)
        self.assertTrue(sem.acquire(timeout=0.005))
        self.assertTrue(sem.acquire(timeout=0.005))
        self.assertFalse(sem.acquire(timeout=0.005))
        self.assertFalse(sem.acquire(timeout=-1))  # negative: a plain try, as in Python
        sem.release()
        self.assertTrue(sem.acquire(timeout=0.005))
        t = time.monotonic()
        self.assertFalse(sem.acquire(timeout=0.5))
        self.assertTimeout(time.monotonic() - t, 0.5)

    def test_default_value(self):
        sem = self.semtype()
        sem.acquire()

        def f():
            sem.acquire()
            sem.release()

        with Sleepers() as sleepers:
            with Bunch(f, 1) as bunch:
                sleepers.wait_for(1)
                self.assertFalse(bunch.finished)
                sem.release()

    def test_with(self):
        sem = self.semtype(2)

        def _with(err=None):
            with sem:
                self.assertTrue(sem.acquire(False))
                sem.release()
                with sem:
                    self.assertFalse(sem.acquire(False))
                    if err:
                        raise err

        _with()
        self.assertTrue(sem.acquire(False))
        sem.release()
        self.assertRaises(TypeError, _with, TypeError)
        self.assertTrue(sem.acquire(False))
        sem.release()

    def test_release_n(self):
        sem = self.semtype(0)
        with self.assertRaisesRegex(ValueError, "^n must be one or more$"):
            sem.release(0)


class SemaphoreTests(BaseSemaphoreTests, BaseTestCase):
    semtype = rthread.Semaphore

    def test_release_unacquired(self):
        sem = self.semtype(1)
        sem.release()
        sem.acquire()
        sem.acquire()
        sem.release()

    def test_repr(self):
        sem = self.semtype(3)
        self.assertRegex(repr(sem), r"<\w+\.Semaphore at .*: value=3>")
        sem.acquire()
        self.assertRegex(repr(sem), r"<\w+\.Semaphore at .*: value=2>")


class BoundedSemaphoreTests(BaseSemaphoreTests, BaseTestCase):
    semtype = rthread.BoundedSemaphore

    def test_release_unacquired(self):
        sem = self.semtype()
        with self.assertRaisesRegex(ValueError, "^Semaphore released too many times$"):
            sem.release()
        sem.acquire()
        sem.release()
        self.assertRaises(ValueError, sem.release)

    def test_repr(self):
        sem = self.semtype(3)
        self.assertRegex(repr(sem), r"<\w+\.BoundedSemaphore at .*: value=3/3>")
        sem.acquire()
        self.assertRegex(repr(sem), r"<\w+\.BoundedSemaphore at .*: value=2/3>")


class BarrierTests(BaseTestCase):
    N = 5
    default_timeout = 2.0

    def setUp(self):
        super().setUp()
        self.barrier = rthread.Barrier(self.N, timeout=self.default_timeout)

    def tearDown(self):
        self.barrier.abort()
        super().tearDown()

    def run_threads(self, f):
        with Bunch(f, self.N):
            pass

    def multipass(self, results, n):
        m = self.barrier.parties
        self.assertEqual(m, self.N)
        for i in range(n):
            results[0].append(True)
            self.assertEqual(len(results[1]), i * m)
            self.barrier.wait()
            results[1].append(True)
            self.assertEqual(len(results[0]), (i + 1) * m)
            self.barrier.wait()
        self.assertEqual(self.barrier.n_waiting, 0)
        self.assertFalse(self.barrier.broken)

    def test_barrier(self, passes=1):
        results = [[], []]
        self.run_threads(lambda: self.multipass(results, passes))

    def test_barrier_10(self):
        self.test_barrier(10)

    def test_wait_return(self):
        results = []
        self.run_threads(lambda: results.append(self.barrier.wait()))
        self.assertEqual(sorted(results), list(range(self.N)))

    def test_action(self):
        results = []
        barrier = rthread.Barrier(self.N, lambda: results.append(True))

        def f():
            barrier.wait()
            self.assertEqual(len(results), 1)

        self.run_threads(f)

    def test_action_exception_goes_to_its_thread(self):
        barrier = rthread.Barrier(2, action=lambda: 1 / 0)
        outcomes = []

        def f():
            try:
                barrier.wait()
                outcomes.append("passed")
            except rthread.BrokenBarrierError:
                outcomes.append("broken")
            except ZeroDivisionError:
                outcomes.append("action")

        with Bunch(f, 2):
            pass
        self.assertEqual(sorted(outcomes), ["action", "broken"])
        self.assertTrue(barrier.broken)

    def test_abort(self):
        results1, results2 = [], []

        def f():
            try:
                i = self.barrier.wait()
                if i == self.N // 2:
                    raise RuntimeError
                self.barrier.wait()
                results1.append(True)
            except threading.BrokenBarrierError:
                results2.append(True)
            except RuntimeError:
                self.barrier.abort()

        self.run_threads(f)
        self.assertEqual(len(results1), 0)
        self.assertEqual(len(results2), self.N - 1)
        self.assertTrue(self.barrier.broken)

    def test_reset(self):
        results1, results2, results3 = [], [], []

        def f():
            i = self.barrier.wait()
            if i == self.N // 2:
                wait_until(lambda: self.barrier.n_waiting >= self.N - 1)
                self.barrier.reset()
            else:
                try:
                    self.barrier.wait()
                    results1.append(True)
                except threading.BrokenBarrierError:
                    results2.append(True)
            self.barrier.wait()
            results3.append(True)

        self.run_threads(f)
        self.assertEqual(len(results1), 0)
        self.assertEqual(len(results2), self.N - 1)
        self.assertEqual(len(results3), self.N)

    def test_abort_and_reset(self):
        results1, results2, results3 = [], [], []
        barrier2 = rthread.Barrier(self.N)

        def f():
            try:
                i = self.barrier.wait()
                if i == self.N // 2:
                    raise RuntimeError
                self.barrier.wait()
                results1.append(True)
            except threading.BrokenBarrierError:
                results2.append(True)
            except RuntimeError:
                self.barrier.abort()
            if barrier2.wait() == self.N // 2:
                self.barrier.reset()
            barrier2.wait()
            self.barrier.wait()
            results3.append(True)

        self.run_threads(f)
        self.assertEqual(len(results1), 0)
        self.assertEqual(len(results2), self.N - 1)
        self.assertEqual(len(results3), self.N)

    def test_timeout(self):
        barrier = rthread.Barrier(2)
        t1 = time.monotonic()
        self.assertRaises(threading.BrokenBarrierError, barrier.wait, 0.2)
        self.assertTimeout(time.monotonic() - t1, 0.2)
        self.assertTrue(barrier.broken)

    def test_default_timeout(self):
        barrier = rthread.Barrier(2, timeout=0.1)
        t1 = time.monotonic()
        with Bunch(lambda: self.assertRaises(threading.BrokenBarrierError, barrier.wait), 1):
            pass
        self.assertGreaterEqual(time.monotonic() - t1, 0.1)

    def test_single_thread(self):
        b = rthread.Barrier(1)
        self.assertEqual(b.wait(), 0)
        self.assertEqual(b.wait(0), 0)  # the last to arrive never waits

    def test_parties(self):
        self.assertRaisesRegex(ValueError, "^parties must be > 0$", rthread.Barrier, 0)

    def test_repr(self):
        barrier = rthread.Barrier(3)
        self.assertRegex(repr(barrier), r"<\w+\.Barrier at .*: waiters=0/3>")
        with Bunch(lambda: barrier.wait(60), 2):
            wait_until(lambda: barrier.n_waiting >= 2)
            self.assertRegex(repr(barrier), r"<\w+\.Barrier at .*: waiters=2/3>")
            barrier.wait(60)
        barrier.abort()
        self.assertRegex(repr(barrier), r"<\w+\.Barrier at .*: broken>")


class ThreadTests(BaseTestCase):
    def test_target_args_kwargs_and_join(self):
        out = []
        t = rthread.Thread(target=lambda a, b=0: out.append(a + b), args=(1,), kwargs={"b": 2})
        self.assertFalse(t.is_alive())
        self.assertIsNone(t.ident)
        self.assertIsNone(t.native_id)
        t.start()
        t.join()
        self.assertEqual(out, [3])
        self.assertFalse(t.is_alive())
        self.assertIsNotNone(t.ident)
        self.assertIsNotNone(t.native_id)
        self.assertRegex(repr(t), r"<Thread\(Thread-\d+ \(<lambda>\), stopped \d+\)>")

    def test_names_and_daemon(self):
        t = rthread.Thread(target=print)
        self.assertRegex(t.name, r"^Thread-\d+ \(print\)$")
        t = rthread.Thread(name="worker")
        self.assertEqual(t.name, "worker")
        t.name = "renamed"
        self.assertEqual(t.getName(), "renamed")
        self.assertRegex(rthread.Thread().name, r"^Thread-\d+$")
        self.assertFalse(t.daemon)  # the main thread is not a daemon
        self.assertTrue(rthread.Thread(daemon=True).daemon)
        inherited = []

        def f():
            inherited.append(rthread.Thread().daemon)

        d = rthread.Thread(target=f, daemon=True)
        d.start()
        d.join()
        self.assertEqual(inherited, [True])

    def test_lifecycle_errors(self):
        t = rthread.Thread()
        with self.assertRaisesRegex(RuntimeError, "^cannot join thread before it is started$"):
            t.join()
        t.start()
        with self.assertRaisesRegex(RuntimeError, "^threads can only be started once$"):
            t.start()
        with self.assertRaisesRegex(RuntimeError, "^cannot set daemon status of active thread$"):
            t.daemon = True
        t.join()
        t.join()  # again: fine
        with self.assertRaisesRegex(RuntimeError, "^cannot join current thread$"):
            rthread.current_thread().join()
        errors = []

        def self_join():
            try:
                rthread.current_thread().join()
            except RuntimeError as e:
                errors.append(str(e))

        s = rthread.Thread(target=self_join)
        s.start()
        s.join()
        self.assertEqual(errors, ["cannot join current thread"])

    def test_join_timeout(self):
        stop = rthread.Event()
        t = rthread.Thread(target=stop.wait)
        t.start()
        t1 = time.monotonic()
        self.assertIsNone(t.join(0.2))
        self.assertTimeout(time.monotonic() - t1, 0.2)
        self.assertTrue(t.is_alive())
        t.join(-1)  # negative: polls, as in Python
        self.assertIn(t, rthread.enumerate())
        self.assertGreaterEqual(rthread.active_count(), 2)
        stop.set()
        t.join()
        self.assertNotIn(t, rthread.enumerate())

    def test_subclass_run(self):
        class MyThread(rthread.Thread):
            def __init__(self, out):
                rthread.Thread.__init__(self)
                self.out = out

            def run(self):
                self.out.append((self.name, rthread.current_thread() is self))

        out = []
        t = MyThread(out)
        t.start()
        t.join()
        self.assertEqual(out, [(t.name, True)])

    def test_current_and_main_thread(self):
        main = rthread.main_thread()
        self.assertEqual(main.name, "MainThread")
        self.assertFalse(main.daemon)
        self.assertIs(rthread.current_thread(), main)
        self.assertEqual(main.ident, rthread.get_ident())
        self.assertEqual(main.ident, threading.get_ident())
        self.assertEqual(rthread.get_native_id(), threading.get_native_id())

    def test_excepthook_gets_the_exception_and_the_thread(self):
        seen = []
        old = threading.excepthook
        threading.excepthook = lambda args: seen.append((args.exc_type, str(args.exc_value),
                                                         args.thread))
        try:
            t = rthread.Thread(target=lambda: int("x"), name="bad")
            t.start()
            t.join()
            quiet = rthread.Thread(target=rthread.exit_thread)  # SystemExit: silent
            quiet.start()
            quiet.join()
        finally:
            threading.excepthook = old
        self.assertEqual(seen, [(ValueError, "invalid literal for int() with base 10: 'x'", t)])

    def test_default_excepthook_prints_and_others_go_on(self):
        import io
        import contextlib

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            t = rthread.Thread(target=lambda: 1 / 0, name="worker")
            t.start()
            t.join()
        out = []
        u = rthread.Thread(target=lambda: out.append(1))
        u.start()
        u.join()
        self.assertTrue(err.getvalue().startswith("Exception in thread worker:\nTraceback"))
        self.assertIn("ZeroDivisionError: division by zero", err.getvalue())
        self.assertEqual(out, [1])

    def test_timer(self):
        fired = []
        t1 = time.monotonic()
        t = rthread.Timer(0.1, lambda x: fired.append((x, time.monotonic() - t1)), args=["a"])
        t.start()
        t.join()
        self.assertEqual(fired[0][0], "a")
        self.assertGreaterEqual(fired[0][1], 0.1)
        never = rthread.Timer(60, fired.append, args=["b"])
        never.start()
        never.cancel()
        never.join(SHORT)
        self.assertFalse(never.is_alive())
        self.assertEqual(len(fired), 1)

    def test_start_new_thread(self):
        done = rthread.Event()
        got = []

        def f(a, b=None):
            got.append((a, b, rthread.get_ident()))
            done.set()

        ident = rthread.start_new_thread(f, (1,), {"b": 2})
        self.assertTrue(done.wait(SHORT))
        self.assertEqual(got, [(1, 2, ident)])
        self.assertRaisesRegex(TypeError, "^first arg must be callable$",
                               rthread.start_new_thread, 1, ())
        self.assertRaisesRegex(TypeError, "^2nd arg must be a tuple$",
                               rthread.start_new_thread, f, [1])

    def test_exit_waits_for_non_daemon_threads_only(self):
        import os
        import subprocess

        program = (
            "import rthread, time\n"
            "def slow():\n"
            "    time.sleep(0.2)\n"
            "    print('non-daemon thread done', flush=True)\n"
            "rthread.Thread(target=slow).start()\n"
            "rthread.Thread(target=rthread.Event().wait, daemon=True).start()  # never ends\n"
            "print('main returns', flush=True)\n"
        )
        here = os.path.dirname(os.path.abspath(__file__))
        env = dict(os.environ, PYTHONPATH=here)
        out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "main returns\nnon-daemon thread done\n")

    def test_stack_size(self):
        self.assertEqual(rthread.stack_size(), 0)
        self.assertRaisesRegex(ValueError, "^size not valid: 4096 bytes$", rthread.stack_size, 4096)
        self.assertEqual(rthread.stack_size(1 << 20), 0)
        self.assertEqual(rthread.stack_size(), 1 << 20)  # and back to the default


class QueueTests(BaseTestCase):
    def test_orders(self):
        for cls, items, want in [
            (rthread.Queue, [3, 1, 2], [3, 1, 2]),
            (rthread.LifoQueue, [3, 1, 2], [2, 1, 3]),
            (rthread.PriorityQueue, [(3, "c"), (1, "a"), (2, "b")], [(1, "a"), (2, "b"), (3, "c")]),
            (rthread.SimpleQueue, [3, 1, 2], [3, 1, 2]),
        ]:
            q = cls()
            for x in items:
                q.put(x)
            self.assertEqual(q.qsize(), 3)
            self.assertEqual([q.get() for _ in items], want)
            self.assertTrue(q.empty())

    def test_python_objects_are_kept_alive_while_queued(self):
        class Payload:
            pass

        q = rthread.Queue()
        p = Payload()
        ref = weakref.ref(p)
        q.put(p)
        q.put(p)  # the same object twice
        del p
        gc.collect()
        self.assertIsNotNone(ref())
        self.assertIs(q.get(), ref())
        self.assertIs(q.get(), ref())
        gc.collect()
        self.assertIsNone(ref())
        q.put(Payload())
        ref = weakref.ref(q.get_nowait())
        gc.collect()
        self.assertIsNone(ref())

    def test_leftovers_are_released_on_free_and_immediate_shutdown(self):
        class Payload:
            pass

        q = rthread.Queue()
        p = Payload()
        ref = weakref.ref(p)
        q.put(p)
        del p, q
        gc.collect()
        self.assertIsNone(ref())
        q = rthread.Queue()
        p = Payload()
        ref = weakref.ref(p)
        q.put(p)
        del p
        q.shutdown(immediate=True)
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(q.unfinished_tasks, 0)
        self.assertRaises(rthread.ShutDown, q.get)

    def test_full_and_empty(self):
        q = rthread.Queue(2)
        self.assertEqual(q.maxsize, 2)
        q.put(1)
        q.put_nowait(2)
        self.assertTrue(q.full())
        self.assertRaises(queue.Full, q.put_nowait, 3)
        self.assertIs(rthread.Full, queue.Full)
        t1 = time.monotonic()
        self.assertRaises(queue.Full, q.put, 3, timeout=0.2)
        self.assertTimeout(time.monotonic() - t1, 0.2)
        self.assertEqual([q.get(), q.get()], [1, 2])
        self.assertRaises(queue.Empty, q.get_nowait)
        t1 = time.monotonic()
        self.assertRaises(queue.Empty, q.get, timeout=0.2)
        self.assertTimeout(time.monotonic() - t1, 0.2)
        with self.assertRaisesRegex(ValueError, "^'timeout' must be a non-negative number$"):
            q.get(timeout=-1)
        rthread.Queue(0).put(1, timeout=-1)  # an unbounded put ignores the timeout
        self.assertEqual(rthread.Queue(-5).maxsize, 0)  # maxsize <= 0: unbounded

    def test_blocked_put_and_get_wake(self):
        q = rthread.Queue(1)
        got = []
        with Sleepers() as sleepers:
            with Bunch(lambda: got.append(q.get()), 1):
                sleepers.wait_for(1)
                q.put("x")
            q.put(1)
            with Bunch(lambda: q.put(2), 1):
                sleepers.wait_for(1)
                self.assertEqual(q.get(), 1)
        self.assertEqual(got, ["x"])
        self.assertEqual(q.get(), 2)

    def test_task_done_and_join(self):
        q = rthread.Queue()
        total = []

        def worker():
            while True:
                try:
                    item = q.get()
                except rthread.ShutDown:
                    return
                total.append(item)
                q.task_done()

        with Bunch(worker, 3):
            for i in range(100):
                q.put(i)
            q.join()
            self.assertEqual(q.unfinished_tasks, 0)
            self.assertEqual(sorted(total), list(range(100)))
            q.shutdown()
        with self.assertRaisesRegex(ValueError, r"^task_done\(\) called too many times$"):
            q.task_done()

    def test_shutdown(self):
        q = rthread.Queue()
        q.put("left")
        q.shutdown()
        self.assertTrue(q.is_shutdown)
        self.assertRaises(rthread.ShutDown, q.put, "more")
        self.assertEqual(q.get(), "left")  # items left still come out
        self.assertRaises(rthread.ShutDown, q.get)
        if hasattr(queue, "ShutDown"):
            self.assertIs(rthread.ShutDown, queue.ShutDown)
        b = rthread.Queue()
        with Sleepers() as sleepers:
            errors = []

            def getter():
                try:
                    b.get()
                except rthread.ShutDown:
                    errors.append("ShutDown")

            with Bunch(getter, 2):
                sleepers.wait_for(2)
                b.shutdown()
        self.assertEqual(errors, ["ShutDown"] * 2)

    def test_priority_put_that_cannot_compare(self):
        q = rthread.PriorityQueue()
        q.put(2)
        q.put(1)
        self.assertRaises(TypeError, q.put, "a")
        self.assertEqual(q.qsize(), 2)
        self.assertEqual(q.unfinished_tasks, 2)
        q.put(0)
        self.assertEqual([q.get(), q.get(), q.get()], [0, 1, 2])
        self.assertRaises(queue.Empty, q.get_nowait)  # the failed item never comes out

    def test_simple_queue(self):
        q = rthread.SimpleQueue()
        q.put(1, timeout=-1)  # ignored
        self.assertEqual(q.get(timeout=1), 1)
        self.assertRaises(queue.Empty, q.get_nowait)
        self.assertFalse(hasattr(q, "task_done"))
        self.assertFalse(hasattr(q, "join"))


CTRL_C_CHILD = r"""
import sys
import rthread

kind, rounds = sys.argv[1], int(sys.argv[2])
lock = rthread.Lock()
lock.acquire()
event = rthread.Event()
blocker = rthread.Thread(target=event.wait, daemon=True)  # never ends
blocker.start()
for i in range(rounds):
    print("blocking", flush=True)
    try:
        if kind == "lock":
            lock.acquire()
        elif kind == "rlock_timeout":
            other = rthread.RLock()
            t = rthread.Thread(target=other.acquire, daemon=True)
            t.start()
            t.join()
            other.acquire(timeout=1000)
        elif kind == "join":
            blocker.join()
        elif kind == "get":
            rthread.Queue().get()
        elif kind == "event":
            event.wait()
        elif kind == "condition":
            c = rthread.Condition()
            with c:
                c.wait()
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
"""


def _main_thread_sleeping(pid):
    """Whether the process's main thread is asleep (in a futex: state S)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return True  # no /proc: the caller waited for "blocking" already
    return stat[stat.rindex(")") + 2] == "S"


class CtrlCTests(unittest.TestCase):
    """Ctrl-C (SIGINT) ends a blocked call in the main thread with KeyboardInterrupt within a
    second, as in CPython, again and again: a child process blocks forever, gets SIGINT,
    reports KeyboardInterrupt, and blocks again."""

    ROUNDS = 3

    def check(self, kind):
        import os
        import signal
        import subprocess

        here = os.path.dirname(os.path.abspath(__file__))
        env = dict(os.environ, PYTHONPATH=here)
        child = subprocess.Popen([sys.executable, "-c", CTRL_C_CHILD, kind, str(self.ROUNDS)],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        lines = queue.Queue()  # the child's lines, read by a thread: a hang is a failure

        def read_lines():
            for line in child.stdout:
                lines.put(line)
            lines.put("")

        def readline(timeout):
            try:
                return lines.get(timeout=timeout)
            except queue.Empty:
                return "(nothing within %.0f s)" % timeout

        threading.Thread(target=read_lines, daemon=True).start()
        try:
            for _ in range(self.ROUNDS):
                self.assertEqual(readline(SHORT), "blocking\n")
                # Asleep twice in a row, seen from outside: blocked in the call.
                wait_until(lambda: _main_thread_sleeping(child.pid)
                           and (time.sleep(0.02) or _main_thread_sleeping(child.pid)))
                t0 = time.monotonic()
                child.send_signal(signal.SIGINT)
                line = readline(5.0)
                elapsed = time.monotonic() - t0
                self.assertEqual(line, "KeyboardInterrupt\n", child.stderr.read()
                                 if line == "" else line)
                self.assertGreaterEqual(elapsed, 0.0)
                self.assertLess(elapsed, 1.0)
            self.assertEqual(child.wait(timeout=SHORT), 0, child.stderr.read())
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stderr.close()

    def test_lock_acquire(self):
        self.check("lock")

    def test_rlock_acquire_with_a_timeout(self):
        self.check("rlock_timeout")

    def test_thread_join(self):
        self.check("join")

    def test_queue_get(self):
        self.check("get")

    def test_event_wait(self):
        self.check("event")

    def test_condition_wait(self):
        self.check("condition")


class DebugNamesTests(unittest.TestCase):
    def test_every_object_takes_a_name_at_construction(self):
        lock = rthread.Lock(name="accounts")
        objects = {
            "accounts": lock,
            "tree": rthread.RLock(name="tree"),
            "ready": rthread.Condition(name="ready"),
            "on-lock": rthread.Condition(lock, name="on-lock"),
            "slots": rthread.Semaphore(3, name="slots"),
            "bounded": rthread.BoundedSemaphore(2, name="bounded"),
            "go": rthread.Event(name="go"),
            "meet": rthread.Barrier(2, name="meet"),
            "jobs": rthread.Queue(name="jobs"),
            "stack": rthread.LifoQueue(name="stack"),
            "heap": rthread.PriorityQueue(name="heap"),
            "simple": rthread.SimpleQueue(name="simple"),
            "worker": rthread.Thread(target=lambda: None, name="worker"),
        }
        for name, obj in objects.items():
            self.assertEqual(rthread.object_name(obj), name)
        self.assertEqual(rthread.object_name(rthread.Lock()), "")
        self.assertEqual(objects["slots"]._value, 3)
        long_name = "n" * 500
        self.assertEqual(rthread.object_name(rthread.Event(name=long_name)), long_name)

    def test_dump_shows_a_named_lock_and_its_holder(self):
        import tempfile

        lock = rthread.Lock(name="accounts")
        before = rthread.set_debug(rthread.DEBUG_HOLDERS)
        try:
            with lock, tempfile.TemporaryFile("w+") as f:
                rthread.dump_threads(f)
                f.seek(0)
                text = f.read()
        finally:
            rthread.set_debug(before)
        self.assertTrue(text.startswith("=== rthread thread dump: "), text)
        self.assertRegex(text, r'\n  holds: lock "accounts" \(0x[0-9a-f]+\)\n')

    def test_deadlock_detection_raises_in_the_thread_that_closes_the_cycle(self):
        a, b = rthread.Lock(name="A"), rthread.Lock(name="B")
        before = rthread.set_debug(rthread.DEBUG_DEADLOCK)
        errors = []
        has_b = rthread.Event()

        def other():
            with b:
                has_b.set()
                try:
                    with a:
                        pass
                except Exception as e:  # the main thread may be the one that gets it
                    errors.append(e)

        try:
            with a:
                t = rthread.Thread(target=other, name="other")
                t.start()
                has_b.wait()
                try:
                    with b:
                        pass
                except Exception as e:
                    errors.append(e)
            t.join()
        finally:
            rthread.set_debug(before)
        self.assertEqual(len(errors), 1, errors)
        self.assertIn('lock "A"', str(errors[0]))
        self.assertIn('lock "B"', str(errors[0]))
        self.assertIn('thread "other"', str(errors[0]))


class PublicNamesTests(unittest.TestCase):
    def test_every_public_name_has_a_docstring(self):
        import inspect

        missing = []
        for name in rthread.__all__:
            obj = getattr(rthread, name)
            if obj is None or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not inspect.getdoc(obj):
                missing.append(name)
            if inspect.isclass(obj) and obj.__module__ == "rthread":
                for attr in dir(obj):
                    if attr.startswith("_"):
                        continue
                    v = inspect.getattr_static(obj, attr)
                    if (inspect.isfunction(v) or isinstance(v, property)) and not v.__doc__:
                        missing.append(f"{name}.{attr}")
        self.assertEqual(missing, [])
        self.assertTrue(rthread.__doc__)

    def test_version_is_the_librarys(self):
        self.assertRegex(rthread.version(), r"^\d+\.\d+\.\d+$")

    def test_local_is_per_thread(self):
        data = rthread.local()
        data.x = "main"
        seen = []

        def body():
            seen.append(hasattr(data, "x"))
            data.x = "thread"
            seen.append(data.x)

        t = rthread.Thread(target=body)
        t.start()
        t.join()
        self.assertEqual(seen, [False, "thread"])
        self.assertEqual(data.x, "main")

    def test_local_subclass_init_runs_in_each_thread(self):
        class Counter(rthread.local):
            def __init__(self, start):
                self.n = start

        c = Counter(5)
        c.n += 1
        got = []
        t = rthread.Thread(target=lambda: got.append(c.n))
        t.start()
        t.join()
        self.assertEqual(got, [5])
        self.assertEqual(c.n, 6)


if __name__ == "__main__":
    unittest.main()
