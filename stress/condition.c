/*
 * Condition notifies racing timeouts. Waiters with tiny timeouts and waiters without a bound
 * share one condition; notifiers wake them. A notify must never be lost to a waiter that times
 * out: a waiter taken by notify(n) returns RT_OK, one that timed out was not counted.
 *
 * notify(n): under the lock, the notifier knows how many unbounded waiters are inside wait and
 * how many notifications are still owed (sent, not yet received). Those unbounded waiters not
 * owed one are certainly queued, so a notify(n) with n at most their number must wake exactly n
 * threads: in the end the RT_OK results must equal the notifications sent, and no RT_OK may
 * come without one. A notification lost to a timeout leaves an unbounded waiter asleep forever,
 * and the drain at the end hangs (the watchdog reports the counters).
 *
 * notify_all: issued when every unbounded waiter is inside wait; each of them must return
 * RT_OK before the next one, and no waiter may return RT_OK unless a notify_all came after it
 * began to wait.
 *
 * The waiters with timeouts are also interrupted at random moments: a waiter taken by a notify
 * returns RT_OK even if an interrupt comes too (the interrupt waits for its next wait), and
 * one that returns RT_EINTR was not counted. Every waiter checks, when wait returns, that it
 * holds the lock at its recursion level.
 */
#include "stress.h"

#define TIMED 4
#define UNBOUNDED 3
#define NOTIFIERS 2

static double tiny_timeout(uint64_t *rng) {
    static const double choices[] = {0.0, 0.00002, 0.0002, 0.0009, 0.001, 0.0011, 0.002};
    return choices[stress_below(rng, sizeof choices / sizeof choices[0])];
}

static rt_condition *cond;
static rt_rlock *rlock;             /* the condition's lock, for notify(n) */
static rt_lock *lock;               /* the condition's lock, for notify_all */
static int stop_timed, stop_all, unbounded_alive;

/* Guarded by the condition's lock. */
static volatile int holder;
static int in_wait_unbounded;
static long sent, received, timeouts, interrupted, notify_calls, all_gen;
static long woken[UNBOUNDED];

static void dump(void) {
    int i;
    fprintf(stderr, "condition: sent %ld, received %ld, timeouts %ld, notify calls %ld, "
                    "notify_all %ld, unbounded in wait %d, alive %d, woken:",
            sent, received, timeouts, notify_calls, all_gen, in_wait_unbounded,
            ATOMIC_LOAD(&unbounded_alive));
    for (i = 0; i < UNBOUNDED; i++) fprintf(stderr, " %ld", ATOMIC_LOAD(&woken[i]));
    fprintf(stderr, "\n");
}

/* Takes the lock `levels` deep (again after an interrupt) and marks the caller as its holder. */
static void enter(int me, int levels) {
    rt_status s;
    int l;
    while ((s = rt_condition_acquire(cond, 1, RT_FOREVER)) == RT_EINTR) {
    }
    CHECK_OK(s);
    for (l = 1; l < levels; l++) CHECK_OK(rt_condition_acquire(cond, 1, RT_FOREVER));
    CHECK(holder == 0);
    holder = me;
}

static void leave(int me, int levels) {
    int l;
    CHECK(holder == me);
    holder = 0;
    for (l = 0; l < levels; l++) CHECK_OK(rt_condition_release(cond));
}

/* wait, with the holder mark cleared meanwhile; checks the lock is back at `levels`. */
static rt_status marked_wait(int me, int levels, double timeout) {
    rt_status s;
    CHECK(holder == me);
    holder = 0;
    s = rt_condition_wait(cond, timeout);
    CHECK(holder == 0);
    holder = me;
    if (rlock) CHECK_EQ_INT(rt_rlock_count(rlock), levels);
    else CHECK(rt_lock_locked(lock));
    return s;
}

/* ---- notify(n) ---- */

