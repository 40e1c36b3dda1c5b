/*
 * Ending a thread with pthread_exit: in a thread rthread started, it ends the thread as a
 * return from its function does (thread-local destructors, the exit hook, the registry, the
 * thread count, joiners), wherever it is called: the function, the start hook, the exit hook.
 */
#include "rt_test.h"

#include <pthread.h>
#include <unistd.h>

/* What the hooks and destructors saw, for the thread under test. */
static uint64_t exiting_ident;  /* the thread whose end the hooks report */
static int exit_hooks;          /* exit hooks run in that thread */
static int all_exit_hooks;      /* exit hooks run in any thread */
static int destructors;         /* local destructors run (any thread) */
static int after_exit_ran;      /* code after a pthread_exit: never */
static int exit_in_start_hook;  /* the start hook calls pthread_exit */
static int exit_in_exit_hook;   /* the exit hook calls pthread_exit */
static int function_ran;

static void on_start(void *ctx) {
    (void)ctx;
    if (ATOMIC_LOAD(&exit_in_start_hook)) {
        pthread_exit(NULL);
        ATOMIC_STORE(&after_exit_ran, 1);
    }
}

static void on_exit_hook(void *ctx) {
    (void)ctx;
    if (rt_get_ident() == ATOMIC_LOAD(&exiting_ident)) ATOMIC_ADD(&exit_hooks, 1);
    ATOMIC_ADD(&all_exit_hooks, 1);
    if (ATOMIC_LOAD(&exit_in_exit_hook)) {
        pthread_exit(NULL);
        ATOMIC_STORE(&after_exit_ran, 1);
    }
}

static void count_destructor(void *value) {
    (void)value;
    ATOMIC_ADD(&destructors, 1);
}

static rt_local *local;

static void setup(void) {
    CHECK_OK(rt_set_thread_hooks(on_start, on_exit_hook, NULL));
    CHECK_OK(rt_local_new(count_destructor, &local));
}

static void __attribute__((noinline)) exit_deep_down(int depth) {
    if (depth < 0) return;
    if (depth == 0) pthread_exit(NULL);
    exit_deep_down(depth - 1);
    ATOMIC_STORE(&after_exit_ran, 1); /* never reached */
}

/* Sets its local value, then ends with pthread_exit five calls down. */
static void function_that_pthread_exits(void *arg) {
    (void)arg;
    ATOMIC_STORE(&exiting_ident, rt_get_ident());
    ATOMIC_STORE(&function_ran, 1);
    if (rt_local_set(local, &destructors) != RT_OK) abort();
    exit_deep_down(5);
    ATOMIC_STORE(&after_exit_ran, 1);
}

static int listed(rt_thread *t) {
    rt_thread *buf[64];
    size_t n = 0;
    int found = 0;
    CHECK_OK(rt_enumerate(buf, 64, &n));
    CHECK(n <= 64);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == t) found = 1;
        CHECK_OK(rt_thread_release(buf[i]));
    }
    return found;
}

/* Joins `t` (which ends by pthread_exit somewhere) and checks that it ended as a return would
 * have ended it. `expect_destructor`: the thread set a local value. */
static void check_ended_cleanly(rt_thread *t, size_t count_before, int expect_destructor) {
    CHECK_OK(rt_thread_join(t, 60.0));
    CHECK(!rt_thread_is_alive(t));
    CHECK(!listed(t));
    CHECK_EQ_INT(rt_thread_count(), count_before);
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_hooks), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&destructors), expect_destructor);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_exit_ran), 0);
    CHECK_OK(rt_thread_join(t, 0.0));
}

