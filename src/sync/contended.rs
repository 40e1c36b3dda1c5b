//! The acquire that Lock and Semaphore share, written once: take what the state word offers
//! (the lock, a permit) with a compare-exchange; if it offers nothing, spin a little
//! ([`SpinWait`]), then set the word's PARKED bit (threads wait: a release must wake one) and
//! park while the word still holds what a waiter sees; after any wake-up, look again.
//!
//! Why no wake-up is lost: a waiter parks only if the word still holds the value with PARKED
//! set (checked by `wait::park` under the bucket lock), and a release that finds PARKED set
//! unparks under that same lock; a release that came between the waiter's look and its park
//! changed the word, so the park returns at once (`Invalid`) and the waiter looks again.
//!
//! Each primitive says what its word means ([`Contended`]): what taking is, the value it parks
//! on, and when a wake-up already gave it what it wanted (the lock's hand-off; a permit taken
//! as a timeout ends).

use crate::status::Error;
use crate::time::Wait;
use crate::wait::{Block, ParkResult, SpinWait};

/// What a look at the state word found.
pub(super) enum Look<V> {
    /// Taken: the compare-exchange succeeded.
    Taken,
    /// The word moved meanwhile: look again at this value.
    Changed(V),
    /// Nothing to take in the value looked at.
    Nothing,
}

/// A primitive's side of [`acquire_contended`]: its state word, with a PARKED bit.
pub(super) trait Contended {
    /// The word's value.
    type V: Copy;

    /// Reads the word (relaxed).
    fn load(&self) -> Self::V;

    /// Takes what `s` offers with one compare-exchange (acquire on success).
    fn take(&self, s: Self::V) -> Look<Self::V>;

    /// Whether PARKED is set in `s`.
    fn has_parked(s: Self::V) -> bool;

    /// Sets PARKED if the word still holds `s`; the word's value otherwise.
    fn set_parked(&self, s: Self::V) -> Result<(), Self::V>;

    /// Parks while the word holds what a waiter sees (nothing to take, PARKED set).
    fn park(&self, block: Block) -> ParkResult;

    /// Whether the thread holds what it wanted after `r` (a hand-off, a late take).
    fn won(&self, r: &ParkResult) -> bool;
}

/// Takes what the word offers, looking again while it moves; false if it offers nothing.
#[inline]
pub(super) fn try_take<P: Contended>(p: &P) -> bool {
    let mut s = p.load();
    loop {
        match p.take(s) {
            Look::Taken => return true,
            Look::Changed(now) => s = now,
            Look::Nothing => return false,
        }
    }
}

/// The contended acquire (see the module comment), for a `wait` that is not a try; `block`
/// says how a wait ends and whether hooks run (its deadline is `wait`'s). `Err` is
/// `RT_TIMEOUT` or `RT_EINTR`.
// Always inlined: each primitive's cold slow path is this loop, specialised.
#[inline(always)]
pub(super) fn acquire_contended<P: Contended>(
    p: &P,
    wait: Wait,
    block: Block,
) -> Result<(), Error> {
    let block = Block {
        deadline: wait.deadline(),
        ..block
    };
    let mut spin = SpinWait::new();
    let mut s = p.load();
    loop {
        match p.take(s) {
            Look::Taken => return Ok(()),
            Look::Changed(now) => {
                s = now;
                continue;
            }
            Look::Nothing => {}
        }
        if !P::has_parked(s) {
            if spin.spin() {
                s = p.load();
                continue;
            }
            if let Err(now) = p.set_parked(s) {
                s = now;
                continue;
            }
        }
        if wait.expired() {
            return Err(Error::TIMEOUT);
        }
        let r = p.park(block);
        if p.won(&r) {
            return Ok(());
        }
        match r {
            ParkResult::Unparked(_) | ParkResult::Invalid => {}
            ParkResult::TimedOut => return Err(Error::TIMEOUT),
            ParkResult::Interrupted => return Err(Error::INTERRUPTED),
        }
        spin.reset();
        s = p.load();
    }
}
