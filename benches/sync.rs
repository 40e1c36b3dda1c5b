//! RLock, Semaphore, Event and Condition beside their pthread counterparts, in one run:
//! RLock re-entry vs a recursive `pthread_mutex`, Semaphore acquire+release vs `sem_t`, and
//! ping-pong round trips between two threads (Event, Semaphore, Condition) vs `sem_t` and a
//! pthread mutex+condvar.
//!
//!     cargo bench --bench sync

mod common;

use common::{PCond, PMutex, Padded, Sem};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rthread::ffi::condition::{
    rt_condition, rt_condition_acquire, rt_condition_free, rt_condition_new, rt_condition_notify,
    rt_condition_release, rt_condition_wait,
};
use rthread::ffi::event::{
    rt_event, rt_event_clear, rt_event_free, rt_event_new, rt_event_set, rt_event_wait,
};
use rthread::ffi::rlock::{
    rt_rlock, rt_rlock_acquire, rt_rlock_free, rt_rlock_new, rt_rlock_release,
};
use rthread::ffi::semaphore::{
    rt_semaphore, rt_semaphore_acquire, rt_semaphore_free, rt_semaphore_new, rt_semaphore_release,
};
use rthread::rt_status::RT_OK;
use rthread::sync::{RLock, Semaphore};
use rthread::time::Wait;
use std::cell::UnsafeCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A C handle that may cross threads (every rthread object is made to be shared).
struct H<T>(*mut T);
impl<T> Clone for H<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for H<T> {}
// SAFETY: rthread handles are thread-safe.
unsafe impl<T> Send for H<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for H<T> {}

fn rlock(c: &mut Criterion) {
    // Re-entry: the lock is held once already; one iteration is acquire+release at level 2.
    let mut g = c.benchmark_group("rlock_reentry");
    g.throughput(Throughput::Elements(1));
    let mut r = std::ptr::null_mut();
    assert_eq!(unsafe { rt_rlock_new(&mut r) }, RT_OK);
    let r = H::<rt_rlock>(r);
    assert_eq!(unsafe { rt_rlock_acquire(r.0, 1, -1.0) }, RT_OK);
    g.bench_function("rthread_c_abi", |b| {
        b.iter(|| {
            let r = black_box(r);
            unsafe { rt_rlock_acquire(r.0, 1, -1.0) };
            unsafe { rt_rlock_release(r.0) };
        })
    });
    assert_eq!(unsafe { rt_rlock_release(r.0) }, RT_OK);
    let core = Box::new(Padded(RLock::new()));
    core.0.acquire(Wait::Forever).expect("acquire");
    g.bench_function("rthread_core", |b| {
        b.iter(|| {
            let r = &black_box(&*core).0;
            let _ = r.acquire(Wait::Forever);
            let _ = r.release();
        })
    });
    core.0.release().expect("release");
    let m = PMutex::recursive();
    m.lock();
    g.bench_function("pthread_recursive_mutex", |b| {
        b.iter(|| {
            let m = black_box(&m);
            m.lock();
            m.unlock();
        })
    });
    m.unlock();
    g.finish();

    // First acquire: from unowned to owned and back.
    let mut g = c.benchmark_group("rlock_pair");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rthread_c_abi", |b| {
        b.iter(|| {
            let r = black_box(r);
            unsafe { rt_rlock_acquire(r.0, 1, -1.0) };
            unsafe { rt_rlock_release(r.0) };
        })
    });
    g.bench_function("pthread_recursive_mutex", |b| {
        b.iter(|| {
            let m = black_box(&m);
            m.lock();
            m.unlock();
        })
    });
    g.finish();
    unsafe { rt_rlock_free(r.0) };
}

fn semaphore(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore_pair");
    g.throughput(Throughput::Elements(1));
    let mut s = std::ptr::null_mut();
    assert_eq!(unsafe { rt_semaphore_new(1, &mut s) }, RT_OK);
    let s = H::<rt_semaphore>(s);
    g.bench_function("rthread_c_abi", |b| {
        b.iter(|| {
            let s = black_box(s);
            unsafe { rt_semaphore_acquire(s.0, 1, -1.0) };
            unsafe { rt_semaphore_release(s.0, 1) };
        })
    });
    unsafe { rt_semaphore_free(s.0) };
    let core = Box::new(Padded(Semaphore::new(1).expect("semaphore")));
    g.bench_function("rthread_core", |b| {
        b.iter(|| {
            let s = &black_box(&*core).0;
            let _ = s.acquire(Wait::Forever);
            let _ = s.release(1);
        })
    });
    let sem = Sem::new(1);
    g.bench_function("sem_t", |b| {
        b.iter(|| {
            let s = black_box(&sem);
            s.wait();
            s.post();
        })
    });
    g.finish();
}

/// Two sides of a ping-pong: `ping` hands the turn to the other thread and waits for it to come
/// back; `pong` waits for the turn and hands it back. One round trip is one iteration.
trait PingPong: Send + Sync + 'static {
    fn ping(&self);
    fn pong(&self);
}

/// Times `iters` round trips; the partner thread starts (and is joined) outside the timing,
/// after one untimed round trip.
fn ping_pong_run<P: PingPong>(p: &Arc<P>, iters: u64) -> Duration {
    let q = p.clone();
    let partner = std::thread::spawn(move || {
        for _ in 0..=iters {
            q.pong();
        }
    });
    p.ping();
    let start = Instant::now();
    for _ in 0..iters {
        p.ping();
    }
    let t = start.elapsed();
    partner.join().expect("partner");
    t
}

fn bench_pp<P: PingPong>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, p: P) {
    let p = Arc::new(p);
    g.bench_function(id, |b| b.iter_custom(|iters| ping_pong_run(&p, iters)));
}

