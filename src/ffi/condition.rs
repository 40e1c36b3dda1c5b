//! `threading.Condition`.

use super::boundary::{Handle, Out};
use super::{Busy, Obj, acquire_recorded, free};
use crate::debug::{self, Object};
use crate::status::{Error, rt_status};
use crate::sync::condition::WAIT_NOT_OWNED;
use crate::sync::{Condition, ConditionLock, Lock, RLock};
use crate::thread::CallbackGuard;
use crate::time::{Wait, lock_wait, timeout_wait};
use std::ffi::{c_int, c_void};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

/// A condition variable and its lock: Python's `threading.Condition`. Made by
/// `rt_condition_new` (with a new RLock of its own), `rt_condition_new_with_lock` or
/// `rt_condition_new_with_rlock` (with the caller's lock); destroyed by `rt_condition_free`.
/// 48 bytes of heap (64-bit), its own RLock included.
pub struct rt_condition {
    _private: [u8; 0],
}

/// A predicate for `rt_condition_wait_for`: called with the caller's `ctx`, with the
/// condition's lock held; non-zero means "true".
pub type rt_predicate_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>;

const NOT_CALLABLE: Error = Error::new(rt_status::RT_EINVAL, "predicate must be callable");

/// The lock of a condition behind a handle: its own RLock, or the caller's lock, which it
/// borrows. A borrowed lock's handle counts the condition as a busy user for the condition's
/// whole life (its `_free` then returns `RT_EBUSY`), so the pointer never dangles.
pub enum CondLock {
    Own(RLock),
    Lock(NonNull<Obj<Lock>>),
    RLock(NonNull<Obj<RLock>>),
}

// SAFETY: the borrowed objects are Sync (atomics only) and kept alive by their busy count; the
// owned RLock is Send and Sync itself.
unsafe impl Send for CondLock {}
// SAFETY: as above.
unsafe impl Sync for CondLock {}

impl CondLock {
    fn borrow_lock(obj: &Obj<Lock>) -> Result<CondLock, Error> {
        Busy::check_borrow(&obj.header.busy)?;
        std::mem::forget(obj.busy());
        Ok(CondLock::Lock(NonNull::from(obj)))
    }

    fn borrow_rlock(obj: &Obj<RLock>) -> Result<CondLock, Error> {
        Busy::check_borrow(&obj.header.busy)?;
        std::mem::forget(obj.busy());
        Ok(CondLock::RLock(NonNull::from(obj)))
    }

    fn target(&self) -> &dyn ConditionLock {
        match self {
            CondLock::Own(r) => r,
            // SAFETY: a borrowed handle stays alive while the condition lives: the busy count
            // raised in `borrow_lock` makes `rt_lock_free` refuse until `drop` lowers it.
            CondLock::Lock(p) => unsafe { &p.as_ref().inner },
            // SAFETY: as above, with `rt_rlock_free`.
            CondLock::RLock(p) => unsafe { &p.as_ref().inner },
        }
    }
}

impl CondLock {
    /// The lock as reports name it: the borrowed lock's handle, or, for the condition's own
    /// RLock, the condition (`cond` is its handle).
    fn debug_object(&self, cond: &Obj<Cond>) -> Object {
        match self {
            CondLock::Own(_) => Object::new(cond, debug::Kind::Condition),
            CondLock::Lock(p) => Object::new(p.as_ptr(), debug::Kind::Lock),
            CondLock::RLock(p) => Object::new(p.as_ptr(), debug::Kind::RLock),
        }
    }

    /// Whether the caller's release would free the lock (a Lock held, or an RLock's last
    /// level), for the holder records.
    fn releasing_last(&self) -> bool {
        match self {
            CondLock::Own(r) => r.count() == 1,
            // SAFETY: as in `target`.
            CondLock::Lock(p) => unsafe { p.as_ref() }.inner.locked(),
            // SAFETY: as in `target`.
            CondLock::RLock(p) => unsafe { p.as_ref() }.inner.count() == 1,
        }
    }

    /// Whether the caller's acquisition was the first (not an RLock's re-entry).
    fn acquired_first(&self) -> bool {
        match self {
            CondLock::Own(r) => r.count() == 1,
            CondLock::Lock(_) => true,
            // SAFETY: as in `target`.
            CondLock::RLock(p) => unsafe { p.as_ref() }.inner.count() == 1,
        }
    }
}

