//! `LockCell<T>`: rthread's one internal lock, with the data it guards.
//!
//! Every internal lock of the library (the thread registry, a thread's name, the thread hooks,
//! the thread-local slots, a queue's store, a future's state, an as-completed iterator, the fork
//! list) is a `LockCell`: `lock()` returns a guard that derefs to the data and unlocks when
//! dropped. It is a [`WordLock`] underneath, the three-state futex mutex of the wait table's
//! buckets, so a wait for it
//! - is never interrupted and never gives up (an interrupt stays pending for the user's next
//!   interruptible wait);
//! - runs the user's blocking hooks around each sleep, never while the lock is held: a woken
//!   waiter runs `after`, then competes for the lock again (there is no hand-off, so no hook
//!   ever runs with an internal lock held; a holder that runs user code, a priority queue's
//!   comparator, may need a waiter's `before` to make progress);
//! - is not fair, and needs not be: holders keep it for a few instructions.
//!
//! Fork: a thread that vanishes at `fork` may hold the lock in the child. An object whose lock
//! the fork handlers visit (see [`super::fork`]) takes it before the fork with
//! [`LockCell::try_lock_for_fork`] and lets go with [`LockCell::unlock_after_fork`] in the
//! parent or [`LockCell::reset_in_child`] in the child.

use super::word_lock::WordLock;
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};

pub struct LockCell<T: ?Sized> {
    lock: WordLock,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, which exists only while the lock is held,
// so at most one thread touches it at a time: `T: Send` is enough, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for LockCell<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Send for LockCell<T> {}

/// The lock of a [`LockCell`], held until the guard is dropped; derefs to the data.
pub struct CellGuard<'a, T: ?Sized> {
    cell: &'a LockCell<T>,
}

impl<T> LockCell<T> {
    #[cfg(not(loom))]
    pub const fn new(data: T) -> LockCell<T> {
        LockCell {
            lock: WordLock::new(),
            data: UnsafeCell::new(data),
        }
    }

    #[cfg(loom)]
    pub fn new(data: T) -> LockCell<T> {
        LockCell {
            lock: WordLock::new(),
            data: UnsafeCell::new(data),
        }
    }
}

impl<T: ?Sized> LockCell<T> {
    /// Takes the lock, waiting as the module comment says.
    #[inline]
    pub fn lock(&self) -> CellGuard<'_, T> {
        self.lock.lock_with_hooks();
        CellGuard { cell: self }
    }

    /// Takes the lock if it is free.
    #[inline]
    pub fn try_lock(&self) -> Option<CellGuard<'_, T>> {
        self.lock.try_lock().then(|| CellGuard { cell: self })
    }

    /// Runs `f` on the data under the lock.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock())
    }

    /// The data, through exclusive access (no lock needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Fork prepare: takes the lock if it is free, and keeps it (no guard) until
    /// [`LockCell::unlock_after_fork`] or [`LockCell::reset_in_child`].
    pub fn try_lock_for_fork(&self) -> bool {
        self.lock.try_lock()
    }

    /// The data, while the lock is held for a fork (the fork handlers run in separate calls,
    /// so no guard can span them).
    ///
    /// # Safety
    /// The caller holds the lock since [`LockCell::try_lock_for_fork`], and no other reference
    /// to the data is alive.
    #[allow(clippy::mut_from_ref)] // exclusive by the contract: the lock is held, no guard
    pub unsafe fn held_for_fork(&self) -> &mut T {
        // SAFETY: by the contract.
        unsafe { &mut *self.data.get() }
    }

    /// Fork parent: lets go of the lock [`LockCell::try_lock_for_fork`] took.
    ///
    /// # Safety
    /// The caller took the lock with `try_lock_for_fork` and has not let go of it since.
    pub unsafe fn unlock_after_fork(&self) {
        self.lock.unlock();
    }

    /// Fork child: forces the lock open (its holder, if any, is gone), and returns the data for
    /// the child's repairs.
    ///
    /// # Safety
    /// Only in a fork child, which has one thread, with no guard of this cell alive in it.
    #[allow(clippy::mut_from_ref)] // exclusive by the contract: the only thread, no guard
    pub unsafe fn reset_in_child(&self) -> &mut T {
        self.lock.reset();
        // SAFETY: by the contract, nothing else can reach the data.
        unsafe { &mut *self.data.get() }
    }
}

