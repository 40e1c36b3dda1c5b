//! The C boundary, written once: how a C function turns a handle into a reference, runs its
//! body, records a failure as the thread's last error, and keeps a Rust panic from unwinding
//! into C.
//!
//! - [`run`]: a body returning `Result<(), Error>` becomes an `rt_status`; [`value`]: a body
//!   returning a value, or a fallback;
//! - [`Handle`]: a handle as C passed it; `Handle::new` is the one `unsafe` step (the caller's
//!   promise that it is NULL or live), then [`Handle::on`] runs a body on the object as `run`
//!   does (NULL or a wrong kind is `RT_EINVAL`), and [`Handle::query`] returns a value (a flag,
//!   a count), or a fallback when the handle is bad or the body panics;
//! - [`Out`]: where a `_new` function writes its new handle; [`Out::make`] makes the object.
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

/// Runs `body` for a C function that returns a value rather than a status: its error is
/// recorded and a panic caught, and either gives `fallback`.
#[inline]
pub fn value<R>(fallback: R, body: impl FnOnce() -> Result<R, Error>) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            record(&e);
            fallback
        }
        Err(_) => {
            record(&PANICKED);
            fallback
        }
    }
}

/// Where a `_new` function writes its new handle: NULL, or valid for a write (the caller's
/// promise to [`Out::new`]).
pub struct Out<C>(*mut *mut C);

impl<C> Out<C> {
    /// # Safety
    /// `out` must be NULL or valid for a write of a pointer.
    #[inline]
    pub unsafe fn new(out: *mut *mut C) -> Out<C> {
        Out(out)
    }

    /// Makes an object and writes its new handle out, as [`run`] does: a NULL `out` is
    /// `RT_EINVAL` ("NULL output pointer", checked first: nothing is made), then `make`'s
    /// error, then `RT_ENOMEM`. On error nothing is written.
    #[inline]
    pub fn make<T: Handled>(self, make: impl FnOnce() -> Result<T, Error>) -> rt_status {
        run(|| self.put(make))
    }

    /// [`Out::make`] inside a body that has already checked other arguments.
    pub fn put<T: Handled>(self, make: impl FnOnce() -> Result<T, Error>) -> Result<(), Error> {
        self.put_handle(|| Ok(Obj::alloc(make()?)? as *mut C))
    }

    /// [`Out::make`] for a handle that is not an `Obj` (a thread's): `make` returns it.
    #[inline]
    pub fn make_handle(self, make: impl FnOnce() -> Result<*mut C, Error>) -> rt_status {
        run(|| self.put_handle(make))
    }

    /// The one place that writes a new handle out: NULL first, then `make`.
    pub fn put_handle(self, make: impl FnOnce() -> Result<*mut C, Error>) -> Result<(), Error> {
        if self.0.is_null() {
            return Err(Error::NULL_OUT);
        }
        let p = make()?;
        // SAFETY: non-NULL, and writable by the promise made to `Out::new`.
        unsafe { self.0.write(p) };
        Ok(())
    }
}

/// A pointer that C passed as a handle, with the caller's promise that it is NULL or a live
/// handle for the whole call: from there on, checking it ([`Handle::on`], [`Handle::query`])
/// is safe.
pub struct Handle<C>(*const C);

impl<C> Clone for Handle<C> {
    fn clone(&self) -> Handle<C> {
        *self
    }
}

impl<C> Copy for Handle<C> {}

impl<C> Handle<C> {
    /// # Safety
    /// `p` must be NULL or a live handle (see [`handle`]) until the call that received it
    /// returns.
    #[inline]
    pub unsafe fn new(p: *const C) -> Handle<C> {
        Handle(p)
    }

    /// The object behind the handle; a NULL or wrong-kind handle is `RT_EINVAL`.
    #[inline]
    pub fn get<'a, T: Handled>(self) -> Result<&'a Obj<T>, Error> {
        // SAFETY: the promise made to `Handle::new`.
        unsafe { handle::<T, C>(self.0) }
    }

    /// Runs `body` on the object, as [`run`] does; a NULL or wrong-kind handle is `RT_EINVAL`,
    /// and the body does not run.
    #[inline]
    pub fn on<T: Handled>(self, body: impl FnOnce(&Obj<T>) -> Result<(), Error>) -> rt_status {
        run(|| body(self.get()?))
    }

    /// Runs `body` on the object and returns its value; for a NULL or wrong-kind handle, or a
    /// panic, records the error and returns `fallback`.
    #[inline]
    pub fn query<T: Handled, R>(self, fallback: R, body: impl FnOnce(&Obj<T>) -> R) -> R {
        value(fallback, || Ok(body(self.get()?)))
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
            let v = unsafe { Handle::new(l) }.query::<Lock, u32>(7, |_| panic!("a bug"));
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
        // SAFETY: NULL is allowed.
        let null = unsafe { Handle::new(std::ptr::null::<Obj<Lock>>()) };
        let s = null.on::<Lock>(|_| unreachable!());
        assert_eq!(s, rt_status::RT_EINVAL);
        assert!(!null.query::<Lock, bool>(false, |_| unreachable!()));
        assert_eq!(last_error(), "NULL handle");
    }
}
