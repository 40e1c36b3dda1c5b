//! The order graph: one node per Lock or RLock, keyed by its address, and one edge A → B per
//! order "A then B" some thread took. Before an edge A → B is added, a search for a path B → …
//! → A tells whether the order inverts an earlier one; an inverting edge is not added, so the
//! graph stays acyclic and the search cheap.
//!
//! # Memory
//! At most [`MAX_NODES`] objects, [`MAX_EDGES`] orders and as many reported pairs are kept; a
//! freed object's node is forgotten at once (its id is never reused, so edges that pointed to it
//! are recognised as stale and pruned). When a table is full, new objects or orders are not
//! recorded (reported once); every allocation is fallible and a failed one only limits what is
//! recorded.

use super::report::{Inversion, MAX_PATH, Note, Order, ThreadLabel};
use crate::debug::Kind;
use std::collections::HashMap;
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
    pub(super) fn prune(&mut self) {
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