impl CondLock {
    /// The busy count of the borrowed lock's handle; `None` for a condition's own RLock.
    fn borrowed_busy(&self) -> Option<&AtomicU32> {
        // SAFETY: as in `target`: the handle is alive while the condition lives.
        match self {
            CondLock::Own(_) => None,
            CondLock::Lock(p) => Some(unsafe { &p.as_ref().header.busy }),
            CondLock::RLock(p) => Some(unsafe { &p.as_ref().header.busy }),
        }
    }
}

impl Drop for CondLock {
    fn drop(&mut self) {
        if let Some(busy) = self.borrowed_busy() {
            // The borrow was counted in this generation: at creation, or again by the last
            // fork child's reset (`reset_in_child`).
            Busy::leave(busy, crate::wait::fork::generation());
        }
    }
}

/// A condition that borrows a lock is listed, so that a fork child counts the borrow again:
/// the child forgets every count of the parent's generation (see `Busy`).
impl crate::wait::fork::ForkSafe for CondLock {
    fn try_lock_for_fork(&self) -> bool {
        true
    }

    fn unlock_after_fork(&self) {}

    fn reset_in_child(&self) {
        if let Some(busy) = self.borrowed_busy() {
            Busy::enter(busy);
        }
    }
}

impl ConditionLock for CondLock {
    fn raw_lock(&self) -> &Lock {
        self.target().raw_lock()
    }
    fn try_acquire(&self) -> Result<bool, Error> {
        self.target().try_acquire()
    }
    fn acquire(&self, wait: Wait) -> Result<(), Error> {
        self.target().acquire(wait)
    }
    fn release(&self) -> Result<(), Error> {
        self.target().release()
    }
    fn is_owned(&self) -> bool {
        self.target().is_owned()
    }
    fn release_save(&self) -> u64 {
        self.target().release_save()
    }
    fn restore(&self, saved: u64) {
        self.target().restore(saved)
    }
}

type Cond = Condition<CondLock>;

impl super::Handled for Cond {
    const KIND: super::Kind = super::Kind::Condition;

    fn fork_safe(&self) -> Option<&(dyn crate::wait::fork::ForkSafe + 'static)> {
        let lock = self.lock();
        lock.borrowed_busy().is_some().then_some(lock as _)
    }
}

/// Creates a condition with a new re-entrant lock of its own (`threading.Condition()`).
///
/// On `RT_OK`, `*out` receives the condition, which the caller owns and frees with
/// `rt_condition_free`. Errors: `RT_EINVAL` if `out` is NULL ("NULL output pointer");
/// `RT_ENOMEM`. On error `*out` is not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_new(out: *mut *mut rt_condition) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    unsafe { Out::new(out) }.make(|| Ok(Condition::with_lock(CondLock::Own(RLock::new()))))
}

/// Creates a condition that uses the caller's plain lock (`threading.Condition(lock)`).
///
/// The condition borrows `lock`: until the condition is freed, `rt_lock_free(lock)` returns
/// `RT_EBUSY` and leaves it alone, so free the condition first. A plain lock has no owner, so
/// "owning" it means, as in CPython, that it is locked (by any thread): a thread that does not
/// hold it may then wait and notify, and a wait releases it for whoever held it. Prefer an
/// RLock (`rt_condition_new_with_rlock`) for a strict ownership check.
///
/// On `RT_OK`, `*out` receives the condition, which the caller owns and frees with
/// `rt_condition_free`. Errors: `RT_EINVAL` for a NULL or wrong-kind `lock` ("NULL handle",
/// "handle of the wrong kind") or a NULL `out` ("NULL output pointer"); `RT_ENOMEM` (also when
/// 524287 conditions already use the lock). On error `*out` is not written and `lock` is not
/// borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_new_with_lock(
    lock: *mut super::lock::rt_lock,
    out: *mut *mut rt_condition,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live lock handle, and `out` NULL or writable.
    let (lock, out) = unsafe { (Handle::new(lock), Out::new(out)) };
    lock.on(|l: &Obj<Lock>| out.put(|| CondLock::borrow_lock(l).map(Condition::with_lock)))
}

