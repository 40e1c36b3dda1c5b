//! Embedding: what an interpreter or a long-running C program needs beyond Python's API.

#[cfg(not(loom))]
use crate::status::rt_status;
use crate::wait::blocking_hooks;
use std::ffi::c_void;

pub use super::thread::rt_hook_fn;

/// Installs hooks that run around every real block of every thread: `before(ctx)` just before
/// a thread sleeps in any rthread call (lock, rlock, condition, semaphore, event, barrier,
/// queue put/get/join, thread join, timer), and `after(ctx)` just after it wakes, whatever woke
/// it. Never on an uncontended path: a call that does not sleep runs neither. With them an
/// interpreter drops its global lock while a thread waits and takes it back afterwards.
///
/// Either hook may be NULL; `rt_set_blocking_hooks(NULL, NULL, NULL)` removes them. They
/// replace earlier hooks, for waits that begin afterwards. Hooks may call rthread, and may
/// block (re-taking a global lock in `after` is the point); a thread that blocks inside a hook
/// does not run the hooks again. rthread holds no internal lock while they run. Rarely, `before`
/// runs and the thread then finds it need not sleep after all; `after` still follows. Hooks
/// must not call `rt_exit_thread` (it refuses there with `RT_ESTATE`). `ctx` belongs to the
/// caller and must stay valid while the hooks are installed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_set_blocking_hooks(
    before: rt_hook_fn,
    after: rt_hook_fn,
    ctx: *mut c_void,
) {
    // SAFETY: the caller's contract above: the hooks may be called from any thread with
    // `ctx`, which stays valid while they are installed.
    unsafe { blocking_hooks::set(before, after, ctx) };
}

/// Interrupts a thread: its current blocking wait in rthread ends with `RT_EINTR`, or, if it is
/// not blocked, its next wait that would really block does (one interrupt ends one wait; a
/// call that does not need to block is not affected and leaves the interrupt pending). Every
/// blocking call can be interrupted: lock, rlock and condition acquire, condition wait,
/// semaphore acquire, event wait, barrier wait (which then breaks the barrier, as Java's does),
/// queue put, get and join, thread join. An interrupted timer thread stops waiting as if
/// cancelled. A condition wait that is interrupted re-takes its lock before it returns.
///
/// It is async-signal-safe on Linux: a signal handler may call it, as CPython's lock acquire is
/// interruptible by Ctrl-C. Interrupting a finished thread does nothing. Errors: `RT_ESTATE` for
/// a thread that has not started ("cannot interrupt a thread that is not running"); `RT_EINVAL`
/// for a NULL or wrong-kind handle.
#[cfg(not(loom))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_interrupt(t: *mut super::threading::rt_thread) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { super::boundary::Handle::new(t) };
    super::boundary::run(|| super::threading::thread_ref(t)?.interrupt())
}

/// Interrupts the main thread (`_thread.interrupt_main()`): as `rt_thread_interrupt` on
/// `rt_main_thread()`, without taking a reference, so a SIGINT handler can call it.
/// `RT_ESTATE` ("cannot interrupt a thread that is not running") if rthread does not know the
/// main thread (it was loaded and first used outside the process's initial thread, which has
/// not called it since). From the main thread itself, it interrupts the main thread's next
/// wait that really blocks.
#[cfg(not(loom))]
#[unsafe(no_mangle)]
pub extern "C" fn rt_interrupt_main() -> rt_status {
    super::boundary::run(crate::thread::registry::interrupt_main)
}
