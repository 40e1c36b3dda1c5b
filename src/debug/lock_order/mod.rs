//! Lock-order checking (`RT_DEBUG_LOCK_ORDER`): the Linux kernel's lockdep idea for Locks and
//! RLocks.
//!
//! # What is recorded
//! Each thread keeps the locks it holds, in order, in a small stack of its own ([`Held`]). When
//! it acquires B while it holds A, the order "A then B" is an edge A → B of one global graph
//! whose nodes are the objects, keyed by address. Before a new edge A → B is added, the graph is
//! searched for a path B → … → A: if there is one, some thread took B before A (directly, or
//! through other locks), and the two orders together can deadlock in another run, even if they
//! did not in this one. The pair {A, B} is then reported, once, with both orders, the threads
//! that recorded them and the objects' names; the inverting edge is not added, so the graph
//! stays acyclic and the search cheap. Nothing else changes: the acquisition goes on, no error.
//!
//! # Who holds what, when any thread may release a Lock
//! An acquisition that finds the thread's stack empty (the common case) never touches the
//! graph. A Lock may be released by a thread other than its acquirer: the generation counters
//! ([`Gens`], in `held.rs`) then turn the acquirer's entry stale. An RLock is only ever released
//! by its owner. A condition's wait lets go of its lock and takes it back inside rthread, unseen
//! here: the waiter's entry stays, which is right again when the wait returns (and the waiter
//! acquires nothing meanwhile).
//!
//! # Memory
//! The graph's tables are bounded ([`MAX_NODES`], [`MAX_EDGES`], see `graph.rs`) and each
//! thread's stack is a fixed array of [`STACK`] entries; when a table is full, or an allocation
//! fails, some orders are not checked (reported once), nothing else.
//!
//! # Files
//! - this one: the calls the debug dispatchers make ([`acquired`], [`releasing`], [`forget`],
//!   [`clear`]), the one graph and the counters, and [`on_acquire`], which ties a thread's stack
//!   to the graph;
//! - `graph.rs`: the order graph, its search for an inversion and its bounds;
//! - `held.rs`: each thread's stack of held locks, its cache of orders, and the generation
//!   counters that turn entries stale;
//! - `report.rs`: what an inversion holds and the text it is reported as.

pub mod graph;
pub mod held;
pub mod report;

pub use graph::{Graph, MAX_EDGES, MAX_NODES, Outcome};
pub use held::{GEN_WORDS, Gens, Held, STACK};
pub use report::{Inversion, MAX_PATH, Note, Order, ThreadLabel, format_inversion};

use super::{Kind, Object, Text};
use crate::wait::LockCell;
use held::with_held;
use std::sync::atomic::{AtomicBool, Ordering};

// ---- The checker the debug dispatchers call ----

/// The one graph. Its lock is taken by Lock and RLock calls of the C face (with the mode on, for
/// a new order, or to forget an object), never while a user callback runs; under it, a new
/// order asks the thread layer for the thread's name (`describe_thread`: the registry's and a
/// name's locks), which never take it.
#[cfg(not(loom))]
pub(super) static GRAPH: LockCell<Graph> = LockCell::new(Graph::new());
#[cfg(loom)]
loom::lazy_static! {
    pub(super) static ref GRAPH: LockCell<Graph> = LockCell::new(Graph::new());
}

/// Whether the graph was ever used (frees of objects then cost one load).
static USED: AtomicBool = AtomicBool::new(false);

/// One thread's acquisition of `obj`, whose stack is `held`: drops its stale entries, records
/// the orders with the locks it still holds (in the graph, under its lock, unless the thread's
/// cache knows them), and pushes the new entry. `who` describes the thread, asked for only when
/// an order is new. Returns what to report (after the graph's lock is let go).
pub fn on_acquire(
    graph: &LockCell<Graph>,
    gens: &Gens,
    held: &mut Held,
    obj: (usize, Kind),
    who: &mut dyn FnMut() -> ThreadLabel,
) -> Option<Note> {
    held.prune(gens);
    let mut note = None;
    if !held.is_empty() {
        let epoch = gens.epoch();
        let mut guard = None;
        let mut label = None;
        for i in 0..held.len() {
            let (key, kind) = held.entry(i);
            if key == obj.0 || held.cached(key, obj.0, epoch) {
                continue;
            }
            let g = guard.get_or_insert_with(|| graph.lock());
            let mut once = || *label.get_or_insert_with(&mut *who);
            match g.order((key, kind), obj, &mut once) {
                Outcome::Done => held.remember(key, obj.0, epoch),
                Outcome::Report(n) => {
                    held.remember(key, obj.0, epoch);
                    // One report per acquisition: the orders with the locks further in are
                    // recorded at the thread's next such acquisition.
                    note = Some(n);
                    break;
                }
                Outcome::Skipped(n) => note = note.or(n),
            }
        }
    }
    held.push(obj.0, obj.1, gens);
    note
}

static GENS: Gens = Gens::new();

/// The calling thread acquired `obj` (a Lock, or an RLock at its first level): records the
/// orders it makes with the locks the thread holds, and reports an inversion.
pub fn acquired(obj: Object) {
    if !matches!(obj.kind, Kind::Lock | Kind::RLock) {
        return;
    }
    // The graph's lock is one of the debug layer's, taken around a fork.
    super::ensure_fork_safe();
    if !USED.load(Ordering::Relaxed) {
        USED.store(true, Ordering::Relaxed);
    }
    let me = crate::wait::current_id();
    let mut who = || {
        let mut t = Text::new();
        super::deadlock::describe_thread(me, &mut t);
        ThreadLabel::new(me, t.as_str())
    };
    let note = with_held(|h| on_acquire(&GRAPH, &GENS, h, (obj.addr, obj.kind), &mut who));
    match note.flatten() {
        Some(Note::Inversion(inv)) => {
            let mut t = Text::new();
            format_inversion(&inv, &mut t, &mut |out, addr, kind| {
                let mut d = Text::new();
                Object { addr, kind }.describe(&mut d);
                let _ = out.write_str(d.as_str());
            });
            drop(inv);
            super::report(t.as_str());
        }
        Some(Note::Limited) => super::report(
            "rthread: lock-order checking: its tables are full (or memory ran out); some orders \
             are not checked from now on\n",
        ),
        _ => {}
    }
}

/// The calling thread is about to release `obj` (a Lock, whoever acquired it, or an RLock's
/// last level).
pub fn releasing(obj: Object) {
    if !matches!(obj.kind, Kind::Lock | Kind::RLock) {
        return;
    }
    with_held(|h| h.release(obj.addr, &GENS));
}

/// The object at `addr` is freed: its orders are forgotten, and so are the entries of threads
/// that still held it.
pub fn forget(addr: usize) {
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    GENS.bump(addr);
    if GRAPH.lock().forget(addr) {
        GENS.bump_epoch();
    }
}

/// The mode is switched off: releases are no longer seen, so every order and every stack entry
/// is forgotten.
pub fn clear() {
    GENS.bump_all();
    GRAPH.lock().clear();
    GENS.bump_epoch();
}

#[cfg(all(test, not(loom)))]
mod tests;
