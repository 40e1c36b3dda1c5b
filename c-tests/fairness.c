/* Eventual fairness: a thread that keeps re-taking a Lock cannot starve another one.
 *
 * The share each thread gets is a statistic of the scheduler as much as of the lock: on a
 * loaded machine (two cores shared by several test runs, valgrind) one measurement can come
 * out skewed by chance. So a measurement runs until it has enough acquisitions to judge (its
 * window widens, up to a limit), and the case tries again, up to ATTEMPTS times, before it
 * fails. The bound itself never widens: each thread must get at least a tenth of the total in
 * one measurement, which a lock without the hand-off fails every time (the releasing thread
 * re-takes it almost always). */
#include "rt_test.h"

#define THREADS 2
#define ATTEMPTS 3
#define MIN_TOTAL 1000 /* acquisitions before a measurement is judged */

static rt_lock *contended;
static int stop;
static long counts[THREADS];
static long plain_shared; /* touched only under the lock */

static void contend(void *arg) {
    long me = (long)(intptr_t)arg;
    while (!ATOMIC_LOAD(&stop)) {
        if (rt_lock_acquire(contended, 1, RT_FOREVER) != RT_OK) abort();
        ATOMIC_ADD(&counts[me], 1); /* read while the threads run, to end the window */
        plain_shared++;
        if (rt_lock_release(contended) != RT_OK) abort();
    }
}

/* One measurement: the threads hammer the lock for a second, longer (up to 10 s) until they
 * made MIN_TOTAL acquisitions. Writes the total and the smallest count. */
static void measure(long *total, long *least) {
    rt_thread *t[THREADS];
    double t0;
    int i;
    ATOMIC_STORE(&stop, 0);
    for (i = 0; i < THREADS; i++) counts[i] = 0;
    plain_shared = 0;
    for (i = 0; i < THREADS; i++) CHECK_OK(rt_thread_new(contend, (void *)(intptr_t)i, &t[i]));
    for (i = 0; i < THREADS; i++) CHECK_OK(rt_thread_start(t[i]));
    t0 = rt_test_now();
    rt_test_sleep(1.0);
    while (ATOMIC_LOAD(&counts[0]) + ATOMIC_LOAD(&counts[1]) < MIN_TOTAL &&
           rt_test_now() - t0 < 10.0)
        rt_test_sleep(0.1);
    ATOMIC_STORE(&stop, 1);
    for (i = 0; i < THREADS; i++) {
        CHECK_OK(rt_thread_join(t[i], 30.0));
        CHECK_OK(rt_thread_release(t[i]));
    }
    *total = 0;
    *least = counts[0];
    for (i = 0; i < THREADS; i++) {
        *total += counts[i];
        if (counts[i] < *least) *least = counts[i];
    }
    printf("acquisitions per thread: %ld %ld (total %ld, %.1f s)\n", counts[0], counts[1], *total,
           rt_test_now() - t0);
    CHECK_EQ_INT(plain_shared, *total); /* and mutual exclusion held */
}

static void two_threads_hammering_a_lock_each_get_a_substantial_share(void) {
    long total = 0, least = 0;
    int attempt;
    CHECK_OK(rt_lock_new(&contended));
    for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
        measure(&total, &least);
        if (total >= MIN_TOTAL && least * 10 >= total) break;
    }
    if (attempt > ATTEMPTS)
        rt_test_fail(__FILE__, __LINE__,
                     "%d measurements out of %d were unfair; the last: %ld of %ld acquisitions "
                     "for the least served thread (at least a tenth and %d in all required)",
                     ATTEMPTS, ATTEMPTS, least, total, MIN_TOTAL);
    CHECK_OK(rt_lock_free(contended));
}

RT_CASES(RT_CASE(two_threads_hammering_a_lock_each_get_a_substantial_share))
