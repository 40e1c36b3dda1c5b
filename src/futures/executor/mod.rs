//! `concurrent.futures.ThreadPoolExecutor`: a pool of worker threads fed by one queue.
//!
//! As in CPython 3.13: `submit` puts a work item on an unbounded FIFO and, unless an idle
//! worker can be claimed (one that found the queue empty), starts a new worker while there are
//! fewer than `max_workers`. An idle worker is given the item directly, in a slot of its own,
//! rather than through the queue (see `pool`): the queue is empty then, so the order is the
//! same. Workers are rthread thread objects named `<prefix>_<n>` (n from 0); a worker runs the
//! initializer first (a failure breaks the pool: pending futures fail with it, later submits
//! are refused), then takes items until the pool is closed and its queue empty. Where CPython
//! puts a wake-up marker (`None`) on the queue at shutdown, this pool marks itself closed and
//! gives each idle worker no item, which needs no memory: the workers finish what is queued,
//! then end.
//!
//! Memory: a pool allocates its queue's ring when it is made (`pool::RING_CAP` items, about
//! 10 KiB). `submit` allocates the future, the overflow's room for the item when the ring is
//! full and, when it starts a worker, its hand-off slot, the thread object, its name and its
//! start; each can fail with `RT_ENOMEM` (a
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

mod exit;
mod pool;
mod work;

pub use exit::interpreter_shutting_down;
pub use pool::BROKEN_MESSAGE;
pub use work::{ArgFree, InitFn, TaskFn};

use super::future::{Future, FutureRef, ResultFree};
use crate::debug::annotate;
use crate::memory::{Arc, try_box, try_boxed_str};
use crate::queue::Push;
use crate::queue::ring::Ring;
use crate::status::{Error, rt_status};
use crate::thread::Thread;
use crate::wait::LockCell;
use exit::{GLOBAL_SHUTDOWN, register, unregister};
use pool::{OwnLine, PoolState, Shared, Slot, WorkerArgs, join_all, worker_entry};
use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use work::{SendPtr, WorkItem};

