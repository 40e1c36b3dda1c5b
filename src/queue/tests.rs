//! The queue's semantics, kind by kind, and its races (the ring's with an immediate shutdown).

use super::*;
use crate::time::TIMEOUT_MAX;
use crate::wait;
use crate::wait::sys::Ordering;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::time::{Duration, Instant};

impl<T: Send> Queue<T> {
    /// Threads counted as waiting, for every reason.
    fn waiting_threads(&self) -> usize {
        self.blocking.0.waiting_threads()
    }
}

fn drain_gets<T: Send>(q: &Queue<T>) -> Vec<T> {
    std::iter::from_fn(|| q.get(false, None).ok()).collect()
}

#[test]
fn orders_of_the_three_kinds() {
    let f = Queue::fifo(0).unwrap();
    let l = Queue::lifo(3).unwrap();
    let p = Queue::priority(0).unwrap();
    for v in [3, 1, 2] {
        f.put(v, true, None).unwrap();
        l.put(v, true, None).unwrap();
        p.put(v, true, None).unwrap();
    }
    assert_eq!(drain_gets(&f), [3, 1, 2]);
    assert_eq!(drain_gets(&l), [2, 1, 3]);
    assert_eq!(drain_gets(&p), [1, 2, 3]);
}

#[test]
fn equal_priorities_leave_in_fifo_order() {
    let p = Queue::priority_by(0, |a: &(u32, u32), b: &(u32, u32)| a.0.cmp(&b.0)).unwrap();
    let input: Vec<(u32, u32)> = (0..200).map(|i| ((i * 7) % 5, i)).collect();
    for &v in &input {
        p.put(v, false, None).unwrap();
    }
    let out = drain_gets(&p);
    let mut want = input.clone();
    want.sort_by_key(|&(prio, _)| prio); // a stable sort: FIFO among equals
    assert_eq!(out, want);
}

#[test]
fn a_panicking_comparator_leaves_the_item_queued_and_counted() {
    let q = Queue::priority_by(0, |a: &i32, b: &i32| {
        assert!(*a != 13 && *b != 13, "unlucky");
        a.cmp(b)
    })
    .unwrap();
    q.put(1, true, None).unwrap();
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| q.put(13, true, None)));
    assert!(r.is_err());
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.unfinished_tasks(), 2);
    q.put(2, true, None).unwrap_or_else(|_| unreachable!());
}

#[test]
fn bounded_queue_reports_full_and_returns_the_item() {
    let q = Queue::fifo(2).unwrap();
    q.put("a", false, None).unwrap();
    q.put("b", false, None).unwrap();
    assert!(q.full());
    assert_eq!(
        q.put("c", false, None),
        Err(PutError {
            error: FULL,
            item: "c"
        })
    );
    let t0 = Instant::now();
    assert_eq!(q.put("c", true, Some(0.05)).unwrap_err().error, FULL);
    assert!(t0.elapsed() >= Duration::from_millis(50));
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.unfinished_tasks(), 2);
}

#[test]
fn timeout_rules_follow_cpython() {
    let q: Queue<u8> = Queue::fifo(1).unwrap();
    assert_eq!(q.get(false, Some(-5.0)), Err(EMPTY));
    assert_eq!(q.get(false, Some(f64::NAN)), Err(EMPTY));
    assert_eq!(q.get(true, Some(-5.0)), Err(NEGATIVE_TIMEOUT));
    assert_eq!(q.get(true, Some(f64::NAN)), Err(NAN_TIMEOUT));
    assert_eq!(q.get(true, Some(f64::INFINITY)), Err(TIMEOUT_OVERFLOW));
    assert_eq!(q.get(true, Some(f64::NEG_INFINITY)), Err(NEGATIVE_TIMEOUT));
    assert_eq!(q.get(true, Some(0.0)), Err(EMPTY));
    assert_eq!(
        q.put(1, true, Some(-1.0)).unwrap_err().error,
        NEGATIVE_TIMEOUT
    );
    q.put(1, false, Some(f64::NAN)).unwrap();
    // A blocking get reads the timeout even when an item is there.
    assert_eq!(q.get(true, Some(-1.0)), Err(NEGATIVE_TIMEOUT));
    assert_eq!(q.get(true, Some(TIMEOUT_MAX)), Ok(1));
    // An unbounded queue never reads put's timeout.
    let u: Queue<u8> = Queue::fifo(0).unwrap();
    u.put(1, true, Some(f64::NAN)).unwrap();
    u.put(2, true, Some(-3.0)).unwrap();
    assert_eq!(u.qsize(), 2);
}

