/*
 * Allocation failure never aborts: every header function that can allocate, with its k-th
 * allocation failing, for k = 0, 1, 2, ... until the call makes no more than k allocations.
 *
 * This program defines malloc, calloc, realloc, free, posix_memalign, aligned_alloc and
 * memalign, so librthread (and the C library's own allocations for it, such as the thread
 * descriptor that pthread_create allocates) get them from here. They forward to glibc's
 * __libc_* functions; while a run is armed, the calling thread's k-th allocation fails (only
 * that one). Each run must end in one of two ways: the call coped (its usual result, e.g.
 * RT_TIMEOUT for a wait, whose record then lives on the waiter's stack), or RT_ENOMEM with the
 * message "out of memory" and nothing changed (checked per function: the output not written,
 * the queue's size, the thread count, the registry, the name...). The one exception is
 * RT_EAGAIN ("can't start new thread: ...") where pthread_create itself refused, from the
 * functions that start threads. valgrind (as .ci/run runs the suite) checks that no failure
 * leaks. Each case prints how many runs had an allocation fail.
 *
 * The allocation counters are per thread, so a call's own allocations are counted, not those
 * of threads running meanwhile. A call that blocks is run in a new foreign thread each time,
 * because its allocation (the thread's wait record) happens once per thread.
 *
 * tests/bad_input_coverage.rs checks that every function of include/rthread.h is either the
 * subject of a case alloc_<function> here or listed in `allocation_free` (and called by the case
 * allocation_free_functions_allocate_nothing, which checks it), or listed in `not_covered`
 * with the reason.
 *
 * Not under AddressSanitizer: its allocator and this one cannot both be the process's (see
 * .ci/run).
 */
#include "rt_test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- The allocator ------------------------------------------------------------------------ */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
int posix_memalign(void **out, size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
void *memalign(size_t align, size_t n);

/* Allocations before the one that fails (-1: none fails); allocations counted; whether one
 * failed. Per thread. */
static __thread long countdown = -1;
static __thread long counted;
static __thread int fired;
static __thread int counting;

/* With `all_threads` set, a run counts the allocations of every thread instead, so that a
 * thread that the call starts, and waits for, is part of the call. */
static int all_threads;
static int g_counting;
static long g_target, g_seen;
static int g_fired;

static int fail_this_one(void) {
    if (ATOMIC_LOAD(&g_counting)) {
        if (ATOMIC_ADD(&g_seen, 1) - 1 == ATOMIC_LOAD(&g_target)) {
            ATOMIC_STORE(&g_fired, 1);
            return 1;
        }
        return 0;
    }
    if (!counting) return 0;
    counted++;
    if (countdown == 0) {
        countdown = -1;
        fired = 1;
        return 1;
    }
    if (countdown > 0) countdown--;
    return 0;
}

void *malloc(size_t n) {
    if (fail_this_one()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
    if (fail_this_one()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
    if (fail_this_one()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n);
}

/* Frees made while `counting` (a free, too, sets up the allocator's per-thread cache in a
 * thread that never allocated). */
static __thread long frees_counted;

void free(void *p) {
    if (counting && p != NULL) frees_counted++;
    __libc_free(p);
}

void *memalign(size_t align, size_t n) {
    if (fail_this_one()) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n) {
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
    void *p = memalign(align, n);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

/* Arms the calling thread: its k-th allocation from now fails (k = -1: count only). */
static void arm(long k) {
    if (all_threads) {
        ATOMIC_STORE(&g_target, k);
        ATOMIC_STORE(&g_seen, 0);
        ATOMIC_STORE(&g_fired, 0);
        ATOMIC_STORE(&g_counting, 1);
        return;
    }
    countdown = k;
    counted = 0;
    fired = 0;
    counting = 1;
}

/* Disarms; returns whether an allocation failed. */
static int disarm(void) {
    if (all_threads) {
        ATOMIC_STORE(&g_counting, 0);
        counted = ATOMIC_LOAD(&g_seen);
        return ATOMIC_LOAD(&g_fired);
    }
    counting = 0;
    countdown = -1;
    return fired;
}

/* ---- The driver --------------------------------------------------------------------------- */

#define MAX_K 500

/* How long a blocking call waits before it gives up. It must really sleep (and so need its
 * record), not spin until its deadline: a case whose waits all ended without needing memory
 * (on a loaded machine, under valgrind) runs again in a new thread, waiting twice as long. */
static double wait_time = 0.05;
#define WAIT_TIME wait_time

/* Runs that had an allocation fail, in this process. */
static long failed_runs;

static void expect_no_memory(rt_status s, int eagain_ok, const char *what, long k) {
    const char *msg = rt_last_error();
    if (s == RT_ENOMEM && strncmp(msg, "out of memory", 13) == 0) return;
    if (eagain_ok && s == RT_EAGAIN && strncmp(msg, "can't start new thread: ", 24) == 0) return;
    rt_test_fail(__FILE__, __LINE__, "%s with allocation %ld failing: %s (\"%s\")", what, k,
                 rt_status_str(s), msg);
}

/*
 * Runs STMT (which sets `s`) with the k-th allocation failing, for k = 0, 1, ... until STMT
 * made no more than k allocations. A run that returns OK_STATUS runs SUCCESS (which must undo
 * what the call did, so that the next run starts alike); any other run must have had an
 * allocation fail and return RT_ENOMEM (or, with EAGAIN_OK, RT_EAGAIN), and then UNCHANGED runs.
 */
#define EXHAUST(WHAT, OK_STATUS, EAGAIN_OK, STMT, UNCHANGED, SUCCESS)                        \
    do {                                                                                     \
        long k_;                                                                             \
        for (k_ = 0;; k_++) {                                                                \
            rt_status s = RT_OK;                                                             \
            int fired_;                                                                      \
            if (k_ >= MAX_K)                                                                 \
                rt_test_fail(__FILE__, __LINE__, "%s: more than %d allocations", (WHAT),     \
                             MAX_K);                                                         \
            arm(k_);                                                                         \
            STMT;                                                                            \
            fired_ = disarm();                                                               \
            if (fired_) ATOMIC_ADD(&failed_runs, 1);                                         \
            if (s == (OK_STATUS)) {                                                          \
                SUCCESS;                                                                     \
                if (getenv("RT_ALLOC_VERBOSE"))                                              \
                    printf("%s: run %ld: %ld allocations, %s\n", (WHAT), k_, counted,        \
                           fired_ ? "one failed, coped" : "done");                           \
                if (!fired_) break;                                                          \
                continue;                                                                    \
            }                                                                                \
            if (!fired_)                                                                     \
                rt_test_fail(__FILE__, __LINE__, "%s failed with no allocation failing: %s", \
                             (WHAT), rt_status_str(s));                                      \
            expect_no_memory(s, (EAGAIN_OK), (WHAT), k_);                                    \
            UNCHANGED;                                                                       \
        }                                                                                    \
    } while (0)

static void report(const char *what) {
    /* Every case makes some allocation fail: else the allocator is not this one (under
     * valgrind, run with --soname-synonyms=somalloc=nouserintercepts). */
    if (ATOMIC_LOAD(&failed_runs) == 0)
        rt_test_fail(__FILE__, __LINE__, "%s: no allocation failed; is malloc interposed?", what);
    printf("%s: %ld runs with a failed allocation\n", what, ATOMIC_LOAD(&failed_runs));
    fflush(stdout);
}

/* Runs `body` in a new foreign thread, created while nothing is armed, and waits for it. */
static void in_new_thread(void *(*body)(void *), void *arg) {
    pthread_t pt;
    CHECK(pthread_create(&pt, NULL, body, arg) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
}

static int sentinel;
#define SENTINEL ((void *)&sentinel)
#define SEVEN ((void *)(intptr_t)7)

/* A pool's task that waits for the event `arg`. */
static int task_wait_event(void *arg, void **result) {
    (void)result;
    return rt_event_wait(arg, RT_FOREVER) == RT_OK ? 0 : 1;
}

/* ---- Constructors ------------------------------------------------------------------------- */

static void alloc_rt_lock_new(void) {
    rt_lock *out = SENTINEL;
    EXHAUST("rt_lock_new", RT_OK, 0, s = rt_lock_new(&out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_lock_free(out)); out = SENTINEL; });
    report("rt_lock_new");
}

static void alloc_rt_rlock_new(void) {
    rt_rlock *out = SENTINEL;
    EXHAUST("rt_rlock_new", RT_OK, 0, s = rt_rlock_new(&out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_rlock_free(out)); out = SENTINEL; });
    report("rt_rlock_new");
}

static void alloc_rt_condition_new(void) {
    rt_condition *out = SENTINEL;
    EXHAUST("rt_condition_new", RT_OK, 0, s = rt_condition_new(&out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_condition_free(out)); out = SENTINEL; });
    report("rt_condition_new");
}

static void alloc_rt_condition_new_with_lock(void) {
    rt_condition *out = SENTINEL;
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    EXHAUST("rt_condition_new_with_lock", RT_OK, 0, s = rt_condition_new_with_lock(l, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_condition_free(out)); out = SENTINEL; });
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
    report("rt_condition_new_with_lock");
}

static void alloc_rt_condition_new_with_rlock(void) {
    rt_condition *out = SENTINEL;
    rt_rlock *l;
    CHECK_OK(rt_rlock_new(&l));
    EXHAUST("rt_condition_new_with_rlock", RT_OK, 0, s = rt_condition_new_with_rlock(l, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_condition_free(out)); out = SENTINEL; });
    CHECK_OK(rt_rlock_free(l));
    report("rt_condition_new_with_rlock");
}

