//! Spinning before a sleep: the one `SpinWait` of the library.
//!
//! A thread about to sleep on a word that another thread will change in a moment (a lock
//! released, a permit given back, a notify, a thread that is starting) first spins a little:
//! sleeping and being woken cost two system calls and a trip through the scheduler.
//!
//! Spinning only pays while the thread that will make the change can run. [`SpinWait::spin`]
//! therefore:
//!
//! - pauses first, with back-off (2, 4, … 32 pause instructions a round), for the thread's
//!   *pause phase*, at most [`MAX_PAUSE_NS`]: that catches a change made on another CPU;
//! - then yields its CPU a few times, for the case where the thread that will make the change
//!   waits for this very CPU (a loaded machine), and then says it is time to sleep;
//! - learns, per thread, how long to pause ([`Habit`]): a spin that ended while pausing
//!   restores the whole pause phase, one that needed the yields or ran out halves it (and one
//!   sequence in eight probes with the whole pause phase), so that a thread whose partner
//!   shares its CPU, or that waits long, soon goes straight to its yields instead of burning
//!   its time slice;
//! - counts the threads in their pause phase, process-wide ([`SpinGate`]): a thread pauses
//!   only while fewer threads than the machine has CPUs pause, and otherwise goes straight to
//!   its yields. When threads outnumber cores, pausers would take the cores the thread they
//!   wait for needs; a yielder gives its core away. On one CPU nobody pauses.
//!
//! [`SpinWait::pause`] only pauses, for a lock held a few instructions (the wait table's
//! buckets); [`SpinWait::backoff`] and [`SpinWait::snooze`] are the back-off of lock-free loops
//! (the queue's ring), where a thread waits for another that is mid-operation and must let it
//! run however long that takes. Under loom nothing spins: every spin would be a scheduling
//! point.

use super::sys::{spin_hint, yield_now};
use std::sync::atomic::{AtomicU32, Ordering};

/// The longest a [`SpinWait::spin`] sequence pauses before it starts yielding: about what a
/// sleep and a wake-up cost on a virtual machine. A thread learns a shorter pause phase when
/// pausing does not end its waits (see [`Habit`]).
pub const MAX_PAUSE_NS: u32 = 2_000;

/// The shortest pause phase a thread learns (a few pause instructions).
#[cfg(not(loom))]
const MIN_PAUSE_NS: u32 = 125;

/// How many times a spinner yields its CPU after its pause phase, before it sleeps: the thread
/// that ends the wait may be waiting for this very CPU (a loaded machine, or more threads than
/// cores).
const MAX_YIELDS: u32 = 6;

/// How many rounds [`SpinWait::snooze_while`] snoozes at most: seven of back-off (127 pauses
/// in all), then three yields.
const SNOOZE_ROUNDS: u32 = 10;

/// What [`SpinWait::poll_while`] counts a pause instruction as, to turn a pause phase into a
/// number of looks (a pause takes 10–40 ns on current x86 cores).
const POLL_PAUSE_NS: u32 = 30;

/// The most pause instructions in one round of [`SpinWait::spin`] (2^5).
const MAX_ROUND_SHIFT: u32 = 5;

/// Every this many sequences, a thread whose pause phase has shrunk pauses for the whole
/// [`MAX_PAUSE_NS`] once, to find out whether pausing pays again.
const PROBE_EVERY: u32 = 8;

/// How long a thread spins: its pause phase and its yields, learned from how its last spin
/// sequences ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Habit {
    pause_ns: u32,
    yields: u32,
    /// Sequences ended so far (wrapping), for the probes.
    seq: u32,
}

impl Habit {
    const FIRST: Habit = Habit {
        pause_ns: MAX_PAUSE_NS,
        yields: MAX_YIELDS,
        seq: 0,
    };

    /// What the next sequence does: as learned, except that every [`PROBE_EVERY`]th pauses
    /// for the whole [`MAX_PAUSE_NS`] (a thread that learned a short pause phase while its
    /// partner waited for its CPU, or from one long wait, would otherwise never find out that
    /// pausing pays again, and yield where a pause would do).
    fn next(self) -> Habit {
        if self.seq % PROBE_EVERY == PROBE_EVERY - 1 {
            Habit {
                pause_ns: MAX_PAUSE_NS,
                ..self
            }
        } else {
            self
        }
    }

