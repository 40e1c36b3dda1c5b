/* concurrent.futures: Future (both halves), ThreadPoolExecutor, wait and as_completed. */
#define _GNU_SOURCE 1
#include "rt_blocked.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define P(n) ((void *)(intptr_t)(n))
/* A pointer no call may write: outputs are written only on success. */
static int sentinel_object;
#define SENTINEL_FUTURE ((rt_future *)(void *)&sentinel_object)
#define MSG_INVALID_FINISHED "FINISHED: <Future state=finished>"
#define MSG_INVALID_NOTIFIED "CANCELLED_AND_NOTIFIED: <Future state=cancelled>"
#define MSG_INVALID_CANCELLED "CANCELLED: <Future state=cancelled>"
#define MSG_CANCELLED "the future was cancelled"
#define MSG_SHUTDOWN "cannot schedule new futures after shutdown"
#define MSG_BROKEN "A thread initializer failed, the thread pool is not usable anymore"

/* ---------------------------------------------------------------------------------------------
 * Helpers.
 */
static int task_return_arg(void *arg, void **result) {
    *result = arg;
    return 0;
}

static int task_fail(void *arg, void **result) {
    (void)result;
    rt_set_error_message("boom");
    return (int)(intptr_t)arg;
}

/* Fails with the status and message of a failed rthread call. */
static int task_fail_with_rthread_error(void *arg, void **result) {
    rt_lock *l;
    rt_status s;
    (void)arg;
    (void)result;
    if (rt_lock_new(&l) != RT_OK) abort();
    s = rt_lock_release(l);
    rt_lock_free(l); /* succeeds: does not touch the last error */
    return (int)s;
}

/* A task that waits for its gate to open. */
struct gate {
    rt_event *go;
    int started;
    uint64_t tid;
    int ran;
};

static void gate_init(struct gate *g) {
    memset(g, 0, sizeof *g);
    CHECK_OK(rt_event_new(&g->go));
}

static void gate_free(struct gate *g) {
    CHECK_OK(rt_event_free(g->go));
}

static int task_gate(void *arg, void **result) {
    struct gate *g = arg;
    ATOMIC_STORE(&g->tid, rt_get_native_id());
    ATOMIC_STORE(&g->started, 1);
    if (rt_event_wait(g->go, RT_FOREVER) != RT_OK) return 99;
    ATOMIC_ADD(&g->ran, 1);
    *result = arg;
    return 0;
}

static int count_calls;
static void count_free(void *p) {
    (void)p;
    ATOMIC_ADD(&count_calls, 1);
}

static int task_count(void *arg, void **result) {
    (void)arg;
    (void)result;
    ATOMIC_ADD(&count_calls, 100);
    return 0;
}

/* The name of the calling thread, copied into the buffer `arg` (64 bytes). */
static int task_thread_name(void *arg, void **result) {
    rt_thread *me;
    if (rt_current_thread(&me) != RT_OK) return 1;
    if (rt_thread_name(me, arg, 64) != RT_OK) return 2;
    rt_thread_release(me);
    *result = arg;
    return 0;
}

/* Interrupts `target` once the thread whose native id is at `tidp` is blocked. */
struct interrupter {
    rt_thread *target;
    uint64_t tid;
};

static void interrupt_when_blocked(void *p) {
    struct interrupter *in = p;
    WAIT_BLOCKED(&in->tid);
    if (rt_thread_interrupt(in->target) != RT_OK) abort();
}

static rt_thread *start_interrupter(struct interrupter *in) {
    rt_thread *t;
    CHECK_OK(rt_current_thread(&in->target));
    in->tid = rt_get_native_id();
    CHECK_OK(rt_thread_new(interrupt_when_blocked, in, &t));
    CHECK_OK(rt_thread_start(t));
    return t;
}

static void end_interrupter(struct interrupter *in, rt_thread *t) {
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_thread_release(in->target));
}

/* ---------------------------------------------------------------------------------------------
 * Future: states and transitions.
 */
static void future_new_is_pending(void) {
    rt_future *f;
    void *r = P(7);
    int code = 7;
    double t0;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK(!rt_future_cancelled(f));
    CHECK(!rt_future_running(f));
    CHECK(!rt_future_done(f));
    t0 = rt_test_now();
    CHECK_ERR(rt_future_result(f, 0.0, &r), RT_TIMEOUT, "timed out");
    CHECK_ERR(rt_future_exception(f, 0.0, &code), RT_TIMEOUT, "timed out");
    CHECK_PROMPT(t0);
    CHECK(r == P(7) && code == 7); /* not written */
    CHECK_OK(rt_future_release(f));
}

static void future_result_times_out_after_its_timeout(void) {
    rt_future *f;
    void *r;
    int code;
    double t0;
    CHECK_OK(rt_future_new(NULL, &f));
    t0 = rt_test_now();
    CHECK_STATUS(rt_future_result(f, 0.2, &r), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.2, 0.2 + RT_TEST_PROMPT);
    t0 = rt_test_now();
    CHECK_STATUS(rt_future_exception(f, 0.2, &code), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.2, 0.2 + RT_TEST_PROMPT);
    CHECK_OK(rt_future_release(f));
}

static void future_pending_to_running_to_finished(void) {
    rt_future *f;
    void *r = NULL;
    int code = 5;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_running_or_notify_cancel(f));
    CHECK(rt_future_running(f));
    CHECK(!rt_future_done(f));
    CHECK(!rt_future_cancel(f)); /* a running future cannot be cancelled */
    CHECK(!rt_future_cancelled(f));
    CHECK_ERR(rt_future_set_running_or_notify_cancel(f), RT_ESTATE, "Future in unexpected state");
    CHECK_OK(rt_future_set_result(f, P(42)));
    CHECK(!rt_future_running(f));
    CHECK(rt_future_done(f));
    CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
    CHECK(r == P(42));
    r = NULL;
    CHECK_OK(rt_future_result(f, 0.0, &r)); /* again: the same result */
    CHECK(r == P(42));
    CHECK_OK(rt_future_exception(f, 0.0, &code));
    CHECK_EQ_INT(code, 0);
    CHECK(!rt_future_cancel(f));
    CHECK_ERR(rt_future_set_running_or_notify_cancel(f), RT_ESTATE, "Future in unexpected state");
    CHECK_OK(rt_future_release(f));
}

static void future_pending_can_finish_without_running(void) {
    rt_future *f;
    void *r;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_result(f, P(3)));
    CHECK(rt_future_done(f));
    CHECK_OK(rt_future_result(f, 0.0, &r));
    CHECK(r == P(3));
    CHECK_OK(rt_future_release(f));
}

static void future_second_set_is_invalid_state(void) {
    rt_future *f, *g;
    void *r;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_result(f, P(1)));
    CHECK_ERR(rt_future_set_result(f, P(2)), RT_EINVALIDSTATE, MSG_INVALID_FINISHED);
    CHECK_ERR(rt_future_set_exception(f, 3, "x"), RT_EINVALIDSTATE, MSG_INVALID_FINISHED);
    CHECK_OK(rt_future_result(f, 0.0, &r));
    CHECK(r == P(1)); /* unchanged */
    CHECK_OK(rt_future_new(NULL, &g));
    CHECK_OK(rt_future_set_exception(g, 5, "first"));
    CHECK_ERR(rt_future_set_exception(g, 6, "second"), RT_EINVALIDSTATE, MSG_INVALID_FINISHED);
    CHECK_ERR(rt_future_result(g, 0.0, &r), RT_EFAILED, "first");
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_release(g));
}

