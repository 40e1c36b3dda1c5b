//! `threading.Thread` objects, the registry, shutdown, Timer and the thread hooks.
//!
//! A thread handle is the C face's own small object, a [`ThreadHandle`]: the handle header (kind
//! `Thread`) and the address of the core's `Thread`. The core object owns it (it is the
//! object's attachment, made with the object by [`make_handle`], installed when the library is
//! loaded, and dropped with it), so a thread object has one handle, the same for every caller,
//! for its whole life, and handing it out allocates nothing. The references a handle stands
//! for are the core object's `Arc` references: each handle the user holds is one.

#![cfg(not(loom))]

use super::boundary::{self, Out};
use super::boundary::{Buffer, CText, Handle, Place, Slots};
use super::thread::{rt_hook_fn, rt_thread_fn};
use super::{Handled, Header, KIND_FREED, Kind, Obj};
use crate::memory::{Arc, try_box};
use crate::status::{Error, rt_status};
use crate::thread::{self, Attachment, Thread, ThreadKind};
use std::ffi::{c_char, c_void};
use std::mem::ManuallyDrop;
use std::sync::atomic::AtomicU32;

/// A thread object (`threading.Thread`, also a `threading.Timer`, the main thread, or the dummy
/// of a thread rthread did not start). Reference-counted: `rt_thread_new`, `rt_timer_new`,
/// `rt_current_thread`, `rt_main_thread` and `rt_enumerate` give the caller new references;
/// `rt_thread_retain` adds one and `rt_thread_release` drops one. The object is destroyed when
/// the last reference goes; a running thread holds its own reference until it has ended, so
/// releasing a running thread's object never stops the thread. 224 bytes of heap in two
/// allocations (64-bit; a name given with `rt_thread_set_name` is allocated beside it), besides
/// the thread's stack.
pub struct rt_thread {
    _private: [u8; 0],
}

/// The core thread object a handle stands for.
pub struct ThreadRef(*const Thread);

// SAFETY: a `Thread` is Send and Sync; this is a shared reference to it (see `thread`).
unsafe impl Send for ThreadRef {}
// SAFETY: as above.
unsafe impl Sync for ThreadRef {}

impl Handled for ThreadRef {
    const KIND: Kind = Kind::Thread;
}

impl ThreadRef {
    fn thread(&self) -> &Thread {
        // SAFETY: a ThreadRef exists only inside the attachment of the thread object it points
        // to (`make_handle`), which owns it: the object outlives every borrow of it.
        unsafe { &*self.0 }
    }

    /// The object's `Arc`, borrowed: no reference taken or dropped (a clone of it is one).
    fn arc(&self) -> BorrowedArc {
        // SAFETY: the pointer is `Arc::as_ptr` of the object's Arc (`make_handle`), alive as
        // above; ManuallyDrop leaves the count untouched, and BorrowedArc never drops it.
        BorrowedArc(ManuallyDrop::new(unsafe { Arc::from_raw(self.0) }))
    }

    /// Drops one of the object's references.
    ///
    /// # Safety
    /// The caller owns that reference (a handle it received), and gives it up.
    unsafe fn release(&self) {
        // SAFETY: the object's Arc (as in `arc`), and a reference the caller gives up.
        drop(unsafe { Arc::from_raw(self.0) });
    }
}

/// A thread object's `Arc`, borrowed from its handle.
struct BorrowedArc(ManuallyDrop<Arc<Thread>>);

impl std::ops::Deref for BorrowedArc {
    type Target = Arc<Thread>;
    fn deref(&self) -> &Arc<Thread> {
        &self.0
    }
}

/// What an `rt_thread *` points to: the handle header and the core object's address.
#[repr(transparent)]
pub struct ThreadHandle(Obj<ThreadRef>);

impl Drop for ThreadHandle {
    fn drop(&mut self) {
        // To catch some uses after the last release.
        self.0.header.kind = KIND_FREED;
    }
}

/// The C face's attachment of every thread object (see the module comment).
fn make_handle(t: &Arc<Thread>) -> Result<Attachment, Error> {
    Ok(try_box(ThreadHandle(Obj {
        header: Header {
            kind: Kind::Thread as u32,
            busy: AtomicU32::new(0),
        },
        inner: ThreadRef(Arc::as_ptr(t)),
    }))?)
}

