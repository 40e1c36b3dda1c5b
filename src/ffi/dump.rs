//! Thread dumps: `rt_dump_threads` and `rt_dump_on_signal`.
//!
//! The dump is written block by block, each block in a fixed buffer (`debug::Text`) and sent
//! with write(2): apart from two short lists (the thread objects and the debug records, taken
//! as snapshots), it allocates nothing.
//!
//! A signal does not write the dump itself: a handler may interrupt a thread that holds one of
//! rthread's internal locks (the registry's, a thread's name), which the dump needs, and it
//! may not allocate. The handler only writes the signal's number into a pipe (write(2) is
//! async-signal-safe; the pipe's write end is non-blocking, so the handler never waits), and
//! a dedicated dumper thread, started by the first `rt_dump_on_signal`, reads it and writes
//! the dump as `rt_dump_threads` does, taking the internal locks as any thread does.

use super::boundary;
use crate::debug::threads::{self as records, DebugThread};
use crate::debug::{self, Text, deadlock::describe_thread};
use crate::memory::Arc;
use crate::status::{Error, KeepErrno, Message, rt_status};
use crate::thread::{Thread, ThreadKind};
use std::ffi::c_int;
use std::fmt::Write;
use std::sync::atomic::{AtomicI32, Ordering};

const BAD_FD: Error = Error::new(rt_status::RT_EINVAL, "invalid file descriptor");
const BAD_SIGNAL: Error = Error::new(rt_status::RT_EINVAL, "invalid signal number");
const WRITE_FAILED: Error = Error::new(rt_status::RT_ESTATE, "could not write the dump");

/// Writes a thread dump to the file descriptor `fd`: every thread rthread knows (the main
/// thread, the threads it started, dummies of threads it did not start, and threads without a
/// thread object that have waited in rthread), one block per thread, in plain text.
///
/// The format is stable (new lines may be added to a block; existing lines keep their form):
///
/// ```text
/// === rthread thread dump: 3 threads ===
///
/// thread "MainThread" ident=0x7f2e4c1d7740 native_id=4242 daemon=no kind=main
///   state: blocked in rt_thread_join on thread "worker-a" (0x55d0c2a4b2a0) for 2.003 s, timeout none
///   holder: thread "worker-a"
///
/// thread "worker-a" ident=0x7f2e4b9ff6c0 native_id=4243 daemon=no kind=started
///   state: blocked in rt_lock_acquire on lock "accounts" (0x55d0c2a4b310) for 2.001 s, timeout 5.000 s
///   holder: thread "worker-b"
///   holds: lock "ledger" (0x55d0c2a4b350)
///
/// thread "worker-b" ident=0x7f2e4b1fe6c0 native_id=4244 daemon=yes kind=started
///   state: running
///
/// === end of thread dump ===
/// ```
///
/// - the first line of a block: `thread "NAME"` (or `thread #N` for a thread without a thread
///   object, N its rthread id), `ident=` (`rt_get_ident`, hex), `native_id=` (the kernel's),
///   `daemon=yes|no`, `kind=main|started|timer|dummy|foreign`;
/// - `state: running` (not blocked in rthread), or `state: blocked in CALL on KIND "NAME"
///   (ADDRESS) for SECONDS s, timeout SECONDS s|none`: the call (`rt_lock_acquire`,
///   `rt_queue_get`, ...), the object (its kind, its name if it has one, its handle's address),
///   how long it has waited (to a few milliseconds) and its timeout (`rt_wait` names the
///   first of its futures; `rt_as_completed_next` the iterator, with what is left of its
///   overall timeout);
/// - `holder:` the thread that holds the object: for a join, the thread joined; for a Lock or
///   an RLock, the recorded holder (`holder: none` when nobody holds it, `holder: not recorded`
///   when no mode that records holders is on: `RT_DEBUG_HOLDERS` or `RT_DEBUG_DEADLOCK`);
/// - `lock:` for a condition wait, the lock the wait must take back;
/// - `holds:` one line per lock the thread holds, when holders are recorded.
///
/// The dump is a snapshot of each thread taken one after the other, not of all at once.
/// Errors: `RT_EINVAL` for a negative `fd` ("invalid file descriptor"); `RT_ESTATE` when a
/// write fails ("could not write the dump"; what was written stays); `RT_ENOMEM`.
#[unsafe(no_mangle)]
pub extern "C" fn rt_dump_threads(fd: c_int) -> rt_status {
    let _errno = KeepErrno::new();
    boundary::run(|| dump(fd))
}

