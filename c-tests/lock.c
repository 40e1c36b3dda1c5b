/* threading.Lock / _thread.allocate_lock: seed 001 and seed 004's Lock, case by case. */
#include "rt_test.h"
#include "rt_blocked.h"

/* A handle of no kind rthread makes: every call must refuse it with RT_EINVAL. */
static uint32_t not_a_handle[8] = { 0x12345678u };
#define WRONG_KIND ((rt_lock *)(void *)not_a_handle)

static void lock_new_is_unlocked(void) {
    rt_lock *l = NULL;
    CHECK_OK(rt_lock_new(&l));
    CHECK(l != NULL);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_acquire_and_release(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK(rt_lock_locked(l));
    CHECK_OK(rt_lock_release(l));
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_nonblocking_acquire_of_free_lock(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 0, RT_FOREVER));
    CHECK(rt_lock_locked(l));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_nonblocking_acquire_of_held_lock(void) {
    rt_lock *l;
    double t0;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_lock_acquire(l, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK_PROMPT(t0);
    CHECK(rt_lock_locked(l));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_zero_timeout_is_a_try(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, 0.0));
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.0), RT_TIMEOUT);
    CHECK_STATUS(rt_lock_acquire(l, 1, -0.0), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_timed_acquire_times_out(void) {
    rt_lock *l;
    double t0;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.1), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.1, 1.0);
    CHECK(rt_lock_locked(l));
    /* The lock still works after the timed-out waiter left. */
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_acquire(l, 0, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_tiny_timeout_still_waits(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(l, 1, 1e-10), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

struct acq_args {
    rt_lock *lock;
    double timeout;
    int started;
    int result; /* rt_status + 1000 once done */
    double elapsed;
    uint64_t tid; /* its native id, stored just before it acquires */
};

static void acquire_in_thread(void *p) {
    struct acq_args *a = p;
    double t0;
    ATOMIC_STORE(&a->started, 1);
    ATOMIC_STORE(&a->tid, rt_get_native_id());
    t0 = rt_test_now();
    rt_status s = rt_lock_acquire(a->lock, 1, a->timeout);
    a->elapsed = rt_test_now() - t0;
    ATOMIC_STORE(&a->result, 1000 + (int)s);
}

static void lock_timed_acquire_succeeds_when_released(void) {
    struct acq_args a = { NULL, 10.0, 0, 0, 0.0, 0 };
    CHECK_OK(rt_lock_new(&a.lock));
    CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(acquire_in_thread, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.started), 10.0);
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&a.result), 0);
    CHECK_OK(rt_lock_release(a.lock));
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0, 10.0);
    CHECK_EQ_INT(a.result, 1000 + RT_OK);
    CHECK(a.elapsed < 5.0);
    /* The waiter holds it now; we release it for the waiter (any thread may). */
    CHECK(rt_lock_locked(a.lock));
    CHECK_OK(rt_lock_release(a.lock));
    CHECK_OK(rt_lock_free(a.lock));
}

static void lock_blocking_acquire_waits_for_release(void) {
    struct acq_args a = { NULL, RT_FOREVER, 0, 0, 0.0, 0 };
    CHECK_OK(rt_lock_new(&a.lock));
    CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(acquire_in_thread, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.started), 10.0);
    rt_test_sleep(0.1);
    /* Still blocked: the lock is held. */
    CHECK_EQ_INT(ATOMIC_LOAD(&a.result), 0);
    CHECK_OK(rt_lock_release(a.lock));
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0, 10.0);
    CHECK_EQ_INT(a.result, 1000 + RT_OK);
    CHECK(a.elapsed >= 0.1 * 0.6);
    CHECK_OK(rt_lock_release(a.lock));
    CHECK_OK(rt_lock_free(a.lock));
}

struct rel_args {
    rt_lock *lock;
    int done;
    int result;
};

static void release_in_thread(void *p) {
    struct rel_args *a = p;
    a->result = (int)rt_lock_release(a->lock);
    ATOMIC_STORE(&a->done, 1);
}

