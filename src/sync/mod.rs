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

/// What can be acquired (a lock, an RLock, a semaphore, a condition's lock), and the shape of
/// every blocking acquire, written once in [`Acquire::acquire_with`].
pub trait Acquire {
    /// Takes it if that needs no wait: `Ok(false)` if it must wait (an RLock re-enters here).
    fn acquire_now(&self) -> Result<bool, Error>;

    /// Waits for it: the contended path.
    fn acquire_blocking(&self, wait: Wait) -> Result<(), Error>;

    /// Acquires: at once if [`Acquire::acquire_now`] can; a try (`Wait::Try`) ends there with
    /// `RT_TIMEOUT`; otherwise `while_blocked()` runs and its value is held while the thread
    /// blocks (the C face counts the thread as blocked on the object with it).
    #[inline]
    fn acquire_with<G>(&self, wait: Wait, while_blocked: impl FnOnce() -> G) -> Result<(), Error> {
        if self.acquire_now()? {
            return Ok(());
        }
        if wait == Wait::Try {
            return Err(Error::TIMEOUT);
        }
        let _held = while_blocked();
        self.acquire_blocking(wait)
    }
}
