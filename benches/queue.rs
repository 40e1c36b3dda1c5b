//! Queue throughput, one producer and one consumer (SPSC) and 2, 4 and 8 of each, every bounded
//! queue bounded to 1024 items: rthread's FIFO `rt_queue` beside std's `sync_channel(1024)`,
//! crossbeam-channel's `bounded(1024)` and the classic pthread mutex + two condition variables
//! ring buffer; and the unbounded queues (`queue_unbounded_*`: rthread's unbounded FIFO beside
//! std's `channel` and crossbeam's `unbounded`), in one run.
//!
//!     cargo bench --bench queue

mod common;

use common::CondRing;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rthread::ffi::queue::{rt_queue, rt_queue_free, rt_queue_get, rt_queue_new, rt_queue_put};
use rthread::queue::Queue;
use std::ffi::c_void;
use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant};

const CAP: usize = 1024;

type Producer = Box<dyn FnMut(usize) + Send>;
type Consumer = Box<dyn FnMut() -> usize + Send>;

/// Splits `n` operations over `k` threads.
fn share(n: u64, k: usize, i: usize) -> u64 {
    n / k as u64 + u64::from((i as u64) < n % k as u64)
}

/// Moves `items` items from the producers to the consumers; returns the time from the first
/// thread's start to the last thread's end (each thread reads the clock itself: the main thread
/// may be descheduled past the whole run).
fn run(producers: Vec<Producer>, consumers: Vec<Consumer>, items: u64) -> Duration {
    let (np, nc) = (producers.len(), consumers.len());
    let barrier = Arc::new(Barrier::new(np + nc + 1));
    let mut handles = Vec::new();
    for (i, mut put) in producers.into_iter().enumerate() {
        let barrier = barrier.clone();
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            let start = Instant::now();
            for v in 0..share(items, np, i) {
                put(v as usize + 1);
            }
            (start, Instant::now())
        }));
    }
    for (i, mut get) in consumers.into_iter().enumerate() {
        let barrier = barrier.clone();
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            let start = Instant::now();
            let mut sum = 0usize;
            for _ in 0..share(items, nc, i) {
                sum = sum.wrapping_add(get());
            }
            black_box(sum);
            (start, Instant::now())
        }));
    }
    barrier.wait();
    let times: Vec<(Instant, Instant)> = handles
        .into_iter()
        .map(|h| h.join().expect("bench thread"))
        .collect();
    let start = times.iter().map(|t| t.0).min().expect("threads");
    let end = times.iter().map(|t| t.1).max().expect("threads");
    end - start
}

/// A handle that may cross threads (the queue is made to be shared).
#[derive(Clone, Copy)]
struct QPtr(*mut rt_queue);
// SAFETY: rt_queue handles are thread-safe.
unsafe impl Send for QPtr {}

type Ends = (Vec<Producer>, Vec<Consumer>);

/// Benches one queue: `make(np, nc)` gives the producer and consumer ends for one sample.
fn bench(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    np: usize,
    nc: usize,
    mut make: impl FnMut(usize, usize) -> Ends,
) {
    g.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let (ps, cs) = make(np, nc);
            run(ps, cs, iters)
        })
    });
}

/// The same two closures `np` and `nc` times.
fn ends(np: usize, nc: usize, put: impl Fn() -> Producer, get: impl Fn() -> Consumer) -> Ends {
    (
        (0..np).map(|_| put()).collect(),
        (0..nc).map(|_| get()).collect(),
    )
}

/// Producers and consumers over one of std's channels: each producer a clone of the sender;
/// the receiver shared under a mutex when there are several consumers (std's is single-consumer).
fn std_ends<S: Clone + Send + 'static>(
    tx: S,
    rx: mpsc::Receiver<usize>,
    np: usize,
    nc: usize,
    send: fn(&S, usize),
) -> (Vec<Producer>, Vec<Consumer>) {
    let ps: Vec<Producer> = (0..np)
        .map(|_| {
            let tx = tx.clone();
            Box::new(move |v| send(&tx, v)) as Producer
        })
        .collect();
    let cs: Vec<Consumer> = if nc == 1 {
        vec![Box::new(move || rx.recv().expect("recv"))]
    } else {
        let rx = Arc::new(Mutex::new(rx));
        (0..nc)
            .map(|_| {
                let rx = rx.clone();
                Box::new(move || rx.lock().expect("rx").recv().expect("recv")) as Consumer
            })
            .collect()
    };
    (ps, cs)
}

