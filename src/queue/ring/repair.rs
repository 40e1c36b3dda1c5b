//! The ring's repair in a fork child, and how its items leave it when the queue is shut down
//! at once or destroyed.

use super::{Pop, Ring};
use crate::wait::sys::Ordering;
use std::collections::VecDeque;

impl<T> Ring<T> {
    /// In a fork child (one thread, the only one touching the ring): repairs what the threads
    /// that vanished at the fork left half-done (the queue forgets them as waiters).
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
    pub(in crate::queue) fn repair_after_fork(&self) {
        let shape = &self.shape.0;
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
    pub(in crate::queue) fn take_all(&self) -> VecDeque<T> {
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
