//! `threading.Semaphore` and `threading.BoundedSemaphore`.

use super::boundary::{Handle, Out};
use super::{Obj, free};
use crate::debug::annotate;
use crate::status::{Error, rt_status};
use crate::sync::Semaphore;
use crate::time::{FOREVER, semaphore_wait};
use std::ffi::c_int;

/// A counting semaphore: Python's `threading.Semaphore`, or `threading.BoundedSemaphore` when
/// made by `rt_bounded_semaphore_new`. 32 bytes of heap (64-bit). Made by either `_new`,
/// destroyed by `rt_semaphore_free`.
pub struct rt_semaphore {
    _private: [u8; 0],
}

impl super::Handled for Semaphore {
    const KIND: super::Kind = super::Kind::Semaphore;
}

fn make(sem: Result<Semaphore, Error>, out: Out<rt_semaphore>) -> rt_status {
    out.make(|| sem)
}

/// Creates a semaphore holding `value` permits (`threading.Semaphore(value)`; Python's default
/// is 1). Its value never goes below 0, and can grow up to `INT64_MAX`.
///
/// On `RT_OK`, `*out` receives the semaphore, which the caller owns and frees with
/// `rt_semaphore_free`. Errors: `RT_EINVAL` for a negative value ("semaphore initial value must
/// be >= 0") or a NULL `out` ("NULL output pointer"); `RT_ENOMEM`. On error `*out` is not
/// written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_semaphore_new(value: i64, out: *mut *mut rt_semaphore) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    make(Semaphore::new(value), unsafe { Out::new(out) })
}

/// Creates a bounded semaphore holding `value` permits (`threading.BoundedSemaphore(value)`):
/// like `rt_semaphore_new`, but `rt_semaphore_release` refuses to raise its value above `value`
/// (a release without a matching acquire is a bug it reports).
///
/// On `RT_OK`, `*out` receives the semaphore, which the caller owns and frees with
/// `rt_semaphore_free`. Errors: `RT_EINVAL` for a negative value ("semaphore initial value must
/// be >= 0") or a NULL `out` ("NULL output pointer"); `RT_ENOMEM`. On error `*out` is not
/// written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_bounded_semaphore_new(
    value: i64,
    out: *mut *mut rt_semaphore,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    make(Semaphore::bounded(value), unsafe { Out::new(out) })
}

/// Destroys a semaphore. NULL is fine (nothing happens). Not while threads are blocked in
/// `rt_semaphore_acquire` on it: then `RT_EBUSY` ("object is in use by waiting threads"), and it
/// is not freed. `RT_EINVAL` for a handle of another kind. Freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_semaphore_free(sem: *mut rt_semaphore) -> rt_status {
    // SAFETY: the caller passes NULL or a live semaphore handle.
    unsafe { free::<Semaphore, rt_semaphore>(sem) }
}

/// Takes one permit (`sem.acquire(blocking, timeout)`), lowering the value by one.
///
/// - `wait` non-zero, `timeout` `RT_FOREVER`: blocks until a permit is available;
/// - `wait` non-zero, `timeout` >= 0: blocks at most `timeout` seconds (0: a try);
/// - `wait` zero, `timeout` `RT_FOREVER`: takes a permit only if one is available.
///
/// Returns `RT_OK` when a permit was taken; `RT_TIMEOUT` when not (none available, or time ran
/// out, measured on the monotonic clock and never early); `RT_EINTR` when `rt_thread_interrupt`
/// ended the wait. Waiters are not served in order: a thread arriving when a permit is free may
/// take it before one that waited (as in Python).
///
/// Errors, in CPython's order: `RT_EINVAL` for a timeout other than `RT_FOREVER` with `wait`
/// zero ("can't specify timeout for non-blocking acquire", the Semaphore's own wording, checked
/// before the timeout's value); `RT_EINVAL` for a NaN timeout ("Invalid value NaN (not a
/// number)") or a negative one other than `RT_FOREVER` ("timeout value must be a non-negative
/// number"; Python treats it as a try); `RT_EOVERFLOW` above `RT_TIMEOUT_MAX` ("timestamp out of
/// range for platform time_t"); `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_semaphore_acquire(
    sem: *mut rt_semaphore,
    wait: c_int,
    timeout: f64,
) -> rt_status {
    // The common case, in a frame of its own: a valid handle, RT_FOREVER, no race detector to
    // tell, and a permit there. Anything else goes to `acquire_slow`, which checks everything
    // again, in order (and tells the race detector).
    // SAFETY: the caller passes NULL or a live semaphore handle.
    let sem = unsafe { Handle::new(sem) };
    if wait != 0 && timeout == FOREVER && !annotate::active() {
        if let Ok(s) = sem.get::<Semaphore>() {
            if s.inner.try_acquire_quiet() {
                return rt_status::RT_OK;
            }
        }
    }
    acquire_slow(sem, wait, timeout)
}

#[cold]
#[inline(never)]
fn acquire_slow(sem: Handle<rt_semaphore>, wait: c_int, timeout: f64) -> rt_status {
    sem.on(|s: &Obj<Semaphore>| {
        let w = semaphore_wait(wait != 0, timeout)?;
        let obj = crate::debug::Object::new(s, crate::debug::Kind::Semaphore);
        super::acquire_recorded(&s.inner, w, obj, "rt_semaphore_acquire", timeout, || {
            s.busy()
        })
    })
}

/// Adds `n` permits (`sem.release(n)`) and wakes up to `n` blocked threads.
///
/// Errors, with the value unchanged: `RT_EINVAL` for `n` 0 ("n must be one or more");
/// `RT_EOVERRELEASE` when a bounded semaphore would go above its initial value ("Semaphore
/// released too many times"), nothing being added even if some of the `n` would fit;
/// `RT_EOVERFLOW` when the value of a semaphore that is not bounded would go above `INT64_MAX`
/// ("semaphore value would exceed its maximum"; Python's integers have no limit; a bounded one
/// says `RT_EOVERRELEASE` there); `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_semaphore_release(sem: *mut rt_semaphore, n: u64) -> rt_status {
    // SAFETY: the caller passes NULL or a live semaphore handle.
    let sem = unsafe { Handle::new(sem) };
    // With a race detector to tell, `release_slow` (the core's `release`) tells it.
    if annotate::active() {
        return release_slow(sem, n);
    }
    if let Ok(s) = sem.get::<Semaphore>() {
        if s.inner.try_release_uncontended(n) {
            return rt_status::RT_OK;
        }
    }
    release_slow(sem, n)
}

/// The rest of `rt_semaphore_release`, out of line so that its fast path needs no frame:
/// threads to wake, a refused `n`, a bad handle.
#[cold]
#[inline(never)]
fn release_slow(sem: Handle<rt_semaphore>, n: u64) -> rt_status {
    sem.on(|s: &Obj<Semaphore>| s.inner.release(n))
}

/// The number of permits available (`sem._value`): a snapshot, never negative. -1 for a NULL
/// or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_semaphore_value(sem: *const rt_semaphore) -> i64 {
    // SAFETY: the caller passes NULL or a live semaphore handle.
    unsafe { Handle::new(sem) }.query(-1, |s: &Obj<Semaphore>| s.inner.value() as i64)
}
