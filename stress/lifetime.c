/*
 * Objects freed as soon as their wait returns, while the thread that woke them may still be
 * returning from its call: a Lock released by another thread, a Semaphore released, an Event
 * set, a Condition notified. rthread must not touch an object after the point where the waiter
 * can see the wake-up (as POSIX lets sem_destroy follow sem_wait), so the free must succeed at
 * once and nothing may go wrong in the waker. Under valgrind (RTHREAD_TEST_WRAPPER) a touch
 * after the free shows up as an invalid read or write.
 */
#include "stress.h"

enum kind { LOCK, SEMAPHORE, EVENT, CONDITION, KINDS };
static const char *kind_names[KINDS] = {"lock", "semaphore", "event", "condition"};

static int job_gen, job_kind, done_gen, stop, flag;
static void *job_obj;
static long rounds[KINDS];

static void dump(void) {
    fprintf(stderr, "lifetime: job %d (%s), waker done %d\n", ATOMIC_LOAD(&job_gen),
            kind_names[ATOMIC_LOAD(&job_kind)], ATOMIC_LOAD(&done_gen));
}

static int condition_flag(void *ctx) {
    (void)ctx;
    return flag;
}

/* Wakes each object it is handed, after a random pause, and never touches it again. */
static void waker(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg;
    int seen = 0;
    for (;;) {
        int gen;
        void *obj;
        while ((gen = ATOMIC_LOAD(&job_gen)) == seen && !ATOMIC_LOAD(&stop)) stress_yield();
        if (gen == seen) break;
        seen = gen;
        obj = job_obj;
        stress_spin(stress_below(&rng, 4) == 0 ? 0 : stress_below(&rng, 200000));
        switch (ATOMIC_LOAD(&job_kind)) {
        case LOCK: CHECK_OK(rt_lock_release(obj)); break;
        case SEMAPHORE: CHECK_OK(rt_semaphore_release(obj, 1)); break;
        case EVENT: CHECK_OK(rt_event_set(obj)); break;
        default:
            CHECK_OK(rt_condition_acquire(obj, 1, RT_FOREVER));
            flag = 1;
            CHECK_OK(rt_condition_notify(obj, 1));
            CHECK_OK(rt_condition_release(obj));
            break;
        }
        ATOMIC_STORE(&done_gen, gen);
    }
}

static void post(enum kind k, void *obj) {
    job_obj = obj;
    ATOMIC_STORE(&job_kind, (int)k);
    ATOMIC_ADD(&job_gen, 1);
}

static void objects_freed_as_soon_as_their_wait_returns(void) {
    rt_thread *w;
    double t0 = rt_test_now(), until = t0 + stress_seconds();
    long total = 0;
    int i;
    stress_watchdog(stress_budget(1.0), dump);
    CHECK_OK(rt_thread_new(waker, (void *)5, &w));
    CHECK_OK(rt_thread_start(w));
    for (i = 0; rt_test_now() < until || i < 8; i++) {
        enum kind k = (enum kind)(i % KINDS);
        if (k == LOCK) {
            rt_lock *l;
            CHECK_OK(rt_lock_new(&l));
            CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
            post(k, l);
            CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER)); /* once the waker released it */
            CHECK_OK(rt_lock_free(l));                   /* freed while locked: allowed */
        } else if (k == SEMAPHORE) {
            rt_semaphore *s;
            CHECK_OK(rt_semaphore_new(0, &s));
            post(k, s);
            CHECK_OK(rt_semaphore_acquire(s, 1, RT_FOREVER));
            CHECK_OK(rt_semaphore_free(s));
        } else if (k == EVENT) {
            rt_event *e;
            CHECK_OK(rt_event_new(&e));
            post(k, e);
            CHECK_OK(rt_event_wait(e, RT_FOREVER));
            CHECK_OK(rt_event_free(e));
        } else {
            rt_condition *c;
            CHECK_OK(rt_condition_new(&c));
            flag = 0;
            CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
            post(k, c);
            CHECK_OK(rt_condition_wait_for(c, condition_flag, NULL, RT_FOREVER));
            CHECK_OK(rt_condition_release(c));
            CHECK_OK(rt_condition_free(c));
        }
        rounds[k]++;
        /* The waker may still be inside its call on the freed object; the next job waits for
         * it to come back for more. */
        while (ATOMIC_LOAD(&done_gen) != ATOMIC_LOAD(&job_gen)) stress_yield();
    }
    ATOMIC_STORE(&stop, 1);
    CHECK_OK(rt_thread_join(w, RT_FOREVER));
    CHECK_OK(rt_thread_release(w));
    for (i = 0; i < KINDS; i++) total += rounds[i];
    printf("lifetime: %ld objects freed as soon as their wait returned (%ld locks, %ld "
           "semaphores, %ld events, %ld conditions), 1 waker, in %.2f s\n",
           total, rounds[LOCK], rounds[SEMAPHORE], rounds[EVENT], rounds[CONDITION],
           rt_test_now() - t0);
}

RT_CASES(RT_CASE(objects_freed_as_soon_as_their_wait_returns))
