//! Telling race detectors what rthread orders: ThreadSanitizer, and valgrind's helgrind and DRD.
//!
//! rthread's happens-before goes through atomics and futexes in a library that the tools do not
//! understand: TSan does not instrument it (it is not built with `-fsanitize=thread`), and
//! helgrind and DRD, which do see its instructions, know only POSIX synchronisation. Without
//! help, a correct C program on rthread shows false data races on the data it hands between
//! threads. So every hand-off tells the tools, on the address of the object that carries it:
//! the releasing side calls [`release`] before it publishes, the acquiring side [`acquire`]
//! after it has seen the publication. The tools then order every access before a `release(a)`
//! before every access after a later `acquire(a)`, which is what the primitive guarantees.
//!
//! | tool      | how it is found                                    | what is called                         |
//! |-----------|----------------------------------------------------|----------------------------------------|
//! | TSan      | `__tsan_acquire` found by `dlsym` at load          | `__tsan_release` / `__tsan_acquire`    |
//! | helgrind, DRD | valgrind's `RUNNING_ON_VALGRIND` request, at load | `ANNOTATE_HAPPENS_BEFORE` / `_AFTER` |
//!
//! Valgrind's client requests are made with [`client_request`], written here from valgrind's
//! documented protocol for amd64 (the "magic sequence": four rotations of `rdi` that add up to
//! 128 bits, then `xchg rbx, rbx`; `rax` points to the request and its five arguments, `rdx`
//! holds the default result and receives the answer). On a real CPU the sequence does nothing
//! and the default comes back; under valgrind the tool answers. Elsewhere than x86-64 Linux,
//! valgrind is not detected.
//!
//! The library's internal locks (the wait table's buckets and every `LockCell`, both
//! [`WordLock`](crate::wait::word_lock)s) are annotated too, through the hook
//! [`crate::wait::word_lock::set_annotation_hook`]. Under valgrind the tools see rthread's own
//! code, and would report the data those locks guard (the thread registry, a queue's items, a
//! future's state); TSan sees the C library's calls made under them (a block allocated in one
//! thread and grown or freed in another). Under valgrind, the memory that holds only rthread's
//! state is also left out of the checks ([`Allocator`], [`untrack_own_statics`]).
//!
//! Cost: detection runs once, at load. When no tool runs the process, each annotated point
//! costs one relaxed load of a flag that is zero.

use super::{ACTIVE, ANNOTATE_TSAN as TSAN, ANNOTATE_VALGRIND as VALGRIND};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
/// `__tsan_acquire` and `__tsan_release`, when the TSan runtime is present.
static TSAN_ACQUIRE: AtomicUsize = AtomicUsize::new(0);
static TSAN_RELEASE: AtomicUsize = AtomicUsize::new(0);

/// Valgrind's `VG_USERREQ__RUNNING_ON_VALGRIND`: answers how many valgrinds run us (0 on a
/// real CPU).
const VG_RUNNING_ON_VALGRIND: usize = 0x1001;
/// The first of helgrind's requests: `VG_USERREQ_TOOL_BASE('H', 'G')`, then 256 for the first
/// one past `VG_USERREQ__HG_CLEAN_MEMORY`. DRD answers the same numbers for these two.
const HG_BASE: usize = ((b'H' as usize) << 24) | ((b'G' as usize) << 16);
/// `ANNOTATE_HAPPENS_BEFORE(obj)` (helgrind's `_VG_USERREQ__HG_USERSO_SEND_PRE`).
const HG_HAPPENS_BEFORE: usize = HG_BASE + 256 + 33;
/// `ANNOTATE_HAPPENS_AFTER(obj)` (helgrind's `_VG_USERREQ__HG_USERSO_RECV_POST`).
const HG_HAPPENS_AFTER: usize = HG_BASE + 256 + 34;
/// `VALGRIND_HG_DISABLE_CHECKING(addr, len)` (helgrind's `_VG_USERREQ__HG_ARANGE_MAKE_UNTRACKED`).
const HG_UNTRACKED: usize = HG_BASE + 256 + 39;
/// `VALGRIND_HG_GET_ABITS(addr, NULL, len)`: how many of the bytes are addressable, under
/// helgrind; the default, [`NOT_HELGRIND`], under any other tool.
const HG_GET_ABITS: usize = HG_BASE + 256 + 46;
/// What `VALGRIND_HG_GET_ABITS` answers when helgrind does not run the process (-2).
const NOT_HELGRIND: usize = usize::MAX - 1;
/// DRD's `VG_USERREQ__DRD_GET_VALGRIND_THREAD_ID`: non-zero under DRD, 0 otherwise.
const DRD_GET_VALGRIND_THREAD_ID: usize = ((b'D' as usize) << 24) | ((b'R' as usize) << 16);

/// Whether any tool runs the process: one relaxed load of the debug layer's flags word
/// ([`ACTIVE`], where [`TSAN`] and [`VALGRIND`] are this module's bits). The annotated points
/// call [`release`] and [`acquire`] only when it is true.
#[inline(always)]
pub fn active() -> bool {
    tools() != 0
}

