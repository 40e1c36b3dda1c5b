/* The thread hooks (settrace/setprofile for C, TH11). */
#include "rt_test.h"

/* A log of events, in order: 's' start hook, 'f' function, 'd' thread-local destructor,
 * 'e' exit hook. Each event also records the ident of the thread it ran in. */
#define EVENTS 64
static char events[EVENTS];
static uint64_t event_ident[EVENTS];
static int nevents;
static rt_lock *log_lock;
static int hook_ctx;

static void log_event(char c) {
    if (rt_lock_acquire(log_lock, 1, RT_FOREVER) != RT_OK) abort();
    if (nevents < EVENTS) {
        event_ident[nevents] = rt_get_ident();
        events[nevents++] = c;
    }
    rt_lock_release(log_lock);
}

static void on_start(void *ctx) {
    if (ctx != &hook_ctx) abort();
    log_event('s');
}

static void on_exit_hook(void *ctx) {
    if (ctx != &hook_ctx) abort();
    log_event('e');
}

static void function(void *p) {
    (void)p;
    log_event('f');
}

static void setup(void) {
    CHECK_OK(rt_lock_new(&log_lock));
    nevents = 0;
    memset(events, 0, sizeof events);
}

static void teardown(void) {
    CHECK_OK(rt_set_thread_hooks(NULL, NULL, NULL));
    CHECK_OK(rt_lock_free(log_lock));
}

