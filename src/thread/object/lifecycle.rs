//! A thread object's life: made (`Thread::new`, `Thread::new_timer`), started, run in its
//! own OS thread (begin, body, the end in steps), joined. It uses the registry (a started
//! thread is listed until its end), which itself knows only [`Thread`].

use super::*;
use crate::debug::{self, annotate};
use crate::thread::registry;
use crate::thread::{local, os};

impl Thread {
    /// A new, unstarted thread that will run `function(arg)` (nothing if `None`, as Python's
    /// `target=None`). Its name is `Thread-N`; it is a daemon if the calling thread is one.
    ///
    /// # Safety
    /// Calling `function(arg)` once, in another thread, must be safe (`arg` is handed over as
    /// is), and `function` must unwind only by ending its thread (`exit_thread`, `pthread_exit`).
    /// `RT_ENOMEM`.
    pub unsafe fn new(function: Option<ThreadFn>, arg: *mut c_void) -> Result<Arc<Thread>, Error> {
        Self::unstarted(ThreadKind::Normal, function, arg, None)
    }

    /// A new, unstarted timer: once started, its thread waits `interval` seconds, then runs
    /// `function(arg)` unless [`Thread::cancel`] came first. See [`TimerState::new`] for the
    /// interval's errors.
    ///
    /// # Safety
    /// As for [`Thread::new`].
    pub unsafe fn new_timer(
        interval: f64,
        function: Option<ThreadFn>,
        arg: *mut c_void,
    ) -> Result<Arc<Thread>, Error> {
        let timer = TimerState::new(interval)?;
        Self::unstarted(ThreadKind::Timer, function, arg, Some(timer))
    }

    /// A new thread object of `kind`, not started: `Thread-N`, a daemon if the caller is one.
    fn unstarted(
        kind: ThreadKind,
        function: Option<ThreadFn>,
        arg: *mut c_void,
        timer: Option<TimerState>,
    ) -> Result<Arc<Thread>, Error> {
        let daemon = if registry::current_is_daemon() {
            DAEMON
        } else {
            0
        };
        Thread::alloc(Thread::make(
            kind,
            INITIAL | daemon,
            Name::Numbered("Thread-", next_name_number()),
            OsName::Pending,
            function,
            arg,
            timer,
        ))
    }

    /// `start()`: starts the thread; returns once it runs (its ident and native id are set).
    ///
    /// Errors: `RT_ESTATE` "threads can only be started once" for a second start (even after a
    /// thread ended; always for the main thread and dummies); `RT_EAGAIN` when the system
    /// refuses a thread (the object is then as before, and may be started again); `RT_ENOMEM`.
    pub fn start(this: &Arc<Thread>) -> Result<(), Error> {
        Self::start_with(this, true)
    }

    /// [`Thread::start`] for a starter that holds an internal lock (a pool starting a worker):
    /// its short wait for the new thread to be ALIVE runs no blocking hooks, so that no user
    /// code runs under that lock. No user code runs on either side before ALIVE, so the wait
    /// needs no hook to make progress.
    pub(crate) fn start_without_hooks(this: &Arc<Thread>) -> Result<(), Error> {
        Self::start_with(this, false)
    }

