//! `threading.Condition`: a condition variable bound to its lock, on the waiting core.
//!
//! The design is parking_lot's condvar. A waiter parks on the condition's key: `validate`
//! (under the bucket lock) notes that the condition has waiters, and `before_sleep` (after the
//! thread is queued) releases the lock completely. A notifier must hold the lock, so any waiter
//! that has released it is already in the queue, and `notify` takes it out under the same bucket
//! lock: a notify issued after a waiter released the lock always reaches a waiter. Whether a
//! waiter was notified or timed out is decided once, under the bucket lock (the waiting core's
//! rule): a thread taken out by `notify(n)` always returns "notified", a thread that timed out is
//! never counted, so `notify(n)` wakes exactly `n` threads when at least `n` wait.
//!
//! `notify_all` does not wake every waiter only for all of them to sleep again on the lock that
//! the notifier still holds: it moves them onto the lock's queue (`wait::unpark_requeue`) and
//! marks the lock as having waiters, so each release of the lock wakes one of them. A requeued
//! waiter is woken by the lock like any of its waiters: with a hand-off (it holds the lock) or
//! not (it takes the lock again itself). Either way it was notified. `notify(n)` wakes its
//! threads, which then take the lock in turn.
//!
//! A waiter, once queued and its lock released, spins a little before it sleeps
//! (`Block::spin`): in a hand-off the notify usually comes within microseconds from a thread
//! running on another CPU, and then the waiter returns without a sleep and the notifier
//! without a wake-up call (the waiting core skips the futex call for a thread still spinning).
//!
//! Whatever ends a wait, the lock is taken back before it returns, without a deadline and
//! ignoring interrupts, and an RLock gets its recursion level back.
//!
//! `waiters_hint` is a hint that lets `notify` skip the table when nobody waits. It is set under
//! the bucket lock by each waiter before it releases the lock, and cleared under the bucket lock
//! when the queue empties; the notifier reads it with the lock held, after the waiter's release
//! of that lock, so it never misses a waiter that has released the lock.
//!
//! Differences from Python: a timeout of 0 polls (the lock is released and taken back, as in
//! Python) but a negative timeout other than `RT_FOREVER` and NaN are `RT_EINVAL` (Python polls);
//! `wait_for` returns `Ok` or `RT_TIMEOUT` rather than the predicate's value. With a plain
//! [`Lock`], "owned" means "locked by some thread", as in CPython (it has no owner).

use crate::debug::annotate;
use crate::status::{Error, rt_status};
use crate::sync::lock::TOKEN_HANDOFF;
use crate::sync::{Lock, RLock};
use crate::time::{Deadline, Wait};
use crate::wait::sys::{AtomicBool, Ordering};
use crate::wait::{self, Block, ParkResult, RequeueOp, UnparkResult, interrupt};
use std::sync::Arc;

pub const WAIT_NOT_OWNED: Error =
    Error::new(rt_status::RT_ENOTOWNER, "cannot wait on un-acquired lock");
pub const NOTIFY_NOT_OWNED: Error =
    Error::new(rt_status::RT_ENOTOWNER, "cannot notify on un-acquired lock");

/// Unpark token of a notify: the woken waiter takes the lock itself.
const TOKEN_NOTIFIED: usize = crate::sync::lock::TOKEN_NORMAL;

/// What a condition needs from its lock: Python's `acquire`, `release`, `_is_owned`,
/// `_release_save` and `_acquire_restore`, and the underlying [`Lock`] to requeue waiters onto.
pub trait ConditionLock {
    /// The [`Lock`] that is held exactly while the lock is held.
    fn raw_lock(&self) -> &Lock;
    /// Takes the lock if that needs no wait (for an RLock: re-enters it, or takes it if free);
    /// `Ok(false)` if another thread holds it.
    fn try_acquire(&self) -> Result<bool, Error>;
    /// Acquires the lock as its own `acquire` does.
    fn acquire(&self, wait: Wait) -> Result<(), Error>;
    /// Releases the lock as its own `release` does (one level of an RLock).
    fn release(&self) -> Result<(), Error>;
    /// Whether the caller may wait and notify: it owns the lock (for a [`Lock`]: it is locked).
    fn is_owned(&self) -> bool;
    /// Releases the lock completely; returns what [`ConditionLock::restore`] needs (the
    /// recursion level). Called only when [`ConditionLock::is_owned`] held.
    fn release_save(&self) -> u64;
    /// Completes a re-acquisition once the caller holds [`ConditionLock::raw_lock`] again.
    fn restore(&self, saved: u64);
}

