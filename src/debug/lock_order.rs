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
//! A Lock has no owner: a thread may release a Lock another thread acquired. Each node therefore
//! records its holder (a thread id, never reused) and a sequence number that moves on at every
//! acquisition and every last release, and each stack entry remembers the node's id and the
//! sequence number of its own acquisition. An entry counts only while the node is still the
//! same object (same id), still held by the stack's thread, and not released since (same
//! sequence): a Lock released by another thread, or freed, or an address reused by a new
//! object, turns the entry stale, and stale entries are dropped the next time the stack is read.
//! The releasing thread's stack needs no entry for it.
//!
//! # Memory
//! At most [`MAX_NODES`] objects, [`MAX_EDGES`] orders and as many reported pairs are kept
//! (each thread's stack is a fixed array of [`STACK`] entries); a freed object's node is
//! forgotten at once (its id is never reused, so edges that pointed to it are recognised as
//! stale and pruned). When a table is full, new objects or orders are not recorded (reported
//! once); every allocation is fallible and a failed one only limits what is recorded.

use super::{Kind, Object, Text};
use crate::wait::LockCell;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes an address: one multiplication (addresses are distinct, their low bits aligned).
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

type AddrMap = HashMap<usize, u32, BuildHasherDefault<AddrHasher>>;

/// Objects (nodes) the graph keeps at most.
pub const MAX_NODES: usize = 4096;
/// Orders (edges) the graph keeps at most.
pub const MAX_EDGES: usize = 16384;
/// Locks a thread's stack remembers at once; deeper nesting is not checked.
pub const STACK: usize = 32;
/// Steps of the earlier order a report shows at most.
pub const MAX_PATH: usize = 8;

/// A thread as a report shows it: its id (`wait::current_id`) and its description, as
/// `deadlock::describe_thread` writes it (`thread "worker"`), cut to 62 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ThreadLabel {
    pub id: u64,
    name: [u8; 62],
    len: u8,
}

impl ThreadLabel {
    pub fn new(id: u64, name: &str) -> ThreadLabel {
        let mut l = ThreadLabel {
            id,
            name: [0; 62],
            len: 0,
        };
        let mut n = name.len().min(l.name.len());
        while !name.is_char_boundary(n) {
            n -= 1;
        }
        l.name[..n].copy_from_slice(&name.as_bytes()[..n]);
        l.len = n as u8;
        l
    }

    pub fn name(&self) -> &str {
        std::str::from_utf8(&self.name[..self.len as usize]).unwrap_or("")
    }
}

/// "A then B" as a report shows it: the two objects and the thread that took them so.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Order {
    pub first: (usize, Kind),
    pub then: (usize, Kind),
    pub by: ThreadLabel,
}

/// An inversion found by [`Graph::acquired`]: the order just seen, and the earlier one it
/// inverts (one or more steps, the first `MAX_PATH` of them).
#[derive(Clone, Debug)]
pub struct Inversion {
    pub now: Order,
    pub earlier: [Option<Order>; MAX_PATH],
    /// Steps of the earlier order beyond `MAX_PATH`, not shown.
    pub more: usize,
}

/// What the graph has to say after an acquisition or a release.
#[derive(Debug)]
pub enum Note {
    Inversion(Box<Inversion>),
    /// A table is full, or an allocation failed: from now on some orders are not checked.
    Limited,
}

struct Edge {
    to: u32,
    /// The id of the node `to` when the edge was made: a different id means it was forgotten.
    to_id: u64,
    by: ThreadLabel,
}

struct Node {
    key: usize,
    /// Never reused; 0 for a free slot.
    id: u64,
    kind: Kind,
    holder: u64,
    depth: u64,
    seq: u64,
    out: Vec<Edge>,
    /// Ids of the nodes an inversion with this one was reported for (the lower id keeps it).
    reported: Vec<u64>,
    /// The search's visit mark and the step it was reached by (slot, edge index).
    mark: u64,
    parent: (u32, u32),
}

/// One entry of a thread's stack: an object, the node's id, the sequence of this acquisition.
#[derive(Clone, Copy, Default)]
struct Entry {
    key: usize,
    id: u64,
    seq: u64,
}

