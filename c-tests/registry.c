/* The registry: active_count, enumerate, current_thread, main_thread, dummies (TH8-TH10). */
#define _GNU_SOURCE 1
#include "rt_test.h"

#include <pthread.h>
#include <unistd.h>

static rt_lock *gate_new_closed(void) {
    rt_lock *g;
    CHECK_OK(rt_lock_new(&g));
    CHECK_OK(rt_lock_acquire(g, 1, RT_FOREVER));
    return g;
}

static void gate_pass(void *p) {
    rt_lock *g = p;
    if (rt_lock_acquire(g, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(g) != RT_OK) abort();
}

/* Whether `t` is among the `n` handles of `buf`. */
static int listed(rt_thread **buf, size_t n, const rt_thread *t) {
    size_t i;
    for (i = 0; i < n; i++)
        if (buf[i] == t) return 1;
    return 0;
}

static void release_all(rt_thread **buf, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) CHECK_OK(rt_thread_release(buf[i]));
}

static void the_main_thread_is_mainthread_alive_and_not_a_daemon(void) {
    rt_thread *m;
    char name[32];
    CHECK_OK(rt_main_thread(&m));
    CHECK_OK(rt_thread_name(m, name, sizeof name));
    CHECK(strcmp(name, "MainThread") == 0);
    CHECK(rt_thread_is_alive(m));
    CHECK(!rt_thread_daemon(m));
    CHECK(rt_thread_ident(m) == rt_get_ident());
    /* On Linux the initial thread's kernel id is the process id. */
    CHECK(rt_thread_native_id(m) == (uint64_t)getpid());
    CHECK_ERR(rt_thread_start(m), RT_ESTATE, "threads can only be started once");
    CHECK_ERR(rt_thread_set_daemon(m, true), RT_ESTATE, "cannot set daemon status of active thread");
    CHECK_OK(rt_thread_release(m));
}

static void current_thread_in_main_is_the_main_thread(void) {
    rt_thread *m, *c;
    CHECK_OK(rt_current_thread(&c));
    CHECK_OK(rt_main_thread(&m));
    CHECK(c == m);
    CHECK_OK(rt_thread_release(c));
    CHECK_OK(rt_thread_release(m));
}

struct whoami {
    rt_thread *seen;
    rt_thread *main_seen;
};

static void who_am_i(void *p) {
    struct whoami *w = p;
    if (rt_current_thread(&w->seen) != RT_OK) abort();
    if (rt_main_thread(&w->main_seen) != RT_OK) abort();
}

