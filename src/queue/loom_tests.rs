//! loom models of the queue's blocking protocol (see `blocking`): every interleaving of a
//! waiter's count-check-park with a waker's change-read-wake, alone and inside the queue
//! (ring and locked store, getters, putters and joiners). A thread left asleep is a deadlock,
//! which loom reports; so the models can fail, and one shows that they do when the protocol's
//! order is broken.
//!
//!     RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --lib loom_queue

use super::{Blocking, Reason};
use crate::queue::Queue;
use crate::wait::sys::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// The smallest store: a count of items. A put adds one with a `SeqCst` read-modify-write
/// (step a), then runs steps b and c.
struct Counter {
    items: AtomicUsize,
    blocking: Blocking,
}

impl Counter {
    fn new() -> Counter {
        Counter {
            items: crate::queue::ring::seq_cst_atomic(0),
            blocking: Blocking::new(),
        }
    }

    fn put(&self) {
        self.items.fetch_add(1, Ordering::SeqCst);
        if self.blocking.claimed(Reason::NotEmpty) {
            self.blocking.wake_one(Reason::NotEmpty);
        }
    }

    fn try_take(&self) -> bool {
        let n = self.items.load(Ordering::SeqCst);
        n > 0
            && self
                .items
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
    }

    /// A blocking get, its wait in the protocol's order (`COUNT_FIRST`) or checking first.
    fn get<const COUNT_FIRST: bool>(&self) {
        while !self.try_take() {
            let empty = || self.items.load(Ordering::SeqCst) == 0;
            self.blocking
                .wait_in_order::<COUNT_FIRST>(Reason::NotEmpty, None, empty);
        }
    }
}

fn getter_and_putter<const COUNT_FIRST: bool>() {
    loom::model(|| {
        let c = Arc::new(Counter::new());
        let c2 = c.clone();
        let getter = thread::spawn(move || c2.get::<COUNT_FIRST>());
        c.put();
        getter.join().unwrap();
        assert_eq!(c.items.load(Ordering::SeqCst), 0);
    });
}

/// The protocol alone: a getter that waits for the one item a putter makes always gets it.
#[test]
fn loom_queue_protocol_loses_no_wakeup() {
    getter_and_putter::<true>();
}

/// The protocol's order is what makes it work: a waiter that checks before it counts itself
/// can find the store empty, then the putter finds nobody counted and wakes nobody, and the
/// waiter sleeps forever; loom reports that interleaving as a deadlock. (Run in a child
/// process: loom's report is a panic, and unwinding out of a model it stopped aborts.)
#[test]
fn loom_queue_checking_before_counting_loses_a_wakeup() {
    let name = concat!(module_path!(), "::loom_queue_checking_first_model");
    let name = name.split_once("::").map_or(name, |(_crate, path)| path);
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            name,
            "--test-threads=1",
            "--nocapture",
        ])
        .output()
        .expect("the model runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the broken order passed: {stderr}");
    assert!(stderr.contains("deadlock; threads"), "{stderr}");
}

/// The broken order's model, run by the test above.
#[test]
#[ignore = "fails on purpose; run in a child process by the test above"]
fn loom_queue_checking_first_model() {
    getter_and_putter::<false>();
}

/// Two items through a queue of one slot, from a putter to a getter that both block: the
/// getter waits for an item, the putter for room.
fn one_slot(q: Queue<u32>) {
    let q = Arc::new(q);
    let q2 = q.clone();
    let getter = thread::spawn(move || {
        let a = q2.get(true, None).unwrap();
        let b = q2.get(true, None).unwrap();
        (a, b)
    });
    q.put(1, true, None).unwrap();
    q.put(2, true, None).unwrap();
    let got = getter.join().unwrap();
    assert!(got == (1, 2) || got == (2, 1), "{got:?}");
    assert_eq!(q.qsize(), 0);
}

/// The ring (a bounded FIFO): its claims are the protocol's step a.
#[test]
fn loom_queue_ring_getter_and_putter_both_wake() {
    loom::model(|| one_slot(Queue::fifo(1).unwrap()));
}

/// The locked store (a bounded LIFO): plain writes under its lock, and no fence.
#[test]
fn loom_queue_locked_getter_and_putter_both_wake() {
    loom::model(|| one_slot(Queue::lifo(1).unwrap()));
}

/// A joiner and the last `task_done` (the task counter's compare-exchange is step a).
#[test]
fn loom_queue_joiner_wakes_at_the_last_task_done() {
    loom::model(|| {
        let q = Arc::new(Queue::fifo(1).unwrap());
        q.put(7u32, false, None).unwrap();
        let q2 = q.clone();
        let joiner = thread::spawn(move || q2.join(None));
        assert_eq!(q.get(false, None), Ok(7));
        q.task_done().unwrap();
        assert_eq!(joiner.join().unwrap(), Ok(()));
    });
}

/// A shutdown wakes a getter blocked on an empty queue (ring and locked store alike).
#[test]
fn loom_queue_shutdown_wakes_a_blocked_getter() {
    for fifo in [true, false] {
        loom::model(move || {
            let q: Arc<Queue<u32>> = Arc::new(if fifo {
                Queue::fifo(1).unwrap()
            } else {
                Queue::lifo(1).unwrap()
            });
            let q2 = q.clone();
            let getter = thread::spawn(move || q2.get(true, None));
            assert_eq!(q.shutdown(false).unwrap().len(), 0);
            assert_eq!(getter.join().unwrap(), Err(super::super::SHUT_DOWN));
        });
    }
}
