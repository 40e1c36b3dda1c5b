//! A thread's name: `Thread-N` (one counter shared with `Dummy-N`, from 1), `MainThread`, or a
//! name set with [`Thread::set_name`], under the thread's name lock; and the OS's copy of it
//! (truncated to 15 bytes at a character boundary, Linux's limit), given by the thread itself
//! when it starts and by `set_name` while it runs. The thread marks its OS name gone under the
//! same lock before it stops, so `set_name` never renames a thread that has exited.

use super::*;
use crate::debug::threads::DebugThread;

/// A thread's name.
pub(super) enum Name {
    Static(&'static str),
    /// `prefix` and a number: "Thread-3", formatted when read (no allocation at creation).
    Numbered(&'static str, u64),
    Text(Box<str>),
}

/// Whether a rename must reach the OS.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OsName {
    /// The thread has not given the OS its name yet (it will, with the latest name).
    Pending,
    /// The thread runs and has its name: renames go to the OS.
    Live,
    /// The thread has ended (or is not known): renames stay in the object.
    Gone,
}

/// What a thread object keeps behind its lock: its name, whether the OS has it, and the hooks
/// its thread runs.
pub(super) struct Guarded {
    pub(super) name: Name,
    pub(super) os: OsName,
    pub(super) hooks: Hooks,
    /// The debug layer's record for the thread, made by `start` and taken by the thread when
    /// it begins (see `debug::threads::prepare`).
    pub(super) debug: Option<Arc<DebugThread>>,
}

/// A default name, formatted on the stack.
struct NameBuf {
    buf: [u8; 64],
    len: usize,
}

impl Write for NameBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Name {
    /// Runs `f` with the name as text.
    pub(super) fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Name::Static(s) => f(s),
            Name::Text(s) => f(s),
            Name::Numbered(prefix, n) => {
                let mut b = NameBuf {
                    buf: [0; 64],
                    len: 0,
                };
                // A prefix and a u64 fit in 64 bytes.
                let _ = write!(b, "{prefix}{n}");
                f(std::str::from_utf8(&b.buf[..b.len]).unwrap_or(prefix))
            }
        }
    }
}

/// The name as the OS takes it: at most 15 bytes (Linux's limit), cut at a character boundary,
/// NUL-terminated.
pub(super) fn os_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut n = name.len().min(15);
    while !name.is_char_boundary(n) {
        n -= 1;
    }
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

/// Gives the OS thread `ident` its name (the calling thread when `ident` is its own).
#[allow(unused_variables)]
pub(super) fn set_os_name(ident: u64, name: &Name) {
    #[cfg(target_os = "linux")]
    name.with_str(|s| {
        let buf = os_name(s);
        // For another thread glibc writes /proc/self/task/TID/comm: errno kept.
        let _errno = crate::status::KeepErrno::new();
        // SAFETY: `buf` is NUL-terminated and at most 16 bytes with the NUL; `ident` is the
        // pthread_t of a thread that has not exited (the caller holds the name lock, and the
        // thread marks its OS name gone under that lock before it ends).
        unsafe { libc::pthread_setname_np(ident as libc::pthread_t, buf.as_ptr().cast()) };
    });
}

/// The next number for a default name (`Thread-N`, `Dummy-N`): one counter, from 1.
pub(super) fn next_name_number() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

impl Thread {
    /// Runs `f` with the thread's name. `f` runs under the thread's name lock: it must not call
    /// back into this thread object.
    pub fn with_name<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        self.guarded.lock().name.with_str(f)
    }

    /// The thread's name, copied.
    pub fn name(&self) -> String {
        self.with_name(str::to_string)
    }

    /// Renames the thread; a running thread's OS name follows (truncated to 15 bytes).
    /// `RT_ENOMEM` (and the name unchanged) if the copy cannot be made.
    pub fn set_name(&self, name: &str) -> Result<(), Error> {
        let new = Name::Text(try_boxed_str(name)?);
        let old = {
            let mut ns = self.guarded.lock();
            let old = std::mem::replace(&mut ns.name, new);
            if ns.os == OsName::Live {
                set_os_name(self.ident.load(Ordering::Relaxed), &ns.name);
            }
            old
        };
        drop(old);
        Ok(())
    }

    /// The running thread gives the OS its name, once, at start.
    pub(super) fn name_os_at_start(&self) {
        let mut ns = self.guarded.lock();
        if ns.os == OsName::Pending {
            set_os_name(os::get_ident(), &ns.name);
            ns.os = OsName::Live;
        }
    }

    /// The thread is ending: renames no longer reach the OS.
    pub(in crate::thread) fn name_os_gone(&self) {
        self.guarded.lock().os = OsName::Gone;
    }
}

/// The error for a name buffer that is too small: the message says how many bytes it needs.
pub fn name_buffer_too_small(needed: usize) -> Error {
    Error {
        status: rt_status::RT_EINVAL,
        message: Message::Number("buffer too small: the name needs ", needed as u64, " bytes"),
    }
}
