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

use crate::status::Error;
use crate::time::Wait;

/// The shape of every blocking acquire (of a lock, an RLock, a semaphore, a condition's lock):
/// `now` says whether it was taken without waiting; a try (`Wait::Try`) ends there with
/// `RT_TIMEOUT`; otherwise `while_blocked()` runs and its value is held until `block(wait)`
/// returns. The C face counts the thread as blocked on the object with it.
#[inline]
pub(crate) fn acquire_with<G>(
    now: Result<bool, Error>,
    wait: Wait,
    while_blocked: impl FnOnce() -> G,
    block: impl FnOnce(Wait) -> Result<(), Error>,
) -> Result<(), Error> {
    if now? {
        return Ok(());
    }
    if wait == Wait::Try {
        return Err(Error::TIMEOUT);
    }
    let _held = while_blocked();
    block(wait)
}

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
