//! `threading.Thread`: reference-counted thread objects.
//!
//! A [`Thread`] lives in an `Arc`. The user holds references; the running thread holds one from
//! `start` until it has stopped (so releasing the user's last reference never stops it); the
//! registry holds one while the thread is starting or alive.
//!
//! The state word:
//!
//! | bits    | meaning                                                                    |
//! |---------|----------------------------------------------------------------------------|
//! | 0-1     | phase: INITIAL (made, not started), STARTING (`start` is creating it), ALIVE (running), STOPPED (ended) |
//! | WAITERS | threads are parked on the word: joiners, or the starter waiting for ALIVE  |
//! | DAEMON  | the daemon flag, settable only while INITIAL (one compare-exchange, so it cannot race `start`) |
//!
//! Phases only move forward (INITIAL → STARTING → ALIVE → STOPPED), except that a failed start
//! goes back from STARTING to INITIAL (Python lets such a thread be started again; it leaves no
//! registry entry, bpo-7481). Each move clears WAITERS and, if it was set, wakes every thread
//! parked on the word, which re-checks. A joiner sets WAITERS before it parks and parks only if
//! the word is still exactly what it saw (checked under the bucket lock), so no wake-up is lost.
//!
//! The life of a started thread, in the new thread: record ident and native id; ALIVE (wakes the
//! starter: `start` returns only now); give the OS its name; the start hook; the function (or the
//! timer's wait, then the function); the thread-local destructors; the exit hook; leave the
//! registry; leave `rt_thread_count`; STOPPED (wakes joiners). So `is_alive` is true from just
//! before the function runs until just after everything that belongs to the thread has run, and
//! a joined thread is neither in `enumerate` (bpo-1703448, bpo-18808) nor counted. Everything
//! after the function is the thread's *end*, which runs however the thread ends: a return,
//! `rt_exit_thread`, or `pthread_exit` anywhere in the function or the hooks (see `spawn`).
//!
//! Names: `Thread-N` (shared counter with `Dummy-N`, from 1), `MainThread`, or a name set with
//! [`Thread::set_name`], guarded by a small lock. The OS gets the name (truncated to 15 bytes at
//! a character boundary, the Linux limit) from the thread itself when it starts, and from
//! `set_name` while the thread runs; the thread marks its OS name gone under the same lock
//! before it stops, so `set_name` never renames a thread that has exited.

mod attachment;
pub(crate) mod lifecycle;
mod name;

pub use attachment::{Attachment, AttachmentMaker, set_attachment_maker};

pub use name::name_buffer_too_small;
use name::{Guarded, Name, OsName, next_name_number, set_os_name};

use super::exit::{ThreadFn, call_thread_fn};
use super::os;
use super::thread_hooks::{self, Hooks};
use super::timer::TimerState;
use crate::memory::{Arc, try_boxed_str};
use crate::status::{Error, Message, rt_status};
use crate::time::{Wait, timeout_wait};
use crate::wait::SpinWait;
use crate::wait::{self, Block, LockCell, ParkResult, RecordRef, Tidy};
use std::ffi::c_void;
use std::fmt::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

const PHASE: u32 = 0b11;
const INITIAL: u32 = 0;
const STARTING: u32 = 1;
const ALIVE: u32 = 2;
const STOPPED: u32 = 3;
const WAITERS: u32 = 4;
const DAEMON: u32 = 8;

/// What a thread object stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadKind {
    /// `threading.Thread`: made by [`Thread::new`].
    Normal,
    /// `threading.Timer`: made by [`Thread::new_timer`].
    Timer,
    /// The process's initial thread (`threading.main_thread()`).
    Main,
    /// A thread rthread did not start (`threading._DummyThread`).
    Dummy,
}

pub(super) const STARTED_TWICE: Error =
    Error::new(rt_status::RT_ESTATE, "threads can only be started once");