/// This module's bits of [`ACTIVE`].
#[inline(always)]
fn tools() -> u32 {
    ACTIVE.load(Ordering::Relaxed) & (TSAN | VALGRIND)
}

/// The releasing side of a hand-off through `obj` (a lock's release, a semaphore's release, an
/// event's set, a queue's put…): every access of this thread before it happens before every
/// access after a later [`acquire`] of `obj` by any thread. Call it before the publication.
#[inline]
pub fn released<T: ?Sized>(obj: *const T) {
    if active() {
        release(obj as *const c_void as usize);
    }
}

/// The acquiring side of a hand-off through `obj`: call it after the publication was seen (a
/// lock acquired, a semaphore taken, an event seen set, an item got…).
#[inline]
pub fn acquired<T: ?Sized>(obj: *const T) {
    if active() {
        acquire(obj as *const c_void as usize);
    }
}

/// [`released`]'s work, once a tool was found.
#[cold]
#[inline(never)]
pub fn release(addr: usize) {
    let tools = tools();
    if tools & TSAN != 0 {
        call_tsan(&TSAN_RELEASE, addr);
    }
    if tools & VALGRIND != 0 {
        client_request(0, [HG_HAPPENS_BEFORE, addr, 0, 0, 0, 0]);
    }
}

/// [`acquired`]'s work, once a tool was found.
#[cold]
#[inline(never)]
pub fn acquire(addr: usize) {
    let tools = tools();
    if tools & TSAN != 0 {
        call_tsan(&TSAN_ACQUIRE, addr);
    }
    if tools & VALGRIND != 0 {
        client_request(0, [HG_HAPPENS_AFTER, addr, 0, 0, 0, 0]);
    }
}

fn call_tsan(f: &AtomicUsize, addr: usize) {
    let f = f.load(Ordering::Relaxed);
    if f != 0 {
        // SAFETY: `f` is `__tsan_acquire` or `__tsan_release`, found by `dlsym`, whose
        // signature is `void (void *)`; the address is only a tag to TSan (it is never
        // dereferenced).
        unsafe {
            let f: extern "C" fn(*mut c_void) = std::mem::transmute(f);
            f(addr as *mut c_void);
        }
    }
}

/// The internal locks' view for the tools (`wait::word_lock`'s hook): `acquired` after the
/// lock is taken, not `acquired` before it is let go. Valgrind's tools see the data these
/// locks guard; TSan sees only what the C library does for rthread under them (a `malloc`
/// here, a `realloc` or `free` of the same block in another thread, a `memcpy`), which it
/// would otherwise report as races.
fn internal_lock(addr: usize, acquired: bool) {
    if acquired {
        acquire(addr);
    } else {
        release(addr);
    }
}

/// The allocator of the library: the system's, and under valgrind every block rthread
/// allocates is left out of helgrind's checks (`VALGRIND_HG_DISABLE_CHECKING`). Such a block
/// holds only rthread's own state (objects, queue slots, wait records, the registry), which
/// its atomics order in ways the tool cannot see; the user's data never lives in it (a queue
/// holds the user's pointers, not what they point to). helgrind checks a block again once it
/// is freed and allocated anew. Loom builds install no allocator of the library (`ALLOCATOR`).
#[cfg(not(loom))]
struct Allocator;

// SAFETY: every call is the system allocator's; the request after it only changes what
// valgrind checks.
#[cfg(not(loom))]
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as for `System`, with the caller's layout.
        untracked(unsafe { std::alloc::System.alloc(layout) }, layout.size())
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        untracked(
            unsafe { std::alloc::System.alloc_zeroed(layout) },
            layout.size(),
        )
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        // SAFETY: as above.
        untracked(unsafe { std::alloc::System.realloc(ptr, layout, new) }, new)
    }
}

#[cfg(not(loom))]
#[inline]
fn untracked(p: *mut u8, len: usize) -> *mut u8 {
    // Another constructor of the library may allocate before `INIT` has run.
    if !DETECTED.load(Ordering::Relaxed) {
        detect();
    }
    if tools() & VALGRIND != 0 && !p.is_null() {
        client_request(0, [HG_UNTRACKED, p as usize, len, 0, 0, 0]);
    }
    p
}

#[cfg(not(loom))]
#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// Whether [`detect`] has run.
static DETECTED: AtomicBool = AtomicBool::new(false);

