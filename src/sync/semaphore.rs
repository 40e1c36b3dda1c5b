//! `threading.Semaphore` and `threading.BoundedSemaphore`: a counter and a waiters bit in one
//! word.
//!
//! | bits  | name   | meaning                                                             |
//! |-------|--------|---------------------------------------------------------------------|
//! | 0     | PARKED | threads may be queued on the semaphore's key                        |
//! | 1..64 | value  | the permits available (never negative: at most `i64::MAX`)          |
//!
//! Acquire takes one permit with one compare-exchange when the value is positive. Otherwise it
//! spins briefly, sets PARKED, and parks if the word is still "value 0, PARKED" (`validate`,
//! under the bucket lock). Release with PARKED clear adds its permits with one compare-exchange
//! (the bound check is part of it, so a refused release changes nothing). With PARKED set, it
//! takes up to `n` waiters out of the queue and adds the permits under the bucket lock, in the
//! compare-exchange that also clears PARKED if no waiter is left: that is its last access to
//! the semaphore, so a thread that takes a permit may free the semaphore at once (as
//! `sem_post` allows `sem_destroy` right after `sem_wait` returns). Woken threads compete for
//! the permits again, like newcomers (Python gives no FIFO guarantee either); a woken thread
//! always tries to take a permit before it reports a timeout, so a permit is never left unused
//! while its waiter gives up. PARKED is cleared under the bucket lock when the last waiter leaves
//! by itself, and `validate` checks it, so a waiter never sleeps with PARKED clear.
//!
//! Differences from Python: the value is at most `i64::MAX` (a release past it is
//! `RT_EOVERFLOW`); a negative timeout other than `RT_FOREVER` and NaN are `RT_EINVAL` (Python
//! treats a negative timeout as a try, and spins on NaN).

use crate::debug::annotate;
use crate::status::{Error, rt_status};
use crate::time::Wait;
use crate::wait::SpinWait;
use crate::wait::sys::{AtomicU64, Ordering};
use crate::wait::{self, Block, ParkResult, Tidy, UnparkResult};

const PARKED: u64 = 1;
const ONE: u64 = 2;

/// The largest value a semaphore can hold.
pub const MAX_VALUE: u64 = i64::MAX as u64;

pub const NEGATIVE_VALUE: Error =
    Error::new(rt_status::RT_EINVAL, "semaphore initial value must be >= 0");
pub const ZERO_RELEASE: Error = Error::new(rt_status::RT_EINVAL, "n must be one or more");
pub const OVER_RELEASE: Error = Error::new(
    rt_status::RT_EOVERRELEASE,
    "Semaphore released too many times",
);
pub const VALUE_OVERFLOW: Error = Error::new(
    rt_status::RT_EOVERFLOW,
    "semaphore value would exceed its maximum",
);

/// A counting semaphore, optionally bounded by its initial value.
pub struct Semaphore {
    state: AtomicU64,
    /// The largest value allowed: the initial value for a bounded semaphore.
    bound: u64,
    bounded: bool,
}

impl Semaphore {
    /// `Semaphore(value)`. `Err` is `RT_EINVAL` for a negative value.
    pub fn new(value: i64) -> Result<Semaphore, Error> {
        Self::make(value, MAX_VALUE, false)
    }

    /// `BoundedSemaphore(value)`: releases past `value` are refused. `Err` is `RT_EINVAL` for a
    /// negative value.
    pub fn bounded(value: i64) -> Result<Semaphore, Error> {
        Self::make(value, value.max(0) as u64, true)
    }

    fn make(value: i64, bound: u64, bounded: bool) -> Result<Semaphore, Error> {
        if value < 0 {
            return Err(NEGATIVE_VALUE);
        }
        Ok(Semaphore {
            state: AtomicU64::new((value as u64) * ONE),
            bound,
            bounded,
        })
    }

    fn key(&self) -> usize {
        &self.state as *const AtomicU64 as usize
    }

    /// Whether releases past the initial value are refused.
    pub fn is_bounded(&self) -> bool {
        self.bounded
    }

    /// The permits available (a snapshot).
    pub fn value(&self) -> u64 {
        self.state.load(Ordering::Relaxed) / ONE
    }

