/*
 * Blocking hooks with a simulated global interpreter lock. Worker threads hold a "GIL" (a FIFO
 * ticket lock built on pthreads) whenever they run, and let it go only in the blocking hooks
 * (before a real block) and now and then between operations, as an interpreter does. They
 * hammer a Lock, an RLock, a Condition, a Semaphore, an Event, a queue and thread joins, with
 * tiny, short and unbounded waits, while an interrupter (which holds no GIL) interrupts them
 * at random.
 *
 * Any path that blocks without running the hooks, or that runs `after` without `before`, or
 * an internal lock held across a hook, shows up as a deadlock (the watchdog) or as a failed
 * check in the hooks: `before` must find the GIL held by its thread, `after` must find it not.
 */
#include "stress.h"

#include <pthread.h>

#define WORKERS 5

/* ---- the GIL: a FIFO ticket lock ---- */
static pthread_mutex_t gil_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gil_turn = PTHREAD_COND_INITIALIZER;
static unsigned long next_ticket, now_serving;
static pthread_t gil_owner;
static int gil_held;
static long gil_switches;

static void gil_acquire(void) {
    unsigned long mine;
    CHECK(pthread_mutex_lock(&gil_mutex) == 0);
    CHECK(!(gil_held && pthread_equal(gil_owner, pthread_self())));
    mine = next_ticket++;
    while (mine != now_serving) CHECK(pthread_cond_wait(&gil_turn, &gil_mutex) == 0);
    gil_held = 1;
    gil_owner = pthread_self();
    CHECK(pthread_mutex_unlock(&gil_mutex) == 0);
}

static void gil_release(void) {
    CHECK(pthread_mutex_lock(&gil_mutex) == 0);
    CHECK(gil_held && pthread_equal(gil_owner, pthread_self()));
    gil_held = 0;
    now_serving++;
    gil_switches++;
    CHECK(pthread_cond_broadcast(&gil_turn) == 0);
    CHECK(pthread_mutex_unlock(&gil_mutex) == 0);
}

/* ---- the hooks: only threads that take part (a thread-local mark) use the GIL ---- */
static rt_local *taking_part;
static long befores, afters;

static int takes_part(void) {
    void *v = NULL;
    return rt_local_get(taking_part, &v) == RT_OK && v != NULL;
}

static void before_block(void *ctx) {
    (void)ctx;
    if (!takes_part()) return;
    ATOMIC_ADD(&befores, 1);
    gil_release();
}

static void after_block(void *ctx) {
    (void)ctx;
    if (!takes_part()) return;
    ATOMIC_ADD(&afters, 1);
    gil_acquire();
}

static void enter_interpreter(void) {
    CHECK_OK(rt_local_set(taking_part, (void *)1));
    gil_acquire();
}

static void leave_interpreter(void) {
    gil_release();
    CHECK_OK(rt_local_set(taking_part, NULL));
}

/* ---- the workload ---- */
static rt_lock *lock;
static rt_rlock *rlock;
static rt_condition *cond;
static rt_semaphore *sem;
static rt_event *event;
static rt_queue *queue;
static rt_thread *workers[WORKERS];
static int stop, workers_alive;
static long ops[WORKERS], eintr, interrupts;
static volatile int lock_holder;

static void dump(void) {
    int i;
    fprintf(stderr, "hooks: GIL held %d (ticket %lu, serving %lu), befores %ld, afters %ld, "
                    "switches %ld, ops:",
            gil_held, next_ticket, now_serving, ATOMIC_LOAD(&befores), ATOMIC_LOAD(&afters),
            gil_switches);
    for (i = 0; i < WORKERS; i++) fprintf(stderr, " %ld", ATOMIC_LOAD(&ops[i]));
    fprintf(stderr, "\n");
}

static double some_timeout(uint64_t *rng) {
    switch (stress_below(rng, 4)) {
    case 0: return RT_FOREVER;
    case 1: return 0.0;
    case 2: return 0.0001 * stress_below(rng, 10);
    default: return 0.001 * stress_below(rng, 5);
    }
}

static void note(rt_status s) {
    if (s == RT_EINTR) ATOMIC_ADD(&eintr, 1);
}

/* A thread started by a worker: it enters the interpreter too, and waits a little. */
static void child(void *arg) {
    (void)arg;
    enter_interpreter();
    note(rt_event_wait(event, 0.001));
    leave_interpreter();
}

