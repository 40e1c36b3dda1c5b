/*
 * Thread dumps: rt_dump_threads and rt_dump_on_signal show every thread with its state, the
 * object it is blocked on (kind, name, address), how long, its timeout, and the holder.
 */
#include "rt_test.h"
#include "rt_blocked.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

static rt_queue *jobs;
static rt_lock *accounts;
static rt_thread *getter, *locker, *joiner;
static uint64_t getter_tid, locker_tid, joiner_tid;
static int devnull = -1;

static void getter_body(void *arg) {
    void *item = NULL;
    (void)arg;
    ATOMIC_STORE(&getter_tid, rt_get_native_id());
    CHECK_OK(rt_queue_get(jobs, 1, RT_FOREVER, &item));
    CHECK(item == (void *)&getter_tid);
}

static void locker_body(void *arg) {
    (void)arg;
    ATOMIC_STORE(&locker_tid, rt_get_native_id());
    CHECK_OK(rt_lock_acquire(accounts, 1, 60.0));
    CHECK_OK(rt_lock_release(accounts));
}

static void joiner_body(void *arg) {
    (void)arg;
    ATOMIC_STORE(&joiner_tid, rt_get_native_id());
    CHECK_OK(rt_thread_join(locker, RT_FOREVER));
}

static void start(rt_thread **t, rt_thread_fn f, const char *name) {
    CHECK_OK(rt_thread_new(f, NULL, t));
    CHECK_OK(rt_object_set_name(*t, name));
    CHECK_OK(rt_thread_start(*t));
}

/* Three threads blocked: on a named queue, a named lock the main thread holds, a join. */
static void scene_begin(void) {
    CHECK_OK(rt_set_debug(RT_DEBUG_HOLDERS));
    CHECK_OK(rt_queue_new(0, NULL, &jobs));
    CHECK_OK(rt_object_set_name(jobs, "jobs"));
    CHECK_OK(rt_lock_new(&accounts));
    CHECK_OK(rt_object_set_name(accounts, "accounts"));
    CHECK_OK(rt_lock_acquire(accounts, 1, RT_FOREVER));
    start(&getter, getter_body, "getter");
    start(&locker, locker_body, "locker");
    WAIT_BLOCKED(&getter_tid);
    WAIT_BLOCKED(&locker_tid);
    start(&joiner, joiner_body, "joiner");
    WAIT_BLOCKED(&joiner_tid);
}

