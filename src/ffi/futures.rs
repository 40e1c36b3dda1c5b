//! `concurrent.futures`: futures, `wait`, `as_completed` and the thread pool.
//!
//! A future handle is the pointer of an `Arc<Future>` (the core's `Future` starts with the
//! handle header, as a thread object does); each handle the user holds is one strong
//! reference. Executors and as-completed iterators are plain objects (`Obj`).

#![cfg(not(loom))]

use super::{Handled, Kind, Obj, ffi_status, free, handle, write_out};
use crate::futures::executor::{ArgFree, InitFn, TaskFn};
use crate::futures::future::{FUTURE_TAG, FutureHeader};
use crate::futures::text::StackText;
use crate::futures::{AsCompleted, Executor, Failure, Future, FutureRef, ReturnWhen};
use crate::memory::{Arc, try_box};
use crate::status::{Error, record, record_text, rt_status};
use crate::time::timeout_wait;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::fmt::Write;
use std::mem::ManuallyDrop;

/// A future (`concurrent.futures.Future`): the result of a call that may not have happened
/// yet. Reference-counted: `rt_executor_submit` and `rt_future_new` give the caller a new
/// reference; `rt_future_retain` adds one and `rt_future_release` drops one. The object is
/// destroyed with its last reference; a queued or running task holds one of its own.
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
/// An iterator behind a handle: one thread at a time may advance it.
pub struct AsCompletedObj {
    lock: crate::sync::Lock,
    it: std::cell::UnsafeCell<AsCompleted>,
}

// SAFETY: `it` is only touched with `lock` held (or when the object is dropped).
unsafe impl Sync for AsCompletedObj {}

impl Handled for AsCompletedObj {
    const KIND: Kind = Kind::AsCompleted;
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

/// Checks a future handle and borrows its `Arc` without taking the caller's reference.
///
/// # Safety
/// `p` must be NULL or a live handle of some rthread kind.
unsafe fn future_arc(p: *const rt_future) -> Result<ManuallyDrop<Arc<Future>>, Error> {
    // SAFETY: forwarded contract; the tag check reads only the header.
    unsafe { handle::<FutureMarker, _>(p)? };
    // SAFETY: the tag says `p` is the pointer of a live Arc<Future>; ManuallyDrop keeps the
    // caller's reference untouched.
    Ok(ManuallyDrop::new(unsafe {
        Arc::from_raw(p as *const Future)
    }))
}

fn into_handle(f: Arc<Future>) -> *mut rt_future {
    Arc::into_raw(f) as *mut rt_future
}

fn query<T>(r: Result<T, Error>, default: T) -> T {
    r.unwrap_or_else(|e| {
        record(&e);
        default
    })
}

/// Records a failed future's own message for `RT_EFAILED`.
fn record_future_error(f: &Future, e: Error) -> rt_status {
    if e.status == rt_status::RT_EFAILED {
        if let Some(status) = f.with_failure(|fail| fail.map(|x| record_text(e.status, &x.message)))
        {
            return status;
        }
    }
    record(&e)
}

/// Creates a pending future for a library that runs calls its own way (the implementers' half
/// of `concurrent.futures.Future`): it completes it with `rt_future_set_running_or_notify_cancel`,
/// `rt_future_set_result` and `rt_future_set_exception`. `result_free`, which may be NULL,
/// receives the future's result when the future is destroyed (with its last reference).
///
/// On `RT_OK`, `*out` receives a new reference, released with `rt_future_release`. Errors:
/// `RT_EINVAL` if `out` is NULL ("NULL output pointer"); `RT_ENOMEM` ("out of memory"),
/// `*out` not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_new(
    result_free: rt_destructor_fn,
    out: *mut *mut rt_future,
) -> rt_status {
    ffi_status!({
        if out.is_null() {
            return Err(Error::NULL_OUT);
        }
        // SAFETY: non-NULL, writable by the API contract.
        unsafe { write_out(out, into_handle(Future::new(result_free)?)) }
    })
}

/// Adds a reference to the future; each reference is dropped with `rt_future_release`.
/// Errors: `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_retain(f: *mut rt_future) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        unsafe { future_arc(f)? };
        // SAFETY: `f` is the pointer of a live Arc<Future> (checked above).
        unsafe { Arc::increment_strong_count(f as *const Future) };
        Ok(())
    })
}