static void hooks_run_in_the_new_thread_around_its_function(void) {
    rt_thread *t;
    int i;
    setup();
    CHECK_OK(rt_set_thread_hooks(on_start, on_exit_hook, &hook_ctx));
    CHECK_OK(rt_thread_new(function, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(events, "sfe") == 0);
    for (i = 0; i < 3; i++) CHECK(event_ident[i] == rt_thread_ident(t));
    CHECK_OK(rt_thread_release(t));
    teardown();
}

static void exiter(void *p) {
    (void)p;
    log_event('f');
    rt_exit_thread();
    log_event('x'); /* never */
}

static void the_exit_hook_runs_after_exit_thread(void) {
    rt_thread *t;
    setup();
    CHECK_OK(rt_set_thread_hooks(on_start, on_exit_hook, &hook_ctx));
    CHECK_OK(rt_thread_new(exiter, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(events, "sfe") == 0);
    CHECK_OK(rt_thread_release(t));
    teardown();
}

static void hooks_cover_timers_and_start_new_thread(void) {
    rt_thread *t;
    setup();
    CHECK_OK(rt_set_thread_hooks(on_start, on_exit_hook, &hook_ctx));
    CHECK_OK(rt_timer_new(0.0, function, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(events, "sfe") == 0);
    CHECK_OK(rt_thread_release(t));
    /* A cancelled timer's thread still runs both hooks. */
    CHECK_OK(rt_timer_new(30.0, function, NULL, &t));
    CHECK_OK(rt_timer_cancel(t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(events, "sfese") == 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_start_new_thread(function, NULL, NULL));
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    CHECK(strcmp(events, "sfesesfe") == 0);
    teardown();
}

struct held {
    rt_lock *gate;
    int started;
};

static void wait_at_gate(void *p) {
    struct held *h = p;
    ATOMIC_STORE(&h->started, 1);
    if (rt_lock_acquire(h->gate, 1, RT_FOREVER) != RT_OK) abort();
    rt_lock_release(h->gate);
}

static void hooks_apply_to_threads_started_after_the_call(void) {
    struct held h;
    rt_thread *before, *after;
    setup();
    CHECK_OK(rt_lock_new(&h.gate));
    CHECK_OK(rt_lock_acquire(h.gate, 1, RT_FOREVER));
    h.started = 0;
    CHECK_OK(rt_thread_new(wait_at_gate, &h, &before));
    CHECK_OK(rt_thread_start(before));
    CHECK_OK(rt_set_thread_hooks(on_start, on_exit_hook, &hook_ctx));
    /* Made before the call but started after it: it gets the hooks. */
    CHECK_OK(rt_thread_new(function, NULL, &after));
    CHECK_OK(rt_lock_release(h.gate));
    CHECK_OK(rt_thread_join(before, RT_FOREVER)); /* ends after the call: still no hooks */
    CHECK(strcmp(events, "") == 0);
    CHECK_OK(rt_thread_start(after));
    CHECK_OK(rt_thread_join(after, RT_FOREVER));
    CHECK(strcmp(events, "sfe") == 0);
    /* Removing them: later threads run none. */
    CHECK_OK(rt_set_thread_hooks(NULL, NULL, NULL));
    CHECK_OK(rt_thread_release(after));
    CHECK_OK(rt_thread_new(function, NULL, &after));
    CHECK_OK(rt_thread_start(after));
    CHECK_OK(rt_thread_join(after, RT_FOREVER));
    CHECK(strcmp(events, "sfef") == 0);
    CHECK_OK(rt_thread_release(after));
    CHECK_OK(rt_thread_release(before));
    CHECK_OK(rt_lock_free(h.gate));
    teardown();
}

static void only_a_start_hook_or_only_an_exit_hook(void) {
    rt_thread *t;
    setup();
    CHECK_OK(rt_set_thread_hooks(on_start, NULL, &hook_ctx));
    CHECK_OK(rt_thread_new(function, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_set_thread_hooks(NULL, on_exit_hook, &hook_ctx));
    CHECK_OK(rt_thread_new(function, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK(strcmp(events, "sffe") == 0);
    teardown();
}

static rt_local *hook_local;

static void destroy_logged(void *v) {
    (void)v;
    log_event('d');
}

static void set_local_then_log(void *p) {
    (void)p;
    if (rt_local_set(hook_local, &hook_ctx) != RT_OK) abort();
    log_event('f');
}

static void the_exit_hook_runs_after_thread_local_destructors(void) {
    rt_thread *t;
    setup();
    CHECK_OK(rt_local_new(destroy_logged, &hook_local));
    CHECK_OK(rt_set_thread_hooks(on_start, on_exit_hook, &hook_ctx));
    CHECK_OK(rt_thread_new(set_local_then_log, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(events, "sfde") == 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(hook_local));
    teardown();
}

static int exit_refused_in_hook;
static int hook_saw_itself_alive;

static void start_hook_tries_things(void *ctx) {
    rt_thread *me;
    (void)ctx;
    if (rt_exit_thread() == RT_ESTATE) ATOMIC_ADD(&exit_refused_in_hook, 1);
    if (rt_current_thread(&me) == RT_OK) {
        hook_saw_itself_alive = rt_thread_is_alive(me);
        rt_thread_release(me);
    }
    log_event('s');
}

static void exit_hook_tries_exit(void *ctx) {
    (void)ctx;
    if (rt_exit_thread() == RT_ESTATE) ATOMIC_ADD(&exit_refused_in_hook, 1);
    log_event('e');
}

static void hooks_may_call_rthread_but_not_exit_thread(void) {
    rt_thread *t;
    setup();
    CHECK_OK(rt_set_thread_hooks(start_hook_tries_things, exit_hook_tries_exit, NULL));
    CHECK_OK(rt_thread_new(function, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(events, "sfe") == 0);
    CHECK_EQ_INT(exit_refused_in_hook, 2);
    CHECK(hook_saw_itself_alive);
    CHECK_OK(rt_thread_release(t));
    teardown();
}

/* A value set in the exit hook, after the thread's destructor pass, is destroyed when the OS
 * thread ends; by then the thread has no thread object any more. */
static rt_local *late_local;
static int late_status = -1;
static int late_destroyed;

static void late_destructor(void *v) {
    rt_thread *t;
    (void)v;
    late_status = rt_current_thread(&t);
    if (late_status == RT_OK) rt_thread_release(t);
    ATOMIC_STORE(&late_destroyed, 1);
}

static void exit_hook_sets_a_value(void *ctx) {
    if (rt_local_set(late_local, ctx) != RT_OK) abort();
}

static void values_set_in_the_exit_hook_are_destroyed_when_the_os_thread_ends(void) {
    rt_thread *t;
    size_t before;
    setup();
    CHECK_OK(rt_local_new(late_destructor, &late_local));
    CHECK_OK(rt_set_thread_hooks(NULL, exit_hook_sets_a_value, &hook_ctx));
    CHECK_OK(rt_thread_new(function, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    WAIT_UNTIL(ATOMIC_LOAD(&late_destroyed), 10.0);
    CHECK_EQ_INT(late_status, RT_ESTATE);
    /* No dummy was made for the ending thread. */
    before = rt_active_count();
    CHECK_EQ_INT(before, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(late_local));
    teardown();
}

RT_CASES(
    RT_CASE(hooks_run_in_the_new_thread_around_its_function),
    RT_CASE(the_exit_hook_runs_after_exit_thread),
    RT_CASE(hooks_cover_timers_and_start_new_thread),
    RT_CASE(hooks_apply_to_threads_started_after_the_call),
    RT_CASE(only_a_start_hook_or_only_an_exit_hook),
    RT_CASE(the_exit_hook_runs_after_thread_local_destructors),
    RT_CASE(hooks_may_call_rthread_but_not_exit_thread),
    RT_CASE(values_set_in_the_exit_hook_are_destroyed_when_the_os_thread_ends)
)
