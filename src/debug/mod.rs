//! Seeing inside a threaded program: the debug modes, object names, what each thread is blocked
//! on, who holds what, deadlock detection, and where reports go.
//!
//! - [`ACTIVE`]: one word of flags. Every fast path of Lock and RLock (the C face's) loads it
//!   once, relaxed, and goes on as if nothing were there when it is 0: with nothing switched
//!   on, that load is the whole cost. When it is not 0 the fast path calls one `#[cold]`
//!   dispatcher ([`acquired`], [`releasing`]), which looks at the bits.
//! - [`set_flags`] (`rt_set_debug`) sets the user's bits; `RTHREAD_DEBUG` sets them at load
//!   ([`init_from_env`]).
//! - [`report`]: the one sink of every report (deadlocks, lock-order inversions): the user's hook
//!   if one is set, stderr otherwise. The hook is never called with an internal lock held.
//! - [`names`]: object names, in a side table (an object without a name costs nothing).
//! - [`threads`]: per-thread debug records: what the thread is blocked on (set on slow paths
//!   only, before a real wait, cleared after) and which locks it holds (kept only while a mode
//!   that needs holders is on).
//! - [`waiting`]: a wait in progress (the blocked-on record, the deadlock check);
//! - [`deadlock`]: the waits-for walk.
//! - [`annotate`]: telling race detectors (ThreadSanitizer, helgrind, DRD) about rthread's
//!   hand-offs; its bits ([`ANNOTATE_TSAN`], [`ANNOTATE_VALGRIND`]) are set at load when such a
//!   tool runs the process.
//!
//! An object is identified, in every report, by its C handle's address (what the user's
//! program holds and a debugger shows), its [`Kind`], and its name if it has one:
//! `lock "accounts" (0x55d0c2a4b2a0)`.

pub mod annotate;
pub mod contention;
pub mod deadlock;
pub mod lock_order;
pub mod names;
pub mod threads;
pub mod waiting;

use crate::status::{Error, rt_status};
use std::ffi::{c_char, c_void};
use std::fmt::Write;
use std::sync::atomic::{AtomicU32, Ordering};

/// `RT_DEBUG_DEADLOCK`: a blocking call that would close a waits-for cycle returns
/// `RT_EDEADLK`, and the cycle is reported. Implies [`HOLDERS`].
pub const DEADLOCK: u32 = 1;
/// `RT_DEBUG_LOCK_ORDER`: inverted lock orders are reported (lockdep-style).
pub const LOCK_ORDER: u32 = 2;
/// `RT_DEBUG_CONTENTION`: per-object contention counts and the contention hook.
pub const CONTENTION: u32 = 4;
/// `RT_DEBUG_HOLDERS`: record which thread holds each Lock and RLock, so that dumps name it.
pub const HOLDERS: u32 = 8;
/// The bits `rt_set_debug` accepts.
pub const USER_FLAGS: u32 = DEADLOCK | LOCK_ORDER | CONTENTION | HOLDERS;
/// Reserved for the sanitizer annotations (ThreadSanitizer), set by `annotate`, never by users.
pub const ANNOTATE_TSAN: u32 = 1 << 8;
/// Reserved for the sanitizer annotations (valgrind's helgrind/DRD), set by `annotate`.
pub const ANNOTATE_VALGRIND: u32 = 1 << 9;
/// Modes that need the per-thread held-lock lists.
pub const NEEDS_HELD: u32 = DEADLOCK | HOLDERS | LOCK_ORDER;

/// Modes the C fast paths serve without leaving them: with no other bit on, an uncontended
/// acquisition still takes the lock with its one compare-exchange and then calls
/// [`acquired_fast`] (a lock taken without waiting closes no cycle, so deadlock detection has
/// nothing to check there: only the held lists are kept). A release stays the fast release
/// unless a mode needs the held lists ([`NEEDS_HELD`]): then it goes to the slow path, which
/// calls [`releasing`]. The sanitizer bits send both to the slow paths.
pub const FAST_PATH_MODES: u32 = USER_FLAGS;

/// The flags word: 0 when nothing is switched on. Read with one relaxed load on fast paths.
pub static ACTIVE: AtomicU32 = AtomicU32::new(0);

/// The flags now (one relaxed load).
#[inline(always)]
pub fn active() -> u32 {
    ACTIVE.load(Ordering::Relaxed)
}

/// What an object is, as reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Lock = 1,
    RLock,
    Condition,
    Semaphore,
    Event,
    Barrier,
    Thread,
    Queue,
    Local,
    Future,
    Executor,
    AsCompleted,
}