const JOIN_BEFORE_START: Error = Error::new(
    rt_status::RT_ESTATE,
    "cannot join thread before it is started",
);
const JOIN_SELF: Error = Error::new(rt_status::RT_EDEADLK, "cannot join current thread");
const JOIN_DUMMY: Error = Error::new(rt_status::RT_ESTATE, "cannot join a dummy thread");
const DAEMON_AFTER_START: Error = Error::new(
    rt_status::RT_ESTATE,
    "cannot set daemon status of active thread",
);

struct SendPtr(*mut c_void);

/// A thread object (`threading.Thread`, also Timer, the main thread and dummies).
pub struct Thread {
    state: AtomicU32,
    /// A `ThreadKind`; it changes once at most: a dummy that forks becomes its child's main
    /// thread.
    kind: AtomicU8,
    /// Set while the thread waits in `shutdown` (or at exit): another thread that waits there
    /// too does not wait for it (they would wait for each other).
    pub(super) in_shutdown: AtomicBool,
    ident: AtomicU64,
    native_id: AtomicU64,
    function: Option<ThreadFn>,
    arg: SendPtr,
    timer: Option<TimerState>,
    /// The name, and the hooks the thread runs (written by `start` before the thread exists,
    /// read by it), behind the object's one lock.
    guarded: LockCell<Guarded>,
    /// The thread's index in the registry, `usize::MAX` when not in it; changed only under the
    /// registry lock.
    pub(super) registry_index: AtomicUsize,
    /// The thread's record in the waiting core, for `interrupt`: made by the first `start`
    /// (before the thread exists; the thread installs it), or the main or dummy thread's own
    /// when their object is made; never changed afterwards.
    record: OnceLock<RecordRef>,
    /// The OS thread (`pthread_t`), created joinable, until it is joined or detached (0: none
    /// or done). Whoever swaps it to 0 does one or the other: the first `join` that sees the
    /// thread ended joins it, so that it has exited completely when that join returns (the
    /// memory the C library keeps for a running thread is gone before the program's exit, and
    /// valgrind sees nothing left); the last reference detaches it otherwise.
    os_thread: AtomicU64,
    /// What the layer above keeps with the object (the C face: its handle); see `attachment`.
    attached: OnceLock<Attachment>,
}

// SAFETY: `arg` is the user's pointer for the thread function, which rt_thread_new documents as handed to the
// new thread. Everything else is atomic or immutable.
unsafe impl Sync for Thread {}
// SAFETY: as above.
unsafe impl Send for Thread {}

impl Drop for Thread {
    fn drop(&mut self) {
        let tid = self.os_thread.swap(0, Ordering::AcqRel);
        if tid != 0 {
            // SAFETY: a joinable thread that nobody joined or detached (see `os_thread`); it may
            // still be ending, or be the calling thread itself.
            unsafe { libc::pthread_detach(tid as libc::pthread_t) };
        }
    }
}

/// Whether thread objects' OS threads are created joinable (and joined by `join`).
const JOINABLE: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

impl Thread {
    fn make(
        kind: ThreadKind,
        phase_and_flags: u32,
        name: Name,
        os: OsName,
        function: Option<ThreadFn>,
        arg: *mut c_void,
        timer: Option<TimerState>,
    ) -> Thread {
        Thread {
            state: AtomicU32::new(phase_and_flags),
            kind: AtomicU8::new(kind as u8),
            in_shutdown: AtomicBool::new(false),
            ident: AtomicU64::new(0),
            native_id: AtomicU64::new(0),
            function,
            arg: SendPtr(arg),
            timer,
            guarded: LockCell::new(Guarded {
                name,
                os,
                hooks: Hooks::NONE,
                debug: None,
            }),
            registry_index: AtomicUsize::new(usize::MAX),
            record: OnceLock::new(),
            os_thread: AtomicU64::new(0),
            attached: OnceLock::new(),
        }
    }

