//! The items of a bounded FIFO queue: a ring of slots that puts and gets claim without the
//! queue's internal lock.
//!
//! # Why
//! With a lock, every put and every get moves the lock's cache line to its core, and a
//! producer and a consumer running side by side pay that transfer on every item. In the ring a
//! put touches the tail and the slot it fills, a get the head and the slot it empties; when the
//! queue is neither empty nor full the two sides work on different cache lines, and a slot's
//! line moves once for several items. This is the array flavour of crossbeam-channel (Dmitry
//! Vyukov's bounded queue), which `std::sync::mpsc::sync_channel` also uses.
//!
//! # The algorithm
//! `head` and `tail` are positions: a slot index (below `cap`) plus a lap number in the bits
//! above `one_lap` (a power of two above `cap`); the bit between them, `mark_bit`, set in the
//! tail, means "shut down". Each slot has a stamp: `position + 1` once a put has filled it for
//! that position, `position + one_lap` once a get has emptied it (ready for the next lap).
//! - A put reads the tail; if the tail's slot's stamp equals the tail, the slot is free for
//!   this lap and one compare-exchange on the tail claims it; the put writes the item, then
//!   the stamp `tail + 1` (release): that store publishes the item. If the stamp is one lap
//!   behind, the queue may be full: a fence and a look at the head decide.
//! - A get reads the head; if the head's slot's stamp equals `head + 1`, one compare-exchange
//!   on the head claims the item; the get reads it, then stores the stamp `head + one_lap`
//!   (release), which hands the slot to the put of the next lap. If the stamp equals the head,
//!   the queue may be empty: a fence and a look at the tail decide (empty and marked: shut
//!   down).
//! - Otherwise another thread is between its claim and its stamp: wait a moment (spin, then
//!   yield) and look again. Such a window is a few instructions long.
//!
//! The compare-exchanges on the head and tail are sequentially consistent, so that the queue
//! can pair them with its waiter counts (Dekker's pattern: a put claims, then reads the getters'
//! count; a getter counts itself, then reads the tail: at least one of them sees the other).
//! The callback that [`Ring::push`] and [`Ring::pop`] run between the claim and the stamp is
//! where the queue makes that check, so that the stamp store, which may let another thread
//! free the queue, is the operation's last access to the ring.
//!
//! Shutting down sets `mark_bit` in the tail: from then on no put can claim a slot, and gets
//! take what is left, then report the shutdown.

use crate::wait::sys::{AtomicUsize, Ordering, fence, spin_hint, yield_now};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::mem::MaybeUninit;

/// Keeps a hot atomic away from the others: 128 bytes, not 64, because Intel's spatial
/// prefetcher pulls cache lines in pairs (as crossbeam's `CachePadded` does on x86-64). It makes
/// a queue 896 bytes instead of 512.
#[repr(align(128))]
struct Padded<T>(T);

struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// What a put found.
pub(crate) enum Push<T> {
    Done,
    Full(T),
    ShutDown(T),
}

/// What a get found.
pub(crate) enum Pop<T> {
    Item(T),
    Empty,
    /// Empty and shut down.
    ShutDown,
}

/// The threads that wait for an item or for room, counted by the queue (read by every put and
/// get, written only by threads about to wait).
pub(crate) struct Waiters {
    pub(crate) getters: AtomicUsize,
    pub(crate) putters: AtomicUsize,
}

pub(crate) struct Ring<T> {
    head: Padded<AtomicUsize>,
    tail: Padded<AtomicUsize>,
    shape: Padded<Shape<T>>,
}

/// What every operation reads and (almost) nothing writes, away from any word that is written
/// often (the handle's busy count, the internal lock), so that it stays in every core's cache.
struct Shape<T> {
    /// Written only by threads about to wait, or done waiting.
    waiters: Waiters,
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

/// A short exponential back-off for the windows where another thread is mid-operation.
struct Backoff(u32);

impl Backoff {
    fn spin(&mut self) {
        for _ in 0..1u32 << self.0.min(6) {
            spin_hint();
        }
        self.0 = self.0.saturating_add(1);
    }

