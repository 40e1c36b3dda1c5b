"""rthread from Python, through ctypes: Python's threading model, served by the C library.

The classes mirror ``threading`` and ``queue`` (Lock, RLock, Condition, Semaphore,
BoundedSemaphore, Event, Barrier, Thread, Timer, Queue, LifoQueue, PriorityQueue, SimpleQueue)
and raise Python's own exceptions (RuntimeError, ValueError, OverflowError, queue.Full,
queue.Empty, queue.ShutDown, threading.BrokenBarrierError), with rthread's messages, which are
CPython's. Only the standard library is used.

The library is found through the ``RTHREAD_LIB`` environment variable (the path of
``librthread.so``, or of the directory holding it), else next to this file, else by the
system's search (``ctypes.util.find_library("rthread")``).

The GIL: ctypes releases it around every call into rthread, so a blocking call (acquire, wait,
join, get) lets the other Python threads run. Callbacks into Python (a thread's target, a
predicate, a barrier action, a priority queue's comparison) take it back through ctypes.

Ctrl-C: as in CPython, a blocking call in the main thread (acquire, wait, join, get, put)
ends with KeyboardInterrupt (or whatever the SIGINT handler raises). At import, and before
each blocking call in the main thread, the binding makes rthread's SIGINT handler
(``rt_interrupt_main_on_signal``) run ahead of Python's: it ends the wait with RT_EINTR, the
binding lets the interpreter run its signal handlers, and retries the call with the time left
if they did not raise. Only while Python's own SIGINT handler is installed (not after
``signal.signal(SIGINT, SIG_DFL)`` or ``SIG_IGN``).

Where rthread and CPython differ (a NaN timeout is a ValueError here where CPython may spin; a
Condition needs an rthread Lock or RLock), the difference is rthread's, documented in
docs/differences.md.
"""

import ctypes
import ctypes.util
import itertools
import os
import queue as _queue
import signal as _signal
import sys
import threading as _threading
import time as _time

__all__ = [
    "Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Event", "Barrier",
    "BrokenBarrierError", "Thread", "Timer", "Queue", "LifoQueue", "PriorityQueue",
    "SimpleQueue", "Full", "Empty", "ShutDown", "TIMEOUT_MAX", "allocate_lock",
    "start_new_thread", "exit_thread", "get_ident", "get_native_id", "active_count",
    "current_thread", "main_thread", "enumerate", "stack_size", "set_blocking_hooks", "local",
    "version", "object_name", "dump_threads", "set_debug", "DEBUG_DEADLOCK",
    "DEBUG_LOCK_ORDER", "DEBUG_CONTENTION", "DEBUG_HOLDERS",
]


def _load():
    name = "librthread.dylib" if sys.platform == "darwin" else "librthread.so"
    env = os.environ.get("RTHREAD_LIB")
    candidates = []
    if env:
        candidates.append(os.path.join(env, name) if os.path.isdir(env) else env)
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        candidates.append(os.path.join(here, name))
        found = ctypes.util.find_library("rthread")
        if found:
            candidates.append(found)
    for path in candidates:
        if env or os.path.exists(path) or not os.path.dirname(path):
            return ctypes.CDLL(path)
    raise ImportError("librthread not found: set RTHREAD_LIB to the path of " + name)


_lib = _load()

_c_int, _c_bool, _c_size, _c_double = ctypes.c_int, ctypes.c_bool, ctypes.c_size_t, ctypes.c_double
_c_u64, _c_i64, _c_void_p, _c_char_p = ctypes.c_uint64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_char_p
_P = ctypes.POINTER

_THREAD_FN = ctypes.CFUNCTYPE(None, _c_void_p)
_INT_FN = ctypes.CFUNCTYPE(_c_int, _c_void_p)  # predicates and barrier actions
_ITEM_FN = ctypes.CFUNCTYPE(None, _c_void_p)  # queue item destructor, blocking hooks
_COMPARE_FN = ctypes.CFUNCTYPE(_c_int, _c_void_p, _c_void_p)

