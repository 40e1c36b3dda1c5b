//! The wait table: wait queues keyed by address, in a fixed array of buckets.
//!
//! A key is the address of the word a primitive parks on. Its bucket (a hash of the key) holds
//! one FIFO queue of thread records, linked through the records themselves, behind a
//! [`WordLock`]: waiting allocates nothing. Several keys may share a bucket; every walk skips
//! the records whose `key` is another.
//!
//! Invariants:
//! - A record is in at most one queue, with `queued` true, exactly while PARKED is set and no
//!   unparker has detached it. Only an unparker, holding the bucket lock, sets `queued` false.
//! - An unparker writes the unpark token, then clears PARKED (release); the sleeper reads the
//!   token after seeing PARKED clear (acquire). After clearing PARKED the unparker touches the
//!   record no more, except for the futex wake, which does not dereference it.
//!
//! The table has a fixed number of buckets (no allocation, ever), each padded to a cache line.
//! After `fork` the child empties every queue and unlocks every bucket: all the threads in them
//! are gone. The design follows parking_lot_core and CPython 3.13's Python/parking_lot.c.

use super::record::{PARKED, SLEEPING, ThreadRecord};
use super::sys::Ordering;
use super::word_lock::WordLock;
use std::cell::Cell;
use std::ptr;

/// A value an unparker hands to the thread it wakes (e.g. "the lock is yours").
pub type UnparkToken = usize;

/// How long a waiter waits before unparkers should hand it the resource directly.
pub const FAIR_AFTER_NS: u64 = 1_000_000;

/// Whether a thread queued since `parked_at` has waited long enough to be treated fairly.
#[cfg(not(loom))]
pub(super) fn waited_long_enough(parked_at: u64) -> bool {
    crate::time::now_ns().saturating_sub(parked_at) >= FAIR_AFTER_NS
}

/// Under loom time does not exist: a model chooses fairness with [`loom_set_fair`], so both
/// the hand-off and the competing paths are explored deterministically.
#[cfg(loom)]
pub(super) fn waited_long_enough(_parked_at: u64) -> bool {
    LOOM_FAIR.load(Ordering::Relaxed)
}

#[cfg(loom)]
loom::lazy_static! {
    static ref LOOM_FAIR: super::sys::AtomicBool = super::sys::AtomicBool::new(false);
}

/// Makes every unpark in the current loom model fair (or not).
#[cfg(loom)]
pub fn loom_set_fair(fair: bool) {
    LOOM_FAIR.store(fair, Ordering::Relaxed);
}

#[repr(align(64))]
pub(super) struct Bucket {
    pub(super) lock: WordLock,
    head: Cell<*const ThreadRecord>,
    tail: Cell<*const ThreadRecord>,
}

// SAFETY: `head` and `tail` are only touched with `lock` held.
unsafe impl Sync for Bucket {}

impl Bucket {
    #[cfg(not(loom))]
    const fn new() -> Bucket {
        Bucket {
            lock: WordLock::new(),
            head: Cell::new(ptr::null()),
            tail: Cell::new(ptr::null()),
        }
    }

    #[cfg(loom)]
    fn new() -> Bucket {
        Bucket {
            lock: WordLock::new(),
            head: Cell::new(ptr::null()),
            tail: Cell::new(ptr::null()),
        }
    }

    /// Appends `rec` to the queue. The bucket lock is held.
    pub(super) fn push_back(&self, rec: &ThreadRecord) {
        rec.next.set(ptr::null());
        rec.queued.set(true);
        let tail = self.tail.get();
        if tail.is_null() {
            self.head.set(rec);
        } else {
            // SAFETY: records in the queue are alive (their threads sleep in `park`), and we
            // hold the bucket lock.
            unsafe { (*tail).next.set(rec) };
        }
        self.tail.set(rec);
    }

    /// Puts `rec` at the head of the queue (a thread that waits again after a wake-up that did
    /// not end its wait). The bucket lock is held.
    pub(super) fn push_front(&self, rec: &ThreadRecord) {
        rec.queued.set(true);
        let head = self.head.get();
        rec.next.set(head);
        if head.is_null() {
            self.tail.set(rec);
        }
        self.head.set(rec);
    }

    /// Calls `f` on every queued record in order, until it says [`Walk::Stop`]. With
    /// [`Walk::Unlink`] the record leaves the queue; `f` may already have put it on a list of
    /// its own (its `next` link is the list's from then on). The bucket lock is held.
    pub(super) fn walk(&self, mut f: impl FnMut(&ThreadRecord) -> Walk) {
        let mut prev: *const ThreadRecord = ptr::null();
        let mut cur = self.head.get();
        while !cur.is_null() {
            // SAFETY: queued records are alive; the bucket lock is held.
            let rec = unsafe { &*cur };
            let next = rec.next.get();
            match f(rec) {
                Walk::Next => prev = cur,
                Walk::Unlink => self.unlink(prev, rec, next),
                Walk::Stop => return,
            }
            cur = next;
        }
    }

    /// Unlinks `cur`, whose predecessor is `prev` (null if it is the head) and successor `next`.
    fn unlink(&self, prev: *const ThreadRecord, cur: &ThreadRecord, next: *const ThreadRecord) {
        if prev.is_null() {
            self.head.set(next);
        } else {
            // SAFETY: `prev` is a queued record, alive; the bucket lock is held.
            unsafe { (*prev).next.set(next) };
        }
        if ptr::eq(self.tail.get(), cur) {
            self.tail.set(prev);
        }
    }

