//! The store of a bounded FIFO queue: a ring of slots that puts and gets claim without a lock.
//!
//! # Why
//! With a lock, every put and every get moves the lock's cache line to its core, and a
//! producer and a consumer running side by side pay that transfer on every item. In the ring a
//! put touches the tail and the slot it fills, a get the head and the slot it empties; when the
//! queue is neither empty nor full the two sides work on different cache lines, and a slot's
//! line moves once for several items. This is the array flavour of crossbeam-channel (Dmitry
//! Vyukov's bounded queue), which `std::sync::mpsc::sync_channel` also uses.
//!
//! # Positions and slot states
//! `head` and `tail` are positions: a slot index (below `cap`) plus a lap number in the bits
//! above `one_lap` (a power of two above `cap`); the bit between them, `mark_bit`, set in the
//! tail, means "shut down". Each slot has a stamp; for the slot that position `p` names:
//!
//! | stamp          | the slot is                         | next step, by whom                     |
//! |----------------|-------------------------------------|----------------------------------------|
//! | `p`            | free for the put at `p`             | a put claims `tail == p` (CAS), writes |
//! |                |                                     | the item, stores `p + 1` (release)     |
//! | `p`, tail > p  | claimed by a put, not yet published | that put stores `p + 1`                |
//! | `p + 1`        | holding the item put at `p`         | a get claims `head == p` (CAS), reads  |
//! |                |                                     | it, stores `p + one_lap` (release)     |
//! | `p + 1`, head > p | claimed by a get, not yet freed  | that get stores `p + one_lap`          |
//! | `p + one_lap`  | free for the put of the next lap    | as the first row, at `p + one_lap`     |
//!
//! - A put reads the tail; if its slot's stamp equals the tail, one compare-exchange claims
//!   it. If the stamp is one lap behind, the queue may be full: a fence and a look at the head
//!   decide.
//! - A get reads the head; if its slot's stamp equals `head + 1`, one compare-exchange claims
//!   the item. If the stamp equals the head, the queue may be empty: a fence and a look at the
//!   tail decide (empty and marked: shut down).
//! - Otherwise another thread is between its claim and its stamp: wait a moment (spin, then
//!   yield) and look again. Such a window is a few instructions long.
//!
//! The compare-exchanges on the head and tail are sequentially consistent: they are the
//! "change" step of the queue's blocking protocol (see `blocking`). The callback that
//! [`Ring::push`] and [`Ring::pop`] run between the claim and the stamp is where the queue
//! reads its waiter counts, so that the stamp store, which may let another thread free the
//! queue, is the operation's last access to the ring.
//!
//! Shutting down sets `mark_bit` in the tail: from then on no put can claim a slot, and gets
//! take what is left, then report the shutdown.

mod repair;
mod spin;
#[cfg(all(test, not(loom)))]
mod tests;

use super::{Pop, Push};
use crate::wait::SpinWait;
use crate::wait::sys::{AtomicUsize, Ordering, fence};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;

/// Keeps a hot atomic away from the others: 128 bytes, not 64, because Intel's spatial
/// prefetcher pulls cache lines in pairs (as crossbeam's `CachePadded` does on x86-64).
#[repr(align(128))]
pub(super) struct Padded<T>(pub(super) T);

struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

pub(crate) struct Ring<T> {
    head: Padded<AtomicUsize>,
    tail: Padded<AtomicUsize>,
    shape: Padded<Shape<T>>,
}

/// What every operation reads and nothing writes, away from any word that is written often,
/// so that it stays in every core's cache.
struct Shape<T> {
    slots: Box<[Slot<T>]>,
    cap: usize,
    mark_bit: usize,
    one_lap: usize,
}

// SAFETY: a slot's value is written only by the put that claimed it and read only by the get
// that claimed it, and the stamp (release/acquire) orders the write before the read; items
// move between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Ring<T> {}

