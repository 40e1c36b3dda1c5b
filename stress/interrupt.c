/*
 * Interrupts racing every kind of wait. Victim threads cycle through every blocking call (lock,
 * rlock, condition acquire and wait on an RLock and on a Lock, wait_for, semaphore, event,
 * barrier, queue get, put and join, thread join), with tiny, short or no timeouts; helper
 * threads make those waits end normally (they release, notify, set, put, get, arrive), and an
 * interrupter fires rt_thread_interrupt at a random victim at random moments.
 *
 * Every wait must end with its normal result or RT_EINTR, and leave consistent state: an
 * interrupted acquire holds nothing, an interrupted condition wait holds its lock again at its
 * recursion level, an interrupted semaphore acquire took no permit, an interrupted get took no
 * item and an interrupted put added none (the permit and item accounts balance at the end),
 * an interrupted barrier wait breaks the barrier or leaves it alone, and nothing hangs: waits
 * without a timeout are ended by a helper or by an interrupt (the watchdog reports a hang).
 * No more waits end with RT_EINTR than interrupts were sent.
 */
#include "stress.h"

#define VICTIMS 3

enum op {
    OP_LOCK, OP_RLOCK, OP_COND_RLOCK, OP_COND_LOCK, OP_WAIT_FOR, OP_SEMAPHORE, OP_EVENT,
    OP_BARRIER, OP_GET, OP_PUT, OP_JOIN_QUEUE, OP_JOIN_THREAD, OPS
};
static const char *op_names[OPS] = {"lock", "rlock", "condition(rlock)", "condition(lock)",
                                    "wait_for", "semaphore", "event", "barrier", "queue get",
                                    "queue put", "queue join", "thread join"};
enum { R_OK, R_OTHER, R_EINTR, RESULTS }; /* R_OTHER: timeout, empty, full, broken */

static rt_lock *lock, *cond_lock;
static rt_rlock *rlock, *cond_rlock;
static rt_condition *cond_r, *cond_l;
static rt_semaphore *sem;
static rt_event *event;
static rt_barrier *barrier;
static rt_queue *getq, *putq;
static rt_thread *victims[VICTIMS];

static int stop, victims_alive;
static volatile int lock_holder, cond_l_holder, cond_r_flag;
static long results[OPS][RESULTS];
static int current_op[VICTIMS];
static long interrupts_sent, permits_given, permits_taken, sets_started, sets_done;
static uint64_t getq_put, getq_got, putq_put, putq_got;
static long helper_rounds;

static void dump(void) {
    int i;
    fprintf(stderr, "interrupt: sent %ld, helper rounds %ld, victims alive %d; ops now:",
            ATOMIC_LOAD(&interrupts_sent), ATOMIC_LOAD(&helper_rounds),
            ATOMIC_LOAD(&victims_alive));
    for (i = 0; i < VICTIMS; i++) fprintf(stderr, " %s", op_names[ATOMIC_LOAD(&current_op[i])]);
    fprintf(stderr, "; lock %d, semaphore %lld, event %d, barrier broken %d waiting %zu, "
                    "queues %zu/%zu unfinished %zu\n",
            (int)rt_lock_locked(lock), (long long)rt_semaphore_value(sem),
            (int)rt_event_is_set(event), (int)rt_barrier_broken(barrier),
            rt_barrier_n_waiting(barrier), rt_queue_qsize(getq), rt_queue_qsize(putq),
            rt_queue_unfinished_tasks(getq));
}

static double some_timeout(uint64_t *rng) {
    switch (stress_below(rng, 4)) {
    case 0: return RT_FOREVER;
    case 1: return 0.0;
    case 2: return 0.0001 * stress_below(rng, 20);
    default: return 0.001 * stress_below(rng, 10);
    }
}

static uint64_t hash(uintptr_t v) {
    return (uint64_t)v * 0x9E3779B97F4A7C15ull;
}

static int flag_is_set(void *ctx) {
    (void)ctx;
    return cond_r_flag;
}