/// Creates a condition that uses the caller's re-entrant lock (`threading.Condition(rlock)`).
///
/// The condition borrows `rlock`: until the condition is freed, `rt_rlock_free(rlock)` returns
/// `RT_EBUSY` and leaves it alone, so free the condition first. Only the thread that owns
/// `rlock` may wait and notify.
///
/// On `RT_OK`, `*out` receives the condition, which the caller owns and frees with
/// `rt_condition_free`. Errors: `RT_EINVAL` for a NULL or wrong-kind `rlock` ("NULL handle",
/// "handle of the wrong kind") or a NULL `out` ("NULL output pointer"); `RT_ENOMEM` (also when
/// 524287 conditions already use the RLock). On error `*out` is not written and `rlock` is not
/// borrowed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_new_with_rlock(
    rlock: *mut super::rlock::rt_rlock,
    out: *mut *mut rt_condition,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live rlock handle, and `out` NULL or writable.
    let (rlock, out) = unsafe { (Handle::new(rlock), Out::new(out)) };
    rlock.on(|l: &Obj<RLock>| out.put(|| CondLock::borrow_rlock(l).map(Condition::with_lock)))
}

/// Destroys a condition and, if it made its own, its lock; a borrowed lock becomes free to be
/// destroyed again (it is not destroyed). NULL is fine (nothing happens). It may be freed while
/// its lock is held, but not while threads are blocked in a call on it (acquire, wait,
/// wait_for): then `RT_EBUSY` ("object is in use by waiting threads") and it is not freed.
/// `RT_EINVAL` for a handle of another kind. Freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_free(cond: *mut rt_condition) -> rt_status {
    // SAFETY: the caller passes NULL or a live condition handle.
    unsafe { free::<Cond, rt_condition>(cond) }
}

/// Acquires the condition's lock (`cond.acquire(blocking, timeout)`): exactly what
/// `rt_lock_acquire` or `rt_rlock_acquire` does on that lock, with the same arguments, results
/// and errors (an RLock re-enters). `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_acquire(
    cond: *mut rt_condition,
    wait: c_int,
    timeout: f64,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let cond = unsafe { Handle::new(cond) };
    cond.on(|c: &Obj<Cond>| {
        let w = lock_wait(wait != 0, timeout)?;
        let obj = c.inner.lock().debug_object(c);
        acquire_recorded(&c.inner, w, obj, "rt_condition_acquire", timeout, || {
            c.busy()
        })?;
        if debug::active() != 0 && c.inner.lock().acquired_first() {
            debug::acquired(obj);
        }
        Ok(())
    })
}

/// Releases the condition's lock (`cond.release()`): exactly what `rt_lock_release` or
/// `rt_rlock_release` does on that lock (`RT_ENOTLOCKED` "release unlocked lock" for a plain
/// lock that is not locked; `RT_ENOTOWNER` "cannot release un-acquired lock" for an RLock the
/// caller does not own). `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_release(cond: *mut rt_condition) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(cond) }.on(|c: &Obj<Cond>| {
        let lock = c.inner.lock();
        if debug::active() != 0 && lock.is_owned() && lock.releasing_last() {
            debug::releasing(lock.debug_object(c));
        }
        c.inner.release()
    })
}

/// Runs a condition wait with the debug records: while it waits the caller holds no level of
/// the lock (it is taken out of the holder records, and put back after), and its blocked-on
/// record names the condition and, as the edge the deadlock walk follows, the lock it must take
/// back before it returns.
fn recorded_wait(
    c: &Obj<Cond>,
    call: &'static str,
    timeout: f64,
    wait: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    let lock = c.inner.lock().debug_object(c);
    let tracked = debug::active() != 0 && c.inner.lock().is_owned();
    if tracked {
        debug::releasing(lock);
    }
    let result = {
        let waiting = debug::waiting::Waiting::begin(
            Object::new(c, debug::Kind::Condition),
            call,
            timeout,
            0,
            Some(lock),
        );
        let r = wait();
        drop(waiting);
        r
    };
    if tracked {
        debug::acquired(lock);
    }
    result
}

