//! `threading.Event`: a flag, a generation counter and a waiters bit in one word.
//!
//! | bits  | name       | meaning                                                        |
//! |-------|------------|----------------------------------------------------------------|
//! | 0     | SET        | the flag                                                       |
//! | 1     | PARKED     | threads may be queued on the event's key                       |
//! | 2..64 | generation | how many times `set` found the flag clear (wrapping)           |
//!
//! `set` turns SET on, clears PARKED and advances the generation in one compare-exchange (its
//! linearisation point), then, if PARKED was on, wakes every thread queued on the key. A waiter
//! remembers the generation it saw when it found the flag clear, sets PARKED, and parks only if
//! the word is still exactly what it saw (`validate`, under the bucket lock). A waiter returns
//! `Ok` as soon as the generation has moved, whether it was woken, timed out or interrupted
//! meanwhile: every thread that was waiting when `set` was called returns `Ok`, even if `clear`
//! follows at once (gh-57711), and none can miss a `set` (its `validate` would fail).
//!
//! `clear` only turns SET off. `is_set`, and `wait` on a set event, are one load; `set` on a set
//! event is one load; `set` with nobody waiting is one compare-exchange.
//!
//! Differences from Python: a negative timeout other than `RT_FOREVER` and NaN are `RT_EINVAL`
//! (Python returns at once).

use crate::debug::annotate;
use crate::status::Error;
use crate::time::Wait;
use crate::wait::SpinWait;
use crate::wait::sys::{AtomicU64, Ordering};
use crate::wait::{self, Block, ParkResult, Tidy, interrupt};

const SET: u64 = 1;
const PARKED: u64 = 2;
const GENERATION: u64 = 4;

/// The state of an [`Event`] at one moment, for [`Event::wait_since`].
#[derive(Clone, Copy, Debug)]
pub struct Snapshot(u64);

impl Snapshot {
    /// Whether the flag was set.
    pub fn is_set(self) -> bool {
        self.0 & SET != 0
    }
}

