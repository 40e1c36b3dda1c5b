//! Thread start+join beside `pthread_create`+`pthread_join` and `std::thread`, in one run:
//! rthread's thread objects (`rt_thread_new`/`start`/`join`) and `rt_start_new_thread`.
//!
//!     cargo bench --bench thread

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use rthread::ffi::lock::{rt_lock, rt_lock_acquire, rt_lock_release};
use rthread::ffi::threading::{rt_thread_join, rt_thread_new, rt_thread_release, rt_thread_start};
use std::ffi::c_void;

extern "C" fn pthread_noop(_: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}

unsafe extern "C-unwind" fn nothing(_: *mut c_void) {}

/// The `_thread` way to wait for a thread: it releases a lock that its starter holds.
unsafe extern "C-unwind" fn release_when_done(arg: *mut c_void) {
    unsafe { rt_lock_release(arg as *mut rt_lock) };
}

fn start_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("thread_start_join");

    g.bench_function("pthread_create_join", |b| {
        b.iter(|| {
            let mut t: libc::pthread_t = 0;
            // SAFETY: a valid function and out-pointer; the thread is joined at once.
            unsafe {
                common::check(
                    libc::pthread_create(
                        &mut t,
                        std::ptr::null(),
                        pthread_noop,
                        std::ptr::null_mut(),
                    ),
                    "pthread_create",
                );
                common::check(libc::pthread_join(t, std::ptr::null_mut()), "pthread_join");
            }
        })
    });

    // `_thread.start_new_thread` + a lock released by the thread: the thread is detached, so
    // this waits until its function has returned, not until the OS thread is gone.
    let done = common::RtLockC::new();
    g.bench_function("rthread_start_new_thread", |b| {
        b.iter(|| {
            unsafe { rt_lock_acquire(done.0, 1, -1.0) };
            let s = unsafe {
                rthread::ffi::thread::rt_start_new_thread(
                    Some(release_when_done),
                    done.0 as *mut c_void,
                    std::ptr::null_mut(),
                )
            };
            assert_eq!(s, rthread::rt_status::RT_OK);
            unsafe { rt_lock_acquire(done.0, 1, -1.0) };
            unsafe { rt_lock_release(done.0) };
        })
    });
    // Let the last detached threads finish before the next bench.
    while rthread::ffi::thread::rt_thread_count() != 0 {
        std::thread::yield_now();
    }

    // `threading.Thread(target=f).start(); t.join()`: a thread object, reference-counted.
    g.bench_function("rthread_thread_object", |b| {
        b.iter(|| {
            let mut t = std::ptr::null_mut();
            assert_eq!(
                unsafe { rt_thread_new(Some(nothing), std::ptr::null_mut(), &mut t) },
                rthread::rt_status::RT_OK
            );
            assert_eq!(unsafe { rt_thread_start(t) }, rthread::rt_status::RT_OK);
            assert_eq!(
                unsafe { rt_thread_join(t, -1.0) },
                rthread::rt_status::RT_OK
            );
            unsafe { rt_thread_release(t) };
        })
    });

    g.bench_function("std_thread_spawn_join", |b| {
        b.iter(|| std::thread::spawn(|| ()).join().expect("thread"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = start_join
}
criterion_main!(benches);