static void alloc_rt_semaphore_new(void) {
    rt_semaphore *out = SENTINEL;
    EXHAUST("rt_semaphore_new", RT_OK, 0, s = rt_semaphore_new(3, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_semaphore_free(out)); out = SENTINEL; });
    report("rt_semaphore_new");
}

static void alloc_rt_bounded_semaphore_new(void) {
    rt_semaphore *out = SENTINEL;
    EXHAUST("rt_bounded_semaphore_new", RT_OK, 0, s = rt_bounded_semaphore_new(3, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_semaphore_free(out)); out = SENTINEL; });
    report("rt_bounded_semaphore_new");
}

static void alloc_rt_event_new(void) {
    rt_event *out = SENTINEL;
    EXHAUST("rt_event_new", RT_OK, 0, s = rt_event_new(&out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_event_free(out)); out = SENTINEL; });
    report("rt_event_new");
}

static int action_calls;

static int count_action(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&action_calls, 1);
    return 0;
}

static void alloc_rt_barrier_new(void) {
    rt_barrier *out = SENTINEL;
    size_t index = 9;
    /* With an action (boxed) and without. */
    EXHAUST("rt_barrier_new", RT_OK, 0, s = rt_barrier_new(1, count_action, NULL, RT_FOREVER, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_barrier_free(out)); out = SENTINEL; });
    EXHAUST("rt_barrier_new", RT_OK, 0, s = rt_barrier_new(2, NULL, NULL, RT_FOREVER, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_barrier_free(out)); out = SENTINEL; });
    /* The action of the one that was made runs. */
    CHECK_OK(rt_barrier_new(1, count_action, NULL, RT_FOREVER, &out));
    CHECK_OK(rt_barrier_wait(out, RT_FOREVER, &index));
    CHECK(index == 0 && action_calls == 1);
    CHECK_OK(rt_barrier_free(out));
    report("rt_barrier_new");
}

static void alloc_rt_local_new(void) {
    rt_local *out = SENTINEL;
    EXHAUST("rt_local_new", RT_OK, 0, s = rt_local_new(NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_local_free(out)); out = SENTINEL; });
    report("rt_local_new");
}

static void alloc_rt_queue_new(void) {
    rt_queue *out = SENTINEL;
    EXHAUST("rt_queue_new", RT_OK, 0, s = rt_queue_new(0, NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_queue_free(out)); out = SENTINEL; });
    EXHAUST("rt_queue_new", RT_OK, 0, s = rt_queue_new(5, NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_queue_free(out)); out = SENTINEL; });
    report("rt_queue_new");
}

static void alloc_rt_lifo_queue_new(void) {
    rt_queue *out = SENTINEL;
    EXHAUST("rt_lifo_queue_new", RT_OK, 0, s = rt_lifo_queue_new(5, NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_queue_free(out)); out = SENTINEL; });
    report("rt_lifo_queue_new");
}

static int compare_ints(const void *a, const void *b) {
    intptr_t x = (intptr_t)a, y = (intptr_t)b;
    return x < y ? -1 : x > y;
}

static void alloc_rt_priority_queue_new(void) {
    rt_queue *out = SENTINEL;
    EXHAUST("rt_priority_queue_new", RT_OK, 0,
            s = rt_priority_queue_new(5, compare_ints, NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_queue_free(out)); out = SENTINEL; });
    report("rt_priority_queue_new");
}

static void alloc_rt_simple_queue_new(void) {
    rt_queue *out = SENTINEL;
    EXHAUST("rt_simple_queue_new", RT_OK, 0, s = rt_simple_queue_new(NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_queue_free(out)); out = SENTINEL; });
    report("rt_simple_queue_new");
}

static void nothing(void *arg) {
    (void)arg;
}

static void alloc_rt_thread_new(void) {
    rt_thread *out = SENTINEL;
    EXHAUST("rt_thread_new", RT_OK, 0, s = rt_thread_new(nothing, NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_thread_release(out)); out = SENTINEL; });
    report("rt_thread_new");
}

static void alloc_rt_timer_new(void) {
    rt_thread *out = SENTINEL;
    EXHAUST("rt_timer_new", RT_OK, 0, s = rt_timer_new(0.0, nothing, NULL, &out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_thread_release(out)); out = SENTINEL; });
    report("rt_timer_new");
}

/* ---- Values and items --------------------------------------------------------------------- */

static void *as_value(intptr_t i) {
    return (void *)i;
}

static int local_destroyed;

static void count_local_destroy(void *v) {
    (void)v;
    ATOMIC_ADD(&local_destroyed, 1);
}

struct local_run {
    rt_local *locals[40];
};

static void *set_locals(void *p) {
    struct local_run *r = p;
    int i;
    void *v;
    /* A thread's first value (its end must be watched for), then a growing table. */
    for (i = 0; i < 40; i++) {
        EXHAUST("rt_local_set", RT_OK, 0, s = rt_local_set(r->locals[i], as_value(i + 1)), { CHECK_OK(rt_local_get(r->locals[i], &v)); CHECK(v == NULL); }, (void)0);
        CHECK_OK(rt_local_get(r->locals[i], &v));
        CHECK(v == as_value(i + 1));
    }
    return NULL;
}

static void alloc_rt_local_set(void) {
    struct local_run r;
    int i;
    for (i = 0; i < 40; i++) CHECK_OK(rt_local_new(count_local_destroy, &r.locals[i]));
    /* In a foreign thread, and in the main thread. */
    in_new_thread(set_locals, &r);
    CHECK_EQ_INT(local_destroyed, 40);
    set_locals(&r);
    for (i = 0; i < 40; i++) CHECK_OK(rt_local_free(r.locals[i]));
    CHECK_EQ_INT(local_destroyed, 80);
    report("rt_local_set");
}

/* Puts 40 items into a queue, each with every allocation failing in turn: an unbounded queue
 * grows meanwhile. */
static void put_forty(rt_queue *q) {
    intptr_t i;
    void *item;
    size_t before, unfinished;
    for (i = 1; i <= 40; i++) {
        before = rt_queue_qsize(q);
        unfinished = rt_queue_unfinished_tasks(q);
        EXHAUST("rt_queue_put", RT_OK, 0, s = rt_queue_put(q, as_value(i), 0, 0.0), { CHECK(rt_queue_qsize(q) == before); CHECK(rt_queue_unfinished_tasks(q) == unfinished); },
                (void)0);
        CHECK(rt_queue_qsize(q) == before + 1);
    }
    for (i = 1; i <= 40; i++) {
        CHECK_OK(rt_queue_get(q, 0, 0.0, &item));
        CHECK(item != NULL);
    }
}

static void *put_into_full_queue(void *p) {
    rt_queue *q = p;
    EXHAUST("rt_queue_put", RT_EFULL, 0, s = rt_queue_put(q, as_value(7), 1, WAIT_TIME), { CHECK(rt_queue_qsize(q) == 1); }, (void)0);
    return NULL;
}

static void alloc_rt_queue_put(void) {
    rt_queue *q;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    put_forty(q);
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_lifo_queue_new(0, NULL, &q));
    put_forty(q);
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_priority_queue_new(0, compare_ints, NULL, &q));
    put_forty(q);
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_simple_queue_new(NULL, &q));
    put_forty(q);
    CHECK_OK(rt_queue_free(q));
    /* A put that blocks on a full queue (its first wait). */
    CHECK_OK(rt_queue_new(1, NULL, &q));
    CHECK_OK(rt_queue_put(q, as_value(1), 0, 0.0));
    in_new_thread(put_into_full_queue, q);
    CHECK_OK(rt_queue_free(q));
    report("rt_queue_put");
}

/* ---- Threads ------------------------------------------------------------------------------ */

static int ran;

static void count_run(void *arg) {
    (void)arg;
    ATOMIC_ADD(&ran, 1);
}

static void alloc_rt_start_new_thread(void) {
    uint64_t ident = 0;
    EXHAUST("rt_start_new_thread", RT_OK, 1, s = rt_start_new_thread(count_run, NULL, &ident), { CHECK(ident == 0); CHECK(rt_thread_count() == 0); }, { WAIT_UNTIL(rt_thread_count() == 0, 30.0); CHECK(ident != 0); ident = 0; });
    CHECK(ATOMIC_LOAD(&ran) >= 1);
    report("rt_start_new_thread");
}

