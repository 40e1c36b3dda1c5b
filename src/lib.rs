//! rthread: Python's threading model — `_thread`, `threading` and `queue` — as a C library.
//!
//! The crate is a safe Rust core with a thin C face, in layers. Bottom up:
//!
//! 1. [`status`] (status codes and messages), then [`memory`] (allocation that reports failure);
//! 2. [`time`]: timeouts and deadlines;
//! 3. [`wait`]: the waiting core (the wait table, `park`/`unpark`, the internal lock, interrupts,
//!    blocking hooks, fork);
//! 4. [`debug`]: debug modes, object names, blocked-on and holder records, deadlock detection,
//!    the report sink, what rthread tells race detectors;
//! 5. [`sync`]: Lock, RLock, Condition, Semaphore, Event, Barrier;
//! 6. [`queue`] and [`thread`], side by side (neither uses the other);
//! 7. [`futures`]: executors and futures, on threads and queues;
//! 8. `ffi`: the `extern "C"` functions that `include/rthread.h` declares.
//!
//! A module uses only modules of lower layers (or its own), and no two files use each other:
//! tests/layers.rs checks both. ARCHITECTURE.md is the map.

pub mod debug;
#[cfg(not(loom))]
pub mod futures;
pub mod memory;
pub mod queue;
pub mod status;
pub mod sync;
pub mod thread;
pub mod time;
pub mod wait;

pub mod ffi;

pub use status::{Error, rt_status};