static void current_thread_in_a_thread_object_is_that_object(void) {
    struct whoami w = { NULL, NULL };
    rt_thread *t, *m;
    CHECK_OK(rt_thread_new(who_am_i, &w, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(w.seen == t);
    CHECK_OK(rt_main_thread(&m));
    CHECK(w.main_seen == m);
    CHECK_OK(rt_thread_release(w.seen));
    CHECK_OK(rt_thread_release(w.main_seen));
    CHECK_OK(rt_thread_release(m));
    CHECK_OK(rt_thread_release(t));
}

static void *main_from_a_foreign_thread(void *p) {
    rt_thread **out = p;
    if (rt_main_thread(out) != RT_OK) abort();
    return NULL;
}

static void the_main_thread_is_known_when_first_asked_from_another_thread(void) {
    rt_thread *m = NULL, *c;
    pthread_t pt;
    /* The first registry call of the process comes from another thread. */
    CHECK(pthread_create(&pt, NULL, main_from_a_foreign_thread, &m) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK(rt_thread_ident(m) == rt_get_ident());
    CHECK(rt_thread_native_id(m) == (uint64_t)getpid());
    CHECK_OK(rt_current_thread(&c));
    CHECK(c == m);
    CHECK_OK(rt_thread_release(c));
    CHECK_OK(rt_thread_release(m));
}

#define LIVE 5

static void active_count_is_what_enumerate_lists(void) {
    rt_lock *gate = gate_new_closed();
    rt_thread *t[LIVE], *idle, *m, *buf[16];
    size_t n = 0, i;
    CHECK_EQ_INT(rt_active_count(), 1); /* the main thread */
    CHECK_OK(rt_thread_new(NULL, NULL, &idle)); /* never started: never listed */
    for (i = 0; i < LIVE; i++) {
        CHECK_OK(rt_thread_new(gate_pass, gate, &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    CHECK_EQ_INT(rt_active_count(), LIVE + 1);
    CHECK_OK(rt_enumerate(buf, 16, &n));
    CHECK_EQ_INT(n, LIVE + 1);
    CHECK_OK(rt_main_thread(&m));
    CHECK(listed(buf, n, m));
    for (i = 0; i < LIVE; i++) CHECK(listed(buf, n, t[i]));
    CHECK(!listed(buf, n, idle));
    for (i = 0; i < n; i++) CHECK(rt_thread_is_alive(buf[i]));
    release_all(buf, n);
    CHECK_OK(rt_lock_release(gate));
    for (i = 0; i < LIVE; i++) {
        CHECK_OK(rt_thread_join(t[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[i]));
    }
    CHECK_EQ_INT(rt_active_count(), 1);
    CHECK_OK(rt_enumerate(buf, 16, &n));
    CHECK_EQ_INT(n, 1);
    CHECK(buf[0] == m);
    release_all(buf, n);
    CHECK_OK(rt_thread_release(m));
    CHECK_OK(rt_thread_release(idle));
    CHECK_OK(rt_lock_free(gate));
}

static void enumerate_into_a_small_buffer_counts_them_all(void) {
    rt_lock *gate = gate_new_closed();
    rt_thread *t[3], *buf[3];
    size_t n = 0, i;
    for (i = 0; i < 3; i++) {
        CHECK_OK(rt_thread_new(gate_pass, gate, &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    buf[1] = buf[2] = (rt_thread *)&n; /* sentinels */
    CHECK_OK(rt_enumerate(buf, 1, &n));
    CHECK_EQ_INT(n, 4);
    CHECK(rt_thread_is_alive(buf[0]));
    CHECK(buf[1] == (rt_thread *)&n && buf[2] == (rt_thread *)&n);
    release_all(buf, 1);
    n = 0;
    CHECK_OK(rt_enumerate(NULL, 0, &n)); /* count only */
    CHECK_EQ_INT(n, 4);
    CHECK_OK(rt_lock_release(gate));
    for (i = 0; i < 3; i++) {
        CHECK_OK(rt_thread_join(t[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[i]));
    }
    CHECK_OK(rt_lock_free(gate));
}

static void a_joined_thread_is_never_listed(void) {
    int round;
    rt_thread *buf[8];
    size_t n;
    /* bpo-1703448: join returned, yet enumerate still listed the thread. */
    for (round = 0; round < 200; round++) {
        rt_thread *t;
        CHECK_OK(rt_thread_new(NULL, NULL, &t));
        CHECK_OK(rt_thread_start(t));
        CHECK_OK(rt_thread_join(t, RT_FOREVER));
        CHECK_OK(rt_enumerate(buf, 8, &n));
        CHECK(!listed(buf, n < 8 ? n : 8, t));
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(rt_active_count(), 1);
        release_all(buf, n < 8 ? n : 8);
        CHECK_OK(rt_thread_release(t));
    }
}

struct foreign {
    rt_thread *dummy;
    rt_thread *again;
    uint64_t ident;
    char name[32];
    rt_status join_status;
    char join_message[64];
    int daemon, alive;
    rt_lock *gate;
    int ready;
};

static void *foreign_asks_who_it_is(void *p) {
    struct foreign *f = p;
    if (rt_current_thread(&f->dummy) != RT_OK) abort();
    if (rt_current_thread(&f->again) != RT_OK) abort();
    f->ident = rt_get_ident();
    rt_thread_name(f->dummy, f->name, sizeof f->name);
    f->daemon = rt_thread_daemon(f->dummy);
    f->alive = rt_thread_is_alive(f->dummy);
    f->join_status = rt_thread_join(f->dummy, RT_FOREVER);
    snprintf(f->join_message, sizeof f->join_message, "%s", rt_last_error());
    ATOMIC_STORE(&f->ready, 1);
    if (f->gate) gate_pass(f->gate);
    return NULL;
}

static void a_foreign_thread_gets_a_dummy_that_leaves_when_it_ends(void) {
    struct foreign f;
    pthread_t pt;
    rt_thread *buf[8];
    size_t n;
    memset(&f, 0, sizeof f);
    f.gate = gate_new_closed();
    CHECK(pthread_create(&pt, NULL, foreign_asks_who_it_is, &f) == 0);
    WAIT_UNTIL(ATOMIC_LOAD(&f.ready), 10.0);
    CHECK(f.dummy != NULL && f.dummy == f.again);
    CHECK(strncmp(f.name, "Dummy-", 6) == 0);
    CHECK(f.daemon);
    CHECK(f.alive);
    CHECK_EQ_INT(f.join_status, RT_ESTATE);
    CHECK(strcmp(f.join_message, "cannot join a dummy thread") == 0);
    CHECK(rt_thread_ident(f.dummy) == f.ident);
    CHECK(f.ident == (uint64_t)pt);
    CHECK(rt_thread_native_id(f.dummy) != 0);
    /* Listed while its thread runs; joining it from elsewhere is refused too. */
    CHECK_EQ_INT(rt_active_count(), 2);
    CHECK_OK(rt_enumerate(buf, 8, &n));
    CHECK_EQ_INT(n, 2);
    CHECK(listed(buf, n, f.dummy));
    release_all(buf, n);
    CHECK_ERR(rt_thread_join(f.dummy, 0.0), RT_ESTATE, "cannot join a dummy thread");
    CHECK_ERR(rt_thread_start(f.dummy), RT_ESTATE, "threads can only be started once");
    CHECK_ERR(rt_thread_set_daemon(f.dummy, false), RT_ESTATE,
              "cannot set daemon status of active thread");
    CHECK_OK(rt_lock_release(f.gate));
    CHECK(pthread_join(pt, NULL) == 0);
    /* Its thread has ended: out of the registry (Python 3.13), and no longer alive. */
    CHECK(!rt_thread_is_alive(f.dummy));
    CHECK_EQ_INT(rt_active_count(), 1);
    CHECK_OK(rt_enumerate(buf, 8, &n));
    CHECK_EQ_INT(n, 1);
    CHECK(!listed(buf, n, f.dummy));
    release_all(buf, n);
    CHECK(rt_thread_ident(f.dummy) == f.ident); /* kept */
    CHECK_OK(rt_thread_release(f.dummy));
    CHECK_OK(rt_thread_release(f.again));
    CHECK_OK(rt_lock_free(f.gate));
}

static void thread_from_start_new_thread(void *p) {
    foreign_asks_who_it_is(p);
}

static void a_start_new_thread_thread_gets_a_dummy_too(void) {
    struct foreign f;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_start_new_thread(thread_from_start_new_thread, &f, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&f.ready), 10.0);
    CHECK(strncmp(f.name, "Dummy-", 6) == 0);
    CHECK(f.daemon && f.alive);
    WAIT_UNTIL(rt_active_count() == 1, 10.0);
    WAIT_UNTIL(!rt_thread_is_alive(f.dummy), 10.0);
    CHECK_OK(rt_thread_release(f.dummy));
    CHECK_OK(rt_thread_release(f.again));
}

#define FOREIGN_THREADS 4
#define FOREIGN_ROUNDS 60

static void *dummy_comes_and_goes(void *p) {
    rt_thread *me;
    (void)p;
    if (rt_current_thread(&me) != RT_OK) abort();
    if (!rt_thread_is_alive(me) || !rt_thread_daemon(me)) abort();
    rt_thread_release(me);
    return NULL;
}

static int spawners_done;

static void *spawn_foreign_threads(void *p) {
    int i;
    (void)p;
    for (i = 0; i < FOREIGN_ROUNDS; i++) {
        pthread_t pt;
        if (pthread_create(&pt, NULL, dummy_comes_and_goes, NULL) != 0) abort();
        if (pthread_join(pt, NULL) != 0) abort();
    }
    ATOMIC_ADD(&spawners_done, 1);
    return NULL;
}

static void dummy_threads_appear_and_leave_while_others_enumerate(void) {
    pthread_t spawners[FOREIGN_THREADS];
    rt_thread *buf[64];
    int i;
    for (i = 0; i < FOREIGN_THREADS; i++)
        CHECK(pthread_create(&spawners[i], NULL, spawn_foreign_threads, NULL) == 0);
    /* Meanwhile: enumerate and count. At most 4 dummies live at once (one per spawner), and
     * each listed thread has its identity. */
    while (ATOMIC_LOAD(&spawners_done) < FOREIGN_THREADS) {
        size_t n, k;
        CHECK_OK(rt_enumerate(buf, 64, &n));
        CHECK(n >= 1 && n <= 1 + FOREIGN_THREADS);
        for (k = 0; k < n; k++) CHECK(rt_thread_ident(buf[k]) != 0);
        release_all(buf, n);
        n = rt_active_count();
        CHECK(n >= 1 && n <= 1 + FOREIGN_THREADS);
    }
    for (i = 0; i < FOREIGN_THREADS; i++) CHECK(pthread_join(spawners[i], NULL) == 0);
    /* Every foreign thread has ended, and with it its dummy. */
    CHECK_EQ_INT(rt_active_count(), 1);
}

/* Threads come and go (4 churners start, run and join short threads); a joiner records each
 * thread it has joined. The test enumerates meanwhile: no thread whose join had returned
 * before the call may be listed. */
#define CHURNERS 4
#define CHURN_ROUNDS 150

static rt_lock *joined_lock;
static rt_thread *joined[CHURNERS * CHURN_ROUNDS];
static int joined_count;
static int churners_done;

static void churn(void *p) {
    int i;
    (void)p;
    for (i = 0; i < CHURN_ROUNDS; i++) {
        rt_thread *t;
        if (rt_thread_new(NULL, NULL, &t) != RT_OK) abort();
        if (rt_thread_start(t) != RT_OK) abort();
        if (rt_thread_join(t, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_acquire(joined_lock, 1, RT_FOREVER) != RT_OK) abort();
        joined[joined_count++] = t; /* keeps the reference */
        rt_lock_release(joined_lock);
    }
    ATOMIC_ADD(&churners_done, 1);
}

static void enumerate_never_lists_a_finished_thread_while_threads_come_and_go(void) {
    rt_thread *c[CHURNERS], *buf[64];
    int i, checks = 0;
    CHECK_OK(rt_lock_new(&joined_lock));
    for (i = 0; i < CHURNERS; i++) {
        CHECK_OK(rt_thread_new(churn, NULL, &c[i]));
        CHECK_OK(rt_thread_start(c[i]));
    }
    while (ATOMIC_LOAD(&churners_done) < CHURNERS || checks == 0) {
        int before, k;
        size_t n, j;
        CHECK_OK(rt_lock_acquire(joined_lock, 1, RT_FOREVER));
        before = joined_count;
        CHECK_OK(rt_lock_release(joined_lock));
        CHECK_OK(rt_enumerate(buf, 64, &n));
        CHECK(n >= 1 && n <= 1 + 2 * CHURNERS);
        for (j = 0; j < n; j++)
            for (k = 0; k < before; k++) CHECK(buf[j] != joined[k]);
        release_all(buf, n);
        n = rt_active_count();
        CHECK(n >= 1 && n <= 1 + 2 * CHURNERS);
        checks++;
    }
    for (i = 0; i < CHURNERS; i++) {
        CHECK_OK(rt_thread_join(c[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(c[i]));
    }
    CHECK_EQ_INT(joined_count, CHURNERS * CHURN_ROUNDS);
    for (i = 0; i < joined_count; i++) CHECK_OK(rt_thread_release(joined[i]));
    CHECK_EQ_INT(rt_active_count(), 1);
    CHECK_OK(rt_lock_free(joined_lock));
}

RT_CASES(
    RT_CASE(the_main_thread_is_mainthread_alive_and_not_a_daemon),
    RT_CASE(current_thread_in_main_is_the_main_thread),
    RT_CASE(current_thread_in_a_thread_object_is_that_object),
    RT_CASE(the_main_thread_is_known_when_first_asked_from_another_thread),
    RT_CASE(active_count_is_what_enumerate_lists),
    RT_CASE(enumerate_into_a_small_buffer_counts_them_all),
    RT_CASE(a_joined_thread_is_never_listed),
    RT_CASE(a_foreign_thread_gets_a_dummy_that_leaves_when_it_ends),
    RT_CASE(a_start_new_thread_thread_gets_a_dummy_too),
    RT_CASE(dummy_threads_appear_and_leave_while_others_enumerate),
    RT_CASE(enumerate_never_lists_a_finished_thread_while_threads_come_and_go)
)