    /// The habit after a sequence that ended with `outcome`:
    /// - the wait ended while pausing (the other thread runs on another CPU): pause the whole
    ///   [`MAX_PAUSE_NS`] next time;
    /// - it ended while yielding (the other thread needed this CPU), or did not end (the
    ///   thread sleeps): pause half as long, down to [`MIN_PAUSE_NS`].
    ///
    /// The yields are kept: thinning them when a wait runs out (so that a thread that waits
    /// long sleeps sooner) was measured to cost the fairness of a lock shared by more threads
    /// than cores (a yielding waiter stays runnable, so the scheduler shares the CPUs with it;
    /// a sleeping one gets no share until it is woken), from about 0.85 of an even share to
    /// 0.3-0.6 with 4 threads on 2 cores.
    #[cfg(not(loom))]
    fn after(self, outcome: Outcome) -> Habit {
        let seq = self.seq.wrapping_add(1);
        let pause_ns = match outcome {
            Outcome::Paused => MAX_PAUSE_NS,
            Outcome::Yielded | Outcome::RanOut => (self.pause_ns / 2).max(MIN_PAUSE_NS),
        };
        Habit {
            pause_ns,
            seq,
            ..self
        }
    }
}

/// How a spin sequence ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Paused,
    Yielded,
    RanOut,
}

#[cfg(not(loom))]
thread_local! {
    /// The calling thread's [`Habit`].
    static HABIT: std::cell::Cell<Habit> = const { std::cell::Cell::new(Habit::FIRST) };
}

#[cfg(not(loom))]
fn habit() -> Habit {
    HABIT.with(|c| c.get())
}

#[cfg(not(loom))]
fn learn(outcome: Outcome) {
    HABIT.with(|c| c.set(c.get().after(outcome)));
}

#[cfg(loom)]
fn habit() -> Habit {
    Habit::FIRST
}

#[cfg(loom)]
fn learn(_outcome: Outcome) {}

/// Counts the threads spinning before a sleep, and refuses more than a limit.
pub struct SpinGate {
    spinners: AtomicU32,
}

impl SpinGate {
    pub const fn new() -> SpinGate {
        SpinGate {
            spinners: AtomicU32::new(0),
        }
    }

    /// Counts the caller in if fewer than `limit` threads spin; false (and nothing counted)
    /// otherwise.
    fn enter(&self, limit: u32) -> bool {
        let mut n = self.spinners.load(Ordering::Relaxed);
        loop {
            if n >= limit {
                return false;
            }
            match self.spinners.compare_exchange_weak(
                n,
                n + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
    }

    /// Counts the caller out (after an `enter` that returned true).
    fn leave(&self) {
        self.spinners.fetch_sub(1, Ordering::Relaxed);
    }

    /// How many threads spin now (a snapshot).
    #[cfg(all(test, not(loom)))]
    fn spinning(&self) -> u32 {
        self.spinners.load(Ordering::Relaxed)
    }
}

impl Default for SpinGate {
    fn default() -> Self {
        Self::new()
    }
}

/// The process's spinners.
static GATE: SpinGate = SpinGate::new();

/// How many threads may spin at once: the CPUs online (read once; 1 if unknown).
fn spin_limit() -> u32 {
    static CPUS: AtomicU32 = AtomicU32::new(0);
    let n = CPUS.load(Ordering::Relaxed);
    if n != 0 {
        return n;
    }
    // SAFETY: sysconf only reads system configuration (files in /sys or /proc: errno kept).
    let online = {
        let _errno = crate::status::KeepErrno::new();
        unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }
    };
    let n = if online > 0 {
        online.min(1 << 16) as u32
    } else {
        1
    };
    CPUS.store(n, Ordering::Relaxed);
    n
}

/// The gate's limit: a single CPU lets nobody spin (the thread that would end the wait
/// cannot run meanwhile).
fn gate_limit() -> u32 {
    match spin_limit() {
        1 => 0,
        n => n,
    }
}

/// Where a [`SpinWait::spin`] sequence is.
#[derive(Clone, Copy)]
enum Phase {
    /// Not started (or reset).
    Idle,
    /// Counted in by `gate` since `started` (monotonic ns); pauses for `habit.pause_ns`.
    Pausing {
        gate: &'static SpinGate,
        started: u64,
        habit: Habit,
    },
    /// Yields, `habit.yields` times in all (not counted by the gate: a yielder leaves its CPU
    /// to others).
    Yielding { habit: Habit },
    /// Over: `spin` says false until a reset.
    Done,
}

/// A spin counter; see the module comment.
pub struct SpinWait {
    counter: u32,
    yields: u32,
    phase: Phase,
}

impl Default for SpinWait {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SpinWait {
    fn drop(&mut self) {
        self.stop();
    }
}

impl SpinWait {
    pub const fn new() -> SpinWait {
        SpinWait {
            counter: 0,
            yields: 0,
            phase: Phase::Idle,
        }
    }