    /// Remembers the calling thread's waiting-core record as this object's.
    /// Without memory for a record, the object has none (yet): it cannot be interrupted.
    pub(super) fn adopt_current_record(&self) {
        if let Ok(r) = wait::current_record() {
            let _ = self.record.set(r);
        }
    }

    /// Remembers `r` as the record of this object's thread (the main thread, seen at load).
    pub(super) fn adopt_record(&self, r: RecordRef) {
        let _ = self.record.set(r);
    }

    /// Ends the thread's current interruptible wait with `RT_EINTR`, or its next one if it is
    /// not waiting (one interrupt ends one wait). Async-signal-safe on Linux: it reads the
    /// object and makes one atomic operation and one system call. A finished thread is left
    /// alone. `RT_ESTATE` for a thread not started yet (or a main thread rthread has not seen).
    pub fn interrupt(&self) -> Result<(), Error> {
        match self.record.get() {
            Some(_) if self.phase() == INITIAL => Err(wait::interrupt::NOT_RUNNING),
            Some(r) => {
                if self.phase() != STOPPED {
                    r.interrupt();
                }
                Ok(())
            }
            None => Err(wait::interrupt::NOT_RUNNING),
        }
    }

    /// The main thread's object: alive, not a daemon, "MainThread". `ident` may be 0 if not
    /// known yet (see `registry::main_thread`).
    pub(super) fn new_main(ident: u64, native_id: u64) -> Thread {
        let t = Thread::make(
            ThreadKind::Main,
            ALIVE,
            Name::Static("MainThread"),
            if ident != 0 {
                OsName::Live
            } else {
                OsName::Pending
            },
            None,
            std::ptr::null_mut(),
            None,
        );
        t.ident.store(ident, Ordering::Relaxed);
        t.native_id.store(native_id, Ordering::Relaxed);
        t
    }

    /// A dummy for the calling thread, which rthread did not start: alive, a daemon, `Dummy-N`;
    /// `record` is the thread's own.
    pub(super) fn new_dummy(record: RecordRef) -> Thread {
        let t = Thread::make(
            ThreadKind::Dummy,
            ALIVE | DAEMON,
            Name::Numbered("Dummy-", next_name_number()),
            OsName::Live,
            None,
            std::ptr::null_mut(),
            None,
        );
        t.ident.store(os::get_ident(), Ordering::Relaxed);
        t.native_id.store(os::get_native_id(), Ordering::Relaxed);
        t.adopt_record(record);
        t
    }

    /// The main thread, in the main thread, learns its identity (when the registry was first
    /// used from another thread).
    pub(super) fn adopt_main(&self) {
        if self.ident.load(Ordering::Relaxed) != 0 {
            return;
        }
        self.ident.store(os::get_ident(), Ordering::Relaxed);
        self.native_id.store(os::get_native_id(), Ordering::Relaxed);
        self.adopt_current_record();
        let mut ns = self.guarded.lock();
        if ns.os == OsName::Pending {
            // Renamed before rthread knew the main thread: now the OS hears of it. The default
            // name is not pushed: the main thread's OS name is the program's.
            if !matches!(ns.name, Name::Static(_)) {
                set_os_name(os::get_ident(), &ns.name);
            }
            ns.os = OsName::Live;
        }
    }

    pub fn kind(&self) -> ThreadKind {
        match self.kind.load(Ordering::Relaxed) {
            k if k == ThreadKind::Normal as u8 => ThreadKind::Normal,
            k if k == ThreadKind::Timer as u8 => ThreadKind::Timer,
            k if k == ThreadKind::Main as u8 => ThreadKind::Main,
            _ => ThreadKind::Dummy,
        }
    }

    fn key(&self) -> usize {
        &self.state as *const AtomicU32 as usize
    }

    fn phase(&self) -> u32 {
        self.state.load(Ordering::Acquire) & PHASE
    }

    /// `is_alive()`: true from just before the function runs until just after the thread ended.
    /// A dummy is alive while its thread runs, the main thread until it ends (at `exit()` or
    /// `pthread_exit`).
    pub fn is_alive(&self) -> bool {
        self.phase() == ALIVE
    }