static void pthread_exit_ends_a_thread_object_like_a_return(void) {
    rt_thread *t;
    size_t before = rt_thread_count();
    setup();
    CHECK_OK(rt_thread_new(function_that_pthread_exits, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    check_ended_cleanly(t, before, 1);
    CHECK(ATOMIC_LOAD(&function_ran));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(local));
}

static void pthread_exit_ends_a_timer_like_a_return(void) {
    rt_thread *t;
    size_t before = rt_thread_count();
    setup();
    CHECK_OK(rt_timer_new(0.0, function_that_pthread_exits, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    check_ended_cleanly(t, before, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(local));
}

static void pthread_exit_ends_a_start_new_thread_thread(void) {
    size_t before = rt_thread_count();
    setup();
    CHECK_OK(rt_start_new_thread(function_that_pthread_exits, NULL, NULL));
    /* No object to join: the thread is done when it no longer counts, and the count drops
     * last of all. */
    WAIT_UNTIL(rt_thread_count() == before, 60.0);
    CHECK(ATOMIC_LOAD(&function_ran));
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_hooks), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&destructors), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_exit_ran), 0);
    CHECK_OK(rt_local_free(local));
}

static void pthread_exit_in_the_start_hook_ends_the_thread(void) {
    rt_thread *t;
    size_t before = rt_thread_count();
    setup();
    ATOMIC_STORE(&exit_in_start_hook, 1);
    CHECK_OK(rt_thread_new(function_that_pthread_exits, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 60.0));
    CHECK_EQ_INT(ATOMIC_LOAD(&all_exit_hooks), 1);
    CHECK(!rt_thread_is_alive(t));
    CHECK(!listed(t));
    CHECK_EQ_INT(rt_thread_count(), before);
    CHECK_EQ_INT(ATOMIC_LOAD(&function_ran), 0);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_exit_ran), 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(local));
}

