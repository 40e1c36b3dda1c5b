//! The count of unfinished tasks behind `task_done` and `join`, for every kind of store.
//!
//! The store counts its puts (the ring's tail position, the locked store's counter); this
//! counts the tasks marked done (`task_done`, and items an immediate shutdown removed). The
//! unfinished tasks are the difference, so a put adds a task without touching this counter.
//!
//! `done` never passes the puts: it is read first, the puts after (they only grow), and it
//! moves by a compare-exchange only while the difference is positive. That compare-exchange
//! is `SeqCst`: the blocking protocol's step a for the joiners (see `blocking`). A put may add
//! a task right after the last `task_done` woke the joiners: they then find tasks again and
//! wait again, as in CPython.

use super::TOO_MANY_TASK_DONE;
use crate::status::Error;
use crate::wait::sys::{AtomicUsize, Ordering};

pub(super) struct Tasks {
    done: AtomicUsize,
}

impl Tasks {
    pub(super) fn new() -> Tasks {
        Tasks {
            done: super::ring::seq_cst_atomic(0),
        }
    }

    /// The unfinished tasks (a snapshot), given the store's count of puts.
    pub(super) fn unfinished(&self, puts: impl Fn() -> usize) -> usize {
        let done = self.done.load(Ordering::SeqCst);
        puts().wrapping_sub(done)
    }

    /// Marks up to `n` tasks done, never more than are unfinished; returns the unfinished
    /// tasks before. `RT_EOVERRELEASE` if `n` is 1 and no task is unfinished (`task_done`).
    fn finish(&self, n: usize, puts: impl Fn() -> usize) -> Result<usize, Error> {
        let mut done = self.done.load(Ordering::SeqCst);
        loop {
            let unfinished = puts().wrapping_sub(done);
            let n = n.min(unfinished);
            if n == 0 {
                return if unfinished == 0 {
                    Err(TOO_MANY_TASK_DONE)
                } else {
                    Ok(unfinished)
                };
            }
            match self.done.compare_exchange_weak(
                done,
                done.wrapping_add(n),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(unfinished),
                Err(now) => done = now,
            }
        }
    }

    /// `task_done`: one task less; true if it was the last (the joiners must be woken).
    pub(super) fn task_done(&self, puts: impl Fn() -> usize) -> Result<bool, Error> {
        self.finish(1, puts).map(|before| before == 1)
    }

    /// An immediate shutdown removed `n` items: as many tasks are done (never below zero).
    pub(super) fn removed(&self, n: usize, puts: impl Fn() -> usize) {
        let _ = self.finish(n, puts);
    }
}
