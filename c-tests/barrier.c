/* threading.Barrier: seed 004's barrier, case by case. */
#include "rt_test.h"

struct waiter {
    rt_barrier *barrier;
    double timeout;
    int result; /* 1000 + status */
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

static void start_waiters(struct waiter *w, int n, rt_barrier *b, double timeout) {
    int i;
    for (i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].barrier = b;
        w[i].timeout = timeout;
        CHECK_OK(rt_start_new_thread(wait_in_thread, &w[i], NULL));
    }
}

static int count_done(struct waiter *w, int n) {
    int i, c = 0;
    for (i = 0; i < n; i++) c += ATOMIC_LOAD(&w[i].result) != 0;
    return c;
}

/* ---- creation and properties ---- */

static void barrier_new_has_its_properties(void) {
    rt_barrier *b = NULL;
    CHECK_OK(rt_barrier_new(3, NULL, NULL, RT_FOREVER, &b));
    CHECK(b != NULL);
    CHECK_EQ_INT(rt_barrier_parties(b), 3);
    CHECK_EQ_INT(rt_barrier_n_waiting(b), 0);
    CHECK(!rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_new_rejects_bad_arguments(void) {
    rt_barrier *b = NULL;
    CHECK_ERR(rt_barrier_new(0, NULL, NULL, RT_FOREVER, &b), RT_EINVAL, "parties must be > 0");
    CHECK_ERR(rt_barrier_new(2, NULL, NULL, NAN, &b), RT_EINVAL,
              "Invalid value NaN (not a number)");
    CHECK_ERR(rt_barrier_new(2, NULL, NULL, -2.0, &b), RT_EINVAL,
              "timeout value must be a non-negative number");
    CHECK_ERR(rt_barrier_new(2, NULL, NULL, INFINITY, &b), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_barrier_new(2, NULL, NULL, RT_FOREVER, NULL), RT_EINVAL, "NULL output pointer");
    CHECK(b == NULL); /* never written */
}

static int count_action(void *ctx) {
    ATOMIC_ADD((int *)ctx, 1);
    return 0;
}

static void barrier_one_party_never_waits(void) {
    rt_barrier *b;
    size_t index = 99;
    int runs = 0;
    double t0;
    CHECK_OK(rt_barrier_new(1, count_action, &runs, RT_FOREVER, &b));
    t0 = rt_test_now();
    CHECK_OK(rt_barrier_wait(b, 0.0, &index));
    CHECK_EQ_INT(index, 0);
    CHECK_OK(rt_barrier_wait(b, RT_FOREVER, &index));
    CHECK_OK(rt_barrier_wait(b, 30.0, NULL)); /* the index may be left out */
    CHECK_PROMPT(t0);
    CHECK_EQ_INT(runs, 3);
    CHECK(!rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

/* ---- cycles ---- */

#define PARTIES 4
#define GENERATIONS 10000

struct cycles {
    rt_barrier *barrier;
    int actions;                    /* incremented by the action */
    unsigned char seen[GENERATIONS]; /* bit i: index i was handed out in that generation */
    int late;                       /* a thread returned before its generation's action */
    int failed;
    int finished;
};

static int count_generation(void *ctx) {
    struct cycles *c = ctx;
    ATOMIC_ADD(&c->actions, 1);
    return 0;
}

static void pass_every_generation(void *p) {
    struct cycles *c = p;
    int g;
    for (g = 0; g < GENERATIONS; g++) {
        size_t index = PARTIES;
        if (rt_barrier_wait(c->barrier, RT_FOREVER, &index) != RT_OK || index >= PARTIES) {
            ATOMIC_STORE(&c->failed, 1);
            break;
        }
        /* The action of generation g ran before anyone was released from it, and generation
         * g+1 cannot have completed without this thread. */
        if (ATOMIC_LOAD(&c->actions) != g + 1) ATOMIC_STORE(&c->late, 1);
        __atomic_or_fetch(&c->seen[g], (unsigned char)(1u << index), __ATOMIC_SEQ_CST);
    }
    ATOMIC_ADD(&c->finished, 1);
}

static void barrier_4_threads_10000_generations_with_a_counting_action(void) {
    static struct cycles c;
    int i, g;
    memset(&c, 0, sizeof c);
    CHECK_OK(rt_barrier_new(PARTIES, count_generation, &c, RT_FOREVER, &c.barrier));
    for (i = 0; i < PARTIES; i++) CHECK_OK(rt_start_new_thread(pass_every_generation, &c, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&c.finished) == PARTIES, 120.0);
    CHECK_EQ_INT(c.failed, 0);
    CHECK_EQ_INT(c.late, 0);
    CHECK_EQ_INT(c.actions, GENERATIONS);
    for (g = 0; g < GENERATIONS; g++)
        if (c.seen[g] != (1u << PARTIES) - 1)
            rt_test_fail(__FILE__, __LINE__, "generation %d handed out indexes 0x%x", g, c.seen[g]);
    CHECK_EQ_INT(rt_barrier_n_waiting(c.barrier), 0);
    CHECK(!rt_barrier_broken(c.barrier));
    CHECK_OK(rt_barrier_free(c.barrier));
}

struct action_probe {
    uint64_t ident;  /* who ran the action */
    int waiting_then; /* n_waiting seen from the action */
    rt_barrier *barrier;
    int runs;
};

static int record_runner(void *ctx) {
    struct action_probe *p = ctx;
    p->ident = rt_get_ident();
    p->waiting_then = (int)rt_barrier_n_waiting(p->barrier);
    ATOMIC_ADD(&p->runs, 1);
    return 0;
}

struct ident_waiter {
    struct waiter w;
    uint64_t ident;
};

static void wait_and_remember_ident(void *p) {
    struct ident_waiter *iw = p;
    iw->ident = rt_get_ident();
    wait_in_thread(&iw->w);
}

static void barrier_action_runs_once_in_the_last_thread_to_arrive(void) {
    struct ident_waiter w[3];
    struct action_probe probe;
    int i, last = -1;
    memset(&probe, 0, sizeof probe);
    CHECK_OK(rt_barrier_new(3, record_runner, &probe, RT_FOREVER, &probe.barrier));
    for (i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].w.barrier = probe.barrier;
        w[i].w.timeout = RT_FOREVER;
        CHECK_OK(rt_start_new_thread(wait_and_remember_ident, &w[i], NULL));
        /* One at a time, so that the arrival order is known. */
        WAIT_UNTIL(rt_barrier_n_waiting(probe.barrier) == (size_t)i + 1 || i == 2, 10.0);
    }
    WAIT_UNTIL(count_done(&w[0].w, 1) + count_done(&w[1].w, 1) + count_done(&w[2].w, 1) == 3,
               10.0);
    CHECK_EQ_INT(probe.runs, 1);
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(w[i].w.result, 1000 + RT_OK);
        CHECK_EQ_INT(w[i].w.index, (size_t)i); /* indexes follow arrival */
        if (w[i].ident == probe.ident) last = i;
    }
    CHECK_EQ_INT(last, 2); /* the last to arrive ran it */
    CHECK_EQ_INT(probe.waiting_then, 3);
    CHECK_OK(rt_barrier_free(probe.barrier));
}

/* ---- breaking ---- */

static int fail_action(void *ctx) {
    ATOMIC_ADD((int *)ctx, 1);
    return 7;
}

static void barrier_failing_action_breaks_it(void) {
    struct waiter w[2];
    rt_barrier *b;
    int runs = 0, i, failed = 0, broken = 0;
    CHECK_OK(rt_barrier_new(2, fail_action, &runs, RT_FOREVER, &b));
    start_waiters(w, 2, b, RT_FOREVER);
    WAIT_UNTIL(count_done(w, 2) == 2, 10.0);
    CHECK_EQ_INT(runs, 1);
    for (i = 0; i < 2; i++) {
        CHECK_EQ_INT(w[i].result, 1000 + RT_EBROKEN);
        failed += strcmp(w[i].message, "barrier action failed") == 0;
        broken += strcmp(w[i].message, "barrier is broken") == 0;
    }
    CHECK_EQ_INT(failed, 1); /* the thread that ran it */
    CHECK_EQ_INT(broken, 1);
    CHECK(rt_barrier_broken(b));
    /* Broken until reset: later waits fail at once. */
    CHECK_ERR(rt_barrier_wait(b, RT_FOREVER, NULL), RT_EBROKEN, "barrier is broken");
    CHECK_EQ_INT(runs, 1);
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_timeout_breaks_it(void) {
    struct waiter w[2];
    rt_barrier *b;
    CHECK_OK(rt_barrier_new(3, NULL, NULL, RT_FOREVER, &b));
    start_waiters(w, 1, b, RT_FOREVER);
    WAIT_UNTIL(rt_barrier_n_waiting(b) == 1, 10.0);
    start_waiters(w + 1, 1, b, 0.1);
    WAIT_UNTIL(count_done(w, 2) == 2, 10.0);
    CHECK_EQ_INT(w[1].result, 1000 + RT_EBROKEN);
    CHECK(strcmp(w[1].message, "barrier wait timed out") == 0);
    CHECK(w[1].elapsed >= 0.1);
    CHECK_EQ_INT(w[0].result, 1000 + RT_EBROKEN);
    CHECK(strcmp(w[0].message, "barrier is broken") == 0);
    CHECK(rt_barrier_broken(b));
    CHECK_EQ_INT(rt_barrier_n_waiting(b), 0);
    CHECK_ERR(rt_barrier_wait(b, 1.0, NULL), RT_EBROKEN, "barrier is broken");
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_default_timeout_applies(void) {
    rt_barrier *b;
    double t0;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, 0.1, &b));
    t0 = rt_test_now();
    CHECK_ERR(rt_barrier_wait(b, RT_FOREVER, NULL), RT_EBROKEN, "barrier wait timed out");
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_explicit_timeout_overrides_the_default(void) {
    rt_barrier *b;
    double t0;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, 0.05, &b));
    t0 = rt_test_now();
    CHECK_ERR(rt_barrier_wait(b, 0.3, NULL), RT_EBROKEN, "barrier wait timed out");
    CHECK_ELAPSED(t0, 0.3, 3.0);
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_wait_zero_breaks_unless_last(void) {
    rt_barrier *b;
    double t0;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    t0 = rt_test_now();
    CHECK_ERR(rt_barrier_wait(b, 0.0, NULL), RT_EBROKEN, "barrier wait timed out");
    CHECK_PROMPT(t0);
    CHECK(rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_wait_validates_the_timeout(void) {
    rt_barrier *b;
    size_t index = 42;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    CHECK_ERR(rt_barrier_wait(b, NAN, &index), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_barrier_wait(b, -2.0, &index), RT_EINVAL,
              "timeout value must be a non-negative number");
    CHECK_ERR(rt_barrier_wait(b, INFINITY, &index), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_EQ_INT(index, 42); /* not written */
    CHECK(!rt_barrier_broken(b)); /* a refused call is no arrival */
    CHECK_EQ_INT(rt_barrier_n_waiting(b), 0);
    CHECK_OK(rt_barrier_free(b));
}

/* ---- abort and reset ---- */

static void barrier_abort_while_threads_wait(void) {
    struct waiter w[3];
    rt_barrier *b;
    int i;
    CHECK_OK(rt_barrier_new(4, NULL, NULL, RT_FOREVER, &b));
    start_waiters(w, 3, b, RT_FOREVER);
    WAIT_UNTIL(rt_barrier_n_waiting(b) == 3, 10.0);
    CHECK_OK(rt_barrier_abort(b));
    WAIT_UNTIL(count_done(w, 3) == 3, 10.0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(w[i].result, 1000 + RT_EBROKEN);
        CHECK(strcmp(w[i].message, "barrier is broken") == 0);
    }
    CHECK(rt_barrier_broken(b));
    CHECK_EQ_INT(rt_barrier_n_waiting(b), 0);
    CHECK_ERR(rt_barrier_wait(b, RT_FOREVER, NULL), RT_EBROKEN, "barrier is broken");
    CHECK_OK(rt_barrier_abort(b)); /* again: still broken */
    CHECK(rt_barrier_broken(b));
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_reset_while_threads_wait(void) {
    struct waiter w[4];
    rt_barrier *b;
    int i;
    CHECK_OK(rt_barrier_new(4, NULL, NULL, RT_FOREVER, &b));
    start_waiters(w, 3, b, RT_FOREVER);
    WAIT_UNTIL(rt_barrier_n_waiting(b) == 3, 10.0);
    CHECK_OK(rt_barrier_reset(b));
    WAIT_UNTIL(count_done(w, 3) == 3, 10.0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(w[i].result, 1000 + RT_EBROKEN);
        CHECK(strcmp(w[i].message, "barrier was reset") == 0);
    }
    CHECK(!rt_barrier_broken(b));
    /* Usable again: a full cycle passes, with fresh indexes. */
    start_waiters(w, 4, b, RT_FOREVER);
    WAIT_UNTIL(count_done(w, 4) == 4, 10.0);
    for (i = 0; i < 4; i++) CHECK_EQ_INT(w[i].result, 1000 + RT_OK);
    CHECK_EQ_INT(w[0].index + w[1].index + w[2].index + w[3].index, 0 + 1 + 2 + 3);
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_reset_repairs_a_broken_barrier(void) {
    struct waiter w[2];
    rt_barrier *b;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    CHECK_OK(rt_barrier_abort(b));
    CHECK(rt_barrier_broken(b));
    CHECK_OK(rt_barrier_reset(b));
    CHECK(!rt_barrier_broken(b));
    start_waiters(w, 2, b, RT_FOREVER);
    WAIT_UNTIL(count_done(w, 2) == 2, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK_EQ_INT(w[1].result, 1000 + RT_OK);
    CHECK_EQ_INT(w[0].index + w[1].index, 1);
    CHECK_OK(rt_barrier_free(b));
}

struct rejoin {
    rt_barrier *barrier;
    int resets_seen;
    int passes;
    int bad_index;
    int stop;
    int finished;
};

static void rejoin_until_stopped(void *p) {
    struct rejoin *r = p;
    while (!ATOMIC_LOAD(&r->stop)) {
        size_t index = 99;
        rt_status s = rt_barrier_wait(r->barrier, RT_FOREVER, &index);
        if (s == RT_OK) {
            ATOMIC_ADD(&r->passes, 1);
            if (index >= 3) ATOMIC_STORE(&r->bad_index, 1);
        } else if (s == RT_EBROKEN) {
            ATOMIC_ADD(&r->resets_seen, 1);
        } else {
            ATOMIC_STORE(&r->bad_index, 1);
        }
    }
    ATOMIC_ADD(&r->finished, 1);
}

static void barrier_reset_with_threads_rejoining_at_once(void) {
    /* Two threads re-enter as soon as a reset releases them; main resets again and again.
     * Released threads must never join the cycle being drained, and the barrier keeps
     * working: a third party completes cycles in between. */
    struct rejoin r;
    int round;
    memset(&r, 0, sizeof r);
    CHECK_OK(rt_barrier_new(3, NULL, NULL, RT_FOREVER, &r.barrier));
    CHECK_OK(rt_start_new_thread(rejoin_until_stopped, &r, NULL));
    CHECK_OK(rt_start_new_thread(rejoin_until_stopped, &r, NULL));
    for (round = 0; round < 200; round++) {
        WAIT_UNTIL(rt_barrier_n_waiting(r.barrier) == 2, 10.0);
        if (round % 2 == 0) {
            CHECK_OK(rt_barrier_reset(r.barrier));
        } else {
            size_t index = 99;
            CHECK_OK(rt_barrier_wait(r.barrier, RT_FOREVER, &index));
            CHECK_EQ_INT(index, 2);
        }
        CHECK(!rt_barrier_broken(r.barrier));
    }
    WAIT_UNTIL(rt_barrier_n_waiting(r.barrier) == 2, 10.0);
    ATOMIC_STORE(&r.stop, 1);
    CHECK_OK(rt_barrier_abort(r.barrier));
    WAIT_UNTIL(ATOMIC_LOAD(&r.finished) == 2, 10.0);
    CHECK_EQ_INT(r.bad_index, 0);
    CHECK_EQ_INT(r.passes, 2 * 100);
    CHECK_EQ_INT(r.resets_seen, 2 * 100 + 2);
    CHECK_OK(rt_barrier_free(r.barrier));
}

/* ---- the action calling back into rthread ---- */

struct self_abort {
    rt_barrier *barrier;
    int status;
};

static int abort_own_barrier(void *ctx) {
    struct self_abort *sa = ctx;
    sa->status = (int)rt_barrier_abort(sa->barrier);
    return 0;
}

static void barrier_action_may_abort_its_own_barrier(void) {
    /* The action runs under no internal lock: it can call back into the barrier. */
    struct waiter w[2];
    struct self_abort sa = { NULL, -1 };
    CHECK_OK(rt_barrier_new(2, abort_own_barrier, &sa, RT_FOREVER, &sa.barrier));
    start_waiters(w, 2, sa.barrier, RT_FOREVER);
    WAIT_UNTIL(count_done(w, 2) == 2, 10.0);
    CHECK_EQ_INT(sa.status, RT_OK);
    CHECK_EQ_INT(w[0].result, 1000 + RT_EBROKEN);
    CHECK_EQ_INT(w[1].result, 1000 + RT_EBROKEN);
    CHECK(rt_barrier_broken(sa.barrier));
    CHECK_OK(rt_barrier_free(sa.barrier));
}

static int try_to_exit(void *ctx) {
    *(int *)ctx = (int)rt_exit_thread();
    return 0;
}

struct exit_args {
    rt_barrier *barrier;
    int exit_status;
    int result;
    int done;
};

static void wait_alone(void *p) {
    struct exit_args *a = p;
    a->result = (int)rt_barrier_wait(a->barrier, RT_FOREVER, NULL);
    ATOMIC_STORE(&a->done, 1);
}

static void barrier_action_cannot_exit_the_thread(void) {
    struct exit_args a;
    memset(&a, 0, sizeof a);
    CHECK_OK(rt_barrier_new(1, try_to_exit, &a.exit_status, RT_FOREVER, &a.barrier));
    CHECK_OK(rt_start_new_thread(wait_alone, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK_EQ_INT(a.exit_status, RT_ESTATE);
    CHECK_EQ_INT(a.result, RT_OK);
    CHECK_OK(rt_barrier_free(a.barrier));
}

/* ---- freeing and bad handles ---- */

static void barrier_free_null_is_fine(void) {
    CHECK_OK(rt_barrier_free(NULL));
}

static void barrier_free_with_waiters_is_busy(void) {
    struct waiter w[1];
    rt_barrier *b;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    start_waiters(w, 1, b, RT_FOREVER);
    WAIT_UNTIL(rt_barrier_n_waiting(b) == 1, 10.0);
    CHECK_ERR(rt_barrier_free(b), RT_EBUSY, "object is in use by waiting threads");
    CHECK_OK(rt_barrier_wait(b, RT_FOREVER, NULL));
    WAIT_UNTIL(count_done(w, 1) == 1, 10.0);
    CHECK_EQ_INT(w[0].result, 1000 + RT_OK);
    CHECK_OK(rt_barrier_free(b));
}

static void barrier_null_handles_are_einval(void) {
    CHECK_ERR(rt_barrier_wait(NULL, RT_FOREVER, NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_barrier_reset(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_barrier_abort(NULL), RT_EINVAL, "NULL handle");
    rt_barrier_new(1, NULL, NULL, RT_FOREVER, NULL);
    CHECK_EQ_INT(rt_barrier_parties(NULL), 0);
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    rt_barrier_new(1, NULL, NULL, RT_FOREVER, NULL);
    CHECK_EQ_INT(rt_barrier_n_waiting(NULL), 0);
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    rt_barrier_new(1, NULL, NULL, RT_FOREVER, NULL);
    CHECK(!rt_barrier_broken(NULL));
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
}

static void barrier_wrong_kind_handles_are_einval(void) {
    /* A real handle of another kind: a plain lock. */
    rt_lock *l;
    rt_barrier *wrong;
    CHECK_OK(rt_lock_new(&l));
    wrong = (rt_barrier *)(void *)l;
    CHECK_ERR(rt_barrier_wait(wrong, RT_FOREVER, NULL), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_barrier_reset(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_barrier_abort(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_barrier_free(wrong), RT_EINVAL, "handle of the wrong kind");
    rt_barrier_new(1, NULL, NULL, RT_FOREVER, NULL);
    CHECK_EQ_INT(rt_barrier_parties(wrong), 0);
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    rt_barrier_new(1, NULL, NULL, RT_FOREVER, NULL);
    CHECK_EQ_INT(rt_barrier_n_waiting(wrong), 0);
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    rt_barrier_new(1, NULL, NULL, RT_FOREVER, NULL);
    CHECK(!rt_barrier_broken(wrong));
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(barrier_new_has_its_properties),
    RT_CASE(barrier_new_rejects_bad_arguments),
    RT_CASE(barrier_one_party_never_waits),
    RT_CASE(barrier_4_threads_10000_generations_with_a_counting_action),
    RT_CASE(barrier_action_runs_once_in_the_last_thread_to_arrive),
    RT_CASE(barrier_failing_action_breaks_it),
    RT_CASE(barrier_timeout_breaks_it),
    RT_CASE(barrier_default_timeout_applies),
    RT_CASE(barrier_explicit_timeout_overrides_the_default),
    RT_CASE(barrier_wait_zero_breaks_unless_last),
    RT_CASE(barrier_wait_validates_the_timeout),
    RT_CASE(barrier_abort_while_threads_wait),
    RT_CASE(barrier_reset_while_threads_wait),
    RT_CASE(barrier_reset_repairs_a_broken_barrier),
    RT_CASE(barrier_reset_with_threads_rejoining_at_once),
    RT_CASE(barrier_action_may_abort_its_own_barrier),
    RT_CASE(barrier_action_cannot_exit_the_thread),
    RT_CASE(barrier_free_null_is_fine),
    RT_CASE(barrier_free_with_waiters_is_busy),
    RT_CASE(barrier_null_handles_are_einval),
    RT_CASE(barrier_wrong_kind_handles_are_einval)
)
