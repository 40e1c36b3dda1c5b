//! Seeing inside a threaded program.
//!
//! - [`annotate`]: telling race detectors (ThreadSanitizer, helgrind, DRD) about rthread's
//!   hand-offs.

pub mod annotate;