static void future_exception_gives_code_and_message(void) {
    rt_future *f;
    void *r = P(9);
    int code = 0;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_running_or_notify_cancel(f));
    CHECK_OK(rt_future_set_exception(f, -17, "disk on fire"));
    CHECK(rt_future_done(f));
    CHECK(!rt_future_cancelled(f));
    CHECK_OK(rt_future_exception(f, RT_FOREVER, &code));
    CHECK_EQ_INT(code, -17);
    CHECK_ERR(rt_future_result(f, RT_FOREVER, &r), RT_EFAILED, "disk on fire");
    CHECK(r == P(9));
    CHECK_OK(rt_future_release(f));
    /* A NULL message is an empty one. */
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_exception(f, 1, NULL));
    CHECK_ERR(rt_future_result(f, 0.0, &r), RT_EFAILED, "");
    CHECK_OK(rt_future_release(f));
}

static void future_cancel_pending_then_notify(void) {
    rt_future *f;
    void *r;
    int code;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK(rt_future_cancel(f));
    CHECK(rt_future_cancelled(f));
    CHECK(rt_future_done(f));
    CHECK(!rt_future_running(f));
    CHECK(rt_future_cancel(f)); /* again: still true */
    CHECK_ERR(rt_future_result(f, RT_FOREVER, &r), RT_ECANCELLED, MSG_CANCELLED);
    CHECK_ERR(rt_future_exception(f, RT_FOREVER, &code), RT_ECANCELLED, MSG_CANCELLED);
    CHECK_ERR(rt_future_set_result(f, P(1)), RT_EINVALIDSTATE, MSG_INVALID_CANCELLED);
    CHECK_ERR(rt_future_set_running_or_notify_cancel(f), RT_ECANCELLED, MSG_CANCELLED);
    CHECK(rt_future_cancelled(f));
    CHECK(rt_future_cancel(f));
    CHECK_ERR(rt_future_set_running_or_notify_cancel(f), RT_ESTATE, "Future in unexpected state");
    CHECK_ERR(rt_future_set_exception(f, 1, "x"), RT_EINVALIDSTATE, MSG_INVALID_NOTIFIED);
    CHECK_OK(rt_future_release(f));
}

static void future_cancel_finished_fails(void) {
    rt_future *f;
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_exception(f, 2, "e"));
    CHECK(!rt_future_cancel(f));
    CHECK(!rt_future_cancelled(f));
    CHECK_OK(rt_future_release(f));
}

struct waiting {
    rt_future *f;
    double timeout;
    uint64_t tid;
    int status; /* 1000 + status */
    void *result;
};

static void wait_result(void *p) {
    struct waiting *w = p;
    rt_status s;
    ATOMIC_STORE(&w->tid, rt_get_native_id());
    s = rt_future_result(w->f, w->timeout, &w->result);
    ATOMIC_STORE(&w->status, 1000 + (int)s);
}

static void future_result_wakes_on_set_and_on_cancel(void) {
    struct waiting w[2];
    rt_thread *t[2];
    int i;
    for (i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].timeout = RT_FOREVER;
        CHECK_OK(rt_future_new(NULL, &w[i].f));
        CHECK_OK(rt_thread_new(wait_result, &w[i], &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
        WAIT_BLOCKED(&w[i].tid);
    }
    CHECK_OK(rt_future_set_result(w[0].f, P(11)));
    CHECK(rt_future_cancel(w[1].f));
    for (i = 0; i < 2; i++) {
        CHECK_OK(rt_thread_join(t[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[i]));
        CHECK_OK(rt_future_release(w[i].f));
    }
    CHECK_EQ_INT(w[0].status, 1000 + RT_OK);
    CHECK(w[0].result == P(11));
    CHECK_EQ_INT(w[1].status, 1000 + RT_ECANCELLED);
}

static void future_result_is_interruptible(void) {
    struct interrupter in;
    rt_thread *t;
    rt_future *f;
    void *r;
    int code;
    CHECK_OK(rt_future_new(NULL, &f));
    t = start_interrupter(&in);
    CHECK_ERR(rt_future_result(f, RT_FOREVER, &r), RT_EINTR, "interrupted");
    end_interrupter(&in, t);
    t = start_interrupter(&in);
    CHECK_ERR(rt_future_exception(f, 60.0, &code), RT_EINTR, "interrupted");
    end_interrupter(&in, t);
    CHECK(!rt_future_done(f));
    CHECK_OK(rt_future_release(f));
}

static void future_retain_and_release(void) {
    rt_future *f;
    CHECK_OK(rt_future_new(count_free, &f));
    CHECK_OK(rt_future_retain(f));
    CHECK_OK(rt_future_set_result(f, P(1)));
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 0); /* one reference left */
    CHECK(rt_future_done(f));
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 1);
    CHECK_OK(rt_future_release(NULL));
}

static void future_result_destructor_only_for_a_held_result(void) {
    rt_future *f;
    void *r = P(99);
    /* A result: freed with the future. */
    CHECK_OK(rt_future_new(count_free, &f));
    CHECK_OK(rt_future_set_result(f, P(1)));
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(count_calls, 1);
    /* A NULL result, a failure, a cancellation, a pending future: nothing to free. */
    CHECK_OK(rt_future_new(count_free, &f));
    CHECK_OK(rt_future_set_result(f, NULL));
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_new(count_free, &f));
    CHECK_OK(rt_future_set_exception(f, 1, "x"));
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_new(count_free, &f));
    CHECK(rt_future_cancel(f));
    CHECK_STATUS(rt_future_set_result(f, r), RT_EINVALIDSTATE); /* stays the caller's */
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_new(count_free, &f));
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(count_calls, 1);
}

/* ---------------------------------------------------------------------------------------------
 * Done-callbacks.
 */
struct cb_log {
    int calls[8];
    uint64_t ident[8];
    rt_future *seen[8];
    int n;
    int nested; /* the callback's own calls on the future worked */
};

static void cb_record(rt_future *f, void *ctx) {
    struct cb_log *log = ctx;
    int i = log->n;
    log->calls[i] = 1;
    log->ident[i] = rt_get_ident();
    log->seen[i] = f;
    log->n = i + 1;
}

static void cb_inner(rt_future *f, void *ctx) {
    (void)f;
    ATOMIC_ADD((int *)ctx, 1);
}

/* Uses the future from inside its callback: would deadlock if the callback ran under the
 * future's lock. */
static void cb_reentrant(rt_future *f, void *ctx) {
    struct cb_log *log = ctx;
    void *r;
    int inner = 0;
    rt_status s = rt_future_result(f, 0.0, &r);
    if (s == RT_OK || s == RT_ECANCELLED || s == RT_EFAILED) log->nested++;
    if (rt_future_done(f)) log->nested++;
    if (rt_future_add_done_callback(f, cb_inner, &inner) == RT_OK && inner == 1) log->nested++;
    cb_record(f, ctx);
}

