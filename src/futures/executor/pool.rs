//! The pool's shared state (its work queue, the list of workers and of idle workers, all under
//! the pool's lock), each worker's hand-off slot, the naming of workers, and the worker's loop:
//! the initializer, then items until the pool is closed and its queue empty.
//!
//! The work queue is a deque under the pool's lock (CPython's `_work_queue`, a SimpleQueue), so
//! that a submit takes one lock, as GThreadPool's push takes only its queue's: a queue of its
//! own (an rthread `Queue`, with its lock, its counters and its waiting protocol) made every
//! queued item cost a second lock and a few more shared lines. Workers never block on the
//! queue: one that finds it empty (under the lock) is idle and waits on its own [`Slot`] until
//! a submit gives it an item there directly; the slot shares its cache line with nothing else.
//! While any worker is idle the queue is empty: a submit looks for an idle worker before it
//! queues. Closing the pool (a shutdown, the process's exit) gives every idle worker no item:
//! it looks again, finds the pool closed and the queue empty, and ends.
//!
//! Two ways to be idle, both decided under the pool's lock:
//! - The first worker (index 0) marks itself idle in its slot ([`Slot::idle`]), and a submit
//!   may claim it with one compare-exchange on that flag without taking the pool's lock: an
//!   idle round trip (submit, wait for the result, submit again) touches no line but the
//!   slot's and the future's, and the pool's lock stays in the worker's cache. Whoever clears
//!   the flag (a submit with or without the lock, a closing) gives to the worker, once.
//! - Every other worker lists itself ([`PoolState::idle`]) and is taken off the list.

use super::work::{InitFn, SendPtr, WorkItem};
use crate::futures::future::{Failure, FutureRef};
use crate::memory::Arc;
use crate::status::{Error, rt_status};
use crate::sync::Semaphore;
use crate::thread::{CallbackGuard, Thread};
use crate::time::Wait;
use crate::wait::{LockCell, SpinWait};
use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

pub const BROKEN_MESSAGE: &str =
    "A thread initializer failed, the thread pool is not usable anymore";
const JOIN_SELF: Error = Error::new(rt_status::RT_EDEADLK, "cannot join current thread");

pub(super) struct PoolState {
    pub(super) shutdown: bool,
    pub(super) broken: bool,
    /// No more items (a shutdown, or the process's exit): the workers end once `work` is empty.
    pub(super) closed: bool,
    /// The items no worker has taken yet, oldest first. Empty while any worker is idle.
    pub(super) work: VecDeque<WorkItem>,
    /// Every worker started, in order; none is ever removed.
    pub(super) threads: Vec<Arc<Thread>>,
    /// Each worker's hand-off slot, in the order of `threads` (the worker holds it too).
    pub(super) slots: Vec<Arc<Slot>>,
    /// The idle workers but the first, a list through [`Slot::next`]: the index + 1 of the
    /// first one's slot, 0 for none.
    pub(super) idle: usize,
}

impl PoolState {
    /// Takes an idle worker off the list: its slot, to [`Slot::give`] to once.
    pub(super) fn pop_idle(&mut self) -> Option<&Slot> {
        let slot = &*self.slots[self.idle.checked_sub(1)?];
        self.idle = slot.next.load(Ordering::Relaxed);
        Some(slot)
    }

    fn push_idle(&mut self, index: usize) {
        self.slots[index].next.store(self.idle, Ordering::Relaxed);
        self.idle = index + 1;
    }
}

/// A worker's hand-off place; see the module comment. Aligned to a cache line of its own.
#[repr(align(64))]
pub(super) struct Slot {
    /// Released once per item given (or once with none: look at the pool again).
    ready: Semaphore,
    /// Under the pool's lock: the next idle worker (see [`PoolState::idle`]).
    next: AtomicUsize,
    /// The first worker's idle mark (see the module comment), set under the pool's lock;
    /// other workers leave it false. Cleared only by [`Slot::claim`].
    idle: AtomicBool,
    /// The item given. Written only by the thread that took the worker (off the idle list, or
    /// by clearing `idle`), before it releases `ready`; read only by the worker, after it
    /// acquired `ready`. The worker is idle again only after taking the item out, so the two
    /// never overlap.
    item: UnsafeCell<Option<WorkItem>>,
}