/// The locks one thread holds, innermost last. Kept by the thread, read and written only under
/// the graph's lock (the graph validates its entries).
pub struct Held {
    entries: [Entry; STACK],
    len: usize,
    /// Acquisitions beyond `STACK` not remembered (their releases find no entry).
    overflow: usize,
}

impl Default for Held {
    fn default() -> Self {
        Self::new()
    }
}

impl Held {
    pub const fn new() -> Held {
        Held {
            entries: [Entry {
                key: 0,
                id: 0,
                seq: 0,
            }; STACK],
            len: 0,
            overflow: 0,
        }
    }

    /// Whether the stack remembers nothing (then an acquisition records no order).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn remove_at(&mut self, i: usize) {
        self.entries.copy_within(i + 1..self.len, i);
        self.len -= 1;
    }
}

/// The order graph: objects by address, and the orders seen between them.
pub struct Graph {
    map: AddrMap,
    nodes: Vec<Node>,
    free: Vec<u32>,
    next_id: u64,
    edges: usize,
    /// Pairs reported, kept so that each is reported once (at most `MAX_EDGES`).
    pairs: usize,
    epoch: u64,
    limited: bool,
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

impl Graph {
    pub const fn new() -> Graph {
        Graph {
            map: HashMap::with_hasher(BuildHasherDefault::new()),
            nodes: Vec::new(),
            free: Vec::new(),
            next_id: 1,
            edges: 0,
            pairs: 0,
            epoch: 0,
            limited: false,
        }
    }

    /// Objects known (for tests and bounds).
    pub fn node_count(&self) -> usize {
        self.map.len()
    }

    /// Orders kept, stale ones included until they are pruned.
    pub fn edge_count(&self) -> usize {
        self.edges
    }

    fn limit(&mut self) -> Option<Note> {
        if self.limited {
            None
        } else {
            self.limited = true;
            Some(Note::Limited)
        }
    }

