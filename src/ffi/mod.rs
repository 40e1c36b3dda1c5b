//! The C face: `extern "C"` functions that validate handles and arguments, call the core, and
//! turn its results into `rt_status` codes. Nothing here decides behaviour.
//!
//! Every handle is a pointer to an [`Obj`]: a header (a kind tag, and a count of threads inside
//! a blocking call on the object) followed by the core object. The C types (`rt_lock`, …) are
//! opaque, zero-sized on the Rust side; [`handle`] checks NULL and the kind tag before a cast.
//!
//! From Rust, a function that takes a pointer is `unsafe` to call: nothing in its types can
//! tell a live handle from a dangling one.
//!
//! ```compile_fail,E0133
//! let mut lock = std::ptr::null_mut();
//! rthread::ffi::lock::rt_lock_new(&mut lock); // error: call to unsafe function
//! ```
//!
//! ```compile_fail,E0133
//! let dangling = 8 as *mut rthread::ffi::lock::rt_lock;
//! rthread::ffi::lock::rt_lock_release(dangling); // error: call to unsafe function
//! ```
//!
//! ```compile_fail,E0133
//! unsafe extern "C-unwind" fn body(_: *mut std::ffi::c_void) {}
//! rthread::thread::start_new_thread(body, 8 as *mut _); // error: call to unsafe function
//! ```
//!
//! ```compile_fail,E0133
//! unsafe extern "C-unwind" fn hook(_: *mut std::ffi::c_void) {}
//! rthread::wait::blocking_hooks::set(Some(hook), None, 8 as *mut _); // error: call to unsafe function
//! ```
//!
//! The same calls in an `unsafe` block compile:
//!
//! ```
//! let mut lock = std::ptr::null_mut();
//! // SAFETY: `lock` is a valid place for the new handle, which is freed below.
//! unsafe {
//!     assert_eq!(rthread::ffi::lock::rt_lock_new(&mut lock), rthread::rt_status::RT_OK);
//!     assert_eq!(rthread::ffi::lock::rt_lock_free(lock), rthread::rt_status::RT_OK);
//! }
//! ```

#![allow(non_camel_case_types)]
// Every function here that takes a pointer (a handle, an out-pointer, a buffer, a callback) is
// an `unsafe extern "C" fn`: from Rust it can only be called in an `unsafe` block, since what
// makes the call sound is the C contract, not the types. Each one checks what it can (NULL,
// the kind tag) before any dereference; its doc comment, which is also its `# Safety`
// section, states what the caller must pass, and the header's conventions state the rest
// (a handle is live: not freed, and not being freed by another thread).
#![allow(clippy::missing_safety_doc)]

use crate::memory::try_box;
use crate::status::{Error, record, rt_status};
use crate::wait::fork as wait_fork;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod barrier;
pub mod boundary;
pub mod condition;
#[cfg(not(loom))]
pub mod contention;
#[cfg(not(loom))]
pub mod debug;
#[cfg(not(loom))]
pub mod dump;
pub mod embed;
pub mod event;
pub mod futures;
pub mod local;
pub mod lock;
#[cfg(not(loom))]
pub mod once;
pub mod queue;
pub mod rlock;
pub mod semaphore;
#[cfg(not(loom))]
pub mod signal;
pub mod status;
pub mod thread;
pub mod threading;
pub mod version;

/// Kind tags: the first word of every handle.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Lock = 0x5254_4c4b,        // "RTLK"
    RLock = 0x5254_524c,       // "RTRL"
    Condition = 0x5254_4356,   // "RTCV"
    Semaphore = 0x5254_534d,   // "RTSM"
    Event = 0x5254_4556,       // "RTEV"
    Barrier = 0x5254_4252,     // "RTBR"
    Thread = 0x5254_5448,      // "RTTH"
    Local = 0x5254_4c4f,       // "RTLO"
    Queue = 0x5254_5155,       // "RTQU"
    Future = 0x5254_4655,      // "RTFU"
    Executor = 0x5254_4558,    // "RTEX"
    AsCompleted = 0x5254_4143, // "RTAC"
}

/// Written over the kind tag when an object is freed, to catch some uses after free.
const KIND_FREED: u32 = 0xdead_0bad;

/// The common beginning of every object behind a handle.
#[repr(C)]
pub struct Header {
    kind: u32,
    /// Threads inside a blocking call on this object, and conditions that borrow it: `_free`
    /// refuses while non-zero. Tagged with the fork generation it was counted in (see
    /// [`Busy`]).
    busy: AtomicU32,
}

