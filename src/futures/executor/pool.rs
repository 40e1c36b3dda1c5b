//! The pool's shared state: its work queue, the list of workers and of idle workers, each
//! worker's hand-off slot, the naming of workers, and the worker's loop: the initializer, then
//! items until the pool is closed and its queue empty.
//!
//! # The queue
//! The work queue (CPython's `_work_queue`, a SimpleQueue) is a lock-free ring of a few
//! hundred items ([`RING_CAP`]; the ring of rthread's bounded queues, `queue::ring`) and,
//! behind it, an overflow deque under the pool's lock. A submit puts its item in the ring
//! without the pool's lock once every worker the pool may have has started (until then each
//! submit takes the lock, to start a worker when none is idle, as CPython does), and a worker
//! takes from the ring without it: a pool busy with many small tasks moves an item with a
//! claim on the ring's tail, one on its head and the slot's line between them, instead of
//! the pool's lock going from core to core twice per item. When the ring is full the item
//! goes to the overflow, under the lock, and `overflowing` sends every later submit there
//! too until the workers have emptied it, so items still start in the order they came (the
//! ring's items are older than the overflow's; a worker that takes from the overflow moves
//! the next few into the ring).
//!
//! # Idle workers
//! A worker that finds the ring and the overflow empty (after a snooze of a few microseconds
//! on the ring, for all but the first) marks itself idle under the pool's lock and waits on
//! its own [`Slot`] until given an item there directly or woken to look again (`None`); the
//! slot shares its cache line with nothing else.
//! - The first worker (index 0) marks itself idle in its slot ([`Slot::idle`]), and a submit
//!   may claim it with one compare-exchange on that flag without taking the pool's lock: an
//!   idle round trip (submit, wait for the result, submit again) touches no line but the
//!   slot's and the future's. Whoever clears the flag gives to the worker, once.
//! - Every other worker lists itself ([`PoolState::idle`]) and is taken off the list under the
//!   lock.
//!
//! An item goes to an idle worker directly only when the queue is empty (else that worker is
//! woken to look, and the item queued behind the others). A submit that put its item in the
//! ring without the lock wakes an idle worker if the first one is marked or `idle_listed`
//! counts one; a worker marks or counts itself before it looks at the ring a last time, and
//! each side has a sequentially consistent fence between its write and its read, so one of
//! them sees the other: the item is never left in the ring with every worker asleep. (The
//! first worker's mark is not counted: a count that both its idle round trip's sides write
//! would be one more cache line between them.)
//!
//! # Closing
//! Closing the pool (a shutdown, the process's exit) shuts the ring (a put that claimed its
//! slot before is in; later ones fail and take the lock, which refuses them), and gives every
//! idle worker no item: it looks again, finds the pool closed, takes what is left and ends.

use super::work::{InitFn, SendPtr, WorkItem};
use crate::futures::future::{Failure, FutureRef};
use crate::memory::Arc;
use crate::queue::ring::Ring;
use crate::queue::{Pop, Push};
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
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering, fence};

/// How many items the ring holds (see the module comment): 256 slots of 40 bytes.
pub(super) const RING_CAP: usize = 256;
/// How many items a worker that takes one from the overflow moves into the ring at most (under
/// the pool's lock, which submits to the overflow wait for meanwhile).
const REFILL: usize = 32;

pub const BROKEN_MESSAGE: &str =
    "A thread initializer failed, the thread pool is not usable anymore";
const JOIN_SELF: Error = Error::new(rt_status::RT_EDEADLK, "cannot join current thread");

pub(super) struct PoolState {
    pub(super) shutdown: bool,
    pub(super) broken: bool,
    /// No more items (a shutdown, or the process's exit): the workers end once the queue is
    /// empty.
    pub(super) closed: bool,
    /// The overflow: items that found the ring full, and the items after them, oldest first
    /// (see the module comment).
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
    /// Takes an idle worker off the list: its slot, to [`Slot::give`] to once. The caller
    /// counts it out of [`Shared::idle_listed`].
    fn pop_idle(&mut self) -> Option<&Slot> {
        let slot = &*self.slots[self.idle.checked_sub(1)?];
        self.idle = slot.next.load(Ordering::Relaxed);
        Some(slot)
    }

    fn push_idle(&mut self, index: usize) {
        self.slots[index].next.store(self.idle, Ordering::Relaxed);
        self.idle = index + 1;
    }