for _name, _res, _args in [
    ("rt_last_error", _c_char_p, []),
    ("rt_status_str", _c_char_p, [_c_int]),
    ("rt_timeout_max", _c_double, []),
    ("rt_lock_new", _c_int, [_P(_c_void_p)]),
    ("rt_lock_free", _c_int, [_c_void_p]),
    ("rt_lock_acquire", _c_int, [_c_void_p, _c_int, _c_double]),
    ("rt_lock_release", _c_int, [_c_void_p]),
    ("rt_lock_locked", _c_bool, [_c_void_p]),
    ("rt_rlock_new", _c_int, [_P(_c_void_p)]),
    ("rt_rlock_free", _c_int, [_c_void_p]),
    ("rt_rlock_acquire", _c_int, [_c_void_p, _c_int, _c_double]),
    ("rt_rlock_release", _c_int, [_c_void_p]),
    ("rt_rlock_is_owned", _c_bool, [_c_void_p]),
    ("rt_rlock_count", _c_u64, [_c_void_p]),
    ("rt_condition_new", _c_int, [_P(_c_void_p)]),
    ("rt_condition_new_with_lock", _c_int, [_c_void_p, _P(_c_void_p)]),
    ("rt_condition_new_with_rlock", _c_int, [_c_void_p, _P(_c_void_p)]),
    ("rt_condition_free", _c_int, [_c_void_p]),
    ("rt_condition_acquire", _c_int, [_c_void_p, _c_int, _c_double]),
    ("rt_condition_release", _c_int, [_c_void_p]),
    ("rt_condition_wait", _c_int, [_c_void_p, _c_double]),
    ("rt_condition_wait_for", _c_int, [_c_void_p, _INT_FN, _c_void_p, _c_double]),
    ("rt_condition_notify", _c_int, [_c_void_p, _c_size]),
    ("rt_condition_notify_all", _c_int, [_c_void_p]),
    ("rt_semaphore_new", _c_int, [_c_i64, _P(_c_void_p)]),
    ("rt_bounded_semaphore_new", _c_int, [_c_i64, _P(_c_void_p)]),
    ("rt_semaphore_free", _c_int, [_c_void_p]),
    ("rt_semaphore_acquire", _c_int, [_c_void_p, _c_int, _c_double]),
    ("rt_semaphore_release", _c_int, [_c_void_p, _c_u64]),
    ("rt_semaphore_value", _c_i64, [_c_void_p]),
    ("rt_event_new", _c_int, [_P(_c_void_p)]),
    ("rt_event_free", _c_int, [_c_void_p]),
    ("rt_event_set", _c_int, [_c_void_p]),
    ("rt_event_clear", _c_int, [_c_void_p]),
    ("rt_event_is_set", _c_bool, [_c_void_p]),
    ("rt_event_wait", _c_int, [_c_void_p, _c_double]),
    ("rt_barrier_new", _c_int, [_c_size, _INT_FN, _c_void_p, _c_double, _P(_c_void_p)]),
    ("rt_barrier_free", _c_int, [_c_void_p]),
    ("rt_barrier_wait", _c_int, [_c_void_p, _c_double, _P(_c_size)]),
    ("rt_barrier_reset", _c_int, [_c_void_p]),
    ("rt_barrier_abort", _c_int, [_c_void_p]),
    ("rt_barrier_parties", _c_size, [_c_void_p]),
    ("rt_barrier_n_waiting", _c_size, [_c_void_p]),
    ("rt_barrier_broken", _c_bool, [_c_void_p]),
    ("rt_queue_new", _c_int, [_c_size, _ITEM_FN, _P(_c_void_p)]),
    ("rt_lifo_queue_new", _c_int, [_c_size, _ITEM_FN, _P(_c_void_p)]),
    ("rt_priority_queue_new", _c_int, [_c_size, _COMPARE_FN, _ITEM_FN, _P(_c_void_p)]),
    ("rt_simple_queue_new", _c_int, [_ITEM_FN, _P(_c_void_p)]),
    ("rt_queue_free", _c_int, [_c_void_p]),
    ("rt_queue_put", _c_int, [_c_void_p, _c_void_p, _c_int, _c_double]),
    ("rt_queue_get", _c_int, [_c_void_p, _c_int, _c_double, _P(_c_void_p)]),
    ("rt_queue_qsize", _c_size, [_c_void_p]),
    ("rt_queue_empty", _c_bool, [_c_void_p]),
    ("rt_queue_full", _c_bool, [_c_void_p]),
    ("rt_queue_maxsize", _c_size, [_c_void_p]),
    ("rt_queue_task_done", _c_int, [_c_void_p]),
    ("rt_queue_unfinished_tasks", _c_size, [_c_void_p]),
    ("rt_queue_join", _c_int, [_c_void_p]),
    ("rt_queue_shutdown", _c_int, [_c_void_p, _c_int]),
    ("rt_queue_is_shutdown", _c_bool, [_c_void_p]),
    ("rt_thread_new", _c_int, [_THREAD_FN, _c_void_p, _P(_c_void_p)]),
    ("rt_thread_start", _c_int, [_c_void_p]),
    ("rt_thread_join", _c_int, [_c_void_p, _c_double]),
    ("rt_thread_is_alive", _c_bool, [_c_void_p]),
    ("rt_thread_name", _c_int, [_c_void_p, _c_char_p, _c_size]),
    ("rt_thread_name_len", _c_int, [_c_void_p, _P(_c_size)]),
    ("rt_thread_set_name", _c_int, [_c_void_p, _c_char_p]),
    ("rt_thread_daemon", _c_bool, [_c_void_p]),
    ("rt_thread_set_daemon", _c_int, [_c_void_p, _c_bool]),
    ("rt_thread_ident", _c_u64, [_c_void_p]),
    ("rt_thread_native_id", _c_u64, [_c_void_p]),
    ("rt_thread_retain", _c_int, [_c_void_p]),
    ("rt_thread_release", _c_int, [_c_void_p]),
    ("rt_active_count", _c_size, []),
    ("rt_enumerate", _c_int, [_P(_c_void_p), _c_size, _P(_c_size)]),
    ("rt_current_thread", _c_int, [_P(_c_void_p)]),
    ("rt_main_thread", _c_int, [_P(_c_void_p)]),
    ("rt_shutdown", _c_int, [_c_double]),
    ("rt_start_new_thread", _c_int, [_THREAD_FN, _c_void_p, _P(_c_u64)]),
    ("rt_get_ident", _c_u64, []),
    ("rt_get_native_id", _c_u64, []),
    ("rt_stack_size_get", _c_size, []),
    ("rt_stack_size_set", _c_int, [_c_size, _P(_c_size)]),
    ("rt_thread_count", _c_size, []),
    ("rt_set_blocking_hooks", None, [_ITEM_FN, _ITEM_FN, _c_void_p]),
    ("rt_interrupt_main_on_signal", _c_int, [_c_int]),
    ("rt_version_str", _c_char_p, []),
    ("rt_object_set_name", _c_int, [_c_void_p, _c_char_p]),
    ("rt_object_name", _c_int, [_c_void_p, _c_char_p, _c_size]),
    ("rt_set_debug", _c_int, [ctypes.c_uint]),
    ("rt_get_debug", ctypes.c_uint, []),
    ("rt_dump_threads", _c_int, [_c_int]),
]:
    _f = getattr(_lib, _name)
    _f.restype, _f.argtypes = _res, _args

