//! Timeouts: validation as CPython does it, and deadlines on the monotonic clock.
//!
//! A timeout is a `double` number of seconds. `RT_FOREVER` (-1.0) waits without bound; 0 is a
//! try; anything else is turned once into an absolute deadline on `CLOCK_MONOTONIC`, so a wait
//! that resumes after a spurious wake-up or a signal keeps the same deadline and never returns
//! early. Durations round up: a positive timeout never becomes a try.

use crate::status::{Error, rt_status};

/// The largest timeout accepted, in seconds: CPython's `threading.TIMEOUT_MAX` on 64-bit Linux
/// (the floor of `INT64_MAX` nanoseconds, in seconds).
pub const TIMEOUT_MAX: f64 = 9223372036.0;

/// The timeout that waits without bound.
pub const FOREVER: f64 = -1.0;

/// A point on the monotonic clock, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(pub u64);

impl Deadline {
    /// The deadline `secs` seconds from now; `secs` must be finite and in `0..=TIMEOUT_MAX`.
    pub fn after(secs: f64) -> Deadline {
        Deadline(now_ns().saturating_add(secs_to_ns(secs)))
    }

    pub fn has_passed(self) -> bool {
        now_ns() >= self.0
    }

    /// Seconds left, 0 when passed.
    pub fn remaining_secs(self) -> f64 {
        self.0.saturating_sub(now_ns()) as f64 / 1e9
    }
}

/// How long a blocking call may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Do not block at all.
    Try,
    /// Block without bound.
    Forever,
    /// Block until the deadline.
    Until(Deadline),
}

impl Wait {
    /// The deadline to give the parking lot; `Try` and a passed deadline mean "do not park".
    pub fn deadline(self) -> Option<Deadline> {
        match self {
            Wait::Until(d) => Some(d),
            _ => None,
        }
    }

    /// A wait of `secs` seconds (validated already).
    pub fn for_secs(secs: f64) -> Wait {
        if secs == FOREVER {
            Wait::Forever
        } else if secs <= 0.0 {
            Wait::Try
        } else {
            Wait::Until(Deadline::after(secs))
        }
    }

    /// True once a bounded wait's time is up (never for `Forever`; always for `Try`).
    pub fn expired(self) -> bool {
        match self {
            Wait::Try => true,
            Wait::Forever => false,
            Wait::Until(d) => d.has_passed(),
        }
    }
}

/// Nanoseconds on the monotonic clock.
#[cfg(not(loom))]
#[inline]
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on every supported OS.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Under loom, time stands still at 0, so that every execution of a model is deterministic:
/// models explore untimed waits (and polls, whose deadline 0 has always passed), and never the
/// eventual-fairness hand-off, which depends on how long a waiter waited.
#[cfg(loom)]
#[inline]
pub fn now_ns() -> u64 {
    0
}

