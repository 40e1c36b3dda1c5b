//! `threading.Event`.