    /// The slot of `key`'s node, made if needed; `Err` with a note when it cannot be.
    fn node(&mut self, key: usize, kind: Kind) -> Result<u32, Option<Note>> {
        if let Some(&s) = self.map.get(&key) {
            return Ok(s);
        }
        if self.map.len() >= MAX_NODES || self.map.try_reserve(1).is_err() {
            return Err(self.limit());
        }
        let id = self.next_id;
        self.next_id += 1;
        let node = Node {
            key,
            id,
            kind,
            holder: 0,
            depth: 0,
            seq: 0,
            out: Vec::new(),
            reported: Vec::new(),
            mark: 0,
            parent: (0, 0),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.nodes[s as usize] = node;
                s
            }
            None => {
                if self.nodes.try_reserve(1).is_err() || self.free.try_reserve(1).is_err() {
                    return Err(self.limit());
                }
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.map.insert(key, slot);
        Ok(slot)
    }

    /// The slot an entry of `me`'s stack stands for, if the entry still counts.
    fn valid(&self, e: &Entry, me: u64) -> Option<u32> {
        let &s = self.map.get(&e.key)?;
        let n = &self.nodes[s as usize];
        (n.id == e.id && n.holder == me && n.seq == e.seq).then_some(s)
    }

    fn edge_live(&self, e: &Edge) -> bool {
        self.nodes[e.to as usize].id == e.to_id
    }

    /// Whether a path leads from `from` to `to`; if so, the parents of the search lead back.
    fn path(&mut self, from: u32, to: u32) -> bool {
        self.epoch += 1;
        let epoch = self.epoch;
        let mut stack: Vec<u32> = Vec::new();
        self.nodes[from as usize].mark = epoch;
        if stack.try_reserve(16).is_err() {
            return false;
        }
        stack.push(from);
        while let Some(s) = stack.pop() {
            for i in 0..self.nodes[s as usize].out.len() {
                let e = &self.nodes[s as usize].out[i];
                if !self.edge_live(e) {
                    continue;
                }
                let t = e.to;
                if self.nodes[t as usize].mark == epoch {
                    continue;
                }
                self.nodes[t as usize].mark = epoch;
                self.nodes[t as usize].parent = (s, i as u32);
                if t == to {
                    return true;
                }
                if stack.try_reserve(1).is_err() {
                    return false;
                }
                stack.push(t);
            }
        }
        false
    }

    /// The earlier order, from the parents the search left: `from` → … → `to`.
    fn earlier(&self, from: u32, to: u32) -> ([Option<Order>; MAX_PATH], usize) {
        let mut steps = 0;
        let mut s = to;
        while s != from {
            steps += 1;
            s = self.nodes[s as usize].parent.0;
        }
        let mut out = [None; MAX_PATH];
        let mut i = steps;
        let mut s = to;
        while s != from {
            let (p, e) = self.nodes[s as usize].parent;
            i -= 1;
            if i < MAX_PATH {
                let (pn, sn) = (&self.nodes[p as usize], &self.nodes[s as usize]);
                out[i] = Some(Order {
                    first: (pn.key, pn.kind),
                    then: (sn.key, sn.kind),
                    by: pn.out[e as usize].by,
                });
            }
            s = p;
        }
        (out, steps.saturating_sub(MAX_PATH))
    }

    /// Drops edges to forgotten nodes.
    fn prune(&mut self) {
        let mut total = 0;
        for i in 0..self.nodes.len() {
            let mut out = std::mem::take(&mut self.nodes[i].out);
            out.retain(|e| self.edge_live(e));
            total += out.len();
            self.nodes[i].out = out;
        }
        self.edges = total;
    }

    /// Records that thread `me` (labelled `who`, asked for only when an order is recorded)
    /// acquired `key`, whose stack is `held`. Returns what to report, if anything.
    pub fn acquired(
        &mut self,
        key: usize,
        kind: Kind,
        me: u64,
        who: &mut dyn FnMut() -> ThreadLabel,
        held: &mut Held,
    ) -> Option<Note> {
        let b = match self.node(key, kind) {
            Ok(s) => s,
            Err(note) => return note,
        };
        let nb = &mut self.nodes[b as usize];
        if nb.holder == me && nb.depth > 0 {
            // An RLock's re-entry: no new order.
            nb.depth += 1;
            return None;
        }
        let mut note = None;
        let mut label = None;
        let mut i = 0;
        while i < held.len {
            let Some(a) = self.valid(&held.entries[i], me) else {
                held.remove_at(i);
                continue;
            };
            i += 1;
            if a == b {
                continue;
            }
            let b_id = self.nodes[b as usize].id;
            if self.nodes[a as usize]
                .out
                .iter()
                .any(|e| e.to == b && e.to_id == b_id)
            {
                continue;
            }
            let by = *label.get_or_insert_with(&mut *who);
            if self.path(b, a) {
                let (lo, hi) = {
                    let (ia, ib) = (self.nodes[a as usize].id, b_id);
                    if ia < ib { (a, ib) } else { (b, ia) }
                };
                if self.nodes[lo as usize].reported.contains(&hi) {
                    continue;
                }
                if self.pairs >= MAX_EDGES
                    || self.nodes[lo as usize].reported.try_reserve(1).is_err()
                {
                    note = note.or_else(|| self.limit());
                    continue;
                }
                self.nodes[lo as usize].reported.push(hi);
                self.pairs += 1;
                if note
                    .as_ref()
                    .is_some_and(|n| matches!(n, Note::Inversion(_)))
                {
                    continue; // one report per acquisition; the next pair waits its turn
                }
                let (earlier, more) = self.earlier(b, a);
                let (na, nb) = (&self.nodes[a as usize], &self.nodes[b as usize]);
                let inv = Inversion {
                    now: Order {
                        first: (na.key, na.kind),
                        then: (nb.key, nb.kind),
                        by,
                    },
                    earlier,
                    more,
                };
                match crate::memory::try_box(inv) {
                    Ok(inv) => note = Some(Note::Inversion(inv)),
                    Err(_) => note = note.or_else(|| self.limit()),
                }
                continue;
            }
            if self.edges >= MAX_EDGES {
                self.prune();
            }
            let na = &mut self.nodes[a as usize];
            if self.edges >= MAX_EDGES || na.out.try_reserve(1).is_err() {
                note = note.or_else(|| self.limit());
                continue;
            }
            na.out.push(Edge {
                to: b,
                to_id: b_id,
                by,
            });
            self.edges += 1;
        }
        let nb = &mut self.nodes[b as usize];
        nb.holder = me;
        nb.depth = 1;
        nb.seq += 1;
        if held.len < STACK {
            held.entries[held.len] = Entry {
                key,
                id: nb.id,
                seq: nb.seq,
            };
            held.len += 1;
        } else {
            held.overflow += 1;
        }
        note
    }

    /// Records that thread `me`, whose stack is `held`, released `key` (one level of an RLock,
    /// or a Lock, whoever acquired it).
    pub fn releasing(&mut self, key: usize, me: u64, held: &mut Held) {
        if let Some(&s) = self.map.get(&key) {
            let n = &mut self.nodes[s as usize];
            if n.holder == me && n.depth > 1 {
                n.depth -= 1;
                return;
            }
            n.holder = 0;
            n.depth = 0;
            n.seq += 1;
        }
        match held.entries[..held.len].iter().rposition(|e| e.key == key) {
            Some(i) => held.remove_at(i),
            None => held.overflow = held.overflow.saturating_sub(1),
        }
    }

    /// Forgets `key` (the object is freed): its node, its orders, its reported pairs.
    pub fn forget(&mut self, key: usize) {
        if let Some(s) = self.map.remove(&key) {
            let n = &mut self.nodes[s as usize];
            self.edges -= n.out.len();
            self.pairs -= n.reported.len();
            n.id = 0;
            n.out = Vec::new();
            n.reported = Vec::new();
            // The slot joins the free list; its room was reserved when it was made.
            self.free.push(s);
        }
    }

    /// Forgets everything (checking switched off, or a fork child).
    pub fn clear(&mut self) {
        *self = Graph {
            next_id: self.next_id,
            epoch: self.epoch,
            ..Graph::new()
        };
    }
}

/// Writes `inv` as the report's text; `describe` writes one object (kind, name, address).
pub fn format_inversion(
    inv: &Inversion,
    out: &mut dyn Write,
    describe: &mut dyn FnMut(&mut dyn Write, usize, Kind),
) {
    fn order(
        out: &mut dyn Write,
        o: &Order,
        describe: &mut dyn FnMut(&mut dyn Write, usize, Kind),
    ) {
        describe(out, o.first.0, o.first.1);
        let _ = out.write_str(" then ");
        describe(out, o.then.0, o.then.1);
        let _ = writeln!(out, ", in {}", o.by.name());
    }
    let _ = out.write_str("rthread: lock order inversion (a possible deadlock): ");
    describe(out, inv.now.first.0, inv.now.first.1);
    let _ = out.write_str(" and ");
    describe(out, inv.now.then.0, inv.now.then.1);
    let _ = out.write_str(" are taken in both orders\n  this order:    ");
    order(out, &inv.now, describe);
    let mut first = true;
    for o in inv.earlier.iter().flatten() {
        let _ = out.write_str(if first {
            "  earlier order: "
        } else {
            "           then: "
        });
        first = false;
        order(out, o, describe);
    }
    if inv.more > 0 {
        let _ = writeln!(out, "           and {} more steps", inv.more);
    }
}

// ---- The checker the debug dispatchers call ----

/// The one graph. Its lock is taken by Lock and RLock calls of the C face (with the mode on),
/// and never while a user callback runs; under it, a new order asks the thread layer for the
/// thread's name (`describe_thread`: the registry's and a name's locks), which never take it.
static GRAPH: LockCell<Graph> = LockCell::new(Graph::new());

thread_local! {
    /// The calling thread's stack, read and written only under `GRAPH`'s lock.
    static HELD: RefCell<Held> = const { RefCell::new(Held::new()) };
}

/// The graph's fork handling: the child forgets every order (its other threads are gone).
struct GraphFork;

impl crate::wait::fork::ForkSafe for GraphFork {
    fn try_lock_for_fork(&self) -> bool {
        GRAPH.try_lock_for_fork()
    }
    fn unlock_after_fork(&self) {
        // SAFETY: prepare took the lock with try_lock_for_fork.
        unsafe { GRAPH.unlock_after_fork() }
    }
    fn reset_in_child(&self) {
        // SAFETY: in the child, one thread, no guard alive (prepare held the lock).
        unsafe { GRAPH.reset_in_child() }.clear();
    }
}

static GRAPH_FORK: GraphFork = GraphFork;

/// Whether the graph was ever used (frees of objects then cost one load).
static USED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn ensure_fork_safe() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        USED.store(true, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: a static, valid for ever. Without memory the child simply keeps the orders.
        let _ =
            unsafe { crate::wait::fork::register(&GRAPH_FORK as &dyn crate::wait::fork::ForkSafe) };
    });
}

