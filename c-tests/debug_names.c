/*
 * Object names (rt_object_set_name, rt_object_name) on every kind of handle, the debug flags
 * (rt_set_debug, rt_get_debug) and RTHREAD_DEBUG read at load.
 */
#include "rt_test.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void check_name(const void *h, const char *want) {
    char buf[128];
    memset(buf, 'x', sizeof buf);
    CHECK_OK(rt_object_name(h, buf, sizeof buf));
    if (strcmp(buf, want) != 0)
        rt_test_fail(__FILE__, __LINE__, "name \"%s\", expected \"%s\"", buf, want);
}

/* Set, get, rename, remove, on one handle. */
static void round_trip(void *h, const char *name) {
    char renamed[64];
    check_name(h, "");
    CHECK_OK(rt_object_set_name(h, name));
    check_name(h, name);
    snprintf(renamed, sizeof renamed, "%s-2", name);
    CHECK_OK(rt_object_set_name(h, renamed));
    check_name(h, renamed);
    CHECK_OK(rt_object_set_name(h, name));
    check_name(h, name);
}

static void names_on_every_kind(void) {
    rt_lock *l;
    rt_rlock *rl;
    rt_condition *c;
    rt_semaphore *s;
    rt_event *e;
    rt_barrier *b;
    rt_local *lo;
    rt_queue *q;
    rt_future *fu;
    rt_executor *ex;
    rt_as_completed *ac;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_semaphore_new(1, &s));
    CHECK_OK(rt_event_new(&e));
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    CHECK_OK(rt_local_new(NULL, &lo));
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_OK(rt_future_new(NULL, &fu));
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_as_completed_new(NULL, 0, RT_FOREVER, &ac));
    round_trip(l, "a lock");
    round_trip(rl, "an rlock");
    round_trip(c, "a condition");
    round_trip(s, "a semaphore");
    round_trip(e, "an event");
    round_trip(b, "a barrier");
    round_trip(lo, "a local");
    round_trip(q, "a queue");
    round_trip(fu, "a future");
    round_trip(ex, "an executor");
    round_trip(ac, "an as_completed");
    /* Names are per object. */
    check_name(l, "a lock");
    check_name(q, "a queue");
    /* An empty name removes it. */
    CHECK_OK(rt_object_set_name(l, ""));
    check_name(l, "");
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_rlock_free(rl));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_semaphore_free(s));
    CHECK_OK(rt_event_free(e));
    CHECK_OK(rt_barrier_free(b));
    CHECK_OK(rt_local_free(lo));
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_future_release(fu));
    CHECK_OK(rt_executor_free(ex));
    CHECK_OK(rt_as_completed_free(ac));
}

/* A thread's name is its own: rt_object_set_name renames it, rt_thread_name agrees. */
static void thread_names_are_the_threads_own(void) {
    rt_thread *t;
    char buf[64];
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_OK(rt_thread_name(t, buf, sizeof buf));
    check_name(t, buf);
    CHECK_OK(rt_object_set_name(t, "worker-7"));
    CHECK_OK(rt_thread_name(t, buf, sizeof buf));
    CHECK(strcmp(buf, "worker-7") == 0);
    check_name(t, "worker-7");
    CHECK_OK(rt_thread_set_name(t, "renamed"));
    check_name(t, "renamed");
    CHECK_OK(rt_thread_release(t));
}

/* A freed object's name goes with it: an object made later at the same address has none. */
static void names_are_forgotten_when_freed(void) {
    rt_lock *l, *again;
    int i, reused = 0;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_object_set_name(l, "short-lived"));
    for (i = 0; i < 100 && !reused; i++) {
        void *was = l;
        CHECK_OK(rt_lock_free(l));
        CHECK_OK(rt_lock_new(&again));
        reused = (void *)again == was;
        check_name(again, "");
        CHECK_OK(rt_object_set_name(again, "short-lived"));
        l = again;
    }
    /* glibc's allocator gives the same block back at once, so the check above ran on it; under
     * a wrapper (valgrind delays reuse) or AddressSanitizer (its quarantine) it may not have. */
#if !defined(__SANITIZE_ADDRESS__)
    if (getenv("RTHREAD_TEST_WRAPPER") == NULL) CHECK(reused);
#else
    (void)reused;
#endif
    CHECK_OK(rt_lock_free(l));
}

