//! The thread hooks (`threading.settrace`/`setprofile` for C): a `start` and an `exit` function,
//! with one context pointer, called in every thread rthread starts.
//!
//! A thread takes a snapshot of the hooks when it is started (in the starting thread, before the
//! new one exists), so `start` and `exit` of one thread always come from the same setting, and
//! every thread started after `set_thread_hooks` returns sees the new hooks. The new thread calls
//! `start(ctx)` before its function and `exit(ctx)` after it has ended (returned, called
//! `rt_exit_thread` or `pthread_exit`) and after its thread-local destructors ran. Both run as
//! callbacks (where `rt_exit_thread` refuses), with no internal lock held, and without a guard
//! that has a destructor: a hook that calls `pthread_exit` ends its thread, and the rest of the
//! thread's end still runs (see `spawn`).

use super::exit::{enter_callback, leave_callback};
use crate::wait::LockCell;
use crate::wait::blocking_hooks::HookFn;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

/// One setting of the hooks.
#[derive(Clone, Copy)]
pub struct Hooks {
    start: Option<HookFn>,
    exit: Option<HookFn>,
    ctx: *mut c_void,
}

// SAFETY: `ctx` is the user's pointer, which `rt_set_thread_hooks` documents as passed to the
// hooks in every thread rthread starts; rthread never dereferences it.
unsafe impl Send for Hooks {}
// SAFETY: as above.
unsafe impl Sync for Hooks {}

impl Hooks {
    pub const NONE: Hooks = Hooks {
        start: None,
        exit: None,
        ctx: std::ptr::null_mut(),
    };

    /// Calls `start(ctx)`, if set, in the calling thread.
    #[inline]
    pub fn run_start(&self) {
        self.run(self.start);
    }

    /// Calls `exit(ctx)`, if set, in the calling thread.
    #[inline]
    pub fn run_exit(&self) {
        self.run(self.exit);
    }

    #[inline]
    fn run(&self, hook: Option<HookFn>) {
        if let Some(f) = hook {
            // No guard with a destructor: the hook may end the thread (see `os`).
            let saved = enter_callback();
            // SAFETY: the hook and its context were given together to `set_thread_hooks`,
            // whose contract is that the hook may be called with it in any thread rthread starts.
            unsafe { f(self.ctx) }
            leave_callback(saved);
        }
    }
}

static SLOT: LockCell<Hooks> = LockCell::new(Hooks::NONE);

/// Whether hooks were ever set: until then a thread start skips the lock.
static EVER_SET: AtomicBool = AtomicBool::new(false);

/// Sets the hooks for every thread started from now on; either may be `None`.
///
/// # Safety
/// Calling each hook with `ctx`, in any thread rthread starts from now on, must be safe for as
/// long as such threads may run; the hooks must not unwind, except by `pthread_exit`.
pub unsafe fn set_thread_hooks(start: Option<HookFn>, exit: Option<HookFn>, ctx: *mut c_void) {
    *SLOT.lock() = Hooks { start, exit, ctx };
    EVER_SET.store(true, Ordering::Release);
}

/// The hooks a thread started now runs.
#[inline]
pub fn snapshot() -> Hooks {
    if !EVER_SET.load(Ordering::Acquire) {
        return Hooks::NONE;
    }
    *SLOT.lock()
}

/// In a fork child: the hooks' lock may have been held by a thread that did not survive.
pub(super) fn reset_after_fork() {
    // SAFETY: in the fork child, which has one thread, and no guard is alive.
    unsafe { SLOT.reset_in_child() };
}