// SAFETY: `item` is handed from one thread to another through `ready` (see its comment);
// the other fields are atomics.
unsafe impl Sync for Slot {}

impl Slot {
    pub(super) fn new() -> Result<Slot, Error> {
        Ok(Slot {
            ready: Semaphore::new(0)?,
            next: AtomicUsize::new(0),
            idle: AtomicBool::new(false),
            item: UnsafeCell::new(None),
        })
    }

    /// Takes the first worker if it is idle: true if this thread cleared its mark (and must
    /// then [`Slot::give`] to it, once).
    pub(super) fn claim(&self) -> bool {
        self.idle.load(Ordering::Relaxed)
            && self
                .idle
                .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Gives the worker its next item (`None`: look at the pool again). Only by the thread
    /// that took this worker (off the idle list under the pool's lock, or by [`Slot::claim`]),
    /// once.
    pub(super) fn give(&self, item: Option<WorkItem>) {
        // SAFETY: the worker is idle, waiting on `ready` (or about to), and no one else took
        // this slot off the list: this thread alone touches `item` until the release below.
        unsafe { *self.item.get() = item };
        // From 0 to 1 on an unbounded semaphore: cannot fail.
        let _ = self.ready.release(1);
    }

    /// The worker's wait for its next item (interrupts are ignored).
    fn take(&self) -> Option<WorkItem> {
        // The next item often comes within microseconds: first a snooze on the permit count,
        // as the queue's getters do (no clock read, and no process-wide count of spinners,
        // whose line would be one more between the submitter and this worker), then the
        // semaphore's wait. (Without memory for its wait record a thread waits on a record on
        // its stack: the only failure is an interrupt.)
        SpinWait::snooze_while(|| self.ready.value() == 0);
        while self.ready.acquire(Wait::Forever).is_err() {}
        // SAFETY: acquiring `ready` follows the giver's write, and nobody writes again before
        // this worker lists itself as idle again.
        unsafe { (*self.item.get()).take() }
    }
}

pub(super) struct Shared {
    pub(super) st: LockCell<PoolState>,
    /// The first worker's slot once it has started (null before; never changed after).
    pub(super) first: AtomicPtr<Slot>,
    /// Set (under the pool's lock) with `PoolState::shutdown` or `PoolState::broken`: a submit
    /// that reads it clear may claim the first worker without the lock.
    pub(super) refusing: AtomicBool,
    pub(super) max_workers: usize,
    /// The prefix given, or `None`: `ThreadPoolExecutor-<number>`.
    pub(super) prefix: Option<Box<str>>,
    /// The number of a pool without a prefix, given when it is registered (never reused).
    pub(super) number: AtomicU64,
    pub(super) initializer: Option<(InitFn, SendPtr)>,
    /// The process's exit has waited for this pool's workers.
    pub(super) exit_joined: AtomicBool,
}

impl Shared {
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut PoolState) -> R) -> R {
        self.st.with(f)
    }

    /// The first worker's slot, if it has started.
    pub(super) fn first_slot(&self) -> Option<&Slot> {
        // SAFETY: set once to a slot that `st.slots` keeps while the pool lives.
        unsafe { self.first.load(Ordering::Acquire).as_ref() }
    }

    /// Takes the first worker if it is idle (see [`Slot::claim`]).
    pub(super) fn claim_first(&self) -> Option<&Slot> {
        self.first_slot().filter(|s| s.claim())
    }

    /// Closes the pool: no more items, and the workers end once the queue is empty; the idle
    /// ones at once. With `cancel`, the items not started are taken out and returned (for the
    /// caller to cancel, without the lock). Under the pool's lock, which `st` is; allocates
    /// nothing.
    pub(super) fn close(&self, st: &mut PoolState, cancel: bool) -> VecDeque<WorkItem> {
        self.refusing.store(true, Ordering::Release);
        st.closed = true;
        let cancelled = if cancel {
            std::mem::take(&mut st.work)
        } else {
            VecDeque::new()
        };
        while let Some(slot) = st.pop_idle() {
            slot.give(None);
        }
        if let Some(slot) = self.claim_first() {
            slot.give(None);
        }
        cancelled
    }

    /// Writes the pool's prefix: the one given, or `ThreadPoolExecutor-<number>`.
    pub(super) fn write_prefix(&self, out: &mut impl Write) -> std::fmt::Result {
        match &self.prefix {
            Some(p) => out.write_str(p),
            None => write!(
                out,
                "ThreadPoolExecutor-{}",
                self.number.load(Ordering::Relaxed)
            ),
        }
    }

    /// The worker's name, `<prefix>_<n>`; `RT_ENOMEM`.
    pub(super) fn worker_name(&self, n: usize) -> Result<String, Error> {
        let mut name = String::new();
        // Room for the prefix, "ThreadPoolExecutor-" and two 20-digit numbers: no write below
        // allocates.
        let room = self.prefix.as_ref().map_or(0, |p| p.len()) + 64;
        name.try_reserve(room).map_err(|_| Error::NO_MEMORY)?;
        let _ = self.write_prefix(&mut name);
        let _ = write!(name, "_{n}");
        Ok(name)
    }

    fn initializer_failed(&self) {
        // Once broken, no submit adds to the queue: what it holds now fails (as in CPython;
        // other workers may have taken some, and run them if their own initializer succeeded).
        let pending = self.with(|st| {
            st.broken = true;
            self.refusing.store(true, Ordering::Release);
            std::mem::take(&mut st.work)
        });
        for mut w in pending {
            w.free_arg();
            let _ = w.future.set_exception(Failure {
                code: rt_status::RT_EBROKEN as i32,
                message: Cow::Borrowed(BROKEN_MESSAGE),
            });
        }
    }
}

