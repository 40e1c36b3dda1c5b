//! `threading.Lock` / `_thread.allocate_lock`.

use super::boundary::{Handle, Out};
use super::{Obj, acquire_recorded, free};
use crate::debug::{self, Object};
use crate::status::rt_status;
use crate::sync::Lock;
use crate::time::{FOREVER, lock_wait};
use std::ffi::c_int;

/// A lock that any thread may release: Python's `threading.Lock` (`_thread.LockType`).
/// 12 bytes of heap. Made by `rt_lock_new`, destroyed by `rt_lock_free`.
pub struct rt_lock {
    _private: [u8; 0],
}

type LockObj = Obj<Lock>;

/// Creates an unlocked lock (`threading.Lock()`, `_thread.allocate_lock()`).
///
/// On `RT_OK`, `*out` receives the new lock, which the caller owns and frees with
/// `rt_lock_free`. Errors: `RT_EINVAL` if `out` is NULL; `RT_ENOMEM`. On error `*out` is not
/// written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_lock_new(out: *mut *mut rt_lock) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    unsafe { Out::new(out) }.make(|| Ok(Lock::new()))
}

/// Destroys a lock. NULL is fine (nothing happens). A lock may be freed while locked (as in
/// Python), but not while threads are blocked in `rt_lock_acquire` on it, nor while a condition
/// made by `rt_condition_new_with_lock` uses it: then `RT_EBUSY` ("object is in use by waiting
/// threads"), and the lock is not freed. `RT_EINVAL` for a handle of another kind. Freeing
/// twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_lock_free(lock: *mut rt_lock) -> rt_status {
    // SAFETY: the caller passes NULL or a live lock handle.
    unsafe { free::<Lock, rt_lock>(lock) }
}

/// Acquires the lock (`lock.acquire(blocking, timeout)`).
///
/// - `wait` non-zero, `timeout` `RT_FOREVER`: blocks until the lock is acquired;
/// - `wait` non-zero, `timeout` >= 0: blocks at most `timeout` seconds (0: a try);
/// - `wait` zero, `timeout` `RT_FOREVER`: takes the lock only if it is free, never blocks.
///
/// Returns `RT_OK` when acquired; `RT_TIMEOUT` when not (busy, or time ran out, measured on the
/// monotonic clock and never early); `RT_EINTR` when `rt_thread_interrupt` ended the wait.
/// Errors, checked in CPython's order: `RT_EINVAL` for a NULL or wrong-kind handle or a NaN
/// timeout ("Invalid value NaN (not a number)"); `RT_EOVERFLOW` for |timeout| above
/// `RT_TIMEOUT_MAX`; `RT_EINVAL` for a timeout with `wait` zero ("can't specify a timeout for a
/// non-blocking call") and for a negative timeout other than -1 ("timeout value must be a
/// non-negative number"). A thread that acquires a lock it holds blocks (it has no owner).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_lock_acquire(
    lock: *mut rt_lock,
    wait: c_int,
    timeout: f64,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live lock handle.
    let lock = unsafe { Handle::new(lock) };
    // The common case, in a frame of its own: a valid handle, RT_FOREVER, no debug mode on but
    // those the fast path serves (`FAST_PATH_MODES`), and a free lock. Anything else goes to
    // `acquire_slow`, which checks everything again, in order.
    let active = debug::active();
    if wait != 0 && timeout == FOREVER && active & !debug::FAST_PATH_MODES == 0 {
        if let Ok(l) = lock.get::<Lock>() {
            if l.inner.try_acquire_uncontended() {
                if active != 0 {
                    debug::acquired_fast(Object::new(l, debug::Kind::Lock), active);
                }
                return rt_status::RT_OK;
            }
        }
    }
    acquire_slow(lock, wait, timeout)
}

#[cold]
#[inline(never)]
fn acquire_slow(lock: Handle<rt_lock>, wait: c_int, timeout: f64) -> rt_status {
    lock.on(|l: &LockObj| {
        let w = lock_wait(wait != 0, timeout)?;
        let obj = Object::new(l, debug::Kind::Lock);
        acquire_recorded(&l.inner, w, obj, "rt_lock_acquire", timeout, || l.busy())?;
        if debug::active() != 0 {
            debug::acquired(obj);
        }
        Ok(())
    })
}

/// Releases the lock (`lock.release()`). Any thread may release it, not only the one that
/// acquired it; one blocked thread, if any, then gets it.
///
/// Errors: `RT_ENOTLOCKED` if the lock is not locked ("release unlocked lock"); when two threads
/// race to release a lock held once, exactly one gets `RT_OK`. `RT_EINVAL` for a NULL or
/// wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_lock_release(lock: *mut rt_lock) -> rt_status {
    // SAFETY: the caller passes NULL or a live lock handle.
    let lock = unsafe { Handle::new(lock) };
    let active = debug::active();
    if active & !debug::FAST_PATH_MODES == 0 {
        if let Ok(l) = lock.get::<Lock>() {
            if active & debug::NEEDS_HELD != 0 {
                return release_tracked(l, lock, active);
            }
            if l.inner.try_release_uncontended() {
                return rt_status::RT_OK;
            }
        }
    }
    release_slow(lock)
}

/// The rest of `rt_lock_release`, out of line so that its fast path needs no frame: a lock
/// with waiters to wake, a lock that is not locked, a bad handle, a debug mode on.
/// A release while a mode keeps held lists: the lists first (`debug::releasing`), then the
/// release, fast if it can be.
#[cold]
#[inline(never)]
fn release_tracked(l: &LockObj, lock: Handle<rt_lock>, flags: u32) -> rt_status {
    if l.inner.locked() {
        debug::releasing_fast(Object::new(l, debug::Kind::Lock), flags);
    }
    if l.inner.try_release_uncontended() {
        return rt_status::RT_OK;
    }
    release_waking(lock)
}

/// The rest of `release_tracked`, in a frame of its own (so that the tracked release needs
/// none): the release with waiters to wake, or the error of a lock that is not locked.
#[cold]
#[inline(never)]
fn release_waking(lock: Handle<rt_lock>) -> rt_status {
    lock.on(|l: &LockObj| l.inner.release())
}

#[cold]
#[inline(never)]
fn release_slow(lock: Handle<rt_lock>) -> rt_status {
    lock.on(|l: &LockObj| {
        if debug::active() != 0 && l.inner.locked() {
            debug::releasing(Object::new(l, debug::Kind::Lock));
        }
        l.inner.release()
    })
}

/// Whether the lock is held by some thread (`lock.locked()`): a snapshot. False for a NULL or
/// wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_lock_locked(lock: *const rt_lock) -> bool {
    // SAFETY: the caller passes NULL or a live lock handle.
    unsafe { Handle::new(lock) }.query(false, |l: &LockObj| l.inner.locked())
}