# rt_status codes (rthread.h).
(OK, _TIMEOUT, _EINVAL, _EOVERFLOW, _ENOTLOCKED, _ENOTOWNER, _ESTATE, _EDEADLK, _EBROKEN,
 _EFULL, _EEMPTY, _ESHUTDOWN, _EOVERRELEASE, _EAGAIN, _ENOMEM, _EBUSY, _EINTR) = range(17)

TIMEOUT_MAX = _lib.rt_timeout_max()
BrokenBarrierError = _threading.BrokenBarrierError
Full = _queue.Full
Empty = _queue.Empty
ShutDown = getattr(_queue, "ShutDown", None)
if ShutDown is None:  # Python < 3.13

    class ShutDown(Exception):
        """Raised when put or get is called on a queue that has been shut down."""


def _error(status):
    """The Python exception for a status, with rthread's message (CPython's wording)."""
    message = _lib.rt_last_error().decode("utf-8", "replace")
    if status in (_EINVAL, _EOVERRELEASE):
        return ValueError(message)
    if status == _EOVERFLOW:
        return OverflowError(message)
    if status == _EBROKEN:
        return BrokenBarrierError()
    if status == _EFULL:
        return Full()
    if status == _EEMPTY:
        return Empty()
    if status == _ESHUTDOWN:
        return ShutDown()
    if status == _ENOMEM:
        return MemoryError(message)
    if status == _EINTR:
        return InterruptedError(message)
    return RuntimeError(message)  # ENOTLOCKED, ENOTOWNER, ESTATE, EDEADLK, EAGAIN, EBUSY


_MAIN_IDENT = _threading.main_thread().ident
_check_signals = ctypes.pythonapi.PyErr_CheckSignals  # raises what a handler raised
_check_signals.restype, _check_signals.argtypes = ctypes.c_int, []


def _arm():
    """In the main thread, with Python's SIGINT handler in place: (re)installs rthread's SIGINT
    handler in front of it, so that Ctrl-C ends the main thread's blocking call (a no-op when
    it is installed already)."""
    if _threading.get_ident() == _MAIN_IDENT and callable(_signal.getsignal(_signal.SIGINT)):
        _lib.rt_interrupt_main_on_signal(_signal.SIGINT)


def _interruptible(call, timeout):
    """Runs ``call(timeout)`` (a blocking rthread call; ``timeout`` as rthread takes it, -1 for
    no bound) and returns its status. In the main thread, a call ended by a signal (RT_EINTR)
    lets the interpreter run its signal handlers (KeyboardInterrupt propagates from here) and
    is made again with the time left."""
    if _threading.get_ident() != _MAIN_IDENT:
        return call(timeout)
    _arm()
    deadline = _time.monotonic() + timeout if timeout > 0 else None
    while True:
        status = call(timeout)
        if status != _EINTR:
            return status
        _check_signals()
        if deadline is not None:
            timeout = max(0.0, deadline - _time.monotonic())


def _check(status):
    if status != OK:
        raise _error(status)


def _timed(status):
    """True for RT_OK, False for RT_TIMEOUT; raises for anything else."""
    if status == OK:
        return True
    if status == _TIMEOUT:
        return False
    raise _error(status)


def _none_forever(timeout):
    """A ``timeout=None`` argument as rthread's double (None: -1, without bound)."""
    return -1.0 if timeout is None else float(timeout)


def _queue_timeout(timeout):
    """A queue's ``timeout``: None waits without bound; a negative value must stay an error
    (ValueError), so it must not reach rthread as -1, which means "no bound" there."""
    if timeout is None:
        return -1.0
    timeout = float(timeout)
    return -2.0 if timeout < 0 else timeout


def _poll_if_negative(timeout):
    """For the calls where Python treats a negative timeout as 0 (join, wait, Semaphore)."""
    if timeout is None:
        return -1.0
    timeout = float(timeout)
    return 0.0 if timeout < 0 else timeout


def _new(fn, *args):
    handle = _c_void_p()
    _check(fn(*args, ctypes.byref(handle)))
    return handle


_tokens = itertools.count(1)  # keys for Python objects handed to C as void * (never 0)
_tls = _threading.local()


def _set_object_name(handle, name):
    if name is not None:
        _check(_lib.rt_object_set_name(handle, str(name).encode("utf-8")))


# rt_set_debug flags (rthread.h's RT_DEBUG_*).
DEBUG_DEADLOCK, DEBUG_LOCK_ORDER, DEBUG_CONTENTION, DEBUG_HOLDERS = 1, 2, 4, 8


def set_debug(flags):
    """Switches rthread's debug modes (rt_set_debug): a combination of DEBUG_DEADLOCK,
    DEBUG_LOCK_ORDER, DEBUG_CONTENTION and DEBUG_HOLDERS; 0 switches them off. Returns the
    modes that were in force."""
    before = _lib.rt_get_debug()
    _check(_lib.rt_set_debug(int(flags)))
    return before


def object_name(obj):
    """The name an rthread object was given (name= at construction), "" if none; a thread's
    name for a Thread."""
    size = 64
    while True:
        buf = ctypes.create_string_buffer(size)
        status = _lib.rt_object_name(obj._h, buf, size)
        if status == OK:
            return buf.value.decode("utf-8")
        if status != _EINVAL or size > 1 << 20:
            _check(status)
        size *= 4


def dump_threads(file=None):
    """Writes rthread's thread dump (rt_dump_threads) to `file` (a file with a fileno();
    default sys.stderr): every thread, and what each is blocked on."""
    file = sys.stderr if file is None else file
    file.flush()
    _check(_lib.rt_dump_threads(file.fileno()))


def _free(fn, handle):
    if handle and _lib is not None:
        try:
            fn(handle)
        except Exception:
            pass