static void names_getter_contract(void) {
    rt_lock *l;
    char buf[8];
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_object_set_name(l, "twelve chars"));
    memset(buf, 'x', sizeof buf);
    CHECK_ERR(rt_object_name(l, buf, sizeof buf), RT_EINVAL,
              "buffer too small: the name needs 13 bytes");
    CHECK(buf[0] == 'x');
    CHECK_ERR(rt_object_name(l, NULL, 64), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_object_set_name(l, NULL), RT_EINVAL, "NULL name");
    CHECK_ERR(rt_object_set_name(l, "\xff\xfe"), RT_EINVAL, "name must be UTF-8");
    check_name(l, "twelve chars");
    CHECK_ERR(rt_object_set_name(NULL, "x"), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_object_name(NULL, buf, sizeof buf), RT_EINVAL, "NULL handle");
    {
        int not_a_handle[4] = {0, 0, 0, 0};
        CHECK_ERR(rt_object_set_name(not_a_handle, "x"), RT_EINVAL, "handle of the wrong kind");
        CHECK_ERR(rt_object_name(not_a_handle, buf, sizeof buf), RT_EINVAL,
                  "handle of the wrong kind");
    }
    CHECK_OK(rt_lock_free(l));
}

static void debug_flags_round_trip(void) {
    CHECK_EQ_INT(rt_get_debug(), 0);
    CHECK_OK(rt_set_debug(RT_DEBUG_DEADLOCK | RT_DEBUG_HOLDERS));
    CHECK_EQ_INT(rt_get_debug(), RT_DEBUG_DEADLOCK | RT_DEBUG_HOLDERS);
    CHECK_ERR(rt_set_debug(1u << 20), RT_EINVAL, "unknown debug flags");
    CHECK_EQ_INT(rt_get_debug(), RT_DEBUG_DEADLOCK | RT_DEBUG_HOLDERS);
    CHECK_OK(rt_set_debug(0));
    CHECK_EQ_INT(rt_get_debug(), 0);
}

/* The flags RTHREAD_DEBUG set at load: run by debug_env_is_read_at_load in a child process with
 * the variable set; without it (the suite runs every case directly too), no flag is on. */
static void debug_env_child(void) {
    const char *want = getenv("DEBUG_ENV_EXPECT");
    if (want == NULL) {
        CHECK_EQ_INT(rt_get_debug(), 0);
        return;
    }
    CHECK_EQ_INT(rt_get_debug(), atoi(want));
}

static const char *self_path;

static void run_child(const char *env_value, const char *expect, char *err, size_t size) {
    int pipefd[2], status;
    pid_t pid;
    ssize_t n, got = 0;
    CHECK(pipe(pipefd) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        setenv("RTHREAD_DEBUG", env_value, 1);
        setenv("DEBUG_ENV_EXPECT", expect, 1);
        execl(self_path, self_path, "debug_env_child", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    while ((n = read(pipefd[0], err + got, size - 1 - (size_t)got)) > 0) got += n;
    err[got] = '\0';
    close(pipefd[0]);
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rt_test_fail(__FILE__, __LINE__, "child failed; its stderr:\n%s", err);
}

static void debug_env_is_read_at_load(void) {
    char err[4096], expect[16];
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    CHECK(n > 0);
    path[n] = '\0';
    self_path = path;
    snprintf(expect, sizeof expect, "%d", RT_DEBUG_DEADLOCK | RT_DEBUG_CONTENTION);
    run_child("deadlock,contention", expect, err, sizeof err);
    CHECK(strstr(err, "RTHREAD_DEBUG") == NULL);
    snprintf(expect, sizeof expect, "%d", RT_DEBUG_LOCK_ORDER);
    run_child("lockorder,bogus", expect, err, sizeof err);
    CHECK(strstr(err, "rthread: RTHREAD_DEBUG: unknown word \"bogus\" ignored") != NULL);
    snprintf(expect, sizeof expect, "%d",
             RT_DEBUG_DEADLOCK | RT_DEBUG_LOCK_ORDER | RT_DEBUG_CONTENTION | RT_DEBUG_HOLDERS);
    run_child("all", expect, err, sizeof err);
}

RT_CASES(RT_CASE(names_on_every_kind), RT_CASE(thread_names_are_the_threads_own),
         RT_CASE(names_are_forgotten_when_freed), RT_CASE(names_getter_contract),
         RT_CASE(debug_flags_round_trip), RT_CASE(debug_env_child),
         RT_CASE(debug_env_is_read_at_load))
