//! `threading.Semaphore` and `threading.BoundedSemaphore`.