class Lock:
    """threading.Lock: any thread may release it. A context manager."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, *, name=None):
        self._h = _new(_lib.rt_lock_new)
        _set_object_name(self._h, name)

    def acquire(self, blocking=True, timeout=-1):
        """Acquires the lock; True on success, False when it timed out or was busy."""
        b = 1 if blocking else 0
        return _timed(_interruptible(lambda t: _lib.rt_lock_acquire(self._h, b, t),
                                     float(timeout)))

    def release(self):
        """Releases the lock; RuntimeError if it is not locked."""
        _check(_lib.rt_lock_release(self._h))

    def locked(self):
        """True if the lock is held (by any thread)."""
        return _lib.rt_lock_locked(self._h)

    acquire_lock, release_lock, locked_lock = acquire, release, locked
    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        state = "locked" if self.locked() else "unlocked"
        return f"<{state} {type(self).__module__}.{type(self).__qualname__} object at {id(self):#x}>"

    def __del__(self):
        _free(_lib.rt_lock_free, getattr(self, "_h", None))


allocate_lock = Lock


class RLock:
    """threading.RLock: re-entrant; only its owner may release it. A context manager."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, *, name=None):
        self._h = _new(_lib.rt_rlock_new)
        _set_object_name(self._h, name)

    def acquire(self, blocking=True, timeout=-1):
        """Acquires the lock (again, if the caller owns it); True on success."""
        b = 1 if blocking else 0
        return _timed(_interruptible(lambda t: _lib.rt_rlock_acquire(self._h, b, t),
                                     float(timeout)))

    def release(self):
        """Releases one level; RuntimeError if the caller does not own the lock."""
        _check(_lib.rt_rlock_release(self._h))

    def _is_owned(self):
        return _lib.rt_rlock_is_owned(self._h)

    def _recursion_count(self):
        return _lib.rt_rlock_count(self._h)

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        state = "locked" if self._is_owned() else "unlocked"
        return (f"<{state} {type(self).__module__}.{type(self).__qualname__} object "
                f"count={self._recursion_count()} at {id(self):#x}>")

    def __del__(self):
        _free(_lib.rt_rlock_free, getattr(self, "_h", None))


# Callbacks with Python state behind a token: the C side gets the token as its void *ctx.
_callbacks = {}


class _CallState:
    __slots__ = ("fn", "value", "error")

    def __init__(self, fn):
        self.fn, self.value, self.error = fn, None, None


def _call_int(ctx):
    """A predicate or a barrier action: non-zero for a true predicate or a failed action."""
    state = _callbacks.get(ctx)
    if state is None:
        return 1
    try:
        state.value = state.fn()
        return 1 if state.value else 0
    except BaseException as e:  # noqa: BLE001 - it must not cross into C
        state.error = e
        return 1


def _call_action(ctx):
    """A barrier's action, in the thread that arrived last: its exception goes to that thread."""
    state = _callbacks.get(ctx)
    try:
        if state is not None:
            state.fn()
        return 0
    except BaseException as e:  # noqa: BLE001 - it must not cross into C
        _tls.action_error = e
        return 1  # breaks the barrier


_INT_CALLBACK = _INT_FN(_call_int)
_ACTION_CALLBACK = _INT_FN(_call_action)


class Condition:
    """threading.Condition(lock=None): with a new RLock, or an rthread Lock or RLock."""

    def __init__(self, lock=None, *, name=None):
        if lock is None:
            self._h = _new(_lib.rt_condition_new)
        elif isinstance(lock, Lock):
            self._h = _new(_lib.rt_condition_new_with_lock, lock._h)
        elif isinstance(lock, RLock):
            self._h = _new(_lib.rt_condition_new_with_rlock, lock._h)
        else:
            raise TypeError("Condition lock must be an rthread Lock or RLock, not "
                            + type(lock).__name__)
        _set_object_name(self._h, name)
        self._lock = lock  # borrowed by the C condition: keep it alive

    def acquire(self, blocking=True, timeout=-1):
        """Acquires the condition's lock; True on success."""
        b = 1 if blocking else 0
        return _timed(_interruptible(lambda t: _lib.rt_condition_acquire(self._h, b, t),
                                     float(timeout)))

    def release(self):
        """Releases the condition's lock (one level of an RLock)."""
        _check(_lib.rt_condition_release(self._h))

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def wait(self, timeout=None):
        """True when notified, False when the timeout passed first."""
        return _timed(_interruptible(lambda t: _lib.rt_condition_wait(self._h, t),
                                     _poll_if_negative(timeout)))

    def wait_for(self, predicate, timeout=None):
        """Waits until predicate() is true; returns its last value (false: timed out)."""
        if not callable(predicate):
            raise TypeError("predicate must be callable")
        token = next(_tokens)
        state = _callbacks[token] = _CallState(predicate)
        try:
            status = _interruptible(
                lambda t: _lib.rt_condition_wait_for(self._h, _INT_CALLBACK, token, t),
                _poll_if_negative(timeout))
        finally:
            del _callbacks[token]
        if state.error is not None:
            raise state.error
        if status not in (OK, _TIMEOUT):
            raise _error(status)
        return state.value

    def notify(self, n=1):
        """Wakes up to n threads waiting on the condition; the caller must own its lock."""
        _check(_lib.rt_condition_notify(self._h, max(0, int(n))))

    def notify_all(self):
        """Wakes every thread waiting on the condition; the caller must own its lock."""
        _check(_lib.rt_condition_notify_all(self._h))

    notifyAll = notify_all

    def __repr__(self):
        return f"<Condition({self._lock!r})>"

    def __del__(self):
        _free(_lib.rt_condition_free, getattr(self, "_h", None))


