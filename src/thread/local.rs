//! `threading.local`: one pointer per thread and per local, with a destructor.
//!
//! Every [`Local`] owns a *slot* (a small index) and a *generation* (a number never reused in the
//! process). Each thread keeps its own table, indexed by slot, of entries `(generation, value,
//! destructor)`; an entry belongs to a local when the generations match. Getting and setting a
//! value touch only the calling thread's table: no lock, no system call. The platform's key limit
//! (`PTHREAD_KEYS_MAX`) plays no part: the tables grow as needed.
//!
//! Freeing a local returns its slot to a free list, so a later local may reuse the slot with a
//! new generation. An entry of an older generation is then stale: `get` ignores it and `set`
//! moves it to the thread's list of orphans before writing, so its value is not lost.
//!
//! Destructors:
//! - a thread that rthread started runs them when its function has ended, before its exit hook
//!   and before it stops being alive (so a join sees them done);
//! - any other thread (the main thread, a foreign one, a `_thread` thread after its own pass)
//!   runs them from rthread's thread-exit key when it ends (`super::teardown`; for the thread
//!   that calls `exit()`, the main thread as a rule: in `exit()`);
//! - `rt_local_free` runs the calling thread's own value's destructor at once; the values other
//!   threads hold keep their destructors, which run when those threads end.
//!
//! Each value is destroyed at most once: its entry is taken out of the table just before its
//! destructor is called, and only its own: a destructor still reads (`get`) the values whose
//! destructors have not run yet, as with `pthread_getspecific`. Values set by destructors are
//! destroyed in further rounds, at most [`DESTRUCTOR_ROUNDS`] in all (as POSIX's
//! `PTHREAD_DESTRUCTOR_ITERATIONS`); what is left after that is not destroyed.
//!
//! The table lives in a `thread_local!` without a destructor: Rust registers a thread-local's
//! destructor with the C library at its first use, and glibc aborts the process when that
//! registration cannot allocate. The first `set` of a value arms rthread's thread-exit key
//! instead, where a failure is an `RT_ENOMEM` that changes nothing.
//! Destructors run with no internal lock held and no borrow of the table, inside a
//! [`CallbackGuard`](super::CallbackGuard), and never for a NULL value.

use super::exit::{enter_callback, leave_callback};
use crate::status::{Error, rt_status};
use crate::wait::LockCell;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};

/// A destructor, as C sees it: `void (*)(void *value)`. `C-unwind`: at a thread's end it may
/// end the thread with `pthread_exit` (see [`run_thread_destructors`]).
pub type Destructor = unsafe extern "C-unwind" fn(value: *mut c_void);

/// Rounds of destructors at a thread's end (values set by destructors get another round).
pub const DESTRUCTOR_ROUNDS: usize = 4;

const TABLE_GONE: Error = Error::new(
    rt_status::RT_ESTATE,
    "the calling thread's thread-local data is already destroyed",
);

/// Thread-local data: each thread sees only the value it set (`threading.local`).
pub struct Local {
    slot: usize,
    generation: u64,
    destructor: Option<Destructor>,
}

#[derive(Clone, Copy)]
struct Entry {
    generation: u64,
    value: *mut c_void,
    destructor: Option<Destructor>,
}

impl Entry {
    const EMPTY: Entry = Entry {
        generation: 0,
        value: std::ptr::null_mut(),
        destructor: None,
    };

    /// Calls the destructor on the value, if both are set.
    fn destroy(self) {
        if let (Some(d), false) = (self.destructor, self.value.is_null()) {
            // No guard with a destructor: the call may end the thread (see spawn).
            let saved = enter_callback();
            // SAFETY: the destructor and the value were given to rthread together (`Local::new`,
            // whose contract covers every value set, and `Local::set`), and this entry was taken
            // out of its table, so this is the value's one and only destruction.
            unsafe { d(self.value) }
            leave_callback(saved);
        }
    }
}