pub const SHUTDOWN: Error = Error::new(
    rt_status::RT_ESHUTDOWN,
    "cannot schedule new futures after shutdown",
);
pub const INTERPRETER_SHUTDOWN: Error = Error::new(
    rt_status::RT_ESHUTDOWN,
    "cannot schedule new futures after interpreter shutdown",
);
pub const BROKEN: Error = Error::new(rt_status::RT_EBROKEN, BROKEN_MESSAGE);

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
    let _errno = crate::status::KeepErrno::new();
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
            st: LockCell::new(PoolState {
                shutdown: false,
                broken: false,
                closed: false,
                work: VecDeque::new(),
                threads: Vec::new(),
                slots: Vec::new(),
                idle: 0,
            }),
            max_workers: if max_workers == 0 {
                default_max_workers()
            } else {
                max_workers
            },
            prefix,
            number: AtomicU64::new(0),
            ring: Ring::new(pool::RING_CAP).ok_or(Error::NO_MEMORY)?,
            overflowing: AtomicBool::new(false),
            crew_full: AtomicBool::new(false),
            idle_listed: OwnLine(AtomicUsize::new(0)),
            first: AtomicPtr::new(std::ptr::null_mut()),
            refusing: AtomicBool::new(false),
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
        // Made before the pool's lock is taken (its failure reported after the pool's state).
        let future = Future::new(result_free);
        let mut item = future.as_ref().ok().map(|f| {
            // What the submitter did before `submit` happens before the task, whoever runs it.
            annotate::released::<Future>(&**f);
            WorkItem {
                future: f.clone(),
                task,
                arg: SendPtr(arg),
                arg_free,
            }
        });
        // An idle worker woken to look at the queue: no new worker is needed for this item.
        let mut woke_idle = false;
        if let Some(it) = item.take() {
            match self.submit_without_lock(it, &mut woke_idle) {
                Ok(()) => return future,
                Err(it) => item = Some(it),
            }
        }
        let handed = sh.with(|st| {
            let refused = if st.broken {
                Some(BROKEN)
            } else if st.shutdown {
                Some(SHUTDOWN)
            } else if GLOBAL_SHUTDOWN.load(Ordering::Acquire) {
                Some(INTERPRETER_SHUTDOWN)
            } else if st.threads.try_reserve(1).is_err() || st.slots.try_reserve(1).is_err() {
                Some(Error::NO_MEMORY)
            } else {
                None
            };
            let item = match (item.take(), refused) {
                (Some(item), None) => item,
                (item, refused) => {
                    disarm(item);
                    return Err(match (refused, future.as_ref().err()) {
                        (Some(e), _) | (None, Some(&e)) => e,
                        // (Without a refusal, the item is missing only when the future is.)
                        (None, None) => Error::NO_MEMORY,
                    });
                }
            };
            let mut woken = None;
            if let Some(slot) = sh.take_idle(st) {
                if st.work.is_empty() && sh.ring.is_empty() {
                    // An idle worker and nothing queued: this item is next in any case. It is
                    // given after the lock is released: taken, the slot is this thread's alone
                    // to give to (a shutdown meanwhile does not see it, and the worker runs
                    // this item, submitted before the shutdown, then sees it).
                    return Ok(Some((slot, Some(item))));
                }
                // Items queued before this one: the worker looks at the queue.
                woken = Some(slot);
            }
            if let Err(item) = sh.put_locked(st, item) {
                disarm(Some(item));
                if let Some(slot) = woken {
                    // SAFETY: as below; the worker finds nothing new and goes idle again.
                    unsafe { &*slot }.give(None);
                }
                return Err(Error::NO_MEMORY);
            }
            // A worker starts only if none was idle (as in CPython).
            let started = if !woke_idle && woken.is_none() {
                self.adjust_thread_count(st)
            } else {
                Ok(())
            };
            if let Err(e) = started {
                if st.threads.is_empty() {
                    // No worker will ever take it: take it back. It is the only item queued:
                    // every earlier submit either found a worker or took its item back too,
                    // and no submit puts in the ring without the pool's lock before the pool
                    // has all its workers.
                    disarm(sh.take_from_ring().or_else(|| st.work.pop_back()));
                    sh.overflowing.store(!st.work.is_empty(), Ordering::Release);
                    return Err(e);
                }
                // Else a worker of the pool runs it; see the module comment.
            }
            Ok(woken.map(|slot| (slot, None)))
        });
        if let Some((slot, item)) = handed? {
            // SAFETY: the pool's slots are never removed while it lives (`sh` holds it).
            unsafe { &*slot }.give(item);
        }
        future
    }

    /// The ways a submit needs no lock (see `pool`): the first worker idle and nothing queued
    /// (given the item directly), or every worker started and nothing overflowing (the item
    /// put in the ring). Gives the item back for the locked path otherwise.
    fn submit_without_lock(&self, item: WorkItem, woke_idle: &mut bool) -> Result<(), WorkItem> {
        let sh = &self.shared;
        // A shutdown that sets `refusing` after the load below either claims the first worker
        // first (the claim here fails) or finds it claimed (it runs this item, submitted
        // first, then sees the shutdown); it shuts the ring, after which no put succeeds.
        if sh.refusing.load(Ordering::Acquire) || GLOBAL_SHUTDOWN.load(Ordering::Acquire) {
            return Err(item);
        }
        if let Some(slot) = sh.claim_first() {
            if sh.queue_is_empty() {
                slot.give(Some(item));
                return Ok(());
            }
            // Items queued before this one: the worker looks at the queue.
            slot.give(None);
            *woke_idle = true;
        }
        if !sh.crew_full.load(Ordering::Acquire) || sh.overflowing.load(Ordering::Acquire) {
            return Err(item);
        }
        match sh.ring.push(item, || {}) {
            Push::Done => {
                sh.after_put();
                Ok(())
            }
            Push::Full(item) | Push::ShutDown(item) | Push::NoMemory(item) => Err(item),
        }
    }

    fn adjust_thread_count(&self, st: &mut PoolState) -> Result<(), Error> {
        let sh = &self.shared;
        // (No worker is idle: `submit` would have given it the item.)
        let n = st.threads.len();
        if n >= sh.max_workers {
            return Ok(());
        }
        let slot = Arc::try_new(Slot::new()?)?;
        // SAFETY: worker_entry takes back the Box given as its argument, once.
        let args = Box::into_raw(try_box(WorkerArgs {
            shared: sh.clone(),
            index: n,
            slot: slot.clone(),
        })?);
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
        // Room for both was made in `submit`.
        if n == 0 {
            sh.first
                .store(Arc::as_ptr(&slot) as *mut Slot, Ordering::Release);
        }
        st.threads.push(t);
        st.slots.push(slot);
        if st.threads.len() >= sh.max_workers {
            sh.crew_full.store(true, Ordering::Release);
        }
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
            sh.close(st, cancel_futures)
        });
        // The ring's items (shut now) are older than the overflow's.
        let ring = std::iter::from_fn(|| {
            if cancel_futures {
                sh.take_from_ring()
            } else {
                None
            }
        });
        for mut w in ring.chain(cancelled) {
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

/// Drops an item that was not queued: its argument stays the caller's.
fn disarm(item: Option<WorkItem>) {
    if let Some(mut item) = item {
        item.arg_free = None;
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let _ = self.shutdown(false, false);
        let _ = self.join_workers(false);
        unregister(&self.shared);
    }
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
    use std::ffi::c_int;

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

    /// The state of the order test: the gate the first task waits on, and the order of runs.
    struct Order {
        gate: crate::sync::Event,
        ran: LockCell<Vec<usize>>,
    }

    impl Order {
        fn new() -> Order {
            Order {
                gate: crate::sync::Event::new(),
                ran: LockCell::new(Vec::new()),
            }
        }
    }

    unsafe extern "C" fn record_task(arg: *mut c_void, _: *mut *mut c_void) -> c_int {
        // SAFETY: `arg` is a `(&Order, usize)` that outlives the pool's work (see the test).
        let (order, n) = unsafe { *(arg as *const (&Order, usize)) };
        if n == 0 {
            order.gate.wait(crate::time::Wait::Forever).unwrap();
        }
        order.ran.with(|v| v.push(n));
        0
    }

    #[test]
    fn idle_hand_off_and_queued_items_run_in_submission_order() {
        let ex = Executor::new(1, None, None).unwrap();
        let order = Order::new();
        // The worker exists and goes idle: the next submit is given to it directly.
        let warm = ex
            .submit(empty_task, std::ptr::null_mut(), None, None)
            .unwrap();
        warm.result(crate::time::Wait::Forever).unwrap();
        let args: Vec<(&Order, usize)> = (0..20).map(|n| (&order, n)).collect();
        let mut fs = Vec::new();
        for a in &args {
            let arg = a as *const (&Order, usize) as *mut c_void;
            fs.push(ex.submit(record_task, arg, None, None).unwrap());
        }
        // Task 0 holds the only worker until the gate opens: 1..19 wait in the queue.
        assert_eq!(order.ran.with(|v| v.len()), 0);
        order.gate.set();
        for f in &fs {
            f.result(crate::time::Wait::Forever).unwrap();
        }
        assert_eq!(order.ran.with(|v| v.clone()), (0..20).collect::<Vec<_>>());
        // Idle again, many times over: each item handed to the idle worker completes.
        for _ in 0..200 {
            let f = ex
                .submit(empty_task, std::ptr::null_mut(), None, None)
                .unwrap();
            f.result(crate::time::Wait::Forever).unwrap();
        }
        ex.shutdown(true, false).unwrap();
    }

    #[test]
    fn shutdown_ends_idle_workers_and_refuses_later_submits() {
        let ex = Executor::new(3, None, None).unwrap();
        // Three workers started (none is idle before the third submit: each blocks on a gate).
        let order = Order::new();
        let args: Vec<(&Order, usize)> = (0..3).map(|_| (&order, 0)).collect();
        let fs: Vec<_> = args
            .iter()
            .map(|a| {
                let arg = a as *const (&Order, usize) as *mut c_void;
                ex.submit(record_task, arg, None, None).unwrap()
            })
            .collect();
        assert_eq!(ex.thread_count(), 3);
        order.gate.set();
        for f in &fs {
            f.result(crate::time::Wait::Forever).unwrap();
        }
        // Idle now (or about to be): the shutdown's wait returns only once all three ended.
        ex.shutdown(true, false).unwrap();
        for t in ex.shared.with(|st| st.threads.clone()) {
            assert!(!t.is_alive());
        }
        // The ring is shut: a submit that read the pool open just before cannot put an item
        // there that no worker would take (its put fails, and the locked path refuses it).
        assert!(ex.shared.ring.is_shut());
        let e = ex
            .submit(empty_task, std::ptr::null_mut(), None, None)
            .unwrap_err();
        assert_eq!(e.status, rt_status::RT_ESHUTDOWN);
    }

    #[test]
    fn items_queued_while_the_first_worker_goes_idle_are_never_left_behind() {
        // One worker, two submitters at once: often one submit claims the idle worker without
        // the pool's lock and the other queues its item while the worker is busy, just as the
        // worker looks for its next item. No later submit comes to wake it: an item left in
        // the queue behind an idle worker is a result that never comes.
        let ex = Executor::new(1, None, None).unwrap();
        let start = std::sync::Barrier::new(2);
        let lost = LockCell::new(None);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for round in 0..10_000 {
                        start.wait();
                        // Both stop at the same round once one has lost its item.
                        if lost.with(|l| l.is_some()) {
                            break;
                        }
                        let f = ex
                            .submit(empty_task, std::ptr::null_mut(), None, None)
                            .unwrap();
                        if let Err(e) = f.result(crate::time::Wait::for_secs(10.0)) {
                            lost.with(|l| *l = Some((round, e)));
                        }
                    }
                });
            }
        });
        let lost = lost.with(|l| l.take());
        assert!(lost.is_none(), "an item was never run: {lost:?}");
        assert_eq!(ex.thread_count(), 1);
        ex.shutdown(true, false).unwrap();
    }

    /// Submits a record task for each of `args` (which must not move while the pool works).
    fn submit_records(ex: &Executor, args: &[(&Order, usize)]) -> Vec<Arc<Future>> {
        args.iter()
            .map(|a| {
                let arg = a as *const (&Order, usize) as *mut c_void;
                ex.submit(record_task, arg, None, None).unwrap()
            })
            .collect()
    }

    #[test]
    fn items_beyond_the_ring_overflow_and_still_start_in_submission_order() {
        // One worker held by task 0 while more items come than the ring holds: the rest go to
        // the overflow, and the items submitted while the worker drains both (moving the
        // overflow's into the ring, then the ring empty again) keep their order too.
        let ex = Executor::new(1, None, None).unwrap();
        let order = Order::new();
        let n = 4 * pool::RING_CAP;
        let args: Vec<(&Order, usize)> = (0..3 * n).map(|i| (&order, i)).collect();
        let mut fs = submit_records(&ex, &args[..n]);
        assert!(
            ex.shared.overflowing.load(Ordering::Relaxed),
            "{n} items behind a busy worker did not reach the overflow"
        );
        order.gate.set();
        for chunk in args[n..].chunks(7) {
            fs.extend(submit_records(&ex, chunk));
            std::thread::yield_now();
        }
        for f in &fs {
            f.result(crate::time::Wait::for_secs(30.0)).unwrap();
        }
        let ran = order.ran.with(|v| v.clone());
        assert_eq!(ran, (0..3 * n).collect::<Vec<_>>());
        assert!(!ex.shared.overflowing.load(Ordering::Relaxed));
        ex.shutdown(true, false).unwrap();
    }

    #[test]
    fn shutdown_cancelling_futures_cancels_those_in_the_ring_and_in_the_overflow() {
        let ex = Executor::new(1, None, None).unwrap();
        let order = Order::new();
        let n = 3 * pool::RING_CAP;
        let args: Vec<(&Order, usize)> = (0..n).map(|i| (&order, i)).collect();
        let fs = submit_records(&ex, &args);
        // Task 0 runs (or is about to): wait until it has left the queue.
        while fs[0].state() == crate::futures::future::State::Pending {
            std::thread::yield_now();
        }
        ex.shutdown(false, true).unwrap();
        order.gate.set();
        ex.shutdown(true, false).unwrap();
        assert_eq!(order.ran.with(|v| v.clone()), vec![0]);
        assert!(fs[1..].iter().all(|f| f.cancelled()));
        assert!(fs[0].result(crate::time::Wait::Try).is_ok());
    }

    unsafe extern "C" fn gated_failing_init(ctx: *mut c_void) -> c_int {
        // SAFETY: `ctx` is the test's Event, which outlives the pool.
        let gate = unsafe { &*(ctx as *const crate::sync::Event) };
        gate.wait(crate::time::Wait::Forever).unwrap();
        1
    }

    #[test]
    fn a_broken_pool_fails_the_items_in_the_ring_and_in_the_overflow() {
        let gate = crate::sync::Event::new();
        let ctx = &gate as *const crate::sync::Event as *mut c_void;
        let ex = Executor::new(1, None, Some((gated_failing_init, ctx))).unwrap();
        // The only worker is in its initializer: every item waits in the queue.
        let fs: Vec<_> = (0..3 * pool::RING_CAP)
            .map(|_| {
                ex.submit(empty_task, std::ptr::null_mut(), None, None)
                    .unwrap()
            })
            .collect();
        assert!(!ex.shared.ring.is_empty() && ex.shared.overflowing.load(Ordering::Relaxed));
        gate.set();
        for f in &fs {
            assert_eq!(
                f.exception(crate::time::Wait::for_secs(30.0)),
                Ok(rt_status::RT_EBROKEN as i32)
            );
        }
        assert!(ex.shared.ring.is_shut());
        let e = ex
            .submit(empty_task, std::ptr::null_mut(), None, None)
            .unwrap_err();
        assert_eq!(e.status, rt_status::RT_EBROKEN);
        ex.shutdown(true, false).unwrap();
    }

    /// Waits for the Event `arg` is, a minute at most (a case that fails does not hang), and
    /// fails if it was not set by then.
    unsafe extern "C" fn wait_task(arg: *mut c_void, _: *mut *mut c_void) -> c_int {
        // SAFETY: `arg` is the test's Event, which outlives the pool's work.
        let e = unsafe { &*(arg as *const crate::sync::Event) };
        c_int::from(e.wait(crate::time::Wait::for_secs(60.0)).is_err())
    }

    unsafe extern "C" fn set_task(arg: *mut c_void, _: *mut *mut c_void) -> c_int {
        // SAFETY: as in `wait_task`.
        unsafe { &*(arg as *const crate::sync::Event) }.set();
        0
    }

    /// Starts every worker `ex` may have: each is held on `gate` until all have started (none
    /// is idle when the next submit comes), then let go.
    fn start_every_worker(ex: &Executor, gate: &crate::sync::Event) {
        let arg = gate as *const crate::sync::Event as *mut c_void;
        let fs: Vec<_> = (0..ex.max_workers())
            .map(|_| ex.submit(wait_task, arg, None, None).unwrap())
            .collect();
        gate.set();
        for f in &fs {
            assert_eq!(f.exception(crate::time::Wait::Forever), Ok(0));
        }
        assert!(ex.shared.crew_full.load(Ordering::Relaxed));
    }

    #[test]
    fn an_item_put_in_the_ring_wakes_an_idle_worker() {
        // Every worker idle; the first takes a task that waits for the second one, which goes
        // in the ring: only another worker, woken by that submit, can run it.
        let ex = Executor::new(3, None, None).unwrap();
        let gate = crate::sync::Event::new();
        let arg = &gate as *const crate::sync::Event as *mut c_void;
        for _ in 0..10 {
            gate.clear();
            start_every_worker(&ex, &gate);
            while ex.shared.idle_workers() < 3 {
                std::thread::yield_now();
            }
            gate.clear();
            let waiting = ex.submit(wait_task, arg, None, None).unwrap();
            let setting = ex.submit(set_task, arg, None, None).unwrap();
            assert_eq!(
                waiting.exception(crate::time::Wait::for_secs(30.0)),
                Ok(0),
                "the waiting task timed out: its partner was never run"
            );
            setting.result(crate::time::Wait::Forever).unwrap();
        }
        ex.shutdown(true, false).unwrap();
    }

    #[test]
    fn items_put_in_the_ring_while_a_listed_worker_goes_idle_are_never_left_behind() {
        // As the case above, for a worker that is not the first (it lists itself idle, and
        // takes itself off the list when its last look finds an item): the first worker is
        // held by a task for the whole case, and every submit goes through the ring.
        let ex = Executor::new(2, None, None).unwrap();
        let gate = crate::sync::Event::new();
        let arg = &gate as *const crate::sync::Event as *mut c_void;
        let held = ex.submit(wait_task, arg, None, None).unwrap();
        let second = ex
            .submit(empty_task, std::ptr::null_mut(), None, None)
            .unwrap();
        second.result(crate::time::Wait::Forever).unwrap();
        assert!(ex.shared.crew_full.load(Ordering::Relaxed));
        // One submit at a time, each after a pause that sweeps across the worker's way to
        // idle (its snooze on the ring, the lock, its mark, its last look): some submits come
        // just as it marks itself, which only its last look catches (no other submit comes to
        // wake it).
        let mut lost = None;
        for round in 0..20_000u32 {
            for _ in 0..(round % 256) * 8 {
                std::hint::spin_loop();
            }
            let f = ex
                .submit(empty_task, std::ptr::null_mut(), None, None)
                .unwrap();
            if let Err(e) = f.result(crate::time::Wait::for_secs(5.0)) {
                lost = Some((round, e));
                break;
            }
        }
        gate.set();
        assert_eq!(held.exception(crate::time::Wait::Forever), Ok(0));
        assert!(lost.is_none(), "an item was never run: {lost:?}");
        ex.shutdown(true, false).unwrap();
    }

    #[test]
    fn submits_racing_a_shutdown_either_fail_or_are_done_when_it_returns() {
        // One worker (claimed without the pool's lock when idle, and all the pool may have:
        // submits use the ring without the lock) and three, once with only the first started
        // (submits take the lock) and once with all three (the ring again).
        let rounds = [(1, false); 5]
            .into_iter()
            .chain([(3, false); 7])
            .chain([(3, true); 8]);
        for (max_workers, all_started) in rounds {
            let ex = Executor::new(max_workers, None, None).unwrap();
            let gate = crate::sync::Event::new();
            if all_started {
                start_every_worker(&ex, &gate);
            }
            // Idle workers, so that some submits below go through the hand-off.
            for _ in 0..max_workers {
                let f = ex
                    .submit(empty_task, std::ptr::null_mut(), None, None)
                    .unwrap();
                f.result(crate::time::Wait::Forever).unwrap();
            }
            let accepted = std::thread::scope(|s| {
                let submitters: Vec<_> = (0..2)
                    .map(|_| {
                        s.spawn(|| {
                            let mut fs = Vec::new();
                            for _ in 0..200 {
                                match ex.submit(empty_task, std::ptr::null_mut(), None, None) {
                                    Ok(f) => fs.push(f),
                                    Err(e) => {
                                        assert_eq!(e.status, rt_status::RT_ESHUTDOWN);
                                        break;
                                    }
                                }
                            }
                            fs
                        })
                    })
                    .collect();
                std::thread::yield_now();
                ex.shutdown(true, false).unwrap();
                let fs: Vec<_> = submitters
                    .into_iter()
                    .flat_map(|t| t.join().unwrap())
                    .collect();
                fs
            });
            // Every accepted item ran before the workers ended (none was left in a slot).
            for f in &accepted {
                assert!(f.done(), "an accepted submit was not run by shutdown's end");
                assert!(f.result(crate::time::Wait::Try).is_ok());
            }
        }
    }
}
