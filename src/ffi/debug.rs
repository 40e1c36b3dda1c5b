//! Debug modes, the report hook, and object names: the C face of `crate::debug`.

use super::boundary::{self, Buffer, CText, Handle};
use super::{Header, Kind};
use crate::debug::{self, Text};
use crate::status::{Error, rt_status};
use std::ffi::{c_char, c_uint, c_void};
use std::fmt::Write;

/// `rt_set_debug` flag: deadlock detection. A blocking call on a Lock, an RLock, a Condition's
/// lock (taken back after a wait) or a thread join that would close a cycle in the waits-for
/// graph (thread → object → the thread holding it → ...) returns `RT_EDEADLK` at once, with a
/// message naming the cycle (threads and objects by name), and the cycle is reported. Implies
/// `RT_DEBUG_HOLDERS`.
pub const RT_DEBUG_DEADLOCK: c_uint = 1;
/// `rt_set_debug` flag: lock-order checking (lockdep-style): an acquisition that inverts an
/// order seen before is reported once per pair. Behaviour is unchanged.
pub const RT_DEBUG_LOCK_ORDER: c_uint = 2;
/// `rt_set_debug` flag: the contention profile (`rt_contention_report`) and hook.
pub const RT_DEBUG_CONTENTION: c_uint = 4;
/// `rt_set_debug` flag: record which thread holds each Lock and RLock, so that
/// `rt_dump_threads` names the holder of the object a thread is blocked on.
pub const RT_DEBUG_HOLDERS: c_uint = 8;

// Literals, so that cbindgen writes them into the header; the same bits as the debug layer's.
const _: () = assert!(
    RT_DEBUG_DEADLOCK == debug::DEADLOCK
        && RT_DEBUG_LOCK_ORDER == debug::LOCK_ORDER
        && RT_DEBUG_CONTENTION == debug::CONTENTION
        && RT_DEBUG_HOLDERS == debug::HOLDERS
);

/// A report hook (`rt_set_debug_report_hook`): called with its context and the report's text, a
/// NUL-terminated UTF-8 string ending with a newline, valid only during the call.
pub type rt_debug_report_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, text: *const c_char)>;

/// Switches the debug modes on and off: `flags` is a combination of `RT_DEBUG_DEADLOCK`,
/// `RT_DEBUG_LOCK_ORDER`, `RT_DEBUG_CONTENTION` and `RT_DEBUG_HOLDERS` (0: all off), and
/// replaces the modes in force. The environment variable `RTHREAD_DEBUG`, read when the library
/// is loaded, sets the same: comma-separated words `deadlock`, `lockorder`, `contention`,
/// `holders`, `all` (an unknown word is reported on stderr and ignored), so that an existing
/// program can be diagnosed without a rebuild.
///
/// With no mode on, the cost on the fast paths is one relaxed load. Holders are recorded from
/// the moment a mode that needs them is on: locks acquired before are not known to be held.
/// Errors: `RT_EINVAL` for an unknown bit ("unknown debug flags"), and nothing changes.
#[unsafe(no_mangle)]
pub extern "C" fn rt_set_debug(flags: c_uint) -> rt_status {
    boundary::run(|| debug::set_flags(flags))
}

/// The debug modes in force (`RT_DEBUG_*` bits).
#[unsafe(no_mangle)]
pub extern "C" fn rt_get_debug() -> c_uint {
    debug::flags()
}

/// Sends every debug report (deadlocks, lock-order inversions) to `hook` with `ctx`, instead of
/// stderr; a NULL `hook` sends them back to stderr. The hook is called in the thread that made
/// the report, with no lock of rthread's held; it may call rthread. Always `RT_OK`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_set_debug_report_hook(
    hook: rt_debug_report_fn,
    ctx: *mut c_void,
) -> rt_status {
    debug::set_report_hook(hook, ctx);
    rt_status::RT_OK
}

/// The debug kind of a handle of any kind, from its tag. `RT_EINVAL` for NULL or an unknown tag.
///
/// # Safety
/// `p` is NULL or a live handle of some rthread kind.
pub(crate) unsafe fn kind_of(p: *const c_void) -> Result<debug::Kind, Error> {
    if p.is_null() {
        return Err(Error::NULL_HANDLE);
    }
    // SAFETY: by the contract every handle starts with a Header.
    let tag = unsafe { (*(p as *const Header)).kind };
    Ok(match tag {
        t if t == Kind::Lock as u32 => debug::Kind::Lock,
        t if t == Kind::RLock as u32 => debug::Kind::RLock,
        t if t == Kind::Condition as u32 => debug::Kind::Condition,
        t if t == Kind::Semaphore as u32 => debug::Kind::Semaphore,
        t if t == Kind::Event as u32 => debug::Kind::Event,
        t if t == Kind::Barrier as u32 => debug::Kind::Barrier,
        t if t == Kind::Thread as u32 => debug::Kind::Thread,
        t if t == Kind::Local as u32 => debug::Kind::Local,
        t if t == Kind::Queue as u32 => debug::Kind::Queue,
        t if t == Kind::Future as u32 => debug::Kind::Future,
        t if t == Kind::Executor as u32 => debug::Kind::Executor,
        t if t == Kind::AsCompleted as u32 => debug::Kind::AsCompleted,
        _ => return Err(Error::WRONG_KIND),
    })
}