/// Drops one reference to the future. With the last one the future is destroyed: its result,
/// if it has one, goes to the result destructor given with it. A queued or running task keeps
/// its future alive, so releasing never cancels anything. NULL is fine (nothing happens).
/// Errors: `RT_EINVAL` for a handle of another kind. Releasing more references than one holds
/// is undefined, as freeing twice is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_release(f: *mut rt_future) -> rt_status {
    if f.is_null() {
        return rt_status::RT_OK;
    }
    ffi_status!({
        // SAFETY: the caller passes a live handle.
        unsafe { future_arc(f)? };
        // SAFETY: the caller gives up one of its references.
        drop(unsafe { Arc::from_raw(f as *const Future) });
        Ok(())
    })
}

/// Cancels the future if it has not started (`future.cancel()`): true if it is cancelled now
/// or was already; false if it runs or has finished. A cancellation runs the done-callbacks in
/// the calling thread. False for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_cancel(f: *mut rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query(unsafe { future_arc(f) }.map(|a| a.cancel()), false)
}

/// Whether the future was cancelled (`future.cancelled()`). False for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_cancelled(f: *const rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query(unsafe { future_arc(f) }.map(|a| a.cancelled()), false)
}

/// Whether the future's call is running (`future.running()`). False for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_running(f: *const rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query(unsafe { future_arc(f) }.map(|a| a.running()), false)
}

/// Whether the future is done: cancelled, or finished with a result or an exception
/// (`future.done()`). False for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_done(f: *const rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query(unsafe { future_arc(f) }.map(|a| a.done()), false)
}

/// Waits for the future's result (`future.result(timeout)`): at most `timeout` seconds,
/// without bound for `RT_FOREVER`; 0 just looks.
///
/// On `RT_OK`, `*result` receives the result. The future keeps it (every call gives the same
/// pointer) and its result destructor gets it when the future is destroyed.
///
/// Errors: `RT_ECANCELLED` "the future was cancelled" (`CancelledError`); `RT_EFAILED` when the
/// call failed, with the failure's own message in `rt_last_error()` (its code:
/// `rt_future_exception`); `RT_TIMEOUT` "timed out" when it is not done in time; `RT_EINTR`;
/// the timeout's validation (`RT_EINVAL`, `RT_EOVERFLOW`, as for `rt_event_wait`); `RT_EINVAL`
/// for a NULL `result` or a NULL or wrong-kind handle. The caller must hold a reference to `f`
/// throughout the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_result(
    f: *const rt_future,
    timeout: f64,
    result: *mut *mut c_void,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let fut = match unsafe { future_arc(f) } {
        Ok(a) => a,
        Err(e) => return record(&e),
    };
    if result.is_null() {
        return record(&Error::NULL_OUT);
    }
    let w = match timeout_wait(timeout) {
        Ok(w) => w,
        Err(e) => return record(&e),
    };
    match fut.result(w) {
        // SAFETY: non-NULL, writable by the API contract.
        Ok(r) => crate::status::to_status(unsafe { write_out(result, r) }),
        Err(e) => record_future_error(&fut, e),
    }
}

/// Waits for the future's exception (`future.exception(timeout)`), as `rt_future_result` waits.
///
/// On `RT_OK`, `*code` receives 0 if the call succeeded, or the failure's non-zero code: the
/// task's return value, the code given to `rt_future_set_exception`, or `RT_EBROKEN` for a task
/// that a broken pool will never run. The failure's message is what `rt_future_result`
/// records. Errors: `RT_ECANCELLED`, `RT_TIMEOUT`, `RT_EINTR`, the timeout's validation;
/// `RT_EINVAL` for a NULL `code` or a NULL or wrong-kind handle. The caller must hold a
/// reference to `f` throughout the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_exception(
    f: *const rt_future,
    timeout: f64,
    code: *mut c_int,
) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let fut = unsafe { future_arc(f)? };
        if code.is_null() {
            return Err(Error::NULL_OUT);
        }
        let w = timeout_wait(timeout)?;
        let c = fut.exception(w)?;
        // SAFETY: non-NULL, writable by the API contract.
        unsafe { write_out(code, c) }
    })
}

struct SendCtx(*mut c_void);
// SAFETY: the user's context, handed to the thread that completes the future, as documented.
unsafe impl Send for SendCtx {}

