//! The queue's one blocking protocol: how a getter waits for an item, a putter for room and a
//! joiner for the last `task_done`, whatever the store (ring or locked items).
//!
//! Each reason to wait has a count of the threads that wait for it and an epoch, whose
//! address is the key the threads park on in the waiting core.
//!
//! # The protocol
//! A thread that found it must wait for reason `r`:
//! 1. counts itself in `r`'s count (a `SeqCst` read-modify-write);
//! 2. reads `r`'s epoch (`SeqCst`);
//! 3. checks, with the store, that it still must wait (`must_wait`);
//! 4. if so, parks on the epoch: `park` (comparing the word under the bucket lock) refuses to
//!    sleep if the epoch moved since step 2;
//! 5. uncounts itself, and retries its operation from the start (another thread may have taken
//!    the item first; a timed-out getter still takes an item that came meanwhile).
//!
//! A thread that makes what `r` waits for (a put an item, a get room, the last `task_done` or a
//! shutdown anything):
//! a. makes the change: with a `SeqCst` read-modify-write (the ring's claim and shutdown, the
//!    task counter), or under the locked store's lock, under which waiters make step 3;
//! b. reads `r`'s count (`SeqCst`: [`Blocking::claimed`]); if it is not zero, bumps the epoch;
//! c. once the change is published (the ring's stamp stored, the lock released), unparks one
//!    waiter (all, for a shutdown or the last `task_done`).
//!
//! # Why no wake-up is lost
//! Steps 1 and 3 of the waiter and a and b of the waker are ordered so that either 1 comes
//! before b, or a before 3. With a `SeqCst` change it is Dekker's argument: in the one total
//! order of `SeqCst` operations, 1 precedes 3 and a precedes b. With the lock, the waiter's
//! step 3 and the waker's step a are critical sections, one after the other: if the waiter's
//! comes first, its step 1 happens before the waker's b (through the lock); if the waker's
//! comes first, a happens before 3. Either way a fence would add nothing: the locked store's
//! puts and gets pay none.
//! - If b does not see the count, 1 comes after b, so 3 comes after a: the waiter sees the
//!   change and does not park.
//! - If b sees the count, the epoch moves. If 2 read the moved epoch (which comes after a),
//!   3 sees the change. If 2 read the old epoch, the waiter's comparison either ran under the
//!   bucket lock before c took that lock (the waiter is queued there and c wakes it) or after
//!   (it sees the moved epoch and does not sleep).
//!
//! Dropping step 1's place (checking before counting) loses a wake-up: the loom model
//! `loom_checking_before_counting_loses_a_wakeup` finds the interleaving. A waiter that timed
//! out or was interrupted had left the bucket's queue when the waker looked (the core decides
//! "woken" or "timed out" once, under the bucket lock), so a wake-up is never spent on a
//! thread that will not use it. A put or get that finds nobody waiting (b reads zero) touches
//! neither the waiting core nor the kernel.

use super::{NEGATIVE_TIMEOUT, Queue};
use crate::status::Error;
use crate::time::{Deadline, check_timeout};
use crate::wait::sys::{AtomicUsize, Ordering};
use crate::wait::{self, Block, ParkResult, Tidy};

/// Why a thread waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reason {
    /// A getter, for an item.
    NotEmpty = 0,
    /// A putter, for room.
    NotFull = 1,
    /// A joiner, for the last `task_done`.
    AllDone = 2,
}

/// One reason's count of waiters and epoch.
struct Waiters {
    count: AtomicUsize,
    epoch: AtomicUsize,
}

/// The counts and epochs of the three reasons (written only by threads about to wait or done
/// waiting, and by wakers that found one).
pub(super) struct Blocking {
    reasons: [Waiters; 3],
}

impl Blocking {
    pub(super) fn new() -> Blocking {
        let w = || Waiters {
            count: super::ring::seq_cst_atomic(0),
            epoch: super::ring::seq_cst_atomic(0),
        };
        Blocking {
            reasons: [w(), w(), w()],
        }
    }

    fn of(&self, r: Reason) -> &Waiters {
        &self.reasons[r as usize]
    }

    fn key(&self, r: Reason) -> usize {
        &self.of(r).epoch as *const AtomicUsize as usize
    }

    /// Steps 1 to 5 of the protocol, once: `must_wait` is step 3. Parks (interruptibly) until
    /// woken, the deadline or an interrupt; `Invalid` if it did not sleep.
    pub(super) fn wait(
        &self,
        r: Reason,
        deadline: Option<Deadline>,
        must_wait: impl Fn() -> bool,
    ) -> ParkResult {
        self.wait_in_order::<true>(r, deadline, must_wait)
    }

    /// The protocol's waiter, with step 3 in its place (`COUNT_FIRST`), or, for the loom model
    /// that shows why, checked before step 1 as well as after it.
    fn wait_in_order<const COUNT_FIRST: bool>(
        &self,
        r: Reason,
        deadline: Option<Deadline>,
        must_wait: impl Fn() -> bool,
    ) -> ParkResult {
        if !COUNT_FIRST && !must_wait() {
            return ParkResult::Invalid;
        }
        let w = self.of(r);
        w.count.fetch_add(1, Ordering::SeqCst);
        let seen = w.epoch.load(Ordering::SeqCst);
        let res = if !COUNT_FIRST || must_wait() {
            wait::park(&w.epoch, seen, Tidy::Keep, Block::until(deadline))
        } else {
            ParkResult::Invalid
        };
        w.count.fetch_sub(1, Ordering::SeqCst);
        res
    }

