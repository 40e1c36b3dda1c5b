//! The `_thread` functions: starting and ending threads, identities, stack size, limits.

use super::boundary::{self, Place};
use crate::status::{Error, rt_status};
use crate::thread;
use std::ffi::c_void;

/// A thread's function: called once with the argument given at start. It may end its thread
/// early with `rt_exit_thread` or `pthread_exit`: either ends the thread as a return does (its
/// thread-local destructors and exit hook run, it leaves the registry and the thread count, and
/// joiners wake). A C++ exception that escapes it is not caught: the C++ runtime calls
/// `std::terminate` and the process aborts, as with `std::thread` (rthread.hpp's `rt::Thread`
/// catches exceptions itself and reports them).
pub type rt_thread_fn = Option<unsafe extern "C-unwind" fn(arg: *mut c_void)>;

/// A hook: called with the context given with it (`rt_set_blocking_hooks`,
/// `rt_set_thread_hooks`).
// The one C type of both kinds of hook, as `wait::blocking_hooks::HookFn` is the core's.
pub type rt_hook_fn = Option<unsafe extern "C-unwind" fn(ctx: *mut c_void)>;

/// The largest timeout any call accepts, in seconds (`threading.TIMEOUT_MAX`): 9223372036.0.
pub const RT_TIMEOUT_MAX: f64 = 9223372036.0;

/// The timeout that means "wait without bound" (Python's `-1` for locks, `None` elsewhere).
pub const RT_FOREVER: f64 = -1.0;

const NOT_CALLABLE: Error = Error::new(rt_status::RT_EINVAL, "first arg must be callable");

/// Starts a new thread running `function(arg)` (`_thread.start_new_thread`) and, on `RT_OK`, writes
/// its ident to `*ident` if `ident` is not NULL (the value `rt_get_ident` returns inside it).
///
/// The thread is detached: nobody joins it, and the process does not wait for it at exit.
/// When `function` returns, or calls `rt_exit_thread` or `pthread_exit`, the thread ends
/// silently; the others go on.
/// `arg` belongs to the caller; rthread only passes it on.
///
/// Errors: `RT_EINVAL` if `function` is NULL ("first arg must be callable"); `RT_EAGAIN` if the
/// system refuses to create the thread ("can't start new thread: " and the system's reason);
/// `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_start_new_thread(
    function: rt_thread_fn,
    arg: *mut c_void,
    ident: *mut u64,
) -> rt_status {
    // SAFETY: `ident` is NULL or writable, and `function(arg)` may run in the new thread, by
    // the caller's contract.
    let (ident, start) = unsafe {
        (
            Place::new(ident),
            function.map(|f| move || thread::start_new_thread(f, arg)),
        )
    };
    boundary::run(|| {
        let start = start.ok_or(NOT_CALLABLE)?;
        ident.write_if_wanted(start()?);
        Ok(())
    })
}

/// Ends the calling thread (`_thread.exit()`, `SystemExit` in a thread), as if its function had
/// returned: it does not return. Thread-local destructors, exit hooks and the registry's
/// clean-up still run; code after the call never runs.
///
/// It is `pthread_exit(NULL)`: on glibc a forced unwind of the thread's stack, which runs the
/// clean-ups of the frames it leaves (C++ destructors, `pthread_cleanup_push` handlers, GCC's
/// `cleanup` attribute) and cannot be caught (a C++ `catch (...)` must rethrow it). Every frame
/// between must have unwind tables, the default on x86-64 and AArch64 Linux (elsewhere use
/// `-funwind-tables`).
///
/// It returns `RT_ESTATE` ("rt_exit_thread can only end a thread started by rthread, from
/// outside any callback") only where it cannot end the thread: in a thread that rthread did not
/// start (the main thread included), and inside a callback that an rthread call made (a barrier
/// action, a predicate, a destructor, a hook); the calling thread then goes on.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn rt_exit_thread() -> rt_status {
    if crate::wait::blocking_hooks::in_hook() {
        return crate::status::record(&thread::CALLBACK_EXIT);
    }
    crate::status::record(&thread::exit_thread())
}

/// The calling thread's ident (`_thread.get_ident()`): non-zero, unique among live threads,
/// and possibly reused after a thread ends. Equals `rt_thread_ident` of the thread's object.
#[unsafe(no_mangle)]
pub extern "C" fn rt_get_ident() -> u64 {
    thread::get_ident()
}

/// The calling thread's native id (`_thread.get_native_id()`): the kernel's thread id (what
/// `gettid`, top and gdb show). Non-zero.
#[unsafe(no_mangle)]
pub extern "C" fn rt_get_native_id() -> u64 {
    thread::get_native_id()
}

/// The stack size, in bytes, used for threads started from now on; 0 means the platform's
/// default (`_thread.stack_size()`, without resetting it).
#[unsafe(no_mangle)]
pub extern "C" fn rt_stack_size_get() -> usize {
    thread::stack_size()
}

/// Sets the stack size for threads started from now on (`_thread.stack_size(size)`): 0 for the
/// platform's default, or at least 32768 bytes. On `RT_OK`, writes the previous size to
/// `*previous` if it is not NULL.
///
/// Errors: `RT_EINVAL` for a size below 32768 (other than 0) or one the platform refuses
/// ("size not valid: N bytes"); the setting is then unchanged. A size the platform accepts but
/// cannot give a thread (on Linux, one larger than the address space) is taken, as Python takes
/// it: the next `rt_thread_start` or `rt_start_new_thread` then fails with `RT_EAGAIN`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_stack_size_set(size: usize, previous: *mut usize) -> rt_status {
    // SAFETY: `previous` is NULL or writable, by the API contract.
    let previous = unsafe { Place::new(previous) };
    boundary::run(|| {
        previous.write_if_wanted(thread::set_stack_size(size)?);
        Ok(())
    })
}

/// `RT_TIMEOUT_MAX` as a function (`threading.TIMEOUT_MAX`), for FFI users without the macro.
#[unsafe(no_mangle)]
pub extern "C" fn rt_timeout_max() -> f64 {
    RT_TIMEOUT_MAX
}

/// The number of threads started by rthread that have not finished yet (`_thread._count()`).
#[unsafe(no_mangle)]
pub extern "C" fn rt_thread_count() -> usize {
    thread::thread_count()
}
