//! The OS thread under every thread rthread starts: its creation, its stack size, its count,
//! its ident, and the sequence that ends it.
//!
//! Every thread rthread starts (by `start_new_thread` or as a thread object) is created by
//! `create_os_thread` and runs `run_thread`: its body (hooks, the user's function), then the
//! *end* of the thread (thread-local destructors, the exit hook, leaving the registry, waking
//! joiners, the thread count), in steps. The end must run however the thread ends: its function
//! returns, it calls [`super::exit::exit_thread`], or C code in it calls `pthread_exit` (CPython does so to
//! daemon threads at shutdown; any C library may).
//!
//! ## Why the end is a cleanup handler, and why nothing catches
//!
//! glibc's `pthread_exit` is a *forced* unwind (`_Unwind_ForcedUnwind`): it cannot be stopped,
//! and a frame that catches it and does not rethrow aborts the process ("FATAL: exception not
//! rethrown"). Rust's `catch_unwind` is such a frame (it catches foreign exceptions and drops
//! them), so no `catch_unwind` may be on a thread's stack between its entry point and the
//! user's function. Rust's unwinding rules (RFC 2945) say more: a forced unwind must only
//! deallocate "plain old frames", frames with no destructor pending and no `catch_unwind`. So
//! the Rust frames on that path (the entry point, `run_thread`, the calls of the body) hold
//! nothing with a destructor while user code runs, and are `extern "C-unwind"` (or Rust ABI)
//! wherever user code is called, so that an unwind may pass them.
//!
//! The end is therefore not a drop guard: it is registered with the C library as a thread
//! cleanup handler (`_pthread_cleanup_push`, in glibc and musl), which the C library runs when
//! `pthread_exit` leaves the frame that registered it (glibc: from the forced unwind, while the
//! frames above are still in place; musl: from `pthread_exit`, which does not unwind). When the
//! body returns, `run_thread` runs the end itself while the handler is still registered, then
//! unregisters it. The end's steps advance a counter as they run, so if a step's user code (an
//! exit hook, a thread-local destructor) itself calls `pthread_exit`, the handler runs again
//! from where it was: the next step after an exit hook (which runs once), the same step for the
//! thread-local destructors (which go on with the values not destroyed yet).
//!
//! [`super::exit::exit_thread`] (`rt_exit_thread`) is `pthread_exit` itself: one way to end a thread early.
//! Where the platform has no such handler (not Linux), the end runs in a guard's destructor.
//!
//! A C++ exception (or any other non-forced foreign unwind) that escapes the user's function
//! finds no handler on the thread's stack: the C++ runtime calls `std::terminate` and the
//! process aborts, as it does for a `std::thread` or a plain `pthread_create` thread.
//!
//! `exit_thread` refuses (returns `RT_ESTATE`) where it could not unwind soundly: in a thread
//! rthread did not start, and inside a callback that an rthread call made (a barrier action,
//! a predicate, a destructor, a hook), because that call's own frames are `extern "C"`.

use super::exit::leave_callback;
use crate::status::{Error, KeepErrno, Message, rt_status};
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The smallest stack size accepted (CPython's `THREAD_STACK_MIN`).
pub const STACK_SIZE_MIN: usize = 32 * 1024;

static STACK_SIZE: AtomicUsize = AtomicUsize::new(0);
static THREAD_COUNT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// True in a thread that rthread started (counted in `thread_count`).
    static STARTED_BY_RTHREAD: Cell<bool> = const { Cell::new(false) };
}

/// Called first by every entry point of a thread that rthread started.
pub(crate) fn os_thread_began() {
    STARTED_BY_RTHREAD.with(|s| s.set(true));
}

/// In a fork child: only the forking thread remains, so the count is 1 if rthread started it.
#[cfg_attr(
    any(loom, not(any(target_os = "linux", target_os = "android"))),
    allow(dead_code)
)]
pub(super) fn reset_count_after_fork() {
    let mine = STARTED_BY_RTHREAD.try_with(Cell::get).unwrap_or(false);
    THREAD_COUNT.store(usize::from(mine), Ordering::Relaxed);
}

/// The end of a thread that rthread started, in steps (see the module comment).
pub(crate) trait ThreadEnd {
    /// How many steps there are.
    fn steps(&self) -> u32;
    /// Runs step `i` (`i < steps()`). After the last step the end (and `self`) may be gone.
    fn step(&self, i: u32);
    /// Whether step `i` runs again, to finish, if its user code ended the thread (the
    /// thread-local destructors: each value is taken out before its destructor runs); the
    /// others run at most once (the exit hook).
    fn resumable(&self, i: u32) -> bool;
}

/// The state of a thread's end: the next step, shared by every run of the handler.
struct EndState<'a> {
    next: Cell<u32>,
    steps: u32,
    end: &'a dyn ThreadEnd,
}

