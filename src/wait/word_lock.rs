//! The lock that guards one bucket of the parking table: a three-state futex mutex.
//!
//! | state | meaning                                          |
//! |-------|--------------------------------------------------|
//! | 0     | unlocked                                         |
//! | 1     | locked, nobody sleeps on it                      |
//! | 2     | locked, and a thread may sleep on it (wake one)  |
//!
//! It is held only for a few operations, never across a sleep, so the contended path spins
//! briefly before it sleeps. It guards the buckets of the wait table, and is the lock of
//! [`super::LockCell`]. After `fork` the child resets it to 0: its
//! holder, if any, no longer exists.

use super::spin::SpinWait;
use super::sys::{AtomicU32, Ordering, futex_wait, futex_wake};
use std::sync::atomic::AtomicUsize;

/// A race detector's view of these locks: `fn(address, acquired)`, called after the lock is
/// taken (`true`) and before it is let go (`false`), or 0 for none. The debug layer sets it at
/// load when valgrind runs the process (its tools see rthread's own accesses, and must learn
/// that the data a `WordLock` guards is ordered by it). While it is 0, locking and unlocking
/// cost one relaxed load more.
static ANNOTATION_HOOK: AtomicUsize = AtomicUsize::new(0);

/// Sets the hook that [`ANNOTATION_HOOK`] describes.
pub fn set_annotation_hook(hook: fn(usize, bool)) {
    ANNOTATION_HOOK.store(hook as usize, Ordering::Relaxed);
}

#[inline(always)]
fn annotate(lock: &WordLock, acquired: bool) {
    let hook = ANNOTATION_HOOK.load(Ordering::Relaxed);
    if hook != 0 {
        call_hook(hook, lock, acquired);
    }
}

#[cold]
#[inline(never)]
fn call_hook(hook: usize, lock: &WordLock, acquired: bool) {
    // SAFETY: a non-zero hook was stored from a `fn(usize, bool)` by `set_annotation_hook`.
    let hook: fn(usize, bool) = unsafe { std::mem::transmute(hook) };
    hook(lock as *const WordLock as usize, acquired);
}

pub struct WordLock {
    state: AtomicU32,
}

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

impl Default for WordLock {
    fn default() -> Self {
        Self::new()
    }
}

impl WordLock {
    #[cfg(not(loom))]
    pub const fn new() -> WordLock {
        WordLock {
            state: AtomicU32::new(UNLOCKED),
        }
    }

    #[cfg(loom)]
    pub fn new() -> WordLock {
        WordLock {
            state: AtomicU32::new(UNLOCKED),
        }
    }

    /// Takes the lock if it is free.
    #[inline]
    pub fn try_lock(&self) -> bool {
        let taken = self.try_lock_quiet();
        if taken {
            annotate(self, true);
        }
        taken
    }

    /// [`WordLock::try_lock`] without the annotation (the contended path annotates once).
    #[inline]
    fn try_lock_quiet(&self) -> bool {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock, running the user's blocking hooks around each sleep (never while the
    /// lock is held): for the internal locks of [`super::LockCell`], whose waiters may need a
    /// hook to let the holder progress. A bucket of the wait table uses [`WordLock::lock`].
    #[inline]
    pub fn lock_with_hooks(&self) {
        if !self.try_lock() {
            self.lock_contended(true);
        }
    }

    #[inline]
    pub fn lock(&self) {
        if !self.try_lock() {
            self.lock_contended(false);
        }
    }

    #[cold]
    fn lock_contended(&self, hooks: bool) {
        let mut spin = SpinWait::new();
        loop {
            if self.state.load(Ordering::Relaxed) == UNLOCKED && self.try_lock_quiet() {
                annotate(self, true);
                return;
            }
            if !spin.pause(64) {
                break;
            }
        }
        // From here on we may sleep, so we must leave CONTENDED behind us: whoever unlocks
        // then knows to wake someone.
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            let _span = hooks.then(super::blocking_hooks::begin_block);
            futex_wait(&self.state, CONTENDED, None);
        }
        annotate(self, true);
    }

    #[inline]
    pub fn unlock(&self) {
        annotate(self, false);
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex_wake(&self.state, 1);
        }
    }

    /// Forces the lock open. Only for the single-threaded child after `fork`.
    pub fn reset(&self) {
        self.state.store(UNLOCKED, Ordering::Relaxed);
    }
}