static void scene_end(void) {
    CHECK_OK(rt_queue_put(jobs, &getter_tid, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(accounts));
    CHECK_OK(rt_thread_join(getter, RT_FOREVER));
    CHECK_OK(rt_thread_join(joiner, RT_FOREVER));
    CHECK_OK(rt_thread_join(locker, RT_FOREVER));
    CHECK_OK(rt_thread_release(getter));
    CHECK_OK(rt_thread_release(locker));
    CHECK_OK(rt_thread_release(joiner));
    CHECK_OK(rt_queue_free(jobs));
    CHECK_OK(rt_lock_free(accounts));
}

/* The block of the thread whose first line starts with `head`, copied into `out`: from that line
 * to the blank line that ends it. Fails the case if there is none. */
static void block_of(const char *dump, const char *head, char *out, size_t size) {
    const char *p = dump, *end;
    size_t n;
    for (;;) {
        p = strstr(p, head);
        if (p == NULL) rt_test_fail(__FILE__, __LINE__, "no block \"%s\" in:\n%s", head, dump);
        if (p == dump || p[-1] == '\n') break;
        p++;
    }
    end = strstr(p, "\n\n");
    CHECK(end != NULL);
    n = (size_t)(end - p) + 1;
    CHECK(n < size);
    memcpy(out, p, n);
    out[n] = '\0';
}

static int contains(const char *text, const char *want) {
    if (strstr(text, want) != NULL) return 1;
    fprintf(stderr, "missing \"%s\" in:\n%s\n", want, text);
    return 0;
}

/* The dump as the scene makes it. */
static void check_dump(const char *dump) {
    char block[2048], want[256];
    CHECK(strncmp(dump, "=== rthread thread dump: ", 25) == 0);
    CHECK(contains(dump, "\n=== end of thread dump ===\n"));

    block_of(dump, "thread \"getter\" ", block, sizeof block);
    snprintf(want, sizeof want, "native_id=%llu daemon=no kind=started\n",
             (unsigned long long)getter_tid);
    CHECK(contains(block, want));
    snprintf(want, sizeof want, "  state: blocked in rt_queue_get on queue \"jobs\" (%p) for ",
             (void *)jobs);
    CHECK(contains(block, want));
    CHECK(contains(block, " s, timeout none\n"));

    block_of(dump, "thread \"locker\" ", block, sizeof block);
    snprintf(want, sizeof want, "  state: blocked in rt_lock_acquire on lock \"accounts\" (%p) for ",
             (void *)accounts);
    CHECK(contains(block, want));
    CHECK(contains(block, " s, timeout 60.000 s\n"));
    CHECK(contains(block, "  holder: thread \"MainThread\"\n"));

    block_of(dump, "thread \"joiner\" ", block, sizeof block);
    snprintf(want, sizeof want, "  state: blocked in rt_thread_join on thread \"locker\" (%p) for ",
             (void *)locker);
    CHECK(contains(block, want));
    CHECK(contains(block, "  holder: thread \"locker\"\n"));

    block_of(dump, "thread \"MainThread\" ", block, sizeof block);
    CHECK(contains(block, "daemon=no kind=main\n"));
    CHECK(contains(block, "  state: running\n"));
    snprintf(want, sizeof want, "  holds: lock \"accounts\" (%p)\n", (void *)accounts);
    CHECK(contains(block, want));
}

/* Reads the whole file behind `fd` from its start. */
static void read_all(int fd, char *buf, size_t size) {
    ssize_t n = pread(fd, buf, size - 1, 0);
    CHECK(n >= 0);
    buf[n] = '\0';
}

static void dump_shows_queue_lock_and_join(void) {
    static char dump[16384];
    FILE *f = tmpfile();
    CHECK(f != NULL);
    scene_begin();
    CHECK_OK(rt_dump_threads(fileno(f)));
    read_all(fileno(f), dump, sizeof dump);
    check_dump(dump);
    CHECK(contains(dump, "=== rthread thread dump: 4 threads ===\n\n"));
    scene_end();
    fclose(f);
}

static void dump_on_signal_shows_the_same(void) {
    static char dump[16384];
    FILE *f = tmpfile();
    CHECK(f != NULL);
    scene_begin();
    CHECK_OK(rt_dump_on_signal(SIGUSR1, fileno(f)));
    CHECK(raise(SIGUSR1) == 0);
    /* The dumper thread writes it shortly after the signal. */
    dump[0] = '\0';
    WAIT_UNTIL((read_all(fileno(f), dump, sizeof dump),
                strstr(dump, "=== end of thread dump ===\n") != NULL),
               30.0);
    check_dump(dump);
    /* Back to the default action: nothing more is written (checked by not raising it). */
    CHECK_OK(rt_dump_on_signal(SIGUSR1, -1));
    scene_end();
    fclose(f);
}

/* Without holder records, the dump says so rather than guess. */
static void dump_without_holders_says_not_recorded(void) {
    static char dump[16384];
    char block[2048];
    FILE *f = tmpfile();
    CHECK(f != NULL);
    scene_begin();
    CHECK_OK(rt_set_debug(0));
    CHECK_OK(rt_dump_threads(fileno(f)));
    read_all(fileno(f), dump, sizeof dump);
    block_of(dump, "thread \"locker\" ", block, sizeof block);
    CHECK(contains(block, "  holder: not recorded\n"));
    /* A join's holder is known without any mode. */
    block_of(dump, "thread \"joiner\" ", block, sizeof block);
    CHECK(contains(block, "  holder: thread \"locker\"\n"));
    scene_end();
    fclose(f);
}

/* A thread rthread did not start, blocked in rthread without a thread object, is listed. */
#include <pthread.h>
static uint64_t foreign_tid;

static void *foreign_body(void *arg) {
    (void)arg;
    ATOMIC_STORE(&foreign_tid, rt_get_native_id());
    CHECK_OK(rt_lock_acquire(accounts, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(accounts));
    return NULL;
}

static void dump_lists_foreign_threads(void) {
    static char dump[16384];
    char want[128];
    pthread_t p;
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK_OK(rt_lock_new(&accounts));
    CHECK_OK(rt_lock_acquire(accounts, 1, RT_FOREVER));
    CHECK(pthread_create(&p, NULL, foreign_body, NULL) == 0);
    WAIT_BLOCKED(&foreign_tid);
    CHECK_OK(rt_dump_threads(fileno(f)));
    read_all(fileno(f), dump, sizeof dump);
    snprintf(want, sizeof want, "native_id=%llu daemon=no kind=foreign\n",
             (unsigned long long)foreign_tid);
    CHECK(contains(dump, want));
    snprintf(want, sizeof want, "  state: blocked in rt_lock_acquire on lock (%p) for ",
             (void *)accounts);
    CHECK(contains(dump, want));
    CHECK_OK(rt_lock_release(accounts));
    CHECK(pthread_join(p, NULL) == 0);
    CHECK_OK(rt_lock_free(accounts));
    fclose(f);
}

static void dump_bad_input(void) {
    CHECK_ERR(rt_dump_threads(-1), RT_EINVAL, "invalid file descriptor");
    CHECK_ERR(rt_dump_on_signal(0, 2), RT_EINVAL, "invalid signal number");
    CHECK_ERR(rt_dump_on_signal(SIGKILL, 2), RT_EINVAL, "invalid signal number");
    CHECK_ERR(rt_dump_on_signal(1000, 2), RT_EINVAL, "invalid signal number");
    /* A descriptor that cannot be written to. */
    CHECK_ERR(rt_dump_threads(999), RT_ESTATE, "could not write the dump");
}

/* ---------------------------------------------------------------------------------------------
 * fork: the child's dump lists only its own thread (the others vanished), names survive, and
 * the debug layer's locks are usable in the child, even while other threads were using them
 * at the fork.
 */
static int hammering = 1;

static void name_hammer(void *arg) {
    rt_lock *l = arg;
    char buf[32];
    while (ATOMIC_LOAD(&hammering)) {
        CHECK_OK(rt_object_set_name(l, "hammered"));
        CHECK_OK(rt_object_name(l, buf, sizeof buf));
        CHECK_OK(rt_dump_threads(devnull));
    }
}

static int child_after_fork(rt_lock *named) {
    static char dump[16384];
    char buf[64];
    FILE *f = tmpfile();
    ssize_t n;
    if (f == NULL) return 10;
    if (rt_object_name(accounts, buf, sizeof buf) != RT_OK || strcmp(buf, "accounts") != 0)
        return 11;
    if (rt_object_set_name(named, "in the child") != RT_OK) return 12;
    if (rt_dump_threads(fileno(f)) != RT_OK) return 13;
    n = pread(fileno(f), dump, sizeof dump - 1, 0);
    if (n <= 0) return 14;
    dump[n] = '\0';
    if (strstr(dump, "=== rthread thread dump: 1 threads ===\n") == NULL) return 15;
    if (strstr(dump, "locker") != NULL || strstr(dump, "kind=foreign") != NULL) return 16;
    if (strstr(dump, "  holds: lock \"accounts\"") == NULL) return 17;
    return 0;
}

static void dump_in_a_fork_child(void) {
    rt_lock *named;
    rt_thread *hammer;
    pid_t pid;
    int status, i;
    devnull = open("/dev/null", O_WRONLY);
    CHECK(devnull >= 0);
    scene_begin();
    CHECK_OK(rt_lock_new(&named));
    CHECK_OK(rt_thread_new(name_hammer, named, &hammer));
    CHECK_OK(rt_thread_start(hammer));
    for (i = 0; i < 20; i++) {
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) _exit(child_after_fork(named));
        CHECK(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rt_test_fail(__FILE__, __LINE__, "child ended with status %d", status);
    }
    ATOMIC_STORE(&hammering, 0);
    CHECK_OK(rt_thread_join(hammer, RT_FOREVER));
    CHECK_OK(rt_thread_release(hammer));
    CHECK_OK(rt_lock_free(named));
    scene_end();
    close(devnull);
}

/* A thread blocked on a named future's result. */
static rt_future *answer;
static uint64_t waiter_tid;

static void future_waiter(void *arg) {
    void *r = NULL;
    (void)arg;
    ATOMIC_STORE(&waiter_tid, rt_get_native_id());
    CHECK_OK(rt_future_result(answer, RT_FOREVER, &r));
    CHECK(r == (void *)&waiter_tid);
}

static void dump_shows_a_future_wait(void) {
    static char dump[16384];
    char block[2048], want[160];
    rt_thread *t;
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK_OK(rt_future_new(NULL, &answer));
    CHECK_OK(rt_object_set_name(answer, "answer"));
    start(&t, future_waiter, "asker");
    WAIT_BLOCKED(&waiter_tid);
    CHECK_OK(rt_dump_threads(fileno(f)));
    read_all(fileno(f), dump, sizeof dump);
    block_of(dump, "thread \"asker\" ", block, sizeof block);
    snprintf(want, sizeof want, "  state: blocked in rt_future_result on future \"answer\" (%p) for ",
             (void *)answer);
    CHECK(contains(block, want));
    CHECK_OK(rt_future_set_running_or_notify_cancel(answer));
    CHECK_OK(rt_future_set_result(answer, &waiter_tid));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_future_release(answer));
    fclose(f);
}

/* Threads blocked waiting on many futures: in rt_wait (the first future named in the dump) and
 * in rt_as_completed_next (the iterator, with what is left of its timeout). */
static rt_future *many[2];
static rt_as_completed *iter;
static uint64_t wait_tid, next_tid;

static void many_waiter(void *arg) {
    bool done[2] = {true, true};
    size_t n_done = 9;
    (void)arg;
    ATOMIC_STORE(&wait_tid, rt_get_native_id());
    CHECK_OK(rt_wait(many, 2, RT_FOREVER, RT_FIRST_COMPLETED, done, &n_done));
    CHECK(n_done == 1 && !done[0] && done[1]);
}

static void next_waiter(void *arg) {
    rt_future *got = NULL;
    (void)arg;
    ATOMIC_STORE(&next_tid, rt_get_native_id());
    CHECK_OK(rt_as_completed_next(iter, &got));
    CHECK(got == many[1]);
}

static void dump_shows_waits_on_many_futures(void) {
    static char dump[16384];
    char block[2048], want[160];
    rt_thread *a, *b;
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK_OK(rt_future_new(NULL, &many[0]));
    CHECK_OK(rt_future_new(NULL, &many[1]));
    CHECK_OK(rt_object_set_name(many[0], "first"));
    CHECK_OK(rt_as_completed_new(many, 2, 600.0, &iter));
    start(&a, many_waiter, "waits-any");
    start(&b, next_waiter, "takes-next");
    WAIT_BLOCKED(&wait_tid);
    WAIT_BLOCKED(&next_tid);
    CHECK_OK(rt_dump_threads(fileno(f)));
    read_all(fileno(f), dump, sizeof dump);
    block_of(dump, "thread \"waits-any\" ", block, sizeof block);
    snprintf(want, sizeof want, "  state: blocked in rt_wait on future \"first\" (%p) for ",
             (void *)many[0]);
    CHECK(contains(block, want));
    CHECK(contains(block, ", timeout none\n"));
    block_of(dump, "thread \"takes-next\" ", block, sizeof block);
    snprintf(want, sizeof want, "  state: blocked in rt_as_completed_next on as_completed (%p) for ",
             (void *)iter);
    CHECK(contains(block, want));
    /* What is left of the 600 s: more than 500 s, never more than 600 s. */
    {
        const char *t = strstr(block, ", timeout ");
        double left;
        CHECK(t != NULL && sscanf(t, ", timeout %lf s", &left) == 1);
        CHECK(left > 500.0 && left <= 600.0);
    }
    CHECK_OK(rt_future_set_running_or_notify_cancel(many[1]));
    CHECK_OK(rt_future_set_result(many[1], NULL));
    CHECK_OK(rt_thread_join(a, RT_FOREVER));
    CHECK_OK(rt_thread_join(b, RT_FOREVER));
    CHECK_OK(rt_thread_release(a));
    CHECK_OK(rt_thread_release(b));
    CHECK_OK(rt_as_completed_free(iter));
    CHECK_OK(rt_future_release(many[0]));
    CHECK_OK(rt_future_release(many[1]));
    fclose(f);
}

RT_CASES(RT_CASE(dump_shows_queue_lock_and_join), RT_CASE(dump_on_signal_shows_the_same),
         RT_CASE(dump_without_holders_says_not_recorded), RT_CASE(dump_lists_foreign_threads),
         RT_CASE(dump_bad_input), RT_CASE(dump_in_a_fork_child), RT_CASE(dump_shows_a_future_wait),
         RT_CASE(dump_shows_waits_on_many_futures))
