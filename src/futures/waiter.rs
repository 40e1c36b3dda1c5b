//! Waiting on many futures: `concurrent.futures.wait` and `as_completed`.
//!
//! As in CPython, a waiter is installed in every future it watches (under the locks of all of
//! them at once, taken in address order, so that no completion slips between the look at
//! their states and the installation). A future that completes tells each of its waiters,
//! under its own lock; the waiter records it under the waiter's lock and sets its event when
//! its condition holds. The waiting thread sleeps on that event: no polling. Lock order:
//! future, then waiter; a thread never holds two waiters' locks, and takes several futures'
//! locks only in address order.
//!
//! Memory: everything a wait needs is allocated before it installs its waiter (`RT_ENOMEM`
//! then, with nothing installed): a waiter's list has room for every future it watches, each
//! of which reports to it at most once, so completing a future allocates nothing.

use super::future::{Future, Guard, Kind, Waiter, with_room};
use crate::debug::annotate;
use crate::memory::Arc;
use crate::status::{Error, rt_status};
use crate::time::Wait;

/// `return_when` of [`wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    FirstCompleted,
    FirstException,
    AllCompleted,
}

/// The futures without duplicates, in address order (the order their locks are taken in).
fn unique(fs: &[Arc<Future>]) -> Result<Vec<Arc<Future>>, Error> {
    let mut v = with_room(fs.len())?;
    v.extend(fs.iter().cloned());
    v.sort_unstable_by_key(|f| Arc::as_ptr(f) as usize);
    v.dedup_by(|a, b| Arc::ptr_eq(a, b));
    Ok(v)
}

fn lock_all(fs: &[Arc<Future>]) -> Result<Vec<Guard<'_>>, Error> {
    let mut v = with_room(fs.len())?;
    v.extend(fs.iter().map(|f| f.locked()));
    Ok(v)
}

fn uninstall(fs: &[Arc<Future>], w: &Arc<Waiter>) {
    for f in fs {
        let mut g = f.locked();
        if let Some(l) = g.listeners.as_mut() {
            if let Some(i) = l.waiters.iter().position(|x| Arc::ptr_eq(x, w)) {
                l.waiters.swap_remove(i);
            }
        }
    }
}

