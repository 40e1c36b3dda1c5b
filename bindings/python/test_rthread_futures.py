"""The concurrent.futures binding (rthread_futures.py): its own cases, for any Python 3.8+.
CPython's own thread-pool tests run through cpython_futures_tests.py (Python 3.12+)."""

import threading
import time
import unittest

import rthread_futures as cf


class FutureTests(unittest.TestCase):
    def test_states_and_results(self):
        f = cf.Future()
        self.assertFalse(f.done())
        self.assertRaises(cf.TimeoutError, f.result, timeout=0)
        self.assertTrue(f.set_running_or_notify_cancel())
        self.assertTrue(f.running())
        self.assertFalse(f.cancel())
        f.set_result([1, 2])
        self.assertEqual(f.result(), [1, 2])
        self.assertIsNone(f.exception())
        with self.assertRaisesRegex(cf.InvalidStateError, "FINISHED: <Future at 0x[0-9a-f]+ "
                                                          "state=finished returned list>"):
            f.set_result(3)

    def test_exception_and_cancel(self):
        f = cf.Future()
        err = OSError("nope")
        f.set_exception(err)
        self.assertIs(f.exception(), err)
        with self.assertRaises(OSError):
            f.result()
        g = cf.Future()
        self.assertTrue(g.cancel())
        self.assertRaises(cf.CancelledError, g.result)
        self.assertFalse(g.set_running_or_notify_cancel())

    def test_done_callbacks(self):
        seen = []
        f = cf.Future()
        f.add_done_callback(lambda fut: seen.append(fut.result()))
        f.set_result(7)
        f.add_done_callback(lambda fut: seen.append("now"))
        self.assertEqual(seen, [7, "now"])


class ExecutorTests(unittest.TestCase):
    def test_submit_map_and_exceptions(self):
        with cf.ThreadPoolExecutor(max_workers=3) as ex:
            self.assertEqual(ex.submit(pow, 2, 10).result(), 1024)
            self.assertEqual(list(ex.map(abs, [-1, -2, 3])), [1, 2, 3])
            f = ex.submit(lambda: 1 / 0)
            self.assertRaises(ZeroDivisionError, f.result)
        self.assertRaisesRegex(RuntimeError, "cannot schedule new futures after shutdown",
                               ex.submit, pow, 2, 2)

    def test_bad_arguments(self):
        self.assertRaises(ValueError, cf.ThreadPoolExecutor, 0)
        self.assertRaises(TypeError, cf.ThreadPoolExecutor, 1, initializer=3)

    def test_broken_pool(self):
        import logging
        logging.getLogger("concurrent.futures").disabled = True
        try:
            ex = cf.ThreadPoolExecutor(1, initializer=lambda: 1 / 0)
            f = ex.submit(int)
            self.assertRaises(cf.BrokenThreadPool, f.result)
            self.assertRaises(cf.BrokenThreadPool, ex.submit, int)
            ex.shutdown()
        finally:
            logging.getLogger("concurrent.futures").disabled = False

    def test_wait_and_as_completed(self):
        gate = threading.Event()
        with cf.ThreadPoolExecutor(max_workers=2) as ex:
            slow = ex.submit(gate.wait)
            fast = ex.submit(int, "5")
            done, not_done = cf.wait([slow, fast], return_when=cf.FIRST_COMPLETED)
            self.assertEqual((done, not_done), ({fast}, {slow}))
            t0 = time.monotonic()
            with self.assertRaisesRegex(cf.TimeoutError, r"1 \(of 2\) futures unfinished"):
                for f in cf.as_completed([slow, fast, fast], timeout=0.1):
                    self.assertIs(f, fast)
            self.assertGreaterEqual(time.monotonic() - t0, 0.1)
            gate.set()
            self.assertEqual(set(cf.as_completed([slow, fast])), {slow, fast})


if __name__ == "__main__":
    unittest.main()
