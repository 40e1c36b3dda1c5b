/* threading.Condition: seed 004's condition variable, case by case. */
#include "rt_test.h"

/* ---- helpers ---- */

/* A waiter: takes the condition's lock `levels` deep, counts itself in `*waiting` (under the
 * lock), waits, records the result and its recursion level afterwards, releases. */
struct waiter {
    rt_condition *cond;
    rt_rlock *rlock; /* the condition's lock when it is a borrowed RLock, else NULL */
    int *waiting;    /* shared: threads that have called wait (counted under the lock) */
    int *woken;      /* shared: threads whose wait returned RT_OK */
    int levels;
    double timeout;
    int result; /* 1000 + status */
    uint64_t level_after;
    double elapsed;
};

static void wait_in_thread(void *p) {
    struct waiter *w = p;
    int i;
    double t0;
    rt_status s;
    for (i = 0; i < w->levels; i++)
        if (rt_condition_acquire(w->cond, 1, RT_FOREVER) != RT_OK) abort();
    ATOMIC_ADD(w->waiting, 1);
    t0 = rt_test_now();
    s = rt_condition_wait(w->cond, w->timeout);
    w->elapsed = rt_test_now() - t0;
    if (s == RT_OK) ATOMIC_ADD(w->woken, 1);
    w->level_after = w->rlock != NULL ? rt_rlock_count(w->rlock) : 0;
    for (i = 0; i < w->levels; i++)
        if (rt_condition_release(w->cond) != RT_OK) abort();
    ATOMIC_STORE(&w->result, 1000 + (int)s);
}

static void start_waiters(struct waiter *w, int n, rt_condition *c, rt_rlock *rl, int *waiting,
                          int *woken, int levels, double timeout) {
    int i;
    for (i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].cond = c;
        w[i].rlock = rl;
        w[i].waiting = waiting;
        w[i].woken = woken;
        w[i].levels = levels;
        w[i].timeout = timeout;
        CHECK_OK(rt_start_new_thread(wait_in_thread, &w[i], NULL));
    }
}

/* Takes the condition's lock once `n` threads have called wait: they have all released the
 * lock by then (each counted itself while holding it), so they are all waiting. */
static void acquire_when_waiting(rt_condition *c, int *waiting, int n) {
    double until = rt_test_now() + 30.0;
    for (;;) {
        CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
        if (ATOMIC_LOAD(waiting) == n) return;
        CHECK_OK(rt_condition_release(c));
        if (rt_test_now() > until) rt_test_fail(__FILE__, __LINE__, "waiters never arrived");
        rt_test_sleep(0.001);
    }
}

static int count_done(struct waiter *w, int n) {
    int i, c = 0;
    for (i = 0; i < n; i++) c += ATOMIC_LOAD(&w[i].result) != 0;
    return c;
}

/* ---- creation, acquire and release ---- */

static void condition_new_and_free(void) {
    rt_condition *c = NULL;
    CHECK_OK(rt_condition_new(&c));
    CHECK(c != NULL);
    CHECK_OK(rt_condition_free(c));
}

static void condition_own_lock_is_an_rlock(void) {
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_acquire(c, 0, RT_FOREVER)); /* re-entry */
    CHECK_OK(rt_condition_acquire(c, 1, 0.0));
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_release(c));
    CHECK_ERR(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_condition_free(c));
}

