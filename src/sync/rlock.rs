//! `threading.RLock`: a [`Lock`] with an owner and a recursion level beside it.
//!
//! | field   | written by                        | meaning                                  |
//! |---------|-----------------------------------|------------------------------------------|
//! | `lock`  | anyone (acquire), the owner (release) | held exactly while `count > 0`       |
//! | `owner` | the owner, with `lock` held        | the holder's never-reused id, 0 if none  |
//! | `count` | the owner, with `lock` held        | the recursion level, 0 if unowned        |
//!
//! Ownership is tested by comparing `owner` with the caller's id (`wait::current_id()`). That
//! read needs no ordering: the only thread that can ever see its own id there is the thread that
//! wrote it, and a thread always sees its own last write. Ids are never reused, so a thread
//! started after the owner died can never inherit its ownership (CPython issue 128167).
//!
//! Re-entry is two plain loads and a store; a first acquire is the Lock's one compare-exchange
//! plus two stores; the last release two stores plus the Lock's release.
//!
//! Differences from Python: a recursion level above `u64::MAX` is refused (Python's limit is
//! `ULONG_MAX` too). Differences from pthreads: releasing a lock the caller does not own is
//! always reported; timed acquire uses the monotonic clock.

use crate::debug::annotate;
use crate::status::{Error, rt_status};
use crate::sync::Lock;
use crate::time::Wait;
use crate::wait::sys::{AtomicU64, Ordering};
use crate::wait::{current_id, current_id_if_assigned};

pub const NOT_OWNER: Error = Error::new(rt_status::RT_ENOTOWNER, "cannot release un-acquired lock");
pub const COUNT_OVERFLOW: Error =
    Error::new(rt_status::RT_EOVERFLOW, "Internal lock count overflowed");

/// A re-entrant lock: the owner may acquire it again, and only the owner may release it.
pub struct RLock {
    lock: Lock,
    owner: AtomicU64,
    count: AtomicU64,
}

impl Default for RLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RLock {
    pub fn new() -> RLock {
        RLock {
            lock: Lock::new(),
            owner: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// The underlying lock (held exactly while some thread owns the RLock).
    pub(crate) fn raw(&self) -> &Lock {
        &self.lock
    }

    /// Re-enters if the caller owns the lock, takes it if it is free; `Ok(false)` if another
    /// thread holds it. Never blocks. `Err` only for a recursion level that would overflow.
    #[inline]
    pub fn try_acquire(&self) -> Result<bool, Error> {
        let taken = self.try_acquire_as(current_id());
        if taken == Ok(true) {
            annotate::acquired(&self.lock);
        }
        taken
    }

    /// [`RLock::try_acquire`] for the thread whose id is `me` (the caller's, non-zero).
    #[inline]
    fn try_acquire_as(&self, me: u64) -> Result<bool, Error> {
        if self.owner.load(Ordering::Relaxed) == me {
            let c = self.count.load(Ordering::Relaxed);
            if c == u64::MAX {
                return Err(COUNT_OVERFLOW);
            }
            self.count.store(c + 1, Ordering::Relaxed);
            return Ok(true);
        }
        if self.lock.try_acquire_quiet() {
            self.set_owner(me, 1);
            return Ok(true);
        }
        Ok(false)
    }

    /// Acquires the lock: re-entry never blocks, whatever `wait` says; otherwise at once,
    /// without bound, or until a deadline. `Err`: `RT_TIMEOUT`, `RT_EINTR`, `RT_EOVERFLOW`.
    #[inline]
    pub fn acquire(&self, wait: Wait) -> Result<(), Error> {
        super::Acquire::acquire_with(self, wait, || ())
    }

    /// The contended path: the lock is (or was just) held by another thread.
    #[cold]
    pub fn acquire_slow(&self, wait: Wait) -> Result<(), Error> {
        self.lock.acquire_slow(wait)?;
        self.set_owner(current_id(), 1);
        Ok(())
    }

    /// The uncontended cases of [`RLock::try_acquire`], making no call: true if the caller
    /// re-entered or took the free lock. False changes nothing: the caller then goes through
    /// `try_acquire` or `acquire` (which also assign the thread's id on its first use).
    #[inline]
    pub fn try_acquire_fast(&self) -> bool {
        let me = current_id_if_assigned();
        me != 0 && matches!(self.try_acquire_as(me), Ok(true))
    }

    /// [`RLock::release`] for the owner: true when done. False changes nothing: the caller is
    /// not the owner, and `release` reports it.
    #[inline]
    pub fn release_if_owner(&self) -> bool {
        let me = current_id_if_assigned();
        if me == 0 || self.owner.load(Ordering::Relaxed) != me {
            return false;
        }
        let c = self.count.load(Ordering::Relaxed);
        if c > 1 {
            self.count.store(c - 1, Ordering::Relaxed);
        } else {
            self.set_owner(0, 0);
            self.lock.release_held();
        }
        true
    }

    fn set_owner(&self, id: u64, count: u64) {
        self.owner.store(id, Ordering::Relaxed);
        self.count.store(count, Ordering::Relaxed);
    }

    /// Releases one level; the last release frees the lock for one waiter.
    /// `Err` is `RT_ENOTOWNER` when the caller does not own the lock.
    #[inline]
    pub fn release(&self) -> Result<(), Error> {
        annotate::released(&self.lock);
        // A thread without an id has never acquired anything, so it owns nothing.
        if self.release_if_owner() {
            Ok(())
        } else {
            Err(NOT_OWNER)
        }
    }

    /// Whether the caller owns the lock (`_is_owned()`).
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == current_id()
    }

    /// The caller's recursion level (`_recursion_count()`): 0 unless it owns the lock.
    pub fn count(&self) -> u64 {
        if self.is_owned() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Whether some thread holds the lock (a snapshot).
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Releases the lock completely (`_release_save()`), returning the level to restore.
    /// The caller must own it.
    pub(crate) fn release_save(&self) -> u64 {
        let c = self.count.load(Ordering::Relaxed);
        self.set_owner(0, 0);
        let _ = self.lock.release();
        c
    }

    /// Records the caller as owner at `level` (`_acquire_restore()`), once it holds the
    /// underlying lock again.
    pub(crate) fn restore(&self, level: u64) {
        self.set_owner(current_id(), level);
    }

    /// Whether threads are blocked on the lock (a snapshot; tests wait for a thread to block with it:
    /// the C face's `RT_EBUSY` uses its own busy counts).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn has_waiters(&self) -> bool {
        self.lock.has_waiters()
    }

    /// Sets the recursion level of a lock the caller owns (tests of the overflow check).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn set_count_for_test(&self, level: u64) {
        assert!(self.is_owned());
        self.count.store(level, Ordering::Relaxed);
    }
}