static void callback_on_done_future_runs_at_once(void) {
    rt_future *f;
    struct cb_log log;
    memset(&log, 0, sizeof log);
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_result(f, P(1)));
    CHECK_OK(rt_future_add_done_callback(f, cb_reentrant, &log));
    CHECK_EQ_INT(log.n, 1);
    CHECK_EQ_INT(log.nested, 3);
    CHECK(log.ident[0] == rt_get_ident());
    CHECK(log.seen[0] == f);
    CHECK_OK(rt_future_release(f));
}

static void set_result_in_thread(void *p) {
    if (rt_future_set_result(p, P(5)) != RT_OK) abort();
}

static void callbacks_on_pending_future_run_in_completing_thread_in_order(void) {
    rt_future *f;
    rt_thread *t;
    uint64_t ident;
    struct cb_log log;
    memset(&log, 0, sizeof log);
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_add_done_callback(f, cb_record, &log));
    CHECK_OK(rt_future_add_done_callback(f, cb_reentrant, &log));
    CHECK_OK(rt_future_add_done_callback(f, cb_record, &log));
    CHECK_EQ_INT(log.n, 0);
    CHECK_OK(rt_thread_new(set_result_in_thread, f, &t));
    CHECK_OK(rt_thread_start(t));
    ident = rt_thread_ident(t);
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(log.n, 3);
    CHECK_EQ_INT(log.nested, 3);
    CHECK(log.ident[0] == ident && log.ident[1] == ident && log.ident[2] == ident);
    CHECK(log.seen[0] == f && log.seen[2] == f);
    /* Done now: another one runs at once, here; the old ones do not run again. */
    CHECK_OK(rt_future_add_done_callback(f, cb_record, &log));
    CHECK_EQ_INT(log.n, 4);
    CHECK(log.ident[3] == rt_get_ident());
    CHECK_OK(rt_future_release(f));
}

static void callbacks_run_on_cancel_and_on_exception(void) {
    rt_future *f;
    struct cb_log log;
    memset(&log, 0, sizeof log);
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_add_done_callback(f, cb_reentrant, &log));
    CHECK(rt_future_cancel(f));
    CHECK_EQ_INT(log.n, 1);
    CHECK_EQ_INT(log.nested, 3);
    CHECK(!rt_future_cancel(f) || log.n == 1); /* a second cancel runs nothing */
    CHECK_EQ_INT(log.n, 1);
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_add_done_callback(f, cb_record, &log));
    CHECK_OK(rt_future_set_exception(f, 4, "x"));
    CHECK_EQ_INT(log.n, 2);
    CHECK_OK(rt_future_release(f));
}

static void callbacks_of_a_future_never_done_are_dropped(void) {
    rt_future *f;
    struct cb_log log;
    memset(&log, 0, sizeof log);
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_add_done_callback(f, cb_record, &log));
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(log.n, 0);
}

/* ---------------------------------------------------------------------------------------------
 * The executor.
 */
static void executor_submit_and_collect_results(void) {
    rt_executor *ex;
    rt_future *f[50];
    void *r;
    int i;
    CHECK_OK(rt_executor_new(4, NULL, NULL, NULL, &ex));
    for (i = 0; i < 50; i++)
        CHECK_OK(rt_executor_submit(ex, task_return_arg, P(i + 1), NULL, NULL, &f[i]));
    for (i = 0; i < 50; i++) {
        CHECK_OK(rt_future_result(f[i], RT_FOREVER, &r));
        CHECK(r == P(i + 1));
        CHECK(rt_future_done(f[i]));
        CHECK_OK(rt_future_release(f[i]));
    }
    CHECK(rt_executor_thread_count(ex) >= 1 && rt_executor_thread_count(ex) <= 4);
    CHECK_OK(rt_executor_free(ex));
}

static void executor_task_failure_carries_code_and_message(void) {
    rt_executor *ex;
    rt_future *f, *g;
    void *r;
    int code = 0;
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_fail, P(42), NULL, NULL, &f));
    CHECK_ERR(rt_future_result(f, RT_FOREVER, &r), RT_EFAILED, "boom");
    CHECK_OK(rt_future_exception(f, RT_FOREVER, &code));
    CHECK_EQ_INT(code, 42);
    CHECK_OK(rt_executor_submit(ex, task_fail_with_rthread_error, NULL, NULL, NULL, &g));
    CHECK_ERR(rt_future_result(g, RT_FOREVER, &r), RT_EFAILED, "release unlocked lock");
    CHECK_OK(rt_future_exception(g, RT_FOREVER, &code));
    CHECK_EQ_INT(code, RT_ENOTLOCKED);
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_release(g));
    CHECK_OK(rt_executor_free(ex));
}

/* The worker clears the last error before each task: a task that fails without a message has
 * an empty one, not an older task's. */
static int task_fail_silently(void *arg, void **result) {
    (void)arg;
    (void)result;
    return 3;
}

static void executor_failure_message_is_the_tasks_own(void) {
    rt_executor *ex;
    rt_future *f, *g;
    void *r;
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_fail, P(1), NULL, NULL, &f));
    CHECK_STATUS(rt_future_result(f, RT_FOREVER, &r), RT_EFAILED);
    CHECK_OK(rt_executor_submit(ex, task_fail_silently, NULL, NULL, NULL, &g));
    CHECK_ERR(rt_future_result(g, RT_FOREVER, &r), RT_EFAILED, "");
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_future_release(g));
    CHECK_OK(rt_executor_free(ex));
}

static void executor_result_and_arg_destructors(void) {
    rt_executor *ex;
    rt_future *f;
    void *r;
    count_calls = 0;
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_return_arg, P(8), count_free, count_free, &f));
    CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 1); /* the argument's, before the future finished */
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 2); /* the result's, with the last reference */
    CHECK_OK(rt_executor_free(ex));
}

static void executor_workers_are_named_prefix_n(void) {
    rt_executor *ex, *ex2;
    rt_future *f[2];
    struct gate g;
    char name[64], name2[64];
    void *r;
    gate_init(&g);
    CHECK_OK(rt_executor_new(2, "fetcher", NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f[0]));
    WAIT_UNTIL(ATOMIC_LOAD(&g.started), 30.0);
    CHECK_OK(rt_executor_submit(ex, task_thread_name, name, NULL, NULL, &f[1]));
    CHECK_OK(rt_future_result(f[1], RT_FOREVER, &r));
    CHECK(strcmp(name, "fetcher_1") == 0); /* the first worker is busy: a second one */
    CHECK_OK(rt_event_set(g.go));
    CHECK_OK(rt_future_result(f[0], RT_FOREVER, &r));
    CHECK_OK(rt_future_release(f[0]));
    CHECK_OK(rt_future_release(f[1]));
    CHECK_OK(rt_executor_free(ex));
    /* Without a prefix: ThreadPoolExecutor-<k>_<n>, k counting such pools from 0. */
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_new(1, "", NULL, NULL, &ex2));
    CHECK_OK(rt_executor_submit(ex, task_thread_name, name, NULL, NULL, &f[0]));
    CHECK_OK(rt_executor_submit(ex2, task_thread_name, name2, NULL, NULL, &f[1]));
    CHECK_OK(rt_future_result(f[0], RT_FOREVER, &r));
    CHECK_OK(rt_future_result(f[1], RT_FOREVER, &r));
    CHECK(strcmp(name, "ThreadPoolExecutor-0_0") == 0);
    CHECK(strcmp(name2, "ThreadPoolExecutor-1_0") == 0);
    CHECK_OK(rt_future_release(f[0]));
    CHECK_OK(rt_future_release(f[1]));
    CHECK_OK(rt_executor_free(ex));
    CHECK_OK(rt_executor_free(ex2));
    gate_free(&g);
}