static void condition_with_lock_forwards_to_the_lock(void) {
    rt_lock *l;
    rt_condition *c;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK(rt_lock_locked(l));
    CHECK_STATUS(rt_condition_acquire(c, 0, RT_FOREVER), RT_TIMEOUT); /* no re-entry */
    CHECK_STATUS(rt_condition_acquire(c, 1, 0.02), RT_TIMEOUT);
    CHECK_OK(rt_condition_release(c));
    CHECK(!rt_lock_locked(l));
    CHECK_ERR(rt_condition_release(c), RT_ENOTLOCKED, "release unlocked lock");
    /* The lock is the same object both ways. */
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_STATUS(rt_condition_acquire(c, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK_OK(rt_condition_release(c));
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_lock_free(l));
}

static void condition_with_rlock_forwards_to_the_rlock(void) {
    rt_rlock *rl;
    rt_condition *c;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_EQ_INT(rt_rlock_count(rl), 2);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_release(c));
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_ERR(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_acquire_validates_like_the_lock(void) {
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    CHECK_ERR(rt_condition_acquire(c, 1, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_condition_acquire(c, 1, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_condition_acquire(c, 0, 1.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK_ERR(rt_condition_acquire(c, 1, -2.0), RT_EINVAL,
              "timeout value must be a non-negative number");
    CHECK_ERR(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_condition_free(c));
}

/* ---- ownership ---- */

static void condition_wait_without_the_lock_fails(void) {
    rt_condition *own, *with_l, *with_rl;
    rt_lock *l;
    rt_rlock *rl;
    CHECK_OK(rt_condition_new(&own));
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_lock(l, &with_l));
    CHECK_OK(rt_condition_new_with_rlock(rl, &with_rl));
    CHECK_ERR(rt_condition_wait(own, RT_FOREVER), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    CHECK_ERR(rt_condition_wait(with_l, 1.0), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    CHECK_ERR(rt_condition_wait(with_rl, 0.0), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    /* Ownership is checked before the timeout, as in CPython. */
    CHECK_ERR(rt_condition_wait(own, NAN), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_condition_free(own));
    CHECK_OK(rt_condition_free(with_l));
    CHECK_OK(rt_condition_free(with_rl));
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_notify_without_the_lock_fails(void) {
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    CHECK_ERR(rt_condition_notify(c, 1), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    CHECK_ERR(rt_condition_notify(c, 0), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    CHECK_ERR(rt_condition_notify_all(c), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_notify(c, 1)); /* nobody waits: nothing happens */
    CHECK_OK(rt_condition_notify(c, 0));
    CHECK_OK(rt_condition_notify_all(c));
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
}

struct notify_args {
    rt_condition *cond;
    int wait_status;
    int notify_status;
    int notify_all_status;
    int done;
};

static void use_without_owning(void *p) {
    struct notify_args *a = p;
    a->wait_status = (int)rt_condition_wait(a->cond, 0.0);
    a->notify_status = (int)rt_condition_notify(a->cond, 1);
    a->notify_all_status = (int)rt_condition_notify_all(a->cond);
    ATOMIC_STORE(&a->done, 1);
}

static void condition_rlock_held_by_another_thread_is_not_owned(void) {
    struct notify_args a;
    memset(&a, 0, sizeof a);
    CHECK_OK(rt_condition_new(&a.cond));
    CHECK_OK(rt_condition_acquire(a.cond, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(use_without_owning, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK_EQ_INT(a.wait_status, RT_ENOTOWNER);
    CHECK_EQ_INT(a.notify_status, RT_ENOTOWNER);
    CHECK_EQ_INT(a.notify_all_status, RT_ENOTOWNER);
    CHECK_OK(rt_condition_release(a.cond));
    CHECK_OK(rt_condition_free(a.cond));
}

static void condition_plain_lock_owned_means_locked(void) {
    /* CPython's quirk C5: a Lock has no owner, so any thread may notify while it is locked. */
    struct notify_args a;
    rt_lock *l;
    memset(&a, 0, sizeof a);
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &a.cond));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(use_without_owning, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    /* Its wait(0) released main's lock and took it back. */
    CHECK_EQ_INT(a.wait_status, RT_TIMEOUT);
    CHECK_EQ_INT(a.notify_status, RT_OK);
    CHECK_EQ_INT(a.notify_all_status, RT_OK);
    CHECK(rt_lock_locked(l));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_condition_free(a.cond));
    CHECK_OK(rt_lock_free(l));
}

/* ---- wait ---- */

static void condition_wait_times_out(void) {
    rt_condition *c;
    rt_rlock *rl;
    double t0;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_condition_wait(c, 0.1), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(rt_rlock_is_owned(rl)); /* taken back */
    CHECK_EQ_INT(rt_rlock_count(rl), 1);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_wait_zero_polls_and_keeps_the_lock(void) {
    rt_condition *c;
    rt_rlock *rl;
    double t0;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_condition_wait(c, 0.0), RT_TIMEOUT);
    CHECK_STATUS(rt_condition_wait(c, -0.0), RT_TIMEOUT);
    CHECK_PROMPT(t0);
    CHECK_EQ_INT(rt_rlock_count(rl), 2);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_wait_validates_the_timeout(void) {
    rt_condition *c;
    rt_rlock *rl;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_ERR(rt_condition_wait(c, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_condition_wait(c, -2.0), RT_EINVAL, "timeout value must be a non-negative number");
    CHECK_ERR(rt_condition_wait(c, -0.5), RT_EINVAL, "timeout value must be a non-negative number");
    CHECK_ERR(rt_condition_wait(c, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_condition_wait(c, RT_TIMEOUT_MAX * 2), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_EQ_INT(rt_rlock_count(rl), 1); /* untouched */
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_notify_wakes_a_waiter(void) {
    struct waiter w[1];
    int waiting = 0, woken = 0;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    start_waiters(w, 1, c, NULL, &waiting, &woken, 1, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 1);
    CHECK_OK(rt_condition_notify(c, 1));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 1) == 1, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK_EQ_INT(woken, 1);
    CHECK_OK(rt_condition_free(c));
}

static void condition_timed_wait_returns_ok_when_notified(void) {
    struct waiter w[1];
    int waiting = 0, woken = 0;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    start_waiters(w, 1, c, NULL, &waiting, &woken, 1, 30.0);
    acquire_when_waiting(c, &waiting, 1);
    CHECK_OK(rt_condition_notify(c, 1));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 1) == 1, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK(w[0].elapsed < 20.0);
    CHECK_OK(rt_condition_free(c));
}

static void condition_wait_on_rlock_held_3_deep(void) {
    /* The wait releases all three levels (main can take the lock), and restores them. */
    struct waiter w[1];
    int waiting = 0, woken = 0;
    rt_rlock *rl;
    rt_condition *c;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    start_waiters(w, 1, c, rl, &waiting, &woken, 3, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 1);
    CHECK(rt_rlock_is_owned(rl));
    CHECK_EQ_INT(rt_rlock_count(rl), 1);
    CHECK_OK(rt_condition_notify(c, 1));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 1) == 1, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK_EQ_INT(w[0].level_after, 3);
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_notify_2_with_5_waiters_wakes_exactly_2(void) {
    struct waiter w[5];
    int waiting = 0, woken = 0;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    start_waiters(w, 5, c, NULL, &waiting, &woken, 1, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 5);
    CHECK_OK(rt_condition_notify(c, 2));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(ATOMIC_LOAD(&woken) == 2, 10.0);
    rt_test_sleep(0.1); /* a third would have had time to wake */
    CHECK_EQ_INT(ATOMIC_LOAD(&woken), 2);
    CHECK_EQ_INT(count_done(w, 5), 2);
    /* The other three still wait: one more notify wakes exactly one more. */
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_notify(c, 1));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(ATOMIC_LOAD(&woken) == 3, 10.0);
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&woken), 3);
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_notify_all(c));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 5) == 5, 10.0);
    CHECK_EQ_INT(woken, 5);
    CHECK_OK(rt_condition_free(c));
}

static void condition_notify_more_than_waiting_wakes_all(void) {
    struct waiter w[3];
    int waiting = 0, woken = 0;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    start_waiters(w, 3, c, NULL, &waiting, &woken, 1, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 3);
    CHECK_OK(rt_condition_notify(c, 10));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 3) == 3, 10.0);
    CHECK_EQ_INT(woken, 3);
    CHECK_OK(rt_condition_free(c));
}

static void condition_notify_zero_wakes_nobody(void) {
    struct waiter w[2];
    int waiting = 0, woken = 0;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    start_waiters(w, 2, c, NULL, &waiting, &woken, 1, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 2);
    CHECK_OK(rt_condition_notify(c, 0));
    CHECK_OK(rt_condition_release(c));
    rt_test_sleep(0.1);
    CHECK_EQ_INT(ATOMIC_LOAD(&woken), 0);
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_notify_all(c));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 2) == 2, 10.0);
    CHECK_EQ_INT(woken, 2);
    CHECK_OK(rt_condition_free(c));
}

static void condition_notify_all_wakes_every_waiter_at_its_level(void) {
    struct waiter w[6];
    int waiting = 0, woken = 0, i;
    rt_rlock *rl;
    rt_condition *c;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    start_waiters(w, 6, c, rl, &waiting, &woken, 2, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 6);
    CHECK_OK(rt_condition_notify_all(c));
    /* Still holding the lock: nobody can have returned yet. */
    rt_test_sleep(0.05);
    CHECK_EQ_INT(count_done(w, 6), 0);
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 6) == 6, 10.0);
    for (i = 0; i < 6; i++) {
        CHECK_EQ_INT(w[i].result, 1000 + RT_OK);
        CHECK_EQ_INT(w[i].level_after, 2);
    }
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_OK(rt_rlock_acquire(rl, 0, RT_FOREVER)); /* nobody holds it */
    CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_notified_waiter_returns_ok_even_if_the_lock_comes_late(void) {
    /* Waiters with a 1 s timeout are notified, then the notifier keeps the lock for 1.5 s:
     * they were notified, so they return RT_OK once they get the lock back. */
    struct waiter w[3];
    int waiting = 0, woken = 0, i;
    rt_lock *l;
    rt_condition *c;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &c));
    start_waiters(w, 3, c, NULL, &waiting, &woken, 1, 1.0);
    acquire_when_waiting(c, &waiting, 3);
    CHECK_OK(rt_condition_notify_all(c));
    rt_test_sleep(1.5);
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 3) == 3, 10.0);
    for (i = 0; i < 3; i++) CHECK_EQ_INT(w[i].result, 1000 + RT_OK);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_lock_free(l));
}

