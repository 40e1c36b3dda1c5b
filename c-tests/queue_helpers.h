/*
 * Helpers shared by the queue test files: integer items, an item destructor that records what
 * it receives, and calls made in another thread (with a way to wait until that thread really
 * sleeps inside the call).
 */
#ifndef QUEUE_HELPERS_H
#define QUEUE_HELPERS_H

#include "rt_test.h"

/* Items are small integers stored in the pointer itself; 0 is the NULL item. */
#define ITEM(n) ((void *)(intptr_t)(n))
#define NUM(p) ((long)(intptr_t)(p))

/* Compares integer items: the smaller leaves first. */
static inline int cmp_int(const void *a, const void *b) {
    intptr_t x = (intptr_t)a, y = (intptr_t)b;
    return (x > y) - (x < y);
}

/* The destructor records every item it receives, in order. */
#define MAX_DESTROYED 4096
static long destroyed[MAX_DESTROYED];
static int ndestroyed;

static inline void record_destroyed(void *item) {
    int i = ATOMIC_ADD(&ndestroyed, 1) - 1;
    if (i < MAX_DESTROYED) destroyed[i] = NUM(item);
}

static inline void reset_destroyed(void) {
    ATOMIC_STORE(&ndestroyed, 0);
}

/* The destructor got exactly `n` items, `want[0..n)`, in that order. */
static inline void check_destroyed(const long *want, int n) {
    int i;
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), n);
    for (i = 0; i < n; i++) CHECK_EQ_INT(destroyed[i], want[i]);
}

static inline int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* As check_destroyed, in any order. */
static inline void check_destroyed_any_order(long *want, int n) {
    int i;
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), n);
    qsort(destroyed, (size_t)n, sizeof destroyed[0], cmp_long);
    qsort(want, (size_t)n, sizeof want[0], cmp_long);
    for (i = 0; i < n; i++) CHECK_EQ_INT(destroyed[i], want[i]);
}

/* One queue call, made in its own thread. */
enum call_op { OP_GET, OP_PUT, OP_JOIN };

struct call {
    rt_queue *q;
    enum call_op op;
    int wait;
    double timeout;
    void *item;    /* put: the item; get: what it returned */
    long tid;      /* the thread's native id, set just before the call */
    int done;      /* 1000 + the call's status, once it returned */
    double elapsed;
};

static inline void run_call(void *p) {
    struct call *c = p;
    rt_status s = RT_EINVAL;
    double t0;
    ATOMIC_STORE(&c->tid, (long)rt_get_native_id());
    t0 = rt_test_now();
    switch (c->op) {
    case OP_GET: s = rt_queue_get(c->q, c->wait, c->timeout, &c->item); break;
    case OP_PUT: s = rt_queue_put(c->q, c->item, c->wait, c->timeout); break;
    case OP_JOIN: s = rt_queue_join(c->q); break;
    }
    c->elapsed = rt_test_now() - t0;
    ATOMIC_STORE(&c->done, 1000 + (int)s);
}

#define sleeps_in_futex rt_test_sleeps_in_futex

/* Starts `c` in a new thread and returns once that thread sleeps inside the call: between
 * publishing its id and the call's park nothing else puts it to sleep in a futex. */
static inline void start_blocked(struct call *c) {
    c->tid = 0;
    c->done = 0;
    CHECK_OK(rt_start_new_thread(run_call, c, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&c->tid) != 0, 10.0);
    WAIT_UNTIL(sleeps_in_futex(ATOMIC_LOAD(&c->tid)) || ATOMIC_LOAD(&c->done), 10.0);
    CHECK_EQ_INT(ATOMIC_LOAD(&c->done), 0);
}

static inline struct call get_call(rt_queue *q, double timeout) {
    struct call c;
    memset(&c, 0, sizeof c);
    c.q = q;
    c.op = OP_GET;
    c.wait = 1;
    c.timeout = timeout;
    c.item = ITEM(-1);
    return c;
}

static inline struct call put_call(rt_queue *q, long item, double timeout) {
    struct call c = get_call(q, timeout);
    c.op = OP_PUT;
    c.item = ITEM(item);
    return c;
}

static inline struct call join_call(rt_queue *q) {
    struct call c = get_call(q, RT_FOREVER);
    c.op = OP_JOIN;
    return c;
}

#endif