    /// Spins at first, then yields: the thread we wait for may have been preempted.
    fn snooze(&mut self) {
        if self.0 <= 6 {
            self.spin();
        } else {
            yield_now();
            self.0 = self.0.saturating_add(1);
        }
    }
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
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            shape: Padded(Shape {
                waiters: Waiters {
                    getters: AtomicUsize::new(0),
                    putters: AtomicUsize::new(0),
                },
                slots: slots.into_boxed_slice(),
                cap,
                mark_bit,
                one_lap,
            }),
        })
    }

    pub(crate) fn waiters(&self) -> &Waiters {
        &self.shape.0.waiters
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
        let mut backoff = Backoff(0);
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
                        backoff.spin();
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
                backoff.spin();
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
        let mut backoff = Backoff(0);
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
                        backoff.spin();
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
                backoff.spin();
                head = self.head.0.load(Ordering::Relaxed);
            } else {
                // Another get claimed this position, or a put claimed it and has not
                // published it yet.
                backoff.snooze();
                head = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// True if a get would find nothing and the queue is not shut down: the check a getter
    /// makes after counting itself, before it parks (sequentially consistent, see above).
    pub(crate) fn must_wait_for_item(&self) -> bool {
        let tail = self.tail.0.load(Ordering::SeqCst);
        tail & self.shape.0.mark_bit == 0 && tail == self.head.0.load(Ordering::SeqCst)
    }

    /// True if a put would find no room and the queue is not shut down (as above, for putters).
    pub(crate) fn must_wait_for_room(&self) -> bool {
        let tail = self.tail.0.load(Ordering::SeqCst);
        tail & self.shape.0.mark_bit == 0
            && self
                .head
                .0
                .load(Ordering::SeqCst)
                .wrapping_add(self.shape.0.one_lap)
                == tail
    }

    /// Shuts the ring: no put succeeds from now on. Returns true the first time.
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

    /// How many items were ever put: the tail position counted in items. (It counts from 0 and
    /// would wrap after 2^64 puts.)
    pub(crate) fn puts(&self) -> usize {
        let tail = self.tail.0.load(Ordering::SeqCst);
        let laps = tail / self.shape.0.one_lap;
        laps.wrapping_mul(self.shape.0.cap)
            .wrapping_add(tail & (self.shape.0.mark_bit - 1))
    }

    /// The number of items (a snapshot).
    pub(crate) fn len(&self) -> usize {
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

    /// Spins, then yields, for a few microseconds at most while `blocked()` holds (see
    /// `Queue::spin_while`).
    pub(crate) fn spin_while(&self, blocked: impl Fn(&Self) -> bool) {
        let mut backoff = Backoff(0);
        loop {
            // Back off before each look, not only between looks: resuming the moment one slot
            // frees (or one item comes) would keep both sides on the same cache line of slots,
            // item after item; waiting a little lets the other side get ahead by a few lines.
            backoff.snooze();
            if backoff.0 >= 10 || !blocked(self) {
                return;
            }
        }
    }

    pub(crate) fn is_empty_hint(&self) -> bool {
        self.tail.0.load(Ordering::Relaxed) & !self.shape.0.mark_bit
            == self.head.0.load(Ordering::Relaxed)
    }

    /// True while a put that found the ring full should keep backing off: until a few slots
    /// are free, not just one. A producer that refills each slot the moment a get frees it
    /// works on the very cache line the consumer reads, item after item (measured: one
    /// "full" per 30 items, and half the throughput); waiting for room (half the ring, up to 64
    /// slots: 16 cache lines) lets
    /// both sides run on their own lines again. A put only waits here after finding the ring
    /// full, and for a few microseconds at most.
    pub(crate) fn too_full_hint(&self) -> bool {
        let cap = self.shape.0.cap;
        let want = (cap / 2).clamp(1, 64);
        let tail = self.tail.0.load(Ordering::Relaxed);
        let head = self.head.0.load(Ordering::Relaxed);
        cap - self.count(head, tail) < want
    }

    /// In a fork child (one thread, the only one touching the ring): repairs what the threads
    /// that vanished at the fork left half-done, and forgets them as waiters.
    ///
    /// Between the head and the tail, a slot is either published (stamp `position + 1`) or
    /// claimed by a put that never published it (stamp `position`): such a put never returned,
    /// so its item is not in the queue; a get would wait for it forever. Behind the head, a
    /// slot may have been claimed by a get that never stamped it free for the next lap: its
    /// item left the queue (that get took it), but the next lap's put would wait forever. The
    /// repair keeps the published items in their order from the head, packed, and stamps every
    /// other slot free for the position at which the next put will reach it. The tail moves
    /// back by the number of unpublished claims, so the count of puts (and of unfinished
    /// tasks) no longer includes the puts that never happened. The shutdown mark is kept.
    pub(crate) fn repair_after_fork(&self) {
        let shape = &self.shape.0;
        shape.waiters.getters.store(0, Ordering::Relaxed);
        shape.waiters.putters.store(0, Ordering::Relaxed);
        let head = self.head.0.load(Ordering::Relaxed);
        let tail_word = self.tail.0.load(Ordering::Relaxed);
        let mark = tail_word & shape.mark_bit;
        let tail = tail_word & !shape.mark_bit;
        let claimed = self.count(head, tail);
        let (mut read, mut write, mut kept) = (head, head, 0);
        for _ in 0..claimed {
            let from = self.slot(read);
            if from.stamp.load(Ordering::Relaxed) == read.wrapping_add(1) {
                if read != write {
                    // SAFETY: one thread; `from` holds a published item that moves to the
                    // earlier slot `write`, whose own item (if any) was moved or was never
                    // published; the two slots differ.
                    unsafe {
                        let item = (*from.value.get()).assume_init_read();
                        (*self.slot(write).value.get()).write(item);
                    }
                }
                self.slot(write)
                    .stamp
                    .store(write.wrapping_add(1), Ordering::Relaxed);
                write = self.next(write);
                kept += 1;
            }
            read = self.next(read);
        }
        // Every other slot is free: stamp it with the position at which a put reaches it next.
        let mut pos = write;
        for _ in kept..shape.cap {
            self.slot(pos).stamp.store(pos, Ordering::Relaxed);
            pos = self.next(pos);
        }
        self.tail.0.store(write | mark, Ordering::SeqCst);
    }

    /// Takes every item out, oldest first (gets that race with it take some first).
    pub(crate) fn take_all(&self) -> VecDeque<T> {
        let mut out = VecDeque::new();
        while let Pop::Item(item) = self.pop(|| {}) {
            out.push_back(item);
        }
        out
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        let head = self.head.0.load(Ordering::Relaxed);
        let len = self.len();
        let hix = head & (self.shape.0.mark_bit - 1);
        for i in 0..len {
            let index = (hix + i) % self.shape.0.cap;
            if let Some(slot) = self.shape.0.slots.get_mut(index) {
                // SAFETY: the slots from the head, `len` of them, hold published items that no
                // get took; nobody else can touch them (`&mut self`).
                unsafe { slot.value.get_mut().assume_init_drop() };
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_slot_of_a_c_item_is_16_bytes() {
        // Documented with rt_queue and in BENCHMARKS.md.
        assert!(std::mem::size_of::<Slot<*mut std::ffi::c_void>>() <= 16);
    }

    #[test]
    fn laps_wrap_and_count_puts() {
        for cap in [1, 2, 3, 5] {
            let r = Ring::new(cap).unwrap();
            let mut next = 0;
            for round in 0..4 * cap {
                for i in 0..cap {
                    assert!(matches!(r.push(round * cap + i, || {}), Push::Done));
                }
                assert!(matches!(r.push(usize::MAX, || {}), Push::Full(usize::MAX)));
                assert_eq!(r.len(), cap);
                for _ in 0..cap {
                    match r.pop(|| {}) {
                        Pop::Item(v) => assert_eq!(v, next),
                        _ => panic!("empty too soon"),
                    }
                    next += 1;
                }
                assert!(matches!(r.pop(|| {}), Pop::Empty));
                assert_eq!(r.puts(), (round + 1) * cap);
            }
            assert!(r.shut());
            assert!(matches!(r.push(0, || {}), Push::ShutDown(0)));
            assert!(matches!(r.pop(|| {}), Pop::ShutDown));
        }
    }

    /// A fork child's repair: a put that claimed a slot and vanished before publishing, and a
    /// get that claimed an item and vanished before freeing its slot, are forgotten; the
    /// published items keep their order; every slot works again.
    #[test]
    fn repair_after_fork_forgets_vanished_claims() {
        let r = Ring::new(4).unwrap();
        for v in [1, 2] {
            assert!(matches!(r.push(v, || {}), Push::Done));
        }
        // A get claims item 1 and vanishes: the head moves, the slot is never freed.
        let head = r.head.0.load(Ordering::Relaxed);
        r.head.0.store(r.next(head), Ordering::Relaxed);
        // A put claims the next slot and vanishes before publishing.
        let tail = r.tail.0.load(Ordering::Relaxed);
        r.tail.0.store(r.next(tail), Ordering::Relaxed);
        assert!(matches!(r.push(3, || {}), Push::Done));
        assert_eq!(r.puts(), 4);
        r.repair_after_fork();
        // The put that never returned is not counted; 2 and 3 are in the queue, in order.
        assert_eq!(r.puts(), 3);
        assert_eq!(r.len(), 2);
        // Without the repair, the get after 2 would wait forever for the unpublished slot, and
        // the put into the vanished get's slot for its stamp.
        for v in [4, 5] {
            assert!(matches!(r.push(v, || {}), Push::Done));
        }
        assert!(matches!(r.push(6, || {}), Push::Full(6)));
        for want in [2, 3, 4, 5] {
            assert!(matches!(r.pop(|| {}), Pop::Item(v) if v == want));
        }
        assert!(matches!(r.pop(|| {}), Pop::Empty));
        // And round the ring again, twice.
        for round in 0..2 {
            for v in 0..4 {
                assert!(matches!(r.push(round * 10 + v, || {}), Push::Done));
            }
            for v in 0..4 {
                assert!(matches!(r.pop(|| {}), Pop::Item(x) if x == round * 10 + v));
            }
        }
        // The shutdown mark survives a repair.
        assert!(r.shut());
        r.repair_after_fork();
        assert!(r.is_shut());
        assert!(matches!(r.pop(|| {}), Pop::ShutDown));
    }

    #[test]
    fn dropping_a_ring_drops_its_items() {
        let item = std::sync::Arc::new(());
        let r = Ring::new(3).unwrap();
        for _ in 0..2 {
            assert!(matches!(r.push(item.clone(), || {}), Push::Done));
        }
        drop(r);
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }
}
