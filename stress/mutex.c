/*
 * Mutual exclusion: 8 threads increment a plain (non-atomic) counter under a Lock, an RLock,
 * a Condition's lock and a Semaphore(1). Blocking, timed and non-blocking acquires are mixed,
 * so timeouts race hand-offs. Inside the critical section a thread marks itself as the holder
 * and checks, after a pause, that the mark is still its own; at the end the counter must equal
 * the number of successful acquisitions. Each thread checks every result as it goes.
 */
#include "stress.h"

#define THREADS 8

struct mutex_kind {
    const char *name;
    rt_status (*acquire)(void *obj, int wait, double timeout);
    rt_status (*release)(void *obj);
    uint64_t (*level)(void *obj); /* recursion level of the caller; NULL if not re-entrant */
    void *obj;
};

static rt_status lock_acquire(void *o, int w, double t) { return rt_lock_acquire(o, w, t); }
static rt_status lock_release(void *o) { return rt_lock_release(o); }
static rt_status rlock_acquire(void *o, int w, double t) { return rt_rlock_acquire(o, w, t); }
static rt_status rlock_release(void *o) { return rt_rlock_release(o); }
static uint64_t rlock_level(void *o) { return rt_rlock_count(o); }
static rt_status cond_acquire(void *o, int w, double t) { return rt_condition_acquire(o, w, t); }
static rt_status cond_release(void *o) { return rt_condition_release(o); }
static rt_status sem_acquire(void *o, int w, double t) { return rt_semaphore_acquire(o, w, t); }
static rt_status sem_release(void *o) { return rt_semaphore_release(o, 1); }

static struct mutex_kind *kind;
static int stop;
static volatile long counter; /* plain: only the lock protects it */
static volatile int holder;
static long acquired[THREADS];
static long refused[THREADS];
static rt_event *go;

static void dump(void) {
    int i;
    fprintf(stderr, "%s: counter %ld;", kind->name, (long)counter);
    for (i = 0; i < THREADS; i++) fprintf(stderr, " t%d %ld/%ld", i, acquired[i], refused[i]);
    fprintf(stderr, "\n");
}

static void hammer(void *arg) {
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)me * 7919 + 1;
    CHECK_OK(rt_event_wait(go, RT_FOREVER));
    while (!ATOMIC_LOAD(&stop)) {
        unsigned r = stress_below(&rng, 64);
        rt_status s;
        int levels = 1, l;
        if (r == 0) s = kind->acquire(kind->obj, 0, RT_FOREVER);
        else if (r < 4) s = kind->acquire(kind->obj, 1, 0.0005 * (double)(r * r - 1));
        else s = kind->acquire(kind->obj, 1, RT_FOREVER);
        if (s == RT_TIMEOUT) {
            refused[me]++;
            continue;
        }
        CHECK_STATUS(s, RT_OK);
        CHECK(holder == 0);
        holder = me + 1;
        if (kind->level) {
            /* Re-enter once in a while: never blocks, even with wait = 0. */
            if (r % 5 == 0) {
                CHECK_OK(kind->acquire(kind->obj, 0, RT_FOREVER));
                levels = 2;
            }
            CHECK_EQ_INT(kind->level(kind->obj), levels);
        }
        {
            long v = counter;
            /* Now and then a long hold: the others park, and timed tries time out. */
            if (r % 8 == 0) stress_spin(r == 8 ? 50000 : r * 4);
            counter = v + 1;
        }
        CHECK(holder == me + 1);
        holder = 0;
        acquired[me]++;
        for (l = 0; l < levels; l++) {
            CHECK_OK(kind->release(kind->obj));
        }
        stress_spin(stress_below(&rng, 200));
    }
}

static void run_counter(struct mutex_kind *k) {
    rt_thread *t[THREADS];
    long total = 0, total_refused = 0;
    double t0;
    int i;
    kind = k;
    stress_watchdog(stress_budget(1.0), dump);
    CHECK_OK(rt_event_new(&go));
    {
        void *args[THREADS];
        for (i = 0; i < THREADS; i++) args[i] = (void *)(intptr_t)i;
        stress_start(t, THREADS, hammer, args);
    }
    t0 = rt_test_now();
    CHECK_OK(rt_event_set(go));
    rt_test_sleep(stress_seconds());
    ATOMIC_STORE(&stop, 1);
    stress_join(t, THREADS);
    CHECK_OK(rt_event_free(go));
    for (i = 0; i < THREADS; i++) {
        total += acquired[i];
        total_refused += refused[i];
    }
    printf("%s: %d threads, %ld acquisitions and %ld timed-out or refused tries in %.2f s; "
           "counter %ld\n",
           k->name, THREADS, total, total_refused, rt_test_now() - t0, (long)counter);
    CHECK_EQ_INT(counter, total);
}

static void lock_keeps_a_plain_counter_exact_across_8_threads(void) {
    rt_lock *l;
    struct mutex_kind k = {"lock_counter", lock_acquire, lock_release, NULL, NULL};
    CHECK_OK(rt_lock_new(&l));
    k.obj = l;
    run_counter(&k);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

static void rlock_keeps_a_plain_counter_exact_across_8_threads(void) {
    rt_rlock *l;
    struct mutex_kind k = {"rlock_counter", rlock_acquire, rlock_release, rlock_level, NULL};
    CHECK_OK(rt_rlock_new(&l));
    k.obj = l;
    run_counter(&k);
    CHECK_OK(rt_rlock_acquire(l, 0, RT_FOREVER)); /* free, and nobody owns it */
    CHECK_EQ_INT(rt_rlock_count(l), 1);
    CHECK_OK(rt_rlock_release(l));
    CHECK_OK(rt_rlock_free(l));
}

static void condition_lock_keeps_a_plain_counter_exact_across_8_threads(void) {
    rt_condition *c;
    struct mutex_kind k = {"condition_counter", cond_acquire, cond_release, NULL, NULL};
    CHECK_OK(rt_condition_new(&c));
    k.obj = c;
    run_counter(&k);
    CHECK_OK(rt_condition_free(c));
}

static void semaphore_of_one_keeps_a_plain_counter_exact_across_8_threads(void) {
    rt_semaphore *s;
    struct mutex_kind k = {"semaphore_counter", sem_acquire, sem_release, NULL, NULL};
    CHECK_OK(rt_bounded_semaphore_new(1, &s));
    k.obj = s;
    run_counter(&k);
    CHECK_EQ_INT(rt_semaphore_value(s), 1);
    CHECK_OK(rt_semaphore_free(s));
}

RT_CASES(
    RT_CASE(lock_keeps_a_plain_counter_exact_across_8_threads),
    RT_CASE(rlock_keeps_a_plain_counter_exact_across_8_threads),
    RT_CASE(condition_lock_keeps_a_plain_counter_exact_across_8_threads),
    RT_CASE(semaphore_of_one_keeps_a_plain_counter_exact_across_8_threads)
)
