/*
 * No lost wake-up: waiters with tiny timeouts race the threads that wake them, beside waiters
 * that wait without bound. A wake-up spent on a waiter that then reports a timeout would leave
 * a resource unused while an unbounded waiter sleeps: the drain at the end of each case would
 * hang, and the watchdog reports it. The accounts check that every wake-up reported as
 * delivered (a permit, a lock, an event's set, a thread's end) was received exactly once.
 * The waiters with timeouts are also interrupted at random moments: a wait that ends with
 * RT_EINTR must not have consumed the wake-up either.
 */
#include "stress.h"

#define TIMED 4
#define FOREVER_WAITERS 2
#define GIVERS 2

/* Tiny timeouts, around the 1 ms after which a Lock hands itself over to its oldest waiter. */
static double tiny_timeout(uint64_t *rng) {
    static const double choices[] = {0.0, 0.00002, 0.0002, 0.0009, 0.001, 0.0011, 0.002};
    return choices[stress_below(rng, sizeof choices / sizeof choices[0])];
}

/*
 * Lock and Semaphore as permits: a giver releases ("gives") when the resource is taken and
 * someone is trying to take it; takers acquire ("take") and never release. Two givers race
 * each other (for a Lock, of two racing releases of a lock held once exactly one succeeds).
 * The account: permits given - permits taken = permits available, at every quiet moment.
 */
struct resource {
    const char *name;
    rt_status (*take)(double timeout);
    rt_status (*give)(uint64_t n); /* RT_OK, or RT_ENOTLOCKED when another giver got there */
    long (*available)(void);
    unsigned max_give;
};

static rt_lock *res_lock;
static rt_semaphore *res_sem;

static rt_status lock_take(double t) { return rt_lock_acquire(res_lock, 1, t); }
static rt_status lock_give(uint64_t n) {
    (void)n;
    return rt_lock_release(res_lock);
}
static long lock_available(void) { return rt_lock_locked(res_lock) ? 0 : 1; }
static rt_status sem_take(double t) { return rt_semaphore_acquire(res_sem, 1, t); }
static rt_status sem_give(uint64_t n) { return rt_semaphore_release(res_sem, n); }
static long sem_available(void) { return (long)rt_semaphore_value(res_sem); }

static struct resource *res;
static int stop_timed, stop_all, forever_alive, in_take;
static long given, taken, timeouts, interrupted, refused_gives;

static void resource_dump(void) {
    fprintf(stderr, "%s: given %ld, taken %ld, timeouts %ld, available %ld, in take %d, "
                    "unbounded takers alive %d\n",
            res->name, ATOMIC_LOAD(&given), ATOMIC_LOAD(&taken), ATOMIC_LOAD(&timeouts),
            res->available(), ATOMIC_LOAD(&in_take), ATOMIC_LOAD(&forever_alive));
}

static void timed_taker(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg * 31 + 7;
    while (!ATOMIC_LOAD(&stop_timed)) {
        rt_status s;
        ATOMIC_ADD(&in_take, 1);
        s = res->take(tiny_timeout(&rng));
        ATOMIC_SUB(&in_take, 1);
        if (s == RT_OK) ATOMIC_ADD(&taken, 1);
        else if (s == RT_EINTR) ATOMIC_ADD(&interrupted, 1);
        else {
            CHECK_STATUS(s, RT_TIMEOUT);
            ATOMIC_ADD(&timeouts, 1);
        }
        stress_spin(stress_below(&rng, 2000));
    }
}

static void forever_taker(void *arg) {
    (void)arg;
    while (!ATOMIC_LOAD(&stop_all)) {
        ATOMIC_ADD(&in_take, 1);
        CHECK_OK(res->take(RT_FOREVER));
        ATOMIC_SUB(&in_take, 1);
        ATOMIC_ADD(&taken, 1);
    }
    ATOMIC_SUB(&forever_alive, 1);
}

static void giver(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg * 131 + 3;
    /* Until every unbounded taker has seen stop_all and left: each needs one last permit. */
    while (ATOMIC_LOAD(&forever_alive) > 0) {
        if (res->available() == 0 && ATOMIC_LOAD(&in_take) > 0) {
            unsigned n = 1 + stress_below(&rng, res->max_give);
            rt_status s = res->give(n);
            if (s == RT_OK) ATOMIC_ADD(&given, (long)n);
            else {
                CHECK_STATUS(s, RT_ENOTLOCKED);
                ATOMIC_ADD(&refused_gives, 1);
            }
        }
        if (stress_below(&rng, 4) == 0) stress_yield();
        else stress_spin(stress_below(&rng, 3000));
    }
}