static void executor_reuses_an_idle_worker(void) {
    rt_executor *ex;
    rt_future *f;
    struct gate g;
    void *r;
    int i;
    CHECK_OK(rt_executor_new(8, NULL, NULL, NULL, &ex));
    for (i = 0; i < 5; i++) {
        gate_init(&g);
        CHECK_OK(rt_event_set(g.go));
        CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f));
        CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
        CHECK_OK(rt_future_release(f));
        /* Once the worker sleeps on the empty queue it counts as idle. */
        WAIT_BLOCKED(&g.tid);
        CHECK_EQ_INT(rt_executor_thread_count(ex), 1);
        gate_free(&g);
    }
    CHECK_OK(rt_executor_free(ex));
}

static void executor_starts_at_most_max_workers(void) {
    rt_executor *ex;
    rt_future *f[6];
    struct gate g;
    void *r;
    int i;
    gate_init(&g);
    CHECK_OK(rt_executor_new(3, NULL, NULL, NULL, &ex));
    CHECK_EQ_INT(rt_executor_thread_count(ex), 0); /* on demand: none yet */
    for (i = 0; i < 6; i++) CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f[i]));
    CHECK_EQ_INT(rt_executor_thread_count(ex), 3);
    WAIT_UNTIL(ATOMIC_LOAD(&g.started), 30.0);
    CHECK_OK(rt_event_set(g.go));
    for (i = 0; i < 6; i++) {
        CHECK_OK(rt_future_result(f[i], RT_FOREVER, &r));
        CHECK_OK(rt_future_release(f[i]));
    }
    CHECK_EQ_INT(ATOMIC_LOAD(&g.ran), 6);
    CHECK_EQ_INT(rt_executor_thread_count(ex), 3);
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

static void executor_default_max_workers_is_cpus_plus_4_up_to_32(void) {
    rt_executor *ex;
    rt_future *f[40];
    struct gate g;
    cpu_set_t set;
    long want;
    void *r;
    int i;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    want = CPU_COUNT(&set) + 4;
    if (want > 32) want = 32;
    gate_init(&g);
    CHECK_OK(rt_executor_new(0, NULL, NULL, NULL, &ex));
    for (i = 0; i < 40; i++) CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f[i]));
    CHECK_EQ_INT(rt_executor_thread_count(ex), want);
    CHECK_OK(rt_event_set(g.go));
    for (i = 0; i < 40; i++) {
        CHECK_OK(rt_future_result(f[i], RT_FOREVER, &r));
        CHECK_OK(rt_future_release(f[i]));
    }
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

static void executor_submit_after_shutdown_is_refused(void) {
    rt_executor *ex;
    rt_future *f = SENTINEL_FUTURE;
    CHECK_OK(rt_executor_new(2, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_shutdown(ex, true, false));
    count_calls = 0;
    CHECK_ERR(rt_executor_submit(ex, task_count, NULL, count_free, NULL, &f), RT_ESHUTDOWN,
              MSG_SHUTDOWN);
    CHECK(f == SENTINEL_FUTURE);
    CHECK_EQ_INT(count_calls, 0); /* nothing queued, the argument stays the caller's */
    CHECK_OK(rt_executor_shutdown(ex, true, true)); /* again: harmless */
    CHECK_EQ_INT(rt_executor_thread_count(ex), 0);
    CHECK_OK(rt_executor_free(ex));
}

static void executor_shutdown_without_cancel_finishes_queued_work(void) {
    rt_executor *ex;
    rt_future *blocked, *f[4];
    struct gate g;
    void *r;
    int i;
    count_calls = 0;
    gate_init(&g);
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &blocked));
    for (i = 0; i < 4; i++) CHECK_OK(rt_executor_submit(ex, task_count, NULL, NULL, NULL, &f[i]));
    CHECK_OK(rt_executor_shutdown(ex, false, false));
    CHECK_STATUS(rt_executor_submit(ex, task_count, NULL, NULL, NULL, &f[0]), RT_ESHUTDOWN);
    CHECK_OK(rt_event_set(g.go));
    CHECK_OK(rt_executor_shutdown(ex, true, false));
    CHECK_EQ_INT(count_calls, 400);
    for (i = 0; i < 4; i++) {
        CHECK_OK(rt_future_result(f[i], 0.0, &r));
        CHECK_OK(rt_future_release(f[i]));
    }
    CHECK_OK(rt_future_result(blocked, 0.0, &r));
    CHECK_OK(rt_future_release(blocked));
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

static void executor_shutdown_cancel_futures_cancels_the_queued(void) {
    rt_executor *ex;
    rt_future *all[5];
    struct gate g;
    struct cb_log log;
    bool done[5];
    size_t n_done = 0;
    void *r;
    int i;
    count_calls = 0;
    memset(&log, 0, sizeof log);
    gate_init(&g);
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &all[0]));
    WAIT_UNTIL(ATOMIC_LOAD(&g.started), 30.0);
    for (i = 1; i < 5; i++)
        CHECK_OK(rt_executor_submit(ex, task_count, NULL, count_free, NULL, &all[i]));
    CHECK_OK(rt_future_add_done_callback(all[1], cb_record, &log));
    CHECK_OK(rt_executor_shutdown(ex, false, true));
    /* The queued ones are cancelled at once, their arguments freed, their callbacks run here. */
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 4);
    CHECK_EQ_INT(log.n, 1);
    CHECK(log.ident[0] == rt_get_ident());
    for (i = 1; i < 5; i++) {
        CHECK(rt_future_cancelled(all[i]));
        CHECK_ERR(rt_future_result(all[i], 0.0, &r), RT_ECANCELLED, MSG_CANCELLED);
    }
    CHECK(rt_future_running(all[0]));
    /* wait sees them completed: only the running one is not done. */
    CHECK_STATUS(rt_wait(all, 5, 0.0, RT_ALL_COMPLETED, done, &n_done), RT_TIMEOUT);
    CHECK_EQ_INT(n_done, 4);
    CHECK(!done[0] && done[1] && done[4]);
    CHECK_OK(rt_event_set(g.go));
    CHECK_OK(rt_executor_shutdown(ex, true, false));
    CHECK_OK(rt_future_result(all[0], 0.0, &r)); /* the running one finished */
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 4); /* no cancelled task ran */
    for (i = 0; i < 5; i++) CHECK_OK(rt_future_release(all[i]));
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

