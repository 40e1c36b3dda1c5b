//! What `submit` queues and how a worker runs it: the task's C types, the work item (the
//! future, the task, its argument and the argument's destructor) and the failure of a task that
//! returned non-zero.

use crate::debug::annotate;
use crate::futures::future::{Failure, Future, FutureRef, LOST_MESSAGE};
use crate::memory::Arc;
use crate::status::rt_status;
use crate::thread::CallbackGuard;
use std::borrow::Cow;
use std::ffi::{CStr, c_int, c_void};

/// A task: `int task(void *arg, void **result)`; 0 is success with `*result`, anything else
/// is the failure's code.
pub type TaskFn = unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> c_int;
/// An initializer: `int init(void *ctx)`; non-zero breaks the pool.
pub type InitFn = unsafe extern "C" fn(*mut c_void) -> c_int;
/// A destructor for a task's argument.
pub type ArgFree = unsafe extern "C" fn(*mut c_void);

#[derive(Clone, Copy)]
pub(super) struct SendPtr(pub(super) *mut c_void);
// SAFETY: the user's pointers, handed to the worker by the contract of submit.
unsafe impl Send for SendPtr {}
// SAFETY: the initializer's context (in `SendPtr`, which is Send) is the user's, given to
// every worker by the contract of the C face; it is only copied, never dereferenced here.
unsafe impl Sync for SendPtr {}

/// One submitted call.
pub(super) struct WorkItem {
    pub(super) future: Arc<Future>,
    pub(super) task: TaskFn,
    pub(super) arg: SendPtr,
    pub(super) arg_free: Option<ArgFree>,
}

impl WorkItem {
    pub(super) fn free_arg(&mut self) {
        if let Some(free) = self.arg_free.take() {
            let _g = CallbackGuard::new();
            // SAFETY: the destructor given with the argument, called once.
            unsafe { free(self.arg.0) };
        }
    }

    pub(super) fn run(mut self) {
        if !matches!(self.future.set_running_or_notify_cancel(), Ok(true)) {
            return;
        }
        let mut result: *mut c_void = std::ptr::null_mut();
        // What the submitter did before `submit` happens before the task.
        annotate::acquired::<Future>(&*self.future);
        let rc = {
            let _g = CallbackGuard::new();
            crate::status::record_text(rt_status::RT_OK, "");
            // SAFETY: the task and its argument, as submit was given them; called once.
            unsafe { (self.task)(self.arg.0, &mut result) }
        };
        let failure = (rc != 0).then(|| task_failure(rc));
        self.free_arg();
        let _ = match failure {
            None => self.future.set_result(result),
            Some(f) => self.future.set_exception_or_lose_message(f),
        };
    }
}

/// The failure of a task that returned `rc`: its code, and the thread's last message, copied.
/// Without memory for the copy, the code stays and the message says so ([`LOST_MESSAGE`]).
fn task_failure(rc: c_int) -> Failure {
    // SAFETY: the calling thread's message buffer, NUL-terminated, unchanged during this call.
    let bytes = unsafe { CStr::from_ptr(crate::status::last_error_ptr()) }.to_bytes();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        // A message cut inside a character: its whole characters.
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    };
    Failure::copied(rc, text).unwrap_or(Failure {
        code: rc,
        message: Cow::Borrowed(LOST_MESSAGE),
    })
}

impl Drop for WorkItem {
    fn drop(&mut self) {
        self.free_arg();
    }
}