extern "C" fn install_handle_maker() {
    thread::set_attachment_maker(make_handle);
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static INSTALL_HANDLE_MAKER: extern "C" fn() = install_handle_maker;

/// The handle's object; NULL and wrong kinds are `RT_EINVAL`.
fn handle_of<'a>(t: Handle<rt_thread>) -> Result<&'a ThreadRef, Error> {
    Ok(&t.get::<ThreadRef>()?.inner)
}

/// The core object behind a thread handle; NULL and wrong kinds are `RT_EINVAL`.
pub(super) fn thread_ref<'a>(t: Handle<rt_thread>) -> Result<&'a Thread, Error> {
    Ok(handle_of(t)?.thread())
}

/// The address of the thread object's handle (what reports show), or 0 before it has one.
pub(super) fn handle_addr(t: &Thread) -> usize {
    t.attachment::<ThreadHandle>()
        .map_or(0, |h| h as *const ThreadHandle as usize)
}

/// Gives the reference `t` to C, as the object's handle.
fn into_handle(t: Arc<Thread>) -> Result<*mut rt_thread, Error> {
    #[cfg(not(target_os = "linux"))]
    install_handle_maker();
    Thread::attach_if_missing(&t)?;
    let h = t.attachment::<ThreadHandle>().ok_or(boundary::PANICKED)? as *const ThreadHandle;
    let _ = Arc::into_raw(t);
    Ok(h as *mut rt_thread)
}

/// Creates a thread object that will run `function(arg)` once started
/// (`threading.Thread(target=function, args=(arg,))`); it is not started yet.
///
/// Its name is `Thread-N` (N counts from 1 in the process, one counter shared with `Dummy-N`);
/// it is a daemon if the calling thread is one (the main thread is not; a thread rthread did not
/// start counts as one, as its dummy would). `function` may be NULL: the thread then runs
/// nothing (Python's `target=None`). `arg` belongs to the caller; rthread only passes it on.
///
/// On `RT_OK`, `*out` receives a new reference, which the caller releases with
/// `rt_thread_release`. Errors: `RT_EINVAL` if `out` is NULL; `RT_ENOMEM` ("out of memory"),
/// and then nothing was made.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_new(
    function: rt_thread_fn,
    arg: *mut c_void,
    out: *mut *mut rt_thread,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract; running `function(arg)` in the
    // new thread is what the caller asks for: C functions unwind only by ending their thread
    // (rt_exit_thread, pthread_exit), and a C++ exception that escapes one aborts the process
    // (see rt_thread_fn).
    // The thread object is made only once `out` is known to be non-NULL.
    let (out, make) = unsafe { (Out::new(out), || Thread::new(function, arg)) };
    out.make_handle(|| into_handle(make()?))
}

/// Starts the thread (`thread.start()`): returns once the new thread runs, so its ident and
/// native id are set and `rt_thread_is_alive` is true (unless it already ended).
///
/// The new thread gives the OS its name, runs the start hook, its function (a timer first waits
/// for its interval), its thread-local destructors and the exit hook, then leaves the registry
/// and stops being alive. `rt_exit_thread` or `pthread_exit` in the function (or in a hook) ends
/// it like a return: the rest of that sequence still runs.
///
/// Errors: `RT_ESTATE` "threads can only be started once" (a second start, even after the
/// thread ended; always for the main thread and dummies); `RT_EAGAIN` "can't start new thread:
/// " and the system's reason, when the system refuses a thread: the object is then unchanged,
/// not in the registry, and may be started again; `RT_ENOMEM`; `RT_EINVAL` for a NULL or
/// wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_start(t: *mut rt_thread) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::run(|| Thread::start(&handle_of(t)?.arc()))
}