static void run_resource(struct resource *r) {
    rt_thread *timed[TIMED], *forever[FOREVER_WAITERS], *givers[GIVERS];
    void *args[TIMED];
    double t0, elapsed;
    long sent;
    int i;
    res = r;
    forever_alive = FOREVER_WAITERS;
    stress_watchdog(stress_budget(1.0), resource_dump);
    for (i = 0; i < TIMED; i++) args[i] = (void *)(intptr_t)(i + 1);
    t0 = rt_test_now();
    stress_start(forever, FOREVER_WAITERS, forever_taker, NULL);
    stress_start(timed, TIMED, timed_taker, args);
    stress_start(givers, GIVERS, giver, args);
    stress_interrupter_start(timed, TIMED);
    rt_test_sleep(stress_seconds());
    ATOMIC_STORE(&stop_timed, 1);
    stress_join_only(timed, TIMED);
    sent = stress_interrupter_stop();
    stress_release(timed, TIMED);
    /* The drain: only the unbounded takers are left, and the givers feed them one by one. */
    ATOMIC_STORE(&stop_all, 1);
    stress_join(forever, FOREVER_WAITERS);
    stress_join(givers, GIVERS);
    elapsed = rt_test_now() - t0;
    printf("%s: %d timed (interrupted at random) + %d unbounded takers, %d givers; %ld permits "
           "given, %ld taken, %ld timeouts, %ld interrupted (%ld interrupts), %ld refused "
           "releases in %.2f s\n",
           r->name, TIMED, FOREVER_WAITERS, GIVERS, given, taken, timeouts, interrupted, sent,
           refused_gives, elapsed);
    CHECK(interrupted <= sent);
    CHECK_EQ_INT(given - taken, r->available());
    CHECK(taken > 0);
}

static void lock_timeouts_racing_releases_lose_no_wakeup(void) {
    struct resource r = {"lock_wakeups", lock_take, lock_give, lock_available, 1};
    CHECK_OK(rt_lock_new(&res_lock));
    CHECK_OK(rt_lock_acquire(res_lock, 1, RT_FOREVER)); /* no permit to begin with */
    run_resource(&r);
    CHECK_OK(rt_lock_free(res_lock)); /* nobody is left waiting */
}

static void semaphore_timeouts_racing_releases_lose_no_wakeup(void) {
    struct resource r = {"semaphore_wakeups", sem_take, sem_give, sem_available, 3};
    CHECK_OK(rt_semaphore_new(0, &res_sem));
    run_resource(&r);
    CHECK_OK(rt_semaphore_free(res_sem));
}

/*
 * RLock: only the owner may release, so takers release themselves after a random hold. The
 * unbounded takers must keep getting the lock, the account of holders must never show two,
 * and the recursion level is always the caller's.
 */
static rt_rlock *rlock;
static volatile int rlock_holder;
static long rlock_taken[TIMED + FOREVER_WAITERS], rlock_timeouts, rlock_interrupted;

static void rlock_dump(void) {
    int i;
    fprintf(stderr, "rlock: holder %d, timeouts %ld, taken:", rlock_holder,
            ATOMIC_LOAD(&rlock_timeouts));
    for (i = 0; i < TIMED + FOREVER_WAITERS; i++) fprintf(stderr, " %ld", rlock_taken[i]);
    fprintf(stderr, "\n");
}

