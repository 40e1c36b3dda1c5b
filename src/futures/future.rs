//! `concurrent.futures.Future`: the result of a call that may not have happened yet.
//!
//! A [`Future`] lives in an `Arc` (its first bytes are the C face's handle header, as a
//! thread object's are). Its state, result, failure, done-callbacks and installed waiters sit
//! under one internal lock; a `done` [`Event`] is set when it becomes done (cancelled or
//! finished), and `result`/`exception` wait on that event, so they block through the waiting
//! core (interruptible, with the blocking hooks) and never poll.
//!
//! States, as CPython's: PENDING → RUNNING → FINISHED, or PENDING → CANCELLED →
//! CANCELLED_AND_NOTIFIED (the executor, or whoever runs the future, saw the cancellation in
//! `set_running_or_notify_cancel`). A PENDING future may also be finished directly
//! (`set_result` without `set_running_or_notify_cancel`). `wait` and `as_completed` count a
//! future as completed when FINISHED or CANCELLED_AND_NOTIFIED, as CPython does; `done()`,
//! `result()` and the callbacks count CANCELLED as done already.
//!
//! User code never runs under the internal lock: done-callbacks are taken out under it and
//! called after it is released, in the thread that completed (or cancelled) the future, or at
//! once in `add_done_callback`'s caller if the future is done already. The result destructor
//! runs when the last reference goes.
//!
//! Differences from Python: a failure is a code and a message, not an exception object; a
//! callback's own failures cannot be logged (a C callback returns nothing).
//!
//! Memory: a future is one allocation ([`Future::new`], `RT_ENOMEM` if refused; 64 bytes and
//! its count); adding a callback may grow its list (`RT_ENOMEM`, nothing added). A failure
//! with a message boxes the message as it finishes the future (`set_exception` returns
//! `RT_ENOMEM` and changes nothing without memory for it; a worker's failure keeps its code
//! and reads [`LOST_MESSAGE`]). Finishing with a result, cancelling, reading and waiting
//! allocate nothing: a waiter has room for every future it watches beforehand (see `waiter`).

use crate::debug::annotate;
use crate::memory::{Arc, try_box, try_boxed_str};
use crate::status::{Error, rt_status};
use crate::sync::Event;
use crate::thread::CallbackGuard;
use crate::time::Wait;
use crate::wait::{CellGuard, LockCell, SpinWait};
use std::borrow::Cow;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

/// The kind tag of a future handle in the C face ("RTFU").
pub const FUTURE_TAG: u32 = 0x5254_4655;
const FREED_TAG: u32 = 0xdead_0bad;

/// The first bytes of every future: the C face's handle header, and beside its tag (in what
/// would be padding) how the future ended.
#[repr(C)]
pub struct FutureHeader {
    tag: u32,
    /// [`NOT_DONE`] until the future is done, then how it ended; stored (under the internal
    /// lock, after `result` and the failure, before `done` is set) once, never changed after,
    /// so that `done()`, `result()` and `exception()` on a done future read it without the
    /// lock: one load, on the line the completing thread wrote.
    outcome: AtomicU8,
}

/// A future's state (CPython's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending,
    Running,
    Cancelled,
    CancelledAndNotified,
    Finished,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Pending => "PENDING",
            State::Running => "RUNNING",
            State::Cancelled => "CANCELLED",
            State::CancelledAndNotified => "CANCELLED_AND_NOTIFIED",
            State::Finished => "FINISHED",
        }
    }

    /// Done for `done()`, `result()` and the callbacks.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            State::Cancelled | State::CancelledAndNotified | State::Finished
        )
    }

    /// Completed for `wait` and `as_completed`.
    pub fn is_completed(self) -> bool {
        matches!(self, State::CancelledAndNotified | State::Finished)
    }
}

/// A result destructor: called with a result nobody took when its future is destroyed.
pub type ResultFree = unsafe extern "C" fn(*mut c_void);

/// A done-callback, called once with the future.
pub type DoneCallback = Box<dyn FnOnce(&Arc<Future>) + Send>;

