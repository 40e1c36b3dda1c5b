//! The `queue` module: Queue, LifoQueue, PriorityQueue, SimpleQueue.

use super::boundary::{self, Handle, Out, Place};
use super::{Handled, Kind, Obj, free};
use crate::queue::{Drained, Queue};
use crate::status::{Error, record, rt_status, to_status};
use crate::thread::CallbackGuard;
use crate::time::FOREVER;
use std::ffi::{c_int, c_void};

/// A thread-safe queue of `void *` items: Python's `queue.Queue`, `queue.LifoQueue`,
/// `queue.PriorityQueue` or `queue.SimpleQueue`, one handle type for the four kinds. Made by
/// `rt_queue_new`, `rt_lifo_queue_new`, `rt_priority_queue_new` or `rt_simple_queue_new`;
/// destroyed by `rt_queue_free`.
///
/// Items are `void *` that the queue stores and hands back unchanged (NULL is a valid item); it
/// never dereferences them. An item belongs to the queue from a successful `rt_queue_put` until
/// a successful `rt_queue_get` hands it out. Items that never come out (left in a freed queue,
/// or removed by an immediate shutdown) go to the item destructor given at creation, if any, so
/// that nothing is lost silently.
///
/// Cost: a bounded FIFO is a lock-free ring: a put or a get is one compare-exchange on the
/// queue's tail or head, plus a store to the slot, so a producer and a consumer running side by
/// side work on different cache lines. A bounded LIFO is an array, and a bounded priority queue
/// a heap, reserved at creation: their puts and gets take a short internal lock. Nothing
/// allocates after creation (except an unbounded queue that grows), and no put or get makes a
/// system call unless a thread blocked in the queue must be woken. Memory: 896 bytes (on
/// x86-64), plus 16 bytes per slot of a bounded FIFO and 8 bytes per slot of a bounded LIFO
/// (16 of a priority queue). Nothing here is async-signal-safe.
pub struct rt_queue {
    _private: [u8; 0],
}

/// Receives an item that the queue removes without handing it to a `rt_queue_get` (on
/// `rt_queue_free` and `rt_queue_shutdown(q, 1)`). It runs outside the queue's internal lock
/// and may call rthread, but must not call `rt_exit_thread` (which refuses there).
pub type rt_queue_item_destructor = Option<unsafe extern "C" fn(item: *mut c_void)>;

/// Orders a priority queue's items, as `strcmp` does: negative if `a` leaves before `b`, zero if
/// they are equal (they then leave in the order they were put), positive otherwise. It runs
/// under the queue's internal lock: it must not call any function on that queue (which would
/// deadlock), must not block, and must not call `rt_exit_thread` or `fork()` (whose handler
/// takes every queue's internal lock).
pub type rt_queue_item_compare =
    Option<unsafe extern "C" fn(a: *const c_void, b: *const c_void) -> c_int>;

/// An item as the core stores it: the C pointer, which the queue never dereferences.
#[derive(Clone, Copy)]
pub struct Item(*mut c_void);

// SAFETY: the queue only stores and returns the pointer; whoever puts it hands it to whoever
// gets it, which is the purpose of a queue.
unsafe impl Send for Item {}

/// The object behind an `rt_queue` handle: the core queue and the item destructor.
pub struct CQueue {
    queue: Queue<Item>,
    destructor: rt_queue_item_destructor,
}

impl Handled for CQueue {
    const KIND: Kind = Kind::Queue;

    fn fork_safe(&self) -> Option<&(dyn crate::wait::fork::ForkSafe + 'static)> {
        Some(&self.queue)
    }
}

impl CQueue {
    /// Hands each item to the destructor (outside any lock).
    fn dispose(&self, items: Drained<Item>) {
        if let Some(d) = self.destructor {
            let _callback = CallbackGuard::new();
            for item in items {
                // SAFETY: the destructor was given for exactly these items, each of which the
                // queue now gives up.
                unsafe { d(item.0) };
            }
        }
    }
}

impl Drop for CQueue {
    fn drop(&mut self) {
        let items = self.queue.drain();
        self.dispose(items);
    }
}

type QueueObj = Obj<CQueue>;

const NULL_COMPARE: Error = Error::new(rt_status::RT_EINVAL, "the comparator must not be NULL");

/// `RT_FOREVER` is Python's `None`; any other value is a number of seconds.
fn py_timeout(timeout: f64) -> Option<f64> {
    if timeout == FOREVER {
        None
    } else {
        Some(timeout)
    }
}

