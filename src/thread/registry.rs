//! The registry of live threads (`threading.enumerate`, `active_count`, `current_thread`,
//! `main_thread`).
//!
//! The registry is a vector of thread objects under one [`LockCell`]; each object knows its index, so
//! leaving is a swap-remove. It holds every thread object that is starting or alive, the main
//! thread's object, and the dummies of foreign threads that asked for their own object.
//! `enumerate` and `active_count` list only the alive ones, so neither ever shows a thread that
//! has not started yet or has ended. No user code runs under the lock, and nothing blocks under
//! it: it is held for a few instructions (and, rarely, an allocation to grow the vector). So it
//! need not be re-entrant (CPython's is, bpo-44422, because its callbacks run under it); the
//! registry's functions are not async-signal-safe, though: a signal handler must not call them.
//!
//! The calling thread's object is found through a thread-local pointer with no destructor (so
//! it can be read at any point of a thread's teardown): set by a thread rthread started for its
//! own object, by the main thread once it is recognised (on Linux, the thread whose id is the
//! process id), and by a foreign thread's dummy. A dummy is created by [`current_thread`] and
//! kept by a thread-local guard whose destructor takes it out of the registry when its thread
//! ends (Python 3.13 does the same; earlier versions kept dummies forever).
//!
//! The wait for non-daemon threads at exit is [`super::shutdown`](mod@super::shutdown)'s. A fork handler, armed
//! with the first registration, drops from a child's registry the threads that stayed in the
//! parent, so a child never waits for them at exit.

use super::object::Thread;
use super::os;
use crate::memory::Arc;
use crate::status::{Error, rt_status};
use crate::wait::{LockCell, RecordRef};
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// The registered threads; every object's `registry_index` changes only under this lock.
static REGISTRY: LockCell<Vec<Arc<Thread>>> = LockCell::new(Vec::new());

/// Runs `f` on the registry's vector, under its lock. `f` must not block or call user code.
pub(super) fn with_threads<R>(f: impl FnOnce(&mut Vec<Arc<Thread>>) -> R) -> R {
    REGISTRY.with(f)
}

/// Adds a thread object. `RT_ENOMEM` if the vector cannot grow.
pub(super) fn register(t: &Arc<Thread>) -> Result<(), Error> {
    arm_fork_handler();
    with_threads(|v| {
        v.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
        t.registry_index.store(v.len(), Ordering::Relaxed);
        v.push(t.clone());
        Ok(())
    })
}

/// Takes a thread object out, if it is in; returns the registry's reference, to be dropped by
/// the caller outside the lock.
pub(super) fn unregister(t: &Thread) -> Option<Arc<Thread>> {
    with_threads(|v| {
        let i = t.registry_index.load(Ordering::Relaxed);
        if i >= v.len() {
            return None;
        }
        t.registry_index.store(usize::MAX, Ordering::Relaxed);
        let removed = v.swap_remove(i);
        if let Some(moved) = v.get(i) {
            moved.registry_index.store(i, Ordering::Relaxed);
        }
        Some(removed)
    })
}

/// A thread has ended (or, at exit, counts as ended): its OS name is gone, it leaves the
/// registry, and it is STOPPED, which wakes its joiners. Idempotent.
pub(super) fn finish(t: &Thread) {
    t.name_os_gone();
    drop(unregister(t));
    t.stop();
}

/// `threading.enumerate()` for Rust: the alive threads, in no particular order.
pub fn enumerate() -> Vec<Arc<Thread>> {
    let mut out = Vec::new();
    let n = active_count();
    out.reserve(n);
    let _ = enumerate_with(|t| out.push(t.clone()));
    out
}

/// Calls `f` on every alive thread under the registry lock (so the set is one snapshot);
/// returns how many there were. `f` must not block, call user code, or use the registry.
/// `RT_ENOMEM` if the main thread's object cannot be made (see [`main_thread`]).
pub fn enumerate_with(mut f: impl FnMut(&Arc<Thread>)) -> Result<usize, Error> {
    main_thread()?;
    Ok(with_threads(|v| {
        let mut n = 0;
        for t in v.iter().filter(|t| listed(t)) {
            f(t);
            n += 1;
        }
        n
    }))
}

