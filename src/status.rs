//! Status codes, error values and the per-thread last-error message.
//!
//! Every fallible operation of the core returns `Result<T, Error>`. An [`Error`] carries the
//! [`rt_status`] code and a message worded as CPython words the matching exception; the C face
//! stores the message in a per-thread buffer (`rt_last_error`) and returns the code.
//!
//! The buffer is a fixed array in a thread-local with no destructor, so recording an error never
//! allocates and works even while a thread is being torn down.
//!
//! errno, the C library's error number, is never a channel of rthread's: its calls leave it as
//! their caller left it, as `pthread_mutex_lock` does. Each place that makes a system call or a
//! C library call that may set it (the futex, thread creation, the debug reports' I/O, std's
//! `Once` when it waits) keeps it with a [`KeepErrno`].

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt::Write;

/// The result of every fallible rthread call.
///
/// `RT_OK` is zero; every other value names why the call did not do what was asked, and
/// `rt_last_error()` then holds a message for it. Codes are stable: new ones are only ever added
/// at the end.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum rt_status {
    /// Success (Python: the call returned, or returned `True`).
    RT_OK = 0,
    /// A blocking call gave up: `False` from acquire or wait, a join that timed out, a
    /// non-blocking acquire of a busy object.
    RT_TIMEOUT = 1,
    /// Invalid argument (`ValueError`), or a NULL or wrong-kind handle.
    RT_EINVAL = 2,
    /// A timeout above `RT_TIMEOUT_MAX` (`OverflowError`).
    RT_EOVERFLOW = 3,
    /// Release of an unlocked Lock (`RuntimeError: release unlocked lock`).
    RT_ENOTLOCKED = 4,
    /// The calling thread does not own the lock it must own (`RuntimeError: cannot release
    /// un-acquired lock`, a Condition used without its lock).
    RT_ENOTOWNER = 5,
    /// The object is not in a state that allows the call (`RuntimeError`: a thread started twice,
    /// joined before start, daemon set after start, exit from a foreign thread).
    RT_ESTATE = 6,
    /// The call would wait for the calling thread itself (`RuntimeError: cannot join current
    /// thread`).
    RT_EDEADLK = 7,
    /// The barrier is broken (`threading.BrokenBarrierError`).
    RT_EBROKEN = 8,
    /// The queue is full (`queue.Full`).
    RT_EFULL = 9,
    /// The queue is empty (`queue.Empty`).
    RT_EEMPTY = 10,
    /// The queue is shut down (`queue.ShutDown`).
    RT_ESHUTDOWN = 11,
    /// A counter would go past its bound (`ValueError`: a bounded semaphore released too many
    /// times, `task_done()` called too many times).
    RT_EOVERRELEASE = 12,
    /// The system refused to create a thread (`RuntimeError: can't start new thread`).
    RT_EAGAIN = 13,
    /// Out of memory (`MemoryError`).
    RT_ENOMEM = 14,
    /// The object cannot be freed: threads are blocked on it. It was not freed.
    RT_EBUSY = 15,
    /// A blocking wait was ended by `rt_thread_interrupt`.
    RT_EINTR = 16,
    /// The future was cancelled (`concurrent.futures.CancelledError`).
    RT_ECANCELLED = 17,
    /// The future holds an exception: its call failed (what `Future.result()` raises);
    /// `rt_future_exception` gives the failure's code and message.
    RT_EFAILED = 18,
    /// The future is already done: it cannot be given a result or an exception again
    /// (`concurrent.futures.InvalidStateError`).
    RT_EINVALIDSTATE = 19,
}

pub use rt_status as Status;

/// Every code, in numeric order.
const ALL_CODES: [rt_status; 20] = [
    rt_status::RT_OK,
    rt_status::RT_TIMEOUT,
    rt_status::RT_EINVAL,
    rt_status::RT_EOVERFLOW,
    rt_status::RT_ENOTLOCKED,
    rt_status::RT_ENOTOWNER,
    rt_status::RT_ESTATE,
    rt_status::RT_EDEADLK,
    rt_status::RT_EBROKEN,
    rt_status::RT_EFULL,
    rt_status::RT_EEMPTY,
    rt_status::RT_ESHUTDOWN,
    rt_status::RT_EOVERRELEASE,
    rt_status::RT_EAGAIN,
    rt_status::RT_ENOMEM,
    rt_status::RT_EBUSY,
    rt_status::RT_EINTR,
    rt_status::RT_ECANCELLED,
    rt_status::RT_EFAILED,
    rt_status::RT_EINVALIDSTATE,
];

