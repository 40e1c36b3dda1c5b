//! `concurrent.futures.ThreadPoolExecutor`: a pool of worker threads fed by one queue.
//!
//! As in CPython 3.13: `submit` puts a work item on an unbounded FIFO and, unless an idle
//! worker can be claimed (a semaphore that each worker releases when it finds the queue empty),
//! starts a new worker while there are fewer than `max_workers`. Workers are rthread thread
//! objects named `<prefix>_<n>` (n from 0); a worker runs the initializer first (a failure
//! breaks the pool: pending futures fail with it, later submits are refused), then takes items
//! until it takes the wake-up marker (`None`) of a shutdown, which it puts back for the next
//! worker.
//!
//! Workers are daemon threads, and the process's exit waits for them the way CPython's
//! `threading` atexit hook does: an exit handler, registered after the registry's (so it runs
//! first), marks the interpreter-wide shutdown, wakes every pool's workers, and joins them; they
//! finish the work already queued first. `rt_shutdown` does not wait for idle workers.
//!
//! No user code runs under the pool's lock: a task, the initializer, argument destructors and
//! the done-callbacks of futures failed or cancelled by the pool run with no internal lock
//! held.
//!
//! Differences from Python: `shutdown(cancel_futures)` also notifies `wait`/`as_completed`
//! of the futures it cancels (CPython leaves them CANCELLED, so a `wait` on them never returns);
//! a worker that meets a future already finished by someone else skips it (CPython's worker
//! dies of the RuntimeError).

use super::future::{Failure, Future, ResultFree};
use crate::queue::Queue;
use crate::status::{Error, rt_status};
use crate::sync::{Lock, Semaphore};
use crate::thread::{CallbackGuard, InternalGuard, Thread};
use std::cell::UnsafeCell;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// A task: `int task(void *arg, void **result)`; 0 is success with `*result`, anything else
/// is the failure's code.
pub type TaskFn = unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> c_int;
/// An initializer: `int init(void *ctx)`; non-zero breaks the pool.
pub type InitFn = unsafe extern "C" fn(*mut c_void) -> c_int;
/// A destructor for a task's argument.
pub type ArgFree = unsafe extern "C" fn(*mut c_void);

pub const SHUTDOWN: Error = Error::new(
    rt_status::RT_ESHUTDOWN,
    "cannot schedule new futures after shutdown",
);
pub const INTERPRETER_SHUTDOWN: Error = Error::new(
    rt_status::RT_ESHUTDOWN,
    "cannot schedule new futures after interpreter shutdown",
);
pub const BROKEN_MESSAGE: &str =
    "A thread initializer failed, the thread pool is not usable anymore";
pub const BROKEN: Error = Error::new(rt_status::RT_EBROKEN, BROKEN_MESSAGE);
const JOIN_SELF: Error = Error::new(rt_status::RT_EDEADLK, "cannot join current thread");

#[derive(Clone, Copy)]
struct SendPtr(*mut c_void);
// SAFETY: the user's pointers, handed to the worker by the contract of submit.
unsafe impl Send for SendPtr {}

/// One submitted call.
struct WorkItem {
    future: Arc<Future>,
    task: TaskFn,
    arg: SendPtr,
    arg_free: Option<ArgFree>,
}

impl WorkItem {
    fn free_arg(&mut self) {
        if let Some(free) = self.arg_free.take() {
            let _g = CallbackGuard::new();
            // SAFETY: the destructor given with the argument, called once.
            unsafe { free(self.arg.0) };
        }
    }

    fn run(mut self) {
        if !matches!(self.future.set_running_or_notify_cancel(), Ok(true)) {
            return;
        }
        let mut result: *mut c_void = std::ptr::null_mut();
        let rc = {
            let _g = CallbackGuard::new();
            crate::status::record_text(rt_status::RT_OK, "");
            // SAFETY: the task and its argument, as submit was given them; called once.
            unsafe { (self.task)(self.arg.0, &mut result) }
        };
        let message = if rc != 0 {
            crate::status::last_error()
        } else {
            String::new()
        };
        self.free_arg();
        let _ = if rc == 0 {
            self.future.set_result(result)
        } else {
            self.future.set_exception(Failure {
                code: rc,
                message: message.into_boxed_str(),
            })
        };
    }
}

