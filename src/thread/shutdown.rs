//! The wait for non-daemon threads at exit (`threading._shutdown`), and its switch.
//!
//! The first `start` of a thread object registers an `atexit` handler. At `exit()` (or a
//! return from `main`) it marks the calling thread's object as ended (so threads joining it go
//! on, as Python 3.13 does for the main thread), then joins every started non-daemon thread
//! object, looping while new ones appear; daemon threads are left to die with the process. The
//! wait never holds the registry lock while it waits, so threads that end, start, or use the
//! registry meanwhile cannot deadlock it. [`set_exit_wait`] turns it off.

use super::object::{Thread, ThreadKind};
use super::registry::{current_ptr, finish, main_if_known, with_threads};
use crate::memory::Arc;
use crate::status::{Error, rt_status};
use crate::time::{Wait, timeout_wait};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the process waits for non-daemon threads at exit.
static EXIT_WAIT: AtomicBool = AtomicBool::new(true);
static EXIT_HANDLER: AtomicBool = AtomicBool::new(false);

/// Turns the wait at exit on or off; returns the previous setting. Off, `exit()` and a return
/// from `main` end the process at once, as in plain C.
pub fn set_exit_wait(wait: bool) -> bool {
    EXIT_WAIT.swap(wait, Ordering::AcqRel)
}

/// Whether the process waits for non-daemon threads at exit (see [`set_exit_wait`]).
pub(crate) fn exit_wait_enabled() -> bool {
    EXIT_WAIT.load(Ordering::Acquire)
}

/// Registers the exit handler; once (the first `start` of a thread object calls this).
pub(crate) fn arm_exit_wait() {
    if !EXIT_HANDLER.load(Ordering::Relaxed) && !EXIT_HANDLER.swap(true, Ordering::AcqRel) {
        // SAFETY: both handlers are `extern "C"` functions that never unwind. If a registration
        // fails (no memory), the process simply does not wait at exit, or a fork child may.
        unsafe {
            libc::atexit(at_exit);
        }
    }
}

extern "C" fn at_exit() {
    if !EXIT_WAIT.load(Ordering::Acquire) {
        return;
    }
    let me = current_ptr();
    if !me.is_null() {
        // SAFETY: see current_ptr.
        unsafe {
            (*me).detach_os_thread();
            finish(&*me);
        }
    }
    let _ = wait_for_non_daemon(Wait::Forever, false);
}

/// Whether exit waits for `t`: a started, not ended, non-daemon thread object.
fn waited_for(t: &Thread) -> bool {
    matches!(t.kind(), ThreadKind::Normal | ThreadKind::Timer)
        && !t.daemon()
        && t.is_started_and_running()
}

/// `threading._shutdown()`, explicitly: when the caller is the main thread, marks it done first
/// (as CPython does before it waits), so that a thread that joins the main thread is released;
/// then waits until every started non-daemon thread object other than the caller has ended,
/// looping while new ones appear; `RT_TIMEOUT` if some are still
/// running after `timeout` seconds (`RT_FOREVER`: no bound). A thread that waits here is not
/// waited for by another non-daemon thread that waits here too (they would wait for each other).
/// Errors: the timeout's validation; `RT_EINTR`.
pub fn shutdown(timeout: f64) -> Result<(), Error> {
    let wait = timeout_wait(timeout)?;
    let me = current_ptr();
    if let Some(m) = main_if_known() {
        if std::ptr::eq(Arc::as_ptr(m), me) {
            m.mark_done();
        }
    }
    wait_for_non_daemon(wait, true)
}

fn wait_for_non_daemon(wait: Wait, interruptible: bool) -> Result<(), Error> {
    let me = current_ptr();
    // SAFETY: see current_ptr.
    let me_ref = unsafe { me.as_ref() };
    let me_waited_for = me_ref.is_some_and(waited_for);
    let was_in_shutdown = me_ref.map(|m| m.in_shutdown.swap(true, Ordering::AcqRel));
    let result = loop {
        let next = with_threads(|v| {
            v.iter()
                .find(|t| {
                    !std::ptr::eq(Arc::as_ptr(t), me)
                        && waited_for(t)
                        && !(me_waited_for && t.in_shutdown.load(Ordering::Acquire))
                })
                .cloned()
        });
        let Some(t) = next else { break Ok(()) };
        match t.join_until(wait, interruptible) {
            // As a join does: the thread has exited completely before the process does.
            Ok(()) => t.join_os_thread(wait),
            // A start that failed: the thread left the registry; look again.
            Err(e) if e.status == rt_status::RT_ESTATE => {}
            Err(e) => break Err(e),
        }
    };
    if let (Some(m), Some(false)) = (me_ref, was_in_shutdown) {
        m.in_shutdown.store(false, Ordering::Release);
    }
    result
}