static void alloc_rt_thread_start(void) {
    rt_thread *t;
    size_t alive = rt_active_count();
    int runs_before;
    /* The same object each time: after a failed start it may be started again. The start
     * waits until the new thread runs: what that thread allocates until then counts too. */
    all_threads = 1;
    CHECK_OK(rt_thread_new(count_run, NULL, &t));
    EXHAUST("rt_thread_start", RT_OK, 1, (runs_before = ATOMIC_LOAD(&ran), s = rt_thread_start(t)), { CHECK(!rt_thread_is_alive(t)); CHECK(rt_active_count() == alive); CHECK(rt_thread_ident(t) == 0); CHECK(ATOMIC_LOAD(&ran) == runs_before); }, { CHECK_OK(rt_thread_join(t, RT_FOREVER)); CHECK(ATOMIC_LOAD(&ran) == runs_before + 1); CHECK_OK(rt_thread_release(t)); CHECK_OK(rt_thread_new(count_run, NULL, &t)); });
    CHECK_OK(rt_thread_release(t));
    /* And a timer. */
    CHECK_OK(rt_timer_new(0.0, count_run, NULL, &t));
    EXHAUST("rt_thread_start", RT_OK, 1, s = rt_thread_start(t), { CHECK(!rt_thread_is_alive(t)); CHECK(rt_active_count() == alive); }, { CHECK_OK(rt_thread_join(t, RT_FOREVER)); CHECK_OK(rt_thread_release(t)); CHECK_OK(rt_timer_new(0.0, count_run, NULL, &t)); });
    CHECK_OK(rt_thread_release(t));
    all_threads = 0;
    report("rt_thread_start");
}

static void alloc_rt_thread_set_name(void) {
    rt_thread *t;
    char name[64];
    CHECK_OK(rt_thread_new(nothing, NULL, &t));
    CHECK_OK(rt_thread_set_name(t, "before"));
    EXHAUST("rt_thread_set_name", RT_OK, 0, s = rt_thread_set_name(t, "a much longer new name"), { CHECK_OK(rt_thread_name(t, name, sizeof name)); CHECK(strcmp(name, "before") == 0); }, { CHECK_OK(rt_thread_name(t, name, sizeof name)); CHECK(strcmp(name, "a much longer new name") == 0); CHECK_OK(rt_thread_set_name(t, "before")); });
    CHECK_OK(rt_thread_release(t));
    report("rt_thread_set_name");
}

/* The main thread's object is made at the first call that needs it, in each of these. */
static void alloc_rt_main_thread(void) {
    rt_thread *out = SENTINEL;
    /* (No registry query in between: each would make the object.) */
    EXHAUST("rt_main_thread", RT_OK, 0, s = rt_main_thread(&out), { CHECK(out == SENTINEL); }, { CHECK(rt_thread_is_alive(out)); CHECK_OK(rt_thread_release(out)); out = SENTINEL; });
    CHECK(rt_active_count() == 1);
    report("rt_main_thread");
}

static void alloc_rt_enumerate(void) {
    size_t count = 99;
    rt_thread *buf[4];
    EXHAUST("rt_enumerate", RT_OK, 0, s = rt_enumerate(buf, 4, &count), { CHECK(count == 99); }, { CHECK(count == 1); CHECK_OK(rt_thread_release(buf[0])); count = 99; });
    report("rt_enumerate");
}

static void alloc_rt_active_count(void) {
    size_t n = 0;
    /* Never fails: without memory for the main thread's object, it is not counted yet. */
    EXHAUST("rt_active_count", RT_OK, 0, n = rt_active_count(), (void)0, { CHECK(n <= 1); });
    CHECK(rt_active_count() == 1);
    report("rt_active_count");
}

static void *current_in_foreign(void *p) {
    rt_thread *out = SENTINEL;
    size_t *alive = p;
    EXHAUST("rt_current_thread", RT_OK, 0, s = rt_current_thread(&out), { CHECK(out == SENTINEL); CHECK(rt_active_count() == *alive); }, { CHECK(rt_active_count() == *alive + 1); CHECK_OK(rt_thread_interrupt(out)); CHECK_OK(rt_thread_release(out)); out = SENTINEL; });
    /* The dummy has a record: the interrupt above ends this wait. */
    {
        rt_lock *l;
        CHECK_OK(rt_lock_new(&l));
        CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
        CHECK_STATUS(rt_lock_acquire(l, 1, 30.0), RT_EINTR);
        CHECK_OK(rt_lock_release(l));
        CHECK_OK(rt_lock_free(l));
    }
    return NULL;
}

static void alloc_rt_current_thread(void) {
    size_t alive = rt_active_count();
    rt_thread *out = SENTINEL;
    in_new_thread(current_in_foreign, &alive);
    /* The dummy left the registry when its thread ended. */
    CHECK(rt_active_count() == alive);
    /* In the main thread. */
    EXHAUST("rt_current_thread", RT_OK, 0, s = rt_current_thread(&out), { CHECK(out == SENTINEL); }, { CHECK_OK(rt_thread_release(out)); out = SENTINEL; });
    report("rt_current_thread");
}

/* ---- Blocking calls: the first wait of a thread makes its record ---------------------------- */

struct blocking {
    rt_lock *lock;
    rt_rlock *rlock;
    rt_condition *cond;
    rt_semaphore *sem;
    rt_event *event;
    rt_barrier *barrier;
    rt_queue *queue;
    rt_thread *thread;
};

static int never(void *ctx) {
    (void)ctx;
    return 0;
}

static void *wait_lock(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_lock_acquire", RT_TIMEOUT, 0, s = rt_lock_acquire(b->lock, 1, WAIT_TIME), (void)0, { CHECK(rt_lock_locked(b->lock)); });
    return NULL;
}

static void *wait_rlock(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_rlock_acquire", RT_TIMEOUT, 0, s = rt_rlock_acquire(b->rlock, 1, WAIT_TIME), (void)0, { CHECK(!rt_rlock_is_owned(b->rlock)); });
    return NULL;
}

static void *wait_condition_acquire(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_condition_acquire", RT_TIMEOUT, 0, s = rt_condition_acquire(b->cond, 1, WAIT_TIME),
            (void)0, (void)0);
    return NULL;
}

static void *wait_condition(void *p) {
    struct blocking *b = p;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    EXHAUST("rt_condition_wait", RT_TIMEOUT, 0, s = rt_condition_wait(c, WAIT_TIME), (void)0, (void)0);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
    (void)b;
    return NULL;
}

static void *wait_condition_for(void *p) {
    struct blocking *b = p;
    rt_condition *c;
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    EXHAUST("rt_condition_wait_for", RT_TIMEOUT, 0, s = rt_condition_wait_for(c, never, NULL, WAIT_TIME),
            (void)0, (void)0);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
    (void)b;
    return NULL;
}

static void *wait_semaphore(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_semaphore_acquire", RT_TIMEOUT, 0, s = rt_semaphore_acquire(b->sem, 1, WAIT_TIME),
            (void)0, { CHECK(rt_semaphore_value(b->sem) == 0); });
    return NULL;
}

static void *wait_event(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_event_wait", RT_TIMEOUT, 0, s = rt_event_wait(b->event, WAIT_TIME), (void)0, (void)0);
    return NULL;
}

static void *wait_barrier(void *p) {
    struct blocking *b = p;
    size_t index = 9;
    /* Alone at a barrier of two: its timeout breaks it. */
    EXHAUST("rt_barrier_wait", RT_EBROKEN, 0, s = rt_barrier_wait(b->barrier, WAIT_TIME, &index),
            (void)0, { CHECK(index == 9); CHECK_OK(rt_barrier_reset(b->barrier)); });
    return NULL;
}

static void *wait_queue_get(void *p) {
    struct blocking *b = p;
    void *item = SENTINEL;
    EXHAUST("rt_queue_get", RT_EEMPTY, 0, s = rt_queue_get(b->queue, 1, WAIT_TIME, &item), (void)0, { CHECK(item == SENTINEL); });
    return NULL;
}

static void *wait_queue_join_timeout(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_queue_join_timeout", RT_TIMEOUT, 0, s = rt_queue_join_timeout(b->queue, WAIT_TIME),
            (void)0, { CHECK(rt_queue_unfinished_tasks(b->queue) == 1); });
    return NULL;
}

static void *wait_thread_join(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_thread_join", RT_TIMEOUT, 0, s = rt_thread_join(b->thread, WAIT_TIME), (void)0, { CHECK(rt_thread_is_alive(b->thread)); });
    return NULL;
}

static void *wait_shutdown(void *p) {
    struct blocking *b = p;
    EXHAUST("rt_shutdown", RT_TIMEOUT, 0, s = rt_shutdown(WAIT_TIME), (void)0, { CHECK(rt_thread_is_alive(b->thread)); });
    return NULL;
}