fn create(
    queue: Result<Queue<Item>, Error>,
    destructor: rt_queue_item_destructor,
    out: Out<rt_queue>,
) -> Result<(), Error> {
    out.put(|| {
        Ok(CQueue {
            queue: queue?,
            destructor,
        })
    })
}

/// The callback guard of a call that may run a priority queue's comparator.
fn comparing(core: &Queue<Item>) -> Option<CallbackGuard> {
    (core.kind() == crate::queue::QueueKind::Priority).then(CallbackGuard::new)
}

/// Creates a FIFO queue (`queue.Queue(maxsize)`): items leave in the order they were put.
///
/// `maxsize` 0 means unbounded; otherwise `rt_queue_put` blocks (or fails with `RT_EFULL`)
/// while `maxsize` items are in the queue. Room for `maxsize` items is reserved now, so a
/// bounded queue never allocates afterwards. `item_destructor` (may be NULL) receives the items
/// the queue discards: see `rt_queue_item_destructor`.
///
/// On `RT_OK`, `*out` receives the new queue, which the caller owns and frees with
/// `rt_queue_free`. Errors: `RT_EINVAL` if `out` is NULL ("NULL output pointer"); `RT_ENOMEM`
/// if the room for `maxsize` items cannot be allocated ("out of memory"). On error `*out` is
/// not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_new(
    maxsize: usize,
    item_destructor: rt_queue_item_destructor,
    out: *mut *mut rt_queue,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    to_status(create(Queue::fifo(maxsize), item_destructor, unsafe {
        Out::new(out)
    }))
}

/// Creates a LIFO queue (`queue.LifoQueue(maxsize)`): a stack, the last item put leaves
/// first. Otherwise exactly as `rt_queue_new` (same arguments, errors and ownership).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_lifo_queue_new(
    maxsize: usize,
    item_destructor: rt_queue_item_destructor,
    out: *mut *mut rt_queue,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    to_status(create(Queue::lifo(maxsize), item_destructor, unsafe {
        Out::new(out)
    }))
}

/// Creates a priority queue (`queue.PriorityQueue(maxsize)`): the smallest item by `cmp`
/// leaves first, and items that compare equal leave in the order they were put (Python does
/// not promise that; rthread does).
///
/// `cmp` runs under the queue's internal lock, the one exception to "no callback under an
/// internal lock": it must not call any function on this queue, block, or call
/// `rt_exit_thread` (see `rt_queue_item_compare`). Otherwise as `rt_queue_new` (`maxsize`,
/// `item_destructor`, ownership, errors); in addition `RT_EINVAL` if `cmp` is NULL ("the
/// comparator must not be NULL").
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_priority_queue_new(
    maxsize: usize,
    cmp: rt_queue_item_compare,
    item_destructor: rt_queue_item_destructor,
    out: *mut *mut rt_queue,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract, and the comparator was given
    // for the items put into this queue.
    let (out, order) = unsafe {
        (
            Out::new(out),
            cmp.map(|f| move |a: &Item, b: &Item| f(a.0, b.0).cmp(&0)),
        )
    };
    boundary::run(|| {
        if out.is_null() {
            return Err(Error::NULL_OUT);
        }
        let order = order.ok_or(NULL_COMPARE)?;
        create(Queue::priority_by(maxsize, order), item_destructor, out)
    })
}

/// Creates a simple queue (`queue.SimpleQueue()`): an unbounded FIFO without task tracking or
/// shutdown. `rt_queue_put` and `rt_queue_get` behave as on an unbounded `rt_queue_new` queue;
/// `rt_queue_task_done`, `rt_queue_join`, `rt_queue_join_timeout` and `rt_queue_shutdown`
/// fail with `RT_EINVAL` and CPython's `AttributeError` text ("'_queue.SimpleQueue' object has
/// no attribute 'task_done'", `'join'`, `'shutdown'`); `rt_queue_unfinished_tasks` is 0,
/// `rt_queue_maxsize` 0, `rt_queue_full` and `rt_queue_is_shutdown` false.
///
/// Ownership and errors as `rt_queue_new` (`RT_EINVAL` for a NULL `out`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_simple_queue_new(
    item_destructor: rt_queue_item_destructor,
    out: *mut *mut rt_queue,
) -> rt_status {
    // SAFETY: `out` is NULL or writable, by the API contract.
    to_status(create(Ok(Queue::simple()), item_destructor, unsafe {
        Out::new(out)
    }))
}

