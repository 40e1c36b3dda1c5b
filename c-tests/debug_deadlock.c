/*
 * Deadlock detection (RT_DEBUG_DEADLOCK): a blocking call that would close a cycle in the
 * waits-for graph returns RT_EDEADLK at once to the thread that closes it, with a message that
 * names the cycle, and the cycle is reported through the report hook. Waits that close no cycle
 * are unchanged.
 */
#include "rt_test.h"
#include "rt_blocked.h"

#include <pthread.h>

/* The reports the hook received, concatenated. */
static char reports[8192];
static pthread_mutex_t reports_lock = PTHREAD_MUTEX_INITIALIZER;
static int report_count;

static void collect(void *ctx, const char *text) {
    CHECK(ctx == (void *)&reports);
    pthread_mutex_lock(&reports_lock);
    strncat(reports, text, sizeof reports - strlen(reports) - 1);
    report_count++;
    pthread_mutex_unlock(&reports_lock);
}

static void debug_on(void) {
    CHECK_OK(rt_set_debug_report_hook(collect, &reports));
    CHECK_OK(rt_set_debug(RT_DEBUG_DEADLOCK));
    CHECK_EQ_INT(rt_get_debug(), RT_DEBUG_DEADLOCK);
}

static void named_lock(rt_lock **l, const char *name) {
    char buf[64];
    CHECK_OK(rt_lock_new(l));
    CHECK_OK(rt_object_set_name(*l, name));
    CHECK_OK(rt_object_name(*l, buf, sizeof buf));
    CHECK(strcmp(buf, name) == 0);
}

/* ------------------------------------------------------------------------------------------
 * AB/BA between two named threads.
 */

struct abba {
    rt_lock *first, *second;
    int *mine, *other; /* "I hold my first lock" flags */
    rt_status got;
    double took;
    char message[512];
};

static int held_a, held_b;

static void abba_body(void *arg) {
    struct abba *s = arg;
    double t0;
    CHECK_OK(rt_lock_acquire(s->first, 1, RT_FOREVER));
    ATOMIC_STORE(s->mine, 1);
    WAIT_UNTIL(ATOMIC_LOAD(s->other), 30.0);
    t0 = rt_test_now();
    s->got = rt_lock_acquire(s->second, 1, RT_FOREVER);
    s->took = rt_test_now() - t0;
    if (s->got == RT_OK) {
        CHECK_OK(rt_lock_release(s->second));
    } else {
        snprintf(s->message, sizeof s->message, "%s", rt_last_error());
    }
    CHECK_OK(rt_lock_release(s->first));
}

static void deadlock_ab_ba_two_named_threads(void) {
    rt_lock *a, *b;
    rt_thread *ta, *tb;
    struct abba sa, sb;
    struct abba *loser;
    debug_on();
    named_lock(&a, "lock-A");
    named_lock(&b, "lock-B");
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    sa.first = a, sa.second = b, sa.mine = &held_a, sa.other = &held_b;
    sb.first = b, sb.second = a, sb.mine = &held_b, sb.other = &held_a;
    CHECK_OK(rt_thread_new(abba_body, &sa, &ta));
    CHECK_OK(rt_thread_new(abba_body, &sb, &tb));
    CHECK_OK(rt_object_set_name(ta, "alpha"));
    CHECK_OK(rt_object_set_name(tb, "beta"));
    CHECK_OK(rt_thread_start(ta));
    CHECK_OK(rt_thread_start(tb));
    CHECK_OK(rt_thread_join(ta, RT_FOREVER));
    CHECK_OK(rt_thread_join(tb, RT_FOREVER));
    /* Exactly one closed the cycle; the other got its lock once the loser let go. */
    CHECK((sa.got == RT_EDEADLK) != (sb.got == RT_EDEADLK));
    loser = sa.got == RT_EDEADLK ? &sa : &sb;
    CHECK_STATUS((loser == &sa ? sb : sa).got, RT_OK);
    CHECK(loser->took < 0.1);
    CHECK(strstr(loser->message, "deadlock") != NULL);
    CHECK(strstr(loser->message, "thread \"alpha\"") != NULL);
    CHECK(strstr(loser->message, "thread \"beta\"") != NULL);
    CHECK(strstr(loser->message, "lock \"lock-A\"") != NULL);
    CHECK(strstr(loser->message, "lock \"lock-B\"") != NULL);
    /* Reported once, through the hook, with the same cycle. */
    CHECK_EQ_INT(report_count, 1);
    CHECK(strncmp(reports, "rthread: deadlock: ", 19) == 0);
    {
        char want[128];
        snprintf(want, sizeof want, "lock \"lock-A\" (%p)", (void *)a);
        CHECK(strstr(reports, want) != NULL);
        snprintf(want, sizeof want, "lock \"lock-B\" (%p)", (void *)b);
        CHECK(strstr(reports, want) != NULL);
        CHECK(strstr(reports, "thread \"alpha\"") != NULL);
        CHECK(strstr(reports, "thread \"beta\"") != NULL);
    }
    CHECK_OK(rt_thread_release(ta));
    CHECK_OK(rt_thread_release(tb));
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
}