static void condition_timed_out_waiter_never_consumes_a_notify(void) {
    /* The lost wake-up: a waiter that timed out must not absorb a notify(1) meant for another
     * (in CPython one that timed out but is still queued can: it returns False and nobody else
     * wakes). Each
     * round, A waits 1 ms and B without bound; notify(1) then wakes exactly one of them. */
    int round;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    for (round = 0; round < 100; round++) {
        struct waiter w[2];
        int waiting = 0, woken = 0;
        memset(w, 0, sizeof w);
        w[0].cond = w[1].cond = c;
        w[0].waiting = w[1].waiting = &waiting;
        w[0].woken = w[1].woken = &woken;
        w[0].levels = w[1].levels = 1;
        w[0].timeout = 0.001;
        w[1].timeout = RT_FOREVER;
        CHECK_OK(rt_start_new_thread(wait_in_thread, &w[1], NULL));
        CHECK_OK(rt_start_new_thread(wait_in_thread, &w[0], NULL));
        acquire_when_waiting(c, &waiting, 2);
        CHECK_OK(rt_condition_notify(c, 1));
        CHECK_OK(rt_condition_release(c));
        /* A ends either way; one of the two was notified. */
        WAIT_UNTIL(ATOMIC_LOAD(&w[0].result) != 0 && ATOMIC_LOAD(&woken) == 1, 10.0);
        if (w[0].result == 1000 + RT_OK) {
            /* A took the notify: B must still be waiting. */
            rt_test_sleep(0.002);
            CHECK_EQ_INT(ATOMIC_LOAD(&w[1].result), 0);
            CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
            CHECK_OK(rt_condition_notify(c, 1));
            CHECK_OK(rt_condition_release(c));
        } else {
            CHECK_EQ_INT(w[0].result, 1000 + RT_TIMEOUT);
        }
        WAIT_UNTIL(ATOMIC_LOAD(&w[1].result) != 0, 10.0);
        CHECK_EQ_INT(w[1].result, 1000 + RT_OK);
        WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    }
    CHECK_OK(rt_condition_free(c));
}