/// Adds a done-callback (`future.add_done_callback(fn)`): `callback(future, ctx)` runs once
/// the future is done (finished or cancelled), in the thread that makes it done, with no
/// internal lock held; at once, in the calling thread, if the future is done already.
/// Callbacks run in the order they were added. A future destroyed before it is done drops its
/// callbacks without calling them.
///
/// Errors: `RT_EINVAL` for a NULL `callback` ("NULL callback") or a NULL or wrong-kind handle;
/// `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_add_done_callback(
    f: *mut rt_future,
    callback: rt_future_callback,
    ctx: *mut c_void,
) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let fut = unsafe { future_arc(f)? };
        let cb = callback.ok_or(NULL_CALLBACK)?;
        let ctx = SendCtx(ctx);
        let call: crate::futures::future::DoneCallback = try_box(move |done: &Arc<Future>| {
            let ctx = ctx;
            // SAFETY: the callback and context the caller gave, called once with the future,
            // which the completing thread holds for the call.
            unsafe { cb(Arc::as_ptr(done) as *mut rt_future, ctx.0) }
        })?;
        fut.add_done_callback(call)
    })
}

/// For implementers: marks the future as running, or sees its cancellation
/// (`future.set_running_or_notify_cancel()`).
///
/// `RT_OK`: it was pending and is now running (it can no longer be cancelled).
/// `RT_ECANCELLED` "the future was cancelled": it was cancelled; `rt_wait` and `rt_as_completed`
/// now count it as completed. Errors: `RT_ESTATE` "Future in unexpected state" if it runs or
/// has finished; `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_set_running_or_notify_cancel(f: *mut rt_future) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let fut = unsafe { future_arc(f)? };
        if fut.set_running_or_notify_cancel()? {
            Ok(())
        } else {
            Err(crate::futures::future::CANCELLED)
        }
    })
}

/// For implementers: finishes the future with `result` (`future.set_result(result)`): wakes
/// its waiters, then runs its done-callbacks in the calling thread. The future owns `result`
/// from now on (its result destructor gets it when the future is destroyed).
///
/// Errors: `RT_EINVALIDSTATE` (`InvalidStateError`) if the future is cancelled or finished
/// already, with the state in the message ("FINISHED: <Future state=finished>"); `result` then
/// stays the caller's. `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_set_result(f: *mut rt_future, result: *mut c_void) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let fut = unsafe { future_arc(f)? };
        fut.set_result(result)
    })
}

/// For implementers: finishes the future with an exception (`future.set_exception(exc)`):
/// `code` (non-zero) and `message` (copied; NULL means an empty message) are what
/// `rt_future_exception` and `rt_future_result` report. Wakes its waiters, then runs its
/// done-callbacks in the calling thread.
///
/// Errors: `RT_EINVALIDSTATE` as for `rt_future_set_result`; `RT_EINVAL` for a zero `code`
/// ("an exception's code must be non-zero"), a message that is not UTF-8, a NULL or
/// wrong-kind handle; `RT_ENOMEM` when the message cannot be copied (the future is unchanged:
/// still pending or running).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_set_exception(
    f: *mut rt_future,
    code: c_int,
    message: *const c_char,
) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let fut = unsafe { future_arc(f)? };
        if code == 0 {
            return Err(ZERO_CODE);
        }
        let text = if message.is_null() {
            ""
        } else {
            // SAFETY: non-NULL and NUL-terminated by the API contract.
            let s = unsafe { CStr::from_ptr(message) };
            s.to_str()
                .map_err(|_| Error::new(rt_status::RT_EINVAL, "message must be UTF-8"))?
        };
        fut.set_exception(Failure::copied(code, text)?)
    })
}

/// Sets the calling thread's last-error message (what `rt_last_error()` returns) to `message`,
/// copied (cut at 255 bytes). Meant for a task about to fail: its failure's message is this
/// text. Returns `RT_OK`. Errors: `RT_EINVAL` "NULL message" for a NULL `message` (which then
/// becomes the message).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_set_error_message(message: *const c_char) -> rt_status {
    if message.is_null() {
        return record(&NULL_MESSAGE);
    }
    // SAFETY: non-NULL and NUL-terminated by the API contract.
    let bytes = unsafe { CStr::from_ptr(message) }.to_bytes();
    // Invalid UTF-8 becomes U+FFFD, as `to_string_lossy` does, without allocating.
    let mut text = StackText::<256>::new();
    for chunk in bytes.utf8_chunks() {
        let _ = text.write_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            let _ = text.write_char(char::REPLACEMENT_CHARACTER);
        }
    }
    record_text(rt_status::RT_OK, text.as_str())
}

