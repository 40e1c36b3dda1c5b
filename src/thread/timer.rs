//! `threading.Timer`: a thread object whose thread waits `interval` seconds, then calls its
//! function unless the timer was cancelled first.
//!
//! The wait is a park on the timer's own word, with a deadline on the monotonic clock, so
//! [`TimerState::cancel`] ends it at once (CPython waits on an Event the same way). The word:
//!
//! | value     | meaning                                                          |
//! |-----------|------------------------------------------------------------------|
//! | PENDING   | waiting (or not started yet): a cancel still stops it            |
//! | CANCELLED | cancelled before it fired: the function never runs               |
//! | FIRED     | the deadline passed and the thread claimed the call: cancel is a no-op |
//!
//! The thread claims the call with one compare-exchange PENDING → FIRED, and a cancel is one
//! compare-exchange PENDING → CANCELLED, so exactly one of them wins. `rt_thread_interrupt` on
//! a waiting timer's thread ends its wait as a cancel does.

use crate::status::Error;
use crate::time::{Deadline, check_delay};
use crate::wait;
use std::sync::atomic::{AtomicU32, Ordering};

const PENDING: u32 = 0;
const CANCELLED: u32 = 1;
const FIRED: u32 = 2;

/// The timer part of a thread object.
pub struct TimerState {
    /// Seconds to wait; 0 for "at once" (a negative interval fires at once, as in Python).
    interval: f64,
    word: AtomicU32,
}

impl TimerState {
    /// Validates an interval: NaN is `RT_EINVAL`, above `RT_TIMEOUT_MAX` is `RT_EOVERFLOW`
    /// (Python raises them in the timer's thread; rthread reports them at creation); negative
    /// values fire at once.
    pub fn new(interval: f64) -> Result<TimerState, Error> {
        Ok(TimerState {
            interval: check_delay(interval)?,
            word: AtomicU32::new(PENDING),
        })
    }

    fn key(&self) -> usize {
        &self.word as *const AtomicU32 as usize
    }

    /// Stops the timer if it has not fired yet; harmless afterwards.
    pub fn cancel(&self) {
        if self
            .word
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            wait::unpark_all(self.key(), 0);
        }
    }

    /// Whether the timer was cancelled before it fired.
    pub fn cancelled(&self) -> bool {
        self.word.load(Ordering::Acquire) == CANCELLED
    }

    /// In the timer's thread: waits for the interval; true if the function must run now, false
    /// if the timer was cancelled.
    pub(super) fn wait_to_fire(&self) -> bool {
        let deadline = Deadline::after(self.interval);
        loop {
            if self.word.load(Ordering::Acquire) != PENDING {
                return false;
            }
            if deadline.has_passed() {
                return self
                    .word
                    .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
            }
            // An interrupt of the timer's thread ends its wait like a cancel (if it has not
            // fired yet). Whatever else ended the park, the loop looks at the word and the
            // clock again.
            let block = wait::Block::until(Some(deadline));
            let r = wait::park(&self.word, PENDING, wait::Tidy::Keep, block);
            if r == wait::ParkResult::Interrupted {
                self.cancel();
            }
        }
    }
}
