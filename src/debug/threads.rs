//! Per-thread debug records: what a thread is blocked on, and which locks it holds.
//!
//! A thread object's thread gets its record from `rt_thread_start`, which makes it ([`prepare`])
//! so that the new thread allocates nothing of its own; the thread lists it when it begins
//! ([`adopt`]). Any other thread gets one the first time it needs one: its first slow-path wait
//! in a C call, or its first acquisition while a mode that tracks holders is on. Records are
//! listed in
//! [`THREADS`] (under one internal lock) so that dumps and the deadlock walk find them, and
//! leave the list when the thread ends (a pthread key's destructor, as the waiting core's
//! record does; no `thread_local!` destructor, which may abort when it cannot allocate).
//!
//! **Blocked on** (`waiting::Waiting`): set on slow paths only, by the thread itself, just before it
//! really waits (after its try failed), and cleared when the wait ends: call, object, since
//! when (the coarse monotonic clock: a few nanoseconds to read), timeout, and for a join the
//! thread joined. It is a seqlock: the owner makes `seq` odd, writes, makes it even; a reader
//! retries until it reads the same even `seq` before and after. With deadlock detection on, it
//! is also written under [`DETECT`], so that of two threads closing a cycle at once the second
//! sees the first.
//!
//! **Held locks**: up to [`HELD`] handle addresses per thread, kept only while a mode that
//! needs them is on (`NEEDS_HELD`). A Lock has no owner in Python: the thread that acquired it
//! is taken as its holder until some thread releases it (a release by another thread clears
//! the entry in the acquirer's list). An RLock's holder is its owner. Locks acquired while no
//! such mode was on have no recorded holder; more than `HELD` at once are not all recorded.

use super::{Kind, Object};
use crate::memory::Arc;
use crate::wait::LockCell;
use crate::wait::tls_word;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};

/// How many held locks a thread's record keeps.
pub const HELD: usize = 16;

/// One thread's record.
pub struct DebugThread {
    /// The thread's never-reused id (`wait::current_id`).
    pub id: u64,
    /// `pthread_self()` and the kernel's thread id, for threads without a thread object (set
    /// by the thread itself, before its record is listed).
    ident: AtomicU64,
    native_id: AtomicU64,
    seq: AtomicU32,
    call_ptr: AtomicUsize,
    call_len: AtomicUsize,
    obj_addr: AtomicUsize,
    /// 0: not blocked; otherwise a `Kind`.
    obj_kind: AtomicU8,
    since_ns: AtomicU64,
    /// An f64's bits; negative: no timeout.
    timeout: AtomicU64,
    /// For a join: the id of the thread joined (its "owner"); else 0.
    owner: AtomicU64,
    /// For a condition wait: the condition's lock (address, kind), which the wait must take
    /// back before it returns; else 0.
    via_addr: AtomicUsize,
    via_kind: AtomicU8,
    held: [AtomicUsize; HELD],
    held_kind: [AtomicU8; HELD],
    /// Set in a fork child for every thread but the one that forked: the thread is gone (its
    /// record stays listed, unused, so that nothing it held is freed under it).
    vanished: std::sync::atomic::AtomicBool,
}

/// What a thread is blocked on, as a reader saw it.
#[derive(Clone, Copy, Debug)]
pub struct Blocked {
    pub call: &'static str,
    pub obj: Object,
    pub since_ns: u64,
    /// Seconds; `None`: without bound.
    pub timeout: Option<f64>,
    /// For a join: the id of the thread joined.
    pub owner: u64,
    /// For a condition wait: the condition's lock, which the wait takes back before it returns
    /// (the edge the deadlock walk follows).
    pub via: Option<Object>,
}

impl Blocked {
    /// The object whose holder this wait depends on: the condition's lock for a condition
    /// wait, the object itself otherwise.
    pub fn edge(&self) -> Object {
        self.via.unwrap_or(self.obj)
    }
}