static void thread_to_join(void *arg) {
    stress_spin((unsigned)(uintptr_t)arg);
}

/* Classifies `s` as the normal result `ok`, one of the normal failures, or RT_EINTR. */
static int classify(rt_status s, rt_status other) {
    if (s == RT_OK) return R_OK;
    if (s == RT_EINTR) return R_EINTR;
    CHECK_STATUS(s, other);
    return R_OTHER;
}

static int do_op(int me, enum op op, double t, uint64_t *rng) {
    rt_status s;
    int r, level, l;
    void *item;
    switch (op) {
    case OP_LOCK:
        r = classify(rt_lock_acquire(lock, 1, t), RT_TIMEOUT);
        if (r == R_OK) {
            CHECK(lock_holder == 0);
            lock_holder = me;
            stress_spin(stress_below(rng, 2000));
            CHECK(lock_holder == me);
            lock_holder = 0;
            CHECK_OK(rt_lock_release(lock));
        }
        return r;
    case OP_RLOCK:
        r = classify(rt_rlock_acquire(rlock, 1, t), RT_TIMEOUT);
        if (r == R_OK) {
            CHECK_EQ_INT(rt_rlock_count(rlock), 1);
            /* Re-entry never blocks, so a pending interrupt cannot end it. */
            CHECK_OK(rt_rlock_acquire(rlock, 1, RT_FOREVER));
            CHECK_EQ_INT(rt_rlock_count(rlock), 2);
            CHECK_OK(rt_rlock_release(rlock));
            CHECK_OK(rt_rlock_release(rlock));
        }
        CHECK(!rt_rlock_is_owned(rlock));
        CHECK_EQ_INT(rt_rlock_count(rlock), 0);
        return r;
    case OP_COND_RLOCK:
    case OP_WAIT_FOR:
        level = 1 + (int)stress_below(rng, 2);
        for (l = 0; l < level; l++) {
            s = rt_condition_acquire(cond_r, 1, RT_FOREVER);
            if (s == RT_EINTR) break; /* the first, blocking acquire only */
            CHECK_OK(s);
        }
        if (l < level) {
            CHECK_EQ_INT(l, 0);
            CHECK(!rt_rlock_is_owned(cond_rlock));
            return R_EINTR;
        }
        if (op == OP_WAIT_FOR) {
            s = rt_condition_wait_for(cond_r, flag_is_set, NULL, t);
            if (s == RT_OK) CHECK(cond_r_flag);
        } else {
            s = rt_condition_wait(cond_r, t);
        }
        /* Whatever ended the wait, the lock is ours again, at our level. */
        CHECK_EQ_INT(rt_rlock_count(cond_rlock), level);
        r = classify(s, RT_TIMEOUT);
        for (l = 0; l < level; l++) CHECK_OK(rt_condition_release(cond_r));
        return r;
    case OP_COND_LOCK:
        s = rt_condition_acquire(cond_l, 1, RT_FOREVER);
        if (s == RT_EINTR) return R_EINTR;
        CHECK_OK(s);
        CHECK(cond_l_holder == 0);
        cond_l_holder = me;
        stress_spin(stress_below(rng, 500));
        CHECK(cond_l_holder == me);
        cond_l_holder = 0;
        s = rt_condition_wait(cond_l, t);
        /* Whatever ended the wait, the lock is held again, by us alone. */
        CHECK(rt_lock_locked(cond_lock));
        CHECK(cond_l_holder == 0);
        cond_l_holder = me;
        r = classify(s, RT_TIMEOUT);
        stress_spin(stress_below(rng, 500));
        CHECK(cond_l_holder == me);
        cond_l_holder = 0;
        CHECK_OK(rt_condition_release(cond_l));
        return r;
    case OP_SEMAPHORE:
        r = classify(rt_semaphore_acquire(sem, 1, t), RT_TIMEOUT);
        if (r == R_OK) ATOMIC_ADD(&permits_taken, 1);
        return r;
    case OP_EVENT: {
        long before = ATOMIC_LOAD(&sets_done);
        r = classify(rt_event_wait(event, t), RT_TIMEOUT);
        if (r == R_OK) CHECK(ATOMIC_LOAD(&sets_started) > before);
        return r;
    }
    case OP_BARRIER: {
        size_t index = 2;
        r = classify(rt_barrier_wait(barrier, t, &index), RT_EBROKEN);
        if (r == R_OK) CHECK(index < 2);
        else if (rt_barrier_broken(barrier)) CHECK_OK(rt_barrier_reset(barrier));
        return r;
    }
    case OP_GET:
        item = NULL;
        s = t == 0.0 ? rt_queue_get(getq, 0, RT_FOREVER, &item) : rt_queue_get(getq, 1, t, &item);
        r = classify(s, RT_EEMPTY);
        if (r == R_OK) {
            ATOMIC_ADD(&getq_got, hash((uintptr_t)item));
            CHECK_OK(rt_queue_task_done(getq));
        }
        return r;
    case OP_PUT: {
        uintptr_t v = (uintptr_t)stress_rand(rng) | 1;
        r = classify(rt_queue_put(putq, (void *)v, 1, t), RT_EFULL);
        if (r == R_OK) ATOMIC_ADD(&putq_put, hash(v));
        return r;
    }
    case OP_JOIN_QUEUE:
        return classify(t < 0 ? rt_queue_join(getq) : rt_queue_join_timeout(getq, t), RT_TIMEOUT);
    case OP_JOIN_THREAD: {
        rt_thread *other;
        int first = -1;
        CHECK_OK(rt_thread_new(thread_to_join, (void *)(uintptr_t)stress_below(rng, 500000),
                               &other));
        CHECK_OK(rt_thread_start(other));
        /* Join until it is over; the first result is this op's. */
        for (;;) {
            s = rt_thread_join(other, t);
            r = classify(s, RT_TIMEOUT);
            if (first < 0) first = r;
            if (r == R_OK) break;
            t = 0.001;
        }
        CHECK(!rt_thread_is_alive(other));
        CHECK_OK(rt_thread_release(other));
        return first;
    }
    default:
        CHECK(0);
        return R_OTHER;
    }
}

