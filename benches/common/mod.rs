//! What every bench shares: the criterion settings, the reference primitives written with libc
//! (pthread mutexes and condition variables, `sem_t`, a mutex+condvar ring buffer), one
//! `BenchLock` trait over every lock measured, and the fairness figures of contended runs.
//!
//! Every reference object is boxed, because a pthread object must not move once initialised.

#![allow(dead_code)]

use criterion::Criterion;
use std::cell::UnsafeCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Short runs: the whole `cargo bench` must stay well under ten minutes on two cores.
///
/// It also makes the process multi-threaded first (see [`multi_threaded`]).
pub fn criterion() -> Criterion {
    multi_threaded();
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args()
}

/// Starts and joins one thread, once. glibc's x86-64 mutexes drop the `lock` prefix of their
/// atomic instructions while a process has never had a second thread (a 3.4 ns pthread lock
/// pair instead of 12 ns here), an optimisation that no program using a thread library keeps
/// for long; every figure is taken with it off, as in any threaded program.
pub fn multi_threaded() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::thread::spawn(|| ()).join().expect("thread"));
}

/// Gives `T` a cache line of its own (what a heap allocation gives the C handles, roughly).
#[repr(align(64))]
pub struct Padded<T>(pub T);

/// Panics with the call's name if a libc call returned non-zero (benches only: a failing
/// reference primitive makes its figure meaningless).
#[track_caller]
pub fn check(rc: libc::c_int, what: &str) {
    assert_eq!(rc, 0, "{what} failed: {rc}");
}

/// A `pthread_mutex_t`: normal (glibc's default) or recursive.
pub struct PMutex(Box<UnsafeCell<libc::pthread_mutex_t>>);

// SAFETY: a pthread mutex is made to be shared between threads; it never moves (boxed).
unsafe impl Sync for PMutex {}
// SAFETY: as above.
unsafe impl Send for PMutex {}

impl PMutex {
    pub fn new() -> PMutex {
        PMutex(Box::new(UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER)))
    }

    pub fn recursive() -> PMutex {
        let m = PMutex::new();
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: the attr is initialised, used once and destroyed; the mutex is boxed.
        unsafe {
            check(
                libc::pthread_mutexattr_init(attr.as_mut_ptr()),
                "mutexattr_init",
            );
            check(
                libc::pthread_mutexattr_settype(attr.as_mut_ptr(), libc::PTHREAD_MUTEX_RECURSIVE),
                "mutexattr_settype",
            );
            check(
                libc::pthread_mutex_init(m.0.get(), attr.as_ptr()),
                "mutex_init",
            );
            libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
        }
        m
    }

    pub fn raw(&self) -> *mut libc::pthread_mutex_t {
        self.0.get()
    }

    #[inline]
    pub fn lock(&self) {
        // SAFETY: an initialised mutex that does not move.
        unsafe { libc::pthread_mutex_lock(self.raw()) };
    }

    #[inline]
    pub fn unlock(&self) {
        // SAFETY: as above; the caller holds it.
        unsafe { libc::pthread_mutex_unlock(self.raw()) };
    }
}

impl Drop for PMutex {
    fn drop(&mut self) {
        // SAFETY: nobody uses the mutex any more.
        unsafe { libc::pthread_mutex_destroy(self.raw()) };
    }
}

/// A `pthread_cond_t` (default attributes).
pub struct PCond(Box<UnsafeCell<libc::pthread_cond_t>>);

// SAFETY: as for PMutex.
unsafe impl Sync for PCond {}
// SAFETY: as for PMutex.
unsafe impl Send for PCond {}

impl PCond {
    pub fn new() -> PCond {
        PCond(Box::new(UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER)))
    }

    #[inline]
    pub fn wait(&self, m: &PMutex) {
        // SAFETY: both initialised and pinned; the caller holds `m`.
        unsafe { libc::pthread_cond_wait(self.0.get(), m.raw()) };
    }

    #[inline]
    pub fn signal(&self) {
        // SAFETY: initialised and pinned.
        unsafe { libc::pthread_cond_signal(self.0.get()) };
    }
}

impl Drop for PCond {
    fn drop(&mut self) {
        // SAFETY: nobody waits any more.
        unsafe { libc::pthread_cond_destroy(self.0.get()) };
    }
}

/// A process-private POSIX semaphore.
pub struct Sem(Box<UnsafeCell<libc::sem_t>>);

// SAFETY: as for PMutex.
unsafe impl Sync for Sem {}
// SAFETY: as for PMutex.
unsafe impl Send for Sem {}

