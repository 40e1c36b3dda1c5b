//! `threading.Barrier`: CPython's state machine, on a [`Condition`] over an internal [`Lock`].
//!
//! | state     | meaning                                                                     |
//! |-----------|-----------------------------------------------------------------------------|
//! | FILLING   | threads arrive; each gets the next index and waits                          |
//! | ACTION    | all parties arrived; the last one runs the action, with the lock released   |
//! | DRAINING  | the cycle is over; its threads are leaving with `Ok`                         |
//! | RESETTING | `reset` ended the cycle; its threads are leaving with `RT_EBROKEN`           |
//! | BROKEN    | a timeout, a failed action, an interrupt or `abort`: every wait fails       |
//!
//! Every timed wait honours its timeout in every phase. A thread that gives up at the entry
//! (the previous cycle runs its action, drains or resets) breaks the barrier as a timeout while
//! filling does, since the next cycle cannot fill without it; but not the old cycle, whose
//! outcome is already decided: `break_after_cycle` makes the last thread to leave it turn the
//! barrier to BROKEN instead of FILLING. Only threads that have arrived wait through an action
//! without a bound (in CPython the action holds the lock they need to return). The thread that
//! runs the action is noted in `action_thread`: a wait on the same barrier from inside its own
//! action could never end (its cycle cannot drain while it waits), so it fails at once with
//! `RT_EDEADLK`.
//!
//! `count` is the number of threads inside `wait` (past the entry). The last thread to leave a
//! DRAINING or RESETTING cycle turns it back to FILLING, and until then new arrivals wait at the
//! entry: a fast thread can never enter cycle k+1 while cycle k drains (the bug `reset` had to
//! avoid in CPython, section 7 item 3). BROKEN lasts until `reset`.
//!
//! The internal lock is held only for these few fields, never while the action (user code)
//! runs: the ACTION state keeps the barrier consistent meanwhile (new arrivals wait; a waiter's
//! timeout no longer breaks the barrier, since every party has arrived, as in CPython where the
//! action runs under the lock; `abort` breaks it and `reset` ends the cycle, and the action's
//! thread then fails too). Every field is an atomic so that `n_waiting` and `broken` can read a
//! snapshot without the lock; all writes happen with it held. A Rust action that panics breaks
//! the barrier like a failed one, and the panic goes on in the thread that ran it, once the
//! barrier is consistent again.
//!
//! Differences from Python: a thread interrupted while it waits breaks the barrier (as its
//! timeout would) and returns `RT_EINTR`; a reset or abort during the action ends that cycle
//! with `RT_EBROKEN` (in CPython they wait for the action to finish, since it holds the lock).

use crate::debug::annotate;
use crate::status::{Error, rt_status};
use crate::sync::{Condition, Lock};
use crate::time::{Wait, timeout_wait};
use crate::wait::sys::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use crate::wait::{current_id, current_id_if_assigned, interrupt};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

const FILLING: u8 = 0;
const ACTION: u8 = 1;
const DRAINING: u8 = 2;
const RESETTING: u8 = 3;
const BROKEN: u8 = 4;

pub const NO_PARTIES: Error = Error::new(rt_status::RT_EINVAL, "parties must be > 0");
/// The barrier is broken: aborted, or broken by another thread's timeout or action.
pub const BROKEN_BARRIER: Error = Error::new(rt_status::RT_EBROKEN, "barrier is broken");
/// The waiter was released by `reset`.
pub const RESET_BARRIER: Error = Error::new(rt_status::RT_EBROKEN, "barrier was reset");
/// The waiter's own timeout broke the barrier.
pub const TIMED_OUT: Error = Error::new(rt_status::RT_EBROKEN, "barrier wait timed out");
/// The action, run by this thread, failed and broke the barrier.
pub const ACTION_FAILED: Error = Error::new(rt_status::RT_EBROKEN, "barrier action failed");
/// A wait on the barrier from inside its own action, which could never end.
pub const OWN_ACTION: Error = Error::new(rt_status::RT_EDEADLK, "barrier wait from its own action");

/// The action run by the last thread to arrive, before any is released; `false` breaks the
/// barrier.
pub type Action = Box<dyn Fn() -> bool + Send + Sync>;