/// A failure: the code the call failed with (non-zero) and its message (a static text, or a
/// copy made with [`Failure::copied`]). A future keeps the code, and the message in a box of
/// its own (made as it finishes; without memory for it, the message becomes [`LOST_MESSAGE`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: i32,
    pub message: Cow<'static, str>,
}

impl Failure {
    /// A failure with a copy of `message`; `RT_ENOMEM` if the copy cannot be made.
    pub fn copied(code: i32, message: &str) -> Result<Failure, Error> {
        let message = if message.is_empty() {
            Cow::Borrowed("")
        } else {
            Cow::Owned(String::from(try_boxed_str(message)?))
        };
        Ok(Failure { code, message })
    }
}

/// The message of a failure whose own message could not be kept (no memory for it).
pub const LOST_MESSAGE: &str = "out of memory (the task's own message was lost)";

pub const CANCELLED: Error = Error::new(rt_status::RT_ECANCELLED, "the future was cancelled");
/// The status of `result()` on a failed future; the C face records the failure's own message.
pub const FAILED: Error = Error::new(rt_status::RT_EFAILED, "the future's call failed");
const UNEXPECTED_STATE: Error = Error::new(rt_status::RT_ESTATE, "Future in unexpected state");

fn invalid_state(s: State) -> Error {
    let message = match s {
        State::Cancelled => "CANCELLED: <Future state=cancelled>",
        State::CancelledAndNotified => "CANCELLED_AND_NOTIFIED: <Future state=cancelled>",
        _ => "FINISHED: <Future state=finished>",
    };
    Error::new(rt_status::RT_EINVALIDSTATE, message)
}

// The state, the failure's code and whether its message was lost share one word. What most
// futures never have is boxed, made when first needed: a pool that runs many small tasks
// allocates one future per task, and the future (with its counter) fits in 72 bytes.
#[repr(C)]
pub(super) struct Inner {
    pub(super) state: State,
    /// Whether a failed future's message could not be kept (it reads [`LOST_MESSAGE`]).
    message_lost: bool,
    /// The failure's code: non-zero once the future has finished with a failure.
    failure_code: i32,
    /// Made at the first callback or waiter, and kept (emptied) after.
    pub(super) listeners: Option<Box<Listeners>>,
    /// A failure's message, unless empty (or lost).
    failure_message: Option<Box<Cow<'static, str>>>,
}

/// A future's done-callbacks and the waiters installed in it.
#[derive(Default)]
pub(super) struct Listeners {
    callbacks: Vec<DoneCallback>,
    pub(super) waiters: Vec<Arc<Waiter>>,
}

impl Inner {
    /// The failure's code and message, if the future finished with one.
    fn failure(&self) -> Option<(i32, &str)> {
        if self.failure_code == 0 {
            return None;
        }
        let message = match &self.failure_message {
            Some(m) => m,
            None if self.message_lost => LOST_MESSAGE,
            None => "",
        };
        Some((self.failure_code, message))
    }

    /// The listeners, made now if this is the first; `RT_ENOMEM` if they cannot be.
    pub(super) fn listeners(&mut self) -> Result<&mut Listeners, Error> {
        let l = match self.listeners.take() {
            Some(l) => l,
            None => try_box(Listeners::default())?,
        };
        Ok(self.listeners.insert(l))
    }

    /// The callbacks to run once the future is done (taken out: each runs once).
    fn take_callbacks(&mut self) -> Vec<DoneCallback> {
        self.listeners
            .as_mut()
            .map_or_else(Vec::new, |l| std::mem::take(&mut l.callbacks))
    }

    /// The waiters installed (none before the first).
    pub(super) fn waiters(&self) -> &[Arc<Waiter>] {
        self.listeners.as_ref().map_or(&[], |l| &l.waiters)
    }
}

/// What a done future ended with, in [`Future::outcome`].
const NOT_DONE: u8 = 0;
const RESULT: u8 = 1;
const FAILED_OUTCOME: u8 = 2;
const CANCELLED_OUTCOME: u8 = 3;

