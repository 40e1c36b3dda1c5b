//! The parking table: wait queues keyed by address.
//!
//! A primitive that must block picks a key (an address inside itself), and calls [`park`]:
//! under the lock of the key's bucket, `validate` re-checks that blocking is still right; if so
//! the thread joins the bucket's queue, the lock is dropped, `before_sleep` runs, and the thread
//! sleeps on its own parker word until an unparker takes it out of the queue, its deadline
//! passes, or it is interrupted. [`unpark_filter`] (and [`unpark_one`], [`unpark_all`]) take
//! threads out under the same bucket lock, let the primitive update its state in a callback
//! while the lock is still held, and wake them after dropping it. [`unpark_requeue`] moves
//! waiters from one key to another without waking them.
//!
//! Invariants:
//! - A record is in at most one queue, with `queued` true, exactly while PARKED is set and no
//!   unparker has detached it. Only an unparker, holding the bucket lock, sets `queued` false.
//! - An unparker writes the unpark token, then clears PARKED (release); the sleeper reads the
//!   token after seeing PARKED clear (acquire). After clearing PARKED the unparker touches the
//!   record no more, except for the futex wake, which does not dereference it.
//! - A sleeper that gives up (deadline or interrupt) takes its bucket lock: if it is still
//!   `queued` it removes itself and reports the timeout; if not, an unparker is about to clear
//!   PARKED, so it waits for that and reports the wake-up instead. "Woken" and "timed out" are
//!   decided under the bucket lock, once: a wake-up is never lost to a timeout.
//! - Callbacks run under a bucket lock: they must not block, park, or call user code.
//!
//! The table has a fixed number of buckets (no allocation, ever), each padded to a cache line.
//! After `fork` the child empties every queue and unlocks every bucket: all the threads in them
//! are gone. The design follows parking_lot_core and CPython 3.13's Python/parking_lot.c.

use super::record::{INTERRUPT, PARKED, ThreadRecord, with_current};
use super::sys::{Ordering, futex_wait};
use super::word_lock::WordLock;
use crate::time::{Deadline, now_ns};
use std::cell::Cell;
use std::ptr;

/// A value the parking thread leaves for unparkers to read (e.g. "I want 3 permits").
pub type ParkToken = usize;
/// A value an unparker hands to the thread it wakes (e.g. "the lock is yours").
pub type UnparkToken = usize;

pub const DEFAULT_PARK_TOKEN: ParkToken = 0;
pub const DEFAULT_UNPARK_TOKEN: UnparkToken = 0;

/// How long a waiter waits before unparkers should hand it the resource directly.
pub const FAIR_AFTER_NS: u64 = 1_000_000;

/// Whether a thread queued since `parked_at` has waited long enough to be treated fairly.
#[cfg(not(loom))]
fn waited_long_enough(parked_at: u64) -> bool {
    now_ns().saturating_sub(parked_at) >= FAIR_AFTER_NS
}

/// Under loom time does not exist: a model chooses fairness with [`loom_set_fair`], so both
/// the hand-off and the competing paths are explored deterministically.
#[cfg(loom)]
fn waited_long_enough(_parked_at: u64) -> bool {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkResult {
    /// Woken by an unparker, with its token.
    Unparked(UnparkToken),
    /// `validate` said no: the thread did not sleep.
    Invalid,
    /// The deadline passed first.
    TimedOut,
    /// `ThreadRecord::interrupt` ended the wait.
    Interrupted,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnparkResult {
    /// How many threads were taken out of the queue.
    pub unparked_threads: usize,
    /// How many were moved to another key (requeue only).
    pub requeued_threads: usize,
    /// Whether threads remain queued on the key after this call.
    pub have_more_threads: bool,
    /// Whether the (first) unparked thread has waited long enough that the resource should be
    /// handed to it directly (eventual fairness).
    pub be_fair: bool,
}

/// What a filter decides for one queued thread, given its park token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOp {
    Unpark,
    Skip,
    Stop,
}

/// What `unpark_requeue`'s validation decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequeueOp {
    Abort,
    UnparkOneRequeueRest,
    RequeueAll,
}

#[repr(align(64))]
struct Bucket {
    lock: WordLock,
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