/// `threading.active_count()`: the number of alive threads, as `enumerate` counts them.
/// Without memory for the main thread's object, the count leaves it out.
pub fn active_count() -> usize {
    let _ = main_thread();
    with_threads(|v| v.iter().filter(|t| listed(t)).count())
}

/// Whether `enumerate` and `active_count` count a registered thread: an alive one, or the main
/// thread once `shutdown` has marked it done (CPython keeps it in `_active`).
fn listed(t: &Arc<Thread>) -> bool {
    t.is_alive() || main_if_known().is_some_and(|m| Arc::ptr_eq(m, t))
}

// ---------------------------------------------------------------------------------------------
// The main thread.

/// The initial thread's ident, recorded when the library is loaded in it (0: not known).
static MAIN_IDENT: AtomicU64 = AtomicU64::new(0);

static MAIN: OnceLock<Arc<Thread>> = OnceLock::new();

/// In a fork child whose forking thread was not the main thread: that thread, now the main one
/// (a reference leaked on purpose, so that `main_thread` can hand out `&'static`).
static MAIN_AFTER_FORK: AtomicPtr<Arc<Thread>> = AtomicPtr::new(std::ptr::null_mut());

/// The main thread's object if it exists already (no allocation, no lock).
pub(super) fn main_if_known() -> Option<&'static Arc<Thread>> {
    let p = MAIN_AFTER_FORK.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: set once per fork child from a leaked Box, never freed.
        return Some(unsafe { &*p });
    }
    MAIN.get()
}

/// The initial thread's record in the waiting core, noted at load (for `rt_interrupt_main`).
static MAIN_RECORD: OnceLock<RecordRef> = OnceLock::new();

/// Whether the calling thread is the process's initial thread.
fn is_initial_thread() -> bool {
    #[cfg(target_os = "linux")]
    {
        os::get_native_id() == u64::from(std::process::id())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let m = MAIN_IDENT.load(Ordering::Relaxed);
        m != 0 && m == os::get_ident()
    }
}

