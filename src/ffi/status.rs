//! Status names and the per-thread last-error message.

use crate::status::{last_error_ptr, rt_status};
use std::ffi::{c_char, c_int};

/// Returns the name of a status code ("RT_OK", "RT_TIMEOUT", …) as a static string, or
/// "RT_UNKNOWN" for a value that is no code. Never NULL; the caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn rt_status_str(status: c_int) -> *const c_char {
    match rt_status::from_int(status as i64) {
        Some(s) => s.name_with_nul().as_ptr().cast(),
        None => c"RT_UNKNOWN".as_ptr(),
    }
}

/// Returns the calling thread's message for its last call that did not return `RT_OK`, worded
/// as CPython words the matching exception ("release unlocked lock", "cannot join current
/// thread", …), or "" if there was none. Successful calls leave it unchanged.
///
/// The string belongs to the calling thread; it stays valid until that thread's next failing
/// rthread call or its end. Never NULL; the caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn rt_last_error() -> *const c_char {
    last_error_ptr()
}