static void executor_free_waits_for_queued_work(void) {
    rt_executor *ex;
    rt_future *f[3];
    struct gate g;
    int i;
    count_calls = 0;
    gate_init(&g);
    CHECK_OK(rt_event_set(g.go));
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f[0]));
    for (i = 1; i < 3; i++) CHECK_OK(rt_executor_submit(ex, task_count, NULL, NULL, NULL, &f[i]));
    CHECK_OK(rt_executor_free(ex));
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 200);
    for (i = 0; i < 3; i++) {
        CHECK(rt_future_done(f[i]));
        CHECK_OK(rt_future_release(f[i]));
    }
    CHECK_OK(rt_executor_free(NULL));
    gate_free(&g);
}

static void executor_shutdown_wait_is_interruptible(void) {
    struct interrupter in;
    rt_thread *t;
    rt_executor *ex;
    rt_future *f;
    struct gate g;
    void *r;
    gate_init(&g);
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f));
    WAIT_UNTIL(ATOMIC_LOAD(&g.started), 30.0);
    t = start_interrupter(&in);
    CHECK_ERR(rt_executor_shutdown(ex, true, false), RT_EINTR, "interrupted");
    end_interrupter(&in, t);
    CHECK(!rt_future_done(f));
    CHECK_STATUS(rt_executor_submit(ex, task_count, NULL, NULL, NULL, &f), RT_ESHUTDOWN);
    CHECK_OK(rt_event_set(g.go));
    CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

static int init_calls;
static int init_count(void *ctx) {
    ATOMIC_ADD(&init_calls, 1);
    return ctx == NULL ? 0 : 1;
}

static void executor_initializer_runs_once_per_worker(void) {
    rt_executor *ex;
    rt_future *f[4];
    struct gate g;
    void *r;
    int i;
    gate_init(&g);
    init_calls = 0;
    CHECK_OK(rt_executor_new(2, NULL, init_count, NULL, &ex));
    for (i = 0; i < 4; i++) CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f[i]));
    CHECK_OK(rt_event_set(g.go));
    for (i = 0; i < 4; i++) {
        CHECK_OK(rt_future_result(f[i], RT_FOREVER, &r));
        CHECK_OK(rt_future_release(f[i]));
    }
    CHECK_OK(rt_executor_free(ex));
    CHECK_EQ_INT(init_calls, 2);
    gate_free(&g);
}

/* Fails once its gate opens: the test's submits all happen before the pool breaks (a submit
 * after the break is refused, which is checked separately below). */
static int init_fail_at_gate(void *ctx) {
    struct gate *g = ctx;
    ATOMIC_ADD(&init_calls, 1);
    CHECK_OK(rt_event_wait(g->go, RT_FOREVER));
    return 1;
}

static void executor_failed_initializer_breaks_the_pool(void) {
    rt_executor *ex;
    rt_future *f[3], *late = SENTINEL_FUTURE;
    struct gate g;
    void *r;
    int code, i;
    gate_init(&g);
    init_calls = 0;
    count_calls = 0;
    CHECK_OK(rt_executor_new(1, NULL, init_fail_at_gate, &g, &ex));
    for (i = 0; i < 3; i++)
        CHECK_OK(rt_executor_submit(ex, task_count, NULL, count_free, NULL, &f[i]));
    CHECK_OK(rt_event_set(g.go));
    for (i = 0; i < 3; i++) {
        CHECK_ERR(rt_future_result(f[i], RT_FOREVER, &r), RT_EFAILED, MSG_BROKEN);
        CHECK_OK(rt_future_exception(f[i], 0.0, &code));
        CHECK_EQ_INT(code, RT_EBROKEN);
    }
    CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), 3); /* never ran; arguments freed */
    CHECK_ERR(rt_executor_submit(ex, task_count, NULL, NULL, NULL, &late), RT_EBROKEN,
              MSG_BROKEN);
    CHECK(late == SENTINEL_FUTURE);
    CHECK_EQ_INT(init_calls, 1);
    for (i = 0; i < 3; i++) CHECK_OK(rt_future_release(f[i]));
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

/* Cancel races the worker's start: either the cancel wins (the task never runs, the result is
 * RT_ECANCELLED) or the start does (cancel returns false and the task runs to its result). */
static void executor_cancel_races_start(void) {
    rt_executor *ex;
    rt_future *f;
    long i, n = rt_test_scaled(2000, 100);
    long won = 0, lost = 0;
    void *r;
    count_calls = 0;
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    for (i = 0; i < n; i++) {
        int before = ATOMIC_LOAD(&count_calls);
        rt_status s;
        CHECK_OK(rt_executor_submit(ex, task_count, NULL, NULL, NULL, &f));
        if (rt_future_cancel(f)) {
            won++;
            CHECK_STATUS(rt_future_result(f, RT_FOREVER, &r), RT_ECANCELLED);
            CHECK(rt_future_cancelled(f));
        } else {
            lost++;
            s = rt_future_result(f, RT_FOREVER, &r);
            CHECK_STATUS(s, RT_OK);
            CHECK_EQ_INT(ATOMIC_LOAD(&count_calls), before + 100);
        }
        CHECK_OK(rt_future_release(f));
    }
    CHECK_OK(rt_executor_free(ex));
    CHECK_EQ_INT(count_calls, lost * 100);
    CHECK_EQ_INT(won + lost, n);
}

/* A task that submits to its own pool and waits for the inner result. */
struct nested {
    rt_executor *ex;
};

static int task_submit_nested(void *arg, void **result) {
    struct nested *n = arg;
    rt_future *f;
    rt_status s = rt_executor_submit(n->ex, task_return_arg, P(77), NULL, NULL, &f);
    if (s != RT_OK) return (int)s;
    s = rt_future_result(f, RT_FOREVER, result);
    rt_future_release(f);
    return (int)s;
}

static void executor_task_may_submit_to_its_own_pool(void) {
    struct nested n;
    rt_future *f;
    void *r;
    CHECK_OK(rt_executor_new(2, NULL, NULL, NULL, &n.ex));
    CHECK_OK(rt_executor_submit(n.ex, task_submit_nested, &n, NULL, NULL, &f));
    CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
    CHECK(r == P(77));
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_executor_free(n.ex));
}

static int task_exit_thread(void *arg, void **result) {
    (void)arg;
    (void)result;
    return (int)rt_exit_thread();
}

static void executor_task_cannot_end_its_worker(void) {
    rt_executor *ex;
    rt_future *f;
    void *r;
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_exit_thread, NULL, NULL, NULL, &f));
    CHECK_STATUS(rt_future_result(f, RT_FOREVER, &r), RT_EFAILED);
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_executor_submit(ex, task_return_arg, P(2), NULL, NULL, &f));
    CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
    CHECK(r == P(2));
    CHECK_OK(rt_future_release(f));
    CHECK_EQ_INT(rt_executor_thread_count(ex), 1);
    CHECK_OK(rt_executor_free(ex));
}

