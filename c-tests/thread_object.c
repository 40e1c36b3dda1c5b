/* threading.Thread: thread objects, case by case (CPython's rules for the constructor, start,
 * join, names, daemon status and identity; docs/reference.md lists them). */
#define _GNU_SOURCE 1
#include "rt_test.h"

#include <pthread.h>
#include <unistd.h>

/* A gate: held by the test; a thread that passes it waits until the test opens it. */
static rt_lock *gate_new_closed(void) {
    rt_lock *g;
    CHECK_OK(rt_lock_new(&g));
    CHECK_OK(rt_lock_acquire(g, 1, RT_FOREVER));
    return g;
}

static void gate_pass(rt_lock *g) {
    if (rt_lock_acquire(g, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(g) != RT_OK) abort();
}

struct seen {
    void *arg;
    uint64_t ident;
    uint64_t native;
    int alive_inside;
    int ran;
    rt_lock *gate;
};

static void record(void *p) {
    struct seen *s = p;
    rt_thread *me = NULL;
    s->arg = p;
    s->ident = rt_get_ident();
    s->native = rt_get_native_id();
    if (rt_current_thread(&me) == RT_OK) {
        s->alive_inside = rt_thread_is_alive(me);
        rt_thread_release(me);
    }
    if (s->gate) gate_pass(s->gate);
    ATOMIC_STORE(&s->ran, 1);
}

static void thread_runs_its_function_with_its_arg(void) {
    struct seen s;
    rt_thread *t;
    memset(&s, 0, sizeof s);
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(s.ran);
    CHECK(s.arg == &s);
    CHECK(s.alive_inside);
    CHECK(s.ident != 0 && s.ident != rt_get_ident());
    CHECK(s.ident == rt_thread_ident(t));
    CHECK(s.native == rt_thread_native_id(t));
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_thread_release(t));
}

static void ident_and_native_id_are_zero_before_start_and_kept_after_the_end(void) {
    struct seen s;
    rt_thread *t;
    memset(&s, 0, sizeof s);
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_EQ_INT(rt_thread_ident(t), 0);
    CHECK_EQ_INT(rt_thread_native_id(t), 0);
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(rt_thread_ident(t) == s.ident);
    CHECK(rt_thread_native_id(t) == s.native);
    CHECK(rt_thread_native_id(t) != (uint64_t)getpid());
    CHECK_OK(rt_thread_release(t));
}

static void start_returns_once_the_thread_runs(void) {
    struct seen s;
    rt_thread *t;
    memset(&s, 0, sizeof s);
    s.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_OK(rt_thread_start(t));
    /* No waiting: start has returned, so the thread runs and its identity is set. */
    CHECK(rt_thread_is_alive(t));
    CHECK(rt_thread_ident(t) != 0);
    CHECK(rt_thread_native_id(t) != 0);
    CHECK_OK(rt_lock_release(s.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.gate));
}

static void starting_twice_is_an_error(void) {
    struct seen s;
    rt_thread *t;
    memset(&s, 0, sizeof s);
    s.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_ERR(rt_thread_start(t), RT_ESTATE, "threads can only be started once");
    CHECK_OK(rt_lock_release(s.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_ERR(rt_thread_start(t), RT_ESTATE, "threads can only be started once");
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.gate));
}

static void joining_before_start_is_an_error(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_ERR(rt_thread_join(t, RT_FOREVER), RT_ESTATE, "cannot join thread before it is started");
    /* The state is checked before the timeout, as CPython does. */
    CHECK_ERR(rt_thread_join(t, NAN), RT_ESTATE, "cannot join thread before it is started");
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
}

static void a_thread_without_function_runs_nothing(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(rt_thread_ident(t) != 0);
    CHECK_OK(rt_thread_release(t));
}

struct self_join {
    rt_status status;
    char message[128];
};

