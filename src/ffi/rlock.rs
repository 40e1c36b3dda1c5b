//! `threading.RLock`.

use super::boundary::{Handle, Out};
use super::{Obj, acquire_recorded, free};
use crate::debug::{self, Object};
use crate::status::rt_status;
use crate::sync::RLock;
use crate::time::{FOREVER, lock_wait};
use std::ffi::c_int;

/// A re-entrant lock: Python's `threading.RLock`. The thread that holds it (its owner) may
/// acquire it again without blocking, and must release it as many times; only the owner may
/// release it. 32 bytes of heap (64-bit). Made by `rt_rlock_new`, destroyed by `rt_rlock_free`.
pub struct rt_rlock {
    _private: [u8; 0],
}

impl super::Handled for RLock {
    const KIND: super::Kind = super::Kind::RLock;
}

type RLockObj = Obj<RLock>;

/// Creates an unlocked re-entrant lock (`threading.RLock()`).
///
/// On `RT_OK`, `*out` receives the new lock, which the caller owns and frees with
/// `rt_rlock_free`. Errors: `RT_EINVAL` if `out` is NULL ("NULL output pointer"); `RT_ENOMEM`.
/// On error `*out` is not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_rlock_new(out: *mut *mut rt_rlock) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    unsafe { Out::new(out) }.make(|| Ok(RLock::new()))
}

/// Destroys a re-entrant lock. NULL is fine (nothing happens). It may be freed while held (as
/// in Python), but not while threads are blocked in `rt_rlock_acquire` on it, nor while a
/// condition made by `rt_condition_new_with_rlock` uses it: then `RT_EBUSY` ("object is in use
/// by waiting threads") and the lock is not freed. `RT_EINVAL` for a handle of another kind.
/// Freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_rlock_free(rlock: *mut rt_rlock) -> rt_status {
    // SAFETY: the caller passes NULL or a live rlock handle.
    unsafe { free::<RLock, rt_rlock>(rlock) }
}

/// Acquires the lock (`rlock.acquire(blocking, timeout)`), or re-enters it.
///
/// The arguments are checked first, exactly as for `rt_lock_acquire` (CPython checks them
/// before the re-entry test): `RT_EINVAL` for a NaN timeout ("Invalid value NaN (not a
/// number)"), `RT_EOVERFLOW` for |timeout| above `RT_TIMEOUT_MAX` ("timestamp out of range for
/// platform time_t"), `RT_EINVAL` for a timeout with `wait` zero ("can't specify a timeout for a
/// non-blocking call") and for a negative timeout other than -1 ("timeout value must be a
/// non-negative number").
///
/// Then, if the calling thread owns the lock, its recursion level goes up by one and the call
/// returns `RT_OK` at once, whatever `wait` and `timeout` say (`RT_EOVERFLOW`, "Internal lock
/// count overflowed", if the level is already `UINT64_MAX`). Otherwise it acquires the lock as
/// `rt_lock_acquire` does: `wait` zero never blocks, `timeout` 0 is a try, `RT_FOREVER` blocks
/// without bound; it returns `RT_OK` when acquired (level 1), `RT_TIMEOUT` when not (measured on
/// the monotonic clock, never early), `RT_EINTR` when `rt_thread_interrupt` ended the wait.
/// `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_rlock_acquire(
    rlock: *mut rt_rlock,
    wait: c_int,
    timeout: f64,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live rlock handle.
    let rlock = unsafe { Handle::new(rlock) };
    // The common case, in a frame of its own: a valid handle, RT_FOREVER, and a lock that is
    // free or the caller's. Anything else goes to `acquire_slow`, which checks everything
    // again, in order.
    let active = debug::active();
    if wait != 0 && timeout == FOREVER && active & !debug::FAST_PATH_MODES == 0 {
        if let Ok(r) = rlock.get::<RLock>() {
            if r.inner.try_acquire_fast() {
                if active != 0 {
                    acquired_fast(r, active);
                }
                return rt_status::RT_OK;
            }
        }
    }
    acquire_slow(rlock, wait, timeout)
}

