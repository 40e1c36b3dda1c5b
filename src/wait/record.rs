//! The per-thread record: identity, the parker word, and the links of the wait queue.
//!
//! Each thread that ever blocks gets one record, allocated once (an `Arc`, so a thread object
//! can keep it to interrupt the thread) and reused by every wait: waiting allocates nothing
//! after the first time. A thread that rthread starts gets its record from its starter, before
//! it exists; any other thread makes its own at its first wait, and a thread that cannot (no
//! memory) waits with a temporary record on its stack instead: a wait never fails for memory.
//!
//! The parker word (`state`) has three bits:
//!
//! | PARKED | INTERRUPT | meaning                                                        |
//! |--------|-----------|----------------------------------------------------------------|
//! | 0      | 0         | not waiting                                                    |
//! | 1      | 0         | queued in a bucket (or detached by an unparker about to wake it) |
//! | 0      | 1         | not waiting; the next interruptible wait ends with `RT_EINTR`  |
//! | 1      | 1         | waiting, and asked to stop: it leaves the queue itself         |
//!
//! and SLEEPING, set (only with PARKED) by the thread itself just before it sleeps in the
//! futex call: a queued thread may spin first, and an unparker that finds SLEEPING clear skips
//! the wake-up call (the spinner sees PARKED clear by itself).
//!
//! Only an unparker clears PARKED, always after it has taken the record out of its queue (under
//! the bucket lock) and written the unpark token; it clears SLEEPING with it, in one atomic
//! operation that tells it whether to wake. INTERRUPT belongs to [`super::interrupt`]: only
//! `interrupt` sets it; only the owning thread clears it, when a wait consumes it. Because the
//! sleeping thread waits on the whole word, setting any bit while it decides to sleep makes
//! the futex call return at once: no wake-up can be lost.

use super::sys::{AtomicU32, AtomicUsize, Ordering};
use super::tls_word::id as id_word;
use crate::memory::Arc;
use crate::status::Error;
use std::cell::Cell;

pub const PARKED: u32 = 1;
/// Set by a queued thread about to sleep in the futex call (see the module comment); 2 is
/// `super::interrupt::INTERRUPT`.
pub const SLEEPING: u32 = 4;

pub struct ThreadRecord {
    /// Never reused within the process (CPython issue 128167).
    id: u64,
    /// The parker word; see the table above.
    pub(super) state: AtomicU32,
    /// The key the thread waits on. Written under the bucket lock of the old and the new key;
    /// read without it by the thread itself, which then re-checks under the lock.
    pub(super) key: AtomicUsize,
    // Fields below are protected by the lock of the bucket the record is queued in, or owned by
    // an unparker that detached the record and has not cleared PARKED yet.
    pub(super) next: Cell<*const ThreadRecord>,
    pub(super) queued: Cell<bool>,
    pub(super) unpark_token: Cell<usize>,
    pub(super) parked_at: Cell<u64>,
}

// SAFETY: the Cells are only touched under the protocol described on the fields: by one thread
// at a time, with the bucket lock or the PARKED bit's release/acquire ordering between them.
unsafe impl Sync for ThreadRecord {}
// SAFETY: as above; the raw `next` pointer is only followed under the same protocol.
unsafe impl Send for ThreadRecord {}

impl ThreadRecord {
    fn new(id: u64) -> ThreadRecord {
        ThreadRecord {
            id,
            state: AtomicU32::new(0),
            key: AtomicUsize::new(0),
            next: Cell::new(std::ptr::null()),
            queued: Cell::new(false),
            unpark_token: Cell::new(0),
            parked_at: Cell::new(0),
        }
    }

    /// The thread's never-reused id.
    pub fn id(&self) -> u64 {
        self.id
    }
}

#[cfg(not(loom))]
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[cfg(loom)]
loom::lazy_static! {
    static ref NEXT_ID: super::sys::AtomicU64 = super::sys::AtomicU64::new(1);
}

#[cfg(not(loom))]
thread_local! {
    /// The calling thread's record: NULL until its first wait, or one reference of a
    /// [`RecordRef`] given up with `into_raw`. No destructor (a `thread_local!` with one
    /// registers it with the C library on first use, which aborts when it cannot allocate): the
    /// reference is the value of a pthread key instead, whose destructor gives it back when the
    /// thread ends.
    static RECORD: Cell<*const ThreadRecord> = const { Cell::new(std::ptr::null()) };
}

#[cfg(loom)]
loom::thread_local! {
    static RECORD: RecordRef =
        RecordRef::try_new(ThreadRecord::new(current_id())).expect("memory under loom");
}

/// A shared handle on a thread's record, for the thread object that may interrupt it.
pub type RecordRef = Arc<ThreadRecord>;

/// The key whose per-thread value is the thread's record (see `RECORD`); made at the first need
/// (or when the library is loaded). `None` if the system has no key left.
#[cfg(not(loom))]
fn record_key() -> Option<libc::pthread_key_t> {
    static KEY: std::sync::OnceLock<Option<libc::pthread_key_t>> = std::sync::OnceLock::new();
    if let Some(key) = KEY.get() {
        return *key;
    }
    // A thread that finds another making the key waits in std's futex: errno kept.
    let _errno = crate::status::KeepErrno::new();
    *KEY.get_or_init(|| {
        unsafe extern "C" fn release(p: *mut std::ffi::c_void) {
            let p = p as *const ThreadRecord;
            let _ = RECORD.try_with(|c| {
                if std::ptr::eq(c.get(), p) {
                    c.set(std::ptr::null());
                }
            });
            // SAFETY: the key's value is the reference `install` gave up; the system calls this
            // once for it, with the value already cleared.
            drop(unsafe { RecordRef::from_raw(p) });
        }
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is writable; `release` never unwinds.
        (unsafe { libc::pthread_key_create(&mut key, Some(release)) } == 0).then_some(key)
    })
}