/// Destroys a queue. The items still in it go to the item destructor, if one was given (in the
/// order `rt_queue_get` would have returned them; a priority queue's in no particular order),
/// after the queue is gone from every lock: the destructor must not use the queue. NULL is
/// fine (nothing happens).
///
/// Errors: `RT_EBUSY` while threads are blocked in `rt_queue_put`, `rt_queue_get` or
/// `rt_queue_join` on it ("object is in use by waiting threads"): the queue is not freed (wake
/// them first, e.g. with `rt_queue_shutdown`); `RT_EINVAL` for a handle of another kind.
/// As with any C object, no other thread may be inside (or enter) a call on the queue while it
/// is freed, and freeing twice is undefined.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_free(queue: *mut rt_queue) -> rt_status {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { free::<CQueue, rt_queue>(queue) }
}

/// Puts `item` in the queue (`q.put(item, block, timeout)`); NULL is a valid item.
///
/// On a bounded queue that is full:
/// - `wait` non-zero, `timeout` `RT_FOREVER`: blocks until there is room;
/// - `wait` non-zero, `timeout` >= 0: blocks at most `timeout` seconds (0: does not block),
///   measured on the monotonic clock, then gives up with `RT_EFULL`;
/// - `wait` zero: `RT_EFULL` at once; the timeout is ignored.
///
/// An unbounded queue (maxsize 0, or a simple queue) ignores `wait` and `timeout` entirely.
/// On `RT_OK` the item belongs to the queue, one more task is unfinished (not on a simple
/// queue), and one thread blocked in `rt_queue_get`, if any, wakes.
///
/// Errors, in CPython's order: `RT_EINVAL` for a NULL or wrong-kind handle; `RT_ESHUTDOWN`
/// once the queue is shut down, for every put ("queue is shut down"); then, on a bounded queue
/// with `wait` non-zero only, the timeout: `RT_EINVAL` for NaN ("Invalid value NaN (not a
/// number)") or a negative value other than `RT_FOREVER` ("'timeout' must be a non-negative
/// number"), even when there is room; `RT_EOVERFLOW` above `RT_TIMEOUT_MAX` ("timestamp out of
/// range for platform time_t"). While blocked: `RT_EFULL` when time runs out ("queue is
/// full"), `RT_ESHUTDOWN` when the queue is shut down, `RT_EINTR` when `rt_thread_interrupt`
/// ends the wait. `RT_ENOMEM` ("out of memory") when an unbounded queue must grow and cannot
/// (a bounded queue has its room from `_new`): the queue is unchanged. On any error the item
/// still belongs to the caller.
///
/// On a priority queue the comparator runs inside this call, under the queue's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_put(
    queue: *mut rt_queue,
    item: *mut c_void,
    wait: c_int,
    timeout: f64,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live queue handle.
    let q = match unsafe { Handle::new(queue) }.get::<CQueue>() {
        Ok(q) => q,
        Err(e) => return record(&e),
    };
    let core = &q.inner.queue;
    let _callback = comparing(core);
    let mut item = Item(item);
    if wait != 0 && timeout == FOREVER && core.maxsize() > 0 {
        // Fast path: a put that finds room does not mark the queue busy (an atomic increment
        // and decrement of the shared header, about a third of an uncontended put). With
        // RT_FOREVER, a non-blocking try makes the same checks in the same order as the
        // blocking put until the queue turns out full; only then is the caller about to block.
        match core.put(item, false, None) {
            Ok(()) => return rt_status::RT_OK,
            Err(e) if e.error.status == rt_status::RT_EFULL => item = e.item,
            Err(e) => return record(&e.error),
        }
    }
    boundary::run(|| {
        let _busy = (wait != 0 && core.maxsize() > 0).then(|| q.busy());
        let _waiting = _busy
            .is_some()
            .then(|| super::waiting(q, crate::debug::Kind::Queue, "rt_queue_put", timeout));
        core.put(item, wait != 0, py_timeout(timeout))
            .map_err(|e| e.error)
    })
}