/// A barrier for a fixed number of threads, reusable for any number of cycles
/// (`threading.Barrier`).
pub struct Barrier {
    cond: Condition<Lock>,
    state: AtomicU8,
    count: AtomicUsize,
    parties: usize,
    /// The default timeout in seconds, validated; `FOREVER` is none.
    timeout: f64,
    action: Option<Action>,
    /// The id of the thread running the action (`wait::current_id`), 0 when none is.
    action_thread: AtomicU64,
    /// A thread gave up at the entry: the cycle now leaving ends in BROKEN, not FILLING.
    break_after_cycle: AtomicBool,
}

/// The internal lock, held until dropped.
struct Held<'a>(&'a Lock);

impl<'a> Held<'a> {
    fn new(lock: &'a Lock) -> Held<'a> {
        lock.acquire_internal();
        Held(lock)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.release();
    }
}

impl Barrier {
    /// `Barrier(parties, action, timeout)`: `timeout` is the default for [`Barrier::wait`], in
    /// seconds, `FOREVER` for none. `Err`: `RT_EINVAL` for `parties == 0` or a NaN or negative
    /// timeout (other than `FOREVER`), `RT_EOVERFLOW` for one above `TIMEOUT_MAX`.
    pub fn new(parties: usize, action: Option<Action>, timeout: f64) -> Result<Barrier, Error> {
        if parties == 0 {
            return Err(NO_PARTIES);
        }
        timeout_wait(timeout)?;
        Ok(Barrier {
            cond: Condition::with_lock(Lock::new()),
            state: AtomicU8::new(FILLING),
            count: AtomicUsize::new(0),
            parties,
            timeout,
            action,
            action_thread: AtomicU64::new(0),
            break_after_cycle: AtomicBool::new(false),
        })
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::Relaxed)
    }

    fn set_state(&self, s: u8) {
        self.state.store(s, Ordering::Relaxed);
    }

