//! How a thread backs off on the ring before it waits, while the other side is likely to make
//! the item or the room within microseconds (the back-off itself is `wait::SpinWait`'s).

use super::Ring;
use crate::wait::SpinWait;
use crate::wait::sys::Ordering;

impl<T> Ring<T> {
    /// Spins, then yields, for a few microseconds at most while `blocked()` holds: a thread
    /// that found the ring empty (full) does this once before it waits (see `store`).
    pub(in crate::queue) fn spin_while(&self, blocked: impl Fn(&Self) -> bool) {
        // Back off before each look, not only between looks: resuming the moment one slot frees
        // (or one item comes) would keep both sides on the same cache line of slots, item after
        // item; waiting a little lets the other side get ahead by a few lines.
        SpinWait::snooze_while(|| blocked(self));
    }

    /// True while the slot at the head holds no item: a getter's spin reads this slot's line,
    /// which the next put writes anyway, rather than the tail, which every put writes (a
    /// reader spinning on the tail would make each put fetch that line back).
    pub(crate) fn head_empty_hint(&self) -> bool {
        let head = self.head.0.load(Ordering::Relaxed);
        self.slot(head).stamp.load(Ordering::Relaxed) != head.wrapping_add(1)
    }

    pub(in crate::queue) fn is_empty_hint(&self) -> bool {
        self.tail.0.load(Ordering::Relaxed) & !self.shape.0.mark_bit
            == self.head.0.load(Ordering::Relaxed)
    }

    /// True while a put that found the ring full should keep backing off: until a few slots
    /// are free, not just one. A producer that refills each slot the moment a get frees it
    /// works on the very cache line the consumer reads, item after item (measured: one
    /// "full" per 30 items, and half the throughput); waiting for room (half the ring, up to 64
    /// slots: 16 cache lines) lets both sides run on their own lines again. A put only waits here after finding the ring
    /// full, and for a few microseconds at most.
    pub(in crate::queue) fn too_full_hint(&self) -> bool {
        let cap = self.shape.0.cap;
        let want = (cap / 2).clamp(1, 64);
        let tail = self.tail.0.load(Ordering::Relaxed);
        let head = self.head.0.load(Ordering::Relaxed);
        cap - self.count(head, tail) < want
    }
}
