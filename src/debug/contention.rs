//! The contention profile (`RT_DEBUG_CONTENTION`): per object, acquisitions, contended
//! acquisitions, total and longest wait; a report of the objects that waited most; and a hook
//! called after each contended acquisition (Abseil's mutex-profiler shape).
//!
//! # Cost
//! The profile must stay cheap on an uncontended lock pair, so an acquisition touches one slot
//! of a fixed table and makes no atomic read-modify-write: the table is open-addressed by the
//! object's address, a slot is claimed once with a compare-exchange, and the acquisition count
//! is a plain load and store. That store is exact without an atomic increment because it is
//! made while the object is held: two acquisitions of one Lock or RLock are ordered by the lock
//! itself (the release's store happens before the next acquisition's load). Contended
//! acquisitions are rare and slow anyway; their counts use atomic increments.
//!
//! # Bounds
//! The table has [`SLOTS`] slots and a probe of at most [`PROBES`]: an object that finds no slot
//! is not profiled (the report says how many acquisitions were missed). It lives in static
//! memory and allocates nothing. A freed object keeps its slot (a new object at the same address
//! gets it, counts at zero), so the table never needs to delete.
//!
//! # The hook
//! Runs on the thread that waited, right after its acquisition, with the object held and no
//! internal lock of rthread held. The pair (function, context) is published with a sequence
//! word (a writer makes it odd while it writes), so a caller always sees a matching pair and
//! never blocks (at the instant of a replacement it may see none, and skip the call).

use super::{Kind, Object, Text};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Slots of the table.
pub const SLOTS: usize = 4096;
/// Slots an object's lookup tries.
pub const PROBES: usize = 16;

struct Slot {
    key: AtomicUsize,
    kind: AtomicUsize,
    acquisitions: AtomicU64,
    contended: AtomicU64,
    total_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            key: AtomicUsize::new(0),
            kind: AtomicUsize::new(0),
            acquisitions: AtomicU64::new(0),
            contended: AtomicU64::new(0),
            total_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
        }
    }
}

/// The counts of one object: the report's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    pub key: usize,
    /// The caller's tag for the object's kind (given at the first acquisition).
    pub kind: usize,
    pub acquisitions: u64,
    pub contended: u64,
    pub total_ns: u64,
    pub max_ns: u64,
}

/// The table: the profile of every object, and what could not be recorded.
pub struct Table {
    slots: [Slot; SLOTS],
    /// Acquisitions of objects that found no slot.
    missed: AtomicU64,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub const fn new() -> Table {
        Table {
            slots: [const { Slot::new() }; SLOTS],
            missed: AtomicU64::new(0),
        }
    }

    #[inline]
    fn home(key: usize) -> usize {
        ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize
    }

