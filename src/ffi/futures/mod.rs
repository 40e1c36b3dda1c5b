//! `concurrent.futures`: futures, `wait`, `as_completed` and the thread pool.
//!
//! A future handle is the pointer of an `Arc<Future>` (the core's `Future` starts with the
//! handle header; a thread's handle, by contrast, is the C face's own object: see
//! `threading`); each handle the user holds is one strong reference. Executors and as-completed iterators are plain objects (`Obj`).
//!
//! - [`future`]: a future's own functions (both halves: users' and implementers');
//! - [`wait`]: `rt_wait` and the as-completed iterator;
//! - [`executor`]: the thread pool.

#![cfg(not(loom))]

mod executor;
mod future;
mod wait;

pub use executor::*;
pub use future::*;
pub use wait::*;

use super::boundary::{self, CText, Handle, Handles, Out, Place, Slots};
use super::{Handled, Kind, Obj, free};
use crate::futures::executor::{ArgFree, InitFn, TaskFn};
use crate::futures::future::{FUTURE_TAG, FutureHeader};
use crate::futures::text::StackText;
use crate::futures::{AsCompleted, Executor, Failure, Future, FutureRef, ReturnWhen};
use crate::memory::{Arc, try_box};
use crate::status::{Error, record_text, rt_status};
use crate::time::timeout_wait;
use std::ffi::{c_char, c_int, c_void};
use std::fmt::Write;
use std::mem::ManuallyDrop;

/// A future (`concurrent.futures.Future`): the result of a call that may not have happened
/// yet. Reference-counted: `rt_executor_submit` and `rt_future_new` give the caller a new
/// reference; `rt_future_retain` adds one and `rt_future_release` drops one. The object is
/// destroyed with its last reference; a queued or running task holds one of its own.
/// Memory: 72 bytes (the future and its count, one allocation; a callback or a waiter adds a
/// box for the lists, a failure with a message a box for the message).
pub struct rt_future {
    _private: [u8; 0],
}

/// A thread pool (`concurrent.futures.ThreadPoolExecutor`). Made by `rt_executor_new`,
/// destroyed by `rt_executor_free` (which shuts it down and waits for its workers).
pub struct rt_executor {
    _private: [u8; 0],
}

/// An iterator over futures as they complete (`concurrent.futures.as_completed`). Made by
/// `rt_as_completed_new`, destroyed by `rt_as_completed_free`.
pub struct rt_as_completed {
    _private: [u8; 0],
}

/// A task for `rt_executor_submit`: `int task(void *arg, void **result)`. It returns 0 on
/// success, having stored its result (any pointer, NULL included) in `*result` (NULL
/// beforehand). Any other return value is a failure: the future finishes with that code as its
/// exception, and with the calling thread's `rt_last_error()` text at that moment as the
/// message (the worker clears it before each task, so it is the message of an rthread call that
/// failed in the task, or what the task set with `rt_set_error_message`); `*result` is then
/// ignored. If the worker has no memory to copy that message, the failure keeps the code and
/// its message is "out of memory (the task's own message was lost)".
pub type rt_task_fn =
    Option<unsafe extern "C" fn(arg: *mut c_void, result: *mut *mut c_void) -> c_int>;

/// An executor's initializer: `int init(void *ctx)`, run first in every worker; a non-zero
/// return breaks the pool (`BrokenThreadPool`).
pub type rt_initializer_fn = Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>;

/// A destructor for a task's argument or a future's result: `void destroy(void *p)`.
pub type rt_destructor_fn = Option<unsafe extern "C" fn(p: *mut c_void)>;

/// A done-callback: `void callback(rt_future *future, void *ctx)`. `future` is borrowed for the
/// call (`rt_future_retain` it to keep it).
pub type rt_future_callback =
    Option<unsafe extern "C" fn(future: *mut rt_future, ctx: *mut c_void)>;