static void notify_n_waiter(void *arg) {
    int me = (int)(intptr_t)arg;
    int bounded = me <= TIMED;
    uint64_t rng = (uint64_t)me * 2654435761u + 1;
    while (!ATOMIC_LOAD(bounded ? &stop_timed : &stop_all)) {
        int levels = 1 + (int)stress_below(&rng, 2);
        rt_status s;
        enter(me, levels);
        if (!bounded) in_wait_unbounded++;
        s = marked_wait(me, levels, bounded ? tiny_timeout(&rng) : RT_FOREVER);
        if (!bounded) in_wait_unbounded--;
        if (s == RT_OK) {
            received++;
            CHECK(received <= sent); /* never woken without a notification */
        } else if (s == RT_EINTR) {
            CHECK(bounded);
            interrupted++;
        } else {
            CHECK(bounded);
            CHECK_STATUS(s, RT_TIMEOUT);
            timeouts++;
        }
        leave(me, levels);
        stress_spin(stress_below(&rng, 3000));
    }
    if (!bounded) ATOMIC_SUB(&unbounded_alive, 1);
}

static void notify_n_notifier(void *arg) {
    int me = -1 - (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)(intptr_t)arg * 31 + 17;
    while (ATOMIC_LOAD(&unbounded_alive) > 0) {
        long certainly_queued;
        enter(me, 1);
        certainly_queued = in_wait_unbounded - (sent - received);
        CHECK(certainly_queued >= 0);
        if (certainly_queued > 0) {
            long n = 1 + (long)stress_below(&rng, certainly_queued < 3 ? (unsigned)certainly_queued : 3);
            CHECK_OK(rt_condition_notify(cond, (size_t)n));
            sent += n;
            notify_calls++;
        }
        leave(me, 1);
        if (stress_below(&rng, 4) == 0) stress_yield();
        else stress_spin(stress_below(&rng, 5000));
    }
}

/* Runs the waiters and notifiers; returns the number of interrupts sent. */
static long run(rt_thread_fn waiter, rt_thread_fn notifier) {
    rt_thread *timed[TIMED], *unbounded[UNBOUNDED], *notifiers[NOTIFIERS];
    void *args[TIMED + UNBOUNDED + 1];
    long sent_interrupts;
    int i;
    for (i = 0; i < TIMED + UNBOUNDED + 1; i++) args[i] = (void *)(intptr_t)i;
    unbounded_alive = UNBOUNDED;
    stress_start(timed, TIMED, waiter, args + 1);
    stress_start(unbounded, UNBOUNDED, waiter, args + 1 + TIMED);
    stress_start(notifiers, NOTIFIERS, notifier, args);
    stress_interrupter_start(timed, TIMED);
    rt_test_sleep(stress_seconds());
    ATOMIC_STORE(&stop_timed, 1);
    stress_join_only(timed, TIMED);
    sent_interrupts = stress_interrupter_stop();
    stress_release(timed, TIMED);
    /* The drain: each unbounded waiter needs one more wake-up to see stop_all. */
    ATOMIC_STORE(&stop_all, 1);
    stress_join(unbounded, UNBOUNDED);
    stress_join(notifiers, NOTIFIERS);
    return sent_interrupts;
}

static void condition_notify_n_racing_timeouts_is_never_lost(void) {
    double t0 = rt_test_now();
    long interrupts;
    CHECK_OK(rt_rlock_new(&rlock));
    CHECK_OK(rt_condition_new_with_rlock(rlock, &cond));
    stress_watchdog(stress_budget(1.0), dump);
    interrupts = run(notify_n_waiter, notify_n_notifier);
    printf("condition_notify_n: %d timed (interrupted at random) + %d unbounded waiters "
           "(RLock, 1 or 2 levels), %d notifiers; %ld notify calls sent %ld wake-ups, %ld "
           "received, %ld timeouts, %ld interrupted (%ld interrupts) in %.2f s\n",
           TIMED, UNBOUNDED, NOTIFIERS, notify_calls, sent, received, timeouts, interrupted,
           interrupts, rt_test_now() - t0);
    CHECK(interrupted <= interrupts);
    CHECK_EQ_INT(received, sent);
    CHECK(sent > 0);
    CHECK(timeouts > 0);
    CHECK_OK(rt_condition_free(cond));
    CHECK_OK(rt_rlock_free(rlock));
}