    /// Takes worker `index` off the idle list if it is there (nobody took it yet). The
    /// caller counts it out of [`Shared::idle_listed`].
    fn remove_idle(&mut self, index: usize) -> bool {
        let target = index + 1;
        if self.idle == target {
            self.idle = self.slots[index].next.load(Ordering::Relaxed);
            return true;
        }
        let mut at = self.idle;
        while at != 0 {
            let next = self.slots[at - 1].next.load(Ordering::Relaxed);
            if next == target {
                let after = self.slots[index].next.load(Ordering::Relaxed);
                self.slots[at - 1].next.store(after, Ordering::Relaxed);
                return true;
            }
            at = next;
        }
        false
    }
}

/// A value on a cache line of its own (two: the spatial prefetcher pulls lines in pairs).
#[repr(align(128))]
pub(super) struct OwnLine<T>(pub(super) T);

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
    /// The queue's lock-free part (see the module comment); shut when the pool closes or
    /// breaks.
    pub(super) ring: Ring<WorkItem>,
    /// Whether the overflow (`PoolState::work`) holds items: set and cleared under the pool's
    /// lock; a submit that reads it set takes the lock and queues behind them.
    pub(super) overflowing: AtomicBool,
    /// Every worker the pool may have has started (set under the pool's lock, never cleared):
    /// a submit no longer needs the lock to decide whether to start one.
    pub(super) crew_full: AtomicBool,
    /// How many workers are on the idle list (`PoolState::idle`), changed under the pool's
    /// lock and read by a submit without it (see the module comment), on a line of its own.
    pub(super) idle_listed: OwnLine<AtomicUsize>,
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

    /// How many workers are idle at this moment: the first one if marked, and those listed.
    pub(super) fn idle_workers(&self) -> usize {
        let first = self
            .first_slot()
            .is_some_and(|s| s.idle.load(Ordering::SeqCst));
        usize::from(first) + self.idle_listed.0.load(Ordering::SeqCst)
    }

    /// Takes an idle worker, the first one if it is idle: its slot, to [`Slot::give`] to
    /// once. Under the pool's lock, which `st` is.
    pub(super) fn take_idle(&self, st: &mut PoolState) -> Option<*const Slot> {
        if let Some(slot) = self.claim_first() {
            return Some(slot);
        }
        let slot = st.pop_idle()? as *const Slot;
        self.idle_listed.0.fetch_sub(1, Ordering::Relaxed);
        Some(slot)
    }

    /// Whether nothing is queued: the overflow and the ring empty (a snapshot).
    pub(super) fn queue_is_empty(&self) -> bool {
        !self.overflowing.load(Ordering::Acquire) && self.ring.is_empty()
    }

    /// After a put in the ring without the pool's lock: wakes an idle worker if there is one
    /// (see the module comment: the fence pairs with the one in the worker's last look).
    pub(super) fn after_put(&self) {
        fence(Ordering::SeqCst);
        if self.idle_workers() == 0 {
            return;
        }
        let slot = match self.claim_first() {
            Some(slot) => slot as *const Slot,
            None => match self.with(|st| self.take_idle(st)) {
                Some(slot) => slot,
                None => return,
            },
        };
        // SAFETY: the pool's slots are never removed while it lives; this thread took the
        // worker, and gives to it once.
        unsafe { &*slot }.give(None);
    }

    /// Queues `item` under the pool's lock, which `st` is: in the ring if nothing overflows
    /// and it has room, else in the overflow. Gives the item back if the overflow cannot grow.
    pub(super) fn put_locked(&self, st: &mut PoolState, item: WorkItem) -> Result<(), WorkItem> {
        let item = if st.work.is_empty() {
            match self.ring.push(item, || {}) {
                Push::Done => return Ok(()),
                Push::Full(item) | Push::ShutDown(item) | Push::NoMemory(item) => item,
            }
        } else {
            item
        };
        if st.work.try_reserve(1).is_err() {
            return Err(item);
        }
        st.work.push_back(item);
        self.overflowing.store(true, Ordering::Release);
        Ok(())
    }

    /// The next item of the overflow, after which the next few move to the ring (see the module
    /// comment). Under the pool's lock, which `st` is.
    fn take_overflow(&self, st: &mut PoolState) -> Option<WorkItem> {
        let item = st.work.pop_front()?;
        let mut moved = 0;
        while moved < REFILL {
            let Some(next) = st.work.pop_front() else {
                break;
            };
            if let Push::Full(next) | Push::ShutDown(next) | Push::NoMemory(next) =
                self.ring.push(next, || {})
            {
                // Back where it was (the room it left: no allocation).
                st.work.push_front(next);
                break;
            }
            moved += 1;
        }
        if st.work.is_empty() {
            self.overflowing.store(false, Ordering::Release);
        }
        // An idle worker (rare: while the overflow holds items, each submit wakes one) gets
        // to look at the items moved.
        if moved > 0 {
            if let Some(slot) = self.take_idle(st) {
                // SAFETY: as in `after_put`.
                unsafe { &*slot }.give(None);
            }
        }
        Some(item)
    }

    /// Closes the pool: no more items, and the workers end once the queue is empty; the idle
    /// ones at once. With `cancel`, the items not started are taken out and returned (for the
    /// caller to cancel, without the lock). Under the pool's lock, which `st` is; allocates
    /// nothing.
    pub(super) fn close(&self, st: &mut PoolState, cancel: bool) -> VecDeque<WorkItem> {
        self.refusing.store(true, Ordering::Release);
        st.closed = true;
        self.ring.shut();
        let cancelled = if cancel {
            self.overflowing.store(false, Ordering::Release);
            std::mem::take(&mut st.work)
        } else {
            VecDeque::new()
        };
        while let Some(slot) = self.take_idle(st) {
            // SAFETY: as in `after_put`.
            unsafe { &*slot }.give(None);
        }
        cancelled
    }

    /// The next item in the ring, taken without the pool's lock; `None` if the ring is empty
    /// (shut or not). For the workers, and for a shutdown that cancels what is left or a
    /// broken pool that fails it.
    pub(super) fn take_from_ring(&self) -> Option<WorkItem> {
        match self.ring.pop(|| {}) {
            Pop::Item(item) => Some(item),
            Pop::Empty | Pop::ShutDown => None,
        }
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

    /// Takes worker `index` (whose slot is `slot`) back from idle, unless a submit or a
    /// closing took it first (then it gives to the slot, and the worker must take that).
    fn withdraw(&self, index: usize, slot: &Slot) -> bool {
        if index == 0 {
            return slot.claim();
        }
        self.with(|st| {
            let listed = st.remove_idle(index);
            if listed {
                self.idle_listed.0.fetch_sub(1, Ordering::Relaxed);
            }
            listed
        })
    }

    fn initializer_failed(&self) {
        // Once broken, no submit adds to the queue: what it holds now fails (as in CPython;
        // other workers may have taken some, and run them if their own initializer succeeded).
        let pending = self.with(|st| {
            st.broken = true;
            self.refusing.store(true, Ordering::Release);
            self.ring.shut();
            self.overflowing.store(false, Ordering::Release);
            std::mem::take(&mut st.work)
        });
        // The ring's items are older than the overflow's.
        for mut w in std::iter::from_fn(|| self.take_from_ring()).chain(pending) {
            w.free_arg();
            let _ = w.future.set_exception_or_lose_message(Failure {
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
        Drain,
    }
    loop {
        if let Some(item) = shared.take_from_ring() {
            item.run();
            continue;
        }
        // The ring is empty: the next item often comes within microseconds. A worker but the
        // first snoozes on the slot it will land in (a line the submit writes anyway) before
        // the pool's lock: once listed idle, waking it costs a submit the lock. The first one
        // goes idle at once, where a submit claims it without the lock (measured: an idle
        // round trip through the ring, the first worker snoozing there, took 1.4-1.7 times
        // the semaphore ping-pong in some runs, against 1.1 through its slot).
        if index != 0 {
            SpinWait::snooze_while(|| {
                shared.ring.head_empty_hint()
                    && !shared.overflowing.load(Ordering::Relaxed)
                    && !shared.refusing.load(Ordering::Relaxed)
            });
            if let Some(item) = shared.take_from_ring() {
                item.run();
                continue;
            }
        }
        let next = shared.with(|st| {
            if let Some(item) = shared.take_overflow(st) {
                Next::Run(item)
            } else if st.closed {
                Next::Drain
            } else {
                if index == 0 {
                    slot.idle.store(true, Ordering::Release);
                } else {
                    st.push_idle(index);
                    shared.idle_listed.0.fetch_add(1, Ordering::Relaxed);
                }
                Next::Idle
            }
        });
        match next {
            Next::Run(item) => item.run(),
            // Closed: the ring is shut; what is left in it runs, then the worker ends.
            Next::Drain => match shared.take_from_ring() {
                Some(item) => item.run(),
                None => return,
            },
            Next::Idle => {
                // The last look, after counting in (see the module comment): an item put in
                // the ring meanwhile by a submit that did not see this worker idle.
                fence(Ordering::SeqCst);
                if !shared.ring.is_empty() && shared.withdraw(index, slot) {
                    continue;
                }
                if let Some(item) = slot.take() {
                    item.run();
                }
                // Else woken to look again: an item queued, or the pool closed.
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
