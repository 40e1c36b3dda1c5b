//! The locks each thread holds, in order: a small stack per thread ([`Held`]), kept on the heap
//! behind a `pthread` key, and the generation counters ([`Gens`]) that turn an entry stale when
//! another thread releases the Lock or the object is freed.
//!
//! A thread's stack is its own: pushing and popping it takes no lock. A Lock has no owner,
//! though: a thread may release a Lock another thread acquired, and the acquirer's stack must
//! then stop counting it. Each entry therefore remembers a generation, read from a counter chosen
//! by the object's address; a release that finds no live entry of its own (another thread's
//! Lock), a free, and switching the mode off move the counter on, which turns every older entry
//! for that address stale, and stale entries are dropped the next time their stack is read. Two
//! addresses may share a counter: an entry may then go stale early, which can only hide an
//! order, never report a false one.
//!
//! A thread also remembers the last orders it recorded (the stack's cache), so that a nested
//! acquisition it has made before takes no lock either; the cache is dropped whenever the graph
//! forgets an object (the counters' epoch).

use crate::debug::Kind;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Locks a thread's stack remembers at once; deeper nesting is not checked.
pub const STACK: usize = 32;

/// Counters of releases by other threads and frees, by address (see the module comment).
pub struct Gens {
    words: [AtomicU64; GEN_WORDS],
    /// Moved on when the mode is switched off: every entry goes stale.
    all: AtomicU64,
    /// Moved on whenever the graph forgets objects: every thread's cache of orders is dropped.
    epoch: AtomicU64,
}

/// Counters in [`Gens`].
pub const GEN_WORDS: usize = 1024;

impl Default for Gens {
    fn default() -> Self {
        Self::new()
    }
}

