//! `_thread.start_new_thread`: a thread with no object, that runs one function.

use super::exit::{ThreadFn, call_thread_fn};
use super::os::{ThreadEnd, create_os_thread, os_thread_began, os_thread_ended, run_thread};
use crate::status::Error;
use std::ffi::c_void;

/// What a `_thread` thread needs, handed from `start_new_thread` to the thread.
struct NewThread {
    f: ThreadFn,
    arg: *mut c_void,
    #[cfg(not(loom))]
    hooks: super::thread_hooks::Hooks,
}

/// The end of a `_thread` thread: its thread-local destructors, the exit hook, the count.
struct NewThreadEnd {
    #[cfg(not(loom))]
    hooks: super::thread_hooks::Hooks,
}

impl ThreadEnd for NewThreadEnd {
    fn steps(&self) -> u32 {
        3
    }

    fn step(&self, i: u32) {
        match i {
            #[cfg(not(loom))]
            0 => super::local::run_thread_destructors(),
            #[cfg(not(loom))]
            1 => self.hooks.run_exit(),
            2 => os_thread_ended(),
            _ => {}
        }
    }

    fn resumable(&self, i: u32) -> bool {
        i == 0
    }
}

/// The entry point of a `_thread` thread.
unsafe extern "C-unwind" fn new_thread_entry(data: *mut c_void) -> *mut c_void {
    os_thread_began();
    // SAFETY: `data` is the Box<NewThread> leaked by `start_new_thread`; this is its only
    // consumer. Its contents are plain values, copied out; the Box is freed here.
    let NewThread {
        f,
        arg,
        #[cfg(not(loom))]
        hooks,
    } = *unsafe { Box::from_raw(data as *mut NewThread) };
    let end = NewThreadEnd {
        #[cfg(not(loom))]
        hooks,
    };
    run_thread(&end, || {
        #[cfg(not(loom))]
        hooks.run_start();
        // SAFETY: this is the thread started for `f`, which the caller gave with `arg`.
        unsafe { call_thread_fn(f, arg) }
    });
    std::ptr::null_mut()
}

/// `_thread.start_new_thread`: runs `f(arg)` in a new detached thread; returns its ident.
///
/// The thread runs the thread hooks set when it was started around `f`, and its thread-local
/// destructors once `f` has returned (or ended its thread: `exit_thread`, `pthread_exit`).
///
/// # Safety
/// `f` is called with `arg` in the new thread: it must be sound to call it so there, and
/// `arg` must stay valid for as long as `f` uses it.
pub unsafe fn start_new_thread(f: ThreadFn, arg: *mut c_void) -> Result<u64, Error> {
    let data = Box::into_raw(crate::memory::try_box(NewThread {
        f,
        arg,
        #[cfg(not(loom))]
        hooks: super::thread_hooks::snapshot(),
    })?);
    #[cfg(not(loom))]
    super::registry::arm_fork_handler();
    let r = create_os_thread(new_thread_entry, data as *mut c_void, false);
    if r.is_err() {
        // SAFETY: no thread was created, so the Box is still ours.
        drop(unsafe { Box::from_raw(data) });
    }
    r
}