/// Waits until the thread has ended (`thread.join(timeout)`): at most `timeout` seconds, or
/// without bound for `RT_FOREVER`; 0 polls.
///
/// Returns `RT_OK` once the thread has ended (at once if it already had): its function, its
/// thread-local destructors and its exit hook have run, and it is out of `rt_enumerate`. The
/// first join that sees the thread end also waits (within the same time) for its OS thread to
/// exit, so that nothing of it is left when the process exits (valgrind then reports nothing
/// "possibly lost"; see the README).
/// `RT_TIMEOUT` if it is still alive when the time is up (Python's `join` returns `None` and
/// `is_alive()` tells; here the status does). Any number of threads may join one thread, at
/// once or again and again. `RT_EINTR` if `rt_thread_interrupt` ended the wait.
///
/// Errors, in CPython's order: `RT_ESTATE` "cannot join a dummy thread"; `RT_ESTATE` "cannot
/// join thread before it is started"; `RT_EDEADLK` "cannot join current thread" (the main
/// thread joining itself included); then the timeout: `RT_EINVAL` for NaN or a negative value
/// other than -1 (Python treats a negative timeout as 0), `RT_EOVERFLOW` above `RT_TIMEOUT_MAX`;
/// `RT_EINVAL` for a NULL or wrong-kind handle. The caller must hold a reference to `t`
/// throughout the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_join(t: *mut rt_thread, timeout: f64) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::run(|| {
        let th = thread_ref(t)?;
        let joined = th.record_id();
        // Joining itself is refused by the join, with its own message.
        let _waiting = if joined != crate::wait::current_id() {
            let obj = crate::debug::Object::new(t.as_ptr(), crate::debug::Kind::Thread);
            Some(crate::debug::waiting::Waiting::begin(
                obj,
                "rt_thread_join",
                timeout,
                joined,
                None,
            )?)
        } else {
            None
        };
        th.join(timeout)
    })
}

/// Whether the thread is alive (`thread.is_alive()`): true from just before its function runs
/// until just after it ended (thread-local destructors and exit hook included); false before
/// start and after. The main thread is alive until it ends (at `exit()`, as in Python 3.13, or
/// by `pthread_exit`); a dummy while its thread runs. False for a NULL or wrong-kind handle (and
/// `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_is_alive(t: *const rt_thread) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::value(false, || Ok(thread_ref(t)?.is_alive()))
}

/// Copies the thread's name (`thread.name`), NUL-terminated UTF-8, into `buf`, which holds `len`
/// bytes.
///
/// The name is never truncated: if it does not fit (its length plus the NUL exceeds `len`), the
/// call fails with `RT_EINVAL` "buffer too small: the name needs N bytes" (N counts the NUL) and
/// `buf` is not written; `rt_thread_name_len` gives the length beforehand. Names are `Thread-N`,
/// `Dummy-N`, `MainThread`, or what `rt_thread_set_name` set. Errors: `RT_EINVAL` for a NULL
/// `buf`, a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_name(
    t: *const rt_thread,
    buf: *mut c_char,
    len: usize,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle, and `buf` NULL or holding `len` bytes.
    let (t, buf) = unsafe { (Handle::new(t), Buffer::new(buf, len)) };
    boundary::run(|| {
        thread_ref(t)?.with_name(|name| buf.put_str(name, thread::object::name_buffer_too_small))
    })
}

/// Writes the length in bytes of the thread's name, without the NUL, to `*len` (so a buffer of
/// `*len + 1` bytes holds it, unless it is renamed meanwhile). Errors: `RT_EINVAL` for a NULL
/// `len`, a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_name_len(t: *const rt_thread, len: *mut usize) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle, and `len` NULL or writable.
    let (t, len) = unsafe { (Handle::new(t), Place::new(len)) };
    boundary::run(|| len.write(thread_ref(t)?.with_name(str::len)))
}

