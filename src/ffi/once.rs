//! `rt_once`: race-free lazy initialisation with a static initialiser, as `pthread_once`, since
//! rthread's handles cannot be statically initialised.
//!
//! The state word: `NEW` (0, what `RT_ONCE_INIT` writes), `RUNNING`, `RUNNING_WAITED` (someone
//! sleeps on the word), `DONE`. The first caller moves `NEW` to `RUNNING`, runs the function,
//! stores `DONE` (release) and wakes the sleepers; everyone else sleeps on the word (a futex on
//! Linux) until it is `DONE`, or `NEW` again when the function was left by unwinding.

use crate::status::{Error, KeepErrno, rt_status};
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// A once-only flag for `rt_once` (as C11's `once_flag`). Initialise it with `RT_ONCE_INIT` (statically or not) and
/// touch it only through `rt_once`; its fields are private (`sizeof(rt_once_flag)` is 16).
#[repr(C)]
pub struct rt_once_flag {
    /// Private: the state (0 until the first call).
    pub _state: u32,
    /// Private: reserved, 0.
    pub _reserved: u32,
    /// Private: which thread runs the function, while it runs.
    pub _runner: u64,
}

/// The function `rt_once` runs once, with the argument given to the call that runs it.
pub type rt_once_fn = Option<unsafe extern "C-unwind" fn(arg: *mut c_void)>;

const NEW: u32 = 0;
const RUNNING: u32 = 1;
const RUNNING_WAITED: u32 = 2;
const DONE: u32 = 3;

/// A token for the calling thread, never 0 and never reused.
fn me() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    // A thread being torn down (its locals gone) gets a fresh token: it cannot be inside its
    // own init function then, so no recursion is missed.
    TOKEN
        .try_with(|t| *t)
        .unwrap_or_else(|_| NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(target_os = "linux")]
fn sleep_while(word: &AtomicU32, value: u32) {
    let _errno = KeepErrno::new();
    // SAFETY: FUTEX_WAIT on a live, aligned u32; no timeout. It returns at once if the word
    // no longer holds `value`, and may return spuriously: the caller loops.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            value,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

#[cfg(target_os = "linux")]
fn wake_all(word: &AtomicU32) {
    let _errno = KeepErrno::new();
    // SAFETY: FUTEX_WAKE does not dereference the word beyond hashing its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn sleep_while(word: &AtomicU32, value: u32) {
    let _errno = KeepErrno::new();
    if word.load(Ordering::Acquire) == value {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

#[cfg(not(target_os = "linux"))]
fn wake_all(_word: &AtomicU32) {}

/// Puts the flag back to `NEW` if the function is left by unwinding, so that another caller
/// runs it (as `pthread_once` does when its function is cancelled).
struct Reset<'a> {
    state: &'a AtomicU32,
    runner: &'a AtomicU64,
}

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        self.runner.store(0, Ordering::Relaxed);
        if self.state.swap(NEW, Ordering::Release) == RUNNING_WAITED {
            wake_all(self.state);
        }
    }
}

const RECURSIVE: Error = Error::new(
    rt_status::RT_EDEADLK,
    "rt_once called again from its own function",
);
const NOT_INITIALISED: Error = Error::new(
    rt_status::RT_EINVAL,
    "rt_once flag not initialised with RT_ONCE_INIT",
);
const NULL_FUNCTION: Error = Error::new(rt_status::RT_EINVAL, "NULL function");

