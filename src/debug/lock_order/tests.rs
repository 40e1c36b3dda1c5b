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
    assert_eq!(h.len(), 1);
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