fn install(guards: &mut [Guard<'_>], w: &Arc<Waiter>) -> Result<(), Error> {
    // Room in every future first (a future left with empty listeners by a failure here is
    // as one without).
    for g in guards.iter_mut() {
        let waiters = &mut g.listeners()?.waiters;
        waiters.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
    }
    for g in guards.iter_mut() {
        if let Some(l) = g.listeners.as_mut() {
            l.waiters.push(w.clone());
        }
    }
    Ok(())
}

/// What [`wait`] found: the completed futures (each once), and whether the condition was met
/// (false: the time ran out first).
pub struct Waited {
    pub done: Vec<Arc<Future>>,
    pub met: bool,
}

/// `concurrent.futures.wait(fs, timeout, return_when)`. Duplicates count once. Errors:
/// `RT_EINTR` (nothing is reported then), `RT_ENOMEM`.
pub fn wait(fs: &[Arc<Future>], wait: Wait, when: ReturnWhen) -> Result<Waited, Error> {
    let fs = unique(fs)?;
    let waiter;
    // Room for every future: those done now and those the waiter will report.
    let mut done = with_room(fs.len())?;
    {
        let mut guards = lock_all(&fs)?;
        let mut any_failed = false;
        for (f, g) in fs.iter().zip(guards.iter()) {
            if g.state.is_completed() {
                any_failed |= Future::failed_locked(g);
                done.push(f.clone());
            }
        }
        let met = match when {
            ReturnWhen::FirstCompleted => !done.is_empty(),
            ReturnWhen::FirstException => any_failed,
            ReturnWhen::AllCompleted => false,
        } || done.len() == fs.len();
        if met {
            seen_done(&done);
            return Ok(Waited { done, met: true });
        }
        let kind = match when {
            ReturnWhen::FirstCompleted => Kind::FirstCompleted,
            ReturnWhen::FirstException => Kind::AllCompleted {
                stop_on_exception: true,
            },
            ReturnWhen::AllCompleted => Kind::AllCompleted {
                stop_on_exception: false,
            },
        };
        waiter = Waiter::new(kind, fs.len() - done.len(), fs.len() - done.len())?;
        if let Err(e) = install(&mut guards, &waiter) {
            drop(guards);
            uninstall(&fs, &waiter);
            return Err(e);
        }
    }
    let r = waiter.event.wait(wait);
    uninstall(&fs, &waiter);
    let met = match r {
        Ok(()) => true,
        Err(e) if e.status == rt_status::RT_TIMEOUT => false,
        Err(e) => return Err(e),
    };
    waiter.with(|s| done.append(&mut s.finished));
    seen_done(&done);
    Ok(Waited { done, met })
}

/// What the threads that finished these futures did happens before the caller goes on.
fn seen_done(done: &[Arc<Future>]) {
    if annotate::active() {
        for f in done {
            annotate::acquire(&**f as *const Future as usize);
        }
    }
}

/// `concurrent.futures.as_completed(fs, timeout)` as an iterator object: see [`AsCompleted::next_completed`].
pub struct AsCompleted {
    fs: Vec<Arc<Future>>,
    total: usize,
    /// Completed, not yielded yet; yielded from the end. Room for every future.
    ready: Vec<Arc<Future>>,
    /// Not completed when last seen.
    pending: Vec<Arc<Future>>,
    waiter: Arc<Waiter>,
    wait: Wait,
}

impl AsCompleted {
    /// Starts watching `fs` (duplicates count once); the overall timeout starts now.
    pub fn new(fs: &[Arc<Future>], wait: Wait) -> Result<AsCompleted, Error> {
        let fs = unique(fs)?;
        let waiter = Waiter::new(Kind::AsCompleted, fs.len(), 0)?;
        let mut ready = with_room(fs.len())?;
        let mut pending = with_room(fs.len())?;
        {
            let mut guards = lock_all(&fs)?;
            for (f, g) in fs.iter().zip(guards.iter()) {
                if g.state.is_completed() {
                    ready.push(f.clone());
                } else {
                    pending.push(f.clone());
                }
            }
            if let Err(e) = install(&mut guards, &waiter) {
                drop(guards);
                uninstall(&fs, &waiter);
                return Err(e);
            }
        }
        // CPython yields the ones found finished by popping from the end of its list.
        Ok(AsCompleted {
            total: fs.len(),
            fs,
            ready,
            pending,
            waiter,
            wait,
        })
    }

    /// The next completed future, each once; `Ok(None)` when every one has been given.
    /// Errors: `RT_TIMEOUT` ("N (of M) futures unfinished", [`AsCompleted::unfinished`]) when
    /// the overall timeout has passed and none is ready; `RT_EINTR`. After an error the
    /// iterator stays usable.
    pub fn next_completed(&mut self) -> Result<Option<Arc<Future>>, Error> {
        loop {
            if let Some(f) = self.ready.pop() {
                if let Some(i) = self.pending.iter().position(|p| Arc::ptr_eq(p, &f)) {
                    self.pending.remove(i);
                }
                uninstall(std::slice::from_ref(&f), &self.waiter);
                annotate::acquired::<Future>(&*f);
                return Ok(Some(f));
            }
            if self.pending.is_empty() {
                return Ok(None);
            }
            // What completed since the last look (the event is cleared with the list taken,
            // under the waiter's lock, so a completion after this sets it again). Both lists
            // keep their room: `ready` is empty here and has room for every future.
            let ready = &mut self.ready;
            let found = self.waiter.with(|s| {
                self.waiter.event.clear();
                // Keep the order they finished in: yielded from the end.
                ready.extend(s.finished.drain(..).rev());
                !ready.is_empty()
            });
            if found {
                continue;
            }
            let passed = match self.wait {
                Wait::Try => true,
                Wait::Forever => false,
                Wait::Until(d) => d.has_passed(),
            };
            if passed {
                return Err(UNFINISHED);
            }
            match self.waiter.event.wait(self.wait) {
                Ok(()) => {}
                Err(e) if e.status == rt_status::RT_TIMEOUT => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The seconds left of the overall timeout (0 when it passed, or for a try); negative
    /// without one (the dump's convention for "none").
    pub fn remaining_secs(&self) -> f64 {
        match self.wait {
            Wait::Forever => -1.0,
            Wait::Try => 0.0,
            Wait::Until(d) => d.remaining_secs(),
        }
    }

    /// How many futures have not been given yet, and how many there are (for the timeout's
    /// message).
    pub fn unfinished(&self) -> (usize, usize) {
        (self.pending.len(), self.total)
    }
}

/// The status of [`AsCompleted::next_completed`]'s timeout; the C face words the message with the counts.
pub const UNFINISHED: Error = Error::new(rt_status::RT_TIMEOUT, "futures unfinished");

impl Drop for AsCompleted {
    fn drop(&mut self) {
        uninstall(&self.fs, &self.waiter);
    }
}