    /// How many queued records wait on `key`, counting at most `limit`.
    pub(super) fn count_key(&self, key: usize, limit: usize) -> usize {
        let mut n = 0;
        self.walk(|r| {
            if r.key.load(Ordering::Relaxed) == key {
                n += 1;
                if n == limit {
                    return Walk::Stop;
                }
            }
            Walk::Next
        });
        n
    }

    /// True if a queued record waits on `key`.
    pub(super) fn has_key(&self, key: usize) -> bool {
        self.count_key(key, 1) != 0
    }
}

/// What [`Bucket::walk`] does after visiting a record.
pub(super) enum Walk {
    Next,
    Unlink,
    Stop,
}

#[cfg(not(loom))]
const BUCKETS: usize = 1024;
// Under loom, one bucket: keys are addresses, which differ from one execution of a model to the
// next, so hashing them would make the models nondeterministic.
#[cfg(loom)]
const BUCKETS: usize = 1;

#[cfg(not(loom))]
static TABLE: [Bucket; BUCKETS] = [const { Bucket::new() }; BUCKETS];

#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: [Bucket; BUCKETS] = [Bucket::new()];
}

#[cfg(loom)]
#[inline]
pub(super) fn bucket(_key: usize) -> &'static Bucket {
    &TABLE[0]
}

#[cfg(not(loom))]
#[inline]
pub(super) fn bucket(key: usize) -> &'static Bucket {
    let h = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BUCKETS.trailing_zeros());
    &TABLE[h as usize]
}

/// Locks the bucket that `rec` is queued in; its key may change under us by a requeue.
pub(super) fn lock_bucket_of(rec: &ThreadRecord) -> (&'static Bucket, usize) {
    loop {
        let key = rec.key.load(Ordering::Relaxed);
        let b = bucket(key);
        b.lock.lock();
        if rec.key.load(Ordering::Relaxed) == key {
            return (b, key);
        }
        b.lock.unlock();
    }
}

/// Locks the buckets of two keys in address order (once if they share one).
pub(super) fn lock_two(a: usize, b: usize) -> (&'static Bucket, &'static Bucket) {
    let ba = bucket(a);
    let bb = bucket(b);
    if ptr::eq(ba, bb) {
        ba.lock.lock();
    } else if (ba as *const Bucket) < (bb as *const Bucket) {
        ba.lock.lock();
        bb.lock.lock();
    } else {
        bb.lock.lock();
        ba.lock.lock();
    }
    (ba, bb)
}

pub(super) fn unlock_two(ba: &Bucket, bb: &Bucket) {
    ba.lock.unlock();
    if !ptr::eq(ba, bb) {
        bb.lock.unlock();
    }
}

/// Detached records, chained through `next`, in order.
pub(super) struct RecordList {
    head: *const ThreadRecord,
    tail: *const ThreadRecord,
}

impl RecordList {
    pub(super) fn new() -> RecordList {
        RecordList {
            head: ptr::null(),
            tail: ptr::null(),
        }
    }

    pub(super) fn push(&mut self, rec: &ThreadRecord) {
        rec.next.set(ptr::null());
        if self.tail.is_null() {
            self.head = rec;
        } else {
            // SAFETY: records on the list are detached but still PARKED, so alive and ours.
            unsafe { (*self.tail).next.set(rec) };
        }
        self.tail = rec;
    }

    /// Appends every record, in order, to `b`'s queue (whose lock is held).
    pub(super) fn requeue_into(self, b: &Bucket) {
        let mut cur = self.head;
        while !cur.is_null() {
            // SAFETY: as in `push`; the bucket lock is held.
            let rec = unsafe { &*cur };
            let next = rec.next.get();
            b.push_back(rec);
            cur = next;
        }
    }

    /// Hands `token` to every record and wakes it. Call with no bucket lock held.
    pub(super) fn wake_all(self, token: UnparkToken) {
        let mut cur = self.head;
        while !cur.is_null() {
            // SAFETY: a detached record stays alive until we clear PARKED; we read everything we
            // need from it before that.
            let rec = unsafe { &*cur };
            let next = rec.next.get();
            rec.unpark_token.set(token);
            let word = &rec.state as *const _;
            let was = rec.state.fetch_and(!(PARKED | SLEEPING), Ordering::Release);
            // A thread still spinning (SLEEPING not announced) sees PARKED clear by itself.
            if was & SLEEPING != 0 {
                super::sys::futex_wake(word, 1);
            }
            cur = next;
        }
    }
}

/// How many threads are queued on `key` (for `RT_EBUSY` checks and tests; a snapshot).
pub fn waiting_on(key: usize) -> usize {
    let b = bucket(key);
    b.lock.lock();
    let n = b.count_key(key, usize::MAX);
    b.lock.unlock();
    n
}

/// Empties the table in a fork child: every queued thread belongs to the parent.
#[cfg(not(loom))]
pub fn reset_after_fork() {
    for b in &TABLE {
        b.lock.reset();
        b.head.set(ptr::null());
        b.tail.set(ptr::null());
    }
}