fn dump(fd: c_int) -> Result<(), Error> {
    if fd < 0 {
        return Err(BAD_FD);
    }
    let mut threads: Vec<Arc<Thread>> = Vec::new();
    let mut failed = false;
    crate::thread::enumerate_with(|t| {
        if threads.try_reserve(1).is_ok() {
            threads.push(t.clone());
        } else {
            failed = true;
        }
    })?;
    let mut recs: Vec<Arc<DebugThread>> = Vec::new();
    {
        let all = records::THREADS.lock();
        if recs.try_reserve(all.len()).is_err() {
            failed = true;
        } else {
            recs.extend(all.iter().filter(|r| !r.vanished()).cloned());
        }
    }
    if failed {
        return Err(Error::NO_MEMORY);
    }
    let foreign: Vec<&Arc<DebugThread>> = recs
        .iter()
        .filter(|r| !threads.iter().any(|t| t.record_id() == r.id))
        .collect();
    let now = records::coarse_now_ns();
    let mut t = Text::new();
    let _ = write!(
        t,
        "=== rthread thread dump: {} threads ===\n\n",
        threads.len() + foreign.len()
    );
    put(fd, &t)?;
    for th in &threads {
        let mut t = Text::new();
        let id = th.record_id();
        th.with_name(|n| {
            let _ = write!(t, "thread \"{n}\"");
        });
        let kind = match th.kind() {
            ThreadKind::Main => "main",
            ThreadKind::Normal => "started",
            ThreadKind::Timer => "timer",
            ThreadKind::Dummy => "dummy",
        };
        let _ = writeln!(
            t,
            " ident={:#x} native_id={} daemon={} kind={kind}",
            th.ident(),
            th.native_id(),
            if th.daemon() { "yes" } else { "no" },
        );
        let rec = recs.iter().find(|r| r.id == id && id != 0);
        state(&mut t, rec.map(|r| &**r), now);
        let _ = t.write_str("\n");
        put(fd, &t)?;
    }
    for r in foreign {
        let mut t = Text::new();
        let _ = writeln!(
            t,
            "thread #{} ident={:#x} native_id={} daemon=no kind=foreign",
            r.id,
            r.ident(),
            r.native_id()
        );
        state(&mut t, Some(r), now);
        let _ = t.write_str("\n");
        put(fd, &t)?;
    }
    let mut t = Text::new();
    let _ = t.write_str("=== end of thread dump ===\n");
    put(fd, &t)
}

fn put(fd: c_int, t: &Text) -> Result<(), Error> {
    if debug::write_fd(fd, t.as_bytes()) {
        Ok(())
    } else {
        Err(WRITE_FAILED)
    }
}

/// The `state:` line and the lines that follow it.
fn state(t: &mut Text, rec: Option<&DebugThread>, now: u64) {
    let Some(b) = rec.and_then(DebugThread::blocked) else {
        let _ = t.write_str("  state: running\n");
        holds(t, rec);
        return;
    };
    let _ = write!(t, "  state: blocked in {} on ", b.call);
    b.obj.describe(t);
    let waited = now.saturating_sub(b.since_ns) as f64 / 1e9;
    let _ = write!(t, " for {waited:.3} s, timeout ");
    match b.timeout {
        Some(s) => {
            let _ = writeln!(t, "{s:.3} s");
        }
        None => {
            let _ = t.write_str("none\n");
        }
    }
    if let Some(via) = b.via {
        let _ = t.write_str("  lock: ");
        via.describe(t);
        let _ = t.write_str("\n");
    }
    let recorded = debug::active() & debug::NEEDS_HELD != 0;
    if b.owner != 0 {
        let _ = t.write_str("  holder: ");
        describe_thread(b.owner, t);
        let _ = t.write_str("\n");
    } else if matches!(b.obj.kind, debug::Kind::Lock | debug::Kind::RLock) {
        if recorded {
            match records::holder_of(b.obj.addr) {
                0 => {
                    let _ = t.write_str("  holder: none\n");
                }
                h => {
                    let _ = t.write_str("  holder: ");
                    describe_thread(h, t);
                    let _ = t.write_str("\n");
                }
            }
        } else {
            let _ = t.write_str("  holder: not recorded\n");
        }
    }
    holds(t, rec);
}

fn holds(t: &mut Text, rec: Option<&DebugThread>) {
    if let Some(r) = rec {
        r.held(|o| {
            let _ = t.write_str("  holds: ");
            o.describe(t);
            let _ = t.write_str("\n");
        });
    }
}

// ---------------------------------------------------------------------------------------------
// On a signal.

/// Where each signal's dump goes (-1: none).
static TARGET: [AtomicI32; 65] = [const { AtomicI32::new(-1) }; 65];
/// The pipe's write end (-1 until the dumper runs).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// The process that started the dumper (a fork child has no dumper: it starts its own).
static DUMPER_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signum: c_int) {
    // errno kept around write(2), which is async-signal-safe.
    let _errno = KeepErrno::new();
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = signum as u8;
        // SAFETY: the byte is on the handler's stack.
        let _ = unsafe { libc::write(fd, (&b as *const u8).cast(), 1) };
    }
}

