//! `concurrent.futures.ThreadPoolExecutor`: a pool of worker threads fed by one queue.
//!
//! As in CPython 3.13: `submit` puts a work item on an unbounded FIFO and, unless an idle
//! worker can be claimed (a semaphore that each worker releases when it finds the queue empty),
//! starts a new worker while there are fewer than `max_workers`. Workers are rthread thread
//! objects named `<prefix>_<n>` (n from 0); a worker runs the initializer first (a failure
//! breaks the pool: pending futures fail with it, later submits are refused), then takes items
//! until the queue is shut down and empty. Where CPython puts a wake-up marker (`None`) on the
//! queue at shutdown, this pool shuts its queue down (`queue.shutdown()`, 3.13), which needs no
//! memory: the workers finish what is queued, then see the shutdown.
//!
//! Memory: `submit` allocates the future, the queue's room for the item and, when it starts
//! a worker, the thread object, its name and its start; each can fail with `RT_ENOMEM` (a
//! refused thread creation is `RT_EAGAIN`). If the item cannot be queued, nothing happens. If
//! a worker cannot be started while the pool has none, the item is taken back and `submit`
//! fails, nothing changed. If the pool has a worker already, the item stays queued, `submit`
//! succeeds, and the workers the pool has run it in turn (a later submit tries again to start
//! one). CPython raises from `submit` in both cases, leaving the item queued: a future that
//! its caller never got, which runs anyway. Shutdown, waiting, and the workers' own loop
//! allocate nothing.
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

use super::future::{Failure, Future, FutureRef, ResultFree};
use crate::debug::annotate;
use crate::memory::{Arc, try_box, try_boxed_str};
use crate::queue::Queue;
use crate::status::{Error, rt_status};
use crate::sync::Semaphore;
use crate::thread::{CallbackGuard, Thread};
use crate::wait::LockCell;
use std::borrow::Cow;
use std::ffi::{CStr, c_int, c_void};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
        // What the submitter did before `submit` happens before the task.
        annotate::acquired::<Future>(&*self.future);
        let rc = {
            let _g = CallbackGuard::new();
            crate::status::record_text(rt_status::RT_OK, "");
            // SAFETY: the task and its argument, as submit was given them; called once.
            unsafe { (self.task)(self.arg.0, &mut result) }
        };
        let failure = (rc != 0).then(|| task_failure(rc));
        self.free_arg();
        let _ = match failure {
            None => self.future.set_result(result),
            Some(f) => self.future.set_exception(f),
        };
    }
}

/// The failure of a task that returned `rc`: its code, and the thread's last message, copied.
/// Without memory for the copy, the code stays and the message says so.
fn task_failure(rc: c_int) -> Failure {
    // SAFETY: the calling thread's message buffer, NUL-terminated, unchanged during this call.
    let bytes = unsafe { CStr::from_ptr(crate::status::last_error_ptr()) }.to_bytes();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        // A message cut inside a character: its whole characters.
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    };
    Failure::copied(rc, text).unwrap_or(Failure {
        code: rc,
        message: Cow::Borrowed(LOST_MESSAGE),
    })
}

/// The message of a task's failure whose own message could not be copied.
pub const LOST_MESSAGE: &str = "out of memory (the task's own message was lost)";

impl Drop for WorkItem {
    fn drop(&mut self) {
        self.free_arg();
    }
}

struct PoolState {
    shutdown: bool,
    broken: bool,
    /// Every worker started, in order; none is ever removed.
    threads: Vec<Arc<Thread>>,
}

struct Shared {
    queue: Queue<WorkItem>,
    idle: Semaphore,
    st: LockCell<PoolState>,
    max_workers: usize,
    /// The prefix given, or `None`: `ThreadPoolExecutor-<number>`.
    prefix: Option<Box<str>>,
    /// The number of a pool without a prefix, given when it is registered (never reused).
    number: AtomicU64,
    initializer: Option<(InitFn, SendPtr)>,
    /// The process's exit has waited for this pool's workers.
    exit_joined: AtomicBool,
}

