//! Parking: a thread that must wait queues itself on a key of the [wait table](super::table)
//! and sleeps on its own parker word until an unparker wakes it, its deadline passes, or it is
//! interrupted.
//!
//! The usual call is [`park`]`(word, expected, tidy, block)`, the shape of CPython's
//! `_PyParkingLot_Park(address, expected, …)`: the key is the word's address, and the thread
//! queues only if the word still holds `expected` under the bucket lock. A primitive changes
//! its word and then unparks (under the same bucket lock), so a change made after the caller
//! read the word either makes the park return `Invalid` at once or finds the thread queued:
//! no wake-up is lost. A condition, which must release its lock after queueing, uses
//! [`park_custom`].
//!
//! A sleeper that gives up (deadline or interrupt) takes its bucket lock: if it is still
//! `queued` it removes itself, tidies the word (see [`Tidy`]) and reports the timeout; if not,
//! an unparker is about to clear PARKED, so it waits for that and reports the wake-up instead.
//! "Woken" and "timed out" are decided under the bucket lock, once: a wake-up is never lost to
//! a timeout. Callbacks run under a bucket lock: they must not block, park, or call user code.

use super::interrupt::INTERRUPT;
use super::record::{PARKED, SLEEPING, ThreadRecord, with_current};
use super::spin::SpinWait;
use super::sys::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering, futex_wait};
use super::table::{UnparkToken, Walk, bucket, lock_bucket_of};
use crate::time::Deadline;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkResult {
    /// Woken by an unparker, with its token.
    Unparked(UnparkToken),
    /// The word no longer held the expected value (or `validate` said no): no sleep.
    Invalid,
    /// The deadline passed first.
    TimedOut,
    /// An interrupt (see [`super::interrupt`]) ended the wait.
    Interrupted,
}

/// How a wait may end, and whether it is the user's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// When the wait gives up (`None`: never).
    pub deadline: Option<Deadline>,
    /// Whether a pending or arriving interrupt ends the wait.
    pub interruptible: bool,
    /// Whether the user's blocking hooks run around it (see [`super::blocking_hooks`]).
    pub hooks: bool,
    /// Whether the thread, once queued, spins a little ([`SpinWait::spin`]) before it sleeps:
    /// for a wait that another running thread usually ends within microseconds (a condition's
    /// notify in a hand-off), where the waiter can then return without a sleep and its waker
    /// without a wake-up call.
    pub spin: bool,
    /// When the wait began (`time::now_ns`), for a thread that parks again after a wake-up
    /// that did not end its wait (it lost the race for a lock): it keeps its age for eventual
    /// fairness and its place at the head of the queue. 0: a new wait, queued at the tail.
    pub since: u64,
}

impl Block {
    /// A wait of an internal lock: without bound, never interrupted, without blocking hooks
    /// (its holder never runs user code, so it needs no hook to make progress).
    pub const INTERNAL: Block = Block {
        deadline: None,
        interruptible: false,
        hooks: false,
        spin: false,
        since: 0,
    };

    /// A user's wait until `deadline` (`None`: without bound): interruptible, with hooks.
    #[inline]
    pub const fn until(deadline: Option<Deadline>) -> Block {
        Block {
            deadline,
            interruptible: true,
            hooks: true,
            spin: false,
            since: 0,
        }
    }

    /// The same wait, ignoring interrupts (they stay pending for the next wait).
    #[inline]
    pub const fn uninterruptible(self) -> Block {
        Block {
            interruptible: false,
            ..self
        }
    }
}

/// What a waiter that leaves the queue by itself (deadline or interrupt) does to the word when
/// no other thread waits on it any more: a primitive's "threads wait" bit must not stay set
/// for nobody (it would send every release down the slow path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tidy<V> {
    /// Nothing: the word has no such bit.
    Keep,
    /// Clears these bits.
    Clear(V),
    /// Clears these bits if the word still holds the value the waiter expected (a change means
    /// another thread owns the bits now).
    ClearIfUnchanged(V),
}