static void one_op(int me, uint64_t *rng) {
    double t = some_timeout(rng);
    void *item;
    rt_status s;
    int r;
    switch (stress_below(rng, 8)) {
    case 0:
        s = rt_lock_acquire(lock, 1, t);
        note(s);
        if (s == RT_OK) {
            CHECK(lock_holder == 0);
            lock_holder = me;
            if (stress_below(rng, 4) == 0) { /* a GIL switch while holding the lock */
                gil_release();
                stress_yield();
                gil_acquire();
            }
            CHECK(lock_holder == me);
            lock_holder = 0;
            CHECK_OK(rt_lock_release(lock));
        }
        break;
    case 1:
        s = rt_rlock_acquire(rlock, 1, t);
        note(s);
        if (s == RT_OK) {
            CHECK_OK(rt_rlock_acquire(rlock, 1, RT_FOREVER));
            CHECK_OK(rt_rlock_release(rlock));
            CHECK_OK(rt_rlock_release(rlock));
        }
        CHECK(!rt_rlock_is_owned(rlock));
        break;
    case 2:
        while ((s = rt_condition_acquire(cond, 1, RT_FOREVER)) == RT_EINTR) note(s);
        CHECK_OK(s);
        r = (int)stress_below(rng, 3);
        if (r == 0) CHECK_OK(rt_condition_notify(cond, 1));
        else if (r == 1) CHECK_OK(rt_condition_notify_all(cond));
        /* Unbounded waits are ended by another worker's notify, or an interrupt. */
        s = rt_condition_wait(cond, t);
        note(s);
        CHECK_OK(rt_condition_release(cond));
        break;
    case 3:
        s = rt_semaphore_acquire(sem, 1, t);
        note(s);
        if (s == RT_OK) CHECK_OK(rt_semaphore_release(sem, 1));
        break;
    case 4:
        r = (int)stress_below(rng, 4);
        if (r == 0) CHECK_OK(rt_event_set(event));
        else if (r == 1) CHECK_OK(rt_event_clear(event));
        else note(rt_event_wait(event, t));
        break;
    case 5:
        if (stress_below(rng, 2)) {
            s = rt_queue_put(queue, NULL, 1, t);
            note(s);
        } else {
            s = rt_queue_get(queue, 1, t, &item);
            note(s);
            if (s == RT_OK) CHECK_OK(rt_queue_task_done(queue));
        }
        break;
    case 6: {
        rt_thread *c;
        CHECK_OK(rt_thread_new(child, NULL, &c));
        CHECK_OK(rt_thread_start(c));
        while ((s = rt_thread_join(c, t)) != RT_OK) {
            /* A join that gave up without blocking kept the GIL: let the child have it. */
            note(s);
            gil_release();
            stress_yield();
            gil_acquire();
        }
        CHECK_OK(rt_thread_release(c));
        break;
    }
    default: /* the interpreter's switch interval */
        gil_release();
        stress_yield();
        gil_acquire();
        break;
    }
}

static void worker(void *arg) {
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)me * 1000003 + 1;
    enter_interpreter();
    while (!ATOMIC_LOAD(&stop)) {
        one_op(me, &rng);
        ATOMIC_ADD(&ops[me - 1], 1);
    }
    leave_interpreter();
    ATOMIC_SUB(&workers_alive, 1);
}

/* Also ends the unbounded waits once the workers stop: it interrupts until all are out. */
static void interrupter(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg;
    while (ATOMIC_LOAD(&workers_alive) > 0) {
        CHECK_OK(rt_thread_interrupt(workers[stress_below(&rng, WORKERS)]));
        ATOMIC_ADD(&interrupts, 1);
        stress_spin(stress_below(&rng, 2000000));
    }
}

static void blocking_hooks_with_a_global_lock_never_deadlock(void) {
    rt_thread *irq;
    void *args[WORKERS];
    long total = 0;
    double t0;
    int i;
    CHECK_OK(rt_local_new(NULL, &taking_part));
    CHECK_OK(rt_lock_new(&lock));
    CHECK_OK(rt_rlock_new(&rlock));
    CHECK_OK(rt_condition_new(&cond));
    CHECK_OK(rt_bounded_semaphore_new(2, &sem));
    CHECK_OK(rt_event_new(&event));
    CHECK_OK(rt_queue_new(4, NULL, &queue));
    stress_watchdog(stress_budget(1.0), dump);
    rt_set_blocking_hooks(before_block, after_block, NULL);
    for (i = 0; i < WORKERS; i++) args[i] = (void *)(intptr_t)(i + 1);
    workers_alive = WORKERS;
    t0 = rt_test_now();
    stress_start(workers, WORKERS, worker, args);
    CHECK_OK(rt_thread_new(interrupter, (void *)77, &irq));
    CHECK_OK(rt_thread_start(irq));
    rt_test_sleep(stress_seconds());
    ATOMIC_STORE(&stop, 1);
    stress_join_only(workers, WORKERS);
    CHECK_OK(rt_thread_join(irq, RT_FOREVER));
    CHECK_OK(rt_thread_release(irq));
    stress_release(workers, WORKERS);
    rt_set_blocking_hooks(NULL, NULL, NULL);
    for (i = 0; i < WORKERS; i++) total += ops[i];
    printf("hooks: %d workers under a global lock, %ld operations, %ld real blocks (hooks "
           "paired), %ld GIL switches, %ld waits interrupted (%ld interrupts) in %.2f s\n",
           WORKERS, total, befores, gil_switches, eintr, interrupts, rt_test_now() - t0);
    CHECK_EQ_INT(befores, afters);
    CHECK(!gil_held);
    for (i = 0; i < WORKERS; i++) CHECK(ops[i] > 0);
    CHECK(!rt_lock_locked(lock));
    CHECK_OK(rt_queue_free(queue));
    CHECK_OK(rt_event_free(event));
    CHECK_OK(rt_semaphore_free(sem));
    CHECK_OK(rt_condition_free(cond));
    CHECK_OK(rt_rlock_free(rlock));
    CHECK_OK(rt_lock_free(lock));
    CHECK_OK(rt_local_free(taking_part));
}

RT_CASES(RT_CASE(blocking_hooks_with_a_global_lock_never_deadlock))
