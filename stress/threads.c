/*
 * Thread churn.
 *
 * 100,000 thread starts and joins: four starter threads each start a quarter of them as thread
 * objects, keeping a few alive at a time, and join each one without bound, with tiny timeouts
 * until it ends, or after it is seen dead. Meanwhile the main thread enumerates the registry.
 * Every thread must run exactly once, see itself as the current thread, be dead once joined,
 * and leave no trace in the registry or the thread count.
 *
 * Also: threads started with rt_start_new_thread, all run and all counted out; foreign
 * (pthread) threads that use rthread come and go, each with a dummy object that leaves the
 * registry when it ends and a thread-local value whose destructor runs once; timers cancelled
 * or interrupted at random moments fire at most once, and exactly once when left alone.
 */
#include "stress.h"

#include <pthread.h>

#define STARTERS 4
#define WINDOW 3

static long per_starter;
static long ran, started, join_timeouts, enumerations, starters_done;
static size_t most_enumerated;

static void dump(void) {
    fprintf(stderr, "threads: started %ld, ran %ld, starters done %ld, active %zu, count %zu\n",
            ATOMIC_LOAD(&started), ATOMIC_LOAD(&ran), ATOMIC_LOAD(&starters_done),
            rt_active_count(), rt_thread_count());
}

static void body(void *arg) {
    rt_thread *me;
    (void)arg;
    CHECK_OK(rt_current_thread(&me));
    CHECK_EQ_INT(rt_thread_ident(me), rt_get_ident());
    CHECK(rt_thread_is_alive(me));
    CHECK_OK(rt_thread_release(me));
    ATOMIC_ADD(&ran, 1);
}

static void join_one(rt_thread *t, uint64_t *rng) {
    rt_status s;
    switch (stress_below(rng, 3)) {
    case 0: CHECK_OK(rt_thread_join(t, RT_FOREVER)); break;
    case 1:
        while ((s = rt_thread_join(t, 0.00005 * stress_below(rng, 10))) == RT_TIMEOUT)
            ATOMIC_ADD(&join_timeouts, 1);
        CHECK_STATUS(s, RT_OK);
        break;
    default:
        while (rt_thread_is_alive(t)) stress_yield();
        CHECK_OK(rt_thread_join(t, 0.0));
        break;
    }
    CHECK(!rt_thread_is_alive(t));
    CHECK(rt_thread_ident(t) != 0);
    CHECK_OK(rt_thread_release(t));
}

static void starter(void *arg) {
    rt_thread *live[WINDOW];
    uint64_t rng = (uint64_t)(intptr_t)arg * 1299709 + 1;
    long i;
    int n = 0, k;
    for (i = 0; i < per_starter; i++) {
        rt_thread *t;
        if (n == WINDOW) {
            join_one(live[0], &rng);
            for (k = 1; k < WINDOW; k++) live[k - 1] = live[k];
            n--;
        }
        CHECK_OK(rt_thread_new(body, NULL, &t));
        if (stress_below(&rng, 8) == 0) CHECK_OK(rt_thread_set_name(t, "stress"));
        CHECK_OK(rt_thread_start(t));
        ATOMIC_ADD(&started, 1);
        live[n++] = t;
    }
    for (k = 0; k < n; k++) join_one(live[k], &rng);
    ATOMIC_ADD(&starters_done, 1);
}