/// The futures of an array, borrowed as `Arc`s.
///
/// # Safety
/// `fs` must be NULL or point to `n` handles, each NULL or live.
unsafe fn futures_of(fs: *const *mut rt_future, n: usize) -> Result<Vec<Arc<Future>>, Error> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if fs.is_null() {
        return Err(NULL_ARRAY);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::NO_MEMORY)?;
    for i in 0..n {
        // SAFETY: `fs` holds `n` handles by the API contract.
        let p = unsafe { *fs.add(i) };
        // SAFETY: each is NULL or a live handle.
        let a = unsafe { future_arc(p)? };
        v.push(Arc::clone(&a));
    }
    Ok(v)
}

/// Waits for futures (`concurrent.futures.wait(fs, timeout, return_when)`): `futures` holds `n`
/// handles (duplicates count once; `n` may be 0, then `futures` may be NULL). `return_when`
/// is `RT_ALL_COMPLETED`, `RT_FIRST_COMPLETED` or `RT_FIRST_EXCEPTION`. A future counts as
/// completed once finished, or once cancelled and seen cancelled by its executor (or by
/// `rt_future_set_running_or_notify_cancel`), as in CPython. The waiting thread sleeps until a
/// future it watches completes.
///
/// Returns `RT_OK` when the condition holds, `RT_TIMEOUT` when `timeout` seconds passed first.
/// In both cases the sets are written: `done[i]` (an array of `n` bools; may be NULL) is true
/// when `futures[i]` is in the done set, and `*n_done` (may be NULL) receives the size of the
/// done set (distinct futures). Errors, with nothing written: `RT_EINTR`; the timeout's
/// validation; `RT_EINVAL` for a bad `return_when` ("Invalid return condition"), a NULL
/// `futures` with `n` > 0 ("NULL futures array"), a NULL or wrong-kind handle in it;
/// `RT_ENOMEM`. The caller must hold a reference to each future throughout the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_wait(
    futures: *const *mut rt_future,
    n: usize,
    timeout: f64,
    return_when: c_int,
    done: *mut bool,
    n_done: *mut usize,
) -> rt_status {
    let r = (|| -> Result<bool, Error> {
        // SAFETY: the caller passes `n` handles.
        let fs = unsafe { futures_of(futures, n)? };
        let when = match return_when {
            RT_ALL_COMPLETED => ReturnWhen::AllCompleted,
            RT_FIRST_COMPLETED => ReturnWhen::FirstCompleted,
            RT_FIRST_EXCEPTION => ReturnWhen::FirstException,
            _ => return Err(BAD_RETURN_WHEN),
        };
        let w = timeout_wait(timeout)?;
        let waited = crate::futures::wait(&fs, w, when)?;
        if !done.is_null() {
            for (i, f) in fs.iter().enumerate() {
                let is_done = waited.done.iter().any(|d| Arc::ptr_eq(d, f));
                // SAFETY: `done` holds `n` bools by the API contract.
                unsafe { done.add(i).write(is_done) };
            }
        }
        if !n_done.is_null() {
            // SAFETY: non-NULL, writable by the API contract.
            unsafe { n_done.write(waited.done.len()) };
        }
        Ok(waited.met)
    })();
    match r {
        Ok(true) => rt_status::RT_OK,
        Ok(false) => record(&Error::TIMEOUT),
        Err(e) => record(&e),
    }
}

/// Starts iterating over futures as they complete (`concurrent.futures.as_completed(fs,
/// timeout)`): `futures` holds `n` handles (duplicates count once; `n` may be 0, then
/// `futures` may be NULL). `timeout` bounds the whole iteration and counts from this call;
/// `RT_FOREVER` for none. The iterator holds a reference to each future until it is freed.
///
/// On `RT_OK`, `*out` receives the iterator, which the caller frees with
/// `rt_as_completed_free`. Errors: the timeout's validation; `RT_EINVAL` for a NULL `out`,
/// a NULL `futures` with `n` > 0, a NULL or wrong-kind handle in it; `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_as_completed_new(
    futures: *const *mut rt_future,
    n: usize,
    timeout: f64,
    out: *mut *mut rt_as_completed,
) -> rt_status {
    ffi_status!({
        if out.is_null() {
            return Err(Error::NULL_OUT);
        }
        // SAFETY: the caller passes `n` handles.
        let fs = unsafe { futures_of(futures, n)? };
        let w = timeout_wait(timeout)?;
        let it = AsCompleted::new(&fs, w)?;
        let p = Obj::alloc(AsCompletedObj {
            lock: crate::sync::Lock::new(),
            it: std::cell::UnsafeCell::new(it),
        })?;
        // SAFETY: non-NULL, writable by the API contract.
        unsafe { write_out(out, p as *mut rt_as_completed) }
    })
}