    fn push_back(&self, rec: &ThreadRecord) {
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

    /// Unlinks `cur`, whose predecessor is `prev` (null if it is the head).
    fn unlink(&self, prev: *const ThreadRecord, cur: &ThreadRecord) {
        let next = cur.next.get();
        if prev.is_null() {
            self.head.set(next);
        } else {
            // SAFETY: `prev` is a queued record, alive; the bucket lock is held.
            unsafe { (*prev).next.set(next) };
        }
        if ptr::eq(self.tail.get(), cur) {
            self.tail.set(prev);
        }
        cur.next.set(ptr::null());
    }

    /// True if a queued record waits on `key`.
    fn has_key(&self, key: usize) -> bool {
        let mut cur = self.head.get();
        while !cur.is_null() {
            // SAFETY: queued records are alive; the bucket lock is held.
            let r = unsafe { &*cur };
            if r.key.load(Ordering::Relaxed) == key {
                return true;
            }
            cur = r.next.get();
        }
        false
    }
}

#[cfg(not(loom))]
const BUCKETS: usize = 1024;
// Under loom, one bucket: keys are addresses, which differ from one execution of a model to the
// next, so hashing them would make the models nondeterministic.
#[cfg(loom)]
const BUCKETS: usize = 1;

#[cfg(not(loom))]
static TABLE: [Bucket; BUCKETS] = [const { Bucket::new() }; BUCKETS];

#[cfg(not(loom))]
fn table() -> &'static [Bucket; BUCKETS] {
    &TABLE
}

#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: [Bucket; BUCKETS] = [Bucket::new()];
}

#[cfg(loom)]
fn table() -> &'static [Bucket; BUCKETS] {
    &TABLE
}

#[cfg(loom)]
#[inline]
fn bucket(_key: usize) -> &'static Bucket {
    &table()[0]
}

#[cfg(not(loom))]
#[inline]
fn bucket(key: usize) -> &'static Bucket {
    let h = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BUCKETS.trailing_zeros());
    &table()[h as usize]
}

