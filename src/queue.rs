//! The `queue` module: `Queue` (FIFO), `LifoQueue`, `PriorityQueue` and `SimpleQueue`, with
//! `task_done`, `join` and 3.13's `shutdown`.
//!
//! One type, [`Queue<T>`], serves the four kinds ([`QueueKind`]). Its state (the items, the
//! count of unfinished tasks, the shutdown flag, and how many threads wait for each reason) sits
//! behind a short internal [`Lock`] that is never held while a thread sleeps or while user code
//! runs, with one documented exception: a priority queue's comparator orders items under it.
//!
//! # Storage
//! A bounded FIFO is a lock-free ring of `maxsize` slots ([`ring`]): its puts and gets take no
//! lock (only `task_done`, `join`, `shutdown` and `unfinished_tasks` use the internal lock). A
//! bounded LIFO is an array (`Vec`) reserved for `maxsize` items at creation: a put or a get
//! allocates nothing. A priority queue is a binary
//! min-heap in a `Vec` (reserved as well when bounded); each entry carries a sequence number so
//! that items that compare equal leave in the order they came. Unbounded queues grow by
//! doubling. `maxsize` is fixed at creation.
//!
//! # Waiting without lost wake-ups
//! Threads wait for three reasons: a getter for an item (`not_empty`), a putter for room
//! (`not_full`), a joiner for the last `task_done` (`all_done`). Each reason has an epoch
//! counter; its address is the key the thread parks on in the waiting core. A waiter, under
//! the internal lock, finds it must wait, counts itself in `getters`/`putters`/`joiners` and
//! reads the epoch; it drops the lock and parks, and `park`'s `validate` (under the bucket
//! lock) refuses to sleep if the epoch moved. A waker changes the state, and if (and only if)
//! the count is non-zero it bumps the epoch, both under the internal lock, then drops the lock
//! and unparks. So either the waiter was queued before the unpark took the bucket lock and is
//! woken, or its `validate` ran after and sees the new epoch: no wake-up is lost, and a put or
//! get that finds nobody waiting touches neither the waiting core nor the kernel.
//!
//! A woken thread always re-takes the lock, uncounts itself and re-checks (another thread may
//! have taken the item first). A waiter that timed out or was interrupted had already left the
//! bucket's queue when the waking thread looked (the core decides "woken" or "timed out" once,
//! under the bucket lock), so a put's wake-up then goes to another waiter, or to nobody: it is
//! never spent on a thread that will not use it. A timed-out getter still takes an item that
//! arrived meanwhile, as CPython's does.
//!
//! The internal lock is a [`Lock`], whose waits are interruptible; an internal section must
//! not fail, so an interrupt that arrives while a thread waits for the internal lock is put
//! back once the lock is held: the caller's next real wait (usually the very next step) ends
//! with `RT_EINTR`.
//!
//! # Differences from Python
//! - `maxsize` is fixed at creation (Python's is a writable attribute).
//! - Priority order comes from a comparator, and equal items leave in FIFO order (Python's
//!   heap does not promise that). A C comparator cannot fail. If a Rust comparator panics, the
//!   panic propagates and the queue stays usable: in a put, the item is queued and counted (never
//!   in the heap uncounted, CPython 3.13.0's partial insert); in a get, the item taken out is
//!   dropped with the unwind (its task stays unfinished).
//! - A NaN timeout is an error (CPython spins forever), and a timeout above `TIMEOUT_MAX` is
//!   refused where the timeout is read, even when no wait turns out to be needed (CPython's
//!   Queue only fails once it waits; its SimpleQueue fails at once, as we do).
//! - A SimpleQueue has no `task_done`, `join` or `shutdown`: the calls fail with CPython's
//!   `AttributeError` text.

mod ring;

use crate::status::{Error, rt_status};
use crate::sync::Lock;
use crate::time::{Deadline, TIMEOUT_MAX, Wait};
use crate::wait::sys::{AtomicUsize, Ordering};
use crate::wait::{self, Block, ParkResult, Tidy};
use ring::{Pop, Push, Ring};
use std::cell::UnsafeCell;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{VecDeque, vec_deque};
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// `queue.Full`.
pub const FULL: Error = Error::new(rt_status::RT_EFULL, "queue is full");
/// `queue.Empty`.
pub const EMPTY: Error = Error::new(rt_status::RT_EEMPTY, "queue is empty");
/// `queue.ShutDown`.
pub const SHUT_DOWN: Error = Error::new(rt_status::RT_ESHUTDOWN, "queue is shut down");
/// `ValueError` from `task_done`.
pub const TOO_MANY_TASK_DONE: Error = Error::new(
    rt_status::RT_EOVERRELEASE,
    "task_done() called too many times",
);
/// `ValueError` for a negative timeout.
pub const NEGATIVE_TIMEOUT: Error = Error::new(
    rt_status::RT_EINVAL,
    "'timeout' must be a non-negative number",
);
/// `ValueError` for a NaN timeout (CPython's Queue spins instead; its SimpleQueue says this).
pub const NAN_TIMEOUT: Error = Error::new(rt_status::RT_EINVAL, "Invalid value NaN (not a number)");
/// `OverflowError` for a timeout above `TIMEOUT_MAX`.
pub const TIMEOUT_OVERFLOW: Error = Error::new(
    rt_status::RT_EOVERFLOW,
    "timestamp out of range for platform time_t",
);
/// `AttributeError`: a SimpleQueue has no task tracking.
pub const SIMPLE_NO_TASK_DONE: Error = Error::new(
    rt_status::RT_EINVAL,
    "'_queue.SimpleQueue' object has no attribute 'task_done'",
);
/// `AttributeError`: a SimpleQueue cannot be joined.
pub const SIMPLE_NO_JOIN: Error = Error::new(
    rt_status::RT_EINVAL,
    "'_queue.SimpleQueue' object has no attribute 'join'",
);
/// `AttributeError`: a SimpleQueue cannot be shut down.
pub const SIMPLE_NO_SHUTDOWN: Error = Error::new(
    rt_status::RT_EINVAL,
    "'_queue.SimpleQueue' object has no attribute 'shutdown'",
);

/// Which Python queue a [`Queue`] behaves as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// `queue.Queue`: first in, first out.
    Fifo,
    /// `queue.LifoQueue`: last in, first out.
    Lifo,
    /// `queue.PriorityQueue`: smallest first; equal items first in, first out.
    Priority,
    /// `queue.SimpleQueue`: unbounded FIFO without task tracking or shutdown.
    Simple,
}

/// A put that failed: why, and the item, handed back to the caller.
#[derive(Debug, PartialEq, Eq)]
pub struct PutError<T> {
    pub error: Error,
    pub item: T,
}

