//! `threading.Lock`: a one-byte state machine on the waiting core.
//!
//! | LOCKED | PARKED | meaning                                                         |
//! |--------|--------|-----------------------------------------------------------------|
//! | 0      | 0      | free, nobody waits                                              |
//! | 1      | 0      | held, nobody waits: release is one compare-exchange             |
//! | 0      | 1      | free, threads wait (just released, or a waiter is leaving)      |
//! | 1      | 1      | held, threads wait: release goes through the parking table      |
//!
//! PARKED is set by a thread about to park, before it queues (`validate` re-checks the word
//! under the bucket lock), and cleared under the bucket lock when the last waiter leaves.
//! A condition's `notify_all` may also set it ([`Lock::mark_parked_if_locked`],
//! [`Lock::mark_parked`]) while it holds the lock's bucket lock and moves its own waiters onto
//! the lock's queue (`wait::unpark_requeue`): the next release then wakes them one at a time.
//! A stale PARKED (nobody queued) only sends the next release down the slow path, which
//! clears it.
//!
//! Any thread may release (Python's Lock has no owner). A release clears LOCKED with one atomic
//! operation, which is its linearisation point: of two threads racing to release a lock held
//! once, exactly one succeeds and the other gets `RT_ENOTLOCKED`. With waiters, the release is
//! decided under the bucket lock and the word is written last, so the releaser never touches a
//! lock that another thread may already have taken and freed.
//!
//! Eventual fairness: a waiter that has waited `FAIR_AFTER_NS` (1 ms) is handed the lock
//! directly by the releaser (LOCKED is set again on its behalf and it is woken with
//! `TOKEN_HANDOFF`), so a thread that keeps re-acquiring cannot starve it. Otherwise the woken
//! thread competes for the lock again, which keeps the common case fast (no lock convoys). A
//! woken thread that loses parks again at the head of the queue and keeps the age of its whole
//! wait (`Block::since`): were it to start again at the tail, a thread woken at every release
//! and beaten every time would never reach the 1 ms and would wait behind every newcomer.
//!
//! Differences from Python: none in behaviour. Differences from pthreads: no owner (no
//! `EPERM`), releasing an unlocked lock is reported, timed acquire uses the monotonic clock.

use crate::debug::annotate;
use crate::status::{Error, rt_status};
use crate::time::Wait;
use crate::wait::SpinWait;
use crate::wait::sys::{AtomicU8, Ordering};
use crate::wait::{self, Block, ParkResult, Tidy, UnparkResult};

const LOCKED: u8 = 1;
const PARKED: u8 = 2;

/// Unpark token: the releaser handed the lock over; the woken thread owns it. A condition
/// waiter requeued onto the lock may receive it too.
pub(crate) const TOKEN_HANDOFF: usize = 1;
/// Unpark token: the lock was released; compete for it.
pub(crate) const TOKEN_NORMAL: usize = 0;

pub const RELEASE_UNLOCKED: Error = Error::new(rt_status::RT_ENOTLOCKED, "release unlocked lock");

/// A lock that any thread may release (`threading.Lock`).
pub struct Lock {
    state: AtomicU8,
}

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

impl Lock {
    #[cfg(not(loom))]
    pub const fn new() -> Lock {
        Lock {
            state: AtomicU8::new(0),
        }
    }

    #[cfg(loom)]
    pub fn new() -> Lock {
        Lock {
            state: AtomicU8::new(0),
        }
    }

    /// The lock's key in the parking table.
    pub(crate) fn key(&self) -> usize {
        &self.state as *const AtomicU8 as usize
    }

