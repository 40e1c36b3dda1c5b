//! Spinning before a sleep: the one `SpinWait` of the library.
//!
//! A thread about to sleep on a word that another thread will change in a moment (a lock
//! released, a permit given back, a thread that is starting) first spins a little: sleeping
//! and being woken cost two system calls. [`SpinWait::spin`] backs off: a few rounds of
//! pause instructions, then a few yields, which on a machine with few cores let the other
//! thread run. [`SpinWait::pause`] only pauses, for a lock held a few instructions (the wait
//! table's buckets). Under loom neither spins: every spin would be a scheduling point.

use super::sys::{spin_hint, yield_now};

/// A spin counter; see the module comment.
pub struct SpinWait {
    counter: u32,
}

impl Default for SpinWait {
    fn default() -> Self {
        Self::new()
    }
}

impl SpinWait {
    pub const fn new() -> SpinWait {
        SpinWait { counter: 0 }
    }

    /// Starts again (after a wake-up that did not end the wait).
    pub fn reset(&mut self) {
        self.counter = 0;
    }

    /// Spins once more with back-off (2, 4, 8 pauses, then yields); false after ten rounds,
    /// when it is time to sleep instead.
    pub fn spin(&mut self) -> bool {
        if cfg!(loom) || self.counter >= 10 {
            return false;
        }
        self.counter += 1;
        if self.counter <= 3 {
            for _ in 0..(1u32 << self.counter) {
                spin_hint();
            }
        } else {
            yield_now();
        }
        true
    }

    /// Pauses once; false after `rounds` pauses, when it is time to sleep instead.
    pub fn pause(&mut self, rounds: u32) -> bool {
        if cfg!(loom) || self.counter >= rounds {
            return false;
        }
        self.counter += 1;
        spin_hint();
        true
    }

    /// Backs off after a lost compare-exchange in a lock-free loop: 1, 2, 4, … up to 64
    /// pauses, doubling each round.
    #[inline]
    pub fn backoff(&mut self) {
        for _ in 0..1u32 << self.counter.min(6) {
            spin_hint();
        }
        self.counter = self.counter.saturating_add(1);
    }

    /// Waits for another thread that is mid-operation (a slot claimed and not yet published):
    /// backs off as [`SpinWait::backoff`] for seven rounds, then yields.
    #[inline]
    pub fn snooze(&mut self) {
        if self.counter <= 6 {
            self.backoff();
        } else {
            yield_now();
            self.counter = self.counter.saturating_add(1);
        }
    }

    /// Before a sleep on a queue: snoozes while `blocked()` holds, ten rounds at most (the
    /// other side is likely to make the item or the room within microseconds).
    pub fn snooze_while(blocked: impl Fn() -> bool) {
        let mut s = SpinWait::new();
        loop {
            s.snooze();
            if s.counter >= 10 || !blocked() {
                return;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spinning_ends_after_its_rounds_and_starts_again_after_a_reset() {
        let mut s = SpinWait::new();
        assert_eq!((0..20).take_while(|_| s.spin()).count(), 10);
        assert!(!s.spin());
        s.reset();
        assert!(s.spin());
        let mut p = SpinWait::new();
        assert_eq!((0..100).take_while(|_| p.pause(64)).count(), 64);
        assert!(!p.pause(64));
    }

    #[test]
    fn snoozing_before_a_sleep_ends_when_unblocked_or_after_ten_rounds() {
        let calls = std::cell::Cell::new(0);
        SpinWait::snooze_while(|| {
            calls.set(calls.get() + 1);
            true
        });
        assert_eq!(
            calls.get(),
            9,
            "checked after each of the first nine rounds"
        );
        calls.set(0);
        SpinWait::snooze_while(|| {
            calls.set(calls.get() + 1);
            calls.get() < 3
        });
        assert_eq!(calls.get(), 3);
    }
}
