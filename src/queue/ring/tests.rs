//! The ring alone: laps, the fork child's repair, and dropping what is left.

use super::*;
use crate::wait::sys::Ordering;

#[test]
fn a_slot_of_a_c_item_is_16_bytes() {
    // Documented with rt_queue and in BENCHMARKS.md.
    assert!(std::mem::size_of::<Slot<*mut std::ffi::c_void>>() <= 16);
}

#[test]
fn laps_wrap_and_count_puts() {
    for cap in [1, 2, 3, 5] {
        let r = Ring::new(cap).unwrap();
        let mut next = 0;
        for round in 0..4 * cap {
            for i in 0..cap {
                assert!(matches!(r.push(round * cap + i, || {}), Push::Done));
            }
            assert!(matches!(r.push(usize::MAX, || {}), Push::Full(usize::MAX)));
            assert_eq!(r.len(), cap);
            for _ in 0..cap {
                match r.pop(|| {}) {
                    Pop::Item(v) => assert_eq!(v, next),
                    _ => panic!("empty too soon"),
                }
                next += 1;
            }
            assert!(matches!(r.pop(|| {}), Pop::Empty));
            assert_eq!(r.puts(), (round + 1) * cap);
        }
        assert!(r.shut());
        assert!(matches!(r.push(0, || {}), Push::ShutDown(0)));
        assert!(matches!(r.pop(|| {}), Pop::ShutDown));
    }
}

/// A fork child's repair: a put that claimed a slot and vanished before publishing, and a
/// get that claimed an item and vanished before freeing its slot, are forgotten; the
/// published items keep their order; every slot works again.
#[test]
fn repair_after_fork_forgets_vanished_claims() {
    let r = Ring::new(4).unwrap();
    for v in [1, 2] {
        assert!(matches!(r.push(v, || {}), Push::Done));
    }
    // A get claims item 1 and vanishes: the head moves, the slot is never freed.
    let head = r.head.0.load(Ordering::Relaxed);
    r.head.0.store(r.next(head), Ordering::Relaxed);
    // A put claims the next slot and vanishes before publishing.
    let tail = r.tail.0.load(Ordering::Relaxed);
    r.tail.0.store(r.next(tail), Ordering::Relaxed);
    assert!(matches!(r.push(3, || {}), Push::Done));
    assert_eq!(r.puts(), 4);
    r.repair_after_fork();
    // The put that never returned is not counted; 2 and 3 are in the queue, in order.
    assert_eq!(r.puts(), 3);
    assert_eq!(r.len(), 2);
    // Without the repair, the get after 2 would wait forever for the unpublished slot, and
    // the put into the vanished get's slot for its stamp.
    for v in [4, 5] {
        assert!(matches!(r.push(v, || {}), Push::Done));
    }
    assert!(matches!(r.push(6, || {}), Push::Full(6)));
    for want in [2, 3, 4, 5] {
        assert!(matches!(r.pop(|| {}), Pop::Item(v) if v == want));
    }
    assert!(matches!(r.pop(|| {}), Pop::Empty));
    // And round the ring again, twice.
    for round in 0..2 {
        for v in 0..4 {
            assert!(matches!(r.push(round * 10 + v, || {}), Push::Done));
        }
        for v in 0..4 {
            assert!(matches!(r.pop(|| {}), Pop::Item(x) if x == round * 10 + v));
        }
    }
    // The shutdown mark survives a repair.
    assert!(r.shut());
    r.repair_after_fork();
    assert!(r.is_shut());
    assert!(matches!(r.pop(|| {}), Pop::ShutDown));
}

#[test]
fn dropping_a_ring_drops_its_items() {
    let item = std::sync::Arc::new(());
    let r = Ring::new(3).unwrap();
    for _ in 0..2 {
        assert!(matches!(r.push(item.clone(), || {}), Push::Done));
    }
    drop(r);
    assert_eq!(std::sync::Arc::strong_count(&item), 1);
}

#[test]
fn emptiness_is_seen_through_laps_and_a_shutdown() {
    let r = Ring::new(3).unwrap();
    assert!(r.is_empty() && r.head_empty_hint());
    for round in 0..7 {
        assert!(matches!(r.push(round, || {}), Push::Done));
        // An item at the head: neither says empty.
        assert!(!r.is_empty() && !r.head_empty_hint());
        assert!(matches!(r.push(round, || {}), Push::Done));
        assert!(matches!(r.pop(|| {}), Pop::Item(_)));
        assert!(!r.is_empty() && !r.head_empty_hint());
        assert!(matches!(r.pop(|| {}), Pop::Item(_)));
        assert!(r.is_empty() && r.head_empty_hint());
    }
    // A put claimed but not yet published: not empty for `is_empty` (a get would wait for
    // it), while the head's slot holds nothing yet.
    let seen = std::cell::Cell::new(None);
    assert!(matches!(
        r.push(9, || seen.set(Some((r.is_empty(), r.head_empty_hint())))),
        Push::Done
    ));
    assert_eq!(seen.get(), Some((false, true)));
    assert!(matches!(r.pop(|| {}), Pop::Item(9)));
    // Shut and drained: empty (the mark is not an item).
    assert!(matches!(r.push(10, || {}), Push::Done));
    assert!(r.shut());
    assert!(!r.is_empty());
    assert!(matches!(r.pop(|| {}), Pop::Item(10)));
    assert!(r.is_empty());
}
