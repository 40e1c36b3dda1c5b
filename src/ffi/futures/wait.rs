//! Waiting on many futures: `rt_wait` and the as-completed iterator.

use super::*;

/// An iterator behind a handle: one thread at a time may advance it (the others are refused,
/// never made to wait).
pub struct AsCompletedObj {
    it: crate::wait::LockCell<AsCompleted>,
}

impl Handled for AsCompletedObj {
    const KIND: Kind = Kind::AsCompleted;
}

/// The futures of an array, borrowed as `Arc`s.
///
/// # Safety
/// `fs` must be NULL or point to `n` handles, each NULL or live.
fn futures_of(fs: Handles<rt_future>, n: usize) -> Result<Vec<Arc<Future>>, Error> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if fs.is_null() {
        return Err(NULL_ARRAY);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::NO_MEMORY)?;
    for h in fs.iter() {
        let a = future_of(h)?;
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
    // SAFETY: by the API contract, `futures` holds `n` handles (or is NULL), `done` is NULL or
    // holds `n` bools, and `n_done` is NULL or writable.
    let (futures, mut done, n_done) = unsafe {
        (
            Handles::new(futures, n),
            Slots::new(done, n),
            Place::new(n_done),
        )
    };
    boundary::run(|| {
        let fs = futures_of(futures, n)?;
        let when = match return_when {
            RT_ALL_COMPLETED => ReturnWhen::AllCompleted,
            RT_FIRST_COMPLETED => ReturnWhen::FirstCompleted,
            RT_FIRST_EXCEPTION => ReturnWhen::FirstException,
            _ => return Err(BAD_RETURN_WHEN),
        };
        let w = timeout_wait(timeout)?;
        // A dump names the first of the futures as the object waited on.
        let _waiting = fs.first().and_then(|f| {
            crate::ffi::waiting(
                Arc::as_ptr(f),
                crate::debug::Kind::Future,
                "rt_wait",
                timeout,
            )
        });
        let waited = crate::futures::wait(&fs, w, when)?;
        for (i, f) in fs.iter().enumerate() {
            done.set(i, waited.done.iter().any(|d| Arc::ptr_eq(d, f)));
        }
        n_done.write_if_wanted(waited.done.len());
        if waited.met {
            Ok(())
        } else {
            Err(Error::TIMEOUT)
        }
    })
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
    // SAFETY: by the API contract, `futures` holds `n` handles (or is NULL), and `out` is NULL
    // or writable.
    let (futures, out) = unsafe { (Handles::new(futures, n), Out::new(out)) };
    let make = || {
        let fs = futures_of(futures, n)?;
        let it = AsCompleted::new(&fs, timeout_wait(timeout)?)?;
        Ok(AsCompletedObj {
            it: crate::wait::LockCell::new(it),
        })
    };
    out.make(make)
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
    // SAFETY: the caller passes NULL or a live handle, and `out` NULL or writable.
    let (it, out) = unsafe { (Handle::new(it), Place::new(out)) };
    // The counts for the timeout's message, which the boundary cannot word.
    let mut unfinished = None;
    let body = |obj: &Obj<AsCompletedObj>| {
        if out.is_null() {
            return Err(Error::NULL_OUT);
        }
        let _busy = obj.busy();
        // Held until the call returns (let go even if it panics).
        let mut iter = obj.inner.it.try_lock().ok_or(ADVANCING)?;
        let _waiting = crate::ffi::waiting(
            obj,
            crate::debug::Kind::AsCompleted,
            "rt_as_completed_next",
            iter.remaining_secs(),
        );
        match iter.next_completed() {
            Ok(f) => {
                // The iterator keeps the future alive (it holds it in its list of all futures).
                out.write(f.map_or(std::ptr::null_mut(), |f| Arc::as_ptr(&f) as *mut rt_future))
            }
            Err(e) => {
                if e.status == rt_status::RT_TIMEOUT {
                    unfinished = Some(iter.unfinished());
                }
                Err(e)
            }
        }
    };
    let status = it.on(body);
    if let Some((left, total)) = unfinished {
        let mut text = StackText::<64>::new();
        let _ = write!(text, "{left} (of {total}) futures unfinished");
        return record_text(status, text.as_str());
    }
    status
}

const ADVANCING: Error = Error::new(
    rt_status::RT_EBUSY,
    "another thread is advancing the iterator",
);

/// Destroys the iterator and drops its references to the futures. NULL is fine. `RT_EBUSY` if
/// a thread is inside `rt_as_completed_next` on it (it is not freed); `RT_EINVAL` for a handle
/// of another kind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_as_completed_free(it: *mut rt_as_completed) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    unsafe { free::<AsCompletedObj, rt_as_completed>(it) }
}
