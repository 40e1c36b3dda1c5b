//! A future's own functions: `rt_future_*` and `rt_set_error_message`.

use super::*;
use crate::debug::Kind;

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
    // SAFETY: `out` is NULL or writable, by the API contract.
    let out = unsafe { Out::new(out) };
    out.make_handle(|| Ok(into_handle(Future::new(result_free)?)))
}

/// Adds a reference to the future; each reference is dropped with `rt_future_release`.
/// Errors: `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_retain(f: *mut rt_future) -> rt_status {
    let body = |fut: &Arc<Future>| {
        // Given up on purpose: the caller's new reference.
        std::mem::forget(fut.clone());
        Ok(())
    };
    // SAFETY: the caller passes NULL or a live handle.
    let f = unsafe { Handle::new(f) };
    on_future(f, body)
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
    let body = |fut: &Arc<Future>| {
        // SAFETY: the caller gives up one of its references (the handle was checked).
        drop(unsafe { Arc::from_raw(Arc::as_ptr(fut)) });
        Ok(())
    };
    // SAFETY: the caller passes NULL or a live handle.
    let f = unsafe { Handle::new(f) };
    on_future(f, body)
}

/// Cancels the future if it has not started (`future.cancel()`): true if it is cancelled now
/// or was already; false if it runs or has finished. A cancellation runs the done-callbacks in
/// the calling thread. False for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_cancel(f: *mut rt_future) -> bool {
    // The callbacks a cancellation runs are the caller's own code; the boundary catches the
    // rest.
    // SAFETY: the caller passes NULL or a live handle.
    query_future(unsafe { Handle::new(f) }, false, |fut| fut.cancel())
}

/// Whether the future was cancelled (`future.cancelled()`). False for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_cancelled(f: *const rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query_future(unsafe { Handle::new(f) }, false, |fut| fut.cancelled())
}

/// Whether the future's call is running (`future.running()`). False for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_running(f: *const rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query_future(unsafe { Handle::new(f) }, false, |fut| fut.running())
}

/// Whether the future is done: cancelled, or finished with a result or an exception
/// (`future.done()`). False for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_future_done(f: *const rt_future) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    query_future(unsafe { Handle::new(f) }, false, |fut| fut.done())
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
    // SAFETY: the caller passes NULL or a live handle, and `result` NULL or writable.
    let (f, result) = unsafe { (Handle::new(f), Place::new(result)) };
    let body = |fut: &Arc<Future>| {
        if result.is_null() {
            return Err(Error::NULL_OUT);
        }
        let w = timeout_wait(timeout)?;
        let _waiting = (!fut.poll_done(w)).then(|| {
            crate::ffi::waiting(Arc::as_ptr(fut), Kind::Future, "rt_future_result", timeout)
        });
        result.write(fut.result(w)?)
    };
    let status = on_future(f, body);
    record_failure_message(f, status)
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
    // SAFETY: the caller passes NULL or a live handle, and `code` NULL or writable.
    let (f, code) = unsafe { (Handle::new(f), Place::new(code)) };
    let body = |fut: &Arc<Future>| {
        if code.is_null() {
            return Err(Error::NULL_OUT);
        }
        let w = timeout_wait(timeout)?;
        let _waiting = (!fut.poll_done(w)).then(|| {
            crate::ffi::waiting(
                Arc::as_ptr(fut),
                Kind::Future,
                "rt_future_exception",
                timeout,
            )
        });
        code.write(fut.exception(w)?)
    };
    on_future(f, body)
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
    // SAFETY: the caller passes NULL or a live handle, and gives the callback and context to
    // be called once with the future (which the completing thread holds for the call).
    let (f, callback) = unsafe {
        (
            Handle::new(f),
            callback.map(|cb| {
                move |done: &Arc<Future>, ctx: SendCtx| {
                    cb(Arc::as_ptr(done) as *mut rt_future, ctx.0)
                }
            }),
        )
    };
    let body = |fut: &Arc<Future>| {
        let cb = callback.ok_or(NULL_CALLBACK)?;
        let ctx = SendCtx(ctx);
        let call: crate::futures::future::DoneCallback =
            try_box(move |done: &Arc<Future>| cb(done, ctx))?;
        fut.add_done_callback(call)
    };
    on_future(f, body)
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
    let body = |fut: &Arc<Future>| {
        if fut.set_running_or_notify_cancel()? {
            Ok(())
        } else {
            Err(crate::futures::future::CANCELLED)
        }
    };
    // SAFETY: the caller passes NULL or a live handle.
    let f = unsafe { Handle::new(f) };
    on_future(f, body)
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
    // SAFETY: the caller passes NULL or a live handle.
    let f = unsafe { Handle::new(f) };
    on_future(f, |fut| fut.set_result(result))
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
    // SAFETY: the caller passes NULL or a live handle, and `message` NULL or a NUL-terminated
    // string.
    let (f, message) = unsafe { (Handle::new(f), CText::new(message)) };
    let body = |fut: &Arc<Future>| {
        if code == 0 {
            return Err(ZERO_CODE);
        }
        let text = std::str::from_utf8(message.bytes().unwrap_or_default())
            .map_err(|_| Error::new(rt_status::RT_EINVAL, "message must be UTF-8"))?;
        fut.set_exception(Failure::copied(code, text)?)
    };
    on_future(f, body)
}

/// Sets the calling thread's last-error message (what `rt_last_error()` returns) to `message`,
/// copied (cut at 255 bytes). Meant for a task about to fail: its failure's message is this
/// text. Returns `RT_OK`. Errors: `RT_EINVAL` "NULL message" for a NULL `message` (which then
/// becomes the message).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_set_error_message(message: *const c_char) -> rt_status {
    // SAFETY: `message` is NULL or a NUL-terminated string, by the API contract.
    let message = unsafe { CText::new(message) };
    boundary::run(|| {
        let bytes = message.bytes().ok_or(NULL_MESSAGE)?;
        // Invalid UTF-8 becomes U+FFFD, as `to_string_lossy` does, without allocating.
        let mut text = StackText::<256>::new();
        for chunk in bytes.utf8_chunks() {
            let _ = text.write_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                let _ = text.write_char(char::REPLACEMENT_CHARACTER);
            }
        }
        // Success leaves the last message alone: this one stays.
        record_text(rt_status::RT_OK, text.as_str());
        Ok(())
    })
}
