//! Interrupts (`rt_thread_interrupt`, `rt_interrupt_main`): the one place that knows how a
//! thread is asked to stop waiting.
//!
//! - The flag is the INTERRUPT bit of the thread's parker word (see [`super::record`]), next
//!   to PARKED: [`ThreadRecord::interrupt`] sets it with one atomic operation and wakes the
//!   word with one futex call, so it is async-signal-safe on Linux (a signal handler may
//!   interrupt a thread), and a thread deciding to sleep on that word sees it at once.
//! - A wait consumes it: an interruptible [`super::park`](fn@super::park) that sees it leaves its queue and
//!   returns `Interrupted`, clearing the bit. An uninterruptible one (an internal lock, a
//!   condition taking its lock back) leaves it pending for the next interruptible wait.
//! - The re-arm rule: a wait that consumed an interrupt but succeeded anyway (it was notified,
//!   its event was set, it was handed the resource) puts it back with [`rearm`], so the
//!   interrupt ends the thread's next interruptible wait instead: an interrupt is never lost.

use super::record::{ThreadRecord, with_current};
use super::sys::{Ordering, futex_wake};
use crate::status::{Error, rt_status};

/// The bit of a parker word that asks its thread to stop waiting.
pub const INTERRUPT: u32 = 2;

/// The interrupt of a thread that has not started (or a main thread rthread has not seen).
pub const NOT_RUNNING: Error = Error::new(
    rt_status::RT_ESTATE,
    "cannot interrupt a thread that is not running",
);

impl ThreadRecord {
    /// Ends the thread's current interruptible wait, or its next one. Async-signal-safe on
    /// Linux: one atomic operation and one system call.
    pub fn interrupt(&self) {
        self.state.fetch_or(INTERRUPT, Ordering::SeqCst);
        futex_wake(&self.state, 1);
    }

    /// Consumes a pending interrupt; true if there was one.
    pub fn take_interrupt(&self) -> bool {
        self.state.fetch_and(!INTERRUPT, Ordering::SeqCst) & INTERRUPT != 0
    }

    /// True if an interrupt is pending.
    pub fn interrupt_pending(&self) -> bool {
        self.state.load(Ordering::SeqCst) & INTERRUPT != 0
    }
}

/// Puts back an interrupt that a wait of the calling thread consumed but did not report,
/// because the wait had already succeeded when the interrupt arrived: the thread's next
/// interruptible wait then ends with `RT_EINTR`.
pub fn rearm() {
    with_current(|r| r.interrupt());
}