    /// Takes a permit if one is available; never blocks.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let taken = self.try_acquire_quiet();
        if taken {
            annotate::acquired(self);
        }
        taken
    }

    /// [`Semaphore::try_acquire`] without telling race detectors (see `debug::annotate`): the
    /// C face's fast path, which it takes only while no tool is detected; every other way to
    /// acquire tells them.
    #[inline]
    pub fn try_acquire_quiet(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s >= ONE {
            match self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    /// Takes a permit (`acquire(blocking, timeout)`): at once, waiting without bound, or until a
    /// deadline. `Err` is `RT_TIMEOUT` (none in time) or `RT_EINTR` (interrupted).
    #[inline]
    pub fn acquire(&self, wait: Wait) -> Result<(), Error> {
        super::Acquire::acquire_with(self, wait, || ())
    }

    /// The contended path: spin a little, then park.
    #[cold]
    pub fn acquire_slow(&self, wait: Wait) -> Result<(), Error> {
        let r = self.acquire_slow_loop(wait);
        if r.is_ok() {
            annotate::acquired(self);
        }
        r
    }

    fn acquire_slow_loop(&self, wait: Wait) -> Result<(), Error> {
        let mut spin = SpinWait::new();
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s >= ONE {
                match self.state.compare_exchange_weak(
                    s,
                    s - ONE,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(()),
                    Err(now) => s = now,
                }
                continue;
            }
            if s & PARKED == 0 {
                if spin.spin() {
                    s = self.state.load(Ordering::Relaxed);
                    continue;
                }
                // Before setting PARKED: a timeout leaves no trace. Once set, the park below
                // decides (a wait already expired leaves the queue at once and tidies PARKED).
                if wait.expired() {
                    return Err(Error::TIMEOUT);
                }
                if let Err(now) = self.state.compare_exchange_weak(
                    s,
                    s | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    s = now;
                    continue;
                }
            } else if wait.expired() {
                return Err(Error::TIMEOUT);
            }
            let block = Block::until(wait.deadline());
            match wait::park(&self.state, PARKED, Tidy::Clear(PARKED), block) {
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
                // A permit released as the deadline passed is still taken.
                ParkResult::TimedOut if self.try_acquire() => return Ok(()),
                ParkResult::TimedOut => return Err(Error::TIMEOUT),
                ParkResult::Interrupted => return Err(Error::INTERRUPTED),
            }
            spin.reset();
            s = self.state.load(Ordering::Relaxed);
        }
    }

    /// Adds `n` permits and wakes up to `n` waiters (`release(n)`). `Err`, with nothing changed:
    /// `RT_EINVAL` for `n == 0`; `RT_EOVERRELEASE` when a bounded semaphore would exceed its
    /// initial value; `RT_EOVERFLOW` past `i64::MAX`.
    #[inline]
    pub fn release(&self, n: u64) -> Result<(), Error> {
        if n == 0 {
            return Err(ZERO_RELEASE);
        }
        annotate::released(self);
        if self.add_unless_parked(n)? {
            return Ok(());
        }
        self.release_slow(n)
    }

    /// Adds `n` permits if nobody waits and the bound allows it; otherwise changes nothing and
    /// returns false, and `release` does the rest (waking, or reporting the error). Tells race
    /// detectors nothing, as [`Semaphore::try_acquire_quiet`]: the C face's fast path, taken
    /// only while no tool is detected; [`Semaphore::release`] tells them.
    #[inline]
    pub fn try_release_uncontended(&self, n: u64) -> bool {
        n != 0 && matches!(self.add_unless_parked(n), Ok(true))
    }

    /// Adds `n` permits unless threads wait: `Ok(true)` when added, `Ok(false)` (nothing
    /// changed) when PARKED is set, `Err` (nothing changed) when the bound refuses `n`.
    #[inline]
    fn add_unless_parked(&self, n: u64) -> Result<bool, Error> {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & PARKED == 0 {
            let value = self.value_after(s, n)?;
            match self.state.compare_exchange_weak(
                s,
                value * ONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(true),
                Err(now) => s = now,
            }
        }
        Ok(false)
    }

    /// The value once `n` permits are added to state `s`, if the bound allows it.
    fn value_after(&self, s: u64, n: u64) -> Result<u64, Error> {
        match (s / ONE).checked_add(n) {
            Some(v) if v <= self.bound => Ok(v),
            _ if self.bounded => Err(OVER_RELEASE),
            _ => Err(VALUE_OVERFLOW),
        }
    }

    /// Threads wait: take up to `n` of them out of the queue and, still under the bucket lock,
    /// add the permits and decide whether PARKED stays on, in one compare-exchange. That is the
    /// release's last access to the semaphore: a thread may take a permit at once and free the
    /// semaphore, while this thread only has the woken records (and the bucket) left to touch.
    /// A refused release (over the bound) leaves the value alone; the threads it woke look at
    /// the value again and go back to sleep.
    #[cold]
    fn release_slow(&self, n: u64) -> Result<(), Error> {
        let mut result = Ok(());
        let callback = |r: UnparkResult| {
            let parked = if r.have_more_threads { PARKED } else { 0 };
            let mut s = self.state.load(Ordering::Relaxed);
            loop {
                let value = match self.value_after(s, n) {
                    Ok(v) => v,
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                match self.state.compare_exchange_weak(
                    s,
                    (value * ONE) | parked,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(now) => s = now,
                }
            }
            0
        };
        wait::unpark(
            self.key(),
            usize::try_from(n).unwrap_or(usize::MAX),
            callback,
        );
        result
    }

    /// Whether threads are queued on the semaphore (a snapshot; tests wait for a thread to block with it:
    /// the C face's `RT_EBUSY` uses its own busy counts).
    #[cfg(test)]
    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Relaxed) & PARKED != 0 || wait::waiting_on(self.key()) != 0
    }
}