/// One thread's values.
struct Table {
    /// Indexed by slot.
    entries: Vec<Entry>,
    /// Values of freed locals whose slot was reused by a local this thread set.
    orphans: Vec<Entry>,
}

impl Table {
    fn is_empty(&self) -> bool {
        self.orphans.is_empty() && self.entries.iter().all(|e| e.value.is_null())
    }
}

/// Runs the destructors of the calling thread's values, one value at a time: each entry is
/// taken out of the table just before its destructor runs, so a destructor still sees (with
/// `get`) every value not destroyed yet, as `pthread_getspecific` does, and nothing with a
/// destructor of its own is held here while user code runs.
///
/// A destructor may end the thread (`pthread_exit`): the thread's end then calls this again,
/// which goes on with the values not destroyed yet. A round destroys the values set when it
/// began (values set meanwhile may be destroyed in it too); a pass cut short by a destructor
/// that ended the thread counts as a round; the rounds are counted per thread, across calls,
/// and after [`DESTRUCTOR_ROUNDS`] of them what is left is dropped without its destructor (as
/// POSIX does after `PTHREAD_DESTRUCTOR_ITERATIONS`).
fn destroy_values() {
    loop {
        let round = ROUNDS_BEGUN.with(|r| r.replace(r.get() + 1));
        if round >= DESTRUCTOR_ROUNDS {
            break;
        }
        let n = values_set();
        if n == 0 {
            return;
        }
        let mut cursor = 0;
        for _ in 0..n {
            let Some(e) = take_one(&mut cursor) else {
                break;
            };
            e.destroy();
        }
    }
    let _ = with_table(|t| {
        t.entries.iter_mut().for_each(|e| *e = Entry::EMPTY);
        t.orphans.clear();
    });
}

thread_local! {
    /// Whether the thread has a table (so that threads that never set a value skip it).
    static HAS_TABLE: Cell<bool> = const { Cell::new(false) };
    /// The calling thread's values. `ManuallyDrop`, so that the thread-local has no destructor
    /// (one would be registered with the C library at the first use, which aborts the process
    /// when it cannot allocate): the table is emptied and freed by [`at_thread_end`], from
    /// rthread's thread-exit key (see `super::teardown`).
    static TABLE: RefCell<ManuallyDrop<Table>> = const {
        RefCell::new(ManuallyDrop::new(Table { entries: Vec::new(), orphans: Vec::new() }))
    };
}

/// Runs `f` on the calling thread's table; `None` while it is borrowed (never in practice: no
/// user code runs inside).
fn with_table<R>(f: impl FnOnce(&mut Table) -> R) -> Option<R> {
    TABLE
        .try_with(|t| t.try_borrow_mut().ok().map(|mut t| f(&mut t)))
        .ok()
        .flatten()
}

