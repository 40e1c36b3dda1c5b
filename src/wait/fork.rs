//! The one fork handler: what a child of `fork()` keeps, and what it forgets.
//!
//! # The problem
//! `fork()` copies the whole address space but only the calling thread. Every other thread
//! vanishes wherever it was: inside an internal lock (a queue's, a barrier's, a bucket of the
//! parking table), half-way through a lock-free operation (a claimed, unpublished slot of a
//! ring), or counted as a waiter somewhere (a handle's busy count, a queue's or barrier's
//! count). The child must get a library in which every object is usable and freeable, without
//! losing what the user can see: a held Lock stays held (any thread may release it), items stay
//! in their queues. CPython re-initialises its internal locks in the child (`_at_fork_reinit`)
//! and empties its parking lot; so do we.
//!
//! # One registration, one order
//! [`ensure_registered`] makes one `pthread_atfork` registration, the first time any layer
//! needs it (the first park, the first listed object, the first thread). Its handlers visit
//! the layers in a fixed order:
//!
//! - **prepare** (in the forking thread, before the fork), top-down: the thread layer takes
//!   the registry's lock, then the list of live objects is locked and every listed object's
//!   internal lock taken ([`ForkSafe::try_lock_for_fork`]), so that no other thread is inside
//!   one of them at the fork: the child sees every store behind those locks in a consistent
//!   state (a queue's buffer is never half-reallocated);
//! - **parent** (in the parent, after the fork): everything prepare took is released;
//! - **child** (in the child, after the fork), bottom-up: the waiting core (its table holds only
//!   vanished threads; the blocking hooks' sequence; the caller's parker), then the fork
//!   generation moves on (see below), then every listed object
//!   ([`ForkSafe::reset_in_child`]: its internal lock re-initialised, vanished waiters
//!   forgotten), then the thread layer (registry, thread count, thread-local slots). The C
//!   face needs no step of its own: its handles' busy counts are tagged with the generation,
//!   and the conditions that borrow a lock are listed objects.
//!
//! # Lock order, and why prepare cannot deadlock
//! Prepare takes the registry lock, then the list lock, then the objects' internal locks, all
//! with *try*-acquires; if one is busy it releases everything it holds, yields, and starts
//! again. So prepare never waits while holding a lock, and whatever a thread holds while it
//! waits (a priority queue's comparator, which runs under its queue's lock, may use another
//! queue or create an object) is eventually released: the holder can always make progress,
//! and prepare gets everything once no thread is inside any of these short sections. Internal
//! locks are never held across a block or user code (the comparator is the one exception), so
//! that moment comes quickly. A comparator must not fork (its own queue's lock could then never
//! be taken); nothing else that runs under an internal lock is user code.
//!
//! # Counts of vanished waiters: the fork generation
//! Small objects (a Lock is 12 bytes) have no room to be listed, yet a handle counts the
//! threads blocked in it (`_free` refuses while any are). Those counts carry the
//! [`generation`] in which they were made: a count tagged with an older generation is read as
//! zero, and a thread that entered the call before the fork (only the forking thread survives)
//! does not take back what it added. The generation is 12 bits: a count could only be believed
//! again after 4096 nested forks (a fork of a fork of … of a fork) during which its object was
//! never used; then it would make the object refuse to be freed, never free it early.

use super::lock_cell::LockCell;
use super::sys::{AtomicU32, Ordering};
use crate::status::Error;
use std::collections::HashMap;

/// An object whose state a fork child must repair: it is listed while it lives (see
/// [`register`]) and visited by the fork handlers.
pub trait ForkSafe {
    /// Prepare: takes the object's internal lock if that needs no wait. `false`: busy, try
    /// again later. Runs in the forking thread before the fork.
    fn try_lock_for_fork(&self) -> bool;
    /// Parent: releases what `try_lock_for_fork` took.
    fn unlock_after_fork(&self);
    /// Child: re-initialises the internal lock (which the forking thread holds since prepare)
    /// and forgets every vanished thread: waiter counts, claimed slots. User-visible state
    /// (items, flags, held user locks) is kept.
    fn reset_in_child(&self);
}

/// Bits of the generation kept in a tagged count (see the module comment).
pub const GENERATION_BITS: u32 = 12;

static GENERATION: AtomicU32 = AtomicU32::new(0);

/// The fork generation: 0 in the initial process, one more in each fork child (modulo
/// 2^[`GENERATION_BITS`]).
#[inline]
pub fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

/// A layer above the waiting core with locks of its own: the debug layer, the thread layer.
#[derive(Clone, Copy)]
pub struct LayerHooks {
    /// Prepare: takes the layer's locks without waiting; `false` if one is busy.
    pub try_lock: fn() -> bool,
    /// Parent: releases them.
    pub unlock: fn(),
    /// Child: resets the layer.
    pub child: fn(),
}

/// The live objects, keyed by address, and the debug and thread layers' hooks (installed once
/// by each layer).
struct Live {
    objects: Option<HashMap<usize, *const dyn ForkSafe>>,
    thread_layer: Option<LayerHooks>,
    debug_layer: Option<LayerHooks>,
}