impl Kind {
    /// The word reports use: "lock", "rlock", "condition", ...
    pub fn word(self) -> &'static str {
        match self {
            Kind::Lock => "lock",
            Kind::RLock => "rlock",
            Kind::Condition => "condition",
            Kind::Semaphore => "semaphore",
            Kind::Event => "event",
            Kind::Barrier => "barrier",
            Kind::Thread => "thread",
            Kind::Queue => "queue",
            Kind::Local => "local",
            Kind::Future => "future",
            Kind::Executor => "executor",
            Kind::AsCompleted => "as_completed",
        }
    }

    pub(crate) fn from_u8(v: u8) -> Option<Kind> {
        const ALL: [Kind; 12] = [
            Kind::Lock,
            Kind::RLock,
            Kind::Condition,
            Kind::Semaphore,
            Kind::Event,
            Kind::Barrier,
            Kind::Thread,
            Kind::Queue,
            Kind::Local,
            Kind::Future,
            Kind::Executor,
            Kind::AsCompleted,
        ];
        ALL.iter().copied().find(|k| *k as u8 == v)
    }
}

/// An object as the debug layer sees it: its C handle's address and its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object {
    pub addr: usize,
    pub kind: Kind,
}

impl Object {
    pub fn new<C>(handle: *const C, kind: Kind) -> Object {
        Object {
            addr: handle as usize,
            kind,
        }
    }

    /// Writes `kind "name" (0xaddr)`, or `kind (0xaddr)` without a name.
    pub fn describe(self, out: &mut Text) {
        self.describe_short(out);
        let _ = write!(out, " ({:#x})", self.addr);
    }

    /// Writes `kind "name"`, or `kind` without a name. A thread's name is its own (looked up
    /// among the live thread objects, never read through the handle).
    pub fn describe_short(self, out: &mut Text) {
        let _ = out.write_str(self.kind.word());
        if self.kind == Kind::Thread {
            deadlock::name_thread_object(self.addr, out);
            return;
        }
        names::with_name(self.addr, |n| {
            if let Some(n) = n {
                let _ = write!(out, " \"{n}\"");
            }
        });
    }
}

/// The fast paths' dispatcher: the calling thread has just acquired `obj` (a Lock, or an RLock
/// at its first level). Called only when [`ACTIVE`] is not 0.
#[cold]
#[inline(never)]
pub fn acquired(obj: Object) {
    let flags = active();
    if flags & CONTENTION != 0 {
        contention::acquired(obj);
    }
    if flags & NEEDS_HELD != 0 {
        threads::push_held(obj);
    }
    if flags & LOCK_ORDER != 0 {
        lock_order::acquired(obj);
    }
}

/// The fast paths' dispatcher when only [`FAST_PATH_MODES`] are on (and some are): the calling
/// thread has just acquired `obj` on a fast path, without waiting. What [`acquired`] does, with
/// the flags the caller already read: no second load, and each mode's work without a second
/// call.
///
/// Inlined into the fast paths: one mode alone, the contention count or the held list's push,
/// is a test and a call of a leaf function (no frame between it and the fast path); several
/// modes, or lock-order checking, go through [`acquired_modes`].
#[inline(always)]
pub fn acquired_fast(obj: Object, flags: u32) {
    if flags & !CONTENTION == 0 {
        contention::acquired(obj);
    } else if flags & !(DEADLOCK | HOLDERS) == 0 {
        threads::push_held(obj);
    } else {
        acquired_modes(obj, flags);
    }
}

/// [`acquired_fast`] with several modes, or lock-order checking, on.
#[cold]
#[inline(never)]
fn acquired_modes(obj: Object, flags: u32) {
    if flags & CONTENTION != 0 {
        contention::acquired(obj);
    }
    if flags & NEEDS_HELD != 0 {
        threads::push_held(obj);
    }
    if flags & LOCK_ORDER != 0 {
        lock_order::acquired(obj);
    }
}

/// The fast paths' dispatcher: the calling thread is about to release `obj` (a Lock, or an
/// RLock's last level). Called only when [`ACTIVE`] is not 0, before the release itself (so
/// that the records never name a holder that has let go... for longer than the call).
#[cold]
#[inline(never)]
pub fn releasing(obj: Object) {
    releasing_fast(obj, active());
}

/// [`releasing`] with the flags the caller already read, inlined into the C fast paths' own
/// out-of-line release (one call fewer on every release while held lists are kept).
#[inline]
pub fn releasing_fast(obj: Object, flags: u32) {
    if flags & NEEDS_HELD != 0 {
        threads::pop_held(obj);
    }
    if flags & LOCK_ORDER != 0 {
        lock_order::releasing(obj);
    }
}

/// A contended wait on `obj` ended after `waited_ns` nanoseconds (`acquired`: whether the
/// object was acquired). Called from [`waiting::Waiting`]'s end when [`CONTENTION`] was on
/// at its start.
#[cold]
#[inline(never)]
pub fn contended(obj: Object, waited_ns: u64, acquired: bool) {
    contention::contended(obj, waited_ns, acquired);
}

