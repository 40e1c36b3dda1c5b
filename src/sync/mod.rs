//! The synchronisation primitives, one file each, on the waiting core.

pub mod barrier;
pub mod condition;
pub mod event;
pub mod lock;
pub mod rlock;
pub mod semaphore;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionLock};
pub use event::Event;
pub use lock::Lock;
pub use rlock::RLock;
pub use semaphore::Semaphore;

/// Puts back an interrupt that a wait consumed but did not report, because the wait had already
/// succeeded (it was notified, or its event was set) when the interrupt arrived: the thread's
/// next interruptible wait then ends with `RT_EINTR`, so the interrupt is never lost.
pub(crate) fn rearm_interrupt() {
    crate::wait::with_current(|r| r.interrupt());
}

/// Spins briefly before a thread parks: a few rounds of pause instructions, then a few yields.
/// On a machine with few cores the yields let the holder run and release.
pub(crate) struct SpinWait {
    counter: u32,
}

impl SpinWait {
    pub(crate) const fn new() -> SpinWait {
        SpinWait { counter: 0 }
    }

    pub(crate) fn reset(&mut self) {
        self.counter = 0;
    }

    /// Spins once more; false when it is time to park instead.
    pub(crate) fn spin(&mut self) -> bool {
        if cfg!(loom) || self.counter >= 10 {
            return false;
        }
        self.counter += 1;
        if self.counter <= 3 {
            for _ in 0..(1u32 << self.counter) {
                crate::wait::sys::spin_hint();
            }
        } else {
            crate::wait::sys::yield_now();
        }
        true
    }
}
