/* threading.Timer (TH14). */
#include "rt_test.h"

struct fire {
    void *arg;
    int fired;
    double at;
    rt_lock *gate; /* if set, the function waits here */
};

static void fire(void *p) {
    struct fire *f = p;
    f->arg = p;
    f->at = rt_test_now();
    ATOMIC_ADD(&f->fired, 1);
    if (f->gate) {
        if (rt_lock_acquire(f->gate, 1, RT_FOREVER) != RT_OK) abort();
        rt_lock_release(f->gate);
    }
}

static void a_timer_runs_its_function_after_the_interval(void) {
    struct fire f;
    rt_thread *t;
    double t0;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(0.05, fire, &f, &t));
    t0 = rt_test_now();
    CHECK_OK(rt_thread_start(t));
    CHECK(rt_thread_is_alive(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(f.fired, 1);
    CHECK(f.arg == &f);
    CHECK(f.at - t0 >= 0.05);
    CHECK_ELAPSED(t0, 0.05, 5.0);
    CHECK_OK(rt_thread_release(t));
}

static void a_timer_does_nothing_until_started(void) {
    struct fire f;
    rt_thread *t;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(0.0, fire, &f, &t));
    rt_test_sleep(0.02);
    CHECK_EQ_INT(f.fired, 0);
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(f.fired, 1);
    CHECK_OK(rt_thread_release(t));
}

static void cancel_ends_a_waiting_timer_promptly(void) {
    struct fire f;
    rt_thread *t;
    double t0;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(60.0, fire, &f, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_STATUS(rt_thread_join(t, 0.02), RT_TIMEOUT); /* it waits */
    t0 = rt_test_now();
    CHECK_OK(rt_timer_cancel(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_ELAPSED(t0, 0.0, 5.0);
    CHECK_EQ_INT(f.fired, 0);
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_timer_cancel(t)); /* again: harmless */
    CHECK_OK(rt_thread_release(t));
}

static void cancel_before_start_means_it_never_fires(void) {
    struct fire f;
    rt_thread *t;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(0.0, fire, &f, &t));
    CHECK_OK(rt_timer_cancel(t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(f.fired, 0);
    CHECK_OK(rt_thread_release(t));
}

static void cancel_after_it_fired_is_harmless(void) {
    struct fire f;
    rt_thread *t;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(0.0, fire, &f, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_timer_cancel(t));
    CHECK_EQ_INT(f.fired, 1);
    CHECK_OK(rt_thread_release(t));
}

static void cancel_does_not_stop_a_running_function(void) {
    struct fire f;
    rt_thread *t;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_lock_new(&f.gate));
    CHECK_OK(rt_lock_acquire(f.gate, 1, RT_FOREVER));
    CHECK_OK(rt_timer_new(0.0, fire, &f, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&f.fired) == 1, 10.0);
    CHECK_OK(rt_timer_cancel(t));
    CHECK(rt_thread_is_alive(t));
    CHECK_OK(rt_lock_release(f.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(f.fired, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(f.gate));
}

static void a_negative_interval_fires_at_once(void) {
    struct fire f;
    rt_thread *t;
    double t0;
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(-1.0, fire, &f, &t));
    t0 = rt_test_now();
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_ELAPSED(t0, 0.0, 5.0);
    CHECK_EQ_INT(f.fired, 1);
    CHECK_OK(rt_thread_release(t));
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(-INFINITY, fire, &f, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(f.fired, 1);
    CHECK_OK(rt_thread_release(t));
}

static void the_interval_is_validated(void) {
    rt_thread *t = NULL;
    CHECK_ERR(rt_timer_new(NAN, fire, NULL, &t), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_timer_new(1e100, fire, NULL, &t), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_timer_new(INFINITY, fire, NULL, &t), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK(t == NULL);
    CHECK_OK(rt_timer_new(RT_TIMEOUT_MAX, fire, NULL, &t));
    CHECK_OK(rt_thread_release(t));
}

static void a_timer_is_a_thread_object(void) {
    struct fire f;
    rt_thread *t, *timers[2];
    char name[32];
    memset(&f, 0, sizeof f);
    CHECK_OK(rt_timer_new(0.0, fire, &f, &t));
    CHECK_OK(rt_thread_name(t, name, sizeof name));
    CHECK(strncmp(name, "Thread-", 7) == 0);
    CHECK(!rt_thread_daemon(t)); /* inherited from the main thread */
    CHECK_ERR(rt_thread_join(t, RT_FOREVER), RT_ESTATE, "cannot join thread before it is started");
    CHECK_OK(rt_thread_set_daemon(t, true));
    CHECK_OK(rt_thread_set_name(t, "alarm"));
    CHECK_OK(rt_thread_start(t));
    CHECK_ERR(rt_thread_start(t), RT_ESTATE, "threads can only be started once");
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(rt_thread_ident(t) != 0);
    CHECK_OK(rt_thread_release(t));
    /* Only timers can be cancelled. */
    CHECK_OK(rt_thread_new(NULL, NULL, &timers[0]));
    CHECK_ERR(rt_timer_cancel(timers[0]), RT_EINVAL, "not a timer");
    CHECK_OK(rt_main_thread(&timers[1]));
    CHECK_ERR(rt_timer_cancel(timers[1]), RT_EINVAL, "not a timer");
    CHECK_OK(rt_thread_release(timers[0]));
    CHECK_OK(rt_thread_release(timers[1]));
}

#define MANY 20

static void many_timers_cancel_or_fire_exactly_once(void) {
    struct fire f[MANY];
    rt_thread *t[MANY];
    int i;
    memset(f, 0, sizeof f);
    for (i = 0; i < MANY; i++) {
        CHECK_OK(rt_timer_new(i % 2 ? 30.0 : 0.001 * i, fire, &f[i], &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    for (i = 1; i < MANY; i += 2) CHECK_OK(rt_timer_cancel(t[i]));
    for (i = 0; i < MANY; i++) {
        CHECK_OK(rt_thread_join(t[i], 10.0));
        CHECK_EQ_INT(f[i].fired, i % 2 ? 0 : 1);
        CHECK_OK(rt_thread_release(t[i]));
    }
}

RT_CASES(
    RT_CASE(a_timer_runs_its_function_after_the_interval),
    RT_CASE(a_timer_does_nothing_until_started),
    RT_CASE(cancel_ends_a_waiting_timer_promptly),
    RT_CASE(cancel_before_start_means_it_never_fires),
    RT_CASE(cancel_after_it_fired_is_harmless),
    RT_CASE(cancel_does_not_stop_a_running_function),
    RT_CASE(a_negative_interval_fires_at_once),
    RT_CASE(the_interval_is_validated),
    RT_CASE(a_timer_is_a_thread_object),
    RT_CASE(many_timers_cancel_or_fire_exactly_once)
)