    fn lock(&self) -> Held<'_> {
        Held::new(self.cond.lock())
    }

    /// Passes the barrier (`wait(timeout)`): returns this thread's arrival index, 0 to
    /// `parties - 1`, once every party has arrived (and the action, if any, has run in the last
    /// one). `timeout` `None` uses the barrier's default.
    ///
    /// `Err`: `RT_EBROKEN` when the barrier is or becomes broken, or is reset, during the wait,
    /// and when the timeout expires (while the previous cycle is still leaving, too);
    /// `RT_EINTR` when interrupted (the barrier breaks if the thread had arrived); `RT_EDEADLK`
    /// at once in the thread running this barrier's action.
    pub fn wait(&self, timeout: Option<Wait>) -> Result<usize, Error> {
        annotate::released(self);
        let r = self.wait_unannotated(timeout);
        if r.is_ok() {
            annotate::acquired(self);
        }
        r
    }

    fn wait_unannotated(&self, timeout: Option<Wait>) -> Result<usize, Error> {
        let me = current_id_if_assigned();
        if me != 0 && self.action_thread.load(Ordering::Relaxed) == me {
            return Err(OWN_ACTION);
        }
        let wait = timeout.unwrap_or_else(|| Wait::for_secs(self.timeout));
        let _held = self.lock();
        // Wait while the previous cycle runs its action, drains or resets.
        loop {
            match self.state() {
                FILLING => break,
                BROKEN => return Err(BROKEN_BARRIER),
                _ => match self.cond.wait_internal(wait) {
                    Err(e @ Error::INTERRUPTED) => return Err(e),
                    Err(Error::TIMEOUT)
                        if wait.expired() && !matches!(self.state(), FILLING | BROKEN) =>
                    {
                        self.break_after_cycle.store(true, Ordering::Relaxed);
                        return Err(TIMED_OUT);
                    }
                    _ => {}
                },
            }
        }
        let index = self.count.load(Ordering::Relaxed);
        self.count.store(index + 1, Ordering::Relaxed);
        // A fork during the wait (from the action, run by this thread) forgets this thread's
        // place in the count: the child's repair set it to zero.
        let counted_in = crate::wait::fork::generation();
        let mut panic = None;
        let result = if index + 1 == self.parties {
            self.release_cycle(&mut panic)
        } else {
            self.wait_cycle(wait)
        };
        if counted_in == crate::wait::fork::generation() {
            let left = self.count.load(Ordering::Relaxed) - 1;
            self.count.store(left, Ordering::Relaxed);
            if left == 0 && matches!(self.state(), DRAINING | RESETTING) {
                if self.break_after_cycle.swap(false, Ordering::Relaxed) {
                    self.set_state(BROKEN);
                } else {
                    self.set_state(FILLING);
                }
                let _ = self.cond.notify_all();
            }
        }
        if let Some(payload) = panic {
            // A (Rust) action panicked: the barrier is broken and consistent; go on unwinding.
            drop(_held);
            std::panic::resume_unwind(payload);
        }
        result.map(|()| index)
    }

    /// The last arrival: runs the action without the lock, then releases the cycle. A panic in
    /// the action breaks the barrier, and its payload is left in `panic` for the caller.
    fn release_cycle(&self, panic: &mut Option<Box<dyn Any + Send>>) -> Result<(), Error> {
        if let Some(action) = &self.action {
            self.set_state(ACTION);
            self.action_thread.store(current_id(), Ordering::Relaxed);
            let lock = self.cond.lock();
            let _ = lock.release();
            let outcome = catch_unwind(AssertUnwindSafe(action));
            lock.acquire_internal();
            self.action_thread.store(0, Ordering::Relaxed);
            let ok = match outcome {
                Ok(ok) => ok,
                Err(payload) => {
                    *panic = Some(payload);
                    false
                }
            };
            match self.state() {
                ACTION if ok => {}
                ACTION => {
                    self.break_barrier();
                    return Err(ACTION_FAILED);
                }
                RESETTING => return Err(RESET_BARRIER),
                _ => return Err(BROKEN_BARRIER),
            }
        }
        self.set_state(DRAINING);
        let _ = self.cond.notify_all();
        Ok(())
    }

    /// Any other arrival: waits for the cycle to end.
    fn wait_cycle(&self, wait: Wait) -> Result<(), Error> {
        loop {
            let state = self.state();
            match state {
                DRAINING => return Ok(()),
                RESETTING => return Err(RESET_BARRIER),
                BROKEN => return Err(BROKEN_BARRIER),
                _ => {}
            }
            // Once every party has arrived, timeouts no longer apply.
            let phase = if state == ACTION { Wait::Forever } else { wait };
            let r = self.cond.wait_internal(phase);
            let state = self.state();
            if matches!(state, DRAINING | RESETTING | BROKEN) {
                if r == Err(Error::INTERRUPTED) {
                    interrupt::rearm();
                }
                continue;
            }
            match r {
                Err(Error::TIMEOUT) if state == FILLING && wait.expired() => {
                    self.break_barrier();
                    return Err(TIMED_OUT);
                }
                Err(e @ Error::INTERRUPTED) => {
                    self.break_barrier();
                    return Err(e);
                }
                _ => {}
            }
        }
    }

    /// Breaks the barrier and wakes every waiter. The lock must be held.
    fn break_barrier(&self) {
        self.set_state(BROKEN);
        let _ = self.cond.notify_all();
    }

    /// Puts the barrier back to its empty state (`reset()`): current waiters get `RT_EBROKEN`,
    /// and new arrivals wait until they have left.
    pub fn reset(&self) {
        let _held = self.lock();
        self.break_after_cycle.store(false, Ordering::Relaxed);
        if self.count.load(Ordering::Relaxed) > 0 {
            if matches!(self.state(), FILLING | ACTION | BROKEN) {
                self.set_state(RESETTING);
            }
        } else {
            self.set_state(FILLING);
        }
        let _ = self.cond.notify_all();
    }

    /// Breaks the barrier (`abort()`): current and later waits get `RT_EBROKEN` until `reset`.
    pub fn abort(&self) {
        let _held = self.lock();
        self.break_barrier();
    }

    /// The number of threads needed to pass (`parties`).
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current cycle (`n_waiting`): 0 unless it is filling.
    pub fn n_waiting(&self) -> usize {
        match self.state() {
            FILLING | ACTION => self.count.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// Whether the barrier is broken (`broken`).
    pub fn broken(&self) -> bool {
        self.state() == BROKEN
    }

    /// The default timeout, in seconds (`FOREVER`: none).
    pub fn default_timeout(&self) -> f64 {
        self.timeout
    }
}

/// The fork child's repair (see `wait::fork`): prepare takes the internal lock, the child
/// re-initialises it and forgets the threads that vanished inside `wait`. A cycle that was
/// filling goes on filling, without them; one that was draining or being reset is over; one
/// whose action was running cannot complete (its parties are gone) and is broken, as a broken
/// barrier stays broken: `reset` repairs it.
impl crate::wait::fork::ForkSafe for Barrier {
    fn try_lock_for_fork(&self) -> bool {
        self.cond.lock().try_acquire()
    }

    fn unlock_after_fork(&self) {
        let _ = self.cond.lock().release();
    }

    fn reset_in_child(&self) {
        self.count.store(0, Ordering::Relaxed);
        // A late arrival's wish to break the cycle that it gave up on went with that cycle.
        self.break_after_cycle.store(false, Ordering::Relaxed);
        self.set_state(match self.state() {
            ACTION | BROKEN => BROKEN,
            _ => FILLING,
        });
        self.cond.lock().reset();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::time::FOREVER;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;

    #[test]
    fn creation_errors() {
        assert_eq!(Barrier::new(0, None, FOREVER).err(), Some(NO_PARTIES));
        assert!(Barrier::new(1, None, f64::NAN).is_err());
        assert!(Barrier::new(1, None, -2.0).is_err());
        assert_eq!(Barrier::new(3, None, 1.5).unwrap().default_timeout(), 1.5);
    }

    #[test]
    fn one_party_never_waits() {
        let b = Barrier::new(1, None, FOREVER).unwrap();
        assert_eq!(b.wait(Some(Wait::Try)), Ok(0));
        assert_eq!(b.wait(None), Ok(0));
        assert!(!b.broken());
    }

    #[test]
    fn generations_with_an_action() {
        let runs = Arc::new(StdAtomicUsize::new(0));
        let r = runs.clone();
        let action: Action = Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
            true
        });
        let b = Arc::new(Barrier::new(3, Some(action), FOREVER).unwrap());
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || {
                    let mut sum = 0;
                    for _ in 0..200 {
                        sum += b.wait(None).unwrap();
                    }
                    sum
                })
            })
            .collect();
        let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(total, 200 * 3, "each cycle hands out 0, 1 and 2");
        assert_eq!(runs.load(Ordering::SeqCst), 200);
        assert_eq!(b.n_waiting(), 0);
    }

    #[test]
    fn a_wait_from_its_own_action_is_edeadlk() {
        let slot: Arc<std::sync::OnceLock<Arc<Barrier>>> = Arc::default();
        let nested = Arc::new(std::sync::Mutex::new(None));
        let (s, n) = (slot.clone(), nested.clone());
        let action: Action = Box::new(move || {
            let b = s.get().unwrap();
            let t0 = std::time::Instant::now();
            let r = b.wait(Some(Wait::for_secs(30.0)));
            *n.lock().unwrap() = Some((r, t0.elapsed()));
            true
        });
        let b = Arc::new(Barrier::new(1, Some(action), FOREVER).unwrap());
        let _ = slot.set(b.clone());
        assert_eq!(b.wait(None), Ok(0));
        let (r, took) = nested.lock().unwrap().take().unwrap();
        assert_eq!(r, Err(OWN_ACTION));
        assert!(took < std::time::Duration::from_secs(4), "{took:?}");
        assert!(!b.broken());
    }

    /// DRAINING held by hand (a released thread that has not left yet): a late arrival's
    /// timeout is honoured, the draining cycle keeps its outcome, and the next cycle is broken.
    #[test]
    fn a_late_wait_times_out_while_the_cycle_drains() {
        let b = Arc::new(Barrier::new(2, None, FOREVER).unwrap());
        {
            let _held = b.lock();
            b.set_state(DRAINING);
            b.count.store(1, Ordering::Relaxed);
        }
        // The draining thread leaves after 6 s, as `wait` does when it returns.
        let leaver = {
            let b = b.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(6));
                let _held = b.lock();
                b.count.store(0, Ordering::Relaxed);
                let broken = b.break_after_cycle.swap(false, Ordering::Relaxed);
                b.set_state(if broken { BROKEN } else { FILLING });
                let _ = b.cond.notify_all();
            })
        };
        let t0 = std::time::Instant::now();
        assert_eq!(b.wait(Some(Wait::for_secs(0.3))), Err(TIMED_OUT));
        let took = t0.elapsed();
        assert!(took >= std::time::Duration::from_millis(300), "{took:?}");
        assert!(took < std::time::Duration::from_secs(4), "{took:?}");
        assert!(!b.broken(), "the draining cycle keeps its outcome");
        leaver.join().unwrap();
        assert!(b.broken());
        b.reset();
        assert!(!b.broken());
    }

    #[test]
    fn timeout_breaks_and_reset_repairs() {
        let b = Barrier::new(2, None, 0.02).unwrap();
        assert_eq!(b.wait(None), Err(TIMED_OUT));
        assert!(b.broken());
        assert_eq!(b.wait(None), Err(BROKEN_BARRIER));
        b.reset();
        assert!(!b.broken());
        assert_eq!(b.wait(Some(Wait::Try)), Err(TIMED_OUT));
        b.reset();
        b.abort();
        assert_eq!(b.wait(None), Err(BROKEN_BARRIER));
    }

    #[test]
    fn panicking_action_breaks_and_propagates() {
        let b = Arc::new(Barrier::new(2, Some(Box::new(|| panic!("boom"))), FOREVER).unwrap());
        let b2 = b.clone();
        let t = std::thread::spawn(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| b2.wait(None))).map_err(|_| ())
        });
        let mine = std::panic::catch_unwind(AssertUnwindSafe(|| b.wait(None))).map_err(|_| ());
        let theirs = t.join().unwrap();
        // One thread ran the action and panicked; the other saw the barrier break.
        let results = [mine, theirs];
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
        assert!(results.contains(&Ok(Err(BROKEN_BARRIER))));
        assert!(b.broken());
        assert_eq!(b.n_waiting(), 0);
        b.reset();
        assert!(!b.broken());
        assert!(!b.cond.lock().locked());
    }

    #[test]
    fn failing_action_breaks() {
        let b = Arc::new(Barrier::new(2, Some(Box::new(|| false)), FOREVER).unwrap());
        let b2 = b.clone();
        let t = std::thread::spawn(move || b2.wait(None));
        let mine = b.wait(None);
        let theirs = t.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_by_key(|r| r.err().map(|e| format!("{e}")));
        assert_eq!(got, [Err(ACTION_FAILED), Err(BROKEN_BARRIER)]);
        assert!(b.broken());
    }

    #[test]
    fn interrupted_waiter_breaks_the_barrier() {
        let b = Arc::new(Barrier::new(2, None, FOREVER).unwrap());
        let b2 = b.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(crate::wait::current_record().unwrap()).unwrap();
            b2.wait(None)
        });
        let rec = rx.recv().unwrap();
        while b.n_waiting() == 0 {
            std::thread::yield_now();
        }
        rec.interrupt();
        assert_eq!(t.join().unwrap(), Err(Error::INTERRUPTED));
        assert!(b.broken());
        assert_eq!(b.wait(None), Err(BROKEN_BARRIER));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::time::FOREVER;
    use loom::sync::Arc;
    use loom::thread;

    /// Two parties pass with indexes 0 and 1, the action running once, before either leaves.
    #[test]
    fn loom_barrier_one_cycle_with_action() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let runs = Arc::new(AtomicUsize::new(0));
            let r = runs.clone();
            let action: Action = Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
                true
            });
            let b = Arc::new(Barrier::new(2, Some(action), FOREVER).unwrap());
            let (b2, runs2) = (b.clone(), runs.clone());
            let other = thread::spawn(move || {
                let i = b2.wait(None).unwrap();
                assert_eq!(runs2.load(Ordering::SeqCst), 1);
                i
            });
            let mine = b.wait(None).unwrap();
            assert_eq!(runs.load(Ordering::SeqCst), 1);
            let theirs = other.join().unwrap();
            assert_eq!(mine + theirs, 1);
            assert_eq!(b.n_waiting(), 0);
        });
    }

    /// abort releases a waiter with RT_EBROKEN, or makes its later arrival fail.
    #[test]
    fn loom_barrier_abort_releases_the_waiter() {
        loom::model(|| {
            let b = Arc::new(Barrier::new(2, None, FOREVER).unwrap());
            let b2 = b.clone();
            let waiter = thread::spawn(move || b2.wait(None));
            b.abort();
            assert_eq!(waiter.join().unwrap(), Err(BROKEN_BARRIER));
            assert!(b.broken());
        });
    }
}
