//! The synchronisation primitives, one file each, on the waiting core.

pub mod lock;

pub use lock::Lock;

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
