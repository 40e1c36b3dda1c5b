/*
 * MicroPython's thread layer for the unix port, on rthread: the port-specific half of
 * py/mpthread.h. Part of rthread (MIT OR Apache-2.0), written against MicroPython's (MIT)
 * interface; build.sh puts it in place of ports/unix/mpthreadport.h.
 *
 * MicroPython embeds its mutexes in its own structures (a `_thread` lock object holds one, the
 * VM state holds the GIL and the qstr mutex, the GC state its recursive mutex); rthread's
 * locks are opaque handles, so each mutex here is a pointer to one.
 */
#ifndef MICROPY_INCLUDED_UNIX_MPTHREADPORT_RTHREAD_H
#define MICROPY_INCLUDED_UNIX_MPTHREADPORT_RTHREAD_H

#include <stdbool.h>

#include "rthread.h"

/* MicroPython's mutex: an rthread Lock (any thread may release it, as `_thread` needs). */
typedef struct {
    rt_lock *lock;
} mp_thread_mutex_t;

/* MicroPython's recursive mutex (the GC's, and this layer's own): an rthread RLock. */
typedef struct {
    rt_rlock *rlock;
} mp_thread_recursive_mutex_t;

/* Called by the unix port's main(): set up the layer in the main thread, and end it. */
void mp_thread_init(void);
void mp_thread_deinit(void);

/* Called by the garbage collector: scan the roots of every other interpreter thread. */
void mp_thread_gc_others(void);

/* The unix port's "disable interrupts": a process-wide recursive lock. */
void mp_thread_unix_begin_atomic_section(void);
void mp_thread_unix_end_atomic_section(void);

/*
 * Called from the unix port's SIGINT handler, after it scheduled KeyboardInterrupt: ends the
 * main thread's current (or next) rthread wait with RT_EINTR, so that a main thread blocked
 * in `lock.acquire()` wakes and raises KeyboardInterrupt. Async-signal-safe.
 */
void mp_thread_rthread_sigint(void);

#endif /* MICROPY_INCLUDED_UNIX_MPTHREADPORT_RTHREAD_H */