/// rthread's FIFO queue bounded to `maxsize` (0: unbounded) through the C ABI.
fn c_abi(g: &mut BenchmarkGroup<'_, WallTime>, np: usize, nc: usize, maxsize: usize) {
    let mut q = std::ptr::null_mut();
    assert_eq!(
        unsafe { rt_queue_new(maxsize, None, &mut q) },
        rthread::rt_status::RT_OK
    );
    let q = QPtr(q);
    bench(g, "rthread_c_abi", np, nc, |np, nc| {
        ends(
            np,
            nc,
            || {
                Box::new(move |v| {
                    let q = q;
                    unsafe { rt_queue_put(q.0, v as *mut c_void, 1, -1.0) };
                })
            },
            || {
                Box::new(move || {
                    let q = q;
                    let mut out = std::ptr::null_mut();
                    unsafe { rt_queue_get(q.0, 1, -1.0, &mut out) };
                    out as usize
                })
            },
        )
    });
    unsafe { rt_queue_free(q.0) };
}

fn queues(g: &mut BenchmarkGroup<'_, WallTime>, np: usize, nc: usize) {
    c_abi(g, np, nc, CAP);

    let core = Arc::new(Queue::<usize>::fifo(CAP).expect("queue"));
    bench(g, "rthread_core", np, nc, |np, nc| {
        ends(
            np,
            nc,
            || {
                let q = core.clone();
                Box::new(move |v| {
                    let _ = q.put(v, true, None);
                })
            },
            || {
                let q = core.clone();
                Box::new(move || q.get(true, None).unwrap_or(0))
            },
        )
    });

    // A fresh channel per sample. std's receiver cannot be shared: with two consumers it sits
    // behind a Mutex.
    let id = if nc == 1 {
        "std_sync_channel"
    } else {
        "std_sync_channel_mutex_rx"
    };
    bench(g, id, np, nc, |np, nc| {
        let (tx, rx) = mpsc::sync_channel::<usize>(CAP);
        std_ends(tx, rx, np, nc, |tx, v| tx.send(v).expect("send"))
    });

    // crossbeam's receivers are shared without a lock (MPMC).
    bench(g, "crossbeam_bounded", np, nc, |np, nc| {
        crossbeam_ends(crossbeam_channel::bounded::<usize>(CAP), np, nc)
    });

    let ring = Arc::new(CondRing::new(CAP));
    bench(g, "pthread_mutex_condvar_ring", np, nc, |np, nc| {
        ends(
            np,
            nc,
            || {
                let r = ring.clone();
                Box::new(move |v| r.put(v))
            },
            || {
                let r = ring.clone();
                Box::new(move || r.get())
            },
        )
    });
}

/// The ends of one crossbeam channel for `np` producers and `nc` consumers.
fn crossbeam_ends(
    (tx, rx): (
        crossbeam_channel::Sender<usize>,
        crossbeam_channel::Receiver<usize>,
    ),
    np: usize,
    nc: usize,
) -> Ends {
    let ps: Vec<Producer> = (0..np)
        .map(|_| {
            let tx = tx.clone();
            Box::new(move |v| tx.send(v).expect("send")) as Producer
        })
        .collect();
    let cs: Vec<Consumer> = (0..nc)
        .map(|_| {
            let rx = rx.clone();
            Box::new(move || rx.recv().expect("recv")) as Consumer
        })
        .collect();
    (ps, cs)
}

/// Unbounded FIFO queues: rthread's (`maxsize` 0) beside std's `channel` and crossbeam's
/// `unbounded`.
fn unbounded(g: &mut BenchmarkGroup<'_, WallTime>, np: usize, nc: usize) {
    c_abi(g, np, nc, 0);

    let id = if nc == 1 {
        "std_channel"
    } else {
        "std_channel_mutex_rx"
    };
    bench(g, id, np, nc, |np, nc| {
        let (tx, rx) = mpsc::channel::<usize>();
        std_ends(tx, rx, np, nc, |tx, v| tx.send(v).expect("send"))
    });

    bench(g, "crossbeam_unbounded", np, nc, |np, nc| {
        crossbeam_ends(crossbeam_channel::unbounded::<usize>(), np, nc)
    });
}

fn queue_spsc(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_spsc");
    g.throughput(Throughput::Elements(1));
    queues(&mut g, 1, 1);
    g.finish();
}

fn queue_2p2c(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_2p2c");
    g.throughput(Throughput::Elements(1));
    queues(&mut g, 2, 2);
    g.finish();
}

fn queue_4p4c(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_4p4c");
    g.throughput(Throughput::Elements(1));
    queues(&mut g, 4, 4);
    g.finish();
}

fn queue_8p8c(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_8p8c");
    g.throughput(Throughput::Elements(1));
    queues(&mut g, 8, 8);
    g.finish();
}

fn queue_unbounded_spsc(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_unbounded_spsc");
    g.throughput(Throughput::Elements(1));
    unbounded(&mut g, 1, 1);
    g.finish();
}

fn queue_unbounded_2p2c(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_unbounded_2p2c");
    g.throughput(Throughput::Elements(1));
    unbounded(&mut g, 2, 2);
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = queue_spsc, queue_2p2c, queue_4p4c, queue_8p8c, queue_unbounded_spsc,
        queue_unbounded_2p2c
}
criterion_main!(benches);