/* ---- notify_all ---- */

static void notify_all_waiter(void *arg) {
    int me = (int)(intptr_t)arg;
    int bounded = me <= TIMED;
    uint64_t rng = (uint64_t)me * 40503 + 9;
    while (!ATOMIC_LOAD(bounded ? &stop_timed : &stop_all)) {
        long gen;
        rt_status s;
        enter(me, 1);
        if (!bounded) in_wait_unbounded++;
        gen = all_gen;
        s = marked_wait(me, 1, bounded ? tiny_timeout(&rng) : RT_FOREVER);
        if (!bounded) in_wait_unbounded--;
        if (s == RT_OK) {
            CHECK(all_gen > gen); /* a notify_all came after this wait began */
            received++;
            if (!bounded) ATOMIC_ADD(&woken[me - TIMED - 1], 1);
        } else if (s == RT_EINTR) {
            CHECK(bounded);
            interrupted++;
        } else {
            CHECK(bounded);
            CHECK_STATUS(s, RT_TIMEOUT);
            timeouts++;
        }
        leave(me, 1);
        stress_spin(stress_below(&rng, 3000));
    }
    if (!bounded) ATOMIC_SUB(&unbounded_alive, 1);
}

/* One notifier runs the rounds; the other only takes the lock now and then. */
static void notify_all_notifier(void *arg) {
    int me = -1 - (int)(intptr_t)arg;
    int leader = (intptr_t)arg == 0;
    uint64_t rng = (uint64_t)(intptr_t)arg * 77 + 1;
    while (ATOMIC_LOAD(&unbounded_alive) > 0) {
        long before[UNBOUNDED];
        int i, all_in = 0;
        enter(me, 1);
        if (leader && in_wait_unbounded == ATOMIC_LOAD(&unbounded_alive)) {
            for (i = 0; i < UNBOUNDED; i++) before[i] = ATOMIC_LOAD(&woken[i]);
            all_gen++;
            CHECK_OK(rt_condition_notify_all(cond));
            notify_calls++;
            all_in = 1;
        }
        leave(me, 1);
        if (all_in) {
            /* Every unbounded waiter was queued: each must come back notified. */
            for (i = 0; i < UNBOUNDED; i++)
                while (ATOMIC_LOAD(&woken[i]) == before[i] && ATOMIC_LOAD(&stop_all) == 0)
                    stress_yield();
        }
        if (stress_below(&rng, 4) == 0) stress_yield();
        else stress_spin(stress_below(&rng, 5000));
    }
}

static void condition_notify_all_racing_timeouts_wakes_every_waiter(void) {
    double t0 = rt_test_now();
    long interrupts;
    CHECK_OK(rt_lock_new(&lock));
    CHECK_OK(rt_condition_new_with_lock(lock, &cond));
    stress_watchdog(stress_budget(1.0), dump);
    interrupts = run(notify_all_waiter, notify_all_notifier);
    printf("condition_notify_all: %d timed (interrupted at random) + %d unbounded waiters "
           "(Lock), %d notifiers; %ld notify_all calls, %ld waits notified, %ld timeouts, %ld "
           "interrupted (%ld interrupts) in %.2f s\n",
           TIMED, UNBOUNDED, NOTIFIERS, notify_calls, received, timeouts, interrupted,
           interrupts, rt_test_now() - t0);
    CHECK(interrupted <= interrupts);
    CHECK(notify_calls > 0);
    CHECK(timeouts > 0);
    CHECK(!rt_lock_locked(lock));
    CHECK_OK(rt_condition_free(cond));
    CHECK_OK(rt_lock_free(lock));
}

RT_CASES(
    RT_CASE(condition_notify_n_racing_timeouts_is_never_lost),
    RT_CASE(condition_notify_all_racing_timeouts_wakes_every_waiter)
)
