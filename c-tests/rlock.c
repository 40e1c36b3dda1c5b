/* threading.RLock: seed 004's re-entrant lock, case by case. */
#include "rt_blocked.h"

struct holder {
    rt_rlock *rl;
    int levels;      /* how deep the thread acquires */
    int acquired;    /* set once it holds the lock */
    int release_now; /* set by main: release and finish */
    int done;
    int result;      /* 1000 + status of the blocking acquire */
    uint64_t count;  /* the thread's rt_rlock_count once it holds the lock */
    uint64_t tid;    /* its native id, stored just before it acquires */
};

/* Acquires `levels` deep, reports, waits for the go, releases as deep, ends. */
static void hold_in_thread(void *p) {
    struct holder *h = p;
    int i;
    rt_status s = RT_OK;
    ATOMIC_STORE(&h->tid, rt_get_native_id());
    for (i = 0; i < h->levels && s == RT_OK; i++) s = rt_rlock_acquire(h->rl, 1, RT_FOREVER);
    h->count = rt_rlock_count(h->rl);
    ATOMIC_STORE(&h->result, 1000 + (int)s);
    ATOMIC_STORE(&h->acquired, 1);
    while (!ATOMIC_LOAD(&h->release_now)) rt_test_sleep(0.001);
    for (i = 0; i < h->levels; i++)
        if (rt_rlock_release(h->rl) != RT_OK) abort();
    ATOMIC_STORE(&h->done, 1);
}

static void rlock_new_is_unowned(void) {
    rt_rlock *rl = NULL;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK(rl != NULL);
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_EQ_INT(rt_rlock_count(rl), 0);
    CHECK_OK(rt_rlock_free(rl));
}

static void rlock_acquire_and_release(void) {
    rt_rlock *rl;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK(rt_rlock_is_owned(rl));
    CHECK_EQ_INT(rt_rlock_count(rl), 1);
    CHECK_OK(rt_rlock_release(rl));
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_EQ_INT(rt_rlock_count(rl), 0);
    CHECK_OK(rt_rlock_free(rl));
}

static void rlock_reentry_1000_deep(void) {
    struct holder h;
    rt_rlock *rl;
    int i;
    CHECK_OK(rt_rlock_new(&rl));
    for (i = 1; i <= 1000; i++) {
        CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
        CHECK_EQ_INT(rt_rlock_count(rl), i);
    }
    CHECK(rt_rlock_is_owned(rl));
    for (i = 999; i >= 0; i--) {
        CHECK_OK(rt_rlock_release(rl));
        CHECK_EQ_INT(rt_rlock_count(rl), i);
    }
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_ERR(rt_rlock_release(rl), RT_ENOTOWNER, "cannot release un-acquired lock");
    /* Fully released: another thread gets it at once. */
    memset(&h, 0, sizeof h);
    h.rl = rl;
    h.levels = 1;
    CHECK_OK(rt_start_new_thread(hold_in_thread, &h, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&h.acquired), 10.0);
    CHECK_EQ_INT(h.result, 1000 + RT_OK);
    ATOMIC_STORE(&h.release_now, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&h.done), 10.0);
    CHECK_OK(rt_rlock_free(rl));
}

static void rlock_reentry_never_blocks_whatever_wait_says(void) {
    rt_rlock *rl;
    double t0;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_OK(rt_rlock_acquire(rl, 0, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(rl, 1, 0.0));
    CHECK_OK(rt_rlock_acquire(rl, 1, 1e-9));
    CHECK_OK(rt_rlock_acquire(rl, 1, 30.0));
    CHECK_PROMPT(t0);
    CHECK_EQ_INT(rt_rlock_count(rl), 5);
    while (rt_rlock_count(rl) > 0) CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_rlock_free(rl));
}

