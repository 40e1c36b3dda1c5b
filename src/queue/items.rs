//! The items of every queue but a bounded FIFO, in the layout of its kind: a deque (FIFO,
//! SimpleQueue), a stack (LIFO) or a binary min-heap (priority), each entry of which carries a
//! sequence number so that items that compare equal leave in the order they came. They live
//! behind the locked store's internal lock (see `locked`); a ring's items, drained, come here
//! as a deque.

use super::QueueKind;
use crate::status::Error;
use std::cmp::Ordering as CmpOrdering;
use std::collections::{VecDeque, vec_deque};

pub(super) type Compare<T> = Box<dyn Fn(&T, &T) -> CmpOrdering + Send + Sync>;

pub(super) struct Entry<T> {
    item: T,
    seq: u64,
}

/// The items, in the layout of the queue's kind.
pub(super) enum Items<T> {
    Deque(VecDeque<T>),
    Stack(Vec<T>),
    Heap { heap: Vec<Entry<T>>, next_seq: u64 },
}

impl<T> Items<T> {
    /// Empty items for a queue of `kind`, with room for `maxsize` (0: none yet) reserved now.
    pub(super) fn new(kind: QueueKind, maxsize: usize) -> Result<Items<T>, Error> {
        let no_memory = |_| Error::NO_MEMORY;
        Ok(match kind {
            QueueKind::Fifo | QueueKind::Simple => {
                let mut d = VecDeque::new();
                d.try_reserve_exact(maxsize).map_err(no_memory)?;
                Items::Deque(d)
            }
            QueueKind::Lifo => {
                let mut s = Vec::new();
                s.try_reserve_exact(maxsize).map_err(no_memory)?;
                Items::Stack(s)
            }
            QueueKind::Priority => {
                let mut heap = Vec::new();
                heap.try_reserve_exact(maxsize).map_err(no_memory)?;
                Items::Heap { heap, next_seq: 0 }
            }
        })
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Items::Deque(r) => r.len(),
            Items::Stack(s) => s.len(),
            Items::Heap { heap, .. } => heap.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for one more item, so that the next `push` cannot allocate: `RT_ENOMEM` if
    /// the allocator refuses (a bounded queue reserved its room when it was made).
    pub(super) fn reserve_one(&mut self) -> Result<(), Error> {
        match self {
            Items::Deque(r) => r.try_reserve(1),
            Items::Stack(s) => s.try_reserve(1),
            Items::Heap { heap, .. } => heap.try_reserve(1),
        }
        .map_err(|_| Error::NO_MEMORY)
    }

    pub(super) fn push(&mut self, item: T, cmp: Option<&Compare<T>>) {
        match self {
            Items::Deque(r) => r.push_back(item),
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

    pub(super) fn pop(&mut self, cmp: Option<&Compare<T>>) -> Option<T> {
        match self {
            Items::Deque(r) => r.pop_front(),
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
    pub(super) fn take(&mut self) -> Items<T> {
        let empty = match self {
            Items::Deque(_) => Items::Deque(VecDeque::new()),
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
    Deque(vec_deque::IntoIter<T>),
    Stack(std::iter::Rev<std::vec::IntoIter<T>>),
    Heap(std::vec::IntoIter<Entry<T>>),
}

impl<T> Drained<T> {
    pub(super) fn new(items: Items<T>) -> Drained<T> {
        let inner = match items {
            Items::Deque(r) => DrainedIter::Deque(r.into_iter()),
            Items::Stack(s) => DrainedIter::Stack(s.into_iter().rev()),
            Items::Heap { heap, .. } => DrainedIter::Heap(heap.into_iter()),
        };
        Drained { inner }
    }

    pub(super) fn none() -> Drained<T> {
        Drained::new(Items::Stack(Vec::new()))
    }
}

impl<T> Iterator for Drained<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.inner {
            DrainedIter::Deque(i) => i.next(),
            DrainedIter::Stack(i) => i.next(),
            DrainedIter::Heap(i) => i.next().map(|e| e.item),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            DrainedIter::Deque(i) => i.size_hint(),
            DrainedIter::Stack(i) => i.size_hint(),
            DrainedIter::Heap(i) => i.size_hint(),
        }
    }
}

impl<T> ExactSizeIterator for Drained<T> {}