/// A future (`concurrent.futures.Future`); see the module comment.
#[repr(C)]
pub struct Future {
    header: FutureHeader,
    done: Event,
    /// The result, written before `outcome` becomes [`RESULT`] (the user's pointer, handed
    /// between threads by the contract of the C face).
    result: AtomicPtr<c_void>,
    inner: LockCell<Inner>,
    result_free: Option<ResultFree>,
}

/// The internal lock, held.
pub(super) type Guard<'a> = CellGuard<'a, Inner>;

impl Drop for Future {
    fn drop(&mut self) {
        self.header.tag = FREED_TAG;
        crate::debug::names::forget(self as *const Future as usize);
        let result = *self.result.get_mut();
        if *self.header.outcome.get_mut() == RESULT && !result.is_null() {
            if let Some(free) = self.result_free {
                let _g = CallbackGuard::new();
                // SAFETY: the destructor was given with the future for its results; this one
                // was never handed to it before, and the future is going away.
                unsafe { free(result) };
            }
        }
    }
}

impl Future {
    /// A new PENDING future; `result_free`, if given, receives a result still held when the
    /// future is destroyed. `RT_ENOMEM` if it cannot be allocated.
    pub fn new(result_free: Option<ResultFree>) -> Result<Arc<Future>, Error> {
        Arc::try_new(Future {
            header: FutureHeader {
                tag: FUTURE_TAG,
                outcome: AtomicU8::new(NOT_DONE),
            },
            done: Event::new(),
            result: AtomicPtr::new(std::ptr::null_mut()),
            inner: LockCell::new(Inner {
                state: State::Pending,
                message_lost: false,
                failure_code: 0,
                listeners: None,
                failure_message: None,
            }),
            result_free,
        })
    }

    pub(super) fn locked(&self) -> Guard<'_> {
        self.inner.lock()
    }

    /// The state at this moment.
    pub fn state(&self) -> State {
        self.locked().state
    }

    /// `cancelled()`.
    pub fn cancelled(&self) -> bool {
        matches!(self.state(), State::Cancelled | State::CancelledAndNotified)
    }

    /// `running()`.
    pub fn running(&self) -> bool {
        self.state() == State::Running
    }

    /// `done()`.
    pub fn done(&self) -> bool {
        self.header.outcome.load(Ordering::Acquire) != NOT_DONE
    }

    /// Whether the future is done, after looking for a microsecond or two unless `wait` is
    /// [`Wait::Try`] (see `SpinWait::poll_while`): a call that ends that soon needs no blocking
    /// wait (no record of it for `rt_debug_dump`, no spin and no park in the done event's
    /// wait). For a caller of [`Future::result`] or [`Future::exception`].
    pub fn poll_done(&self, wait: Wait) -> bool {
        self.done()
            || (wait != Wait::Try
                && SpinWait::poll_while(|| self.header.outcome.load(Ordering::Relaxed) == NOT_DONE))
    }

    /// Waits for the future to be done; how it ended.
    fn wait_done(&self, wait: Wait) -> Result<u8, Error> {
        let mut o = self.header.outcome.load(Ordering::Acquire);
        if o == NOT_DONE {
            self.done.wait(wait)?;
            // `done` is set after `outcome` is stored, and never cleared.
            o = self.header.outcome.load(Ordering::Acquire);
            debug_assert_ne!(o, NOT_DONE);
        }
        // What the thread that finished the future did happens before this return.
        annotate::acquired(self);
        Ok(o)
    }

    /// `result(timeout)`: the result once finished. Errors: `RT_ECANCELLED`; `RT_EFAILED`
    /// ([`FAILED`]: the failure is in [`Future::with_failure`]); `RT_TIMEOUT`; `RT_EINTR`.
    pub fn result(&self, wait: Wait) -> Result<*mut c_void, Error> {
        match self.wait_done(wait)? {
            RESULT => Ok(self.result.load(Ordering::Relaxed)),
            FAILED_OUTCOME => Err(FAILED),
            _ => Err(CANCELLED),
        }
    }

    /// `exception(timeout)`: the failure's code once finished (0 for a result). Errors:
    /// `RT_ECANCELLED`, `RT_TIMEOUT`, `RT_EINTR`.
    pub fn exception(&self, wait: Wait) -> Result<i32, Error> {
        match self.wait_done(wait)? {
            RESULT => Ok(0),
            FAILED_OUTCOME => Ok(self.locked().failure_code),
            _ => Err(CANCELLED),
        }
    }

    /// Calls `f` with the failure (code and message) of a finished future (`None` if it did
    /// not fail), under the future's internal lock: `f` must not call user code nor use this
    /// future.
    pub fn with_failure<R>(&self, f: impl FnOnce(Option<(i32, &str)>) -> R) -> R {
        f(self.locked().failure())
    }

    /// Whether the future finished with a failure (for FIRST_EXCEPTION).
    pub(super) fn failed_locked(g: &Guard<'_>) -> bool {
        g.state == State::Finished && g.failure_code != 0
    }

    /// The state's CPython name.
    pub fn state_name(&self) -> &'static str {
        self.state().name()
    }
}