/// Renames the thread (`thread.name = name`); `name` is copied. Any thread may rename any thread
/// object, before, during or after its run, the main thread and dummies included; an empty name
/// is allowed.
///
/// While the thread runs, the OS gets the new name too (what top, ps, gdb and perf show),
/// truncated to 15 bytes at a UTF-8 character boundary (Linux's limit); a thread object that has
/// not started gives the OS its name when it starts. The main thread's OS name (the program's)
/// changes only if it is renamed. Errors: `RT_EINVAL` for a NULL name ("NULL name"), a name
/// that is not UTF-8 ("name must be UTF-8"), a NULL or wrong-kind handle; `RT_ENOMEM` ("out of
/// memory"), and the name is unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_set_name(t: *mut rt_thread, name: *const c_char) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle, and `name` NULL or a NUL-terminated
    // string.
    let (t, name) = unsafe { (Handle::new(t), CText::new(name)) };
    boundary::run(|| {
        let t = thread_ref(t)?;
        let name = name.to_str(
            Error::new(rt_status::RT_EINVAL, "NULL name"),
            Error::new(rt_status::RT_EINVAL, "name must be UTF-8"),
        )?;
        t.set_name(name)
    })
}

/// Whether the thread is a daemon (`thread.daemon`): the process does not wait for a daemon
/// thread at exit. False for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_daemon(t: *const rt_thread) -> bool {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::value(false, || Ok(thread_ref(t)?.daemon()))
}

/// Sets whether the thread is a daemon (`thread.daemon = daemon`), before it is started.
///
/// Errors: `RT_ESTATE` "cannot set daemon status of active thread" once `rt_thread_start` has
/// been called (even after the thread ended; always for the main thread and dummies);
/// `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_set_daemon(t: *mut rt_thread, daemon: bool) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::run(|| thread_ref(t)?.set_daemon(daemon))
}

/// The thread's ident (`thread.ident`): the value `rt_get_ident` returns inside it. 0 before the
/// thread is started (Python's `None`), kept after it ended (the system may reuse it for a new
/// thread then). 0 for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_ident(t: *const rt_thread) -> u64 {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::value(0, || Ok(thread_ref(t)?.ident()))
}

/// The thread's native id (`thread.native_id`): the kernel's thread id, as `rt_get_native_id`
/// returns inside it. 0 before start, kept after the thread ended. 0 for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_native_id(t: *const rt_thread) -> u64 {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::value(0, || Ok(thread_ref(t)?.native_id()))
}

/// Adds a reference to the thread object, for a caller that keeps the handle (one more
/// `rt_thread_release` is then due). Errors: `RT_EINVAL` for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_retain(t: *mut rt_thread) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::run(|| {
        // The new reference is the caller's, given back through `rt_thread_release`.
        std::mem::forget(Arc::clone(&handle_of(t)?.arc()));
        Ok(())
    })
}

/// Drops one reference to the thread object; the handle must not be used through this
/// reference afterwards. The object is destroyed with its last reference; a thread that runs
/// holds one itself, so releasing never stops or detaches anything. NULL is fine (nothing
/// happens). Errors: `RT_EINVAL` for a handle of another kind. Releasing more references than
/// one holds is undefined, as freeing twice is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_thread_release(t: *mut rt_thread) -> rt_status {
    if t.is_null() {
        return rt_status::RT_OK;
    }
    // SAFETY: the caller passes a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::run(|| {
        let t = handle_of(t)?;
        // SAFETY: the caller gives up one of the references it holds.
        unsafe { t.release() };
        Ok(())
    })
}

/// The number of alive threads (`threading.active_count()`): thread objects that run, the main
/// thread, and the dummies of foreign threads that asked for their object; the count
/// `rt_enumerate` gives at the same moment. Never fails (without memory to make the main
/// thread's object at the first call, the main thread is not counted yet).
#[unsafe(no_mangle)]
pub extern "C" fn rt_active_count() -> usize {
    thread::active_count()
}

