/* Exit and shutdown (TH12): at exit the process waits for every non-daemon thread object, as
 * Python does; daemon threads end with the process; rt_shutdown does the same wait explicitly.
 *
 * The exit cases run their scenario in a child process (fork) that ends with exit(), and the
 * test reads what its threads wrote to a pipe. */
#include "rt_test.h"

#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int out_fd = -1;

static void say(const char *s) {
    size_t n = strlen(s);
    if (write(out_fd, s, n) != (ssize_t)n) abort();
}

struct child_result {
    int exit_status;
    char out[512];
    double secs;
};

/* The child's output is exactly `want`. */
#define CHECK_OUTPUT(r, want)                                                            \
    do {                                                                                 \
        if (strcmp((r).out, (want)) != 0)                                                \
            rt_test_fail(__FILE__, __LINE__, "child wrote \"%s\", expected \"%s\"",      \
                         (r).out, (want));                                               \
    } while (0)

/* Runs `scenario` in a child whose output pipe is out_fd; the scenario ends the child. */
static void run_child(void (*scenario)(void), struct child_result *r) {
    int fds[2], status = 0;
    size_t len = 0;
    double t0 = rt_test_now();
    pid_t pid;
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        out_fd = fds[1];
        scenario();
        _exit(111); /* the scenario should not return */
    }
    close(fds[1]);
    for (;;) {
        ssize_t n = read(fds[0], r->out + len, sizeof r->out - 1 - len);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    r->out[len] = 0;
    close(fds[0]);
    CHECK(waitpid(pid, &status, 0) == pid);
    r->secs = rt_test_now() - t0;
    CHECK(WIFEXITED(status));
    r->exit_status = WEXITSTATUS(status);
}

/* Child-side signals: `go` is held by the scenario until it lets workers go on; `ready` is held
 * until a worker says it has started. */
static rt_lock *go, *ready;

