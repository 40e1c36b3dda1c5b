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
//! A thread's stack is its own: pushing and popping it takes no lock, and an acquisition that
//! finds it empty (the common case) never touches the graph. A Lock has no owner, though: a
//! thread may release a Lock another thread acquired, and the acquirer's stack must then stop
//! counting it. Each entry therefore remembers a generation, read from a counter chosen by the
//! object's address ([`Gens`]); a release that finds no live entry of its own (another thread's
//! Lock), a free, and switching the mode off move the counter on, which turns every older entry
//! for that address stale, and stale entries are dropped the next time their stack is read. Two
//! addresses may share a counter: an entry may then go stale early, which can only hide an
//! order, never report a false one. An RLock is only ever released by its owner. A condition's
//! wait lets go of its lock and takes it back inside rthread, unseen here: the waiter's entry
//! stays, which is right again when the wait returns (and the waiter acquires nothing
//! meanwhile).
//!
//! A thread also remembers the last orders it recorded ([`Held`]'s cache), so that a nested
//! acquisition it has made before takes no lock either; the cache is dropped whenever the graph
//! forgets an object.
//!
//! # Memory
//! At most [`MAX_NODES`] objects, [`MAX_EDGES`] orders and as many reported pairs are kept
//! (each thread's stack is a fixed array of [`STACK`] entries); a freed object's node is
//! forgotten at once (its id is never reused, so edges that pointed to it are recognised as
//! stale and pruned). When a table is full, new objects or orders are not recorded (reported
//! once); every allocation is fallible and a failed one only limits what is recorded.

use super::{Kind, Object, Text};
use crate::wait::LockCell;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

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

/// An inversion found by [`Graph::order`]: the order just seen, and the earlier one it
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
    out: Vec<Edge>,
    /// Ids of the nodes an inversion with this one was reported for (the lower id keeps it).
    reported: Vec<u64>,
    /// The search's visit mark and the step it was reached by (slot, edge index).
    mark: u64,
    parent: (u32, u32),
}

/// Counters of releases by other threads and frees, by address (see the module comment).
pub struct Gens {
    words: [AtomicU64; GEN_WORDS],
    /// Moved on when the mode is switched off: every entry goes stale.
    all: AtomicU64,
    /// Moved on whenever the graph forgets objects: every thread's cache of orders is dropped.
    epoch: AtomicU64,
}

/// Counters in [`Gens`].
pub const GEN_WORDS: usize = 1024;

impl Default for Gens {
    fn default() -> Self {
        Self::new()
    }
}

impl Gens {
    pub const fn new() -> Gens {
        Gens {
            words: [const { AtomicU64::new(0) }; GEN_WORDS],
            all: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    fn word(&self, key: usize) -> &AtomicU64 {
        &self.words[((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize]
    }

    /// The generation an entry for `key` made now carries.
    fn of(&self, key: usize) -> (u64, u64) {
        (
            self.word(key).load(Ordering::Acquire),
            self.all.load(Ordering::Acquire),
        )
    }

    /// Turns every entry for `key` stale.
    pub fn bump(&self, key: usize) {
        self.word(key).fetch_add(1, Ordering::AcqRel);
    }

    /// Turns every entry stale.
    pub fn bump_all(&self) {
        self.all.fetch_add(1, Ordering::AcqRel);
    }

    /// The graph's epoch, for the threads' caches.
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The graph forgot objects: every thread's cache goes.
    pub fn bump_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

/// One entry of a thread's stack: an object and the generation of its acquisition.
#[derive(Clone, Copy)]
struct Entry {
    key: usize,
    kind: Kind,
    gen_: (u64, u64),
}

/// Orders a thread remembers having recorded.
const CACHE: usize = 64;

/// The locks one thread holds, innermost last, and the orders it recorded lately. Kept by the
/// thread; only it reads and writes them.
pub struct Held {
    entries: [Entry; STACK],
    len: usize,
    /// (first, then) pairs recorded in the graph while its epoch was `cache_epoch`.
    cache: [(usize, usize); CACHE],
    cache_epoch: u64,
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
                kind: Kind::Lock,
                gen_: (0, 0),
            }; STACK],
            len: 0,
            cache: [(0, 0); CACHE],
            cache_epoch: 0,
        }
    }

    /// Whether the stack remembers nothing (then an acquisition records no order).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn remove_at(&mut self, i: usize) {
        // Usually the innermost one: nothing to move.
        if i + 1 < self.len {
            self.entries.copy_within(i + 1..self.len, i);
        }
        self.len -= 1;
    }

