//! Starting threads, and ending one early.
//!
//! Every thread rthread starts (by [`start_new_thread`] or as a thread object) is created by
//! `create_os_thread` and calls the user's function through [`run_body`], inside
//! `catch_unwind`, so that [`exit_thread`] can end the thread by unwinding to it (Rust's own
//! unwinding, never `pthread_exit` through Rust frames). The user function is called through an
//! `extern "C-unwind"` pointer, which is what makes that unwind defined behaviour when it
//! crosses the user's C frames. Those frames run no clean-up as the unwind passes (as with
//! `pthread_exit`), and must have unwind tables (the default for C on x86-64 and AArch64 Linux;
//! elsewhere compile with `-funwind-tables` or `-fexceptions`).
//!
//! `exit_thread` refuses (returns `RT_ESTATE`) where it could not unwind soundly: in a thread
//! rthread did not start, and inside a callback that an rthread call made (a barrier action,
//! a predicate, a destructor, a hook), because that call's own frames are `extern "C"`.

use crate::status::{Error, Message, rt_status};
use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A thread's function, as C sees it: `void (*)(void *)`.
pub type ThreadFn = unsafe extern "C-unwind" fn(*mut c_void);

/// The smallest stack size accepted (CPython's `THREAD_STACK_MIN`).
pub const STACK_SIZE_MIN: usize = 32 * 1024;

static STACK_SIZE: AtomicUsize = AtomicUsize::new(0);
static THREAD_COUNT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// True while the calling thread runs its own function, directly under the trampoline.
    static MAY_EXIT: Cell<bool> = const { Cell::new(false) };
    /// True in a thread that rthread started (counted in `thread_count`).
    static STARTED_BY_RTHREAD: Cell<bool> = const { Cell::new(false) };
}

/// Called first by every entry point of a thread that rthread started.
pub(crate) fn os_thread_began() {
    STARTED_BY_RTHREAD.with(|s| s.set(true));
}

/// Registers (once) the fork handler that corrects the thread count in a child.
fn arm_fork_handler() {
    static ARMED: std::sync::Once = std::sync::Once::new();
    ARMED.call_once(|| {
        extern "C" fn child() {
            reset_count_after_fork();
        }
        // SAFETY: a plain `extern "C"` function that never unwinds. If registering fails (no
        // memory), a fork child keeps the parent's count.
        unsafe { libc::pthread_atfork(None, None, Some(child)) };
    });
}

/// In a fork child: only the forking thread remains, so the count is 1 if rthread started it.
fn reset_count_after_fork() {
    let mine = STARTED_BY_RTHREAD.try_with(Cell::get).unwrap_or(false);
    THREAD_COUNT.store(usize::from(mine), Ordering::Relaxed);
}

/// The payload of the unwind that `exit_thread` starts; only the trampoline catches it.
struct ExitThread;

/// Marks the calling thread as inside a callback of an rthread call while it lives: there
/// `exit_thread` must refuse, because the frames of the call cannot be unwound.
pub struct CallbackGuard {
    saved: bool,
}