static void join_myself(void *p) {
    struct self_join *j = p;
    rt_thread *me;
    if (rt_current_thread(&me) != RT_OK) abort();
    j->status = rt_thread_join(me, RT_FOREVER);
    snprintf(j->message, sizeof j->message, "%s", rt_last_error());
    rt_thread_release(me);
}

static void joining_the_current_thread_is_edeadlk(void) {
    struct self_join j;
    rt_thread *t;
    memset(&j, 0, sizeof j);
    CHECK_OK(rt_thread_new(join_myself, &j, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(j.status, RT_EDEADLK);
    CHECK(strcmp(j.message, "cannot join current thread") == 0);
    CHECK_OK(rt_thread_release(t));
}

static void the_main_thread_joining_itself_is_edeadlk(void) {
    rt_thread *m, *c;
    CHECK_OK(rt_main_thread(&m));
    CHECK_ERR(rt_thread_join(m, RT_FOREVER), RT_EDEADLK, "cannot join current thread");
    CHECK_ERR(rt_thread_join(m, 0.0), RT_EDEADLK, "cannot join current thread");
    CHECK_OK(rt_current_thread(&c));
    CHECK(c == m);
    CHECK_ERR(rt_thread_join(c, RT_FOREVER), RT_EDEADLK, "cannot join current thread");
    CHECK_OK(rt_thread_release(c));
    CHECK_OK(rt_thread_release(m));
}

static void join_with_a_timeout_returns_timeout_while_alive(void) {
    struct seen s;
    rt_thread *t;
    double t0;
    memset(&s, 0, sizeof s);
    s.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_OK(rt_thread_start(t));
    t0 = rt_test_now();
    CHECK_STATUS(rt_thread_join(t, 0.0), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.0, 5.0);
    t0 = rt_test_now();
    CHECK_STATUS(rt_thread_join(t, 0.05), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.05, 5.0);
    CHECK(rt_thread_is_alive(t));
    CHECK_OK(rt_lock_release(s.gate));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK(!rt_thread_is_alive(t));
    /* A join of an ended thread returns at once, even with a zero timeout. */
    CHECK_OK(rt_thread_join(t, 0.0));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.gate));
}

static void join_timeout_is_validated_like_every_timeout(void) {
    struct seen s;
    rt_thread *t;
    memset(&s, 0, sizeof s);
    s.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_ERR(rt_thread_join(t, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_thread_join(t, -2.0), RT_EINVAL, "timeout value must be a non-negative number");
    CHECK_ERR(rt_thread_join(t, 1e100), RT_EOVERFLOW, "timestamp out of range for platform time_t");
    CHECK_ERR(rt_thread_join(t, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK(rt_thread_is_alive(t));
    CHECK_OK(rt_lock_release(s.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.gate));
}

#define JOINERS 8

struct joiner {
    rt_thread *target;
    rt_status status;
    int was_alive_after;
};

static void join_target(void *p) {
    struct joiner *j = p;
    j->status = rt_thread_join(j->target, RT_FOREVER);
    j->was_alive_after = rt_thread_is_alive(j->target);
}

static void many_threads_join_one_thread_at_once(void) {
    struct seen s;
    struct joiner j[JOINERS];
    rt_thread *t, *jt[JOINERS];
    int i;
    memset(&s, 0, sizeof s);
    s.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK_OK(rt_thread_start(t));
    for (i = 0; i < JOINERS; i++) {
        j[i].target = t;
        j[i].status = RT_EINVAL;
        j[i].was_alive_after = 1;
        CHECK_OK(rt_thread_new(join_target, &j[i], &jt[i]));
        CHECK_OK(rt_thread_start(jt[i]));
    }
    /* Let the joiners block, then let the target end. */
    CHECK_STATUS(rt_thread_join(jt[0], 0.05), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(s.gate));
    for (i = 0; i < JOINERS; i++) {
        CHECK_OK(rt_thread_join(jt[i], RT_FOREVER));
        CHECK_OK(j[i].status);
        CHECK(!j[i].was_alive_after);
        CHECK_OK(rt_thread_release(jt[i]));
    }
    /* And again, as often as one likes. */
    for (i = 0; i < 3; i++) CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.gate));
}

static void daemon_can_be_set_only_before_start(void) {
    struct seen s;
    rt_thread *t;
    memset(&s, 0, sizeof s);
    s.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(record, &s, &t));
    CHECK(!rt_thread_daemon(t));
    CHECK_OK(rt_thread_set_daemon(t, true));
    CHECK(rt_thread_daemon(t));
    CHECK_OK(rt_thread_set_daemon(t, false));
    CHECK(!rt_thread_daemon(t));
    CHECK_OK(rt_thread_set_daemon(t, true));
    CHECK_OK(rt_thread_start(t));
    CHECK_ERR(rt_thread_set_daemon(t, false), RT_ESTATE, "cannot set daemon status of active thread");
    CHECK(rt_thread_daemon(t));
    CHECK_OK(rt_lock_release(s.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_ERR(rt_thread_set_daemon(t, false), RT_ESTATE, "cannot set daemon status of active thread");
    CHECK(rt_thread_daemon(t));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.gate));
}

