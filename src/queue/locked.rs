//! The store of every queue but a bounded FIFO: its items (see `items`) behind a short internal
//! [`Lock`] that is never held while a thread sleeps or while user code runs, with one
//! documented exception: a priority queue's comparator orders items under it.
//!
//! A bounded LIFO or priority queue reserves room for `maxsize` items at creation: a put or a
//! get allocates nothing. Unbounded queues grow by doubling.
//!
//! The internal lock is a [`Lock`], whose waits are interruptible; an internal section must
//! not fail, so an interrupt that arrives while a thread waits for the internal lock is put
//! back once the lock is held: the caller's next real wait (usually the very next step) ends
//! with `RT_EINTR`.

use super::QueueKind;
use super::items::{Compare, Drained, Items};
use super::store::{Pop, Push};
use crate::status::Error;
use crate::sync::Lock;
use crate::time::Wait;
use crate::wait::{
    self,
    sys::{AtomicBool, AtomicUsize, Ordering, fence},
};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

pub(super) struct Locked<T> {
    lock: Lock,
    items: UnsafeCell<Items<T>>,
    /// Items ever put (wrapping): the task counter's other half (see `tasks`). Written under
    /// the lock.
    puts: AtomicUsize,
    /// Written under the lock, read without it by a put's first check.
    shut: AtomicBool,
    /// The number of items as of the last release of the internal lock: a hint read without
    /// the lock by a thread spinning before it waits, never a basis for a decision.
    len_hint: AtomicUsize,
    maxsize: usize,
    cmp: Option<Compare<T>>,
}

// SAFETY: the items are only touched with the internal lock held (through `Guard`) or through
// `&mut self`; items move between threads, hence `T: Send`. The comparator is Send + Sync.
unsafe impl<T: Send> Sync for Locked<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Locked<T> {}

/// The internal lock, held; gives access to the items and releases the lock when dropped.
struct Guard<'a, T> {
    s: &'a Locked<T>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = Items<T>;
    fn deref(&self) -> &Items<T> {
        // SAFETY: the internal lock is held while this guard lives.
        unsafe { &*self.s.items.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut Items<T> {
        // SAFETY: the internal lock is held while this guard lives, and the guard is unique.
        unsafe { &mut *self.s.items.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        // A plain store to the line the lock release writes anyway: every change to the items
        // happens under the lock, so the hint is exact at each release.
        self.s.len_hint.store(self.len(), Ordering::Relaxed);
        // Cannot fail: we hold the lock.
        let _ = self.s.lock.release();
    }
}

impl<T> Locked<T> {
    pub(super) fn new(
        kind: QueueKind,
        maxsize: usize,
        cmp: Option<Compare<T>>,
    ) -> Result<Locked<T>, Error> {
        Ok(Locked {
            lock: Lock::new(),
            items: UnsafeCell::new(Items::new(kind, maxsize)?),
            puts: AtomicUsize::new(0),
            shut: AtomicBool::new(false),
            len_hint: AtomicUsize::new(0),
            maxsize,
            cmp,
        })
    }

    /// Takes the internal lock. Its wait must not fail, so an interrupt that arrives meanwhile
    /// is put back for the caller's next wait (see the module comment).
    #[inline]
    fn locked(&self) -> Guard<'_, T> {
        if self.lock.acquire(Wait::Forever).is_err() {
            self.relock_after_interrupt();
        }
        Guard { s: self }
    }

    #[cold]
    fn relock_after_interrupt(&self) {
        while self.lock.acquire(Wait::Forever).is_err() {}
        wait::with_current(|r| r.interrupt());
    }

    /// A put: `claimed` is the blocking protocol's step b, after the change and its fence.
    #[inline(never)]
    pub(super) fn push(&self, item: T, claimed: impl FnOnce()) -> Push<T> {
        let mut g = self.locked();
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
        // The blocking protocol's step a: the change is plain writes (see `blocking`).
        fence(Ordering::SeqCst);
        claimed();
        drop(g);
        if let Err(panic) = pushed {
            resume_unwind(panic);
        }
        Push::Done
    }

    /// A get: `claimed` as for [`Locked::push`].
    #[inline(never)]
    pub(super) fn pop(&self, claimed: impl FnOnce()) -> Pop<T> {
        let mut g = self.locked();
        match g.pop(self.cmp.as_ref()) {
            Some(item) => {
                fence(Ordering::SeqCst);
                claimed();
                Pop::Item(item)
            }
            None if self.shut.load(Ordering::Relaxed) => Pop::ShutDown,
            None => Pop::Empty,
        }
    }

    pub(super) fn must_wait_for_item(&self) -> bool {
        let g = self.locked();
        g.is_empty() && !self.shut.load(Ordering::Relaxed)
    }

    pub(super) fn must_wait_for_room(&self) -> bool {
        let g = self.locked();
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

    pub(super) fn spin_while_empty(&self) {
        self.spin_while(|len| len == 0);
    }

    pub(super) fn spin_while_full(&self) {
        self.spin_while(|len| len >= self.maxsize);
    }

    pub(super) fn len(&self) -> usize {
        self.locked().len()
    }

    /// From now on no put succeeds (a `SeqCst` store: the blocking protocol's step a).
    pub(super) fn shut(&self) {
        let _g = self.locked();
        self.shut.store(true, Ordering::SeqCst);
    }

    pub(super) fn is_shut(&self) -> bool {
        self.shut.load(Ordering::SeqCst)
    }

    pub(super) fn puts(&self) -> usize {
        self.puts.load(Ordering::SeqCst)
    }

    pub(super) fn take_all(&self) -> Drained<T> {
        Drained::new(self.locked().take())
    }

    pub(super) fn drain(&mut self) -> Drained<T> {
        Drained::new(self.items.get_mut().take())
    }

    pub(super) fn try_lock_for_fork(&self) -> bool {
        self.lock.try_acquire()
    }

    pub(super) fn unlock_after_fork(&self) {
        let _ = self.lock.release();
    }

    /// In a fork child, whose one thread holds the lock since the prepare step: the items are
    /// consistent; the lock is made new.
    pub(super) fn reset_in_child(&self) {
        // SAFETY: the child has one thread, this one, which holds the internal lock.
        let len = unsafe { &*self.items.get() }.len();
        self.len_hint.store(len, Ordering::Relaxed);
        self.lock.reset();
    }
}