impl CallbackGuard {
    pub fn new() -> CallbackGuard {
        CallbackGuard {
            saved: MAY_EXIT.try_with(|m| m.replace(false)).unwrap_or(false),
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
        let _ = MAY_EXIT.try_with(|m| m.set(self.saved));
    }
}

/// Ends the calling thread by unwinding to its trampoline. Returns only when it cannot
/// (`RT_ESTATE`): see the module comment.
pub fn exit_thread() -> Error {
    if MAY_EXIT.try_with(|m| m.get()).unwrap_or(false) {
        resume_unwind(Box::new(ExitThread));
    }
    CALLBACK_EXIT
}

/// What `exit_thread` says where it cannot end the thread.
pub const CALLBACK_EXIT: Error = Error::new(
    rt_status::RT_ESTATE,
    "rt_exit_thread can only end a thread started by rthread, from outside any callback",
);

/// Runs the thread's body (`f(arg)`) the way the trampoline does: `exit_thread` inside it ends
/// it like a return. Any other unwind is a bug that must not cross into C: abort.
///
/// # Safety
/// `f` must be safe to call with `arg` (the contract of `rt_start_new_thread`), on the thread
/// that rthread started for it.
pub unsafe fn run_body(f: ThreadFn, arg: *mut c_void) {
    let prev = MAY_EXIT.with(|m| m.replace(true));
    // SAFETY: `f` is the caller's thread function; calling it with its argument is the contract
    // of rt_start_new_thread / rt_thread_new.
    let r = catch_unwind(AssertUnwindSafe(|| unsafe { f(arg) }));
    MAY_EXIT.with(|m| m.set(prev));
    if let Err(payload) = r {
        if !payload.is::<ExitThread>() {
            // A panic inside rthread or a foreign exception: never let it reach C.
            std::process::abort();
        }
    }
}

struct Start {
    body: Box<dyn FnOnce() + Send>,
}

extern "C" fn trampoline(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the Box<Start> leaked by `spawn_detached`; this is its only consumer.
    let start = unsafe { Box::from_raw(data as *mut Start) };
    os_thread_began();
    (start.body)();
    os_thread_ended();
    std::ptr::null_mut()
}

/// An OS thread's entry point, as `pthread_create` takes it.
pub(crate) type Entry = extern "C" fn(*mut c_void) -> *mut c_void;

/// Creates an OS thread running `entry(data)` with the configured stack size, and counts it in
/// [`thread_count`]; `entry` must call [`os_thread_ended`] last. Detached unless `joinable`
/// (then exactly one `pthread_join` or `pthread_detach` of it must follow). Returns the new
/// thread's ident (its `pthread_t`). On failure (`RT_EAGAIN`, with the system's reason) no
/// thread exists and `data` was not used.
pub(crate) fn create_os_thread(
    entry: Entry,
    data: *mut c_void,
    joinable: bool,
) -> Result<u64, Error> {
    #[cfg(not(loom))]
    crate::wait::ensure_fork_handler();
    arm_fork_handler();
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut tid: libc::pthread_t = 0;
    THREAD_COUNT.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the attr is initialised before use and destroyed after; `data` is handed to the
    // new thread only when pthread_create succeeds.
    let rc = unsafe {
        let a = attr.as_mut_ptr();
        let mut rc = libc::pthread_attr_init(a);
        if rc == 0 {
            if !joinable {
                libc::pthread_attr_setdetachstate(a, libc::PTHREAD_CREATE_DETACHED);
            }
            let size = STACK_SIZE.load(Ordering::Relaxed);
            if size != 0 {
                rc = libc::pthread_attr_setstacksize(a, size);
            }
            if rc == 0 {
                rc = libc::pthread_create(&mut tid, a, entry, data);
            }
            libc::pthread_attr_destroy(a);
        }
        rc
    };
    if rc != 0 {
        THREAD_COUNT.fetch_sub(1, Ordering::Relaxed);
        return Err(Error {
            status: rt_status::RT_EAGAIN,
            message: Message::Os("can't start new thread: ", rc),
        });
    }
    Ok(tid as u64)
}

/// The last thing a thread made by [`create_os_thread`] does: it no longer counts as running.
pub(crate) fn os_thread_ended() {
    THREAD_COUNT.fetch_sub(1, Ordering::Release);
}

/// Starts a detached OS thread running `body`, with the configured stack size. Returns the new
/// thread's ident (its `pthread_t`). `RT_ENOMEM`, or `RT_EAGAIN` as for [`create_os_thread`].
pub fn spawn_detached(body: Box<dyn FnOnce() + Send>) -> Result<u64, Error> {
    let start = Box::into_raw(crate::memory::try_box(Start { body })?);
    let r = create_os_thread(trampoline, start as *mut c_void, false);
    if r.is_err() {
        // SAFETY: no thread was created, so the Box is still ours.
        drop(unsafe { Box::from_raw(start) });
    }
    r
}

/// `_thread.start_new_thread`: runs `f(arg)` in a new detached thread; returns its ident.
///
/// The thread runs the thread hooks set when it was started around `f`, and its thread-local
/// destructors once `f` has returned (or called `exit_thread`).
pub fn start_new_thread(f: ThreadFn, arg: *mut c_void) -> Result<u64, Error> {
    struct SendPtr(*mut c_void);
    // SAFETY: the pointer is the caller's argument for its own thread function; handing it to
    // that thread is what the caller asked for.
    unsafe impl Send for SendPtr {}
    let arg = SendPtr(arg);
    #[cfg(not(loom))]
    let hooks = super::hooks::snapshot();
    spawn_detached(crate::memory::try_box(move || {
        let arg = arg;
        #[cfg(not(loom))]
        hooks.run_start();
        // SAFETY: this is the thread started for `f`, which the caller gave with `arg`.
        unsafe { run_body(f, arg.0) }
        #[cfg(not(loom))]
        {
            super::local::run_thread_destructors();
            hooks.run_exit();
        }
    })?)
}

/// `_thread.get_ident`: non-zero, may be reused after the thread ends.
pub fn get_ident() -> u64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as u64 }
}

/// `_thread.get_native_id`: the kernel's id for the calling thread.
pub fn get_native_id() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions.
        unsafe { libc::gettid() as u64 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        get_ident()
    }
}

/// The stack size for threads started from now on (0: the platform's default).
pub fn stack_size() -> usize {
    STACK_SIZE.load(Ordering::Relaxed)
}

/// Sets the stack size for threads started from now on; returns the previous one. 0 selects the
/// platform's default; otherwise at least 32 KiB, and a size the platform accepts.
pub fn set_stack_size(size: usize) -> Result<usize, Error> {
    let invalid = Error {
        status: rt_status::RT_EINVAL,
        message: Message::Number("size not valid: ", size as u64, " bytes"),
    };
    if size != 0 {
        if size < STACK_SIZE_MIN {
            return Err(invalid);
        }
        let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
        // SAFETY: a scratch attr, initialised, used once and destroyed.
        let rc = unsafe {
            if libc::pthread_attr_init(attr.as_mut_ptr()) != 0 {
                return Err(Error::NO_MEMORY);
            }
            let rc = libc::pthread_attr_setstacksize(attr.as_mut_ptr(), size);
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            rc
        };
        if rc != 0 {
            return Err(invalid);
        }
    }
    Ok(STACK_SIZE.swap(size, Ordering::Relaxed))
}

/// `_thread._count`: threads started by rthread that have not finished.
pub fn thread_count() -> usize {
    THREAD_COUNT.load(Ordering::Acquire)
}
