//! The contention profile's C face: the report and the hook (`RT_DEBUG_CONTENTION`).

use super::boundary;
use crate::debug::contention;
use crate::status::rt_status;
use std::ffi::{c_int, c_void};

/// A contention hook (`rt_set_contention_hook`): called after each contended acquisition of a
/// Lock or an RLock while `RT_DEBUG_CONTENTION` is on, with its context, the object's handle,
/// the ident of the thread that waited (as `rt_get_ident` gives it) and how long it waited, in
/// nanoseconds on the monotonic clock.
pub type rt_contention_hook_fn = Option<
    unsafe extern "C" fn(ctx: *mut c_void, object: *const c_void, thread: u64, wait_ns: u64),
>;

/// Writes the contention profile to the file descriptor `fd`: a header line, a line of column
/// names, then one line per Lock and RLock acquired while `RT_DEBUG_CONTENTION` was on, the
/// objects that waited most first (by total wait, then contended acquisitions, then
/// acquisitions), at most `top` of them (0: all). Each line gives the total wait and the longest
/// wait in milliseconds, the contended acquisitions (those that had to wait), all acquisitions
/// (an RLock's re-entries are not counted), and the object (`lock "name" (0x...)`). A freed
/// object's counts are forgotten. The counts are a snapshot: exact for threads that have
/// finished their calls. Works with the mode off too (the counts gathered while it was on).
///
/// Errors: `RT_EINVAL` for a descriptor that is not open ("bad file descriptor") or a write that
/// fails ("cannot write to the file descriptor"; what was written stays); `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub extern "C" fn rt_contention_report(fd: c_int, top: usize) -> rt_status {
    boundary::run(|| contention::report_to(fd, top))
}

/// Installs `hook` with `ctx` as the contention hook (Abseil's mutex-profiler shape), replacing
/// any other; NULL removes it. While `RT_DEBUG_CONTENTION` is on, the hook is called once per
/// contended acquisition of a Lock or an RLock (not for an uncontended one, nor for a wait that
/// ends without the lock: a timeout or an interrupt), on the thread that waited, right after it
/// got the lock and before the acquire call returns, so with that object held, and with no
/// internal lock of rthread's held: the hook may call rthread (but should be quick: the object
/// stays held while it runs). A call already started when the hook is replaced finishes with
/// the old one; an acquisition at the very instant of a replacement may call neither. Always
/// `RT_OK`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_set_contention_hook(
    hook: rt_contention_hook_fn,
    ctx: *mut c_void,
) -> rt_status {
    contention::set_hook(hook, ctx);
    rt_status::RT_OK
}