    /// Takes the lock if it is free; never blocks.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let taken = self.try_acquire_quiet();
        if taken {
            annotate::acquired(self);
        }
        taken
    }

    /// [`Lock::try_acquire`] without telling race detectors: for an RLock's fast path, which
    /// the C face takes only while no debug mode (annotations included) is on.
    #[inline]
    pub(crate) fn try_acquire_quiet(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & LOCKED != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Takes the lock if it is free and nobody waits: one compare-exchange, with no load before
    /// it. False changes nothing; `try_acquire` or `acquire_slow` then look at the word.
    /// Tells race detectors nothing (see `debug::annotate`): the C face's fast path, which it
    /// takes only while no debug mode is on; every other way to acquire tells them.
    #[inline]
    pub fn try_acquire_uncontended(&self) -> bool {
        self.state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Acquires the lock: at once, waiting without bound, or until a deadline.
    /// `Err` is `RT_TIMEOUT` (not acquired in time) or `RT_EINTR` (interrupted).
    #[inline]
    pub fn acquire(&self, wait: Wait) -> Result<(), Error> {
        if self.try_acquire_uncontended() {
            annotate::acquired(self);
            return Ok(());
        }
        self.acquire_slow(wait)
    }

    /// The contended path: spin a little, then park.
    #[cold]
    pub fn acquire_slow(&self, wait: Wait) -> Result<(), Error> {
        self.acquire_slow_with(wait, Block::until(None))
    }

    /// Acquires the lock without bound, ignoring interrupts: for re-acquisitions that must
    /// complete (a condition taking its lock back after a wait, a primitive's internal lock).
    pub fn acquire_uninterruptible(&self) {
        if self.try_acquire_uncontended() {
            annotate::acquired(self);
            return;
        }
        // Without a deadline or interrupts the slow path can only succeed.
        let block = Block::until(None).uninterruptible();
        while self.acquire_slow_with(Wait::Forever, block).is_err() {}
    }

    /// Acquires the lock as an internal lock (a barrier's): without bound, ignoring
    /// interrupts, and without running the blocking hooks (see `Block::INTERNAL`).
    pub(crate) fn acquire_internal(&self) {
        if self.try_acquire_uncontended() {
            annotate::acquired(self);
            return;
        }
        while self
            .acquire_slow_with(Wait::Forever, Block::INTERNAL)
            .is_err()
        {}
    }

    /// The slow path; `block` says how a wait ends and whether hooks run (its deadline is
    /// `wait`'s).
    fn acquire_slow_with(&self, wait: Wait, block: Block) -> Result<(), Error> {
        let r = self.acquire_slow_loop(wait, block);
        if r.is_ok() {
            annotate::acquired(self);
        }
        r
    }

    fn acquire_slow_loop(&self, wait: Wait, block: Block) -> Result<(), Error> {
        if wait == Wait::Try {
            return if self.try_acquire() {
                Ok(())
            } else {
                Err(Error::TIMEOUT)
            };
        }
        let deadline = wait.deadline();
        let block = Block { deadline, ..block };
        let mut spin = SpinWait::new();
        let mut block = block;
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & LOCKED == 0 {
                match self.state.compare_exchange_weak(
                    s,
                    s | LOCKED,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(()),
                    Err(now) => s = now,
                }
                continue;
            }
            let expired = || deadline.is_some_and(|d| d.has_passed());
            if s & PARKED == 0 {
                if spin.spin() {
                    s = self.state.load(Ordering::Relaxed);
                    continue;
                }
                // Before setting PARKED: a timeout leaves no trace (a spin may outlast a short
                // deadline on a loaded machine). Once set, the park below decides (a wait
                // already expired leaves the queue at once and tidies PARKED).
                if expired() {
                    return Err(Error::TIMEOUT);
                }
                if let Err(now) = self.state.compare_exchange_weak(
                    s,
                    s | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    s = now;
                    continue;
                }
            } else if expired() {
                return Err(Error::TIMEOUT);
            }
            let parked = LOCKED | PARKED;
            match wait::park(&self.state, parked, Tidy::Clear(PARKED), block) {
                ParkResult::Unparked(TOKEN_HANDOFF) => return Ok(()),
                ParkResult::Unparked(_) => {
                    // Woken to compete: if it loses, it waits again at the head of the queue
                    // with the age of its whole wait, so that it is soon handed the lock.
                    if block.since == 0 && !cfg!(loom) {
                        block.since = wait::parked_since();
                    }
                }
                ParkResult::Invalid => {}
                ParkResult::TimedOut => return Err(Error::TIMEOUT),
                ParkResult::Interrupted => return Err(Error::INTERRUPTED),
            }
            spin.reset();
            s = self.state.load(Ordering::Relaxed);
        }
    }

    /// Releases the lock, whoever holds it. `Err` is `RT_ENOTLOCKED` if it was not held.
    #[inline]
    pub fn release(&self) -> Result<(), Error> {
        annotate::released(self);
        if self.try_release_uncontended() {
            Ok(())
        } else {
            self.release_slow()
        }
    }

    /// Releases the lock if it is held and nobody waits (one compare-exchange); otherwise
    /// changes nothing and returns false, and `release` does the rest. Tells race detectors
    /// nothing, as [`Lock::try_acquire_uncontended`].
    #[inline]
    pub fn try_release_uncontended(&self) -> bool {
        self.state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// Releases a lock the caller knows to be held (an RLock's owner, say): cannot fail. Tells
    /// race detectors nothing when uncontended: its callers do (`RLock::release`).
    #[inline]
    pub fn release_held(&self) {
        if !self.try_release_uncontended() {
            self.release_held_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn release_held_slow(&self) {
        let released = self.release_slow();
        debug_assert!(released.is_ok(), "release_held on a free lock");
    }

    #[cold]
    fn release_slow(&self) -> Result<(), Error> {
        annotate::released(self);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & LOCKED == 0 {
                return Err(RELEASE_UNLOCKED);
            }
            if s & PARKED != 0 {
                break;
            }
            match self.state.compare_exchange_weak(
                s,
                s & !LOCKED,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => s = now,
            }
        }
        self.release_and_wake()
    }

    /// Releases a lock that has waiters. Everything is decided under the bucket lock, and the
    /// lock word is written last: once it says "free" another thread may take the lock and free
    /// its memory, so this thread must not touch it again. While LOCKED and PARKED are both set
    /// and the bucket is held, no other thread can change the word: acquirers only add PARKED,
    /// releasers queue on the bucket, and waiters that give up update it under the bucket lock.
    fn release_and_wake(&self) -> Result<(), Error> {
        let mut outcome = Ok(());
        let validate = || {
            let mut s = self.state.load(Ordering::Relaxed);
            loop {
                if s & LOCKED == 0 {
                    // Another releaser got here first.
                    outcome = Err(RELEASE_UNLOCKED);
                    return false;
                }
                if s & PARKED != 0 {
                    return true;
                }
                // The waiters left (timeouts) before we got the bucket: a plain release.
                match self.state.compare_exchange_weak(
                    s,
                    s & !LOCKED,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return false,
                    Err(now) => s = now,
                }
            }
        };
        let callback = |r: UnparkResult| {
            let parked = if r.have_more_threads { PARKED } else { 0 };
            if r.unparked_threads != 0 && r.be_fair {
                // Hand over: the lock stays locked and now belongs to the woken thread.
                self.state.store(LOCKED | parked, Ordering::Release);
                return TOKEN_HANDOFF;
            }
            // A thread that set PARKED but is not queued yet fails its validation and retries.
            self.state.store(parked, Ordering::Release);
            TOKEN_NORMAL
        };
        wait::unpark_if(self.key(), 1, validate, callback);
        outcome
    }

    /// Sets PARKED if the lock is held, and says whether it did. Called by a condition's
    /// `notify_all` under this lock's bucket lock, just before it moves its waiters onto this
    /// lock's queue: the holder's release then goes through the table and wakes one of them.
    pub(crate) fn mark_parked_if_locked(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & LOCKED == 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s | PARKED,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Sets PARKED: threads were just queued on the lock's key (by a requeue), under its bucket
    /// lock.
    pub(crate) fn mark_parked(&self) {
        self.state.fetch_or(PARKED, Ordering::Relaxed);
    }

    /// Clears PARKED: the last thread queued on the lock's key left it by itself (a requeued
    /// condition waiter that timed out), under the bucket lock.
    pub(crate) fn clear_parked(&self) {
        self.state.fetch_and(!PARKED, Ordering::Relaxed);
    }

    /// Whether some thread holds the lock (a snapshot).
    #[inline]
    pub fn locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// Whether threads are queued on the lock (a snapshot; tests wait for a thread to block with it:
    /// the C face's `RT_EBUSY` uses its own busy counts).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Relaxed) & PARKED != 0 || wait::waiting_on(self.key()) != 0
    }

    /// Forces the lock open (the child after `fork`, CPython's `_at_fork_reinit`).
    pub fn reset(&self) {
        self.state.store(0, Ordering::Relaxed);
    }
}

impl super::Acquire for Lock {
    fn acquire_now(&self) -> Result<bool, Error> {
        Ok(self.try_acquire())
    }
    fn acquire_blocking(&self, wait: Wait) -> Result<(), Error> {
        self.acquire_slow(wait)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn acquire_release_and_errors() {
        let l = Lock::new();
        assert!(!l.locked());
        assert_eq!(l.release(), Err(RELEASE_UNLOCKED));
        l.acquire(Wait::Forever).unwrap();
        assert!(l.locked());
        assert_eq!(l.acquire(Wait::Try), Err(Error::TIMEOUT));
        l.release().unwrap();
        assert!(!l.locked());
    }

    #[test]
    fn timed_acquire_times_out_after_the_deadline() {
        let l = Lock::new();
        l.acquire(Wait::Forever).unwrap();
        let start = std::time::Instant::now();
        assert_eq!(l.acquire(Wait::for_secs(0.05)), Err(Error::TIMEOUT));
        assert!(start.elapsed() >= std::time::Duration::from_millis(50));
        assert!(l.locked());
        assert!(!l.has_waiters());
    }

    #[test]
    fn a_deadline_that_passes_while_spinning_leaves_no_trace() {
        // A spin can outlast a short deadline on a loaded machine; an expired one is the
        // same case, every time.
        let l = Lock::new();
        l.acquire(Wait::Forever).unwrap();
        let past = Wait::Until(crate::time::Deadline(crate::time::now_ns() - 1));
        assert_eq!(l.acquire(past), Err(Error::TIMEOUT));
        assert!(!l.has_waiters(), "PARKED left set for nobody");
        assert!(
            l.try_release_uncontended(),
            "the release needs no slow path"
        );
    }

    #[test]
    fn counter_is_exact_under_contention() {
        let l = Arc::new(Lock::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (l, c) = (l.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        l.acquire(Wait::Forever).unwrap();
                        // A non-atomic read-modify-write, protected only by the lock.
                        let v = c.load(Ordering::Relaxed);
                        c.store(v + 1, Ordering::Relaxed);
                        l.release().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counter.load(Ordering::Relaxed), 80_000);
        assert!(!l.locked());
    }
}