static void thread_objects_100k_started_and_joined_from_4_starters(void) {
    rt_thread *s[STARTERS], *buf[64];
    void *args[STARTERS];
    size_t base = rt_active_count();
    double t0, elapsed;
    int i;
    per_starter = stress_scaled(100000, 400) / STARTERS;
    stress_watchdog(stress_budget(0.0) + 2.0 * (double)per_starter / 1000.0, dump);
    for (i = 0; i < STARTERS; i++) args[i] = (void *)(intptr_t)(i + 1);
    t0 = rt_test_now();
    stress_start(s, STARTERS, starter, args);
    while (ATOMIC_LOAD(&starters_done) < STARTERS) {
        size_t n, k;
        CHECK_OK(rt_enumerate(buf, 64, &n));
        CHECK(n <= base + STARTERS * (WINDOW + 1));
        if (n > most_enumerated) most_enumerated = n;
        for (k = 0; k < n && k < 64; k++) CHECK_OK(rt_thread_release(buf[k]));
        enumerations++;
        rt_test_sleep(0.001);
    }
    stress_join(s, STARTERS);
    elapsed = rt_test_now() - t0;
    printf("threads: %ld thread objects started and joined by %d starters (at most %d alive "
           "each) in %.2f s (%.0f per second); %ld timed joins timed out; %ld enumerations "
           "(at most %zu threads)\n",
           started, STARTERS, WINDOW, elapsed, (double)started / elapsed, join_timeouts,
           enumerations, most_enumerated);
    CHECK_EQ_INT(started, per_starter * STARTERS);
    CHECK_EQ_INT(ran, started);
    CHECK_EQ_INT(rt_active_count(), base);
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
}

/* ---- rt_start_new_thread ---- */

static long detached_ran;

static void detached_body(void *arg) {
    (void)arg;
    CHECK(rt_get_ident() != 0);
    ATOMIC_ADD(&detached_ran, 1);
}

static void start_detached(void *arg) {
    long i, n = (long)(intptr_t)arg;
    for (i = 0; i < n; i++) {
        uint64_t ident = 0;
        /* A few dozen at a time at most. */
        while (rt_thread_count() > 32) stress_yield();
        CHECK_OK(rt_start_new_thread(detached_body, NULL, &ident));
        CHECK(ident != 0);
    }
}

static void start_new_thread_threads_all_run_and_are_counted_out(void) {
    rt_thread *s[2];
    long per = stress_scaled(20000, 100) / 2;
    void *args[2];
    double t0 = rt_test_now();
    stress_watchdog(stress_budget(0.0) + (double)per / 500.0, dump);
    args[0] = args[1] = (void *)(intptr_t)per;
    stress_start(s, 2, start_detached, args);
    stress_join(s, 2);
    WAIT_UNTIL(rt_thread_count() == 0, 30.0);
    printf("start_new_thread: %ld threads started by 2 starters, all ran and ended in %.2f s\n",
           2 * per, rt_test_now() - t0);
    CHECK_EQ_INT(detached_ran, 2 * per);
}

/* ---- foreign threads ---- */

static rt_local *local;
static rt_lock *held;
static long destroyed, foreign_ran;

static void destroy_value(void *value) {
    CHECK(value != NULL);
    ATOMIC_ADD(&destroyed, 1);
}

static void *foreign_body(void *arg) {
    rt_thread *me;
    char name[32];
    CHECK_OK(rt_current_thread(&me));
    CHECK_OK(rt_thread_name(me, name, sizeof name));
    CHECK(strncmp(name, "Dummy-", 6) == 0);
    CHECK(rt_thread_daemon(me));
    CHECK(rt_thread_is_alive(me));
    CHECK_STATUS(rt_thread_join(me, 0.0), RT_ESTATE);
    CHECK_OK(rt_thread_release(me));
    CHECK_OK(rt_local_set(local, arg));
    CHECK_STATUS(rt_lock_acquire(held, 1, 0.00001), RT_TIMEOUT); /* a real, timed wait */
    ATOMIC_ADD(&foreign_ran, 1);
    return NULL;
}

static void *foreign_spawner(void *arg) {
    long i, n = (long)(intptr_t)arg;
    for (i = 0; i < n; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, foreign_body, (void *)(intptr_t)(i + 1)) == 0);
        CHECK(pthread_join(t, NULL) == 0);
    }
    return NULL;
}