    /// Starts again (after a wake-up that did not end the wait).
    pub fn reset(&mut self) {
        self.stop();
        self.counter = 0;
        self.yields = 0;
        self.phase = Phase::Idle;
    }

    /// Leaves the gate if counted in, and learns from how the spin ended: the caller stops
    /// spinning because its wait ended (or for a reason of its own). Spinning is over until
    /// a reset.
    fn stop(&mut self) {
        match self.phase {
            Phase::Pausing { gate, .. } => {
                gate.leave();
                learn(Outcome::Paused);
            }
            Phase::Yielding { .. } => learn(Outcome::Yielded),
            Phase::Idle | Phase::Done => {}
        }
        self.phase = Phase::Done;
    }

    /// Spins once more; false when it is time to sleep instead. It pauses, with back-off, for
    /// the thread's pause phase (at most [`MAX_PAUSE_NS`]) if fewer threads than the machine
    /// has CPUs are pausing, then yields as often as the thread has learned to.
    pub fn spin(&mut self) -> bool {
        if cfg!(loom) {
            return false;
        }
        let habit = match self.phase {
            Phase::Idle => habit().next(),
            _ => Habit::FIRST,
        };
        self.spin_with(&GATE, gate_limit(), habit)
    }

    /// [`SpinWait::spin`] with its gate, the gate's limit and (if it starts a sequence) the
    /// habit given.
    fn spin_with(&mut self, gate: &'static SpinGate, limit: u32, habit: Habit) -> bool {
        if cfg!(loom) {
            return false;
        }
        match self.phase {
            Phase::Done => return false,
            Phase::Yielding { habit } => return self.yield_once(habit),
            Phase::Idle => {
                if !gate.enter(limit) {
                    return self.yield_once(habit);
                }
                self.phase = Phase::Pausing {
                    gate,
                    started: crate::time::now_ns(),
                    habit,
                };
            }
            Phase::Pausing {
                gate,
                started,
                habit,
            } => {
                if crate::time::now_ns().saturating_sub(started) >= u64::from(habit.pause_ns) {
                    gate.leave();
                    return self.yield_once(habit);
                }
            }
        }
        self.counter = self.counter.saturating_add(1);
        for _ in 0..1u32 << self.counter.min(MAX_ROUND_SHIFT) {
            spin_hint();
        }
        true
    }

    /// The yield phase: yields once more, or ends the sequence (false) after `habit.yields`.
    fn yield_once(&mut self, habit: Habit) -> bool {
        if self.yields < habit.yields {
            self.yields += 1;
            self.phase = Phase::Yielding { habit };
            yield_now();
            return true;
        }
        learn(Outcome::RanOut);
        self.phase = Phase::Done;
        false
    }

    /// Pauses once; false after `rounds` pauses, when it is time to sleep instead.
    pub fn pause(&mut self, rounds: u32) -> bool {
        if cfg!(loom) || self.counter >= rounds {
            return false;
        }
        self.counter += 1;
        spin_hint();
        true
    }

    /// Backs off after a lost compare-exchange in a lock-free loop: 1, 2, 4, … up to 64
    /// pauses, doubling each round.
    #[inline]
    pub fn backoff(&mut self) {
        for _ in 0..1u32 << self.counter.min(6) {
            spin_hint();
        }
        self.counter = self.counter.saturating_add(1);
    }

    /// Waits for another thread that is mid-operation (a slot claimed and not yet published):
    /// backs off as [`SpinWait::backoff`] for seven rounds, then yields (that thread may be
    /// descheduled, and nothing else can end the wait).
    #[inline]
    pub fn snooze(&mut self) {
        if self.counter <= 6 {
            self.backoff();
        } else {
            yield_now();
            self.counter = self.counter.saturating_add(1);
        }
    }