// SAFETY: the pointers are to listed objects, which are shared between threads anyway (they
// are the objects behind C handles); the list only hands them to the fork handlers.
unsafe impl Send for Live {}

static LIVE: LockCell<Live> = LockCell::new(Live {
    objects: None,
    thread_layer: None,
    debug_layer: None,
});

/// Makes the one `pthread_atfork` registration (once; later calls cost one atomic load).
pub fn ensure_registered() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    if REGISTERED.is_completed() {
        return;
    }
    // A thread that finds another registering waits in std's futex: errno kept.
    let _errno = crate::status::KeepErrno::new();
    REGISTERED.call_once(|| {
        // SAFETY: three `extern "C"` functions that never unwind. If the registration fails
        // (ENOMEM), fork children simply keep the parent's state, as before any registration.
        unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    });
}

/// Installs the thread layer's hooks (idempotent: the layer passes the same ones each time).
pub fn install_thread_layer(hooks: LayerHooks) {
    ensure_registered();
    LIVE.lock().thread_layer = Some(hooks);
}

/// Installs the debug layer's hooks (idempotent). Its locks are leaves (no other lock is taken
/// while one is held): prepare takes them after the objects', the child resets them before.
pub fn install_debug_layer(hooks: LayerHooks) {
    ensure_registered();
    LIVE.lock().debug_layer = Some(hooks);
}

/// Lists `obj` until [`unregister`]: the fork handlers visit it. `RT_ENOMEM` if the list cannot
/// grow.
///
/// # Safety
/// `obj` must stay valid (not move, not be dropped) until it is unregistered.
pub unsafe fn register(obj: *const dyn ForkSafe) -> Result<(), Error> {
    ensure_registered();
    let mut live = LIVE.lock();
    let map = live.objects.get_or_insert_with(HashMap::new);
    map.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
    map.insert(obj as *const () as usize, obj);
    Ok(())
}

/// Takes `obj` off the list (nothing if it is not on it).
pub fn unregister(obj: *const dyn ForkSafe) {
    if let Some(map) = &mut LIVE.lock().objects {
        map.remove(&(obj as *const () as usize));
    }
}

/// The listed objects.
fn objects(live: &Live) -> impl Iterator<Item = &dyn ForkSafe> {
    // SAFETY: a listed object is valid until it is unregistered (the contract of `register`),
    // which cannot happen while the caller has the list.
    live.objects
        .iter()
        .flat_map(|m| m.values())
        .map(|p| unsafe { &**p })
}

/// Releases the first `n` listed objects' internal locks (those prepare took): the list did not
/// change since (its lock is held throughout), so its first `n` entries are the ones locked.
fn unlock_objects(live: &Live, n: usize) {
    for o in objects(live).take(n) {
        o.unlock_after_fork();
    }
}

extern "C" fn prepare() {
    loop {
        // Read without waiting (a wait could run blocking hooks in the forking thread).
        let Some(thread_layer) = LIVE.try_lock().map(|l| l.thread_layer) else {
            super::sys::yield_now();
            continue;
        };
        if let Some(t) = thread_layer {
            if !(t.try_lock)() {
                super::sys::yield_now();
                continue;
            }
        }
        // Taken without waiting, as every lock here: prepare never waits holding one.
        if LIVE.try_lock_for_fork() {
            // SAFETY: just taken, and no other reference to the list is alive in this thread.
            let live = unsafe { LIVE.held_for_fork() };
            let mut locked = 0;
            let mut all = true;
            for o in objects(live) {
                if !o.try_lock_for_fork() {
                    all = false;
                    break;
                }
                locked += 1;
            }
            if all && live.debug_layer.is_none_or(|d| (d.try_lock)()) {
                // Everything stays held across the fork: `parent` and `child` let go.
                return;
            }
            unlock_objects(live, locked);
            // SAFETY: taken above; `live` is not used again.
            unsafe { LIVE.unlock_after_fork() };
        }
        if let Some(t) = thread_layer {
            (t.unlock)();
        }
        super::sys::yield_now();
    }
}

extern "C" fn parent() {
    // SAFETY: prepare left the list locked, with every object locked, in this thread.
    let live = unsafe { LIVE.held_for_fork() };
    if let Some(d) = live.debug_layer {
        (d.unlock)();
    }
    unlock_objects(live, usize::MAX);
    let thread_layer = live.thread_layer;
    // SAFETY: as above; `live` is not used again.
    unsafe { LIVE.unlock_after_fork() };
    if let Some(t) = thread_layer {
        (t.unlock)();
    }
}

extern "C" fn child() {
    // The waiting core first: everything above parks through it.
    super::reset_after_fork();
    GENERATION.store(
        (generation() + 1) & ((1 << GENERATION_BITS) - 1),
        Ordering::Relaxed,
    );
    // SAFETY: the child has one thread, this one, which prepare left holding the list lock.
    let live = unsafe { LIVE.reset_in_child() };
    if let Some(d) = live.debug_layer {
        (d.child)();
    }
    for o in objects(live) {
        o.reset_in_child();
    }
    if let Some(t) = live.thread_layer {
        (t.child)();
    }
    // The C face has nothing left to reset: its handles' busy counts are tagged with the
    // generation, and its listed parts (conditions' borrows) were visited with the objects.
}