    /// The slot of `key`, claimed if needed; None when the probe finds none.
    #[inline(always)]
    fn slot(&self, key: usize, kind: usize) -> Option<&Slot> {
        let h = Self::home(key);
        for i in 0..PROBES {
            let s = &self.slots[(h + i) & (SLOTS - 1)];
            let k = s.key.load(Ordering::Acquire);
            if k == key {
                return Some(s);
            }
            if k == 0 {
                match s
                    .key
                    .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        s.kind.store(kind, Ordering::Relaxed);
                        return Some(s);
                    }
                    Err(k) if k == key => return Some(s),
                    Err(_) => {}
                }
            }
        }
        None
    }

    /// [`Table::slot`], out of line: for a key not in its home slot.
    #[cold]
    #[inline(never)]
    fn slot_probed(&self, key: usize, kind: usize) -> Option<&Slot> {
        self.slot(key, kind)
    }

    /// Counts an acquisition of `key` by a thread that now holds it.
    #[inline(always)]
    pub fn acquired(&self, key: usize, kind: usize) {
        // The home slot, where a key almost always is once counted, without the probe loop.
        let home = &self.slots[Self::home(key)];
        let slot = if home.key.load(Ordering::Acquire) == key {
            Some(home)
        } else {
            self.slot_probed(key, kind)
        };
        match slot {
            Some(s) => {
                // Exact without a read-modify-write: see the module comment.
                let n = s.acquisitions.load(Ordering::Relaxed);
                s.acquisitions.store(n + 1, Ordering::Relaxed);
            }
            None => {
                self.missed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts a contended acquisition of `key` that waited `ns` nanoseconds (the acquisition
    /// itself is counted by [`Table::acquired`]).
    pub fn contended(&self, key: usize, kind: usize, ns: u64) {
        if let Some(s) = self.slot(key, kind) {
            s.contended.fetch_add(1, Ordering::Relaxed);
            s.total_ns.fetch_add(ns, Ordering::Relaxed);
            s.max_ns.fetch_max(ns, Ordering::Relaxed);
        }
    }

    /// Forgets the counts of `key` (the object is freed; the slot waits for the next object at
    /// that address).
    pub fn forget(&self, key: usize) {
        let h = Self::home(key);
        for i in 0..PROBES {
            let s = &self.slots[(h + i) & (SLOTS - 1)];
            match s.key.load(Ordering::Acquire) {
                0 => return,
                k if k == key => {
                    s.acquisitions.store(0, Ordering::Relaxed);
                    s.contended.store(0, Ordering::Relaxed);
                    s.total_ns.store(0, Ordering::Relaxed);
                    s.max_ns.store(0, Ordering::Relaxed);
                    return;
                }
                _ => {}
            }
        }
    }

    /// Forgets every count (the slots stay claimed).
    pub fn clear(&self) {
        for s in &self.slots {
            s.acquisitions.store(0, Ordering::Relaxed);
            s.contended.store(0, Ordering::Relaxed);
            s.total_ns.store(0, Ordering::Relaxed);
            s.max_ns.store(0, Ordering::Relaxed);
        }
        self.missed.store(0, Ordering::Relaxed);
    }

    /// The counts of `key`, if it has a slot.
    pub fn stats(&self, key: usize) -> Option<Stats> {
        let h = Self::home(key);
        (0..PROBES)
            .map(|i| &self.slots[(h + i) & (SLOTS - 1)])
            .take_while(|s| s.key.load(Ordering::Acquire) != 0)
            .find(|s| s.key.load(Ordering::Acquire) == key)
            .map(Self::read)
    }

    fn read(s: &Slot) -> Stats {
        Stats {
            key: s.key.load(Ordering::Acquire),
            kind: s.kind.load(Ordering::Relaxed),
            acquisitions: s.acquisitions.load(Ordering::Relaxed),
            contended: s.contended.load(Ordering::Relaxed),
            total_ns: s.total_ns.load(Ordering::Relaxed),
            max_ns: s.max_ns.load(Ordering::Relaxed),
        }
    }

    /// Acquisitions that found no slot.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }

    /// Every object acquired at least once since its counts were last forgotten (a snapshot),
    /// most waited first: by total wait, then contended acquisitions, then acquisitions, then
    /// address. `RT_ENOMEM` if the list cannot be made.
    pub fn snapshot(&self) -> Result<Vec<Stats>, crate::status::Error> {
        let live = || {
            self.slots
                .iter()
                .map(Self::read)
                .filter(|s| s.key != 0 && (s.acquisitions != 0 || s.contended != 0))
        };
        let mut v = Vec::new();
        v.try_reserve_exact(live().count())
            .map_err(|_| crate::status::Error::NO_MEMORY)?;
        // Another thread may add objects meanwhile: keep what fits.
        for s in live() {
            if v.len() == v.capacity() {
                break;
            }
            v.push(s);
        }
        v.sort_unstable_by(|a, b| {
            (b.total_ns, b.contended, b.acquisitions, a.key).cmp(&(
                a.total_ns,
                a.contended,
                a.acquisitions,
                b.key,
            ))
        });
        Ok(v)
    }
}

/// The hook's C type: `(ctx, object, thread ident, wait in nanoseconds)`.
pub type HookFn = unsafe extern "C" fn(*mut std::ffi::c_void, *const std::ffi::c_void, u64, u64);

/// The user's hook, published with a sequence word (odd while a writer writes).
pub struct Hook {
    seq: AtomicU64,
    f: AtomicUsize,
    ctx: AtomicUsize,
}

impl Default for Hook {
    fn default() -> Self {
        Self::new()
    }
}

impl Hook {
    pub const fn new() -> Hook {
        Hook {
            seq: AtomicU64::new(0),
            f: AtomicUsize::new(0),
            ctx: AtomicUsize::new(0),
        }
    }

    /// Installs `(f, ctx)`, or removes the hook (`f` None). Calls already started finish with
    /// the pair they read.
    pub fn set(&self, f: Option<HookFn>, ctx: *mut std::ffi::c_void) {
        let mut s = self.seq.load(Ordering::Relaxed);
        loop {
            if s & 1 == 1 {
                std::hint::spin_loop();
                s = self.seq.load(Ordering::Relaxed);
                continue;
            }
            match self
                .seq
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        self.f.store(f.map_or(0, |f| f as usize), Ordering::Relaxed);
        self.ctx.store(ctx as usize, Ordering::Relaxed);
        self.seq.store(s + 2, Ordering::Release);
    }

    /// The installed pair, if any (a consistent snapshot). Never waits for a writer: while one
    /// is replacing the pair (or vanished doing so, in a fork child), this call sees none.
    pub fn get(&self) -> Option<(HookFn, *mut std::ffi::c_void)> {
        for _ in 0..4 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let f = self.f.load(Ordering::Relaxed);
            let ctx = self.ctx.load(Ordering::Relaxed);
            std::sync::atomic::fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != s1 {
                continue;
            }
            if f == 0 {
                return None;
            }
            // SAFETY: a non-zero `f` was stored by `set` from a `HookFn`.
            let f: HookFn = unsafe { std::mem::transmute::<usize, HookFn>(f) };
            return Some((f, ctx as *mut std::ffi::c_void));
        }
        None
    }
}

/// Writes `ns` as milliseconds with three decimals, right-aligned in 14 columns.
fn ms(out: &mut dyn Write, ns: u64) {
    let us = ns / 1000;
    let _ = write!(out, "{:>10}.{:03}", us / 1000, us % 1000);
}

/// Writes the report's header: how many objects, how many shown, the columns.
pub fn format_header(out: &mut dyn Write, objects: usize, shown: usize) {
    let _ = writeln!(
        out,
        "rthread contention profile: {objects} objects acquired, the {shown} that waited most"
    );
    let _ = writeln!(
        out,
        "  total wait ms    max wait ms   contended  acquisitions  object"
    );
}

/// Writes one object's line; `describe` writes the object (kind, name, address).
pub fn format_row(out: &mut dyn Write, r: &Stats, describe: &mut dyn FnMut(&mut dyn Write)) {
    let _ = out.write_str("  ");
    ms(out, r.total_ns);
    let _ = out.write_str("  ");
    ms(out, r.max_ns);
    let _ = write!(out, "  {:>10}  {:>12}  ", r.contended, r.acquisitions);
    describe(out);
    let _ = out.write_str("\n");
}

// ---- The profile the debug dispatchers fill ----

static TABLE: Table = Table::new();
static HOOK: Hook = Hook::new();

/// The calling thread acquired `obj`.
#[inline(never)]
pub fn acquired(obj: Object) {
    TABLE.acquired(obj.addr, obj.kind as usize);
}

/// A slow-path wait on `obj` ended after `ns` nanoseconds; `acquired`: with the object. A
/// contended acquisition is counted, and the hook called, on this thread.
pub fn contended(obj: Object, ns: u64, acquired: bool) {
    if !acquired {
        return;
    }
    TABLE.contended(obj.addr, obj.kind as usize, ns);
    if let Some((f, ctx)) = HOOK.get() {
        // SAFETY: pthread_self has no preconditions.
        let ident = unsafe { libc::pthread_self() } as u64;
        // SAFETY: the user's hook with its context, as `set_hook` was given them; no lock of
        // rthread's is held here.
        unsafe { f(ctx, obj.addr as *const std::ffi::c_void, ident, ns) };
    }
}

/// Installs (or removes) the contention hook.
pub fn set_hook(f: Option<HookFn>, ctx: *mut std::ffi::c_void) {
    HOOK.set(f, ctx);
}

/// The object at `addr` is freed: its counts are forgotten. An object that was never profiled
/// costs one probe (its home slot is empty, or the probe ends at an empty slot).
pub fn forget(addr: usize) {
    TABLE.forget(addr);
}

const BAD_FD: crate::status::Error =
    crate::status::Error::new(crate::status::rt_status::RT_EINVAL, "bad file descriptor");
const WRITE_FAILED: crate::status::Error = crate::status::Error::new(
    crate::status::rt_status::RT_EINVAL,
    "cannot write to the file descriptor",
);

/// Writes the report to `fd`: the `top` objects that waited most (all when `top` is 0).
/// `RT_EINVAL` for a descriptor that is not open or cannot be written; `RT_ENOMEM`.
pub fn report_to(fd: i32, top: usize) -> Result<(), crate::status::Error> {
    let _errno = crate::status::KeepErrno::new();
    // SAFETY: F_GETFD only reads the descriptor's flags.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(BAD_FD);
    }
    let rows = TABLE.snapshot()?;
    let shown = if top == 0 {
        rows.len()
    } else {
        rows.len().min(top)
    };
    let mut t = Text::new();
    format_header(&mut t, rows.len(), shown);
    let mut ok = super::write_fd(fd, t.as_bytes());
    for r in &rows[..shown] {
        let mut t = Text::new();
        format_row(&mut t, r, &mut |out| {
            let kind = Kind::from_u8(r.kind as u8).unwrap_or(Kind::Lock);
            let mut d = Text::new();
            Object { addr: r.key, kind }.describe(&mut d);
            let _ = out.write_str(d.as_str());
        });
        ok = ok && super::write_fd(fd, t.as_bytes());
    }
    let missed = TABLE.missed();
    if missed != 0 {
        let mut t = Text::new();
        let _ = writeln!(
            t,
            "  ({missed} acquisitions of objects beyond the table's {SLOTS} slots not profiled)"
        );
        ok = ok && super::write_fd(fd, t.as_bytes());
    }
    if ok { Ok(()) } else { Err(WRITE_FAILED) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_are_exact_and_forgotten_with_the_object() {
        let t = Table::new();
        for _ in 0..5 {
            t.acquired(0x1000, 1);
        }
        t.acquired(0x2000, 2);
        t.contended(0x1000, 1, 300);
        t.contended(0x1000, 1, 100);
        let s = t.stats(0x1000).unwrap();
        assert_eq!(
            (s.kind, s.acquisitions, s.contended, s.total_ns, s.max_ns),
            (1, 5, 2, 400, 300)
        );
        assert_eq!(t.stats(0x2000).unwrap().acquisitions, 1);
        assert!(t.stats(0x3000).is_none());
        t.forget(0x1000);
        let s = t.stats(0x1000).unwrap();
        assert_eq!((s.acquisitions, s.contended, s.total_ns), (0, 0, 0));
        assert_eq!(t.snapshot().unwrap().len(), 1);
    }

    #[test]
    fn snapshot_orders_by_total_wait() {
        let t = Table::new();
        for (key, waits) in [
            (0x10, &[5u64][..]),
            (0x20, &[50, 50]),
            (0x30, &[]),
            (0x40, &[70]),
        ] {
            t.acquired(key, 0);
            for &w in waits {
                t.acquired(key, 0);
                t.contended(key, 0, w);
            }
        }
        let keys: Vec<usize> = t.snapshot().unwrap().iter().map(|s| s.key).collect();
        assert_eq!(keys, [0x20, 0x40, 0x10, 0x30]);
    }

    #[test]
    fn colliding_addresses_share_a_probe_and_overflow_is_counted() {
        let t = Table::new();
        // More objects than slots: each one either has a slot or its acquisition is counted
        // as missed, and the table never holds more than it has.
        let n = SLOTS + 500;
        for k in 1..=n {
            t.acquired(k * 64, 0);
        }
        let kept = t.snapshot().unwrap().len();
        assert!(kept <= SLOTS);
        assert_eq!(kept as u64 + t.missed(), n as u64);
    }

    #[test]
    fn acquisitions_made_under_a_lock_are_exact_across_threads() {
        let t = Arc::new(Table::new());
        let m = Arc::new(std::sync::Mutex::new(()));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (t, m) = (t.clone(), m.clone());
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let _g = m.lock().unwrap();
                        t.acquired(0x77, 0);
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        assert_eq!(t.stats(0x77).unwrap().acquisitions, 40_000);
    }

    unsafe extern "C" fn count_hook(
        ctx: *mut std::ffi::c_void,
        obj: *const std::ffi::c_void,
        _thread: u64,
        ns: u64,
    ) {
        // SAFETY: the tests pass a live AtomicU64 as ctx.
        let c = unsafe { &*(ctx as *const AtomicU64) };
        c.fetch_add(ns + obj as u64, Ordering::Relaxed);
    }

    #[test]
    fn hook_pairs_are_consistent() {
        let h = Hook::new();
        assert!(h.get().is_none());
        let c = AtomicU64::new(0);
        h.set(Some(count_hook), &c as *const AtomicU64 as *mut _);
        let (f, ctx) = h.get().unwrap();
        // SAFETY: ctx is `c`, alive.
        unsafe { f(ctx, 2 as *const _, 0, 40) };
        assert_eq!(c.load(Ordering::Relaxed), 42);
        h.set(None, std::ptr::null_mut());
        assert!(h.get().is_none());
    }

    #[test]
    fn report_lines_have_their_columns() {
        let t = Table::new();
        t.acquired(0x10, 0);
        t.acquired(0x20, 0);
        t.contended(0x20, 0, 2_500_000);
        let rows = t.snapshot().unwrap();
        assert_eq!(rows[0].key, 0x20);
        let mut out = String::new();
        format_header(&mut out, rows.len(), 1);
        format_row(&mut out, &rows[0], &mut |o| {
            let _ = o.write_str("lock 0x20");
        });
        assert!(out.starts_with("rthread contention profile: 2 objects acquired, the 1 "));
        assert!(
            out.ends_with("         2.500           2.500           1             1  lock 0x20\n"),
            "{out}"
        );
    }
}