/// Makes the record key now (when the library is loaded), so that it is made before any other
/// of rthread's keys and its value is given back after theirs.
#[cfg(not(loom))]
pub fn make_key() {
    let _ = record_key();
}

/// Installs `rec` as the calling thread's record (which has none), given back by the key's
/// destructor when the thread ends. Fails, and gives `rec` back, if the key cannot hold it (no
/// key, or no memory for the system's key table). A record made by [`new_record`] for a thread
/// that did not exist yet brings that thread its id.
#[cfg(not(loom))]
pub fn install(rec: RecordRef) -> Result<(), RecordRef> {
    let Some(key) = record_key() else {
        return Err(rec);
    };
    let p = RecordRef::into_raw(rec);
    // SAFETY: a key this module made; the value is a pointer the destructor understands.
    if unsafe { libc::pthread_setspecific(key, p as *const std::ffi::c_void) } != 0 {
        // SAFETY: the reference was given up just above and stored nowhere.
        return Err(unsafe { RecordRef::from_raw(p) });
    }
    set_installed(p);
    Ok(())
}

#[cfg(not(loom))]
fn set_installed(p: *const ThreadRecord) {
    // SAFETY: `p` is a live record (the caller holds a reference on it).
    let id = unsafe { (*p).id };
    if id_word::get() == 0 {
        id_word::set(id);
    }
    debug_assert_eq!(id_word::get(), id, "a record of another thread");
    RECORD.with(|c| c.set(p));
}

/// Installs `rec` as the calling thread's record without the key (when [`install`] failed):
/// the caller gives it back with [`uninstall`] before the thread ends.
#[cfg(not(loom))]
pub fn install_unwatched(rec: RecordRef) {
    set_installed(RecordRef::into_raw(rec));
}

/// Gives back the record installed by [`install_unwatched`]; later waits of the thread (in its
/// thread-local destructors) get a record of their own.
#[cfg(not(loom))]
pub fn uninstall() {
    let p = RECORD.with(|c| c.replace(std::ptr::null()));
    if !p.is_null() {
        // SAFETY: the reference given up by install_unwatched.
        drop(unsafe { RecordRef::from_raw(p) });
    }
}

/// A record for a thread that does not exist yet, with a new id (the thread takes the id when
/// it installs the record); `RT_ENOMEM`.
pub fn new_record() -> Result<RecordRef, Error> {
    RecordRef::try_new(ThreadRecord::new(NEXT_ID.fetch_add(1, Ordering::Relaxed)))
}

/// The calling thread's installed record, making and installing one if it has none.
#[cfg(not(loom))]
fn installed() -> Result<*const ThreadRecord, Error> {
    let p = RECORD.with(Cell::get);
    if !p.is_null() {
        return Ok(p);
    }
    install(RecordRef::try_new(ThreadRecord::new(current_id()))?).map_err(|_| Error::NO_MEMORY)?;
    Ok(RECORD.with(Cell::get))
}

/// The calling thread's never-reused id (non-zero). Cheap: two loads after the first call (see
/// [`super::tls_word::id`]).
#[inline]
pub fn current_id() -> u64 {
    #[cold]
    #[inline(never)]
    fn assign() -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        id_word::set(id);
        id
    }
    match id_word::get() {
        0 => assign(),
        id => id,
    }
}

/// The calling thread's id if it has been assigned, else 0. Never assigns, so it makes no call:
/// for fast paths that stay leaf functions and leave the first call to their slow path.
#[inline]
pub fn current_id_if_assigned() -> u64 {
    id_word::get()
}

/// Runs `f` with the calling thread's record. A thread that has none and cannot get one (no
/// memory, no key) gets a temporary one on its stack for this call: it can wait, but nobody can
/// interrupt that wait (no thread object holds the temporary record).
#[cfg(not(loom))]
pub fn with_current<R>(f: impl FnOnce(&ThreadRecord) -> R) -> R {
    match installed() {
        // SAFETY: the installed record lives while the thread's key holds it, that is, at least
        // until this thread's key destructors run, which cannot happen during this call.
        Ok(p) => f(unsafe { &*p }),
        Err(_) => f(&ThreadRecord::new(current_id())),
    }
}

#[cfg(loom)]
pub fn with_current<R>(f: impl FnOnce(&ThreadRecord) -> R) -> R {
    let mut f = Some(f);
    let mut out = None;
    let _ = RECORD.try_with(|r| out = f.take().map(|f| f(r)));
    match out {
        Some(v) => v,
        None => {
            let tmp = ThreadRecord::new(current_id());
            (f.take().expect("f is unused when the thread-local is gone"))(&tmp)
        }
    }
}

/// A shared handle on the calling thread's record (for thread objects, to interrupt it),
/// making the record if the thread has none; `RT_ENOMEM` if it cannot.
#[cfg(not(loom))]
pub fn current_record() -> Result<RecordRef, Error> {
    let p = installed()?;
    // SAFETY: `p` is the installed record, alive (see with_current); one more reference.
    unsafe {
        RecordRef::increment_strong_count(p);
        Ok(RecordRef::from_raw(p))
    }
}

#[cfg(loom)]
pub fn current_record() -> Result<RecordRef, Error> {
    RECORD
        .try_with(RecordRef::clone)
        .map_err(|_| Error::NO_MEMORY)
}