impl ConditionLock for Lock {
    fn raw_lock(&self) -> &Lock {
        self
    }
    fn try_acquire(&self) -> Result<bool, Error> {
        Ok(Lock::try_acquire(self))
    }
    fn acquire(&self, wait: Wait) -> Result<(), Error> {
        Lock::acquire(self, wait)
    }
    fn release(&self) -> Result<(), Error> {
        Lock::release(self)
    }
    fn is_owned(&self) -> bool {
        self.locked()
    }
    fn release_save(&self) -> u64 {
        // Another thread may have released a Lock (it has no owner) since `is_owned`: the
        // lock is released either way, which is all a wait needs.
        let _ = Lock::release(self);
        0
    }
    fn restore(&self, _saved: u64) {}
}

impl ConditionLock for RLock {
    fn raw_lock(&self) -> &Lock {
        self.raw()
    }
    fn try_acquire(&self) -> Result<bool, Error> {
        RLock::try_acquire(self)
    }
    fn acquire(&self, wait: Wait) -> Result<(), Error> {
        RLock::acquire(self, wait)
    }
    fn release(&self) -> Result<(), Error> {
        RLock::release(self)
    }
    fn is_owned(&self) -> bool {
        RLock::is_owned(self)
    }
    fn release_save(&self) -> u64 {
        RLock::release_save(self)
    }
    fn restore(&self, saved: u64) {
        RLock::restore(self, saved)
    }
}

macro_rules! forward_condition_lock {
    ($($t:ty),*) => {$(
        impl<L: ConditionLock + ?Sized> ConditionLock for $t {
            fn raw_lock(&self) -> &Lock {
                (**self).raw_lock()
            }
            fn try_acquire(&self) -> Result<bool, Error> {
                (**self).try_acquire()
            }
            fn acquire(&self, wait: Wait) -> Result<(), Error> {
                (**self).acquire(wait)
            }
            fn release(&self) -> Result<(), Error> {
                (**self).release()
            }
            fn is_owned(&self) -> bool {
                (**self).is_owned()
            }
            fn release_save(&self) -> u64 {
                (**self).release_save()
            }
            fn restore(&self, saved: u64) {
                (**self).restore(saved)
            }
        }
    )*};
}

forward_condition_lock!(&L, Arc<L>, Box<L>);

/// A condition variable with its lock (`threading.Condition`). `Condition::new()` makes its own
/// [`RLock`], as `Condition()` does; [`Condition::with_lock`] takes any [`ConditionLock`]
/// (a [`Lock`], an [`RLock`], a reference or an `Arc` to one).
pub struct Condition<L: ConditionLock = RLock> {
    /// True while threads may be queued on the condition's key; see the module comment.
    waiters_hint: AtomicBool,
    lock: L,
}

impl Default for Condition<RLock> {
    fn default() -> Self {
        Self::new()
    }
}