struct inherit {
    int daemon_of_child;
    int done;
};

static void make_a_child(void *p) {
    struct inherit *in = p;
    rt_thread *c;
    if (rt_thread_new(NULL, NULL, &c) != RT_OK) abort();
    in->daemon_of_child = rt_thread_daemon(c);
    rt_thread_release(c);
    ATOMIC_STORE(&in->done, 1);
}

static void *make_a_child_pthread(void *p) {
    make_a_child(p);
    return NULL;
}

static void daemon_is_inherited_from_the_creating_thread(void) {
    struct inherit in;
    rt_thread *t, *m;
    pthread_t pt;
    /* The main thread is not a daemon, so its children are not. */
    CHECK_OK(rt_main_thread(&m));
    CHECK(!rt_thread_daemon(m));
    CHECK_OK(rt_thread_release(m));
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK(!rt_thread_daemon(t));
    CHECK_OK(rt_thread_release(t));
    /* A non-daemon thread makes non-daemons. */
    memset(&in, 0, sizeof in);
    in.daemon_of_child = -1;
    CHECK_OK(rt_thread_new(make_a_child, &in, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(in.daemon_of_child, 0);
    /* A daemon makes daemons. */
    in.daemon_of_child = -1;
    CHECK_OK(rt_thread_new(make_a_child, &in, &t));
    CHECK_OK(rt_thread_set_daemon(t, true));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(in.daemon_of_child, 1);
    /* A thread rthread did not start counts as a daemon (its dummy is one), as in Python. */
    in.daemon_of_child = -1;
    CHECK(pthread_create(&pt, NULL, make_a_child_pthread, &in) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK_EQ_INT(in.daemon_of_child, 1);
    in.daemon_of_child = -1;
    in.done = 0;
    CHECK_OK(rt_start_new_thread(make_a_child, &in, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&in.done), 10.0);
    CHECK_EQ_INT(in.daemon_of_child, 1);
}

static long name_number(rt_thread *t, const char *prefix) {
    char buf[64];
    size_t n = strlen(prefix);
    CHECK_OK(rt_thread_name(t, buf, sizeof buf));
    CHECK(strncmp(buf, prefix, n) == 0);
    return strtol(buf + n, NULL, 10);
}

static void *dummy_name_number(void *p) {
    rt_thread *me;
    long *n = p;
    if (rt_current_thread(&me) != RT_OK) abort();
    *n = name_number(me, "Dummy-");
    rt_thread_release(me);
    return NULL;
}

static void default_names_count_from_one_shared_with_dummies(void) {
    rt_thread *a, *b, *timer;
    pthread_t pt;
    long dummy = 0;
    CHECK_OK(rt_thread_new(NULL, NULL, &a));
    /* The first thread object of the process. */
    CHECK_EQ_INT(name_number(a, "Thread-"), 1);
    CHECK_OK(rt_thread_new(NULL, NULL, &b));
    CHECK_EQ_INT(name_number(b, "Thread-"), 2);
    /* A foreign thread's dummy takes the next number of the same counter. */
    CHECK(pthread_create(&pt, NULL, dummy_name_number, &dummy) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK_EQ_INT(dummy, 3);
    CHECK_OK(rt_timer_new(1.0, NULL, NULL, &timer));
    CHECK_EQ_INT(name_number(timer, "Thread-"), 4);
    CHECK_OK(rt_thread_release(a));
    CHECK_OK(rt_thread_release(b));
    CHECK_OK(rt_thread_release(timer));
}

static void name_buffer_must_hold_the_whole_name(void) {
    rt_thread *t;
    char buf[32];
    size_t len = 0;
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_OK(rt_thread_set_name(t, "worker"));
    CHECK_OK(rt_thread_name_len(t, &len));
    CHECK_EQ_INT(len, 6);
    CHECK_OK(rt_thread_name(t, buf, 7)); /* exactly the name and its NUL */
    CHECK(strcmp(buf, "worker") == 0);
    memset(buf, 'x', sizeof buf);
    CHECK_ERR(rt_thread_name(t, buf, 6), RT_EINVAL, "buffer too small: the name needs 7 bytes");
    CHECK(buf[0] == 'x'); /* not written */
    CHECK_ERR(rt_thread_name(t, buf, 0), RT_EINVAL, "buffer too small: the name needs 7 bytes");
    CHECK_ERR(rt_thread_name(t, NULL, 7), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_thread_name_len(t, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_OK(rt_thread_release(t));
}

static void set_name_copies_any_utf8_name(void) {
    rt_thread *t;
    char buf[300];
    char long_name[257];
    const char bad[] = { 'a', (char)0xff, 'b', 0 };
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    memset(long_name, 'n', 256);
    long_name[256] = 0;
    CHECK_OK(rt_thread_set_name(t, long_name));
    long_name[0] = 'X'; /* the name was copied */
    CHECK_OK(rt_thread_name(t, buf, sizeof buf));
    CHECK_EQ_INT(strlen(buf), 256);
    CHECK(buf[0] == 'n');
    CHECK_OK(rt_thread_set_name(t, ""));
    CHECK_OK(rt_thread_name(t, buf, 1));
    CHECK(buf[0] == 0);
    CHECK_OK(rt_thread_set_name(t, "\xce\xb1\xce\xb2")); /* "αβ" */
    CHECK_OK(rt_thread_name(t, buf, sizeof buf));
    CHECK(strcmp(buf, "\xce\xb1\xce\xb2") == 0);
    CHECK_ERR(rt_thread_set_name(t, NULL), RT_EINVAL, "NULL name");
    CHECK_ERR(rt_thread_set_name(t, bad), RT_EINVAL, "name must be UTF-8");
    CHECK_OK(rt_thread_name(t, buf, sizeof buf));
    CHECK(strcmp(buf, "\xce\xb1\xce\xb2") == 0); /* unchanged by the failures */
    CHECK_OK(rt_thread_release(t));
}

struct os_name {
    char at_start[32];
    char after_rename[32];
    rt_lock *gate;
    int started;
};

static void read_os_name(void *p) {
    struct os_name *o = p;
    pthread_getname_np(pthread_self(), o->at_start, sizeof o->at_start);
    ATOMIC_STORE(&o->started, 1);
    gate_pass(o->gate);
    pthread_getname_np(pthread_self(), o->after_rename, sizeof o->after_rename);
}

static void the_os_sees_the_name_at_start_and_after_a_rename(void) {
    struct os_name o;
    rt_thread *t;
    char from_outside[32];
    memset(&o, 0, sizeof o);
    o.gate = gate_new_closed();
    CHECK_OK(rt_thread_new(read_os_name, &o, &t));
    /* 19 bytes: "name-" and seven two-byte letters. 15 bytes would cut the 6th letter in half,
     * so the OS gets "name-" and five letters (15 -> 14 bytes). */
    CHECK_OK(rt_thread_set_name(t, "name-\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5\xce\xb6\xce\xb7"));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&o.started), 10.0);
    CHECK(strcmp(o.at_start, "name-\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5") == 0);
    /* A rename of the running thread, from another thread, reaches the OS. */
    CHECK_OK(rt_thread_set_name(t, "renamed-while-running"));
    CHECK(pthread_getname_np((pthread_t)rt_thread_ident(t), from_outside, sizeof from_outside) == 0);
    CHECK(strcmp(from_outside, "renamed-while-r") == 0);
    CHECK_OK(rt_lock_release(o.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(strcmp(o.after_rename, "renamed-while-r") == 0);
    /* After the end, a rename only changes the object. */
    CHECK_OK(rt_thread_set_name(t, "after"));
    CHECK_OK(rt_thread_name(t, from_outside, sizeof from_outside));
    CHECK(strcmp(from_outside, "after") == 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(o.gate));
}

static void default_names_reach_the_os(void) {
    struct os_name o;
    rt_thread *t;
    char name[32];
    memset(&o, 0, sizeof o);
    o.gate = gate_new_closed();
    CHECK_OK(rt_lock_release(o.gate));
    CHECK_OK(rt_thread_new(read_os_name, &o, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_name(t, name, sizeof name));
    CHECK(strncmp(name, "Thread-", 7) == 0);
    CHECK(strcmp(o.at_start, name) == 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(o.gate));
}

struct orphan {
    rt_lock *gate;
    int done;
};

static void run_after_release(void *p) {
    struct orphan *o = p;
    gate_pass(o->gate);
    ATOMIC_STORE(&o->done, 1);
}

static void releasing_the_last_reference_does_not_stop_the_thread(void) {
    struct orphan o;
    rt_thread *t;
    size_t base = rt_thread_count();
    o.gate = gate_new_closed();
    o.done = 0;
    CHECK_OK(rt_thread_new(run_after_release, &o, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_release(t)); /* the running thread still holds its own */
    CHECK_EQ_INT(rt_thread_count(), base + 1);
    CHECK_OK(rt_lock_release(o.gate));
    WAIT_UNTIL(ATOMIC_LOAD(&o.done), 10.0);
    WAIT_UNTIL(rt_thread_count() == base, 10.0);
    CHECK_OK(rt_lock_free(o.gate));
}

static void retain_adds_a_reference(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_OK(rt_thread_retain(t));
    CHECK_OK(rt_thread_release(t));
    /* Still alive through the second reference. */
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
}

static int after_exit_ran;

static void exit_deep(int depth) {
    if (depth == 0) {
        rt_exit_thread();
        after_exit_ran = 1;
        return;
    }
    exit_deep(depth - 1);
    after_exit_ran = 1;
}

static void exits_early(void *p) {
    (void)p;
    exit_deep(4);
    after_exit_ran = 1;
}

static void exit_thread_ends_a_thread_object_like_a_return(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(exits_early, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(!rt_thread_is_alive(t));
    CHECK_EQ_INT(after_exit_ran, 0);
    CHECK_OK(rt_thread_release(t));
}

static void a_failed_start_leaves_no_trace(void) {
    rt_thread *t;
    size_t count = rt_active_count();
    size_t threads = rt_thread_count();
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    /* No system can map a stack this large (bpo-7481: no registry entry may stay behind). */
    CHECK_OK(rt_stack_size_set((size_t)1 << 62, NULL));
    CHECK_STATUS(rt_thread_start(t), RT_EAGAIN);
    CHECK(strncmp(rt_last_error(), "can't start new thread: ", 24) == 0);
    CHECK_EQ_INT(rt_active_count(), count);
    CHECK_EQ_INT(rt_thread_count(), threads);
    CHECK(!rt_thread_is_alive(t));
    CHECK_EQ_INT(rt_thread_ident(t), 0);
    CHECK_ERR(rt_thread_join(t, RT_FOREVER), RT_ESTATE, "cannot join thread before it is started");
    CHECK_OK(rt_thread_set_daemon(t, true)); /* still unstarted */
    /* As in Python, it can be started again once the system allows it. */
    CHECK_OK(rt_stack_size_set(0, NULL));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(rt_active_count(), count);
}

#define STARTERS 4
#define PER_STARTER 250

static int ran_count;

static void count_once(void *p) {
    (void)p;
    ATOMIC_ADD(&ran_count, 1);
}

static void start_and_join_many(void *p) {
    int i;
    int *failures = p;
    for (i = 0; i < PER_STARTER; i++) {
        rt_thread *t;
        if (rt_thread_new(count_once, NULL, &t) != RT_OK) {
            ATOMIC_ADD(failures, 1);
            continue;
        }
        if (rt_thread_start(t) != RT_OK || rt_thread_join(t, RT_FOREVER) != RT_OK ||
            rt_thread_is_alive(t))
            ATOMIC_ADD(failures, 1);
        rt_thread_release(t);
    }
}

static void a_thousand_threads_started_and_joined_from_four_threads(void) {
    rt_thread *s[STARTERS];
    int failures = 0, i;
    size_t base = rt_active_count();
    for (i = 0; i < STARTERS; i++) {
        CHECK_OK(rt_thread_new(start_and_join_many, &failures, &s[i]));
        CHECK_OK(rt_thread_start(s[i]));
    }
    for (i = 0; i < STARTERS; i++) {
        CHECK_OK(rt_thread_join(s[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(s[i]));
    }
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(ran_count, STARTERS * PER_STARTER);
    CHECK_EQ_INT(rt_active_count(), base);
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
}

struct racer {
    rt_thread *target;
    int timeouts;
    int oks;
    int bad;
};

static void join_in_small_steps(void *p) {
    struct racer *r = p;
    for (;;) {
        rt_status s = rt_thread_join(r->target, 0.0005);
        if (s == RT_OK) {
            r->oks++;
            if (rt_thread_is_alive(r->target)) r->bad++;
            return;
        }
        if (s != RT_TIMEOUT) {
            r->bad++;
            return;
        }
        r->timeouts++;
    }
}

static void short_life(void *p) {
    int i, n = (int)(intptr_t)p;
    volatile unsigned sink = 0;
    for (i = 0; i < n; i++) sink += (unsigned)i;
}

static void joins_with_timeouts_race_the_thread_exit(void) {
    int round, i;
    for (round = 0; round < 100; round++) {
        rt_thread *t, *j[3];
        struct racer r[3];
        CHECK_OK(rt_thread_new(short_life, (void *)(intptr_t)(round * 1000), &t));
        memset(r, 0, sizeof r);
        for (i = 0; i < 3; i++) {
            r[i].target = t;
            CHECK_OK(rt_thread_new(join_in_small_steps, &r[i], &j[i]));
        }
        CHECK_OK(rt_thread_start(t));
        for (i = 0; i < 3; i++) CHECK_OK(rt_thread_start(j[i]));
        for (i = 0; i < 3; i++) {
            CHECK_OK(rt_thread_join(j[i], RT_FOREVER));
            CHECK_EQ_INT(r[i].oks, 1);
            CHECK_EQ_INT(r[i].bad, 0);
            CHECK_OK(rt_thread_release(j[i]));
        }
        CHECK(!rt_thread_is_alive(t));
        CHECK_OK(rt_thread_release(t));
    }
}

/* Every function, with NULL and with a handle of another kind. */
static void null_and_wrong_kind_handles_are_einval(void) {
    rt_lock *lock;
    rt_thread *wrong;
    rt_thread *out = NULL;
    char buf[16];
    size_t n;
    CHECK_OK(rt_lock_new(&lock));
    wrong = (rt_thread *)(void *)lock;

    CHECK_ERR(rt_thread_start(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_start(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_thread_join(NULL, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_join(wrong, RT_FOREVER), RT_EINVAL, "handle of the wrong kind");
    CHECK(!rt_thread_is_alive(NULL));
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    CHECK(!rt_thread_is_alive(wrong));
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK_ERR(rt_thread_name(NULL, buf, sizeof buf), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_name(wrong, buf, sizeof buf), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_thread_name_len(NULL, &n), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_name_len(wrong, &n), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_thread_set_name(NULL, "x"), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_set_name(wrong, "x"), RT_EINVAL, "handle of the wrong kind");
    CHECK(!rt_thread_daemon(NULL));
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    CHECK(!rt_thread_daemon(wrong));
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK_ERR(rt_thread_set_daemon(NULL, true), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_set_daemon(wrong, true), RT_EINVAL, "handle of the wrong kind");
    CHECK_EQ_INT(rt_thread_ident(NULL), 0);
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    CHECK_EQ_INT(rt_thread_ident(wrong), 0);
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK_EQ_INT(rt_thread_native_id(NULL), 0);
    CHECK(strcmp(rt_last_error(), "NULL handle") == 0);
    CHECK_EQ_INT(rt_thread_native_id(wrong), 0);
    CHECK(strcmp(rt_last_error(), "handle of the wrong kind") == 0);
    CHECK_ERR(rt_thread_retain(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_thread_retain(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_OK(rt_thread_release(NULL));
    CHECK_ERR(rt_thread_release(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_ERR(rt_timer_cancel(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_timer_cancel(wrong), RT_EINVAL, "handle of the wrong kind");

    CHECK_ERR(rt_thread_new(NULL, NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_timer_new(1.0, NULL, NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_current_thread(NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_main_thread(NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_enumerate(NULL, 0, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_enumerate(NULL, 4, &n), RT_EINVAL, "NULL output pointer");
    CHECK(out == NULL);

    /* The lock is untouched by all this. */
    CHECK(!rt_lock_locked(lock));
    CHECK_OK(rt_lock_free(lock));
}

RT_CASES(
    RT_CASE(thread_runs_its_function_with_its_arg),
    RT_CASE(ident_and_native_id_are_zero_before_start_and_kept_after_the_end),
    RT_CASE(start_returns_once_the_thread_runs),
    RT_CASE(starting_twice_is_an_error),
    RT_CASE(joining_before_start_is_an_error),
    RT_CASE(a_thread_without_function_runs_nothing),
    RT_CASE(joining_the_current_thread_is_edeadlk),
    RT_CASE(the_main_thread_joining_itself_is_edeadlk),
    RT_CASE(join_with_a_timeout_returns_timeout_while_alive),
    RT_CASE(join_timeout_is_validated_like_every_timeout),
    RT_CASE(many_threads_join_one_thread_at_once),
    RT_CASE(daemon_can_be_set_only_before_start),
    RT_CASE(daemon_is_inherited_from_the_creating_thread),
    RT_CASE(default_names_count_from_one_shared_with_dummies),
    RT_CASE(name_buffer_must_hold_the_whole_name),
    RT_CASE(set_name_copies_any_utf8_name),
    RT_CASE(the_os_sees_the_name_at_start_and_after_a_rename),
    RT_CASE(default_names_reach_the_os),
    RT_CASE(releasing_the_last_reference_does_not_stop_the_thread),
    RT_CASE(retain_adds_a_reference),
    RT_CASE(exit_thread_ends_a_thread_object_like_a_return),
    RT_CASE(a_failed_start_leaves_no_trace),
    RT_CASE(a_thousand_threads_started_and_joined_from_four_threads),
    RT_CASE(joins_with_timeouts_race_the_thread_exit),
    RT_CASE(null_and_wrong_kind_handles_are_einval)
)