/// Whole nanoseconds in `secs`, rounded up.
fn secs_to_ns(secs: f64) -> u64 {
    let ns = (secs * 1e9).ceil();
    if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

// Every message a timeout can get, defined here only.

/// A NaN timeout or interval.
pub const NAN: Error = Error::new(rt_status::RT_EINVAL, "Invalid value NaN (not a number)");
/// A timeout or interval above `TIMEOUT_MAX` (for a Lock's acquire, below `-TIMEOUT_MAX` too).
pub const OVERFLOW: Error = Error::new(
    rt_status::RT_EOVERFLOW,
    "timestamp out of range for platform time_t",
);
/// A negative timeout other than `RT_FOREVER`.
pub const NEGATIVE: Error = Error::new(
    rt_status::RT_EINVAL,
    "timeout value must be a non-negative number",
);
/// A timeout given to a non-blocking `Lock.acquire`.
pub const NONBLOCKING_WITH_TIMEOUT: Error = Error::new(
    rt_status::RT_EINVAL,
    "can't specify a timeout for a non-blocking call",
);
/// A timeout given to a non-blocking `Semaphore.acquire` (the Semaphore's own wording).
pub const SEMAPHORE_NONBLOCKING_WITH_TIMEOUT: Error = Error::new(
    rt_status::RT_EINVAL,
    "can't specify timeout for non-blocking acquire",
);

/// Checks a timeout alone: NaN, then negative other than `RT_FOREVER` (whatever its size,
/// -infinity included), then above `TIMEOUT_MAX`. The calls that use it have no CPython
/// counterpart that refuses a negative timeout (Python waits 0 there), so rthread's rule holds
/// as the header states it: every negative value other than -1 is `RT_EINVAL`, only values
/// above `TIMEOUT_MAX` are `RT_EOVERFLOW`. [`lock_wait`] keeps CPython's Lock order instead.
pub fn check_timeout(secs: f64) -> Result<(), Error> {
    if secs.is_nan() {
        return Err(NAN);
    }
    if secs < 0.0 && secs != FOREVER {
        return Err(NEGATIVE);
    }
    if secs > TIMEOUT_MAX {
        return Err(OVERFLOW);
    }
    Ok(())
}

/// Validates `(wait, timeout)` as `Lock.acquire(blocking, timeout)` does and turns it into a
/// [`Wait`]. The timeout's conversion errors come first, then "non-blocking with a timeout",
/// then the sign. `-0.0` counts as 0.
pub fn lock_wait(wait: bool, secs: f64) -> Result<Wait, Error> {
    if secs.is_nan() {
        return Err(NAN);
    }
    if secs.abs() > TIMEOUT_MAX {
        return Err(OVERFLOW);
    }
    if !wait {
        return nonblocking(secs, NONBLOCKING_WITH_TIMEOUT);
    }
    timeout_wait(secs)
}

/// A non-blocking call: a try, if it was given no timeout (`RT_FOREVER`); else `refused`.
fn nonblocking(secs: f64, refused: Error) -> Result<Wait, Error> {
    if secs == FOREVER {
        Ok(Wait::Try)
    } else {
        Err(refused)
    }
}

/// Validates `(wait, timeout)` as `Semaphore.acquire(blocking, timeout)` does: a non-blocking
/// call with a timeout is refused first (before the timeout itself is looked at, as in Python,
/// and with the Semaphore's wording), then the timeout as for every blocking call.
pub fn semaphore_wait(wait: bool, secs: f64) -> Result<Wait, Error> {
    if !wait {
        return nonblocking(secs, SEMAPHORE_NONBLOCKING_WITH_TIMEOUT);
    }
    timeout_wait(secs)
}

/// Validates the `timeout` of a call that always blocks (`wait`, `join`, …) and turns it into a
/// [`Wait`]: 0 polls, `RT_FOREVER` waits without bound.
pub fn timeout_wait(secs: f64) -> Result<Wait, Error> {
    check_timeout(secs)?;
    Ok(Wait::for_secs(secs))
}

/// Validates a delay (a Timer's interval): NaN is `RT_EINVAL`, above `TIMEOUT_MAX` is
/// `RT_EOVERFLOW`; a negative delay is 0 (it fires at once, as in Python).
pub fn check_delay(secs: f64) -> Result<f64, Error> {
    if secs.is_nan() {
        return Err(NAN);
    }
    if secs > TIMEOUT_MAX {
        return Err(OVERFLOW);
    }
    Ok(secs.max(0.0))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn lock_validation_follows_cpython_order() {
        assert_eq!(lock_wait(true, f64::NAN), Err(NAN));
        assert_eq!(lock_wait(false, f64::NAN), Err(NAN));
        assert_eq!(lock_wait(false, f64::INFINITY), Err(OVERFLOW));
        assert_eq!(lock_wait(true, -f64::INFINITY), Err(OVERFLOW));
        assert_eq!(lock_wait(true, TIMEOUT_MAX + 1.0), Err(OVERFLOW));
        assert_eq!(lock_wait(false, 0.0), Err(NONBLOCKING_WITH_TIMEOUT));
        assert_eq!(lock_wait(false, -2.0), Err(NONBLOCKING_WITH_TIMEOUT));
        assert_eq!(lock_wait(false, -1.0), Ok(Wait::Try));
        assert_eq!(lock_wait(true, -2.0), Err(NEGATIVE));
        assert_eq!(lock_wait(true, -1.0), Ok(Wait::Forever));
        assert_eq!(lock_wait(true, 0.0), Ok(Wait::Try));
        assert_eq!(lock_wait(true, -0.0), Ok(Wait::Try));
        assert!(matches!(lock_wait(true, TIMEOUT_MAX), Ok(Wait::Until(_))));
        assert!(matches!(lock_wait(true, 1e-10), Ok(Wait::Until(_))));
    }

    #[test]
    fn plain_timeouts_refuse_every_negative_value_as_negative() {
        assert_eq!(timeout_wait(f64::NAN), Err(NAN));
        assert_eq!(timeout_wait(-2.0), Err(NEGATIVE));
        assert_eq!(timeout_wait(-TIMEOUT_MAX * 2.0), Err(NEGATIVE));
        assert_eq!(timeout_wait(f64::NEG_INFINITY), Err(NEGATIVE));
        assert_eq!(timeout_wait(f64::INFINITY), Err(OVERFLOW));
        assert_eq!(timeout_wait(TIMEOUT_MAX * 2.0), Err(OVERFLOW));
        assert_eq!(timeout_wait(-1.0), Ok(Wait::Forever));
        assert_eq!(timeout_wait(-0.0), Ok(Wait::Try));
        assert!(matches!(timeout_wait(TIMEOUT_MAX), Ok(Wait::Until(_))));
    }

    #[test]
    fn semaphore_validation_follows_the_semaphore_wording() {
        let refused = Err(SEMAPHORE_NONBLOCKING_WITH_TIMEOUT);
        assert_eq!(semaphore_wait(false, 1.0), refused);
        assert_eq!(semaphore_wait(false, f64::NAN), refused);
        assert_eq!(semaphore_wait(false, FOREVER), Ok(Wait::Try));
        assert_eq!(semaphore_wait(true, FOREVER), Ok(Wait::Forever));
        assert_eq!(semaphore_wait(true, 0.0), Ok(Wait::Try));
        assert_eq!(semaphore_wait(true, -2.0), Err(NEGATIVE));
        assert_eq!(semaphore_wait(true, f64::NAN), Err(NAN));
    }

    #[test]
    fn delays_refuse_nan_and_overflow_and_clamp_negatives() {
        assert_eq!(check_delay(f64::NAN), Err(NAN));
        assert_eq!(check_delay(TIMEOUT_MAX * 2.0), Err(OVERFLOW));
        assert_eq!(check_delay(-5.0), Ok(0.0));
        assert_eq!(check_delay(1.5), Ok(1.5));
    }

    #[test]
    fn tiny_timeouts_round_up() {
        assert_eq!(secs_to_ns(1e-10), 1);
        assert_eq!(secs_to_ns(0.5), 500_000_000);
        assert!(secs_to_ns(TIMEOUT_MAX) < i64::MAX as u64);
    }

    #[test]
    fn deadlines_move_forward() {
        let d = Deadline::after(0.02);
        assert!(!d.has_passed());
        while !d.has_passed() {
            std::hint::spin_loop();
        }
        assert_eq!(d.remaining_secs(), 0.0);
    }
}
