//! The C boundary, written once: how a C function turns a handle into a reference, runs its
//! body, records a failure as the thread's last error, and keeps a Rust panic from unwinding
//! into C.
//!
//! - [`run`]: a body returning `Result<(), Error>` becomes an `rt_status`;
//! - [`on`]: the same, on the object behind a handle (NULL or a wrong kind is `RT_EINVAL`);
//! - [`query`]: a C function that returns a value (a flag, a count) on the object behind a
//!   handle, and a fallback when the handle is bad or the body panics.
//!
//! A panic is a bug of rthread's: it is caught here and reported as `RT_ESTATE` with the
//! message [`PANICKED`], so that the caller's process goes on. The fast paths (`rt_lock_acquire`
//! and its kin) do not come through here: they call the core's own fast path on a checked
//! handle, which cannot panic, and fall back to a cold function that does.
//!
//! A body must not end its thread (`pthread_exit`): `rt_exit_thread` does not use these.

use super::{Handled, Obj, handle};
use crate::status::{Error, record, rt_status};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What a caught panic reports.
pub const PANICKED: Error = Error::new(
    rt_status::RT_ESTATE,
    "internal error: a Rust panic was stopped at the C boundary",
);

/// Runs `body`; its error is recorded and becomes the status, a panic is caught (see the
/// module comment).
#[inline]
pub fn run(body: impl FnOnce() -> Result<(), Error>) -> rt_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => rt_status::RT_OK,
        Ok(Err(e)) => record(&e),
        Err(_) => record(&PANICKED),
    }
}

/// Runs `body` on the object behind `p`, as [`run`] does; a NULL or wrong-kind handle is
/// `RT_EINVAL`, and the body does not run.
///
/// # Safety
/// `p` must be NULL or a live handle (see [`handle`]).
#[inline]
pub unsafe fn on<T: Handled, C>(
    p: *const C,
    body: impl FnOnce(&Obj<T>) -> Result<(), Error>,
) -> rt_status {
    // SAFETY: forwarded contract.
    run(|| body(unsafe { handle::<T, C>(p) }?))
}

/// Runs `body` on the object behind `p` and returns its value; for a NULL or wrong-kind
/// handle, or a panic, records the error and returns `fallback`.
///
/// # Safety
/// `p` must be NULL or a live handle (see [`handle`]).
#[inline]
pub unsafe fn query<T: Handled, C, R>(
    p: *const C,
    fallback: R,
    body: impl FnOnce(&Obj<T>) -> R,
) -> R {
    // SAFETY: forwarded contract.
    match unsafe { handle::<T, C>(p) } {
        Ok(obj) => match catch_unwind(AssertUnwindSafe(|| body(obj))) {
            Ok(v) => v,
            Err(_) => {
                record(&PANICKED);
                fallback
            }
        },
        Err(e) => {
            record(&e);
            fallback
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::status::last_error;
    use crate::sync::Lock;

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let s = run(|| panic!("a bug"));
        let v = {
            let l = Obj::alloc(Lock::new()).unwrap();
            // SAFETY: a live handle, freed below.
            let v = unsafe { query::<Lock, _, u32>(l, 7, |_| panic!("a bug")) };
            // SAFETY: as above.
            unsafe { super::super::free::<Lock, Obj<Lock>>(l) };
            v
        };
        std::panic::set_hook(hook);
        assert_eq!(s, rt_status::RT_ESTATE);
        assert_eq!(v, 7);
        assert_eq!(
            last_error(),
            "internal error: a Rust panic was stopped at the C boundary"
        );
    }

    #[test]
    fn errors_are_recorded_and_bad_handles_refused_before_the_body() {
        assert_eq!(run(|| Err(Error::TIMEOUT)), rt_status::RT_TIMEOUT);
        assert_eq!(last_error(), "timed out");
        let null = std::ptr::null::<Obj<Lock>>();
        // SAFETY: NULL is allowed.
        let s = unsafe { on::<Lock, _>(null, |_| unreachable!()) };
        assert_eq!(s, rt_status::RT_EINVAL);
        // SAFETY: as above.
        assert!(!unsafe { query::<Lock, _, bool>(null, false, |_| unreachable!()) });
        assert_eq!(last_error(), "NULL handle");
    }
}