impl Gens {
    pub const fn new() -> Gens {
        Gens {
            words: [const { AtomicU64::new(0) }; GEN_WORDS],
            all: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    fn word(&self, key: usize) -> &AtomicU64 {
        &self.words[((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize]
    }

    /// The generation an entry for `key` made now carries.
    fn of(&self, key: usize) -> (u64, u64) {
        (
            self.word(key).load(Ordering::Acquire),
            self.all.load(Ordering::Acquire),
        )
    }

    /// Turns every entry for `key` stale.
    pub fn bump(&self, key: usize) {
        self.word(key).fetch_add(1, Ordering::AcqRel);
    }

    /// Turns every entry stale.
    pub fn bump_all(&self) {
        self.all.fetch_add(1, Ordering::AcqRel);
    }

    /// The graph's epoch, for the threads' caches.
    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The graph forgot objects: every thread's cache goes.
    pub fn bump_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

/// One entry of a thread's stack: an object and the generation of its acquisition.
#[derive(Clone, Copy)]
struct Entry {
    key: usize,
    kind: Kind,
    gen_: (u64, u64),
}

/// Orders a thread remembers having recorded.
const CACHE: usize = 64;

/// The locks one thread holds, innermost last, and the orders it recorded lately. Kept by the
/// thread; only it reads and writes them.
pub struct Held {
    entries: [Entry; STACK],
    len: usize,
    /// (first, then) pairs recorded in the graph while its epoch was `cache_epoch`.
    cache: [(usize, usize); CACHE],
    cache_epoch: u64,
}

impl Default for Held {
    fn default() -> Self {
        Self::new()
    }
}

impl Held {
    pub const fn new() -> Held {
        Held {
            entries: [Entry {
                key: 0,
                kind: Kind::Lock,
                gen_: (0, 0),
            }; STACK],
            len: 0,
            cache: [(0, 0); CACHE],
            cache_epoch: 0,
        }
    }

    /// Whether the stack remembers nothing (then an acquisition records no order).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many entries the stack holds, stale ones included until it is pruned.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The object of entry `i` (0 the outermost).
    pub(super) fn entry(&self, i: usize) -> (usize, Kind) {
        let e = &self.entries[i];
        (e.key, e.kind)
    }

    fn remove_at(&mut self, i: usize) {
        // Usually the innermost one: nothing to move.
        if i + 1 < self.len {
            self.entries.copy_within(i + 1..self.len, i);
        }
        self.len -= 1;
    }

    /// Drops the stale entries.
    pub(super) fn prune(&mut self, gens: &Gens) {
        let mut i = 0;
        while i < self.len {
            let e = self.entries[i];
            if gens.of(e.key) == e.gen_ {
                i += 1;
            } else {
                self.remove_at(i);
            }
        }
    }

    /// Records that the thread now holds `key` (nothing beyond `STACK` entries).
    pub(super) fn push(&mut self, key: usize, kind: Kind, gens: &Gens) {
        if self.len < STACK {
            self.entries[self.len] = Entry {
                key,
                kind,
                gen_: gens.of(key),
            };
            self.len += 1;
        }
    }

    /// The thread releases `key`: its live entry goes; without one (another thread's Lock, or
    /// one acquired while the mode was off or beyond the stack), whoever held it stops counting
    /// it.
    pub(super) fn release(&mut self, key: usize, gens: &Gens) {
        let now = gens.of(key);
        if let Some(i) = self.entries[..self.len]
            .iter()
            .rposition(|e| e.key == key && e.gen_ == now)
        {
            self.remove_at(i);
            return;
        }
        gens.bump(key);
        self.prune(gens);
    }

    fn cache_slot(first: usize, then: usize) -> usize {
        ((first as u64 ^ (then as u64).rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58)
            as usize
    }

    pub(super) fn cached(&self, first: usize, then: usize, epoch: u64) -> bool {
        self.cache_epoch == epoch && self.cache[Self::cache_slot(first, then)] == (first, then)
    }

    pub(super) fn remember(&mut self, first: usize, then: usize, epoch: u64) {
        if self.cache_epoch != epoch {
            self.cache = [(0, 0); CACHE];
            self.cache_epoch = epoch;
        }
        self.cache[Self::cache_slot(first, then)] = (first, then);
    }
}

thread_local! {
    /// The calling thread's stack and cache of orders, on the heap (the library's thread-local
    /// block is static TLS, which must stay small for `dlopen`), or NULL; the key's destructor
    /// frees it.
    static HELD: Cell<*mut Held> = const { Cell::new(std::ptr::null_mut()) };
    /// Whether the calling thread is inside `with_held` (a report hook that takes a lock).
    static IN_HELD: Cell<bool> = const { Cell::new(false) };
}

/// The key whose per-thread value is the thread's stack (its destructor frees it). Made at the
/// first need without ever waiting (a thread that vanished at a fork while making it must not
/// leave the child waiting): two threads that race both make one, and the loser deletes its own.
fn held_key() -> Option<libc::pthread_key_t> {
    static KEY: AtomicUsize = AtomicUsize::new(0);
    let k = KEY.load(Ordering::Acquire);
    if k != 0 {
        return Some((k - 1) as libc::pthread_key_t);
    }
    unsafe extern "C" fn release(p: *mut std::ffi::c_void) {
        let p = p as *mut Held;
        let _ = HELD.try_with(|c| {
            if c.get() == p {
                c.set(std::ptr::null_mut());
            }
        });
        // SAFETY: the box `with_held` gave to the key; the system calls this once for it.
        drop(unsafe { Box::from_raw(p) });
    }
    let mut made: libc::pthread_key_t = 0;
    // SAFETY: `made` is writable; `release` never unwinds.
    if unsafe { libc::pthread_key_create(&mut made, Some(release)) } != 0 {
        return None;
    }
    match KEY.compare_exchange(0, made as usize + 1, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(made),
        Err(theirs) => {
            // SAFETY: the key made just above, which nobody else has seen.
            unsafe { libc::pthread_key_delete(made) };
            Some((theirs - 1) as libc::pthread_key_t)
        }
    }
}

/// Runs `f` on the calling thread's stack, made at the first call; `None` without memory, while
/// the thread ends, or inside another `with_held` of the same thread.
pub(super) fn with_held<R>(f: impl FnOnce(&mut Held) -> R) -> Option<R> {
    let mut p = HELD.try_with(Cell::get).ok()?;
    if p.is_null() {
        let key = held_key()?;
        p = Box::into_raw(crate::memory::try_box(Held::new()).ok()?);
        // SAFETY: our key; the value is the box its destructor frees.
        if unsafe { libc::pthread_setspecific(key, p as *const std::ffi::c_void) } != 0 {
            // SAFETY: just made, given to nobody.
            drop(unsafe { Box::from_raw(p) });
            return None;
        }
        HELD.with(|c| c.set(p));
    }
    if IN_HELD.try_with(|b| b.replace(true)).ok()? {
        return None;
    }
    // SAFETY: the box lives until the key's destructor, which runs after this thread's calls;
    // only this thread reaches it, and not twice at once (IN_HELD).
    let r = f(unsafe { &mut *p });
    IN_HELD.with(|b| b.set(false));
    Some(r)
}