impl super::Acquire for Semaphore {
    fn acquire_now(&self) -> Result<bool, Error> {
        Ok(self.try_acquire())
    }
    fn acquire_blocking(&self, wait: Wait) -> Result<(), Error> {
        self.acquire_slow(wait)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicI64;

    #[test]
    fn a_deadline_that_passes_while_spinning_leaves_no_trace() {
        let s = Semaphore::new(0).unwrap();
        let past = Wait::Until(crate::time::Deadline(crate::time::now_ns() - 1));
        assert_eq!(s.acquire(past), Err(Error::TIMEOUT));
        assert!(s.try_release_uncontended(1), "PARKED left set for nobody");
        assert_eq!(s.value(), 1);
    }

    #[test]
    fn values_and_errors() {
        assert_eq!(Semaphore::new(-1).err(), Some(NEGATIVE_VALUE));
        assert_eq!(Semaphore::bounded(-1).err(), Some(NEGATIVE_VALUE));
        let s = Semaphore::new(2).unwrap();
        assert!(!s.is_bounded());
        s.acquire(Wait::Forever).unwrap();
        s.acquire(Wait::Try).unwrap();
        assert_eq!(s.acquire(Wait::Try), Err(Error::TIMEOUT));
        assert_eq!(s.acquire(Wait::for_secs(0.02)), Err(Error::TIMEOUT));
        assert_eq!(s.release(0), Err(ZERO_RELEASE));
        s.release(5).unwrap();
        assert_eq!(s.value(), 5);
        assert_eq!(s.release(MAX_VALUE), Err(VALUE_OVERFLOW));
        assert_eq!(s.value(), 5);
        s.release(MAX_VALUE - 5).unwrap();
        assert_eq!(s.value(), MAX_VALUE);
        assert!(!s.has_waiters());

        let b = Semaphore::bounded(3).unwrap();
        assert!(b.is_bounded());
        assert_eq!(b.release(1), Err(OVER_RELEASE));
        b.acquire(Wait::Forever).unwrap();
        b.acquire(Wait::Forever).unwrap();
        assert_eq!(b.release(3), Err(OVER_RELEASE));
        assert_eq!(b.value(), 1);
        b.release(2).unwrap();
        assert_eq!(b.value(), 3);
        assert_eq!(b.release(u64::MAX), Err(OVER_RELEASE));
    }

    #[test]
    fn value_never_negative_under_contention() {
        let s = Arc::new(Semaphore::new(3).unwrap());
        let holders = Arc::new(AtomicI64::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (s, holders) = (s.clone(), holders.clone());
                std::thread::spawn(move || {
                    for _ in 0..5_000 {
                        s.acquire(Wait::Forever).unwrap();
                        let h = holders.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(h <= 3, "{h} holders");
                        holders.fetch_sub(1, Ordering::SeqCst);
                        s.release(1).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.value(), 3);
    }

    /// Runs `body` in a new thread that hands its record over first; returns the record and
    /// the thread.
    fn spawn_with_record<T: Send + 'static>(
        body: impl FnOnce() -> T + Send + 'static,
    ) -> (crate::wait::RecordRef, std::thread::JoinHandle<T>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(crate::wait::current_record().unwrap()).unwrap();
            body()
        });
        (rx.recv().unwrap(), t)
    }

    #[test]
    fn interrupted_acquire_takes_nothing() {
        let s = Arc::new(Semaphore::new(0).unwrap());
        let s2 = s.clone();
        let (rec, t) = spawn_with_record(move || s2.acquire(Wait::Forever));
        while !s.has_waiters() {
            std::thread::yield_now();
        }
        rec.interrupt();
        assert_eq!(t.join().unwrap(), Err(Error::INTERRUPTED));
        s.release(1).unwrap();
        assert_eq!(s.value(), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A release reaches a thread that is about to park, whatever the interleaving.
    #[test]
    fn loom_semaphore_release_wakes_a_waiter() {
        loom::model(|| {
            let s = Arc::new(Semaphore::new(0).unwrap());
            let s2 = s.clone();
            let waiter = thread::spawn(move || s2.acquire(Wait::Forever).unwrap());
            s.release(1).unwrap();
            waiter.join().unwrap();
            assert_eq!(s.value(), 0);
            assert!(!s.has_waiters());
        });
    }

    /// release(2) lets two waiters through.
    #[test]
    fn loom_semaphore_release_n_wakes_n() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let s = Arc::new(Semaphore::new(0).unwrap());
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let s = s.clone();
                    thread::spawn(move || s.acquire(Wait::Forever).unwrap())
                })
                .collect();
            s.release(2).unwrap();
            for w in waiters {
                w.join().unwrap();
            }
            assert_eq!(s.value(), 0);
        });
    }

    /// A binary semaphore is mutual exclusion, and its value ends where it started.
    #[test]
    fn loom_semaphore_is_exclusive() {
        loom::model(|| {
            let s = Arc::new(Semaphore::bounded(1).unwrap());
            let inside = Arc::new(crate::wait::sys::AtomicUsize::new(0));
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let (s, inside) = (s.clone(), inside.clone());
                    thread::spawn(move || {
                        s.acquire(Wait::Forever).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        s.release(1).unwrap();
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(s.value(), 1);
        });
    }
}