/// The next completed future: those completed already first, then each as it completes,
/// every distinct future once. On `RT_OK`, `*out` receives the future (borrowed: valid while
/// the iterator lives; `rt_future_retain` it to keep it longer), or NULL when every future has
/// been given. Blocks until one completes or the overall timeout passes.
///
/// Errors: `RT_TIMEOUT` "N (of M) futures unfinished" when the timeout has passed and none is
/// ready (Python's `TimeoutError`); `RT_EINTR`; after either the iterator stays usable.
/// `RT_EBUSY` if another thread is inside a call on the same iterator; `RT_EINVAL` for a NULL
/// `out` or a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_as_completed_next(
    it: *mut rt_as_completed,
    out: *mut *mut rt_future,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let obj = match unsafe { handle::<AsCompletedObj, _>(it) } {
        Ok(o) => o,
        Err(e) => return record(&e),
    };
    if out.is_null() {
        return record(&Error::NULL_OUT);
    }
    let _busy = obj.busy();
    if !obj.inner.lock.try_acquire() {
        return record(&Error::new(
            rt_status::RT_EBUSY,
            "another thread is advancing the iterator",
        ));
    }
    // SAFETY: the lock is held, so this thread alone touches the iterator.
    let iter = unsafe { &mut *obj.inner.it.get() };
    let r = iter.next_completed();
    let status = match r {
        Ok(f) => {
            let p = f.map_or(std::ptr::null_mut(), |f| Arc::as_ptr(&f) as *mut rt_future);
            // SAFETY: non-NULL, writable by the API contract. The iterator keeps the future
            // alive (it holds it in its list of all futures).
            unsafe { out.write(p) };
            rt_status::RT_OK
        }
        Err(e) if e.status == rt_status::RT_TIMEOUT => {
            let (left, total) = iter.unfinished();
            let mut text = StackText::<64>::new();
            let _ = write!(text, "{left} (of {total}) futures unfinished");
            record_text(rt_status::RT_TIMEOUT, text.as_str())
        }
        Err(e) => record(&e),
    };
    let _ = obj.inner.lock.release();
    status
}

/// Destroys the iterator and drops its references to the futures. NULL is fine. `RT_EBUSY` if
/// a thread is inside `rt_as_completed_next` on it (it is not freed); `RT_EINVAL` for a handle
/// of another kind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_as_completed_free(it: *mut rt_as_completed) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { free::<AsCompletedObj, rt_as_completed>(it) }
}

/// Creates a thread pool (`ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)`).
///
/// `max_workers` 0 means CPython's default, `min(32, CPUs + 4)`. Workers start on demand, one
/// per submit while none is idle and fewer than `max_workers` run; they are named
/// `<prefix>_<n>` (n from 0), with `thread_name_prefix` NULL or "" meaning
/// `ThreadPoolExecutor-<k>` (k counts such pools from 0). `initializer(initctx)`, which may be
/// NULL, runs first in every worker; a non-zero return breaks the pool: the futures still
/// queued fail (`RT_EBROKEN` as their code) and later submits are refused. The process's exit
/// waits for the workers of every pool not freed, after they finished the queued work.
///
/// On `RT_OK`, `*out` receives the pool, which the caller frees with `rt_executor_free`.
/// Errors: `RT_EINVAL` for a NULL `out` or a prefix that is not UTF-8; `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_executor_new(
    max_workers: usize,
    thread_name_prefix: *const c_char,
    initializer: rt_initializer_fn,
    initctx: *mut c_void,
    out: *mut *mut rt_executor,
) -> rt_status {
    ffi_status!({
        if out.is_null() {
            return Err(Error::NULL_OUT);
        }
        let prefix = if thread_name_prefix.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated by the API contract.
            Some(
                unsafe { CStr::from_ptr(thread_name_prefix) }
                    .to_str()
                    .map_err(|_| BAD_PREFIX)?,
            )
        };
        let init = initializer.map(|f| (f as InitFn, initctx));
        let ex = Executor::unregistered(max_workers, prefix, init)?;
        let p = Obj::alloc(ex)?;
        // SAFETY: `p` was just made and nobody else has it.
        if let Err(e) = unsafe { (*p).inner.register() } {
            // SAFETY: as above; the unregistered pool has no worker.
            unsafe { free::<Executor, rt_executor>(p as *mut rt_executor) };
            return Err(e);
        }
        // SAFETY: non-NULL, writable by the API contract.
        unsafe { write_out(out, p as *mut rt_executor) }
    })
}