class Semaphore:
    """threading.Semaphore(value=1). A context manager."""

    _new_fn = "rt_semaphore_new"

    def __init__(self, value=1, *, name=None):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._h = _new(getattr(_lib, self._new_fn), int(value))
        self._initial = int(value)
        _set_object_name(self._h, name)

    def acquire(self, blocking=True, timeout=None):
        """Takes one unit, waiting up to `timeout` (None: without bound); True on success."""
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        b = 1 if blocking else 0
        return _timed(_interruptible(lambda t: _lib.rt_semaphore_acquire(self._h, b, t),
                                     _poll_if_negative(timeout)))

    def release(self, n=1):
        """Gives back n units (ValueError for a BoundedSemaphore released past its value)."""
        if n < 1:
            raise ValueError("n must be one or more")
        if n >= 1 << 63:
            raise OverflowError("semaphore value would exceed its maximum")
        _check(_lib.rt_semaphore_release(self._h, int(n)))

    @property
    def _value(self):
        return _lib.rt_semaphore_value(self._h)

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()

    def __repr__(self):
        return f"<{type(self).__module__}.Semaphore at {id(self):#x}: value={self._value}>"

    def __del__(self):
        _free(_lib.rt_semaphore_free, getattr(self, "_h", None))


class BoundedSemaphore(Semaphore):
    """threading.BoundedSemaphore(value=1): releasing past the initial value is a ValueError."""

    _new_fn = "rt_bounded_semaphore_new"

    def __repr__(self):
        return (f"<{type(self).__module__}.BoundedSemaphore at {id(self):#x}: "
                f"value={self._value}/{self._initial}>")


class Event:
    """threading.Event."""

    def __init__(self, *, name=None):
        self._h = _new(_lib.rt_event_new)
        _set_object_name(self._h, name)

    def is_set(self):
        """True if the flag is set."""
        return _lib.rt_event_is_set(self._h)

    isSet = is_set

    def set(self):
        """Sets the flag and wakes every waiting thread."""
        _check(_lib.rt_event_set(self._h))

    def clear(self):
        """Clears the flag."""
        _check(_lib.rt_event_clear(self._h))

    def wait(self, timeout=None):
        """True when the flag is (or gets) set; False on a timeout (negative or NaN: at once,
        as in Python)."""
        if timeout is not None:
            timeout = float(timeout)
            if timeout != timeout or timeout < 0:
                timeout = 0.0
        return _timed(_interruptible(lambda t: _lib.rt_event_wait(self._h, t),
                                     _none_forever(timeout)))

    def __repr__(self):
        state = "set" if self.is_set() else "unset"
        return f"<{type(self).__module__}.Event at {id(self):#x}: {state}>"

    def __del__(self):
        _free(_lib.rt_event_free, getattr(self, "_h", None))


class Barrier:
    """threading.Barrier(parties, action=None, timeout=None)."""

    def __init__(self, parties, action=None, timeout=None, *, name=None):
        if action is not None and not callable(action):
            raise TypeError("action must be callable")
        if int(parties) < 1:  # C's size_t would take -1 as a huge count
            raise ValueError("parties must be > 0")
        self._token = next(_tokens) if action is not None else None
        if action is not None:
            _callbacks[self._token] = _CallState(action)
        try:
            self._h = _new(_lib.rt_barrier_new, int(parties),
                           _ACTION_CALLBACK if action is not None else _INT_FN(),
                           self._token, _poll_if_negative(timeout))
        except BaseException:
            _callbacks.pop(self._token, None)
            raise
        _set_object_name(self._h, name)

    def wait(self, timeout=None):
        """Returns the arrival index; raises BrokenBarrierError when the barrier breaks. The
        thread whose action raised gets the action's exception."""
        index = _c_size()
        _tls.action_error = None
        status = _lib.rt_barrier_wait(self._h, _poll_if_negative(timeout), ctypes.byref(index))
        error, _tls.action_error = _tls.action_error, None
        if status == _EINTR and _threading.get_ident() == _MAIN_IDENT:
            # The interrupt broke the barrier (as an exception in a waiter does in CPython).
            _check_signals()
            raise BrokenBarrierError
        if error is not None:
            raise error
        _check(status)
        return index.value

    def reset(self):
        """Puts the barrier back to its initial state; waiting threads get BrokenBarrierError."""
        _check(_lib.rt_barrier_reset(self._h))

    def abort(self):
        """Breaks the barrier: current and later waits raise BrokenBarrierError."""
        _check(_lib.rt_barrier_abort(self._h))

    @property
    def parties(self):
        """The number of threads the barrier waits for."""
        return _lib.rt_barrier_parties(self._h)

    @property
    def n_waiting(self):
        """The number of threads waiting at the barrier now."""
        return _lib.rt_barrier_n_waiting(self._h)

    @property
    def broken(self):
        """True if the barrier is broken."""
        return _lib.rt_barrier_broken(self._h)

    def __repr__(self):
        if self.broken:
            return f"<{type(self).__module__}.Barrier at {id(self):#x}: broken>"
        return (f"<{type(self).__module__}.Barrier at {id(self):#x}: "
                f"waiters={self.n_waiting}/{self.parties}>")

    def __del__(self):
        _free(_lib.rt_barrier_free, getattr(self, "_h", None))
        if _callbacks is not None:
            _callbacks.pop(getattr(self, "_token", None), None)


# Threads ---------------------------------------------------------------------------------

_starting = {}  # token -> Thread, from start() until its thread picks it up
_running = {}  # ident -> Thread, while its target runs


def _thread_entry(token):
    thread = _starting.pop(token, None)
    if thread is None:
        return
    ident = _lib.rt_get_ident()
    _running[ident] = thread
    _tls.current = thread
    try:
        thread._bootstrap()
    finally:
        _tls.current = None
        _running.pop(ident, None)