/* A thread object that waits on `gate` until the case releases it. */
static void wait_for_gate(void *arg) {
    rt_lock *gate = arg;
    if (rt_lock_acquire(gate, 1, RT_FOREVER) != RT_OK) abort();
    rt_lock_release(gate);
}

static void blocking_setup(struct blocking *b) {
    CHECK_OK(rt_lock_new(&b->lock));
    CHECK_OK(rt_lock_acquire(b->lock, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_new(&b->rlock));
    CHECK_OK(rt_rlock_acquire(b->rlock, 1, RT_FOREVER));
    CHECK_OK(rt_condition_new(&b->cond));
    CHECK_OK(rt_condition_acquire(b->cond, 1, RT_FOREVER));
    CHECK_OK(rt_semaphore_new(0, &b->sem));
    CHECK_OK(rt_event_new(&b->event));
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b->barrier));
    CHECK_OK(rt_queue_new(0, NULL, &b->queue));
    CHECK_OK(rt_thread_new(wait_for_gate, b->lock, &b->thread));
    CHECK_OK(rt_thread_start(b->thread));
}

static void blocking_teardown(struct blocking *b) {
    CHECK_OK(rt_lock_release(b->lock));
    CHECK_OK(rt_thread_join(b->thread, RT_FOREVER));
    CHECK_OK(rt_thread_release(b->thread));
    CHECK_OK(rt_lock_free(b->lock));
    CHECK_OK(rt_rlock_release(b->rlock));
    CHECK_OK(rt_rlock_free(b->rlock));
    CHECK_OK(rt_condition_release(b->cond));
    CHECK_OK(rt_condition_free(b->cond));
    CHECK_OK(rt_semaphore_free(b->sem));
    CHECK_OK(rt_event_free(b->event));
    CHECK_OK(rt_barrier_free(b->barrier));
    CHECK_OK(rt_queue_free(b->queue));
}

#define BLOCKING_CASE(fn, body)                                                              \
    static void alloc_##fn(void) {                                                           \
        struct blocking b;                                                                   \
        blocking_setup(&b);                                                                  \
        for (wait_time = 0.05; ATOMIC_LOAD(&failed_runs) == 0 && wait_time < 10.0;            \
             wait_time *= 2)                                                                 \
            in_new_thread(body, &b);                                                         \
        blocking_teardown(&b);                                                               \
        report(#fn);                                                                         \
    }

BLOCKING_CASE(rt_lock_acquire, wait_lock)
BLOCKING_CASE(rt_rlock_acquire, wait_rlock)
BLOCKING_CASE(rt_condition_acquire, wait_condition_acquire)
BLOCKING_CASE(rt_condition_wait, wait_condition)
BLOCKING_CASE(rt_condition_wait_for, wait_condition_for)
BLOCKING_CASE(rt_semaphore_acquire, wait_semaphore)
BLOCKING_CASE(rt_event_wait, wait_event)
BLOCKING_CASE(rt_barrier_wait, wait_barrier)
BLOCKING_CASE(rt_queue_get, wait_queue_get)
BLOCKING_CASE(rt_thread_join, wait_thread_join)
BLOCKING_CASE(rt_shutdown, wait_shutdown)

static void alloc_rt_queue_join_timeout(void) {
    struct blocking b;
    blocking_setup(&b);
    CHECK_OK(rt_queue_put(b.queue, as_value(1), 0, 0.0));
    for (wait_time = 0.05; ATOMIC_LOAD(&failed_runs) == 0 && wait_time < 10.0; wait_time *= 2)
        in_new_thread(wait_queue_join_timeout, &b);
    blocking_teardown(&b);
    report("rt_queue_join_timeout");
}

struct join_run {
    rt_queue *queue;
    uint64_t tid;
    rt_status status;
    int fired;
};

static void *join_queue(void *p) {
    struct join_run *r = p;
    ATOMIC_STORE(&r->tid, rt_get_native_id());
    arm(0);
    r->status = rt_queue_join(r->queue);
    r->fired = disarm();
    return NULL;
}

/* rt_queue_join has no timeout: the case ends the wait with task_done once the thread sleeps.
 * Where it cannot tell that the thread sleeps in the join itself (under valgrind, a thread
 * that waits for its turn to run looks asleep too), the join may end without waiting; then it
 * made no allocation, and the case tries again with a new thread. */
static void alloc_rt_queue_join(void) {
    struct join_run r;
    pthread_t pt;
    void *item;
    int attempt;
    memset(&r, 0, sizeof r);
    CHECK_OK(rt_queue_new(0, NULL, &r.queue));
    for (attempt = 0; attempt < 100 && !r.fired; attempt++) {
        r.tid = 0;
        CHECK_OK(rt_queue_put(r.queue, as_value(1), 0, 0.0));
        CHECK_OK(rt_queue_get(r.queue, 0, 0.0, &item));
        CHECK(pthread_create(&pt, NULL, join_queue, &r) == 0);
        WAIT_UNTIL(ATOMIC_LOAD(&r.tid) != 0 && rt_test_sleeps_in_futex((long)ATOMIC_LOAD(&r.tid)),
                   30.0);
        CHECK_OK(rt_queue_task_done(r.queue));
        CHECK(pthread_join(pt, NULL) == 0);
        /* The wait coped without its record. */
        CHECK_STATUS(r.status, RT_OK);
    }
    CHECK(r.fired);
    ATOMIC_ADD(&failed_runs, 1);
    CHECK_OK(rt_queue_free(r.queue));
    report("rt_queue_join");
}


/* ---- Futures and thread pools ------------------------------------------------------------- */

static int callbacks_run;

static void count_callback(rt_future *f, void *ctx) {
    (void)f;
    (void)ctx;
    ATOMIC_ADD(&callbacks_run, 1);
}

static int frees;

static void count_free(void *p) {
    (void)p;
    ATOMIC_ADD(&frees, 1);
}

static int tasks_run;

static int task_value(void *arg, void **result) {
    ATOMIC_ADD(&tasks_run, 1);
    *result = arg;
    return 0;
}

/* Records the worker's name in `arg` (a char[64]). */
static int task_name(void *arg, void **result) {
    rt_thread *me;
    if (rt_current_thread(&me) != RT_OK) return 1;
    if (rt_thread_name(me, arg, 64) != RT_OK) return 2;
    rt_thread_release(me);
    *result = arg;
    return 0;
}

static void alloc_rt_future_new(void) {
    rt_future *out = SENTINEL;
    EXHAUST("rt_future_new", RT_OK, 0, s = rt_future_new(count_free, &out), { CHECK(out == SENTINEL); }, { CHECK(!rt_future_done(out)); CHECK_OK(rt_future_release(out)); out = SENTINEL; });
    CHECK_EQ_INT(ATOMIC_LOAD(&frees), 0);
    report("rt_future_new");
}

static void alloc_rt_future_add_done_callback(void) {
    rt_future *f, *done;
    int added = 0, before;
    CHECK_OK(rt_future_new(NULL, &f));
    /* A pending future: the callback is kept, or not at all. The list grows meanwhile. */
    for (int i = 0; i < 20; i++) {
        EXHAUST("rt_future_add_done_callback", RT_OK, 0, s = rt_future_add_done_callback(f, count_callback, NULL), (void)0, { added++; });
    }
    CHECK_EQ_INT(ATOMIC_LOAD(&callbacks_run), 0);
    CHECK_OK(rt_future_set_result(f, NULL));
    CHECK_EQ_INT(ATOMIC_LOAD(&callbacks_run), added);
    CHECK(added >= 20);
    CHECK_OK(rt_future_release(f));
    /* A done future: the callback runs at once, or not at all. */
    CHECK_OK(rt_future_new(NULL, &done));
    CHECK_OK(rt_future_set_result(done, NULL));
    before = ATOMIC_LOAD(&callbacks_run);
    EXHAUST("rt_future_add_done_callback", RT_OK, 0, s = rt_future_add_done_callback(done, count_callback, NULL), { CHECK_EQ_INT(ATOMIC_LOAD(&callbacks_run), before); }, { CHECK_EQ_INT(ATOMIC_LOAD(&callbacks_run), before + 1); before++; });
    CHECK_OK(rt_future_release(done));
    report("rt_future_add_done_callback");
}

static void alloc_rt_future_set_exception(void) {
    rt_future *f;
    int code = 0;
    CHECK_OK(rt_future_new(NULL, &f));
    /* The message is copied: without memory the future stays pending. */
    EXHAUST("rt_future_set_exception", RT_OK, 0, s = rt_future_set_exception(f, 42, "a failure's message"), { CHECK(!rt_future_done(f)); }, {
        CHECK_OK(rt_future_exception(f, 0.0, &code));
        CHECK_EQ_INT(code, 42);
        CHECK_STATUS(rt_future_result(f, 0.0, &(void *){NULL}), RT_EFAILED);
        CHECK(strcmp(rt_last_error(), "a failure's message") == 0);
        CHECK_OK(rt_future_release(f));
        CHECK_OK(rt_future_new(NULL, &f));
    });
    CHECK_OK(rt_future_release(f));
    report("rt_future_set_exception");
}