static void rlock_taker(void *arg) {
    int me = (int)(intptr_t)arg;
    int bounded = me < TIMED;
    uint64_t rng = (uint64_t)me * 977 + 5;
    while (!ATOMIC_LOAD(bounded ? &stop_timed : &stop_all)) {
        rt_status s = rt_rlock_acquire(rlock, 1, bounded ? tiny_timeout(&rng) : RT_FOREVER);
        unsigned hold = stress_below(&rng, 16);
        if ((s == RT_TIMEOUT || s == RT_EINTR) && bounded) {
            CHECK(!rt_rlock_is_owned(rlock));
            CHECK_EQ_INT(rt_rlock_count(rlock), 0);
            ATOMIC_ADD(s == RT_TIMEOUT ? &rlock_timeouts : &rlock_interrupted, 1);
            continue;
        }
        CHECK_STATUS(s, RT_OK);
        CHECK(rlock_holder == 0);
        rlock_holder = me + 1;
        CHECK_EQ_INT(rt_rlock_count(rlock), 1);
        /* Hold long enough, now and then, for the others to park and the hand-off to start. */
        stress_spin(hold == 0 ? 1000000 : hold * 100);
        CHECK(rlock_holder == me + 1);
        rlock_holder = 0;
        rlock_taken[me]++;
        CHECK_OK(rt_rlock_release(rlock));
        stress_spin(stress_below(&rng, 2000));
    }
}

static void rlock_timeouts_racing_releases_lose_no_wakeup(void) {
    rt_thread *t[TIMED + FOREVER_WAITERS];
    void *args[TIMED + FOREVER_WAITERS];
    long total = 0, sent;
    double t0;
    int i;
    CHECK_OK(rt_rlock_new(&rlock));
    stress_watchdog(stress_budget(1.0), rlock_dump);
    for (i = 0; i < TIMED + FOREVER_WAITERS; i++) args[i] = (void *)(intptr_t)i;
    t0 = rt_test_now();
    stress_start(t, TIMED + FOREVER_WAITERS, rlock_taker, args);
    stress_interrupter_start(t, TIMED); /* the first TIMED threads are the timed ones */
    rt_test_sleep(stress_seconds());
    ATOMIC_STORE(&stop_timed, 1);
    ATOMIC_STORE(&stop_all, 1);
    stress_join_only(t, TIMED + FOREVER_WAITERS);
    sent = stress_interrupter_stop();
    stress_release(t, TIMED + FOREVER_WAITERS);
    for (i = 0; i < TIMED + FOREVER_WAITERS; i++) total += rlock_taken[i];
    printf("rlock_wakeups: %d timed (interrupted at random) + %d unbounded takers; %ld "
           "acquisitions, %ld timeouts, %ld interrupted (%ld interrupts) in %.2f s\n",
           TIMED, FOREVER_WAITERS, total, rlock_timeouts, rlock_interrupted, sent,
           rt_test_now() - t0);
    CHECK(rlock_interrupted <= sent);
    for (i = TIMED; i < TIMED + FOREVER_WAITERS; i++) CHECK(rlock_taken[i] > 0);
    CHECK(!rt_rlock_is_owned(rlock));
    CHECK_OK(rt_rlock_acquire(rlock, 0, RT_FOREVER)); /* free */
    CHECK_OK(rt_rlock_release(rlock));
    CHECK_OK(rt_rlock_free(rlock));
}

/*
 * Event: rounds. In each, the setter waits until every unbounded waiter is at (or in) its
 * wait, then either sets the event and clears it once they have all returned, or, once they
 * all sleep, sets it and clears it at once: a waiter woken by a set must return RT_OK even if
 * the event was cleared before it ran (gh-57711). Timed waiters race the sets with tiny
 * timeouts: they may return RT_OK only if a set happened during their wait.
 */
#define EVENT_WAITERS 3

static rt_event *event;
static int round_no, event_done;
static int ready[EVENT_WAITERS], passed[EVENT_WAITERS];
static long waiter_tid[EVENT_WAITERS];
static long sets_started, sets_done, set_clear_at_once, event_ok, event_timeouts;
static long event_interrupted;

static void event_dump(void) {
    int i;
    fprintf(stderr, "event: round %d, set %d;", ATOMIC_LOAD(&round_no), rt_event_is_set(event));
    for (i = 0; i < EVENT_WAITERS; i++)
        fprintf(stderr, " waiter %d ready for %d, passed %d;", i, ATOMIC_LOAD(&ready[i]),
                ATOMIC_LOAD(&passed[i]));
    fprintf(stderr, "\n");
}