/// The calling thread acquired `obj` (a Lock, or an RLock at its first level): records the
/// orders it makes with the locks the thread holds, and reports an inversion.
pub fn acquired(obj: Object) {
    if !matches!(obj.kind, Kind::Lock | Kind::RLock) {
        return;
    }
    ensure_fork_safe();
    let me = crate::wait::current_id();
    let mut who = || {
        let mut t = Text::new();
        super::deadlock::describe_thread(me, &mut t);
        ThreadLabel::new(me, t.as_str())
    };
    let note = HELD.try_with(|h| {
        let mut h = h.try_borrow_mut().ok()?;
        GRAPH
            .lock()
            .acquired(obj.addr, obj.kind, me, &mut who, &mut h)
    });
    match note {
        Ok(Some(Note::Inversion(inv))) => {
            let mut t = Text::new();
            format_inversion(&inv, &mut t, &mut |out, addr, kind| {
                let mut d = Text::new();
                Object { addr, kind }.describe(&mut d);
                let _ = out.write_str(d.as_str());
            });
            drop(inv);
            super::report(t.as_str());
        }
        Ok(Some(Note::Limited)) => super::report(
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
    let me = crate::wait::current_id();
    let _ = HELD.try_with(|h| {
        if let Ok(mut h) = h.try_borrow_mut() {
            GRAPH.lock().releasing(obj.addr, me, &mut h);
        }
    });
}

/// The object at `addr` is freed: its orders are forgotten.
pub fn forget(addr: usize) {
    if !USED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let mut g = GRAPH.lock();
    if g.node_count() != 0 {
        g.forget(addr);
    }
}

/// The mode is switched off: releases are no longer seen, so every order and hold is forgotten
/// (the stacks' entries go stale with their nodes).
pub fn clear() {
    GRAPH.lock().clear();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const T1: u64 = 11;
    const T2: u64 = 22;

    fn label(id: u64) -> impl FnMut() -> ThreadLabel {
        move || {
            ThreadLabel::new(
                id,
                if id == T1 {
                    "thread \"one\""
                } else {
                    "thread \"two\""
                },
            )
        }
    }

    fn acq(g: &mut Graph, key: usize, me: u64, held: &mut Held) -> Option<Note> {
        g.acquired(key, Kind::Lock, me, &mut label(me), held)
    }

    fn inversion(n: Option<Note>) -> Box<Inversion> {
        match n {
            Some(Note::Inversion(i)) => i,
            other => panic!("expected an inversion, got {other:?}"),
        }
    }

    fn text(inv: &Inversion) -> String {
        let mut s = String::new();
        format_inversion(inv, &mut s, &mut |out, key, kind| {
            let _ = write!(out, "{} {key:#x}", kind.word());
        });
        s
    }

    #[test]
    fn direct_inversion_is_reported_with_both_orders() {
        let mut g = Graph::new();
        let (mut h1, mut h2) = (Held::new(), Held::new());
        assert!(acq(&mut g, 0xA, T1, &mut h1).is_none());
        assert!(acq(&mut g, 0xB, T1, &mut h1).is_none());
        g.releasing(0xB, T1, &mut h1);
        g.releasing(0xA, T1, &mut h1);
        assert!(h1.is_empty());
        assert!(acq(&mut g, 0xB, T2, &mut h2).is_none());
        let inv = inversion(acq(&mut g, 0xA, T2, &mut h2));
        assert_eq!(inv.now.first.0, 0xB);
        assert_eq!(inv.now.then.0, 0xA);
        assert_eq!(inv.now.by.id, T2);
        assert_eq!(inv.now.by.name(), "thread \"two\"");
        let e = inv.earlier[0].unwrap();
        assert_eq!((e.first.0, e.then.0, e.by.id), (0xA, 0xB, T1));
        assert_eq!(e.by.name(), "thread \"one\"");
        assert!(inv.earlier[1].is_none());
        let t = text(&inv);
        assert!(
            t.contains("this order:    lock 0xb then lock 0xa, in thread \"two\""),
            "{t}"
        );
        assert!(
            t.contains("earlier order: lock 0xa then lock 0xb, in thread \"one\""),
            "{t}"
        );
        // The inverting order is not recorded: the graph stays acyclic.
        assert_eq!(g.edge_count(), 1);
    }

    #[test]
    fn each_pair_is_reported_once() {
        let mut g = Graph::new();
        let mut h = Held::new();
        acq(&mut g, 1, T1, &mut h);
        acq(&mut g, 2, T1, &mut h);
        g.releasing(2, T1, &mut h);
        g.releasing(1, T1, &mut h);
        for round in 0..3 {
            acq(&mut g, 2, T2, &mut h);
            let n = acq(&mut g, 1, T2, &mut h);
            assert_eq!(n.is_some(), round == 0, "round {round}");
            g.releasing(1, T2, &mut h);
            g.releasing(2, T2, &mut h);
        }
        // The same order as first seen never reports.
        acq(&mut g, 1, T1, &mut h);
        assert!(acq(&mut g, 2, T1, &mut h).is_none());
    }

    #[test]
    fn inversion_through_a_path_shows_every_step() {
        let mut g = Graph::new();
        let mut h = Held::new();
        for (x, y) in [(1, 2), (2, 3)] {
            acq(&mut g, x, T1, &mut h);
            acq(&mut g, y, T1, &mut h);
            g.releasing(y, T1, &mut h);
            g.releasing(x, T1, &mut h);
        }
        acq(&mut g, 3, T2, &mut h);
        let inv = inversion(acq(&mut g, 1, T2, &mut h));
        let steps: Vec<(usize, usize)> = inv
            .earlier
            .iter()
            .flatten()
            .map(|o| (o.first.0, o.then.0))
            .collect();
        assert_eq!(steps, [(1, 2), (2, 3)]);
        assert!(text(&inv).contains("then: lock 0x2 then lock 0x3"));
    }

    #[test]
    fn consistent_orders_never_report() {
        let mut g = Graph::new();
        let mut h = Held::new();
        for _ in 0..3 {
            for k in 1..=5 {
                assert!(acq(&mut g, k, T1, &mut h).is_none());
            }
            for k in (1..=5).rev() {
                g.releasing(k, T1, &mut h);
            }
            // Any subset in the same order is fine too.
            for k in [1, 3, 5] {
                assert!(acq(&mut g, k, T2, &mut h).is_none());
            }
            for k in [5, 3, 1] {
                g.releasing(k, T2, &mut h);
            }
        }
        assert_eq!(g.edge_count(), 10);
    }

    #[test]
    fn rlock_reentry_records_no_order() {
        let mut g = Graph::new();
        let mut h = Held::new();
        let r =
            |g: &mut Graph, key, h: &mut Held| g.acquired(key, Kind::RLock, T1, &mut label(T1), h);
        r(&mut g, 1, &mut h);
        r(&mut g, 2, &mut h);
        assert!(r(&mut g, 1, &mut h).is_none()); // re-entry while holding 2: not "2 then 1"
        g.releasing(1, T1, &mut h);
        g.releasing(2, T1, &mut h);
        g.releasing(1, T1, &mut h);
        assert!(h.is_empty());
        assert_eq!(g.edge_count(), 1);
    }

    #[test]
    fn a_lock_released_by_another_thread_leaves_no_stale_entry() {
        let mut g = Graph::new();
        let (mut h1, mut h2) = (Held::new(), Held::new());
        acq(&mut g, 1, T1, &mut h1);
        // T2 releases T1's lock (legal for a Lock); T2's stack has no entry for it.
        g.releasing(1, T2, &mut h2);
        // T1 now holds nothing: taking 2 records no "1 then 2".
        acq(&mut g, 2, T1, &mut h1);
        assert_eq!(g.edge_count(), 0);
        g.releasing(2, T1, &mut h1);
        // So "2 then 1" is no inversion.
        acq(&mut g, 2, T2, &mut h2);
        assert!(acq(&mut g, 1, T2, &mut h2).is_none());
        assert_eq!(g.edge_count(), 1);
        // Also when another thread takes the lock again before T1's next acquisition.
        g.releasing(1, T2, &mut h2);
        g.releasing(2, T2, &mut h2);
        let mut h3 = Held::new();
        acq(&mut g, 3, T1, &mut h1);
        g.releasing(3, T2, &mut h2); // T1's entry for 3 goes stale...
        acq(&mut g, 3, 33, &mut h3); // ...and stays stale when a third thread takes it
        acq(&mut g, 4, T1, &mut h1);
        assert_eq!(g.edge_count(), 1, "no order 3 then 4");
    }

    #[test]
    fn freed_objects_are_forgotten_and_reused_addresses_are_new() {
        let mut g = Graph::new();
        let mut h = Held::new();
        acq(&mut g, 1, T1, &mut h);
        acq(&mut g, 2, T1, &mut h);
        g.releasing(2, T1, &mut h);
        g.releasing(1, T1, &mut h);
        // Lock 2 is freed; a new lock gets its address.
        g.forget(2);
        assert_eq!(g.node_count(), 1);
        // The order "1 then 2" points to a forgotten node: the new object is not bound by it.
        acq(&mut g, 2, T2, &mut h);
        assert!(acq(&mut g, 1, T2, &mut h).is_none());
        // The stale order is pruned when the table fills; the new "2 then 1" stays.
        g.prune();
        assert_eq!(g.edge_count(), 1);
        g.releasing(1, T2, &mut h);
        g.releasing(2, T2, &mut h);
        // A lock freed while held: its entry goes stale with it.
        acq(&mut g, 5, T1, &mut h);
        g.forget(5);
        acq(&mut g, 5, T1, &mut h); // a new object at the same address
        assert!(h.len == 1, "the stale entry was dropped");
    }

    #[test]
    fn stale_edges_are_pruned_and_the_tables_are_bounded() {
        let mut g = Graph::new();
        let mut h = Held::new();
        // Many short-lived inner locks under one outer lock.
        acq(&mut g, 1, T1, &mut h);
        for k in 0..(MAX_EDGES + 100) {
            let key = 1000 + k;
            assert!(acq(&mut g, key, T1, &mut h).is_none());
            g.releasing(key, T1, &mut h);
            g.forget(key);
        }
        assert!(g.edge_count() <= MAX_EDGES);
        assert_eq!(g.node_count(), 1);
        // Too many live objects: the table stops growing and says so once.
        let mut limited = 0;
        for k in 0..(MAX_NODES + 10) {
            let key = 100_000 + k;
            if matches!(acq(&mut g, key, T1, &mut h), Some(Note::Limited)) {
                limited += 1;
            }
            g.releasing(key, T1, &mut h);
        }
        assert_eq!(limited, 1);
        assert_eq!(g.node_count(), MAX_NODES);
    }

    #[test]
    fn deep_nesting_beyond_the_stack_is_harmless() {
        let mut g = Graph::new();
        let mut h = Held::new();
        for k in 1..=(STACK + 5) {
            acq(&mut g, k, T1, &mut h);
        }
        for k in (1..=(STACK + 5)).rev() {
            g.releasing(k, T1, &mut h);
        }
        assert!(h.is_empty());
        assert_eq!(h.overflow, 0);
    }

    #[test]
    fn labels_truncate_on_a_character_boundary() {
        let long = "é".repeat(40);
        let l = ThreadLabel::new(3, &long);
        assert_eq!(l.name().len(), 62);
        assert!(long.starts_with(l.name()));
    }
}