// SAFETY: the initializer's context (in `SendPtr`, which is Send) is the user's, given to
// every worker by the contract of the C face; it is only copied, never dereferenced here.
unsafe impl Sync for SendPtr {}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut PoolState) -> R) -> R {
        self.st.with(f)
    }

    /// No more items, and the workers end once the queue is empty (allocates nothing).
    fn shut_queue(&self, immediate: bool) -> Option<crate::queue::Drained<WorkItem>> {
        self.queue.shutdown(immediate).ok()
    }

    /// Writes the pool's prefix: the one given, or `ThreadPoolExecutor-<number>`.
    fn write_prefix(&self, out: &mut impl Write) -> std::fmt::Result {
        match &self.prefix {
            Some(p) => out.write_str(p),
            None => write!(
                out,
                "ThreadPoolExecutor-{}",
                self.number.load(Ordering::Relaxed)
            ),
        }
    }

    /// The worker's name, `<prefix>_<n>`; `RT_ENOMEM`.
    fn worker_name(&self, n: usize) -> Result<String, Error> {
        let mut name = String::new();
        // Room for the prefix, "ThreadPoolExecutor-" and two 20-digit numbers: no write below
        // allocates.
        let room = self.prefix.as_ref().map_or(0, |p| p.len()) + 64;
        name.try_reserve(room).map_err(|_| Error::NO_MEMORY)?;
        let _ = self.write_prefix(&mut name);
        let _ = write!(name, "_{n}");
        Ok(name)
    }

    fn initializer_failed(&self) {
        // Once broken, no submit adds to the queue: what it holds now fails (other workers may
        // take some meanwhile, as in CPython, where they then fail in their own initializer).
        self.with(|st| st.broken = true);
        while let Ok(mut w) = self.queue.get(false, None) {
            w.free_arg();
            let _ = w.future.set_exception(Failure {
                code: rt_status::RT_EBROKEN as i32,
                message: Cow::Borrowed(BROKEN_MESSAGE),
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
            Err(e) if e.status == rt_status::RT_ESHUTDOWN => return,
            Err(_) => {
                let _ = shared.idle.release(1);
                loop {
                    match shared.queue.get(true, None) {
                        Ok(item) => break item,
                        // Shut down and empty: the pool is done with this worker.
                        Err(e) if e.status == rt_status::RT_ESHUTDOWN => return,
                        // An interrupt: a worker ignores it. (Without memory for its wait
                        // record a thread waits on a record on its stack: no failure there.)
                        Err(_) => {}
                    }
                }
            }
        };
        item.run();
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
        let ex = Executor::unregistered(max_workers, prefix, initializer)?;
        ex.register()?;
        Ok(ex)
    }

    /// As [`Executor::new`], before [`Executor::register`]: a pool that the process's exit
    /// does not know of, and whose number (without a prefix) is not given yet. For a caller
    /// with more to allocate before the pool exists for good (the C face's handle).
    pub fn unregistered(
        max_workers: usize,
        prefix: Option<&str>,
        initializer: Option<(InitFn, *mut c_void)>,
    ) -> Result<Executor, Error> {
        let prefix = match prefix {
            Some(p) if !p.is_empty() => Some(try_boxed_str(p)?),
            _ => None,
        };
        let shared = Arc::try_new(Shared {
            queue: Queue::fifo(0)?,
            idle: Semaphore::new(0)?,
            st: LockCell::new(PoolState {
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
            number: AtomicU64::new(0),
            initializer: initializer.map(|(f, c)| (f, SendPtr(c))),
            exit_joined: AtomicBool::new(false),
        })?;
        Ok(Executor { shared })
    }

    /// Makes the pool known to the process's exit, and numbers it if it has no prefix (pools
    /// are numbered from 0 in the order they are registered). `RT_ENOMEM`, with nothing done
    /// and no number used, if the list of pools cannot grow. Once only.
    pub fn register(&self) -> Result<(), Error> {
        register(&self.shared)
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
            let future = Future::new(result_free)?;
            annotate::released::<Future>(&*future);
            let item = WorkItem {
                future: future.clone(),
                task,
                arg: SendPtr(arg),
                arg_free,
            };
            if let Err(mut e) = sh.queue.put(item, true, None) {
                // No room for it (the queue is shut down only with `st.shutdown` or the
                // global flag set, seen above): the argument stays the caller's.
                e.item.arg_free = None;
                return Err(e.error);
            }
            if let Err(e) = self.adjust_thread_count(st) {
                if st.threads.is_empty() {
                    // No worker will ever take it: take it back (only this item is queued, as
                    // every earlier submit either found a worker or took its item back too).
                    while let Ok(mut w) = sh.queue.get(false, None) {
                        w.arg_free = None;
                    }
                    return Err(e);
                }
                // Else a worker of the pool runs it; see the module comment.
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
        let args = Box::into_raw(try_box(WorkerArgs { shared: sh.clone() })?);
        // SAFETY: worker_entry may run once with `args` in the new thread; it never unwinds
        // (tasks run under a CallbackGuard, so rt_exit_thread cannot end a worker).
        let started =
            unsafe { Thread::new(Some(worker_entry), args as *mut c_void) }.and_then(|t| {
                t.set_name(&sh.worker_name(n)?)?;
                let _ = t.set_daemon(true);
                // Under the pool's lock: the start's short wait runs no blocking hooks.
                Thread::start_without_hooks(&t)?;
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
            sh.shut_queue(cancel_futures)
        });
        for mut w in cancelled.into_iter().flatten() {
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
    let mut result = Ok(());
    let mut interrupted = false;
    // One at a time, by index (no copy of the list): workers are only ever added.
    let mut i = 0;
    while let Some(t) = sh.with(|st| st.threads.get(i).cloned()) {
        i += 1;
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

fn unregister(sh: &Arc<Shared>) {
    let me = Arc::as_ptr(sh);
    with_pools(|v| v.retain(|p| *p != me));
}

extern "C" fn at_exit() {
    // Under the list's lock: no pool comes or goes meanwhile. Under each pool's lock: a submit
    // that got in before this is queued before the queue shuts.
    with_pools(|v| {
        GLOBAL_SHUTDOWN.store(true, Ordering::Release);
        for &p in v.iter() {
            // SAFETY: listed, and the lock is held.
            let sh = unsafe { &*p };
            sh.with(|_| sh.shut_queue(false));
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

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<ThreadPoolExecutor ")?;
        self.shared.write_prefix(f)?;
        f.write_str(">")
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::thread::object::lifecycle::DELAY_BEFORE_ALIVE_MS;
    use std::cell::Cell;

    thread_local! {
        static HOOK_CALLS: Cell<u32> = const { Cell::new(0) };
    }

    unsafe extern "C-unwind" fn count_hook(_: *mut c_void) {
        HOOK_CALLS.with(|c| c.set(c.get() + 1));
    }

    unsafe extern "C" fn empty_task(_: *mut c_void, _: *mut *mut c_void) -> c_int {
        0
    }

    #[test]
    fn starting_a_worker_runs_no_blocking_hook_under_the_pools_lock() {
        let ex = Executor::new(1, None, None).unwrap();
        // The new worker pauses before it is ALIVE, so that submit's start must sleep.
        DELAY_BEFORE_ALIVE_MS.store(30, Ordering::Relaxed);
        // SAFETY: the hooks only count, in a thread-local, and are removed below.
        unsafe {
            crate::wait::blocking_hooks::set(
                Some(count_hook),
                Some(count_hook),
                std::ptr::null_mut(),
            )
        };
        let before = HOOK_CALLS.with(Cell::get);
        let f = ex.submit(empty_task, std::ptr::null_mut(), None, None);
        let during = HOOK_CALLS.with(Cell::get) - before;
        // SAFETY: removing the hooks.
        unsafe { crate::wait::blocking_hooks::set(None, None, std::ptr::null_mut()) };
        DELAY_BEFORE_ALIVE_MS.store(0, Ordering::Relaxed);
        let f = f.unwrap();
        assert_eq!(
            during, 0,
            "blocking hooks ran in submit while it held the pool's lock"
        );
        ex.shutdown(true, false).unwrap();
        drop(f);
    }
}
