/*
 * Helpers of the stress programs: their size, a random generator, a watchdog that turns a hang
 * into a failure with the program's counters, and thread objects in bulk.
 *
 * Each file of stress/ but stress.c is a C test program (c-tests/rt_test.h: RT_CASES, CHECK,
 * ...) whose cases hammer rthread for a while and then check an account that any lost
 * wake-up, lost item or broken exclusion would unbalance. They check correctness, never speed.
 * Each case prints its figures (threads, operations, duration) on one line of stdout, starting
 * with its name.
 *
 * Size: RTHREAD_STRESS_SECONDS (default 3) is how long each timed phase runs,
 * RTHREAD_STRESS_SCALE (default 1) scales fixed operation counts. tests/stress.rs sets small
 * values for debug builds.
 */
#ifndef STRESS_H
#define STRESS_H

#include "rt_test.h"

/* How long a timed phase runs, in seconds. */
double stress_seconds(void);

/* `n` scaled by RTHREAD_STRESS_SCALE, at least `min`. */
long stress_scaled(long n, long min);

/* A small per-thread random generator (xorshift64*): seed it with anything non-zero. */
uint64_t stress_rand(uint64_t *state);
/* A random integer in [0, n). */
unsigned stress_below(uint64_t *state, unsigned n);
/* Burns about `n` loop iterations (a random pause that does not enter the kernel). */
void stress_spin(unsigned n);
/* Gives the processor away (sched_yield): the body of a loop that waits for another thread. */
void stress_yield(void);

/* Starts the watchdog: if the case is still running `secs` seconds from now (see
 * stress_budget), it prints "HANG", calls `dump` (which prints the case's counters to stderr)
 * and fails the case. `dump` may be NULL. */
void stress_watchdog(double secs, void (*dump)(void));
/* A watchdog limit for a case whose timed phases last `phases` times stress_seconds(): those,
 * plus a generous margin for a loaded machine. */
double stress_budget(double phases);

/* Starts `n` thread objects running fn(args[i]) (args may be NULL: then fn(NULL)). */
void stress_start(rt_thread **threads, int n, rt_thread_fn fn, void **args);
/* Joins and releases `n` thread objects. */
void stress_join(rt_thread **threads, int n);
/* Joins `n` thread objects, or releases them. */
void stress_join_only(rt_thread **threads, int n);
void stress_release(rt_thread **threads, int n);

/* Starts a thread that interrupts one of `targets` (at random) at random moments, a few
 * hundred times a second, until stress_interrupter_stop, which returns how many interrupts it
 * sent. The targets must stay valid (not released) until then. */
void stress_interrupter_start(rt_thread **targets, int n);
long stress_interrupter_stop(void);

#define ATOMIC_SUB(p, v) __atomic_sub_fetch((p), (v), __ATOMIC_SEQ_CST)

#endif
