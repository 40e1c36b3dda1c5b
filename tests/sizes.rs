//! Every object stays within the heap size its header comment documents (`rt_<noun>_new` asks
//! the allocator for exactly `size_of` the object behind the handle). The figures are for
//! 64-bit targets; a change that grows an object must update its documentation and this test.

#![cfg(target_pointer_width = "64")]

use rthread::ffi::Obj;
use rthread::ffi::condition::CondLock;
use rthread::ffi::queue::CQueue;
use rthread::sync::{Barrier, Condition, Event, Lock, RLock, Semaphore};
use rthread::thread::{Local, Thread};
use std::mem::size_of;

#[track_caller]
fn within(name: &str, size: usize, documented: usize) {
    assert!(
        size <= documented,
        "{name}: {size} bytes, documented as {documented}: update its doc comment, \
         BENCHMARKS.md and this test"
    );
}

#[test]
fn a_lock_costs_at_most_16_bytes_of_heap() {
    within("rt_lock", size_of::<Obj<Lock>>(), 12);
    assert!(size_of::<Obj<Lock>>() <= 16);
}

#[test]
fn every_object_is_within_its_documented_size() {
    within("rt_rlock", size_of::<Obj<RLock>>(), 32);
    within("rt_semaphore", size_of::<Obj<Semaphore>>(), 32);
    within("rt_event", size_of::<Obj<Event>>(), 16);
    within("rt_barrier", size_of::<Obj<Barrier>>(), 56);
    within("rt_condition", size_of::<Obj<Condition<CondLock>>>(), 48);
    within("rt_local", size_of::<Obj<Local>>(), 32);
    // Plus 16 bytes per slot of a bounded FIFO: checked in src/queue/ring.rs.
    within("rt_queue", size_of::<Obj<CQueue>>(), 896);
    // A thread handle is rthread's fallible Arc: the object, then one counter.
    within("rt_thread", size_of::<Thread>() + size_of::<usize>(), 184);
}
