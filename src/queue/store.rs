//! Where a queue keeps its items: one enum, the lock-free ring of a bounded FIFO or the locked
//! items of every other kind, and the outcomes of a put and a get on either.
//!
//! Both stores make a put's or a get's change in a way the blocking protocol can pair with a
//! waiter's count (a `SeqCst` claim, or plain writes under the lock under which waiters check),
//! and call the protocol's step b (`claimed`) after the change and before it is published.

use super::blocking::Reason;
use super::items::{Compare, Drained, Items};
use super::locked::Locked;
use super::ring::Ring;
use super::{Pop, Push, Queue, QueueKind};
use crate::status::Error;

// One per queue, made once and never moved: boxing the ring would cost its puts and gets a
// pointer chase.
#[allow(clippy::large_enum_variant)]
pub(super) enum Store<T> {
    /// A bounded FIFO: puts and gets take no lock.
    Ring(Ring<T>),
    /// A LIFO, a priority queue, an unbounded FIFO or a SimpleQueue.
    Locked(Locked<T>),
}

impl<T: Send> Store<T> {
    pub(super) fn new(
        kind: QueueKind,
        maxsize: usize,
        cmp: Option<Compare<T>>,
    ) -> Result<Store<T>, Error> {
        Ok(if kind == QueueKind::Fifo && maxsize > 0 {
            Store::Ring(Ring::new(maxsize).ok_or(Error::NO_MEMORY)?)
        } else {
            Store::Locked(Locked::new(kind, maxsize, cmp)?)
        })
    }

    #[inline]
    pub(super) fn push(&self, item: T, claimed: impl FnOnce()) -> Push<T> {
        match self {
            Store::Ring(r) => r.push(item, claimed),
            Store::Locked(l) => l.push(item, claimed),
        }
    }

    #[inline]
    pub(super) fn pop(&self, claimed: impl FnOnce()) -> Pop<T> {
        match self {
            Store::Ring(r) => r.pop(claimed),
            Store::Locked(l) => l.pop(claimed),
        }
    }

    /// The blocking protocol's step 3 for `r`: empty (a getter) or full (a putter), and not
    /// shut down.
    pub(super) fn must_wait(&self, r: Reason) -> bool {
        match (self, r) {
            (Store::Ring(s), Reason::NotEmpty) => s.must_wait_for_item(),
            (Store::Ring(s), Reason::NotFull) => s.must_wait_for_room(),
            (Store::Locked(s), Reason::NotEmpty) => s.must_wait_for_item(),
            (Store::Locked(s), Reason::NotFull) => s.must_wait_for_room(),
            (_, Reason::AllDone) => false,
        }
    }

    /// Backs off for a few microseconds at most while the store looks empty (a getter, `r`
    /// `NotEmpty`) or full (a putter): done once before a wait, it decides nothing.
    #[cold]
    pub(super) fn spin_while_blocked(&self, r: Reason) {
        match (self, r) {
            (Store::Ring(s), Reason::NotEmpty) => s.spin_while(Ring::is_empty_hint),
            (Store::Ring(s), Reason::NotFull) => s.spin_while(Ring::too_full_hint),
            (Store::Locked(s), Reason::NotEmpty) => s.spin_while_empty(),
            (Store::Locked(s), Reason::NotFull) => s.spin_while_full(),
            (_, Reason::AllDone) => {}
        }
    }

    /// The number of items (a snapshot).
    pub(super) fn len(&self) -> usize {
        match self {
            Store::Ring(r) => r.len(),
            Store::Locked(l) => l.len(),
        }
    }

    /// From now on no put succeeds (the blocking protocol's step a, as a put's change).
    pub(super) fn shut(&self) {
        match self {
            Store::Ring(r) => {
                r.shut();
            }
            Store::Locked(l) => l.shut(),
        }
    }

    pub(super) fn is_shut(&self) -> bool {
        match self {
            Store::Ring(r) => r.is_shut(),
            Store::Locked(l) => l.is_shut(),
        }
    }

    /// Items ever put (wrapping; see `Ring::puts` for the ring's wrap).
    pub(super) fn puts(&self) -> usize {
        match self {
            Store::Ring(r) => r.puts(),
            Store::Locked(l) => l.puts(),
        }
    }

    /// Takes every item out (gets that race with it take some first).
    pub(super) fn take_all(&self) -> Drained<T> {
        match self {
            Store::Ring(r) => Drained::new(Items::Deque(r.take_all())),
            Store::Locked(l) => l.take_all(),
        }
    }

    /// Takes every item out of a store about to be destroyed.
    pub(super) fn drain(&mut self) -> Drained<T> {
        match self {
            Store::Ring(r) => Drained::new(Items::Deque(r.take_all())),
            Store::Locked(l) => l.drain(),
        }
    }

    /// The fork handler's prepare step (see `wait::fork`): no thread is inside the locked
    /// store at the fork. The ring needs no lock: its child repairs it.
    pub(super) fn try_lock_for_fork(&self) -> bool {
        match self {
            Store::Ring(_) => true,
            Store::Locked(l) => l.try_lock_for_fork(),
        }
    }

    pub(super) fn unlock_after_fork(&self) {
        if let Store::Locked(l) = self {
            l.unlock_after_fork();
        }
    }

    /// In the fork child: repairs what the threads that vanished left half-done.
    pub(super) fn reset_in_child(&self) {
        match self {
            Store::Ring(r) => r.repair_after_fork(),
            Store::Locked(l) => l.reset_in_child(),
        }
    }
}

/// The fork child's repair (see `wait::fork`): the prepare step takes the locked store's
/// internal lock, so at the fork no thread was inside it; the child forgets the threads that
/// vanished while counted as waiters and repairs the store. The items stay.
impl<T: Send> crate::wait::fork::ForkSafe for Queue<T> {
    fn try_lock_for_fork(&self) -> bool {
        self.store.try_lock_for_fork()
    }

    fn unlock_after_fork(&self) {
        self.store.unlock_after_fork();
    }

    fn reset_in_child(&self) {
        self.blocking.0.reset_after_fork();
        self.store.reset_in_child();
    }
}