static void event_waiter(void *arg) {
    int me = (int)(intptr_t)arg;
    ATOMIC_STORE(&waiter_tid[me], (long)rt_get_native_id());
    for (;;) {
        int k = ATOMIC_LOAD(&round_no);
        if (ATOMIC_LOAD(&event_done)) break;
        ATOMIC_STORE(&ready[me], k);
        CHECK_OK(rt_event_wait(event, RT_FOREVER));
        ATOMIC_STORE(&passed[me], k);
        while (ATOMIC_LOAD(&round_no) == k && !ATOMIC_LOAD(&event_done)) stress_yield();
    }
}

static void event_timed_waiter(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg * 7 + 11;
    while (!ATOMIC_LOAD(&event_done)) {
        long before = ATOMIC_LOAD(&sets_done);
        rt_status s = rt_event_wait(event, tiny_timeout(&rng));
        if (s == RT_OK) {
            /* A set began after the last one that had ended before this wait began. */
            CHECK(ATOMIC_LOAD(&sets_started) > before);
            ATOMIC_ADD(&event_ok, 1);
            stress_yield(); /* the event may stay set for a while: let the others run */
        } else if (s == RT_EINTR) {
            ATOMIC_ADD(&event_interrupted, 1);
        } else {
            CHECK_STATUS(s, RT_TIMEOUT);
            ATOMIC_ADD(&event_timeouts, 1);
        }
    }
}

static int all_at_least(int *v, int k) {
    int i;
    for (i = 0; i < EVENT_WAITERS; i++)
        if (ATOMIC_LOAD(&v[i]) < k) return 0;
    return 1;
}

static int all_asleep(void) {
    int i;
    for (i = 0; i < EVENT_WAITERS; i++)
        if (!rt_test_sleeps_in_futex(ATOMIC_LOAD(&waiter_tid[i]))) return 0;
    return 1;
}

static void event_timeouts_racing_sets_lose_no_wakeup(void) {
    rt_thread *w[EVENT_WAITERS], *timed[TIMED];
    void *args[TIMED];
    uint64_t rng = 99;
    double t0, until;
    long sent;
    int i, k;
    CHECK_OK(rt_event_new(&event));
    stress_watchdog(stress_budget(1.0), event_dump);
    for (i = 0; i < TIMED; i++) args[i] = (void *)(intptr_t)i;
    for (i = 0; i < EVENT_WAITERS; i++) ready[i] = passed[i] = -1;
    t0 = rt_test_now();
    until = t0 + stress_seconds();
    stress_start(w, EVENT_WAITERS, event_waiter, args);
    stress_start(timed, TIMED, event_timed_waiter, args);
    stress_interrupter_start(timed, TIMED);
    for (k = 0; rt_test_now() < until; k++) {
        int at_once = stress_below(&rng, 4) == 0;
        while (!all_at_least(ready, k)) stress_yield();
        if (at_once) {
            /* Every unbounded waiter is in the wait, asleep: set and clear at once. */
            while (!all_asleep()) stress_yield();
            ATOMIC_ADD(&sets_started, 1);
            CHECK_OK(rt_event_set(event));
            CHECK_OK(rt_event_clear(event));
            ATOMIC_ADD(&sets_done, 1);
            set_clear_at_once++;
            while (!all_at_least(passed, k)) stress_yield();
        } else {
            ATOMIC_ADD(&sets_started, 1);
            CHECK_OK(rt_event_set(event));
            while (!all_at_least(passed, k)) stress_yield();
            CHECK_OK(rt_event_clear(event));
            ATOMIC_ADD(&sets_done, 1);
        }
        ATOMIC_STORE(&round_no, k + 1);
    }
    ATOMIC_STORE(&event_done, 1);
    ATOMIC_ADD(&sets_started, 1);
    CHECK_OK(rt_event_set(event)); /* for a waiter that began round k anyway */
    stress_join(w, EVENT_WAITERS);
    stress_join_only(timed, TIMED);
    sent = stress_interrupter_stop();
    stress_release(timed, TIMED);
    printf("event_wakeups: %d unbounded + %d timed waiters (interrupted at random); %d rounds "
           "(%ld set and cleared at once), %ld timed waits woken, %ld timed out, %ld "
           "interrupted (%ld interrupts) in %.2f s\n",
           EVENT_WAITERS, TIMED, k, set_clear_at_once, event_ok, event_timeouts,
           event_interrupted, sent, rt_test_now() - t0);
    CHECK(event_interrupted <= sent);
    CHECK(k > 0);
    CHECK_OK(rt_event_free(event));
}