static void rlock_validates_arguments_before_reentry(void) {
    rt_rlock *rl;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_ERR(rt_rlock_acquire(rl, 1, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_rlock_acquire(rl, 0, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_rlock_acquire(rl, 1, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_rlock_acquire(rl, 1, RT_TIMEOUT_MAX + 1.0), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_rlock_acquire(rl, 0, 0.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK_ERR(rt_rlock_acquire(rl, 0, 5.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK_ERR(rt_rlock_acquire(rl, 1, -2.0), RT_EINVAL,
              "timeout value must be a non-negative number");
    /* None of the refused calls changed the level. */
    CHECK_EQ_INT(rt_rlock_count(rl), 1);
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_TIMEOUT_MAX));
    CHECK_EQ_INT(rt_rlock_count(rl), 2);
    CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_rlock_release(rl));
    /* The same checks on a free lock leave it free. */
    CHECK_ERR(rt_rlock_acquire(rl, 0, 1.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK(!rt_rlock_is_owned(rl));
    CHECK_OK(rt_rlock_free(rl));
}

static void rlock_release_unowned_fails_with_message(void) {
    rt_rlock *rl;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_ERR(rt_rlock_release(rl), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_release(rl));
    CHECK_ERR(rt_rlock_release(rl), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_rlock_free(rl));
}

struct other_args {
    rt_rlock *rl;
    int done;
    int release_status;
    int try_status;
    int owned;
    uint64_t count;
};

static void poke_from_other_thread(void *p) {
    struct other_args *a = p;
    a->owned = rt_rlock_is_owned(a->rl);
    a->count = rt_rlock_count(a->rl);
    a->release_status = (int)rt_rlock_release(a->rl);
    a->try_status = (int)rt_rlock_acquire(a->rl, 0, RT_FOREVER);
    ATOMIC_STORE(&a->done, 1);
}

static void rlock_release_by_another_thread_fails(void) {
    struct other_args a;
    memset(&a, 0, sizeof a);
    CHECK_OK(rt_rlock_new(&a.rl));
    CHECK_OK(rt_rlock_acquire(a.rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(a.rl, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(poke_from_other_thread, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK_EQ_INT(a.owned, 0);
    CHECK_EQ_INT(a.count, 0);
    CHECK_EQ_INT(a.release_status, RT_ENOTOWNER);
    CHECK_EQ_INT(a.try_status, RT_TIMEOUT);
    /* The owner's level is untouched. */
    CHECK_EQ_INT(rt_rlock_count(a.rl), 2);
    CHECK_OK(rt_rlock_release(a.rl));
    CHECK_OK(rt_rlock_release(a.rl));
    CHECK_OK(rt_rlock_free(a.rl));
}

static void rlock_other_thread_blocks_until_last_release(void) {
    struct holder h;
    memset(&h, 0, sizeof h);
    h.levels = 1;
    CHECK_OK(rt_rlock_new(&h.rl));
    CHECK_OK(rt_rlock_acquire(h.rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(h.rl, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(hold_in_thread, &h, NULL));
    WAIT_BLOCKED(&h.tid);
    CHECK(!ATOMIC_LOAD(&h.acquired));
    CHECK_OK(rt_rlock_release(h.rl));
    rt_test_sleep(0.05);
    CHECK(!ATOMIC_LOAD(&h.acquired)); /* still held one level deep */
    CHECK_OK(rt_rlock_release(h.rl));
    WAIT_UNTIL(ATOMIC_LOAD(&h.acquired), 10.0);
    CHECK_EQ_INT(h.result, 1000 + RT_OK);
    CHECK_EQ_INT(h.count, 1);
    CHECK(!rt_rlock_is_owned(h.rl));
    ATOMIC_STORE(&h.release_now, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&h.done), 10.0);
    CHECK_OK(rt_rlock_free(h.rl));
}

static void rlock_nonblocking_and_timed_acquire_of_held_lock(void) {
    struct holder h;
    double t0;
    memset(&h, 0, sizeof h);
    h.levels = 1;
    CHECK_OK(rt_rlock_new(&h.rl));
    CHECK_OK(rt_start_new_thread(hold_in_thread, &h, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&h.acquired), 10.0);
    t0 = rt_test_now();
    CHECK_STATUS(rt_rlock_acquire(h.rl, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK_STATUS(rt_rlock_acquire(h.rl, 1, 0.0), RT_TIMEOUT);
    CHECK_PROMPT(t0);
    t0 = rt_test_now();
    CHECK_STATUS(rt_rlock_acquire(h.rl, 1, 0.1), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK_EQ_INT(rt_rlock_count(h.rl), 0);
    ATOMIC_STORE(&h.release_now, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&h.done), 10.0);
    CHECK_OK(rt_rlock_acquire(h.rl, 1, 5.0));
    CHECK_OK(rt_rlock_release(h.rl));
    CHECK_OK(rt_rlock_free(h.rl));
}

struct ended_args {
    rt_rlock *rl;
    uint64_t ident;
    int done;
};

static void acquire_and_end(void *p) {
    struct ended_args *a = p;
    if (rt_rlock_acquire(a->rl, 1, RT_FOREVER) != RT_OK) abort();
    a->ident = rt_get_ident();
    ATOMIC_STORE(&a->done, 1);
    /* Ends holding the lock. */
}

static void check_not_owner(void *p) {
    struct other_args *a = p;
    poke_from_other_thread(a);
}

static void rlock_ownership_is_not_inherited_by_a_new_thread(void) {
    /* CPython issue 128167: owners are compared by an id that is never reused, so a thread that
     * gets a dead owner's ident (pthread_t values are recycled) does not own its lock. */
    struct ended_args e;
    int round;
    memset(&e, 0, sizeof e);
    CHECK_OK(rt_rlock_new(&e.rl));
    CHECK_OK(rt_start_new_thread(acquire_and_end, &e, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&e.done), 10.0);
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    for (round = 0; round < 20; round++) {
        struct other_args a;
        memset(&a, 0, sizeof a);
        a.rl = e.rl;
        CHECK_OK(rt_start_new_thread(check_not_owner, &a, NULL));
        WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
        CHECK_EQ_INT(a.owned, 0);
        CHECK_EQ_INT(a.count, 0);
        CHECK_EQ_INT(a.release_status, RT_ENOTOWNER);
        CHECK_EQ_INT(a.try_status, RT_TIMEOUT);
        WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    }
    CHECK(!rt_rlock_is_owned(e.rl));
    CHECK_OK(rt_rlock_free(e.rl)); /* a held lock may be freed */
}

#define CONTENDERS 4
#define ROUNDS 10000

struct counter_args {
    rt_rlock *rl;
    long counter;
    int done;
};

static void count_two_deep(void *p) {
    struct counter_args *a = p;
    int i;
    for (i = 0; i < ROUNDS; i++) {
        if (rt_rlock_acquire(a->rl, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_acquire(a->rl, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_count(a->rl) != 2) abort();
        a->counter = a->counter + 1;
        if (rt_rlock_release(a->rl) != RT_OK) abort();
        if (rt_rlock_release(a->rl) != RT_OK) abort();
    }
    ATOMIC_ADD(&a->done, 1);
}

static void rlock_counter_is_exact_under_contention(void) {
    struct counter_args a = { NULL, 0, 0 };
    int i;
    CHECK_OK(rt_rlock_new(&a.rl));
    for (i = 0; i < CONTENDERS; i++) CHECK_OK(rt_start_new_thread(count_two_deep, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done) == CONTENDERS, 120.0);
    CHECK_OK(rt_rlock_acquire(a.rl, 1, RT_FOREVER));
    CHECK_EQ_INT(a.counter, (long)CONTENDERS * ROUNDS);
    CHECK_OK(rt_rlock_release(a.rl));
    CHECK_OK(rt_rlock_free(a.rl));
}

static void rlock_free_null_is_fine(void) {
    CHECK_OK(rt_rlock_free(NULL));
}

static void rlock_free_while_held_is_fine(void) {
    rt_rlock *rl;
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_free(rl));
}

static void rlock_free_with_waiters_is_busy(void) {
    struct holder h;
    memset(&h, 0, sizeof h);
    h.levels = 1;
    CHECK_OK(rt_rlock_new(&h.rl));
    CHECK_OK(rt_rlock_acquire(h.rl, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(hold_in_thread, &h, NULL));
    WAIT_BLOCKED(&h.tid);
    CHECK_ERR(rt_rlock_free(h.rl), RT_EBUSY, "object is in use by waiting threads");
    CHECK(rt_rlock_is_owned(h.rl)); /* not freed, still ours */
    CHECK_OK(rt_rlock_release(h.rl));
    WAIT_UNTIL(ATOMIC_LOAD(&h.acquired), 10.0);
    ATOMIC_STORE(&h.release_now, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&h.done), 10.0);
    CHECK_OK(rt_rlock_free(h.rl));
}

static void rlock_new_rejects_null_out(void) {
    CHECK_ERR(rt_rlock_new(NULL), RT_EINVAL, "NULL output pointer");
}

static void rlock_null_handles_are_einval(void) {
    CHECK_ERR(rt_rlock_acquire(NULL, 1, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_rlock_acquire(NULL, 0, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_rlock_release(NULL), RT_EINVAL, "NULL handle");
    rt_rlock_new(NULL); /* another message, which the queries must replace */
    CHECK(!rt_rlock_is_owned(NULL));
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    rt_rlock_new(NULL);
    CHECK_EQ_INT(rt_rlock_count(NULL), 0);
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
}

static void rlock_wrong_kind_handles_are_einval(void) {
    /* A real handle of another kind: a plain lock. */
    rt_lock *l;
    rt_rlock *wrong;
    CHECK_OK(rt_lock_new(&l));
    wrong = (rt_rlock *)(void *)l;
    CHECK_ERR(rt_rlock_acquire(wrong, 1, RT_FOREVER), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_rlock_release(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_rlock_free(wrong), RT_EINVAL, "handle of the wrong kind");
    rt_rlock_new(NULL);
    CHECK(!rt_rlock_is_owned(wrong));
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    rt_rlock_new(NULL);
    CHECK_EQ_INT(rt_rlock_count(wrong), 0);
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    /* The lock was not touched, nor freed. */
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_acquire(l, 0, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(rlock_new_is_unowned),
    RT_CASE(rlock_acquire_and_release),
    RT_CASE(rlock_reentry_1000_deep),
    RT_CASE(rlock_reentry_never_blocks_whatever_wait_says),
    RT_CASE(rlock_validates_arguments_before_reentry),
    RT_CASE(rlock_release_unowned_fails_with_message),
    RT_CASE(rlock_release_by_another_thread_fails),
    RT_CASE(rlock_other_thread_blocks_until_last_release),
    RT_CASE(rlock_nonblocking_and_timed_acquire_of_held_lock),
    RT_CASE(rlock_ownership_is_not_inherited_by_a_new_thread),
    RT_CASE(rlock_counter_is_exact_under_contention),
    RT_CASE(rlock_free_null_is_fine),
    RT_CASE(rlock_free_while_held_is_fine),
    RT_CASE(rlock_free_with_waiters_is_busy),
    RT_CASE(rlock_new_rejects_null_out),
    RT_CASE(rlock_null_handles_are_einval),
    RT_CASE(rlock_wrong_kind_handles_are_einval)
)
