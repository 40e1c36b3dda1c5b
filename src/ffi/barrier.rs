//! `threading.Barrier`.

use super::boundary::{Handle, Out, Place};
use super::{Obj, free};
use crate::status::rt_status;
use crate::sync::Barrier;
use crate::sync::barrier::Action;
use crate::thread::CallbackGuard;
use crate::time::{FOREVER, timeout_wait};
use std::ffi::{c_int, c_void};

/// A barrier for a fixed number of threads: Python's `threading.Barrier`. 64 bytes of heap
/// (64-bit), and 16 more with an action. Made by `rt_barrier_new`, destroyed by
/// `rt_barrier_free`.
pub struct rt_barrier {
    _private: [u8; 0],
}

/// A barrier's action: called with the `ctx` given to `rt_barrier_new`, once per cycle, by the
/// last thread to arrive, before any thread is released. Zero means success; any other value
/// breaks the barrier.
pub type rt_barrier_action_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>;

impl super::Handled for Barrier {
    const KIND: super::Kind = super::Kind::Barrier;

    fn fork_safe(&self) -> Option<&(dyn crate::wait::fork::ForkSafe + 'static)> {
        Some(self)
    }
}

/// The action's context pointer, handed to whichever thread runs the action.
struct Ctx(*mut c_void);

// SAFETY: the caller of `rt_barrier_new` gives `ctx` to be used by the threads that wait on the
// barrier, which is what the action's contract says.
unsafe impl Send for Ctx {}
// SAFETY: as above; rthread only passes the pointer on, one call at a time.
unsafe impl Sync for Ctx {}

/// Creates a barrier for `parties` threads (`threading.Barrier(parties, action, timeout)`).
///
/// - `action`, if not NULL, is called as `action(ctx)` once per cycle, by the last thread to
///   arrive, before any thread is released, under no lock of rthread's; it may call rthread
///   (even `rt_barrier_abort` or `rt_barrier_reset` on this barrier) but not `rt_exit_thread`
///   (which then returns `RT_ESTATE`) nor `pthread_exit` (not supported: the process aborts);
///   `rt_barrier_wait` on this barrier returns `RT_EDEADLK` there. A non-zero result breaks the
///   barrier.
/// - `timeout` is the default for `rt_barrier_wait`, in seconds; `RT_FOREVER` means none.
///
/// On `RT_OK`, `*out` receives the barrier, which the caller owns and frees with
/// `rt_barrier_free`; `ctx` stays the caller's. Errors: `RT_EINVAL` for `parties` 0 ("parties
/// must be > 0", as in Python 3.13), a NaN timeout ("Invalid value NaN (not a number)") or a
/// negative one other than `RT_FOREVER` ("timeout value must be a non-negative number"; Python
/// only finds out at the first wait), or a NULL `out` ("NULL output pointer"); `RT_EOVERFLOW`
/// for a timeout above `RT_TIMEOUT_MAX`; `RT_ENOMEM` ("out of memory"). On error `*out` is not
/// written and nothing was made.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_new(
    parties: usize,
    action: rt_barrier_action_fn,
    ctx: *mut c_void,
    timeout: f64,
    out: *mut *mut rt_barrier,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract, and the caller gives `action`
    // and `ctx` together to be called this way.
    let (out, action) = unsafe { (Out::new(out), action.map(|f| move |c: &Ctx| f(c.0) == 0)) };
    out.make(|| {
        let action: Option<Action> = match action {
            None => None,
            Some(call) => {
                let ctx = Ctx(ctx);
                Some(crate::memory::try_box(move || {
                    let _guard = CallbackGuard::new();
                    call(&ctx)
                })? as Action)
            }
        };
        Barrier::new(parties, action, timeout)
    })
}

/// Destroys a barrier. NULL is fine (nothing happens). Not while threads are inside
/// `rt_barrier_wait` on it: then `RT_EBUSY` ("object is in use by waiting threads"), and it is
/// not freed. `RT_EINVAL` for a handle of another kind. Freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_free(barrier: *mut rt_barrier) -> rt_status {
    // SAFETY: the caller passes NULL or a live barrier handle.
    unsafe { free::<Barrier, rt_barrier>(barrier) }
}