/// The object at `addr` is being freed: the lock-order graph and the contention profile forget
/// it (a new object at the same address starts afresh). Cheap when neither was ever used.
pub fn freed(addr: usize) {
    lock_order::forget(addr);
    contention::forget(addr);
}

/// Sets the user's debug flags (`rt_set_debug`): `RT_EINVAL` for unknown bits.
pub fn set_flags(flags: u32) -> Result<(), Error> {
    if flags & !USER_FLAGS != 0 {
        return Err(Error::new(rt_status::RT_EINVAL, "unknown debug flags"));
    }
    let before = ACTIVE
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |w| {
            Some((w & !USER_FLAGS) | flags)
        })
        .unwrap_or(0);
    if before & NEEDS_HELD != 0 && flags & NEEDS_HELD == 0 {
        // Releases are no longer recorded: forget the held lists, which would go stale.
        threads::forget_held();
    }
    if before & LOCK_ORDER != 0 && flags & LOCK_ORDER == 0 {
        // The same for the lock-order graph: its holds would go stale.
        lock_order::clear();
    }
    Ok(())
}

/// The user's flags now.
pub fn flags() -> u32 {
    active() & USER_FLAGS
}

/// Parses `RTHREAD_DEBUG`'s value: comma- (or space-) separated words `deadlock`, `lockorder`,
/// `contention`, `holders`, `all`. Returns the flags, and reports each unknown word through
/// `unknown`.
pub fn parse_words(text: &str, mut unknown: impl FnMut(&str)) -> u32 {
    let mut flags = 0;
    for word in text.split([',', ' ', ';']).filter(|w| !w.is_empty()) {
        flags |= match word.to_ascii_lowercase().as_str() {
            "deadlock" => DEADLOCK,
            "lockorder" | "lock_order" | "lock-order" => LOCK_ORDER,
            "contention" => CONTENTION,
            "holders" => HOLDERS,
            "all" => USER_FLAGS,
            _ => {
                unknown(word);
                0
            }
        };
    }
    flags
}

/// Reads `RTHREAD_DEBUG` and switches its modes on; unknown words are reported on stderr
/// (they are not fatal). Run once at load (by the C face).
pub fn init_from_env() {
    // SAFETY: getenv with a NUL-terminated name; the result is read at once (at load, before
    // the program can change the environment from another thread).
    let p = unsafe { libc::getenv(c"RTHREAD_DEBUG".as_ptr()) };
    if p.is_null() {
        return;
    }
    // SAFETY: getenv returned a NUL-terminated string.
    let value = unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy();
    let flags = parse_words(&value, |word| {
        let mut t = Text::new();
        let _ = writeln!(
            t,
            "rthread: RTHREAD_DEBUG: unknown word \"{word}\" ignored \
             (known: deadlock, lockorder, contention, holders, all)"
        );
        write_fd(2, t.as_bytes());
    });
    let _ = set_flags(flags);
}

/// A report hook: `fn(ctx, text)`, `text` a NUL-terminated line (or lines), valid during the
/// call only.
pub type ReportHook = unsafe extern "C" fn(ctx: *mut c_void, text: *const c_char);

#[derive(Clone, Copy)]
struct Sink {
    hook: Option<ReportHook>,
    ctx: *mut c_void,
}

// SAFETY: the context is the user's pointer, handed back to the user's hook (their contract).
unsafe impl Send for Sink {}

#[cfg(not(loom))]
static SINK: crate::wait::LockCell<Sink> = crate::wait::LockCell::new(Sink {
    hook: None,
    ctx: std::ptr::null_mut(),
});
#[cfg(loom)]
loom::lazy_static! {
    static ref SINK: crate::wait::LockCell<Sink> = crate::wait::LockCell::new(Sink {
        hook: None,
        ctx: std::ptr::null_mut(),
    });
}

/// The debug layer's internal locks in a fork (`wait::fork`'s debug-layer hooks): taken before
/// it (so that no vanished thread holds one in the child), released in the parent, forced open
/// in the child, where the records of the vanished threads are marked so. They are leaves: no
/// other lock is taken while one is held.
#[cfg(not(loom))]
fn try_lock_for_fork() -> bool {
    if !threads::DETECT.try_lock_for_fork() {
        return false;
    }
    if !threads::THREADS.try_lock_for_fork() {
        // SAFETY: taken just above.
        unsafe { threads::DETECT.unlock_after_fork() };
        return false;
    }
    if !names::NAMES.try_lock_for_fork() {
        // SAFETY: taken just above.
        unsafe {
            threads::THREADS.unlock_after_fork();
            threads::DETECT.unlock_after_fork();
        }
        return false;
    }
    if !SINK.try_lock_for_fork() {
        // SAFETY: taken just above.
        unsafe {
            names::NAMES.unlock_after_fork();
            threads::THREADS.unlock_after_fork();
            threads::DETECT.unlock_after_fork();
        }
        return false;
    }
    // The lock-order graph's lock is no leaf (a new order asks the thread layer for a name
    // under it), but prepare only ever tries it, and lets everything go when it is busy.
    if !lock_order::GRAPH.try_lock_for_fork() {
        // SAFETY: taken just above.
        unsafe {
            SINK.unlock_after_fork();
            names::NAMES.unlock_after_fork();
            threads::THREADS.unlock_after_fork();
            threads::DETECT.unlock_after_fork();
        }
        return false;
    }
    true
}

