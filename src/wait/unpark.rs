//! Unparking: taking threads out of a key's queue and waking them.
//!
//! [`unpark`] (and [`unpark_one`], [`unpark_all`], [`unpark_if`]) take threads out under the
//! bucket lock, let the primitive update its word in a callback while the lock is still held,
//! and wake them after dropping it: a primitive that writes its word in the callback never
//! touches it again, so a woken thread may free it at once. [`unpark_requeue`] moves waiters
//! from one key to another without waking them.

use super::record::ThreadRecord;
use super::sys::Ordering;
use super::table::{
    RecordList, UnparkToken, Walk, bucket, lock_two, unlock_two, waited_long_enough,
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnparkResult {
    /// How many threads were taken out of the queue.
    pub unparked_threads: usize,
    /// How many were moved to another key (requeue only).
    pub requeued_threads: usize,
    /// Whether threads remain queued on the key after this call.
    pub have_more_threads: bool,
    /// Whether the (first) unparked thread has waited long enough that the resource should be
    /// handed to it directly (eventual fairness).
    pub be_fair: bool,
}

/// What `unpark_requeue`'s validation decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequeueOp {
    Abort,
    UnparkOneRequeueRest,
    RequeueAll,
}

/// Takes up to `max` of the threads queued on `key` out of the queue, the longest-waiting
/// first; then, still under the bucket lock, calls `callback` with the outcome, and finally
/// wakes them all with the token it returns.
pub fn unpark(
    key: usize,
    max: usize,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> UnparkResult {
    unpark_if(key, max, || true, callback).unwrap_or_default()
}

/// As [`unpark`], but first runs `validate` under the bucket lock: `false` leaves the queue
/// alone and returns `None`. A primitive uses it to decide, atomically with the queue, whether
/// it must wake anyone at all.
pub fn unpark_if(
    key: usize,
    max: usize,
    validate: impl FnOnce() -> bool,
    callback: impl FnOnce(UnparkResult) -> UnparkToken,
) -> Option<UnparkResult> {
    let b = bucket(key);
    b.lock.lock();
    if !validate() {
        b.lock.unlock();
        return None;
    }
    let mut list = RecordList::new();
    let mut result = UnparkResult::default();
    let mut first_parked_at = 0;
    b.walk(|rec| {
        if rec.key.load(Ordering::Relaxed) != key {
            return Walk::Next;
        }
        if result.unparked_threads == max {
            result.have_more_threads = true;
            return Walk::Stop;
        }
        rec.queued.set(false);
        if result.unparked_threads == 0 {
            first_parked_at = rec.parked_at.get();
        }
        result.unparked_threads += 1;
        list.push(rec);
        Walk::Unlink
    });
    if result.unparked_threads != 0 {
        result.be_fair = waited_long_enough(first_parked_at);
    }
    let token = callback(result);
    b.lock.unlock();
    list.wake_all(token);
    Some(result)
}

/// Wakes the first thread queued on `key`. `callback` runs under the bucket lock.
pub fn unpark_one(key: usize, callback: impl FnOnce(UnparkResult) -> UnparkToken) -> UnparkResult {
    unpark(key, 1, callback)
}

/// Wakes every thread queued on `key`; returns how many.
pub fn unpark_all(key: usize, token: UnparkToken) -> usize {
    unpark(key, usize::MAX, |_| token).unparked_threads
}

/// Moves the threads queued on `from` to the end of `to`'s queue, except that with
/// `UnparkOneRequeueRest` the first one is woken instead. `validate` runs under both bucket
/// locks and decides; `callback` runs under them with the outcome and returns the woken
/// thread's token. This is how a condition's `notify_all` avoids a thundering herd: the
/// waiters move to the lock's queue and are woken one by one as it is released.
pub fn unpark_requeue(
    from: usize,
    to: usize,
    validate: impl FnOnce() -> RequeueOp,
    callback: impl FnOnce(RequeueOp, UnparkResult) -> UnparkToken,
) -> UnparkResult {
    let (bf, bt) = lock_two(from, to);
    let op = validate();
    let mut result = UnparkResult::default();
    if op == RequeueOp::Abort {
        unlock_two(bf, bt);
        return result;
    }
    let mut wake = RecordList::new();
    let mut moved = RecordList::new();
    let mut first_parked_at = 0;
    bf.walk(|rec: &ThreadRecord| {
        if rec.key.load(Ordering::Relaxed) != from {
            return Walk::Next;
        }
        if op == RequeueOp::UnparkOneRequeueRest && result.unparked_threads == 0 {
            rec.queued.set(false);
            first_parked_at = rec.parked_at.get();
            result.unparked_threads = 1;
            wake.push(rec);
        } else {
            rec.key.store(to, Ordering::Relaxed);
            result.requeued_threads += 1;
            moved.push(rec);
        }
        Walk::Unlink
    });
    moved.requeue_into(bt);
    result.have_more_threads = result.requeued_threads > 0 || bf.has_key(from);
    if result.unparked_threads != 0 {
        result.be_fair = waited_long_enough(first_parked_at);
    }
    let token = callback(op, result);
    unlock_two(bf, bt);
    wake.wake_all(token);
    result
}
