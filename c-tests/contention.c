/* The contention profile (RT_DEBUG_CONTENTION): exact counts in a controlled scenario, the
 * report's order and names, the contention hook. */
#include "rt_test.h"
#include "rt_blocked.h"

#include <unistd.h>

/* The report of rt_contention_report(fd, top), read back from a temporary file. */
static char report_text[16384];

static const char *report(size_t top) {
    FILE *f = tmpfile();
    size_t n;
    CHECK(f != NULL);
    CHECK_OK(rt_contention_report(fileno(f), top));
    rewind(f);
    n = fread(report_text, 1, sizeof report_text - 1, f);
    report_text[n] = '\0';
    fclose(f);
    return report_text;
}

/* The report's line for `obj` (described as `what`, e.g. `lock "x"`), parsed: total and max
 * wait in ms, contended acquisitions, acquisitions. 0 if the object has no line. */
struct row {
    double total_ms, max_ms;
    long long contended, acquisitions;
    int position; /* 1 for the first object line */
};

static int find_row(const char *text, const char *what, const void *obj, struct row *r) {
    char desc[128];
    const char *line = text;
    int position = 0;
    snprintf(desc, sizeof desc, "%s (%p)", what, obj);
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        if (len >= sizeof buf) len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        if (sscanf(buf, "%lf %lf %lld %lld", &r->total_ms, &r->max_ms, &r->contended,
                   &r->acquisitions) == 4) {
            position++;
            if (strstr(buf, desc) != NULL) {
                r->position = position;
                return 1;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

struct blocker {
    rt_lock *lock;
    uint64_t tid;  /* native id, published before the acquire */
    uint64_t ident;
};

static void acquire_once(void *p) {
    struct blocker *b = p;
    ATOMIC_STORE(&b->ident, rt_get_ident());
    ATOMIC_STORE(&b->tid, rt_get_native_id());
    if (rt_lock_acquire(b->lock, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(b->lock) != RT_OK) abort();
}

#define N 4

/* The main thread holds a lock; N threads each block on it exactly once; the main thread
 * keeps it 50 ms after the last one blocked. Counts: N+1 acquisitions, N contended, each
 * wait at least 50 ms. */
static void contention_counts_are_exact_in_a_controlled_scenario(void) {
    rt_lock *l;
    rt_thread *t[N];
    struct blocker b[N];
    struct row r;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_object_set_name(l, "controlled"));
    CHECK_OK(rt_set_debug(RT_DEBUG_CONTENTION));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    for (int i = 0; i < N; i++) {
        b[i].lock = l;
        b[i].tid = 0;
        CHECK_OK(rt_thread_new(acquire_once, &b[i], &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    for (int i = 0; i < N; i++) WAIT_BLOCKED(&b[i].tid);
    rt_test_sleep(0.05);
    CHECK_OK(rt_lock_release(l));
    for (int i = 0; i < N; i++) {
        CHECK_OK(rt_thread_join(t[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[i]));
    }
    CHECK(find_row(report(0), "lock \"controlled\"", l, &r));
    CHECK_EQ_INT(r.acquisitions, N + 1);
    CHECK_EQ_INT(r.contended, N);
    CHECK(r.max_ms >= 50.0);
    CHECK(r.total_ms >= N * 50.0);
    CHECK(r.total_ms >= r.max_ms);
    CHECK(r.total_ms <= N * 60000.0);
    /* Uncontended acquisitions add to the acquisitions only. */
    for (int i = 0; i < 10; i++) {
        CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
        CHECK_OK(rt_lock_release(l));
    }
    CHECK(find_row(report(0), "lock \"controlled\"", l, &r));
    CHECK_EQ_INT(r.acquisitions, N + 11);
    CHECK_EQ_INT(r.contended, N);
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_lock_free(l));
}

/* The same for an RLock: re-entries are not acquisitions of the lock by another thread, and
 * are counted as acquisitions only at their first level. */
struct rblocker {
    rt_rlock *lock;
    uint64_t tid;
};

static void racquire_once(void *p) {
    struct rblocker *b = p;
    ATOMIC_STORE(&b->tid, rt_get_native_id());
    if (rt_rlock_acquire(b->lock, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_rlock_acquire(b->lock, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_rlock_release(b->lock) != RT_OK) abort();
    if (rt_rlock_release(b->lock) != RT_OK) abort();
}

static void contention_counts_rlocks(void) {
    rt_rlock *l;
    rt_thread *t[N];
    struct rblocker b[N];
    struct row r;
    CHECK_OK(rt_rlock_new(&l));
    CHECK_OK(rt_object_set_name(l, "reentrant"));
    CHECK_OK(rt_set_debug(RT_DEBUG_CONTENTION));
    CHECK_OK(rt_rlock_acquire(l, 1, RT_FOREVER));
    for (int i = 0; i < N; i++) {
        b[i].lock = l;
        b[i].tid = 0;
        CHECK_OK(rt_thread_new(racquire_once, &b[i], &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    for (int i = 0; i < N; i++) WAIT_BLOCKED(&b[i].tid);
    rt_test_sleep(0.02);
    CHECK_OK(rt_rlock_release(l));
    for (int i = 0; i < N; i++) {
        CHECK_OK(rt_thread_join(t[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[i]));
    }
    CHECK(find_row(report(0), "rlock \"reentrant\"", l, &r));
    CHECK_EQ_INT(r.acquisitions, N + 1);
    CHECK_EQ_INT(r.contended, N);
    CHECK(r.max_ms >= 20.0);
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_rlock_free(l));
}

/* Holds `l` until the thread in `b` blocks on it, then `secs` more, then releases and joins. */
static void make_wait(rt_lock *l, double secs) {
    struct blocker b = { l, 0, 0 };
    rt_thread *t;
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(acquire_once, &b, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_BLOCKED(&b.tid);
    rt_test_sleep(secs);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
}

/* The report lists the objects by total wait, most first, with their names; `top` cuts it. */
static void contention_report_lists_the_top_objects_by_total_wait(void) {
    rt_lock *much, *some, *none;
    struct row r1, r2, r3;
    const char *text;
    CHECK_OK(rt_lock_new(&much));
    CHECK_OK(rt_lock_new(&some));
    CHECK_OK(rt_lock_new(&none));
    CHECK_OK(rt_object_set_name(much, "waited much"));
    CHECK_OK(rt_object_set_name(some, "waited some"));
    CHECK_OK(rt_object_set_name(none, "never waited"));
    CHECK_OK(rt_set_debug(RT_DEBUG_CONTENTION));
    make_wait(some, 0.03);
    make_wait(much, 0.25);
    for (int i = 0; i < 100; i++) {
        CHECK_OK(rt_lock_acquire(none, 1, RT_FOREVER));
        CHECK_OK(rt_lock_release(none));
    }
    text = report(0);
    CHECK(strstr(text, "rthread contention profile:") == text);
    CHECK(find_row(text, "lock \"waited much\"", much, &r1));
    CHECK(find_row(text, "lock \"waited some\"", some, &r2));
    CHECK(find_row(text, "lock \"never waited\"", none, &r3));
    CHECK(r1.position < r2.position);
    CHECK(r2.position < r3.position);
    CHECK(r1.total_ms >= 250.0);
    CHECK(r2.total_ms >= 30.0);
    CHECK_EQ_INT(r3.contended, 0);
    CHECK_EQ_INT(r3.acquisitions, 100);
    /* top 2: the two that waited, in that order, and not the third. */
    text = report(2);
    CHECK(find_row(text, "lock \"waited much\"", much, &r1));
    CHECK(find_row(text, "lock \"waited some\"", some, &r2));
    CHECK(!find_row(text, "lock \"never waited\"", none, &r3));
    CHECK_EQ_INT(r1.position, 1);
    CHECK_EQ_INT(r2.position, 2);
    CHECK_OK(rt_set_debug(0));
    /* A freed object leaves the profile. */
    CHECK_OK(rt_lock_free(much));
    CHECK(!find_row(report(0), "lock \"waited much\"", much, &r1));
    CHECK_OK(rt_lock_free(some));
    CHECK_OK(rt_lock_free(none));
}

/* With the mode off nothing is counted. */
static void contention_off_counts_nothing(void) {
    rt_lock *l;
    struct row r;
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_object_set_name(l, "unprofiled"));
    make_wait(l, 0.01);
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK(!find_row(report(0), "lock \"unprofiled\"", l, &r));
    CHECK_OK(rt_lock_free(l));
}

/* ---- the hook ---- */

struct hook_log {
    int calls;
    const void *obj;
    uint64_t ident, ns, ident_inside;
    int held_inside;
    int made_lock; /* rthread calls work inside the hook: no internal lock is held */
};

static void on_contention(void *ctx, const void *obj, uint64_t ident, uint64_t ns) {
    struct hook_log *log = ctx;
    rt_lock *tmp;
    log->obj = obj;
    log->ident = ident;
    log->ns = ns;
    log->ident_inside = rt_get_ident();
    log->held_inside = rt_lock_locked((const rt_lock *)obj);
    if (rt_lock_new(&tmp) == RT_OK) {
        if (rt_object_set_name(tmp, "made in the hook") == RT_OK &&
            rt_lock_acquire(tmp, 1, RT_FOREVER) == RT_OK && rt_lock_release(tmp) == RT_OK)
            log->made_lock = 1;
        rt_lock_free(tmp);
    }
    ATOMIC_ADD(&log->calls, 1);
}

/* The hook runs once per contended acquisition, on the thread that waited, with the object
 * held, and the wait's duration between the time the holder kept it and a generous bound. */
static void contention_hook_gets_the_object_thread_and_wait(void) {
    rt_lock *l;
    struct hook_log log;
    struct blocker b = { NULL, 0, 0 };
    rt_thread *t;
    double t0;
    memset(&log, 0, sizeof log);
    CHECK_OK(rt_lock_new(&l));
    b.lock = l;
    CHECK_OK(rt_set_contention_hook(on_contention, &log));
    CHECK_OK(rt_set_debug(RT_DEBUG_CONTENTION));
    /* Uncontended acquisitions never call it. */
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_EQ_INT(ATOMIC_LOAD(&log.calls), 0);
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(acquire_once, &b, &t));
    t0 = rt_test_now();
    CHECK_OK(rt_thread_start(t));
    WAIT_BLOCKED(&b.tid);
    rt_test_sleep(0.1);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(ATOMIC_LOAD(&log.calls), 1);
    CHECK(log.obj == (const void *)l);
    CHECK(log.ident == rt_thread_ident(t));
    CHECK(log.ident_inside == log.ident);
    CHECK(log.held_inside);
    CHECK(log.made_lock);
    CHECK(log.ns >= 100000000ull);
    CHECK((double)log.ns <= (rt_test_now() - t0) * 1e9);
    CHECK_OK(rt_thread_release(t));
    /* Removed: no more calls. */
    CHECK_OK(rt_set_contention_hook(NULL, NULL));
    make_wait(l, 0.01);
    CHECK_EQ_INT(ATOMIC_LOAD(&log.calls), 1);
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_lock_free(l));
}

/* A wait that ends without the lock (a timeout) is no contended acquisition. */
static void contention_timeouts_are_not_acquisitions(void) {
    rt_lock *l;
    struct hook_log log;
    struct row r;
    memset(&log, 0, sizeof log);
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_object_set_name(l, "timed"));
    CHECK_OK(rt_set_contention_hook(on_contention, &log));
    CHECK_OK(rt_set_debug(RT_DEBUG_CONTENTION));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.02), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(l));
    CHECK_EQ_INT(ATOMIC_LOAD(&log.calls), 0);
    CHECK(find_row(report(0), "lock \"timed\"", l, &r));
    CHECK_EQ_INT(r.acquisitions, 1);
    CHECK_EQ_INT(r.contended, 0);
    CHECK_OK(rt_set_contention_hook(NULL, NULL));
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_lock_free(l));
}

static void contention_report_refuses_a_bad_descriptor(void) {
    CHECK_ERR(rt_contention_report(-1, 0), RT_EINVAL, "bad file descriptor");
}

RT_CASES(RT_CASE(contention_counts_are_exact_in_a_controlled_scenario),
         RT_CASE(contention_counts_rlocks),
         RT_CASE(contention_report_lists_the_top_objects_by_total_wait),
         RT_CASE(contention_off_counts_nothing),
         RT_CASE(contention_hook_gets_the_object_thread_and_wait),
         RT_CASE(contention_timeouts_are_not_acquisitions),
         RT_CASE(contention_report_refuses_a_bad_descriptor))