/// Finds the tools that run the process, and switches the annotations on if there is one.
/// Runs at load (see [`INIT`]), or at the library's first allocation if another constructor
/// allocates first; later calls find the same. It allocates nothing.
pub fn detect() -> u32 {
    let _errno = crate::status::KeepErrno::new();
    let mut tools = 0;
    // SAFETY: `dlsym` with `RTLD_DEFAULT` and a NUL-terminated name only looks the symbol up.
    let (acq, rel) = unsafe {
        (
            libc::dlsym(libc::RTLD_DEFAULT, c"__tsan_acquire".as_ptr()),
            libc::dlsym(libc::RTLD_DEFAULT, c"__tsan_release".as_ptr()),
        )
    };
    if !acq.is_null() && !rel.is_null() {
        TSAN_ACQUIRE.store(acq as usize, Ordering::Relaxed);
        TSAN_RELEASE.store(rel as usize, Ordering::Relaxed);
        tools |= TSAN;
    }
    if race_detector_on_valgrind() {
        tools |= VALGRIND;
        untrack_own_statics();
    }
    ACTIVE.fetch_or(tools, Ordering::Relaxed);
    if tools != 0 {
        crate::wait::word_lock::set_annotation_hook(internal_lock);
    }
    DETECTED.store(true, Ordering::Relaxed);
    tools
}

/// Leaves the library's own static data (its writable segments: the wait table, the registry,
/// the debug layer's words) out of helgrind's checks, as [`Allocator`] does for its heap
/// blocks. Only when the library is a shared object of its own: linked statically into the
/// program, its statics share the program's segments, which must stay checked.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn untrack_own_statics() {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> libc::c_int {
        // SAFETY: the loader passes a valid `info` for the duration of the call; `data` is
        // the address of a static of this library.
        unsafe {
            let info = &*info;
            let ours = data as usize;
            let base = info.dlpi_addr as usize;
            let headers = std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
            let contains = |h: &libc::Elf64_Phdr| {
                h.p_type == libc::PT_LOAD
                    && (base + h.p_vaddr as usize..base + (h.p_vaddr + h.p_memsz) as usize)
                        .contains(&ours)
            };
            if !headers.iter().any(contains) {
                return 0;
            }
            let main_program = info.dlpi_name.is_null() || *info.dlpi_name == 0;
            if !main_program {
                for h in headers {
                    if h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W != 0 {
                        let start = base + h.p_vaddr as usize;
                        client_request(0, [HG_UNTRACKED, start, h.p_memsz as usize, 0, 0, 0]);
                    }
                }
            }
            1
        }
    }
    // SAFETY: `each` only reads what the loader passes it.
    unsafe {
        libc::dl_iterate_phdr(Some(each), &DETECTED as *const AtomicBool as *mut c_void);
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn untrack_own_statics() {}

/// Whether valgrind runs the process.
pub fn running_on_valgrind() -> bool {
    client_request(0, [VG_RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0]) != 0
}

/// Whether valgrind runs the process with helgrind or DRD. Under another tool (memcheck…)
/// nothing is annotated: the requests would be ignored, and the C face would leave its fast
/// paths for nothing.
fn race_detector_on_valgrind() -> bool {
    if !running_on_valgrind() {
        return false;
    }
    let probe = &DETECTED as *const AtomicBool as usize;
    let helgrind = client_request(NOT_HELGRIND, [HG_GET_ABITS, probe, 0, 1, 0, 0]) != NOT_HELGRIND;
    let drd = client_request(0, [DRD_GET_VALGRIND_THREAD_ID, 0, 0, 0, 0, 0]) != 0;
    helgrind || drd
}

/// Valgrind's client request: `args` is the request and its five arguments; answers `default`
/// on a real CPU, the tool's answer under valgrind.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[inline(never)]
fn client_request(default: usize, args: [usize; 6]) -> usize {
    let mut result = default;
    // SAFETY: the four rotations of `rdi` add up to 128 bits and leave it as it was (it is
    // marked clobbered anyway); `xchg rbx, rbx` changes nothing. Only valgrind, which
    // recognises the sequence, reads `args` (through `rax`) and writes `rdx`.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") args.as_ptr(),
            inout("rdi") 0usize => _,
            options(nostack),
        );
    }
    result
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn client_request(default: usize, _args: [usize; 6]) -> usize {
    default
}

/// Runs [`detect`] when the library is loaded, before any rthread call can be made.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static INIT: extern "C" fn() = {
    extern "C" fn init() {
        detect();
    }
    init
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tool_runs_the_unit_tests() {
        // The unit tests are not built with TSan and not run under valgrind: nothing found,
        // nothing switched on, and the magic sequence is harmless on a real CPU.
        assert!(!running_on_valgrind());
        assert_eq!(client_request(42, [HG_HAPPENS_BEFORE, 0, 0, 0, 0, 0]), 42);
        assert_eq!(detect(), 0);
        assert!(!active());
        let x = 5u32;
        released(&x);
        acquired(&x);
    }

    #[test]
    fn helgrind_request_numbers_are_valgrinds() {
        // helgrind.h's enum, and drd.h's VG_USERREQ__DRD_ANNOTATE_HAPPENS_BEFORE/AFTER.
        assert_eq!(HG_HAPPENS_BEFORE, 0x4847_0121);
        assert_eq!(HG_HAPPENS_AFTER, 0x4847_0122);
        assert_eq!(HG_UNTRACKED, 0x4847_0127);
        assert_eq!(HG_GET_ABITS, 0x4847_012e);
        assert_eq!(DRD_GET_VALGRIND_THREAD_ID, 0x4452_0000);
    }
}