/* ---- wait_for ---- */

struct pred_state {
    rt_rlock *rl;
    int value;
    int calls;
    int owned_in_every_call;
    int exit_status; /* what rt_exit_thread returned inside the predicate */
};

static int value_is_positive(void *ctx) {
    struct pred_state *p = ctx;
    p->calls++;
    if (p->rl != NULL && !rt_rlock_is_owned(p->rl)) p->owned_in_every_call = 0;
    return p->value > 0;
}

static int always_false(void *ctx) {
    struct pred_state *p = ctx;
    p->calls++;
    return 0;
}

static int always_true(void *ctx) {
    struct pred_state *p = ctx;
    p->calls++;
    return 1;
}

static void condition_wait_for_true_predicate_returns_at_once(void) {
    rt_condition *c;
    struct pred_state p;
    memset(&p, 0, sizeof p);
    CHECK_OK(rt_condition_new(&c));
    /* Even without the lock, as in CPython: the predicate comes first. */
    CHECK_OK(rt_condition_wait_for(c, always_true, &p, RT_FOREVER));
    CHECK_EQ_INT(p.calls, 1);
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_wait_for(c, always_true, &p, 0.0));
    CHECK_EQ_INT(p.calls, 2);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
}

struct wait_for_args {
    rt_condition *cond;
    struct pred_state *pred;
    double timeout;
    int result;
    double elapsed;
};