/// Slot allocation: the slots freed and not reused yet; and the next never-used slot.
static SLOTS: LockCell<(Vec<usize>, usize)> = LockCell::new((Vec::new(), 0));

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Local {
    /// A new local; `destructor` (if any) is called on every non-NULL value when its thread ends.
    /// `RT_ENOMEM` when the slot table cannot grow.
    ///
    /// # Safety
    /// `destructor` must be safe to call once on every non-NULL value any thread sets in this
    /// local, in that thread (or in the thread that drops the local, for its own value), at any
    /// time until that thread has ended, even after the local was dropped.
    pub unsafe fn new(destructor: Option<Destructor>) -> Result<Local, Error> {
        let slot = {
            let mut slots = SLOTS.lock();
            let (free, next) = &mut *slots;
            match free.pop() {
                Some(s) => s,
                None => {
                    free.try_reserve(*next + 1 - free.len())
                        .map_err(|_| Error::NO_MEMORY)?;
                    *next += 1;
                    *next - 1
                }
            }
        };
        Ok(Local {
            slot,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            destructor,
        })
    }

    /// The calling thread's value (NULL if it set none, or set NULL).
    #[inline]
    pub fn get(&self) -> Result<*mut c_void, Error> {
        if !HAS_TABLE.with(Cell::get) {
            return Ok(std::ptr::null_mut());
        }
        TABLE
            .try_with(|t| {
                let t = t.try_borrow().map_err(|_| TABLE_GONE)?;
                Ok(match t.entries.get(self.slot) {
                    Some(e) if e.generation == self.generation => e.value,
                    _ => std::ptr::null_mut(),
                })
            })
            .unwrap_or(Err(TABLE_GONE))
    }

    /// Sets the calling thread's value. The value it replaces is not destroyed (it is the
    /// caller's again), as with `pthread_setspecific`.
    pub fn set(&self, value: *mut c_void) -> Result<(), Error> {
        if value.is_null() && !HAS_TABLE.with(Cell::get) {
            return Ok(());
        }
        TABLE
            .try_with(|t| {
                let mut t = t.try_borrow_mut().map_err(|_| TABLE_GONE)?;
                if !value.is_null() {
                    // The values must be destroyed when the thread ends.
                    super::teardown::arm()?;
                }
                if t.entries.len() <= self.slot {
                    if value.is_null() {
                        return Ok(());
                    }
                    let more = self.slot + 1 - t.entries.len();
                    t.entries.try_reserve(more).map_err(|_| Error::NO_MEMORY)?;
                    t.entries.resize(self.slot + 1, Entry::EMPTY);
                }
                let old = t.entries[self.slot];
                if old.generation != self.generation && !old.value.is_null() {
                    t.orphans.try_reserve(1).map_err(|_| Error::NO_MEMORY)?;
                    t.orphans.push(old);
                }
                t.entries[self.slot] = Entry {
                    generation: self.generation,
                    value,
                    destructor: self.destructor,
                };
                HAS_TABLE.with(|h| h.set(true));
                Ok(())
            })
            .unwrap_or(Err(TABLE_GONE))
    }

    /// Takes the calling thread's own value out of its table.
    fn take_own(&self) -> Entry {
        if !HAS_TABLE.with(Cell::get) {
            return Entry::EMPTY;
        }
        TABLE
            .try_with(|t| match t.try_borrow_mut() {
                Ok(mut t) => match t.entries.get_mut(self.slot) {
                    Some(e) if e.generation == self.generation => {
                        std::mem::replace(e, Entry::EMPTY)
                    }
                    _ => Entry::EMPTY,
                },
                Err(_) => Entry::EMPTY,
            })
            .unwrap_or(Entry::EMPTY)
    }
}

impl Drop for Local {
    /// Frees the local: the calling thread's value is destroyed now; other threads' values are
    /// destroyed when those threads end.
    fn drop(&mut self) {
        let own = self.take_own();
        // The capacity was reserved when the slot was handed out: this push cannot allocate.
        SLOTS.lock().0.push(self.slot);
        own.destroy();
    }
}

/// In a fork child: the slots' lock may have been held by a thread that did not survive.
pub(super) fn reset_after_fork() {
    // SAFETY: in the fork child, which has one thread, and no guard is alive.
    unsafe { SLOTS.reset_in_child() };
}

thread_local! {
    /// Rounds of [`run_thread_destructors`] begun in this thread (kept across a destructor that
    /// ends the thread, so that the rounds stay bounded).
    static ROUNDS_BEGUN: Cell<usize> = const { Cell::new(0) };
}

/// Takes one value out of the calling thread's table: an orphan, or the first set entry at or
/// after `*cursor` (which moves past it). `None` when there is none, or no table.
fn take_one(cursor: &mut usize) -> Option<Entry> {
    TABLE
        .try_with(|t| {
            let mut t = t.try_borrow_mut().ok()?;
            if let Some(e) = t.orphans.pop() {
                return Some(e);
            }
            while *cursor < t.entries.len() {
                let i = *cursor;
                *cursor += 1;
                if !t.entries[i].value.is_null() {
                    return Some(std::mem::replace(&mut t.entries[i], Entry::EMPTY));
                }
            }
            None
        })
        .ok()
        .flatten()
}

