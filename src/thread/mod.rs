//! Threads: starting them (`_thread.start_new_thread`), ending them early (`_thread.exit`), and
//! the process-wide settings that apply to new threads (stack size).

pub mod spawn;

pub use spawn::{
    CALLBACK_EXIT, CallbackGuard, ThreadFn, exit_thread, get_ident, get_native_id, set_stack_size,
    stack_size, start_new_thread, thread_count,
};