type Compare<T> = Box<dyn Fn(&T, &T) -> CmpOrdering + Send + Sync>;

struct Entry<T> {
    item: T,
    seq: u64,
}

/// The items, in the layout of the queue's kind.
enum Items<T> {
    Ring(VecDeque<T>),
    Stack(Vec<T>),
    Heap { heap: Vec<Entry<T>>, next_seq: u64 },
}

impl<T> Items<T> {
    fn len(&self) -> usize {
        match self {
            Items::Ring(r) => r.len(),
            Items::Stack(s) => s.len(),
            Items::Heap { heap, .. } => heap.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for one more item, so that the next `push` cannot allocate: `RT_ENOMEM` if
    /// the allocator refuses (a bounded queue reserved its room when it was made).
    fn reserve_one(&mut self) -> Result<(), Error> {
        match self {
            Items::Ring(r) => r.try_reserve(1),
            Items::Stack(s) => s.try_reserve(1),
            Items::Heap { heap, .. } => heap.try_reserve(1),
        }
        .map_err(|_| Error::NO_MEMORY)
    }

    fn push(&mut self, item: T, cmp: Option<&Compare<T>>) {
        match self {
            Items::Ring(r) => r.push_back(item),
            Items::Stack(s) => s.push(item),
            Items::Heap { heap, next_seq } => {
                let seq = *next_seq;
                *next_seq = seq.wrapping_add(1);
                heap.push(Entry { item, seq });
                if let Some(cmp) = cmp {
                    sift_up(heap, cmp);
                }
            }
        }
    }

    fn pop(&mut self, cmp: Option<&Compare<T>>) -> Option<T> {
        match self {
            Items::Ring(r) => r.pop_front(),
            Items::Stack(s) => s.pop(),
            Items::Heap { heap, .. } => {
                if heap.is_empty() {
                    return None;
                }
                let top = heap.swap_remove(0);
                if let Some(cmp) = cmp {
                    sift_down(heap, cmp);
                }
                Some(top.item)
            }
        }
    }

    /// Takes every item out, leaving an empty container that owns no memory.
    fn take(&mut self) -> Items<T> {
        let empty = match self {
            Items::Ring(_) => Items::Ring(VecDeque::new()),
            Items::Stack(_) => Items::Stack(Vec::new()),
            Items::Heap { next_seq, .. } => Items::Heap {
                heap: Vec::new(),
                next_seq: *next_seq,
            },
        };
        std::mem::replace(self, empty)
    }
}

/// True if `a` leaves before `b`: smaller by the comparator, or equal and older.
fn before<T>(cmp: &Compare<T>, a: &Entry<T>, b: &Entry<T>) -> bool {
    match cmp(&a.item, &b.item) {
        CmpOrdering::Less => true,
        CmpOrdering::Greater => false,
        CmpOrdering::Equal => a.seq < b.seq,
    }
}

/// Restores the heap after a push at the end. Indices stay in bounds by construction; an
/// inconsistent comparator can only misorder items, never lose one.
fn sift_up<T>(heap: &mut [Entry<T>], cmp: &Compare<T>) {
    let Some(mut i) = heap.len().checked_sub(1) else {
        return;
    };
    while i > 0 {
        let parent = (i - 1) / 2;
        if !before(cmp, &heap[i], &heap[parent]) {
            break;
        }
        heap.swap(i, parent);
        i = parent;
    }
}

/// Restores the heap after its first entry was replaced by the last.
fn sift_down<T>(heap: &mut [Entry<T>], cmp: &Compare<T>) {
    let n = heap.len();
    let mut i = 0;
    loop {
        let left = 2 * i + 1;
        if left >= n {
            break;
        }
        let right = left + 1;
        let child = if right < n && before(cmp, &heap[right], &heap[left]) {
            right
        } else {
            left
        };
        if !before(cmp, &heap[child], &heap[i]) {
            break;
        }
        heap.swap(i, child);
        i = child;
    }
}

/// The items an immediate shutdown removed, or that a dropped queue held: an iterator that
/// owns them (FIFO and LIFO in the order `get` would have returned them, a priority queue's in
/// no particular order). Dropping it drops what is left.
pub struct Drained<T> {
    inner: DrainedIter<T>,
}

enum DrainedIter<T> {
    Ring(vec_deque::IntoIter<T>),
    Stack(std::iter::Rev<std::vec::IntoIter<T>>),
    Heap(std::vec::IntoIter<Entry<T>>),
}

impl<T> Drained<T> {
    fn new(items: Items<T>) -> Drained<T> {
        let inner = match items {
            Items::Ring(r) => DrainedIter::Ring(r.into_iter()),
            Items::Stack(s) => DrainedIter::Stack(s.into_iter().rev()),
            Items::Heap { heap, .. } => DrainedIter::Heap(heap.into_iter()),
        };
        Drained { inner }
    }

    fn none() -> Drained<T> {
        Drained::new(Items::Stack(Vec::new()))
    }
}

impl<T> Iterator for Drained<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.inner {
            DrainedIter::Ring(i) => i.next(),
            DrainedIter::Stack(i) => i.next(),
            DrainedIter::Heap(i) => i.next().map(|e| e.item),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            DrainedIter::Ring(i) => i.size_hint(),
            DrainedIter::Stack(i) => i.size_hint(),
            DrainedIter::Heap(i) => i.size_hint(),
        }
    }
}

impl<T> ExactSizeIterator for Drained<T> {}

/// The state behind the internal lock.
struct State<T> {
    items: Items<T>,
    /// Items put and not yet marked done with `task_done` (not kept for a SimpleQueue, nor for
    /// a ring, which counts its puts itself: see `done`).
    unfinished: usize,
    /// With a ring: the tasks marked done (`task_done`, and items an immediate shutdown
    /// removed); the unfinished tasks are the ring's puts minus these.
    done: usize,
    shutdown: bool,
    /// Threads between "I must wait" and re-taking the lock after waiting, per reason.
    getters: usize,
    putters: usize,
    joiners: usize,
}

/// Why a thread waits; each reason has its own epoch and park key.
#[derive(Clone, Copy)]
enum Reason {
    NotEmpty,
    NotFull,
    AllDone,
}

/// A validated timeout, turned into a deadline only when a wait is really needed (so the fast
/// path never reads the clock).
#[derive(Clone, Copy)]
enum Limit {
    Forever,
    Secs(f64),
}

impl Limit {
    fn deadline(self, cached: &mut Option<Deadline>) -> Option<Deadline> {
        match self {
            Limit::Forever => None,
            Limit::Secs(s) => Some(*cached.get_or_insert_with(|| Deadline::after(s))),
        }
    }
}