/// Runs the steps of the end that are still to run. A step that ends the thread
/// (`pthread_exit`) brings the C library back here, for the steps after it.
unsafe extern "C-unwind" fn run_end(state: *mut c_void) {
    // SAFETY: `state` is the EndState in `run_thread`'s frame, which is in place while the
    // handler is registered (the C library runs it before that frame is gone).
    let s = unsafe { &*(state as *const EndState<'_>) };
    leave_callback(false);
    let steps = s.steps;
    loop {
        let i = s.next.get();
        if i >= steps {
            return;
        }
        if s.end.resumable(i) {
            s.end.step(i);
            s.next.set(i + 1);
        } else {
            s.next.set(i + 1);
            s.end.step(i);
        }
    }
}

/// The C library's thread cleanup buffer (glibc's `struct _pthread_cleanup_buffer`, 4 words;
/// musl's `struct __ptcb`, 3): opaque to us.
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
#[repr(C)]
struct CleanupBuffer([usize; 4]);

#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
unsafe extern "C" {
    fn _pthread_cleanup_push(
        buf: *mut CleanupBuffer,
        routine: unsafe extern "C-unwind" fn(*mut c_void),
        arg: *mut c_void,
    );
    fn _pthread_cleanup_pop(buf: *mut CleanupBuffer, execute: libc::c_int);
}

/// Runs `body`, then the steps of `end`, each once, however the thread ends (see the module
/// comment). Called once per thread, by its entry point.
///
/// `body` must hold nothing with a destructor (it is a plain old frame to a forced unwind).
#[inline(never)]
pub(crate) fn run_thread(end: &dyn ThreadEnd, body: impl FnOnce()) {
    let state = EndState {
        next: Cell::new(0),
        steps: end.steps(),
        end,
    };
    let p = &state as *const EndState<'_> as *mut c_void;
    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    {
        let mut buf = std::mem::MaybeUninit::<CleanupBuffer>::uninit();
        // SAFETY: the buffer and `state` live in this frame, which stays in place until the
        // handler is unregistered below or run by the C library as the thread ends.
        unsafe { _pthread_cleanup_push(buf.as_mut_ptr(), run_end, p) };
        body();
        // SAFETY: `p` is `state`, above. The handler stays registered while the steps run, so
        // a step that ends the thread has the C library run the steps after it.
        unsafe { run_end(p) };
        // SAFETY: the buffer registered above, the innermost one (the body returned).
        unsafe { _pthread_cleanup_pop(buf.as_mut_ptr(), 0) };
    }
    #[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
    {
        struct Guard(*mut c_void);
        impl Drop for Guard {
            fn drop(&mut self) {
                // SAFETY: `self.0` is `state`, in the frame that owns this guard.
                unsafe { run_end(self.0) }
            }
        }
        let _guard = Guard(p);
        body();
    }
}

/// An OS thread's entry point, as `pthread_create` takes it; it may be left by `pthread_exit`.
pub(crate) type Entry = unsafe extern "C-unwind" fn(*mut c_void) -> *mut c_void;

unsafe extern "C" {
    /// `pthread_create`, with an entry point that may be left by a forced unwind.
    #[link_name = "pthread_create"]
    fn pthread_create_unwinding(
        thread: *mut libc::pthread_t,
        attr: *const libc::pthread_attr_t,
        entry: Entry,
        data: *mut c_void,
    ) -> libc::c_int;
}

/// Creates an OS thread running `entry(data)` with the configured stack size, and counts it in
/// [`thread_count`]; `entry` must call [`os_thread_began`] first, and [`os_thread_ended`] as its
/// end's step that makes the thread stop counting. Detached unless `joinable` (then exactly one
/// `pthread_join` or `pthread_detach` of it must follow). Returns the new thread's ident (its
/// `pthread_t`). On failure (`RT_EAGAIN`, with the system's reason) no thread exists and `data`
/// was not used.
pub(crate) fn create_os_thread(
    entry: Entry,
    data: *mut c_void,
    joinable: bool,
) -> Result<u64, Error> {
    let _errno = KeepErrno::new();
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
                rc = pthread_create_unwinding(&mut tid, a, entry, data);
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

/// A step of the end of a thread made by [`create_os_thread`]: it no longer counts as running.
/// For a thread object, this comes before it is marked stopped, so that once a join returned
/// the thread is not counted (as in CPython 3.13).
pub(crate) fn os_thread_ended() {
    let _ = STARTED_BY_RTHREAD.try_with(|s| s.set(false));
    // A count seen lower orders what the thread did before (as the release below does).
    crate::debug::annotate::released(&THREAD_COUNT);
    THREAD_COUNT.fetch_sub(1, Ordering::Release);
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
    let n = THREAD_COUNT.load(Ordering::Acquire);
    crate::debug::annotate::acquired(&THREAD_COUNT);
    n
}