static void victim(void *arg) {
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)me * 6700417 + 1;
    while (!ATOMIC_LOAD(&stop)) {
        enum op op = (enum op)stress_below(&rng, OPS);
        int r;
        ATOMIC_STORE(&current_op[me - 1], (int)op);
        r = do_op(me, op, some_timeout(&rng), &rng);
        ATOMIC_ADD(&results[op][r], 1);
        stress_spin(stress_below(&rng, 3000));
    }
    ATOMIC_SUB(&victims_alive, 1);
}

/* Holds the lock and the RLock for short spells. */
static void locker(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg;
    while (ATOMIC_LOAD(&victims_alive) > 0) {
        CHECK_OK(rt_lock_acquire(lock, 1, RT_FOREVER));
        CHECK(lock_holder == 0);
        lock_holder = -1;
        stress_spin(stress_below(&rng, 20000));
        lock_holder = 0;
        CHECK_OK(rt_lock_release(lock));
        CHECK_OK(rt_rlock_acquire(rlock, 1, RT_FOREVER));
        stress_spin(stress_below(&rng, 20000));
        CHECK_OK(rt_rlock_release(rlock));
        stress_spin(stress_below(&rng, 20000));
    }
}

/* Ends the other waits normally, now and then. */
static void waker(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg;
    uint64_t serial = 1;
    while (ATOMIC_LOAD(&victims_alive) > 0) {
        void *item;
        unsigned r = stress_below(&rng, 8);
        ATOMIC_ADD(&helper_rounds, 1);
        CHECK_OK(rt_condition_acquire(cond_r, 1, RT_FOREVER));
        cond_r_flag = stress_below(&rng, 2);
        if (r == 0) CHECK_OK(rt_condition_notify_all(cond_r));
        else CHECK_OK(rt_condition_notify(cond_r, r % 3));
        CHECK_OK(rt_condition_release(cond_r));
        CHECK_OK(rt_condition_acquire(cond_l, 1, RT_FOREVER));
        CHECK(cond_l_holder == 0);
        cond_l_holder = -1;
        if (r == 1) CHECK_OK(rt_condition_notify_all(cond_l));
        else CHECK_OK(rt_condition_notify(cond_l, 1));
        CHECK(cond_l_holder == -1);
        cond_l_holder = 0;
        CHECK_OK(rt_condition_release(cond_l));
        if (rt_semaphore_value(sem) == 0) {
            CHECK_OK(rt_semaphore_release(sem, 1 + r % 2));
            ATOMIC_ADD(&permits_given, 1 + r % 2);
        }
        ATOMIC_ADD(&sets_started, 1);
        CHECK_OK(rt_event_set(event));
        stress_spin(stress_below(&rng, 1000));
        CHECK_OK(rt_event_clear(event));
        ATOMIC_ADD(&sets_done, 1);
        if (rt_queue_qsize(getq) < 2) {
            uintptr_t v = (uintptr_t)(serial++ * 2 + 1);
            if (rt_queue_put(getq, (void *)v, 0, RT_FOREVER) == RT_OK)
                ATOMIC_ADD(&getq_put, hash(v));
        }
        /* Take some back, so that the queue's tasks are all done now and then. */
        if (r < 2 && rt_queue_get(getq, 0, RT_FOREVER, &item) == RT_OK) {
            ATOMIC_ADD(&getq_got, hash((uintptr_t)item));
            CHECK_OK(rt_queue_task_done(getq));
        }
        if (rt_queue_get(putq, 0, RT_FOREVER, &item) == RT_OK) {
            ATOMIC_ADD(&putq_got, hash((uintptr_t)item));
            CHECK_OK(rt_queue_task_done(putq));
        }
        stress_spin(stress_below(&rng, 20000));
    }
}

