//! `threading.RLock`.