impl rt_status {
    /// Every code, in numeric order.
    pub fn all() -> &'static [rt_status] {
        &ALL_CODES
    }

    /// Converts an integer read from C; `None` for a value that names no code.
    pub fn from_int(v: i64) -> Option<rt_status> {
        usize::try_from(v)
            .ok()
            .and_then(|i| ALL_CODES.get(i).copied())
    }

    /// The code's name, as a NUL-terminated static string.
    pub const fn name_with_nul(self) -> &'static str {
        match self {
            rt_status::RT_OK => "RT_OK\0",
            rt_status::RT_TIMEOUT => "RT_TIMEOUT\0",
            rt_status::RT_EINVAL => "RT_EINVAL\0",
            rt_status::RT_EOVERFLOW => "RT_EOVERFLOW\0",
            rt_status::RT_ENOTLOCKED => "RT_ENOTLOCKED\0",
            rt_status::RT_ENOTOWNER => "RT_ENOTOWNER\0",
            rt_status::RT_ESTATE => "RT_ESTATE\0",
            rt_status::RT_EDEADLK => "RT_EDEADLK\0",
            rt_status::RT_EBROKEN => "RT_EBROKEN\0",
            rt_status::RT_EFULL => "RT_EFULL\0",
            rt_status::RT_EEMPTY => "RT_EEMPTY\0",
            rt_status::RT_ESHUTDOWN => "RT_ESHUTDOWN\0",
            rt_status::RT_EOVERRELEASE => "RT_EOVERRELEASE\0",
            rt_status::RT_EAGAIN => "RT_EAGAIN\0",
            rt_status::RT_ENOMEM => "RT_ENOMEM\0",
            rt_status::RT_EBUSY => "RT_EBUSY\0",
            rt_status::RT_EINTR => "RT_EINTR\0",
            rt_status::RT_ECANCELLED => "RT_ECANCELLED\0",
            rt_status::RT_EFAILED => "RT_EFAILED\0",
            rt_status::RT_EINVALIDSTATE => "RT_EINVALIDSTATE\0",
        }
    }
}

/// The text of an [`Error`]: static where it can be, with one number or an OS error where
/// CPython's message has one. Never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    Static(&'static str),
    /// `prefix`, the number, `suffix`: "size not valid: 4096 bytes".
    Number(&'static str, u64, &'static str),
    /// `prefix`, then the OS's text for the errno value: "can't start new thread: ...".
    Os(&'static str, i32),
    /// The text already recorded as the thread's last message (a message made at run time,
    /// recorded with [`record_text`] before the error is returned): recording keeps it.
    Recorded,
}

/// A failed call: the status code and CPython's message for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub status: rt_status,
    pub message: Message,
}

impl Error {
    pub const fn new(status: rt_status, message: &'static str) -> Error {
        Error {
            status,
            message: Message::Static(message),
        }
    }

    pub const TIMEOUT: Error = Error::new(rt_status::RT_TIMEOUT, "timed out");
    pub const INTERRUPTED: Error = Error::new(rt_status::RT_EINTR, "interrupted");
    pub const NULL_HANDLE: Error = Error::new(rt_status::RT_EINVAL, "NULL handle");
    pub const WRONG_KIND: Error = Error::new(rt_status::RT_EINVAL, "handle of the wrong kind");
    pub const NULL_OUT: Error = Error::new(rt_status::RT_EINVAL, "NULL output pointer");
    pub const NO_MEMORY: Error = Error::new(rt_status::RT_ENOMEM, "out of memory");
    pub const BUSY: Error = Error::new(rt_status::RT_EBUSY, "object is in use by waiting threads");

    /// Writes the message into `out`.
    pub fn render(&self, out: &mut impl Write) {
        let _ = match self.message {
            Message::Static(s) => out.write_str(s),
            Message::Number(p, n, s) => write!(out, "{p}{n}{s}"),
            Message::Os(p, errno) => {
                let text = os_error_text(errno);
                write!(out, "{p}{text} (errno {errno})")
            }
            Message::Recorded => write!(out, "{}", last_error()),
        };
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.render(&mut s);
        write!(
            f,
            "{}: {s}",
            self.status.name_with_nul().trim_end_matches('\0')
        )
    }
}

impl std::error::Error for Error {}

/// Keeps the calling thread's errno: made before calls that may set it, it puts the value back
/// when dropped. Interpreters read errno after their own system calls with rthread calls in
/// between (MicroPython's unix port takes its GIL, an rthread Lock, between `select()` and its
/// errno check): a futex wait that timed out (ETIMEDOUT), found its word changed (EAGAIN) or
/// was interrupted by a signal (EINTR) must not show through.
pub struct KeepErrno(std::ffi::c_int);

impl KeepErrno {
    #[inline]
    #[must_use = "errno is put back when the guard drops"]
    pub fn new() -> KeepErrno {
        // SAFETY: the calling thread's errno, always valid.
        KeepErrno(unsafe { *errno_place() })
    }
}

impl Default for KeepErrno {
    fn default() -> KeepErrno {
        KeepErrno::new()
    }
}

impl Drop for KeepErrno {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe { *errno_place() = self.0 };
    }
}

/// Where the calling thread's errno lives. Async-signal-safe.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub fn errno_place() -> *mut std::ffi::c_int {
    // SAFETY: returns the calling thread's errno; cannot fail.
    unsafe { libc::__errno_location() }
}

/// Where the calling thread's errno lives. Async-signal-safe.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
pub fn errno_place() -> *mut std::ffi::c_int {
    // SAFETY: returns the calling thread's errno; cannot fail.
    unsafe { libc::__error() }
}