struct pending_future {
    rt_future *f;
};

static void *wait_result(void *p) {
    struct pending_future *b = p;
    void *r = SENTINEL;
    EXHAUST("rt_future_result", RT_TIMEOUT, 0, s = rt_future_result(b->f, WAIT_TIME, &r), (void)0, { CHECK(r == SENTINEL); });
    return NULL;
}

static void *wait_exception(void *p) {
    struct pending_future *b = p;
    int code = 7;
    EXHAUST("rt_future_exception", RT_TIMEOUT, 0, s = rt_future_exception(b->f, WAIT_TIME, &code), (void)0, { CHECK(code == 7); });
    return NULL;
}

/* A future that nobody completes: the waits time out, in a new thread each (its record). */
#define FUTURE_WAIT_CASE(fn, body)                                                           \
    static void alloc_##fn(void) {                                                           \
        struct pending_future b;                                                             \
        CHECK_OK(rt_future_new(NULL, &b.f));                                                 \
        for (wait_time = 0.05; ATOMIC_LOAD(&failed_runs) == 0 && wait_time < 10.0;            \
             wait_time *= 2)                                                                 \
            in_new_thread(body, &b);                                                         \
        CHECK(!rt_future_done(b.f));                                                         \
        CHECK_OK(rt_future_release(b.f));                                                    \
        report(#fn);                                                                         \
    }

FUTURE_WAIT_CASE(rt_future_result, wait_result)
FUTURE_WAIT_CASE(rt_future_exception, wait_exception)

struct wait_run {
    rt_future *fs[3];
};

static void *wait_all(void *p) {
    struct wait_run *r = p;
    bool done[3] = {true, true, true};
    size_t n_done = 99;
    /* One done, two pending: the waiter is installed, and the wait times out. */
    EXHAUST("rt_wait", RT_TIMEOUT, 0, s = rt_wait(r->fs, 3, WAIT_TIME, RT_ALL_COMPLETED, done, &n_done), { CHECK(done[0] && done[1] && done[2]); CHECK(n_done == 99); }, {
        CHECK(done[0] && !done[1] && !done[2]);
        CHECK(n_done == 1);
        done[0] = done[1] = done[2] = true;
        n_done = 99;
    });
    return NULL;
}

static void alloc_rt_wait(void) {
    struct wait_run r;
    bool done[4] = {false, false, false, false};
    size_t n_done = 99;
    rt_future *four[4];
    long before;
    int i;
    for (i = 0; i < 3; i++) CHECK_OK(rt_future_new(NULL, &r.fs[i]));
    CHECK_OK(rt_future_set_result(r.fs[0], NULL));
    /* Met at once (a duplicate among them): the copies of the list, nothing installed. */
    four[0] = r.fs[1];
    four[1] = r.fs[0];
    four[2] = r.fs[2];
    four[3] = r.fs[0];
    EXHAUST("rt_wait", RT_OK, 0, s = rt_wait(four, 4, 0.0, RT_FIRST_COMPLETED, done, &n_done), { CHECK(!done[0] && !done[1] && !done[2] && !done[3]); CHECK(n_done == 99); }, {
        CHECK(!done[0] && done[1] && !done[2] && done[3]);
        CHECK(n_done == 1);
        done[1] = done[3] = false;
        n_done = 99;
    });
    /* Until a run of the blocking wait had an allocation fail. */
    before = ATOMIC_LOAD(&failed_runs);
    for (wait_time = 0.05; ATOMIC_LOAD(&failed_runs) == before && wait_time < 10.0;
         wait_time *= 2)
        in_new_thread(wait_all, &r);
    CHECK(ATOMIC_LOAD(&failed_runs) > before);
    /* No waiter was left behind: a wait that needs the last two sees them complete. */
    CHECK_OK(rt_future_set_result(r.fs[1], NULL));
    CHECK_OK(rt_future_set_result(r.fs[2], NULL));
    CHECK_OK(rt_wait(r.fs, 3, 0.0, RT_ALL_COMPLETED, NULL, &n_done));
    CHECK(n_done == 3);
    for (i = 0; i < 3; i++) CHECK_OK(rt_future_release(r.fs[i]));
    report("rt_wait");
}

static void alloc_rt_as_completed_new(void) {
    rt_future *fs[3];
    rt_as_completed *out = SENTINEL;
    rt_future *next;
    int i;
    for (i = 0; i < 3; i++) CHECK_OK(rt_future_new(NULL, &fs[i]));
    CHECK_OK(rt_future_set_result(fs[1], NULL));
    EXHAUST("rt_as_completed_new", RT_OK, 0, s = rt_as_completed_new(fs, 3, RT_FOREVER, &out), { CHECK(out == SENTINEL); }, {
        CHECK_OK(rt_as_completed_next(out, &next));
        CHECK(next == fs[1]);
        CHECK_OK(rt_as_completed_free(out));
        out = SENTINEL;
    });
    /* An iterator that failed left no waiter behind: completing the others needs no memory
     * (checked by the allocation-free case) and a new iterator gives them all. */
    CHECK_OK(rt_future_set_result(fs[0], NULL));
    CHECK_OK(rt_future_set_result(fs[2], NULL));
    CHECK_OK(rt_as_completed_new(fs, 3, RT_FOREVER, &out));
    for (i = 0; i < 3; i++) {
        CHECK_OK(rt_as_completed_next(out, &next));
        CHECK(next != NULL);
    }
    CHECK_OK(rt_as_completed_next(out, &next));
    CHECK(next == NULL);
    CHECK_OK(rt_as_completed_free(out));
    for (i = 0; i < 3; i++) CHECK_OK(rt_future_release(fs[i]));
    report("rt_as_completed_new");
}

static void *next_completed(void *p) {
    rt_future *f = p;
    rt_as_completed *it;
    rt_future *next = SENTINEL;
    /* The overall timeout counts from here: the first run waits for it (and needs the
     * thread's record), later ones find it passed and do not wait. */
    CHECK_OK(rt_as_completed_new(&f, 1, WAIT_TIME, &it));
    EXHAUST("rt_as_completed_next", RT_TIMEOUT, 0, s = rt_as_completed_next(it, &next), (void)0, { CHECK(next == SENTINEL); CHECK(strcmp(rt_last_error(), "1 (of 1) futures unfinished") == 0); });
    CHECK_OK(rt_as_completed_free(it));
    return NULL;
}

static void alloc_rt_as_completed_next(void) {
    rt_future *f;
    CHECK_OK(rt_future_new(NULL, &f));
    for (wait_time = 0.05; ATOMIC_LOAD(&failed_runs) == 0 && wait_time < 10.0; wait_time *= 2)
        in_new_thread(next_completed, f);
    CHECK_OK(rt_future_release(f));
    report("rt_as_completed_next");
}

/* The worker's name of a pool's first task. */
static void first_worker_name(rt_executor *ex, char *name) {
    rt_future *f;
    void *r;
    CHECK_OK(rt_executor_submit(ex, task_name, name, NULL, NULL, &f));
    CHECK_OK(rt_future_result(f, RT_FOREVER, &r));
    CHECK(r == name);
    CHECK_OK(rt_future_release(f));
}

static void alloc_rt_executor_new(void) {
    rt_executor *out = SENTINEL;
    char name[64], expected[64];
    int number = 0;
    /* A pool without a prefix is numbered only once it exists: the numbers follow on. */
    EXHAUST("rt_executor_new", RT_OK, 0, s = rt_executor_new(1, NULL, NULL, NULL, &out), { CHECK(out == SENTINEL); }, {
        first_worker_name(out, name);
        snprintf(expected, sizeof expected, "ThreadPoolExecutor-%d_0", number++);
        CHECK(strcmp(name, expected) == 0);
        CHECK_OK(rt_executor_free(out));
        out = SENTINEL;
    });
    EXHAUST("rt_executor_new", RT_OK, 0, s = rt_executor_new(2, "a prefix", NULL, NULL, &out), { CHECK(out == SENTINEL); }, {
        first_worker_name(out, name);
        CHECK(strcmp(name, "a prefix_0") == 0);
        CHECK_OK(rt_executor_free(out));
        out = SENTINEL;
    });
    report("rt_executor_new");
}

