//! The lock that guards one bucket of the parking table: a three-state futex mutex.
//!
//! | state | meaning                                          |
//! |-------|--------------------------------------------------|
//! | 0     | unlocked                                         |
//! | 1     | locked, nobody sleeps on it                      |
//! | 2     | locked, and a thread may sleep on it (wake one)  |
//!
//! A thread about to sleep swaps in CONTENDED and sleeps while the word stays CONTENDED; the
//! unlock that finds CONTENDED wakes one. The mark stays until a lock finds the word free, so
//! after a contended episode an unlock may make one wake-up call nobody needed. A design that
//! counted its sleepers in the word instead (so that an unlock would call only while one
//! sleeps) was measured and dropped: every lock and unlock changes such a word, so a sleeper's
//! `futex_wait` on the value it saw returns at once while others take and release the lock,
//! and the locked queues at 4 producers and 4 consumers took twice as long.
//!
//! It is held only for a few operations, never across a sleep, so the contended path spins
//! briefly before it sleeps. It guards the buckets of the wait table, and is the lock of
//! [`super::LockCell`]. After `fork` the child resets it to 0: its holder, if any, no longer
//! exists.

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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_sleeper_leaves_the_lock_contended_and_is_woken() {
        let l = Arc::new(WordLock::new());
        l.lock();
        assert_eq!(l.state.load(Ordering::Relaxed), LOCKED);
        let l2 = l.clone();
        let t = std::thread::spawn(move || {
            l2.lock();
            l2.unlock();
        });
        // The waiter marks the lock contended before it sleeps; the unlock that finds the
        // mark wakes it.
        while l.state.load(Ordering::Relaxed) != CONTENDED {
            std::thread::yield_now();
        }
        assert!(!l.try_lock(), "held");
        l.unlock();
        t.join().unwrap();
        assert_eq!(l.state.load(Ordering::Relaxed), UNLOCKED);
    }

    #[test]
    fn contended_counting_stays_exact() {
        let l = Arc::new(WordLock::new());
        let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (l, n) = (l.clone(), n.clone());
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        l.lock();
                        let v = n.load(Ordering::Relaxed);
                        n.store(v + 1, Ordering::Relaxed);
                        l.unlock();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(n.load(Ordering::Relaxed), 80_000);
        assert_eq!(
            l.state.load(Ordering::Relaxed),
            UNLOCKED,
            "no sleeper left counted"
        );
    }
}