/// Runs when the library is loaded: in the initial thread (the usual case: linked at start-up,
/// or loaded from `main`), it records the main thread's ident, so that the main thread's object
/// has it even if another thread asks for it first.
#[cfg(target_os = "linux")]
extern "C" fn note_main_thread() {
    // The thread-exit keys, in the order their destructors should run.
    super::teardown::make_key();
    crate::wait::make_record_key();
    if is_initial_thread() {
        MAIN_IDENT.store(os::get_ident(), Ordering::Relaxed);
        if let Ok(r) = crate::wait::current_record() {
            let _ = MAIN_RECORD.set(r);
        }
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_MAIN_THREAD: extern "C" fn() = note_main_thread;

/// `threading.main_thread()`: the process's initial thread, "MainThread", not a daemon, alive
/// until the process exits. If rthread is first used from another thread and was not loaded in
/// the initial thread, its ident is 0 until the main thread itself calls into the registry.
/// The object is made at the first call: `RT_ENOMEM` if it cannot be (nothing changed then).
pub fn main_thread() -> Result<&'static Arc<Thread>, Error> {
    if let Some(t) = main_if_known() {
        return Ok(t);
    }
    // Made outside the OnceLock (whose initialiser cannot fail); a thread that loses the race
    // drops its copy.
    let made = {
        let ident = MAIN_IDENT.load(Ordering::Relaxed);
        let (ident, native) = if is_initial_thread() {
            (os::get_ident(), os::get_native_id())
        } else {
            // On Linux the initial thread's id is the pid.
            #[cfg(target_os = "linux")]
            let native = u64::from(std::process::id());
            #[cfg(not(target_os = "linux"))]
            let native = 0;
            (ident, native)
        };
        let record = if is_initial_thread() {
            Some(crate::wait::current_record()?)
        } else {
            MAIN_RECORD.get().cloned()
        };
        let t = Thread::alloc(Thread::new_main(ident, native))?;
        if let Some(r) = record {
            t.adopt_record(r);
        }
        t
    };
    // Listed and published together, under the registry lock (so a thread that loses the race
    // drops its copy, and a failure leaves neither).
    arm_fork_handler();
    with_threads(|v| {
        if MAIN.get().is_none() {
            v.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
            made.registry_index.store(v.len(), Ordering::Relaxed);
            v.push(made.clone());
            let _ = MAIN.set(made);
        }
        Ok(())
    })?;
    Ok(MAIN.get().expect("set above"))
}

/// `_thread.interrupt_main()`: interrupts the main thread's current or next wait. Reads no lock
/// and allocates nothing when the main thread is known (async-signal-safe on Linux).
pub fn interrupt_main() -> Result<(), Error> {
    if let Some(t) = main_if_known() {
        return t.interrupt();
    }
    match MAIN_RECORD.get() {
        Some(r) => {
            r.interrupt();
            Ok(())
        }
        None => Err(crate::wait::interrupt::NOT_RUNNING),
    }
}

// ---------------------------------------------------------------------------------------------
// The calling thread.

thread_local! {
    /// The calling thread's object, if known (no destructor: readable during teardown).
    static CURRENT: Cell<*const Thread> = const { Cell::new(std::ptr::null()) };
    /// The calling thread was found not to be the main thread (and has no object yet).
    static NOT_MAIN: Cell<bool> = const { Cell::new(false) };
    /// The calling thread, started by rthread, is done with its object (it is ending).
    static ENDED: Cell<bool> = const { Cell::new(false) };
    /// A foreign thread's dummy (or the main thread's object), a reference given up with
    /// `Arc::into_raw`: taken out of the registry when the thread ends ([`at_thread_end`], from
    /// the thread-exit key, which is armed whenever this is set).
    static FOREIGN: Cell<*const Thread> = const { Cell::new(std::ptr::null()) };
}

/// The calling thread ends (see `super::teardown`): its dummy, or the main thread's object,
/// leaves the registry.
pub(super) fn at_thread_end() {
    let p = FOREIGN.with(|f| f.replace(std::ptr::null()));
    if p.is_null() {
        return;
    }
    CURRENT.with(|c| {
        if std::ptr::eq(c.get(), p) {
            c.set(std::ptr::null());
        }
    });
    // SAFETY: the reference that was given up when FOREIGN was set.
    let t = unsafe { Arc::from_raw(p) };
    finish(&t);
}

/// Keeps `t` as the calling thread's object until the thread ends, when it leaves the
/// registry. `RT_ENOMEM` (and nothing kept) if the thread's end cannot be watched.
fn keep_until_thread_end(t: &Arc<Thread>) -> Result<(), Error> {
    super::teardown::arm()?;
    let old = FOREIGN.with(|f| f.replace(Arc::into_raw(t.clone())));
    if !old.is_null() {
        // SAFETY: the reference given up when `old` was set (not expected: a thread has one).
        drop(unsafe { Arc::from_raw(old) });
    }
    Ok(())
}

/// A thread rthread started sets its own object, for its life.
pub(super) fn set_current(t: &Thread) {
    CURRENT.with(|c| c.set(t));
}

/// The thread rthread started is done with its object: what runs in it from now on (the
/// system's thread-local destructors) has no thread object, and gets no dummy either.
pub(super) fn clear_current() {
    CURRENT.with(|c| c.set(std::ptr::null()));
    NOT_MAIN.with(|n| n.set(true));
    ENDED.with(|e| e.set(true));
}

/// The calling thread's object, if it has one (a thread rthread started, the main thread, or a
/// foreign thread that has a dummy); never creates a dummy. The object stays valid while the
/// calling thread runs: its own thread, the static main object, or the dummy guard holds it.
pub(super) fn current_ptr() -> *const Thread {
    let p = CURRENT.with(Cell::get);
    if !p.is_null() || NOT_MAIN.with(Cell::get) {
        return p;
    }
    if is_initial_thread() {
        // Without memory for the main thread's object, the thread has none (yet).
        let Ok(m) = main_thread() else {
            return std::ptr::null();
        };
        // When the main thread ends (pthread_exit, or exit()) it leaves the registry; without
        // memory to watch for that, it is not recognised (yet) either.
        if keep_until_thread_end(m).is_err() {
            return std::ptr::null();
        }
        m.adopt_main();
        let p = Arc::as_ptr(m);
        CURRENT.with(|c| c.set(p));
        return p;
    }
    NOT_MAIN.with(|n| n.set(true));
    std::ptr::null()
}

/// Whether `t` is the calling thread's object.
pub(super) fn is_current(t: &Thread) -> bool {
    std::ptr::eq(current_ptr(), t)
}

/// The daemon flag a new thread inherits: the calling thread's. The main thread is not a daemon;
/// a foreign thread is (its dummy would be).
pub(super) fn current_is_daemon() -> bool {
    let p = current_ptr();
    if p.is_null() {
        // A foreign thread; or the main thread, which is not a daemon, if its object could not
        // be made.
        return !is_initial_thread() || ENDED.with(Cell::get);
    }
    // SAFETY: see current_ptr: the object outlives this call.
    unsafe { (*p).daemon() }
}

const THREAD_ENDING: Error = Error::new(
    rt_status::RT_ESTATE,
    "the calling thread is ending: it has no thread object",
);

/// `threading.current_thread()`: the calling thread's object. A thread rthread did not start
/// (other than the main thread) gets a dummy on its first call: `Dummy-N`, daemon, alive, listed
/// by `enumerate`, and out of the registry when the thread ends. `RT_ESTATE` in a thread whose
/// end is under way: a foreign thread whose thread-local data is being destroyed, or a thread
/// rthread started, after its object stopped; `RT_ENOMEM`.
pub fn current_thread() -> Result<Arc<Thread>, Error> {
    let p = current_ptr();
    if p.is_null() && ENDED.with(Cell::get) {
        return Err(THREAD_ENDING);
    }
    if !p.is_null() {
        // SAFETY: `p` came from an Arc that is alive (see current_ptr); one more reference.
        unsafe {
            Arc::increment_strong_count(p);
            return Ok(Arc::from_raw(p));
        }
    }
    main_thread()?;
    if is_initial_thread() {
        // The main thread's object exists, but watching for the thread's end needs memory.
        return Err(Error::NO_MEMORY);
    }
    let t = Thread::alloc(Thread::new_dummy(crate::wait::current_record()?))?;
    register(&t)?;
    if let Err(e) = keep_until_thread_end(&t) {
        drop(unregister(&t));
        return Err(e);
    }
    CURRENT.with(|c| c.set(Arc::as_ptr(&t)));
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// Fork.

/// Installs the thread layer's part of the one fork handler (`wait::fork`); once, at the first
/// registration of a thread object (the main thread's and dummies' included) or the first
/// thread rthread starts.
pub(super) fn arm_fork_handler() {
    static ARMED: std::sync::Once = std::sync::Once::new();
    ARMED.call_once(|| {
        #[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
        crate::wait::fork::install_thread_layer(crate::wait::fork::LayerHooks {
            try_lock: || REGISTRY.try_lock_for_fork(),
            // SAFETY: the fork handler calls `unlock` only after its `try_lock` succeeded.
            unlock: || unsafe { REGISTRY.unlock_after_fork() },
            child: after_fork_in_child,
        });
    });
}

/// In the child of `fork` (called by `wait::fork`'s handler, after the waiting core and the
/// objects were reset): only the forking thread exists, and it is now the main thread (as
/// in CPython). Every other thread object leaves the registry, stopped (so neither
/// `rt_enumerate` nor the wait at exit sees it), and the internal locks that another thread may
/// have held at the fork are forced open: the registry's, the hooks', the thread-local slots'
/// and the waiting core's. The objects that vanished threads referenced stay allocated (their
/// references died with those threads), as CPython leaks them.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn after_fork_in_child() {
    // The forking thread holds the registry lock since the fork handler's prepare step, so the
    // vector is consistent; it is let go here.
    // SAFETY: the child has one thread, this one, with no guard of the registry alive.
    let v = unsafe { REGISTRY.reset_in_child() };
    os::reset_count_after_fork();
    super::thread_hooks::reset_after_fork();
    super::local::reset_after_fork();
    let me = CURRENT.with(Cell::get);
    let old_main = main_if_known().map_or(std::ptr::null(), Arc::as_ptr);
    let mut survivor = None;
    let mut i = 0;
    while i < v.len() {
        let t = &v[i];
        let is_me = if me.is_null() {
            std::ptr::eq(Arc::as_ptr(t), old_main) && is_initial_thread_of_parent(t)
        } else {
            std::ptr::eq(Arc::as_ptr(t), me)
        };
        if is_me {
            t.survive_fork();
            survivor = Some(t.clone());
            t.registry_index.store(i, Ordering::Relaxed);
            i += 1;
        } else {
            t.vanish_after_fork();
            t.registry_index.store(usize::MAX, Ordering::Relaxed);
            // Not dropped: dropping could free memory that a vanished thread's frames still
            // point to, and nothing may run that is not needed in a fork child.
            std::mem::forget(v.swap_remove(i));
        }
    }
    let new_main = match survivor {
        Some(t) => t,
        None => {
            // The forking thread had no object: it gets a main thread object of its own.
            let Ok(t) = Thread::alloc(Thread::new_main(os::get_ident(), os::get_native_id()))
            else {
                return;
            };
            if let Ok(r) = crate::wait::current_record() {
                t.adopt_record(r);
            }
            if v.try_reserve(1).is_ok() {
                t.registry_index.store(v.len(), Ordering::Relaxed);
                v.push(t.clone());
            }
            CURRENT.with(|c| c.set(Arc::as_ptr(&t)));
            t
        }
    };
    if !std::ptr::eq(Arc::as_ptr(&new_main), old_main) {
        MAIN_AFTER_FORK.store(Box::into_raw(Box::new(new_main)), Ordering::Release);
    }
}

/// Whether `t` is the main thread object and the forking thread is the one it stands for (the
/// main thread forked before it ever asked rthread who it is).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn is_initial_thread_of_parent(t: &Thread) -> bool {
    t.ident() == os::get_ident()
}