impl Sem {
    pub fn new(value: u32) -> Sem {
        // SAFETY: sem_t is plain data; sem_init initialises it in place.
        let s = Sem(Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() })));
        // SAFETY: boxed, so it never moves after this.
        check(unsafe { libc::sem_init(s.0.get(), 0, value) }, "sem_init");
        s
    }

    #[inline]
    pub fn wait(&self) {
        // SAFETY: initialised and pinned. EINTR cannot happen: no signal handlers here.
        while unsafe { libc::sem_wait(self.0.get()) } != 0 {}
    }

    #[inline]
    pub fn post(&self) {
        // SAFETY: initialised and pinned.
        unsafe { libc::sem_post(self.0.get()) };
    }
}

impl Drop for Sem {
    fn drop(&mut self) {
        // SAFETY: nobody waits any more.
        unsafe { libc::sem_destroy(self.0.get()) };
    }
}

/// The classic bounded buffer: one pthread mutex, two condition variables (not empty, not
/// full) and a ring of `usize` items. What a C programmer writes without a queue library.
pub struct CondRing {
    m: PMutex,
    not_empty: PCond,
    not_full: PCond,
    cap: usize,
    state: UnsafeCell<RingState>,
}

struct RingState {
    buf: Box<[usize]>,
    head: usize,
    len: usize,
}

// SAFETY: the state is only touched with the mutex held.
unsafe impl Sync for CondRing {}
// SAFETY: as above.
unsafe impl Send for CondRing {}

impl CondRing {
    pub fn new(cap: usize) -> CondRing {
        CondRing {
            m: PMutex::new(),
            not_empty: PCond::new(),
            not_full: PCond::new(),
            cap,
            state: UnsafeCell::new(RingState {
                buf: vec![0; cap].into_boxed_slice(),
                head: 0,
                len: 0,
            }),
        }
    }

    pub fn put(&self, item: usize) {
        self.m.lock();
        // SAFETY (here and below): the mutex is held; the reference is made only after the
        // last wait, so no other thread writes the state while it lives.
        while unsafe { (*self.state.get()).len } == self.cap {
            self.not_full.wait(&self.m);
        }
        let s = unsafe { &mut *self.state.get() };
        let tail = (s.head + s.len) % s.buf.len();
        s.buf[tail] = item;
        s.len += 1;
        self.not_empty.signal();
        self.m.unlock();
    }

    pub fn get(&self) -> usize {
        self.m.lock();
        // SAFETY: as in `put`.
        while unsafe { (*self.state.get()).len } == 0 {
            self.not_empty.wait(&self.m);
        }
        // SAFETY: as in `put`.
        let s = unsafe { &mut *self.state.get() };
        let item = s.buf[s.head];
        s.head = (s.head + 1) % s.buf.len();
        s.len -= 1;
        self.not_full.signal();
        self.m.unlock();
        item
    }
}

/// A lock under test: `with` takes it, runs `f`, releases it.
pub trait BenchLock: Send + Sync + 'static {
    fn with<R>(&self, f: impl FnOnce() -> R) -> R;
}

impl<L: BenchLock> BenchLock for Padded<L> {
    #[inline]
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.with(f)
    }
}

/// rthread's Lock through its C functions (`rt_lock_acquire` / `rt_lock_release`).
pub struct RtLockC(pub *mut rthread::ffi::lock::rt_lock);

// SAFETY: an rt_lock handle is meant to be shared between threads.
unsafe impl Send for RtLockC {}
// SAFETY: as above.
unsafe impl Sync for RtLockC {}

impl RtLockC {
    pub fn new() -> RtLockC {
        let mut p = std::ptr::null_mut();
        assert_eq!(
            unsafe { rthread::ffi::lock::rt_lock_new(&mut p) },
            rthread::rt_status::RT_OK
        );
        RtLockC(p)
    }
}

impl Drop for RtLockC {
    fn drop(&mut self) {
        unsafe { rthread::ffi::lock::rt_lock_free(self.0) };
    }
}

impl BenchLock for RtLockC {
    #[inline]
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        use rthread::ffi::lock::{rt_lock_acquire, rt_lock_release};
        unsafe { rt_lock_acquire(self.0, 1, -1.0) };
        let r = f();
        unsafe { rt_lock_release(self.0) };
        r
    }
}

/// rthread's Lock as the safe Rust core.
pub struct RtLockCore(pub rthread::sync::Lock);

impl BenchLock for RtLockCore {
    #[inline]
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _ = self.0.acquire(rthread::time::Wait::Forever);
        let r = f();
        let _ = self.0.release();
        r
    }
}

impl BenchLock for PMutex {
    #[inline]
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        self.lock();
        let r = f();
        self.unlock();
        r
    }
}