    /// Started (or being started) and not ended: what the registry lists and exit waits for.
    pub(super) fn is_started_and_running(&self) -> bool {
        matches!(self.phase(), STARTING | ALIVE)
    }

    /// The `daemon` flag.
    pub fn daemon(&self) -> bool {
        self.state.load(Ordering::Relaxed) & DAEMON != 0
    }

    /// Sets the `daemon` flag; only before `start` (`RT_ESTATE` "cannot set daemon status of
    /// active thread" afterwards, and always for the main thread and dummies).
    pub fn set_daemon(&self, daemon: bool) -> Result<(), Error> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & PHASE != INITIAL {
                return Err(DAEMON_AFTER_START);
            }
            let new = if daemon { s | DAEMON } else { s & !DAEMON };
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(now) => s = now,
            }
        }
    }

    /// `ident`: the thread's `pthread_t` (`rt_get_ident` inside it); 0 before start, kept after
    /// the thread ended.
    pub fn ident(&self) -> u64 {
        self.ident.load(Ordering::Acquire)
    }

    /// The id of the thread's record in the waiting core (`wait::current_id()` inside the
    /// thread), which debug records and reports use; 0 while it has none.
    pub fn record_id(&self) -> u64 {
        self.record.get().map_or(0, |r| r.id())
    }

    /// `native_id`: the kernel's thread id; 0 before start, kept after the thread ended.
    pub fn native_id(&self) -> u64 {
        self.native_id.load(Ordering::Acquire)
    }

    /// Moves the phase, keeping DAEMON, and wakes every thread parked on the word.
    fn set_phase(&self, phase: u32) {
        let prev = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |s| {
                Some((s & DAEMON) | phase)
            })
            .unwrap_or_else(|s| s);
        if prev & WAITERS != 0 {
            wait::unpark_all(self.key(), 0);
        }
    }

    /// Parks until the word changes from `seen` (which must have WAITERS set), or the deadline.
    fn park_on(
        &self,
        seen: u32,
        deadline: Option<crate::time::Deadline>,
        interruptible: bool,
    ) -> ParkResult {
        let block = Block {
            interruptible,
            ..Block::until(deadline)
        };
        self.park_with(seen, block)
    }

    /// Parks on the state word while it holds `seen` (WAITERS set), as `block` says.
    pub(super) fn park_with(&self, seen: u32, block: Block) -> ParkResult {
        wait::park(&self.state, seen, Tidy::Clear(WAITERS), block)
    }

    /// Sets WAITERS in the word if `s` lacks it; the word as it is now, with WAITERS, or `None`
    /// if it changed meanwhile.
    fn announce_waiter(&self, s: u32) -> Option<u32> {
        if s & WAITERS != 0 {
            return Some(s);
        }
        self.state
            .compare_exchange_weak(s, s | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
            .ok()
            .map(|_| s | WAITERS)
    }

    /// STOPPED, which wakes the joiners (the last part of a thread's end).
    pub(super) fn stop(&self) {
        if self.phase() != STOPPED {
            self.set_phase(STOPPED);
        }
    }

    /// `threading._shutdown()` in the main thread: the main thread counts as done from now on
    /// (its joiners return), though it stays listed, as CPython keeps it in `_active`.
    pub(super) fn mark_done(&self) {
        // It goes on running: a joiner must not wait for its OS thread (a fork child's main
        // thread may be a thread object's), which is detached instead.
        self.detach_os_thread();
        if self.phase() != STOPPED {
            self.set_phase(STOPPED);
        }
    }

    /// In a fork child: the object's thread did not survive the fork. It is stopped (nobody
    /// waits on it in the child) and its locks are forced open.
    pub(super) fn vanish_after_fork(&self) {
        // SAFETY: in the fork child, which has one thread, the caller, with no guard alive.
        unsafe { self.guarded.reset_in_child() }.os = OsName::Gone;
        // Its OS thread is not in the child: nothing to join or detach.
        self.os_thread.store(0, Ordering::Relaxed);
        let daemon = self.state.load(Ordering::Relaxed) & DAEMON;
        self.state.store(daemon | STOPPED, Ordering::Relaxed);
    }

    /// In a fork child: the object's thread is the one that survived; its name lock is forced
    /// open (another thread may have held it at the fork). It is the child's main thread: a
    /// dummy becomes "MainThread", not a daemon, as CPython's `_after_fork` turns a
    /// `_DummyThread` into a `_MainThread`.
    pub(super) fn survive_fork(&self) {
        // SAFETY: in the fork child, which has one thread, the caller, with no guard alive.
        let ns = unsafe { self.guarded.reset_in_child() };
        if self.kind() == ThreadKind::Dummy {
            self.kind.store(ThreadKind::Main as u8, Ordering::Relaxed);
            self.state.fetch_and(!DAEMON, Ordering::Relaxed);
            ns.name = Name::Static("MainThread");
        }
    }

    /// The thread is in `exit()`, where it counts as ended but goes on running: its joiners
    /// must not wait for its OS thread, which is detached instead.
    pub(super) fn detach_os_thread(&self) {
        let tid = self.os_thread.swap(0, Ordering::AcqRel);
        if tid != 0 {
            // SAFETY: a joinable thread that nobody joined or detached (we swapped it out).
            unsafe { libc::pthread_detach(tid as libc::pthread_t) };
        }
    }

    /// After the thread ended: joins its OS thread, if no one did, within the join's time (the
    /// thread is in its last steps: its pthread key destructors, then the C library's exit). If
    /// the time runs out first, the thread is detached instead.
    pub(super) fn join_os_thread(&self, wait: Wait) {
        let tid = self.os_thread.swap(0, Ordering::AcqRel) as libc::pthread_t;
        if tid == 0 {
            return;
        }
        let rc = match wait {
            // SAFETY: a joinable thread that nobody else joins or detaches (we swapped it out).
            Wait::Forever => unsafe { libc::pthread_join(tid, std::ptr::null_mut()) },
            Wait::Try => libc::ETIMEDOUT,
            Wait::Until(d) => {
                // The C library's clock for pthread_timedjoin_np: CLOCK_REALTIME.
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let ns = u64::from(now.subsec_nanos()) + (d.remaining_secs().max(0.0) * 1e9) as u64;
                let until = libc::timespec {
                    tv_sec: now.as_secs() as libc::time_t + (ns / 1_000_000_000) as libc::time_t,
                    tv_nsec: (ns % 1_000_000_000) as _,
                };
                #[cfg(all(target_os = "linux", target_env = "gnu"))]
                // SAFETY: as above; `until` is a valid absolute time.
                let rc = unsafe { libc::pthread_timedjoin_np(tid, std::ptr::null_mut(), &until) };
                #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
                let rc = {
                    let _ = until;
                    libc::ETIMEDOUT
                };
                rc
            }
        };
        if rc != 0 {
            // SAFETY: still ours (not joined): detached, it frees itself when it ends.
            unsafe { libc::pthread_detach(tid) };
        }
    }

    /// The wait of `join`, without its checks.
    pub(super) fn join_until(&self, wait: Wait, interruptible: bool) -> Result<(), Error> {
        let deadline = wait.deadline();
        loop {
            let s = self.state.load(Ordering::Acquire);
            match s & PHASE {
                STOPPED => return Ok(()),
                INITIAL => return Err(JOIN_BEFORE_START),
                _ => {}
            }
            if wait.expired() {
                return Err(Error::TIMEOUT);
            }
            let Some(seen) = self.announce_waiter(s) else {
                continue;
            };
            match self.park_on(seen, deadline, interruptible) {
                ParkResult::TimedOut => {
                    if self.phase() == STOPPED {
                        return Ok(());
                    }
                    return Err(Error::TIMEOUT);
                }
                ParkResult::Interrupted => return Err(Error::INTERRUPTED),
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
            }
        }
    }

    /// `Timer.cancel()`: stops a timer that has not fired yet (before or after start); harmless
    /// afterwards. `None` if the thread is not a timer.
    pub fn cancel(&self) -> Option<()> {
        self.timer.as_ref().map(TimerState::cancel)
    }
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = match self.phase() {
            INITIAL => "initial",
            STARTING | ALIVE => "started",
            _ => "stopped",
        };
        self.with_name(|n| write!(f, "<Thread({n}, {phase}"))?;
        if self.daemon() {
            f.write_str(" daemon")?;
        }
        if self.ident() != 0 {
            write!(f, " {}", self.ident())?;
        }
        f.write_str(")>")
    }
}