static void pthread_exit_in_the_exit_hook_still_ends_the_thread(void) {
    rt_thread *t;
    size_t before = rt_thread_count();
    setup();
    ATOMIC_STORE(&exit_in_exit_hook, 1);
    CHECK_OK(rt_thread_new(function_that_pthread_exits, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    check_ended_cleanly(t, before, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(local));
}

/* rt_exit_thread is pthread_exit, and ends the thread the same way. */
static void rt_exit_thread_runs_the_whole_end(void *arg) {
    (void)arg;
    ATOMIC_STORE(&exiting_ident, rt_get_ident());
    if (rt_local_set(local, &destructors) != RT_OK) abort();
    rt_exit_thread();
    ATOMIC_STORE(&after_exit_ran, 1);
}

static void rt_exit_thread_ends_a_thread_object_like_pthread_exit(void) {
    rt_thread *t;
    size_t before = rt_thread_count();
    setup();
    CHECK_OK(rt_thread_new(rt_exit_thread_runs_the_whole_end, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    check_ended_cleanly(t, before, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(local));
}

/* Many threads end by pthread_exit at once, while their joiners wait. */
static void many_threads_end_by_pthread_exit(void) {
    enum { N = 16 };
    rt_thread *t[N];
    size_t before = rt_thread_count();
    setup();
    for (int i = 0; i < N; i++) {
        CHECK_OK(rt_thread_new(function_that_pthread_exits, NULL, &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    for (int i = 0; i < N; i++) {
        CHECK_OK(rt_thread_join(t[i], 60.0));
        CHECK(!rt_thread_is_alive(t[i]));
        CHECK_OK(rt_thread_release(t[i]));
    }
    CHECK_EQ_INT(rt_thread_count(), before);
    CHECK_EQ_INT(ATOMIC_LOAD(&all_exit_hooks), N);
    CHECK_EQ_INT(ATOMIC_LOAD(&destructors), N);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_exit_ran), 0);
    CHECK_OK(rt_local_free(local));
}

/* A destructor that ends its thread, and the values it and its neighbours destroy. */
static int exiting_destructors;
static void destructor_that_pthread_exits(void *value) {
    (void)value;
    ATOMIC_ADD(&exiting_destructors, 1);
    pthread_exit(NULL);
    ATOMIC_STORE(&after_exit_ran, 1);
}

static rt_local *exiting_local, *later_locals[3];

static void set_every_local(void *arg) {
    (void)arg;
    ATOMIC_STORE(&exiting_ident, rt_get_ident());
    /* The exiting destructor's local comes between the others: some values are destroyed
     * before it, some after. */
    if (rt_local_set(later_locals[0], &destructors) != RT_OK) abort();
    if (rt_local_set(exiting_local, &destructors) != RT_OK) abort();
    if (rt_local_set(later_locals[1], &destructors) != RT_OK) abort();
    if (rt_local_set(later_locals[2], &destructors) != RT_OK) abort();
    if (rt_local_set(local, &destructors) != RT_OK) abort();
}

static void pthread_exit_in_a_local_destructor_still_ends_the_thread(void) {
    rt_thread *t;
    size_t before = rt_thread_count();
    setup();
    CHECK_OK(rt_local_new(destructor_that_pthread_exits, &exiting_local));
    for (int i = 0; i < 3; i++) CHECK_OK(rt_local_new(count_destructor, &later_locals[i]));
    CHECK_OK(rt_thread_new(set_every_local, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 60.0));
    CHECK(!rt_thread_is_alive(t));
    CHECK(!listed(t));
    CHECK_EQ_INT(rt_thread_count(), before);
    CHECK_EQ_INT(ATOMIC_LOAD(&exiting_destructors), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&destructors), 4); /* every other value, once */
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_hooks), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_exit_ran), 0);
    CHECK_OK(rt_thread_release(t));
    for (int i = 0; i < 3; i++) CHECK_OK(rt_local_free(later_locals[i]));
    CHECK_OK(rt_local_free(exiting_local));
    CHECK_OK(rt_local_free(local));
}

static void nothing(void *arg) { (void)arg; }

/* rt_thread_count is exact once a join returned: the joined thread no longer counts (CPython
 * 3.13 marks the handle done after the count drops). Churn: a join right after the thread's
 * function returned races the thread's end, every round. */
static void a_joined_thread_is_no_longer_counted(void) {
    long rounds = rt_test_scaled(3000, 100);
    size_t before = rt_thread_count();
    for (long i = 0; i < rounds; i++) {
        rt_thread *t;
        CHECK_OK(rt_thread_new(nothing, NULL, &t));
        CHECK_OK(rt_thread_start(t));
        CHECK_OK(rt_thread_join(t, 60.0));
        size_t now = rt_thread_count();
        if (now != before)
            rt_test_fail(__FILE__, __LINE__, "round %ld: rt_thread_count() is %zu after the join, "
                         "expected %zu", i, now, before);
        CHECK_OK(rt_thread_release(t));
    }
}

/* The main thread ending with pthread_exit is the C library's business: the process goes on
 * while another thread runs, and ends (status 0) when the last thread ends. */
static void finish_case(void *arg) {
    (void)arg;
    rt_test_sleep(0.05);
    /* _exit: the C library keeps the exited main thread's own thread-exit records, which
     * LeakSanitizer would report at exit(). */
    _exit(0);
}

static void the_main_thread_may_still_pthread_exit(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(finish_case, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    pthread_exit(NULL);
}

RT_CASES(RT_CASE(pthread_exit_ends_a_thread_object_like_a_return),
         RT_CASE(pthread_exit_ends_a_timer_like_a_return),
         RT_CASE(pthread_exit_ends_a_start_new_thread_thread),
         RT_CASE(pthread_exit_in_the_start_hook_ends_the_thread),
         RT_CASE(pthread_exit_in_the_exit_hook_still_ends_the_thread),
         RT_CASE(rt_exit_thread_ends_a_thread_object_like_pthread_exit),
         RT_CASE(pthread_exit_in_a_local_destructor_still_ends_the_thread),
         RT_CASE(many_threads_end_by_pthread_exit),
         RT_CASE(a_joined_thread_is_no_longer_counted),
         RT_CASE(the_main_thread_may_still_pthread_exit))