/* ---------------------------------------------------------------------------------------------
 * The process's exit waits for the workers (in a child process).
 */
static int out_fd = -1;

static void say(const char *s) {
    size_t n = strlen(s);
    if (write(out_fd, s, n) != (ssize_t)n) abort();
}

static int task_sleep_say(void *arg, void **result) {
    (void)result;
    rt_test_sleep(0.2);
    say(arg);
    return 0;
}

/* Once the exit has begun (the main thread called exit()), submits are refused; until then
 * they queue silent tasks. */
static rt_executor *exit_ex;
static int task_submit_during_exit(void *arg, void **result) {
    rt_future *f;
    rt_status s;
    (void)arg;
    (void)result;
    while ((s = rt_executor_submit(exit_ex, task_count, NULL, NULL, NULL, &f)) == RT_OK) {
        rt_future_release(f);
        rt_test_sleep(0.01);
    }
    if (s == RT_ESHUTDOWN &&
        strcmp(rt_last_error(), "cannot schedule new futures after interpreter shutdown") == 0)
        say("S");
    return 0;
}

static void executor_exit_waits_for_workers(void) {
    int fds[2], status = 0;
    char out[64];
    size_t len = 0;
    pid_t pid;
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        rt_future *f;
        close(fds[0]);
        out_fd = fds[1];
        if (rt_executor_new(1, NULL, NULL, NULL, &exit_ex) != RT_OK) _exit(2);
        /* Releasing a future cancels nothing. */
        if (rt_executor_submit(exit_ex, task_sleep_say, "a", NULL, NULL, &f) != RT_OK) _exit(3);
        rt_future_release(f);
        if (rt_executor_submit(exit_ex, task_submit_during_exit, NULL, NULL, NULL, &f) != RT_OK)
            _exit(4);
        rt_future_release(f);
        if (rt_executor_submit(exit_ex, task_sleep_say, "b", NULL, NULL, &f) != RT_OK) _exit(5);
        rt_future_release(f);
        exit(0); /* the pool is not freed: the exit waits for its queued work */
    }
    close(fds[1]);
    for (;;) {
        ssize_t n = read(fds[0], out + len, sizeof out - 1 - len);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    out[len] = 0;
    close(fds[0]);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    if (strcmp(out, "aSb") != 0) rt_test_fail(__FILE__, __LINE__, "child wrote \"%s\"", out);
}

/* ---------------------------------------------------------------------------------------------
 * wait.
 */
static void make_futures(rt_future **f, int n) {
    int i;
    for (i = 0; i < n; i++) CHECK_OK(rt_future_new(NULL, &f[i]));
}

static void release_futures(rt_future **f, int n) {
    int i;
    for (i = 0; i < n; i++) CHECK_OK(rt_future_release(f[i]));
}

static void wait_returns_at_once_when_the_condition_holds(void) {
    rt_future *f[3];
    bool done[3];
    size_t n_done = 99;
    double t0;
    make_futures(f, 3);
    CHECK_OK(rt_future_set_result(f[1], NULL));
    t0 = rt_test_now();
    CHECK_OK(rt_wait(f, 3, 30.0, RT_FIRST_COMPLETED, done, &n_done));
    CHECK_EQ_INT(n_done, 1);
    CHECK(!done[0] && done[1] && !done[2]);
    /* FIRST_EXCEPTION with no failure waits for all. */
    CHECK_STATUS(rt_wait(f, 3, 0.0, RT_FIRST_EXCEPTION, done, &n_done), RT_TIMEOUT);
    CHECK_OK(rt_future_set_exception(f[2], 1, "x"));
    CHECK_OK(rt_wait(f, 3, 30.0, RT_FIRST_EXCEPTION, done, &n_done));
    CHECK_EQ_INT(n_done, 2);
    CHECK(!done[0] && done[1] && done[2]);
    CHECK_STATUS(rt_wait(f, 3, 0.0, RT_ALL_COMPLETED, done, &n_done), RT_TIMEOUT);
    CHECK_EQ_INT(n_done, 2);
    CHECK(rt_future_cancel(f[0]));
    /* Cancelled but not notified: not completed for wait, as in CPython. */
    CHECK_STATUS(rt_wait(f, 3, 0.0, RT_ALL_COMPLETED, done, &n_done), RT_TIMEOUT);
    CHECK_STATUS(rt_future_set_running_or_notify_cancel(f[0]), RT_ECANCELLED);
    CHECK_OK(rt_wait(f, 3, 30.0, RT_ALL_COMPLETED, done, &n_done));
    CHECK_EQ_INT(n_done, 3);
    CHECK(done[0] && done[1] && done[2]);
    CHECK_PROMPT(t0);
    CHECK_OK(rt_wait(NULL, 0, RT_FOREVER, RT_ALL_COMPLETED, NULL, &n_done));
    CHECK_EQ_INT(n_done, 0);
    release_futures(f, 3);
}

struct completer {
    rt_future *f;
    int how; /* 0: result, 1: exception, 2: cancel + notify */
    double delay;
};

static void complete_later(void *p) {
    struct completer *c = p;
    rt_test_sleep(c->delay);
    switch (c->how) {
    case 0: rt_future_set_result(c->f, P(1)); break;
    case 1: rt_future_set_exception(c->f, 9, "late"); break;
    default:
        rt_future_cancel(c->f);
        rt_future_set_running_or_notify_cancel(c->f);
    }
}

static rt_thread *start_completer(struct completer *c, rt_future *f, int how, double delay) {
    rt_thread *t;
    c->f = f;
    c->how = how;
    c->delay = delay;
    CHECK_OK(rt_thread_new(complete_later, c, &t));
    CHECK_OK(rt_thread_start(t));
    return t;
}

static void join_release(rt_thread *t) {
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
}

static void wait_first_completed_wakes_on_each_kind_of_completion(void) {
    int how;
    for (how = 0; how < 3; how++) {
        rt_future *f[2];
        struct completer c;
        rt_thread *t;
        bool done[2];
        size_t n_done;
        make_futures(f, 2);
        t = start_completer(&c, f[1], how, 0.05);
        CHECK_OK(rt_wait(f, 2, RT_FOREVER, RT_FIRST_COMPLETED, done, &n_done));
        CHECK_EQ_INT(n_done, 1);
        CHECK(!done[0] && done[1]);
        join_release(t);
        release_futures(f, 2);
    }
}

static void wait_first_exception_wakes_on_a_failure_only(void) {
    rt_future *f[3];
    struct completer c[2];
    rt_thread *t[2];
    bool done[3];
    size_t n_done;
    make_futures(f, 3);
    CHECK_OK(rt_future_set_result(f[0], NULL));
    t[0] = start_completer(&c[0], f[2], 2, 0.05); /* a cancellation does not end it */
    t[1] = start_completer(&c[1], f[1], 1, 0.2);
    CHECK_OK(rt_wait(f, 3, RT_FOREVER, RT_FIRST_EXCEPTION, done, &n_done));
    CHECK(done[0] && done[1]);
    join_release(t[0]);
    join_release(t[1]);
    CHECK(done[2]); /* it was cancelled 0.15 s before the failure */
    CHECK_EQ_INT(n_done, 3);
    release_futures(f, 3);
}