/// The fast path's acquisition with a fast-path debug mode on: the first level only.
#[cold]
#[inline(never)]
fn acquired_fast(r: &RLockObj, flags: u32) {
    if r.inner.count() == 1 {
        debug::acquired_fast(Object::new(r, debug::Kind::RLock), flags);
    }
}

#[cold]
#[inline(never)]
fn acquire_slow(rlock: Handle<rt_rlock>, wait: c_int, timeout: f64) -> rt_status {
    rlock.on(|r: &RLockObj| {
        let w = lock_wait(wait != 0, timeout)?;
        let obj = Object::new(r, debug::Kind::RLock);
        acquire_recorded(&r.inner, w, obj, "rt_rlock_acquire", timeout, || r.busy())?;
        // The first level only: re-entry is not an acquisition.
        if debug::active() != 0 && r.inner.count() == 1 {
            debug::acquired(obj);
        }
        Ok(())
    })
}

/// Releases one level of the lock (`rlock.release()`). When the level drops to 0 the lock is
/// free again and one blocked thread, if any, gets it.
///
/// Errors: `RT_ENOTOWNER` if the calling thread does not own the lock, whether another thread
/// holds it or nobody does ("cannot release un-acquired lock"); `RT_EINVAL` for a NULL or
/// wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_rlock_release(rlock: *mut rt_rlock) -> rt_status {
    // SAFETY: the caller passes NULL or a live rlock handle.
    let rlock = unsafe { Handle::new(rlock) };
    let active = debug::active();
    if active & !debug::FAST_PATH_MODES == 0 {
        if let Ok(r) = rlock.get::<RLock>() {
            if active & debug::NEEDS_HELD != 0 {
                return release_tracked(r, rlock, active);
            }
            if r.inner.release_if_owner() {
                return rt_status::RT_OK;
            }
        }
    }
    release_refused(rlock)
}

/// Why `rt_rlock_release` changed nothing, recorded out of line so that its fast path needs no
/// frame; and the release with a debug mode on.
/// A release while a mode keeps held lists: the lists first at the last level
/// (`debug::releasing`), then the release, fast if it can be.
#[cold]
#[inline(never)]
fn release_tracked(r: &RLockObj, rlock: Handle<rt_rlock>, flags: u32) -> rt_status {
    if r.inner.is_owned() && r.inner.count() == 1 {
        debug::releasing_fast(Object::new(r, debug::Kind::RLock), flags);
    }
    if r.inner.release_if_owner() {
        return rt_status::RT_OK;
    }
    release_checked(rlock)
}

/// The rest of `release_tracked`, in a frame of its own (so that the tracked release needs
/// none): the release with waiters to wake, or the error of a caller that does not own it.
#[cold]
#[inline(never)]
fn release_checked(rlock: Handle<rt_rlock>) -> rt_status {
    rlock.on(|r: &RLockObj| r.inner.release())
}

#[cold]
#[inline(never)]
fn release_refused(rlock: Handle<rt_rlock>) -> rt_status {
    rlock.on(|r: &RLockObj| {
        // The last level only.
        if debug::active() != 0 && r.inner.count() == 1 {
            debug::releasing(Object::new(r, debug::Kind::RLock));
        }
        r.inner.release()
    })
}

/// Whether the calling thread owns the lock (`rlock._is_owned()`). False for a NULL or
/// wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_rlock_is_owned(rlock: *const rt_rlock) -> bool {
    // SAFETY: the caller passes NULL or a live rlock handle.
    unsafe { Handle::new(rlock) }.query(false, |r: &RLockObj| r.inner.is_owned())
}

/// The calling thread's recursion level (`rlock._recursion_count()`): how many releases it owes,
/// 0 if it does not own the lock. 0 for a NULL or wrong-kind handle (and `rt_last_error` says
/// so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_rlock_count(rlock: *const rt_rlock) -> u64 {
    // SAFETY: the caller passes NULL or a live rlock handle.
    unsafe { Handle::new(rlock) }.query(0, |r: &RLockObj| r.inner.count())
}