#[test]
fn shutdown_order_of_checks() {
    let q = Queue::fifo(1).unwrap();
    q.put(1, true, None).unwrap();
    q.shutdown(false).unwrap().for_each(drop);
    assert_eq!(q.put(2, false, None).unwrap_err().error, SHUT_DOWN);
    assert_eq!(q.put(2, true, Some(-1.0)).unwrap_err().error, SHUT_DOWN);
    assert_eq!(q.get(true, Some(-1.0)), Err(NEGATIVE_TIMEOUT));
    assert_eq!(q.get(true, None), Ok(1));
    assert_eq!(q.get(false, None), Err(SHUT_DOWN));
    assert_eq!(q.get(true, Some(-1.0)), Err(SHUT_DOWN));
    assert!(q.is_shutdown());
    assert_eq!(q.join(Some(0.0)), Err(Error::TIMEOUT));
    q.task_done().unwrap();
    assert_eq!(q.join(None), Ok(()));
    assert_eq!(q.task_done(), Err(TOO_MANY_TASK_DONE));
}

#[test]
fn immediate_shutdown_drains_and_finishes_tasks() {
    let q = Queue::lifo(0).unwrap();
    for v in 0..5 {
        q.put(v, true, None).unwrap();
    }
    assert_eq!(q.get(true, None), Ok(4));
    let drained: Vec<i32> = q.shutdown(true).unwrap().collect();
    assert_eq!(drained, [3, 2, 1, 0]);
    assert_eq!(q.unfinished_tasks(), 1); // the item gotten is still a task
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.get(false, None), Err(SHUT_DOWN));
    q.task_done().unwrap();
    q.join(None).unwrap();
    assert_eq!(q.shutdown(true).unwrap().len(), 0);
}

#[test]
fn simple_queue_has_no_tasks() {
    let q = Queue::simple();
    q.put(1, true, Some(f64::NAN)).unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.task_done(), Err(SIMPLE_NO_TASK_DONE));
    assert_eq!(q.join(None), Err(SIMPLE_NO_JOIN));
    assert!(q.shutdown(false).is_err());
    assert!(!q.full());
    assert_eq!(q.get(true, Some(-2.0)), Err(NEGATIVE_TIMEOUT));
    assert_eq!(q.get(true, None), Ok(1));
}

#[test]
fn interrupt_ends_a_blocked_get() {
    let q: Queue<u8> = Queue::fifo(0).unwrap();
    wait::with_current(|r| r.interrupt());
    assert_eq!(q.get(true, None), Err(Error::INTERRUPTED));
    // Consumed: the next wait is an ordinary one.
    assert_eq!(q.get(true, Some(0.01)), Err(EMPTY));
}

#[test]
fn interrupt_ends_a_blocked_put_from_another_thread() {
    let q = Arc::new(Queue::fifo(1).unwrap());
    q.put(0u32, true, None).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let q2 = q.clone();
    let t = std::thread::spawn(move || {
        tx.send(wait::current_record().unwrap()).unwrap();
        q2.put(1, true, None).map_err(|e| e.error)
    });
    let rec = rx.recv().unwrap();
    while q.waiting_threads() == 0 {
        std::thread::yield_now();
    }
    rec.interrupt();
    assert_eq!(t.join().unwrap(), Err(Error::INTERRUPTED));
    assert_eq!(q.qsize(), 1);
}

