//! The thread pool: `rt_executor_*`.

use super::*;

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
    // SAFETY: `thread_name_prefix` is NULL or a NUL-terminated string, and `out` NULL or
    // writable, by the API contract.
    let (prefix, out) = unsafe { (CText::new(thread_name_prefix), Out::new(out)) };
    out.make_handle(|| {
        let prefix = match prefix.bytes() {
            None => None,
            Some(b) => Some(std::str::from_utf8(b).map_err(|_| BAD_PREFIX)?),
        };
        let init = initializer.map(|f| (f as InitFn, initctx));
        let ex = Executor::unregistered(max_workers, prefix, init)?;
        // An unregistered pool has no worker: destroying it on an error is quick.
        let p = Obj::alloc_then(ex, |e| e.inner.register())?;
        Ok(p as *mut rt_executor)
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
    // SAFETY: the caller passes NULL or a live handle, and `out` NULL or writable.
    let (ex, out) = unsafe { (Handle::new(ex), Out::new(out)) };
    let body = |e: &Obj<Executor>| {
        let task: TaskFn = task.ok_or(NULL_TASK)?;
        out.put_handle(|| {
            let f = e
                .inner
                .submit(task, arg, arg_free.map(|f| f as ArgFree), result_free)?;
            Ok(into_handle(f))
        })
    };
    ex.on(body)
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
    let body = |e: &Obj<Executor>| {
        let _busy = e.busy();
        let _waiting = wait.then(|| {
            crate::ffi::waiting(
                e,
                crate::debug::Kind::Executor,
                "rt_executor_shutdown",
                crate::time::FOREVER,
            )
        });
        e.inner.shutdown(wait, cancel_futures)
    };
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(ex) }.on(body)
}

/// How many workers the pool has started (CPython's `len(executor._threads)`); they stay until
/// shutdown. 0 for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_executor_thread_count(ex: *const rt_executor) -> usize {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { Handle::new(ex) }.query(0, |e: &Obj<Executor>| e.inner.thread_count())
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
