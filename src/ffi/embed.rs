//! Embedding: what an interpreter or a long-running C program needs beyond Python's API.

use crate::wait::hooks;
use std::ffi::c_void;

/// A blocking hook: called with the context given to `rt_set_blocking_hooks`.
pub type rt_hook_fn = Option<unsafe extern "C" fn(ctx: *mut c_void)>;

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
pub extern "C" fn rt_set_blocking_hooks(before: rt_hook_fn, after: rt_hook_fn, ctx: *mut c_void) {
    hooks::set(before, after, ctx);
}