/// A new atomic; under loom its first value is stored sequentially consistent, because loom
/// lets a `SeqCst` load read an initial value past a newer `SeqCst` store (loom's README: it
/// treats `SeqCst` accesses as `AcqRel`), which C11 forbids; a false alarm otherwise.
pub(super) fn seq_cst_atomic(v: usize) -> AtomicUsize {
    let a = AtomicUsize::new(v);
    #[cfg(loom)]
    a.store(v, Ordering::SeqCst);
    a
}

impl<T> Ring<T> {
    /// A ring for `cap` items (`cap` > 0); `None` if the memory cannot be had.
    pub(crate) fn new(cap: usize) -> Option<Ring<T>> {
        let mark_bit = cap.checked_add(1)?.checked_next_power_of_two()?;
        let one_lap = mark_bit.checked_mul(2)?;
        let mut slots = Vec::new();
        slots.try_reserve_exact(cap).ok()?;
        slots.extend((0..cap).map(|i| Slot {
            stamp: AtomicUsize::new(i),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        Some(Ring {
            head: Padded(seq_cst_atomic(0)),
            tail: Padded(seq_cst_atomic(0)),
            shape: Padded(Shape {
                slots: slots.into_boxed_slice(),
                cap,
                mark_bit,
                one_lap,
            }),
        })
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        let index = pos & (self.shape.0.mark_bit - 1);
        debug_assert!(index < self.shape.0.cap);
        // SAFETY: every position's index is below `cap` (it wraps to the next lap at `cap`).
        unsafe { self.shape.0.slots.get_unchecked(index) }
    }

    /// The position after `pos`.
    fn next(&self, pos: usize) -> usize {
        if (pos & (self.shape.0.mark_bit - 1)) + 1 < self.shape.0.cap {
            pos + 1
        } else {
            (pos & !(self.shape.0.one_lap - 1)).wrapping_add(self.shape.0.one_lap)
        }
    }

    /// Puts `item` at the tail. `claimed` runs after the slot is claimed and before the item
    /// is published (see the module comment).
    #[inline]
    pub(crate) fn push(&self, item: T, claimed: impl FnOnce()) -> Push<T> {
        let mut backoff = SpinWait::new();
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            if tail & self.shape.0.mark_bit != 0 {
                return Push::ShutDown(item);
            }
            let slot = self.slot(tail);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                match self.tail.0.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        claimed();
                        // SAFETY: this thread claimed the slot for this lap; no other thread
                        // reads or writes its value until the stamp says so.
                        unsafe { (*slot.value.get()).write(item) };
                        slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                        return Push::Done;
                    }
                    Err(now) => {
                        tail = now;
                        backoff.backoff();
                    }
                }
            } else if stamp.wrapping_add(self.shape.0.one_lap) == tail.wrapping_add(1) {
                // The slot still holds the previous lap's item: full, unless a get is just
                // taking it.
                fence(Ordering::SeqCst);
                let head = self.head.0.load(Ordering::Relaxed);
                if head.wrapping_add(self.shape.0.one_lap) == tail {
                    return Push::Full(item);
                }
                backoff.backoff();
                tail = self.tail.0.load(Ordering::Relaxed);
            } else {
                // Another put claimed this position and has not published it yet.
                backoff.snooze();
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the item at the head. `claimed` runs after the item is claimed and before its
    /// slot is handed back to the puts.
    #[inline]
    pub(crate) fn pop(&self, claimed: impl FnOnce()) -> Pop<T> {
        let mut backoff = SpinWait::new();
        let mut head = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(head);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head.wrapping_add(1) {
                match self.head.0.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        claimed();
                        // SAFETY: the stamp says a put published this slot for this lap, and
                        // this thread alone claimed it.
                        let item = unsafe { (*slot.value.get()).assume_init_read() };
                        slot.stamp
                            .store(head.wrapping_add(self.shape.0.one_lap), Ordering::Release);
                        return Pop::Item(item);
                    }
                    Err(now) => {
                        head = now;
                        backoff.backoff();
                    }
                }
            } else if stamp == head {
                // Not filled for this lap: empty, unless a put is just filling it.
                fence(Ordering::SeqCst);
                let tail = self.tail.0.load(Ordering::Relaxed);
                if tail & !self.shape.0.mark_bit == head {
                    return if tail & self.shape.0.mark_bit != 0 {
                        Pop::ShutDown
                    } else {
                        Pop::Empty
                    };
                }
                backoff.backoff();
                head = self.head.0.load(Ordering::Relaxed);
            } else {
                // Another get claimed this position, or a put claimed it and has not
                // published it yet.
                backoff.snooze();
                head = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// True if a get would find nothing and the ring is not shut: the check of a getter that
    /// counted itself (sequentially consistent, see `blocking`).
    pub(super) fn must_wait_for_item(&self) -> bool {
        let tail = self.tail.0.load(Ordering::SeqCst);
        tail & self.shape.0.mark_bit == 0 && tail == self.head.0.load(Ordering::SeqCst)
    }

    /// True if no item is in the ring and no put is between its claim and its stamp, shut or
    /// not (sequentially consistent loads, for a thread that announced itself before).
    pub(crate) fn is_empty(&self) -> bool {
        self.tail.0.load(Ordering::SeqCst) & !self.shape.0.mark_bit
            == self.head.0.load(Ordering::SeqCst)
    }

    /// True if a put would find no room and the ring is not shut (as above, for putters).
    pub(super) fn must_wait_for_room(&self) -> bool {
        let tail = self.tail.0.load(Ordering::SeqCst);
        let head = self.head.0.load(Ordering::SeqCst);
        tail & self.shape.0.mark_bit == 0 && head.wrapping_add(self.shape.0.one_lap) == tail
    }

    /// Shuts the ring: no put succeeds from now on (a sequentially consistent change).
    /// Returns true the first time.
    pub(crate) fn shut(&self) -> bool {
        self.tail
            .0
            .fetch_or(self.shape.0.mark_bit, Ordering::SeqCst)
            & self.shape.0.mark_bit
            == 0
    }

    pub(crate) fn is_shut(&self) -> bool {
        self.tail.0.load(Ordering::SeqCst) & self.shape.0.mark_bit != 0
    }

    /// How many items were ever put: the tail position counted in items.
    ///
    /// It wraps to 0 when the tail position overflows a `usize`, which happens after
    /// `2^64 / one_lap` laps, that is after `cap * 2^64 / one_lap` puts: between 2^62 (`cap` a
    /// power of two) and nearly 2^63 (`cap` one below a power of two) puts, not 2^64; about
    /// 146 years at 10^9 puts a second. The count of unfinished tasks is wrong after that.
    pub(super) fn puts(&self) -> usize {
        let tail = self.tail.0.load(Ordering::SeqCst);
        let laps = tail / self.shape.0.one_lap;
        laps.wrapping_mul(self.shape.0.cap)
            .wrapping_add(tail & (self.shape.0.mark_bit - 1))
    }

    /// The number of items (a snapshot).
    pub(super) fn len(&self) -> usize {
        loop {
            let tail = self.tail.0.load(Ordering::SeqCst);
            let head = self.head.0.load(Ordering::SeqCst);
            if self.tail.0.load(Ordering::SeqCst) != tail {
                continue;
            }
            return self.count(head, tail);
        }
    }

    /// The number of items between `head` and `tail` as loaded (`tail` may carry the mark bit).
    fn count(&self, head: usize, tail: usize) -> usize {
        let mask = self.shape.0.mark_bit - 1;
        let (hix, tix) = (head & mask, tail & mask);
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.shape.0.cap - hix + tix
        } else if tail & !self.shape.0.mark_bit == head {
            0
        } else {
            self.shape.0.cap
        }
    }
}