static void alloc_rt_executor_submit(void) {
    rt_executor *ex;
    rt_future *out = SENTINEL, *busy;
    rt_event *gate;
    void *r;
    int run_before, frees_before;
    /* A pool without a worker: a submit that cannot start one takes its task back (RT_ENOMEM,
     * or RT_EAGAIN from the thread's creation), leaving no worker, no task and the argument
     * the caller's. */
    CHECK_OK(rt_executor_new(1, "pool", NULL, NULL, &ex));
    EXHAUST("rt_executor_submit", RT_OK, 1, (run_before = ATOMIC_LOAD(&tasks_run), frees_before = ATOMIC_LOAD(&frees), s = rt_executor_submit(ex, task_value, SEVEN, count_free, NULL, &out)), {
        CHECK(out == SENTINEL);
        CHECK(rt_executor_thread_count(ex) == 0);
        CHECK_EQ_INT(ATOMIC_LOAD(&frees), frees_before);
    }, {
        CHECK_OK(rt_future_result(out, RT_FOREVER, &r));
        CHECK(r == SEVEN);
        CHECK(rt_executor_thread_count(ex) == 1);
        CHECK_OK(rt_future_release(out));
        out = SENTINEL;
        CHECK_OK(rt_executor_free(ex));
        CHECK_OK(rt_executor_new(1, "pool", NULL, NULL, &ex));
    });
    /* Every task that ran was one whose submit succeeded. */
    CHECK_OK(rt_executor_shutdown(ex, true, false));
    CHECK_EQ_INT(ATOMIC_LOAD(&tasks_run), ATOMIC_LOAD(&frees));
    CHECK_OK(rt_executor_free(ex));
    /* A pool whose one worker is busy: a submit that cannot start a second worker still
     * queues its task, which the busy worker runs next (RT_OK); one that cannot queue it
     * fails with nothing queued. */
    CHECK_OK(rt_event_new(&gate));
    CHECK_OK(rt_executor_new(2, "busy", NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_wait_event, gate, NULL, NULL, &busy));
    EXHAUST("rt_executor_submit", RT_OK, 1, (run_before = ATOMIC_LOAD(&tasks_run), frees_before = ATOMIC_LOAD(&frees), s = rt_executor_submit(ex, task_value, SEVEN, count_free, NULL, &out)), {
        CHECK(out == SENTINEL);
        CHECK(rt_executor_thread_count(ex) == 1);
        CHECK_EQ_INT(ATOMIC_LOAD(&frees), frees_before);
    }, {
        size_t workers = rt_executor_thread_count(ex);
        CHECK(workers == 1 || workers == 2);
        CHECK_OK(rt_event_set(gate));
        CHECK_OK(rt_future_result(out, RT_FOREVER, &r));
        CHECK(r == SEVEN);
        CHECK_EQ_INT(ATOMIC_LOAD(&tasks_run), run_before + 1);
        CHECK_OK(rt_future_result(busy, RT_FOREVER, &r));
        CHECK_OK(rt_future_release(busy));
        CHECK_OK(rt_future_release(out));
        out = SENTINEL;
        CHECK_OK(rt_executor_free(ex));
        CHECK_OK(rt_event_clear(gate));
        CHECK_OK(rt_executor_new(2, "busy", NULL, NULL, &ex));
        CHECK_OK(rt_executor_submit(ex, task_wait_event, gate, NULL, NULL, &busy));
    });
    CHECK_OK(rt_event_set(gate));
    CHECK_OK(rt_future_result(busy, RT_FOREVER, &r));
    CHECK_OK(rt_future_release(busy));
    CHECK_OK(rt_executor_free(ex));
    CHECK_OK(rt_event_free(gate));
    CHECK_EQ_INT(ATOMIC_LOAD(&tasks_run), ATOMIC_LOAD(&frees));
    report("rt_executor_submit");
}

/* A task that fails with code 5 and a message of its own, and arms its worker so that the
 * allocation `*arg` from now fails: the worker's copy of the message, or the box the future
 * keeps it in. */
static int task_failing_armed(void *arg, void **result) {
    (void)result;
    if (rt_set_error_message("the task's message") != RT_OK) return 6;
    arm(*(long *)arg);
    return 5;
}

static int task_disarm(void *arg, void **result) {
    (void)arg;
    (void)result;
    (void)disarm();
    return 0;
}

/* A worker without memory to keep a failed task's message still finishes its future: with
 * the task's code, and a message that says it was lost. */
static void alloc_worker_keeps_a_failure_without_memory(void) {
    rt_executor *ex;
    rt_future *f;
    void *r;
    int code, lost = 0;
    long k;
    CHECK_OK(rt_executor_new(1, "lost", NULL, NULL, &ex));
    for (k = 0; k < MAX_K; k++) {
        CHECK_OK(rt_executor_submit(ex, task_failing_armed, &k, NULL, NULL, &f));
        CHECK_STATUS(rt_future_result(f, 60.0, &r), RT_EFAILED);
        if (strcmp(rt_last_error(), "the task's message") == 0) {
            CHECK_OK(rt_future_exception(f, 0.0, &code));
            CHECK_EQ_INT(code, 5);
            CHECK_OK(rt_future_release(f));
            break;
        }
        CHECK(strcmp(rt_last_error(), "out of memory (the task's own message was lost)") == 0);
        CHECK_OK(rt_future_exception(f, 0.0, &code));
        CHECK_EQ_INT(code, 5);
        CHECK_OK(rt_future_release(f));
        lost++;
        ATOMIC_ADD(&failed_runs, 1);
    }
    CHECK(k < MAX_K);
    /* The copy of the message and the future's box for it. */
    CHECK(lost >= 2);
    CHECK_OK(rt_executor_submit(ex, task_disarm, NULL, NULL, NULL, &f));
    CHECK_OK(rt_future_result(f, 60.0, &r));
    CHECK_OK(rt_future_release(f));
    CHECK_OK(rt_executor_free(ex));
    report("a failed task's message");
}

/* ---- The functions that allocate nothing -------------------------------------------------- */

/* ---- Debugging ------------------------------------------------------------------------------ */

static void alloc_rt_object_set_name(void) {
    rt_lock *l;
    rt_thread *t;
    char name[64];
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_thread_new(nothing, NULL, &t));
    EXHAUST("rt_object_set_name", RT_OK, 0, s = rt_object_set_name(l, "a named lock"), { CHECK_OK(rt_object_name(l, name, sizeof name)); CHECK(strcmp(name, "") == 0); }, { CHECK_OK(rt_object_name(l, name, sizeof name)); CHECK(strcmp(name, "a named lock") == 0); CHECK_OK(rt_object_set_name(l, "")); });
    /* Renaming keeps the old name on failure. */
    CHECK_OK(rt_object_set_name(l, "old"));
    EXHAUST("rt_object_set_name", RT_OK, 0, s = rt_object_set_name(l, "a much longer new name"), { CHECK_OK(rt_object_name(l, name, sizeof name)); CHECK(strcmp(name, "old") == 0); }, { CHECK_OK(rt_object_name(l, name, sizeof name)); CHECK(strcmp(name, "a much longer new name") == 0); CHECK_OK(rt_object_set_name(l, "old")); });
    /* A thread's name is its own. */
    CHECK_OK(rt_object_set_name(t, "before"));
    EXHAUST("rt_object_set_name", RT_OK, 0, s = rt_object_set_name(t, "a much longer thread name"), { CHECK_OK(rt_object_name(t, name, sizeof name)); CHECK(strcmp(name, "before") == 0); }, { CHECK_OK(rt_object_name(t, name, sizeof name)); CHECK(strcmp(name, "a much longer thread name") == 0); CHECK_OK(rt_object_set_name(t, "before")); });
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(l));
    report("rt_object_set_name");
}

static void alloc_rt_dump_threads(void) {
    FILE *f = tmpfile();
    long size_before;
    CHECK(f != NULL);
    /* A failed dump writes nothing, or stops after what it wrote: the file only grows. */
    EXHAUST("rt_dump_threads", RT_OK, 0, (size_before = (long)lseek(fileno(f), 0, SEEK_END), s = rt_dump_threads(fileno(f))), { CHECK(lseek(fileno(f), 0, SEEK_END) >= size_before); }, { CHECK(lseek(fileno(f), 0, SEEK_END) > size_before); });
    fclose(f);
    report("rt_dump_threads");
}

static void alloc_rt_dump_on_signal(void) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    /* The first call starts the dump thread: RT_EAGAIN when pthread_create cannot allocate. */
    EXHAUST("rt_dump_on_signal", RT_OK, 1, s = rt_dump_on_signal(SIGUSR2, fileno(f)), (void)0, (void)0);
    CHECK_OK(rt_dump_on_signal(SIGUSR2, -1));
    fclose(f);
    report("rt_dump_on_signal");
}


/* ---- The contention profile ---- */

static off_t file_size(int fd) {
    struct stat st;
    CHECK_EQ_INT(fstat(fd, &st), 0);
    return st.st_size;
}

/* The report's list of objects is its one allocation: without it, RT_ENOMEM and nothing
 * written. */