/// Submits `task(arg)` (`executor.submit(fn, arg)`) and gives its future.
///
/// `arg_free(arg)`, if not NULL, runs once: in the worker after the task returned (before its
/// future completes), or where the task is dropped without running (cancelled, the pool
/// broke). `result_free` (may be NULL) is the future's result destructor. On `RT_OK`, `*out`
/// receives a new reference to the future, released with `rt_future_release`.
///
/// A worker that cannot be started (no memory, or the system refused the thread): if the pool
/// has no worker, the submit fails (`RT_ENOMEM` "out of memory", or `RT_EAGAIN` "can't start
/// new thread: ...") with nothing queued; if it has one, the task is queued all the same and
/// the submit succeeds: the pool's workers run it in turn, and a later submit tries again to
/// start one. (CPython raises `RuntimeError` in both cases, with the task queued.)
///
/// Errors, with nothing queued and `arg_free` not called: `RT_ESHUTDOWN` "cannot schedule new
/// futures after shutdown" (or "... after interpreter shutdown", once the process is exiting);
/// `RT_EBROKEN` "A thread initializer failed, the thread pool is not usable anymore"
/// (`BrokenThreadPool`); `RT_EAGAIN` and `RT_ENOMEM` as above, and `RT_ENOMEM` when the future
/// or the queue's room cannot be allocated; `RT_EINVAL` for a NULL `task` ("NULL task
/// function"), a NULL `out`, a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_executor_submit(
    ex: *mut rt_executor,
    task: rt_task_fn,
    arg: *mut c_void,
    arg_free: rt_destructor_fn,
    result_free: rt_destructor_fn,
    out: *mut *mut rt_future,
) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let e = unsafe { handle::<Executor, _>(ex)? };
        let task: TaskFn = task.ok_or(NULL_TASK)?;
        if out.is_null() {
            return Err(Error::NULL_OUT);
        }
        let f = e
            .inner
            .submit(task, arg, arg_free.map(|f| f as ArgFree), result_free)?;
        // SAFETY: non-NULL, writable by the API contract.
        unsafe { write_out(out, into_handle(f)) }
    })
}

/// Shuts the pool down (`executor.shutdown(wait, cancel_futures=...)`): later submits fail
/// with `RT_ESHUTDOWN`. With `cancel_futures`, the futures still queued are cancelled (their
/// callbacks run in this thread, and `rt_wait`/`rt_as_completed` see them completed); without
/// it the workers finish them. With `wait`, returns once every worker has ended. Calling it
/// again is harmless.
///
/// Errors, in the wait only (the shutdown is done): `RT_EINTR`; `RT_EDEADLK` "cannot join
/// current thread" when a worker of this pool waits for the pool (after the others ended).
/// `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_executor_shutdown(
    ex: *mut rt_executor,
    wait: bool,
    cancel_futures: bool,
) -> rt_status {
    ffi_status!({
        // SAFETY: the caller passes NULL or a live handle.
        let e = unsafe { handle::<Executor, _>(ex)? };
        let _busy = e.busy();
        e.inner.shutdown(wait, cancel_futures)
    })
}

/// How many workers the pool has started (CPython's `len(executor._threads)`); they stay until
/// shutdown. 0 for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_executor_thread_count(ex: *const rt_executor) -> usize {
    // SAFETY: the caller passes NULL or a live handle.
    query(
        unsafe { handle::<Executor, _>(ex) }.map(|e| e.inner.thread_count()),
        0,
    )
}

/// Shuts the pool down and waits for its workers, which first finish the work still queued
/// (as `with ThreadPoolExecutor() ...:` does at its end), then destroys it. Interrupts do not
/// end this wait (one that arrives is kept for the next interruptible wait). Called from one
/// of the pool's own workers, it waits for the others only. NULL is fine. `RT_EBUSY` if a
/// thread is inside `rt_executor_shutdown` on it (it is not freed); `RT_EINVAL` for a handle of
/// another kind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_executor_free(ex: *mut rt_executor) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { free::<Executor, rt_executor>(ex) }
}
