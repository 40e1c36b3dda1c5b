//! What the waiting core needs from the platform: atomics and a futex.
//!
//! Everything above this file blocks through two calls:
//! - `futex_wait(word, expected, deadline)` sleeps while `*word == expected`, until woken, until
//!   the monotonic `deadline`, or spuriously; callers always re-check their condition;
//! - `futex_wake(word, n)` wakes up to `n` sleepers on `word`. It never touches `*word`, so it
//!   may be called on memory that its owner has since released (the call then finds nobody).
//!
//! Both keep the caller's errno (see `crate::status::KeepErrno`).
//!
//! On Linux these are the `futex` system call (private, `FUTEX_WAIT_BITSET` with an absolute
//! `CLOCK_MONOTONIC` deadline). Elsewhere, and in this file's own tests, a portable emulation:
//! a small table of std mutex/condvar pairs keyed by address. Under loom the emulation runs on
//! loom's types, so the models check everything above this file.

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, fence};
pub use std::sync::atomic::Ordering;
#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, fence};

use crate::status::KeepErrno;
use crate::time::Deadline;

/// A hint for spin loops (a no-op yield under loom, so models make progress).
#[inline]
pub fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

/// Gives the rest of the time slice away.
#[inline]
pub fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}

#[cfg(all(target_os = "linux", not(loom)))]
mod imp {
    use super::*;

    pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Option<Deadline>) {
        let ts;
        let ts_ptr = match deadline {
            Some(Deadline(ns)) => {
                ts = libc::timespec {
                    tv_sec: (ns / 1_000_000_000) as libc::time_t,
                    tv_nsec: (ns % 1_000_000_000) as libc::c_long,
                };
                &ts as *const libc::timespec
            }
            None => std::ptr::null(),
        };
        // EINTR, EAGAIN and ETIMEDOUT all just return, and errno stays the caller's.
        let _errno = KeepErrno::new();
        // SAFETY: `word` is a valid, aligned u32 for the duration of the call; `ts_ptr` is NULL
        // or points to a timespec that lives until the call returns. FUTEX_WAIT_BITSET reads an
        // absolute CLOCK_MONOTONIC deadline.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
                expected,
                ts_ptr,
                std::ptr::null::<u32>(),
                libc::FUTEX_BITSET_MATCH_ANY,
            );
        }
    }

    /// Async-signal-safe: one system call, no memory touched; errno kept.
    #[allow(clippy::not_unsafe_ptr_arg_deref)] // the kernel uses the address as a key only
    pub fn futex_wake(word: *const AtomicU32, n: i32) {
        let _errno = KeepErrno::new();
        // SAFETY: FUTEX_WAKE only uses the address as a key; it never dereferences it, so a
        // stale address at worst wakes nobody or causes a harmless spurious wake-up.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word,
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                n,
            );
        }
    }

    pub fn after_fork_in_child() {}
}

#[cfg(any(not(target_os = "linux"), loom, test))]
#[cfg_attr(all(target_os = "linux", not(loom)), allow(dead_code))]
mod emulated {
    //! A futex built from mutex/condvar pairs: waiters on an address sleep on the pair its hash
    //! selects; a wake broadcasts on that pair. Checking the word under the pair's mutex, and
    //! waking under it, is what makes a wake between the check and the sleep impossible to lose.
    use super::*;

    #[cfg(loom)]
    use loom::sync::{Condvar, Mutex};
    #[cfg(not(loom))]
    use std::sync::{Condvar, Mutex};

    #[cfg(not(loom))]
    const SLOTS: usize = 64;
    #[cfg(loom)]
    const SLOTS: usize = 1;

    pub struct Slot {
        mutex: Mutex<()>,
        condvar: Condvar,
    }

    /// The pairs, in an UnsafeCell only so that a fork child may re-create them in place.
    #[cfg(not(loom))]
    struct Table(std::cell::UnsafeCell<[Slot; SLOTS]>);

    // SAFETY: the pairs are Sync; the cell is written only by `after_fork_in_child`, when the
    // process has a single thread and no reference into the table is live.
    #[cfg(not(loom))]
    unsafe impl Sync for Table {}

