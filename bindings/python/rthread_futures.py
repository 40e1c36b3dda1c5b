"""concurrent.futures served by rthread: ThreadPoolExecutor, Future, wait, as_completed.

The names, arguments and exceptions are concurrent.futures' (CancelledError, TimeoutError,
InvalidStateError, BrokenThreadPool, DoneAndNotDone, FIRST_COMPLETED, ...); the futures, the
waits and the pool's workers are rthread's (rt_future, rt_wait, rt_as_completed, rt_executor),
through ctypes. Python objects never cross into C: a result or an exception stays in a
dictionary of its future, and C carries a token that names it.

Differences from CPython: a Future has no ``_state``, ``_condition`` or ``_waiters``, and a
pool no ``_threads`` or ``_work_queue`` (the internals some of CPython's tests poke); a pool
that is garbage-collected without shutdown waits for its workers, as ``with`` does.
"""

import ctypes
import itertools
import logging
import os
from concurrent.futures import _base
from concurrent.futures.thread import BrokenThreadPool

import rthread
from rthread import _lib, _error, OK, _TIMEOUT

__all__ = [
    "FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "CancelledError", "TimeoutError",
    "InvalidStateError", "BrokenExecutor", "BrokenThreadPool", "Future", "Executor",
    "ThreadPoolExecutor", "wait", "as_completed",
]

FIRST_COMPLETED = _base.FIRST_COMPLETED
FIRST_EXCEPTION = _base.FIRST_EXCEPTION
ALL_COMPLETED = _base.ALL_COMPLETED
CancelledError = _base.CancelledError
TimeoutError = _base.TimeoutError
InvalidStateError = _base.InvalidStateError
BrokenExecutor = _base.BrokenExecutor
DoneAndNotDone = _base.DoneAndNotDoneFutures
Executor = _base.Executor
LOGGER = logging.getLogger("concurrent.futures")

_P, _vp, _int = ctypes.POINTER, ctypes.c_void_p, ctypes.c_int
_TASK_FN = ctypes.CFUNCTYPE(_int, _vp, _P(_vp))
_INIT_FN = ctypes.CFUNCTYPE(_int, _vp)
_FREE_FN = ctypes.CFUNCTYPE(None, _vp)
_CALLBACK_FN = ctypes.CFUNCTYPE(None, _vp, _vp)

for _name, _res, _args in [
    ("rt_future_new", _int, [_vp, _P(_vp)]),
    ("rt_future_release", _int, [_vp]),
    ("rt_future_cancel", ctypes.c_bool, [_vp]),
    ("rt_future_cancelled", ctypes.c_bool, [_vp]),
    ("rt_future_running", ctypes.c_bool, [_vp]),
    ("rt_future_done", ctypes.c_bool, [_vp]),
    ("rt_future_result", _int, [_vp, ctypes.c_double, _P(_vp)]),
    ("rt_future_exception", _int, [_vp, ctypes.c_double, _P(_int)]),
    ("rt_future_add_done_callback", _int, [_vp, _CALLBACK_FN, _vp]),
    ("rt_future_set_running_or_notify_cancel", _int, [_vp]),
    ("rt_future_set_result", _int, [_vp, _vp]),
    ("rt_future_set_exception", _int, [_vp, _int, ctypes.c_char_p]),
    ("rt_set_error_message", _int, [ctypes.c_char_p]),
    ("rt_wait", _int, [_P(_vp), ctypes.c_size_t, ctypes.c_double, _int, _P(ctypes.c_bool),
                       _P(ctypes.c_size_t)]),
    ("rt_as_completed_new", _int, [_P(_vp), ctypes.c_size_t, ctypes.c_double, _P(_vp)]),
    ("rt_as_completed_next", _int, [_vp, _P(_vp)]),
    ("rt_as_completed_free", _int, [_vp]),
    ("rt_executor_new", _int, [ctypes.c_size_t, ctypes.c_char_p, _INIT_FN, _vp, _P(_vp)]),
    ("rt_executor_submit", _int, [_vp, _TASK_FN, _vp, _FREE_FN, _FREE_FN, _P(_vp)]),
    ("rt_executor_shutdown", _int, [_vp, ctypes.c_bool, ctypes.c_bool]),
    ("rt_executor_thread_count", ctypes.c_size_t, [_vp]),
    ("rt_executor_free", _int, [_vp]),
]:
    _f = getattr(_lib, _name)
    _f.restype, _f.argtypes = _res, _args

_EBROKEN, _ESHUTDOWN, _ESTATE = 8, 11, 6
_ECANCELLED, _EFAILED, _EINVALIDSTATE = 17, 18, 19
_RETURN_WHEN = {ALL_COMPLETED: 0, FIRST_COMPLETED: 1, FIRST_EXCEPTION: 2}

# Tokens name Python objects for C (never 0, and small enough for a C int code).
_tokens = itertools.count(1)
_kept = {}  # token -> what C holds: work items, callbacks, initializers


def _message():
    return _lib.rt_last_error().decode("utf-8", "replace")


def _timeout(timeout):
    if timeout is None:
        return -1.0
    timeout = float(timeout)
    return 0.0 if timeout < 0 else timeout