impl Drop for WorkItem {
    fn drop(&mut self) {
        self.free_arg();
    }
}

struct PoolState {
    shutdown: bool,
    broken: bool,
    threads: Vec<crate::memory::Arc<Thread>>,
}

struct Shared {
    queue: Queue<Option<WorkItem>>,
    idle: Semaphore,
    lock: Lock,
    st: UnsafeCell<PoolState>,
    max_workers: usize,
    prefix: Box<str>,
    initializer: Option<(InitFn, SendPtr)>,
}

// SAFETY: `st` is only touched with `lock` held; the initializer's context is the user's,
// given to every worker by the contract of the C face.
unsafe impl Sync for Shared {}
// SAFETY: as above.
unsafe impl Send for Shared {}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut PoolState) -> R) -> R {
        let _g = InternalGuard::lock(&self.lock);
        // SAFETY: the lock is held.
        f(unsafe { &mut *self.st.get() })
    }

    fn put(&self, item: Option<WorkItem>) {
        // A simple queue is unbounded and never shut down: its put cannot fail.
        let _ = self.queue.put(item, true, None);
    }

    /// Takes what the queue holds now, without waiting.
    fn drain(&self) -> Vec<WorkItem> {
        let mut v = Vec::new();
        while let Ok(item) = self.queue.get(false, None) {
            if let Some(w) = item {
                v.push(w);
            }
        }
        v
    }

    fn initializer_failed(&self) {
        let items = self.with(|st| {
            st.broken = true;
            self.drain()
        });
        for mut w in items {
            w.free_arg();
            let _ = w.future.set_exception(Failure {
                code: rt_status::RT_EBROKEN as i32,
                message: BROKEN_MESSAGE.into(),
            });
        }
    }
}

/// What a worker thread is given.
struct WorkerArgs {
    shared: Arc<Shared>,
}

unsafe extern "C-unwind" fn worker_entry(arg: *mut c_void) {
    // SAFETY: `arg` is the Box that `adjust_thread_count` leaked for this worker.
    let args = unsafe { Box::from_raw(arg as *mut WorkerArgs) };
    worker(&args.shared);
}

fn worker(shared: &Shared) {
    if let Some((init, ctx)) = shared.initializer {
        let rc = {
            let _g = CallbackGuard::new();
            // SAFETY: the initializer and its context, as the executor was given them.
            unsafe { init(ctx.0) }
        };
        if rc != 0 {
            shared.initializer_failed();
            return;
        }
    }
    loop {
        let item = match shared.queue.get(false, None) {
            Ok(item) => item,
            Err(_) => {
                let _ = shared.idle.release(1);
                loop {
                    // Only an interrupt ends this wait early: a worker ignores it.
                    if let Ok(item) = shared.queue.get(true, None) {
                        break item;
                    }
                }
            }
        };
        match item {
            Some(w) => w.run(),
            None => {
                let stop = shared.with(|st| {
                    if st.shutdown || GLOBAL_SHUTDOWN.load(Ordering::Acquire) {
                        st.shutdown = true;
                        true
                    } else {
                        false
                    }
                });
                if stop {
                    shared.put(None);
                    return;
                }
            }
        }
    }
}

/// A thread pool (`ThreadPoolExecutor`); see the module comment. Dropping it shuts it down
/// and waits for its workers.
pub struct Executor {
    shared: Arc<Shared>,
}

/// CPython's default `max_workers`: `min(32, process_cpu_count() + 4)`.
/// `process_cpu_count()` is the number of CPUs the process may run on (its affinity mask).
pub fn default_max_workers() -> usize {
    (process_cpu_count() + 4).min(32)
}

