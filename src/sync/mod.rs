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
