//! The process's exit: the list of pools, and the exit handler that refuses new work, closes
//! every pool and joins its workers (CPython's `concurrent.futures.thread._shutdown`
//! with `threading`'s atexit hook).

use super::pool::{Shared, join_all};
use crate::memory::Arc;
use crate::status::Error;
use crate::wait::LockCell;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};

/// Set when the process begins to exit (CPython's `concurrent.futures.thread._shutdown`).
pub(super) static GLOBAL_SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// The registered pools. Each pointer is an `Arc<Shared>` that its `Executor` holds while it
/// is listed (`Executor::drop` unlists it first), so a holder of the list's lock may take a
/// reference.
struct Pools(Vec<*const Shared>);
// SAFETY: the pointers are pools shared between threads (`Shared` is Sync), each alive while
// listed (see above).
unsafe impl Send for Pools {}

static POOLS: LockCell<Pools> = LockCell::new(Pools(Vec::new()));

/// The next number of a pool without a prefix; only touched with the list's lock held.
static NEXT_NUMBER: AtomicU64 = AtomicU64::new(0);

fn with_pools<R>(f: impl FnOnce(&mut Vec<*const Shared>) -> R) -> R {
    POOLS.with(|p| f(&mut p.0))
}

/// A reference to a listed pool.
///
/// # Safety
/// The list's lock must be held and `p` listed.
unsafe fn listed(p: *const Shared) -> Arc<Shared> {
    // SAFETY: a listed pool is alive (its Executor holds it); one more reference.
    unsafe {
        Arc::increment_strong_count(p);
        Arc::from_raw(p)
    }
}

pub(super) fn register(sh: &Arc<Shared>) -> Result<(), Error> {
    static ARMED: std::sync::Once = std::sync::Once::new();
    // A thread that finds another arming waits in std's futex: errno kept.
    let _errno = crate::status::KeepErrno::new();
    ARMED.call_once(|| {
        // The registry's handler first, so that ours is registered after it and runs before it.
        crate::thread::shutdown::arm_exit_wait();
        // SAFETY: an `extern "C"` function that never unwinds. If registering fails (no
        // memory), the exit does not wait for workers.
        unsafe { libc::atexit(at_exit) };
    });
    with_pools(|v| {
        v.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
        if sh.prefix.is_none() {
            let n = NEXT_NUMBER.load(Ordering::Relaxed);
            sh.number.store(n, Ordering::Relaxed);
            NEXT_NUMBER.store(n + 1, Ordering::Relaxed);
        }
        v.push(Arc::as_ptr(sh));
        Ok(())
    })
}

pub(super) fn unregister(sh: &Arc<Shared>) {
    let me = Arc::as_ptr(sh);
    with_pools(|v| v.retain(|p| *p != me));
}

extern "C" fn at_exit() {
    // Under the list's lock: no pool comes or goes meanwhile. Under each pool's lock: a submit
    // that got in before this is queued before the pool closes.
    with_pools(|v| {
        GLOBAL_SHUTDOWN.store(true, Ordering::Release);
        for &p in v.iter() {
            // SAFETY: listed, and the lock is held.
            let sh = unsafe { &*p };
            sh.with(|st| sh.close(st, false));
        }
    });
    if !crate::thread::shutdown::exit_wait_enabled() {
        return;
    }
    // Each pool once (a worker's task may free a pool meanwhile, or exit from a worker).
    loop {
        let next = with_pools(|v| {
            v.iter()
                .copied()
                // SAFETY: listed, and the lock is held.
                .find(|&p| !unsafe { &*p }.exit_joined.swap(true, Ordering::AcqRel))
                // SAFETY: as above.
                .map(|p| unsafe { listed(p) })
        });
        match next {
            Some(sh) => {
                let _ = join_all(&sh, false);
            }
            None => break,
        }
    }
}

/// Whether the process has begun to exit (submits are refused).
pub fn interpreter_shutting_down() -> bool {
    GLOBAL_SHUTDOWN.load(Ordering::Acquire)
}