/// Lists the alive threads (`threading.enumerate()`): the same set `rt_active_count` counts,
/// taken at one instant, in no particular order. Never a thread that is not started yet or has
/// ended: once `rt_thread_join` returned `RT_OK`, the thread is not listed.
///
/// Writes up to `cap` handles to `buf`, each a new reference that the caller releases, and the
/// number of alive threads to `*count`. If `*count` > `cap`, only the first `cap` were written:
/// the caller releases min(`cap`, `*count`) handles. `buf` may be NULL when `cap` is 0 (to count
/// only). Errors: `RT_EINVAL` for a NULL `count`, or a NULL `buf` with `cap` > 0; `RT_ENOMEM`
/// ("out of memory") if the main thread's object must be made first (see `rt_main_thread`) and
/// cannot be: nothing is written then.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_enumerate(
    buf: *mut *mut rt_thread,
    cap: usize,
    count: *mut usize,
) -> rt_status {
    // SAFETY: `buf` is NULL or holds `cap` handles, and `count` NULL or writable, by the API
    // contract.
    let (mut buf, count) = unsafe { (Slots::new(buf, cap), Place::new(count)) };
    boundary::run(|| {
        if count.is_null() || (buf.is_null() && cap > 0) {
            return Err(Error::NULL_OUT);
        }
        let mut written = 0;
        let mut failed = None;
        let n = thread::enumerate_with(|t| {
            if written < buf.cap() && failed.is_none() {
                match into_handle(t.clone()) {
                    Ok(h) => {
                        buf.set(written, h);
                        written += 1;
                    }
                    Err(e) => failed = Some(e),
                }
            }
        })?;
        if let Some(e) = failed {
            // Nothing is given out on failure.
            for h in (0..written).filter_map(|i| buf.get(i)) {
                // SAFETY: a handle made above, whose reference is given back.
                unsafe { rt_thread_release(h) };
            }
            return Err(e);
        }
        count.write(n)
    })
}

/// The calling thread's object (`threading.current_thread()`), as a new reference in `*out`.
///
/// For a thread rthread started, its own object; for the initial thread, the main thread's
/// object; for any other thread, a dummy made on its first call: `Dummy-N`, a daemon, alive,
/// listed by `rt_enumerate`, not joinable ("cannot join a dummy thread"), and out of the
/// registry when that thread ends. Errors: `RT_EINVAL` for a NULL `out`; `RT_ESTATE` ("the
/// calling thread is ending: it has no thread object") from the system's thread-local
/// destructors of a thread rthread started, or of a foreign thread whose dummy is already gone;
/// `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_current_thread(out: *mut *mut rt_thread) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    unsafe { Out::new(out) }.make_handle(|| into_handle(thread::current_thread()?))
}

/// The main thread's object (`threading.main_thread()`), as a new reference in `*out`: the
/// process's initial thread (on Linux, the thread whose id is the process id), named
/// "MainThread", not a daemon, alive until it ends (see `rt_thread_is_alive`) or calls
/// `rt_shutdown`. In a fork child it is the forking thread (a dummy becomes "MainThread", not a
/// daemon, as in CPython). Its ident is known once the
/// library was loaded in the initial thread (the usual case) or the initial thread has called
/// into rthread; until then it is 0. Errors: `RT_EINVAL` for a NULL `out`; `RT_ENOMEM` ("out of
/// memory") when the object is made (at the first call that needs it) and memory runs out.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_main_thread(out: *mut *mut rt_thread) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    unsafe { Out::new(out) }.make_handle(|| into_handle(thread::main_thread()?.clone()))
}

/// Waits for every started non-daemon thread object to end, as the process does at exit
/// (`threading._shutdown()`), looping while new ones appear: at most `timeout` seconds, or
/// without bound for `RT_FOREVER`.
///
/// The caller does not wait for itself; threads from `rt_start_new_thread`, dummies and daemon
/// threads are not waited for. Called from the main thread (`rt_main_thread`; in a fork child,
/// the forking thread), it first marks the main thread done, as CPython's `_shutdown` does:
/// threads joining it return, and from then on `rt_thread_is_alive` is false for it, though
/// `rt_enumerate` and `rt_active_count` still count it. Two non-daemon threads inside `rt_shutdown` at once do not wait
/// for each other. Returns `RT_OK` when none is left, `RT_TIMEOUT` if some still run at the
/// deadline, `RT_EINTR` if `rt_thread_interrupt` ended the wait. Errors: the timeout's
/// validation (`RT_EINVAL`, `RT_EOVERFLOW`).
///
/// At process exit (`exit()` or a return from `main`) rthread does the same wait without bound,
/// once any thread object has been started: the thread calling `exit()` counts as ended (threads
/// joining it go on) and is not waited for. To end a program without that wait: make the
/// threads daemons (`rt_thread_set_daemon`), call `rt_set_exit_wait(false)`, or leave with
/// `_exit()` or `quick_exit()`, which skip `atexit` handlers. Calling `exit()` from two threads
/// at once is undefined in C, and may hang here.
#[unsafe(no_mangle)]
pub extern "C" fn rt_shutdown(timeout: f64) -> rt_status {
    boundary::run(|| thread::shutdown(timeout))
}