/// Reads a Python-style timeout: `None` waits without bound; NaN, negative and too-large values
/// are refused (in that order).
fn read_timeout(timeout: Option<f64>) -> Result<Limit, Error> {
    match timeout {
        None => Ok(Limit::Forever),
        Some(t) if t.is_nan() => Err(NAN_TIMEOUT),
        Some(t) if t < 0.0 => Err(NEGATIVE_TIMEOUT),
        Some(t) if t > TIMEOUT_MAX => Err(TIMEOUT_OVERFLOW),
        Some(t) => Ok(Limit::Secs(t)),
    }
}

/// A thread-safe queue with Python's semantics; see the module comment.
pub struct Queue<T> {
    lock: Lock,
    state: UnsafeCell<State<T>>,
    /// The items of a bounded FIFO (`state.items` then stays empty).
    ring: Option<Ring<T>>,
    kind: QueueKind,
    maxsize: usize,
    cmp: Option<Compare<T>>,
    /// The number of items as of the last release of the internal lock: a hint read without
    /// the lock by a thread spinning before it waits (see [`Queue::spin_while`]), never a
    /// basis for a decision.
    len_hint: AtomicUsize,
    // Epochs, bumped under the lock before a wake-up; their addresses are the park keys.
    not_empty: AtomicUsize,
    not_full: AtomicUsize,
    all_done: AtomicUsize,
}

// SAFETY: the state is only touched with the internal lock held (through `Locked`) or through
// `&mut self`; items move between threads, hence `T: Send`. The comparator is Send + Sync.
unsafe impl<T: Send> Sync for Queue<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Queue<T> {}

/// The internal lock, held; gives access to the state and releases the lock when dropped.
struct Locked<'a, T> {
    q: &'a Queue<T>,
}

impl<T> Deref for Locked<'_, T> {
    type Target = State<T>;
    fn deref(&self) -> &State<T> {
        // SAFETY: the internal lock is held while this guard lives.
        unsafe { &*self.q.state.get() }
    }
}

impl<T> DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        // SAFETY: the internal lock is held while this guard lives, and the guard is unique.
        unsafe { &mut *self.q.state.get() }
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        // A plain store to the line the lock release writes anyway: every change to the items
        // happens under the lock, so the hint is exact at each release.
        self.q.len_hint.store(self.items.len(), Ordering::Relaxed);
        // Cannot fail: we hold the lock.
        let _ = self.q.lock.release();
    }
}

/// The fork child's repair (see `wait::fork`): the handler's prepare step takes the internal
/// lock, so at the fork no thread was inside it and the state behind it is consistent; the
/// child re-initialises the lock, forgets the threads that vanished while counted as waiters,
/// and repairs a ring's slots. The items stay.
impl<T: Send> crate::wait::fork::ForkSafe for Queue<T> {
    fn try_lock_for_fork(&self) -> bool {
        self.lock.try_acquire()
    }

    fn unlock_after_fork(&self) {
        let _ = self.lock.release();
    }

    fn reset_in_child(&self) {
        // SAFETY: the child has one thread, this one, which holds the internal lock since the
        // prepare step.
        let st = unsafe { &mut *self.state.get() };
        st.getters = 0;
        st.putters = 0;
        st.joiners = 0;
        if let Some(r) = &self.ring {
            r.repair_after_fork();
        }
        self.len_hint.store(st.items.len(), Ordering::Relaxed);
        self.lock.reset();
    }
}

impl<T: Send> Queue<T> {
    fn with(kind: QueueKind, maxsize: usize, cmp: Option<Compare<T>>) -> Result<Queue<T>, Error> {
        let ring = if kind == QueueKind::Fifo && maxsize > 0 {
            Some(Ring::new(maxsize).ok_or(Error::NO_MEMORY)?)
        } else {
            None
        };
        let items = match kind {
            QueueKind::Fifo if ring.is_some() => Items::Ring(VecDeque::new()),
            QueueKind::Fifo | QueueKind::Simple => {
                let mut r = VecDeque::new();
                r.try_reserve_exact(maxsize).map_err(|_| Error::NO_MEMORY)?;
                Items::Ring(r)
            }
            QueueKind::Lifo => {
                let mut s = Vec::new();
                s.try_reserve_exact(maxsize).map_err(|_| Error::NO_MEMORY)?;
                Items::Stack(s)
            }
            QueueKind::Priority => {
                let mut heap = Vec::new();
                heap.try_reserve_exact(maxsize)
                    .map_err(|_| Error::NO_MEMORY)?;
                Items::Heap { heap, next_seq: 0 }
            }
        };
        Ok(Queue {
            lock: Lock::new(),
            state: UnsafeCell::new(State {
                items,
                unfinished: 0,
                done: 0,
                shutdown: false,
                getters: 0,
                putters: 0,
                joiners: 0,
            }),
            ring,
            kind,
            maxsize,
            cmp,
            len_hint: AtomicUsize::new(0),
            not_empty: AtomicUsize::new(0),
            not_full: AtomicUsize::new(0),
            all_done: AtomicUsize::new(0),
        })
    }

    /// `queue.Queue(maxsize)`: FIFO; `maxsize` 0 is unbounded. A bounded queue reserves room for
    /// `maxsize` items now (`RT_ENOMEM` if it cannot).
    pub fn fifo(maxsize: usize) -> Result<Queue<T>, Error> {
        Queue::with(QueueKind::Fifo, maxsize, None)
    }

    /// `queue.LifoQueue(maxsize)`: a stack; as [`Queue::fifo`] otherwise.
    pub fn lifo(maxsize: usize) -> Result<Queue<T>, Error> {
        Queue::with(QueueKind::Lifo, maxsize, None)
    }

    /// `queue.PriorityQueue(maxsize)` ordered by `cmp`: the smallest item leaves first, and items
    /// that compare equal leave in the order they came. `cmp` runs under the queue's internal
    /// lock: it must not use this queue. `RT_ENOMEM` as for [`Queue::fifo`].
    pub fn priority_by(
        maxsize: usize,
        cmp: impl Fn(&T, &T) -> CmpOrdering + Send + Sync + 'static,
    ) -> Result<Queue<T>, Error> {
        let cmp: Compare<T> = crate::memory::try_box(cmp)?;
        Queue::with(QueueKind::Priority, maxsize, Some(cmp))
    }

    /// `queue.PriorityQueue(maxsize)` ordered by `T`'s own order.
    pub fn priority(maxsize: usize) -> Result<Queue<T>, Error>
    where
        T: Ord + 'static,
    {
        Queue::priority_by(maxsize, T::cmp)
    }