const NAME_NOT_UTF8: Error = Error::new(rt_status::RT_EINVAL, "name must be UTF-8");
const NULL_NAME: Error = Error::new(rt_status::RT_EINVAL, "NULL name");

/// Names an object, for every report and dump: `handle` is a handle of any kind (lock, rlock,
/// condition, semaphore, event, barrier, queue, thread, local, future, executor); `name` is
/// copied. An empty name removes the object's name. A thread's name is its own
/// (`rt_thread_set_name`, which this calls); any other object's name is kept beside it, costs
/// nothing until set, and is forgotten when the object is freed.
///
/// Errors: `RT_EINVAL` for a NULL handle, a handle of no rthread kind, a NULL name ("NULL
/// name"), a name that is not UTF-8 ("name must be UTF-8"); `RT_ENOMEM`, and the old name is
/// kept.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_object_set_name(handle: *mut c_void, name: *const c_char) -> rt_status {
    boundary::run(|| {
        // SAFETY: the caller passes NULL or a live handle.
        let kind = unsafe { kind_of(handle)? };
        // SAFETY: a non-NULL name is a NUL-terminated string by the API contract.
        let name = unsafe { CText::new(name) }.to_str(NULL_NAME, NAME_NOT_UTF8)?;
        if kind == debug::Kind::Thread {
            // SAFETY: the tag says it is a live thread handle.
            let t = super::threading::thread_ref(unsafe { Handle::new(handle as *const _) })?;
            return t.set_name(name);
        }
        debug::names::set(handle as usize, Some(name))
    })
}

/// Copies the object's name, NUL-terminated UTF-8, into `buf`, which holds `len` bytes: what
/// `rt_object_set_name` set, "" for an object without a name, and a thread's name for a thread.
/// The caller owns `buf`; nothing is kept. The name is never truncated: if it does not fit
/// (its length plus the NUL exceeds `len`), `RT_EINVAL` "buffer too small: the name needs N
/// bytes" (N counts the NUL), and `buf` is not written.
///
/// Errors: `RT_EINVAL` for a NULL `buf`, a NULL handle or a handle of no rthread kind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_object_name(
    handle: *const c_void,
    buf: *mut c_char,
    len: usize,
) -> rt_status {
    boundary::run(|| {
        // SAFETY: the caller passes NULL or a live handle.
        let kind = unsafe { kind_of(handle)? };
        if buf.is_null() {
            return Err(Error::NULL_OUT);
        }
        // SAFETY: `buf` holds `len` bytes by the API contract.
        let buf = unsafe { Buffer::new(buf, len) };
        let put = move |name: &str| buf.put_str(name, crate::thread::object::name_buffer_too_small);
        if kind == debug::Kind::Thread {
            // SAFETY: the tag says it is a live thread handle.
            let t = super::threading::thread_ref(unsafe { Handle::new(handle as *const _) })?;
            return t.with_name(put);
        }
        debug::names::with_name(handle as usize, |n| put(n.unwrap_or("")))
    })
}

/// Writes `thread "NAME"` for the thread whose record id is `id` (a thread object's name), or
/// `thread #ID` for a thread without an object.
fn name_thread(id: u64, out: &mut Text) {
    let mut found = false;
    let _ = crate::thread::enumerate_with(|t| {
        if !found && t.record_id() == id {
            found = true;
            t.with_name(|n| {
                let _ = write!(out, "thread \"{n}\"");
            });
        }
    });
    if !found {
        let _ = write!(out, "thread #{id}");
    }
}

/// Writes ` "NAME"` for the live thread object whose handle is at `addr`.
fn name_thread_handle(addr: usize, out: &mut Text) {
    let mut done = false;
    let _ = crate::thread::enumerate_with(|t| {
        if !done && super::threading::handle_addr(t) == addr {
            done = true;
            t.with_name(|n| {
                let _ = write!(out, " \"{n}\"");
            });
        }
    });
}

/// At load: name threads in reports, list the debug layer's locks with the fork handler (while
/// the process has one thread: see `debug::ensure_fork_safe`), read `RTHREAD_DEBUG`.
extern "C" fn debug_at_load() {
    boundary::value((), || {
        debug::deadlock::set_thread_namer(name_thread, name_thread_handle);
        debug::ensure_fork_safe();
        debug::init_from_env();
        Ok(())
    });
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static DEBUG_AT_LOAD: extern "C" fn() = debug_at_load;

/// Makes sure reports name threads (for platforms without `.init_array`, and tests).
pub fn ensure_namer() {
    debug::deadlock::set_thread_namer(name_thread, name_thread_handle);
}