/// The operations of a future that need its reference (to hand it to callbacks and
/// waiters): methods of `Arc<Future>`.
pub trait FutureRef {
    /// `cancel()`: true if the future is cancelled (now or before); false if it runs or has
    /// finished. A cancellation runs the done-callbacks, in the calling thread.
    fn cancel(&self) -> bool;

    /// `add_done_callback(fn)`: `cb` runs once the future is done, in the thread that makes it
    /// done; at once, in the caller, if it is done already.
    fn add_done_callback(&self, cb: DoneCallback) -> Result<(), Error>;

    /// `set_running_or_notify_cancel()`: `Ok(true)` if the future was PENDING and now runs;
    /// `Ok(false)` if it was cancelled (waiters in `wait`/`as_completed` now see it completed).
    /// `RT_ESTATE` "Future in unexpected state" otherwise.
    fn set_running_or_notify_cancel(&self) -> Result<bool, Error>;

    /// `set_result(result)`: finishes the future with `result`. `RT_EINVALIDSTATE` if it is
    /// cancelled or finished already (the result is then not the future's).
    fn set_result(&self, result: *mut c_void) -> Result<(), Error>;

    /// `set_exception(exc)`: finishes the future with a failure. `RT_EINVALIDSTATE` as above;
    /// `RT_ENOMEM` without memory to keep its message (the future is unchanged then).
    fn set_exception(&self, failure: Failure) -> Result<(), Error>;

    /// As `set_exception`, but without memory to keep the message the future finishes all the
    /// same, its message [`LOST_MESSAGE`] (for a pool's worker, which must finish it).
    fn set_exception_or_lose_message(&self, failure: Failure) -> Result<(), Error>;
}

/// A failure's message as a future keeps it (see [`Inner`]).
enum Kept {
    Empty,
    Boxed(Box<Cow<'static, str>>),
    Lost,
}

impl Kept {
    /// Boxes a non-empty message; `RT_ENOMEM` if the box cannot be made.
    fn new(message: Cow<'static, str>) -> Result<Kept, Error> {
        if message.is_empty() {
            Ok(Kept::Empty)
        } else {
            try_box(message).map(Kept::Boxed)
        }
    }
}

impl FutureRef for Arc<Future> {
    fn cancel(&self) -> bool {
        let callbacks = {
            let mut g = self.locked();
            match g.state {
                State::Running | State::Finished => return false,
                State::Cancelled | State::CancelledAndNotified => return true,
                State::Pending => {}
            }
            g.state = State::Cancelled;
            self.header
                .outcome
                .store(CANCELLED_OUTCOME, Ordering::Release);
            annotate::released::<Future>(&**self);
            self.done.set();
            g.take_callbacks()
        };
        invoke(self, callbacks);
        true
    }