static void make_signals(void) {
    if (rt_lock_new(&go) != RT_OK || rt_lock_new(&ready) != RT_OK) abort();
    if (rt_lock_acquire(go, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_acquire(ready, 1, RT_FOREVER) != RT_OK) abort();
}

static void wait_for(rt_lock *signal) {
    if (rt_lock_acquire(signal, 1, RT_FOREVER) != RT_OK) abort();
    rt_lock_release(signal);
}

/* Waits for `go` (if made), sleeps 0.1 s, then says its text. */
static void sleep_then_say_done(void *p) {
    if (go) wait_for(go);
    rt_test_sleep(0.1);
    say(p);
}

static void scenario_exit_with_a_running_thread(void) {
    rt_thread *t;
    make_signals();
    if (rt_thread_new(sleep_then_say_done, "worker done\n", &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    rt_thread_release(t);
    say("main exits\n");
    rt_lock_release(go);
    exit(0);
}

static void exit_waits_for_a_non_daemon_thread(void) {
    struct child_result r;
    run_child(scenario_exit_with_a_running_thread, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "main exits\nworker done\n");
    CHECK(r.secs >= 0.1);
}

static rt_lock *never;

/* Says its text, tells `ready`, and blocks for good. */
static void block_forever(void *p) {
    say(p);
    rt_lock_release(ready);
    if (rt_lock_acquire(never, 1, RT_FOREVER) != RT_OK) abort();
    say("daemon woke up\n");
}

static void make_never(void) {
    make_signals();
    if (rt_lock_new(&never) != RT_OK) abort();
    if (rt_lock_acquire(never, 1, RT_FOREVER) != RT_OK) abort();
}

static void scenario_exit_with_a_daemon_thread(void) {
    rt_thread *t;
    make_never();
    if (rt_thread_new(block_forever, "daemon started\n", &t) != RT_OK) abort();
    if (rt_thread_set_daemon(t, true) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    wait_for(ready);
    say("main exits\n");
    exit(0);
}

static void exit_abandons_daemon_threads(void) {
    struct child_result r;
    run_child(scenario_exit_with_a_daemon_thread, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "daemon started\nmain exits\n");
    CHECK(r.secs < 30.0);
}

/* Starts a second thread, which waits until this one has spoken. */
static void start_another_then_say(void *p) {
    rt_thread *t;
    (void)p;
    rt_test_sleep(0.05);
    if (rt_thread_new(sleep_then_say_done, "second done\n", &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    rt_thread_release(t);
    say("first done\n");
    rt_lock_release(go);
}

static void scenario_threads_start_threads_during_the_wait(void) {
    rt_thread *t;
    make_signals();
    if (rt_thread_new(start_another_then_say, NULL, &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    rt_thread_release(t);
    exit(0);
}

static void exit_waits_for_threads_that_appear_during_the_wait(void) {
    struct child_result r;
    run_child(scenario_threads_start_threads_during_the_wait, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "first done\nsecond done\n");
    CHECK(r.secs >= 0.15);
}

static void exit_from_here(void *p) {
    (void)p;
    rt_test_sleep(0.02);
    exit(3);
}

static void scenario_exit_from_a_thread_object(void) {
    rt_thread *t;
    make_never();
    if (rt_thread_new(exit_from_here, NULL, &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    /* Main blocks for good; the thread ends the process and does not wait for itself. */
    rt_lock_acquire(never, 1, RT_FOREVER);
    _exit(112);
}

static void a_thread_calling_exit_does_not_wait_for_itself(void) {
    struct child_result r;
    run_child(scenario_exit_from_a_thread_object, &r);
    CHECK_EQ_INT(r.exit_status, 3);
    CHECK(r.secs < 30.0);
}

struct join_then_say {
    rt_thread *target;
    const char *text;
};

static void join_target_then_say(void *p) {
    struct join_then_say *j = p;
    if (rt_thread_join(j->target, RT_FOREVER) == RT_OK) say(j->text);
}

static struct join_then_say joiner_of_main;

static void scenario_a_thread_joins_main_which_exits(void) {
    rt_thread *t;
    if (rt_main_thread(&joiner_of_main.target) != RT_OK) abort();
    joiner_of_main.text = "main joined\n";
    if (rt_thread_new(join_target_then_say, &joiner_of_main, &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    say("main exits\n");
    exit(0);
}

static void exit_lets_threads_joining_the_exiting_thread_go_on(void) {
    struct child_result r;
    /* As Python 3.13 marks the main thread done first in _shutdown: a non-daemon thread that
     * joins the main thread finishes, instead of both waiting for each other forever. */
    run_child(scenario_a_thread_joins_main_which_exits, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "main exits\nmain joined\n");
}

static struct join_then_say joiner_of_exiter;

static void exit_after_a_while(void *p) {
    (void)p;
    rt_test_sleep(0.05);
    say("exiting\n");
    exit(4);
}

static void scenario_a_thread_joins_a_thread_that_exits(void) {
    rt_thread *t, *j;
    make_never();
    if (rt_thread_new(exit_after_a_while, NULL, &t) != RT_OK) abort();
    joiner_of_exiter.target = t;
    joiner_of_exiter.text = "exiter joined\n";
    if (rt_thread_new(join_target_then_say, &joiner_of_exiter, &j) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    if (rt_thread_start(j) != RT_OK) abort();
    rt_lock_acquire(never, 1, RT_FOREVER);
    _exit(112);
}

static void exit_from_a_thread_lets_its_joiners_go_on(void) {
    struct child_result r;
    run_child(scenario_a_thread_joins_a_thread_that_exits, &r);
    CHECK_EQ_INT(r.exit_status, 4);
    CHECK_OUTPUT(r, "exiting\nexiter joined\n");
}

static void scenario_exit_wait_turned_off(void) {
    rt_thread *t;
    make_never();
    if (!rt_set_exit_wait(false)) abort(); /* it was on */
    if (rt_set_exit_wait(false)) abort();
    if (rt_thread_new(block_forever, "worker started\n", &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    wait_for(ready);
    say("main exits\n");
    exit(5);
}

static void exit_wait_can_be_turned_off(void) {
    struct child_result r;
    run_child(scenario_exit_wait_turned_off, &r);
    CHECK_EQ_INT(r.exit_status, 5);
    CHECK_OUTPUT(r, "worker started\nmain exits\n");
}

static void scenario_underscore_exit(void) {
    rt_thread *t;
    make_never();
    if (rt_thread_new(block_forever, "worker started\n", &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    wait_for(ready);
    _exit(6);
}

static void underscore_exit_skips_the_wait(void) {
    struct child_result r;
    run_child(scenario_underscore_exit, &r);
    CHECK_EQ_INT(r.exit_status, 6);
    CHECK_OUTPUT(r, "worker started\n");
}

static rt_local *main_local;

static void say_destroyed(void *v) {
    say(v);
}

static void scenario_main_thread_local_at_exit(void) {
    if (rt_local_new(say_destroyed, &main_local) != RT_OK) abort();
    if (rt_local_set(main_local, "main's value destroyed\n") != RT_OK) abort();
    exit(0);
}

static void exit_destroys_the_main_threads_local_values(void) {
    struct child_result r;
    run_child(scenario_main_thread_local_at_exit, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "main's value destroyed\n");
}

/* Threads use the registry and the other internal locks as hard as they can while the main
 * thread exits: the wait at exit must neither deadlock nor stop them early. */
static int stop_hammering;

static void hammer(void *p) {
    int rounds = (int)(intptr_t)p, i;
    for (i = 0; rounds == 0 || i < rounds; i++) {
        rt_thread *t, *buf[16], *me;
        size_t n, k;
        if (rt_thread_new(NULL, NULL, &t) != RT_OK) abort();
        if (rt_thread_start(t) != RT_OK) abort();
        if (rt_thread_join(t, RT_FOREVER) != RT_OK) abort();
        if (rt_thread_set_name(t, "hammered") != RT_OK) abort();
        rt_thread_release(t);
        if (rt_enumerate(buf, 16, &n) != RT_OK) abort();
        for (k = 0; k < n && k < 16; k++) rt_thread_release(buf[k]);
        if (rt_current_thread(&me) != RT_OK) abort();
        rt_thread_set_name(me, "hammer");
        rt_thread_release(me);
        (void)rt_active_count();
        if (ATOMIC_LOAD(&stop_hammering)) break;
    }
    if (rounds != 0) say("hammer done\n");
}

static void scenario_exit_while_threads_use_the_registry(void) {
    int i;
    for (i = 0; i < 4; i++) {
        rt_thread *t;
        /* Two daemons hammer forever; two non-daemons for a while. */
        if (rt_thread_new(hammer, (void *)(intptr_t)(i < 2 ? 0 : 200), &t) != RT_OK) abort();
        if (i < 2 && rt_thread_set_daemon(t, true) != RT_OK) abort();
        if (rt_thread_start(t) != RT_OK) abort();
        rt_thread_release(t);
    }
    rt_test_sleep(0.01);
    exit(0);
}

static void exit_while_threads_use_the_registry_neither_hangs_nor_cuts_them_short(void) {
    struct child_result r;
    run_child(scenario_exit_while_threads_use_the_registry, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "hammer done\nhammer done\n");
}

/* A fork child does not wait for the threads that stayed in the parent. */

static rt_lock *parent_gate;

static void wait_at_parent_gate(void *p) {
    (void)p;
    if (rt_lock_acquire(parent_gate, 1, RT_FOREVER) != RT_OK) abort();
    rt_lock_release(parent_gate);
}

static void scenario_fork_child(void) {
    rt_thread *buf[8], *t;
    size_t n = 0, i;
    if (rt_enumerate(buf, 8, &n) != RT_OK) _exit(20);
    for (i = 0; i < n && i < 8; i++) rt_thread_release(buf[i]);
    if (n != 1) _exit(21); /* the main thread alone */
    if (rt_thread_new(sleep_then_say_done, "child's thread done\n", &t) != RT_OK) _exit(22);
    if (rt_thread_start(t) != RT_OK) _exit(23);
    rt_thread_release(t);
    exit(0);
}

static void a_fork_child_waits_only_for_its_own_threads(void) {
    struct child_result r;
    rt_thread *t;
    CHECK_OK(rt_lock_new(&parent_gate));
    CHECK_OK(rt_lock_acquire(parent_gate, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(wait_at_parent_gate, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_EQ_INT(rt_active_count(), 2);
    run_child(scenario_fork_child, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "child's thread done\n");
    CHECK(r.secs < 30.0);
    CHECK(rt_thread_is_alive(t));
    CHECK_OK(rt_lock_release(parent_gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(parent_gate));
}

/* rt_shutdown, in this process. */

static rt_lock *gate;

static void wait_at_gate(void *p) {
    (void)p;
    if (rt_lock_acquire(gate, 1, RT_FOREVER) != RT_OK) abort();
    rt_lock_release(gate);
}

static int gate_opened;

static void open_gate(void *p) {
    (void)p;
    ATOMIC_STORE(&gate_opened, 1);
    rt_lock_release(gate);
}

static void shutdown_waits_for_non_daemon_threads(void) {
    rt_thread *t[3], *opener;
    int i;
    CHECK_OK(rt_lock_new(&gate));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    for (i = 0; i < 3; i++) {
        CHECK_OK(rt_thread_new(wait_at_gate, NULL, &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    /* A daemon timer opens the gate later; rt_shutdown does not wait for the timer itself. */
    CHECK_OK(rt_timer_new(0.05, open_gate, NULL, &opener));
    CHECK_OK(rt_thread_set_daemon(opener, true));
    CHECK_OK(rt_thread_start(opener));
    CHECK_OK(rt_shutdown(RT_FOREVER));
    CHECK(ATOMIC_LOAD(&gate_opened));
    for (i = 0; i < 3; i++) {
        CHECK(!rt_thread_is_alive(t[i]));
        CHECK_OK(rt_thread_release(t[i]));
    }
    CHECK_OK(rt_thread_join(opener, RT_FOREVER));
    CHECK_OK(rt_thread_release(opener));
    CHECK_EQ_INT(rt_active_count(), 1);
    CHECK_OK(rt_lock_free(gate));
}

static void shutdown_times_out_while_a_thread_runs(void) {
    rt_thread *t;
    double t0;
    CHECK_OK(rt_lock_new(&gate));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(wait_at_gate, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    t0 = rt_test_now();
    CHECK_STATUS(rt_shutdown(0.05), RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.05, 5.0);
    CHECK_STATUS(rt_shutdown(0.0), RT_TIMEOUT);
    CHECK(rt_thread_is_alive(t));
    CHECK_OK(rt_lock_release(gate));
    CHECK_OK(rt_shutdown(RT_FOREVER));
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(gate));
}

static void shutdown_ignores_daemons_foreign_threads_and_the_caller(void) {
    rt_thread *d;
    CHECK_OK(rt_lock_new(&gate));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(wait_at_gate, NULL, &d));
    CHECK_OK(rt_thread_set_daemon(d, true));
    CHECK_OK(rt_thread_start(d));
    CHECK_OK(rt_start_new_thread(wait_at_gate, NULL, NULL));
    CHECK_OK(rt_shutdown(RT_FOREVER)); /* returns at once */
    CHECK(rt_thread_is_alive(d));
    CHECK_OK(rt_lock_release(gate));
    CHECK_OK(rt_thread_join(d, RT_FOREVER));
    CHECK_OK(rt_thread_release(d));
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    CHECK_OK(rt_lock_free(gate));
}

struct in_shutdown {
    rt_status status;
};

static void call_shutdown(void *p) {
    struct in_shutdown *s = p;
    s->status = rt_shutdown(RT_FOREVER);
}

static void two_threads_in_shutdown_do_not_wait_for_each_other(void) {
    struct in_shutdown s[2];
    rt_thread *t[2];
    int i;
    for (i = 0; i < 2; i++) {
        s[i].status = RT_EINVAL;
        CHECK_OK(rt_thread_new(call_shutdown, &s[i], &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    for (i = 0; i < 2; i++) {
        CHECK_OK(rt_thread_join(t[i], 10.0));
        CHECK_OK(s[i].status);
        CHECK_OK(rt_thread_release(t[i]));
    }
    /* And the main thread waits for a thread that waits in rt_shutdown itself. */
    CHECK_OK(rt_thread_new(call_shutdown, &s[0], &t[0]));
    CHECK_OK(rt_thread_start(t[0]));
    CHECK_OK(rt_shutdown(10.0));
    CHECK(!rt_thread_is_alive(t[0]));
    CHECK_OK(rt_thread_release(t[0]));
}

static void shutdown_validates_its_timeout(void) {
    CHECK_ERR(rt_shutdown(NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_shutdown(-3.0), RT_EINVAL, "timeout value must be a non-negative number");
    CHECK_ERR(rt_shutdown(1e100), RT_EOVERFLOW, "timestamp out of range for platform time_t");
    CHECK_OK(rt_shutdown(0.0));
}

/* rt_shutdown in the main thread marks it done first, as CPython's _shutdown does: a thread that
 * joins the main thread is released, instead of both waiting for each other. */
static rt_thread *main_obj;
static rt_status main_joiner_status = RT_EINVAL;

static void join_main_thread(void *p) {
    (void)p;
    main_joiner_status = rt_thread_join(main_obj, RT_FOREVER);
}

static void shutdown_in_the_main_thread_releases_its_joiners(void) {
    rt_thread *j;
    double t0;
    CHECK_OK(rt_main_thread(&main_obj));
    CHECK_OK(rt_thread_new(join_main_thread, NULL, &j));
    CHECK_OK(rt_thread_start(j));
    t0 = rt_test_now();
    CHECK_OK(rt_shutdown(2.0));
    CHECK_ELAPSED(t0, 0.0, 1.9);
    CHECK_OK(main_joiner_status);
    CHECK(!rt_thread_is_alive(j));
    /* Done, but still listed, as CPython keeps it in _active. */
    CHECK(!rt_thread_is_alive(main_obj));
    CHECK_EQ_INT(rt_active_count(), 1);
    CHECK_OK(rt_thread_release(j));
    CHECK_OK(rt_thread_release(main_obj));
}

/* The same in a fork child, which then exits: neither the shutdown nor the exit hangs. */
static void scenario_shutdown_then_exit_with_a_joiner_of_main(void) {
    rt_thread *t;
    rt_status s;
    if (rt_main_thread(&joiner_of_main.target) != RT_OK) abort();
    joiner_of_main.text = "main joined\n";
    if (rt_thread_new(join_target_then_say, &joiner_of_main, &t) != RT_OK) abort();
    if (rt_thread_start(t) != RT_OK) abort();
    s = rt_shutdown(2.0);
    say(s == RT_OK ? "shutdown ok\n" : "shutdown failed\n");
    exit(0);
}

static void shutdown_in_a_fork_child_then_exit_releases_joiners_of_main(void) {
    struct child_result r;
    run_child(scenario_shutdown_then_exit_with_a_joiner_of_main, &r);
    CHECK_EQ_INT(r.exit_status, 0);
    CHECK_OUTPUT(r, "main joined\nshutdown ok\n");
    CHECK(r.secs < 2.0);
}

RT_CASES(
    RT_CASE(exit_waits_for_a_non_daemon_thread),
    RT_CASE(exit_abandons_daemon_threads),
    RT_CASE(exit_waits_for_threads_that_appear_during_the_wait),
    RT_CASE(a_thread_calling_exit_does_not_wait_for_itself),
    RT_CASE(exit_lets_threads_joining_the_exiting_thread_go_on),
    RT_CASE(exit_from_a_thread_lets_its_joiners_go_on),
    RT_CASE(exit_wait_can_be_turned_off),
    RT_CASE(underscore_exit_skips_the_wait),
    RT_CASE(exit_destroys_the_main_threads_local_values),
    RT_CASE(exit_while_threads_use_the_registry_neither_hangs_nor_cuts_them_short),
    RT_CASE(a_fork_child_waits_only_for_its_own_threads),
    RT_CASE(shutdown_waits_for_non_daemon_threads),
    RT_CASE(shutdown_times_out_while_a_thread_runs),
    RT_CASE(shutdown_ignores_daemons_foreign_threads_and_the_caller),
    RT_CASE(two_threads_in_shutdown_do_not_wait_for_each_other),
    RT_CASE(shutdown_validates_its_timeout),
    RT_CASE(shutdown_in_the_main_thread_releases_its_joiners),
    RT_CASE(shutdown_in_a_fork_child_then_exit_releases_joiners_of_main)
)
