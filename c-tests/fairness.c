/* Eventual fairness: a thread that keeps re-taking a Lock cannot starve another one. */
#include "rt_test.h"

#define THREADS 2

static rt_lock *contended;
static int stop;
static long counts[THREADS];
static long plain_shared; /* touched only under the lock */

static void contend(void *arg) {
    long me = (long)(intptr_t)arg;
    while (!ATOMIC_LOAD(&stop)) {
        if (rt_lock_acquire(contended, 1, RT_FOREVER) != RT_OK) abort();
        counts[me]++;
        plain_shared++;
        if (rt_lock_release(contended) != RT_OK) abort();
    }
}

static void two_threads_hammering_a_lock_each_get_a_substantial_share(void) {
    rt_thread *t[THREADS];
    long total = 0, least;
    int i;
    CHECK_OK(rt_lock_new(&contended));
    for (i = 0; i < THREADS; i++) CHECK_OK(rt_thread_new(contend, (void *)(intptr_t)i, &t[i]));
    for (i = 0; i < THREADS; i++) CHECK_OK(rt_thread_start(t[i]));
    rt_test_sleep(1.0);
    ATOMIC_STORE(&stop, 1);
    for (i = 0; i < THREADS; i++) {
        CHECK_OK(rt_thread_join(t[i], 30.0));
        CHECK_OK(rt_thread_release(t[i]));
    }
    least = counts[0];
    for (i = 0; i < THREADS; i++) {
        total += counts[i];
        if (counts[i] < least) least = counts[i];
    }
    printf("acquisitions per thread: %ld %ld (total %ld)\n", counts[0], counts[1], total);
    CHECK_EQ_INT(plain_shared, total); /* and mutual exclusion held */
    CHECK(total > 1000);
    /* Without the hand-off the releasing thread re-takes the lock almost every time. */
    CHECK(least * 10 >= total);
    CHECK_OK(rt_lock_free(contended));
}

RT_CASES(RT_CASE(two_threads_hammering_a_lock_each_get_a_substantial_share))