impl DebugThread {
    fn new(id: u64) -> DebugThread {
        DebugThread {
            id,
            ident: AtomicU64::new(0),
            native_id: AtomicU64::new(0),
            seq: AtomicU32::new(0),
            call_ptr: AtomicUsize::new(0),
            call_len: AtomicUsize::new(0),
            obj_addr: AtomicUsize::new(0),
            obj_kind: AtomicU8::new(0),
            since_ns: AtomicU64::new(0),
            timeout: AtomicU64::new(0),
            owner: AtomicU64::new(0),
            via_addr: AtomicUsize::new(0),
            via_kind: AtomicU8::new(0),
            held: [const { AtomicUsize::new(0) }; HELD],
            held_kind: [const { AtomicU8::new(0) }; HELD],
            vanished: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The thread's `pthread_self()`.
    pub fn ident(&self) -> u64 {
        self.ident.load(Ordering::Relaxed)
    }

    /// The thread's kernel id.
    pub fn native_id(&self) -> u64 {
        self.native_id.load(Ordering::Relaxed)
    }

    /// Whether the thread is gone (it vanished at a fork).
    pub fn vanished(&self) -> bool {
        self.vanished.load(Ordering::Relaxed)
    }

    /// Writes the blocked-on fields (the owner thread only).
    pub(super) fn publish(&self, b: Option<&Blocked>) {
        // One writer (the owner, or the fork child for a vanished thread's record): plain
        // stores, no read-modify-write on a wait's path. An odd sequence left by a thread that
        // vanished mid-write stays odd while this write goes on.
        let odd = self.seq.load(Ordering::Relaxed) | 1;
        self.seq.store(odd, Ordering::Relaxed);
        fence(Ordering::Release);
        match b {
            Some(b) => {
                self.call_ptr
                    .store(b.call.as_ptr() as usize, Ordering::Relaxed);
                self.call_len.store(b.call.len(), Ordering::Relaxed);
                self.obj_addr.store(b.obj.addr, Ordering::Relaxed);
                self.since_ns.store(b.since_ns, Ordering::Relaxed);
                self.timeout
                    .store(b.timeout.unwrap_or(-1.0).to_bits(), Ordering::Relaxed);
                self.owner.store(b.owner, Ordering::Relaxed);
                let (va, vk) = b.via.map_or((0, 0), |v| (v.addr, v.kind as u8));
                self.via_addr.store(va, Ordering::Relaxed);
                self.via_kind.store(vk, Ordering::Relaxed);
                self.obj_kind.store(b.obj.kind as u8, Ordering::Relaxed);
            }
            None => self.obj_kind.store(0, Ordering::Relaxed),
        }
        self.seq.store(odd.wrapping_add(1), Ordering::Release);
    }

    /// What the thread is blocked on now (a consistent snapshot), `None` if it is not.
    pub fn blocked(&self) -> Option<Blocked> {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 != 0 {
                std::hint::spin_loop();
                continue;
            }
            let kind = self.obj_kind.load(Ordering::Relaxed);
            let ptr = self.call_ptr.load(Ordering::Relaxed);
            let len = self.call_len.load(Ordering::Relaxed);
            let addr = self.obj_addr.load(Ordering::Relaxed);
            let since_ns = self.since_ns.load(Ordering::Relaxed);
            let timeout = f64::from_bits(self.timeout.load(Ordering::Relaxed));
            let owner = self.owner.load(Ordering::Relaxed);
            let via_addr = self.via_addr.load(Ordering::Relaxed);
            let via_kind = self.via_kind.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != s1 {
                continue;
            }
            let kind = Kind::from_u8(kind)?;
            // SAFETY: `ptr`/`len` were written together (the seqlock says so) from a
            // `&'static str`.
            let call = unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr as *const u8, len))
            };
            return Some(Blocked {
                call,
                obj: Object { addr, kind },
                since_ns,
                timeout: (timeout >= 0.0).then_some(timeout),
                owner,
                via: Kind::from_u8(via_kind).map(|kind| Object {
                    addr: via_addr,
                    kind,
                }),
            });
        }
    }

    /// Whether the thread's held list has `addr`.
    pub fn holds(&self, addr: usize) -> bool {
        self.held.iter().any(|h| h.load(Ordering::Acquire) == addr)
    }

    /// The objects the thread holds (a snapshot).
    pub fn held(&self, mut f: impl FnMut(Object)) {
        for (h, k) in self.held.iter().zip(&self.held_kind) {
            let addr = h.load(Ordering::Acquire);
            if addr != 0 {
                if let Some(kind) = Kind::from_u8(k.load(Ordering::Relaxed)) {
                    f(Object { addr, kind });
                }
            }
        }
    }

    /// Clears `addr` from the calling thread's own list: plain loads and one store, no
    /// read-modify-write. Safe because only the owner writes a non-zero value into its slots:
    /// another thread may clear the same slot meanwhile (a Lock released by another thread),
    /// and both write the same 0.
    fn clear_own_held(&self, addr: usize) -> bool {
        match self.held.iter().find(|h| h.load(Ordering::Relaxed) == addr) {
            Some(h) => {
                h.store(0, Ordering::Release);
                true
            }
            None => false,
        }
    }

    /// Clears `addr` from another thread's list (whose owner may be pushing into its other
    /// slots).
    fn clear_held(&self, addr: usize) -> bool {
        self.held.iter().any(|h| {
            h.compare_exchange(addr, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })
    }
}