#[test]
fn producers_and_consumers_deliver_everything_once() {
    const N: usize = 40_000;
    let q = Arc::new(Queue::fifo(16).unwrap());
    let seen: Arc<Vec<StdAtomicUsize>> = Arc::new((0..N).map(|_| 0.into()).collect());
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in (p..N).step_by(2) {
                    q.put(i, true, None).unwrap();
                }
            })
        })
        .collect();
    let mut ts = Vec::new();
    for _ in 0..3 {
        let (q, seen) = (q.clone(), seen.clone());
        ts.push(std::thread::spawn(move || {
            // Short timeouts on purpose: waiters time out while wake-ups are in flight.
            loop {
                match q.get(true, Some(0.0005)) {
                    Ok(i) => {
                        seen[i].fetch_add(1, Ordering::Relaxed);
                        q.task_done().unwrap();
                    }
                    Err(e) if e == EMPTY => {}
                    Err(e) => {
                        assert_eq!(e, SHUT_DOWN);
                        return;
                    }
                }
            }
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    q.join(None).unwrap();
    q.shutdown(false).unwrap().for_each(drop);
    for t in ts {
        t.join().unwrap();
    }
    assert!(seen.iter().all(|s| s.load(Ordering::Relaxed) == 1));
}

/// The lock-free ring under races with an immediate shutdown, for small capacities (many
/// laps): every item put comes out exactly once (from a get or the drain), every refused
/// put hands its item back, and the task count matches.
#[test]
fn ring_races_with_immediate_shutdown_lose_nothing() {
    for cap in [1, 2, 3] {
        const N: usize = 20_000;
        let q = Arc::new(Queue::fifo(cap).unwrap());
        let seen: Arc<Vec<StdAtomicUsize>> = Arc::new((0..N).map(|_| 0.into()).collect());
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let (q, seen) = (q.clone(), seen.clone());
                std::thread::spawn(move || {
                    for i in (p..N).step_by(2) {
                        match q.put(i, true, None) {
                            Ok(()) => {}
                            Err(e) => {
                                assert_eq!(e.error, SHUT_DOWN);
                                seen[e.item].fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let (q, seen) = (q.clone(), seen.clone());
                std::thread::spawn(move || {
                    let mut got = 0;
                    while let Ok(i) = q.get(true, None) {
                        seen[i].fetch_add(1, Ordering::Relaxed);
                        got += 1;
                    }
                    got
                })
            })
            .collect();
        while seen
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) > 0)
            .count()
            < N / 4
        {
            std::thread::yield_now();
        }
        let drained = q.shutdown(true).unwrap();
        let n_drained = drained.len();
        for i in drained {
            seen[i].fetch_add(1, Ordering::Relaxed);
        }
        for p in producers {
            p.join().unwrap();
        }
        let got: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert!(
            seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
            "cap {cap}"
        );
        // Items got are unfinished until task_done; drained ones count as done.
        assert_eq!(q.unfinished_tasks(), got, "cap {cap} (drained {n_drained})");
        assert_eq!(q.qsize(), 0);
    }
}

#[test]
fn shutdown_wakes_blocked_getters_putters_and_joiners() {
    let full = Arc::new(Queue::fifo(1).unwrap());
    full.put(0, true, None).unwrap();
    let empty: Arc<Queue<i32>> = Arc::new(Queue::fifo(1).unwrap());
    let f2 = full.clone();
    let e2 = empty.clone();
    let putter = std::thread::spawn(move || f2.put(1, true, None).map_err(|e| e.error));
    let getter = std::thread::spawn(move || e2.get(true, None));
    let f3 = full.clone();
    let joiner = std::thread::spawn(move || f3.join(None));
    let waiting = |q: &Queue<i32>| q.waiting_threads();
    while waiting(&full) < 2 || waiting(&empty) < 1 {
        std::thread::yield_now();
    }
    assert_eq!(full.shutdown(true).unwrap().collect::<Vec<_>>(), [0]);
    empty.shutdown(false).unwrap().for_each(drop);
    assert_eq!(putter.join().unwrap(), Err(SHUT_DOWN));
    assert_eq!(getter.join().unwrap(), Err(SHUT_DOWN));
    assert_eq!(joiner.join().unwrap(), Ok(()));
}