/// `rt_wait`'s `return_when`: return when every future has completed (Python's default).
pub const RT_ALL_COMPLETED: c_int = 0;
/// `rt_wait`'s `return_when`: return when any future completes or is cancelled.
pub const RT_FIRST_COMPLETED: c_int = 1;
/// `rt_wait`'s `return_when`: return when any future fails (finishes with an exception), or,
/// if none does, when every one has completed.
pub const RT_FIRST_EXCEPTION: c_int = 2;

struct FutureMarker;
impl Handled for FutureMarker {
    const KIND: Kind = Kind::Future;
}
impl Handled for Executor {
    const KIND: Kind = Kind::Executor;
}

const _: () = assert!(Kind::Future as u32 == FUTURE_TAG);
const _: () =
    assert!(std::mem::size_of::<FutureHeader>() == std::mem::size_of::<Obj<FutureMarker>>());

const NULL_TASK: Error = Error::new(rt_status::RT_EINVAL, "NULL task function");
const NULL_CALLBACK: Error = Error::new(rt_status::RT_EINVAL, "NULL callback");
const NULL_ARRAY: Error = Error::new(rt_status::RT_EINVAL, "NULL futures array");
const NULL_MESSAGE: Error = Error::new(rt_status::RT_EINVAL, "NULL message");
const ZERO_CODE: Error = Error::new(rt_status::RT_EINVAL, "an exception's code must be non-zero");
const BAD_RETURN_WHEN: Error = Error::new(rt_status::RT_EINVAL, "Invalid return condition");
const BAD_PREFIX: Error = Error::new(rt_status::RT_EINVAL, "thread_name_prefix must be UTF-8");

/// The future whose header `obj` is, as its `Arc`, borrowed (the caller's reference untouched).
///
/// Sound because no `Obj<FutureMarker>` is ever allocated: a reference to one comes only from
/// a handle whose tag says "future", which is the pointer of a live `Arc<Future>`.
fn arc_of(obj: &Obj<FutureMarker>) -> ManuallyDrop<Arc<Future>> {
    // SAFETY: as above; ManuallyDrop keeps the count as it is.
    ManuallyDrop::new(unsafe { Arc::from_raw(obj as *const Obj<FutureMarker> as *const Future) })
}

/// The future behind a handle, borrowed; `RT_EINVAL` for a NULL or wrong-kind handle.
fn future_of(h: Handle<rt_future>) -> Result<ManuallyDrop<Arc<Future>>, Error> {
    Ok(arc_of(h.get::<FutureMarker>()?))
}

fn into_handle(f: Arc<Future>) -> *mut rt_future {
    Arc::into_raw(f) as *mut rt_future
}

/// Runs `body` on the future behind a handle at the C boundary ([`Handle::on`]: its error
/// recorded, a panic caught); a NULL or wrong-kind handle is `RT_EINVAL` and the body does not
/// run.
fn on_future(
    h: Handle<rt_future>,
    body: impl FnOnce(&Arc<Future>) -> Result<(), Error>,
) -> rt_status {
    h.on(|obj: &Obj<FutureMarker>| body(&arc_of(obj)))
}

/// A query on the future behind a handle ([`Handle::query`]): `fallback` for a NULL or
/// wrong-kind handle, or a panic, with the error recorded.
fn query_future<R>(h: Handle<rt_future>, fallback: R, body: impl FnOnce(&Arc<Future>) -> R) -> R {
    h.query(fallback, |obj: &Obj<FutureMarker>| body(&arc_of(obj)))
}

/// After a call that returned `RT_EFAILED` for `f`, records the failure's own message (the
/// boundary recorded the generic one).
fn record_failure_message(h: Handle<rt_future>, status: rt_status) -> rt_status {
    if status == rt_status::RT_EFAILED {
        if let Ok(f) = future_of(h) {
            f.with_failure(|fail| fail.map(|(_, message)| record_text(status, message)));
        }
    }
    status
}