fn native_id() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no arguments and cannot fail.
        (unsafe { libc::syscall(libc::SYS_gettid) }) as u64
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Every thread's record.
#[cfg(not(loom))]
pub static THREADS: LockCell<Vec<Arc<DebugThread>>> = LockCell::new(Vec::new());
#[cfg(loom)]
loom::lazy_static! {
    pub static ref THREADS: LockCell<Vec<Arc<DebugThread>>> = LockCell::new(Vec::new());
}

/// Taken while a blocked-on record changes and while the waits-for graph is walked, when
/// deadlock detection is on.
#[cfg(not(loom))]
pub(super) static DETECT: LockCell<()> = LockCell::new(());
#[cfg(loom)]
loom::lazy_static! {
    pub(super) static ref DETECT: LockCell<()> = LockCell::new(());
}

/// The calling thread's record, or NULL: one reference of an `Arc` given up with `into_raw`,
/// which the key's destructor gives back. In a word of initial-exec TLS
/// (`wait::tls_word::debug_record`): the modes that keep held lists read it on every
/// acquisition and release, and a `thread_local!` costs a call to `__tls_get_addr` there.
fn mine_ptr() -> *const DebugThread {
    tls_word::debug_record::get() as usize as *const DebugThread
}

fn set_mine(p: *const DebugThread) {
    tls_word::debug_record::set(p as usize as u64);
}

/// The key whose per-thread value is the thread's record (its destructor unlists it). Made at
/// the first need without ever waiting (not a `OnceLock`: a thread that vanished at a fork
/// while making it would leave the child waiting forever): two threads that race both make
/// one, and the loser deletes its own.
fn key() -> Option<libc::pthread_key_t> {
    static KEY: AtomicUsize = AtomicUsize::new(0);
    let k = KEY.load(Ordering::Acquire);
    if k != 0 {
        return Some((k - 1) as libc::pthread_key_t);
    }
    let made = make_key()?;
    match KEY.compare_exchange(0, made as usize + 1, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(made),
        Err(theirs) => {
            // SAFETY: the key made just above, which nobody else has seen.
            unsafe { libc::pthread_key_delete(made) };
            Some((theirs - 1) as libc::pthread_key_t)
        }
    }
}

fn make_key() -> Option<libc::pthread_key_t> {
    {
        unsafe extern "C" fn release(p: *mut std::ffi::c_void) {
            let p = p as *const DebugThread;
            if std::ptr::eq(mine_ptr(), p) {
                set_mine(std::ptr::null());
            }
            {
                let mut all = THREADS.lock();
                if let Some(i) = all.iter().position(|t| std::ptr::eq(Arc::as_ptr(t), p)) {
                    all.swap_remove(i);
                }
            }
            // SAFETY: the reference `mine` gave up; the system calls this once for it.
            drop(unsafe { Arc::from_raw(p) });
        }
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is writable; `release` never unwinds.
        (unsafe { libc::pthread_key_create(&mut key, Some(release)) } == 0).then_some(key)
    }
}

/// The calling thread's record, made and listed at the first call; `None` without memory (or
/// while the thread ends): the thread then simply goes unrecorded.
pub fn mine() -> Option<&'static DebugThread> {
    let p = mine_ptr();
    if !p.is_null() {
        // SAFETY: the record lives until the key's destructor, after this thread's calls.
        return Some(unsafe { &*p });
    }
    make_mine()
}

#[cold]
fn make_mine() -> Option<&'static DebugThread> {
    super::ensure_fork_safe();
    list_as_mine(Arc::try_new(DebugThread::new(crate::wait::current_id())).ok()?)
}

/// A record for a thread that does not run yet, with the id its waiting-core record brings it,
/// made by the thread that starts it; the new thread takes it with [`adopt`]. Also makes room
/// for it in [`THREADS`]. So a thread object's thread allocates nothing of its own to wait:
/// a thread's first allocation (or free) sets up its allocator's per-thread cache, and with
/// its deeper stack that cost about 5 KiB of resident memory per idle thread. `None` without
/// memory or a key (the thread then makes its own record when it first needs one).
pub fn prepare(id: u64) -> Option<Arc<DebugThread>> {
    super::ensure_fork_safe();
    key()?;
    let rec = Arc::try_new(DebugThread::new(id)).ok()?;
    THREADS.lock().try_reserve(1).ok()?;
    Some(rec)
}

