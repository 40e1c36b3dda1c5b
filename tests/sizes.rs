//! Every object's heap size is what its documentation says, exactly: the figure in its type's
//! comment in `include/rthread.h` and the one in BENCHMARKS.md's memory table are both equal to
//! `size_of` the object behind the handle (`rt_<noun>_new` asks the allocator for exactly that).
//! So a change that grows or shrinks an object fails here until both figures are updated, and
//! every object the header gives a figure for is measured. The figures are for 64-bit targets.

#![cfg(target_pointer_width = "64")]

use rthread::ffi::Obj;
use rthread::ffi::condition::CondLock;
use rthread::ffi::queue::CQueue;
use rthread::ffi::threading::ThreadHandle;
use rthread::futures::Future;
use rthread::sync::{Barrier, Condition, Event, Lock, RLock, Semaphore};
use rthread::thread::{Local, Thread};
use std::collections::BTreeMap;
use std::mem::size_of;
use std::path::Path;

/// The real size of each object behind a handle.
fn measured() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("rt_lock", size_of::<Obj<Lock>>()),
        ("rt_rlock", size_of::<Obj<RLock>>()),
        ("rt_semaphore", size_of::<Obj<Semaphore>>()),
        ("rt_event", size_of::<Obj<Event>>()),
        ("rt_barrier", size_of::<Obj<Barrier>>()),
        ("rt_condition", size_of::<Obj<Condition<CondLock>>>()),
        ("rt_local", size_of::<Obj<Local>>()),
        // Plus 16 bytes per slot of a bounded FIFO: checked in src/queue/ring.rs.
        ("rt_queue", size_of::<Obj<CQueue>>()),
        // A future is in rthread's fallible Arc too, and is its own handle.
        ("rt_future", size_of::<Future>() + size_of::<usize>()),
        // A thread object is in rthread's fallible Arc (the object, then one counter); its
        // handle, which it owns, is a second allocation.
        (
            "rt_thread",
            size_of::<Thread>() + size_of::<usize>() + size_of::<ThreadHandle>(),
        ),
    ])
}

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first "N bytes" in `text`.
fn first_byte_figure(text: &str) -> Option<usize> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        if w[1].starts_with("bytes") {
            w[0].parse().ok()
        } else {
            None
        }
    })
}

/// Each `typedef struct rt_X rt_X;` of the header whose comment gives a size in bytes, with
/// that size (the first "N bytes" of the comment).
fn header_figures() -> BTreeMap<String, usize> {
    let header = read("include/rthread.h");
    let mut out = BTreeMap::new();
    let mut comment = String::new();
    let mut in_comment = false;
    for line in header.lines() {
        let t = line.trim();
        if t.starts_with("/**") {
            in_comment = true;
            comment.clear();
        }
        if in_comment {
            comment.push_str(t.trim_start_matches(['/', '*']));
            comment.push(' ');
            if t.ends_with("*/") {
                in_comment = false;
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("typedef struct ") {
            let name = rest.split_whitespace().next().unwrap_or("");
            if let Some(n) = first_byte_figure(&comment) {
                out.insert(name.to_string(), n);
            }
        }
        if !t.is_empty() {
            comment.clear();
        }
    }
    out
}

/// BENCHMARKS.md's memory table: `| `rt_X` | N ... |`.
fn benchmarks_figures() -> BTreeMap<String, usize> {
    read("BENCHMARKS.md")
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix("`rt_")?.strip_suffix('`')?;
            let n = cells.get(2)?.split([' ', ',']).next()?.parse().ok()?;
            Some((format!("rt_{name}"), n))
        })
        .collect()
}

#[test]
fn a_lock_costs_at_most_16_bytes_of_heap() {
    assert!(size_of::<Obj<Lock>>() <= 16);
}

#[test]
fn every_object_is_exactly_its_documented_size() {
    let real = measured();
    for (what, documented) in [
        ("include/rthread.h", header_figures()),
        ("BENCHMARKS.md", benchmarks_figures()),
    ] {
        let names: Vec<&str> = documented.keys().map(String::as_str).collect();
        let measured_names: Vec<&str> = real.keys().copied().collect();
        assert_eq!(
            names, measured_names,
            "{what} gives sizes for other objects than this test measures"
        );
        for (name, &size) in &real {
            assert_eq!(
                documented[*name], size,
                "{name}: {size} bytes, but {what} says {}: update the figure (in the type's \
                 doc comment for the header, then RTHREAD_BLESS=1 cargo test --test header)",
                documented[*name]
            );
        }
    }
}

/// The parser finds what it should (so that the test above cannot pass on an empty reading).
#[test]
fn the_figures_are_read_from_the_documents() {
    assert_eq!(first_byte_figure("costs 12 bytes of heap"), Some(12));
    assert_eq!(
        first_byte_figure("Memory: 896 bytes (on x86-64), plus 16 bytes"),
        Some(896)
    );
    assert_eq!(first_byte_figure("no figure"), None);
    assert_eq!(header_figures().len(), measured().len());
    assert_eq!(benchmarks_figures().len(), measured().len());
}