static void wait_all_completed_waits_for_every_one(void) {
    rt_future *f[3];
    struct completer c[3];
    rt_thread *t[3];
    bool done[3];
    size_t n_done;
    int i;
    make_futures(f, 3);
    for (i = 0; i < 3; i++) t[i] = start_completer(&c[i], f[i], i, 0.02 * i);
    CHECK_OK(rt_wait(f, 3, RT_FOREVER, RT_ALL_COMPLETED, done, &n_done));
    CHECK_EQ_INT(n_done, 3);
    CHECK(done[0] && done[1] && done[2]);
    for (i = 0; i < 3; i++) join_release(t[i]);
    release_futures(f, 3);
}

static void wait_times_out_with_the_sets(void) {
    rt_future *f[2];
    bool done[2] = {true, true};
    size_t n_done = 99;
    double t0;
    make_futures(f, 2);
    CHECK_OK(rt_future_set_result(f[0], NULL));
    t0 = rt_test_now();
    CHECK_ERR(rt_wait(f, 2, 0.2, RT_ALL_COMPLETED, done, &n_done), RT_TIMEOUT, "timed out");
    CHECK_ELAPSED(t0, 0.2, 0.2 + RT_TEST_PROMPT);
    CHECK_EQ_INT(n_done, 1);
    CHECK(done[0] && !done[1]);
    release_futures(f, 2);
}

static void wait_counts_duplicates_once(void) {
    rt_future *f[2], *list[5];
    bool done[5];
    size_t n_done;
    make_futures(f, 2);
    list[0] = f[0];
    list[1] = f[1];
    list[2] = f[0];
    list[3] = f[0];
    list[4] = f[1];
    CHECK_OK(rt_future_set_result(f[0], NULL));
    CHECK_OK(rt_wait(list, 5, 0.0, RT_FIRST_COMPLETED, done, &n_done));
    CHECK_EQ_INT(n_done, 1);
    CHECK(done[0] && !done[1] && done[2] && done[3] && !done[4]);
    CHECK_OK(rt_future_set_result(f[1], NULL));
    CHECK_OK(rt_wait(list, 5, 0.0, RT_ALL_COMPLETED, done, &n_done));
    CHECK_EQ_INT(n_done, 2);
    release_futures(f, 2);
}

static void wait_is_interruptible(void) {
    struct interrupter in;
    rt_thread *t;
    rt_future *f[1];
    bool done[1] = {true};
    size_t n_done = 7;
    make_futures(f, 1);
    t = start_interrupter(&in);
    CHECK_ERR(rt_wait(f, 1, RT_FOREVER, RT_FIRST_COMPLETED, done, &n_done), RT_EINTR,
              "interrupted");
    end_interrupter(&in, t);
    CHECK(done[0] && n_done == 7); /* not written */
    /* The waiter is gone from the future: completing it later is fine. */
    CHECK_OK(rt_future_set_result(f[0], NULL));
    release_futures(f, 1);
}

/* ---------------------------------------------------------------------------------------------
 * as_completed.
 */
static void as_completed_yields_finished_first_then_in_completion_order(void) {
    rt_future *f[3], *got;
    rt_as_completed *it;
    make_futures(f, 3);
    CHECK_OK(rt_future_set_result(f[1], NULL));
    CHECK_OK(rt_as_completed_new(f, 3, RT_FOREVER, &it));
    CHECK_OK(rt_future_set_result(f[2], NULL));
    CHECK_OK(rt_future_set_exception(f[0], 1, "x"));
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[1]);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[2]);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[0]);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == NULL);
    CHECK_OK(rt_as_completed_next(it, &got)); /* stays at the end */
    CHECK(got == NULL);
    CHECK_OK(rt_as_completed_free(it));
    release_futures(f, 3);
}

static void as_completed_blocks_until_one_completes(void) {
    rt_future *f[2], *got;
    rt_as_completed *it;
    struct completer c;
    rt_thread *t;
    make_futures(f, 2);
    CHECK_OK(rt_as_completed_new(f, 2, RT_FOREVER, &it));
    t = start_completer(&c, f[0], 2, 0.05); /* cancelled and notified */
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[0]);
    CHECK(rt_future_cancelled(got));
    join_release(t);
    t = start_completer(&c, f[1], 0, 0.05);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[1]);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == NULL);
    join_release(t);
    CHECK_OK(rt_as_completed_free(it));
    release_futures(f, 2);
}

static void as_completed_gives_duplicates_once(void) {
    rt_future *f[2], *list[4], *got;
    rt_as_completed *it;
    make_futures(f, 2);
    list[0] = f[0];
    list[1] = f[0];
    list[2] = f[1];
    list[3] = f[0];
    CHECK_OK(rt_future_set_result(f[0], NULL));
    CHECK_OK(rt_as_completed_new(list, 4, RT_FOREVER, &it));
    CHECK_OK(rt_future_set_result(f[1], NULL));
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[0]);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[1]);
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == NULL);
    CHECK_OK(rt_as_completed_free(it));
    release_futures(f, 2);
}

static void as_completed_overall_timeout(void) {
    rt_future *f[3], *got;
    rt_as_completed *it;
    double t0;
    make_futures(f, 3);
    CHECK_OK(rt_future_set_result(f[0], NULL));
    t0 = rt_test_now();
    CHECK_OK(rt_as_completed_new(f, 3, 0.3, &it));
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[0]);
    CHECK_ERR(rt_as_completed_next(it, &got), RT_TIMEOUT, "2 (of 3) futures unfinished");
    CHECK_ELAPSED(t0, 0.3, 0.3 + RT_TEST_PROMPT);
    /* After the timeout: what completes is still given, without waiting. */
    CHECK_OK(rt_future_set_result(f[2], NULL));
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == f[2]);
    CHECK_ERR(rt_as_completed_next(it, &got), RT_TIMEOUT, "1 (of 3) futures unfinished");
    CHECK_OK(rt_as_completed_free(it));
    /* Zero: what is done already, then the timeout at once. */
    t0 = rt_test_now();
    CHECK_OK(rt_as_completed_new(f, 3, 0.0, &it));
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK_ERR(rt_as_completed_next(it, &got), RT_TIMEOUT, "1 (of 3) futures unfinished");
    CHECK_PROMPT(t0);
    CHECK_OK(rt_as_completed_free(it));
    release_futures(f, 3);
}

static void as_completed_is_interruptible(void) {
    struct interrupter in;
    rt_thread *t;
    rt_future *f[1], *got = SENTINEL_FUTURE;
    rt_as_completed *it;
    make_futures(f, 1);
    CHECK_OK(rt_as_completed_new(f, 1, RT_FOREVER, &it));
    t = start_interrupter(&in);
    CHECK_ERR(rt_as_completed_next(it, &got), RT_EINTR, "interrupted");
    end_interrupter(&in, t);
    CHECK(got == SENTINEL_FUTURE);
    CHECK_OK(rt_future_set_result(f[0], NULL));
    CHECK_OK(rt_as_completed_next(it, &got)); /* still usable */
    CHECK(got == f[0]);
    CHECK_OK(rt_as_completed_free(it));
    release_futures(f, 1);
}