    /// Before a wait for a hand-off expected within a microsecond or two, by a waiter that only
    /// reads (a caller waiting for a future's result): looks at `blocked()` after every pause
    /// instruction, for about the thread's learned pause phase ([`SpinWait::spin`]'s habit:
    /// up to [`MAX_PAUSE_NS`], much less once the thread's waits have been ending only after it
    /// yielded or slept, as when the thread it waits for shares its CPU). No back-off, no clock
    /// and no count of spinners: with [`SpinWait::spin`]'s doubling rounds the look that sees
    /// the change comes up to a round late (32 pauses, near a microsecond, at the end), which
    /// is most of a short round trip. A change seen here teaches the thread to pause the whole
    /// phase again. Not for a thread that waits often while others run (a pool's worker
    /// between items): on a machine with fewer cores than busy threads its polling takes the
    /// CPU from the thread it waits for. True if `blocked()` turned false.
    #[inline]
    pub fn poll_while(blocked: impl Fn() -> bool) -> bool {
        if cfg!(loom) || spin_limit() == 1 {
            return !blocked();
        }
        let looks = habit().next().pause_ns / POLL_PAUSE_NS;
        for _ in 0..looks {
            if !blocked() {
                learn(Outcome::Paused);
                return true;
            }
            spin_hint();
        }
        !blocked()
    }

