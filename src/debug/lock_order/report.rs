//! What a report says: the threads and orders of an inversion ([`Inversion`], [`Note`]) and the
//! text it is written as ([`format_inversion`]). The graph fills them in; nothing here takes a
//! lock or allocates.

use crate::debug::Kind;
use std::fmt::Write;

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

/// An inversion found by [`Graph::order`](super::Graph::order): the order just seen, and the earlier one it
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
