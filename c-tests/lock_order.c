/* Lock-order checking (RT_DEBUG_LOCK_ORDER): an inverted order is reported once per pair,
 * with both orders, the threads and the objects' names, although no deadlock happens. */
#include "rt_test.h"

#include <sys/wait.h>
#include <unistd.h>

/* The reports, captured through the report hook. */
#define MAX_REPORTS 8
static char reports[MAX_REPORTS][2048];
static int nreports;
static rt_lock *reports_lock;

static void capture(void *ctx, const char *text) {
    (void)ctx;
    if (rt_lock_acquire(reports_lock, 1, RT_FOREVER) != RT_OK) abort();
    if (nreports < MAX_REPORTS) {
        snprintf(reports[nreports], sizeof reports[0], "%s", text);
    }
    nreports++;
    if (rt_lock_release(reports_lock) != RT_OK) abort();
}

static int report_count(void) {
    int n;
    if (rt_lock_acquire(reports_lock, 1, RT_FOREVER) != RT_OK) abort();
    n = nreports;
    if (rt_lock_release(reports_lock) != RT_OK) abort();
    return n;
}

static void setup(void) {
    CHECK_OK(rt_lock_new(&reports_lock));
    nreports = 0;
    CHECK_OK(rt_set_debug_report_hook(capture, NULL));
    CHECK_OK(rt_set_debug(RT_DEBUG_LOCK_ORDER));
}

static void teardown(void) {
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_set_debug_report_hook(NULL, NULL));
    CHECK_OK(rt_lock_free(reports_lock));
}

/* `kind "name" (address)`, as reports describe an object. */
static const char *describe(char *buf, size_t len, const char *kind, const char *name,
                            const void *obj) {
    snprintf(buf, len, "%s \"%s\" (%p)", kind, name, obj);
    return buf;
}

/* Runs `fn(arg)` in a new thread named `name`, and joins it. */
static void run_named(const char *name, rt_thread_fn fn, void *arg) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(fn, arg, &t));
    CHECK_OK(rt_thread_set_name(t, name));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
}

struct pair {
    rt_lock *first, *second;
    int rounds;
};

