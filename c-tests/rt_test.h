/*
 * The C suite's harness: named cases, checks that report file, line and rthread's message,
 * and a few helpers for timing and waiting on conditions.
 *
 * A test file defines its cases and lists them:
 *
 *     static void lock_acquire_release(void) { ... CHECK_OK(rt_lock_new(&l)); ... }
 *     RT_CASES(RT_CASE(lock_acquire_release), ...)
 *
 * rt_test.c provides main(): `prog --list` prints the case names, `prog NAME` runs one case in
 * this process (exit 0: passed), `prog` runs them all.
 */
#ifndef RT_TEST_H
#define RT_TEST_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <math.h>

#include "rthread.h"

/* C++ test programs (cpp-tests/) use this header too, and link rt_test.c compiled as C. */
#ifdef __cplusplus
extern "C" {
#endif

struct rt_case {
    const char *name;
    void (*fn)(void);
};

extern const struct rt_case rt_cases[];
extern const size_t rt_ncases;

#define RT_CASE(f) { #f, f }
#define RT_CASES(...)                                                                    \
    const struct rt_case rt_cases[] = { __VA_ARGS__ };                                  \
    const size_t rt_ncases = sizeof rt_cases / sizeof rt_cases[0];

void rt_test_fail(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) rt_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                               \
    do {                                                                                 \
        long long va_ = (long long)(a), vb_ = (long long)(b);                            \
        if (va_ != vb_)                                                                  \
            rt_test_fail(__FILE__, __LINE__, "%s == %s failed: %lld != %lld", #a, #b,    \
                         va_, vb_);                                                      \
    } while (0)

#define CHECK_STATUS(call, expected)                                                     \
    do {                                                                                 \
        rt_status got_ = (call);                                                         \
        if (got_ != (expected))                                                          \
            rt_test_fail(__FILE__, __LINE__, "%s returned %s, expected %s (last error: %s)", \
                         #call, rt_status_str(got_), rt_status_str(expected),            \
                         rt_last_error());                                               \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, RT_OK)

/* The call returns `expected` and rt_last_error() is exactly `message`. */
#define CHECK_ERR(call, expected, message)                                               \
    do {                                                                                 \
        CHECK_STATUS(call, expected);                                                    \
        if (strcmp(rt_last_error(), (message)) != 0)                                     \
            rt_test_fail(__FILE__, __LINE__, "%s: message \"%s\", expected \"%s\"",       \
                         #call, rt_last_error(), (message));                             \
    } while (0)

/* How much of its full size a heavy case runs: RTHREAD_TEST_SCALE (a fraction, default 1) times
 * `n`, at least `min`. The valgrind run of the suite scales heavy cases down. */
long rt_test_scaled(long n, long min);

/* Seconds on the monotonic clock. */
double rt_test_now(void);
void rt_test_sleep(double secs);

/* Whether the thread with kernel id `tid` (of this process) sleeps in a futex wait: its state
 * is 'S' and, where the kernel says where it sleeps, it is in a futex. Linux /proc. */
int rt_test_sleeps_in_futex(long tid);

#ifdef __cplusplus
}
#endif

/* Waits until `cond` holds, polling every millisecond; fails the case after `secs`. */
#define WAIT_UNTIL(cond, secs)                                                           \
    do {                                                                                 \
        double until_ = rt_test_now() + (secs);                                          \
        while (!(cond)) {                                                                \
            if (rt_test_now() > until_)                                                  \
                rt_test_fail(__FILE__, __LINE__, "WAIT_UNTIL(%s) timed out", #cond);     \
            rt_test_sleep(0.001);                                                        \
        }                                                                                \
    } while (0)

/* Sequentially consistent atomics on plain ints (GCC/Clang builtins; C99 has none). */
#define ATOMIC_LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define ATOMIC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ATOMIC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

/* A timed call took at least `lo` and at most `hi` seconds. */
#define CHECK_ELAPSED(t0, lo, hi)                                                        \
    do {                                                                                 \
        double e_ = rt_test_now() - (t0);                                                \
        if (e_ < (lo) || e_ > (hi))                                                      \
            rt_test_fail(__FILE__, __LINE__, "elapsed %.4fs outside [%g, %g]", e_,       \
                         (double)(lo), (double)(hi));                                    \
    } while (0)

/* A call that must return without waiting. On a loaded machine, or under valgrind, even
 * such a call can be descheduled for a second or more, so the bound only tells "did not
 * wait" from "waited for its timeout": the timeouts these checks pass are 0, or 30 s and
 * more. A call that waits forever is caught by the runner's per-case timeout. */
#define RT_TEST_PROMPT 4.0
#define CHECK_PROMPT(t0) CHECK_ELAPSED(t0, 0.0, RT_TEST_PROMPT)

#endif
