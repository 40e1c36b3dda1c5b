//! `threading.local`: thread-local data.
