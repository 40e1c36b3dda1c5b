"""CPython's own thread-pool tests of concurrent.futures, run against rthread_futures.

Lib/test/test_concurrent_futures/ (Python 3.12 and later: test_future, test_wait,
test_as_completed, test_thread_pool, and the thread-pool classes of test_shutdown and
test_init) is imported with concurrent.futures' Future, ThreadPoolExecutor, wait and
as_completed replaced by this binding's, and its thread-pool classes are run. Tests that need a
CPython internal are skipped, each with the internal it needs (SKIPS below).

    RTHREAD_LIB=.../librthread.so python3.13 cpython_futures_tests.py [-v]
"""

import sys
import unittest

from cpython_skips import apply_skips

import concurrent.futures as cf
from concurrent.futures import _base, thread as _thread_mod

import rthread_futures as rf

cf.Future = _base.Future = rf.Future
cf.ThreadPoolExecutor = _thread_mod.ThreadPoolExecutor = rf.ThreadPoolExecutor
cf.wait = _base.wait = rf.wait
cf.as_completed = _base.as_completed = rf.as_completed

# test id suffix -> the CPython internal the test needs.
SKIPS = {
    "ThreadPoolShutdownTest.test_threads_terminate": "ThreadPoolExecutor._threads",
    "ThreadPoolShutdownTest.test_thread_names_assigned": "ThreadPoolExecutor._threads",
    "ThreadPoolShutdownTest.test_thread_names_default": "ThreadPoolExecutor._threads",
    "ThreadPoolShutdownTest.test_shutdown_no_wait": "ThreadPoolExecutor._threads",
    "ThreadPoolShutdownTest.test_cancel_futures_wait_false": "ThreadPoolExecutor._threads",
    "ThreadPoolShutdownTest.test_context_manager_shutdown": "ThreadPoolExecutor._threads",
    "ThreadPoolShutdownTest.test_del_shutdown": "ThreadPoolExecutor._threads",
    "ThreadPoolFailingInitializerTest.test_initializer": "ThreadPoolExecutor._broken",
    "ThreadPoolExecutorTest.test_saturation": "ThreadPoolExecutor._threads",
    "ThreadPoolExecutorTest.test_idle_thread_reuse": "ThreadPoolExecutor._threads",
    "FutureTests.test_exception_with_success": "Future._condition",
    "FutureTests.test_result_with_success": "Future._condition",
    "FutureTests.test_result_with_cancel": "Future._condition",
}

MODULES = ["test_future", "test_wait", "test_as_completed", "test_thread_pool", "test_shutdown",
           "test_init"]


def _thread_pool_tests(module):
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite()
    for name in dir(module):
        obj = getattr(module, name)
        if not (isinstance(obj, type) and issubclass(obj, unittest.TestCase)):
            continue
        if module.__name__.endswith("test_future") or "ThreadPool" in name:
            suite.addTests(loader.loadTestsFromTestCase(obj))
    return suite


def main():
    import importlib
    suite = unittest.TestSuite()
    for m in MODULES:
        module = importlib.import_module("test.test_concurrent_futures." + m)
        suite.addTests(_thread_pool_tests(module))
    apply_skips(suite, SKIPS, "needs ")
    verbosity = 2 if "-v" in sys.argv else 1
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    print(f"CPython tests: {result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped)} "
          f"passed, {len(result.failures) + len(result.errors)} failed, {len(result.skipped)} skipped")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