/// In a new thread: takes the record [`prepare`] made for it as its own (lists it).
pub fn adopt(rec: Arc<DebugThread>) {
    if mine_ptr().is_null() {
        let _ = list_as_mine(rec);
    }
}

/// Lists `rec` as the calling thread's record and installs it.
fn list_as_mine(rec: Arc<DebugThread>) -> Option<&'static DebugThread> {
    let key = key()?;
    // SAFETY: pthread_self cannot fail.
    rec.ident
        .store(unsafe { libc::pthread_self() } as u64, Ordering::Relaxed);
    rec.native_id.store(native_id(), Ordering::Relaxed);
    {
        let mut all = THREADS.lock();
        all.try_reserve(1).ok()?;
        all.push(rec.clone());
    }
    let p = Arc::into_raw(rec);
    // SAFETY: our key; the value is the reference the destructor gives back.
    if unsafe { libc::pthread_setspecific(key, p as *const std::ffi::c_void) } != 0 {
        let mut all = THREADS.lock();
        if let Some(i) = all.iter().position(|t| std::ptr::eq(Arc::as_ptr(t), p)) {
            all.swap_remove(i);
        }
        drop(all);
        // SAFETY: the reference given up just above.
        drop(unsafe { Arc::from_raw(p) });
        return None;
    }
    set_mine(p);
    // SAFETY: as in `mine`.
    Some(unsafe { &*p })
}

/// Records that the calling thread holds `obj`.
#[inline(never)]
pub fn push_held(obj: Object) {
    let Some(me) = mine() else { return };
    for (h, k) in me.held.iter().zip(&me.held_kind) {
        if h.load(Ordering::Relaxed) == 0 {
            k.store(obj.kind as u8, Ordering::Relaxed);
            h.store(obj.addr, Ordering::Release);
            return;
        }
    }
}

/// Records that `obj` is being released by the calling thread: out of its own list, or out of
/// the list of the thread that acquired it (a Lock released by another thread).
#[inline]
pub fn pop_held(obj: Object) {
    if let Some(me) = mine() {
        if me.clear_own_held(obj.addr) {
            return;
        }
    }
    clear_elsewhere(obj.addr);
}

/// [`pop_held`] for an object the calling thread's list does not have: another thread's.
#[cold]
#[inline(never)]
fn clear_elsewhere(addr: usize) {
    for t in THREADS.lock().iter() {
        if t.clear_held(addr) {
            return;
        }
    }
}

/// Empties every held list (holders are no longer tracked).
pub fn forget_held() {
    for t in THREADS.lock().iter() {
        for h in &t.held {
            h.store(0, Ordering::Relaxed);
        }
    }
}

/// The id of the thread recorded as holding the object at `addr`, or 0.
pub fn holder_of(addr: usize) -> u64 {
    THREADS
        .lock()
        .iter()
        .find(|t| !t.vanished() && t.holds(addr))
        .map_or(0, |t| t.id)
}

/// In a fork child, with [`THREADS`] forced open: every record but the forking thread's is a
/// vanished thread's.
///
/// # Safety
/// Only in a fork child's handler, with no guard of `THREADS` alive.
#[cfg(not(loom))]
pub(super) unsafe fn reset_in_child() {
    let me = crate::wait::current_id_if_assigned();
    // SAFETY: by the contract.
    for t in unsafe { THREADS.reset_in_child() }.iter() {
        if t.id != me {
            t.vanished.store(true, Ordering::Relaxed);
            t.publish(None);
        }
    }
}

/// The coarse monotonic clock, in nanoseconds (a few nanoseconds to read).
pub fn coarse_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    #[cfg(target_os = "linux")]
    let clock = libc::CLOCK_MONOTONIC_COARSE;
    #[cfg(not(target_os = "linux"))]
    let clock = libc::CLOCK_MONOTONIC;
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Finds the record of the thread whose id is `id`, and runs `f` on it (under the list's
/// lock: `f` must not call user code).
pub fn with_thread<R>(id: u64, f: impl FnOnce(Option<&DebugThread>) -> R) -> R {
    let all = THREADS.lock();
    f(all
        .iter()
        .find(|t| t.id == id && !t.vanished())
        .map(|t| &**t))
}