/// Two events: the pinger sets `a` and waits for `b`; each side clears the event it waited for.
struct EventPP(H<rt_event>, H<rt_event>);

impl PingPong for EventPP {
    fn ping(&self) {
        unsafe { rt_event_set(self.0.0) };
        unsafe { rt_event_wait(self.1.0, -1.0) };
        unsafe { rt_event_clear(self.1.0) };
    }
    fn pong(&self) {
        unsafe { rt_event_wait(self.0.0, -1.0) };
        unsafe { rt_event_clear(self.0.0) };
        unsafe { rt_event_set(self.1.0) };
    }
}

impl Drop for EventPP {
    fn drop(&mut self) {
        unsafe { rt_event_free(self.0.0) };
        unsafe { rt_event_free(self.1.0) };
    }
}

/// Two semaphores at 0: release one, acquire the other.
struct SemaphorePP(H<rt_semaphore>, H<rt_semaphore>);

impl PingPong for SemaphorePP {
    fn ping(&self) {
        unsafe { rt_semaphore_release(self.0.0, 1) };
        unsafe { rt_semaphore_acquire(self.1.0, 1, -1.0) };
    }
    fn pong(&self) {
        unsafe { rt_semaphore_acquire(self.0.0, 1, -1.0) };
        unsafe { rt_semaphore_release(self.1.0, 1) };
    }
}

impl Drop for SemaphorePP {
    fn drop(&mut self) {
        unsafe { rt_semaphore_free(self.0.0) };
        unsafe { rt_semaphore_free(self.1.0) };
    }
}

/// Two `sem_t` at 0.
struct SemTPP(Sem, Sem);

impl PingPong for SemTPP {
    fn ping(&self) {
        self.0.post();
        self.1.wait();
    }
    fn pong(&self) {
        self.0.wait();
        self.1.post();
    }
}

/// One Condition (on its own RLock, as `threading.Condition()`) and a flag it protects: the
/// pinger raises the flag, notifies and waits for it to fall; the ponger waits for it to rise,
/// lowers it and notifies. Two notify/wait hand-offs per round trip.
struct ConditionPP {
    c: H<rt_condition>,
    flag: UnsafeCell<bool>,
}

// SAFETY: `flag` is only touched with the condition's lock held.
unsafe impl Sync for ConditionPP {}
// SAFETY: as above.
unsafe impl Send for ConditionPP {}

impl PingPong for ConditionPP {
    fn ping(&self) {
        let c = self.c.0;
        unsafe { rt_condition_acquire(c, 1, -1.0) };
        // SAFETY (every access to `flag`): the condition's lock is held.
        unsafe { *self.flag.get() = true };
        unsafe { rt_condition_notify(c, 1) };
        while unsafe { *self.flag.get() } {
            unsafe { rt_condition_wait(c, -1.0) };
        }
        unsafe { rt_condition_release(c) };
    }
    fn pong(&self) {
        let c = self.c.0;
        unsafe { rt_condition_acquire(c, 1, -1.0) };
        // SAFETY (every access to `flag`): the condition's lock is held.
        while !unsafe { *self.flag.get() } {
            unsafe { rt_condition_wait(c, -1.0) };
        }
        unsafe { *self.flag.get() = false };
        unsafe { rt_condition_notify(c, 1) };
        unsafe { rt_condition_release(c) };
    }
}

impl Drop for ConditionPP {
    fn drop(&mut self) {
        unsafe { rt_condition_free(self.c.0) };
    }
}

/// The pthread version of the same: a mutex, a condition variable and a flag.
struct PCondPP {
    m: PMutex,
    c: PCond,
    flag: UnsafeCell<bool>,
}

// SAFETY: `flag` is only touched with the mutex held.
unsafe impl Sync for PCondPP {}
// SAFETY: as above.
unsafe impl Send for PCondPP {}

impl PingPong for PCondPP {
    fn ping(&self) {
        self.m.lock();
        // SAFETY (every access to `flag`): the mutex is held.
        unsafe { *self.flag.get() = true };
        self.c.signal();
        while unsafe { *self.flag.get() } {
            self.c.wait(&self.m);
        }
        self.m.unlock();
    }
    fn pong(&self) {
        self.m.lock();
        // SAFETY (every access to `flag`): the mutex is held.
        while !unsafe { *self.flag.get() } {
            self.c.wait(&self.m);
        }
        unsafe { *self.flag.get() = false };
        self.c.signal();
        self.m.unlock();
    }
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping_pong");
    let (mut a, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(unsafe { rt_event_new(&mut a) }, RT_OK);
    assert_eq!(unsafe { rt_event_new(&mut b) }, RT_OK);
    bench_pp(&mut g, "rthread_event", EventPP(H(a), H(b)));
    let (mut a, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(unsafe { rt_semaphore_new(0, &mut a) }, RT_OK);
    assert_eq!(unsafe { rt_semaphore_new(0, &mut b) }, RT_OK);
    bench_pp(&mut g, "rthread_semaphore", SemaphorePP(H(a), H(b)));
    bench_pp(&mut g, "sem_t", SemTPP(Sem::new(0), Sem::new(0)));
    let mut cond = std::ptr::null_mut();
    assert_eq!(unsafe { rt_condition_new(&mut cond) }, RT_OK);
    bench_pp(
        &mut g,
        "rthread_condition",
        ConditionPP {
            c: H(cond),
            flag: UnsafeCell::new(false),
        },
    );
    bench_pp(
        &mut g,
        "pthread_condvar",
        PCondPP {
            m: PMutex::new(),
            c: PCond::new(),
            flag: UnsafeCell::new(false),
        },
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = rlock, semaphore, ping_pong
}
criterion_main!(benches);