static void foreign_threads_come_and_go_leaving_no_dummy_and_no_local_value(void) {
    pthread_t s[4];
    long per = stress_scaled(20000, 100) / 4;
    size_t base = rt_active_count();
    double t0 = rt_test_now();
    int i;
    stress_watchdog(stress_budget(0.0) + (double)per / 250.0, dump);
    CHECK_OK(rt_local_new(destroy_value, &local));
    CHECK_OK(rt_lock_new(&held));
    CHECK_OK(rt_lock_acquire(held, 1, RT_FOREVER));
    for (i = 0; i < 4; i++)
        CHECK(pthread_create(&s[i], NULL, foreign_spawner, (void *)(intptr_t)per) == 0);
    for (i = 0; i < 4; i++) CHECK(pthread_join(s[i], NULL) == 0);
    printf("foreign_threads: %ld pthreads (4 at a time) each with a dummy, a thread-local value "
           "and a timed wait in %.2f s\n",
           4 * per, rt_test_now() - t0);
    CHECK_EQ_INT(foreign_ran, 4 * per);
    /* Each value was destroyed when its thread ended, and each dummy left the registry. */
    CHECK_EQ_INT(destroyed, 4 * per);
    CHECK_EQ_INT(rt_active_count(), base);
    CHECK_OK(rt_lock_release(held));
    CHECK_OK(rt_lock_free(held));
    CHECK_OK(rt_local_free(local));
}

/* ---- timers ---- */

static int fired[64];

static void fire(void *arg) {
    ATOMIC_ADD(&fired[(intptr_t)arg], 1);
}

static void timers_cancelled_or_interrupted_at_random_fire_at_most_once(void) {
    static const double intervals[] = {0.0, 0.0002, 0.0005, 0.001, 0.002};
    long n = stress_scaled(4000, 50), i;
    long left_alone = 0, cancelled = 0, interrupted = 0, cancelled_first = 0, fired_total = 0;
    uint64_t rng = 4242;
    double t0 = rt_test_now();
    stress_watchdog(stress_budget(0.0) + (double)n / 100.0, dump);
    for (i = 0; i < n; i++) {
        rt_thread *t;
        int slot = (int)(i % 64), f;
        unsigned how = stress_below(&rng, 4);
        ATOMIC_STORE(&fired[slot], 0);
        CHECK_OK(rt_timer_new(intervals[stress_below(&rng, 5)], fire, (void *)(intptr_t)slot, &t));
        if (how == 0) {
            CHECK_OK(rt_timer_cancel(t)); /* before it starts: it never fires */
            cancelled_first++;
        }
        CHECK_OK(rt_thread_start(t));
        stress_spin(stress_below(&rng, 200000));
        if (how == 1) {
            CHECK_OK(rt_timer_cancel(t));
            cancelled++;
        } else if (how == 2) {
            CHECK_OK(rt_thread_interrupt(t));
            interrupted++;
        } else if (how == 3) {
            left_alone++;
        }
        CHECK_OK(rt_thread_join(t, RT_FOREVER));
        f = ATOMIC_LOAD(&fired[slot]);
        CHECK(f <= 1);
        if (how == 0) CHECK_EQ_INT(f, 0);
        if (how == 3) CHECK_EQ_INT(f, 1);
        fired_total += f;
        CHECK_OK(rt_thread_release(t));
    }
    printf("timers: %ld timers (%ld cancelled before start, %ld cancelled and %ld interrupted "
           "at random moments, %ld left alone), %ld fired in %.2f s\n",
           n, cancelled_first, cancelled, interrupted, left_alone, fired_total,
           rt_test_now() - t0);
}

RT_CASES(
    RT_CASE(thread_objects_100k_started_and_joined_from_4_starters),
    RT_CASE(start_new_thread_threads_all_run_and_are_counted_out),
    RT_CASE(foreign_threads_come_and_go_leaving_no_dummy_and_no_local_value),
    RT_CASE(timers_cancelled_or_interrupted_at_random_fire_at_most_once)
)
