//! `threading.local`: thread-local data.

#![cfg(not(loom))]

use super::boundary::{Handle, Out, Place};
use super::{Handled, Kind, Obj, free};
use crate::status::rt_status;
use crate::thread::Local;
use std::ffi::c_void;

/// Thread-local data (`threading.local()`): one `void *` per thread, with an optional
/// destructor. Made by `rt_local_new`, destroyed by `rt_local_free`. There is no limit on the
/// number of locals other than memory (the platform's key limit does not apply). 32 bytes of
/// heap (64-bit), and 24 bytes in the table of each thread that sets it.
pub struct rt_local {
    _private: [u8; 0],
}

/// A thread-local value's destructor (`rt_local_new`): called with the value.
pub type rt_local_destructor = Option<unsafe extern "C-unwind" fn(value: *mut c_void)>;

impl Handled for Local {
    const KIND: Kind = Kind::Local;
}

/// Creates a thread-local variable (`threading.local()`): every thread sees its own value, NULL
/// until it sets one.
///
/// `destructor`, if not NULL, is called once on every non-NULL value still set when its thread
/// ends: for threads rthread started, after their function and before their exit hook (so a
/// join sees it done); for any other thread, when the thread ends, from the system's thread-exit
/// processing (after the C library's `thread_local` destructors); for the thread that calls
/// `exit()` (the main thread, as a rule), at the end of `exit()`, after the `atexit` handlers
/// and the wait for non-daemon threads. Values are destroyed one at a time: a destructor still
/// reads, with `rt_local_get`, the values of other locals whose destructors have not run yet
/// (as with `pthread_getspecific`). A destructor may use rthread, and may set values again:
/// those get another round, up to 4 rounds (as POSIX's `PTHREAD_DESTRUCTOR_ITERATIONS`);
/// values still set after that are not destroyed. Destructors run with no rthread lock held.
/// In a thread rthread started, a destructor that calls `pthread_exit` ends its thread: the
/// other values are still destroyed (that pass counts as a round), then the exit hook runs, as
/// after a return.
///
/// On `RT_OK`, `*out` receives the new local, which the caller owns and frees with
/// `rt_local_free`. Errors: `RT_EINVAL` if `out` is NULL; `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_local_new(
    destructor: rt_local_destructor,
    out: *mut *mut rt_local,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract; the caller's destructor is for
    // the values set in this local, as documented.
    let (out, make) = unsafe { (Out::new(out), || Local::new(destructor)) };
    out.make(make)
}

/// Writes the calling thread's value to `*value`: what it last set with `rt_local_set`, or NULL
/// if it set none (Python raises `AttributeError` there). Never another thread's value.
///
/// In a thread-local destructor, the values whose destructors have not run yet are still there.
///
/// Errors: `RT_EINVAL` for a NULL `value`, a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_local_get(
    local: *const rt_local,
    value: *mut *mut c_void,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle, and `value` NULL or writable.
    let (local, value) = unsafe { (Handle::new(local), Place::new(value)) };
    local.on(|l: &Obj<Local>| value.write(l.inner.get()?))
}

/// Sets the calling thread's value (`local.x = value`); other threads' values are untouched.
///
/// The value it replaces is not destroyed: it is the caller's again (as with
/// `pthread_setspecific`; read it first with `rt_local_get` if it needs freeing). Setting NULL
/// clears the value: no destructor is called for NULL. Errors: `RT_EINVAL` for a NULL or
/// wrong-kind handle; `RT_ENOMEM` ("out of memory": the thread's table must grow, or, at a
/// thread's first value, its end must be watched for, and the system cannot), and then nothing
/// changed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_local_set(local: *mut rt_local, value: *mut c_void) -> rt_status {
    // SAFETY: the caller passes NULL or a live local handle.
    unsafe { Handle::new(local) }.on(|l: &Obj<Local>| l.inner.set(value))
}

/// Destroys a thread-local variable. NULL is fine (nothing happens).
///
/// The calling thread's own value, if set, is destroyed at once, inside this call (its
/// destructor runs). The values other threads still hold are not lost: each thread calls the
/// destructor on its own value when it ends, as if the local were still there. So every
/// non-NULL value gets its destructor exactly once, and whatever the destructor needs must stay
/// valid until those threads have ended. No thread may use the local once it is freed (its
/// handle dangles). `RT_EINVAL` for a handle of another kind. Freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_local_free(local: *mut rt_local) -> rt_status {
    // SAFETY: the caller passes NULL or a live local handle.
    unsafe { free::<Local, rt_local>(local) }
}