    fn add_done_callback(&self, cb: DoneCallback) -> Result<(), Error> {
        // What the caller did before happens before the callback, whichever thread runs it.
        annotate::released::<Future>(&**self);
        {
            let mut g = self.locked();
            if !g.state.is_done() {
                let callbacks = &mut g.listeners()?.callbacks;
                callbacks.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
                callbacks.push(cb);
                return Ok(());
            }
        }
        let _g = CallbackGuard::new();
        annotate::acquired::<Future>(&**self);
        cb(self);
        Ok(())
    }

    fn set_running_or_notify_cancel(&self) -> Result<bool, Error> {
        let mut g = self.locked();
        match g.state {
            State::Cancelled => {
                g.state = State::CancelledAndNotified;
                for w in g.waiters() {
                    w.add_cancelled(self);
                }
                Ok(false)
            }
            State::Pending => {
                g.state = State::Running;
                Ok(true)
            }
            _ => Err(UNEXPECTED_STATE),
        }
    }

    fn set_result(&self, result: *mut c_void) -> Result<(), Error> {
        finish(self, result, None)
    }

    fn set_exception(&self, failure: Failure) -> Result<(), Error> {
        let kept = Kept::new(failure.message)?;
        finish(self, std::ptr::null_mut(), Some((failure.code, kept)))
    }

    fn set_exception_or_lose_message(&self, failure: Failure) -> Result<(), Error> {
        let kept = Kept::new(failure.message).unwrap_or(Kept::Lost);
        finish(self, std::ptr::null_mut(), Some((failure.code, kept)))
    }
}

fn invoke(this: &Arc<Future>, callbacks: Vec<DoneCallback>) {
    if !callbacks.is_empty() {
        annotate::acquired::<Future>(&**this);
    }
    for cb in callbacks {
        let _g = CallbackGuard::new();
        cb(this);
    }
}

/// Finishes the future with `result`, or with a failure (its code and its message, boxed before
/// the lock is taken, and dropped unused if the future is done already).
fn finish(
    this: &Arc<Future>,
    result: *mut c_void,
    failure: Option<(i32, Kept)>,
) -> Result<(), Error> {
    annotate::released::<Future>(&**this);
    let failed = failure.is_some();
    debug_assert!(
        failure.as_ref().is_none_or(|f| f.0 != 0),
        "a failure's code is non-zero"
    );
    let callbacks = {
        let mut g = this.locked();
        if matches!(
            g.state,
            State::Cancelled | State::CancelledAndNotified | State::Finished
        ) {
            return Err(invalid_state(g.state));
        }
        this.result.store(result, Ordering::Relaxed);
        if let Some((code, kept)) = failure {
            g.failure_code = code;
            match kept {
                Kept::Empty => {}
                Kept::Boxed(m) => g.failure_message = Some(m),
                Kept::Lost => g.message_lost = true,
            }
        }
        g.state = State::Finished;
        let outcome = if failed { FAILED_OUTCOME } else { RESULT };
        this.header.outcome.store(outcome, Ordering::Release);
        for w in g.waiters() {
            if failed {
                w.add_exception(this);
            } else {
                w.add_result(this);
            }
        }
        g.take_callbacks()
    };
    // After the lock is released (the state is final already: whoever takes the lock now sees
    // it done), so that a woken `result` does not meet it held.
    this.done.set();
    invoke(this, callbacks);
    Ok(())
}

impl std::fmt::Debug for Future {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<Future state={}>", self.state_name())
    }
}

// ---- the waiters that `wait` and `as_completed` (waiter.rs) install in futures ----

/// An empty vector with room for `n` elements, or `RT_ENOMEM`.
pub(super) fn with_room<T>(n: usize) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::NO_MEMORY)?;
    Ok(v)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub(super) enum Kind {
    // CPython's waiter classes: _AsCompletedWaiter, _FirstCompletedWaiter, _AllCompletedWaiter.
    AsCompleted,
    FirstCompleted,
    AllCompleted { stop_on_exception: bool },
}