/// Locks the bucket that `rec` is queued in; its key may change under us by a requeue.
fn lock_bucket_of(rec: &ThreadRecord) -> (&'static Bucket, usize) {
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

/// Blocks the calling thread on `key`; see the module comment.
///
/// - `validate` runs under the bucket lock; `false` returns `Invalid` without sleeping.
/// - `before_sleep` runs after the thread is queued and the lock dropped (a condition variable
///   releases its mutex there).
/// - `timed_out(key, was_last)` runs under the bucket lock when the thread leaves the queue by
///   itself (deadline or interrupt); `was_last` is true when no other thread waits on `key`.
/// - `interruptible`: whether a pending or arriving interrupt ends the wait.
///
/// The user's blocking hooks run around the whole call (see [`super::hooks`]).
pub fn park(
    key: usize,
    validate: impl FnOnce() -> bool,
    before_sleep: impl FnOnce(),
    timed_out: impl FnOnce(usize, bool),
    park_token: ParkToken,
    deadline: Option<Deadline>,
    interruptible: bool,
) -> ParkResult {
    #[cfg(not(loom))]
    super::ensure_fork_handler();
    let _span = super::hooks::begin_block();
    with_current(|rec| {
        let b = bucket(key);
        b.lock.lock();
        if !validate() {
            b.lock.unlock();
            return ParkResult::Invalid;
        }
        rec.key.store(key, Ordering::Relaxed);
        rec.park_token.set(park_token);
        rec.parked_at.set(if cfg!(loom) { 0 } else { now_ns() });
        rec.state.fetch_or(PARKED, Ordering::Relaxed);
        b.push_back(rec);
        b.lock.unlock();

        before_sleep();

        let stop_mask = if interruptible { INTERRUPT } else { 0 };
        loop {
            let s = rec.state.load(Ordering::Acquire);
            if s & PARKED == 0 {
                return ParkResult::Unparked(rec.unpark_token.get());
            }
            let interrupted = s & stop_mask != 0;
            let expired = !interrupted && deadline.is_some_and(|d| d.has_passed());
            if interrupted || expired {
                return leave_queue(rec, timed_out, interrupted);
            }
            futex_wait(&rec.state, s, deadline);
        }
    })
}

/// The sleeper's side of giving up: see the module comment.
#[cold]
fn leave_queue(
    rec: &ThreadRecord,
    timed_out: impl FnOnce(usize, bool),
    interrupted: bool,
) -> ParkResult {
    let (b, key) = lock_bucket_of(rec);
    if rec.queued.get() {
        // Still queued: find the predecessor and unlink.
        let mut prev: *const ThreadRecord = ptr::null();
        let mut cur = b.head.get();
        while !ptr::eq(cur, rec) {
            prev = cur;
            // SAFETY: queued records are alive; the bucket lock is held; `rec` is in this queue,
            // so the walk reaches it before the end.
            cur = unsafe { (*cur).next.get() };
        }
        b.unlink(prev, rec);
        rec.queued.set(false);
        let was_last = !b.has_key(key);
        timed_out(key, was_last);
        let clear = if interrupted {
            PARKED | INTERRUPT
        } else {
            PARKED
        };
        rec.state.fetch_and(!clear, Ordering::Relaxed);
        b.lock.unlock();
        return if interrupted {
            ParkResult::Interrupted
        } else {
            ParkResult::TimedOut
        };
    }
    b.lock.unlock();
    // An unparker detached us and will clear PARKED in a moment: the wake-up wins.
    loop {
        let s = rec.state.load(Ordering::Acquire);
        if s & PARKED == 0 {
            return ParkResult::Unparked(rec.unpark_token.get());
        }
        futex_wait(&rec.state, s, None);
    }
}

/// Detached records, chained through `next`, waiting to be woken after the lock is dropped.
struct WakeList {
    head: *const ThreadRecord,
    tail: *const ThreadRecord,
}

impl WakeList {
    fn new() -> WakeList {
        WakeList {
            head: ptr::null(),
            tail: ptr::null(),
        }
    }

    fn push(&mut self, rec: &ThreadRecord) {
        rec.next.set(ptr::null());
        if self.tail.is_null() {
            self.head = rec;
        } else {
            // SAFETY: records on the list are detached but still PARKED, so alive and ours.
            unsafe { (*self.tail).next.set(rec) };
        }
        self.tail = rec;
    }

    /// Hands `token` to every record and wakes it. Call with no bucket lock held.
    fn wake_all(self, token: UnparkToken) {
        let mut cur = self.head;
        while !cur.is_null() {
            // SAFETY: a detached record stays alive until we clear PARKED; we read everything we
            // need from it before that.
            let rec = unsafe { &*cur };
            let next = rec.next.get();
            rec.unpark_token.set(token);
            let word = &rec.state as *const _;
            rec.state.fetch_and(!PARKED, Ordering::Release);
            super::sys::futex_wake(word, 1);
            cur = next;
        }
    }
}

/// Takes the threads queued on `key` that `filter` selects (in queue order) out of the queue;
/// then, still under the bucket lock, calls `callback` with the outcome, and finally wakes them
/// all with the token it returns.
pub fn unpark_filter(
    key: usize,
    filter: impl FnMut(ParkToken) -> FilterOp,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> UnparkResult {
    unpark_filter_if(key, || true, filter, callback).unwrap_or_default()
}

/// As [`unpark_filter`], but first runs `validate` under the bucket lock: `false` leaves the
/// queue alone and returns `None`. A primitive uses it to decide, atomically with the queue,
/// whether it must wake anyone at all.
pub fn unpark_filter_if(
    key: usize,
    validate: impl FnOnce() -> bool,
    mut filter: impl FnMut(ParkToken) -> FilterOp,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> Option<UnparkResult> {
    let b = bucket(key);
    b.lock.lock();
    if !validate() {
        b.lock.unlock();
        return None;
    }
    let mut list = WakeList::new();
    let mut result = UnparkResult::default();
    let mut prev: *const ThreadRecord = ptr::null();
    let mut cur = b.head.get();
    let mut first_parked_at = 0;
    while !cur.is_null() {
        // SAFETY: queued records are alive; the bucket lock is held.
        let rec = unsafe { &*cur };
        let next = rec.next.get();
        if rec.key.load(Ordering::Relaxed) == key {
            match filter(rec.park_token.get()) {
                FilterOp::Unpark => {
                    b.unlink(prev, rec);
                    rec.queued.set(false);
                    if result.unparked_threads == 0 {
                        first_parked_at = rec.parked_at.get();
                    }
                    result.unparked_threads += 1;
                    list.push(rec);
                    cur = next;
                    continue;
                }
                FilterOp::Skip => result.have_more_threads = true,
                FilterOp::Stop => {
                    result.have_more_threads = true;
                    break;
                }
            }
        }
        prev = cur;
        cur = next;
    }
    if result.unparked_threads != 0 {
        result.be_fair = waited_long_enough(first_parked_at);
    }
    let token = callback(result);
    b.lock.unlock();
    list.wake_all(token);
    Some(result)
}

/// Wakes the first thread queued on `key`. `callback` runs under the bucket lock.
pub fn unpark_one(key: usize, callback: impl FnOnce(UnparkResult) -> UnparkToken) -> UnparkResult {
    let mut taken = false;
    unpark_filter(
        key,
        |_| {
            if taken {
                FilterOp::Stop
            } else {
                taken = true;
                FilterOp::Unpark
            }
        },
        callback,
    )
}

/// Wakes the first thread queued on `key` if `validate` (run under the bucket lock first)
/// allows it; `None` when it did not.
pub fn unpark_one_if(
    key: usize,
    validate: impl FnOnce() -> bool,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> Option<UnparkResult> {
    let mut taken = false;
    unpark_filter_if(
        key,
        validate,
        |_| {
            if taken {
                FilterOp::Stop
            } else {
                taken = true;
                FilterOp::Unpark
            }
        },
        callback,
    )
}

/// Wakes every thread queued on `key`; returns how many.
pub fn unpark_all(key: usize, token: UnparkToken) -> usize {
    unpark_filter(key, |_| FilterOp::Unpark, |_| token).unparked_threads
}

/// Locks the buckets of two keys in address order (once if they share one).
fn lock_two(a: usize, b: usize) -> (&'static Bucket, &'static Bucket) {
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

fn unlock_two(ba: &Bucket, bb: &Bucket) {
    ba.lock.unlock();
    if !ptr::eq(ba, bb) {
        bb.lock.unlock();
    }
}

/// Moves the threads queued on `from` to the end of `to`'s queue, except that with
/// `UnparkOneRequeueRest` the first one is woken instead. `validate` runs under both bucket
/// locks and decides; `callback` runs under them with the outcome and returns the woken
/// thread's token. This is how a condition's `notify_all` avoids a thundering herd: the
/// waiters move to the lock's queue and are woken one by one as it is released.
pub fn unpark_requeue(
    from: usize,
    to: usize,
    validate: impl FnOnce() -> RequeueOp,
    callback: impl FnOnce(RequeueOp, UnparkResult) -> UnparkToken,
) -> UnparkResult {
    let (bf, bt) = lock_two(from, to);
    let op = validate();
    let mut result = UnparkResult::default();
    if op == RequeueOp::Abort {
        unlock_two(bf, bt);
        return result;
    }
    let mut wake = WakeList::new();
    let mut moved_head: *const ThreadRecord = ptr::null();
    let mut moved_tail: *const ThreadRecord = ptr::null();
    let mut prev: *const ThreadRecord = ptr::null();
    let mut cur = bf.head.get();
    let mut first_parked_at = 0;
    while !cur.is_null() {
        // SAFETY: queued records are alive; both bucket locks are held.
        let rec = unsafe { &*cur };
        let next = rec.next.get();
        if rec.key.load(Ordering::Relaxed) == from {
            bf.unlink(prev, rec);
            if op == RequeueOp::UnparkOneRequeueRest && result.unparked_threads == 0 {
                rec.queued.set(false);
                first_parked_at = rec.parked_at.get();
                result.unparked_threads = 1;
                wake.push(rec);
            } else {
                rec.key.store(to, Ordering::Relaxed);
                if moved_tail.is_null() {
                    moved_head = rec;
                } else {
                    // SAFETY: as above.
                    unsafe { (*moved_tail).next.set(rec) };
                }
                moved_tail = rec;
                result.requeued_threads += 1;
            }
            cur = next;
            continue;
        }
        prev = cur;
        cur = next;
    }
    // Append the moved records to `to`'s queue, in their order.
    let mut cur = moved_head;
    while !cur.is_null() {
        // SAFETY: as above.
        let rec = unsafe { &*cur };
        let next = rec.next.get();
        bt.push_back(rec);
        cur = next;
    }
    result.have_more_threads = result.requeued_threads > 0 || bf.has_key(from);
    if result.unparked_threads != 0 {
        result.be_fair = waited_long_enough(first_parked_at);
    }
    let token = callback(op, result);
    unlock_two(bf, bt);
    wake.wake_all(token);
    result
}

/// How many threads are queued on `key` (for `RT_EBUSY` checks and tests; a snapshot).
pub fn waiting_on(key: usize) -> usize {
    let b = bucket(key);
    b.lock.lock();
    let mut n = 0;
    let mut cur = b.head.get();
    while !cur.is_null() {
        // SAFETY: queued records are alive; the bucket lock is held.
        let rec = unsafe { &*cur };
        if rec.key.load(Ordering::Relaxed) == key {
            n += 1;
        }
        cur = rec.next.get();
    }
    b.lock.unlock();
    n
}

/// Empties the table in a fork child: every queued thread belongs to the parent.
#[cfg(not(loom))]
pub fn reset_after_fork() {
    for b in table() {
        b.lock.reset();
        b.head.set(ptr::null());
        b.tail.set(ptr::null());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::time::{Duration, Instant};

    fn key_of<T>(v: &Arc<T>) -> usize {
        Arc::as_ptr(v) as *const u8 as usize
    }

    /// Spawns a thread that parks on `key` until unparked; returns once it is queued.
    /// (Tests keep assertions out of the callbacks: those run under a bucket lock.)
    fn parked_thread(key: usize, token: ParkToken) -> std::thread::JoinHandle<ParkResult> {
        let before = waiting_on(key);
        let t = std::thread::spawn(move || park(key, || true, || {}, |_, _| {}, token, None, true));
        while waiting_on(key) == before {
            std::thread::yield_now();
        }
        t
    }

    #[test]
    fn invalid_validation_does_not_sleep() {
        let r = park(
            12345,
            || false,
            || panic!("must not run"),
            |_, _| {},
            0,
            None,
            true,
        );
        assert_eq!(r, ParkResult::Invalid);
    }

    #[test]
    fn timed_park_times_out_after_the_deadline_and_reports_the_last_waiter() {
        let key = 777;
        let was_last = AtomicBool::new(false);
        let start = Instant::now();
        let r = park(
            key,
            || true,
            || {},
            |k, last| was_last.store(last && k == key, Ordering::Relaxed),
            0,
            Some(Deadline::after(0.05)),
            true,
        );
        assert_eq!(r, ParkResult::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(was_last.load(Ordering::Relaxed));
        assert_eq!(waiting_on(key), 0);
    }

    #[test]
    fn unpark_one_wakes_in_fifo_order_with_the_token() {
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let first = parked_thread(key, 1);
        let second = parked_thread(key, 2);
        let mut seen = Vec::new();
        let r = unpark_filter(
            key,
            |t| {
                seen.push(t);
                FilterOp::Stop
            },
            |_| 0,
        );
        assert_eq!(r.unparked_threads, 0);
        assert!(r.have_more_threads);
        assert_eq!(seen, [1]);
        let r = unpark_one(key, |_| 41);
        assert_eq!(r.unparked_threads, 1);
        assert!(r.have_more_threads);
        assert_eq!(first.join().unwrap(), ParkResult::Unparked(41));
        let r = unpark_one(key, |_| 42);
        assert_eq!(r.unparked_threads, 1);
        assert!(!r.have_more_threads);
        assert_eq!(second.join().unwrap(), ParkResult::Unparked(42));
        assert_eq!(unpark_one(key, |_| 0).unparked_threads, 0);
    }

    #[test]
    fn filter_selects_by_park_token() {
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let threads: Vec<_> = (0..4).map(|i| parked_thread(key, i)).collect();
        let r = unpark_filter(
            key,
            |t| {
                if t % 2 == 0 {
                    FilterOp::Unpark
                } else {
                    FilterOp::Skip
                }
            },
            |_| 9,
        );
        assert_eq!(r.unparked_threads, 2);
        assert!(r.have_more_threads);
        assert_eq!(waiting_on(key), 2);
        assert_eq!(unpark_all(key, 8), 2);
        let results: Vec<ParkResult> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            results,
            [
                ParkResult::Unparked(9),
                ParkResult::Unparked(8),
                ParkResult::Unparked(9),
                ParkResult::Unparked(8)
            ]
        );
    }

    #[test]
    fn requeue_moves_waiters_without_waking_them() {
        let a = Arc::new(0u64);
        let b = Arc::new(0u64);
        let (from, to) = (key_of(&a), key_of(&b));
        let threads: Vec<_> = (0..3).map(|i| parked_thread(from, i)).collect();
        let r = unpark_requeue(
            from,
            to,
            || RequeueOp::UnparkOneRequeueRest,
            |op, r| {
                assert_eq!(op, RequeueOp::UnparkOneRequeueRest);
                assert_eq!((r.unparked_threads, r.requeued_threads), (1, 2));
                5
            },
        );
        assert!(r.have_more_threads);
        assert_eq!(waiting_on(from), 0);
        assert_eq!(waiting_on(to), 2);
        let mut threads = threads.into_iter();
        assert_eq!(
            threads.next().unwrap().join().unwrap(),
            ParkResult::Unparked(5)
        );
        assert_eq!(unpark_all(to, 6), 2);
        for t in threads {
            assert_eq!(t.join().unwrap(), ParkResult::Unparked(6));
        }
        let r = unpark_requeue(from, to, || RequeueOp::Abort, |_, _| 0);
        assert_eq!(r, UnparkResult::default());
    }

    #[test]
    fn interrupt_ends_a_wait_and_a_pending_one_ends_the_next() {
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let rec = Arc::new(std::sync::Mutex::new(None));
        let r2 = rec.clone();
        let t = std::thread::spawn(move || {
            *r2.lock().unwrap() = super::super::current_record().ok();
            park(key, || true, || {}, |_, _| {}, 0, None, true)
        });
        while waiting_on(key) == 0 {
            std::thread::yield_now();
        }
        rec.lock().unwrap().as_ref().unwrap().interrupt();
        assert_eq!(t.join().unwrap(), ParkResult::Interrupted);
        assert_eq!(waiting_on(key), 0);

        // A pending interrupt: ends the next interruptible wait at once, once.
        with_current(|r| r.interrupt());
        assert_eq!(
            park(key, || true, || {}, |_, _| {}, 0, None, true),
            ParkResult::Interrupted
        );
        let d = Deadline::after(0.01);
        assert_eq!(
            park(key, || true, || {}, |_, _| {}, 0, Some(d), true),
            ParkResult::TimedOut
        );
        // A non-interruptible wait ignores it and leaves it pending.
        with_current(|r| r.interrupt());
        let d = Deadline::after(0.01);
        assert_eq!(
            park(key, || true, || {}, |_, _| {}, 0, Some(d), false),
            ParkResult::TimedOut
        );
        assert!(with_current(|r| r.take_interrupt()));
    }

    #[test]
    fn timeouts_racing_unparks_never_lose_a_wakeup() {
        // Waiters with tiny deadlines race an unparker: every unpark the unparker counts must be
        // seen by exactly one waiter as Unparked.
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let woken = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let (w, s) = (woken.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !s.load(Ordering::Relaxed) {
                        let d = Deadline::after(0.0001);
                        if let ParkResult::Unparked(_) =
                            park(key, || true, || {}, |_, _| {}, 0, Some(d), true)
                        {
                            w.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let mut sent = 0;
        let until = Instant::now() + Duration::from_millis(300);
        while Instant::now() < until {
            sent += unpark_one(key, |_| 0).unparked_threads;
        }
        stop.store(true, Ordering::Relaxed);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(woken.load(Ordering::Relaxed), sent);
    }
}
