//! The store of every queue but a bounded FIFO: its items (see `items`) behind a short internal
//! lock (a [`LockCell`]) that is never held while a thread sleeps or while user code runs, with
//! one documented exception: a priority queue's comparator orders items under it.
//!
//! A bounded LIFO or priority queue reserves room for `maxsize` items at creation: a put or a
//! get allocates nothing. Unbounded queues grow by doubling.

use super::QueueKind;
use super::items::{Compare, Drained, Items};
use super::{Pop, Push};
use crate::status::Error;
use crate::wait::{
    LockCell, SpinWait,
    sys::{AtomicBool, AtomicUsize, Ordering},
};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

pub(super) struct Locked<T> {
    items: LockCell<Items<T>>,
    /// Items ever put (wrapping): the task counter's other half (see `tasks`). Written under
    /// the lock.
    puts: AtomicUsize,
    /// Written under the lock, read without it by a put's first check.
    shut: AtomicBool,
    /// The number of items as of the last change (each made under the lock): a hint read
    /// without the lock by a thread spinning before it waits, never a basis for a decision.
    len_hint: AtomicUsize,
    maxsize: usize,
    cmp: Option<Compare<T>>,
}

impl<T> Locked<T> {
    pub(super) fn new(
        kind: QueueKind,
        maxsize: usize,
        cmp: Option<Compare<T>>,
    ) -> Result<Locked<T>, Error> {
        Ok(Locked {
            items: LockCell::new(Items::new(kind, maxsize)?),
            puts: AtomicUsize::new(0),
            shut: AtomicBool::new(false),
            len_hint: AtomicUsize::new(0),
            maxsize,
            cmp,
        })
    }

    /// Keeps the hint exact: called under the lock after each change.
    fn changed(&self, items: &Items<T>) {
        self.len_hint.store(items.len(), Ordering::Relaxed);
    }

    /// A put: `claimed` is the blocking protocol's step b, under the lock after the change.
    #[inline(never)]
    pub(super) fn push(&self, item: T, claimed: impl FnOnce()) -> Push<T> {
        let mut g = self.items.lock();
        if self.shut.load(Ordering::Relaxed) {
            return Push::ShutDown(item);
        }
        if self.maxsize > 0 && g.len() >= self.maxsize {
            return Push::Full(item);
        }
        if g.reserve_one().is_err() {
            return Push::NoMemory(item);
        }
        // Only a (Rust) comparator can panic here, after the item is in the heap: count it and
        // let the getters know all the same, then let the panic go on.
        let pushed = catch_unwind(AssertUnwindSafe(|| g.push(item, self.cmp.as_ref())));
        let puts = self.puts.load(Ordering::Relaxed);
        self.puts.store(puts.wrapping_add(1), Ordering::Relaxed);
        // The blocking protocol's step b, ordered after the change by the lock (see `blocking`).
        claimed();
        self.changed(&g);
        drop(g);
        if let Err(panic) = pushed {
            resume_unwind(panic);
        }
        Push::Done
    }

    /// A get: `claimed` as for [`Locked::push`].
    #[inline(never)]
    pub(super) fn pop(&self, claimed: impl FnOnce()) -> Pop<T> {
        let mut g = self.items.lock();
        match g.pop(self.cmp.as_ref()) {
            Some(item) => {
                claimed();
                self.changed(&g);
                Pop::Item(item)
            }
            None if self.shut.load(Ordering::Relaxed) => Pop::ShutDown,
            None => Pop::Empty,
        }
    }

    pub(super) fn must_wait_for_item(&self) -> bool {
        let g = self.items.lock();
        g.is_empty() && !self.shut.load(Ordering::Relaxed)
    }

    pub(super) fn must_wait_for_room(&self) -> bool {
        let g = self.items.lock();
        self.maxsize > 0 && g.len() >= self.maxsize && !self.shut.load(Ordering::Relaxed)
    }

    /// Spins, then yields, for a few microseconds at most while `blocked(len_hint)` holds.
    ///
    /// A getter that finds the queue empty (a putter that finds it full) calls this once, with
    /// the lock dropped, before it waits: when the other side is running, the item (the room)
    /// usually comes within a few hundred nanoseconds, and then neither side pays for a park
    /// and a futex wake-up (the ping-pong of wake-ups that makes a mutex+condvar queue slow).
    /// It decides nothing: the caller tries again.
    #[cold]
    fn spin_while(&self, blocked: impl Fn(usize) -> bool) {
        SpinWait::snooze_while(|| blocked(self.len_hint.load(Ordering::Relaxed)));
    }

    pub(super) fn spin_while_empty(&self) {
        self.spin_while(|len| len == 0);
    }

    pub(super) fn spin_while_full(&self) {
        self.spin_while(|len| len >= self.maxsize);
    }

    pub(super) fn len(&self) -> usize {
        self.items.lock().len()
    }

    /// From now on no put succeeds (under the lock: the blocking protocol's step a).
    pub(super) fn shut(&self) {
        let _g = self.items.lock();
        self.shut.store(true, Ordering::SeqCst);
    }

    pub(super) fn is_shut(&self) -> bool {
        self.shut.load(Ordering::SeqCst)
    }

    pub(super) fn puts(&self) -> usize {
        self.puts.load(Ordering::SeqCst)
    }

    pub(super) fn take_all(&self) -> Drained<T> {
        let mut g = self.items.lock();
        let items = g.take();
        self.changed(&g);
        Drained::new(items)
    }

    pub(super) fn drain(&mut self) -> Drained<T> {
        Drained::new(self.items.get_mut().take())
    }

    pub(super) fn try_lock_for_fork(&self) -> bool {
        self.items.try_lock_for_fork()
    }

    pub(super) fn unlock_after_fork(&self) {
        // SAFETY: called by the fork handler after `try_lock_for_fork` took the lock.
        unsafe { self.items.unlock_after_fork() }
    }

    /// In a fork child, whose one thread holds the lock since the prepare step: the items are
    /// consistent; the lock is made new.
    pub(super) fn reset_in_child(&self) {
        // SAFETY: the fork child has one thread, this one, and no guard of the cell.
        let items = unsafe { self.items.reset_in_child() };
        self.len_hint.store(items.len(), Ordering::Relaxed);
    }
}