    /// Before a sleep on a queue: snoozes while `blocked()` holds, ten rounds at most (the
    /// other side is likely to make the item or the room within microseconds). It backs off
    /// before each look, and neither reads the clock nor counts itself in with the spinners
    /// as [`SpinWait::spin`] does: a queue's two sides come here once per empty or full ring,
    /// often many times a millisecond, and a shared counter written on every spin would put
    /// one more cache line between them (measured: the SPSC row a third slower).
    pub fn snooze_while(blocked: impl Fn() -> bool) {
        if cfg!(loom) {
            return;
        }
        let mut s = SpinWait::new();
        loop {
            s.snooze();
            if s.counter >= SNOOZE_ROUNDS || !blocked() {
                return;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn polling_ends_when_the_condition_clears_and_gives_up_after_its_phase() {
        use std::cell::Cell;
        let multi = spin_limit() > 1;
        // Cleared at the third look: seen while polling (a single CPU looks once only).
        let looks = Cell::new(0u32);
        let seen = SpinWait::poll_while(|| {
            looks.set(looks.get() + 1);
            looks.get() < 3
        });
        assert_eq!(seen, multi);
        assert_eq!(looks.get(), if multi { 3 } else { 1 });
        // Never cleared: false, after at most the longest phase's looks and one last one.
        let looks = Cell::new(0u32);
        assert!(!SpinWait::poll_while(|| {
            looks.set(looks.get() + 1);
            true
        }));
        assert!(
            looks.get() <= MAX_PAUSE_NS / POLL_PAUSE_NS + 1,
            "{} looks",
            looks.get()
        );
        assert!(looks.get() >= 1);
    }

    #[test]
    fn spinning_pauses_then_yields_then_ends_and_starts_again_after_a_reset() {
        static G: SpinGate = SpinGate::new();
        let mut s = SpinWait::new();
        let start = crate::time::now_ns();
        let mut rounds = 0;
        let habit = Habit {
            pause_ns: 200_000,
            yields: MAX_YIELDS,
            seq: 0,
        };
        while s.spin_with(&G, 4, habit) {
            rounds += 1;
            let pausing = matches!(s.phase, Phase::Pausing { .. });
            assert_eq!(
                G.spinning(),
                u32::from(pausing),
                "counted in while it pauses"
            );
            assert_eq!(
                s.yields != 0,
                !pausing,
                "yields once the pause phase is over"
            );
        }
        let took = crate::time::now_ns() - start;
        assert!(
            took >= 200_000,
            "stopped after {took} ns, before its pause phase"
        );
        assert!(took < 2_000_000_000, "spun for {took} ns");
        assert!(rounds > MAX_YIELDS as usize);
        assert_eq!(s.yields, MAX_YIELDS, "yields after pausing");
        assert_eq!(G.spinning(), 0, "counted out when it stops");
        assert!(!s.spin_with(&G, 4, habit), "stays over until a reset");
        s.reset();
        assert!(s.spin_with(&G, 4, habit));
        assert_eq!(G.spinning(), 1);
        s.reset();
        assert_eq!(G.spinning(), 0, "a reset counts it out");
        assert!(s.spin_with(&G, 4, habit));
        drop(s);
        assert_eq!(G.spinning(), 0, "so does a drop");
    }

    const FOREVER: Habit = Habit {
        pause_ns: u32::MAX,
        yields: 0,
        seq: 0,
    };

    #[test]
    fn no_more_spinners_than_the_limit() {
        static G: SpinGate = SpinGate::new();
        let mut a = SpinWait::new();
        let mut b = SpinWait::new();
        let mut c = SpinWait::new();
        assert!(a.spin_with(&G, 2, FOREVER));
        assert!(b.spin_with(&G, 2, FOREVER));
        assert!(!c.spin_with(&G, 2, FOREVER), "a third spinner is refused");
        assert_eq!(G.spinning(), 2);
        drop(a);
        assert!(
            !c.spin_with(&G, 2, FOREVER),
            "a refused one sleeps, even with room"
        );
        let mut d = SpinWait::new();
        assert!(d.spin_with(&G, 2, FOREVER), "a place freed is taken");
        drop((b, d));
        assert_eq!(G.spinning(), 0);
        let mut e = SpinWait::new();
        assert!(!e.spin_with(&G, 0, FOREVER), "a limit of 0: nobody pauses");
        // One refused by the gate still yields, as often as its habit says, uncounted.
        let mut full = SpinWait::new();
        assert!(full.spin_with(&G, 1, FOREVER));
        let yielder = Habit {
            pause_ns: u32::MAX,
            yields: 3,
            seq: 0,
        };
        let mut f = SpinWait::new();
        assert_eq!(
            (0..10).take_while(|_| f.spin_with(&G, 1, yielder)).count(),
            3
        );
        assert_eq!(G.spinning(), 1, "the yielder was never counted");
        drop(full);
        assert_eq!(G.spinning(), 0);
    }

    #[test]
    fn a_thread_learns_to_pause_less_when_pausing_does_not_pay() {
        let h = Habit {
            pause_ns: 1_000,
            yields: 4,
            seq: 0,
        };
        let paused = h.after(Outcome::Paused);
        assert_eq!((paused.pause_ns, paused.yields), (MAX_PAUSE_NS, 4));
        let yielded = h.after(Outcome::Yielded);
        assert_eq!((yielded.pause_ns, yielded.yields), (500, 4));
        let ran_out = h.after(Outcome::RanOut);
        assert_eq!(
            (ran_out.pause_ns, ran_out.yields),
            (500, 4),
            "the yields are kept"
        );
        let mut low = Habit::FIRST;
        for _ in 0..40 {
            low = low.after(Outcome::RanOut);
        }
        assert_eq!(
            (low.pause_ns, low.yields),
            (MIN_PAUSE_NS, MAX_YIELDS),
            "never less"
        );
        // A shrunk pause phase: one sequence in PROBE_EVERY pauses the whole time, and one
        // that pays restores it.
        let mut probes = 0;
        let mut h = low;
        for _ in 0..PROBE_EVERY * 3 {
            if h.next().pause_ns == MAX_PAUSE_NS {
                probes += 1;
            } else {
                assert_eq!(h.next(), h);
            }
            h = h.after(Outcome::Yielded);
        }
        assert_eq!(probes, 3);
        assert_eq!(h.after(Outcome::Paused).pause_ns, MAX_PAUSE_NS);
        // A thread's own habit: a sequence that runs out shortens it, one that ends while
        // pausing lengthens the pause again.
        std::thread::spawn(|| {
            static G: SpinGate = SpinGate::new();
            assert_eq!(habit(), Habit::FIRST);
            let mut s = SpinWait::new();
            let short = Habit {
                pause_ns: 1_000,
                yields: 1,
                seq: 0,
            };
            while s.spin_with(&G, 1, short) {}
            assert_eq!(habit(), Habit::FIRST.after(Outcome::RanOut));
            let mut s = SpinWait::new();
            assert!(s.spin_with(&G, 1, FOREVER));
            drop(s);
            assert_eq!(
                habit(),
                Habit::FIRST.after(Outcome::RanOut).after(Outcome::Paused)
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_limit_is_the_cpus_and_one_cpu_spins_never() {
        assert!(spin_limit() >= 1);
        assert_eq!(gate_limit() == 0, spin_limit() == 1);
        if spin_limit() > 1 {
            assert_eq!(gate_limit(), spin_limit());
        }
    }

    #[test]
    fn snoozing_before_a_sleep_ends_when_unblocked_or_after_its_spin() {
        let calls = std::cell::Cell::new(0);
        SpinWait::snooze_while(|| {
            calls.set(calls.get() + 1);
            calls.get() < 3
        });
        // Three checks, unless the process gate was full (other tests spinning): then none.
        assert!(
            calls.get() == 3 || calls.get() == 0,
            "{} checks",
            calls.get()
        );
        let start = crate::time::now_ns();
        SpinWait::snooze_while(|| true);
        assert!(crate::time::now_ns() - start < 2_000_000_000);
    }
}