/* ------------------------------------------------------------------------------------------
 * Three parties, through a join: the main thread holds "gate"; "joiner" joins "worker";
 * "worker" waits for "gate"; the main thread joining "joiner" would close the cycle.
 */

static rt_lock *gate;
static rt_thread *worker_t;
static uint64_t joiner_tid, worker_tid;

static void worker_body(void *arg) {
    (void)arg;
    ATOMIC_STORE(&worker_tid, rt_get_native_id());
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(gate));
}

static void joiner_body(void *arg) {
    (void)arg;
    ATOMIC_STORE(&joiner_tid, rt_get_native_id());
    CHECK_OK(rt_thread_join(worker_t, RT_FOREVER));
}

static void deadlock_three_party_cycle_through_a_join(void) {
    rt_thread *joiner, *main_t;
    char message[512];
    double t0;
    debug_on();
    named_lock(&gate, "gate");
    CHECK_OK(rt_main_thread(&main_t));
    CHECK_OK(rt_object_set_name(main_t, "boss"));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(worker_body, NULL, &worker_t));
    CHECK_OK(rt_thread_new(joiner_body, NULL, &joiner));
    CHECK_OK(rt_object_set_name(worker_t, "worker"));
    CHECK_OK(rt_object_set_name(joiner, "joiner"));
    CHECK_OK(rt_thread_start(worker_t));
    WAIT_BLOCKED(&worker_tid);
    CHECK_OK(rt_thread_start(joiner));
    WAIT_BLOCKED(&joiner_tid);
    t0 = rt_test_now();
    CHECK_STATUS(rt_thread_join(joiner, RT_FOREVER), RT_EDEADLK);
    CHECK(rt_test_now() - t0 < 0.1);
    snprintf(message, sizeof message, "%s", rt_last_error());
    CHECK(strcmp(message, "deadlock: thread \"boss\" would wait in rt_thread_join for thread "
                          "\"joiner\", which waits in rt_thread_join for thread \"worker\", which "
                          "waits in rt_lock_acquire for lock \"gate\" held by thread \"boss\"") == 0);
    CHECK_EQ_INT(report_count, 1);
    /* Undo it: everything completes. */
    CHECK_OK(rt_lock_release(gate));
    CHECK_OK(rt_thread_join(joiner, RT_FOREVER));
    CHECK_OK(rt_thread_join(worker_t, RT_FOREVER));
    CHECK_EQ_INT(report_count, 1);
    CHECK_OK(rt_thread_release(joiner));
    CHECK_OK(rt_thread_release(worker_t));
    CHECK_OK(rt_thread_release(main_t));
    CHECK_OK(rt_lock_free(gate));
}

/* ------------------------------------------------------------------------------------------
 * Through a condition's lock: "sleeper" holds "ledger" and waits on the condition; the main
 * thread takes the condition's lock, then "ledger": the sleeper can never take the condition's
 * lock back, so the main thread would close a cycle.
 */

static rt_condition *cond;
static rt_lock *ledger;
static uint64_t sleeper_tid;
static int sleeper_go;

static void sleeper_body(void *arg) {
    (void)arg;
    CHECK_OK(rt_lock_acquire(ledger, 1, RT_FOREVER));
    CHECK_OK(rt_condition_acquire(cond, 1, RT_FOREVER));
    ATOMIC_STORE(&sleeper_tid, rt_get_native_id());
    while (!ATOMIC_LOAD(&sleeper_go)) CHECK_OK(rt_condition_wait(cond, RT_FOREVER));
    CHECK_OK(rt_condition_release(cond));
    CHECK_OK(rt_lock_release(ledger));
}