/// How many values the calling thread's table holds.
fn values_set() -> usize {
    TABLE
        .try_with(|t| {
            t.try_borrow().map_or(0, |t| {
                t.orphans.len() + t.entries.iter().filter(|e| !e.value.is_null()).count()
            })
        })
        .unwrap_or(0)
}

/// Runs the calling thread's destructors now (a thread rthread started, when its function has
/// ended; see [`destroy_values`]). Values set afterwards are destroyed when the OS thread ends.
pub fn run_thread_destructors() {
    if HAS_TABLE.with(Cell::get) {
        destroy_values();
    }
}

/// The calling thread is ending (rthread's thread-exit key, or `exit()` in it): its values are
/// destroyed, then its table is freed. A destructor that sets a value re-arms the key, so the
/// system calls this again for it.
pub(super) fn at_thread_end() {
    if !HAS_TABLE.with(Cell::get) {
        return;
    }
    destroy_values();
    let freed = with_table(|t| {
        if !t.is_empty() {
            return None;
        }
        Some((
            std::mem::take(&mut t.entries),
            std::mem::take(&mut t.orphans),
        ))
    });
    if let Some(Some(vectors)) = freed {
        HAS_TABLE.with(|h| h.set(false));
        drop(vectors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc::channel;

    static PER_THREAD: AtomicUsize = AtomicUsize::new(0);
    static STALE: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C-unwind" fn count_per_thread(_v: *mut c_void) {
        PER_THREAD.fetch_add(1, Ordering::SeqCst);
    }

    unsafe extern "C-unwind" fn count_stale(_v: *mut c_void) {
        STALE.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn values_are_per_thread_and_destroyed_once() {
        // SAFETY: the destructor only counts.
        let l = Arc::new(unsafe { Local::new(Some(count_per_thread)) }.unwrap());
        l.set(8 as *mut c_void).unwrap();
        let l2 = l.clone();
        std::thread::spawn(move || {
            assert!(l2.get().unwrap().is_null());
            l2.set(16 as *mut c_void).unwrap();
            assert_eq!(l2.get().unwrap() as usize, 16);
        })
        .join()
        .unwrap();
        assert_eq!(PER_THREAD.load(Ordering::SeqCst), 1);
        assert_eq!(l.get().unwrap() as usize, 8);
        drop(Arc::try_unwrap(l).ok().unwrap());
        assert_eq!(PER_THREAD.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn values_of_a_freed_local_are_destroyed_when_their_thread_ends() {
        // SAFETY: the destructor only counts.
        let a = Arc::new(unsafe { Local::new(Some(count_stale)) }.unwrap());
        let (to_main, from_thread) = channel();
        let (to_thread, from_main) = channel::<Local>();
        let a2 = a.clone();
        let h = std::thread::spawn(move || {
            a2.set(24 as *mut c_void).unwrap();
            drop(a2);
            to_main.send(()).unwrap();
            // A new local, perhaps on the freed local's slot: its value does not replace the
            // stale one, which still gets its destructor when this thread ends.
            let b = from_main.recv().unwrap();
            assert!(b.get().unwrap().is_null());
            b.set(32 as *mut c_void).unwrap();
            assert_eq!(b.get().unwrap() as usize, 32);
            b
        });
        from_thread.recv().unwrap();
        drop(Arc::try_unwrap(a).ok().unwrap());
        assert_eq!(STALE.load(Ordering::SeqCst), 0);
        // SAFETY: the destructor only counts.
        let b = unsafe { Local::new(Some(count_stale)) }.unwrap();
        to_thread.send(b).unwrap();
        let b = h.join().unwrap();
        assert_eq!(STALE.load(Ordering::SeqCst), 2);
        drop(b);
    }
}