    #[cfg(not(loom))]
    static TABLE: Table = Table(std::cell::UnsafeCell::new(
        [const {
            Slot {
                mutex: Mutex::new(()),
                condvar: Condvar::new(),
            }
        }; SLOTS],
    ));

    #[cfg(not(loom))]
    fn table() -> &'static [Slot; SLOTS] {
        // SAFETY: see `Table`: shared references only, except in the fork child.
        unsafe { &*TABLE.0.get() }
    }

    #[cfg(loom)]
    loom::lazy_static! {
        static ref TABLE: [Slot; SLOTS] = [Slot { mutex: Mutex::new(()), condvar: Condvar::new() }];
    }

    #[cfg(loom)]
    fn table() -> &'static [Slot; SLOTS] {
        &TABLE
    }

    fn slot(word: *const AtomicU32) -> &'static Slot {
        let h = (word as usize as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        &table()[h as usize % SLOTS]
    }

    pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Option<Deadline>) {
        let _errno = KeepErrno::new();
        let slot = slot(word);
        let guard = slot.mutex.lock().unwrap_or_else(|e| e.into_inner());
        if word.load(Ordering::SeqCst) != expected {
            return;
        }
        #[cfg(loom)]
        {
            // loom has no time: a timed wait is modelled as an untimed one.
            let _ = deadline;
            drop(slot.condvar.wait(guard));
        }
        #[cfg(not(loom))]
        match deadline {
            None => drop(slot.condvar.wait(guard)),
            Some(d) => {
                let left = d.0.saturating_sub(crate::time::now_ns());
                if left > 0 {
                    let dur = std::time::Duration::from_nanos(left);
                    drop(slot.condvar.wait_timeout(guard, dur));
                }
            }
        }
    }

    pub fn futex_wake(word: *const AtomicU32, _n: i32) {
        let _errno = KeepErrno::new();
        let slot = slot(word);
        let _guard = slot.mutex.lock().unwrap_or_else(|e| e.into_inner());
        slot.condvar.notify_all();
    }

    #[cfg(not(loom))]
    pub fn after_fork_in_child() {
        // The child has one thread: no pair is in use, but one may have been locked by a thread
        // that no longer exists. Re-create every pair in place.
        // SAFETY: after fork the child is single-threaded and nothing borrows a slot across
        // calls, so replacing the pairs (forgetting the old ones) cannot race or double-drop.
        unsafe {
            let slots = TABLE.0.get();
            for i in 0..SLOTS {
                std::ptr::write(
                    std::ptr::addr_of_mut!((*slots)[i]),
                    Slot {
                        mutex: Mutex::new(()),
                        condvar: Condvar::new(),
                    },
                );
            }
        }
    }

    #[cfg(all(test, not(loom)))]
    mod tests {
        use super::*;
        use std::sync::Arc;

        #[test]
        fn emulated_futex_wakes_and_times_out() {
            let word = Arc::new(AtomicU32::new(0));
            let w = word.clone();
            let t = std::thread::spawn(move || {
                while w.load(Ordering::SeqCst) == 0 {
                    futex_wait(&w, 0, None);
                }
            });
            std::thread::sleep(std::time::Duration::from_millis(10));
            word.store(1, Ordering::SeqCst);
            futex_wake(&*word, 1);
            t.join().unwrap();

            let d = Deadline::after(0.02);
            let start = std::time::Instant::now();
            while !d.has_passed() {
                futex_wait(&word, 1, Some(d));
            }
            assert!(start.elapsed() >= std::time::Duration::from_millis(20));
            // A stale value returns at once.
            futex_wait(&word, 7, None);
        }
    }
}

#[cfg(all(target_os = "linux", not(loom)))]
pub use imp::{after_fork_in_child, futex_wait, futex_wake};

#[cfg(any(not(target_os = "linux"), loom))]
pub use emulated::{futex_wait, futex_wake};

#[cfg(all(not(target_os = "linux"), not(loom)))]
pub use emulated::after_fork_in_child;
