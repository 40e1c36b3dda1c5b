//! `threading.Barrier`.