/*
 * Thread join: short threads, each joined by one unbounded joiner and timed joiners that keep
 * retrying with tiny timeouts while the thread ends. A join that returns RT_OK must come after
 * the thread's function returned, and the thread must no longer be alive.
 */
#define JOINERS 4

static rt_thread *target;
static int target_gen, finished_gen, joined[JOINERS], join_done;
static long join_timeouts, join_interrupts, targets_run;

static void join_dump(void) {
    int i;
    fprintf(stderr, "join: target %d, finished %d;", ATOMIC_LOAD(&target_gen),
            ATOMIC_LOAD(&finished_gen));
    for (i = 0; i < JOINERS; i++) fprintf(stderr, " joiner %d at %d", i, ATOMIC_LOAD(&joined[i]));
    fprintf(stderr, "\n");
}

static void short_thread(void *arg) {
    int gen = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)gen * 17 + 1;
    stress_spin(stress_below(&rng, 4) ? stress_below(&rng, 30000) : 300000);
    ATOMIC_ADD(&targets_run, 1);
    ATOMIC_STORE(&finished_gen, gen);
}

static void joiner(void *arg) {
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)me * 5 + 3;
    int seen = 0;
    for (;;) {
        int gen;
        rt_status s;
        while ((gen = ATOMIC_LOAD(&target_gen)) == seen && !ATOMIC_LOAD(&join_done)) stress_yield();
        if (gen == seen) break;
        if (me == 0) {
            CHECK_OK(rt_thread_join(target, RT_FOREVER));
        } else {
            while ((s = rt_thread_join(target, tiny_timeout(&rng))) != RT_OK) {
                if (s == RT_EINTR) ATOMIC_ADD(&join_interrupts, 1);
                else {
                    CHECK_STATUS(s, RT_TIMEOUT);
                    ATOMIC_ADD(&join_timeouts, 1);
                }
            }
        }
        CHECK_EQ_INT(ATOMIC_LOAD(&finished_gen), gen);
        CHECK(!rt_thread_is_alive(target));
        seen = gen;
        ATOMIC_STORE(&joined[me], gen);
    }
}

static void thread_join_timeouts_racing_thread_ends_lose_no_wakeup(void) {
    rt_thread *j[JOINERS];
    void *args[JOINERS];
    double t0, until;
    long sent;
    int i, gen;
    stress_watchdog(stress_budget(1.0), join_dump);
    for (i = 0; i < JOINERS; i++) args[i] = (void *)(intptr_t)i;
    stress_start(j, JOINERS, joiner, args);
    stress_interrupter_start(j + 1, JOINERS - 1); /* joiner 0 waits without bound */
    t0 = rt_test_now();
    until = t0 + stress_seconds();
    for (gen = 1; rt_test_now() < until; gen++) {
        CHECK_OK(rt_thread_new(short_thread, (void *)(intptr_t)gen, &target));
        CHECK_OK(rt_thread_start(target));
        ATOMIC_STORE(&target_gen, gen);
        for (i = 0; i < JOINERS; i++)
            while (ATOMIC_LOAD(&joined[i]) != gen) stress_yield();
        CHECK_OK(rt_thread_release(target));
    }
    ATOMIC_STORE(&join_done, 1);
    stress_join_only(j, JOINERS);
    sent = stress_interrupter_stop();
    stress_release(j, JOINERS);
    printf("join_wakeups: %d threads, each joined by 1 unbounded + %d timed joiners "
           "(interrupted at random); %ld timed joins timed out, %ld interrupted (%ld "
           "interrupts) in %.2f s\n",
           gen - 1, JOINERS - 1, join_timeouts, join_interrupts, sent, rt_test_now() - t0);
    CHECK(join_interrupts <= sent);
    CHECK_EQ_INT(targets_run, gen - 1);
}

RT_CASES(
    RT_CASE(lock_timeouts_racing_releases_lose_no_wakeup),
    RT_CASE(rlock_timeouts_racing_releases_lose_no_wakeup),
    RT_CASE(semaphore_timeouts_racing_releases_lose_no_wakeup),
    RT_CASE(event_timeouts_racing_sets_lose_no_wakeup),
    RT_CASE(thread_join_timeouts_racing_thread_ends_lose_no_wakeup)
)
