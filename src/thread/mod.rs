//! Threads: starting them (`_thread.start_new_thread`), ending them early (`_thread.exit`), the
//! process-wide settings that apply to new threads (stack size), and Python's `threading` layer:
//! thread objects ([`Thread`]), the registry of live threads (`enumerate`, `current_thread`,
//! `main_thread`, the wait for non-daemon threads at exit), Timer, thread-local data ([`Local`])
//! and the per-thread hooks.
//!
//! Files: `exit` (ending a thread early, and the callbacks where that is refused), `os` (the OS
//! thread under every thread: creation, count, stack size, the end sequence), `spawn`
//! (`start_new_thread`), `object` (thread objects, with `object/lifecycle`, `object/name` and
//! `object/attachment`), `registry`, `shutdown` (the wait at exit), `local`, `teardown` (the
//! thread-exit key), `thread_hooks`, `timer`. None of them uses another that uses it back.
//!
//! Layering: this module uses `wait` (its internal locks are [`crate::wait::LockCell`]s),
//! `sync`, `time`, `memory` and `status`; never `queue` or `ffi`. The C face's handle of a thread
//! object is the C face's own: it is the object's [`Attachment`], made with the object by the
//! maker the C face installs ([`set_attachment_maker`]).

pub mod exit;
pub mod os;
pub mod spawn;

#[cfg(not(loom))]
pub mod local;
#[cfg(not(loom))]
pub mod object;
#[cfg(not(loom))]
pub mod registry;
#[cfg(not(loom))]
pub mod shutdown;
#[cfg(not(loom))]
mod teardown;
#[cfg(not(loom))]
pub mod thread_hooks;
#[cfg(not(loom))]
pub mod timer;

pub use exit::{CALLBACK_EXIT, CallbackGuard, ThreadFn, exit_thread};
pub use os::{get_ident, get_native_id, set_stack_size, stack_size, thread_count};
pub use spawn::start_new_thread;

#[cfg(not(loom))]
pub use local::{Destructor, Local};
#[cfg(not(loom))]
pub use object::{Attachment, AttachmentMaker, Thread, ThreadKind, set_attachment_maker};
#[cfg(not(loom))]
pub use registry::{active_count, current_thread, enumerate, enumerate_with, main_thread};
#[cfg(not(loom))]
pub use shutdown::{set_exit_wait, shutdown};
#[cfg(not(loom))]
pub use thread_hooks::set_thread_hooks;

/// The thread layer's clean-up at the end of a thread (run by [`teardown`]'s key), in order:
/// the thread's thread-local values, then its place in the registry. Here, above both, so that
/// neither file needs the other or `teardown`.
#[cfg(not(loom))]
fn at_thread_end() {
    local::at_thread_end();
    registry::at_thread_end();
}