/// Passes the barrier (`barrier.wait(timeout)`): blocks until `parties` threads have called it,
/// then all return together. On `RT_OK`, writes this thread's arrival index to `*index` if
/// `index` is not NULL: each of 0 … parties-1 goes to exactly one thread per cycle (the last to
/// arrive gets parties-1, and runs the action, if any, before any thread is released). The
/// barrier then starts a new cycle; it can be used for any number of them.
///
/// `timeout` is in seconds, measured on the monotonic clock; `RT_FOREVER` means the barrier's
/// default (given to `rt_barrier_new`; itself `RT_FOREVER` for none), as `None` does in Python.
/// To wait without bound on a barrier that has a default, pass `RT_TIMEOUT_MAX`. 0 gives up at
/// once unless this thread is the last to arrive. The timeout also bounds the wait of a thread
/// that arrives while the previous cycle is still running its action, leaving, or being reset:
/// if it expires there, the barrier breaks once that cycle has left (the cycle keeps its own
/// outcome) and this wait returns `RT_EBROKEN` ("barrier wait timed out"). Only threads that
/// have arrived wait through the action without a bound, as in Python.
///
/// Returns `RT_EBROKEN`, with `*index` not written, when the barrier is broken or gets broken
/// during the wait: by this wait's timeout ("barrier wait timed out") or another's, by an
/// action that returned non-zero ("barrier action failed" in the thread that ran it), by
/// `rt_barrier_abort`, or by an interrupted waiter ("barrier is broken"), and when
/// `rt_barrier_reset` ends the cycle ("barrier was reset"). A broken barrier fails every wait
/// at once until `rt_barrier_reset`. Returns `RT_EINTR` when `rt_thread_interrupt` ends the
/// wait; a thread interrupted after it arrived breaks the barrier, since the others would wait
/// for it in vain. Errors, checked first (before the barrier's state, so even on a broken
/// barrier): `RT_EINVAL` for a NULL or wrong-kind handle, for a NaN timeout or a negative one
/// other than `RT_FOREVER`; `RT_EOVERFLOW` above `RT_TIMEOUT_MAX`; `RT_EDEADLK` ("barrier wait
/// from its own action"), at once, when called from inside this barrier's own action (such a
/// wait could never end: the action's cycle cannot finish while it waits).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_wait(
    barrier: *mut rt_barrier,
    timeout: f64,
    index: *mut usize,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle, and `index` NULL or writable.
    let (barrier, index) = unsafe { (Handle::new(barrier), Place::new(index)) };
    barrier.on(|b: &Obj<Barrier>| {
        let w = if timeout == FOREVER {
            None
        } else {
            Some(timeout_wait(timeout)?)
        };
        let i = {
            let _busy = b.busy();
            let _waiting =
                super::waiting(b, crate::debug::Kind::Barrier, "rt_barrier_wait", timeout);
            b.inner.wait(w)?
        };
        index.write_if_wanted(i);
        Ok(())
    })
}

/// Puts the barrier back to its initial, empty state (`barrier.reset()`). Threads waiting in the
/// current cycle return `RT_EBROKEN` ("barrier was reset"); threads arriving meanwhile wait until
/// those have left, then start a new cycle. A broken barrier becomes usable again.
/// `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_reset(barrier: *mut rt_barrier) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let barrier = unsafe { Handle::new(barrier) };
    barrier.on(|b: &Obj<Barrier>| {
        b.inner.reset();
        Ok(())
    })
}

/// Breaks the barrier (`barrier.abort()`): threads waiting in it, and every later
/// `rt_barrier_wait`, return `RT_EBROKEN` until `rt_barrier_reset`. Useful to release threads
/// when one of them cannot arrive. `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_abort(barrier: *mut rt_barrier) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let barrier = unsafe { Handle::new(barrier) };
    barrier.on(|b: &Obj<Barrier>| {
        b.inner.abort();
        Ok(())
    })
}

/// The number of threads needed to pass the barrier (`barrier.parties`). 0 for a NULL or
/// wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_parties(barrier: *const rt_barrier) -> usize {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(barrier) }.query(0, |b: &Obj<Barrier>| b.inner.parties())
}

/// The number of threads waiting in the current cycle (`barrier.n_waiting`): a snapshot; 0
/// while the barrier is draining, resetting or broken. 0 for a NULL or wrong-kind handle (and
/// `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_n_waiting(barrier: *const rt_barrier) -> usize {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(barrier) }.query(0, |b: &Obj<Barrier>| b.inner.n_waiting())
}

/// Whether the barrier is broken (`barrier.broken`): a snapshot. False for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_barrier_broken(barrier: *const rt_barrier) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(barrier) }.query(false, |b: &Obj<Barrier>| b.inner.broken())
}