fn process_cpu_count() -> usize {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most
        // its size.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
                let n = libc::CPU_COUNT(&set);
                if n > 0 {
                    return n as usize;
                }
            }
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Executor {
    /// A pool of at most `max_workers` threads (0: [`default_max_workers`]), named
    /// `<prefix>_<n>` (no prefix: `ThreadPoolExecutor-<k>`, k counting pools without one from
    /// 0); `initializer(ctx)` runs first in every worker.
    pub fn new(
        max_workers: usize,
        prefix: Option<&str>,
        initializer: Option<(InitFn, *mut c_void)>,
    ) -> Result<Executor, Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix: Box<str> = match prefix {
            Some(p) if !p.is_empty() => p.into(),
            _ => format!(
                "ThreadPoolExecutor-{}",
                COUNTER.fetch_add(1, Ordering::Relaxed)
            )
            .into(),
        };
        let shared = Arc::new(Shared {
            queue: Queue::simple(),
            idle: Semaphore::new(0)?,
            lock: Lock::new(),
            st: UnsafeCell::new(PoolState {
                shutdown: false,
                broken: false,
                threads: Vec::new(),
            }),
            max_workers: if max_workers == 0 {
                default_max_workers()
            } else {
                max_workers
            },
            prefix,
            initializer: initializer.map(|(f, c)| (f, SendPtr(c))),
        });
        register(&shared)?;
        Ok(Executor { shared })
    }

    /// The bound on the number of workers.
    pub fn max_workers(&self) -> usize {
        self.shared.max_workers
    }

    /// How many workers have been started (CPython's `len(executor._threads)`).
    pub fn thread_count(&self) -> usize {
        self.shared.with(|st| st.threads.len())
    }

    /// `submit(fn, arg)`: queues `task(arg)` and returns its future. `arg_free(arg)` runs once
    /// the task has returned, or when the task will never run (cancelled, the pool broke). On
    /// error nothing is queued and `arg_free` is not called. Errors: `RT_EBROKEN`
    /// (BrokenThreadPool), `RT_ESHUTDOWN` (after shutdown, or after the process began to exit),
    /// `RT_EAGAIN` when no worker exists and none can be started, `RT_ENOMEM`.
    pub fn submit(
        &self,
        task: TaskFn,
        arg: *mut c_void,
        arg_free: Option<ArgFree>,
        result_free: Option<ResultFree>,
    ) -> Result<Arc<Future>, Error> {
        let sh = &self.shared;
        sh.with(|st| {
            if st.broken {
                return Err(BROKEN);
            }
            if st.shutdown {
                return Err(SHUTDOWN);
            }
            if GLOBAL_SHUTDOWN.load(Ordering::Acquire) {
                return Err(INTERPRETER_SHUTDOWN);
            }
            st.threads.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
            let future = Future::new(result_free);
            sh.put(Some(WorkItem {
                future: future.clone(),
                task,
                arg: SendPtr(arg),
                arg_free,
            }));
            if let Err(e) = self.adjust_thread_count(st) {
                if st.threads.is_empty() {
                    // No worker will ever take it: take it back (only this item is queued, as
                    // every earlier submit either found a worker or took its item back too).
                    while let Ok(item) = sh.queue.get(false, None) {
                        if let Some(mut w) = item {
                            w.arg_free = None;
                        }
                    }
                    return Err(e);
                }
            }
            Ok(future)
        })
    }

    fn adjust_thread_count(&self, st: &mut PoolState) -> Result<(), Error> {
        let sh = &self.shared;
        if sh.idle.try_acquire() {
            return Ok(());
        }
        let n = st.threads.len();
        if n >= sh.max_workers {
            return Ok(());
        }
        // SAFETY: worker_entry takes back the Box given as its argument, once.
        let args = Box::into_raw(Box::new(WorkerArgs { shared: sh.clone() }));
        // SAFETY: worker_entry may run once with `args` in the new thread; it never unwinds
        // (tasks run under a CallbackGuard, so rt_exit_thread cannot end a worker).
        let started =
            unsafe { Thread::new(Some(worker_entry), args as *mut c_void) }.and_then(|t| {
                t.set_name(&format!("{}_{}", sh.prefix, n))?;
                let _ = t.set_daemon(true);
                t.start()?;
                Ok(t)
            });
        let t = match started {
            Ok(t) => t,
            Err(e) => {
                // SAFETY: no thread took the Box.
                drop(unsafe { Box::from_raw(args) });
                return Err(e);
            }
        };
        st.threads.push(t);
        Ok(())
    }

    /// `shutdown(wait, cancel_futures)`: no more submits; with `cancel_futures`, the queued
    /// futures that have not started are cancelled (their callbacks run here); with `wait`,
    /// waits until every worker has ended (after finishing the work still queued). Errors, in
    /// the wait only: `RT_EINTR` (the shutdown itself is done); `RT_EDEADLK` "cannot join current
    /// thread" when called with `wait` from one of the pool's own workers (after the others
    /// ended).
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) -> Result<(), Error> {
        let sh = &self.shared;
        let cancelled = sh.with(|st| {
            st.shutdown = true;
            let v = if cancel_futures {
                sh.drain()
            } else {
                Vec::new()
            };
            sh.put(None);
            v
        });
        for mut w in cancelled {
            w.free_arg();
            w.future.cancel();
            let _ = w.future.set_running_or_notify_cancel();
        }
        if wait {
            self.join_workers(true)
        } else {
            Ok(())
        }
    }

    fn join_workers(&self, interruptible: bool) -> Result<(), Error> {
        join_all(&self.shared, interruptible)
    }
}

