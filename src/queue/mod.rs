//! The `queue` module: `Queue` (FIFO), `LifoQueue`, `PriorityQueue` and `SimpleQueue`, with
//! `task_done`, `join` and 3.13's `shutdown`. This file holds Python's semantics: which check
//! comes first, which status each call returns. The rest, one idea a file:
//!
//! - [`store`]: where the items are, one enum: the lock-free [`ring`] of a bounded FIFO, or
//!   the [`locked`] items (a deque, a stack or a heap: [`items`]) of every other kind;
//! - [`blocking`]: the one protocol by which getters, putters and joiners wait and are woken
//!   (count the waiter, check, park), with its ordering argument and its loom model;
//! - [`tasks`]: the count of unfinished tasks behind `task_done` and `join`.
//!
//! A put or get that finds its store ready makes its change and wakes one waiter if the
//! protocol says one waits; otherwise, if it may block, it spins a few microseconds once
//! (the other side is often about to act), then waits by the protocol and tries again.
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

mod blocking;
mod items;
mod locked;
pub(crate) mod ring;
mod store;
mod tasks;
#[cfg(all(test, not(loom)))]
mod tests;

pub use items::Drained;

use crate::debug::annotate;
use crate::status::Error;
use crate::status::rt_status::{RT_EEMPTY, RT_EFULL, RT_EINVAL, RT_EOVERRELEASE, RT_ESHUTDOWN};
use crate::wait::ParkResult;
use blocking::{Blocking, Limit, Patience, Reason, Wake};
use ring::Padded;
use std::cmp::Ordering as CmpOrdering;
use store::Store;
use tasks::Tasks;

/// `queue.Full`.
pub const FULL: Error = Error::new(RT_EFULL, "queue is full");
/// `queue.Empty`.
pub const EMPTY: Error = Error::new(RT_EEMPTY, "queue is empty");
/// `queue.ShutDown`.
pub const SHUT_DOWN: Error = Error::new(RT_ESHUTDOWN, "queue is shut down");
/// `ValueError` from `task_done`.
pub const TOO_MANY_TASK_DONE: Error =
    Error::new(RT_EOVERRELEASE, "task_done() called too many times");
/// `ValueError` for a negative timeout (the Queue's own wording).
pub const NEGATIVE_TIMEOUT: Error =
    Error::new(RT_EINVAL, "'timeout' must be a non-negative number");
/// `ValueError` for a NaN timeout (CPython's Queue spins instead; its SimpleQueue says this).
pub const NAN_TIMEOUT: Error = crate::time::NAN;
/// `OverflowError` for a timeout above `TIMEOUT_MAX`.
pub const TIMEOUT_OVERFLOW: Error = crate::time::OVERFLOW;
/// CPython's `AttributeError` for what a SimpleQueue lacks (task tracking and shutdown).
macro_rules! simple_queue_has_no {
    ($attr:literal) => {
        Error::new(
            RT_EINVAL,
            concat!("'_queue.SimpleQueue' object has no attribute '", $attr, "'"),
        )
    };
}
/// `AttributeError`: a SimpleQueue has no task tracking.
pub const SIMPLE_NO_TASK_DONE: Error = simple_queue_has_no!("task_done");
/// `AttributeError`: a SimpleQueue cannot be joined.
pub const SIMPLE_NO_JOIN: Error = simple_queue_has_no!("join");
/// `AttributeError`: a SimpleQueue cannot be shut down.
pub const SIMPLE_NO_SHUTDOWN: Error = simple_queue_has_no!("shutdown");

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

/// What a put found.
pub(crate) enum Push<T> {
    Done,
    Full(T),
    ShutDown(T),
    /// An unbounded queue could not grow.
    NoMemory(T),
}

/// What a get found.
pub(crate) enum Pop<T> {
    Item(T),
    Empty,
    /// Empty and shut down.
    ShutDown,
}

fn refused<T>(error: Error, item: T) -> Result<(), PutError<T>> {
    Err(PutError { error, item })
}

/// A thread-safe queue with Python's semantics; see the module comment.
pub struct Queue<T> {
    store: Store<T>,
    /// Read by every put and get, written only around waits: a line of its own.
    blocking: Padded<Blocking>,
    tasks: Tasks,
    kind: QueueKind,
    maxsize: usize,
}