static void wait_for_in_thread(void *p) {
    struct wait_for_args *a = p;
    double t0;
    rt_status s;
    if (rt_condition_acquire(a->cond, 1, RT_FOREVER) != RT_OK) abort();
    t0 = rt_test_now();
    s = rt_condition_wait_for(a->cond, value_is_positive, a->pred, a->timeout);
    a->elapsed = rt_test_now() - t0;
    if (rt_condition_release(a->cond) != RT_OK) abort();
    ATOMIC_STORE(&a->result, 1000 + (int)s);
}

/* Takes `rl` once the predicate has been called `n` times: the caller of wait_for then waits. */
static void acquire_when_called(rt_rlock *rl, struct pred_state *p, int n) {
    double until = rt_test_now() + 30.0;
    for (;;) {
        CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
        if (p->calls >= n) return;
        CHECK_OK(rt_rlock_release(rl));
        if (rt_test_now() > until) rt_test_fail(__FILE__, __LINE__, "predicate never called");
        rt_test_sleep(0.001);
    }
}

static void condition_wait_for_waits_until_the_predicate_holds(void) {
    rt_rlock *rl;
    rt_condition *c;
    struct pred_state p;
    struct wait_for_args a;
    int round;
    memset(&p, 0, sizeof p);
    memset(&a, 0, sizeof a);
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    p.rl = rl;
    p.owned_in_every_call = 1;
    a.cond = c;
    a.pred = &p;
    a.timeout = RT_FOREVER;
    CHECK_OK(rt_start_new_thread(wait_for_in_thread, &a, NULL));
    /* Wake it a few times with the predicate still false: it calls it again and goes back to
     * waiting. It waits whenever main holds the lock after a new call. */
    for (round = 1; round <= 3; round++) {
        acquire_when_called(rl, &p, round);
        CHECK_OK(rt_condition_notify_all(c));
        CHECK_OK(rt_rlock_release(rl));
    }
    acquire_when_called(rl, &p, 4);
    CHECK_OK(rt_rlock_release(rl));
    CHECK_EQ_INT(ATOMIC_LOAD(&a.result), 0);
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    p.value = 1;
    CHECK_OK(rt_condition_notify(c, 1));
    CHECK_OK(rt_rlock_release(rl));
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0, 10.0);
    CHECK_EQ_INT(a.result, 1000 + RT_OK);
    CHECK_EQ_INT(p.calls, 5);
    CHECK_EQ_INT(p.owned_in_every_call, 1);
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
}

static void condition_wait_for_times_out(void) {
    rt_condition *c;
    struct pred_state p;
    double t0;
    memset(&p, 0, sizeof p);
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_condition_wait_for(c, always_false, &p, 0.1), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(p.calls >= 2); /* before and after the wait */
    /* Timeout 0: the predicate once, no wait. */
    p.calls = 0;
    CHECK_STATUS(rt_condition_wait_for(c, always_false, &p, 0.0), RT_TIMEOUT);
    CHECK_EQ_INT(p.calls, 1);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
}

struct pester_args {
    rt_condition *cond;
    int stop;
    int done;
};

