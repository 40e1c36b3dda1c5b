//! `threading.Thread` objects, the registry, shutdown, Timer and the thread hooks.
