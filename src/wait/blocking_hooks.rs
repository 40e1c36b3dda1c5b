//! Blocking hooks: user functions run just before a thread really blocks and just after it
//! wakes, so that an interpreter can drop its global lock while a thread waits.
//!
//! They are called from [`super::park`](fn@super::park) only, which primitives call when they have decided to
//! sleep: never on an uncontended path. `before` runs before the thread takes any bucket lock
//! and `after` once it has left the wait queue, so both may use rthread themselves, block
//! included (that is how an interpreter re-takes its global lock). A thread that blocks inside
//! a hook does not run the hooks again (no recursion).
//!
//! The three words are published with a sequence lock: a reader that sees an odd sequence, or a
//! sequence that moved while it read, reads again. Setting the hooks never blocks a reader and
//! allocates nothing.

use super::sys::{AtomicU32, AtomicUsize, Ordering, fence, spin_hint};
use std::cell::Cell;
use std::ffi::c_void;

/// A user's hook, called with the context given with it: the blocking hooks here, and the thread
/// hooks (`thread::thread_hooks`), one type for both, as the C face has one `rt_hook_fn`. It may
/// unwind ("C-unwind"): a thread hook may end its thread with `pthread_exit`.
pub type HookFn = unsafe extern "C-unwind" fn(ctx: *mut c_void);

struct Hooks {
    seq: AtomicU32,
    before: AtomicUsize,
    after: AtomicUsize,
    ctx: AtomicUsize,
}

#[cfg(not(loom))]
static HOOKS: Hooks = Hooks {
    seq: AtomicU32::new(0),
    before: AtomicUsize::new(0),
    after: AtomicUsize::new(0),
    ctx: AtomicUsize::new(0),
};

#[cfg(loom)]
loom::lazy_static! {
    static ref HOOKS: Hooks = Hooks {
        seq: AtomicU32::new(0),
        before: AtomicUsize::new(0),
        after: AtomicUsize::new(0),
        ctx: AtomicUsize::new(0),
    };
}

thread_local! {
    /// True while the calling thread runs a blocking hook.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Installs the hooks (either may be `None`); replaces any previous ones. Threads already past
/// `before` still run the `after` they read with it.
///
/// # Safety
/// Every later real block of every thread calls `before(ctx)` and `after(ctx)`: both must be
/// sound to call so from any thread, and `ctx` must stay valid until other hooks replace these
/// and no thread still runs them.
pub unsafe fn set(before: Option<HookFn>, after: Option<HookFn>, ctx: *mut c_void) {
    // Writers exclude each other by taking the sequence from even to odd.
    let mut s = HOOKS.seq.load(Ordering::Relaxed);
    loop {
        if s & 1 == 0 {
            match HOOKS
                .seq
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        } else {
            spin_hint();
            s = HOOKS.seq.load(Ordering::Relaxed);
        }
    }
    fence(Ordering::Release);
    HOOKS
        .before
        .store(before.map_or(0, |f| f as usize), Ordering::Relaxed);
    HOOKS
        .after
        .store(after.map_or(0, |f| f as usize), Ordering::Relaxed);
    HOOKS.ctx.store(ctx as usize, Ordering::Relaxed);
    HOOKS.seq.store(s + 2, Ordering::Release);
}

#[derive(Clone, Copy)]
struct Snapshot {
    before: usize,
    after: usize,
    ctx: usize,
}

fn read() -> Snapshot {
    loop {
        let s1 = HOOKS.seq.load(Ordering::Acquire);
        if s1 & 1 != 0 {
            spin_hint();
            continue;
        }
        let snap = Snapshot {
            before: HOOKS.before.load(Ordering::Relaxed),
            after: HOOKS.after.load(Ordering::Relaxed),
            ctx: HOOKS.ctx.load(Ordering::Relaxed),
        };
        fence(Ordering::Acquire);
        if HOOKS.seq.load(Ordering::Relaxed) == s1 {
            return snap;
        }
    }
}

/// Whether the calling thread is inside a blocking hook.
pub fn in_hook() -> bool {
    IN_HOOK.try_with(|c| c.get()).unwrap_or(false)
}

fn call(f: usize, ctx: usize) {
    if f == 0 {
        return;
    }
    // SAFETY: `f` was stored from a `HookFn` by `set`; function pointers round-trip through
    // usize on every supported platform.
    let f: HookFn = unsafe { std::mem::transmute::<usize, HookFn>(f) };
    let _ = IN_HOOK.try_with(|c| c.set(true));
    // SAFETY: calling the user's hook with the user's context is the contract of `set`.
    unsafe { f(ctx as *mut c_void) };
    let _ = IN_HOOK.try_with(|c| c.set(false));
}

/// The span of one real block: `before` ran when it began; `after` runs when it is dropped.
pub struct BlockSpan {
    after: usize,
    ctx: usize,
}

/// Runs `before` (unless the thread is already inside a hook) and returns the span whose drop
/// runs the matching `after`.
#[inline]
pub fn begin_block() -> BlockSpan {
    if in_hook() {
        return BlockSpan { after: 0, ctx: 0 };
    }
    let snap = read();
    call(snap.before, snap.ctx);
    BlockSpan {
        after: snap.after,
        ctx: snap.ctx,
    }
}

impl Drop for BlockSpan {
    fn drop(&mut self) {
        call(self.after, self.ctx);
    }
}

/// Held by every unit test that installs hooks: they are process-wide, and tests run in
/// parallel.
#[cfg(all(test, not(loom)))]
pub(crate) static TEST_HOOKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// In the child after `fork`: a writer that was half-way through `set` in another thread is
/// gone; finish its sequence so that readers do not wait for it forever.
#[cfg(not(loom))]
pub fn reset_after_fork() {
    let s = HOOKS.seq.load(Ordering::Relaxed);
    if s & 1 != 0 {
        HOOKS.seq.store(s + 1, Ordering::Relaxed);
    }
}