static void lock_release_from_another_thread(void) {
    struct rel_args a = { NULL, 0, -1 };
    CHECK_OK(rt_lock_new(&a.lock));
    CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(release_in_thread, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK_EQ_INT(a.result, RT_OK);
    CHECK(!rt_lock_locked(a.lock));
    CHECK_OK(rt_lock_free(a.lock));
}

static void lock_release_unlocked_fails_with_message(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_ERR(rt_lock_release(l), RT_ENOTLOCKED, "release unlocked lock");
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_ERR(rt_lock_release(l), RT_ENOTLOCKED, "release unlocked lock");
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

struct race_args {
    rt_lock *lock;
    rt_lock *go; /* held by main until both racers are ready */
    int ready;
    int ok;
    int notlocked;
    int done;
};

static void racing_releaser(void *p) {
    struct race_args *a = p;
    rt_status s;
    ATOMIC_ADD(&a->ready, 1);
    while (ATOMIC_LOAD(&a->ready) < 3) {
    }
    s = rt_lock_release(a->lock);
    if (s == RT_OK) ATOMIC_ADD(&a->ok, 1);
    if (s == RT_ENOTLOCKED) ATOMIC_ADD(&a->notlocked, 1);
    ATOMIC_ADD(&a->done, 1);
}

static void lock_racing_releases_exactly_one_succeeds(void) {
    int round;
    for (round = 0; round < 300; round++) {
        struct race_args a = { NULL, NULL, 0, 0, 0, 0 };
        CHECK_OK(rt_lock_new(&a.lock));
        CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
        CHECK_OK(rt_start_new_thread(racing_releaser, &a, NULL));
        CHECK_OK(rt_start_new_thread(racing_releaser, &a, NULL));
        WAIT_UNTIL(ATOMIC_LOAD(&a.ready) == 2, 10.0);
        ATOMIC_ADD(&a.ready, 1);
        WAIT_UNTIL(ATOMIC_LOAD(&a.done) == 2, 10.0);
        CHECK_EQ_INT(a.ok, 1);
        CHECK_EQ_INT(a.notlocked, 1);
        CHECK(!rt_lock_locked(a.lock));
        CHECK_OK(rt_lock_free(a.lock));
    }
}

static void lock_validates_timeouts_like_cpython(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_ERR(rt_lock_acquire(l, 1, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_lock_acquire(l, 0, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_lock_acquire(l, 1, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_lock_acquire(l, 1, -INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_lock_acquire(l, 1, 1e100), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_lock_acquire(l, 1, RT_TIMEOUT_MAX + 1.0), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    /* Overflow is found before the non-blocking check, as in CPython. */
    CHECK_ERR(rt_lock_acquire(l, 0, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_lock_acquire(l, 0, 0.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK_ERR(rt_lock_acquire(l, 0, 5.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK_ERR(rt_lock_acquire(l, 0, -2.0), RT_EINVAL,
              "can't specify a timeout for a non-blocking call");
    CHECK_ERR(rt_lock_acquire(l, 1, -2.0), RT_EINVAL,
              "timeout value must be a non-negative number");
    CHECK_ERR(rt_lock_acquire(l, 1, -0.5), RT_EINVAL,
              "timeout value must be a non-negative number");
    /* None of the refused calls touched the lock. */
    CHECK(!rt_lock_locked(l));
    /* The largest timeout is accepted. */
    CHECK_OK(rt_lock_acquire(l, 1, RT_TIMEOUT_MAX));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_acquire(l, 5, -1.0)); /* any non-zero wait is true */
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_locked_in_each_state(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK(rt_lock_locked(l));
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.01), RT_TIMEOUT);
    CHECK(rt_lock_locked(l));
    CHECK_OK(rt_lock_release(l));
    CHECK(!rt_lock_locked(l));
    CHECK_STATUS(rt_lock_release(l), RT_ENOTLOCKED);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

static void lock_same_thread_acquire_blocks(void) {
    /* No owner, so no re-entry: a second acquire by the holder blocks (here, until timeout). */
    rt_lock *l;
    double t0;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.05), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.05, 1.0);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

#define COUNTER_THREADS 8
#define COUNTER_ROUNDS 20000

struct counter_args {
    rt_lock *lock;
    long counter; /* plain, unsynchronised except by the lock */
    int done;
};

static void count_under_lock(void *p) {
    struct counter_args *a = p;
    int i;
    for (i = 0; i < COUNTER_ROUNDS; i++) {
        if (rt_lock_acquire(a->lock, 1, RT_FOREVER) != RT_OK) abort();
        a->counter = a->counter + 1;
        if (rt_lock_release(a->lock) != RT_OK) abort();
    }
    ATOMIC_ADD(&a->done, 1);
}

static void lock_counter_is_exact_under_contention(void) {
    struct counter_args a = { NULL, 0, 0 };
    int i;
    CHECK_OK(rt_lock_new(&a.lock));
    for (i = 0; i < COUNTER_THREADS; i++) CHECK_OK(rt_start_new_thread(count_under_lock, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done) == COUNTER_THREADS, 120.0);
    CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
    CHECK_EQ_INT(a.counter, (long)COUNTER_THREADS * COUNTER_ROUNDS);
    CHECK_OK(rt_lock_release(a.lock));
    CHECK_OK(rt_lock_free(a.lock));
}

static void lock_free_null_is_fine(void) {
    CHECK_OK(rt_lock_free(NULL));
}

static void lock_free_while_locked_is_fine(void) {
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_free(l));
}

static void lock_free_with_waiters_is_busy(void) {
    struct acq_args a = { NULL, RT_FOREVER, 0, 0, 0.0, 0 };
    CHECK_OK(rt_lock_new(&a.lock));
    CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(acquire_in_thread, &a, NULL));
    /* Only once the waiter sleeps inside the blocking call: a free before it entered the call
     * would succeed (freeing a held lock is fine) and leave it a freed handle. */
    WAIT_BLOCKED(&a.tid);
    CHECK_ERR(rt_lock_free(a.lock), RT_EBUSY, "object is in use by waiting threads");
    CHECK(rt_lock_locked(a.lock)); /* not freed, still usable */
    CHECK_OK(rt_lock_release(a.lock));
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0, 10.0);
    CHECK_EQ_INT(a.result, 1000 + RT_OK);
    CHECK_OK(rt_lock_free(a.lock));
}

static void lock_new_rejects_null_out(void) {
    CHECK_ERR(rt_lock_new(NULL), RT_EINVAL, "NULL output pointer");
}

static void lock_null_handles_are_einval(void) {
    CHECK_ERR(rt_lock_acquire(NULL, 1, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_lock_acquire(NULL, 0, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_lock_release(NULL), RT_EINVAL, "NULL handle");
    CHECK(!rt_lock_locked(NULL));
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
}

static void lock_wrong_kind_handles_are_einval(void) {
    CHECK_ERR(rt_lock_acquire(WRONG_KIND, 1, RT_FOREVER), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_lock_release(WRONG_KIND), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_lock_free(WRONG_KIND), RT_EINVAL, "handle of the wrong kind");
    CHECK(!rt_lock_locked(WRONG_KIND));
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK_EQ_INT(not_a_handle[0], 0x12345678u); /* untouched */
}

static int count_acquired(struct acq_args *a, int n) {
    int i, c = 0;
    for (i = 0; i < n; i++) c += ATOMIC_LOAD(&a[i].result) != 0;
    return c;
}

static void lock_many_waiters_all_get_it(void) {
    /* Each acquirer keeps the lock; main releases it once per acquirer, and each release lets
     * exactly one more through. */
    struct acq_args a[6];
    int i, got;
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    for (i = 0; i < 6; i++) {
        a[i].lock = l;
        a[i].timeout = RT_FOREVER;
        a[i].started = 0;
        a[i].result = 0;
        CHECK_OK(rt_start_new_thread(acquire_in_thread, &a[i], NULL));
    }
    for (i = 0; i < 6; i++) WAIT_UNTIL(ATOMIC_LOAD(&a[i].started), 10.0);
    for (got = 0; got < 6; got++) {
        CHECK_EQ_INT(count_acquired(a, 6), got);
        CHECK_OK(rt_lock_release(l));
        WAIT_UNTIL(count_acquired(a, 6) == got + 1, 10.0);
        CHECK(rt_lock_locked(l));
    }
    for (i = 0; i < 6; i++) CHECK_EQ_INT(a[i].result, 1000 + RT_OK);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(lock_new_is_unlocked),
    RT_CASE(lock_acquire_and_release),
    RT_CASE(lock_nonblocking_acquire_of_free_lock),
    RT_CASE(lock_nonblocking_acquire_of_held_lock),
    RT_CASE(lock_zero_timeout_is_a_try),
    RT_CASE(lock_timed_acquire_times_out),
    RT_CASE(lock_tiny_timeout_still_waits),
    RT_CASE(lock_timed_acquire_succeeds_when_released),
    RT_CASE(lock_blocking_acquire_waits_for_release),
    RT_CASE(lock_release_from_another_thread),
    RT_CASE(lock_release_unlocked_fails_with_message),
    RT_CASE(lock_racing_releases_exactly_one_succeeds),
    RT_CASE(lock_validates_timeouts_like_cpython),
    RT_CASE(lock_locked_in_each_state),
    RT_CASE(lock_same_thread_acquire_blocks),
    RT_CASE(lock_counter_is_exact_under_contention),
    RT_CASE(lock_free_null_is_fine),
    RT_CASE(lock_free_while_locked_is_fine),
    RT_CASE(lock_free_with_waiters_is_busy),
    RT_CASE(lock_new_rejects_null_out),
    RT_CASE(lock_null_handles_are_einval),
    RT_CASE(lock_wrong_kind_handles_are_einval),
    RT_CASE(lock_many_waiters_all_get_it)
)
