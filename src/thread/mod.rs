//! Threads: starting them (`_thread.start_new_thread`), ending them early (`_thread.exit`), the
//! process-wide settings that apply to new threads (stack size), and Python's `threading` layer:
//! thread objects ([`Thread`]), the registry of live threads (`enumerate`, `current_thread`,
//! `main_thread`, the wait for non-daemon threads at exit), Timer, thread-local data ([`Local`])
//! and the per-thread hooks.
//!
//! Layering: this module uses `wait`, `sync` (the registry's lock is a [`crate::sync::Lock`]),
//! `time` and `status`; never `ffi`. A thread object's first bytes are reserved for the C face's
//! handle header ([`HandleHeader`]), so that the C handle of a thread is the `Arc`'s pointer.

pub mod spawn;

#[cfg(not(loom))]
pub mod hooks;
#[cfg(not(loom))]
pub mod local;
#[cfg(not(loom))]
pub mod object;
#[cfg(not(loom))]
pub mod registry;
#[cfg(not(loom))]
mod teardown;
#[cfg(not(loom))]
pub mod timer;

pub use spawn::{
    CALLBACK_EXIT, CallbackGuard, ThreadFn, exit_thread, get_ident, get_native_id, set_stack_size,
    stack_size, start_new_thread, thread_count,
};

#[cfg(not(loom))]
pub use hooks::{HookFn, set_thread_hooks};
#[cfg(not(loom))]
pub use local::{Destructor, Local};
#[cfg(not(loom))]
pub use object::{HANDLE_TAG, HandleHeader, Thread, ThreadKind};
#[cfg(not(loom))]
pub use registry::{
    active_count, current_thread, enumerate, enumerate_with, main_thread, set_exit_wait, shutdown,
};