/// parking_lot's raw mutex, through lock_api's `RawMutex` trait.
pub struct PlRaw(pub parking_lot::RawMutex);

impl PlRaw {
    pub fn new() -> PlRaw {
        use parking_lot::lock_api::RawMutex;
        PlRaw(parking_lot::RawMutex::INIT)
    }
}

impl BenchLock for PlRaw {
    #[inline]
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        use parking_lot::lock_api::RawMutex;
        self.0.lock();
        let r = f();
        // SAFETY: locked just above by this thread.
        unsafe { self.0.unlock() };
        r
    }
}

/// `std::sync::Mutex<()>`.
pub struct StdMutex(pub std::sync::Mutex<()>);

impl BenchLock for StdMutex {
    #[inline]
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }
}

/// One contended run: `threads` threads take `lock` in turn and increment one shared counter
/// under it until the counter reaches `total`. Returns the time from the first thread's start
/// to the last thread's end (thread creation and exit are not counted), and each thread's
/// number of increments. The threads start together: each waits (yielding) until all are up.
pub fn contended_run<L: BenchLock>(
    lock: &Arc<L>,
    threads: usize,
    total: u64,
) -> (Duration, Vec<u64>) {
    struct Shared {
        counter: UnsafeCell<u64>,
        ready: AtomicUsize,
    }
    // SAFETY: `counter` is only touched under the lock being measured.
    unsafe impl Sync for Shared {}
    let shared = Arc::new(Shared {
        counter: UnsafeCell::new(0),
        ready: AtomicUsize::new(0),
    });
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (lock, shared) = (lock.clone(), shared.clone());
            std::thread::spawn(move || {
                shared.ready.fetch_add(1, Ordering::AcqRel);
                while shared.ready.load(Ordering::Acquire) < threads {
                    std::thread::yield_now();
                }
                let start = Instant::now();
                let mut mine = 0u64;
                loop {
                    let more = lock.with(|| {
                        // SAFETY: the lock is held.
                        let c = unsafe { &mut *shared.counter.get() };
                        if *c < total {
                            *c += 1;
                            true
                        } else {
                            false
                        }
                    });
                    if !more {
                        break;
                    }
                    mine += 1;
                }
                (start, Instant::now(), mine)
            })
        })
        .collect();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let mut counts = Vec::with_capacity(threads);
    for h in handles {
        let (s, e, n) = h.join().expect("bench thread");
        first = Some(first.map_or(s, |f| f.min(s)));
        last = Some(last.map_or(e, |l| l.max(e)));
        counts.push(n);
    }
    let d = match (first, last) {
        (Some(f), Some(l)) => l - f,
        _ => Duration::ZERO,
    };
    (d.max(Duration::from_nanos(1)), counts)
}

/// Per-run fairness: the least-served thread's share of the work, relative to an equal share
/// (1.0 = perfectly even, 0.0 = one thread starved for the whole run).
pub fn min_share(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 1.0;
    }
    let min = counts.iter().copied().min().unwrap_or(0);
    min as f64 * counts.len() as f64 / total as f64
}

/// Collects the fairness of the runs of one contended bench; prints and records a summary.
#[derive(Default)]
pub struct Fairness {
    shares: Vec<f64>,
}

impl Fairness {
    /// Runs shorter than this are not counted: in less than a few scheduler time slices, which
    /// thread the OS runs decides the shares more than the lock does.
    pub const MIN_RUN: Duration = Duration::from_millis(20);

    pub fn add(&mut self, run: Duration, counts: &[u64]) {
        if run >= Self::MIN_RUN {
            self.shares.push(min_share(counts));
        }
    }

    /// Prints "median / worst least-served share" and records it beside criterion's results
    /// (`target/criterion/<group>/<id>/fairness.txt`) for `examples/bench_report.rs`.
    pub fn finish(mut self, group: &str, id: &str) {
        if self.shares.is_empty() {
            return; // filtered out, or only a test run
        }
        self.shares.sort_by(f64::total_cmp);
        let median = self.shares[self.shares.len() / 2];
        let worst = self.shares[0];
        let starved = self.shares.iter().filter(|&&s| s == 0.0).count();
        let line = format!(
            "least-served thread share: median {median:.2}, worst {worst:.2}, starved runs {starved}/{}",
            self.shares.len()
        );
        println!("{group}/{id}: {line}");
        let dir = criterion_dir().join(group).join(id);
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(
                dir.join("fairness.txt"),
                format!("{median:.3} {worst:.3} {starved} {}\n", self.shares.len()),
            );
        }
    }
}

/// Where criterion writes its results (the same rule it uses).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}