#[cfg(test)]
mod tests {
    use super::name::os_name;
    use super::*;
    use std::sync::atomic::AtomicUsize;

    unsafe extern "C-unwind" fn bump(arg: *mut c_void) {
        // SAFETY: the tests pass a pointer to a live AtomicUsize.
        let n = unsafe { &*(arg as *const AtomicUsize) };
        n.fetch_add(1, Ordering::SeqCst);
    }

    fn counting_thread(n: &AtomicUsize) -> Arc<Thread> {
        // SAFETY: `bump` only increments the counter, which outlives the thread (the tests join).
        unsafe { Thread::new(Some(bump), n as *const AtomicUsize as *mut c_void) }.unwrap()
    }

    #[test]
    fn start_join_and_state() {
        let n = AtomicUsize::new(0);
        let t = counting_thread(&n);
        assert!(!t.is_alive());
        assert_eq!(t.ident(), 0);
        assert_eq!(t.join(-1.0), Err(JOIN_BEFORE_START));
        // Test threads are not rthread's: like dummies, they make daemons.
        assert!(t.daemon());
        t.set_daemon(false).unwrap();
        t.start().unwrap();
        assert_ne!(t.ident(), 0);
        assert_eq!(t.start(), Err(STARTED_TWICE));
        assert_eq!(t.set_daemon(true), Err(DAEMON_AFTER_START));
        t.join(-1.0).unwrap();
        t.join(0.0).unwrap();
        assert!(!t.is_alive());
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(format!("{t:?}").contains("stopped"));
    }