    /// Step b, after the change (step a): if threads wait for `r`, moves the epoch and returns
    /// true; the caller must then wake them (step c, [`Blocking::wake_one`] or `wake_all`) once
    /// the change is published.
    #[inline]
    pub(super) fn claimed(&self, r: Reason) -> bool {
        let w = self.of(r);
        if w.count.load(Ordering::SeqCst) == 0 {
            return false;
        }
        w.epoch.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Step c for one waiter (out of line: the fast paths stay small).
    #[cold]
    #[inline(never)]
    pub(super) fn wake_one(&self, r: Reason) {
        wait::unpark_one(self.key(r), |_| 0);
    }

    /// Step c for every waiter.
    #[cold]
    pub(super) fn wake_all(&self, r: Reason) {
        wait::unpark_all(self.key(r), 0);
    }

    /// Steps b and c for every waiter at once (no publication to wait for).
    pub(super) fn notify_all(&self, r: Reason) {
        if self.claimed(r) {
            self.wake_all(r);
        }
    }

    /// In a fork child: the threads counted as waiting vanished.
    pub(super) fn reset_after_fork(&self) {
        for w in &self.reasons {
            w.count.store(0, Ordering::Relaxed);
        }
    }

    /// Threads counted as waiting, for every reason (tests).
    #[cfg(all(test, not(loom)))]
    pub(super) fn waiting_threads(&self) -> usize {
        self.reasons
            .iter()
            .map(|w| w.count.load(Ordering::SeqCst))
            .sum()
    }
}

/// Step c of a put or get, run when dropped, so that it also runs when a comparator's panic
/// unwinds through the put: wakes one thread waiting for `r` if step b said so.
pub(super) struct Wake<'a> {
    blocking: &'a Blocking,
    r: Reason,
    due: bool,
}

impl<'a> Wake<'a> {
    #[inline]
    pub(super) fn new(blocking: &'a Blocking, r: Reason) -> Wake<'a> {
        Wake {
            blocking,
            r,
            due: false,
        }
    }

    /// Step b: the store calls this after its change, before it publishes it.
    #[inline]
    pub(super) fn claimed(&mut self) {
        self.due = self.blocking.claimed(self.r);
    }
}

impl Drop for Wake<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.due {
            self.blocking.wake_one(self.r);
        }
    }
}

impl<T: Send> Queue<T> {
    /// After a put or get found the store not ready: `Err` when its waiting is over (it may
    /// not block: `ran_out`; the deadline passed: `ran_out`; interrupted), `Ok` to try again,
    /// after a spin the first time (the other side is often about to act), then after a wait
    /// by the blocking protocol.
    pub(super) fn wait_for(
        &self,
        r: Reason,
        p: &mut Patience,
        ran_out: Error,
    ) -> Result<(), Error> {
        let Some(Ok(deadline)) = p.limit.map(|l| l.deadline(&mut p.deadline)) else {
            return Err(ran_out);
        };
        if !p.spun && !cfg!(loom) {
            p.spun = true;
            self.store.spin_while_blocked(r);
            return Ok(());
        }
        match self
            .blocking
            .0
            .wait(r, deadline, || self.store.must_wait(r))
        {
            ParkResult::Interrupted => Err(Error::INTERRUPTED),
            _ => Ok(()),
        }
    }
}

/// A put's or get's waiting, across its tries: its limit (`None`: it may not block), the
/// deadline once it is needed, and whether it spun yet.
pub(super) struct Patience {
    limit: Option<Limit>,
    deadline: Option<Deadline>,
    spun: bool,
}

impl Patience {
    pub(super) fn new(limit: Option<Limit>) -> Patience {
        Patience {
            limit,
            deadline: None,
            spun: false,
        }
    }
}

/// A validated timeout, turned into a deadline only when a wait is really needed (so the fast
/// path never reads the clock).
#[derive(Clone, Copy)]
pub(super) enum Limit {
    Forever,
    Secs(f64),
}

impl Limit {
    /// Reads a Python-style timeout: `None` waits without bound; NaN, negative and too-large
    /// values are refused (in that order): every negative value with the Queue's own wording
    /// (`RT_FOREVER` too: a queue's "forever" is `None`), the rest by `time::check_timeout`.
    pub(super) fn read(timeout: Option<f64>) -> Result<Limit, Error> {
        match timeout {
            None => Ok(Limit::Forever),
            Some(t) if t < 0.0 => Err(NEGATIVE_TIMEOUT),
            Some(t) => check_timeout(t).map(|()| Limit::Secs(t)),
        }
    }

    /// The deadline, computed at the first call and kept in `cached`; `Err(())` once it passed.
    pub(super) fn deadline(self, cached: &mut Option<Deadline>) -> Result<Option<Deadline>, ()> {
        let d = match self {
            Limit::Forever => None,
            Limit::Secs(s) => Some(*cached.get_or_insert_with(|| Deadline::after(s))),
        };
        if d.is_some_and(|d| d.has_passed()) {
            return Err(());
        }
        Ok(d)
    }
}

#[cfg(all(test, loom))]
#[path = "loom_tests.rs"]
mod loom_tests;