/// A flag that threads can wait for (`threading.Event`).
pub struct Event {
    state: AtomicU64,
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        Event {
            state: AtomicU64::new(0),
        }
    }

    fn key(&self) -> usize {
        &self.state as *const AtomicU64 as usize
    }

    /// Whether the flag is set (`is_set()`).
    #[inline]
    pub fn is_set(&self) -> bool {
        let set = self.state.load(Ordering::Acquire) & SET != 0;
        if set {
            annotate::acquired(self);
        }
        set
    }

    /// Sets the flag and wakes every waiting thread (`set()`).
    pub fn set(&self) {
        annotate::released(self);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & SET != 0 {
                return;
            }
            let new = ((s | SET) & !PARKED).wrapping_add(GENERATION);
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if s & PARKED != 0 {
            wait::unpark_all(self.key(), 0);
        }
    }

    /// Clears the flag (`clear()`).
    pub fn clear(&self) {
        self.state.fetch_and(!SET, Ordering::Relaxed);
    }

    /// Reads the flag and the generation once: where a wait starts from (see
    /// [`Event::wait_since`]).
    #[inline]
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.state.load(Ordering::Acquire))
    }

    /// Waits until the flag is set (`wait(timeout)`). `Ok` at once if it is set, or when a
    /// `set` happened during the wait; `Err`: `RT_TIMEOUT` when the time ran out first,
    /// `RT_EINTR` when interrupted first.
    #[inline]
    pub fn wait(&self, wait: Wait) -> Result<(), Error> {
        self.wait_since(self.snapshot(), wait)
    }

    /// Waits as [`Event::wait`] does, from an earlier [`Event::snapshot`]: a `set` since the
    /// snapshot was taken counts as waking this wait, even if the flag was cleared again.
    #[inline]
    pub fn wait_since(&self, snapshot: Snapshot, wait: Wait) -> Result<(), Error> {
        if snapshot.is_set() {
            annotate::acquired(self);
            return Ok(());
        }
        let r = self.wait_slow(snapshot.0, wait);
        if r.is_ok() {
            annotate::acquired(self);
        }
        r
    }

    #[cold]
    fn wait_slow(&self, start: u64, wait: Wait) -> Result<(), Error> {
        let generation = start & !(SET | PARKED);
        // Spin a little first, as Lock and Semaphore do: a `set` from a thread running on
        // another core often comes within microseconds, and then neither side pays for a park
        // and a wake-up (in a two-thread ping-pong, the difference between one and three
        // system calls per hand-off). Only reads: what it sees is decided as below.
        if wait != Wait::Try {
            let mut spin = SpinWait::new();
            while spin.spin() {
                let s = self.state.load(Ordering::Acquire);
                if s & SET != 0 || s & !(SET | PARKED) != generation {
                    return Ok(());
                }
            }
        }
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & SET != 0 || s & !(SET | PARKED) != generation {
                return Ok(());
            }
            if s & PARKED == 0 {
                if let Err(now) = self.state.compare_exchange_weak(
                    s,
                    s | PARKED,
                    Ordering::Relaxed,
                    Ordering::Acquire,
                ) {
                    s = now;
                    continue;
                }
                s |= PARKED;
            }
            if wait.expired() {
                return Err(Error::TIMEOUT);
            }
            // The last waiter to leave clears PARKED only if nothing changed: a `set` clears it
            // itself, and a new waiter sets it again only after this bucket lock is dropped.
            let tidy = Tidy::ClearIfUnchanged(PARKED);
            let r = wait::park(&self.state, s, tidy, Block::until(wait.deadline()));
            s = self.state.load(Ordering::Acquire);
            let moved = s & !(SET | PARKED) != generation;
            match r {
                // `set` moves the generation before it wakes anyone: an unpark without that
                // would be a stray one (a key reused after an object was freed), not a set.
                ParkResult::Unparked(_) if moved => return Ok(()),
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
                ParkResult::TimedOut if moved => return Ok(()),
                ParkResult::TimedOut => return Err(Error::TIMEOUT),
                ParkResult::Interrupted if moved => {
                    interrupt::rearm();
                    return Ok(());
                }
                ParkResult::Interrupted => return Err(Error::INTERRUPTED),
            }
        }
    }

    /// Whether threads are queued on the event (a snapshot; tests wait for a thread to block with it:
    /// the C face's `RT_EBUSY` uses its own busy counts).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Relaxed) & PARKED != 0 || wait::waiting_on(self.key()) != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn set_clear_and_wait() {
        let e = Event::new();
        assert!(!e.is_set());
        assert_eq!(e.wait(Wait::Try), Err(Error::TIMEOUT));
        assert_eq!(e.wait(Wait::for_secs(0.02)), Err(Error::TIMEOUT));
        e.set();
        e.set();
        assert!(e.is_set());
        assert_eq!(e.wait(Wait::Try), Ok(()));
        e.clear();
        assert!(!e.is_set());
        assert!(!e.has_waiters());
    }

    #[test]
    fn waiters_see_a_set_followed_by_clear() {
        let e = Arc::new(Event::new());
        let parked = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (e, parked) = (e.clone(), parked.clone());
                std::thread::spawn(move || {
                    parked.fetch_add(1, Ordering::SeqCst);
                    e.wait(Wait::for_secs(10.0))
                })
            })
            .collect();
        while parked.load(Ordering::SeqCst) < 4 || wait::waiting_on(e.key()) < 4 {
            std::thread::yield_now();
        }
        e.set();
        e.clear();
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(()));
        }
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
    fn interrupted_wait_returns_eintr() {
        let e = Arc::new(Event::new());
        let e2 = e.clone();
        let (rec, t) = spawn_with_record(move || e2.wait(Wait::Forever));
        while wait::waiting_on(e.key()) == 0 {
            std::thread::yield_now();
        }
        rec.interrupt();
        assert_eq!(t.join().unwrap(), Err(Error::INTERRUPTED));
        assert!(!e.is_set());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A set reaches a thread that is about to park.
    #[test]
    fn loom_event_set_wakes_the_waiter() {
        loom::model(|| {
            let e = Arc::new(Event::new());
            let e2 = e.clone();
            let waiter = thread::spawn(move || e2.wait(Wait::Forever).unwrap());
            e.set();
            waiter.join().unwrap();
            assert!(e.is_set());
        });
    }

    /// A set followed at once by clear releases every thread that was waiting (here: had
    /// announced itself with PARKED) when set ran.
    #[test]
    fn loom_event_set_then_clear_releases_the_waiter() {
        loom::model(|| {
            let e = Arc::new(Event::new());
            let e2 = e.clone();
            let waiter = thread::spawn(move || e2.wait(Wait::Forever));
            while e.state.load(Ordering::SeqCst) & PARKED == 0 {
                thread::yield_now();
            }
            e.set();
            e.clear();
            assert_eq!(waiter.join().unwrap(), Ok(()));
            assert!(!e.is_set());
        });
    }

    /// A storm of set and clear never strands a waiter, whenever it arrives.
    #[test]
    fn loom_event_set_clear_storm_never_strands_a_waiter() {
        loom::model(|| {
            let e = Arc::new(Event::new());
            let e2 = e.clone();
            let waiter = thread::spawn(move || e2.wait(Wait::Forever).unwrap());
            e.set();
            e.clear();
            e.set();
            waiter.join().unwrap();
        });
    }
}
