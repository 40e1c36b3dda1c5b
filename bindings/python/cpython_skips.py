"""Skipping named tests of CPython's own suites (for cpython_threading_tests.py and
cpython_futures_tests.py): each test whose id ends with a key of `skips` is replaced by a
skip carrying its reason."""

import unittest


def apply_skips(suite, skips, prefix=""):
    """Marks, in `suite` and its sub-suites, every test whose id ends with a key of `skips`
    as skipped with `prefix + reason`."""
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            apply_skips(test, skips, prefix)
            continue
        for suffix, reason in skips.items():
            if test.id().endswith(suffix):
                setattr(test, test._testMethodName,
                        unittest.skip(prefix + reason)(getattr(test, test._testMethodName)))