static void take_in_order(void *p) {
    struct pair *q = p;
    for (int i = 0; i < q->rounds; i++) {
        if (rt_lock_acquire(q->first, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_acquire(q->second, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_release(q->second) != RT_OK) abort();
        if (rt_lock_release(q->first) != RT_OK) abort();
    }
}

/* Two threads, one after the other (so they never deadlock), take two named locks in
 * opposite orders: one report, naming both orders, both threads and both locks. */
static void lock_order_inversion_is_reported_without_a_deadlock(void) {
    rt_lock *a, *b;
    struct pair ab, ba;
    char da[128], db[128], expect[512];
    setup();
    CHECK_OK(rt_lock_new(&a));
    CHECK_OK(rt_lock_new(&b));
    CHECK_OK(rt_object_set_name(a, "accounts"));
    CHECK_OK(rt_object_set_name(b, "ledger"));
    ab.first = a, ab.second = b, ab.rounds = 1;
    ba.first = b, ba.second = a, ba.rounds = 1;
    run_named("first", take_in_order, &ab);
    CHECK_EQ_INT(report_count(), 0);
    run_named("second", take_in_order, &ba);
    CHECK_EQ_INT(report_count(), 1);
    describe(da, sizeof da, "lock", "accounts", a);
    describe(db, sizeof db, "lock", "ledger", b);
    CHECK(strstr(reports[0], "lock order inversion") != NULL);
    snprintf(expect, sizeof expect, "this order:    %s then %s, in thread \"second\"", db, da);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    snprintf(expect, sizeof expect, "earlier order: %s then %s, in thread \"first\"", da, db);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    teardown();
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
}

/* The same inversion, again and again: one report. A new pair: one more. */
static void lock_order_each_pair_is_reported_once(void) {
    rt_lock *a, *b, *c;
    struct pair ab, ba, ca;
    setup();
    CHECK_OK(rt_lock_new(&a));
    CHECK_OK(rt_lock_new(&b));
    CHECK_OK(rt_lock_new(&c));
    ab.first = a, ab.second = b, ab.rounds = 3;
    ba.first = b, ba.second = a, ba.rounds = 5;
    ca.first = c, ca.second = a, ca.rounds = 2;
    run_named("ab", take_in_order, &ab);
    run_named("ba", take_in_order, &ba);
    run_named("ba again", take_in_order, &ba);
    run_named("ab again", take_in_order, &ab);
    CHECK_EQ_INT(report_count(), 1);
    /* "a then c" was never seen: c then a is a new order, not an inversion. */
    run_named("ca", take_in_order, &ca);
    CHECK_EQ_INT(report_count(), 1);
    ca.first = a, ca.second = c;
    run_named("ac", take_in_order, &ca);
    CHECK_EQ_INT(report_count(), 2);
    teardown();
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
    CHECK_OK(rt_lock_free(c));
}

/* An inversion through a third lock (a then b, b then c; then c then a) is found, and the
 * report shows the whole earlier chain. */
static void lock_order_inversion_through_a_chain(void) {
    rt_lock *a, *b, *c;
    struct pair p;
    char da[128], db[128], dc[128], expect[512];
    setup();
    CHECK_OK(rt_lock_new(&a));
    CHECK_OK(rt_lock_new(&b));
    CHECK_OK(rt_lock_new(&c));
    CHECK_OK(rt_object_set_name(a, "a"));
    CHECK_OK(rt_object_set_name(b, "b"));
    CHECK_OK(rt_object_set_name(c, "c"));
    p.rounds = 1;
    p.first = a, p.second = b;
    run_named("t-ab", take_in_order, &p);
    p.first = b, p.second = c;
    run_named("t-bc", take_in_order, &p);
    CHECK_EQ_INT(report_count(), 0);
    p.first = c, p.second = a;
    run_named("t-ca", take_in_order, &p);
    CHECK_EQ_INT(report_count(), 1);
    describe(da, sizeof da, "lock", "a", a);
    describe(db, sizeof db, "lock", "b", b);
    describe(dc, sizeof dc, "lock", "c", c);
    snprintf(expect, sizeof expect, "this order:    %s then %s, in thread \"t-ca\"", dc, da);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    snprintf(expect, sizeof expect, "earlier order: %s then %s, in thread \"t-ab\"", da, db);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    snprintf(expect, sizeof expect, "then: %s then %s, in thread \"t-bc\"", db, dc);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    teardown();
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
    CHECK_OK(rt_lock_free(c));
}

/* RLocks are checked too, and a re-entry is no new order. */
struct mixed {
    rt_rlock *r;
    rt_lock *l;
    int rlock_first;
};

static void take_mixed(void *p) {
    struct mixed *m = p;
    if (m->rlock_first) {
        if (rt_rlock_acquire(m->r, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_acquire(m->l, 1, RT_FOREVER) != RT_OK) abort();
        /* re-entry while holding l: not "l then r" */
        if (rt_rlock_acquire(m->r, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_release(m->r) != RT_OK) abort();
        if (rt_lock_release(m->l) != RT_OK) abort();
        if (rt_rlock_release(m->r) != RT_OK) abort();
    } else {
        if (rt_lock_acquire(m->l, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_acquire(m->r, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_release(m->r) != RT_OK) abort();
        if (rt_lock_release(m->l) != RT_OK) abort();
    }
}

static void lock_order_covers_rlocks_and_ignores_reentry(void) {
    struct mixed m;
    char dr[128], dl[128], expect[512];
    setup();
    CHECK_OK(rt_rlock_new(&m.r));
    CHECK_OK(rt_lock_new(&m.l));
    CHECK_OK(rt_object_set_name(m.r, "outer"));
    CHECK_OK(rt_object_set_name(m.l, "inner"));
    m.rlock_first = 1;
    run_named("nested", take_mixed, &m);
    CHECK_EQ_INT(report_count(), 0);
    m.rlock_first = 0;
    run_named("inverted", take_mixed, &m);
    CHECK_EQ_INT(report_count(), 1);
    describe(dr, sizeof dr, "rlock", "outer", m.r);
    describe(dl, sizeof dl, "lock", "inner", m.l);
    snprintf(expect, sizeof expect, "this order:    %s then %s, in thread \"inverted\"", dl, dr);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    snprintf(expect, sizeof expect, "earlier order: %s then %s, in thread \"nested\"", dr, dl);
    if (!strstr(reports[0], expect)) rt_test_fail(__FILE__, __LINE__, "report:\n%s", reports[0]);
    teardown();
    CHECK_OK(rt_rlock_free(m.r));
    CHECK_OK(rt_lock_free(m.l));
}

/* A Lock released by another thread than its acquirer (legal, as in Python): the acquirer no
 * longer holds it, so its later acquisitions record no order after it. */
static void release_it(void *p) {
    if (rt_lock_release((rt_lock *)p) != RT_OK) abort();
}

static void lock_order_release_by_another_thread_is_understood(void) {
    rt_lock *l, *m;
    struct pair p;
    setup();
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_new(&m));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    run_named("releaser", release_it, l);
    CHECK(!rt_lock_locked(l));
    /* The main thread holds nothing now: "l then m" is not recorded. */
    CHECK_OK(rt_lock_acquire(m, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(m));
    p.first = m, p.second = l, p.rounds = 1;
    run_named("m then l", take_in_order, &p);
    CHECK_EQ_INT(report_count(), 0);
    teardown();
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_lock_free(m));
}

/* A freed lock is forgotten: a new lock, at the same address or not, starts with no order. */
static void lock_order_forgets_freed_locks(void) {
    rt_lock *a, *b, *b2;
    struct pair p;
    setup();
    CHECK_OK(rt_lock_new(&a));
    CHECK_OK(rt_lock_new(&b));
    p.first = a, p.second = b, p.rounds = 1;
    run_named("a then b", take_in_order, &p);
    CHECK_OK(rt_lock_free(b));
    CHECK_OK(rt_lock_new(&b2)); /* often at b's address */
    p.first = b2, p.second = a;
    run_named("b2 then a", take_in_order, &p);
    CHECK_EQ_INT(report_count(), 0);
    teardown();
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b2));
}

/* With the mode off, nothing is recorded: switched on later, it has no earlier order. */
static void lock_order_off_records_nothing(void) {
    rt_lock *a, *b;
    struct pair p;
    setup();
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_lock_new(&a));
    CHECK_OK(rt_lock_new(&b));
    p.first = a, p.second = b, p.rounds = 1;
    run_named("off", take_in_order, &p);
    CHECK_OK(rt_set_debug(RT_DEBUG_LOCK_ORDER));
    p.first = b, p.second = a;
    run_named("on", take_in_order, &p);
    CHECK_EQ_INT(report_count(), 0);
    teardown();
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
}

/* A fork child keeps the orders learnt before the fork: an inversion in the child is reported
 * there. */
static void lock_order_a_fork_child_keeps_the_orders(void) {
    rt_lock *a, *b;
    struct pair p;
    pid_t pid;
    int status;
    setup();
    CHECK_OK(rt_lock_new(&a));
    CHECK_OK(rt_lock_new(&b));
    p.first = a, p.second = b, p.rounds = 1;
    run_named("parent", take_in_order, &p);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child: the main thread, alone. */
        p.first = b, p.second = a;
        take_in_order(&p);
        _exit(report_count() == 1 && strstr(reports[0], "in thread \"parent\"") != NULL ? 0 : 1);
    }
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    CHECK_EQ_INT(report_count(), 0);
    teardown();
    CHECK_OK(rt_lock_free(a));
    CHECK_OK(rt_lock_free(b));
}

RT_CASES(RT_CASE(lock_order_inversion_is_reported_without_a_deadlock),
         RT_CASE(lock_order_each_pair_is_reported_once),
         RT_CASE(lock_order_inversion_through_a_chain),
         RT_CASE(lock_order_covers_rlocks_and_ignores_reentry),
         RT_CASE(lock_order_release_by_another_thread_is_understood),
         RT_CASE(lock_order_forgets_freed_locks),
         RT_CASE(lock_order_off_records_nothing),
         RT_CASE(lock_order_a_fork_child_keeps_the_orders))