/// Runs `init(arg)` exactly once for `*once` (`pthread_once`, with an argument): the first
/// call runs it; every other call, from any thread, returns only after it has returned, and
/// then sees everything it wrote. Later calls return `RT_OK` at once. `*once` must have been
/// initialised with `RT_ONCE_INIT` (`static rt_once_flag once = RT_ONCE_INIT;`).
///
/// Waiting for another thread's `init` is not interruptible, does not time out and does not
/// run the blocking hooks; `init` should be short. No internal lock is held while it runs.
///
/// Errors: `RT_EINVAL` for a NULL `once` or `init` ("NULL handle", "NULL function"), or a flag
/// that holds no state `RT_ONCE_INIT` or `rt_once` wrote ("rt_once flag not initialised with
/// RT_ONCE_INIT"); `RT_EDEADLK` ("rt_once called again from its own function") when `init`
/// calls `rt_once` on the same flag (pthread_once would deadlock); that inner call does not
/// run `init`, and the outer one goes on.
///
/// If `init` does not return but is left by unwinding (`rt_exit_thread`, `pthread_exit`, a C++
/// exception), the flag goes back to its initial state and one of the waiting (or later)
/// callers runs `init` again; the unwinding goes on through `rt_once`. Leaving `init` with
/// `longjmp` is undefined behaviour, as for `pthread_once`. A fork while another thread runs
/// `init` leaves the child's flag running forever, as for `pthread_once`.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn rt_once(
    once: *mut rt_once_flag,
    init: rt_once_fn,
    arg: *mut c_void,
) -> rt_status {
    if once.is_null() {
        return crate::status::record(&Error::NULL_HANDLE);
    }
    let Some(init) = init else {
        return crate::status::record(&NULL_FUNCTION);
    };
    // SAFETY: `once` is non-NULL and, by the contract, points to a live, aligned rt_once that
    // is only accessed through rt_once, atomically; `init(arg)` is the caller's function with
    // the caller's argument.
    let (state, runner, init) = unsafe {
        (
            AtomicU32::from_ptr(&raw mut (*once)._state),
            AtomicU64::from_ptr(&raw mut (*once)._runner),
            move || init(arg),
        )
    };
    loop {
        match state.load(Ordering::Acquire) {
            DONE => {
                // What `init` did happens before every return.
                crate::debug::annotate::acquired(once);
                return rt_status::RT_OK;
            }
            NEW => {
                if state
                    .compare_exchange(NEW, RUNNING, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    continue;
                }
                runner.store(me(), Ordering::Relaxed);
                let reset = Reset { state, runner };
                init();
                std::mem::forget(reset);
                runner.store(0, Ordering::Relaxed);
                crate::debug::annotate::released(once);
                if state.swap(DONE, Ordering::Release) == RUNNING_WAITED {
                    wake_all(state);
                }
                return rt_status::RT_OK;
            }
            s @ (RUNNING | RUNNING_WAITED) => {
                if runner.load(Ordering::Relaxed) == me() {
                    return crate::status::record(&RECURSIVE);
                }
                if s == RUNNING
                    && state
                        .compare_exchange(
                            RUNNING,
                            RUNNING_WAITED,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        )
                        .is_err()
                {
                    continue;
                }
                sleep_while(state, RUNNING_WAITED);
            }
            _ => return crate::status::record(&NOT_INITIALISED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::AtomicUsize;

    fn flag() -> rt_once_flag {
        rt_once_flag {
            _state: 0,
            _reserved: 0,
            _runner: 0,
        }
    }

    static RUNS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C-unwind" fn slow_count(arg: *mut c_void) {
        std::thread::sleep(std::time::Duration::from_millis(50));
        RUNS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the tests pass a pointer to an AtomicUsize that outlives the call.
        unsafe { (*(arg as *const AtomicUsize)).store(42, Ordering::Release) };
    }

    unsafe extern "C-unwind" fn store_42(arg: *mut c_void) {
        // SAFETY: as for slow_count.
        unsafe { (*(arg as *const AtomicUsize)).store(42, Ordering::Release) };
    }

    #[test]
    fn runs_once_and_others_wait_for_it() {
        struct Shared(rt_once_flag);
        unsafe impl Sync for Shared {}
        let once = Shared(flag());
        let value = AtomicUsize::new(0);
        let start = Barrier::new(8);
        RUNS.store(0, Ordering::SeqCst);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    start.wait();
                    let p = &once.0 as *const rt_once_flag as *mut rt_once_flag;
                    let st =
                        unsafe { rt_once(p, Some(slow_count), &value as *const _ as *mut c_void) };
                    assert_eq!(st, rt_status::RT_OK);
                    // Whoever returns sees the function's write.
                    assert_eq!(value.load(Ordering::Acquire), 42);
                });
            }
        });
        assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    }

    static mut INNER: Option<rt_status> = None;

    unsafe extern "C-unwind" fn recursive(arg: *mut c_void) {
        let st = unsafe { rt_once(arg as *mut rt_once_flag, Some(recursive), arg) };
        unsafe { INNER = Some(st) };
    }

    #[test]
    fn recursion_is_edeadlk_and_the_outer_call_completes() {
        let mut once = flag();
        let p = &mut once as *mut rt_once_flag;
        assert_eq!(
            unsafe { rt_once(p, Some(recursive), p as *mut c_void) },
            rt_status::RT_OK
        );
        assert_eq!(unsafe { INNER }, Some(rt_status::RT_EDEADLK));
        assert_eq!(once._state, DONE);
    }

    #[test]
    fn bad_input() {
        let mut once = flag();
        assert_eq!(
            unsafe { rt_once(std::ptr::null_mut(), Some(recursive), std::ptr::null_mut()) },
            rt_status::RT_EINVAL
        );
        assert_eq!(
            unsafe { rt_once(&mut once, None, std::ptr::null_mut()) },
            rt_status::RT_EINVAL
        );
        once._state = 0x1234;
        assert_eq!(
            unsafe { rt_once(&mut once, Some(recursive), std::ptr::null_mut()) },
            rt_status::RT_EINVAL
        );
    }

    unsafe extern "C-unwind" fn panics(_: *mut c_void) {
        panic!("left by unwinding");
    }

    #[test]
    fn unwinding_resets_the_flag() {
        let mut once = flag();
        let p = &mut once as *mut rt_once_flag as usize;
        let r = std::panic::catch_unwind(|| unsafe {
            rt_once(p as *mut rt_once_flag, Some(panics), std::ptr::null_mut())
        });
        assert!(r.is_err());
        assert_eq!(once._state, NEW);
        let value = AtomicUsize::new(0);
        assert_eq!(
            unsafe { rt_once(&mut once, Some(store_42), &value as *const _ as *mut c_void) },
            rt_status::RT_OK
        );
        assert_eq!(value.load(Ordering::Acquire), 42);
    }
}
