//! Lock: an uncontended acquire+release pair, and throughput under contention, beside
//! pthread_mutex, parking_lot's RawMutex and std's Mutex, in one run.
//!
//!     cargo bench --bench lock

mod common;

use common::{BenchLock, Fairness, PMutex, Padded, PlRaw, RtLockC, RtLockCore, StdMutex};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// One acquire+release of an uncontended lock.
fn pair<L: BenchLock>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    l: L,
) {
    let l = Box::new(Padded(l));
    c.bench_function(id, |b| b.iter(|| black_box(&*l).with(|| ())));
}

fn lock_pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_pair");
    g.throughput(Throughput::Elements(1));
    pair(&mut g, "rthread_c_abi", RtLockC::new());
    pair(
        &mut g,
        "rthread_core",
        RtLockCore(rthread::sync::Lock::new()),
    );
    pair(&mut g, "pthread_mutex", PMutex::new());
    pair(&mut g, "parking_lot_raw", PlRaw::new());
    pair(&mut g, "std_mutex", StdMutex(std::sync::Mutex::new(())));
    // The floor: one compare-exchange to take, one store to give back.
    let word = Box::new(Padded(AtomicU8::new(0)));
    g.bench_function("atomic_floor", |b| {
        b.iter(|| {
            let w = black_box(&word.0);
            let _ = w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed);
            w.store(0, Ordering::Release);
        })
    });
    // The floor of a lock whose release must tell a held lock from a free one atomically (of
    // two racing releases of Python's Lock, exactly one succeeds): two compare-exchanges.
    g.bench_function("atomic_floor_two_cas", |b| {
        b.iter(|| {
            let w = black_box(&word.0);
            let _ = w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed);
            let _ = w.compare_exchange(1, 0, Ordering::Release, Ordering::Relaxed);
        })
    });
    g.finish();
}

/// Throughput of `threads` threads incrementing one counter under the lock; one element is one
/// acquire+increment+release by any thread. Fairness is printed after each bench.
fn contended<L: BenchLock>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    group: &str,
    id: &str,
    threads: usize,
    l: L,
) {
    let l = Arc::new(Padded(l));
    let mut fairness = Fairness::default();
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let (t, counts) = common::contended_run(&l, threads, iters);
            fairness.add(t, &counts);
            t
        })
    });
    fairness.finish(group, id);
}

fn lock_contended(c: &mut Criterion) {
    for threads in [2, 4] {
        let name = format!("lock_contended_{threads}t");
        let mut g = c.benchmark_group(&name);
        g.throughput(Throughput::Elements(1));
        contended(&mut g, &name, "rthread_c_abi", threads, RtLockC::new());
        contended(
            &mut g,
            &name,
            "rthread_core",
            threads,
            RtLockCore(rthread::sync::Lock::new()),
        );
        contended(&mut g, &name, "pthread_mutex", threads, PMutex::new());
        contended(&mut g, &name, "parking_lot_raw", threads, PlRaw::new());
        contended(
            &mut g,
            &name,
            "std_mutex",
            threads,
            StdMutex(std::sync::Mutex::new(())),
        );
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = lock_pair, lock_contended
}
criterion_main!(benches);
