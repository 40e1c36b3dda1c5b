//! The waiting core: every blocking call of rthread ends up here.
//!
//! - [`sys`]: atomics and the futex (a system call on Linux, an emulation elsewhere and under
//!   loom);
//! - [`word_lock`]: the tiny futex lock that guards one bucket of the table;
//! - [`lock_cell`]: [`LockCell`], the one internal lock of the library, with its data;
//! - [`spin`]: [`SpinWait`], the spinning a thread does before it sleeps;
//! - [`tls_word`]: thread-local words read without a call (the thread's id, its debug record);
//! - [`record`]: the per-thread record (never-reused id, parker word, queue links);
//! - [`interrupt`]: the interrupt bit, its signal-safe wake-up, and the re-arm rule;
//! - [`table`]: the address-keyed table of wait queues;
//! - [`park`](mod@park): queueing on a key and sleeping (`park(word, expected, tidy, block)`);
//! - [`unpark`](mod@unpark): taking threads out of a queue and waking them, or moving them to another key;
//! - [`blocking_hooks`]: the user's blocking hooks, run around every real block;
//! - [`fork`]: the one `pthread_atfork` registration, which repairs every layer in a fork child.
//!
//! Primitives keep their state in their own atomic words and call in here only when a thread
//! must really sleep or be woken; their uncontended paths never touch the table.

pub mod blocking_hooks;
#[cfg(not(loom))]
pub mod fork;
pub mod interrupt;
pub mod lock_cell;
pub mod park;
pub mod record;
pub mod spin;
pub mod sys;
pub mod table;
pub mod tls_word;
pub mod unpark;
pub mod word_lock;

#[cfg(all(test, loom))]
mod loom_tests;

pub use lock_cell::{CellGuard, LockCell};
pub use park::{Block, ParkResult, Tidy, Word, park, park_custom, parked_since};
pub use record::{
    RecordRef, ThreadRecord, current_id, current_id_if_assigned, current_record, new_record,
    with_current,
};
#[cfg(not(loom))]
pub use record::{
    install as install_record, install_unwatched as install_record_unwatched,
    make_key as make_record_key, uninstall as uninstall_record,
};
pub use spin::SpinWait;
pub use table::{UnparkToken, waiting_on};
pub use unpark::{
    RequeueOp, UnparkResult, unpark, unpark_all, unpark_if, unpark_one, unpark_requeue,
};

/// Makes sure the waiting core is reset in the child of every later `fork` (see [`fork`]: one
/// registration serves every layer; later calls cost one atomic load).
#[cfg(not(loom))]
pub fn ensure_fork_handler() {
    fork::ensure_registered();
}

/// Under loom there is no fork: the objects' hooks are never called, the generation never moves.
#[cfg(loom)]
pub mod fork {
    pub trait ForkSafe {
        fn try_lock_for_fork(&self) -> bool;
        fn unlock_after_fork(&self);
        fn reset_in_child(&self);
    }
    pub const GENERATION_BITS: u32 = 12;
    pub fn generation() -> u32 {
        0
    }
    /// # Safety
    /// None under loom.
    pub unsafe fn register(_obj: *const dyn ForkSafe) -> Result<(), crate::status::Error> {
        Ok(())
    }
    pub fn unregister(_obj: *const dyn ForkSafe) {}
}

/// Resets the waiting core in the child after `fork`: the child has one thread, so every queue
/// entry and every held bucket lock belongs to a thread that no longer exists.
#[cfg(not(loom))]
pub(crate) fn reset_after_fork() {
    sys::after_fork_in_child();
    table::reset_after_fork();
    blocking_hooks::reset_after_fork();
    // The surviving thread may have been parked in the parent's view of the table; its record
    // is no longer queued anywhere.
    with_current(|r| r.state.store(0, sys::Ordering::Relaxed));
}
