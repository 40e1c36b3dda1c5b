//! Ending a thread early (`_thread.exit`, `rt_exit_thread`), and the callbacks where that is
//! refused.
//!
//! [`exit_thread`] is `pthread_exit` itself: the thread's end (see [`super::os`]) runs on the
//! way out. It refuses (returns `RT_ESTATE`) where it could not unwind soundly: in a thread
//! rthread did not start, and inside a callback that an rthread call made (a barrier action,
//! a predicate, a destructor, a hook), because that call's own frames are `extern "C"`. A
//! [`CallbackGuard`] marks such a callback; `call_thread_fn` marks the thread's own function,
//! where the exit is allowed.

use crate::status::{Error, rt_status};
use std::cell::Cell;
use std::ffi::c_void;

/// A thread's function, as C sees it: `void (*)(void *)`. `C-unwind`: it may end its thread
/// with `pthread_exit`.
pub type ThreadFn = unsafe extern "C-unwind" fn(*mut c_void);

thread_local! {
    /// True while the calling thread runs its own function, under `run_thread`.
    static MAY_EXIT: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as inside a callback of an rthread call while it lives: there
/// `exit_thread` must refuse, because the frames of the call cannot be unwound.
pub struct CallbackGuard {
    saved: bool,
}

impl CallbackGuard {
    pub fn new() -> CallbackGuard {
        CallbackGuard {
            saved: enter_callback(),
        }
    }
}

impl Default for CallbackGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CallbackGuard {
    fn drop(&mut self) {
        leave_callback(self.saved);
    }
}

/// What [`CallbackGuard`] does, without a destructor, for callbacks that may end their thread
/// with `pthread_exit` (the thread hooks): returns what [`leave_callback`] restores.
pub(crate) fn enter_callback() -> bool {
    MAY_EXIT.try_with(|m| m.replace(false)).unwrap_or(false)
}

/// Ends what [`enter_callback`] began.
pub(crate) fn leave_callback(saved: bool) {
    let _ = MAY_EXIT.try_with(|m| m.set(saved));
}

unsafe extern "C-unwind" {
    /// Declared here as able to unwind: glibc's is a forced unwind.
    #[link_name = "pthread_exit"]
    fn pthread_exit_unwinding(value: *mut c_void) -> !;
}

/// Ends the calling thread as `pthread_exit` does: the thread's end (thread-local destructors,
/// exit hook, registry) runs on the way. Returns only when it cannot (`RT_ESTATE`): see the
/// module comment.
pub fn exit_thread() -> Error {
    if MAY_EXIT.try_with(|m| m.get()).unwrap_or(false) {
        // SAFETY: the calling thread runs its own function under `run_thread`, outside any
        // callback, so every Rust frame between here and its entry point is a plain old frame
        // that may be unwound (see the module comment).
        unsafe { pthread_exit_unwinding(std::ptr::null_mut()) }
    }
    CALLBACK_EXIT
}

/// What `exit_thread` says where it cannot end the thread.
pub const CALLBACK_EXIT: Error = Error::new(
    rt_status::RT_ESTATE,
    "rt_exit_thread can only end a thread started by rthread, from outside any callback",
);

/// Calls the thread's function, `f(arg)`, as the body of [`run_thread`]: `exit_thread` inside it
/// ends the thread.
///
/// # Safety
/// `f` must be safe to call with `arg` (the contract of `rt_start_new_thread`), on the thread
/// that rthread started for it, inside [`run_thread`].
pub(crate) unsafe fn call_thread_fn(f: ThreadFn, arg: *mut c_void) {
    MAY_EXIT.with(|m| m.set(true));
    // SAFETY: `f` is the caller's thread function; calling it with its argument is the contract
    // of rt_start_new_thread / rt_thread_new. Nothing with a destructor is live here.
    unsafe { f(arg) };
    MAY_EXIT.with(|m| m.set(false));
}