static void alloc_rt_contention_report(void) {
    rt_lock *l;
    FILE *f = tmpfile();
    int fd;
    CHECK(f != NULL);
    fd = fileno(f);
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_set_debug(RT_DEBUG_CONTENTION));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_set_debug(0));
    EXHAUST("rt_contention_report", RT_OK, 0, s = rt_contention_report(fd, 0), { CHECK_EQ_INT(file_size(fd), 0); }, { CHECK(file_size(fd) > 0); CHECK_EQ_INT(ftruncate(fd, 0), 0); CHECK_EQ_INT(lseek(fd, 0, SEEK_SET), 0); });
    CHECK_OK(rt_lock_free(l));
    fclose(f);
    report("rt_contention_report");
}

/*
 * Every other function of the header: none allocates, in any thread (a blocking one here waits
 * in a thread that has its record already, or does not wait). The case below calls each with
 * the calling thread's allocations counted, and checks the count is 0.
 */
static const char *const allocation_free[] = {
    "rt_barrier_free", "rt_barrier_reset", "rt_barrier_abort", "rt_barrier_parties",
    "rt_barrier_n_waiting", "rt_barrier_broken", "rt_condition_free", "rt_condition_release",
    "rt_condition_notify", "rt_condition_notify_all", "rt_set_blocking_hooks",
    "rt_thread_interrupt", "rt_interrupt_main", "rt_event_free", "rt_event_set",
    "rt_event_clear", "rt_event_is_set", "rt_local_get", "rt_local_free", "rt_lock_free",
    "rt_lock_release", "rt_lock_locked", "rt_queue_free", "rt_queue_qsize", "rt_queue_empty",
    "rt_queue_full", "rt_queue_maxsize", "rt_queue_task_done", "rt_queue_unfinished_tasks",
    "rt_queue_shutdown", "rt_queue_is_shutdown", "rt_rlock_free", "rt_rlock_release",
    "rt_rlock_is_owned", "rt_rlock_count", "rt_semaphore_free", "rt_semaphore_release",
    "rt_semaphore_value", "rt_status_str", "rt_last_error", "rt_get_ident", "rt_get_native_id",
    "rt_stack_size_get", "rt_stack_size_set", "rt_timeout_max", "rt_thread_count",
    "rt_thread_is_alive", "rt_thread_name", "rt_thread_name_len", "rt_thread_daemon",
    "rt_thread_set_daemon", "rt_thread_ident", "rt_thread_native_id", "rt_thread_retain",
    "rt_thread_release", "rt_set_exit_wait", "rt_timer_cancel", "rt_set_thread_hooks",
    "rt_future_retain", "rt_future_release", "rt_future_cancel", "rt_future_cancelled",
    "rt_future_running", "rt_future_done", "rt_future_set_running_or_notify_cancel",
    "rt_future_set_result", "rt_set_error_message", "rt_as_completed_free",
    "rt_executor_shutdown", "rt_executor_thread_count", "rt_executor_free",
    "rt_version", "rt_version_str", "rt_once", "rt_interrupt_main_on_signal",
    "rt_set_debug", "rt_get_debug", "rt_set_debug_report_hook", "rt_object_name",
    "rt_set_contention_hook",
};

/*
 * Functions that may allocate and are not covered, with the reason.
 */
static const char *const not_covered[][2] = {
    {"rt_exit_thread",
     "ends the thread with pthread_exit, which loads the C library's unwinder and unwinds; "
     "what the C library allocates there is not rthread's to report"},
};

static void hook(void *ctx) {
    (void)ctx;
}

static void interrupted(void) {
    /* Consumes the pending interrupt that rt_interrupt_main left on this (the main) thread. */
    rt_lock *l;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(l, 1, 30.0), RT_EINTR);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

