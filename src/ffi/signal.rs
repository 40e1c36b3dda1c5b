//! `rt_interrupt_main_on_signal`: lets a signal (Ctrl-C's SIGINT) end the main thread's
//! blocking rthread call with `RT_EINTR`, as CPython's lock acquire is ended by Ctrl-C, while
//! whatever handled the signal before (an interpreter's own handler) still runs.

use crate::status::{Error, KeepErrno, rt_status};
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

/// Signals numbered below this can be given to `rt_interrupt_main_on_signal`.
const SLOTS: usize = 65;

/// The handler each signal had before ours; written before ours is installed, then only read
/// (by the handler).
struct Previous {
    saved: [std::cell::UnsafeCell<std::mem::MaybeUninit<libc::sigaction>>; SLOTS],
    installed: [AtomicBool; SLOTS],
}

// SAFETY: a slot is written only while its `installed` flag is false, by one thread at a time
// (INSTALL serialises installers), before our handler can run for that signal; afterwards it
// is only read.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous {
    saved: [const { std::cell::UnsafeCell::new(std::mem::MaybeUninit::uninit()) }; SLOTS],
    installed: [const { AtomicBool::new(false) }; SLOTS],
};

static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());

extern "C" fn on_signal(signum: c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // Async-signal-safe on Linux (an atomic flag and a futex wake), errno kept.
    {
        let _errno = KeepErrno::new();
        let _ = super::embed::rt_interrupt_main();
    }
    let Ok(i) = usize::try_from(signum) else {
        return;
    };
    if i >= SLOTS || !PREVIOUS.installed[i].load(Ordering::Acquire) {
        return;
    }
    // SAFETY: the slot was written before `installed` was set, and is not written again.
    let prev = unsafe { (*PREVIOUS.saved[i].get()).assume_init_ref() };
    let handler = prev.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        return;
    }
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO, so it has this type.
        let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(handler) };
        f(signum, info, context);
    } else {
        // SAFETY: a plain handler takes the signal number.
        let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
        f(signum);
    }
}

/// A sigaction with no handler, no flags and an empty mask, to fill in.
fn no_action() -> libc::sigaction {
    // SAFETY: all zeroes is a valid sigaction (plain data), and its mask a valid sigset_t to
    // empty.
    unsafe {
        let mut a: libc::sigaction = std::mem::zeroed();
        libc::sigemptyset(&mut a.sa_mask);
        a
    }
}

const BAD_SIGNAL: Error = Error::new(rt_status::RT_EINVAL, "invalid signal number");

/// Makes signal `signum` (for Ctrl-C, `SIGINT`) interrupt the main thread: installs a handler
/// (with `sigaction`, `SA_RESTART` and `SA_SIGINFO`) that calls `rt_interrupt_main()` and
/// then the handler that was installed before, if it was a function, with the same arguments:
/// an interpreter's own handler (CPython's, which notes the signal for the interpreter) keeps
/// running. A blocking rthread call in the main thread then ends with `RT_EINTR` (if none is in
/// progress, the main thread's next real wait does); the caller handles the signal (Python
/// runs its handlers, raising KeyboardInterrupt) and retries or gives up.
///
/// If the previous disposition was the default or "ignore", the signal no longer ends the
/// process: it only interrupts the main thread. The handler is async-signal-safe and keeps
/// `errno`. Calling again for the same signal while our handler is still installed does
/// nothing; if the program installed another handler since, ours is installed again over it
/// and chains to it. Install before starting threads that could change the same signal's
/// handler: installing is not atomic with other threads' `sigaction` calls.
///
/// Errors: `RT_EINVAL` ("invalid signal number") for a number that is not a signal, or that
/// cannot be caught (SIGKILL, SIGSTOP), or that the system refuses.
#[unsafe(no_mangle)]
pub extern "C" fn rt_interrupt_main_on_signal(signum: c_int) -> rt_status {
    let _errno = KeepErrno::new();
    let Ok(i) = usize::try_from(signum) else {
        return crate::status::record(&BAD_SIGNAL);
    };
    if i == 0 || i >= SLOTS || signum == libc::SIGKILL || signum == libc::SIGSTOP {
        return crate::status::record(&BAD_SIGNAL);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let mut current = no_action();
    // SAFETY: querying a catchable signal's disposition into a valid struct.
    if unsafe { libc::sigaction(signum, std::ptr::null(), &mut current) } != 0 {
        return crate::status::record(&BAD_SIGNAL);
    }
    let ours = on_signal as *const () as libc::sighandler_t;
    if current.sa_sigaction == ours {
        return rt_status::RT_OK;
    }
    // Our handler is not installed, so it does not read the slot now (a handler still
    // running from before it was replaced is not possible: it was ours, whose slot we keep).
    PREVIOUS.installed[i].store(false, Ordering::Release);
    // SAFETY: see `Previous`: no reader while `installed` is false and ours is not installed.
    unsafe { (*PREVIOUS.saved[i].get()).write(current) };
    PREVIOUS.installed[i].store(true, Ordering::Release);
    let mut action = no_action();
    action.sa_sigaction = ours;
    action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
    // SAFETY: installing a valid action for a catchable signal.
    if unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) } != 0 {
        return crate::status::record(&BAD_SIGNAL);
    }
    rt_status::RT_OK
}
