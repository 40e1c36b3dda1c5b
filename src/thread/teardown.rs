//! The end of a thread, for what this layer keeps per thread: its thread-local values
//! ([`super::local`]) and a foreign thread's dummy object ([`super::registry`]).
//!
//! Rust's `thread_local!` destructors are registered with the C library at a thread-local's
//! first use (glibc's `__cxa_thread_atexit_impl`), and glibc ends the process when that
//! registration cannot allocate. So this layer keeps its per-thread state in thread-locals
//! without destructors and arms one pthread key instead, made once when the library is loaded;
//! arming it (`pthread_setspecific`) reports a failure, which becomes `RT_ENOMEM` for the call
//! that needed it, before that call changed anything. The key's destructor runs when the thread
//! ends (after the C library's thread-local destructors, like every pthread key's). A value set
//! during it arms the key again, and the system calls the destructor again (up to its
//! `PTHREAD_DESTRUCTOR_ITERATIONS`).
//!
//! The thread that calls `exit()` (the main thread, as a rule) runs no pthread key destructors:
//! for it, the same clean-up runs from the library's `.fini_array`, at the end of `exit()` (after
//! the `atexit` handlers, the wait for non-daemon threads among them).

use crate::status::Error;
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::OnceLock;

thread_local! {
    /// Whether the calling thread's key holds a value (so its destructor will run).
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// The key, made once; `None` if the system had none left.
fn key() -> Option<libc::pthread_key_t> {
    static KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();
    *KEY.get_or_init(|| {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is writable; `at_key_destructor` never unwinds.
        (unsafe { libc::pthread_key_create(&mut key, Some(at_key_destructor)) } == 0).then_some(key)
    })
}

/// Makes the key now (when the library is loaded, before the waiting core's key, so that the
/// system runs this layer's clean-up first).
pub(super) fn make_key() {
    let _ = key();
}

const NO_KEY: Error = Error::new(
    crate::status::rt_status::RT_ENOMEM,
    "out of memory (no thread-specific data key left)",
);

/// Makes sure the calling thread's clean-up runs when it ends. `RT_ENOMEM` if it cannot be
/// arranged (the system's key table cannot grow), and then nothing changed.
pub(super) fn arm() -> Result<(), Error> {
    if ARMED.with(Cell::get) {
        return Ok(());
    }
    let key = key().ok_or(NO_KEY)?;
    // SAFETY: a key this module made; the value only marks the key as set.
    if unsafe { libc::pthread_setspecific(key, std::ptr::dangling::<u8>().cast()) } != 0 {
        return Err(Error::NO_MEMORY);
    }
    ARMED.with(|a| a.set(true));
    Ok(())
}

unsafe extern "C" fn at_key_destructor(_value: *mut c_void) {
    // The system cleared the value: what the clean-up sets from here must arm the key again.
    ARMED.with(|a| a.set(false));
    super::at_thread_end();
}

/// In `exit()`, for the thread that calls it.
#[cfg(target_os = "linux")]
extern "C" fn at_process_exit() {
    if ARMED.with(|a| a.replace(false)) {
        super::at_thread_end();
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".fini_array")]
static AT_PROCESS_EXIT: extern "C" fn() = at_process_exit;