    fn start_with(this: &Arc<Thread>, hooks: bool) -> Result<(), Error> {
        // The new thread's record is made here, before the thread exists, so that the thread
        // can be interrupted from its first instruction and needs no memory to wait. A start
        // that failed keeps it for the next one (no thread ever had its id).
        if this.record.get().is_none() && this.phase() == INITIAL {
            let _ = this.record.set(wait::new_record()?);
        }
        let mut s = this.state.load(Ordering::Relaxed);
        loop {
            if s & PHASE != INITIAL {
                return Err(STARTED_TWICE);
            }
            match this.state.compare_exchange_weak(
                s,
                (s & DAEMON) | STARTING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        super::super::shutdown::arm_exit_wait();
        // The debug layer's record is made here too, so that the new thread allocates nothing
        // of its own to wait; a start that fails keeps it for the next one. (Made outside the
        // object's lock: it takes the debug layer's list lock.)
        let prepared = match this.guarded.lock().debug {
            None => debug::threads::prepare(this.record_id()),
            Some(_) => None,
        };
        {
            let mut g = this.guarded.lock();
            g.hooks = thread_hooks::snapshot();
            if prepared.is_some() {
                g.debug = prepared;
            }
        }
        if let Err(e) = registry::register(this) {
            this.set_phase(INITIAL);
            return Err(e);
        }
        let raw = Arc::into_raw(this.clone());
        // What the starter did so far happens before the thread's function.
        annotate::released::<Thread>(&**this);
        match os::create_os_thread(entry, raw as *mut c_void, JOINABLE) {
            Ok(tid) if JOINABLE => this.os_thread.store(tid, Ordering::Release),
            Ok(_) => {}
            Err(e) => {
                // SAFETY: no thread was created: the reference we leaked for it is still ours.
                drop(unsafe { Arc::from_raw(raw) });
                drop(registry::unregister(this));
                this.set_phase(INITIAL);
                return Err(e);
            }
        }
        this.wait_while_starting(hooks);
        Ok(())
    }

    /// The starter waits for the new thread to be ALIVE (a short wait: it always completes),
    /// with the user's blocking hooks around its sleep if `hooks`.
    fn wait_while_starting(&self, hooks: bool) {
        let mut spin = SpinWait::new();
        loop {
            let s = self.state.load(Ordering::Acquire);
            if s & PHASE != STARTING {
                return;
            }
            if spin.spin() {
                continue;
            }
            let Some(seen) = self.announce_waiter(s) else {
                continue;
            };
            let block = Block {
                interruptible: false,
                hooks,
                ..Block::until(None)
            };
            let _ = self.park_with(seen, block);
        }
    }

    /// In the new thread, before its body: its record (made by `start`), its identity, ALIVE
    /// (which lets `start` return), its OS name. Runs no user code. Returns whether the record
    /// is watched by rthread's thread-exit key (else the end gives it back itself).
    fn begin(&self) -> bool {
        let record = self.record.get().cloned();
        let watched = match record.map(wait::install_record) {
            None | Some(Ok(())) => true,
            Some(Err(rec)) => {
                // The system's key table could not grow: the thread keeps its record until its
                // end, and gives it back itself.
                wait::install_record_unwatched(rec);
                false
            }
        };
        self.ident.store(os::get_ident(), Ordering::Relaxed);
        self.native_id.store(os::get_native_id(), Ordering::Relaxed);
        // Taken out first: the object's lock is not held while the record is listed.
        let prepared = self.guarded.lock().debug.take();
        if let Some(d) = prepared {
            debug::threads::adopt(d);
        }
        registry::set_current(self);
        #[cfg(test)]
        test_delay_before_alive();
        self.set_phase(ALIVE);
        self.name_os_at_start();
        watched
    }

    /// In the new thread: the body, under `os::run_thread`: the start hook, the timer's wait,
    /// the function. Holds nothing with a destructor while user code runs.
    fn body(&self) {
        self.hooks().run_start();
        let call = match &self.timer {
            Some(t) => t.wait_to_fire(),
            None => true,
        };
        if let (true, Some(f)) = (call, self.function) {
            // SAFETY: `f` and `arg` were given together to `Thread::new` / `new_timer`, whose
            // contract is that `f(arg)` may run once in the new thread.
            unsafe { call_thread_fn(f, self.arg.0) };
        }
    }

    /// The hooks the thread runs.
    fn hooks(&self) -> Hooks {
        self.guarded.lock().hooks
    }

    /// `join(timeout)`: waits until the thread has ended. `timeout` is in seconds,
    /// `RT_FOREVER` (-1) for no bound; `RT_TIMEOUT` when the thread is still alive after it.
    ///
    /// Errors, in CPython's order: `RT_ESTATE` "cannot join a dummy thread",
    /// `RT_ESTATE` "cannot join thread before it is started", `RT_EDEADLK` "cannot join current
    /// thread" (the main thread included); then the timeout's validation (`RT_EINVAL`,
    /// `RT_EOVERFLOW`); `RT_EINTR` if `rt_thread_interrupt` ended the wait.
    pub fn join(&self, timeout: f64) -> Result<(), Error> {
        if self.kind() == ThreadKind::Dummy {
            return Err(JOIN_DUMMY);
        }
        if self.phase() == INITIAL {
            return Err(JOIN_BEFORE_START);
        }
        if registry::is_current(self) {
            return Err(JOIN_SELF);
        }
        let wait = timeout_wait(timeout)?;
        self.join_until(wait, true)?;
        annotate::acquired(self);
        self.join_os_thread(wait);
        Ok(())
    }
}

/// The end of a thread object's thread (see the module comment), as `os::run_thread` runs
/// it: each step once, even when user code in a step ends the thread.
struct ObjectEnd {
    thread: *const Thread,
    /// Whether the thread's record is watched by the thread-exit key (see `begin`).
    watched: bool,
}

impl os::ThreadEnd for ObjectEnd {
    fn steps(&self) -> u32 {
        4
    }

    fn step(&self, i: u32) {
        // SAFETY: the thread's own reference (leaked by `start`) keeps the object alive until
        // the last step drops it.
        let t = unsafe { &*self.thread };
        match i {
            0 => local::run_thread_destructors(),
            1 => t.hooks().run_exit(),
            2 => {
                t.name_os_gone();
                drop(registry::unregister(t));
                // Not counted any more before it is stopped: once a join returned, the thread
                // is not in `rt_thread_count` (CPython 3.13 marks the handle done after the
                // count drops).
                os::os_thread_ended();
                // Everything the thread did happens before a join's return.
                annotate::released(t);
                t.stop();
                registry::clear_current();
                if !self.watched {
                    wait::uninstall_record();
                }
            }
            // SAFETY: the thread's own reference, leaked by `start` for it; nothing uses the
            // object in this thread after this step.
            _ => drop(unsafe { Arc::from_raw(self.thread) }),
        }
    }

    fn resumable(&self, i: u32) -> bool {
        i == 0
    }
}

impl Arc<Thread> {
    /// `start()`: see [`Thread::start`].
    pub fn start(&self) -> Result<(), Error> {
        Thread::start(self)
    }
}

/// The entry point of every thread object's OS thread.
unsafe extern "C-unwind" fn entry(data: *mut c_void) -> *mut c_void {
    os::os_thread_began();
    // `data` is the reference `start` leaked for this thread: the end's last step drops it.
    let t = data as *const Thread;
    // SAFETY: that reference keeps the object alive until then.
    let watched = unsafe { (*t).begin() };
    annotate::acquired(t);
    let end = ObjectEnd { thread: t, watched };
    // SAFETY: as above; the body runs before the end.
    os::run_thread(&end, || unsafe { (*t).body() });
    std::ptr::null_mut()
}

/// Tests: how long a new thread object's thread pauses before it is ALIVE, in milliseconds (to
/// make its starter sleep for certain).
#[cfg(test)]
pub(crate) static DELAY_BEFORE_ALIVE_MS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
fn test_delay_before_alive() {
    let ms = DELAY_BEFORE_ALIVE_MS.load(Ordering::Relaxed);
    if ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}