    /// Drops the stale entries.
    fn prune(&mut self, gens: &Gens) {
        let mut i = 0;
        while i < self.len {
            let e = self.entries[i];
            if gens.of(e.key) == e.gen_ {
                i += 1;
            } else {
                self.remove_at(i);
            }
        }
    }

    /// Records that the thread now holds `key` (nothing beyond `STACK` entries).
    fn push(&mut self, key: usize, kind: Kind, gens: &Gens) {
        if self.len < STACK {
            self.entries[self.len] = Entry {
                key,
                kind,
                gen_: gens.of(key),
            };
            self.len += 1;
        }
    }

    /// The thread releases `key`: its live entry goes; without one (another thread's Lock, or
    /// one acquired while the mode was off or beyond the stack), whoever held it stops counting
    /// it.
    fn release(&mut self, key: usize, gens: &Gens) {
        let now = gens.of(key);
        if let Some(i) = self.entries[..self.len]
            .iter()
            .rposition(|e| e.key == key && e.gen_ == now)
        {
            self.remove_at(i);
            return;
        }
        gens.bump(key);
        self.prune(gens);
    }

    fn cache_slot(first: usize, then: usize) -> usize {
        ((first as u64 ^ (then as u64).rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
            as usize
    }

    fn cached(&self, first: usize, then: usize, epoch: u64) -> bool {
        self.cache_epoch == epoch && self.cache[Self::cache_slot(first, then)] == (first, then)
    }

    fn remember(&mut self, first: usize, then: usize, epoch: u64) {
        if self.cache_epoch != epoch {
            self.cache = [(0, 0); CACHE];
            self.cache_epoch = epoch;
        }
        self.cache[Self::cache_slot(first, then)] = (first, then);
    }
}

/// What [`Graph::order`] did with an order.
#[derive(Debug)]
pub enum Outcome {
    /// Known already, or recorded now, or an inversion already reported: nothing to say.
    Done,
    /// Not recorded: a table is full (said once), or memory ran out.
    Skipped(Option<Note>),
    /// An inversion, to report.
    Report(Note),
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

    /// Records the order "`a` then `b`" (a thread acquired `b` holding `a`), made by the thread
    /// `who` describes (asked for only when the order is new). An order that closes a cycle is
    /// not recorded: the pair is reported, once.
    pub fn order(
        &mut self,
        a: (usize, Kind),
        b: (usize, Kind),
        who: &mut dyn FnMut() -> ThreadLabel,
    ) -> Outcome {
        let na = match self.node(a.0, a.1) {
            Ok(s) => s,
            Err(note) => return Outcome::Skipped(note),
        };
        let nb = match self.node(b.0, b.1) {
            Ok(s) => s,
            Err(note) => return Outcome::Skipped(note),
        };
        if na == nb {
            return Outcome::Done;
        }
        let b_id = self.nodes[nb as usize].id;
        if self.nodes[na as usize]
            .out
            .iter()
            .any(|e| e.to == nb && e.to_id == b_id)
        {
            return Outcome::Done;
        }
        let by = who();
        if self.path(nb, na) {
            let a_id = self.nodes[na as usize].id;
            let (lo, hi) = if a_id < b_id { (na, b_id) } else { (nb, a_id) };
            if self.nodes[lo as usize].reported.contains(&hi) {
                return Outcome::Done;
            }
            if self.pairs >= MAX_EDGES || self.nodes[lo as usize].reported.try_reserve(1).is_err() {
                return Outcome::Skipped(self.limit());
            }
            self.nodes[lo as usize].reported.push(hi);
            self.pairs += 1;
            let (earlier, more) = self.earlier(nb, na);
            let inv = Inversion {
                now: Order {
                    first: a,
                    then: b,
                    by,
                },
                earlier,
                more,
            };
            return match crate::memory::try_box(inv) {
                Ok(inv) => Outcome::Report(Note::Inversion(inv)),
                Err(_) => Outcome::Skipped(self.limit()),
            };
        }
        if self.edges >= MAX_EDGES {
            self.prune();
        }
        let node = &mut self.nodes[na as usize];
        if self.edges >= MAX_EDGES || node.out.try_reserve(1).is_err() {
            return Outcome::Skipped(self.limit());
        }
        node.out.push(Edge {
            to: nb,
            to_id: b_id,
            by,
        });
        self.edges += 1;
        Outcome::Done
    }

    /// Forgets `key` (the object is freed): its node, its orders, its reported pairs. Whether
    /// it was known.
    pub fn forget(&mut self, key: usize) -> bool {
        let Some(s) = self.map.remove(&key) else {
            return false;
        };
        let n = &mut self.nodes[s as usize];
        self.edges -= n.out.len();
        self.pairs -= n.reported.len();
        n.id = 0;
        n.out = Vec::new();
        n.reported = Vec::new();
        // The slot joins the free list; its room was reserved when it was made.
        self.free.push(s);
        true
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

thread_local! {
    /// The calling thread's stack and cache of orders, on the heap (the library's thread-local
    /// block is static TLS, which must stay small for `dlopen`), or NULL; the key's destructor
    /// frees it.
    static HELD: Cell<*mut Held> = const { Cell::new(std::ptr::null_mut()) };
    /// Whether the calling thread is inside `with_held` (a report hook that takes a lock).
    static IN_HELD: Cell<bool> = const { Cell::new(false) };
}

/// The key whose per-thread value is the thread's stack (its destructor frees it). Made at the
/// first need without ever waiting (a thread that vanished at a fork while making it must not
/// leave the child waiting): two threads that race both make one, and the loser deletes its own.
fn held_key() -> Option<libc::pthread_key_t> {
    static KEY: AtomicUsize = AtomicUsize::new(0);
    let k = KEY.load(Ordering::Acquire);
    if k != 0 {
        return Some((k - 1) as libc::pthread_key_t);
    }
    unsafe extern "C" fn release(p: *mut std::ffi::c_void) {
        let p = p as *mut Held;
        let _ = HELD.try_with(|c| {
            if c.get() == p {
                c.set(std::ptr::null_mut());
            }
        });
        // SAFETY: the box `with_held` gave to the key; the system calls this once for it.
        drop(unsafe { Box::from_raw(p) });
    }
    let mut made: libc::pthread_key_t = 0;
    // SAFETY: `made` is writable; `release` never unwinds.
    if unsafe { libc::pthread_key_create(&mut made, Some(release)) } != 0 {
        return None;
    }
    match KEY.compare_exchange(0, made as usize + 1, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(made),
        Err(theirs) => {
            // SAFETY: the key made just above, which nobody else has seen.
            unsafe { libc::pthread_key_delete(made) };
            Some((theirs - 1) as libc::pthread_key_t)
        }
    }
}

/// Runs `f` on the calling thread's stack, made at the first call; `None` without memory, while
/// the thread ends, or inside another `with_held` of the same thread.
fn with_held<R>(f: impl FnOnce(&mut Held) -> R) -> Option<R> {
    let mut p = HELD.try_with(Cell::get).ok()?;
    if p.is_null() {
        let key = held_key()?;
        p = Box::into_raw(crate::memory::try_box(Held::new()).ok()?);
        // SAFETY: our key; the value is the box its destructor frees.
        if unsafe { libc::pthread_setspecific(key, p as *const std::ffi::c_void) } != 0 {
            // SAFETY: just made, given to nobody.
            drop(unsafe { Box::from_raw(p) });
            return None;
        }
        HELD.with(|c| c.set(p));
    }
    if IN_HELD.try_with(|b| b.replace(true)).ok()? {
        return None;
    }
    // SAFETY: the box lives until the key's destructor, which runs after this thread's calls;
    // only this thread reaches it, and not twice at once (IN_HELD).
    let r = f(unsafe { &mut *p });
    IN_HELD.with(|b| b.set(false));
    Some(r)
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
        for i in 0..held.len {
            let e = held.entries[i];
            if e.key == obj.0 || held.cached(e.key, obj.0, epoch) {
                continue;
            }
            let g = guard.get_or_insert_with(|| graph.lock());
            let mut once = || *label.get_or_insert_with(&mut *who);
            match g.order((e.key, e.kind), obj, &mut once) {
                Outcome::Done => held.remember(e.key, obj.0, epoch),
                Outcome::Report(n) => {
                    held.remember(e.key, obj.0, epoch);
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
mod tests {
    use super::*;

    const T1: u64 = 11;
    const T2: u64 = 22;

    /// A graph and its counters, as the runtime has them.
    struct World {
        g: LockCell<Graph>,
        gens: Gens,
    }

    fn world() -> World {
        World {
            g: LockCell::new(Graph::new()),
            gens: Gens::new(),
        }
    }

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

    fn acq_kind(w: &World, key: usize, kind: Kind, me: u64, h: &mut Held) -> Option<Note> {
        on_acquire(&w.g, &w.gens, h, (key, kind), &mut label(me))
    }

    fn acq(w: &World, key: usize, me: u64, h: &mut Held) -> Option<Note> {
        acq_kind(w, key, Kind::Lock, me, h)
    }

    fn rel(w: &World, key: usize, h: &mut Held) {
        h.release(key, &w.gens);
    }

    fn forget(w: &World, key: usize) {
        w.gens.bump(key);
        if w.g.lock().forget(key) {
            w.gens.bump_epoch();
        }
    }

    fn edges(w: &World) -> usize {
        w.g.lock().edge_count()
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
        let w = world();
        let (mut h1, mut h2) = (Held::new(), Held::new());
        assert!(acq(&w, 0xA, T1, &mut h1).is_none());
        assert!(acq(&w, 0xB, T1, &mut h1).is_none());
        rel(&w, 0xB, &mut h1);
        rel(&w, 0xA, &mut h1);
        assert!(h1.is_empty());
        assert!(acq(&w, 0xB, T2, &mut h2).is_none());
        let inv = inversion(acq(&w, 0xA, T2, &mut h2));
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
        assert_eq!(edges(&w), 1);
    }

    #[test]
    fn each_pair_is_reported_once() {
        let w = world();
        let mut h = Held::new();
        acq(&w, 1, T1, &mut h);
        acq(&w, 2, T1, &mut h);
        rel(&w, 2, &mut h);
        rel(&w, 1, &mut h);
        for round in 0..3 {
            // A fresh stack each round (another thread), so that no cache hides the check.
            let mut h2 = Held::new();
            acq(&w, 2, T2, &mut h2);
            let n = acq(&w, 1, T2, &mut h2);
            assert_eq!(n.is_some(), round == 0, "round {round}");
            rel(&w, 1, &mut h2);
            rel(&w, 2, &mut h2);
        }
        // The same order as first seen never reports.
        acq(&w, 1, T1, &mut h);
        assert!(acq(&w, 2, T1, &mut h).is_none());
    }

    #[test]
    fn inversion_through_a_path_shows_every_step() {
        let w = world();
        let mut h = Held::new();
        for (x, y) in [(1, 2), (2, 3)] {
            acq(&w, x, T1, &mut h);
            acq(&w, y, T1, &mut h);
            rel(&w, y, &mut h);
            rel(&w, x, &mut h);
        }
        acq(&w, 3, T2, &mut h);
        let inv = inversion(acq(&w, 1, T2, &mut h));
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
        let w = world();
        let mut h = Held::new();
        for _ in 0..3 {
            for k in 1..=5 {
                assert!(acq(&w, k, T1, &mut h).is_none());
            }
            for k in (1..=5).rev() {
                rel(&w, k, &mut h);
            }
            // Any subset in the same order is fine too.
            for k in [1, 3, 5] {
                assert!(acq(&w, k, T2, &mut h).is_none());
            }
            for k in [5, 3, 1] {
                rel(&w, k, &mut h);
            }
        }
        assert_eq!(edges(&w), 10);
    }

    #[test]
    fn rlocks_and_locks_are_both_nodes() {
        let w = world();
        let mut h = Held::new();
        acq_kind(&w, 1, Kind::RLock, T1, &mut h);
        acq(&w, 2, T1, &mut h);
        rel(&w, 2, &mut h);
        rel(&w, 1, &mut h);
        acq(&w, 2, T2, &mut h);
        let inv = inversion(acq_kind(&w, 1, Kind::RLock, T2, &mut h));
        assert!(text(&inv).contains("this order:    lock 0x2 then rlock 0x1"));
    }

    #[test]
    fn a_lock_released_by_another_thread_leaves_no_stale_entry() {
        let w = world();
        let (mut h1, mut h2) = (Held::new(), Held::new());
        acq(&w, 1, T1, &mut h1);
        // T2 releases T1's lock (legal for a Lock); T2's stack has no entry for it.
        rel(&w, 1, &mut h2);
        // T1 now holds nothing: taking 2 records no "1 then 2".
        acq(&w, 2, T1, &mut h1);
        assert_eq!(edges(&w), 0);
        rel(&w, 2, &mut h1);
        // So "2 then 1" is no inversion.
        acq(&w, 2, T2, &mut h2);
        assert!(acq(&w, 1, T2, &mut h2).is_none());
        assert_eq!(edges(&w), 1);
        rel(&w, 1, &mut h2);
        rel(&w, 2, &mut h2);
        // A stale entry of the releaser's own does not count as holding: T2 acquires 3, T1
        // releases it (T2's entry goes stale), T1 acquires 3 again, and T2 releases it: T1 must
        // stop counting it too.
        acq(&w, 3, T2, &mut h2);
        rel(&w, 3, &mut h1);
        acq(&w, 3, T1, &mut h1);
        rel(&w, 3, &mut h2);
        acq(&w, 4, T1, &mut h1);
        assert_eq!(edges(&w), 1, "no order 3 then 4");
    }

    #[test]
    fn freed_objects_are_forgotten_and_reused_addresses_are_new() {
        let w = world();
        let mut h = Held::new();
        acq(&w, 1, T1, &mut h);
        acq(&w, 2, T1, &mut h);
        rel(&w, 2, &mut h);
        rel(&w, 1, &mut h);
        // Lock 2 is freed; a new lock gets its address.
        forget(&w, 2);
        assert_eq!(w.g.lock().node_count(), 1);
        // The order "1 then 2" points to a forgotten node: the new object is not bound by it.
        acq(&w, 2, T2, &mut h);
        assert!(acq(&w, 1, T2, &mut h).is_none());
        rel(&w, 1, &mut h);
        rel(&w, 2, &mut h);
        // The stale order is pruned when the table fills; the new "2 then 1" stays.
        w.g.lock().prune();
        assert_eq!(edges(&w), 1);
        // A lock freed while held: its entry goes stale with it.
        acq(&w, 5, T1, &mut h);
        forget(&w, 5);
        acq(&w, 6, T1, &mut h);
        assert_eq!(edges(&w), 1, "no order 5 then 6");
        assert_eq!(h.len, 1);
    }

    #[test]
    fn the_cache_skips_known_orders_and_forgets_with_the_graph() {
        let w = world();
        let mut h = Held::new();
        acq(&w, 1, T1, &mut h);
        acq(&w, 2, T1, &mut h);
        rel(&w, 2, &mut h);
        assert!(h.cached(1, 2, w.gens.epoch()));
        forget(&w, 2);
        assert!(!h.cached(1, 2, w.gens.epoch()));
        // Known orders are found without the cache too: a new stack records nothing new.
        let mut h2 = Held::new();
        acq(&w, 1, T2, &mut h2);
        acq(&w, 3, T2, &mut h2);
        let n = edges(&w);
        acq(&w, 3, T2, &mut Held::new());
        rel(&w, 3, &mut h2);
        acq(&w, 3, T2, &mut h2);
        assert_eq!(edges(&w), n);
    }

    #[test]
    fn stale_edges_are_pruned_and_the_tables_are_bounded() {
        let w = world();
        let mut h = Held::new();
        // Many short-lived inner locks under one outer lock.
        acq(&w, 1, T1, &mut h);
        for k in 0..(MAX_EDGES + 100) {
            let key = 1000 + k * 8;
            assert!(acq(&w, key, T1, &mut h).is_none());
            rel(&w, key, &mut h);
            forget(&w, key);
            // Freeing an inner lock may turn the outer entry stale (a shared counter): take the
            // outer lock anew then.
            h.prune(&w.gens);
            if h.is_empty() {
                acq(&w, 1, T1, &mut h);
            }
        }
        assert!(edges(&w) <= MAX_EDGES);
        assert!(w.g.lock().node_count() <= 1);
        // Too many live objects: the table stops growing and says so once.
        let mut limited = 0;
        acq(&w, 1, T1, &mut h);
        for k in 0..(MAX_NODES + 10) {
            let key = (1 << 40) | (k * 8);
            if matches!(acq(&w, key, T1, &mut h), Some(Note::Limited)) {
                limited += 1;
            }
            rel(&w, key, &mut h);
        }
        assert_eq!(limited, 1);
        assert_eq!(w.g.lock().node_count(), MAX_NODES);
    }

    #[test]
    fn deep_nesting_beyond_the_stack_is_harmless() {
        let w = world();
        let mut h = Held::new();
        for k in 1..=(STACK + 5) {
            acq(&w, k * 8, T1, &mut h);
        }
        for k in (1..=(STACK + 5)).rev() {
            rel(&w, k * 8, &mut h);
        }
        assert!(h.is_empty());
    }

    #[test]
    fn labels_truncate_on_a_character_boundary() {
        let long = "é".repeat(40);
        let l = ThreadLabel::new(3, &long);
        assert_eq!(l.name().len(), 62);
        assert!(long.starts_with(l.name()));
    }
}