/// An atomic word a thread can park on: its address is the key.
pub trait Word {
    type Value: Copy + Eq;
    /// Reads the word (acquire).
    fn read(&self) -> Self::Value;
    /// Clears `bits` (relaxed: the bucket lock orders it).
    fn clear(&self, bits: Self::Value);
    /// Clears `bits` if the word holds `expected` (relaxed).
    fn clear_if(&self, expected: Self::Value, bits: Self::Value);
}

macro_rules! word {
    ($($atomic:ty: $v:ty),*) => {$(
        impl Word for $atomic {
            type Value = $v;
            #[inline]
            fn read(&self) -> $v {
                self.load(Ordering::Acquire)
            }
            #[inline]
            fn clear(&self, bits: $v) {
                self.fetch_and(!bits, Ordering::Relaxed);
            }
            #[inline]
            fn clear_if(&self, expected: $v, bits: $v) {
                let _ = self.compare_exchange(
                    expected,
                    expected & !bits,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        }
    )*};
}

word!(AtomicBool: bool, AtomicU8: u8, AtomicU32: u32, AtomicU64: u64, AtomicUsize: usize);

/// Parks the calling thread on `word` if it still holds `expected`; see the module comment.
#[inline]
pub fn park<W: Word>(
    word: &W,
    expected: W::Value,
    tidy: Tidy<W::Value>,
    block: Block,
) -> ParkResult {
    park_custom(
        word as *const W as usize,
        || word.read() == expected,
        || {},
        |_key, was_last| {
            if was_last {
                match tidy {
                    Tidy::Keep => {}
                    Tidy::Clear(bits) => word.clear(bits),
                    Tidy::ClearIfUnchanged(bits) => word.clear_if(expected, bits),
                }
            }
        },
        block,
    )
}

/// Parks the calling thread on `key`, for a caller whose check is not "the word holds this":
///
/// - `validate` runs under the bucket lock; `false` returns `Invalid` without sleeping;
/// - `before_sleep` runs after the thread is queued and the lock dropped (a condition variable
///   releases its mutex there);
/// - `left(key, was_last)` runs under the bucket lock when the thread leaves the queue by
///   itself (deadline or interrupt); `key` is the one it was queued on then (a requeue may
///   have moved it), `was_last` is true when no other thread waits on that key.
pub fn park_custom(
    key: usize,
    validate: impl FnOnce() -> bool,
    before_sleep: impl FnOnce(),
    left: impl FnOnce(usize, bool),
    block: Block,
) -> ParkResult {
    #[cfg(not(loom))]
    super::ensure_fork_handler();
    let _span = block.hooks.then(super::blocking_hooks::begin_block);
    with_current(|rec| {
        let b = bucket(key);
        b.lock.lock();
        if !validate() {
            b.lock.unlock();
            return ParkResult::Invalid;
        }
        rec.key.store(key, Ordering::Relaxed);
        rec.state.fetch_or(PARKED, Ordering::Relaxed);
        if block.since != 0 {
            rec.parked_at.set(block.since);
            b.push_front(rec);
        } else {
            rec.parked_at
                .set(if cfg!(loom) { 0 } else { crate::time::now_ns() });
            b.push_back(rec);
        }
        b.lock.unlock();

        before_sleep();

        let stop_mask = if block.interruptible { INTERRUPT } else { 0 };
        let mut spin = SpinWait::new();
        loop {
            let s = rec.state.load(Ordering::Acquire);
            if s & PARKED == 0 {
                return ParkResult::Unparked(rec.unpark_token.get());
            }
            let interrupted = s & stop_mask != 0;
            let expired = !interrupted && block.deadline.is_some_and(|d| d.has_passed());
            if interrupted || expired {
                return leave_queue(rec, left, interrupted);
            }
            if block.spin && spin.spin() {
                continue;
            }
            sleep(rec, s, block.deadline);
        }
    })
}

/// Sleeps on the parker word, which held `s` (PARKED set): announces the sleep with SLEEPING
/// first, so that an unparker knows to make the wake-up call (and one that finds it clear, the
/// thread still spinning, makes none). Returns on any change of the word, a wake-up, the
/// deadline, or spuriously; the caller looks at the word again.
#[inline]
fn sleep(rec: &ThreadRecord, s: u32, deadline: Option<Deadline>) {
    if s & SLEEPING == 0
        && rec
            .state
            .compare_exchange(s, s | SLEEPING, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        // Unparked, interrupted, or (the other bits) changed meanwhile: look again.
        return;
    }
    futex_wait(&rec.state, s | SLEEPING, deadline);
}

/// When the calling thread's last park began (its `since` if it had one): for a thread that
/// was woken and parks again in the same wait (see [`Block::since`]).
pub fn parked_since() -> u64 {
    with_current(|rec| rec.parked_at.get())
}

/// The sleeper's side of giving up: see the module comment.
#[cold]
fn leave_queue(
    rec: &ThreadRecord,
    left: impl FnOnce(usize, bool),
    interrupted: bool,
) -> ParkResult {
    let (b, key) = lock_bucket_of(rec);
    if rec.queued.get() {
        let mut found = false;
        b.walk(|r| {
            if found {
                Walk::Stop
            } else if std::ptr::eq(r, rec) {
                found = true;
                Walk::Unlink
            } else {
                Walk::Next
            }
        });
        rec.queued.set(false);
        left(key, !b.has_key(key));
        let clear = if interrupted {
            PARKED | SLEEPING | INTERRUPT
        } else {
            PARKED | SLEEPING
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
        sleep(rec, s, None);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::table::waiting_on;
    use super::super::unpark::{
        RequeueOp, UnparkResult, unpark, unpark_all, unpark_one, unpark_requeue,
    };
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize};
    use std::time::{Duration, Instant};

    fn key_of<T>(v: &Arc<T>) -> usize {
        Arc::as_ptr(v) as *const u8 as usize
    }

    /// A wait on `key` that nothing validates away: `park_custom` with no callbacks.
    fn park_key(key: usize, block: Block) -> ParkResult {
        park_custom(key, || true, || {}, |_, _| {}, block)
    }

    /// Spawns a thread that parks on `key` until unparked; returns once it is queued.
    /// (Tests keep assertions out of the callbacks: those run under a bucket lock.)
    fn parked_thread(key: usize) -> std::thread::JoinHandle<ParkResult> {
        let before = waiting_on(key);
        let t = std::thread::spawn(move || park_key(key, Block::until(None)));
        while waiting_on(key) == before {
            std::thread::yield_now();
        }
        t
    }

    #[test]
    fn invalid_validation_does_not_sleep() {
        let r = park_custom(
            12345,
            || false,
            || panic!("must not run"),
            |_, _| {},
            Block::until(None),
        );
        assert_eq!(r, ParkResult::Invalid);
        // The word form: a word that no longer holds the expected value.
        let word = AtomicU32::new(1);
        let r = park(&word, 0, Tidy::Keep, Block::until(None));
        assert_eq!(r, ParkResult::Invalid);
    }

    #[test]
    fn timed_park_times_out_after_the_deadline_and_reports_the_last_waiter() {
        let key = 777;
        let was_last = AtomicBool::new(false);
        let start = Instant::now();
        let r = park_custom(
            key,
            || true,
            || {},
            |k, last| was_last.store(last && k == key, Ordering::Relaxed),
            Block::until(Some(Deadline::after(0.05))),
        );
        assert_eq!(r, ParkResult::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(was_last.load(Ordering::Relaxed));
        assert_eq!(waiting_on(key), 0);
    }

    #[test]
    fn the_last_waiter_to_time_out_tidies_the_word() {
        let block = Block::until(Some(Deadline::after(0.01)));
        let word = AtomicU32::new(0b111);
        assert_eq!(
            park(&word, 0b111, Tidy::Clear(0b10), block),
            ParkResult::TimedOut
        );
        assert_eq!(word.load(Ordering::Relaxed), 0b101);
        let block = Block::until(Some(Deadline::after(0.01)));
        assert_eq!(
            park(&word, 0b101, Tidy::ClearIfUnchanged(0b100), block),
            ParkResult::TimedOut
        );
        assert_eq!(word.load(Ordering::Relaxed), 0b001);
        let block = Block::until(Some(Deadline::after(0.01)));
        assert_eq!(park(&word, 0b001, Tidy::Keep, block), ParkResult::TimedOut);
        assert_eq!(word.load(Ordering::Relaxed), 0b001);
    }

    #[test]
    fn unpark_one_wakes_in_fifo_order_with_the_token() {
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let first = parked_thread(key);
        let second = parked_thread(key);
        let r = unpark(key, 0, |_| 0);
        assert_eq!(r.unparked_threads, 0);
        assert!(r.have_more_threads);
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
    fn unpark_takes_at_most_max_the_longest_waiting_first() {
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let threads: Vec<_> = (0..4).map(|_| parked_thread(key)).collect();
        let r = unpark(key, 2, |_| 9);
        assert_eq!(r.unparked_threads, 2);
        assert!(r.have_more_threads);
        assert_eq!(waiting_on(key), 2);
        assert_eq!(unpark_all(key, 8), 2);
        let results: Vec<ParkResult> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            results,
            [
                ParkResult::Unparked(9),
                ParkResult::Unparked(9),
                ParkResult::Unparked(8),
                ParkResult::Unparked(8)
            ]
        );
    }

    #[test]
    fn a_wait_with_an_age_goes_first_and_is_treated_fairly() {
        let anchor = Arc::new(0u64);
        let key = key_of(&anchor);
        let spawned = crate::time::now_ns();
        let first = parked_thread(key);
        let queued = crate::time::now_ns();
        // A thread parking again with the age of a wait begun 2 ms ago.
        let since = crate::time::now_ns() - 2_000_000;
        let before = waiting_on(key);
        let old = std::thread::spawn(move || {
            let block = Block {
                since,
                ..Block::until(None)
            };
            let r = park_key(key, block);
            (r, parked_since())
        });
        while waiting_on(key) == before {
            std::thread::yield_now();
        }
        let r = unpark_one(key, |r| if r.be_fair { 7 } else { 8 });
        assert!(r.be_fair, "its age counts");
        assert_eq!(old.join().unwrap(), (ParkResult::Unparked(7), since));
        // The thread that parked first has the age of its own wait only: a fair hand-off is
        // due to it exactly when that wait is over FAIR_AFTER_NS. Its age lies between the
        // times since it was seen queued and since it was spawned; a slow machine may put the
        // threshold between the two, where either decision is right.
        let r = unpark_one(key, |r| if r.be_fair { 7 } else { 8 });
        let now = crate::time::now_ns();
        let (youngest, oldest) = (now - queued, now - spawned);
        if oldest < super::super::table::FAIR_AFTER_NS {
            assert!(!r.be_fair, "a fresh wait is not due a fair hand-off");
        } else if youngest >= super::super::table::FAIR_AFTER_NS {
            assert!(r.be_fair, "a wait over the threshold is");
        }
        let token = if r.be_fair { 7 } else { 8 };
        assert_eq!(first.join().unwrap(), ParkResult::Unparked(token));
    }

    #[test]
    fn requeue_moves_waiters_without_waking_them() {
        let a = Arc::new(0u64);
        let b = Arc::new(0u64);
        let (from, to) = (key_of(&a), key_of(&b));
        let threads: Vec<_> = (0..3).map(|_| parked_thread(from)).collect();
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
            park_key(key, Block::until(None))
        });
        while waiting_on(key) == 0 {
            std::thread::yield_now();
        }
        rec.lock().unwrap().as_ref().unwrap().interrupt();
        assert_eq!(t.join().unwrap(), ParkResult::Interrupted);
        assert_eq!(waiting_on(key), 0);

        // A pending interrupt: ends the next interruptible wait at once, once.
        with_current(|r| r.interrupt());
        assert_eq!(park_key(key, Block::until(None)), ParkResult::Interrupted);
        let d = Deadline::after(0.01);
        assert_eq!(park_key(key, Block::until(Some(d))), ParkResult::TimedOut);
        // A non-interruptible wait ignores it and leaves it pending.
        with_current(|r| r.interrupt());
        let d = Deadline::after(0.01);
        let block = Block::until(Some(d)).uninterruptible();
        assert_eq!(park_key(key, block), ParkResult::TimedOut);
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
                        if let ParkResult::Unparked(_) = park_key(key, Block::until(Some(d))) {
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