class Future:
    """concurrent.futures.Future, on an rt_future."""

    def __init__(self):
        self._h = _vp()
        rthread._check(_lib.rt_future_new(None, ctypes.byref(self._h)))
        self._values = {}

    @classmethod
    def _wrap(cls, handle, values):
        self = object.__new__(cls)
        self._h, self._values = handle, values
        return self

    def __del__(self):
        h = getattr(self, "_h", None)
        if h and _lib is not None:
            _lib.rt_future_release(h)

    def __repr__(self):
        name, at = self.__class__.__name__, id(self)
        if _lib.rt_future_running(self._h):
            return f"<{name} at {at:#x} state=running>"
        if _lib.rt_future_cancelled(self._h):
            return f"<{name} at {at:#x} state=cancelled>"
        if _lib.rt_future_done(self._h):
            exc = self.exception(0)
            if exc is not None:
                return f"<{name} at {at:#x} state=finished raised {exc.__class__.__name__}>"
            return f"<{name} at {at:#x} state=finished returned {self.result(0).__class__.__name__}>"
        return f"<{name} at {at:#x} state=pending>"

    def cancel(self):
        return _lib.rt_future_cancel(self._h)

    def cancelled(self):
        return _lib.rt_future_cancelled(self._h)

    def running(self):
        return _lib.rt_future_running(self._h)

    def done(self):
        return _lib.rt_future_done(self._h)

    def result(self, timeout=None):
        r = _vp()
        status = _lib.rt_future_result(self._h, _timeout(timeout), ctypes.byref(r))
        if status == OK:
            return self._values.get(r.value) if r.value else None
        if status == _EFAILED:
            try:
                raise self._failure()
            finally:
                self = None
        raise self._wait_error(status)

    def exception(self, timeout=None):
        code = _int()
        status = _lib.rt_future_exception(self._h, _timeout(timeout), ctypes.byref(code))
        if status == OK:
            return None if code.value == 0 else self._failure(code.value)
        raise self._wait_error(status)

    def _failure(self, code=None):
        if code is None:
            c = _int()
            _lib.rt_future_exception(self._h, 0.0, ctypes.byref(c))
            code = c.value
        exc = self._values.get(code)
        if exc is None:  # a failure from C: a broken pool, or rt_future_set_exception
            r = _vp()
            _lib.rt_future_result(self._h, 0.0, ctypes.byref(r))
            text = _message()
            exc = BrokenThreadPool(text) if code == _EBROKEN else RuntimeError(text)
        return exc

    @staticmethod
    def _wait_error(status):
        if status == _ECANCELLED:
            return CancelledError()
        if status == _TIMEOUT:
            return TimeoutError()
        return _error(status)

    def add_done_callback(self, fn):
        token = next(_tokens)
        _kept[token] = (self, fn)
        status = _lib.rt_future_add_done_callback(self._h, _CALLBACK_ENTRY, token)
        if status != OK:
            _kept.pop(token, None)
            raise _error(status)

    def set_running_or_notify_cancel(self):
        status = _lib.rt_future_set_running_or_notify_cancel(self._h)
        if status == OK:
            return True
        if status == _ECANCELLED:
            return False
        LOGGER.critical("Future %s in unexpected state", id(self))
        raise RuntimeError("Future in unexpected state")

    def _set(self, value, exception):
        token = next(_tokens)
        self._values[token] = value
        if exception:
            status = _lib.rt_future_set_exception(self._h, token, str(value).encode())
        else:
            status = _lib.rt_future_set_result(self._h, token)
        if status != OK:
            del self._values[token]
            if status == _EINVALIDSTATE:
                raise InvalidStateError(f"{_message().split(':')[0]}: {self!r}")
            raise _error(status)

    def set_result(self, result):
        self._set(result, False)

    def set_exception(self, exception):
        self._set(exception, True)

    __class_getitem__ = classmethod(type(list[int]))

    # CPython's tests make futures in a given state by writing these attributes
    # (Lib/test/test_concurrent_futures/util.py, create_future: _state, then _exception, then
    # _result). The setters drive the rt_future there through its public calls; the getter of
    # _state reads it back.
    @property
    def _state(self):
        if _lib.rt_future_running(self._h):
            return _base.RUNNING
        if _lib.rt_future_cancelled(self._h):
            code = _int()
            notified = _lib.rt_future_exception(self._h, 0.0, ctypes.byref(code))
            r = _vp()
            arr = (_vp * 1)(self._h)
            done = (ctypes.c_bool * 1)()
            _lib.rt_wait(arr, 1, 0.0, 1, done, None)
            del notified, r
            return _base.CANCELLED_AND_NOTIFIED if done[0] else _base.CANCELLED
        if _lib.rt_future_done(self._h):
            return _base.FINISHED
        return _base.PENDING

    @_state.setter
    def _state(self, state):
        if state == _base.RUNNING:
            self.set_running_or_notify_cancel()
        elif state in (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED):
            self.cancel()
            if state == _base.CANCELLED_AND_NOTIFIED:
                self.set_running_or_notify_cancel()
        elif state == _base.FINISHED:
            self._finish_pending = True

    @property
    def _exception(self):
        return self.exception(0) if self._state == _base.FINISHED else None

    @_exception.setter
    def _exception(self, exc):
        if exc is not None and self.__dict__.pop("_finish_pending", False):
            self.set_exception(exc)

    @property
    def _result(self):
        return self.result(0) if self._state == _base.FINISHED and not self._exception else None

    @_result.setter
    def _result(self, result):
        if self.__dict__.pop("_finish_pending", False):
            self.set_result(result)


