"""CPython's own tests of locks and queues, run against this binding.

Lib/test/lock_tests.py (Lock, RLock, Event, Condition, Semaphore, BoundedSemaphore, Barrier,
as CPython's test_threading runs it) and Lib/test/test_queue.py (Queue, LifoQueue,
PriorityQueue, SimpleQueue and the failing-queue tests) from the running Python's test package,
with the types under test replaced by rthread's. Tests that need a CPython internal or check a
documented difference are skipped, each with its reason (SKIPS below).

    RTHREAD_LIB=.../librthread.so python3 cpython_threading_tests.py [-v]
"""

import sys
import types
import unittest

from cpython_skips import apply_skips

import rthread

# test id suffix -> why it cannot pass against rthread.
SKIPS = {
    "RthreadLockTests.test_at_fork_reinit":
        "needs Lock._at_fork_reinit, a CPython internal (rthread repairs its objects in a "
        "fork child itself)",
    "RthreadEventTests.test_at_fork_reinit":
        "needs Event._cond and Lock._at_fork_reinit, CPython internals",
    "RthreadRLockTests.test_release_save_unacquired": "needs RLock._release_save, a CPython internal",
    "RthreadConditionTests.test_acquire":
        "builds a Condition over threading.Lock: rthread's Condition needs an rthread Lock or "
        "RLock (docs/differences.md)",
    "RthreadQueueTest.test_shrinking_queue":
        "assigns Queue.maxsize, a CPython internal (rthread's bound is fixed at construction)",
    "RthreadLifoQueueTest.test_shrinking_queue":
        "assigns Queue.maxsize, a CPython internal (rthread's bound is fixed at construction)",
    "RthreadPriorityQueueTest.test_shrinking_queue":
        "assigns Queue.maxsize, a CPython internal (rthread's bound is fixed at construction)",
    "RthreadFailingQueueTest.test_failing_queue":
        "overrides Queue._put and Queue._get, CPython internals (rthread's queue is C)",
}


def _lock_tests():
    from test import lock_tests

    def case(base, **types_):
        return type("Rthread" + base.__name__, (base,),
                    {k: staticmethod(v) for k, v in types_.items()})

    return [
        case(lock_tests.LockTests, locktype=rthread.Lock),
        case(lock_tests.RLockTests, locktype=rthread.RLock),
        case(lock_tests.EventTests, eventtype=rthread.Event),
        case(lock_tests.ConditionTests, condtype=rthread.Condition),
        case(lock_tests.SemaphoreTests, semtype=rthread.Semaphore),
        case(lock_tests.BoundedSemaphoreTests, semtype=rthread.BoundedSemaphore),
        case(lock_tests.BarrierTests, barriertype=rthread.Barrier),
    ]


def _queue_tests():
    from test import test_queue

    # A module-like namespace with rthread's queues and queue's exceptions, where test_queue
    # takes `self.queue` (its pure-Python or C queue module).
    ns = types.SimpleNamespace(
        Queue=rthread.Queue, LifoQueue=rthread.LifoQueue, PriorityQueue=rthread.PriorityQueue,
        SimpleQueue=rthread.SimpleQueue, Empty=rthread.Empty, Full=rthread.Full,
        ShutDown=rthread.ShutDown)
    out = []
    for name in ("QueueTest", "LifoQueueTest", "PriorityQueueTest", "FailingQueueTest"):
        base = getattr(test_queue, name)
        out.append(type("Rthread" + name, (base, unittest.TestCase), {"queue": ns}))

    class RthreadSimpleQueueTest(test_queue.BaseSimpleQueueTest, unittest.TestCase):
        queue = ns

        def setUp(self):
            self.type2test = rthread.SimpleQueue
            super().setUp()

    out.append(RthreadSimpleQueueTest)
    return out


def suite():
    loader = unittest.defaultTestLoader
    s = unittest.TestSuite()
    for cls in _lock_tests() + _queue_tests():
        s.addTests(loader.loadTestsFromTestCase(cls))
    apply_skips(s, SKIPS)
    return s


def main():
    verbosity = 2 if "-v" in sys.argv else 1
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite())
    failed = len(result.failures) + len(result.errors)
    print(f"CPython tests: {result.testsRun - failed - len(result.skipped)} passed, "
          f"{failed} failed, {len(result.skipped)} skipped")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
