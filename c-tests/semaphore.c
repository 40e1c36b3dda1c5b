/* threading.Semaphore and threading.BoundedSemaphore: seed 004's semaphores, case by case. */
#include "rt_blocked.h"

struct acquirer {
    rt_semaphore *sem;
    double timeout;
    uint64_t tid;
    int result; /* 1000 + status */
    double elapsed;
};

static void acquire_in_thread(void *p) {
    struct acquirer *a = p;
    double t0;
    rt_status s;
    ATOMIC_STORE(&a->tid, rt_get_native_id());
    t0 = rt_test_now();
    s = rt_semaphore_acquire(a->sem, 1, a->timeout);
    a->elapsed = rt_test_now() - t0;
    ATOMIC_STORE(&a->result, 1000 + (int)s);
}

static int count_done(struct acquirer *a, int n) {
    int i, c = 0;
    for (i = 0; i < n; i++) c += ATOMIC_LOAD(&a[i].result) != 0;
    return c;
}

static void start_acquirers(struct acquirer *a, int n, rt_semaphore *s, double timeout) {
    int i;
    for (i = 0; i < n; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].sem = s;
        a[i].timeout = timeout;
        CHECK_OK(rt_start_new_thread(acquire_in_thread, &a[i], NULL));
    }
    for (i = 0; i < n; i++) WAIT_BLOCKED(&a[i].tid);
}

static void semaphore_new_holds_its_value(void) {
    rt_semaphore *s = NULL, *b = NULL;
    CHECK_OK(rt_semaphore_new(0, &s));
    CHECK(s != NULL);
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_free(s));
    CHECK_OK(rt_semaphore_new(3, &s));
    CHECK_EQ_INT(rt_semaphore_value(s), 3);
    CHECK_OK(rt_bounded_semaphore_new(2, &b));
    CHECK_EQ_INT(rt_semaphore_value(b), 2);
    CHECK_OK(rt_semaphore_free(s));
    CHECK_OK(rt_semaphore_free(b));
}

static void semaphore_negative_initial_value_is_einval(void) {
    rt_semaphore *s = NULL;
    CHECK_ERR(rt_semaphore_new(-1, &s), RT_EINVAL, "semaphore initial value must be >= 0");
    CHECK_ERR(rt_bounded_semaphore_new(-5, &s), RT_EINVAL,
              "semaphore initial value must be >= 0");
    CHECK_ERR(rt_semaphore_new(INT64_MIN, &s), RT_EINVAL, "semaphore initial value must be >= 0");
    CHECK(s == NULL); /* never written */
}