def _callback_entry(handle, token):
    future, fn = _kept.pop(token)
    try:
        fn(future)
    except Exception:
        LOGGER.exception("exception calling callback for %r", future)


_CALLBACK_ENTRY = _CALLBACK_FN(_callback_entry)


def _task_entry(token, result):
    values, fn, args, kwargs = _kept[token]
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:
        code = next(_tokens)
        values[code] = exc
        _lib.rt_set_error_message(str(exc).encode("utf-8", "replace"))
        return code
    key = next(_tokens)
    values[key] = value
    result[0] = key
    return 0


def _free_entry(token):
    _kept.pop(token, None)


def _init_entry(token):
    initializer, initargs = _kept[token]
    try:
        initializer(*initargs)
        return 0
    except BaseException:
        LOGGER.critical("Exception in initializer:", exc_info=True)
        return 1


_TASK_ENTRY = _TASK_FN(_task_entry)
_FREE_ENTRY = _FREE_FN(_free_entry)
_INIT_ENTRY = _INIT_FN(_init_entry)
_NO_INIT = ctypes.cast(None, _INIT_FN)
_NO_FREE = ctypes.cast(None, _FREE_FN)


class ThreadPoolExecutor(_base.Executor):
    """concurrent.futures.ThreadPoolExecutor, on an rt_executor."""

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        if max_workers is None:
            cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            max_workers = min(32, (cpus or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._max_workers = max_workers
        self._init_token = None
        if initializer is not None:
            self._init_token = next(_tokens)
            _kept[self._init_token] = (initializer, tuple(initargs))
        self._h = _vp()
        status = _lib.rt_executor_new(
            max_workers, (thread_name_prefix or "").encode(),
            _INIT_ENTRY if initializer is not None else _NO_INIT, self._init_token,
            ctypes.byref(self._h))
        if status != OK:
            raise _error(status)

    def submit(self, fn, /, *args, **kwargs):
        values = {}
        token = next(_tokens)
        _kept[token] = (values, fn, args, kwargs)
        h = _vp()
        status = _lib.rt_executor_submit(self._h, _TASK_ENTRY, token, _FREE_ENTRY,
                                         _NO_FREE, ctypes.byref(h))
        if status != OK:
            _kept.pop(token, None)
            if status == _EBROKEN:
                raise BrokenThreadPool(_message())
            raise RuntimeError(_message()) if status == _ESHUTDOWN else _error(status)
        return Future._wrap(h, values)

    submit.__doc__ = _base.Executor.submit.__doc__

    def shutdown(self, wait=True, *, cancel_futures=False):
        status = _lib.rt_executor_shutdown(self._h, bool(wait), bool(cancel_futures))
        if status == OK:
            return
        raise _error(status)

    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def __del__(self):
        h = getattr(self, "_h", None)
        if h and _lib is not None:
            _lib.rt_executor_free(h)
            self._h = None
            if self._init_token is not None:
                _kept.pop(self._init_token, None)


def _handles(fs):
    fs = list(fs)
    return fs, (_vp * max(len(fs), 1))(*[f._h for f in fs])


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """concurrent.futures.wait: (done, not_done) once the condition holds or the time is up."""
    fs = set(fs)
    if return_when not in _RETURN_WHEN:
        raise ValueError(f"Invalid return condition: {return_when!r}")
    lst, arr = _handles(fs)
    done = (ctypes.c_bool * max(len(lst), 1))()
    status = _lib.rt_wait(arr, len(lst), _timeout(timeout), _RETURN_WHEN[return_when], done, None)
    if status not in (OK, _TIMEOUT):
        raise _error(status)
    finished = {f for f, d in zip(lst, done) if d}
    return DoneAndNotDone(finished, fs - finished)


def as_completed(fs, timeout=None):
    """concurrent.futures.as_completed: each future once, as it completes."""
    fs = set(fs)
    lst, arr = _handles(fs)
    by_handle = {f._h.value: f for f in lst}
    it = _vp()
    status = _lib.rt_as_completed_new(arr, len(lst), -1.0 if timeout is None else max(float(timeout), 0.0),
                                      ctypes.byref(it))
    del fs, lst  # a future given out is referenced by the caller only (as CPython)
    if status != OK:
        raise _error(status)
    try:
        out = _vp()
        while True:
            status = _lib.rt_as_completed_next(it, ctypes.byref(out))
            if status == _TIMEOUT:
                raise TimeoutError(_message())
            if status != OK:
                raise _error(status)
            if not out.value:
                return
            yield by_handle.pop(out.value)
    finally:
        _lib.rt_as_completed_free(it)