_THREAD_ENTRY = _THREAD_FN(_thread_entry)


def _handle_name(handle):
    size = _c_size()
    _check(_lib.rt_thread_name_len(handle, ctypes.byref(size)))
    buf = ctypes.create_string_buffer(size.value + 1)
    _check(_lib.rt_thread_name(handle, buf, len(buf)))
    return buf.value.decode("utf-8")


def _current_daemon():
    mine = getattr(_tls, "current", None)
    if mine is not None:
        return mine.daemon
    return _threading.current_thread().daemon


class Thread:
    """threading.Thread(group=None, target=None, name=None, args=(), kwargs=None, *,
    daemon=None), run by an rthread thread object. Subclasses may override run()."""

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *,
                 daemon=None):
        assert group is None, "group argument must be None for now"
        self._target, self._args, self._kwargs = target, tuple(args), dict(kwargs or {})
        self._token = next(_tokens)
        self._h = _new(_lib.rt_thread_new, _THREAD_ENTRY, self._token)
        if name:
            self.name = str(name)
        elif target is not None and hasattr(target, "__name__"):
            self.name = f"{_handle_name(self._h)} ({target.__name__})"
        self.daemon = _current_daemon() if daemon is None else daemon
        self._started = False

    @classmethod
    def _wrap(cls, handle):
        """A Python object for a thread object rthread made (main thread, dummies, …)."""
        self = object.__new__(cls)
        self._target, self._args, self._kwargs = None, (), {}
        self._token, self._h, self._started = None, handle, True
        return self

    def start(self):
        """Starts the thread (once); it runs run() in a new rthread thread."""
        if self._token is None or self._started:
            raise RuntimeError("threads can only be started once")
        _starting[self._token] = self
        status = _lib.rt_thread_start(self._h)
        if status != OK:
            _starting.pop(self._token, None)
            raise _error(status)
        self._started = True

    def run(self):
        """The thread's activity: calls the target with its arguments; override in a subclass."""
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        finally:
            del self._target, self._args, self._kwargs  # as Python: no cycle through args

    def _bootstrap(self):
        try:
            self.run()
        except SystemExit:
            pass
        except BaseException:
            self._invoke_excepthook(*sys.exc_info())

    def _invoke_excepthook(self, exc_type, exc_value, exc_tb):
        try:
            _threading.excepthook(_threading.ExceptHookArgs((exc_type, exc_value, exc_tb, self)))
        except BaseException:  # noqa: BLE001 - as threading does
            if sys.stderr is not None:
                print("Exception in threading.excepthook:", file=sys.stderr, flush=True)
            sys.excepthook(*sys.exc_info())

    def join(self, timeout=None):
        """Waits until the thread ends, or `timeout` seconds; returns None either way."""
        status = _interruptible(lambda t: _lib.rt_thread_join(self._h, t),
                                _poll_if_negative(timeout))
        if status not in (OK, _TIMEOUT):
            raise _error(status)

    def is_alive(self):
        """True from just before run() starts until just after it ends."""
        return _lib.rt_thread_is_alive(self._h)

    @property
    def name(self):
        """The thread's name (a string, not unique)."""
        return _handle_name(self._h)

    @name.setter
    def name(self, value):
        _check(_lib.rt_thread_set_name(self._h, str(value).encode("utf-8")))

    @property
    def daemon(self):
        """Whether the thread is a daemon (the process does not wait for it at exit)."""
        return _lib.rt_thread_daemon(self._h)

    @daemon.setter
    def daemon(self, value):
        _check(_lib.rt_thread_set_daemon(self._h, bool(value)))

    @property
    def ident(self):
        """The thread's ident (get_ident() in it), or None before it starts."""
        return _lib.rt_thread_ident(self._h) or None

    @property
    def native_id(self):
        """The kernel's id of the thread, or None before it starts."""
        return _lib.rt_thread_native_id(self._h) or None

    def getName(self):
        """Deprecated alias of the name property (as in CPython)."""
        return self.name

    def setName(self, name):
        """Deprecated alias of setting the name property (as in CPython)."""
        self.name = name

    def isDaemon(self):
        """Deprecated alias of the daemon property (as in CPython)."""
        return self.daemon

    def setDaemon(self, daemonic):
        """Deprecated alias of setting the daemon property (as in CPython)."""
        self.daemon = daemonic

    def __repr__(self):
        if not self._started:
            state = "initial"
        elif self.is_alive():
            state = "started"
        else:
            state = "stopped"
        if self.daemon:
            state += " daemon"
        if self.ident is not None:
            state += f" {self.ident}"
        return f"<{type(self).__name__}({self.name}, {state})>"

    def __del__(self):
        _free(_lib.rt_thread_release, getattr(self, "_h", None))


class Timer(Thread):
    """threading.Timer(interval, function, args=None, kwargs=None): built as CPython builds it,
    a thread that waits on an Event for `interval` seconds (monotonic clock)."""

    def __init__(self, interval, function, args=None, kwargs=None):
        Thread.__init__(self)
        self.interval, self.function = interval, function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = Event()

    def cancel(self):
        """Stops the timer if it is still waiting: the function will not run."""
        self.finished.set()

    def run(self):
        """Waits for the interval, then calls the function unless cancelled."""
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


_main = []  # the main thread's wrapper, once made


def _from_handle(handle):
    """The Python object for a new reference to a thread object (consumes the reference): the
    rthread.Thread that runs it, the one main-thread object, or a new wrapper."""
    ident = _lib.rt_thread_ident(handle)
    known = _running.get(ident)
    if known is None and _main and _main[0].ident == ident:
        known = _main[0]
    if known is not None:
        _lib.rt_thread_release(handle)
        return known
    wrapper = Thread._wrap(handle)
    if _main == [] and _handle_name(handle) == "MainThread" and wrapper.ident:
        main = _c_void_p()
        if _lib.rt_main_thread(ctypes.byref(main)) == OK:
            if _lib.rt_thread_ident(main) == ident:
                _main.append(wrapper)
            _lib.rt_thread_release(main)
    return wrapper