/// Waits until notified (`cond.wait(timeout)`). The caller must own the lock; the wait releases
/// it completely (an RLock held N levels deep is fully released), and takes it back, at the
/// same level, before returning, whatever the result: even after a timeout or an interrupt, and
/// without being interruptible while it does.
///
/// Returns `RT_OK` when woken by `rt_condition_notify` or `rt_condition_notify_all` (never
/// spuriously); `RT_TIMEOUT` when `timeout` seconds passed first (monotonic clock, never early;
/// 0 releases the lock, takes it back and reports `RT_TIMEOUT` unless a notify came in
/// between); `RT_EINTR` when `rt_thread_interrupt` ended the wait (an interrupt that comes after
/// the notify is kept for the thread's next wait). `RT_FOREVER` waits without bound.
///
/// Errors, with the lock untouched: `RT_ENOTOWNER` if the caller does not own the lock
/// ("cannot wait on un-acquired lock"), checked first, as in CPython; `RT_EINVAL` for a NaN
/// timeout or a negative one other than `RT_FOREVER`, `RT_EOVERFLOW` above `RT_TIMEOUT_MAX`
/// (Python treats negative and NaN timeouts as 0); `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_wait(cond: *mut rt_condition, timeout: f64) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let cond = unsafe { Handle::new(cond) };
    cond.on(|c: &Obj<Cond>| {
        if !c.inner.lock().is_owned() {
            return Err(WAIT_NOT_OWNED);
        }
        let w = timeout_wait(timeout)?;
        let _busy = c.busy();
        recorded_wait(c, "rt_condition_wait", timeout, || c.inner.wait(w))
    })
}

/// Waits until `pred(ctx)` returns non-zero (`cond.wait_for(predicate, timeout)`): `pred` is
/// called first, then again after each wake-up, always with the lock held (by the caller); it
/// runs in the calling thread, under no lock of rthread's, and must not call `rt_exit_thread`
/// (which then returns `RT_ESTATE`). `timeout` bounds the whole call (monotonic clock).
///
/// Returns `RT_OK` as soon as `pred` returns non-zero (at once, and without checking that the
/// caller owns the lock, if it already does, as in CPython); `RT_TIMEOUT` when the time ran out
/// with `pred` still zero (with `timeout` 0: `pred` is called once and the lock is kept);
/// `RT_EINTR` when interrupted. Errors: first, before `pred` is called, `RT_EINVAL` for a NULL
/// or wrong-kind handle, a NULL `pred` ("predicate must be callable"), a NaN timeout or a
/// negative one other than `RT_FOREVER`, and `RT_EOVERFLOW` above `RT_TIMEOUT_MAX`; then
/// `RT_ENOTOWNER` ("cannot wait on un-acquired lock") when the predicate is false and the
/// caller, which does not own the lock, would have to wait (with `timeout` 0 it gets
/// `RT_TIMEOUT`, as in CPython).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_wait_for(
    cond: *mut rt_condition,
    pred: rt_predicate_fn,
    ctx: *mut c_void,
    timeout: f64,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let cond = unsafe { Handle::new(cond) };
    cond.on(|c: &Obj<Cond>| {
        let pred = pred.ok_or(NOT_CALLABLE)?;
        let w = timeout_wait(timeout)?;
        let call = || {
            let _guard = CallbackGuard::new();
            // SAFETY: the caller gave `pred` and `ctx` together to be called this way.
            unsafe { pred(ctx) != 0 }
        };
        let _busy = c.busy();
        recorded_wait(c, "rt_condition_wait_for", timeout, || {
            c.inner.wait_for(call, w)
        })
    })
}

/// Wakes at most `n` threads waiting on the condition (`cond.notify(n)`), those that have
/// waited longest first: exactly `n` when at least `n` wait (a thread that timed out or was
/// interrupted is never counted). `n` 0 does nothing. The woken threads return from their wait
/// once they get the lock back, so after the caller releases it.
///
/// Errors: `RT_ENOTOWNER` if the caller does not own the lock ("cannot notify on un-acquired
/// lock"); `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_notify(cond: *mut rt_condition, n: usize) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(cond) }.on(|c: &Obj<Cond>| c.inner.notify(n))
}

/// Wakes every thread waiting on the condition (`cond.notify_all()`). They return from their
/// wait one at a time, as each gets the lock back: rather than waking them all to contend for
/// the lock, rthread moves them onto the lock's queue, and each release of the lock lets one go.
///
/// Errors: `RT_ENOTOWNER` if the caller does not own the lock ("cannot notify on un-acquired
/// lock"); `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_condition_notify_all(cond: *mut rt_condition) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(cond) }.on(|c: &Obj<Cond>| c.inner.notify_all())
}