    #[test]
    fn names_are_numbered_then_settable() {
        // SAFETY: no function: nothing runs.
        let t = unsafe { Thread::new(None, std::ptr::null_mut()) }.unwrap();
        assert!(t.name().starts_with("Thread-"));
        t.set_name("worker").unwrap();
        assert_eq!(t.name(), "worker");
        assert_eq!(t.with_name(str::len), 6);
    }

    #[test]
    fn os_names_are_cut_at_a_character_boundary() {
        assert_eq!(&os_name("short")[..6], b"short\0");
        let cut = os_name("aaaaaaaaaaaaaa\u{e9}b"); // 14 bytes, then a 2-byte letter
        assert_eq!(&cut[..15], b"aaaaaaaaaaaaaa\0");
        assert_eq!(cut[15], 0);
    }

    #[test]
    fn timers_fire_or_cancel() {
        let n = AtomicUsize::new(0);
        let arg = &n as *const AtomicUsize as *mut c_void;
        // SAFETY: as in counting_thread.
        let fires = unsafe { Thread::new_timer(0.0, Some(bump), arg) }.unwrap();
        // SAFETY: as in counting_thread.
        let cancelled = unsafe { Thread::new_timer(60.0, Some(bump), arg) }.unwrap();
        fires.start().unwrap();
        cancelled.start().unwrap();
        cancelled.cancel().unwrap();
        fires.join(-1.0).unwrap();
        cancelled.join(10.0).unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(counting_thread(&n).cancel().is_none());
    }
}
