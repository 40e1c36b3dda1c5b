/* threading.Event: seed 004's event, case by case. */
#include "rt_blocked.h"

struct waiter {
    rt_event *event;
    double timeout;
    uint64_t tid;
    int result; /* 1000 + status */
    double elapsed;
};

static void wait_in_thread(void *p) {
    struct waiter *w = p;
    double t0;
    rt_status s;
    ATOMIC_STORE(&w->tid, rt_get_native_id());
    t0 = rt_test_now();
    s = rt_event_wait(w->event, w->timeout);
    w->elapsed = rt_test_now() - t0;
    ATOMIC_STORE(&w->result, 1000 + (int)s);
}

/* Starts `n` waiters and returns once each is blocked inside rt_event_wait. */
static void start_waiters(struct waiter *w, int n, rt_event *e, double timeout) {
    int i;
    for (i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].event = e;
        w[i].timeout = timeout;
        CHECK_OK(rt_start_new_thread(wait_in_thread, &w[i], NULL));
    }
    for (i = 0; i < n; i++) WAIT_BLOCKED(&w[i].tid);
}

static int count_done(struct waiter *w, int n) {
    int i, c = 0;
    for (i = 0; i < n; i++) c += ATOMIC_LOAD(&w[i].result) != 0;
    return c;
}

static void event_new_is_clear(void) {
    rt_event *e = NULL;
    CHECK_OK(rt_event_new(&e));
    CHECK(e != NULL);
    CHECK(!rt_event_is_set(e));
    CHECK_OK(rt_event_free(e));
}

static void event_set_and_clear(void) {
    rt_event *e;
    CHECK_OK(rt_event_new(&e));
    CHECK_OK(rt_event_set(e));
    CHECK(rt_event_is_set(e));
    CHECK_OK(rt_event_set(e)); /* setting a set event changes nothing */
    CHECK(rt_event_is_set(e));
    CHECK_OK(rt_event_clear(e));
    CHECK(!rt_event_is_set(e));
    CHECK_OK(rt_event_clear(e));
    CHECK(!rt_event_is_set(e));
    CHECK_OK(rt_event_free(e));
}

static void event_wait_on_a_set_event_returns_at_once(void) {
    rt_event *e;
    double t0;
    CHECK_OK(rt_event_new(&e));
    CHECK_OK(rt_event_set(e));
    t0 = rt_test_now();
    CHECK_OK(rt_event_wait(e, RT_FOREVER));
    CHECK_OK(rt_event_wait(e, 0.0));
    CHECK_OK(rt_event_wait(e, 30.0));
    CHECK_PROMPT(t0);
    CHECK(rt_event_is_set(e)); /* waiting does not consume it */
    CHECK_OK(rt_event_free(e));
}

static void event_wait_times_out(void) {
    rt_event *e;
    double t0;
    CHECK_OK(rt_event_new(&e));
    t0 = rt_test_now();
    CHECK_STATUS(rt_event_wait(e, 0.0), RT_TIMEOUT);
    CHECK_PROMPT(t0);
    t0 = rt_test_now();
    CHECK_STATUS(rt_event_wait(e, 0.1), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!rt_event_is_set(e));
    CHECK_OK(rt_event_free(e));
}

