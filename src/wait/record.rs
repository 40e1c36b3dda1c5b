//! The per-thread record: identity, the parker word, and the links of the wait queue.
//!
//! Each thread that ever blocks gets one record, allocated once (an `Arc`, so a thread object
//! can keep it to interrupt the thread) and reused by every wait: waiting allocates nothing.
//!
//! The parker word (`state`) has two bits:
//!
//! | PARKED | INTERRUPT | meaning                                                        |
//! |--------|-----------|----------------------------------------------------------------|
//! | 0      | 0         | not waiting                                                    |
//! | 1      | 0         | queued in a bucket (or detached by an unparker about to wake it) |
//! | 0      | 1         | not waiting; the next interruptible wait ends with `RT_EINTR`  |
//! | 1      | 1         | waiting, and asked to stop: it leaves the queue itself         |
//!
//! Only an unparker clears PARKED, always after it has taken the record out of its queue (under
//! the bucket lock) and written the unpark token. Only `interrupt` sets INTERRUPT (a `fetch_or`
//! and a futex wake: async-signal-safe on Linux); only the owning thread clears it, when a wait
//! consumes it. Because the sleeping thread waits on the whole word, setting either bit while
//! it decides to sleep makes the futex call return at once: no wake-up can be lost.

use super::id_word;
use super::sys::{AtomicU32, AtomicUsize, Ordering, futex_wake};
use std::cell::Cell;
use std::sync::Arc;

pub const PARKED: u32 = 1;
pub const INTERRUPT: u32 = 2;

pub struct ThreadRecord {
    /// Never reused within the process (CPython issue 128167).
    id: u64,
    /// The parker word; see the table above.
    pub(super) state: AtomicU32,
    /// The key the thread waits on. Written under the bucket lock of the old and the new key;
    /// read without it by the thread itself, which then re-checks under the lock.
    pub(super) key: AtomicUsize,
    // Fields below are protected by the lock of the bucket the record is queued in, or owned by
    // an unparker that detached the record and has not cleared PARKED yet.
    pub(super) next: Cell<*const ThreadRecord>,
    pub(super) queued: Cell<bool>,
    pub(super) park_token: Cell<usize>,
    pub(super) unpark_token: Cell<usize>,
    pub(super) parked_at: Cell<u64>,
}

// SAFETY: the Cells are only touched under the protocol described on the fields: by one thread
// at a time, with the bucket lock or the PARKED bit's release/acquire ordering between them.
unsafe impl Sync for ThreadRecord {}
// SAFETY: as above; the raw `next` pointer is only followed under the same protocol.
unsafe impl Send for ThreadRecord {}

impl ThreadRecord {
    fn new(id: u64) -> ThreadRecord {
        ThreadRecord {
            id,
            state: AtomicU32::new(0),
            key: AtomicUsize::new(0),
            next: Cell::new(std::ptr::null()),
            queued: Cell::new(false),
            park_token: Cell::new(0),
            unpark_token: Cell::new(0),
            parked_at: Cell::new(0),
        }
    }

    /// The thread's never-reused id.
    pub fn id(&self) -> u64 {
        self.id
    }

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

#[cfg(not(loom))]
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[cfg(loom)]
loom::lazy_static! {
    static ref NEXT_ID: super::sys::AtomicU64 = super::sys::AtomicU64::new(1);
}

#[cfg(not(loom))]
thread_local! {
    static RECORD: Arc<ThreadRecord> = Arc::new(ThreadRecord::new(current_id()));
}

#[cfg(loom)]
loom::thread_local! {
    static RECORD: Arc<ThreadRecord> = Arc::new(ThreadRecord::new(current_id()));
}

/// The calling thread's never-reused id (non-zero). Cheap: two loads after the first call (see
/// [`super::id_word`]).
#[inline]
pub fn current_id() -> u64 {
    #[cold]
    #[inline(never)]
    fn assign() -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        id_word::set(id);
        id
    }
    match id_word::get() {
        0 => assign(),
        id => id,
    }
}

/// The calling thread's id if it has been assigned, else 0. Never assigns, so it makes no call:
/// for fast paths that stay leaf functions and leave the first call to their slow path.
#[inline]
pub fn current_id_if_assigned() -> u64 {
    id_word::get()
}

/// Runs `f` with the calling thread's record. A thread whose record was already destroyed (a
/// wait inside another thread-local's destructor) gets a temporary one.
pub fn with_current<R>(f: impl FnOnce(&ThreadRecord) -> R) -> R {
    let mut f = Some(f);
    let mut out = None;
    let _ = RECORD.try_with(|r| out = f.take().map(|f| f(r)));
    match out {
        Some(v) => v,
        None => {
            let tmp = ThreadRecord::new(current_id());
            (f.take().expect("f is unused when the thread-local is gone"))(&tmp)
        }
    }
}

/// A shared handle on the calling thread's record (for thread objects, to interrupt it).
/// `None` while the thread is being torn down.
pub fn current_record() -> Option<Arc<ThreadRecord>> {
    RECORD.try_with(Arc::clone).ok()
}