pub(super) struct WaiterState {
    /// Room for every watched future from the start: pushing never allocates.
    pub(super) finished: Vec<Arc<Future>>,
    pub(super) pending: usize,
}

/// A waiter installed in futures (CPython's `_Waiter` family).
pub struct Waiter {
    kind: Kind,
    state: LockCell<WaiterState>,
    pub(super) event: Event,
}

impl Waiter {
    /// A waiter for `watched` futures, `pending` of them not completed yet.
    pub(super) fn new(kind: Kind, watched: usize, pending: usize) -> Result<Arc<Waiter>, Error> {
        Arc::try_new(Waiter {
            kind,
            state: LockCell::new(WaiterState {
                finished: with_room(watched)?,
                pending,
            }),
            event: Event::new(),
        })
    }

    pub(super) fn with<R>(&self, f: impl FnOnce(&mut WaiterState) -> R) -> R {
        self.state.with(f)
    }

    fn add(&self, f: &Arc<Future>, exception: bool) {
        self.with(|s| {
            // Never beyond the room made in `new`: a future reports once.
            debug_assert!(s.finished.len() < s.finished.capacity());
            s.finished.push(f.clone());
            match self.kind {
                Kind::AsCompleted | Kind::FirstCompleted => self.event.set(),
                Kind::AllCompleted { stop_on_exception } => {
                    if exception && stop_on_exception {
                        self.event.set();
                    } else {
                        s.pending = s.pending.saturating_sub(1);
                        if s.pending == 0 {
                            self.event.set();
                        }
                    }
                }
            }
        });
    }

    pub(super) fn add_result(&self, f: &Arc<Future>) {
        self.add(f, false);
    }

    pub(super) fn add_exception(&self, f: &Arc<Future>) {
        self.add(f, true);
    }

    pub(super) fn add_cancelled(&self, f: &Arc<Future>) {
        self.add(f, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32, message: &'static str) -> Failure {
        Failure {
            code,
            message: Cow::Borrowed(message),
        }
    }

    #[test]
    fn a_failure_keeps_its_code_and_message() {
        let f = Future::new(None).unwrap();
        f.set_exception(Failure::copied(5, "boom").unwrap())
            .unwrap();
        assert_eq!(f.exception(Wait::Try), Ok(5));
        assert_eq!(f.result(Wait::Try), Err(FAILED));
        assert_eq!(
            f.with_failure(|x| x.map(|(c, m)| (c, m.to_string()))),
            Some((5, "boom".into()))
        );
        // A second one is refused, and the first stays.
        assert_eq!(
            f.set_exception(failure(6, "again")).unwrap_err().status,
            rt_status::RT_EINVALIDSTATE
        );
        assert_eq!(
            f.with_failure(|x| x.map(|(c, m)| (c, m.to_string()))),
            Some((5, "boom".into()))
        );
    }

    #[test]
    fn an_empty_message_takes_no_box() {
        let f = Future::new(None).unwrap();
        f.set_exception(failure(7, "")).unwrap();
        assert!(f.locked().failure_message.is_none());
        assert_eq!(
            f.with_failure(|x| x.map(|(c, m)| (c, m.to_string()))),
            Some((7, String::new()))
        );
    }

    #[test]
    fn a_lost_message_reads_as_lost_and_keeps_the_code() {
        let f = Future::new(None).unwrap();
        finish(&f, std::ptr::null_mut(), Some((9, Kept::Lost))).unwrap();
        assert_eq!(f.exception(Wait::Try), Ok(9));
        assert_eq!(
            f.with_failure(|x| x.map(|(c, m)| (c, m.to_string()))),
            Some((9, LOST_MESSAGE.to_string()))
        );
    }

    #[test]
    fn a_result_is_no_failure() {
        let f = Future::new(None).unwrap();
        f.set_result(std::ptr::null_mut()).unwrap();
        assert_eq!(f.exception(Wait::Try), Ok(0));
        assert!(!f.with_failure(|x| x.is_some()));
    }
}