static void event_wait_validates_the_timeout(void) {
    rt_event *e;
    int round;
    CHECK_OK(rt_event_new(&e));
    /* Checked whether the flag is set or not. */
    for (round = 0; round < 2; round++) {
        CHECK_ERR(rt_event_wait(e, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
        CHECK_ERR(rt_event_wait(e, -2.0), RT_EINVAL, "timeout value must be a non-negative number");
        CHECK_ERR(rt_event_wait(e, INFINITY), RT_EOVERFLOW,
                  "timestamp out of range for platform time_t");
        CHECK_ERR(rt_event_wait(e, 1e10), RT_EOVERFLOW,
                  "timestamp out of range for platform time_t");
        CHECK_OK(rt_event_set(e));
    }
    CHECK_OK(rt_event_free(e));
}

static void event_set_wakes_every_waiter(void) {
    struct waiter w[5];
    rt_event *e;
    int i;
    CHECK_OK(rt_event_new(&e));
    start_waiters(w, 5, e, RT_FOREVER);
    CHECK_EQ_INT(count_done(w, 5), 0);
    CHECK_OK(rt_event_set(e));
    WAIT_UNTIL(count_done(w, 5) == 5, 10.0);
    for (i = 0; i < 5; i++) CHECK_EQ_INT(w[i].result, 1000 + RT_OK);
    CHECK_OK(rt_event_free(e));
}

static void event_timed_waiters_return_ok_when_set(void) {
    struct waiter w[3];
    rt_event *e;
    int i;
    CHECK_OK(rt_event_new(&e));
    start_waiters(w, 3, e, 30.0);
    CHECK_OK(rt_event_set(e));
    WAIT_UNTIL(count_done(w, 3) == 3, 10.0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(w[i].result, 1000 + RT_OK);
        CHECK(w[i].elapsed < 20.0);
    }
    CHECK_OK(rt_event_free(e));
}

static void event_waiters_released_even_if_cleared_at_once(void) {
    /* gh-57711: every thread waiting when set() is called returns RT_OK, even though clear()
     * runs before any of them is scheduled. */
    struct waiter w[5];
    rt_event *e;
    int round, i;
    CHECK_OK(rt_event_new(&e));
    for (round = 0; round < 20; round++) {
        start_waiters(w, 5, e, 30.0);
        CHECK_OK(rt_event_set(e));
        CHECK_OK(rt_event_clear(e));
        WAIT_UNTIL(count_done(w, 5) == 5, 30.0);
        for (i = 0; i < 5; i++) CHECK_EQ_INT(w[i].result, 1000 + RT_OK);
        CHECK(!rt_event_is_set(e));
        WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    }
    CHECK_OK(rt_event_free(e));
}

#define STORM_WAITERS 4
#define STORM_ROUNDS 300

struct storm {
    rt_event *event;
    int round;   /* the round main runs; waiters follow */
    int arrived; /* waiters whose wait of this round returned */
    int failed;
    int finished;
};

static void wait_every_round(void *p) {
    struct storm *st = p;
    int r;
    for (r = 0; r < STORM_ROUNDS; r++) {
        while (ATOMIC_LOAD(&st->round) < r) {
        }
        if (rt_event_wait(st->event, RT_FOREVER) != RT_OK) ATOMIC_STORE(&st->failed, 1);
        ATOMIC_ADD(&st->arrived, 1);
    }
    ATOMIC_ADD(&st->finished, 1);
}

static void event_set_clear_storm_never_strands_a_waiter(void) {
    /* Each round, the waiters wait without bound while main sets and clears the event a few
     * times, racing their arrival, and then leaves it set: every waiter must come out of every
     * round. A set that missed a thread about to sleep would strand it there. */
    struct storm st;
    int r, i;
    memset(&st, 0, sizeof st);
    CHECK_OK(rt_event_new(&st.event));
    for (i = 0; i < STORM_WAITERS; i++) CHECK_OK(rt_start_new_thread(wait_every_round, &st, NULL));
    for (r = 0; r < STORM_ROUNDS; r++) {
        for (i = 0; i < r % 7; i++) {
            CHECK_OK(rt_event_set(st.event));
            CHECK_OK(rt_event_clear(st.event));
        }
        CHECK_OK(rt_event_set(st.event));
        WAIT_UNTIL(ATOMIC_LOAD(&st.arrived) == STORM_WAITERS * (r + 1), 30.0);
        CHECK_OK(rt_event_clear(st.event));
        ATOMIC_STORE(&st.round, r + 1);
    }
    WAIT_UNTIL(ATOMIC_LOAD(&st.finished) == STORM_WAITERS, 30.0);
    CHECK_EQ_INT(st.failed, 0);
    CHECK_OK(rt_event_free(st.event));
}

static void event_free_null_is_fine(void) {
    CHECK_OK(rt_event_free(NULL));
}

static void event_free_with_waiters_is_busy(void) {
    struct waiter w[1];
    rt_event *e;
    CHECK_OK(rt_event_new(&e));
    start_waiters(w, 1, e, RT_FOREVER);
    CHECK_ERR(rt_event_free(e), RT_EBUSY, "object is in use by waiting threads");
    CHECK_OK(rt_event_set(e));
    WAIT_UNTIL(count_done(w, 1) == 1, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK_OK(rt_event_free(e));
}

static void event_new_rejects_null_out(void) {
    CHECK_ERR(rt_event_new(NULL), RT_EINVAL, "NULL output pointer");
}

static void event_null_handles_are_einval(void) {
    CHECK_ERR(rt_event_set(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_event_clear(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_event_wait(NULL, RT_FOREVER), RT_EINVAL, "NULL handle");
    rt_event_new(NULL); /* another message, which the query must replace */
    CHECK(!rt_event_is_set(NULL));
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
}

static void event_wrong_kind_handles_are_einval(void) {
    /* A real handle of another kind: a plain lock. */
    rt_lock *l;
    rt_event *wrong;
    CHECK_OK(rt_lock_new(&l));
    wrong = (rt_event *)(void *)l;
    CHECK_ERR(rt_event_set(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_event_clear(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_event_wait(wrong, 0.0), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_event_free(wrong), RT_EINVAL, "handle of the wrong kind");
    rt_event_new(NULL);
    CHECK(!rt_event_is_set(wrong));
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(event_new_is_clear),
    RT_CASE(event_set_and_clear),
    RT_CASE(event_wait_on_a_set_event_returns_at_once),
    RT_CASE(event_wait_times_out),
    RT_CASE(event_wait_validates_the_timeout),
    RT_CASE(event_set_wakes_every_waiter),
    RT_CASE(event_timed_waiters_return_ok_when_set),
    RT_CASE(event_waiters_released_even_if_cleared_at_once),
    RT_CASE(event_set_clear_storm_never_strands_a_waiter),
    RT_CASE(event_free_null_is_fine),
    RT_CASE(event_free_with_waiters_is_busy),
    RT_CASE(event_new_rejects_null_out),
    RT_CASE(event_null_handles_are_einval),
    RT_CASE(event_wrong_kind_handles_are_einval)
)
