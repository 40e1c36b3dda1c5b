//! `concurrent.futures`: futures, waiting on many of them, and the thread pool.
//!
//! - [`future`]: [`Future`], its states, results, failures and done-callbacks;
//! - [`waiter`]: `wait` and `as_completed`, on waiters installed in futures;
//! - [`executor`]: [`Executor`], CPython's `ThreadPoolExecutor`.
//!
//! Layering: this module uses `thread` (workers are thread objects), `queue`, `sync`, `time`
//! and `status`; never `ffi`.

pub mod executor;
pub mod future;
pub mod text;
pub mod waiter;

pub use executor::Executor;
pub use future::{Failure, Future, FutureRef, State};
pub use waiter::{AsCompleted, ReturnWhen, Waited, wait};
