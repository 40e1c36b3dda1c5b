/*
 * threading.Barrier: a wait from inside the barrier's own action, and timed waits in the phases
 * of a cycle (filling, running the action, resetting; draining is tested in Rust).
 */
#include "rt_test.h"

/* ---- a wait from the barrier's own action ---- */

struct own_action {
    rt_barrier *barrier;
    double timeout;
    int reset_first;  /* the action resets its barrier before it waits */
    rt_status status; /* what the nested wait returned */
    char message[128];
    double elapsed;
};

static int wait_from_the_action(void *ctx) {
    struct own_action *a = ctx;
    size_t index = 99;
    double t0 = rt_test_now();
    if (a->reset_first && rt_barrier_reset(a->barrier) != RT_OK) return 1;
    a->status = rt_barrier_wait(a->barrier, a->timeout, &index);
    a->elapsed = rt_test_now() - t0;
    strncpy(a->message, rt_last_error(), sizeof a->message - 1);
    a->message[sizeof a->message - 1] = '\0';
    if (index != 99) return 1; /* written on failure */
    return 0;
}

static void check_own_action(double timeout, int reset_first) {
    struct own_action a;
    rt_barrier *b;
    memset(&a, 0, sizeof a);
    a.timeout = timeout;
    a.reset_first = reset_first;
    a.status = RT_OK;
    CHECK_OK(rt_barrier_new(1, wait_from_the_action, &a, RT_FOREVER, &b));
    a.barrier = b;
    if (reset_first) {
        /* The reset ends the action's own cycle: its thread gets "barrier was reset". */
        CHECK_ERR(rt_barrier_wait(b, RT_FOREVER, NULL), RT_EBROKEN, "barrier was reset");
    } else {
        CHECK_OK(rt_barrier_wait(b, RT_FOREVER, NULL));
    }
    CHECK_EQ_INT(a.status, RT_EDEADLK);
    CHECK(strcmp(a.message, "barrier wait from its own action") == 0);
    CHECK(a.elapsed < RT_TEST_PROMPT);
    CHECK(!rt_barrier_broken(b));
    CHECK_EQ_INT(rt_barrier_n_waiting(b), 0);
    /* The barrier still works (the action, without its reset, fails its nested wait again). */
    a.reset_first = 0;
    a.status = RT_OK;
    CHECK_OK(rt_barrier_wait(b, 0.0, NULL));
    CHECK_EQ_INT(a.status, RT_EDEADLK);
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_wait_from_its_own_action_is_edeadlk(void) {
    check_own_action(RT_FOREVER, 0);
    check_own_action(30.0, 0);
    check_own_action(0.0, 0);
}

static void barrier_wait_from_its_own_action_after_a_reset_is_edeadlk(void) {
    check_own_action(30.0, 1);
}

/* ---- timed waits in every phase ---- */

struct waiter {
    rt_barrier *barrier;
    double timeout;
    int result; /* 1000 + status, once done */
    size_t index;
    char message[128];
    double elapsed;
};

static void wait_in_thread(void *p) {
    struct waiter *w = p;
    double t0 = rt_test_now();
    rt_status s = rt_barrier_wait(w->barrier, w->timeout, &w->index);
    w->elapsed = rt_test_now() - t0;
    if (s != RT_OK) {
        strncpy(w->message, rt_last_error(), sizeof w->message - 1);
        w->message[sizeof w->message - 1] = '\0';
    }
    ATOMIC_STORE(&w->result, 1000 + (int)s);
}

static void start_waiter(struct waiter *w, rt_barrier *b, double timeout) {
    memset(w, 0, sizeof *w);
    w->barrier = b;
    w->timeout = timeout;
    CHECK_OK(rt_start_new_thread(wait_in_thread, w, NULL));
}

#define LATE_TIMEOUT 0.3

/* A thread that arrives while the phase lasts, with a short timeout: it gives up after its
 * timeout (not before, and not when the phase ends), with "barrier wait timed out". */
static void check_late_arrival_times_out(rt_barrier *b) {
    struct waiter late;
    start_waiter(&late, b, LATE_TIMEOUT);
    /* The phase lasts until this thread ends it, so a wait that ignores its timeout never
     * returns here. */
    WAIT_UNTIL(ATOMIC_LOAD(&late.result) != 0, 20.0);
    CHECK_EQ_INT(late.result - 1000, RT_EBROKEN);
    CHECK(strcmp(late.message, "barrier wait timed out") == 0);
    CHECK(late.elapsed >= LATE_TIMEOUT);
    CHECK(late.elapsed <= LATE_TIMEOUT + RT_TEST_PROMPT);
}

/* An action that holds its cycle in the ACTION phase until released. */
struct held_action {
    int running;
    int release;
};

static int hold_the_action(void *ctx) {
    struct held_action *h = ctx;
    ATOMIC_STORE(&h->running, 1);
    while (!ATOMIC_LOAD(&h->release)) rt_test_sleep(0.001);
    return 0;
}

static void barrier_late_wait_times_out_while_the_action_runs(void) {
    struct held_action h = { 0, 0 };
    struct waiter a, last;
    rt_barrier *b;
    CHECK_OK(rt_barrier_new(2, hold_the_action, &h, RT_FOREVER, &b));
    start_waiter(&a, b, 30.0);
    WAIT_UNTIL(rt_barrier_n_waiting(b) == 1, 20.0);
    start_waiter(&last, b, 30.0);
    WAIT_UNTIL(ATOMIC_LOAD(&h.running), 20.0);
    check_late_arrival_times_out(b);
    /* The cycle that was running its action keeps its outcome... */
    ATOMIC_STORE(&h.release, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0 && ATOMIC_LOAD(&last.result) != 0, 20.0);
    CHECK_EQ_INT(a.result - 1000, RT_OK);
    CHECK_EQ_INT(last.result - 1000, RT_OK);
    CHECK_EQ_INT(a.index + last.index, 1);
    /* ...and the next one is broken: it could not fill without the thread that gave up. */
    CHECK(rt_barrier_broken(b));
    CHECK_ERR(rt_barrier_wait(b, 30.0, NULL), RT_EBROKEN, "barrier is broken");
    CHECK_OK(rt_barrier_reset(b));
    CHECK(!rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_late_wait_times_out_while_the_barrier_resets(void) {
    struct held_action h = { 0, 0 };
    struct waiter a, last;
    rt_barrier *b;
    CHECK_OK(rt_barrier_new(2, hold_the_action, &h, RT_FOREVER, &b));
    start_waiter(&a, b, 30.0);
    WAIT_UNTIL(rt_barrier_n_waiting(b) == 1, 20.0);
    start_waiter(&last, b, 30.0);
    WAIT_UNTIL(ATOMIC_LOAD(&h.running), 20.0);
    /* The reset ends the cycle; the action's thread is still inside, so it stays resetting. */
    CHECK_OK(rt_barrier_reset(b));
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0, 20.0);
    CHECK_EQ_INT(a.result - 1000, RT_EBROKEN);
    CHECK(strcmp(a.message, "barrier was reset") == 0);
    check_late_arrival_times_out(b);
    ATOMIC_STORE(&h.release, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&last.result) != 0, 20.0);
    CHECK_EQ_INT(last.result - 1000, RT_EBROKEN);
    CHECK(strcmp(last.message, "barrier was reset") == 0);
    CHECK(rt_barrier_broken(b));
    /* A reset after the late thread gave up forgets it: the barrier works again. */
    CHECK_OK(rt_barrier_reset(b));
    start_waiter(&a, b, 30.0);
    CHECK_OK(rt_barrier_wait(b, 30.0, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.result) != 0, 20.0);
    CHECK_EQ_INT(a.result - 1000, RT_OK);
    CHECK_OK(rt_barrier_free(b));
}

/* DRAINING (released threads still leaving) cannot be held from C without holding the
 * barrier's internal lock too: src/sync/barrier.rs tests it
 * (a_late_wait_times_out_while_the_cycle_drains). */

/* FILLING, for completeness beside the others: the timeout is honoured, not cut short. */
static void barrier_wait_times_out_while_filling(void) {
    rt_barrier *b;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    check_late_arrival_times_out(b);
    CHECK(rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

RT_CASES(RT_CASE(barrier_wait_from_its_own_action_is_edeadlk),
         RT_CASE(barrier_wait_from_its_own_action_after_a_reset_is_edeadlk),
         RT_CASE(barrier_late_wait_times_out_while_the_action_runs),
         RT_CASE(barrier_late_wait_times_out_while_the_barrier_resets),
         RT_CASE(barrier_wait_times_out_while_filling))