def current_thread():
    """The calling thread's object: the rthread.Thread running it, else a wrapper of rthread's
    own object (MainThread, or a Dummy-N for a thread rthread did not start)."""
    mine = getattr(_tls, "current", None)
    if mine is not None:
        return mine
    return _from_handle(_new(_lib.rt_current_thread))


def main_thread():
    """The main thread's Thread object."""
    return _from_handle(_new(_lib.rt_main_thread))


def enumerate():  # noqa: A001 - the threading name
    """The live threads rthread knows, as Thread objects (threading.enumerate())."""
    while True:
        cap = _lib.rt_active_count() + 4
        buf = (_c_void_p * cap)()
        count = _c_size()
        _check(_lib.rt_enumerate(buf, cap, ctypes.byref(count)))
        if count.value <= cap:
            return [_from_handle(_c_void_p(buf[i])) for i in range(count.value)]
        for i in range(cap):
            _lib.rt_thread_release(buf[i])


def active_count():
    """The number of live threads rthread knows (threading.active_count())."""
    return _lib.rt_active_count()


def get_ident():
    """The calling thread's ident (_thread.get_ident())."""
    return _lib.rt_get_ident()


def get_native_id():
    """The kernel's id of the calling thread."""
    return _lib.rt_get_native_id()


def stack_size(size=0):
    """_thread.stack_size([size]): sets the size for new threads, returns the previous one."""
    if size < 0:
        raise ValueError("size must be 0 or a positive value")
    previous = _c_size()
    _check(_lib.rt_stack_size_set(int(size), ctypes.byref(previous)))
    return previous.value


def _detached_entry(token):
    call = _starting.pop(token, None)
    if call is None:
        return
    function, args, kwargs = call
    try:
        function(*args, **kwargs)
    except SystemExit:
        pass
    except BaseException:  # noqa: BLE001 - printed, as _thread does
        if sys.stderr is not None:
            print(f"Exception ignored in thread started by: {function!r}", file=sys.stderr)
            sys.excepthook(*sys.exc_info())


_DETACHED_ENTRY = _THREAD_FN(_detached_entry)


def start_new_thread(function, args, kwargs=None):
    """_thread.start_new_thread(function, args[, kwargs]): returns the new thread's ident."""
    if not callable(function):
        raise TypeError("first arg must be callable")
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")
    token = next(_tokens)
    _starting[token] = (function, args, kwargs or {})
    ident = _c_u64()
    status = _lib.rt_start_new_thread(_DETACHED_ENTRY, token, ctypes.byref(ident))
    if status != OK:
        _starting.pop(token, None)
        raise _error(status)
    return ident.value


def exit_thread():
    """_thread.exit(): ends the calling thread (raises SystemExit)."""
    raise SystemExit


# Queues ----------------------------------------------------------------------------------

_items = {}  # token -> item, while the item is in a queue
_poisoned = set()  # tokens of priority-queue items whose comparison raised in their put


def _drop_item(token):
    """The item destructor: the queue discarded this item (freed, or immediate shutdown)."""
    if _items is not None:  # None once the module is torn down at interpreter exit
        _items.pop(token, None)
        _poisoned.discard(token)


def _compare(a, b):
    try:
        if a in _poisoned:
            return -1  # sorts first, so the next get drains it at once
        if b in _poisoned:
            return 1
        x, y = _items[a], _items[b]
        if x < y:
            return -1
        return 1 if y < x else 0
    except BaseException as e:  # noqa: BLE001 - it must not cross into C
        new = getattr(_tls, "putting", None)
        if new == a or new == b:
            _poisoned.add(new)
            _tls.put_error = e
            return -1 if new == a else 1
        return 0  # two queued items that do not compare: leave their order as it is


_DROP_ITEM = _ITEM_FN(_drop_item)
_COMPARE = _COMPARE_FN(_compare)


class Queue:
    """queue.Queue(maxsize=0): FIFO; maxsize <= 0 is unbounded. Items are any Python objects,
    kept alive while they are in the queue. `maxsize` is fixed at creation."""

    def __init__(self, maxsize=0, *, name=None):
        self._h = self._make(max(0, int(maxsize)))
        self._npoisoned = 0
        _set_object_name(self._h, name)

    def _make(self, maxsize):
        return _new(_lib.rt_queue_new, maxsize, _DROP_ITEM)

    def put(self, item, block=True, timeout=None):
        """Puts an item, waiting up to `timeout` for room if block (queue.Full when none)."""
        token = next(_tokens)
        _items[token] = item
        b = 1 if block else 0
        status = _interruptible(lambda t: _lib.rt_queue_put(self._h, token, b, t),
                                _queue_timeout(timeout))
        if status != OK:
            _items.pop(token, None)
            raise _error(status)

    def put_nowait(self, item):
        """put(item, False)."""
        self.put(item, False)

    def get(self, block=True, timeout=None):
        """Removes and returns an item, waiting up to `timeout` if block (queue.Empty)."""
        out = _c_void_p()
        b = 1 if block else 0
        _check(_interruptible(lambda t: _lib.rt_queue_get(self._h, b, t, ctypes.byref(out)),
                              _queue_timeout(timeout)))
        return _items.pop(out.value)

    def get_nowait(self):
        """get(False)."""
        return self.get(False)

    def qsize(self):
        """The number of items in the queue (a snapshot)."""
        return max(0, _lib.rt_queue_qsize(self._h) - self._npoisoned)

    def empty(self):
        """True if the queue is empty (a snapshot)."""
        return self.qsize() == 0

    def full(self):
        """True if a bounded queue is full (a snapshot)."""
        return 0 < self.maxsize <= self.qsize()

    @property
    def maxsize(self):
        """The bound given to the constructor (0: unbounded)."""
        return _lib.rt_queue_maxsize(self._h)

    def task_done(self):
        """Marks one item got earlier as processed (ValueError if called too often)."""
        _check(_lib.rt_queue_task_done(self._h))

    def join(self):
        """Waits until every item put has been marked done with task_done()."""
        _check(_interruptible(lambda _t: _lib.rt_queue_join(self._h), -1.0))

    @property
    def unfinished_tasks(self):
        """Items put and not yet marked done."""
        return _lib.rt_queue_unfinished_tasks(self._h)

    def shutdown(self, immediate=False):
        """Shuts the queue down: put raises ShutDown; get too once empty, or at once if immediate."""
        _check(_lib.rt_queue_shutdown(self._h, 1 if immediate else 0))

    @property
    def is_shutdown(self):
        """True once shutdown() was called."""
        return _lib.rt_queue_is_shutdown(self._h)

    def __del__(self):
        _free(_lib.rt_queue_free, getattr(self, "_h", None))