#define NO_ALLOC(call)                                                                       \
    do {                                                                                     \
        arm(-1);                                                                             \
        (void)(call);                                                                        \
        disarm();                                                                            \
        if (counted != 0)                                                                    \
            rt_test_fail(__FILE__, __LINE__, "%s made %ld allocations", #call, counted);     \
        calls++;                                                                             \
    } while (0)

static void once_body(void *arg) {
    (void)arg;
}

/* A thread object's thread, from its first instruction to the end of its first waits, in
 * the library: everything it needs was made by rt_thread_start (its waiting record, its debug
 * record), so that an idle thread costs its stack and nothing in the allocator's per-thread
 * cache and arenas (about 5 KiB of resident memory per thread otherwise). */
struct own_allocations {
    rt_event *event;
    rt_lock *lock;
    long allocs, frees;
};

static void count_own_allocations(void *arg) {
    struct own_allocations *o = arg;
    counting = 1;
    counted = 0;
    frees_counted = 0;
    /* Slow paths, each timing out. */
    CHECK_STATUS(rt_event_wait(o->event, 0.01), RT_TIMEOUT);
    CHECK_STATUS(rt_lock_acquire(o->lock, 1, 0.01), RT_TIMEOUT);
    counting = 0;
    o->allocs = counted;
    o->frees = frees_counted;
}

static void a_started_thread_waits_without_allocating(void) {
    struct own_allocations o = {0};
    rt_thread *t;
    CHECK_OK(rt_event_new(&o.event));
    CHECK_OK(rt_lock_new(&o.lock));
    CHECK_OK(rt_lock_acquire(o.lock, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(count_own_allocations, &o, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    printf("the waiting thread: %ld allocations, %ld frees\n", o.allocs, o.frees);
    CHECK(o.allocs == 0);
    CHECK(o.frees == 0);
    CHECK_OK(rt_lock_release(o.lock));
    CHECK_OK(rt_lock_free(o.lock));
    CHECK_OK(rt_event_free(o.event));
}

static void allocation_free_functions_allocate_nothing(void) {
    rt_barrier *b;
    rt_condition *c;
    rt_event *e;
    rt_local *l;
    rt_lock *lk;
    rt_queue *q;
    rt_rlock *rl;
    rt_semaphore *s;
    rt_thread *t, *tm, *me;
    void *v;
    size_t n, prev;
    char name[32];
    size_t calls = 0;
    rt_future *fu, *fc, *next;
    rt_as_completed *it;
    rt_executor *ex;
    int code;
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_event_new(&e));
    CHECK_OK(rt_local_new(NULL, &l));
    CHECK_OK(rt_local_set(l, as_value(5)));
    CHECK_OK(rt_lock_new(&lk));
    CHECK_OK(rt_queue_new(2, NULL, &q));
    CHECK_OK(rt_queue_put(q, as_value(1), 0, 0.0));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_semaphore_new(1, &s));
    CHECK_OK(rt_timer_new(60.0, nothing, NULL, &t));
    CHECK_OK(rt_main_thread(&tm));
    CHECK_OK(rt_current_thread(&me));
    CHECK_OK(rt_thread_release(me));
    /* The thread's records exist from its first wait in a blocking call on: its wait record
     * and its debug record (what it is blocked on, for dumps). */
    CHECK_OK(rt_lock_acquire(lk, 1, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(lk, 1, 0.001), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(lk));

    NO_ALLOC(rt_barrier_parties(b));
    NO_ALLOC(rt_barrier_n_waiting(b));
    NO_ALLOC(rt_barrier_broken(b));
    NO_ALLOC(rt_barrier_abort(b));
    NO_ALLOC(rt_barrier_reset(b));
    NO_ALLOC(rt_object_name(b, name, sizeof name)); /* an object without a name */
    NO_ALLOC(rt_barrier_free(b));
    NO_ALLOC(rt_condition_acquire(c, 1, RT_FOREVER));
    NO_ALLOC(rt_condition_notify(c, 1));
    NO_ALLOC(rt_condition_notify_all(c));
    NO_ALLOC(rt_condition_release(c));
    NO_ALLOC(rt_condition_free(c));
    NO_ALLOC(rt_set_blocking_hooks(hook, hook, NULL));
    NO_ALLOC(rt_set_blocking_hooks(NULL, NULL, NULL));
    NO_ALLOC(rt_event_set(e));
    NO_ALLOC(rt_event_is_set(e));
    NO_ALLOC(rt_event_wait(e, 0.0));
    NO_ALLOC(rt_event_clear(e));
    NO_ALLOC(rt_event_free(e));
    NO_ALLOC(rt_local_get(l, &v));
    NO_ALLOC(rt_local_free(l));
    NO_ALLOC(rt_lock_acquire(lk, 1, RT_FOREVER));
    NO_ALLOC(rt_lock_locked(lk));
    NO_ALLOC(rt_lock_release(lk));
    NO_ALLOC(rt_lock_free(lk));
    NO_ALLOC(rt_queue_qsize(q));
    NO_ALLOC(rt_queue_empty(q));
    NO_ALLOC(rt_queue_full(q));
    NO_ALLOC(rt_queue_maxsize(q));
    NO_ALLOC(rt_queue_get(q, 1, RT_FOREVER, &v));
    NO_ALLOC(rt_queue_task_done(q));
    NO_ALLOC(rt_queue_unfinished_tasks(q));
    NO_ALLOC(rt_queue_join(q));
    NO_ALLOC(rt_queue_shutdown(q, 0));
    NO_ALLOC(rt_queue_is_shutdown(q));
    NO_ALLOC(rt_queue_free(q));
    NO_ALLOC(rt_rlock_acquire(rl, 1, RT_FOREVER));
    NO_ALLOC(rt_rlock_is_owned(rl));
    NO_ALLOC(rt_rlock_count(rl));
    NO_ALLOC(rt_rlock_release(rl));
    NO_ALLOC(rt_rlock_free(rl));
    NO_ALLOC(rt_semaphore_acquire(s, 1, RT_FOREVER));
    NO_ALLOC(rt_semaphore_release(s, 1));
    NO_ALLOC(rt_semaphore_value(s));
    NO_ALLOC(rt_semaphore_free(s));
    NO_ALLOC(rt_status_str(RT_ENOMEM));
    NO_ALLOC(rt_last_error());
    NO_ALLOC(rt_get_ident());
    NO_ALLOC(rt_get_native_id());
    NO_ALLOC(rt_stack_size_get());
    NO_ALLOC(rt_stack_size_set(0, &prev));
    NO_ALLOC(rt_timeout_max());
    NO_ALLOC(rt_thread_count());
    NO_ALLOC(rt_thread_is_alive(t));
    NO_ALLOC(rt_thread_name(t, name, sizeof name));
    NO_ALLOC(rt_thread_name_len(t, &n));
    NO_ALLOC(rt_thread_daemon(t));
    NO_ALLOC(rt_thread_set_daemon(t, true));
    NO_ALLOC(rt_thread_ident(tm));
    NO_ALLOC(rt_thread_native_id(tm));
    NO_ALLOC(rt_thread_retain(t));
    NO_ALLOC(rt_thread_release(t));
    NO_ALLOC(rt_timer_cancel(t));
    NO_ALLOC(rt_thread_interrupt(tm));
    interrupted();
    NO_ALLOC(rt_interrupt_main());
    interrupted();
    NO_ALLOC(rt_set_exit_wait(true));
    NO_ALLOC(rt_version());
    NO_ALLOC(rt_version_str());
    {
        static rt_once_flag once = RT_ONCE_INIT;
        NO_ALLOC(rt_once(&once, once_body, NULL));
        NO_ALLOC(rt_once(&once, once_body, NULL));
    }
    /* SIGUSR2: nobody sends it here; the handler it installs only interrupts the main
     * thread. */
    NO_ALLOC(rt_interrupt_main_on_signal(SIGUSR2));
    NO_ALLOC(rt_set_debug(RT_DEBUG_HOLDERS));
    NO_ALLOC(rt_get_debug());
    NO_ALLOC(rt_set_debug(0));
    NO_ALLOC(rt_set_debug_report_hook(NULL, NULL));
    CHECK_OK(rt_object_set_name(tm, "main"));
    NO_ALLOC(rt_object_name(tm, name, sizeof name));
    NO_ALLOC(rt_set_thread_hooks(hook, hook, NULL));
    NO_ALLOC(rt_set_thread_hooks(NULL, NULL, NULL));
    NO_ALLOC(rt_thread_release(t));
    CHECK_OK(rt_thread_release(tm));

    /* A future with a callback and a waiter (an iterator) completes without memory. */
    CHECK_OK(rt_future_new(NULL, &fu));
    CHECK_OK(rt_future_add_done_callback(fu, count_callback, NULL));
    CHECK_OK(rt_as_completed_new(&fu, 1, RT_FOREVER, &it));
    NO_ALLOC(rt_future_retain(fu));
    NO_ALLOC(rt_future_release(fu));
    NO_ALLOC(rt_future_cancelled(fu));
    NO_ALLOC(rt_future_running(fu));
    NO_ALLOC(rt_future_done(fu));
    NO_ALLOC(rt_future_set_running_or_notify_cancel(fu));
    NO_ALLOC(rt_future_set_result(fu, as_value(3)));
    CHECK_EQ_INT(ATOMIC_LOAD(&callbacks_run), 1);
    NO_ALLOC(rt_future_cancel(fu));
    NO_ALLOC(rt_future_result(fu, 0.0, &v));
    CHECK(v == as_value(3));
    NO_ALLOC(rt_future_exception(fu, 0.0, &code));
    NO_ALLOC(rt_as_completed_next(it, &next));
    CHECK(next == fu);
    NO_ALLOC(rt_as_completed_free(it));
    NO_ALLOC(rt_set_error_message("a task's message"));
    /* A cancellation seen by a waiter (an iterator). */
    CHECK_OK(rt_future_new(NULL, &fc));
    CHECK_OK(rt_as_completed_new(&fc, 1, RT_FOREVER, &it));
    NO_ALLOC(rt_future_cancel(fc));
    NO_ALLOC(rt_future_set_running_or_notify_cancel(fc));
    NO_ALLOC(rt_as_completed_next(it, &next));
    CHECK(next == fc);
    CHECK_OK(rt_as_completed_free(it));
    NO_ALLOC(rt_future_release(fc));
    /* A pool with a worker, shut down (a queued task cancelled) and freed. */
    CHECK_OK(rt_executor_new(1, "quiet", NULL, NULL, &ex));
    CHECK_OK(rt_executor_submit(ex, task_value, as_value(4), NULL, NULL, &fc));
    CHECK_OK(rt_future_result(fc, RT_FOREVER, &v));
    CHECK_OK(rt_future_release(fc));
    NO_ALLOC(rt_executor_thread_count(ex));
    NO_ALLOC(rt_executor_shutdown(ex, true, true));
    NO_ALLOC(rt_executor_free(ex));
    NO_ALLOC(rt_future_release(fu));
    NO_ALLOC(rt_set_contention_hook(NULL, NULL));
    CHECK(calls >= sizeof allocation_free / sizeof allocation_free[0]);
    CHECK(sizeof not_covered / sizeof not_covered[0] == 1);
    printf("%lu calls, no allocation\n", (unsigned long)calls);
}

RT_CASES(
    RT_CASE(alloc_rt_contention_report),
    RT_CASE(alloc_rt_lock_new),
    RT_CASE(alloc_rt_rlock_new),
    RT_CASE(alloc_rt_condition_new),
    RT_CASE(alloc_rt_condition_new_with_lock),
    RT_CASE(alloc_rt_condition_new_with_rlock),
    RT_CASE(alloc_rt_semaphore_new),
    RT_CASE(alloc_rt_bounded_semaphore_new),
    RT_CASE(alloc_rt_event_new),
    RT_CASE(alloc_rt_barrier_new),
    RT_CASE(alloc_rt_local_new),
    RT_CASE(alloc_rt_queue_new),
    RT_CASE(alloc_rt_lifo_queue_new),
    RT_CASE(alloc_rt_priority_queue_new),
    RT_CASE(alloc_rt_simple_queue_new),
    RT_CASE(alloc_rt_thread_new),
    RT_CASE(alloc_rt_timer_new),
    RT_CASE(alloc_rt_local_set),
    RT_CASE(alloc_rt_queue_put),
    RT_CASE(alloc_rt_start_new_thread),
    RT_CASE(alloc_rt_thread_start),
    RT_CASE(alloc_rt_thread_set_name),
    RT_CASE(alloc_rt_main_thread),
    RT_CASE(alloc_rt_enumerate),
    RT_CASE(alloc_rt_active_count),
    RT_CASE(alloc_rt_current_thread),
    RT_CASE(alloc_rt_lock_acquire),
    RT_CASE(alloc_rt_rlock_acquire),
    RT_CASE(alloc_rt_condition_acquire),
    RT_CASE(alloc_rt_condition_wait),
    RT_CASE(alloc_rt_condition_wait_for),
    RT_CASE(alloc_rt_semaphore_acquire),
    RT_CASE(alloc_rt_event_wait),
    RT_CASE(alloc_rt_barrier_wait),
    RT_CASE(alloc_rt_queue_get),
    RT_CASE(alloc_rt_queue_join),
    RT_CASE(alloc_rt_queue_join_timeout),
    RT_CASE(alloc_rt_thread_join),
    RT_CASE(alloc_rt_shutdown),
    RT_CASE(alloc_rt_future_new),
    RT_CASE(alloc_rt_future_add_done_callback),
    RT_CASE(alloc_rt_future_set_exception),
    RT_CASE(alloc_worker_keeps_a_failure_without_memory),
    RT_CASE(alloc_rt_future_result),
    RT_CASE(alloc_rt_future_exception),
    RT_CASE(alloc_rt_wait),
    RT_CASE(alloc_rt_as_completed_new),
    RT_CASE(alloc_rt_as_completed_next),
    RT_CASE(alloc_rt_executor_new),
    RT_CASE(alloc_rt_executor_submit),
    RT_CASE(alloc_rt_object_set_name),
    RT_CASE(alloc_rt_dump_threads),
    RT_CASE(alloc_rt_dump_on_signal),
    RT_CASE(allocation_free_functions_allocate_nothing),
    RT_CASE(a_started_thread_waits_without_allocating)
)