    /// `queue.SimpleQueue()`: an unbounded FIFO without task tracking or shutdown.
    pub fn simple() -> Queue<T> {
        Queue {
            lock: Lock::new(),
            state: UnsafeCell::new(State {
                items: Items::Ring(VecDeque::new()),
                unfinished: 0,
                done: 0,
                shutdown: false,
                getters: 0,
                putters: 0,
                joiners: 0,
            }),
            ring: None,
            kind: QueueKind::Simple,
            maxsize: 0,
            cmp: None,
            len_hint: AtomicUsize::new(0),
            not_empty: AtomicUsize::new(0),
            not_full: AtomicUsize::new(0),
            all_done: AtomicUsize::new(0),
        }
    }

    pub fn kind(&self) -> QueueKind {
        self.kind
    }

    /// The bound given at creation; 0 for an unbounded queue.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Takes the internal lock. Its wait must not fail, so an interrupt that arrives meanwhile
    /// is put back for the caller's next wait (see the module comment).
    #[inline]
    fn locked(&self) -> Locked<'_, T> {
        if self.lock.acquire(Wait::Forever).is_err() {
            self.relock_after_interrupt();
        }
        Locked { q: self }
    }

    #[cold]
    fn relock_after_interrupt(&self) {
        while self.lock.acquire(Wait::Forever).is_err() {}
        wait::with_current(|r| r.interrupt());
    }

    fn epoch(&self, r: Reason) -> &AtomicUsize {
        match r {
            Reason::NotEmpty => &self.not_empty,
            Reason::NotFull => &self.not_full,
            Reason::AllDone => &self.all_done,
        }
    }

    fn key(&self, r: Reason) -> usize {
        self.epoch(r) as *const AtomicUsize as usize
    }

    /// Under the lock: invalidates the snapshots of threads about to wait for `r`. A
    /// read-modify-write: a ring's puts and gets bump their epochs without the lock.
    fn bump(&self, r: Reason) {
        self.epoch(r).fetch_add(1, Ordering::SeqCst);
    }

    fn waiting(g: &mut State<T>, r: Reason) -> &mut usize {
        match r {
            Reason::NotEmpty => &mut g.getters,
            Reason::NotFull => &mut g.putters,
            Reason::AllDone => &mut g.joiners,
        }
    }

    /// Spins, then yields, for a few microseconds at most while `blocked(len_hint)` holds.
    ///
    /// A getter that finds the queue empty (a putter that finds it full) calls this once, with
    /// the lock dropped, before it counts itself as a waiter and parks: when the other side is
    /// running, the item (the room) usually comes within a few hundred nanoseconds, and then
    /// neither side pays for a park and a futex wake-up (the ping-pong of wake-ups that makes
    /// a mutex+condvar queue slow). It decides nothing: the caller re-takes the lock and
    /// re-checks, so the semantics are those of a wait that was woken at once.
    #[cold]
    fn spin_while(&self, blocked: impl Fn(usize) -> bool) {
        const SPIN_ROUNDS: u32 = 6; // 2 + 4 + ... + 64 pause instructions
        const YIELDS: u32 = 4; // on a busy machine, let the other side run
        for round in 0..SPIN_ROUNDS + YIELDS {
            if !blocked(self.len_hint.load(Ordering::Relaxed)) {
                return;
            }
            if round < SPIN_ROUNDS {
                for _ in 0..(2u32 << round) {
                    wait::sys::spin_hint();
                }
            } else {
                wait::sys::yield_now();
            }
        }
    }

    /// Waits for `r` once: counts the caller, drops the lock, parks (interruptibly) until woken,
    /// the deadline, or an interrupt, then re-takes the lock and uncounts the caller.
    fn wait<'a>(
        &'a self,
        mut g: Locked<'a, T>,
        r: Reason,
        deadline: Option<Deadline>,
    ) -> (Locked<'a, T>, ParkResult) {
        *Self::waiting(&mut g, r) += 1;
        let epoch = self.epoch(r);
        let seen = epoch.load(Ordering::Relaxed);
        drop(g);
        let res = wait::park(epoch, seen, Tidy::Keep, Block::until(deadline));
        let mut g = self.locked();
        *Self::waiting(&mut g, r) -= 1;
        (g, res)
    }

    /// The tasks not yet marked done (the internal lock is held: `g`).
    fn unfinished(&self, g: &State<T>) -> usize {
        match &self.ring {
            Some(r) => r.puts().wrapping_sub(g.done),
            None => g.unfinished,
        }
    }

    /// With a ring, in a put or get that claimed its slot, before it publishes it: if threads
    /// wait for `r` (for the item or the room this operation makes), invalidates their
    /// snapshots now and returns true, so that the caller wakes one once it has published.
    /// Both are decided before the publication, which may let another thread free the queue.
    #[inline]
    fn ring_claimed(&self, waiting: &AtomicUsize, r: Reason) -> bool {
        if waiting.load(Ordering::SeqCst) == 0 {
            return false;
        }
        self.epoch(r).fetch_add(1, Ordering::SeqCst);
        true
    }

    /// One wait of a ring's getter or putter: counts itself in `waiting`, reads the epoch of
    /// `r`, and parks unless `must_wait` (checked after counting) says the wait is over. A put
    /// or get that claims a slot reads the count after its claim, and this thread reads the
    /// ring after counting itself, all sequentially consistent: either the operation sees this
    /// thread (and bumps the epoch and wakes one waiter) or this thread sees the operation.
    fn ring_wait(
        &self,
        waiting: &AtomicUsize,
        r: Reason,
        deadline: Option<Deadline>,
        must_wait: impl Fn() -> bool,
    ) -> ParkResult {
        waiting.fetch_add(1, Ordering::SeqCst);
        let epoch = self.epoch(r);
        let seen = epoch.load(Ordering::SeqCst);
        let res = if must_wait() {
            wait::park(epoch, seen, Tidy::Keep, Block::until(deadline))
        } else {
            ParkResult::Invalid
        };
        waiting.fetch_sub(1, Ordering::SeqCst);
        res
    }

    /// Wakes one thread waiting for `r` (out of line: the ring's fast paths stay small).
    #[cold]
    #[inline(never)]
    fn wake_one(&self, r: Reason) {
        wait::unpark_one(self.key(r), |_| 0);
    }

    /// `put` on a bounded FIFO: the checks of [`Queue::put`], in the same order, on the ring.
    #[inline]
    fn ring_put(
        &self,
        r: &Ring<T>,
        item: T,
        block: bool,
        timeout: Option<f64>,
    ) -> Result<(), PutError<T>> {
        if r.is_shut() {
            return Err(PutError {
                error: SHUT_DOWN,
                item,
            });
        }
        let limit = if block {
            match read_timeout(timeout) {
                Ok(l) => Some(l),
                Err(error) => return Err(PutError { error, item }),
            }
        } else {
            None
        };
        let mut item = item;
        let mut deadline = None;
        let mut spun = false;
        loop {
            let mut wake = false;
            match r.push(item, || {
                wake = self.ring_claimed(&r.waiters().getters, Reason::NotEmpty)
            }) {
                Push::Done => {
                    if wake {
                        self.wake_one(Reason::NotEmpty);
                    }
                    return Ok(());
                }
                Push::ShutDown(it) => {
                    return Err(PutError {
                        error: SHUT_DOWN,
                        item: it,
                    });
                }
                Push::Full(it) => item = it,
            }
            let Some(limit) = limit else {
                return Err(PutError { error: FULL, item });
            };
            let d = limit.deadline(&mut deadline);
            if d.is_some_and(|d| d.has_passed()) {
                return Err(PutError { error: FULL, item });
            }
            if !spun && !cfg!(loom) {
                // As in `wait_for_room`: the room usually comes within a few hundred ns.
                spun = true;
                r.spin_while(Ring::too_full_hint);
                continue;
            }
            let res = self.ring_wait(&r.waiters().putters, Reason::NotFull, d, || {
                r.must_wait_for_room()
            });
            if res == ParkResult::Interrupted {
                return Err(PutError {
                    error: Error::INTERRUPTED,
                    item,
                });
            }
        }
    }

    /// `get` on a bounded FIFO: the checks of [`Queue::get`], in the same order, on the ring.
    #[inline]
    fn ring_get(&self, r: &Ring<T>, block: bool, timeout: Option<f64>) -> Result<T, Error> {
        let limit = if block {
            // CPython checks "shut down and empty" before the timeout; with a valid timeout
            // the pop below makes that check itself (without reading the tail's cache line on
            // every get), so only an invalid timeout needs it first.
            match read_timeout(timeout) {
                Ok(l) => Some(l),
                Err(_) if r.is_shut() && r.len() == 0 => return Err(SHUT_DOWN),
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let mut deadline = None;
        let mut spun = false;
        loop {
            let mut wake = false;
            match r.pop(|| wake = self.ring_claimed(&r.waiters().putters, Reason::NotFull)) {
                Pop::Item(item) => {
                    if wake {
                        self.wake_one(Reason::NotFull);
                    }
                    return Ok(item);
                }
                Pop::ShutDown => return Err(SHUT_DOWN),
                Pop::Empty => {}
            }
            let Some(limit) = limit else {
                return Err(EMPTY);
            };
            let d = limit.deadline(&mut deadline);
            if d.is_some_and(|d| d.has_passed()) {
                return Err(EMPTY);
            }
            if !spun && !cfg!(loom) {
                // As in `wait_for_item`.
                spun = true;
                r.spin_while(Ring::is_empty_hint);
                continue;
            }
            let res = self.ring_wait(&r.waiters().getters, Reason::NotEmpty, d, || {
                r.must_wait_for_item()
            });
            if res == ParkResult::Interrupted {
                return Err(Error::INTERRUPTED);
            }
        }
    }

    /// `put(item, block, timeout)`; `timeout` `None` waits without bound.
    ///
    /// Checks, in CPython's order: shutdown (`RT_ESHUTDOWN`, for every kind of put); then, on a
    /// bounded queue only, non-blocking and full (`RT_EFULL`) or, blocking, the timeout (NaN,
    /// negative, too large) and the wait for room (`RT_EFULL` when it runs out, `RT_ESHUTDOWN`
    /// if the queue is shut down meanwhile, `RT_EINTR` if interrupted). An unbounded queue
    /// ignores `block` and `timeout`. Adds an unfinished task and wakes one waiting getter.
    #[inline]
    pub fn put(&self, item: T, block: bool, timeout: Option<f64>) -> Result<(), PutError<T>> {
        if let Some(r) = &self.ring {
            return self.ring_put(r, item, block, timeout);
        }
        self.put_locked(item, block, timeout)
    }

    /// `put` on every queue but a bounded FIFO: under the internal lock.
    #[inline(never)]
    fn put_locked(&self, item: T, block: bool, timeout: Option<f64>) -> Result<(), PutError<T>> {
        let mut g = self.locked();
        if g.shutdown {
            return Err(PutError {
                error: SHUT_DOWN,
                item,
            });
        }
        if self.maxsize > 0 {
            let error = if !block {
                (g.items.len() >= self.maxsize).then_some(FULL)
            } else {
                match read_timeout(timeout) {
                    Err(e) => Some(e),
                    Ok(_) if g.items.len() < self.maxsize => None,
                    Ok(limit) => {
                        let (g2, e) = self.wait_for_room(g, limit);
                        g = g2;
                        e
                    }
                }
            };
            if let Some(error) = error {
                return Err(PutError { error, item });
            }
        }
        if let Err(error) = g.items.reserve_one() {
            return Err(PutError { error, item });
        }
        // Only a (Rust) comparator can panic here, after the item is in the heap: count it and
        // wake a getter all the same, then let the panic go on.
        let pushed = catch_unwind(AssertUnwindSafe(|| g.items.push(item, self.cmp.as_ref())));
        if self.kind != QueueKind::Simple {
            g.unfinished += 1;
        }
        let wake = g.getters > 0;
        if wake {
            self.bump(Reason::NotEmpty);
        }
        drop(g);
        if wake {
            wait::unpark_one(self.key(Reason::NotEmpty), |_| 0);
        }
        if let Err(panic) = pushed {
            resume_unwind(panic);
        }
        Ok(())
    }

    /// The blocking part of a bounded put: `Some(error)` if it must fail.
    #[cold]
    fn wait_for_room<'a>(
        &'a self,
        mut g: Locked<'a, T>,
        limit: Limit,
    ) -> (Locked<'a, T>, Option<Error>) {
        let mut deadline = None;
        let mut spun = false;
        while g.items.len() >= self.maxsize {
            let d = limit.deadline(&mut deadline);
            if d.is_some_and(|d| d.has_passed()) {
                return (g, Some(FULL));
            }
            if !spun && !cfg!(loom) {
                spun = true;
                drop(g);
                self.spin_while(|len| len >= self.maxsize);
                g = self.locked();
                if g.shutdown {
                    return (g, Some(SHUT_DOWN));
                }
                continue;
            }
            let (g2, res) = self.wait(g, Reason::NotFull, d);
            g = g2;
            if res == ParkResult::Interrupted {
                return (g, Some(Error::INTERRUPTED));
            }
            if g.shutdown {
                return (g, Some(SHUT_DOWN));
            }
        }
        (g, None)
    }

    /// `get(block, timeout)`; `timeout` `None` waits without bound.
    ///
    /// Checks, in CPython's order: shut down and empty (`RT_ESHUTDOWN`: after a shutdown the
    /// items left are still returned); non-blocking: `RT_EEMPTY` if empty (the timeout is not
    /// read); blocking: the timeout (NaN, negative, too large, even if items are there), then
    /// the wait for an item (`RT_EEMPTY` when it runs out, `RT_ESHUTDOWN` if the queue is shut
    /// down and still empty, `RT_EINTR` if interrupted). Wakes one waiting putter.
    #[inline]
    pub fn get(&self, block: bool, timeout: Option<f64>) -> Result<T, Error> {
        if let Some(r) = &self.ring {
            return self.ring_get(r, block, timeout);
        }
        self.get_locked(block, timeout)
    }

    /// `get` on every queue but a bounded FIFO: under the internal lock.
    #[inline(never)]
    fn get_locked(&self, block: bool, timeout: Option<f64>) -> Result<T, Error> {
        let mut g = self.locked();
        if g.shutdown && g.items.is_empty() {
            return Err(SHUT_DOWN);
        }
        if block {
            let limit = read_timeout(timeout)?;
            if g.items.is_empty() {
                g = self.wait_for_item(g, limit)?;
            }
        }
        let Some(item) = g.items.pop(self.cmp.as_ref()) else {
            return Err(EMPTY);
        };
        let wake = g.putters > 0;
        if wake {
            self.bump(Reason::NotFull);
        }
        drop(g);
        if wake {
            wait::unpark_one(self.key(Reason::NotFull), |_| 0);
        }
        Ok(item)
    }

    /// The blocking part of a get: returns with the lock held and an item present.
    #[cold]
    fn wait_for_item<'a>(
        &'a self,
        mut g: Locked<'a, T>,
        limit: Limit,
    ) -> Result<Locked<'a, T>, Error> {
        let mut deadline = None;
        let mut spun = false;
        while g.items.is_empty() {
            let d = limit.deadline(&mut deadline);
            if d.is_some_and(|d| d.has_passed()) {
                return Err(EMPTY);
            }
            if !spun && !cfg!(loom) {
                spun = true;
                drop(g);
                self.spin_while(|len| len == 0);
                g = self.locked();
                if g.shutdown && g.items.is_empty() {
                    return Err(SHUT_DOWN);
                }
                continue;
            }
            let (g2, res) = self.wait(g, Reason::NotEmpty, d);
            g = g2;
            if res == ParkResult::Interrupted {
                return Err(Error::INTERRUPTED);
            }
            if g.shutdown && g.items.is_empty() {
                return Err(SHUT_DOWN);
            }
        }
        Ok(g)
    }

    /// `qsize()`: the number of items (a snapshot).
    pub fn qsize(&self) -> usize {
        match &self.ring {
            Some(r) => r.len(),
            None => self.locked().items.len(),
        }
    }

    /// `empty()`: no items (a snapshot).
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// `full()`: bounded and holding `maxsize` items (a snapshot). Never for an unbounded queue.
    pub fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// `unfinished_tasks`: items put and not yet marked done (0 for a SimpleQueue).
    pub fn unfinished_tasks(&self) -> usize {
        let g = self.locked();
        self.unfinished(&g)
    }

    /// `is_shutdown` (false for a SimpleQueue, which cannot be shut down).
    pub fn is_shutdown(&self) -> bool {
        match &self.ring {
            Some(r) => r.is_shut(),
            None => self.locked().shutdown,
        }
    }

    /// `task_done()`: one task less; at zero, every `join` returns. `RT_EOVERRELEASE` ("task_done()
    /// called too many times") when none is unfinished.
    pub fn task_done(&self) -> Result<(), Error> {
        if self.kind == QueueKind::Simple {
            return Err(SIMPLE_NO_TASK_DONE);
        }
        let mut g = self.locked();
        let unfinished = self.unfinished(&g);
        if unfinished == 0 {
            return Err(TOO_MANY_TASK_DONE);
        }
        if self.ring.is_some() {
            g.done += 1;
        } else {
            g.unfinished -= 1;
        }
        // With a ring, puts may add tasks meanwhile (without the lock): a joiner woken then
        // finds tasks again and waits again, as in CPython.
        let wake = unfinished == 1 && g.joiners > 0;
        if wake {
            self.bump(Reason::AllDone);
        }
        drop(g);
        if wake {
            wait::unpark_all(self.key(Reason::AllDone), 0);
        }
        Ok(())
    }

    /// `join()`, with an optional bound: returns when no task is unfinished (at once if none
    /// is), `RT_TIMEOUT` if the time ran out first, `RT_EINTR` if interrupted. Never fails
    /// because of a shutdown. The timeout is validated first, as for `get`.
    pub fn join(&self, timeout: Option<f64>) -> Result<(), Error> {
        if self.kind == QueueKind::Simple {
            return Err(SIMPLE_NO_JOIN);
        }
        let limit = read_timeout(timeout)?;
        let mut g = self.locked();
        let mut deadline = None;
        while self.unfinished(&g) != 0 {
            let d = limit.deadline(&mut deadline);
            if d.is_some_and(|d| d.has_passed()) {
                return Err(Error::TIMEOUT);
            }
            let (g2, res) = self.wait(g, Reason::AllDone, d);
            g = g2;
            if res == ParkResult::Interrupted {
                return Err(Error::INTERRUPTED);
            }
        }
        Ok(())
    }

    /// `shutdown(immediate)` (3.13): from now on `put` fails with `RT_ESHUTDOWN`, and `get` once
    /// the queue is empty; every thread blocked in `put` or `get` wakes to see it. With
    /// `immediate`, the items are removed at once (returned, for the caller to dispose of
    /// outside any lock), each counts as a finished task (never below zero), and `join`ers wake
    /// if that leaves no task unfinished. Repeatable; there is no way back.
    pub fn shutdown(&self, immediate: bool) -> Result<Drained<T>, Error> {
        if self.kind == QueueKind::Simple {
            return Err(SIMPLE_NO_SHUTDOWN);
        }
        let mut g = self.locked();
        g.shutdown = true;
        let ring = self.ring.as_ref();
        if let Some(r) = ring {
            // From here on no put can claim a slot.
            r.shut();
        }
        let drained = if immediate {
            let items = match ring {
                Some(r) => Items::Ring(r.take_all()),
                None => g.items.take(),
            };
            if ring.is_some() {
                // No put adds a task any more: the count is stable.
                let credit = items.len().min(self.unfinished(&g));
                g.done += credit;
            } else {
                g.unfinished = g.unfinished.saturating_sub(items.len());
            }
            Drained::new(items)
        } else {
            Drained::none()
        };
        // A ring's waiters count themselves without the lock; `shut` and these loads pair
        // with their count-then-check (see `ring_wait`).
        let ring_waiting = |f: fn(&ring::Waiters) -> &AtomicUsize| {
            ring.is_some_and(|r| f(r.waiters()).load(Ordering::SeqCst) > 0)
        };
        let wake_getters = g.getters > 0 || ring_waiting(|w| &w.getters);
        let wake_putters = g.putters > 0 || ring_waiting(|w| &w.putters);
        let wake_joiners = g.joiners > 0 && self.unfinished(&g) == 0;
        for (wake, r) in [
            (wake_getters, Reason::NotEmpty),
            (wake_putters, Reason::NotFull),
            (wake_joiners, Reason::AllDone),
        ] {
            if wake {
                self.bump(r);
            }
        }
        drop(g);
        for (wake, r) in [
            (wake_getters, Reason::NotEmpty),
            (wake_putters, Reason::NotFull),
            (wake_joiners, Reason::AllDone),
        ] {
            if wake {
                wait::unpark_all(self.key(r), 0);
            }
        }
        Ok(drained)
    }

    /// Takes every item out (for a queue about to be destroyed, whose owner disposes of them).
    pub fn drain(&mut self) -> Drained<T> {
        if let Some(r) = &self.ring {
            return Drained::new(Items::Ring(r.take_all()));
        }
        Drained::new(self.state.get_mut().items.take())
    }

    /// Threads counted as waiting, for every reason (tests).
    #[cfg(all(test, not(loom)))]
    fn waiting_threads(&self) -> usize {
        let ring = self.ring.as_ref().map_or(0, |r| {
            let w = r.waiters();
            w.getters.load(Ordering::SeqCst) + w.putters.load(Ordering::SeqCst)
        });
        let g = self.locked();
        g.getters + g.putters + g.joiners + ring
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::time::{Duration, Instant};

    fn drain_gets<T: Send>(q: &Queue<T>) -> Vec<T> {
        std::iter::from_fn(|| q.get(false, None).ok()).collect()
    }

    #[test]
    fn orders_of_the_three_kinds() {
        let f = Queue::fifo(0).unwrap();
        let l = Queue::lifo(3).unwrap();
        let p = Queue::priority(0).unwrap();
        for v in [3, 1, 2] {
            f.put(v, true, None).unwrap();
            l.put(v, true, None).unwrap();
            p.put(v, true, None).unwrap();
        }
        assert_eq!(drain_gets(&f), [3, 1, 2]);
        assert_eq!(drain_gets(&l), [2, 1, 3]);
        assert_eq!(drain_gets(&p), [1, 2, 3]);
    }

    #[test]
    fn equal_priorities_leave_in_fifo_order() {
        let p = Queue::priority_by(0, |a: &(u32, u32), b: &(u32, u32)| a.0.cmp(&b.0)).unwrap();
        let input: Vec<(u32, u32)> = (0..200).map(|i| ((i * 7) % 5, i)).collect();
        for &v in &input {
            p.put(v, false, None).unwrap();
        }
        let out = drain_gets(&p);
        let mut want = input.clone();
        want.sort_by_key(|&(prio, _)| prio); // a stable sort: FIFO among equals
        assert_eq!(out, want);
    }

    #[test]
    fn a_panicking_comparator_leaves_the_item_queued_and_counted() {
        let q = Queue::priority_by(0, |a: &i32, b: &i32| {
            assert!(*a != 13 && *b != 13, "unlucky");
            a.cmp(b)
        })
        .unwrap();
        q.put(1, true, None).unwrap();
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| q.put(13, true, None)));
        assert!(r.is_err());
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.unfinished_tasks(), 2);
        q.put(2, true, None).unwrap_or_else(|_| unreachable!());
    }

    #[test]
    fn bounded_queue_reports_full_and_returns_the_item() {
        let q = Queue::fifo(2).unwrap();
        q.put("a", false, None).unwrap();
        q.put("b", false, None).unwrap();
        assert!(q.full());
        assert_eq!(
            q.put("c", false, None),
            Err(PutError {
                error: FULL,
                item: "c"
            })
        );
        let t0 = Instant::now();
        assert_eq!(q.put("c", true, Some(0.05)).unwrap_err().error, FULL);
        assert!(t0.elapsed() >= Duration::from_millis(50));
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.unfinished_tasks(), 2);
    }

    #[test]
    fn timeout_rules_follow_cpython() {
        let q: Queue<u8> = Queue::fifo(1).unwrap();
        assert_eq!(q.get(false, Some(-5.0)), Err(EMPTY));
        assert_eq!(q.get(false, Some(f64::NAN)), Err(EMPTY));
        assert_eq!(q.get(true, Some(-5.0)), Err(NEGATIVE_TIMEOUT));
        assert_eq!(q.get(true, Some(f64::NAN)), Err(NAN_TIMEOUT));
        assert_eq!(q.get(true, Some(f64::INFINITY)), Err(TIMEOUT_OVERFLOW));
        assert_eq!(q.get(true, Some(f64::NEG_INFINITY)), Err(NEGATIVE_TIMEOUT));
        assert_eq!(q.get(true, Some(0.0)), Err(EMPTY));
        assert_eq!(
            q.put(1, true, Some(-1.0)).unwrap_err().error,
            NEGATIVE_TIMEOUT
        );
        q.put(1, false, Some(f64::NAN)).unwrap();
        // A blocking get reads the timeout even when an item is there.
        assert_eq!(q.get(true, Some(-1.0)), Err(NEGATIVE_TIMEOUT));
        assert_eq!(q.get(true, Some(TIMEOUT_MAX)), Ok(1));
        // An unbounded queue never reads put's timeout.
        let u: Queue<u8> = Queue::fifo(0).unwrap();
        u.put(1, true, Some(f64::NAN)).unwrap();
        u.put(2, true, Some(-3.0)).unwrap();
        assert_eq!(u.qsize(), 2);
    }

    #[test]
    fn shutdown_order_of_checks() {
        let q = Queue::fifo(1).unwrap();
        q.put(1, true, None).unwrap();
        q.shutdown(false).unwrap().for_each(drop);
        assert_eq!(q.put(2, false, None).unwrap_err().error, SHUT_DOWN);
        assert_eq!(q.put(2, true, Some(-1.0)).unwrap_err().error, SHUT_DOWN);
        assert_eq!(q.get(true, Some(-1.0)), Err(NEGATIVE_TIMEOUT));
        assert_eq!(q.get(true, None), Ok(1));
        assert_eq!(q.get(false, None), Err(SHUT_DOWN));
        assert_eq!(q.get(true, Some(-1.0)), Err(SHUT_DOWN));
        assert!(q.is_shutdown());
        assert_eq!(q.join(Some(0.0)), Err(Error::TIMEOUT));
        q.task_done().unwrap();
        assert_eq!(q.join(None), Ok(()));
        assert_eq!(q.task_done(), Err(TOO_MANY_TASK_DONE));
    }

    #[test]
    fn immediate_shutdown_drains_and_finishes_tasks() {
        let q = Queue::lifo(0).unwrap();
        for v in 0..5 {
            q.put(v, true, None).unwrap();
        }
        assert_eq!(q.get(true, None), Ok(4));
        let drained: Vec<i32> = q.shutdown(true).unwrap().collect();
        assert_eq!(drained, [3, 2, 1, 0]);
        assert_eq!(q.unfinished_tasks(), 1); // the item gotten is still a task
        assert_eq!(q.qsize(), 0);
        assert_eq!(q.get(false, None), Err(SHUT_DOWN));
        q.task_done().unwrap();
        q.join(None).unwrap();
        assert_eq!(q.shutdown(true).unwrap().len(), 0);
    }

    #[test]
    fn simple_queue_has_no_tasks() {
        let q = Queue::simple();
        q.put(1, true, Some(f64::NAN)).unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.task_done(), Err(SIMPLE_NO_TASK_DONE));
        assert_eq!(q.join(None), Err(SIMPLE_NO_JOIN));
        assert!(q.shutdown(false).is_err());
        assert!(!q.full());
        assert_eq!(q.get(true, Some(-2.0)), Err(NEGATIVE_TIMEOUT));
        assert_eq!(q.get(true, None), Ok(1));
    }

    #[test]
    fn interrupt_ends_a_blocked_get() {
        let q: Queue<u8> = Queue::fifo(0).unwrap();
        wait::with_current(|r| r.interrupt());
        assert_eq!(q.get(true, None), Err(Error::INTERRUPTED));
        // Consumed: the next wait is an ordinary one.
        assert_eq!(q.get(true, Some(0.01)), Err(EMPTY));
    }

    #[test]
    fn interrupt_ends_a_blocked_put_from_another_thread() {
        let q = Arc::new(Queue::fifo(1).unwrap());
        q.put(0u32, true, None).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let q2 = q.clone();
        let t = std::thread::spawn(move || {
            tx.send(wait::current_record().unwrap()).unwrap();
            q2.put(1, true, None).map_err(|e| e.error)
        });
        let rec = rx.recv().unwrap();
        while q.waiting_threads() == 0 {
            std::thread::yield_now();
        }
        rec.interrupt();
        assert_eq!(t.join().unwrap(), Err(Error::INTERRUPTED));
        assert_eq!(q.qsize(), 1);
    }

    #[test]
    fn producers_and_consumers_deliver_everything_once() {
        const N: usize = 40_000;
        let q = Arc::new(Queue::fifo(16).unwrap());
        let seen: Arc<Vec<StdAtomicUsize>> = Arc::new((0..N).map(|_| 0.into()).collect());
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    for i in (p..N).step_by(2) {
                        q.put(i, true, None).unwrap();
                    }
                })
            })
            .collect();
        let mut ts = Vec::new();
        for _ in 0..3 {
            let (q, seen) = (q.clone(), seen.clone());
            ts.push(std::thread::spawn(move || {
                // Short timeouts on purpose: waiters time out while wake-ups are in flight.
                loop {
                    match q.get(true, Some(0.0005)) {
                        Ok(i) => {
                            seen[i].fetch_add(1, Ordering::Relaxed);
                            q.task_done().unwrap();
                        }
                        Err(e) if e == EMPTY => {}
                        Err(e) => {
                            assert_eq!(e, SHUT_DOWN);
                            return;
                        }
                    }
                }
            }));
        }
        for p in producers {
            p.join().unwrap();
        }
        q.join(None).unwrap();
        q.shutdown(false).unwrap().for_each(drop);
        for t in ts {
            t.join().unwrap();
        }
        assert!(seen.iter().all(|s| s.load(Ordering::Relaxed) == 1));
    }

    /// The lock-free ring under races with an immediate shutdown, for small capacities (many
    /// laps): every item put comes out exactly once (from a get or the drain), every refused
    /// put hands its item back, and the task count matches.
    #[test]
    fn ring_races_with_immediate_shutdown_lose_nothing() {
        for cap in [1, 2, 3] {
            const N: usize = 20_000;
            let q = Arc::new(Queue::fifo(cap).unwrap());
            let seen: Arc<Vec<StdAtomicUsize>> = Arc::new((0..N).map(|_| 0.into()).collect());
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let (q, seen) = (q.clone(), seen.clone());
                    std::thread::spawn(move || {
                        for i in (p..N).step_by(2) {
                            match q.put(i, true, None) {
                                Ok(()) => {}
                                Err(e) => {
                                    assert_eq!(e.error, SHUT_DOWN);
                                    seen[e.item].fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let (q, seen) = (q.clone(), seen.clone());
                    std::thread::spawn(move || {
                        let mut got = 0;
                        while let Ok(i) = q.get(true, None) {
                            seen[i].fetch_add(1, Ordering::Relaxed);
                            got += 1;
                        }
                        got
                    })
                })
                .collect();
            while seen
                .iter()
                .filter(|s| s.load(Ordering::Relaxed) > 0)
                .count()
                < N / 4
            {
                std::thread::yield_now();
            }
            let drained = q.shutdown(true).unwrap();
            let n_drained = drained.len();
            for i in drained {
                seen[i].fetch_add(1, Ordering::Relaxed);
            }
            for p in producers {
                p.join().unwrap();
            }
            let got: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
            assert!(
                seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
                "cap {cap}"
            );
            // Items got are unfinished until task_done; drained ones count as done.
            assert_eq!(q.unfinished_tasks(), got, "cap {cap} (drained {n_drained})");
            assert_eq!(q.qsize(), 0);
        }
    }

    #[test]
    fn shutdown_wakes_blocked_getters_putters_and_joiners() {
        let full = Arc::new(Queue::fifo(1).unwrap());
        full.put(0, true, None).unwrap();
        let empty: Arc<Queue<i32>> = Arc::new(Queue::fifo(1).unwrap());
        let f2 = full.clone();
        let e2 = empty.clone();
        let putter = std::thread::spawn(move || f2.put(1, true, None).map_err(|e| e.error));
        let getter = std::thread::spawn(move || e2.get(true, None));
        let f3 = full.clone();
        let joiner = std::thread::spawn(move || f3.join(None));
        let waiting = |q: &Queue<i32>| q.waiting_threads();
        while waiting(&full) < 2 || waiting(&empty) < 1 {
            std::thread::yield_now();
        }
        assert_eq!(full.shutdown(true).unwrap().collect::<Vec<_>>(), [0]);
        empty.shutdown(false).unwrap().for_each(drop);
        assert_eq!(putter.join().unwrap(), Err(SHUT_DOWN));
        assert_eq!(getter.join().unwrap(), Err(SHUT_DOWN));
        assert_eq!(joiner.join().unwrap(), Ok(()));
    }
}