/// Takes the next item out of the queue (`q.get(block, timeout)`) and, on `RT_OK`, writes it to
/// `*item` (which may be NULL, a valid item). Which item is next depends on the kind: the
/// oldest (FIFO, simple), the newest (LIFO), the smallest (priority).
///
/// On an empty queue:
/// - `wait` non-zero, `timeout` `RT_FOREVER`: blocks until an item arrives;
/// - `wait` non-zero, `timeout` >= 0: blocks at most `timeout` seconds (0: does not block),
///   measured on the monotonic clock, then gives up with `RT_EEMPTY`;
/// - `wait` zero: `RT_EEMPTY` at once; the timeout is ignored.
///
/// On `RT_OK` the item belongs to the caller (call `rt_queue_task_done` when it is processed,
/// if anyone joins the queue) and one thread blocked in `rt_queue_put`, if any, wakes.
///
/// Errors, in CPython's order: `RT_EINVAL` for a NULL or wrong-kind handle, or a NULL `item`
/// ("NULL output pointer"); `RT_ESHUTDOWN` if the queue is shut down and empty ("queue is shut
/// down": after a shutdown without `immediate` the items left still come out first); with
/// `wait` zero, `RT_EEMPTY` if empty ("queue is empty"); with `wait` non-zero, the timeout:
/// `RT_EINVAL` for NaN ("Invalid value NaN (not a number)") or a negative value other than
/// `RT_FOREVER` ("'timeout' must be a non-negative number"), even when items are there;
/// `RT_EOVERFLOW` above `RT_TIMEOUT_MAX` ("timestamp out of range for platform time_t"). While
/// blocked: `RT_EEMPTY` when time runs out, `RT_ESHUTDOWN` when the queue is shut down and still
/// empty, `RT_EINTR` when `rt_thread_interrupt` ends the wait. On error `*item` is not written.
///
/// On a priority queue the comparator runs inside this call, under the queue's lock.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_get(
    queue: *mut rt_queue,
    wait: c_int,
    timeout: f64,
    item: *mut *mut c_void,
) -> rt_status {
    // SAFETY: the caller passes NULL or a live queue handle, and `item` NULL or writable.
    let (queue, item) = unsafe { (Handle::new(queue), Place::new(item)) };
    let q = match queue.get::<CQueue>() {
        Ok(q) => q,
        Err(e) => return record(&e),
    };
    if item.is_null() {
        return record(&Error::NULL_OUT);
    }
    let core = &q.inner.queue;
    let _callback = comparing(core);
    if wait != 0 && timeout == FOREVER {
        // Fast path, as in rt_queue_put: a get that finds an item (or a shut-down, empty queue)
        // decides exactly as the blocking get would, without marking the queue busy.
        match core.get(false, None) {
            Ok(got) => {
                item.write_if_wanted(got.0);
                return rt_status::RT_OK;
            }
            Err(e) if e.status == rt_status::RT_EEMPTY => {}
            Err(e) => return record(&e),
        }
    }
    boundary::run(|| {
        let _busy = (wait != 0).then(|| q.busy());
        let _waiting = _busy
            .is_some()
            .then(|| super::waiting(q, crate::debug::Kind::Queue, "rt_queue_get", timeout));
        let got = core.get(wait != 0, py_timeout(timeout))?;
        item.write_if_wanted(got.0);
        Ok(())
    })
}

/// The number of items in the queue (`q.qsize()`): a snapshot, which other threads may change
/// at once. 0 for a NULL or wrong-kind handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_qsize(queue: *const rt_queue) -> usize {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.query(0, |q: &QueueObj| q.inner.queue.qsize())
}

/// Whether the queue has no items (`q.empty()`): a snapshot. True for a NULL or wrong-kind
/// handle (and `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_empty(queue: *const rt_queue) -> bool {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.query(true, |q: &QueueObj| q.inner.queue.empty())
}

/// Whether the queue is bounded and holds `maxsize` items (`q.full()`): a snapshot. Always
/// false for an unbounded or simple queue. False for a NULL or wrong-kind handle (and
/// `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_full(queue: *const rt_queue) -> bool {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.query(false, |q: &QueueObj| q.inner.queue.full())
}

/// The bound given at creation (`q.maxsize`); 0 for an unbounded or simple queue. It cannot be
/// changed (Python's attribute is writable). 0 for a NULL or wrong-kind handle (and
/// `rt_last_error` says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_maxsize(queue: *const rt_queue) -> usize {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.query(0, |q: &QueueObj| q.inner.queue.maxsize())
}

