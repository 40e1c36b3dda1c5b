//! `threading.Condition`.
