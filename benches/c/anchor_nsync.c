/* Google's nsync (Debian libnsync-dev) as a comparison anchor: nsync_mu and nsync_cv. Built
 * and linked only when the library is installed (see anchor.h). */

#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include <nsync.h>

#include "anchor.h"

static void *oom(void) {
    abort(); /* a benchmark without memory has nothing to measure */
}

static void *mu_new(void) {
    nsync_mu *mu = calloc(1, sizeof *mu);
    if (!mu)
        return oom();
    nsync_mu_init(mu);
    return mu;
}

static void mu_acquire(void *mu) { nsync_mu_lock(mu); }
static void mu_release(void *mu) { nsync_mu_unlock(mu); }
static void mu_free(void *mu) { free(mu); }

static double mu_pair(long n) {
    nsync_mu *mu = mu_new();
    double t = bench_now_ns();
    for (long i = 0; i < n; i++) {
        nsync_mu_lock(mu);
        nsync_mu_unlock(mu);
    }
    t = bench_now_ns() - t;
    free(mu);
    return t;
}

struct mon {
    nsync_mu mu;
    nsync_cv cv[2];
};

static void *mon_new(int ncv) {
    struct mon *m = calloc(1, sizeof *m);
    (void)ncv;
    if (!m)
        return oom();
    nsync_mu_init(&m->mu);
    nsync_cv_init(&m->cv[0]);
    nsync_cv_init(&m->cv[1]);
    return m;
}

static void mon_lock(void *m) { nsync_mu_lock(&((struct mon *)m)->mu); }
static void mon_unlock(void *m) { nsync_mu_unlock(&((struct mon *)m)->mu); }
static void mon_wait(void *p, int cv) {
    struct mon *m = p;
    nsync_cv_wait(&m->cv[cv], &m->mu);
}
static void mon_signal(void *m, int cv) { nsync_cv_signal(&((struct mon *)m)->cv[cv]); }
static void mon_broadcast(void *m, int cv) { nsync_cv_broadcast(&((struct mon *)m)->cv[cv]); }
static void mon_free(void *m) { free(m); }

static const struct bench_impl NSYNC = {
    .name = "nsync",
    .what = "nsync_mu, nsync_cv",
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
};

const struct bench_impl *bench_nsync(void) { return &NSYNC; }