static void deadlock_through_a_condition_lock(void) {
    rt_thread *sleeper;
    debug_on();
    named_lock(&ledger, "ledger");
    CHECK_OK(rt_condition_new(&cond));
    CHECK_OK(rt_object_set_name(cond, "ready"));
    CHECK_OK(rt_thread_new(sleeper_body, NULL, &sleeper));
    CHECK_OK(rt_object_set_name(sleeper, "sleeper"));
    CHECK_OK(rt_thread_start(sleeper));
    WAIT_BLOCKED(&sleeper_tid);
    CHECK_OK(rt_condition_acquire(cond, 1, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(ledger, 1, RT_FOREVER), RT_EDEADLK);
    CHECK(strstr(rt_last_error(), "for lock \"ledger\"") != NULL);
    CHECK(strstr(rt_last_error(), "thread \"sleeper\", which waits in rt_condition_wait for "
                                  "condition \"ready\"") != NULL);
    ATOMIC_STORE(&sleeper_go, 1);
    CHECK_OK(rt_condition_notify(cond, 1));
    CHECK_OK(rt_condition_release(cond));
    CHECK_OK(rt_thread_join(sleeper, RT_FOREVER));
    CHECK_OK(rt_thread_release(sleeper));
    CHECK_OK(rt_condition_free(cond));
    CHECK_OK(rt_lock_free(ledger));
}

/* ------------------------------------------------------------------------------------------
 * Nothing else changes: contended waits, RLock re-entry, a Lock released by another thread,
 * joins; no report.
 */

static rt_lock *shared;
static rt_rlock *re;
static uint64_t waiter_tid;

static void waiter_body(void *arg) {
    (void)arg;
    ATOMIC_STORE(&waiter_tid, rt_get_native_id());
    CHECK_OK(rt_lock_acquire(shared, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(re, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(re, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_release(re));
    CHECK_OK(rt_rlock_release(re));
    /* Released by the main thread. */
}

static void deadlock_detection_changes_nothing_else(void) {
    rt_thread *w;
    debug_on();
    CHECK_OK(rt_lock_new(&shared));
    CHECK_OK(rt_rlock_new(&re));
    CHECK_OK(rt_lock_acquire(shared, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(re, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(waiter_body, NULL, &w));
    CHECK_OK(rt_thread_start(w));
    WAIT_BLOCKED(&waiter_tid);
    CHECK_OK(rt_lock_release(shared));
    CHECK_OK(rt_rlock_release(re));
    CHECK_OK(rt_thread_join(w, RT_FOREVER));
    /* The waiter left `shared` held; another thread may release a Lock. */
    CHECK(rt_lock_locked(shared));
    CHECK_OK(rt_lock_release(shared));
    CHECK_STATUS(rt_lock_release(shared), RT_ENOTLOCKED);
    /* A lock this thread holds, acquired again, times out as before (a Lock has no owner). */
    CHECK_OK(rt_lock_acquire(shared, 1, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(shared, 1, 0.01), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(shared));
    /* Joining itself keeps its own message. */
    {
        rt_thread *me;
        CHECK_OK(rt_current_thread(&me));
        CHECK_ERR(rt_thread_join(me, RT_FOREVER), RT_EDEADLK, "cannot join current thread");
        CHECK_OK(rt_thread_release(me));
    }
    CHECK_EQ_INT(report_count, 0);
    CHECK_OK(rt_set_debug(0));
    CHECK_EQ_INT(rt_get_debug(), 0);
    CHECK_OK(rt_thread_release(w));
    CHECK_OK(rt_lock_free(shared));
    CHECK_OK(rt_rlock_free(re));
}

/* Without the mode, the same AB/BA is not detected: a timed acquire just times out. */
static void deadlock_not_detected_when_off(void) {
    rt_lock *a, *b;
    rt_thread *ta, *tb;
    struct abba sa, sb;
    held_a = held_b = 0;
    CHECK_EQ_INT(rt_get_debug(), 0);
    named_lock(&a, "lock-A");
    named_lock(&b, "lock-B");
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    sa.first = a, sa.second = b, sa.mine = &held_a, sa.other = &held_b;
    sb.first = b, sb.second = a, sb.mine = &held_b, sb.other = &held_a;
    CHECK_OK(rt_thread_new(abba_body, &sa, &ta));
    CHECK_OK(rt_thread_start(ta));
    WAIT_UNTIL(ATOMIC_LOAD(&held_a), 30.0);
    /* This thread plays "beta" with a timeout. */
    CHECK_OK(rt_lock_acquire(b, 1, RT_FOREVER));
    ATOMIC_STORE(&held_b, 1);
    CHECK_STATUS(rt_lock_acquire(a, 1, 0.05), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(b));
    CHECK_OK(rt_thread_join(ta, RT_FOREVER));
    CHECK_STATUS(sa.got, RT_OK);
    CHECK_EQ_INT(report_count, 0);
    (void)tb;
    (void)sb;
    CHECK_OK(rt_thread_release(ta));
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
}

RT_CASES(RT_CASE(deadlock_ab_ba_two_named_threads),
         RT_CASE(deadlock_three_party_cycle_through_a_join),
         RT_CASE(deadlock_through_a_condition_lock),
         RT_CASE(deadlock_detection_changes_nothing_else),
         RT_CASE(deadlock_not_detected_when_off))