/* The victims' other party at the barrier: arrives with short timeouts, and repairs it. */
static void partner(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg;
    while (ATOMIC_LOAD(&victims_alive) > 0) {
        rt_status s = rt_barrier_wait(barrier, 0.0005 * stress_below(&rng, 10), NULL);
        if (s != RT_OK) {
            CHECK_STATUS(s, RT_EBROKEN);
            if (rt_barrier_broken(barrier)) CHECK_OK(rt_barrier_reset(barrier));
        }
        stress_spin(stress_below(&rng, 20000));
    }
}

static void interrupter(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg;
    /* Until the last victim is out: an interrupt also ends a wait nobody else would end. */
    while (ATOMIC_LOAD(&victims_alive) > 0) {
        unsigned r = stress_below(&rng, 16);
        CHECK_OK(rt_thread_interrupt(victims[stress_below(&rng, VICTIMS)]));
        ATOMIC_ADD(&interrupts_sent, 1);
        if (r == 0) rt_test_sleep(0.002);
        else if (r < 4) stress_yield();
        else stress_spin(stress_below(&rng, 200000));
    }
}

static void interrupts_racing_every_kind_of_wait_leave_consistent_state(void) {
    rt_thread *helpers[4];
    void *args[VICTIMS];
    void *item;
    long eintr = 0, total = 0;
    double t0;
    int i, o;
    CHECK_OK(rt_lock_new(&lock));
    CHECK_OK(rt_lock_new(&cond_lock));
    CHECK_OK(rt_rlock_new(&rlock));
    CHECK_OK(rt_rlock_new(&cond_rlock));
    CHECK_OK(rt_condition_new_with_rlock(cond_rlock, &cond_r));
    CHECK_OK(rt_condition_new_with_lock(cond_lock, &cond_l));
    CHECK_OK(rt_semaphore_new(0, &sem));
    CHECK_OK(rt_event_new(&event));
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &barrier));
    CHECK_OK(rt_queue_new(2, NULL, &getq));
    CHECK_OK(rt_queue_new(1, NULL, &putq));
    stress_watchdog(stress_budget(1.0), dump);
    victims_alive = VICTIMS;
    for (i = 0; i < VICTIMS; i++) args[i] = (void *)(intptr_t)(i + 1);
    t0 = rt_test_now();
    stress_start(victims, VICTIMS, victim, args);
    CHECK_OK(rt_thread_new(locker, (void *)11, &helpers[0]));
    CHECK_OK(rt_thread_new(waker, (void *)12, &helpers[1]));
    CHECK_OK(rt_thread_new(partner, (void *)13, &helpers[2]));
    CHECK_OK(rt_thread_new(interrupter, (void *)14, &helpers[3]));
    for (i = 0; i < 4; i++) CHECK_OK(rt_thread_start(helpers[i]));
    rt_test_sleep(stress_seconds());
    ATOMIC_STORE(&stop, 1);
    /* The interrupter uses the victims' handles until they have all left their loops. */
    for (i = 0; i < VICTIMS; i++) CHECK_OK(rt_thread_join(victims[i], RT_FOREVER));
    stress_join(helpers, 4);
    for (i = 0; i < VICTIMS; i++) CHECK_OK(rt_thread_release(victims[i]));

    printf("interrupt: %d victims, 4 helpers; %ld interrupts sent in %.2f s; per wait "
           "(ok/normal failure/RT_EINTR):",
           VICTIMS, interrupts_sent, rt_test_now() - t0);
    for (o = 0; o < OPS; o++) {
        printf(" %s %ld/%ld/%ld%s", op_names[o], results[o][R_OK], results[o][R_OTHER],
               results[o][R_EINTR], o + 1 < OPS ? "," : "\n");
        eintr += results[o][R_EINTR];
        total += results[o][R_OK] + results[o][R_OTHER] + results[o][R_EINTR];
    }
    CHECK(eintr <= interrupts_sent); /* one interrupt ends one wait at most */
    if (interrupts_sent >= 100) CHECK(eintr > 0); /* most interrupts end a wait */
    CHECK(total > OPS);
    /* Nothing is left held. */
    CHECK(!rt_lock_locked(lock));
    CHECK(!rt_lock_locked(cond_lock));
    CHECK_OK(rt_rlock_acquire(rlock, 0, RT_FOREVER));
    CHECK_OK(rt_rlock_release(rlock));
    CHECK_OK(rt_rlock_acquire(cond_rlock, 0, RT_FOREVER));
    CHECK_OK(rt_rlock_release(cond_rlock));
    /* Permits and items balance: no interrupted call took or added one. */
    CHECK_EQ_INT(permits_given - permits_taken, rt_semaphore_value(sem));
    while (rt_queue_get(getq, 0, RT_FOREVER, &item) == RT_OK) {
        getq_got += hash((uintptr_t)item);
        CHECK_OK(rt_queue_task_done(getq));
    }
    while (rt_queue_get(putq, 0, RT_FOREVER, &item) == RT_OK) {
        putq_got += hash((uintptr_t)item);
        CHECK_OK(rt_queue_task_done(putq));
    }
    CHECK(getq_put == getq_got);
    CHECK(putq_put == putq_got);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(getq), 0);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(putq), 0);
    CHECK_OK(rt_queue_free(getq));
    CHECK_OK(rt_queue_free(putq));
    CHECK_OK(rt_barrier_free(barrier));
    CHECK_OK(rt_event_free(event));
    CHECK_OK(rt_semaphore_free(sem));
    CHECK_OK(rt_condition_free(cond_r));
    CHECK_OK(rt_condition_free(cond_l));
    CHECK_OK(rt_rlock_free(cond_rlock));
    CHECK_OK(rt_rlock_free(rlock));
    CHECK_OK(rt_lock_free(cond_lock));
    CHECK_OK(rt_lock_free(lock));
}

RT_CASES(RT_CASE(interrupts_racing_every_kind_of_wait_leave_consistent_state))