/// Marks one task done (`q.task_done()`): each successful put adds a task, and a consumer calls
/// this once per item it has finished processing. When no task is left, every thread blocked in
/// `rt_queue_join` wakes.
///
/// Errors: `RT_EOVERRELEASE` when no task is unfinished ("task_done() called too many times";
/// nothing changes); `RT_EINVAL` on a simple queue ("'_queue.SimpleQueue' object has no
/// attribute 'task_done'") and for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_task_done(queue: *mut rt_queue) -> rt_status {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.on(|q: &QueueObj| q.inner.queue.task_done())
}

/// The number of tasks put and not yet marked done (`q.unfinished_tasks`): a snapshot. 0 for a
/// simple queue, and for a NULL or wrong-kind handle (and `rt_last_error` then says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_unfinished_tasks(queue: *const rt_queue) -> usize {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.query(0, |q: &QueueObj| q.inner.queue.unfinished_tasks())
}

/// Blocks until every task is done (`q.join()`): until `rt_queue_task_done` has been called once
/// for every item ever put (items removed by an immediate shutdown count as done). Returns at
/// once if no task is unfinished. Any number of threads may join at the same time. A shutdown
/// does not end it: after an immediate shutdown it still waits for the items already taken out
/// with `rt_queue_get` to be marked done.
///
/// Returns `RT_OK`, or `RT_EINTR` when `rt_thread_interrupt` ends the wait. Errors: `RT_EINVAL`
/// on a simple queue ("'_queue.SimpleQueue' object has no attribute 'join'") and for a NULL or
/// wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_join(queue: *mut rt_queue) -> rt_status {
    // SAFETY: forwarded contract: NULL or a live queue handle.
    unsafe { rt_queue_join_timeout(queue, FOREVER) }
}

/// `rt_queue_join` with a bound (Python's `join` has none): blocks at most `timeout` seconds
/// (`RT_FOREVER`: without bound, as `rt_queue_join`; 0: only checks), measured on the monotonic
/// clock, and returns `RT_TIMEOUT` if tasks are still unfinished then ("timed out").
///
/// Errors: those of `rt_queue_join` (a bad handle, a simple queue); then, before any waiting,
/// the timeout's: `RT_EINVAL` for NaN ("Invalid value NaN (not a number)") or a negative value
/// other than `RT_FOREVER` ("'timeout' must be a non-negative number"); `RT_EOVERFLOW` above
/// `RT_TIMEOUT_MAX` ("timestamp out of range for platform time_t").
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_join_timeout(queue: *mut rt_queue, timeout: f64) -> rt_status {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.on(|q: &QueueObj| {
        let _busy = q.busy();
        let _waiting = super::waiting(q, crate::debug::Kind::Queue, "rt_queue_join", timeout);
        q.inner.queue.join(py_timeout(timeout))
    })
}

/// Shuts the queue down (`q.shutdown(immediate)`, Python 3.13). From now on every
/// `rt_queue_put` fails with `RT_ESHUTDOWN`; `rt_queue_get` still returns the items left and
/// then fails with `RT_ESHUTDOWN`. Every thread blocked in `rt_queue_put`, and every thread
/// blocked in `rt_queue_get` that finds no item, wakes with `RT_ESHUTDOWN`.
///
/// With `immediate` non-zero, the items left are removed at once and handed to the item
/// destructor (if any) by the calling thread, after the queue's lock is released (so the
/// destructor may use the queue); each removed item counts as a finished task (the count never
/// goes below zero), so `rt_queue_join` returns unless items already gotten are still being
/// processed. `rt_queue_get` then fails with `RT_ESHUTDOWN` at once.
///
/// Calling it again is fine (an immediate shutdown after a plain one drains the queue); there
/// is no way back. Errors: `RT_EINVAL` on a simple queue ("'_queue.SimpleQueue' object has no
/// attribute 'shutdown'") and for a NULL or wrong-kind handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_shutdown(queue: *mut rt_queue, immediate: c_int) -> rt_status {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.on(|q: &QueueObj| {
        let drained = q.inner.queue.shutdown(immediate != 0)?;
        q.inner.dispose(drained);
        Ok(())
    })
}

/// Whether the queue has been shut down (`q.is_shutdown`). False for a simple queue, and for a
/// NULL or wrong-kind handle (and `rt_last_error` then says so).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rt_queue_is_shutdown(queue: *const rt_queue) -> bool {
    // SAFETY: the caller passes NULL or a live queue handle.
    unsafe { Handle::new(queue) }.query(false, |q: &QueueObj| q.inner.queue.is_shutdown())
}