impl<T: ?Sized> Deref for CellGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.cell.data.get() }
    }
}

impl<T: ?Sized> DerefMut for CellGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and is borrowed mutably.
        unsafe { &mut *self.cell.data.get() }
    }
}

impl<T: ?Sized> Drop for CellGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.cell.lock.unlock();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_guard_excludes_other_threads_and_try_lock_fails_while_held() {
        let cell = Arc::new(LockCell::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = cell.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let mut g = c.lock();
                        let v = *g;
                        std::hint::black_box(&mut *g);
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let g = cell.lock();
        assert_eq!(*g, 40_000);
        assert!(cell.try_lock().is_none());
        drop(g);
        assert_eq!(cell.with(|v| *v), 40_000);
        assert!(cell.try_lock().is_some());
    }

    #[test]
    fn a_wait_for_the_lock_ignores_interrupts_and_leaves_them_pending() {
        let cell = Arc::new(LockCell::new(()));
        let g = cell.lock();
        let c = cell.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(super::super::current_record().unwrap()).unwrap();
            drop(c.lock());
            super::super::with_current(|r| r.take_interrupt())
        });
        let rec = rx.recv().unwrap();
        rec.interrupt();
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(g);
        assert!(t.join().unwrap(), "the interrupt stays pending");
    }

    std::thread_local! {
        static WATCHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static BEFORE: AtomicUsize = AtomicUsize::new(0);
    /// Each `after` of the watched thread: 1 when the cell was free, 100 when it was held.
    static AFTER: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C-unwind" fn before(_: *mut std::ffi::c_void) {
        if WATCHED.with(|w| w.get()) {
            BEFORE.fetch_add(1, Ordering::SeqCst);
        }
    }

    unsafe extern "C-unwind" fn after(ctx: *mut std::ffi::c_void) {
        if WATCHED.with(|w| w.get()) {
            // SAFETY: the test passes its cell, which outlives the hooks.
            let cell = unsafe { &*(ctx as *const LockCell<()>) };
            let free = cell.try_lock().is_some();
            AFTER.fetch_add(if free { 1 } else { 100 }, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waiter_runs_the_blocking_hooks_around_its_sleep_never_holding_the_lock() {
        let _one_at_a_time = super::super::blocking_hooks::TEST_HOOKS.lock();
        let cell = Arc::new(LockCell::new(()));
        let ctx = Arc::as_ptr(&cell) as *mut std::ffi::c_void;
        // SAFETY: the hooks only read the cell, which lives until they are removed below, and
        // act only in the thread this test marks.
        unsafe { super::super::blocking_hooks::set(Some(before), Some(after), ctx) };
        let g = cell.lock();
        let c = cell.clone();
        let waiter = std::thread::spawn(move || {
            WATCHED.with(|w| w.set(true));
            drop(c.lock());
        });
        // Long enough for the waiter to stop spinning and sleep.
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(g);
        waiter.join().unwrap();
        // SAFETY: removing the hooks.
        unsafe { super::super::blocking_hooks::set(None, None, std::ptr::null_mut()) };
        let (b, a) = (BEFORE.load(Ordering::SeqCst), AFTER.load(Ordering::SeqCst));
        assert!(b >= 1, "the waiter slept, with before run");
        assert_eq!(
            a, b,
            "after ran once per before, each time with the cell free"
        );
    }

    #[test]
    fn fork_steps_take_and_release_the_lock() {
        let cell = LockCell::new(5);
        assert!(cell.try_lock_for_fork());
        assert!(cell.try_lock().is_none());
        assert!(!cell.try_lock_for_fork());
        // SAFETY: taken just above.
        unsafe { cell.unlock_after_fork() };
        assert!(cell.try_lock_for_fork());
        // SAFETY: (a stand-in for the child) no guard is alive, and this thread holds it.
        *unsafe { cell.reset_in_child() } += 1;
        assert_eq!(*cell.lock(), 6);
    }
}