static void semaphore_new_rejects_null_out(void) {
    CHECK_ERR(rt_semaphore_new(1, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_bounded_semaphore_new(1, NULL), RT_EINVAL, "NULL output pointer");
}

static void semaphore_acquire_takes_and_release_gives(void) {
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(2, &s));
    CHECK_OK(rt_semaphore_acquire(s, 1, RT_FOREVER));
    CHECK_EQ_INT(rt_semaphore_value(s), 1);
    CHECK_OK(rt_semaphore_acquire(s, 0, RT_FOREVER));
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_release(s, 1));
    CHECK_EQ_INT(rt_semaphore_value(s), 1);
    CHECK_OK(rt_semaphore_acquire(s, 1, 0.5));
    CHECK_OK(rt_semaphore_release(s, 2));
    CHECK_EQ_INT(rt_semaphore_value(s), 2);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_nonblocking_acquire_at_zero(void) {
    rt_semaphore *s;
    double t0;
    CHECK_OK(rt_semaphore_new(0, &s));
    t0 = rt_test_now();
    CHECK_STATUS(rt_semaphore_acquire(s, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK_STATUS(rt_semaphore_acquire(s, 1, 0.0), RT_TIMEOUT);
    CHECK_STATUS(rt_semaphore_acquire(s, 1, -0.0), RT_TIMEOUT);
    CHECK_PROMPT(t0);
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_timed_acquire_times_out(void) {
    rt_semaphore *s;
    double t0;
    CHECK_OK(rt_semaphore_new(0, &s));
    t0 = rt_test_now();
    CHECK_STATUS(rt_semaphore_acquire(s, 1, 0.1), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK_STATUS(rt_semaphore_acquire(s, 1, 1e-9), RT_TIMEOUT);
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    /* The semaphore still works after the timed-out waiter left. */
    CHECK_OK(rt_semaphore_release(s, 1));
    CHECK_OK(rt_semaphore_acquire(s, 0, RT_FOREVER));
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_blocking_acquire_waits_for_release(void) {
    struct acquirer a[1];
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(0, &s));
    start_acquirers(a, 1, s, RT_FOREVER);
    CHECK_EQ_INT(ATOMIC_LOAD(&a[0].result), 0);
    CHECK_OK(rt_semaphore_release(s, 1));
    WAIT_UNTIL(count_done(a, 1) == 1, 10.0);
    CHECK_EQ_INT(a[0].result, 1000 + RT_OK);
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_timed_acquire_succeeds_when_released(void) {
    struct acquirer a[1];
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(0, &s));
    start_acquirers(a, 1, s, 30.0);
    CHECK_OK(rt_semaphore_release(s, 1));
    WAIT_UNTIL(count_done(a, 1) == 1, 10.0);
    CHECK_EQ_INT(a[0].result, 1000 + RT_OK);
    CHECK(a[0].elapsed < 20.0);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_validates_arguments_like_cpython(void) {
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(1, &s));
    /* A timeout with a non-blocking call: the Semaphore's own wording, checked first. */
    CHECK_ERR(rt_semaphore_acquire(s, 0, 1.0), RT_EINVAL,
              "can't specify timeout for non-blocking acquire");
    CHECK_ERR(rt_semaphore_acquire(s, 0, 0.0), RT_EINVAL,
              "can't specify timeout for non-blocking acquire");
    CHECK_ERR(rt_semaphore_acquire(s, 0, NAN), RT_EINVAL,
              "can't specify timeout for non-blocking acquire");
    CHECK_ERR(rt_semaphore_acquire(s, 0, INFINITY), RT_EINVAL,
              "can't specify timeout for non-blocking acquire");
    CHECK_ERR(rt_semaphore_acquire(s, 1, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_semaphore_acquire(s, 1, -2.0), RT_EINVAL,
              "timeout value must be a non-negative number");
    CHECK_ERR(rt_semaphore_acquire(s, 1, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_semaphore_acquire(s, 1, RT_TIMEOUT_MAX + 1.0), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_EQ_INT(rt_semaphore_value(s), 1); /* nothing taken */
    CHECK_OK(rt_semaphore_acquire(s, 1, RT_TIMEOUT_MAX));
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_release_zero_is_einval(void) {
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(1, &s));
    CHECK_ERR(rt_semaphore_release(s, 0), RT_EINVAL, "n must be one or more");
    CHECK_EQ_INT(rt_semaphore_value(s), 1);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_release_n_adds_n(void) {
    rt_semaphore *s;
    int i;
    CHECK_OK(rt_semaphore_new(0, &s));
    CHECK_OK(rt_semaphore_release(s, 5));
    CHECK_EQ_INT(rt_semaphore_value(s), 5);
    for (i = 0; i < 5; i++) CHECK_OK(rt_semaphore_acquire(s, 0, RT_FOREVER));
    CHECK_STATUS(rt_semaphore_acquire(s, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_release_n_wakes_n_waiters(void) {
    struct acquirer a[4];
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(0, &s));
    start_acquirers(a, 4, s, RT_FOREVER);
    CHECK_OK(rt_semaphore_release(s, 3));
    WAIT_UNTIL(count_done(a, 4) == 3, 10.0);
    rt_test_sleep(0.05);
    CHECK_EQ_INT(count_done(a, 4), 3); /* the fourth still waits */
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_release(s, 1));
    WAIT_UNTIL(count_done(a, 4) == 4, 10.0);
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_unbounded_may_exceed_its_initial_value(void) {
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(1, &s));
    CHECK_OK(rt_semaphore_release(s, 1));
    CHECK_OK(rt_semaphore_release(s, 10));
    CHECK_EQ_INT(rt_semaphore_value(s), 12);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_bounded_refuses_over_release(void) {
    rt_semaphore *b;
    CHECK_OK(rt_bounded_semaphore_new(2, &b));
    CHECK_ERR(rt_semaphore_release(b, 1), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_EQ_INT(rt_semaphore_value(b), 2);
    CHECK_OK(rt_semaphore_acquire(b, 1, RT_FOREVER));
    CHECK_OK(rt_semaphore_acquire(b, 1, RT_FOREVER));
    /* No partial change: 3 does not fit, so not even 2 of them are added. */
    CHECK_ERR(rt_semaphore_release(b, 3), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_EQ_INT(rt_semaphore_value(b), 0);
    CHECK_ERR(rt_semaphore_release(b, UINT64_MAX), RT_EOVERRELEASE,
              "Semaphore released too many times");
    CHECK_OK(rt_semaphore_release(b, 2));
    CHECK_EQ_INT(rt_semaphore_value(b), 2);
    CHECK_STATUS(rt_semaphore_release(b, 1), RT_EOVERRELEASE);
    CHECK_OK(rt_semaphore_free(b));
}

static void semaphore_bounded_zero_refuses_every_release(void) {
    rt_semaphore *b;
    CHECK_OK(rt_bounded_semaphore_new(0, &b));
    CHECK_STATUS(rt_semaphore_acquire(b, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK_ERR(rt_semaphore_release(b, 1), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_EQ_INT(rt_semaphore_value(b), 0);
    CHECK_OK(rt_semaphore_free(b));
}

static void semaphore_value_cannot_overflow(void) {
    rt_semaphore *s, *b;
    CHECK_OK(rt_semaphore_new(INT64_MAX - 1, &s));
    CHECK_OK(rt_semaphore_release(s, 1));
    CHECK_EQ_INT(rt_semaphore_value(s), INT64_MAX);
    CHECK_ERR(rt_semaphore_release(s, 1), RT_EOVERFLOW, "semaphore value would exceed its maximum");
    CHECK_ERR(rt_semaphore_release(s, UINT64_MAX), RT_EOVERFLOW,
              "semaphore value would exceed its maximum");
    CHECK_EQ_INT(rt_semaphore_value(s), INT64_MAX);
    /* A bounded one at the top reports the bound instead. */
    CHECK_OK(rt_bounded_semaphore_new(INT64_MAX, &b));
    CHECK_ERR(rt_semaphore_release(b, 1), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_OK(rt_semaphore_free(s));
    CHECK_OK(rt_semaphore_free(b));
}

#define THREADS 8
#define ROUNDS 50000
#define PERMITS 3

struct storm {
    rt_semaphore *sem;
    int holders;
    int max_holders;
    int negative_seen;
    int stop_watch;
    int done;
};

static void hammer(void *p) {
    struct storm *st = p;
    int i;
    for (i = 0; i < ROUNDS; i++) {
        int h;
        rt_status s;
        switch (i % 3) {
        case 0: s = rt_semaphore_acquire(st->sem, 1, RT_FOREVER); break;
        case 1: s = rt_semaphore_acquire(st->sem, 1, 5.0); break;
        default: s = rt_semaphore_acquire(st->sem, 0, RT_FOREVER); break;
        }
        if (s == RT_TIMEOUT) continue; /* only the non-blocking try may miss */
        if (s != RT_OK) abort();
        h = ATOMIC_ADD(&st->holders, 1);
        if (h > ATOMIC_LOAD(&st->max_holders)) ATOMIC_STORE(&st->max_holders, h);
        if (rt_semaphore_value(st->sem) < 0) ATOMIC_STORE(&st->negative_seen, 1);
        ATOMIC_ADD(&st->holders, -1);
        if (rt_semaphore_release(st->sem, 1) != RT_OK) abort();
    }
    ATOMIC_ADD(&st->done, 1);
}

static void watch_value(void *p) {
    struct storm *st = p;
    while (!ATOMIC_LOAD(&st->stop_watch)) {
        int64_t v = rt_semaphore_value(st->sem);
        if (v < 0 || v > PERMITS) ATOMIC_STORE(&st->negative_seen, 1);
        rt_test_sleep(0.0001);
    }
    ATOMIC_ADD(&st->done, 1);
}

static void semaphore_value_never_negative_under_8_threads(void) {
    struct storm st;
    int i;
    memset(&st, 0, sizeof st);
    CHECK_OK(rt_bounded_semaphore_new(PERMITS, &st.sem));
    CHECK_OK(rt_start_new_thread(watch_value, &st, NULL));
    for (i = 0; i < THREADS; i++) CHECK_OK(rt_start_new_thread(hammer, &st, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&st.done) == THREADS, 120.0);
    ATOMIC_STORE(&st.stop_watch, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&st.done) == THREADS + 1, 10.0);
    CHECK_EQ_INT(st.negative_seen, 0);
    CHECK(st.max_holders >= 1 && st.max_holders <= PERMITS);
    CHECK_EQ_INT(rt_semaphore_value(st.sem), PERMITS);
    CHECK_OK(rt_semaphore_free(st.sem));
}

static void semaphore_free_null_is_fine(void) {
    CHECK_OK(rt_semaphore_free(NULL));
}

static void semaphore_free_with_waiters_is_busy(void) {
    struct acquirer a[1];
    rt_semaphore *s;
    CHECK_OK(rt_semaphore_new(0, &s));
    start_acquirers(a, 1, s, RT_FOREVER);
    CHECK_ERR(rt_semaphore_free(s), RT_EBUSY, "object is in use by waiting threads");
    CHECK_OK(rt_semaphore_release(s, 1));
    WAIT_UNTIL(count_done(a, 1) == 1, 10.0);
    CHECK_EQ_INT(a[0].result, 1000 + RT_OK);
    CHECK_OK(rt_semaphore_free(s));
}

static void semaphore_null_handles_are_einval(void) {
    CHECK_ERR(rt_semaphore_acquire(NULL, 1, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_semaphore_acquire(NULL, 0, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_semaphore_release(NULL, 1), RT_EINVAL, "NULL handle");
    rt_semaphore_new(1, NULL); /* another message, which the query must replace */
    CHECK_EQ_INT(rt_semaphore_value(NULL), -1);
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
}

static void semaphore_wrong_kind_handles_are_einval(void) {
    /* A real handle of another kind: a plain lock. */
    rt_lock *l;
    rt_semaphore *wrong;
    CHECK_OK(rt_lock_new(&l));
    wrong = (rt_semaphore *)(void *)l;
    CHECK_ERR(rt_semaphore_acquire(wrong, 1, RT_FOREVER), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_semaphore_release(wrong, 1), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_semaphore_free(wrong), RT_EINVAL, "handle of the wrong kind");
    rt_semaphore_new(1, NULL);
    CHECK_EQ_INT(rt_semaphore_value(wrong), -1);
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(semaphore_new_holds_its_value),
    RT_CASE(semaphore_negative_initial_value_is_einval),
    RT_CASE(semaphore_new_rejects_null_out),
    RT_CASE(semaphore_acquire_takes_and_release_gives),
    RT_CASE(semaphore_nonblocking_acquire_at_zero),
    RT_CASE(semaphore_timed_acquire_times_out),
    RT_CASE(semaphore_blocking_acquire_waits_for_release),
    RT_CASE(semaphore_timed_acquire_succeeds_when_released),
    RT_CASE(semaphore_validates_arguments_like_cpython),
    RT_CASE(semaphore_release_zero_is_einval),
    RT_CASE(semaphore_release_n_adds_n),
    RT_CASE(semaphore_release_n_wakes_n_waiters),
    RT_CASE(semaphore_unbounded_may_exceed_its_initial_value),
    RT_CASE(semaphore_bounded_refuses_over_release),
    RT_CASE(semaphore_bounded_zero_refuses_every_release),
    RT_CASE(semaphore_value_cannot_overflow),
    RT_CASE(semaphore_value_never_negative_under_8_threads),
    RT_CASE(semaphore_free_null_is_fine),
    RT_CASE(semaphore_free_with_waiters_is_busy),
    RT_CASE(semaphore_null_handles_are_einval),
    RT_CASE(semaphore_wrong_kind_handles_are_einval)
)
