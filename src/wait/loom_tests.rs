//! loom models of the waiting core: every interleaving of park, unpark and interrupt, checked
//! for lost wake-ups (a thread left asleep is a deadlock loom reports) and for the "decided
//! once" rule between a wake-up and an interrupt.
//!
//!     RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib loom

use super::park::{Block, ParkResult, Tidy, park, park_custom};
use super::record::{current_record, with_current};
use super::sys::{AtomicBool, AtomicUsize, Ordering};
use super::unpark::{unpark_all, unpark_one};
use crate::sync::Lock;
use crate::time::Wait;
use loom::sync::Arc;
use loom::thread;

/// A waiter that parks while a flag is clear, and a waker that sets it and unparks: the
/// waiter always finishes (validate under the bucket lock closes the window between its check
/// and its sleep).
#[test]
fn loom_park_unpark_one_loses_no_wakeup() {
    loom::model(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let key = Arc::as_ptr(&flag) as usize;
        let f = flag.clone();
        let waiter = thread::spawn(move || {
            while !f.load(Ordering::Acquire) {
                let r = park(&*f, false, Tidy::Keep, Block::until(None).uninterruptible());
                assert!(matches!(r, ParkResult::Unparked(7) | ParkResult::Invalid));
            }
        });
        flag.store(true, Ordering::Release);
        unpark_one(key, |_| 7);
        waiter.join().unwrap();
    });
}

/// Two waiters, one `unpark_all`: both wake, and the count reported is the count woken.
#[test]
fn loom_unpark_all_wakes_every_waiter() {
    loom::model(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let woken = Arc::new(AtomicUsize::new(0));
        let key = Arc::as_ptr(&flag) as usize;
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (f, w) = (flag.clone(), woken.clone());
                thread::spawn(move || {
                    while !f.load(Ordering::Acquire) {
                        let block = Block::until(None).uninterruptible();
                        if let ParkResult::Unparked(_) = park(&*f, false, Tidy::Keep, block) {
                            w.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        flag.store(true, Ordering::Release);
        let n = unpark_all(key, 0);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(n, woken.load(Ordering::Relaxed));
    });
}

/// An interrupt racing an unpark: the waiter wakes either way, and it reports `Unparked` exactly
/// when the unparker reports having woken a thread.
#[test]
fn loom_interrupt_and_unpark_are_decided_once() {
    loom::model(|| {
        let key_owner = Arc::new(AtomicUsize::new(0));
        let key = Arc::as_ptr(&key_owner) as usize;
        let (tx, rx) = (Arc::new(loom::sync::Mutex::new(None)), ());
        let _ = rx;
        let slot = tx.clone();
        let parked = Arc::new(AtomicBool::new(false));
        let p2 = parked.clone();
        let waiter = thread::spawn(move || {
            *slot.lock().unwrap() = current_record().ok();
            p2.store(true, Ordering::Release);
            park_custom(key, || true, || {}, |_, _| {}, Block::until(None))
        });
        // Wait until the waiter published its record (it may or may not be asleep yet).
        while !parked.load(Ordering::Acquire) {
            thread::yield_now();
        }
        let rec = tx.lock().unwrap().clone().expect("record published");
        let interrupter = thread::spawn(move || rec.interrupt());
        let r = unpark_one(key, |_| 1);
        interrupter.join().unwrap();
        let got = waiter.join().unwrap();
        if r.unparked_threads == 1 {
            assert_eq!(got, ParkResult::Unparked(1));
        } else {
            assert_eq!(got, ParkResult::Interrupted);
        }
    });
}

/// A pending interrupt ends the next interruptible wait at once, and is consumed by it.
#[test]
fn loom_pending_interrupt_ends_the_next_wait() {
    loom::model(|| {
        with_current(|r| r.interrupt());
        let r = park_custom(1, || true, || {}, |_, _| {}, Block::until(None));
        assert_eq!(r, ParkResult::Interrupted);
        assert!(!with_current(|r| r.interrupt_pending()));
    });
}

/// Mutual exclusion and progress of Lock with two threads contending, with the releaser
/// competing (`fair` false) or handing the lock over (`fair` true).
fn lock_model(fair: bool) {
    loom::model(move || {
        super::table::loom_set_fair(fair);
        let lock = Arc::new(Lock::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (l, i) = (lock.clone(), inside.clone());
                thread::spawn(move || {
                    l.acquire(Wait::Forever).unwrap();
                    assert_eq!(i.fetch_add(1, Ordering::SeqCst), 0);
                    i.fetch_sub(1, Ordering::SeqCst);
                    l.release().unwrap();
                })
            })
            .collect();
        lock.acquire(Wait::Forever).unwrap();
        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
        inside.fetch_sub(1, Ordering::SeqCst);
        lock.release().unwrap();
        for t in threads {
            t.join().unwrap();
        }
        assert!(!lock.locked());
    });
}

#[test]
fn loom_lock_excludes_and_progresses() {
    lock_model(false);
}

#[test]
fn loom_lock_hands_off_fairly() {
    lock_model(true);
}

/// Two threads racing to release a lock held once: exactly one succeeds.
#[test]
fn loom_racing_releases_succeed_once() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire(Wait::Forever).unwrap();
        let l2 = lock.clone();
        let other = thread::spawn(move || l2.release().is_ok());
        let mine = lock.release().is_ok();
        let theirs = other.join().unwrap();
        assert!(mine ^ theirs);
        assert!(!lock.locked());
    });
}