class LifoQueue(Queue):
    """queue.LifoQueue(maxsize=0): the last item put leaves first."""

    def _make(self, maxsize):
        return _new(_lib.rt_lifo_queue_new, maxsize, _DROP_ITEM)


class PriorityQueue(Queue):
    """queue.PriorityQueue(maxsize=0): the smallest item (by <) leaves first; equal items in
    the order they were put. A put whose item cannot be compared raises TypeError, and the item
    never comes out (CPython 3.13.0 leaves it in the heap); until a get passes its place, it
    still takes room in a bounded queue."""

    def _make(self, maxsize):
        return _new(_lib.rt_priority_queue_new, maxsize, _COMPARE, _DROP_ITEM)

    def put(self, item, block=True, timeout=None):
        """Puts an item in priority order (see the class); as Queue.put."""
        token = next(_tokens)
        _items[token] = item
        _tls.putting, _tls.put_error = token, None
        try:
            b = 1 if block else 0
            status = _interruptible(lambda t: _lib.rt_queue_put(self._h, token, b, t),
                                    _queue_timeout(timeout))
        finally:
            _tls.putting = None
        error, _tls.put_error = _tls.put_error, None
        if status != OK:
            _items.pop(token, None)
            _poisoned.discard(token)
            raise _error(status)
        if error is not None:
            _items.pop(token, None)
            self._npoisoned += 1
            _lib.rt_queue_task_done(self._h)  # it was counted as a task: uncount it
            raise error

    def get(self, block=True, timeout=None):
        """Removes and returns the smallest item; as Queue.get."""
        deadline = None
        if block and timeout is not None and timeout >= 0:
            deadline = _time.monotonic() + timeout
        while True:
            remaining = timeout
            if deadline is not None:
                remaining = max(0.0, deadline - _time.monotonic())
            out = _c_void_p()
            b = 1 if block else 0
            _check(_interruptible(
                lambda t: _lib.rt_queue_get(self._h, b, t, ctypes.byref(out)),
                _queue_timeout(remaining)))
            if out.value in _poisoned:
                _poisoned.discard(out.value)
                self._npoisoned -= 1
                continue
            return _items.pop(out.value)


class SimpleQueue:
    """queue.SimpleQueue(): an unbounded FIFO without task tracking or shutdown."""

    def __init__(self, *, name=None):
        self._h = _new(_lib.rt_simple_queue_new, _DROP_ITEM)
        _set_object_name(self._h, name)

    put = Queue.put
    get = Queue.get
    put_nowait = Queue.put_nowait
    get_nowait = Queue.get_nowait

    def qsize(self):
        """The number of items in the queue (a snapshot)."""
        return _lib.rt_queue_qsize(self._h)

    def empty(self):
        """True if the queue is empty (a snapshot)."""
        return _lib.rt_queue_empty(self._h)

    def __del__(self):
        _free(_lib.rt_queue_free, getattr(self, "_h", None))


# Embedding -------------------------------------------------------------------------------

_hooks = []  # every pair ever installed: a thread may still run an old one


def set_blocking_hooks(before=None, after=None):
    """rt_set_blocking_hooks: before() runs just before any thread sleeps in rthread, after()
    just after it wakes (both with the GIL taken for the call). None removes them."""
    def wrap(fn):
        if fn is None:
            return _ITEM_FN()

        def hook(_ctx):
            try:
                fn()
            except BaseException:  # noqa: BLE001 - it must not cross into C
                pass

        return _ITEM_FN(hook)

    hooks = (wrap(before), wrap(after))
    _hooks.append(hooks)
    _lib.rt_set_blocking_hooks(hooks[0], hooks[1], None)


class local(_threading.local):
    """threading.local: attributes seen only by the thread that set them. Every rthread
    thread runs its Python code (the target, or run()) in one thread state, so its attributes
    live until the thread ends. A subclass's __init__ runs again in each thread, with the
    arguments given to the constructor, as in CPython."""

    __slots__ = ()


def version():
    """The loaded librthread's version, "major.minor.patch" (rt_version_str())."""
    return _lib.rt_version_str().decode("ascii")


def _shutdown():
    # The process waits for non-daemon rthread threads at exit, as Python does; wait here,
    # while the interpreter still runs, so their Python code can finish.
    try:
        _lib.rt_shutdown(-1.0)
    except Exception:
        pass


import atexit as _atexit  # noqa: E402

_atexit.register(_shutdown)
