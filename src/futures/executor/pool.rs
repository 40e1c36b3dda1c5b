//! The pool's shared state (its queue, the idle workers' semaphore, the list of workers under
//! the pool's lock, the naming of workers) and the worker's loop: the initializer, then items
//! until the queue is shut down and empty.

use super::work::{InitFn, SendPtr, WorkItem};
use crate::futures::future::{Failure, FutureRef};
use crate::memory::Arc;
use crate::queue::Queue;
use crate::status::{Error, rt_status};
use crate::sync::Semaphore;
use crate::thread::{CallbackGuard, Thread};
use crate::wait::LockCell;
use std::borrow::Cow;
use std::ffi::c_void;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub const BROKEN_MESSAGE: &str =
    "A thread initializer failed, the thread pool is not usable anymore";
const JOIN_SELF: Error = Error::new(rt_status::RT_EDEADLK, "cannot join current thread");

pub(super) struct PoolState {
    pub(super) shutdown: bool,
    pub(super) broken: bool,
    /// Every worker started, in order; none is ever removed.
    pub(super) threads: Vec<Arc<Thread>>,
}

pub(super) struct Shared {
    pub(super) queue: Queue<WorkItem>,
    pub(super) idle: Semaphore,
    pub(super) st: LockCell<PoolState>,
    pub(super) max_workers: usize,
    /// The prefix given, or `None`: `ThreadPoolExecutor-<number>`.
    pub(super) prefix: Option<Box<str>>,
    /// The number of a pool without a prefix, given when it is registered (never reused).
    pub(super) number: AtomicU64,
    pub(super) initializer: Option<(InitFn, SendPtr)>,
    /// The process's exit has waited for this pool's workers.
    pub(super) exit_joined: AtomicBool,
}

impl Shared {
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut PoolState) -> R) -> R {
        self.st.with(f)
    }

    /// No more items, and the workers end once the queue is empty (allocates nothing).
    pub(super) fn shut_queue(&self, immediate: bool) -> Option<crate::queue::Drained<WorkItem>> {
        self.queue.shutdown(immediate).ok()
    }

    /// Writes the pool's prefix: the one given, or `ThreadPoolExecutor-<number>`.
    pub(super) fn write_prefix(&self, out: &mut impl Write) -> std::fmt::Result {
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
    pub(super) fn worker_name(&self, n: usize) -> Result<String, Error> {
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
pub(super) struct WorkerArgs {
    pub(super) shared: Arc<Shared>,
}

pub(super) unsafe extern "C-unwind" fn worker_entry(arg: *mut c_void) {
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

/// Joins every worker of the pool, one at a time. With `interruptible`, an interrupt ends the
/// wait (`RT_EINTR`); without, it is kept for later. `RT_EDEADLK` if one is the calling thread.
pub(super) fn join_all(sh: &Shared, interruptible: bool) -> Result<(), Error> {
    let mut result = Ok(());
    let mut interrupted = false;
    // One at a time, by index (no copy of the list): workers are only ever added.
    let mut i = 0;
    while let Some(t) = sh.with(|st| st.threads.get(i).cloned()) {
        i += 1;
        loop {
            match t.join(crate::time::FOREVER) {
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