/// The OS's text for an errno value, without allocating (`strerror_r`, the XSI variant that
/// the libc crate binds on every Unix).
fn os_error_text(errno: i32) -> OsText {
    let mut t = OsText { buf: [0; 128] };
    let _errno = KeepErrno::new();
    // SAFETY: the buffer is writable for its whole length; strerror_r NUL-terminates within it.
    let rc = unsafe { libc::strerror_r(errno, t.buf.as_mut_ptr().cast(), t.buf.len()) };
    if rc != 0 {
        t.buf[0] = 0;
    }
    t
}

struct OsText {
    buf: [u8; 128],
}

impl std::fmt::Display for OsText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let end = self
            .buf
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.buf.len());
        f.write_str(std::str::from_utf8(&self.buf[..end]).unwrap_or("unknown error"))
    }
}

/// Appends to the text in `buf[..*len]` as much of `s` as fits in `buf`, cut at a character
/// boundary so that the text stays UTF-8: the one way rthread's fixed text buffers fill.
pub fn append_cut(buf: &mut [u8], len: &mut usize, s: &str) {
    let room = buf.len() - *len;
    let mut take = s.len().min(room);
    while !s.is_char_boundary(take) {
        take -= 1;
    }
    buf[*len..*len + take].copy_from_slice(&s.as_bytes()[..take]);
    *len += take;
}

/// Capacity of the per-thread message buffer, terminating NUL included.
const MESSAGE_CAPACITY: usize = 256;

struct MessageBuf {
    bytes: [u8; MESSAGE_CAPACITY],
    len: usize,
}

impl Write for MessageBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        // Keep room for the NUL.
        append_cut(&mut self.bytes[..MESSAGE_CAPACITY - 1], &mut self.len, s);
        Ok(())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<MessageBuf> = const {
        RefCell::new(MessageBuf { bytes: [0; MESSAGE_CAPACITY], len: 0 })
    };
}

/// Records `err` as the calling thread's last error and returns its status.
pub fn record(err: &Error) -> rt_status {
    if err.message == Message::Recorded {
        return err.status;
    }
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut buf) = cell.try_borrow_mut() {
            buf.len = 0;
            err.render(&mut *buf);
            let end = buf.len;
            buf.bytes[end] = 0;
        }
    });
    err.status
}

/// The calling thread's last message as a NUL-terminated C string, valid until the thread's
/// next failing call (the buffer lives as long as the thread).
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| cell.as_ptr() as *const MessageBuf as *const c_char)
        .unwrap_or(c"".as_ptr())
}

/// The calling thread's last message, copied (for Rust callers and tests).
pub fn last_error() -> String {
    LAST_ERROR
        .try_with(|cell| {
            let buf = cell.borrow();
            String::from_utf8_lossy(&buf.bytes[..buf.len]).into_owned()
        })
        .unwrap_or_default()
}

/// Records `text` as the calling thread's last message and returns `status`: for messages
/// made at run time (a future's failure, a count in a message).
pub fn record_text(status: rt_status, text: &str) -> rt_status {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut buf) = cell.try_borrow_mut() {
            buf.len = 0;
            let _ = buf.write_str(text);
            let end = buf.len;
            buf.bytes[end] = 0;
        }
    });
    status
}

/// Converts a core result into a status, recording the message of a failure.
#[inline]
pub fn to_status(r: Result<(), Error>) -> rt_status {
    match r {
        Ok(()) => rt_status::RT_OK,
        Err(e) => record(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_integers() {
        for (i, s) in rt_status::all().iter().enumerate() {
            assert_eq!(*s as i64, i as i64);
            assert_eq!(rt_status::from_int(i as i64), Some(*s));
        }
        assert_eq!(rt_status::from_int(-1), None);
        assert_eq!(rt_status::from_int(rt_status::all().len() as i64), None);
    }

    #[test]
    fn record_keeps_the_message_per_thread() {
        record(&Error::new(
            rt_status::RT_ENOTLOCKED,
            "release unlocked lock",
        ));
        assert_eq!(last_error(), "release unlocked lock");
        std::thread::spawn(|| assert_eq!(last_error(), ""))
            .join()
            .unwrap();
        record(&Error {
            status: rt_status::RT_EINVAL,
            message: Message::Number("size not valid: ", 4096, " bytes"),
        });
        assert_eq!(last_error(), "size not valid: 4096 bytes");
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let long: &'static str = Box::leak("é".repeat(400).into_boxed_str());
        record(&Error::new(rt_status::RT_EINVAL, long));
        let got = last_error();
        assert!(got.len() < MESSAGE_CAPACITY);
        assert!(got.chars().all(|c| c == 'é'));
    }

    #[test]
    fn os_errors_carry_the_os_text() {
        record(&Error {
            status: rt_status::RT_EAGAIN,
            message: Message::Os("can't start new thread: ", libc::EAGAIN),
        });
        let got = last_error();
        assert!(got.starts_with("can't start new thread: "), "{got}");
        assert!(got.ends_with(&format!("(errno {})", libc::EAGAIN)), "{got}");
    }
}
