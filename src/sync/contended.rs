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
//! on, when a wake-up already gave it what it wanted (the lock's hand-off; a permit taken
//! as a timeout ends), and whether a woken waiter that loses keeps the age of its whole wait
//! (the lock's eventual fairness). A wait whose deadline passes while it spins returns before
//! it sets PARKED, leaving no trace.

use crate::debug::annotate;
use crate::status::Error;
use crate::time::Wait;
use crate::wait::sys::{AtomicU8, AtomicU64, Ordering};
use crate::wait::{self, Block, ParkResult, SpinWait, Tidy, Word};

/// What a look at the state word found.
pub(super) enum Look<V> {
    /// Taken: the compare-exchange succeeded.
    Taken,
    /// The word moved meanwhile: look again at this value.
    Changed(V),
    /// Nothing to take in the value looked at.
    Nothing,
}

/// The atomic operations the loop needs, on the primitives' word types.
pub(super) trait StateWord: Word {
    fn load_relaxed(&self) -> Self::Value;
    fn cas_weak(
        &self,
        s: Self::Value,
        new: Self::Value,
        success: Ordering,
    ) -> Result<(), Self::Value>;
    fn or(s: Self::Value, bits: Self::Value) -> Self::Value;
    fn has(s: Self::Value, bits: Self::Value) -> bool;
}

macro_rules! state_word {
    ($($atomic:ty: $v:ty),*) => {$(
        impl StateWord for $atomic {
            #[inline]
            fn load_relaxed(&self) -> $v {
                self.load(Ordering::Relaxed)
            }
            #[inline]
            fn cas_weak(&self, s: $v, new: $v, success: Ordering) -> Result<(), $v> {
                self.compare_exchange_weak(s, new, success, Ordering::Relaxed).map(|_| ())
            }
            #[inline]
            fn or(s: $v, bits: $v) -> $v {
                s | bits
            }
            #[inline]
            fn has(s: $v, bits: $v) -> bool {
                s & bits != 0
            }
        }
    )*};
}

state_word!(AtomicU8: u8, AtomicU64: u64);

/// A primitive's side of [`acquire_contended`]: what its state word means.
pub(super) trait Contended {
    /// The state word's type.
    type W: StateWord;

    /// The bit that says threads wait (a release must wake one).
    const PARKED: <Self::W as Word>::Value;

    /// The value a waiter parks on: nothing to take, PARKED set.
    const PARKED_ON: <Self::W as Word>::Value;

    /// The state word.
    fn word(&self) -> &Self::W;

    /// The word after taking what `s` offers; `None` if it offers nothing.
    fn taken(s: <Self::W as Word>::Value) -> Option<<Self::W as Word>::Value>;

    /// Whether the thread holds what it wanted after `r` (a hand-off, a late take).
    fn won(&self, r: &ParkResult) -> bool;

    /// Whether a waiter woken to compete that loses keeps the age of its whole wait
    /// (`Block::since`), so that it parks again at the head of the queue and eventual fairness
    /// reaches it (the lock's hand-off). A semaphore's woken waiters compete like newcomers.
    const KEEPS_AGE: bool;

    /// The primitive's cold slow path, which runs [`acquire_contended`] and tells race
    /// detectors.
    fn acquire_slow(&self, wait: Wait) -> Result<(), Error>;
}

/// Every such primitive is acquired the same way: a take, else its slow path.
impl<P: Contended> super::Acquire for P {
    fn acquire_now(&self) -> Result<bool, Error> {
        Ok(try_acquire(self))
    }
    fn acquire_blocking(&self, wait: Wait) -> Result<(), Error> {
        self.acquire_slow(wait)
    }
}

/// One look: takes what `s` offers with one compare-exchange (acquire on success).
#[inline(always)]
fn take<P: Contended>(p: &P, s: <P::W as Word>::Value) -> Look<<P::W as Word>::Value> {
    let Some(new) = P::taken(s) else {
        return Look::Nothing;
    };
    match p.word().cas_weak(s, new, Ordering::Acquire) {
        Ok(()) => Look::Taken,
        Err(now) => Look::Changed(now),
    }
}

/// Takes what the word offers, looking again while it moves; false if it offers nothing.
#[inline]
pub(super) fn try_take<P: Contended>(p: &P) -> bool {
    let mut s = p.word().load_relaxed();
    loop {
        match take(p, s) {
            Look::Taken => return true,
            Look::Changed(now) => s = now,
            Look::Nothing => return false,
        }
    }
}

/// [`try_take`], telling race detectors when it takes (see `debug::annotate`): the primitives'
/// `try_acquire`.
#[inline]
pub(super) fn try_acquire<P: Contended>(p: &P) -> bool {
    let taken = try_take(p);
    if taken {
        annotate::acquired(p);
    }
    taken
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
    let mut block = Block {
        deadline: wait.deadline(),
        ..block
    };
    let w = p.word();
    let mut spin = SpinWait::new();
    let mut s = w.load_relaxed();
    loop {
        match take(p, s) {
            Look::Taken => return Ok(()),
            Look::Changed(now) => {
                s = now;
                continue;
            }
            Look::Nothing => {}
        }
        if !P::W::has(s, P::PARKED) {
            if spin.spin() {
                s = w.load_relaxed();
                continue;
            }
            // Before setting PARKED: a timeout leaves no trace (a spin may outlast a short
            // deadline on a loaded machine). Once set, the park below decides (a wait already
            // expired leaves the queue at once and tidies PARKED).
            if wait.expired() {
                return Err(Error::TIMEOUT);
            }
            if let Err(now) = w.cas_weak(s, P::W::or(s, P::PARKED), Ordering::Relaxed) {
                s = now;
                continue;
            }
        } else if wait.expired() {
            return Err(Error::TIMEOUT);
        }
        let r = wait::park(w, P::PARKED_ON, Tidy::Clear(P::PARKED), block);
        if p.won(&r) {
            return Ok(());
        }
        match r {
            ParkResult::Unparked(_) => {
                // Woken to compete: if it loses, it waits again at the head of the queue with
                // the age of its whole wait, so that it is soon handed what it waits for.
                if P::KEEPS_AGE && block.since == 0 && !cfg!(loom) {
                    block.since = wait::parked_since();
                }
            }
            ParkResult::Invalid => {}
            ParkResult::TimedOut => return Err(Error::TIMEOUT),
            ParkResult::Interrupted => return Err(Error::INTERRUPTED),
        }
        spin.reset();
        s = w.load_relaxed();
    }
}