struct advancer {
    rt_as_completed *it;
    rt_future *got;
    uint64_t tid;
    int status;
};

static void advance_in_thread(void *p) {
    struct advancer *a = p;
    rt_status s;
    ATOMIC_STORE(&a->tid, rt_get_native_id());
    s = rt_as_completed_next(a->it, &a->got);
    ATOMIC_STORE(&a->status, 1000 + (int)s);
}

static void as_completed_one_thread_advances_at_a_time(void) {
    struct advancer a;
    rt_thread *t;
    rt_future *f[1], *got = SENTINEL_FUTURE;
    rt_as_completed *it;
    make_futures(f, 1);
    CHECK_OK(rt_as_completed_new(f, 1, RT_FOREVER, &it));
    memset(&a, 0, sizeof a);
    a.it = it;
    CHECK_OK(rt_thread_new(advance_in_thread, &a, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_BLOCKED(&a.tid);
    /* Refused at once, not made to wait behind the thread that advances it. */
    CHECK_ERR(rt_as_completed_next(it, &got), RT_EBUSY, "another thread is advancing the iterator");
    CHECK(got == SENTINEL_FUTURE);
    CHECK_OK(rt_future_set_result(f[0], NULL));
    join_release(t);
    CHECK_EQ_INT(ATOMIC_LOAD(&a.status), 1000 + RT_OK);
    CHECK(a.got == f[0]);
    /* The advancing thread let go when its call returned. */
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(got == NULL);
    CHECK_OK(rt_as_completed_free(it));
    release_futures(f, 1);
}

static void as_completed_holds_its_futures(void) {
    rt_future *f[1], *got;
    rt_as_completed *it;
    count_calls = 0;
    CHECK_OK(rt_future_new(count_free, &f[0]));
    CHECK_OK(rt_as_completed_new(f, 1, RT_FOREVER, &it));
    CHECK_OK(rt_future_set_result(f[0], P(1)));
    CHECK_OK(rt_future_release(f[0])); /* the iterator keeps it */
    CHECK_OK(rt_as_completed_next(it, &got));
    CHECK(rt_future_done(got));
    CHECK_EQ_INT(count_calls, 0);
    CHECK_OK(rt_as_completed_free(it));
    CHECK_EQ_INT(count_calls, 1);
}

static void as_completed_over_a_pool(void) {
    rt_executor *ex;
    rt_future *f[100], *got;
    rt_as_completed *it;
    int seen = 0, failed = 0, cancelled = 0, i;
    void *r;
    struct gate g;
    gate_init(&g);
    CHECK_OK(rt_executor_new(4, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_gate, &g, NULL, NULL, &f[0]));
    for (i = 1; i < 100; i++)
        CHECK_OK(rt_executor_submit(ex, i == 50 ? task_fail : task_return_arg, P(i), NULL, NULL,
                                    &f[i]));
    rt_future_cancel(f[99]); /* may have started already */
    CHECK_OK(rt_as_completed_new(f, 100, RT_FOREVER, &it));
    CHECK_OK(rt_event_set(g.go));
    while (rt_as_completed_next(it, &got) == RT_OK && got != NULL) {
        rt_status s = rt_future_result(got, 0.0, &r);
        seen++;
        if (s == RT_EFAILED) failed++;
        else if (s == RT_ECANCELLED) cancelled++;
        else CHECK_STATUS(s, RT_OK);
    }
    CHECK(got == NULL);
    CHECK_EQ_INT(seen, 100);
    CHECK_EQ_INT(failed, 1);
    CHECK_EQ_INT(cancelled, rt_future_cancelled(f[99]) ? 1 : 0);
    CHECK_OK(rt_as_completed_free(it));
    for (i = 0; i < 100; i++) CHECK_OK(rt_future_release(f[i]));
    CHECK_OK(rt_executor_free(ex));
    gate_free(&g);
}

RT_CASES(
    RT_CASE(future_new_is_pending),
    RT_CASE(future_result_times_out_after_its_timeout),
    RT_CASE(future_pending_to_running_to_finished),
    RT_CASE(future_pending_can_finish_without_running),
    RT_CASE(future_second_set_is_invalid_state),
    RT_CASE(future_exception_gives_code_and_message),
    RT_CASE(future_cancel_pending_then_notify),
    RT_CASE(future_cancel_finished_fails),
    RT_CASE(future_result_wakes_on_set_and_on_cancel),
    RT_CASE(future_result_is_interruptible),
    RT_CASE(future_retain_and_release),
    RT_CASE(future_result_destructor_only_for_a_held_result),
    RT_CASE(callback_on_done_future_runs_at_once),
    RT_CASE(callbacks_on_pending_future_run_in_completing_thread_in_order),
    RT_CASE(callbacks_run_on_cancel_and_on_exception),
    RT_CASE(callbacks_of_a_future_never_done_are_dropped),
    RT_CASE(executor_submit_and_collect_results),
    RT_CASE(executor_task_failure_carries_code_and_message),
    RT_CASE(executor_failure_message_is_the_tasks_own),
    RT_CASE(executor_result_and_arg_destructors),
    RT_CASE(executor_workers_are_named_prefix_n),
    RT_CASE(executor_reuses_an_idle_worker),
    RT_CASE(executor_starts_at_most_max_workers),
    RT_CASE(executor_default_max_workers_is_cpus_plus_4_up_to_32),
    RT_CASE(executor_submit_after_shutdown_is_refused),
    RT_CASE(executor_shutdown_without_cancel_finishes_queued_work),
    RT_CASE(executor_shutdown_cancel_futures_cancels_the_queued),
    RT_CASE(executor_free_waits_for_queued_work),
    RT_CASE(executor_shutdown_wait_is_interruptible),
    RT_CASE(executor_initializer_runs_once_per_worker),
    RT_CASE(executor_failed_initializer_breaks_the_pool),
    RT_CASE(executor_cancel_races_start),
    RT_CASE(executor_task_may_submit_to_its_own_pool),
    RT_CASE(executor_task_cannot_end_its_worker),
    RT_CASE(executor_exit_waits_for_workers),
    RT_CASE(wait_returns_at_once_when_the_condition_holds),
    RT_CASE(wait_first_completed_wakes_on_each_kind_of_completion),
    RT_CASE(wait_first_exception_wakes_on_a_failure_only),
    RT_CASE(wait_all_completed_waits_for_every_one),
    RT_CASE(wait_times_out_with_the_sets),
    RT_CASE(wait_counts_duplicates_once),
    RT_CASE(wait_is_interruptible),
    RT_CASE(as_completed_yields_finished_first_then_in_completion_order),
    RT_CASE(as_completed_blocks_until_one_completes),
    RT_CASE(as_completed_gives_duplicates_once),
    RT_CASE(as_completed_overall_timeout),
    RT_CASE(as_completed_is_interruptible),
    RT_CASE(as_completed_one_thread_advances_at_a_time),
    RT_CASE(as_completed_holds_its_futures),
    RT_CASE(as_completed_over_a_pool)
)