static void notify_every_10ms(void *p) {
    struct pester_args *a = p;
    while (!ATOMIC_LOAD(&a->stop)) {
        if (rt_condition_acquire(a->cond, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_condition_notify_all(a->cond) != RT_OK) abort();
        if (rt_condition_release(a->cond) != RT_OK) abort();
        rt_test_sleep(0.01);
    }
    ATOMIC_STORE(&a->done, 1);
}

static void condition_wait_for_timeout_is_a_total_deadline(void) {
    /* Notifies that leave the predicate false do not restart the timeout. */
    struct pester_args pester = { NULL, 0, 0 };
    struct pred_state p;
    double t0;
    memset(&p, 0, sizeof p);
    CHECK_OK(rt_condition_new(&pester.cond));
    CHECK_OK(rt_start_new_thread(notify_every_10ms, &pester, NULL));
    CHECK_OK(rt_condition_acquire(pester.cond, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_condition_wait_for(pester.cond, always_false, &p, 0.3), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.3, 3.0);
    CHECK(p.calls >= 3); /* it was woken along the way */
    CHECK_OK(rt_condition_release(pester.cond));
    ATOMIC_STORE(&pester.stop, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&pester.done), 10.0);
    CHECK_OK(rt_condition_free(pester.cond));
}

static void condition_wait_for_errors(void) {
    rt_condition *c;
    struct pred_state p;
    memset(&p, 0, sizeof p);
    CHECK_OK(rt_condition_new(&c));
    CHECK_ERR(rt_condition_wait_for(c, NULL, &p, RT_FOREVER), RT_EINVAL,
              "predicate must be callable");
    CHECK_ERR(rt_condition_wait_for(c, always_false, &p, RT_FOREVER), RT_ENOTOWNER,
              "cannot wait on un-acquired lock");
    CHECK_EQ_INT(p.calls, 1);
    /* With nothing to wait for, there is no wait to refuse: RT_TIMEOUT, as in CPython. */
    CHECK_STATUS(rt_condition_wait_for(c, always_false, &p, 0.0), RT_TIMEOUT);
    CHECK_EQ_INT(p.calls, 2);
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_ERR(rt_condition_wait_for(c, always_false, &p, NAN), RT_EINVAL,
              "Invalid value NaN (not a number)");
    CHECK_ERR(rt_condition_wait_for(c, always_false, &p, -3.0), RT_EINVAL,
              "timeout value must be a non-negative number");
    CHECK_ERR(rt_condition_wait_for(c, always_false, &p, 1e300), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_EQ_INT(p.calls, 2); /* refused before calling it */
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
}

static int try_to_exit(void *ctx) {
    struct pred_state *p = ctx;
    p->exit_status = (int)rt_exit_thread();
    return 1;
}

struct exit_args {
    rt_condition *cond;
    struct pred_state pred;
    int result;
    int done;
};

static void wait_for_with_exiting_predicate(void *p) {
    struct exit_args *a = p;
    a->result = (int)rt_condition_wait_for(a->cond, try_to_exit, &a->pred, RT_FOREVER);
    ATOMIC_STORE(&a->done, 1);
}

static void condition_predicate_cannot_exit_the_thread(void) {
    struct exit_args a;
    memset(&a, 0, sizeof a);
    CHECK_OK(rt_condition_new(&a.cond));
    CHECK_OK(rt_start_new_thread(wait_for_with_exiting_predicate, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK_EQ_INT(a.pred.exit_status, RT_ESTATE);
    CHECK_EQ_INT(a.result, RT_OK);
    CHECK_OK(rt_condition_free(a.cond));
}

/* ---- producer / consumer ---- */

#define ITEMS 100000
#define SIDE 4
#define SLOTS 16

struct buffer {
    rt_lock *lock;
    rt_condition *not_empty, *not_full; /* two conditions sharing one lock */
    long slots[SLOTS];
    int head, count;
    long produced, consumed;
    long long sum;
    int finished;
};

struct producer {
    struct buffer *b;
    long first, n;
};

static void produce(void *p) {
    struct producer *pr = p;
    struct buffer *b = pr->b;
    long i;
    for (i = 0; i < pr->n; i++) {
        if (rt_condition_acquire(b->not_full, 1, RT_FOREVER) != RT_OK) abort();
        while (b->count == SLOTS)
            if (rt_condition_wait(b->not_full, RT_FOREVER) != RT_OK) abort();
        b->slots[(b->head + b->count) % SLOTS] = pr->first + i;
        b->count++;
        b->produced++;
        if (rt_condition_notify(b->not_empty, 1) != RT_OK) abort();
        if (rt_condition_release(b->not_full) != RT_OK) abort();
    }
    ATOMIC_ADD(&b->finished, 1);
}

static void consume(void *p) {
    struct buffer *b = p;
    for (;;) {
        long item;
        if (rt_condition_acquire(b->not_empty, 1, RT_FOREVER) != RT_OK) abort();
        while (b->count == 0 && b->consumed < ITEMS)
            if (rt_condition_wait(b->not_empty, RT_FOREVER) != RT_OK) abort();
        if (b->count == 0) {
            /* Everything was consumed: pass the word on and stop. */
            if (rt_condition_notify_all(b->not_empty) != RT_OK) abort();
            if (rt_condition_release(b->not_empty) != RT_OK) abort();
            break;
        }
        item = b->slots[b->head];
        b->head = (b->head + 1) % SLOTS;
        b->count--;
        b->consumed++;
        b->sum += item;
        if (b->consumed == ITEMS && rt_condition_notify_all(b->not_empty) != RT_OK) abort();
        if (rt_condition_notify(b->not_full, 1) != RT_OK) abort();
        if (rt_condition_release(b->not_empty) != RT_OK) abort();
    }
    ATOMIC_ADD(&b->finished, 1);
}

static void condition_producer_consumer_4x4_100000_items(void) {
    static struct buffer b;
    struct producer pr[SIDE];
    int i;
    memset(&b, 0, sizeof b);
    CHECK_OK(rt_lock_new(&b.lock));
    CHECK_OK(rt_condition_new_with_lock(b.lock, &b.not_empty));
    CHECK_OK(rt_condition_new_with_lock(b.lock, &b.not_full));
    for (i = 0; i < SIDE; i++) {
        pr[i].b = &b;
        pr[i].first = 1 + (long)i * (ITEMS / SIDE);
        pr[i].n = ITEMS / SIDE;
        CHECK_OK(rt_start_new_thread(produce, &pr[i], NULL));
        CHECK_OK(rt_start_new_thread(consume, &b, NULL));
    }
    WAIT_UNTIL(ATOMIC_LOAD(&b.finished) == 2 * SIDE, 120.0);
    CHECK_EQ_INT(b.produced, ITEMS);
    CHECK_EQ_INT(b.consumed, ITEMS);
    CHECK_EQ_INT(b.count, 0);
    /* Nothing lost, nothing twice: the items were 1..ITEMS. */
    CHECK_EQ_INT(b.sum, (long long)ITEMS * (ITEMS + 1) / 2);
    CHECK(!rt_lock_locked(b.lock));
    CHECK_OK(rt_condition_free(b.not_empty));
    CHECK_OK(rt_condition_free(b.not_full));
    CHECK_OK(rt_lock_free(b.lock));
}

/* ---- freeing ---- */

static void condition_free_null_is_fine(void) {
    CHECK_OK(rt_condition_free(NULL));
}

static void condition_free_while_locked_is_fine(void) {
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_free(c));
}

static void condition_free_with_waiters_is_busy(void) {
    struct waiter w[1];
    int waiting = 0, woken = 0;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    start_waiters(w, 1, c, NULL, &waiting, &woken, 1, RT_FOREVER);
    acquire_when_waiting(c, &waiting, 1);
    CHECK_ERR(rt_condition_free(c), RT_EBUSY, "object is in use by waiting threads");
    CHECK_OK(rt_condition_notify(c, 1));
    CHECK_OK(rt_condition_release(c));
    WAIT_UNTIL(count_done(w, 1) == 1, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK_OK(rt_condition_free(c));
}

static void condition_borrowed_lock_cannot_be_freed_first(void) {
    rt_lock *l;
    rt_rlock *rl;
    rt_condition *c1, *c2, *c3;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_lock(l, &c1));
    CHECK_OK(rt_condition_new_with_lock(l, &c2));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c3));
    CHECK_ERR(rt_lock_free(l), RT_EBUSY, "object is in use by waiting threads");
    CHECK_ERR(rt_rlock_free(rl), RT_EBUSY, "object is in use by waiting threads");
    CHECK_OK(rt_condition_free(c1));
    CHECK_STATUS(rt_lock_free(l), RT_EBUSY); /* c2 still uses it */
    CHECK_OK(rt_condition_free(c2));
    CHECK_OK(rt_condition_free(c3));
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_rlock_free(rl));
}

