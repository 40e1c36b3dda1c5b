//! `threading.Event`.

use super::boundary::{Handle, Out};
use super::{Obj, free};
use crate::status::rt_status;
use crate::sync::Event;
use crate::time::timeout_wait;

/// A flag that threads can wait for: Python's `threading.Event`. 16 bytes of heap (64-bit).
/// Made by `rt_event_new`, destroyed by `rt_event_free`.
pub struct rt_event {
    _private: [u8; 0],
}

impl super::Handled for Event {
    const KIND: super::Kind = super::Kind::Event;
}

/// Creates an event whose flag is not set (`threading.Event()`).
///
/// On `RT_OK`, `*out` receives the event, which the caller owns and frees with
/// `rt_event_free`. Errors: `RT_EINVAL` if `out` is NULL ("NULL output pointer"); `RT_ENOMEM`.
/// On error `*out` is not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_event_new(out: *mut *mut rt_event) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    unsafe { Out::new(out) }.make(|| Ok(Event::new()))
}

/// Destroys an event. NULL is fine (nothing happens). Not while threads are blocked in
/// `rt_event_wait` on it: then `RT_EBUSY` ("object is in use by waiting threads"), and it is not
/// freed. `RT_EINVAL` for a handle of another kind. Freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_event_free(event: *mut rt_event) -> rt_status {
    // SAFETY: the caller passes NULL or a live event handle.
    unsafe { free::<Event, rt_event>(event) }
}

/// Sets the flag (`event.set()`) and wakes every thread waiting for it: each of them returns
/// `RT_OK`, even if `rt_event_clear` runs before it is scheduled. Setting a set event does
/// nothing. `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_event_set(event: *mut rt_event) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let event = unsafe { Handle::new(event) };
    event.on(|e: &Obj<Event>| {
        e.inner.set();
        Ok(())
    })
}

/// Clears the flag (`event.clear()`): later waits block until the next `rt_event_set`.
/// `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_event_clear(event: *mut rt_event) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let event = unsafe { Handle::new(event) };
    event.on(|e: &Obj<Event>| {
        e.inner.clear();
        Ok(())
    })
}

/// Whether the flag is set (`event.is_set()`): a snapshot. False for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_event_is_set(event: *const rt_event) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(event) }.query(false, |e: &Obj<Event>| e.inner.is_set())
}

/// Waits until the flag is set (`event.wait(timeout)`).
///
/// Returns `RT_OK` at once if the flag is set, or as soon as `rt_event_set` is called (even if
/// the flag is cleared again before the waiter runs); `RT_TIMEOUT` if `timeout` seconds passed
/// first (monotonic clock, never early; 0 just looks at the flag); `RT_EINTR` when
/// `rt_thread_interrupt` ended the wait first. `RT_FOREVER` waits without bound.
///
/// Errors, checked even when the flag is set (Python looks at the timeout only when it must
/// wait): `RT_EINVAL` for a NaN timeout ("Invalid value NaN (not a number)") or a negative one
/// other than `RT_FOREVER` ("timeout value must be a non-negative number"; Python returns at
/// once for both); `RT_EOVERFLOW` above `RT_TIMEOUT_MAX` ("timestamp out of range for platform
/// time_t"); `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_event_wait(event: *mut rt_event, timeout: f64) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let event = unsafe { Handle::new(event) };
    event.on(|e: &Obj<Event>| {
        let w = timeout_wait(timeout)?;
        // The wait starts here: a set from now on releases it (and only then is the object
        // marked busy, so that a free that sees it busy comes after this point).
        let start = e.inner.snapshot();
        if start.is_set() {
            crate::debug::annotate::acquired(&e.inner);
            return Ok(());
        }
        let _busy = e.busy();
        let _waiting = super::waiting(e, crate::debug::Kind::Event, "rt_event_wait", timeout);
        e.inner.wait_since(start, w)
    })
}
