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
//! - [`Out`]: where a `_new` function writes its new handle; [`Out::make`] makes the object;
//! - [`Place`]: any other output pointer, [`CText`]: a C string argument, [`Buffer`]: a buffer
//!   and its length.
//!
//! Each of these is made from what C passed by one `unsafe` constructor whose contract is the
//! C function's own (NULL or valid), so a C function makes one `unsafe` step, for all its
//! pointers at once, and its body is safe code.
//!
//! A panic is a bug of rthread's: it is caught here and reported as `RT_ESTATE` with the
//! message [`PANICKED`], so that the caller's process goes on. The fast paths (`rt_lock_acquire`
//! and its kin) do not come through here: they call the core's own fast path on a checked
//! handle, which cannot panic, and fall back to a cold function that does.
//!
//! A body must not end its thread (`pthread_exit`): `rt_exit_thread` does not use these.

use super::{Handled, Obj, handle};
use crate::status::{Error, record, rt_status};
use std::ffi::{CStr, c_char};
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

    /// Whether C passed NULL.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.0.is_null()
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

/// An output pointer that C passed (for a value, not a new handle: see [`Out`]): NULL, or valid
/// for a write of a `T` (the caller's promise to [`Place::new`]).
#[derive(Clone, Copy)]
pub struct Place<T>(*mut T);

impl<T> Place<T> {
    /// # Safety
    /// `p` must be NULL or valid for a write of a `T` until the call that received it returns.
    #[inline]
    pub unsafe fn new(p: *mut T) -> Place<T> {
        Place(p)
    }

    /// Whether C passed NULL.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }

    /// Writes `v`; a NULL pointer is `RT_EINVAL` ("NULL output pointer").
    #[inline]
    pub fn write(self, v: T) -> Result<(), Error> {
        if self.0.is_null() {
            return Err(Error::NULL_OUT);
        }
        // SAFETY: non-NULL, and writable by the promise made to `Place::new`.
        unsafe { self.0.write(v) };
        Ok(())
    }

    /// Writes `v` unless C passed NULL (an output the caller may decline).
    #[inline]
    pub fn write_if_wanted(self, v: T) {
        if !self.0.is_null() {
            // SAFETY: as in `write`.
            unsafe { self.0.write(v) };
        }
    }
}

/// A string argument as C passed it: NULL, or a NUL-terminated string (the caller's promise to
/// [`CText::new`]).
pub struct CText(*const c_char);

impl CText {
    /// # Safety
    /// `p` must be NULL or point to a NUL-terminated string that stays unchanged until the
    /// call that received it returns.
    #[inline]
    pub unsafe fn new(p: *const c_char) -> CText {
        CText(p)
    }

    /// Whether C passed NULL.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }

    /// The string's bytes, without the NUL; `None` for NULL.
    pub fn bytes<'a>(self) -> Option<&'a [u8]> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: non-NULL and NUL-terminated, by the promise made to `CText::new`.
        Some(unsafe { CStr::from_ptr(self.0) }.to_bytes())
    }

    /// The string as UTF-8: `null` for a NULL pointer, `not_utf8` for other bytes.
    pub fn to_str<'a>(self, null: Error, not_utf8: Error) -> Result<&'a str, Error> {
        std::str::from_utf8(self.bytes().ok_or(null)?).map_err(|_| not_utf8)
    }
}

/// A buffer as C passed it, with its length in bytes: NULL, or valid for writes of `len`
/// bytes (the caller's promise to [`Buffer::new`]).
pub struct Buffer {
    p: *mut c_char,
    len: usize,
}

impl Buffer {
    /// # Safety
    /// `p` must be NULL or valid for writes of `len` bytes until the call that received it
    /// returns.
    #[inline]
    pub unsafe fn new(p: *mut c_char, len: usize) -> Buffer {
        Buffer { p, len }
    }

    /// Copies `s` and a NUL: `RT_EINVAL` ("NULL output pointer") for a NULL buffer, and
    /// `too_small(needed)` (nothing written) if `s` and its NUL need more than `len` bytes.
    pub fn put_str(self, s: &str, too_small: impl FnOnce(usize) -> Error) -> Result<(), Error> {
        if self.p.is_null() {
            return Err(Error::NULL_OUT);
        }
        let needed = s.len() + 1;
        if needed > self.len {
            return Err(too_small(needed));
        }
        // SAFETY: `p` holds `len` >= needed bytes, by the promise made to `Buffer::new`; `s`
        // is ours, so they do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), self.p.cast::<u8>(), s.len());
            *self.p.add(s.len()) = 0;
        }
        Ok(())
    }
}

/// An array that C passed for output, with its capacity: NULL, or valid for writes (and so
/// reads) of `cap` elements (the caller's promise to [`Slots::new`]).
pub struct Slots<T> {
    p: *mut T,
    cap: usize,
}

impl<T: Copy> Slots<T> {
    /// # Safety
    /// `p` must be NULL or valid for writes of `cap` elements until the call that received it
    /// returns.
    #[inline]
    pub unsafe fn new(p: *mut T, cap: usize) -> Slots<T> {
        Slots { p, cap }
    }

    /// Whether C passed NULL.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.p.is_null()
    }

    /// The capacity; 0 for a NULL array.
    #[inline]
    pub fn cap(&self) -> usize {
        if self.p.is_null() { 0 } else { self.cap }
    }

    /// Writes element `i`, if it is within the capacity (else nothing).
    #[inline]
    pub fn set(&mut self, i: usize, v: T) {
        if i < self.cap() {
            // SAFETY: in bounds of an array valid for writes, by the promise made to `new`.
            unsafe { self.p.add(i).write(v) };
        }
    }

    /// Element `i` as written before, if it is within the capacity.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        // SAFETY: in bounds of an array valid for writes, so for reads, by the promise made to
        // `new`; callers read back only what `set` wrote.
        (i < self.cap()).then(|| unsafe { self.p.add(i).read() })
    }
}

/// An array of handles that C passed, with its length: NULL, or valid for reads of `n`
/// handles, each NULL or live (the caller's promise to [`Handles::new`]).
pub struct Handles<C> {
    p: *const *mut C,
    n: usize,
}

impl<C> Handles<C> {
    /// # Safety
    /// `p` must be NULL or valid for reads of `n` pointers, each NULL or a live handle (see
    /// [`Handle::new`]), until the call that received it returns.
    #[inline]
    pub unsafe fn new(p: *const *mut C, n: usize) -> Handles<C> {
        Handles { p, n }
    }

    /// Whether C passed NULL.
    #[inline]
    pub fn is_null(&self) -> bool {
        self.p.is_null()
    }

    /// The handles, in order; none for a NULL array.
    pub fn iter(&self) -> impl Iterator<Item = Handle<C>> + '_ {
        let n = if self.p.is_null() { 0 } else { self.n };
        // SAFETY: in bounds of an array valid for reads, whose elements are NULL or live
        // handles, by the promise made to `Handles::new`.
        (0..n).map(|i| Handle(unsafe { self.p.add(i).read() }))
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

    /// The pointer as C passed it (to name the object in reports).
    #[inline]
    pub fn as_ptr(self) -> *const C {
        self.0
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
