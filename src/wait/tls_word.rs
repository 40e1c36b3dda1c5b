//! Words of thread-local storage read without a call: the calling thread's id ([`id`], 0 until
//! assigned) and its debug record ([`debug_record`], 0 until it has one).
//!
//! An RLock re-entry is a comparison with the id, and a debug mode that keeps held lists
//! finds the thread's record on every acquisition and release, so reading either must cost
//! less than the operation itself. In a shared library Rust reaches a `thread_local!` through
//! a call to `__tls_get_addr`, which costs more than the rest of a re-entry together. On
//! x86-64 Linux the words are therefore declared here with the initial-exec TLS model, the one
//! libc uses for `errno`: a word's offset from the thread pointer sits in the GOT, written once
//! by the dynamic linker, and a read is two loads. The shared library is then flagged
//! `STATIC_TLS`; glibc still loads such a library with `dlopen`, from the room it keeps for
//! them (these words take 16 bytes of it). Linked statically, the linker turns the two loads
//! into one.
//!
//! Elsewhere, and under loom, a word is an ordinary `thread_local!`.
//!
//! The words have no destructor, so they stay readable while the thread's other thread-locals
//! are torn down, and a forked child keeps the forking thread's values.

/// One word: a module with `get` and `set`, named `$name`, its TLS symbol `$sym`; `$gone` is
/// what `get` reads (under loom) once the thread-local is torn down.
macro_rules! tls_word {
    ($(#[$doc:meta])* $name:ident, $sym:literal, $gone:expr) => {
        $(#[$doc])*
        pub mod $name {
            #[cfg(all(target_arch = "x86_64", target_os = "linux", not(loom)))]
            mod imp {
                // The symbol is global so that every codegen unit's asm can name it, and
                // hidden so that it is not exported from the shared library.
                core::arch::global_asm!(
                    concat!(".pushsection .tbss.", $sym, ",\"awT\",@nobits"),
                    concat!(".globl ", $sym),
                    concat!(".hidden ", $sym),
                    concat!(".type ", $sym, ",@object"),
                    concat!(".size ", $sym, ",8"),
                    ".p2align 3",
                    concat!($sym, ":"),
                    ".zero 8",
                    ".popsection",
                );

                /// Reads the calling thread's word.
                #[inline(always)]
                pub fn get() -> u64 {
                    let v: u64;
                    // SAFETY: the word is 8 aligned bytes in this thread's static TLS block;
                    // its offset from the thread pointer (%fs) is in the GOT. Only the owning
                    // thread writes it.
                    unsafe {
                        core::arch::asm!(
                            concat!("movq ", $sym, "@GOTTPOFF(%rip), {v}"),
                            "movq %fs:({v}), {v}",
                            v = out(reg) v,
                            options(att_syntax, nostack, preserves_flags, readonly, pure),
                        );
                    }
                    v
                }

                /// Writes the calling thread's word.
                #[inline]
                pub fn set(v: u64) {
                    // SAFETY: as in `get`; only the owning thread writes its word.
                    unsafe {
                        core::arch::asm!(
                            concat!("movq ", $sym, "@GOTTPOFF(%rip), {off}"),
                            "movq {v}, %fs:({off})",
                            off = out(reg) _,
                            v = in(reg) v,
                            options(att_syntax, nostack, preserves_flags),
                        );
                    }
                }
            }

            #[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(loom))))]
            mod imp {
                use std::cell::Cell;

                #[cfg(not(loom))]
                thread_local! {
                    static WORD: Cell<u64> = const { Cell::new(0) };
                }

                #[cfg(loom)]
                loom::thread_local! {
                    static WORD: Cell<u64> = Cell::new(0);
                }

                /// Reads the calling thread's word.
                #[inline]
                pub fn get() -> u64 {
                    // Only under loom can the thread-local be gone (during its teardown).
                    WORD.try_with(Cell::get).unwrap_or($gone)
                }

                /// Writes the calling thread's word.
                pub fn set(v: u64) {
                    let _ = WORD.try_with(|c| c.set(v));
                }
            }

            pub use imp::{get, set};
        }
    };
}

tls_word!(
    /// The calling thread's id (`record::current_id`), 0 until assigned.
    id,
    "__rthread_current_id",
    // An id no thread has: ownership tests fail as they should.
    u64::MAX
);

tls_word!(
    /// The calling thread's debug record (`debug::threads`), as an address; 0 for none.
    debug_record,
    "__rthread_debug_record",
    // None.
    0
);

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::wait::{current_id, current_id_if_assigned};

    #[test]
    fn a_thread_has_no_id_until_it_asks_then_keeps_it() {
        let (before, first, second, after) = std::thread::spawn(|| {
            let before = current_id_if_assigned();
            let first = current_id();
            (before, first, current_id(), current_id_if_assigned())
        })
        .join()
        .expect("thread");
        assert_eq!(before, 0);
        assert_ne!(first, 0);
        assert_eq!(second, first);
        assert_eq!(after, first);
    }

    #[test]
    fn ids_are_per_thread_and_never_reused() {
        let mine = current_id();
        let mut seen = vec![mine];
        for _ in 0..8 {
            // Each thread ends before the next starts: its TLS block, and its word, are
            // recycled, its id is not.
            let id = std::thread::spawn(current_id).join().expect("thread");
            assert!(!seen.contains(&id), "id {id} reused");
            seen.push(id);
        }
        assert_eq!(current_id(), mine);
    }
}