#[cfg(test)]
mod tests {
    use super::super::object::ThreadKind;
    use super::*;

    #[test]
    fn a_foreign_thread_gets_a_dummy_until_it_ends() {
        let dummy = std::thread::spawn(|| {
            let me = current_thread().unwrap();
            assert_eq!(me.kind(), ThreadKind::Dummy);
            assert!(me.name().starts_with("Dummy-"));
            assert!(me.daemon() && me.is_alive());
            assert!(Arc::ptr_eq(&me, &current_thread().unwrap()));
            assert!(enumerate().iter().any(|t| Arc::ptr_eq(t, &me)));
            assert_eq!(me.join(-1.0).unwrap_err().status, rt_status::RT_ESTATE);
            me
        })
        .join()
        .unwrap();
        assert!(!dummy.is_alive());
        assert!(!enumerate().iter().any(|t| Arc::ptr_eq(t, &dummy)));
    }

    #[test]
    fn the_main_thread_is_listed_and_not_a_daemon() {
        let m = main_thread().unwrap();
        assert_eq!(m.kind(), ThreadKind::Main);
        assert_eq!(m.name(), "MainThread");
        assert!(!m.daemon());
        assert!(enumerate().iter().any(|t| Arc::ptr_eq(t, m)));
        assert!(active_count() >= 1);
    }
}
