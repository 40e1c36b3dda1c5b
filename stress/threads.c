/*
 * 100,000 thread starts and joins: four starter threads each start a quarter of them as thread
 * objects, keeping a few alive at a time, and join each one without bound, with tiny timeouts
 * until it ends, or after it is seen dead. Meanwhile the main thread enumerates the registry.
 * Every thread must run exactly once, see itself as the current thread, be dead once joined,
 * and leave no trace in the registry or the thread count.
 */
#include "stress.h"

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
        for (k = 0; k < n; k++) CHECK_OK(rt_thread_release(buf[k]));
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

RT_CASES(RT_CASE(thread_objects_100k_started_and_joined_from_4_starters))
