//! rthread: Python's threading model — `_thread`, `threading` and `queue` — as a C library.
//!
//! The crate is a safe Rust core with a thin C face. Layers, bottom up: [`wait`] (the waiting
//! core), [`status`] and [`time`]; [`sync`]; [`thread`]; and `ffi`, the `extern "C"` functions
//! that `include/rthread.h` declares. No module uses one above it.

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