fn join_all(sh: &Shared, interruptible: bool) -> Result<(), Error> {
    let threads = sh.with(|st| st.threads.clone());
    let mut result = Ok(());
    let mut interrupted = false;
    for t in threads {
        loop {
            match t.join(-1.0) {
                Ok(()) => break,
                Err(e) if e.status == rt_status::RT_EINTR => {
                    if interruptible {
                        return Err(e);
                    }
                    interrupted = true;
                }
                Err(e) if e.status == rt_status::RT_EDEADLK => {
                    result = Err(JOIN_SELF);
                    break;
                }
                Err(_) => break,
            }
        }
    }
    if interrupted {
        crate::wait::with_current(|r| r.interrupt());
    }
    result
}

impl Drop for Executor {
    fn drop(&mut self) {
        let _ = self.shutdown(false, false);
        let _ = self.join_workers(false);
        unregister(&self.shared);
    }
}

// ---------------------------------------------------------------------------------------------
// The process's exit.

/// Set when the process begins to exit (CPython's `concurrent.futures.thread._shutdown`).
static GLOBAL_SHUTDOWN: AtomicBool = AtomicBool::new(false);

struct Pools {
    lock: Lock,
    list: UnsafeCell<Vec<Weak<Shared>>>,
}
// SAFETY: `list` is only touched with `lock` held.
unsafe impl Sync for Pools {}

static POOLS: Pools = Pools {
    lock: Lock::new(),
    list: UnsafeCell::new(Vec::new()),
};

fn with_pools<R>(f: impl FnOnce(&mut Vec<Weak<Shared>>) -> R) -> R {
    let _g = InternalGuard::lock(&POOLS.lock);
    // SAFETY: the lock is held.
    f(unsafe { &mut *POOLS.list.get() })
}

fn register(sh: &Arc<Shared>) -> Result<(), Error> {
    static ARMED: std::sync::Once = std::sync::Once::new();
    ARMED.call_once(|| {
        // The registry's handler first, so that ours is registered after it and runs before it.
        crate::thread::shutdown::arm_exit_wait();
        // SAFETY: an `extern "C"` function that never unwinds. If registering fails (no
        // memory), the exit does not wait for workers.
        unsafe { libc::atexit(at_exit) };
    });
    with_pools(|v| {
        v.retain(|w| w.strong_count() > 0);
        v.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
        v.push(Arc::downgrade(sh));
        Ok(())
    })
}

fn unregister(sh: &Arc<Shared>) {
    let me = Arc::downgrade(sh);
    with_pools(|v| v.retain(|w| w.strong_count() > 0 && !w.ptr_eq(&me)));
}

extern "C" fn at_exit() {
    GLOBAL_SHUTDOWN.store(true, Ordering::Release);
    let pools: Vec<Arc<Shared>> = with_pools(|v| v.iter().filter_map(Weak::upgrade).collect());
    for sh in &pools {
        // Under the pool's lock: a submit that got in before this is queued before the marker.
        sh.with(|_| sh.put(None));
    }
    if !crate::thread::shutdown::exit_wait_enabled() {
        return;
    }
    for sh in &pools {
        let _ = join_all(sh, false);
    }
}

/// Whether the process has begun to exit (submits are refused).
pub fn interpreter_shutting_down() -> bool {
    GLOBAL_SHUTDOWN.load(Ordering::Acquire)
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<ThreadPoolExecutor {}>", self.shared.prefix)
    }
}
