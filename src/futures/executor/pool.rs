//! The pool's shared state (its queue, the list of workers and of idle workers under the
//! pool's lock, each worker's hand-off slot, the naming of workers) and the worker's loop: the
//! initializer, then items until the queue is shut down and empty.
//!
//! The hand-off: a worker that finds the queue empty lists itself as idle and waits on its own
//! [`Slot`]. A submit that finds an idle worker takes it and gives it the item directly, in
//! the slot, which shares its cache line with nothing else; the queue, its lock and its
//! counters stay out of the way. A shutdown of the queue takes every idle worker and gives it
//! no item: it looks at the queue again, finds it shut down (and, once empty, ends).
//!
//! Two ways to be idle:
//! - The first worker (index 0) marks itself idle in its slot ([`Slot::idle`]), without the
//!   pool's lock, and a submit claims it with one compare-exchange on that flag, also without
//!   the pool's lock: a pool with one busy-then-idle worker (the common round trip: submit,
//!   wait for the result, submit again) touches no line but the slot's and the future's. The
//!   flag and the queue form a store-buffering pair: the worker sets the flag and then reads
//!   the queue; a put (under the pool's lock) is followed by a read of the flag, each side
//!   behind a `SeqCst` fence, so at least one sees the other. A worker that sees items (or a
//!   shutdown) takes its flag back; a put that sees the flag claims the worker and gives it no
//!   item, only the wake-up to look at the queue. Whoever wins the flag's compare-exchange
//!   decides; the loser leaves it alone.
//! - Every other worker lists itself under the pool's lock ([`PoolState::idle`]), after
//!   checking there that the queue is empty: puts happen under that lock, so nothing is
//!   queued while one is listed.

use super::work::{InitFn, SendPtr, WorkItem};
use crate::futures::future::{Failure, FutureRef};
use crate::memory::Arc;
use crate::queue::Queue;
use crate::status::{Error, rt_status};
use crate::sync::Semaphore;
use crate::thread::{CallbackGuard, Thread};
use crate::time::Wait;
use crate::wait::{LockCell, SpinWait};
use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence};

pub const BROKEN_MESSAGE: &str =
    "A thread initializer failed, the thread pool is not usable anymore";
const JOIN_SELF: Error = Error::new(rt_status::RT_EDEADLK, "cannot join current thread");

pub(super) struct PoolState {
    pub(super) shutdown: bool,
    pub(super) broken: bool,
    /// Every worker started, in order; none is ever removed.
    pub(super) threads: Vec<Arc<Thread>>,
    /// Each worker's hand-off slot, in the order of `threads` (the worker holds it too).
    pub(super) slots: Vec<Arc<Slot>>,
    /// The idle workers, a list through [`Slot::next`]: the index + 1 of the first one's slot,
    /// 0 for none. While it is not empty, the queue is empty.
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
    /// Released once per item given (or once with none: look at the queue again).
    ready: Semaphore,
    /// Under the pool's lock: the next idle worker (see [`PoolState::idle`]).
    next: AtomicUsize,
    /// The first worker's idle mark (see the module comment); other workers leave it false.
    /// Cleared by a compare-exchange only: by a claim, or by the worker taking it back.
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

    /// The first worker marks itself idle; false if it took the mark back at once, because
    /// the queue has items or is shut down (see the module comment).
    fn mark_idle(&self, queue: &Queue<WorkItem>) -> bool {
        self.idle.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if queue.is_shutdown() || !queue.empty() {
            // Unless a submit or a shutdown claimed this worker meanwhile: then something is
            // given, and the worker takes it.
            let back = self
                .idle
                .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed);
            return back.is_err();
        }
        true
    }

    /// Gives the worker its next item (`None`: look at the queue again). Only by the thread
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
    pub(super) queue: Queue<WorkItem>,
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

    /// Under the pool's lock, after a put: if the first worker marked itself idle before it
    /// could see the item, it is claimed and must be given `None` (see the module comment).
    pub(super) fn claim_after_put(&self) -> Option<&Slot> {
        fence(Ordering::SeqCst);
        self.first_slot().filter(|s| s.claim())
    }

    /// No more items, and the workers end once the queue is empty; the idle ones at once
    /// (allocates nothing). Under the pool's lock, which `st` is.
    pub(super) fn shut_queue(
        &self,
        st: &mut PoolState,
        immediate: bool,
    ) -> Option<crate::queue::Drained<WorkItem>> {
        self.refusing.store(true, Ordering::Release);
        let drained = self.queue.shutdown(immediate).ok();
        while let Some(slot) = st.pop_idle() {
            slot.give(None);
        }
        if let Some(slot) = self.claim_after_put() {
            slot.give(None);
        }
        drained
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
        // Once broken, no submit adds to the queue: what it holds now fails (other workers may
        // take some meanwhile, as in CPython, where they then fail in their own initializer).
        self.with(|st| {
            st.broken = true;
            self.refusing.store(true, Ordering::Release);
        });
        while let Ok(mut w) = self.queue.get(false, None) {
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
    // Whether the last item came through the hand-off: the queue was empty then, and most
    // likely still is, so the worker goes straight to being idle (which checks the queue).
    let mut handed = false;
    loop {
        if !handed {
            match shared.queue.get(false, None) {
                Ok(item) => {
                    item.run();
                    continue;
                }
                // Shut down and empty: the pool is done with this worker.
                Err(e) if e.status == rt_status::RT_ESHUTDOWN => return,
                Err(_) => {}
            }
        }
        handed = false;
        // Empty: idle, unless something was queued or the queue shut down meanwhile.
        let idle = if index == 0 {
            slot.mark_idle(&shared.queue)
        } else {
            shared.with(|st| {
                let q = &shared.queue;
                let idle = !q.is_shutdown() && q.empty();
                if idle {
                    st.push_idle(index);
                }
                idle
            })
        };
        if idle {
            if let Some(item) = slot.take() {
                item.run();
                handed = true;
            }
            // Else woken to look at the queue (an item, or the shutdown).
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
