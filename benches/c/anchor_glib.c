/* GLib (Debian libglib2.0-dev) as a comparison anchor: GMutex and GCond, GAsyncQueue, and
 * GThreadPool. Built and linked only when the library is installed (see anchor.h). */

#include <stdlib.h>

#include <glib.h>

#include "anchor.h"

static void *mu_new(void) {
    GMutex *mu = g_new0(GMutex, 1);
    g_mutex_init(mu);
    return mu;
}

static void mu_acquire(void *mu) { g_mutex_lock(mu); }
static void mu_release(void *mu) { g_mutex_unlock(mu); }
static void mu_free(void *mu) {
    g_mutex_clear(mu);
    g_free(mu);
}

static double mu_pair(long n) {
    GMutex *mu = mu_new();
    double t = bench_now_ns();
    for (long i = 0; i < n; i++) {
        g_mutex_lock(mu);
        g_mutex_unlock(mu);
    }
    t = bench_now_ns() - t;
    mu_free(mu);
    return t;
}

struct mon {
    GMutex mu;
    GCond cv[2];
};

static void *mon_new(int ncv) {
    struct mon *m = g_new0(struct mon, 1);
    (void)ncv;
    g_mutex_init(&m->mu);
    g_cond_init(&m->cv[0]);
    g_cond_init(&m->cv[1]);
    return m;
}

static void mon_lock(void *m) { g_mutex_lock(&((struct mon *)m)->mu); }
static void mon_unlock(void *m) { g_mutex_unlock(&((struct mon *)m)->mu); }
static void mon_wait(void *p, int cv) {
    struct mon *m = p;
    g_cond_wait(&m->cv[cv], &m->mu);
}
static void mon_signal(void *m, int cv) { g_cond_signal(&((struct mon *)m)->cv[cv]); }
static void mon_broadcast(void *m, int cv) { g_cond_broadcast(&((struct mon *)m)->cv[cv]); }
static void mon_free(void *p) {
    struct mon *m = p;
    g_cond_clear(&m->cv[0]);
    g_cond_clear(&m->cv[1]);
    g_mutex_clear(&m->mu);
    g_free(m);
}

/* ---- GThreadPool: n empty tasks through 2 workers, a completion counter ---- */

struct pool_count {
    GMutex mu;
    GCond done;
    gint finished; /* atomic */
    gint n;
    int all;
};

static void pool_task(gpointer data, gpointer user) {
    struct pool_count *c = user;
    (void)data;
    if (g_atomic_int_add(&c->finished, 1) + 1 == c->n) {
        g_mutex_lock(&c->mu);
        c->all = 1;
        g_cond_signal(&c->done);
        g_mutex_unlock(&c->mu);
    }
}

static double pool_tasks(long n) {
    struct pool_count c;
    GThreadPool *pool;
    double t0, t;
    g_mutex_init(&c.mu);
    g_cond_init(&c.done);
    c.finished = 0;
    c.n = (gint)n;
    c.all = 0;
    pool = g_thread_pool_new(pool_task, &c, 2, TRUE, NULL);
    if (!pool)
        abort();
    t0 = bench_now_ns();
    for (long i = 0; i < n; i++)
        g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL); /* data must not be NULL */
    g_mutex_lock(&c.mu);
    while (!c.all)
        g_cond_wait(&c.done, &c.mu);
    g_mutex_unlock(&c.mu);
    t = bench_now_ns() - t0;
    g_thread_pool_free(pool, FALSE, TRUE);
    g_cond_clear(&c.done);
    g_mutex_clear(&c.mu);
    return t;
}

static const struct bench_impl GLIB = {
    .name = "glib",
    .what = "GMutex, GCond, GThreadPool",
    .lock_new = mu_new,
    .lock_acquire = mu_acquire,
    .lock_release = mu_release,
    .lock_free = mu_free,
    .lock_pair = mu_pair,
    .mon_new = mon_new,
    .mon_lock = mon_lock,
    .mon_unlock = mon_unlock,
    .mon_wait = mon_wait,
    .mon_signal = mon_signal,
    .mon_broadcast = mon_broadcast,
    .mon_free = mon_free,
    .pool_tasks = pool_tasks,
};

const struct bench_impl *bench_glib(void) { return &GLIB; }

/* ---- GAsyncQueue: unbounded; a FIFO (push/pop) and, with push_front, a LIFO ---- */

struct aq {
    GAsyncQueue *q;
    int lifo;
};

static void *aq_new(enum bench_queue_kind kind, size_t cap) {
    struct aq *a;
    (void)cap; /* GAsyncQueue has no bound */
    if (kind == BQ_PRIORITY)
        return NULL; /* push_sorted inserts into a list: O(n) per item, not an anchor */
    a = g_new0(struct aq, 1);
    a->q = g_async_queue_new();
    a->lifo = kind == BQ_LIFO;
    return a;
}

static void aq_put(void *p, void *item) {
    struct aq *a = p;
    if (a->lifo)
        g_async_queue_push_front(a->q, item);
    else
        g_async_queue_push(a->q, item);
}

static void *aq_get(void *p) { return g_async_queue_pop(((struct aq *)p)->q); }

static void aq_free(void *p) {
    struct aq *a = p;
    g_async_queue_unref(a->q);
    g_free(a);
}

static const struct bench_impl GLIB_AQ = {
    .name = "glib-asyncqueue",
    .what = "GAsyncQueue (unbounded)",
    .queue_new = aq_new,
    .queue_put = aq_put,
    .queue_get = aq_get,
    .queue_free = aq_free,
};

const struct bench_impl *bench_glib_async_queue(void) { return &GLIB_AQ; }