impl<T: Send> Queue<T> {
    fn with(
        kind: QueueKind,
        maxsize: usize,
        cmp: Option<items::Compare<T>>,
    ) -> Result<Self, Error> {
        Ok(Queue {
            store: Store::new(kind, maxsize, cmp)?,
            blocking: Padded(Blocking::new()),
            tasks: Tasks::new(),
            kind,
            maxsize,
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
        let cmp: items::Compare<T> = crate::memory::try_box(cmp)?;
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
        match Queue::with(QueueKind::Simple, 0, None) {
            Ok(q) => q,
            Err(_) => unreachable!("an unbounded queue reserves nothing"),
        }
    }

    pub fn kind(&self) -> QueueKind {
        self.kind
    }

    /// The bound given at creation; 0 for an unbounded queue.
    pub fn maxsize(&self) -> usize {
        self.maxsize
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
        if self.store.is_shut() {
            return refused(SHUT_DOWN, item);
        }
        let limit = if block && self.maxsize > 0 {
            match Limit::read(timeout) {
                Ok(l) => Some(l),
                Err(error) => return refused(error, item),
            }
        } else {
            None
        };
        let (mut item, mut patience) = (item, Patience::new(limit));
        annotate::released(self);
        loop {
            let mut wake = Wake::new(&self.blocking.0, Reason::NotEmpty);
            item = match self.store.push(item, || wake.claimed()) {
                Push::Done => return Ok(()),
                Push::Full(item) => item,
                Push::ShutDown(item) => return refused(SHUT_DOWN, item),
                Push::NoMemory(item) => return refused(Error::NO_MEMORY, item),
            };
            if let Err(error) = self.wait_for(Reason::NotFull, &mut patience, FULL) {
                return refused(error, item);
            }
        }
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
        // With a valid timeout, the pop below makes the "shut down and empty" check itself
        // (on a ring, without reading the tail's cache line on every get).
        let limit = if block {
            match Limit::read(timeout) {
                Ok(l) => Some(l),
                Err(_) if self.store.is_shut() && self.store.len() == 0 => return Err(SHUT_DOWN),
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let mut patience = Patience::new(limit);
        loop {
            let mut wake = Wake::new(&self.blocking.0, Reason::NotFull);
            match self.store.pop(|| wake.claimed()) {
                Pop::Item(item) => {
                    annotate::acquired(self);
                    return Ok(item);
                }
                Pop::ShutDown => return Err(SHUT_DOWN),
                Pop::Empty => {}
            }
            self.wait_for(Reason::NotEmpty, &mut patience, EMPTY)?;
        }
    }

    /// `qsize()`: the number of items (a snapshot).
    pub fn qsize(&self) -> usize {
        self.store.len()
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
        match self.kind {
            QueueKind::Simple => 0,
            _ => self.tasks.unfinished(|| self.store.puts()),
        }
    }

    /// `is_shutdown` (false for a SimpleQueue, which cannot be shut down).
    pub fn is_shutdown(&self) -> bool {
        self.store.is_shut()
    }

    /// `task_done()`: one task less; at zero, every `join` returns. `RT_EOVERRELEASE` ("task_done()
    /// called too many times") when none is unfinished.
    pub fn task_done(&self) -> Result<(), Error> {
        if self.kind == QueueKind::Simple {
            return Err(SIMPLE_NO_TASK_DONE);
        }
        annotate::released(&self.tasks);
        if self.tasks.task_done(|| self.store.puts())? {
            self.blocking.0.notify_all(Reason::AllDone);
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
        let limit = Limit::read(timeout)?;
        let mut deadline = None;
        while self.unfinished_tasks() != 0 {
            let d = limit.deadline(&mut deadline).map_err(|()| Error::TIMEOUT)?;
            let res = self
                .blocking
                .0
                .wait(Reason::AllDone, d, || self.unfinished_tasks() != 0);
            if res == ParkResult::Interrupted {
                return Err(Error::INTERRUPTED);
            }
        }
        annotate::acquired(&self.tasks);
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
        self.store.shut();
        let drained = if immediate {
            let items = self.store.take_all();
            // No put adds a task any more: the count only falls.
            self.tasks.removed(items.len(), || self.store.puts());
            items
        } else {
            Drained::none()
        };
        self.blocking.0.notify_all(Reason::NotEmpty);
        self.blocking.0.notify_all(Reason::NotFull);
        if self.unfinished_tasks() == 0 {
            self.blocking.0.notify_all(Reason::AllDone);
        }
        Ok(drained)
    }

    /// Takes every item out (for a queue about to be destroyed, whose owner disposes of them).
    pub fn drain(&mut self) -> Drained<T> {
        self.store.drain()
    }
}
