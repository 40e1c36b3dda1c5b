//! The lock that guards one bucket of the parking table: a futex mutex that counts its
//! sleepers.
//!
//! The word holds LOCKED (bit 0) and, above it, how many threads sleep or are about to sleep
//! on it (`SLEEPER` each). The holder's unlock clears LOCKED and makes the wake-up call only
//! if that count is not zero: a lock that was contended once does not go on paying a system
//! call at every unlock (a three-state mutex, whose "contended" mark stays until the lock is
//! found free, does). A sleeper counts itself in, sleeps while the word shows the lock held,
//! and takes the lock and counts itself out in one compare-exchange; every unlock changes the
//! word, so a sleeper about to sleep on the value it saw cannot miss it.
//!
//! It is held only for a few operations, never across a sleep, so the contended path spins
//! briefly before it sleeps. It guards the buckets of the wait table, and is the lock of
//! [`super::LockCell`]. After `fork` the child resets it to 0: its holder and its sleepers, if
//! any, no longer exist.

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
/// One sleeper in the count above LOCKED.
const SLEEPER: u32 = 2;

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

    /// Takes the lock if it is free (sleepers counted or not).
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
        match self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => true,
            Err(s) => {
                s & LOCKED == 0
                    && self
                        .state
                        .compare_exchange(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
            }
        }
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
            let s = self.state.load(Ordering::Relaxed);
            if s & LOCKED == 0
                && self
                    .state
                    .compare_exchange_weak(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                annotate(self, true);
                return;
            }
            if !spin.pause(64) {
                break;
            }
        }
        // From here on we may sleep: count ourselves in, so that the holder's unlock wakes one
        // of the sleepers.
        let mut s = self.state.fetch_add(SLEEPER, Ordering::Relaxed) + SLEEPER;
        loop {
            if s & LOCKED == 0 {
                match self.state.compare_exchange_weak(
                    s,
                    (s - SLEEPER) | LOCKED,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        annotate(self, true);
                        return;
                    }
                    Err(now) => {
                        s = now;
                        continue;
                    }
                }
            }
            {
                let _span = hooks.then(super::blocking_hooks::begin_block);
                futex_wait(&self.state, s, None);
            }
            s = self.state.load(Ordering::Relaxed);
        }
    }

    #[inline]
    pub fn unlock(&self) {
        annotate(self, false);
        if self.state.fetch_sub(LOCKED, Ordering::Release) != LOCKED {
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
    fn a_sleeper_is_counted_while_it_waits_and_not_after() {
        let l = Arc::new(WordLock::new());
        l.lock();
        assert_eq!(l.state.load(Ordering::Relaxed), LOCKED);
        let l2 = l.clone();
        let t = std::thread::spawn(move || {
            l2.lock();
            // Nobody else waits: holding it after a contended wait, the word says so, and
            // the unlock needs no wake-up call.
            let held = l2.state.load(Ordering::Relaxed);
            l2.unlock();
            held
        });
        while l.state.load(Ordering::Relaxed) != LOCKED + SLEEPER {
            std::thread::yield_now();
        }
        assert!(!l.try_lock(), "held");
        l.unlock();
        assert_eq!(t.join().unwrap(), LOCKED);
        assert_eq!(l.state.load(Ordering::Relaxed), UNLOCKED);
        // Free with a sleeper counted (one about to take it): try_lock still takes it.
        l.state.store(SLEEPER, Ordering::Relaxed);
        assert!(l.try_lock());
        assert_eq!(l.state.load(Ordering::Relaxed), SLEEPER | LOCKED);
        l.reset();
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
