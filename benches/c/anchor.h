/* One implementation of the primitives the comparison rows of bench.c measure: rthread,
 * pthreads, and the optional anchors (nsync, Abseil, GLib), each in a translation unit of its
 * own that bench.c links only when the library is installed (see examples/c_bench.rs).
 *
 * Every member may be NULL: the implementation then has no such primitive and sits out the
 * rows that need it. All are called through these pointers by every implementation alike, so
 * the indirect call costs each the same. */

#ifndef RTHREAD_BENCH_ANCHOR_H
#define RTHREAD_BENCH_ANCHOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Queue kinds of the queue rows. */
enum bench_queue_kind { BQ_FIFO, BQ_UNBOUNDED, BQ_LIFO, BQ_PRIORITY };

struct bench_impl {
    const char *name; /* short, stable: the impl column of the machine-readable output */
    const char *what; /* the primitives, for the human table */

    /* A mutual-exclusion lock. */
    void *(*lock_new)(void);
    void (*lock_acquire)(void *lock);
    void (*lock_release)(void *lock);
    void (*lock_free)(void *lock);
    /* n uncontended acquire+release pairs of one lock, called directly; returns nanoseconds. */
    double (*lock_pair)(long n);

    /* A monitor: one lock and `ncv` (1 or 2) condition variables over it. */
    void *(*mon_new)(int ncv);
    void (*mon_lock)(void *mon);
    void (*mon_unlock)(void *mon);
    void (*mon_wait)(void *mon, int cv);
    void (*mon_signal)(void *mon, int cv);
    void (*mon_broadcast)(void *mon, int cv);
    void (*mon_free)(void *mon);

    /* A queue of non-NULL pointers of its own (NULL: the implementation's queue rows use
     * bench.c's ring over its monitor). Returns NULL for a kind it does not have. */
    void *(*queue_new)(enum bench_queue_kind kind, size_t cap);
    void (*queue_put)(void *q, void *item);
    void *(*queue_get)(void *q);
    void (*queue_free)(void *q);

    /* n empty tasks through a pool of 2 workers, every completion counted; nanoseconds. */
    double (*pool_tasks)(long n);
};

/* Nanoseconds on the monotonic clock (bench.c). */
double bench_now_ns(void);

/* The anchors, each defined only when its library was found. */
const struct bench_impl *bench_nsync(void);
const struct bench_impl *bench_absl(void);
const struct bench_impl *bench_glib(void);
/* GAsyncQueue as an implementation of its own (queue rows only). */
const struct bench_impl *bench_glib_async_queue(void);

#ifdef __cplusplus
}
#endif

#endif