/// Turns the wait for non-daemon threads at process exit (see `rt_shutdown`) on (`wait` true,
/// the default) or off; returns the previous setting. With it off, `exit()` and a return from
/// `main` end the process at once, and every thread with it, as in plain C.
#[unsafe(no_mangle)]
pub extern "C" fn rt_set_exit_wait(wait: bool) -> bool {
    thread::set_exit_wait(wait)
}

/// Creates a timer (`threading.Timer(interval, function, args=(arg,))`): a thread object that,
/// once started with `rt_thread_start`, waits `interval` seconds, then runs `function(arg)`,
/// unless `rt_timer_cancel` came first. A negative interval fires at once. The wait is measured
/// on the monotonic clock. Everything else is as for `rt_thread_new` (name `Thread-N`, daemon
/// inherited, joinable, hooks; NULL `function` runs nothing).
///
/// On `RT_OK`, `*out` receives a new reference. Errors: `RT_EINVAL` for a NaN interval ("Invalid
/// value NaN (not a number)") or a NULL `out`; `RT_EOVERFLOW` for an interval above
/// `RT_TIMEOUT_MAX` ("timestamp out of range for platform time_t"); `RT_ENOMEM` ("out of
/// memory").
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_timer_new(
    interval: f64,
    function: rt_thread_fn,
    arg: *mut c_void,
    out: *mut *mut rt_thread,
) -> rt_status {
    // SAFETY: as in rt_thread_new.
    let (out, make) = unsafe { (Out::new(out), || Thread::new_timer(interval, function, arg)) };
    out.make_handle(|| into_handle(make()?))
}

/// Cancels a timer (`timer.cancel()`): if it has not fired yet, its function never runs, and a
/// started timer's thread ends at once (join it as any thread). Before `rt_thread_start`, the
/// timer's thread, once started, ends without firing. After it fired (its function runs or
/// ran), nothing happens: `RT_OK`. Errors: `RT_EINVAL` for a thread object that is not a timer
/// ("not a timer"), a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_timer_cancel(t: *mut rt_thread) -> rt_status {
    // SAFETY: the caller passes NULL or a live handle.
    let t = unsafe { Handle::new(t) };
    boundary::run(|| {
        let t = thread_ref(t)?;
        if t.kind() != ThreadKind::Timer {
            return Err(Error::new(rt_status::RT_EINVAL, "not a timer"));
        }
        t.cancel();
        Ok(())
    })
}

/// Sets the thread hooks (what `threading.settrace`/`setprofile` are to Python, and where an
/// interpreter sets up and tears down its per-thread state). For every thread rthread starts
/// after this call returns (thread objects, timers and `rt_start_new_thread` threads alike),
/// `start(ctx)` runs in the new thread before its function, and `exit(ctx)` after it ended
/// (returned or called `rt_exit_thread` or `pthread_exit`; a cancelled timer included) and
/// after its thread-local destructors. A thread keeps the hooks it was started with. Either may
/// be NULL; NULL for both removes them. Threads already running are not affected.
///
/// The hooks run with no rthread lock held and may call rthread (but `rt_exit_thread` returns
/// `RT_ESTATE` inside them). A hook that calls `pthread_exit` ends its thread; the thread's end
/// still runs in full (the exit hook, after a start hook; the registry and joiners). `ctx`
/// belongs to the caller and must stay valid while threads started with it may run. Returns
/// `RT_OK`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_set_thread_hooks(
    start: rt_hook_fn,
    exit: rt_hook_fn,
    ctx: *mut c_void,
) -> rt_status {
    // SAFETY: the caller's hooks and context, for the threads rthread starts from now on, as
    // documented above.
    unsafe { thread::set_thread_hooks(start, exit, ctx) };
    rt_status::RT_OK
}