/// A busy count tagged with the fork generation (`wait::fork`): the top
/// `GENERATION_BITS` bits are the generation, the rest the count. In a fork child the
/// generation moves on, so the counts of threads that vanished at the fork read as zero without
/// anyone having to find them; the conditions that borrow a lock count themselves again (they
/// are listed: see `condition.rs`), and a thread that entered a call before the fork (the
/// forking thread, from a blocking hook or a predicate) does not take back what it added; in
/// the child that call no longer keeps its object from being freed.
pub(crate) struct Busy;

impl Busy {
    const COUNT_BITS: u32 = 32 - wait_fork::GENERATION_BITS;
    const COUNT: u32 = (1 << Self::COUNT_BITS) - 1;

    /// Counts one more user in the current generation; returns that generation.
    pub(crate) fn enter(word: &AtomicU32) -> u32 {
        let gen_now = wait_fork::generation();
        let mut w = word.load(Ordering::Relaxed);
        loop {
            let new = if w >> Self::COUNT_BITS == gen_now {
                w + 1
            } else {
                (gen_now << Self::COUNT_BITS) | 1
            };
            match word.compare_exchange_weak(w, new, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return gen_now,
                Err(now) => w = now,
            }
        }
    }

    /// Takes back a count made in generation `made_in`; nothing if the count has since been
    /// forgotten by a fork.
    pub(crate) fn leave(word: &AtomicU32, made_in: u32) {
        let mut w = word.load(Ordering::Relaxed);
        loop {
            if w >> Self::COUNT_BITS != made_in
                || made_in != wait_fork::generation()
                || w & Self::COUNT == 0
            {
                return;
            }
            match word.compare_exchange_weak(w, w - 1, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => w = now,
            }
        }
    }

    /// Refuses one more borrow of a lock by a condition once half of the count's room is taken
    /// (524287 conditions on one lock): the other half is for threads blocked in it.
    pub(crate) fn check_borrow(word: &AtomicU32) -> Result<(), Error> {
        if Self::count(word) >= Self::COUNT / 2 {
            return Err(Error::new(
                rt_status::RT_ENOMEM,
                "too many conditions use this lock",
            ));
        }
        Ok(())
    }

    /// The count, as the current generation sees it.
    pub(crate) fn count(word: &AtomicU32) -> u32 {
        let w = word.load(Ordering::Acquire);
        if w >> Self::COUNT_BITS == wait_fork::generation() {
            w & Self::COUNT
        } else {
            0
        }
    }
}

/// An object behind a handle.
#[repr(C)]
pub struct Obj<T> {
    header: Header,
    pub inner: T,
}

/// A core type that can live behind a handle.
pub trait Handled {
    const KIND: Kind;

    /// What a fork child must repair in the object, if anything: listed (`wait::fork`) from
    /// `Obj::alloc` until `free`.
    fn fork_safe(&self) -> Option<&(dyn wait_fork::ForkSafe + 'static)> {
        None
    }
}

impl Handled for crate::sync::Lock {
    const KIND: Kind = Kind::Lock;
}

/// Counts the calling thread as blocked on an object while it lives.
pub struct BusyGuard<'a> {
    word: &'a AtomicU32,
    made_in: u32,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        Busy::leave(self.word, self.made_in);
    }
}

impl<T: Handled> Obj<T> {
    /// Allocates an object; `RT_ENOMEM` when the allocator refuses.
    pub fn alloc(inner: T) -> Result<*mut Obj<T>, Error> {
        Self::alloc_then(inner, |_| Ok(()))
    }

    /// [`Obj::alloc`], then `then` on the object before anyone else sees it; its error
    /// destroys the object again.
    pub fn alloc_then(
        inner: T,
        then: impl FnOnce(&Obj<T>) -> Result<(), Error>,
    ) -> Result<*mut Obj<T>, Error> {
        // The fork handler, which moves the generation that busy counts are tagged with, is
        // registered before any object exists.
        #[cfg(not(loom))]
        wait_fork::ensure_registered();
        // A box, which `free` takes back; every later use of the object derives from `p`.
        let p = Box::into_raw(try_box(Obj {
            header: Header {
                kind: T::KIND as u32,
                busy: AtomicU32::new(0),
            },
            inner,
        })?);
        // SAFETY: `p` was just made, and nobody else has it.
        let obj = unsafe { &*p };
        let fork_safe = obj.inner.fork_safe();
        // SAFETY: the object stays at `p` until `free`, which unregisters it first.
        let mut made = fork_safe.map_or(Ok(()), |f| unsafe { wait_fork::register(f) });
        if made.is_ok() {
            made = then(obj);
            if made.is_err() {
                if let Some(f) = fork_safe {
                    wait_fork::unregister(f);
                }
            }
        }
        match made {
            Ok(()) => Ok(p),
            Err(e) => {
                // SAFETY: `p` came from the box above, and nobody else has seen it.
                drop(unsafe { Box::from_raw(p) });
                Err(e)
            }
        }
    }