impl Condition<RLock> {
    /// A condition with a new RLock of its own (`Condition()`).
    pub fn new() -> Condition<RLock> {
        Condition::with_lock(RLock::new())
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A condition that uses `lock` (`Condition(lock)`).
    pub fn with_lock(lock: L) -> Condition<L> {
        Condition {
            waiters_hint: AtomicBool::new(false),
            lock,
        }
    }

    /// The condition's lock.
    pub fn lock(&self) -> &L {
        &self.lock
    }

    fn key(&self) -> usize {
        &self.waiters_hint as *const AtomicBool as usize
    }

    /// Acquires the lock (`acquire()`), as the lock's own acquire does.
    pub fn acquire(&self, wait: Wait) -> Result<(), Error> {
        self.lock.acquire(wait)
    }

    /// Releases the lock (`release()`), as the lock's own release does.
    pub fn release(&self) -> Result<(), Error> {
        self.lock.release()
    }

    /// Waits until notified (`wait(timeout)`), releasing the lock completely meanwhile and
    /// taking it back (at the same recursion level) before returning, whatever the outcome.
    ///
    /// `Ok` when notified; `Err`: `RT_TIMEOUT` when the time ran out (`Wait::Try` polls:
    /// the lock is still released and taken back), `RT_EINTR` when interrupted,
    /// `RT_ENOTOWNER` when the caller does not own the lock (nothing else happens then).
    pub fn wait(&self, wait: Wait) -> Result<(), Error> {
        self.wait_as(wait, false)
    }

    /// [`Condition::wait`] on a condition whose lock is an internal one (a barrier's): the
    /// blocking hooks run around the wait as for any wait, but a waiter that is handed the
    /// lock when it wakes lets go of it for `after` (which may block on the user's side, an
    /// interpreter's global lock), then takes it back with `Lock::acquire_internal`, which
    /// runs no hook: `after` never runs with the internal lock held.
    pub(crate) fn wait_internal(&self, wait: Wait) -> Result<(), Error> {
        self.wait_as(wait, true)
    }

    fn wait_as(&self, wait: Wait, internal: bool) -> Result<(), Error> {
        if !self.lock.is_owned() {
            return Err(WAIT_NOT_OWNED);
        }
        let key = self.key();
        let raw = self.lock.raw_lock();
        let deadline = match wait {
            Wait::Try => Some(Deadline(0)),
            Wait::Forever => None,
            Wait::Until(d) => Some(d),
        };
        let mut saved = 0;
        let mut requeued = false;
        // An internal wait runs the hooks itself, to order `after` with the lock (see
        // `wait_internal`); `before` runs first, as in every park.
        let span = internal.then(wait::blocking_hooks::begin_block);
        let result = wait::park_custom(
            key,
            || {
                self.waiters_hint.store(true, Ordering::Relaxed);
                true
            },
            || saved = self.lock.release_save(),
            |k, was_last| {
                // A waiter that gives up on the lock's queue was moved there by notify_all:
                // it was notified.
                requeued = k != key;
                if requeued {
                    if was_last {
                        raw.clear_parked();
                    }
                } else if was_last {
                    self.waiters_hint.store(false, Ordering::Relaxed);
                }
            },
            Block {
                hooks: !internal,
                spin: true,
                ..Block::until(deadline)
            },
        );
        let handed_over = result == ParkResult::Unparked(TOKEN_HANDOFF);
        if internal {
            if handed_over {
                raw.release_held();
            }
            drop(span);
            raw.acquire_internal();
        } else if !handed_over {
            raw.acquire_uninterruptible();
        }
        self.lock.restore(saved);
        annotate::acquired(raw);
        match result {
            ParkResult::Unparked(_) => Ok(()),
            ParkResult::TimedOut if requeued => Ok(()),
            ParkResult::Interrupted if requeued => {
                interrupt::rearm();
                Ok(())
            }
            ParkResult::Interrupted => Err(Error::INTERRUPTED),
            // `validate` never refuses; a wait that did not sleep is not a notification.
            ParkResult::TimedOut | ParkResult::Invalid => Err(Error::TIMEOUT),
        }
    }

    /// Waits until `pred()` is true (`wait_for(predicate, timeout)`): `pred` is evaluated first,
    /// with the lock held, then after each wake-up; `wait` bounds the whole call.
    ///
    /// `Ok` as soon as `pred()` is true (even without owning the lock, as in Python);
    /// `Err`: `RT_TIMEOUT` when the time ran out with `pred()` false, `RT_EINTR`,
    /// `RT_ENOTOWNER` as for [`Condition::wait`].
    pub fn wait_for(&self, mut pred: impl FnMut() -> bool, wait: Wait) -> Result<(), Error> {
        loop {
            if pred() {
                return Ok(());
            }
            if wait.expired() {
                return Err(Error::TIMEOUT);
            }
            match self.wait(wait) {
                Ok(()) | Err(Error::TIMEOUT) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Wakes at most `n` of the threads waiting (`notify(n)`), the longest-waiting first: exactly
    /// `n` when at least `n` wait. `n == 0` does nothing. `Err` is `RT_ENOTOWNER` when the caller
    /// does not own the lock.
    pub fn notify(&self, n: usize) -> Result<(), Error> {
        if !self.lock.is_owned() {
            return Err(NOTIFY_NOT_OWNED);
        }
        if n == 0 || !self.waiters_hint.load(Ordering::Relaxed) {
            return Ok(());
        }
        let callback = |r: UnparkResult| {
            if !r.have_more_threads {
                self.waiters_hint.store(false, Ordering::Relaxed);
            }
            TOKEN_NOTIFIED
        };
        wait::unpark(self.key(), n, callback);
        Ok(())
    }

    /// Wakes every thread waiting (`notify_all()`), by moving them onto the lock's queue.
    /// `Err` is `RT_ENOTOWNER` when the caller does not own the lock.
    pub fn notify_all(&self) -> Result<(), Error> {
        if !self.lock.is_owned() {
            return Err(NOTIFY_NOT_OWNED);
        }
        if !self.waiters_hint.load(Ordering::Relaxed) {
            return Ok(());
        }
        let raw = self.lock.raw_lock();
        let validate = || {
            if !self.waiters_hint.load(Ordering::Relaxed) {
                return RequeueOp::Abort;
            }
            // Every waiter leaves the condition's queue now.
            self.waiters_hint.store(false, Ordering::Relaxed);
            // The lock is held (we own it), so its release will wake the requeued threads one
            // by one. Only a Lock released meanwhile by another thread (it has no owner) is
            // free here: then wake one waiter to take it.
            if raw.mark_parked_if_locked() {
                RequeueOp::RequeueAll
            } else {
                RequeueOp::UnparkOneRequeueRest
            }
        };
        let callback = |op, r: UnparkResult| {
            if op == RequeueOp::UnparkOneRequeueRest && r.requeued_threads != 0 {
                raw.mark_parked();
            }
            TOKEN_NOTIFIED
        };
        wait::unpark_requeue(self.key(), raw.key(), validate, callback);
        Ok(())
    }

    /// Whether threads wait on the condition or its lock (a snapshot; tests wait for a thread to block with it:
    /// the C face's `RT_EBUSY` uses its own busy counts).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters_hint.load(Ordering::Relaxed) || wait::waiting_on(self.key()) != 0
    }
}

impl<L: ConditionLock> super::Acquire for Condition<L> {
    fn acquire_now(&self) -> Result<bool, Error> {
        self.lock.try_acquire()
    }
    fn acquire_blocking(&self, wait: Wait) -> Result<(), Error> {
        self.lock.acquire(wait)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn wait_and_notify_need_the_lock() {
        let c = Condition::new();
        assert_eq!(c.wait(Wait::Forever), Err(WAIT_NOT_OWNED));
        assert_eq!(c.notify(1), Err(NOTIFY_NOT_OWNED));
        assert_eq!(c.notify_all(), Err(NOTIFY_NOT_OWNED));
        // A predicate that holds returns before the ownership check, as in Python.
        assert_eq!(c.wait_for(|| true, Wait::Forever), Ok(()));
        assert_eq!(c.wait_for(|| false, Wait::Forever), Err(WAIT_NOT_OWNED));
        c.acquire(Wait::Forever).unwrap();
        c.notify(1).unwrap();
        c.notify_all().unwrap();
        assert_eq!(c.wait(Wait::Try), Err(Error::TIMEOUT));
        assert_eq!(c.wait(Wait::for_secs(0.02)), Err(Error::TIMEOUT));
        assert!(c.lock().is_owned());
        c.release().unwrap();
    }

    std::thread_local! {
        static WATCHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    /// What the `after` hook of a watched thread saw: 1 the lock free, 2 the lock held.
    static AFTER_SAW: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    unsafe extern "C-unwind" fn after_hook(ctx: *mut std::ffi::c_void) {
        if WATCHED.with(|w| w.get()) {
            // SAFETY: the test passes its Lock, which outlives the hooks.
            let held = unsafe { &*(ctx as *const Lock) }.locked();
            AFTER_SAW.store(if held { 2 } else { 1 }, Ordering::SeqCst);
        }
    }

    #[test]
    fn an_internal_wait_handed_its_lock_runs_after_without_it() {
        let _one_at_a_time = wait::blocking_hooks::TEST_HOOKS.lock();
        let c = Arc::new(Condition::with_lock(Lock::new()));
        let lock_ptr = c.lock() as *const Lock as *mut std::ffi::c_void;
        // SAFETY: the hook only reads the Lock, which lives until the hooks are removed below;
        // it acts only in the thread this test marks.
        unsafe { wait::blocking_hooks::set(None, Some(after_hook), lock_ptr) };
        let c2 = c.clone();
        let waiter = std::thread::spawn(move || {
            WATCHED.with(|w| w.set(true));
            c2.lock().acquire_internal();
            let r = c2.wait_internal(Wait::Forever);
            let held_after = c2.lock().locked();
            let _ = c2.release();
            (r, held_after)
        });
        while wait::waiting_on(c.key()) == 0 {
            std::thread::yield_now();
        }
        c.lock().acquire_internal();
        c.notify_all().unwrap();
        // The waiter, now on the lock's queue, has waited long enough to be handed the lock.
        std::thread::sleep(std::time::Duration::from_millis(5));
        c.release().unwrap();
        let (r, held_after) = waiter.join().unwrap();
        // SAFETY: removing the hooks.
        unsafe { wait::blocking_hooks::set(None, None, std::ptr::null_mut()) };
        assert_eq!(r, Ok(()));
        assert!(held_after, "the wait returns with the lock held");
        assert_eq!(
            AFTER_SAW.load(Ordering::SeqCst),
            1,
            "after ran with the lock held"
        );
    }

    #[test]
    fn wait_restores_the_recursion_level() {
        let c = Arc::new(Condition::new());
        for _ in 0..3 {
            c.acquire(Wait::Forever).unwrap();
        }
        let c2 = c.clone();
        let t = std::thread::spawn(move || {
            // Only possible once the waiter has released all three levels.
            c2.acquire(Wait::Forever).unwrap();
            c2.notify(1).unwrap();
            c2.release().unwrap();
        });
        c.wait(Wait::Forever).unwrap();
        assert_eq!(c.lock().count(), 3);
        for _ in 0..3 {
            c.release().unwrap();
        }
        t.join().unwrap();
    }

    fn notify_count(n: usize, waiters: usize, all: bool) -> usize {
        let c = Arc::new(Condition::with_lock(Lock::new()));
        let parked = Arc::new(AtomicUsize::new(0));
        let woken = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..waiters)
            .map(|_| {
                let (c, parked, woken) = (c.clone(), parked.clone(), woken.clone());
                std::thread::spawn(move || {
                    c.acquire(Wait::Forever).unwrap();
                    parked.fetch_add(1, Ordering::SeqCst);
                    let r = c.wait(Wait::for_secs(2.0));
                    if r.is_ok() {
                        woken.fetch_add(1, Ordering::SeqCst);
                    }
                    c.release().unwrap();
                })
            })
            .collect();
        // Every waiter has released the lock once we can take it with all of them counted.
        loop {
            c.acquire(Wait::Forever).unwrap();
            if parked.load(Ordering::SeqCst) == waiters {
                break;
            }
            c.release().unwrap();
            std::thread::yield_now();
        }
        if all {
            c.notify_all().unwrap();
        } else {
            c.notify(n).unwrap();
        }
        c.release().unwrap();
        for t in threads {
            t.join().unwrap();
        }
        woken.load(Ordering::SeqCst)
    }

    #[test]
    fn notify_wakes_exactly_n() {
        assert_eq!(notify_count(2, 5, false), 2);
        assert_eq!(notify_count(9, 3, false), 3);
        assert_eq!(notify_count(0, 2, false), 0);
        assert_eq!(notify_count(0, 4, true), 4);
    }

    /// Runs `body` in a new thread that hands its record over first; returns the record and
    /// the thread.
    fn spawn_with_record<T: Send + 'static>(
        body: impl FnOnce() -> T + Send + 'static,
    ) -> (crate::wait::RecordRef, std::thread::JoinHandle<T>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(crate::wait::current_record().unwrap()).unwrap();
            body()
        });
        (rx.recv().unwrap(), t)
    }

    #[test]
    fn interrupted_wait_takes_the_lock_back() {
        let c = Arc::new(Condition::new());
        let c2 = c.clone();
        let (rec, t) = spawn_with_record(move || {
            c2.acquire(Wait::Forever).unwrap();
            c2.acquire(Wait::Forever).unwrap();
            let r = c2.wait(Wait::Forever);
            let level = c2.lock().count();
            c2.release().unwrap();
            c2.release().unwrap();
            (r, level)
        });
        while wait::waiting_on(c.key()) == 0 {
            std::thread::yield_now();
        }
        rec.interrupt();
        assert_eq!(t.join().unwrap(), (Err(Error::INTERRUPTED), 2));
        // A pending interrupt ends the next wait at once, the lock still released and retaken.
        c.acquire(Wait::Forever).unwrap();
        crate::wait::with_current(|r| r.interrupt());
        assert_eq!(c.wait(Wait::Forever), Err(Error::INTERRUPTED));
        assert_eq!(c.lock().count(), 1);
        c.release().unwrap();
        assert!(!c.has_waiters());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::wait::sys::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    /// A notify issued after the waiter released the lock always reaches it: the waiter only
    /// leaves its loop when the flag is set, so a lost wake-up is a deadlock loom reports.
    #[test]
    fn loom_condition_notify_reaches_the_waiter() {
        loom::model(|| {
            let c = Arc::new(Condition::with_lock(Lock::new()));
            let flag = Arc::new(AtomicUsize::new(0));
            let (c2, flag2) = (c.clone(), flag.clone());
            let waiter = thread::spawn(move || {
                c2.acquire(Wait::Forever).unwrap();
                while flag2.load(Ordering::Relaxed) == 0 {
                    c2.wait(Wait::Forever).unwrap();
                }
                c2.release().unwrap();
            });
            c.acquire(Wait::Forever).unwrap();
            flag.store(1, Ordering::Relaxed);
            c.notify(1).unwrap();
            c.release().unwrap();
            waiter.join().unwrap();
            assert!(!c.lock().locked());
        });
    }

    /// notify_all moves both waiters onto the lock; each gets the lock back in turn.
    #[test]
    fn loom_condition_notify_all_requeues_every_waiter() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let c = Arc::new(Condition::with_lock(Lock::new()));
            let flag = Arc::new(AtomicUsize::new(0));
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let (c, flag) = (c.clone(), flag.clone());
                    thread::spawn(move || {
                        c.acquire(Wait::Forever).unwrap();
                        while flag.load(Ordering::Relaxed) == 0 {
                            c.wait(Wait::Forever).unwrap();
                        }
                        c.release().unwrap();
                    })
                })
                .collect();
            c.acquire(Wait::Forever).unwrap();
            flag.store(1, Ordering::Relaxed);
            c.notify_all().unwrap();
            c.release().unwrap();
            for w in waiters {
                w.join().unwrap();
            }
            assert!(!c.lock().locked());
        });
    }

    /// An RLock held twice is released completely by wait and restored at level 2.
    #[test]
    fn loom_condition_rlock_level_survives_wait() {
        loom::model(|| {
            let c = Arc::new(Condition::new());
            let flag = Arc::new(AtomicUsize::new(0));
            let (c2, flag2) = (c.clone(), flag.clone());
            let waiter = thread::spawn(move || {
                c2.acquire(Wait::Forever).unwrap();
                c2.acquire(Wait::Forever).unwrap();
                while flag2.load(Ordering::Relaxed) == 0 {
                    c2.wait(Wait::Forever).unwrap();
                }
                assert_eq!(c2.lock().count(), 2);
                c2.release().unwrap();
                c2.release().unwrap();
            });
            c.acquire(Wait::Forever).unwrap();
            flag.store(1, Ordering::Relaxed);
            c.notify_all().unwrap();
            c.release().unwrap();
            waiter.join().unwrap();
            assert!(!c.lock().locked());
        });
    }
}
