//! A wait in progress: the calling thread's blocked-on record from the start of a slow-path
//! wait to its end, the deadlock check at its start, the contention dispatcher at its end.

use super::threads::{Blocked, DETECT, DebugThread, coarse_now_ns, mine};
use super::{Kind, Object};

/// A wait in progress, from [`Waiting::begin`] to its drop: the thread's blocked-on record.
pub struct Waiting {
    me: Option<&'static DebugThread>,
    obj: Object,
    /// Precise start, when contention profiling was on at the start; else 0.
    start_ns: u64,
    acquired: bool,
    locked: bool,
}

impl Waiting {
    /// The calling thread starts waiting in `call` on `obj` (`timeout` in seconds, negative
    /// for none; `owner`: for a join, the id of the thread joined; `via`: for a condition
    /// wait, the condition's lock). With deadlock detection on, `Err` is `RT_EDEADLK` when
    /// this wait would close a cycle (reported, and the thread's last message names it): the
    /// thread must not wait.
    pub fn begin(
        obj: Object,
        call: &'static str,
        timeout: f64,
        owner: u64,
        via: Option<Object>,
    ) -> Result<Waiting, crate::status::Error> {
        let flags = super::active();
        let start_ns = if flags & super::CONTENTION != 0 {
            crate::time::now_ns()
        } else {
            0
        };
        let me = mine();
        let b = Blocked {
            call,
            obj,
            since_ns: coarse_now_ns(),
            timeout: (timeout >= 0.0).then_some(timeout),
            owner,
            via,
        };
        let detect = flags & super::DEADLOCK != 0
            && matches!(obj.kind, Kind::Lock | Kind::RLock | Kind::Thread);
        if let Some(me) = me {
            if detect {
                publish_unless_cycle(me, &b)?;
            } else {
                me.publish(Some(&b));
            }
        }
        Ok(Waiting {
            me,
            obj,
            start_ns,
            acquired: false,
            locked: detect,
        })
    }

    /// Says that the wait ended with the object acquired (for the contention profile).
    pub fn set_acquired(&mut self) {
        self.acquired = true;
    }
}

/// With deadlock detection on: publishes `b` unless this wait would close a cycle (then
/// reported, `RT_EDEADLK`). Its own frame, never inlined: the walk's buffers take kilobytes of
/// stack, which every wait's path would otherwise reserve (an idle thread's stack then reaches
/// a page further).
#[cold]
#[inline(never)]
fn publish_unless_cycle(me: &DebugThread, b: &Blocked) -> Result<(), crate::status::Error> {
    let guard = DETECT.lock();
    if let Some(cycle) = super::deadlock::find_cycle(me, b) {
        drop(guard);
        return Err(super::deadlock::report_cycle(&cycle));
    }
    me.publish(Some(b));
    Ok(())
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(me) = self.me {
            if self.locked {
                let _g = DETECT.lock();
                me.publish(None);
            } else {
                me.publish(None);
            }
        }
        if self.start_ns != 0 {
            let waited = crate::time::now_ns().saturating_sub(self.start_ns);
            super::contended(self.obj, waited, self.acquired);
        }
    }
}