/// Starts the dumper thread and its pipe, once per process.
fn ensure_dumper() -> Result<(), Error> {
    static STARTING: crate::wait::LockCell<()> = crate::wait::LockCell::new(());
    let _g = STARTING.lock();
    // SAFETY: getpid cannot fail.
    let pid = unsafe { libc::getpid() };
    if DUMPER_PID.load(Ordering::Acquire) == pid {
        return Ok(());
    }
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is writable for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error {
            status: rt_status::RT_EAGAIN,
            message: Message::Os(
                "can't make the dump's pipe: ",
                std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            ),
        });
    }
    // The handler must never block: a full pipe drops the request (a dump is on its way).
    // SAFETY: a descriptor we own.
    unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK) };
    // A plain detached thread (no thread object, no allocation of rthread's); its argument is
    // the pipe's read end.
    let mut tid: libc::pthread_t = 0;
    // SAFETY: `dumper_main` has the signature pthread_create needs and never unwinds; the
    // argument is an integer carried in the pointer.
    let rc = unsafe {
        libc::pthread_create(
            &mut tid,
            std::ptr::null(),
            dumper_main,
            fds[0] as usize as *mut std::ffi::c_void,
        )
    };
    if rc != 0 {
        // SAFETY: descriptors we own and nobody else uses.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(Error {
            status: rt_status::RT_EAGAIN,
            message: Message::Os("can't start new thread: ", rc),
        });
    }
    // SAFETY: the thread just made; nobody joins it.
    unsafe { libc::pthread_detach(tid) };
    let old = PIPE_WRITE.swap(fds[1], Ordering::AcqRel);
    if old >= 0 {
        // The parent's pipe, in a fork child: its reader is gone.
        // SAFETY: a descriptor this module opened.
        unsafe { libc::close(old) };
    }
    DUMPER_PID.store(pid, Ordering::Release);
    Ok(())
}

extern "C" fn dumper_main(arg: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
    #[cfg(target_os = "linux")]
    // SAFETY: names the calling thread; the name is a NUL-terminated string under 16 bytes.
    unsafe {
        libc::pthread_setname_np(libc::pthread_self(), c"rthread-dump".as_ptr())
    };
    boundary::value((), || {
        dumper(arg as usize as c_int);
        Ok(())
    });
    std::ptr::null_mut()
}

fn dumper(read_end: c_int) {
    loop {
        let mut b = 0u8;
        // SAFETY: one writable byte.
        let n = unsafe { libc::read(read_end, (&mut b as *mut u8).cast(), 1) };
        if n == 1 {
            let fd = TARGET
                .get(b as usize)
                .map_or(-1, |t| t.load(Ordering::Acquire));
            if fd >= 0 {
                let _ = boundary::run(|| dump(fd));
            }
        } else if n == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// Makes the signal `signum` write a thread dump (as `rt_dump_threads`) to the file descriptor
/// `fd`, as Java does on SIGQUIT and Python's `faulthandler.register`: for example
/// `rt_dump_on_signal(SIGQUIT, 2)`, then `kill -QUIT <pid>`. A negative `fd` gives the signal
/// back its default action. Calling it again for the same signal changes the descriptor; the
/// signal's previous handler is replaced (not chained).
///
/// The handler is async-signal-safe and safe whatever the threads are doing inside rthread: it
/// only writes the signal's number into a pipe (never blocking), and a thread of rthread's,
/// started by the first call ("rthread-dump", not a thread object, not in dumps), writes the
/// dump. So the dump appears shortly after the signal, not inside the handler; signals that
/// come while a dump is being written may be merged. A fork child has no dumper thread until it
/// calls `rt_dump_on_signal` itself.
///
/// Errors: `RT_EINVAL` for a signal number that cannot be caught or is out of range ("invalid
/// signal number"); `RT_EAGAIN` when the pipe ("can't make the dump's pipe: ...") or the
/// thread ("can't start new thread: ...") cannot be made; nothing changed then.
#[unsafe(no_mangle)]
pub extern "C" fn rt_dump_on_signal(signum: c_int, fd: c_int) -> rt_status {
    let _errno = KeepErrno::new();
    boundary::run(|| {
        if signum <= 0
            || signum as usize >= TARGET.len()
            || signum == libc::SIGKILL
            || signum == libc::SIGSTOP
        {
            return Err(BAD_SIGNAL);
        }
        // SAFETY: a zeroed sigaction is a valid value to fill in.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        if fd < 0 {
            TARGET[signum as usize].store(-1, Ordering::Release);
            act.sa_sigaction = libc::SIG_DFL;
        } else {
            ensure_dumper()?;
            TARGET[signum as usize].store(fd, Ordering::Release);
            act.sa_sigaction = on_signal as extern "C" fn(c_int) as usize;
            act.sa_flags = libc::SA_RESTART;
        }
        // SAFETY: `act` is initialised; sigemptyset and sigaction take valid pointers.
        let rc = unsafe {
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(signum, &act, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(BAD_SIGNAL);
        }
        Ok(())
    })
}