/// What a worker thread is given.
pub(super) struct WorkerArgs {
    pub(super) shared: Arc<Shared>,
    /// The worker's index in `threads` and `slots`, and its slot.
    pub(super) index: usize,
    pub(super) slot: Arc<Slot>,
}

pub(super) unsafe extern "C-unwind" fn worker_entry(arg: *mut c_void) {
    // SAFETY: `arg` is the Box that `adjust_thread_count` leaked for this worker.
    let args = unsafe { Box::from_raw(arg as *mut WorkerArgs) };
    worker(&args.shared, args.index, &args.slot);
}

fn worker(shared: &Shared, index: usize, slot: &Slot) {
    if let Some((init, ctx)) = shared.initializer {
        let rc = {
            let _g = CallbackGuard::new();
            // SAFETY: the initializer and its context, as the executor was given them.
            unsafe { init(ctx.0) }
        };
        if rc != 0 {
            shared.initializer_failed();
            return;
        }
    }
    enum Next {
        Run(WorkItem),
        Idle,
        End,
    }
    loop {
        // One lock per item: the next one, or idle, or the end.
        let next = shared.with(|st| {
            if let Some(item) = st.work.pop_front() {
                Next::Run(item)
            } else if st.closed {
                Next::End
            } else {
                if index == 0 {
                    slot.idle.store(true, Ordering::Release);
                } else {
                    st.push_idle(index);
                }
                Next::Idle
            }
        });
        match next {
            Next::Run(item) => item.run(),
            Next::End => return,
            Next::Idle => {
                if let Some(item) = slot.take() {
                    item.run();
                }
                // Else woken to look again: the pool closed.
            }
        }
    }
}

/// Joins every worker of the pool, one at a time. With `interruptible`, an interrupt ends the
/// wait (`RT_EINTR`); without, it is kept for later. `RT_EDEADLK` if one is the calling thread.
pub(super) fn join_all(sh: &Shared, interruptible: bool) -> Result<(), Error> {
    let mut result = Ok(());
    let mut interrupted = false;
    // One at a time, by index (no copy of the list): workers are only ever added.
    let mut i = 0;
    while let Some(t) = sh.with(|st| st.threads.get(i).cloned()) {
        i += 1;
        loop {
            match t.join(crate::time::FOREVER) {
                Ok(()) => break,
                Err(e) if e.status == rt_status::RT_EINTR => {
                    if interruptible {
                        return Err(e);
                    }
                    interrupted = true;
                }
                Err(e) if e.status == rt_status::RT_EDEADLK => {
                    result = Err(JOIN_SELF);
                    break;
                }
                Err(_) => break,
            }
        }
    }
    if interrupted {
        crate::wait::with_current(|r| r.interrupt());
    }
    result
}