impl super::Acquire for RLock {
    fn acquire_now(&self) -> Result<bool, Error> {
        self.try_acquire()
    }
    fn acquire_blocking(&self, wait: Wait) -> Result<(), Error> {
        self.acquire_slow(wait)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn reentry_and_release() {
        let r = RLock::new();
        assert!(!r.is_owned());
        assert_eq!(r.count(), 0);
        assert_eq!(r.release(), Err(NOT_OWNER));
        for i in 1..=1000 {
            r.acquire(Wait::Forever).unwrap();
            assert_eq!(r.count(), i);
        }
        // Re-entry never blocks, whatever the wait says.
        r.acquire(Wait::Try).unwrap();
        r.release().unwrap();
        for i in (0..1000).rev() {
            r.release().unwrap();
            assert_eq!(r.count(), i);
        }
        assert!(!r.locked());
        assert_eq!(r.release(), Err(NOT_OWNER));
    }

    #[test]
    fn other_threads_neither_own_nor_release() {
        let r = Arc::new(RLock::new());
        r.acquire(Wait::Forever).unwrap();
        r.acquire(Wait::Forever).unwrap();
        let r2 = r.clone();
        std::thread::spawn(move || {
            assert!(!r2.is_owned());
            assert_eq!(r2.count(), 0);
            assert_eq!(r2.release(), Err(NOT_OWNER));
            assert_eq!(r2.acquire(Wait::Try), Err(Error::TIMEOUT));
            assert_eq!(r2.acquire(Wait::for_secs(0.02)), Err(Error::TIMEOUT));
        })
        .join()
        .unwrap();
        assert_eq!(r.count(), 2);
        r.release().unwrap();
        r.release().unwrap();
        let r2 = r.clone();
        std::thread::spawn(move || {
            r2.acquire(Wait::Forever).unwrap();
            assert!(r2.is_owned());
            r2.release().unwrap();
        })
        .join()
        .unwrap();
    }

    #[test]
    fn count_overflow_is_refused_without_change() {
        let r = RLock::new();
        r.acquire(Wait::Forever).unwrap();
        r.set_count_for_test(u64::MAX);
        assert_eq!(r.acquire(Wait::Forever), Err(COUNT_OVERFLOW));
        assert_eq!(r.try_acquire(), Err(COUNT_OVERFLOW));
        assert_eq!(r.count(), u64::MAX);
        r.set_count_for_test(1);
        r.release().unwrap();
        assert!(!r.locked());
    }

    #[test]
    fn release_save_and_restore() {
        let r = RLock::new();
        for _ in 0..3 {
            r.acquire(Wait::Forever).unwrap();
        }
        let level = r.release_save();
        assert_eq!(level, 3);
        assert!(!r.locked());
        assert!(!r.is_owned());
        r.raw().acquire_uninterruptible();
        r.restore(level);
        assert_eq!(r.count(), 3);
    }

    #[test]
    fn interrupted_acquire_returns_eintr() {
        let r = Arc::new(RLock::new());
        r.acquire(Wait::Forever).unwrap();
        let r2 = r.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(crate::wait::current_record().unwrap()).unwrap();
            let res = r2.acquire(Wait::Forever);
            (res, r2.is_owned())
        });
        let rec = rx.recv().unwrap();
        while !r.has_waiters() {
            std::thread::yield_now();
        }
        rec.interrupt();
        assert_eq!(t.join().unwrap(), (Err(Error::INTERRUPTED), false));
        assert_eq!(r.count(), 1);
        r.release().unwrap();
    }
}
