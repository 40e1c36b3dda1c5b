//! Deadlock detection (`RT_DEBUG_DEADLOCK`): the waits-for walk.
//!
//! A thread about to wait on an object (a Lock, an RLock, a Condition's lock taken back, a
//! thread it joins) follows the graph thread → object → the thread holding it → the object
//! that thread waits on → ... If the walk comes back to the caller, waiting would close a
//! cycle: the caller does not wait and gets `RT_EDEADLK`, its last message names the cycle,
//! and the cycle is reported ([`super::report`]).
//!
//! The walk runs under `DETECT`, which every blocked-on record of a detecting wait is also
//! written under, so of two threads closing a cycle at once the second sees the first. Every
//! other thread in the cycle is blocked (its record says so, and cannot change while the walk
//! holds the lock), and a blocked thread adds nothing to its held list; so every edge the walk
//! saw still existed when it saw the first one: the cycle was real at that moment. Only a
//! release by a thread outside the cycle (a Lock has no owner) or the end of a timed wait in it
//! could have undone it; a cycle through timed waits is reported all the same (it holds until
//! a timeout gives up).
//!
//! A thread that waits for a Lock it acquired itself is not a cycle: any thread may release a
//! Lock, which programs use as a signal.
//!
//! The holder of a Lock or RLock is the holder recorded in the threads' held lists (see
//! `threads`); the "holder" of a thread being joined is that thread.

use super::threads::{Blocked, DebugThread, holder_of, with_thread};
use super::{Object, Text};
use crate::status::{Error, Message, record_text, rt_status};
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The longest cycle the walk follows.
pub const MAX_CYCLE: usize = 32;

/// A cycle: `steps[i]` is (a thread, the object it waits on); the object of step i is held by
/// the thread of step i+1, and the last one's by the first thread.
pub struct Cycle {
    steps: [(u64, Object, &'static str); MAX_CYCLE],
    len: usize,
}

/// Who holds `obj` for the walk: the joined thread for a join, the recorded holder otherwise.
fn owner(b: &Blocked) -> u64 {
    if b.owner != 0 {
        b.owner
    } else {
        holder_of(b.edge().addr)
    }
}

/// Whether `me` waiting as `b` says would close a cycle. Called under `DETECT`.
pub(super) fn find_cycle(me: &DebugThread, b: &Blocked) -> Option<Cycle> {
    let mut c = Cycle {
        steps: [(0, b.obj, ""); MAX_CYCLE],
        len: 0,
    };
    c.steps[0] = (me.id, b.edge(), b.call);
    c.len = 1;
    let mut wait = *b;
    loop {
        let holder = owner(&wait);
        if holder == 0 {
            return None;
        }
        if holder == me.id {
            // A thread waiting for a Lock it acquired itself waits for another thread to
            // release it (a Lock has no owner: it may serve as a signal): not a cycle.
            if c.len == 1 && b.edge().kind == super::Kind::Lock {
                return None;
            }
            return Some(c);
        }
        if c.len == MAX_CYCLE || c.steps[..c.len].iter().any(|s| s.0 == holder) {
            // A cycle that does not go through the caller: not this wait's to report.
            return None;
        }
        wait = with_thread(holder, |t| t.and_then(DebugThread::blocked))?;
        c.steps[c.len] = (holder, wait.edge(), wait.call);
        c.len += 1;
    }
}

/// Writes a thread's name for reports (`thread "NAME"`), given its id; set by the layer that
/// knows thread objects.
pub type ThreadNamer = fn(id: u64, out: &mut Text);

/// Writes ` "NAME"` for the live thread object whose handle is at `addr` (nothing if there is
/// none); set by the layer that knows thread objects.
pub type HandleNamer = fn(addr: usize, out: &mut Text);

static NAMER: AtomicUsize = AtomicUsize::new(0);
static HANDLE_NAMER: AtomicUsize = AtomicUsize::new(0);

/// Sets the functions that name threads in reports.
pub fn set_thread_namer(by_id: ThreadNamer, by_handle: HandleNamer) {
    NAMER.store(by_id as usize, Ordering::Release);
    HANDLE_NAMER.store(by_handle as usize, Ordering::Release);
}

/// Writes ` "NAME"` for the thread object at `addr`, if it is a live thread's.
pub fn name_thread_object(addr: usize, out: &mut Text) {
    let f = HANDLE_NAMER.load(Ordering::Acquire);
    if f != 0 {
        // SAFETY: only `set_thread_namer` stores here, a `HandleNamer`.
        let f: HandleNamer = unsafe { std::mem::transmute::<usize, HandleNamer>(f) };
        f(addr, out);
    }
}

/// Writes `thread "NAME"` (or `thread #ID` when no name is known) for the thread whose id is
/// `id`.
pub fn describe_thread(id: u64, out: &mut Text) {
    let f = NAMER.load(Ordering::Acquire);
    if f == 0 {
        let _ = write!(out, "thread #{id}");
    } else {
        // SAFETY: only `set_thread_namer` stores here, a `ThreadNamer`.
        let f: ThreadNamer = unsafe { std::mem::transmute::<usize, ThreadNamer>(f) };
        f(id, out);
    }
}

/// Writes the cycle: `thread "A" would wait in rt_lock_acquire for lock "L1" held by thread
/// "B", which waits in rt_lock_acquire for lock "L2" held by thread "A"` (with the objects'
/// addresses when `addresses`). A thread joined is its own holder: no "held by" after it.
pub fn describe_cycle(c: &Cycle, out: &mut Text, addresses: bool) {
    for (i, (tid, obj, call)) in c.steps[..c.len].iter().enumerate() {
        if i == 0 {
            describe_thread(*tid, out);
            let _ = write!(out, " would wait in {call} for ");
        } else {
            let _ = write!(out, ", which waits in {call} for ");
        }
        if addresses {
            obj.describe(out);
        } else {
            obj.describe_short(out);
        }
        if obj.kind != super::Kind::Thread || i + 1 == c.len {
            let _ = out.write_str(" held by ");
            let next = c.steps[(i + 1) % c.len].0;
            describe_thread(next, out);
        }
    }
}

/// Reports the cycle, records it as the calling thread's last message, and returns the error
/// that carries it.
pub(super) fn report_cycle(c: &Cycle) -> Error {
    let mut t = Text::new();
    let _ = t.write_str("deadlock: ");
    describe_cycle(c, &mut t, false);
    record_text(rt_status::RT_EDEADLK, t.as_str());
    let mut r = Text::new();
    let _ = r.write_str("rthread: deadlock: ");
    describe_cycle(c, &mut r, true);
    let _ = r.write_str("\n");
    super::report(r.as_str());
    Error {
        status: rt_status::RT_EDEADLK,
        message: Message::Recorded,
    }
}