#[cfg(not(loom))]
fn unlock_after_fork() {
    // SAFETY: all five were taken by `try_lock_for_fork`.
    unsafe {
        lock_order::GRAPH.unlock_after_fork();
        SINK.unlock_after_fork();
        names::NAMES.unlock_after_fork();
        threads::THREADS.unlock_after_fork();
        threads::DETECT.unlock_after_fork();
    }
}

#[cfg(not(loom))]
fn reset_in_child() {
    // SAFETY: the child's handler, one thread, no guard alive.
    unsafe {
        threads::DETECT.reset_in_child();
        names::NAMES.reset_in_child();
        SINK.reset_in_child();
        // The graph keeps its orders (what was learnt stays true).
        lock_order::GRAPH.reset_in_child();
        threads::reset_in_child();
    }
}

/// Installs the debug layer's fork hooks (no allocation; later calls cost one load).
pub fn ensure_fork_safe() {
    #[cfg(not(loom))]
    {
        static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !DONE.load(Ordering::Acquire) {
            crate::wait::fork::install_debug_layer(crate::wait::fork::LayerHooks {
                try_lock: try_lock_for_fork,
                unlock: unlock_after_fork,
                child: reset_in_child,
            });
            DONE.store(true, Ordering::Release);
        }
    }
}

/// Sets (or, with `None`, removes) the report hook.
pub fn set_report_hook(hook: Option<ReportHook>, ctx: *mut c_void) {
    ensure_fork_safe();
    *SINK.lock() = Sink { hook, ctx };
}

/// Sends a report to the hook, or to stderr. Called with no internal lock held (the hook is
/// copied out of its lock first). A report longer than [`Text`]'s capacity is cut.
pub fn report(text: &str) {
    let sink = *SINK.lock();
    match sink.hook {
        Some(hook) => {
            let mut t = Text::new();
            let _ = t.write_str(text);
            let c = t.as_c_str();
            // SAFETY: the user's hook with their context and a NUL-terminated string that lives
            // for the call.
            unsafe { hook(sink.ctx, c) };
        }
        None => {
            write_fd(2, text.as_bytes());
        }
    }
}

/// Writes all of `bytes` to `fd` with write(2), retrying after EINTR and short writes; gives up
/// quietly on another error. Async-signal-safe; errno kept.
pub fn write_fd(fd: i32, mut bytes: &[u8]) -> bool {
    let _errno = crate::status::KeepErrno::new();
    while !bytes.is_empty() {
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

/// Capacity of a [`Text`], NUL included.
pub const TEXT_CAPACITY: usize = 2048;

/// A report's text, in a fixed buffer (a report never allocates): cut at a character boundary
/// when full.
pub struct Text {
    buf: [u8; TEXT_CAPACITY],
    len: usize,
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

impl Text {
    pub const fn new() -> Text {
        Text {
            buf: [0; TEXT_CAPACITY],
            len: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only whole characters are ever copied in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The text, NUL-terminated (there is always room for the NUL).
    pub fn as_c_str(&mut self) -> *const c_char {
        self.buf[self.len] = 0;
        self.buf.as_ptr().cast()
    }
}

impl Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        // Keep room for the NUL of `as_c_str`.
        crate::status::append_cut(&mut self.buf[..TEXT_CAPACITY - 1], &mut self.len, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_and_unknown_ones_are_named() {
        let mut bad = Vec::new();
        let f = parse_words("deadlock, lockorder,bogus,,contention", |w| {
            bad.push(w.to_string())
        });
        assert_eq!(f, DEADLOCK | LOCK_ORDER | CONTENTION);
        assert_eq!(bad, ["bogus"]);
        assert_eq!(parse_words("all", |_| panic!()), USER_FLAGS);
        assert_eq!(parse_words("", |_| panic!()), 0);
    }

    #[test]
    fn text_cuts_at_a_character_boundary() {
        let mut t = Text::new();
        for _ in 0..TEXT_CAPACITY {
            let _ = t.write_str("é");
        }
        assert!(t.as_str().len() < TEXT_CAPACITY);
        assert!(t.as_str().chars().all(|c| c == 'é'));
    }
}