    /// Marks the calling thread as blocked on the object until the guard drops.
    pub fn busy(&self) -> BusyGuard<'_> {
        BusyGuard {
            word: &self.header.busy,
            made_in: Busy::enter(&self.header.busy),
        }
    }

    /// Whether a thread is inside a blocking call on the object (or a condition borrows it).
    pub fn is_busy(&self) -> bool {
        Busy::count(&self.header.busy) != 0
    }
}

/// Checks a handle: NULL and wrong kinds are `RT_EINVAL`.
///
/// # Safety
/// `p` must be NULL or a pointer that an rthread `_new` function returned and that has not
/// been freed.
#[inline]
pub unsafe fn handle<'a, T: Handled, C>(p: *const C) -> Result<&'a Obj<T>, Error> {
    if p.is_null() {
        return Err(Error::NULL_HANDLE);
    }
    // SAFETY: by the contract, `p` points to a live object, and every object starts with a
    // Header, so reading the tag is valid whatever its kind.
    let kind = unsafe { (*(p as *const Header)).kind };
    if kind != T::KIND as u32 {
        return Err(Error::WRONG_KIND);
    }
    // SAFETY: the tag says the object is an Obj<T>.
    Ok(unsafe { &*(p as *const Obj<T>) })
}

/// Frees a handle made by `Obj::alloc`: NULL is fine, a busy object is `RT_EBUSY` (and kept).
///
/// # Safety
/// As for [`handle`]; after `RT_OK` the handle is dangling.
pub unsafe fn free<T: Handled, C>(p: *mut C) -> rt_status {
    if p.is_null() {
        return rt_status::RT_OK;
    }
    // SAFETY: forwarded contract.
    let obj = match unsafe { handle::<T, C>(p) } {
        Ok(o) => o,
        Err(e) => return record(&e),
    };
    if obj.is_busy() {
        return record(&Error::BUSY);
    }
    if let Some(f) = obj.inner.fork_safe() {
        wait_fork::unregister(f);
    }
    crate::debug::names::forget(p as usize);
    crate::debug::freed(p as usize);
    // SAFETY: the object is ours to destroy; `Obj::alloc` made it a box.
    let mut obj = unsafe { Box::from_raw(p as *mut Obj<T>) };
    obj.header.kind = KIND_FREED;
    drop(obj);
    rt_status::RT_OK
}

/// A blocking acquire on the C face, the shape of [`crate::sync::Acquire::acquire_with`] with
/// the debug records: at once if it can; a try ends there with `RT_TIMEOUT`; otherwise the
/// thread is counted busy on the object (`busy`), its blocked-on record says `call` on `obj`
/// (with deadlock detection on, `RT_EDEADLK` instead of a wait that would close a cycle), and
/// it waits. `timeout` is the caller's, for the record (negative: none).
pub(crate) fn acquire_recorded<A: crate::sync::Acquire, G>(
    a: &A,
    wait: crate::time::Wait,
    obj: crate::debug::Object,
    call: &'static str,
    timeout: f64,
    busy: impl FnOnce() -> G,
) -> Result<(), Error> {
    if a.acquire_now()? {
        return Ok(());
    }
    if wait == crate::time::Wait::Try {
        return Err(Error::TIMEOUT);
    }
    let _busy = busy();
    let mut waiting = crate::debug::waiting::Waiting::begin(obj, call, timeout, 0, None)?;
    a.acquire_blocking(wait)?;
    waiting.set_acquired();
    Ok(())
}

/// The calling thread's blocked-on record for a wait in `call` on `obj` (`timeout` in seconds,
/// negative: none), until the value drops; declared after the object's busy guard, so that it
/// is cleared first. Never fails for these kinds (deadlock detection is for locks and joins).
pub(crate) fn waiting(
    obj: *const impl Sized,
    kind: crate::debug::Kind,
    call: &'static str,
    timeout: f64,
) -> Option<crate::debug::waiting::Waiting> {
    crate::debug::waiting::Waiting::begin(
        crate::debug::Object::new(obj, kind),
        call,
        timeout,
        0,
        None,
    )
    .ok()
}