/* ---- bad arguments ---- */

static void condition_new_rejects_null_and_wrong_arguments(void) {
    rt_lock *l;
    rt_rlock *rl;
    rt_condition *c = NULL;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_ERR(rt_condition_new(NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_condition_new_with_lock(l, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_condition_new_with_rlock(rl, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_condition_new_with_lock(NULL, &c), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_condition_new_with_rlock(NULL, &c), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_condition_new_with_lock((rt_lock *)(void *)rl, &c), RT_EINVAL,
              "handle of the wrong kind");
    CHECK_ERR(rt_condition_new_with_rlock((rt_rlock *)(void *)l, &c), RT_EINVAL,
              "handle of the wrong kind");
    CHECK(c == NULL); /* never written */
    /* The failed calls borrowed nothing. */
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_rlock_free(rl));
}

static int never_called(void *ctx) {
    (void)ctx;
    abort();
    return 0;
}

static void condition_null_handles_are_einval(void) {
    CHECK_ERR(rt_condition_acquire(NULL, 1, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_condition_release(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_condition_wait(NULL, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_condition_wait_for(NULL, never_called, NULL, RT_FOREVER), RT_EINVAL,
              "NULL handle");
    CHECK_ERR(rt_condition_notify(NULL, 1), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_condition_notify_all(NULL), RT_EINVAL, "NULL handle");
}

static void condition_wrong_kind_handles_are_einval(void) {
    /* A real handle of another kind: a plain lock, held, so that nothing else is refused. */
    rt_lock *l;
    rt_condition *wrong;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    wrong = (rt_condition *)(void *)l;
    CHECK_ERR(rt_condition_acquire(wrong, 1, RT_FOREVER), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_condition_release(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_condition_wait(wrong, 0.0), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_condition_wait_for(wrong, never_called, NULL, 0.0), RT_EINVAL,
              "handle of the wrong kind");
    CHECK_ERR(rt_condition_notify(wrong, 1), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_condition_notify_all(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_condition_free(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK(rt_lock_locked(l)); /* untouched */
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(condition_new_and_free),
    RT_CASE(condition_own_lock_is_an_rlock),
    RT_CASE(condition_with_lock_forwards_to_the_lock),
    RT_CASE(condition_with_rlock_forwards_to_the_rlock),
    RT_CASE(condition_acquire_validates_like_the_lock),
    RT_CASE(condition_wait_without_the_lock_fails),
    RT_CASE(condition_notify_without_the_lock_fails),
    RT_CASE(condition_rlock_held_by_another_thread_is_not_owned),
    RT_CASE(condition_plain_lock_owned_means_locked),
    RT_CASE(condition_wait_times_out),
    RT_CASE(condition_wait_zero_polls_and_keeps_the_lock),
    RT_CASE(condition_wait_validates_the_timeout),
    RT_CASE(condition_notify_wakes_a_waiter),
    RT_CASE(condition_timed_wait_returns_ok_when_notified),
    RT_CASE(condition_wait_on_rlock_held_3_deep),
    RT_CASE(condition_notify_2_with_5_waiters_wakes_exactly_2),
    RT_CASE(condition_notify_more_than_waiting_wakes_all),
    RT_CASE(condition_notify_zero_wakes_nobody),
    RT_CASE(condition_notify_all_wakes_every_waiter_at_its_level),
    RT_CASE(condition_notified_waiter_returns_ok_even_if_the_lock_comes_late),
    RT_CASE(condition_timed_out_waiter_never_consumes_a_notify),
    RT_CASE(condition_wait_for_true_predicate_returns_at_once),
    RT_CASE(condition_wait_for_waits_until_the_predicate_holds),
    RT_CASE(condition_wait_for_times_out),
    RT_CASE(condition_wait_for_timeout_is_a_total_deadline),
    RT_CASE(condition_wait_for_errors),
    RT_CASE(condition_predicate_cannot_exit_the_thread),
    RT_CASE(condition_producer_consumer_4x4_100000_items),
    RT_CASE(condition_free_null_is_fine),
    RT_CASE(condition_free_while_locked_is_fine),
    RT_CASE(condition_free_with_waiters_is_busy),
    RT_CASE(condition_borrowed_lock_cannot_be_freed_first),
    RT_CASE(condition_new_rejects_null_and_wrong_arguments),
    RT_CASE(condition_null_handles_are_einval),
    RT_CASE(condition_wrong_kind_handles_are_einval)
)
