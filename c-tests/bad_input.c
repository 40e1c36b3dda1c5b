/*
 * Bad input, everywhere: every function rthread.h declares, called with what it must refuse
 * (NULL handles; a real handle of every other kind for each handle parameter; NULL output
 * pointers and buffers; NaN, negative, infinite and too large timeouts; zero parties, negative
 * semaphore values, n = 0, bad stack sizes; over-release; too small buffers; NULL callbacks),
 * each checked against the status and the exact message its doc comment gives. Queries that
 * cannot fail give their documented default for a bad handle, and set rt_last_error().
 *
 * One case per function, named bad_input_<function>. tests/bad_input_coverage.rs fails when a
 * function of the header has no such case or its case does not call it.
 */
#include "rt_test.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define MSG_NULL "NULL handle"
#define MSG_KIND "handle of the wrong kind"
#define MSG_OUT "NULL output pointer"
#define MSG_NAN "Invalid value NaN (not a number)"
#define MSG_NEG "timeout value must be a non-negative number"
#define MSG_QNEG "'timeout' must be a non-negative number"
#define MSG_OVER "timestamp out of range for platform time_t"
#define MSG_NONBLOCKING "can't specify a timeout for a non-blocking call"
#define MSG_SEM_NONBLOCKING "can't specify timeout for non-blocking acquire"
#define MSG_BUSY "object is in use by waiting threads"
#define MSG_NO_EXIT                                                                          \
    "rt_exit_thread can only end a thread started by rthread, from outside any callback"

/* A pointer no call may write: outputs are written only on success. */
static int sentinel_object;
#define SENTINEL ((void *)&sentinel_object)

/* ---------------------------------------------------------------------------------------------
 * One live object of every kind, for the wrong-kind checks.
 */
enum kind { K_LOCK, K_RLOCK, K_CONDITION, K_SEMAPHORE, K_EVENT, K_BARRIER, K_THREAD, K_LOCAL,
            K_QUEUE, K_FUTURE, K_EXECUTOR, K_AS_COMPLETED, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "an rt_lock handle", "an rt_rlock handle", "an rt_condition handle",
    "an rt_semaphore handle", "an rt_event handle", "an rt_barrier handle",
    "an rt_thread handle", "an rt_local handle", "an rt_queue handle",
    "an rt_future handle", "an rt_executor handle", "an rt_as_completed handle",
};
static void *zoo[K_COUNT];

static void zoo_new(void) {
    rt_lock *l;
    rt_rlock *rl;
    rt_condition *c;
    rt_semaphore *s;
    rt_event *e;
    rt_barrier *b;
    rt_thread *t;
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
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_OK(rt_local_new(NULL, &lo));
    CHECK_OK(rt_queue_new(0, NULL, &q));
    zoo[K_LOCK] = l;
    zoo[K_RLOCK] = rl;
    zoo[K_CONDITION] = c;
    zoo[K_SEMAPHORE] = s;
    zoo[K_EVENT] = e;
    zoo[K_BARRIER] = b;
    zoo[K_THREAD] = t;
    zoo[K_LOCAL] = lo;
    zoo[K_QUEUE] = q;
    CHECK_OK(rt_future_new(NULL, &fu));
    CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex));
    CHECK_OK(rt_as_completed_new(NULL, 0, RT_FOREVER, &ac));
    zoo[K_FUTURE] = fu;
    zoo[K_EXECUTOR] = ex;
    zoo[K_AS_COMPLETED] = ac;
}

/* Frees the zoo: every object must still be intact and free (no wrong-kind call touched one,
 * freed one, or left one borrowed or busy). */
static void zoo_free(void) {
    CHECK(!rt_lock_locked(zoo[K_LOCK]));
    CHECK_EQ_INT(rt_semaphore_value(zoo[K_SEMAPHORE]), 1);
    CHECK(!rt_event_is_set(zoo[K_EVENT]));
    CHECK(!rt_barrier_broken(zoo[K_BARRIER]));
    CHECK(!rt_thread_is_alive(zoo[K_THREAD]));
    CHECK_EQ_INT(rt_queue_qsize(zoo[K_QUEUE]), 0);
    CHECK(!rt_future_done(zoo[K_FUTURE]));
    CHECK_EQ_INT(rt_executor_thread_count(zoo[K_EXECUTOR]), 0);
    CHECK_OK(rt_lock_free(zoo[K_LOCK]));
    CHECK_OK(rt_rlock_free(zoo[K_RLOCK]));
    CHECK_OK(rt_condition_free(zoo[K_CONDITION]));
    CHECK_OK(rt_semaphore_free(zoo[K_SEMAPHORE]));
    CHECK_OK(rt_event_free(zoo[K_EVENT]));
    CHECK_OK(rt_barrier_free(zoo[K_BARRIER]));
    CHECK_OK(rt_thread_release(zoo[K_THREAD]));
    CHECK_OK(rt_local_free(zoo[K_LOCAL]));
    CHECK_OK(rt_queue_free(zoo[K_QUEUE]));
    CHECK_OK(rt_future_release(zoo[K_FUTURE]));
    CHECK_OK(rt_executor_free(zoo[K_EXECUTOR]));
    CHECK_OK(rt_as_completed_free(zoo[K_AS_COMPLETED]));
}

/* ---------------------------------------------------------------------------------------------
 * Checks.
 */

/* Sets the last error to a message no check expects, so that each check sees the message of
 * its own call. */
#define PRIMED "size not valid: 3 bytes"
static void prime_last_error(void) {
    if (rt_stack_size_set(3, NULL) != RT_EINVAL || strcmp(rt_last_error(), PRIMED) != 0)
        rt_test_fail(__FILE__, __LINE__, "cannot prime the last error: \"%s\"", rt_last_error());
}

static void expect_status(const char *file, int line, const char *call, const char *with,
                          rt_status got, rt_status want, const char *msg) {
    const char *last = rt_last_error();
    if (got != want || strcmp(last, msg) != 0)
        rt_test_fail(file, line, "%s%s%s returned %s \"%s\", expected %s \"%s\"", call,
                     with ? " with " : "", with ? with : "", rt_status_str(got), last,
                     rt_status_str(want), msg);
}

static void expect_value(const char *file, int line, const char *call, const char *with,
                         long long got, long long want, const char *msg) {
    const char *last = rt_last_error();
    if (got != want || strcmp(last, msg) != 0)
        rt_test_fail(file, line, "%s with %s returned %lld (last error \"%s\"), expected %lld "
                     "(last error \"%s\")", call, with, got, last, want, msg);
}

/* `call` returns `status` and its own message `msg`; `with` says what was bad (or NULL). */
#define BAD_WITH(with, call, status, msg)                                                   \
    do {                                                                                    \
        prime_last_error();                                                                 \
        {                                                                                   \
            rt_status got_ = (call);                                                        \
            expect_status(__FILE__, __LINE__, #call, (with), got_, (status), (msg));       \
        }                                                                                   \
    } while (0)
#define BAD(call, status, msg) BAD_WITH(NULL, call, status, msg)

/* `call` refuses, in `h` (a `type *`), a real handle of every kind but `kind`. */
#define BAD_KINDS(kind, type, h, call)                                                      \
    do {                                                                                    \
        int k_;                                                                             \
        for (k_ = 0; k_ < K_COUNT; k_++) {                                                  \
            if (k_ == (kind)) continue;                                                     \
            {                                                                               \
                type *h = zoo[k_];                                                          \
                BAD_WITH(kind_names[k_], call, RT_EINVAL, MSG_KIND);                        \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* `call` refuses a NULL handle and a handle of every other kind in `h`. */
#define BAD_HANDLES(kind, type, h, call)                                                    \
    do {                                                                                    \
        {                                                                                   \
            type *h = NULL;                                                                 \
            BAD_WITH("a NULL handle", call, RT_EINVAL, MSG_NULL);                           \
        }                                                                                   \
        BAD_KINDS(kind, type, h, call);                                                     \
    } while (0)

/* A query that cannot fail gives `bad` for a NULL handle and for a handle of every other kind
 * in `h`, and says why in rt_last_error(). */
#define BAD_QUERY(kind, type, h, call, bad)                                                 \
    do {                                                                                    \
        int k_;                                                                             \
        {                                                                                   \
            type *h = NULL;                                                                 \
            prime_last_error();                                                             \
            expect_value(__FILE__, __LINE__, #call, "a NULL handle", (long long)(call),     \
                         (long long)(bad), MSG_NULL);                                       \
        }                                                                                   \
        for (k_ = 0; k_ < K_COUNT; k_++) {                                                  \
            if (k_ == (kind)) continue;                                                     \
            {                                                                               \
                type *h = zoo[k_];                                                          \
                prime_last_error();                                                         \
                expect_value(__FILE__, __LINE__, #call, kind_names[k_], (long long)(call),  \
                             (long long)(bad), MSG_KIND);                                   \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* Negative timeouts other than -1, and timeouts above RT_TIMEOUT_MAX. */
static const double negative_timeouts[] = {
    -2.0, -0.5, -1.5, -0.999, -1.001, -1e-300, -RT_TIMEOUT_MAX, -RT_TIMEOUT_MAX * 2, -1e300,
    -DBL_MAX, -INFINITY,
};
static const double huge_timeouts[] = {
    RT_TIMEOUT_MAX + 0.01, RT_TIMEOUT_MAX * 2, 1e300, DBL_MAX, INFINITY,
};
/* Lock-style acquire: only these negative values are "negative"; below -RT_TIMEOUT_MAX the
 * value does not convert (CPython's OverflowError). */
static const double lock_negative_timeouts[] = {
    -2.0, -0.5, -1.5, -0.999, -1.001, -1e-300, -RT_TIMEOUT_MAX,
};
static const double lock_huge_timeouts[] = {
    RT_TIMEOUT_MAX + 0.01, RT_TIMEOUT_MAX * 2, 1e300, DBL_MAX, INFINITY,
    -RT_TIMEOUT_MAX - 0.01, -RT_TIMEOUT_MAX * 2, -1e300, -DBL_MAX, -INFINITY,
};
/* Timeouts that a non-blocking call refuses (everything but RT_FOREVER). */
static const double nonblocking_timeouts[] = {
    0.0, -0.0, 1.0, 1e-9, -2.0, -0.5, RT_TIMEOUT_MAX, -RT_TIMEOUT_MAX,
};

static const char *describe(char *buf, size_t len, const char *what, double v) {
    snprintf(buf, len, "%s %g", what, v);
    return buf;
}

/* A call with a plain `double timeout` (named `T` in `call`) refuses NaN, every negative value
 * other than -1 (`neg_msg`), and every value above RT_TIMEOUT_MAX. */
#define BAD_TIMEOUTS(T, call, neg_msg)                                                      \
    do {                                                                                    \
        char w_[64];                                                                        \
        size_t i_;                                                                          \
        {                                                                                   \
            double T = NAN;                                                                 \
            BAD_WITH("timeout NaN", call, RT_EINVAL, MSG_NAN);                              \
        }                                                                                   \
        {                                                                                   \
            double T = -NAN;                                                                \
            BAD_WITH("timeout -NaN", call, RT_EINVAL, MSG_NAN);                             \
        }                                                                                   \
        for (i_ = 0; i_ < ARRAY_LEN(negative_timeouts); i_++) {                             \
            double T = negative_timeouts[i_];                                               \
            BAD_WITH(describe(w_, sizeof w_, "timeout", T), call, RT_EINVAL, (neg_msg));    \
        }                                                                                   \
        for (i_ = 0; i_ < ARRAY_LEN(huge_timeouts); i_++) {                                 \
            double T = huge_timeouts[i_];                                                   \
            BAD_WITH(describe(w_, sizeof w_, "timeout", T), call, RT_EOVERFLOW, MSG_OVER);  \
        }                                                                                   \
    } while (0)

/* A Lock-style `(int wait, double timeout)` call (`W`, `T` in `call`), checked in CPython's
 * order: NaN, then |timeout| above RT_TIMEOUT_MAX, then a timeout with `wait` zero, then a
 * negative timeout other than -1. */
#define BAD_ACQUIRE_ARGS(W, T, call)                                                        \
    do {                                                                                    \
        char w_[64];                                                                        \
        size_t i_;                                                                          \
        int W;                                                                              \
        double T;                                                                           \
        for (W = 0; W <= 1; W++) {                                                          \
            T = NAN;                                                                        \
            BAD_WITH(W ? "wait 1, timeout NaN" : "wait 0, timeout NaN", call, RT_EINVAL,    \
                     MSG_NAN);                                                              \
            for (i_ = 0; i_ < ARRAY_LEN(lock_huge_timeouts); i_++) {                        \
                T = lock_huge_timeouts[i_];                                                 \
                BAD_WITH(describe(w_, sizeof w_, W ? "wait 1, timeout" : "wait 0, timeout", \
                                  T),                                                       \
                         call, RT_EOVERFLOW, MSG_OVER);                                     \
            }                                                                               \
        }                                                                                   \
        W = 0;                                                                              \
        for (i_ = 0; i_ < ARRAY_LEN(nonblocking_timeouts); i_++) {                          \
            T = nonblocking_timeouts[i_];                                                   \
            BAD_WITH(describe(w_, sizeof w_, "wait 0, timeout", T), call, RT_EINVAL,        \
                     MSG_NONBLOCKING);                                                      \
        }                                                                                   \
        for (i_ = 0; i_ < ARRAY_LEN(lock_negative_timeouts); i_++) {                        \
            T = lock_negative_timeouts[i_];                                                 \
            W = 1;                                                                          \
            BAD_WITH(describe(w_, sizeof w_, "wait 1, timeout", T), call, RT_EINVAL,        \
                     MSG_NEG);                                                              \
            W = INT_MIN; /* any non-zero wait blocks */                                     \
            BAD_WITH(describe(w_, sizeof w_, "wait INT_MIN, timeout", T), call, RT_EINVAL,  \
                     MSG_NEG);                                                              \
        }                                                                                   \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Helpers: a thread that holds a lock while the main thread misuses it; a foreign thread's
 * dummy; callbacks.
 */
struct holder {
    void *obj;
    enum kind kind;
    rt_event *held, *go;
    rt_status acquired, released;
};

static void hold_fn(void *arg) {
    struct holder *h = arg;
    h->acquired = h->kind == K_RLOCK ? rt_rlock_acquire(h->obj, 1, RT_FOREVER)
                                     : rt_condition_acquire(h->obj, 1, RT_FOREVER);
    rt_event_set(h->held);
    rt_event_wait(h->go, RT_FOREVER);
    h->released = h->kind == K_RLOCK ? rt_rlock_release(h->obj) : rt_condition_release(h->obj);
}

/* Starts a thread that acquires `obj` (an rlock or a condition) and holds it until
 * holder_stop. */
static rt_thread *holder_start(struct holder *h, enum kind kind, void *obj) {
    rt_thread *t;
    h->obj = obj;
    h->kind = kind;
    h->acquired = h->released = RT_EINVAL;
    CHECK_OK(rt_event_new(&h->held));
    CHECK_OK(rt_event_new(&h->go));
    CHECK_OK(rt_thread_new(hold_fn, h, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_event_wait(h->held, 10.0));
    CHECK_OK(h->acquired);
    return t;
}

static void holder_stop(struct holder *h, rt_thread *t) {
    CHECK_OK(rt_event_set(h->go));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(h->released);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_event_free(h->held));
    CHECK_OK(rt_event_free(h->go));
}

static void *get_dummy(void *out) {
    if (rt_current_thread(out) != RT_OK) abort();
    return NULL;
}

/* A foreign thread's object (its dummy), after that thread ended. */
static rt_thread *foreign_dummy(void) {
    pthread_t pt;
    rt_thread *d = NULL;
    CHECK(pthread_create(&pt, NULL, get_dummy, &d) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK(d != NULL);
    return d;
}

static rt_thread *main_thread(void) {
    rt_thread *m;
    CHECK_OK(rt_main_thread(&m));
    return m;
}

static void nothing(void *arg) {
    (void)arg;
}

static void set_flag(void *arg) {
    ATOMIC_STORE((int *)arg, 1);
}

static int pred_calls;
static int pred_false(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&pred_calls, 1);
    return 0;
}
static int pred_true(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&pred_calls, 1);
    return 1;
}

static int compare_pointers(const void *a, const void *b) {
    return (const char *)a < (const char *)b ? -1 : (const char *)a > (const char *)b;
}

static int item_destroyed;
static void destroy_item(void *item) {
    (void)item;
    ATOMIC_ADD(&item_destroyed, 1);
}

#define ITEM(n) ((void *)(uintptr_t)(n))

/* The message of a thread start the system refused: "can't start new thread: ", the system's
 * text for its errno, and the errno. Which errno is the system's choice (glibc says EAGAIN,
 * valgrind EINVAL): it is read from the message just recorded, and must be non-zero. */
static const char *cannot_start(char *buf, size_t len) {
    const char *paren = strrchr(rt_last_error(), '(');
    int err = 0;
    if (paren == NULL || sscanf(paren, "(errno %d)", &err) != 1 || err == 0)
        snprintf(buf, len, "can't start new thread: <the system's reason> (errno <non-zero>)");
    else
        snprintf(buf, len, "can't start new thread: %s (errno %d)", strerror(err), err);
    return buf;
}

/* A stack size the platform accepts but cannot give a thread (it exceeds the address space),
 * as `_thread.stack_size(2**62)` is accepted and the next start fails. */
#define IMPOSSIBLE_STACK ((size_t)1 << 62)

/* =============================================================================================
 * Barrier
 */
static int action_calls;
static int count_action(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&action_calls, 1);
    return 0;
}

static void bad_input_rt_barrier_new(void) {
    rt_barrier *b = SENTINEL;
    BAD(rt_barrier_new(0, NULL, NULL, RT_FOREVER, &b), RT_EINVAL, "parties must be > 0");
    BAD(rt_barrier_new(0, count_action, NULL, 1.0, &b), RT_EINVAL, "parties must be > 0");
    BAD(rt_barrier_new(2, NULL, NULL, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_barrier_new(0, NULL, NULL, NAN, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_barrier_new(2, count_action, NULL, T, &b), MSG_NEG);
    CHECK(b == SENTINEL);
    CHECK_EQ_INT(action_calls, 0);
    /* The edges that are fine: the most parties, the longest default, a NULL action. */
    CHECK_OK(rt_barrier_new(SIZE_MAX, NULL, NULL, RT_TIMEOUT_MAX, &b));
    CHECK(rt_barrier_parties(b) == SIZE_MAX);
    CHECK_OK(rt_barrier_free(b));
    CHECK_OK(rt_barrier_new(1, NULL, NULL, 0.0, &b));
    CHECK_OK(rt_barrier_free(b));
}

static void bad_input_rt_barrier_free(void) {
    zoo_new();
    CHECK_OK(rt_barrier_free(NULL));
    BAD_KINDS(K_BARRIER, rt_barrier, h, rt_barrier_free(h));
    zoo_free();
}

static void bad_input_rt_barrier_wait(void) {
    rt_barrier *b;
    size_t index = 77;
    zoo_new();
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &b));
    BAD_HANDLES(K_BARRIER, rt_barrier, h, rt_barrier_wait(h, RT_FOREVER, &index));
    BAD_TIMEOUTS(T, rt_barrier_wait(b, T, &index), MSG_NEG);
    BAD_TIMEOUTS(T, rt_barrier_wait(b, T, NULL), MSG_NEG);
    CHECK_EQ_INT(index, 77);
    /* None of them arrived: the barrier is empty and intact. */
    CHECK_EQ_INT(rt_barrier_n_waiting(b), 0);
    CHECK(!rt_barrier_broken(b));
    /* The timeout is checked before the barrier's state. */
    CHECK_OK(rt_barrier_abort(b));
    BAD_TIMEOUTS(T, rt_barrier_wait(b, T, &index), MSG_NEG);
    CHECK_ERR(rt_barrier_wait(b, RT_FOREVER, &index), RT_EBROKEN, "barrier is broken");
    CHECK_EQ_INT(index, 77);
    CHECK_OK(rt_barrier_free(b));
    /* A NULL index is fine. */
    CHECK_OK(rt_barrier_new(1, NULL, NULL, RT_FOREVER, &b));
    CHECK_OK(rt_barrier_wait(b, RT_FOREVER, NULL));
    CHECK_OK(rt_barrier_wait(b, 0.0, &index));
    CHECK_EQ_INT(index, 0);
    CHECK_OK(rt_barrier_free(b));
    zoo_free();
}

static void bad_input_rt_barrier_reset(void) {
    zoo_new();
    BAD_HANDLES(K_BARRIER, rt_barrier, h, rt_barrier_reset(h));
    zoo_free();
}

static void bad_input_rt_barrier_abort(void) {
    zoo_new();
    BAD_HANDLES(K_BARRIER, rt_barrier, h, rt_barrier_abort(h));
    zoo_free();
}

static void bad_input_rt_barrier_parties(void) {
    zoo_new();
    BAD_QUERY(K_BARRIER, const rt_barrier, h, rt_barrier_parties(h), 0);
    zoo_free();
}

static void bad_input_rt_barrier_n_waiting(void) {
    zoo_new();
    BAD_QUERY(K_BARRIER, const rt_barrier, h, rt_barrier_n_waiting(h), 0);
    zoo_free();
}

static void bad_input_rt_barrier_broken(void) {
    zoo_new();
    BAD_QUERY(K_BARRIER, const rt_barrier, h, rt_barrier_broken(h), false);
    zoo_free();
}

/* =============================================================================================
 * Condition
 */
static void bad_input_rt_condition_new(void) {
    BAD(rt_condition_new(NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_condition_new_with_lock(void) {
    rt_lock *l;
    rt_condition *c = SENTINEL;
    zoo_new();
    /* Every other kind, the rlock included, is refused and not borrowed (zoo_free frees it). */
    BAD_HANDLES(K_LOCK, rt_lock, h, rt_condition_new_with_lock(h, &c));
    BAD_HANDLES(K_LOCK, rt_lock, h, rt_condition_new_with_lock(h, NULL));
    CHECK(c == SENTINEL);
    CHECK_OK(rt_lock_new(&l));
    BAD(rt_condition_new_with_lock(l, NULL), RT_EINVAL, MSG_OUT);
    /* The lock was not borrowed: it can be freed. */
    CHECK_OK(rt_lock_free(l));
    zoo_free();
}

static void bad_input_rt_condition_new_with_rlock(void) {
    rt_rlock *rl;
    rt_condition *c = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_RLOCK, rt_rlock, h, rt_condition_new_with_rlock(h, &c));
    BAD_HANDLES(K_RLOCK, rt_rlock, h, rt_condition_new_with_rlock(h, NULL));
    CHECK(c == SENTINEL);
    CHECK_OK(rt_rlock_new(&rl));
    BAD(rt_condition_new_with_rlock(rl, NULL), RT_EINVAL, MSG_OUT);
    CHECK_OK(rt_rlock_free(rl));
    zoo_free();
}

static void bad_input_rt_condition_free(void) {
    zoo_new();
    CHECK_OK(rt_condition_free(NULL));
    BAD_KINDS(K_CONDITION, rt_condition, h, rt_condition_free(h));
    zoo_free();
}

static void bad_input_rt_condition_acquire(void) {
    rt_condition *c, *cl;
    rt_lock *l;
    zoo_new();
    CHECK_OK(rt_condition_new(&c));
    BAD_HANDLES(K_CONDITION, rt_condition, h, rt_condition_acquire(h, 1, RT_FOREVER));
    /* The arguments of rt_lock_acquire, with its errors: not taken, not re-entered. */
    BAD_ACQUIRE_ARGS(W, T, rt_condition_acquire(c, W, T));
    BAD(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    BAD_ACQUIRE_ARGS(W, T, rt_condition_acquire(c, W, T));
    CHECK_OK(rt_condition_release(c));
    BAD(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    /* On a plain lock, free or held: never blocks, never takes it. */
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &cl));
    BAD_ACQUIRE_ARGS(W, T, rt_condition_acquire(cl, W, T));
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    BAD_ACQUIRE_ARGS(W, T, rt_condition_acquire(cl, W, T));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_condition_free(cl));
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_condition_free(c));
    zoo_free();
}

static void bad_input_rt_condition_release(void) {
    rt_condition *c, *cl;
    rt_lock *l;
    rt_thread *t;
    struct holder hd;
    zoo_new();
    BAD_HANDLES(K_CONDITION, rt_condition, h, rt_condition_release(h));
    /* Its own RLock: not owned, released once too often, owned by another thread. */
    CHECK_OK(rt_condition_new(&c));
    BAD(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_release(c));
    BAD(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    t = holder_start(&hd, K_CONDITION, c);
    BAD(rt_condition_release(c), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_STATUS(rt_condition_acquire(c, 0, RT_FOREVER), RT_TIMEOUT); /* still held */
    holder_stop(&hd, t);
    CHECK_OK(rt_condition_free(c));
    /* A plain lock that is not locked. */
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &cl));
    BAD(rt_condition_release(cl), RT_ENOTLOCKED, "release unlocked lock");
    CHECK_OK(rt_condition_acquire(cl, 1, RT_FOREVER));
    CHECK_OK(rt_condition_release(cl));
    BAD(rt_condition_release(cl), RT_ENOTLOCKED, "release unlocked lock");
    CHECK_OK(rt_condition_free(cl));
    CHECK_OK(rt_lock_free(l));
    zoo_free();
}

static void bad_input_rt_condition_wait(void) {
    rt_condition *c, *cl;
    rt_rlock *rl;
    rt_lock *l;
    zoo_new();
    BAD_HANDLES(K_CONDITION, rt_condition, h, rt_condition_wait(h, RT_FOREVER));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    /* Not owned: refused first, whatever the timeout. */
    BAD(rt_condition_wait(c, RT_FOREVER), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    BAD(rt_condition_wait(c, NAN), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    BAD(rt_condition_wait(c, -2.0), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    BAD(rt_condition_wait(c, INFINITY), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    /* Owned twice: bad timeouts leave the lock as it was. */
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    BAD_TIMEOUTS(T, rt_condition_wait(c, T), MSG_NEG);
    CHECK_EQ_INT(rt_rlock_count(rl), 2);
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_release(c));
    CHECK_EQ_INT(rt_rlock_count(rl), 0);
    /* A plain lock that nobody holds is not owned. */
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &cl));
    BAD(rt_condition_wait(cl, RT_FOREVER), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    BAD_TIMEOUTS(T, rt_condition_wait(cl, T), MSG_NEG);
    CHECK(rt_lock_locked(l));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_condition_free(cl));
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
    zoo_free();
}

static void bad_input_rt_condition_wait_for(void) {
    rt_condition *c;
    zoo_new();
    CHECK_OK(rt_condition_new(&c));
    BAD_HANDLES(K_CONDITION, rt_condition, h, rt_condition_wait_for(h, pred_true, NULL, 0.0));
    BAD_HANDLES(K_CONDITION, rt_condition, h,
                rt_condition_wait_for(h, pred_false, NULL, RT_FOREVER));
    CHECK_EQ_INT(pred_calls, 0);
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    BAD(rt_condition_wait_for(c, NULL, NULL, RT_FOREVER), RT_EINVAL,
        "predicate must be callable");
    BAD(rt_condition_wait_for(c, NULL, NULL, 0.0), RT_EINVAL, "predicate must be callable");
    /* The arguments are checked before the predicate is first called. */
    BAD_TIMEOUTS(T, rt_condition_wait_for(c, pred_false, NULL, T), MSG_NEG);
    BAD_TIMEOUTS(T, rt_condition_wait_for(c, pred_true, NULL, T), MSG_NEG);
    CHECK_EQ_INT(pred_calls, 0);
    CHECK_OK(rt_condition_release(c));
    /* Not owned, and the predicate is false: refused rather than waiting. */
    BAD(rt_condition_wait_for(c, pred_false, NULL, RT_FOREVER), RT_ENOTOWNER,
        "cannot wait on un-acquired lock");
    BAD(rt_condition_wait_for(c, pred_false, NULL, 5.0), RT_ENOTOWNER,
        "cannot wait on un-acquired lock");
    BAD(rt_condition_wait_for(c, NULL, NULL, RT_FOREVER), RT_EINVAL,
        "predicate must be callable");
    CHECK_OK(rt_condition_free(c));
    zoo_free();
}

static void bad_input_rt_condition_notify(void) {
    rt_condition *c;
    zoo_new();
    BAD_HANDLES(K_CONDITION, rt_condition, h, rt_condition_notify(h, 1));
    CHECK_OK(rt_condition_new(&c));
    /* Ownership is checked first, even for n = 0 (as CPython does). */
    BAD(rt_condition_notify(c, 1), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    BAD(rt_condition_notify(c, 0), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    BAD(rt_condition_notify(c, SIZE_MAX), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    CHECK_OK(rt_condition_acquire(c, 1, RT_FOREVER));
    CHECK_OK(rt_condition_notify(c, 0));
    CHECK_OK(rt_condition_notify(c, SIZE_MAX));
    CHECK_OK(rt_condition_release(c));
    CHECK_OK(rt_condition_free(c));
    zoo_free();
}

static void bad_input_rt_condition_notify_all(void) {
    rt_condition *c;
    zoo_new();
    BAD_HANDLES(K_CONDITION, rt_condition, h, rt_condition_notify_all(h));
    CHECK_OK(rt_condition_new(&c));
    BAD(rt_condition_notify_all(c), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    CHECK_OK(rt_condition_free(c));
    zoo_free();
}

/* =============================================================================================
 * Embedding
 */
static int before_calls, after_calls;
static void count_before(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&before_calls, 1);
}
static void count_after(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&after_calls, 1);
}

/* Makes the calling thread really block once: it waits without bound on an event that a helper
 * thread sets only once the caller sleeps. */
struct waker {
    rt_event *event;
    long tid;
};

static void wake_when_asleep(void *arg) {
    struct waker *w = arg;
    WAIT_UNTIL(rt_test_sleeps_in_futex(w->tid), 60.0);
    if (rt_event_set(w->event) != RT_OK) abort();
}

static void block_once(void) {
    struct waker w;
    rt_thread *t;
    CHECK_OK(rt_event_new(&w.event));
    w.tid = (long)rt_get_native_id();
    CHECK_OK(rt_thread_new(wake_when_asleep, &w, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_event_wait(w.event, RT_FOREVER));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_event_free(w.event));
}

static void bad_input_rt_set_blocking_hooks(void) {
    /* Either hook may be NULL, and so may the context. */
    rt_set_blocking_hooks(count_before, NULL, NULL);
    block_once();
    CHECK(ATOMIC_LOAD(&before_calls) >= 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_calls), 0);
    rt_set_blocking_hooks(NULL, count_after, NULL);
    ATOMIC_STORE(&before_calls, 0);
    block_once();
    CHECK_EQ_INT(ATOMIC_LOAD(&before_calls), 0);
    CHECK(ATOMIC_LOAD(&after_calls) >= 1);
    rt_set_blocking_hooks(NULL, NULL, NULL);
    ATOMIC_STORE(&after_calls, 0);
    block_once();
    CHECK_EQ_INT(ATOMIC_LOAD(&before_calls) + ATOMIC_LOAD(&after_calls), 0);
}

static void bad_input_rt_thread_interrupt(void) {
    rt_thread *t, *timer;
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_thread_interrupt(h));
    /* Not started: a thread object, a timer. */
    BAD(rt_thread_interrupt(zoo[K_THREAD]), RT_ESTATE,
        "cannot interrupt a thread that is not running");
    CHECK_OK(rt_timer_new(10.0, nothing, NULL, &timer));
    BAD(rt_thread_interrupt(timer), RT_ESTATE, "cannot interrupt a thread that is not running");
    CHECK_OK(rt_thread_release(timer));
    /* Finished: nothing happens; a foreign thread's dummy after that thread ended too. */
    CHECK_OK(rt_thread_new(nothing, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_interrupt(t));
    CHECK_OK(rt_thread_release(t));
    t = foreign_dummy();
    CHECK(!rt_thread_is_alive(t));
    CHECK_OK(rt_thread_interrupt(t));
    CHECK_OK(rt_thread_release(t));
    zoo_free();
}

static void bad_input_rt_interrupt_main(void) {
    rt_lock *l;
    double t0;
    CHECK_OK(rt_lock_new(&l));
    /* From the main thread itself: its next real block ends with RT_EINTR; an uncontended
     * acquire does not block and leaves the interrupt pending. */
    CHECK_OK(rt_interrupt_main());
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_ERR(rt_lock_acquire(l, 1, 5.0), RT_EINTR, "interrupted");
    CHECK_ELAPSED(t0, 0.0, 4.0);
    /* One interrupt ends one wait. */
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.01), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

/* =============================================================================================
 * Version, once, signals
 */
static void bad_input_rt_version(void) {
    prime_last_error();
    /* No input to refuse: the loaded library is the one the header describes. */
    CHECK(rt_version() == RTHREAD_VERSION_NUMBER);
    CHECK(strcmp(rt_last_error(), PRIMED) == 0);
}

static void bad_input_rt_version_str(void) {
    prime_last_error();
    CHECK(rt_version_str() != NULL && strcmp(rt_version_str(), RTHREAD_VERSION_STRING) == 0);
    CHECK(strcmp(rt_last_error(), PRIMED) == 0);
}

static int once_runs;

static void once_count(void *arg) {
    (void)arg;
    once_runs++;
}

static void bad_input_rt_once(void) {
    static rt_once_flag once = RT_ONCE_INIT;
    rt_once_flag garbage;
    BAD(rt_once(NULL, once_count, NULL), RT_EINVAL, MSG_NULL);
    BAD(rt_once(&once, NULL, NULL), RT_EINVAL, "NULL function");
    memset(&garbage, 0x5a, sizeof garbage);
    BAD(rt_once(&garbage, once_count, NULL), RT_EINVAL,
        "rt_once flag not initialised with RT_ONCE_INIT");
    CHECK(once_runs == 0);
    /* The refused calls left the flag as it was: the function still runs once. */
    CHECK_OK(rt_once(&once, once_count, NULL));
    CHECK_OK(rt_once(&once, once_count, NULL));
    CHECK(once_runs == 1);
}

static void bad_input_rt_interrupt_main_on_signal(void) {
    static const int not_signals[] = { 0, -1, 65, 1000, INT_MAX, INT_MIN, SIGKILL, SIGSTOP };
    size_t i;
    for (i = 0; i < ARRAY_LEN(not_signals); i++)
        BAD(rt_interrupt_main_on_signal(not_signals[i]), RT_EINVAL, "invalid signal number");
}

/* =============================================================================================
 * Event
 */
static void bad_input_rt_event_new(void) {
    BAD(rt_event_new(NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_event_free(void) {
    zoo_new();
    CHECK_OK(rt_event_free(NULL));
    BAD_KINDS(K_EVENT, rt_event, h, rt_event_free(h));
    zoo_free();
}

static void bad_input_rt_event_set(void) {
    zoo_new();
    BAD_HANDLES(K_EVENT, rt_event, h, rt_event_set(h));
    zoo_free();
}

static void bad_input_rt_event_clear(void) {
    zoo_new();
    BAD_HANDLES(K_EVENT, rt_event, h, rt_event_clear(h));
    zoo_free();
}

static void bad_input_rt_event_is_set(void) {
    zoo_new();
    BAD_QUERY(K_EVENT, const rt_event, h, rt_event_is_set(h), false);
    zoo_free();
}

static void bad_input_rt_event_wait(void) {
    rt_event *e;
    zoo_new();
    BAD_HANDLES(K_EVENT, rt_event, h, rt_event_wait(h, RT_FOREVER));
    CHECK_OK(rt_event_new(&e));
    BAD_TIMEOUTS(T, rt_event_wait(e, T), MSG_NEG);
    /* Checked even when the flag is set. */
    CHECK_OK(rt_event_set(e));
    BAD_TIMEOUTS(T, rt_event_wait(e, T), MSG_NEG);
    CHECK_OK(rt_event_free(e));
    zoo_free();
}

/* =============================================================================================
 * Thread-local data
 */
static void bad_input_rt_local_new(void) {
    BAD(rt_local_new(NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_local_new(nothing, NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_local_get(void) {
    rt_local *lo;
    void *v = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_LOCAL, const rt_local, h, rt_local_get(h, &v));
    BAD_HANDLES(K_LOCAL, const rt_local, h, rt_local_get(h, NULL));
    CHECK(v == SENTINEL);
    CHECK_OK(rt_local_new(NULL, &lo));
    BAD(rt_local_get(lo, NULL), RT_EINVAL, MSG_OUT);
    CHECK_OK(rt_local_get(lo, &v));
    CHECK(v == NULL);
    CHECK_OK(rt_local_free(lo));
    zoo_free();
}

static void bad_input_rt_local_set(void) {
    rt_local *lo;
    void *v = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_LOCAL, rt_local, h, rt_local_set(h, SENTINEL));
    /* The zoo's local was not set by any of them. */
    CHECK_OK(rt_local_get(zoo[K_LOCAL], &v));
    CHECK(v == NULL);
    /* NULL is a value (it clears), not an error; it calls no destructor. */
    item_destroyed = 0;
    CHECK_OK(rt_local_new(destroy_item, &lo));
    CHECK_OK(rt_local_set(lo, NULL));
    CHECK_OK(rt_local_free(lo));
    CHECK_EQ_INT(item_destroyed, 0);
    zoo_free();
}

static void bad_input_rt_local_free(void) {
    zoo_new();
    CHECK_OK(rt_local_free(NULL));
    BAD_KINDS(K_LOCAL, rt_local, h, rt_local_free(h));
    zoo_free();
}

/* =============================================================================================
 * Lock
 */
static void bad_input_rt_lock_new(void) {
    BAD(rt_lock_new(NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_lock_free(void) {
    rt_lock *l;
    rt_condition *c;
    zoo_new();
    CHECK_OK(rt_lock_free(NULL));
    BAD_KINDS(K_LOCK, rt_lock, h, rt_lock_free(h));
    /* Borrowed by a condition: refused, and kept. */
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_condition_new_with_lock(l, &c));
    BAD(rt_lock_free(l), RT_EBUSY, MSG_BUSY);
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_lock_free(l));
    zoo_free();
}

static void bad_input_rt_lock_acquire(void) {
    rt_lock *l;
    zoo_new();
    BAD_HANDLES(K_LOCK, rt_lock, h, rt_lock_acquire(h, 1, RT_FOREVER));
    BAD_HANDLES(K_LOCK, rt_lock, h, rt_lock_acquire(h, 0, RT_FOREVER));
    CHECK_OK(rt_lock_new(&l));
    BAD_ACQUIRE_ARGS(W, T, rt_lock_acquire(l, W, T));
    CHECK(!rt_lock_locked(l));
    /* Held: the same, and none of them blocks. */
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    BAD_ACQUIRE_ARGS(W, T, rt_lock_acquire(l, W, T));
    CHECK_OK(rt_lock_release(l));
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
    zoo_free();
}

static void bad_input_rt_lock_release(void) {
    rt_lock *l;
    zoo_new();
    BAD_HANDLES(K_LOCK, rt_lock, h, rt_lock_release(h));
    CHECK_OK(rt_lock_new(&l));
    BAD(rt_lock_release(l), RT_ENOTLOCKED, "release unlocked lock");
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_lock_release(l));
    BAD(rt_lock_release(l), RT_ENOTLOCKED, "release unlocked lock");
    CHECK(!rt_lock_locked(l));
    CHECK_OK(rt_lock_free(l));
    zoo_free();
}

static void bad_input_rt_lock_locked(void) {
    zoo_new();
    BAD_QUERY(K_LOCK, const rt_lock, h, rt_lock_locked(h), false);
    zoo_free();
}

/* =============================================================================================
 * Queues
 */

/* A bound whose room cannot be reserved: its size in bytes exceeds what an allocation may
 * ask for, so it fails without reaching the allocator. */
static const size_t impossible_bounds[] = { SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 4 };

static void bad_input_rt_queue_new(void) {
    rt_queue *q = SENTINEL;
    size_t i;
    BAD(rt_queue_new(0, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_queue_new(4, destroy_item, NULL), RT_EINVAL, MSG_OUT);
    for (i = 0; i < ARRAY_LEN(impossible_bounds); i++)
        BAD(rt_queue_new(impossible_bounds[i], destroy_item, &q), RT_ENOMEM, "out of memory");
    CHECK(q == SENTINEL);
    CHECK_EQ_INT(item_destroyed, 0);
}

static void bad_input_rt_lifo_queue_new(void) {
    rt_queue *q = SENTINEL;
    size_t i;
    BAD(rt_lifo_queue_new(0, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_lifo_queue_new(4, destroy_item, NULL), RT_EINVAL, MSG_OUT);
    for (i = 0; i < ARRAY_LEN(impossible_bounds); i++)
        BAD(rt_lifo_queue_new(impossible_bounds[i], NULL, &q), RT_ENOMEM, "out of memory");
    CHECK(q == SENTINEL);
}

static void bad_input_rt_priority_queue_new(void) {
    rt_queue *q = SENTINEL;
    size_t i;
    BAD(rt_priority_queue_new(0, compare_pointers, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_priority_queue_new(0, NULL, NULL, &q), RT_EINVAL, "the comparator must not be NULL");
    BAD(rt_priority_queue_new(4, NULL, destroy_item, &q), RT_EINVAL,
        "the comparator must not be NULL");
    for (i = 0; i < ARRAY_LEN(impossible_bounds); i++)
        BAD(rt_priority_queue_new(impossible_bounds[i], compare_pointers, NULL, &q), RT_ENOMEM,
            "out of memory");
    CHECK(q == SENTINEL);
}

static void bad_input_rt_simple_queue_new(void) {
    BAD(rt_simple_queue_new(NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_simple_queue_new(destroy_item, NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_queue_free(void) {
    zoo_new();
    CHECK_OK(rt_queue_free(NULL));
    BAD_KINDS(K_QUEUE, rt_queue, h, rt_queue_free(h));
    zoo_free();
}

static void bad_input_rt_queue_put(void) {
    rt_queue *q, *u, *s;
    zoo_new();
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_put(h, ITEM(1), 1, RT_FOREVER));
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_put(h, ITEM(1), 0, NAN));
    /* A bounded queue checks the timeout of a blocking put, even with room. */
    CHECK_OK(rt_queue_new(2, NULL, &q));
    BAD_TIMEOUTS(T, rt_queue_put(q, ITEM(1), 1, T), MSG_QNEG);
    CHECK_EQ_INT(rt_queue_qsize(q), 0);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    /* A non-blocking put ignores the timeout. */
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, NAN));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, -2.0));
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, NAN), RT_EFULL, "queue is full");
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, INFINITY), RT_EFULL, "queue is full");
    /* Full: the timeout is checked before any wait. */
    BAD_TIMEOUTS(T, rt_queue_put(q, ITEM(3), 1, T), MSG_QNEG);
    CHECK_EQ_INT(rt_queue_qsize(q), 2);
    /* Shut down: refused first, whatever the timeout. */
    CHECK_OK(rt_queue_shutdown(q, 0));
    BAD(rt_queue_put(q, ITEM(3), 1, RT_FOREVER), RT_ESHUTDOWN, "queue is shut down");
    BAD(rt_queue_put(q, ITEM(3), 1, NAN), RT_ESHUTDOWN, "queue is shut down");
    BAD(rt_queue_put(q, ITEM(3), 0, -2.0), RT_ESHUTDOWN, "queue is shut down");
    CHECK_OK(rt_queue_free(q));
    /* Unbounded and simple queues ignore wait and timeout entirely. */
    CHECK_OK(rt_queue_new(0, NULL, &u));
    CHECK_OK(rt_simple_queue_new(NULL, &s));
    CHECK_OK(rt_queue_put(u, ITEM(1), 1, NAN));
    CHECK_OK(rt_queue_put(u, ITEM(1), 1, -2.0));
    CHECK_OK(rt_queue_put(u, ITEM(1), 1, INFINITY));
    CHECK_OK(rt_queue_put(s, ITEM(1), 1, NAN));
    CHECK_OK(rt_queue_put(s, ITEM(1), 1, -INFINITY));
    CHECK_OK(rt_queue_put(s, ITEM(1), 0, 5.0));
    CHECK_OK(rt_queue_free(u));
    CHECK_OK(rt_queue_free(s));
    zoo_free();
}

static void bad_input_rt_queue_get(void) {
    rt_queue *q, *s;
    void *item = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_get(h, 1, RT_FOREVER, &item));
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_get(h, 1, RT_FOREVER, NULL));
    CHECK_OK(rt_queue_new(2, NULL, &q));
    CHECK_OK(rt_simple_queue_new(NULL, &s));
    /* Empty: a NULL output and bad timeouts are refused before any wait. */
    BAD(rt_queue_get(q, 1, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_queue_get(q, 1, T, &item), MSG_QNEG);
    BAD_TIMEOUTS(T, rt_queue_get(s, 1, T, &item), MSG_QNEG);
    /* A non-blocking get ignores the timeout. */
    CHECK_ERR(rt_queue_get(q, 0, NAN, &item), RT_EEMPTY, "queue is empty");
    CHECK_ERR(rt_queue_get(s, 0, -2.0, &item), RT_EEMPTY, "queue is empty");
    /* With items: the same errors, and the items stay. */
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, RT_FOREVER));
    CHECK_OK(rt_queue_put(s, ITEM(1), 1, RT_FOREVER));
    BAD(rt_queue_get(q, 1, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_queue_get(q, 0, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_queue_get(q, 1, T, &item), MSG_QNEG);
    BAD_TIMEOUTS(T, rt_queue_get(s, 1, T, &item), MSG_QNEG);
    CHECK(item == SENTINEL);
    CHECK_EQ_INT(rt_queue_qsize(q), 1);
    CHECK_EQ_INT(rt_queue_qsize(s), 1);
    /* Shut down: the items left come out; then refused, before the timeout is looked at. */
    CHECK_OK(rt_queue_shutdown(q, 0));
    CHECK_OK(rt_queue_get(q, 0, NAN, &item));
    CHECK(item == ITEM(1));
    item = SENTINEL;
    BAD(rt_queue_get(q, 1, RT_FOREVER, &item), RT_ESHUTDOWN, "queue is shut down");
    BAD(rt_queue_get(q, 1, NAN, &item), RT_ESHUTDOWN, "queue is shut down");
    BAD(rt_queue_get(q, 1, -2.0, &item), RT_ESHUTDOWN, "queue is shut down");
    BAD(rt_queue_get(q, 0, RT_FOREVER, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK(item == SENTINEL);
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_queue_free(s));
    zoo_free();
}

static void bad_input_rt_queue_qsize(void) {
    zoo_new();
    BAD_QUERY(K_QUEUE, const rt_queue, h, rt_queue_qsize(h), 0);
    zoo_free();
}

static void bad_input_rt_queue_empty(void) {
    zoo_new();
    BAD_QUERY(K_QUEUE, const rt_queue, h, rt_queue_empty(h), true);
    zoo_free();
}

static void bad_input_rt_queue_full(void) {
    zoo_new();
    BAD_QUERY(K_QUEUE, const rt_queue, h, rt_queue_full(h), false);
    zoo_free();
}

static void bad_input_rt_queue_maxsize(void) {
    zoo_new();
    BAD_QUERY(K_QUEUE, const rt_queue, h, rt_queue_maxsize(h), 0);
    zoo_free();
}

static void bad_input_rt_queue_task_done(void) {
    rt_queue *q, *s;
    void *item;
    zoo_new();
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_task_done(h));
    CHECK_OK(rt_queue_new(0, NULL, &q));
    BAD(rt_queue_task_done(q), RT_EOVERRELEASE, "task_done() called too many times");
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, RT_FOREVER));
    CHECK_OK(rt_queue_get(q, 1, RT_FOREVER, &item));
    CHECK_OK(rt_queue_task_done(q));
    BAD(rt_queue_task_done(q), RT_EOVERRELEASE, "task_done() called too many times");
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    CHECK_OK(rt_queue_join_timeout(q, 0.0));
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_simple_queue_new(NULL, &s));
    BAD(rt_queue_task_done(s), RT_EINVAL,
        "'_queue.SimpleQueue' object has no attribute 'task_done'");
    CHECK_OK(rt_queue_free(s));
    zoo_free();
}

static void bad_input_rt_queue_unfinished_tasks(void) {
    zoo_new();
    BAD_QUERY(K_QUEUE, const rt_queue, h, rt_queue_unfinished_tasks(h), 0);
    zoo_free();
}

static void bad_input_rt_queue_join(void) {
    rt_queue *s;
    zoo_new();
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_join(h));
    CHECK_OK(rt_simple_queue_new(NULL, &s));
    CHECK_OK(rt_queue_put(s, ITEM(1), 1, RT_FOREVER));
    BAD(rt_queue_join(s), RT_EINVAL, "'_queue.SimpleQueue' object has no attribute 'join'");
    CHECK_OK(rt_queue_free(s));
    zoo_free();
}

static void bad_input_rt_queue_join_timeout(void) {
    rt_queue *q, *s;
    zoo_new();
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_join_timeout(h, RT_FOREVER));
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_join_timeout(h, NAN));
    /* A simple queue is refused before its timeout is looked at. */
    CHECK_OK(rt_simple_queue_new(NULL, &s));
    BAD(rt_queue_join_timeout(s, 0.0), RT_EINVAL,
        "'_queue.SimpleQueue' object has no attribute 'join'");
    BAD(rt_queue_join_timeout(s, NAN), RT_EINVAL,
        "'_queue.SimpleQueue' object has no attribute 'join'");
    CHECK_OK(rt_queue_free(s));
    /* The timeout is checked before any wait: with no task and with one. */
    CHECK_OK(rt_queue_new(0, NULL, &q));
    BAD_TIMEOUTS(T, rt_queue_join_timeout(q, T), MSG_QNEG);
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, RT_FOREVER));
    BAD_TIMEOUTS(T, rt_queue_join_timeout(q, T), MSG_QNEG);
    CHECK_OK(rt_queue_free(q));
    zoo_free();
}

static void bad_input_rt_queue_shutdown(void) {
    rt_queue *q, *s;
    zoo_new();
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_shutdown(h, 0));
    BAD_HANDLES(K_QUEUE, rt_queue, h, rt_queue_shutdown(h, 1));
    CHECK_OK(rt_simple_queue_new(destroy_item, &s));
    CHECK_OK(rt_queue_put(s, ITEM(1), 1, RT_FOREVER));
    BAD(rt_queue_shutdown(s, 0), RT_EINVAL,
        "'_queue.SimpleQueue' object has no attribute 'shutdown'");
    BAD(rt_queue_shutdown(s, 1), RT_EINVAL,
        "'_queue.SimpleQueue' object has no attribute 'shutdown'");
    CHECK_EQ_INT(rt_queue_qsize(s), 1);
    CHECK_EQ_INT(item_destroyed, 0);
    CHECK_OK(rt_queue_free(s));
    CHECK_EQ_INT(item_destroyed, 1);
    /* Any non-zero `immediate` means immediate. */
    CHECK_OK(rt_queue_new(0, destroy_item, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, RT_FOREVER));
    CHECK_OK(rt_queue_shutdown(q, INT_MIN));
    CHECK_EQ_INT(item_destroyed, 2);
    CHECK_EQ_INT(rt_queue_qsize(q), 0);
    CHECK_OK(rt_queue_free(q));
    zoo_free();
}

static void bad_input_rt_queue_is_shutdown(void) {
    zoo_new();
    BAD_QUERY(K_QUEUE, const rt_queue, h, rt_queue_is_shutdown(h), false);
    zoo_free();
}

/* =============================================================================================
 * RLock
 */
static void bad_input_rt_rlock_new(void) {
    BAD(rt_rlock_new(NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_rlock_free(void) {
    rt_rlock *rl;
    rt_condition *c;
    zoo_new();
    CHECK_OK(rt_rlock_free(NULL));
    BAD_KINDS(K_RLOCK, rt_rlock, h, rt_rlock_free(h));
    CHECK_OK(rt_rlock_new(&rl));
    CHECK_OK(rt_condition_new_with_rlock(rl, &c));
    BAD(rt_rlock_free(rl), RT_EBUSY, MSG_BUSY);
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_condition_free(c));
    CHECK_OK(rt_rlock_free(rl));
    zoo_free();
}

static void bad_input_rt_rlock_acquire(void) {
    rt_rlock *rl;
    zoo_new();
    BAD_HANDLES(K_RLOCK, rt_rlock, h, rt_rlock_acquire(h, 1, RT_FOREVER));
    BAD_HANDLES(K_RLOCK, rt_rlock, h, rt_rlock_acquire(h, 0, RT_FOREVER));
    CHECK_OK(rt_rlock_new(&rl));
    BAD_ACQUIRE_ARGS(W, T, rt_rlock_acquire(rl, W, T));
    CHECK(!rt_rlock_is_owned(rl));
    /* Owned: the arguments are checked before the re-entry. */
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    BAD_ACQUIRE_ARGS(W, T, rt_rlock_acquire(rl, W, T));
    CHECK_EQ_INT(rt_rlock_count(rl), 1);
    CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_rlock_free(rl));
    zoo_free();
}

static void bad_input_rt_rlock_release(void) {
    rt_rlock *rl;
    rt_thread *t;
    struct holder hd;
    zoo_new();
    BAD_HANDLES(K_RLOCK, rt_rlock, h, rt_rlock_release(h));
    CHECK_OK(rt_rlock_new(&rl));
    /* Nobody owns it. */
    BAD(rt_rlock_release(rl), RT_ENOTOWNER, "cannot release un-acquired lock");
    /* Released once more than acquired. */
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_acquire(rl, 1, RT_FOREVER));
    CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_rlock_release(rl));
    BAD(rt_rlock_release(rl), RT_ENOTOWNER, "cannot release un-acquired lock");
    /* Another thread owns it: refused, and it stays that thread's. */
    t = holder_start(&hd, K_RLOCK, rl);
    BAD(rt_rlock_release(rl), RT_ENOTOWNER, "cannot release un-acquired lock");
    CHECK_STATUS(rt_rlock_acquire(rl, 0, RT_FOREVER), RT_TIMEOUT);
    CHECK(!rt_rlock_is_owned(rl));
    holder_stop(&hd, t);
    CHECK_OK(rt_rlock_acquire(rl, 0, RT_FOREVER));
    CHECK_OK(rt_rlock_release(rl));
    CHECK_OK(rt_rlock_free(rl));
    zoo_free();
}

static void bad_input_rt_rlock_is_owned(void) {
    zoo_new();
    BAD_QUERY(K_RLOCK, const rt_rlock, h, rt_rlock_is_owned(h), false);
    zoo_free();
}

static void bad_input_rt_rlock_count(void) {
    zoo_new();
    BAD_QUERY(K_RLOCK, const rt_rlock, h, rt_rlock_count(h), 0);
    zoo_free();
}

/* =============================================================================================
 * Semaphore
 */
static void bad_input_rt_semaphore_new(void) {
    rt_semaphore *s = SENTINEL;
    BAD(rt_semaphore_new(-1, &s), RT_EINVAL, "semaphore initial value must be >= 0");
    BAD(rt_semaphore_new(INT64_MIN, &s), RT_EINVAL, "semaphore initial value must be >= 0");
    BAD(rt_semaphore_new(1, NULL), RT_EINVAL, MSG_OUT);
    CHECK(s == SENTINEL);
    CHECK_OK(rt_semaphore_new(INT64_MAX, &s));
    CHECK_EQ_INT(rt_semaphore_value(s), INT64_MAX);
    CHECK_OK(rt_semaphore_free(s));
}

static void bad_input_rt_bounded_semaphore_new(void) {
    rt_semaphore *s = SENTINEL;
    BAD(rt_bounded_semaphore_new(-1, &s), RT_EINVAL, "semaphore initial value must be >= 0");
    BAD(rt_bounded_semaphore_new(INT64_MIN, &s), RT_EINVAL,
        "semaphore initial value must be >= 0");
    BAD(rt_bounded_semaphore_new(1, NULL), RT_EINVAL, MSG_OUT);
    CHECK(s == SENTINEL);
    /* A bounded semaphore of 0 is a valid (if useless) object. */
    CHECK_OK(rt_bounded_semaphore_new(0, &s));
    BAD(rt_semaphore_release(s, 1), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_OK(rt_semaphore_free(s));
}

static void bad_input_rt_semaphore_free(void) {
    zoo_new();
    CHECK_OK(rt_semaphore_free(NULL));
    BAD_KINDS(K_SEMAPHORE, rt_semaphore, h, rt_semaphore_free(h));
    zoo_free();
}

static void bad_input_rt_semaphore_acquire(void) {
    rt_semaphore *s;
    size_t i;
    char w[64];
    zoo_new();
    BAD_HANDLES(K_SEMAPHORE, rt_semaphore, h, rt_semaphore_acquire(h, 1, RT_FOREVER));
    BAD_HANDLES(K_SEMAPHORE, rt_semaphore, h, rt_semaphore_acquire(h, 0, RT_FOREVER));
    CHECK_OK(rt_semaphore_new(0, &s));
    /* With a permit and without: no permit taken, no wait. */
    for (i = 0; i < 2; i++) {
        size_t j;
        /* A timeout with a non-blocking acquire is refused before its value is looked at. */
        BAD(rt_semaphore_acquire(s, 0, NAN), RT_EINVAL, MSG_SEM_NONBLOCKING);
        BAD(rt_semaphore_acquire(s, 0, INFINITY), RT_EINVAL, MSG_SEM_NONBLOCKING);
        BAD(rt_semaphore_acquire(s, 0, -INFINITY), RT_EINVAL, MSG_SEM_NONBLOCKING);
        for (j = 0; j < ARRAY_LEN(nonblocking_timeouts); j++)
            BAD_WITH(describe(w, sizeof w, "wait 0, timeout", nonblocking_timeouts[j]),
                     rt_semaphore_acquire(s, 0, nonblocking_timeouts[j]), RT_EINVAL,
                     MSG_SEM_NONBLOCKING);
        BAD_TIMEOUTS(T, rt_semaphore_acquire(s, 1, T), MSG_NEG);
        BAD_TIMEOUTS(T, rt_semaphore_acquire(s, INT_MIN, T), MSG_NEG);
        CHECK_EQ_INT(rt_semaphore_value(s), (int64_t)i);
        CHECK_OK(rt_semaphore_release(s, 1));
    }
    CHECK_OK(rt_semaphore_free(s));
    zoo_free();
}

static void bad_input_rt_semaphore_release(void) {
    rt_semaphore *s, *b;
    zoo_new();
    BAD_HANDLES(K_SEMAPHORE, rt_semaphore, h, rt_semaphore_release(h, 1));
    CHECK_OK(rt_semaphore_new(0, &s));
    CHECK_OK(rt_bounded_semaphore_new(2, &b));
    /* n = 0. */
    BAD(rt_semaphore_release(s, 0), RT_EINVAL, "n must be one or more");
    BAD(rt_semaphore_release(b, 0), RT_EINVAL, "n must be one or more");
    /* Over-release of a bounded semaphore: nothing is added, even what would fit. */
    BAD(rt_semaphore_release(b, 1), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_OK(rt_semaphore_acquire(b, 0, RT_FOREVER));
    BAD(rt_semaphore_release(b, 2), RT_EOVERRELEASE, "Semaphore released too many times");
    BAD(rt_semaphore_release(b, UINT64_MAX), RT_EOVERRELEASE,
        "Semaphore released too many times");
    CHECK_EQ_INT(rt_semaphore_value(b), 1);
    CHECK_OK(rt_semaphore_release(b, 1));
    BAD(rt_semaphore_release(b, 1), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_EQ_INT(rt_semaphore_value(b), 2);
    /* Past INT64_MAX on an unbounded one. */
    BAD(rt_semaphore_release(s, UINT64_MAX), RT_EOVERFLOW,
        "semaphore value would exceed its maximum");
    BAD(rt_semaphore_release(s, (uint64_t)INT64_MAX + 1), RT_EOVERFLOW,
        "semaphore value would exceed its maximum");
    CHECK_EQ_INT(rt_semaphore_value(s), 0);
    CHECK_OK(rt_semaphore_release(s, (uint64_t)INT64_MAX));
    BAD(rt_semaphore_release(s, 1), RT_EOVERFLOW, "semaphore value would exceed its maximum");
    CHECK_EQ_INT(rt_semaphore_value(s), INT64_MAX);
    CHECK_OK(rt_semaphore_free(s));
    CHECK_OK(rt_semaphore_free(b));
    zoo_free();
}

static void bad_input_rt_semaphore_value(void) {
    zoo_new();
    BAD_QUERY(K_SEMAPHORE, const rt_semaphore, h, rt_semaphore_value(h), -1);
    zoo_free();
}

/* =============================================================================================
 * Status
 */
static void bad_input_rt_status_str(void) {
    static const int not_codes[] = { -1, 20, 100, INT_MAX, INT_MIN };
    size_t i;
    int s;
    prime_last_error();
    for (i = 0; i < ARRAY_LEN(not_codes); i++) {
        const char *name = rt_status_str(not_codes[i]);
        CHECK(name != NULL && strcmp(name, "RT_UNKNOWN") == 0);
    }
    for (s = RT_OK; s <= RT_EINVALIDSTATE; s++) {
        const char *name = rt_status_str(s);
        CHECK(name != NULL && strncmp(name, "RT_", 3) == 0 && strcmp(name, "RT_UNKNOWN") != 0);
    }
    CHECK(strcmp(rt_status_str(RT_EINTR), "RT_EINTR") == 0);
    /* It is no failed call: the last error stays. */
    CHECK(strcmp(rt_last_error(), PRIMED) == 0);
}

struct fresh_error {
    int was_empty;
};

static void *read_fresh_error(void *arg) {
    const char *e = rt_last_error();
    ((struct fresh_error *)arg)->was_empty = e != NULL && e[0] == '\0';
    return NULL;
}

static void bad_input_rt_last_error(void) {
    struct fresh_error f = { 0 };
    pthread_t pt;
    rt_lock *l;
    /* A thread that never failed a call: "", never NULL. */
    CHECK(pthread_create(&pt, NULL, read_fresh_error, &f) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK(f.was_empty);
    /* Successful calls leave it unchanged. */
    prime_last_error();
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_free(l));
    CHECK(strcmp(rt_last_error(), PRIMED) == 0);
}

/* =============================================================================================
 * _thread
 */
static void bad_input_rt_start_new_thread(void) {
    uint64_t ident = 77;
    int ran = 0;
    char msg[160];
    BAD(rt_start_new_thread(NULL, NULL, &ident), RT_EINVAL, "first arg must be callable");
    BAD(rt_start_new_thread(NULL, &ran, NULL), RT_EINVAL, "first arg must be callable");
    CHECK_EQ_INT(ident, 77);
    CHECK_EQ_INT(rt_thread_count(), 0);
    /* A stack the system cannot give: refused, no thread, nothing written. */
    CHECK_OK(rt_stack_size_set(IMPOSSIBLE_STACK, NULL));
    BAD(rt_start_new_thread(set_flag, &ran, &ident), RT_EAGAIN,
        cannot_start(msg, sizeof msg));
    CHECK_OK(rt_stack_size_set(0, NULL));
    CHECK_EQ_INT(ident, 77);
    CHECK_EQ_INT(rt_thread_count(), 0);
    CHECK_EQ_INT(ATOMIC_LOAD(&ran), 0);
    /* A NULL ident is fine. */
    CHECK_OK(rt_start_new_thread(set_flag, &ran, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&ran) == 1, 10.0);
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
}

struct exit_report {
    rt_status status;
    char message[200];
};

static void *exit_from_foreign(void *arg) {
    struct exit_report *r = arg;
    r->status = rt_exit_thread();
    snprintf(r->message, sizeof r->message, "%s", rt_last_error());
    return NULL;
}

static struct exit_report in_predicate;
static int exit_in_predicate(void *ctx) {
    (void)ctx;
    in_predicate.status = rt_exit_thread();
    snprintf(in_predicate.message, sizeof in_predicate.message, "%s", rt_last_error());
    return 1;
}

static void wait_for_exiting_predicate(void *arg) {
    rt_condition *c = arg;
    if (rt_condition_acquire(c, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_condition_wait_for(c, exit_in_predicate, NULL, RT_FOREVER) != RT_OK) abort();
    if (rt_condition_release(c) != RT_OK) abort();
}

static void bad_input_rt_exit_thread(void) {
    struct exit_report f = { RT_OK, "" };
    pthread_t pt;
    rt_condition *c;
    rt_thread *t;
    /* The main thread, and a foreign thread: rthread did not start them. */
    BAD(rt_exit_thread(), RT_ESTATE, MSG_NO_EXIT);
    CHECK(pthread_create(&pt, NULL, exit_from_foreign, &f) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK_EQ_INT(f.status, RT_ESTATE);
    CHECK(strcmp(f.message, MSG_NO_EXIT) == 0);
    /* Inside a callback, in a thread rthread started: refused, and the thread goes on. */
    CHECK_OK(rt_condition_new(&c));
    CHECK_OK(rt_thread_new(wait_for_exiting_predicate, c, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_EQ_INT(in_predicate.status, RT_ESTATE);
    CHECK(strcmp(in_predicate.message, MSG_NO_EXIT) == 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_condition_free(c));
}

static void bad_input_rt_get_ident(void) {
    rt_thread *me;
    /* Cannot fail: non-zero, the ident of the calling thread's object. */
    CHECK(rt_get_ident() != 0);
    CHECK_OK(rt_current_thread(&me));
    CHECK(rt_thread_ident(me) == rt_get_ident());
    CHECK_OK(rt_thread_release(me));
}

static void bad_input_rt_get_native_id(void) {
    CHECK(rt_get_native_id() != 0);
    CHECK(rt_get_native_id() == (uint64_t)getpid());
}

static void bad_input_rt_stack_size_get(void) {
    CHECK_EQ_INT(rt_stack_size_get(), 0);
    BAD(rt_stack_size_set(1, NULL), RT_EINVAL, "size not valid: 1 bytes");
    CHECK_EQ_INT(rt_stack_size_get(), 0);
}

static void bad_input_rt_stack_size_set(void) {
    size_t previous = 77;
    static const size_t too_small[] = { 1, 4096, 16384, 32767 };
    size_t i;
    char msg[64];
    for (i = 0; i < ARRAY_LEN(too_small); i++) {
        snprintf(msg, sizeof msg, "size not valid: %zu bytes", too_small[i]);
        BAD(rt_stack_size_set(too_small[i], &previous), RT_EINVAL, msg);
        BAD(rt_stack_size_set(too_small[i], NULL), RT_EINVAL, msg);
    }
    CHECK_EQ_INT(previous, 77);
    CHECK_EQ_INT(rt_stack_size_get(), 0);
    /* The edges that are fine; a NULL `previous` too. */
    CHECK_OK(rt_stack_size_set(32768, &previous));
    CHECK_EQ_INT(previous, 0);
    BAD(rt_stack_size_set(32767, &previous), RT_EINVAL, "size not valid: 32767 bytes");
    CHECK_EQ_INT(rt_stack_size_get(), 32768);
    CHECK_OK(rt_stack_size_set(0, NULL));
    CHECK_EQ_INT(rt_stack_size_get(), 0);
}

static void bad_input_rt_timeout_max(void) {
    CHECK(rt_timeout_max() == RT_TIMEOUT_MAX);
}

static void bad_input_rt_thread_count(void) {
    rt_thread *t;
    CHECK_EQ_INT(rt_thread_count(), 0);
    /* A refused start is not counted. */
    CHECK_OK(rt_thread_new(nothing, NULL, &t));
    CHECK_OK(rt_stack_size_set(IMPOSSIBLE_STACK, NULL));
    CHECK_STATUS(rt_thread_start(t), RT_EAGAIN);
    CHECK_OK(rt_stack_size_set(0, NULL));
    CHECK_EQ_INT(rt_thread_count(), 0);
    CHECK_OK(rt_thread_release(t));
}

/* =============================================================================================
 * Thread objects
 */
static void bad_input_rt_thread_new(void) {
    rt_thread *t;
    BAD(rt_thread_new(nothing, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_thread_new(NULL, NULL, NULL), RT_EINVAL, MSG_OUT);
    /* A NULL function runs nothing. */
    CHECK_OK(rt_thread_new(NULL, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_release(t));
}

static void bad_input_rt_thread_start(void) {
    rt_thread *t, *m, *d;
    int ran = 0;
    char msg[160];
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_thread_start(h));
    /* A stack the system cannot give: refused, the object unchanged and startable again. */
    CHECK_OK(rt_thread_new(set_flag, &ran, &t));
    CHECK_OK(rt_stack_size_set(IMPOSSIBLE_STACK, NULL));
    BAD(rt_thread_start(t), RT_EAGAIN, cannot_start(msg, sizeof msg));
    CHECK_OK(rt_stack_size_set(0, NULL));
    CHECK(!rt_thread_is_alive(t));
    CHECK_EQ_INT(rt_thread_ident(t), 0);
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_EQ_INT(ran, 1);
    /* Twice; the main thread; a dummy. */
    BAD(rt_thread_start(t), RT_ESTATE, "threads can only be started once");
    m = main_thread();
    BAD(rt_thread_start(m), RT_ESTATE, "threads can only be started once");
    d = foreign_dummy();
    BAD(rt_thread_start(d), RT_ESTATE, "threads can only be started once");
    CHECK_OK(rt_thread_release(d));
    CHECK_OK(rt_thread_release(m));
    CHECK_OK(rt_thread_release(t));
    zoo_free();
}

struct self_join {
    rt_status status;
    char message[100];
};

static void join_self(void *arg) {
    struct self_join *r = arg;
    rt_thread *me;
    if (rt_current_thread(&me) != RT_OK) abort();
    r->status = rt_thread_join(me, NAN);
    snprintf(r->message, sizeof r->message, "%s", rt_last_error());
    rt_thread_release(me);
}

static void bad_input_rt_thread_join(void) {
    rt_thread *t, *m, *d;
    struct self_join r = { RT_OK, "" };
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_thread_join(h, RT_FOREVER));
    /* Not started (the timeout is looked at later). */
    BAD(rt_thread_join(zoo[K_THREAD], RT_FOREVER), RT_ESTATE,
        "cannot join thread before it is started");
    BAD(rt_thread_join(zoo[K_THREAD], NAN), RT_ESTATE, "cannot join thread before it is started");
    /* A dummy. */
    d = foreign_dummy();
    BAD(rt_thread_join(d, RT_FOREVER), RT_ESTATE, "cannot join a dummy thread");
    BAD(rt_thread_join(d, -2.0), RT_ESTATE, "cannot join a dummy thread");
    CHECK_OK(rt_thread_release(d));
    /* Itself: the main thread, and a thread rthread started. */
    m = main_thread();
    BAD(rt_thread_join(m, RT_FOREVER), RT_EDEADLK, "cannot join current thread");
    BAD(rt_thread_join(m, NAN), RT_EDEADLK, "cannot join current thread");
    CHECK_OK(rt_thread_release(m));
    CHECK_OK(rt_thread_new(join_self, &r, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_EQ_INT(r.status, RT_EDEADLK);
    CHECK(strcmp(r.message, "cannot join current thread") == 0);
    /* The timeout, on a thread that has ended. */
    BAD_TIMEOUTS(T, rt_thread_join(t, T), MSG_NEG);
    CHECK_OK(rt_thread_release(t));
    zoo_free();
}

static void bad_input_rt_thread_is_alive(void) {
    zoo_new();
    BAD_QUERY(K_THREAD, const rt_thread, h, rt_thread_is_alive(h), false);
    zoo_free();
}

static void bad_input_rt_thread_name(void) {
    char buf[64], big[300], msg[80];
    rt_thread *t;
    size_t len, i;
    zoo_new();
    BAD_HANDLES(K_THREAD, const rt_thread, h, rt_thread_name(h, buf, sizeof buf));
    t = zoo[K_THREAD];
    BAD(rt_thread_name(t, NULL, sizeof buf), RT_EINVAL, MSG_OUT);
    BAD(rt_thread_name(t, NULL, 0), RT_EINVAL, MSG_OUT);
    /* Too small, by one byte or more: nothing written, never truncated. */
    CHECK_OK(rt_thread_name_len(t, &len));
    snprintf(msg, sizeof msg, "buffer too small: the name needs %zu bytes", len + 1);
    for (i = 0; i <= len; i++) {
        memset(buf, 'x', sizeof buf);
        BAD(rt_thread_name(t, buf, i), RT_EINVAL, msg);
        CHECK(buf[0] == 'x' && buf[len] == 'x');
    }
    CHECK_OK(rt_thread_name(t, buf, len + 1));
    CHECK_EQ_INT(strlen(buf), len);
    /* A long name. */
    memset(big, 'n', 250);
    big[250] = '\0';
    CHECK_OK(rt_thread_set_name(t, big));
    memset(buf, 'x', sizeof buf);
    BAD(rt_thread_name(t, buf, sizeof buf), RT_EINVAL,
        "buffer too small: the name needs 251 bytes");
    CHECK(buf[0] == 'x');
    CHECK_OK(rt_thread_name(t, big, sizeof big));
    CHECK_EQ_INT(strlen(big), 250);
    zoo_free();
}

static void bad_input_rt_thread_name_len(void) {
    size_t len = 77;
    zoo_new();
    BAD_HANDLES(K_THREAD, const rt_thread, h, rt_thread_name_len(h, &len));
    CHECK_EQ_INT(len, 77);
    BAD(rt_thread_name_len(zoo[K_THREAD], NULL), RT_EINVAL, MSG_OUT);
    zoo_free();
}

static void bad_input_rt_thread_set_name(void) {
    static const char *const not_utf8[] = {
        "\xff", "ab\xfe", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80",
    };
    char before[64], after[64];
    rt_thread *t;
    size_t i, len;
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_thread_set_name(h, "name"));
    t = zoo[K_THREAD];
    CHECK_OK(rt_thread_name(t, before, sizeof before));
    BAD(rt_thread_set_name(t, NULL), RT_EINVAL, "NULL name");
    for (i = 0; i < ARRAY_LEN(not_utf8); i++)
        BAD(rt_thread_set_name(t, not_utf8[i]), RT_EINVAL, "name must be UTF-8");
    CHECK_OK(rt_thread_name(t, after, sizeof after));
    CHECK(strcmp(before, after) == 0);
    /* An empty name is allowed. */
    CHECK_OK(rt_thread_set_name(t, ""));
    CHECK_OK(rt_thread_name_len(t, &len));
    CHECK_EQ_INT(len, 0);
    zoo_free();
}

static void bad_input_rt_thread_daemon(void) {
    zoo_new();
    BAD_QUERY(K_THREAD, const rt_thread, h, rt_thread_daemon(h), false);
    zoo_free();
}

static void bad_input_rt_thread_set_daemon(void) {
    rt_thread *t, *m, *d;
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_thread_set_daemon(h, true));
    CHECK(!rt_thread_daemon(zoo[K_THREAD]));
    /* Started (and ended), the main thread, a dummy: too late. */
    CHECK_OK(rt_thread_new(nothing, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    BAD(rt_thread_set_daemon(t, true), RT_ESTATE, "cannot set daemon status of active thread");
    CHECK(!rt_thread_daemon(t));
    m = main_thread();
    BAD(rt_thread_set_daemon(m, true), RT_ESTATE, "cannot set daemon status of active thread");
    CHECK(!rt_thread_daemon(m));
    d = foreign_dummy();
    BAD(rt_thread_set_daemon(d, false), RT_ESTATE, "cannot set daemon status of active thread");
    CHECK(rt_thread_daemon(d));
    CHECK_OK(rt_thread_release(d));
    CHECK_OK(rt_thread_release(m));
    CHECK_OK(rt_thread_release(t));
    zoo_free();
}

static void bad_input_rt_thread_ident(void) {
    zoo_new();
    BAD_QUERY(K_THREAD, const rt_thread, h, rt_thread_ident(h), 0);
    zoo_free();
}

static void bad_input_rt_thread_native_id(void) {
    zoo_new();
    BAD_QUERY(K_THREAD, const rt_thread, h, rt_thread_native_id(h), 0);
    zoo_free();
}

static void bad_input_rt_thread_retain(void) {
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_thread_retain(h));
    zoo_free();
}

static void bad_input_rt_thread_release(void) {
    zoo_new();
    CHECK_OK(rt_thread_release(NULL));
    BAD_KINDS(K_THREAD, rt_thread, h, rt_thread_release(h));
    zoo_free();
}

static void bad_input_rt_active_count(void) {
    /* Cannot fail: the main thread at least. */
    CHECK(rt_active_count() >= 1);
}

static void bad_input_rt_enumerate(void) {
    rt_thread *buf[4] = { SENTINEL, SENTINEL, SENTINEL, SENTINEL };
    size_t count = 77;
    BAD(rt_enumerate(buf, 4, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_enumerate(NULL, 1, &count), RT_EINVAL, MSG_OUT);
    BAD(rt_enumerate(NULL, SIZE_MAX, &count), RT_EINVAL, MSG_OUT);
    BAD(rt_enumerate(NULL, 0, NULL), RT_EINVAL, MSG_OUT);
    CHECK(buf[0] == SENTINEL);
    CHECK_EQ_INT(count, 77);
    /* Count only: a NULL buffer with no room; a buffer with no room is not written. */
    CHECK_OK(rt_enumerate(NULL, 0, &count));
    CHECK(count >= 1);
    CHECK_OK(rt_enumerate(buf, 0, &count));
    CHECK(buf[0] == SENTINEL);
}

static void bad_input_rt_current_thread(void) {
    BAD(rt_current_thread(NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_main_thread(void) {
    BAD(rt_main_thread(NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_shutdown(void) {
    BAD_TIMEOUTS(T, rt_shutdown(T), MSG_NEG);
    CHECK_OK(rt_shutdown(0.0));
}

static void bad_input_rt_set_exit_wait(void) {
    /* Cannot fail: returns the previous setting (on by default). */
    CHECK(rt_set_exit_wait(false) == true);
    CHECK(rt_set_exit_wait(false) == false);
    CHECK(rt_set_exit_wait(true) == false);
    CHECK(rt_set_exit_wait(true) == true);
}

static void bad_input_rt_timer_new(void) {
    rt_thread *t = SENTINEL;
    int fired = 0;
    size_t i;
    char w[64];
    BAD(rt_timer_new(1.0, nothing, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_timer_new(NAN, nothing, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_timer_new(NAN, nothing, NULL, &t), RT_EINVAL, MSG_NAN);
    BAD(rt_timer_new(-NAN, NULL, NULL, &t), RT_EINVAL, MSG_NAN);
    for (i = 0; i < ARRAY_LEN(huge_timeouts); i++)
        BAD_WITH(describe(w, sizeof w, "interval", huge_timeouts[i]),
                 rt_timer_new(huge_timeouts[i], nothing, NULL, &t), RT_EOVERFLOW, MSG_OVER);
    CHECK(t == SENTINEL);
    /* A negative interval, however large, fires at once. */
    for (i = 0; i < ARRAY_LEN(negative_timeouts); i++) {
        fired = 0;
        CHECK_OK(rt_timer_new(negative_timeouts[i], set_flag, &fired, &t));
        CHECK_OK(rt_thread_start(t));
        CHECK_OK(rt_thread_join(t, 10.0));
        CHECK_EQ_INT(fired, 1);
        CHECK_OK(rt_thread_release(t));
    }
}

static void bad_input_rt_timer_cancel(void) {
    rt_thread *m;
    zoo_new();
    BAD_HANDLES(K_THREAD, rt_thread, h, rt_timer_cancel(h));
    BAD(rt_timer_cancel(zoo[K_THREAD]), RT_EINVAL, "not a timer");
    m = main_thread();
    BAD(rt_timer_cancel(m), RT_EINVAL, "not a timer");
    CHECK_OK(rt_thread_release(m));
    zoo_free();
}

static int start_hooks, exit_hooks;
static void count_start(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&start_hooks, 1);
}
static void count_exit(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&exit_hooks, 1);
}

static void run_one_thread(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(nothing, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_release(t));
}

static void bad_input_rt_set_thread_hooks(void) {
    /* Never fails: either hook may be NULL, and the context too. */
    CHECK_OK(rt_set_thread_hooks(count_start, NULL, NULL));
    run_one_thread();
    CHECK_EQ_INT(ATOMIC_LOAD(&start_hooks), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_hooks), 0);
    CHECK_OK(rt_set_thread_hooks(NULL, count_exit, NULL));
    run_one_thread();
    CHECK_EQ_INT(ATOMIC_LOAD(&start_hooks), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_hooks), 1);
    CHECK_OK(rt_set_thread_hooks(NULL, NULL, NULL));
    run_one_thread();
    CHECK_EQ_INT(ATOMIC_LOAD(&start_hooks), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_hooks), 1);
}

/* =============================================================================================
 * concurrent.futures
 */
#define MSG_INVALID_FINISHED "FINISHED: <Future state=finished>"

static int fut_task(void *arg, void **result) {
    (void)arg;
    *result = NULL;
    return 0;
}

static void fut_callback(rt_future *f, void *ctx) {
    (void)f;
    (void)ctx;
}

static void bad_input_rt_future_new(void) {
    BAD(rt_future_new(NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_future_new(nothing, NULL), RT_EINVAL, MSG_OUT);
}

static void bad_input_rt_future_retain(void) {
    zoo_new();
    BAD_HANDLES(K_FUTURE, rt_future, h, rt_future_retain(h));
    zoo_free();
}

static void bad_input_rt_future_release(void) {
    zoo_new();
    CHECK_OK(rt_future_release(NULL));
    BAD_KINDS(K_FUTURE, rt_future, h, rt_future_release(h));
    zoo_free();
}

static void bad_input_rt_future_cancel(void) {
    zoo_new();
    BAD_QUERY(K_FUTURE, rt_future, h, rt_future_cancel(h), false);
    zoo_free();
}

static void bad_input_rt_future_cancelled(void) {
    zoo_new();
    BAD_QUERY(K_FUTURE, const rt_future, h, rt_future_cancelled(h), false);
    zoo_free();
}

static void bad_input_rt_future_running(void) {
    zoo_new();
    BAD_QUERY(K_FUTURE, const rt_future, h, rt_future_running(h), false);
    zoo_free();
}

static void bad_input_rt_future_done(void) {
    zoo_new();
    BAD_QUERY(K_FUTURE, const rt_future, h, rt_future_done(h), false);
    zoo_free();
}

static void bad_input_rt_future_result(void) {
    rt_future *f;
    void *r = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_FUTURE, const rt_future, h, rt_future_result(h, RT_FOREVER, &r));
    CHECK_OK(rt_future_new(NULL, &f));
    BAD(rt_future_result(f, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_future_result(f, T, &r), MSG_NEG);
    /* Checked even when the future is done. */
    CHECK_OK(rt_future_set_result(f, NULL));
    BAD(rt_future_result(f, 0.0, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_future_result(f, T, &r), MSG_NEG);
    CHECK(r == SENTINEL);
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_future_exception(void) {
    rt_future *f;
    int code = 12345;
    zoo_new();
    BAD_HANDLES(K_FUTURE, const rt_future, h, rt_future_exception(h, RT_FOREVER, &code));
    CHECK_OK(rt_future_new(NULL, &f));
    BAD(rt_future_exception(f, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_future_exception(f, T, &code), MSG_NEG);
    CHECK_OK(rt_future_set_exception(f, 3, "x"));
    BAD(rt_future_exception(f, 0.0, NULL), RT_EINVAL, MSG_OUT);
    BAD_TIMEOUTS(T, rt_future_exception(f, T, &code), MSG_NEG);
    CHECK_EQ_INT(code, 12345);
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_future_add_done_callback(void) {
    rt_future *f;
    zoo_new();
    BAD_HANDLES(K_FUTURE, rt_future, h, rt_future_add_done_callback(h, fut_callback, NULL));
    CHECK_OK(rt_future_new(NULL, &f));
    BAD(rt_future_add_done_callback(f, NULL, NULL), RT_EINVAL, "NULL callback");
    CHECK_OK(rt_future_set_result(f, NULL));
    BAD(rt_future_add_done_callback(f, NULL, NULL), RT_EINVAL, "NULL callback");
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_future_set_running_or_notify_cancel(void) {
    rt_future *f;
    zoo_new();
    BAD_HANDLES(K_FUTURE, rt_future, h, rt_future_set_running_or_notify_cancel(h));
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_running_or_notify_cancel(f));
    BAD(rt_future_set_running_or_notify_cancel(f), RT_ESTATE, "Future in unexpected state");
    CHECK_OK(rt_future_set_result(f, NULL));
    BAD(rt_future_set_running_or_notify_cancel(f), RT_ESTATE, "Future in unexpected state");
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_future_set_result(void) {
    rt_future *f;
    zoo_new();
    BAD_HANDLES(K_FUTURE, rt_future, h, rt_future_set_result(h, SENTINEL));
    CHECK_OK(rt_future_new(NULL, &f));
    CHECK_OK(rt_future_set_result(f, NULL));
    BAD(rt_future_set_result(f, SENTINEL), RT_EINVALIDSTATE, MSG_INVALID_FINISHED);
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_future_set_exception(void) {
    rt_future *f;
    zoo_new();
    BAD_HANDLES(K_FUTURE, rt_future, h, rt_future_set_exception(h, 1, "x"));
    CHECK_OK(rt_future_new(NULL, &f));
    BAD(rt_future_set_exception(f, 0, "x"), RT_EINVAL, "an exception's code must be non-zero");
    BAD(rt_future_set_exception(f, 1, "\xff\xfe"), RT_EINVAL, "message must be UTF-8");
    CHECK(!rt_future_done(f)); /* refused: still pending */
    CHECK_OK(rt_future_set_exception(f, 1, NULL));
    BAD(rt_future_set_exception(f, 2, "y"), RT_EINVALIDSTATE, MSG_INVALID_FINISHED);
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_set_error_message(void) {
    BAD(rt_set_error_message(NULL), RT_EINVAL, "NULL message");
    CHECK_OK(rt_set_error_message("my own words"));
    CHECK(strcmp(rt_last_error(), "my own words") == 0);
}

/* rt_wait over `good` and `bad`. */
static rt_status wait_pair(rt_future *good, rt_future *bad) {
    rt_future *fs[2];
    fs[0] = good;
    fs[1] = bad;
    return rt_wait(fs, 2, 0.0, RT_ALL_COMPLETED, NULL, NULL);
}

static void bad_input_rt_wait(void) {
    static const int bad_when[] = { -1, 3, 100, INT_MAX, INT_MIN };
    rt_future *f;
    bool done[1] = { true };
    size_t n_done = 77, i;
    zoo_new();
    CHECK_OK(rt_future_new(NULL, &f));
    BAD_HANDLES(K_FUTURE, rt_future, h, wait_pair(f, h));
    BAD(rt_wait(NULL, 1, 0.0, RT_ALL_COMPLETED, done, &n_done), RT_EINVAL, "NULL futures array");
    for (i = 0; i < ARRAY_LEN(bad_when); i++)
        BAD(rt_wait(&f, 1, 0.0, bad_when[i], done, &n_done), RT_EINVAL,
            "Invalid return condition");
    BAD_TIMEOUTS(T, rt_wait(&f, 1, T, RT_FIRST_COMPLETED, done, &n_done), MSG_NEG);
    CHECK(done[0] && n_done == 77); /* nothing written */
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static rt_status as_completed_pair(rt_future *good, rt_future *bad, rt_as_completed **out) {
    rt_future *fs[2];
    fs[0] = good;
    fs[1] = bad;
    return rt_as_completed_new(fs, 2, RT_FOREVER, out);
}

static void bad_input_rt_as_completed_new(void) {
    rt_future *f;
    rt_as_completed *it = SENTINEL;
    zoo_new();
    CHECK_OK(rt_future_new(NULL, &f));
    BAD(rt_as_completed_new(&f, 1, RT_FOREVER, NULL), RT_EINVAL, MSG_OUT);
    BAD_HANDLES(K_FUTURE, rt_future, h, as_completed_pair(f, h, &it));
    BAD(rt_as_completed_new(NULL, 1, RT_FOREVER, &it), RT_EINVAL, "NULL futures array");
    BAD_TIMEOUTS(T, rt_as_completed_new(&f, 1, T, &it), MSG_NEG);
    CHECK(it == SENTINEL);
    CHECK_OK(rt_future_release(f));
    zoo_free();
}

static void bad_input_rt_as_completed_next(void) {
    rt_future *got = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_AS_COMPLETED, rt_as_completed, h, rt_as_completed_next(h, &got));
    BAD(rt_as_completed_next(zoo[K_AS_COMPLETED], NULL), RT_EINVAL, MSG_OUT);
    CHECK(got == SENTINEL);
    zoo_free();
}

static void bad_input_rt_as_completed_free(void) {
    zoo_new();
    CHECK_OK(rt_as_completed_free(NULL));
    BAD_KINDS(K_AS_COMPLETED, rt_as_completed, h, rt_as_completed_free(h));
    zoo_free();
}

static void bad_input_rt_executor_new(void) {
    rt_executor *ex = SENTINEL;
    BAD(rt_executor_new(1, NULL, NULL, NULL, NULL), RT_EINVAL, MSG_OUT);
    BAD(rt_executor_new(1, "\xff\xfe", NULL, NULL, &ex), RT_EINVAL,
        "thread_name_prefix must be UTF-8");
    CHECK(ex == SENTINEL);
}

static void bad_input_rt_executor_submit(void) {
    rt_future *f = SENTINEL;
    zoo_new();
    BAD_HANDLES(K_EXECUTOR, rt_executor, h, rt_executor_submit(h, fut_task, NULL, NULL, NULL, &f));
    BAD(rt_executor_submit(zoo[K_EXECUTOR], NULL, NULL, NULL, NULL, &f), RT_EINVAL,
        "NULL task function");
    BAD(rt_executor_submit(zoo[K_EXECUTOR], fut_task, NULL, NULL, NULL, NULL), RT_EINVAL,
        MSG_OUT);
    CHECK(f == SENTINEL);
    zoo_free(); /* and no worker was started */
}

static void bad_input_rt_executor_shutdown(void) {
    zoo_new();
    BAD_HANDLES(K_EXECUTOR, rt_executor, h, rt_executor_shutdown(h, true, true));
    zoo_free();
}

static void bad_input_rt_executor_thread_count(void) {
    zoo_new();
    BAD_QUERY(K_EXECUTOR, const rt_executor, h, rt_executor_thread_count(h), 0);
    zoo_free();
}

static void bad_input_rt_executor_free(void) {
    zoo_new();
    CHECK_OK(rt_executor_free(NULL));
    BAD_KINDS(K_EXECUTOR, rt_executor, h, rt_executor_free(h));
    zoo_free();
}

/* =============================================================================================
 * Debugging: flags, the report hook, object names, dumps
 */
static void bad_input_rt_set_debug(void) {
    static const unsigned bad[] = { 16u, 1u << 8, 1u << 31, ~0u };
    size_t i;
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        BAD(rt_set_debug(bad[i]), RT_EINVAL, "unknown debug flags");
        CHECK_EQ_INT(rt_get_debug(), 0);
    }
}

static void bad_input_rt_get_debug(void) {
    prime_last_error();
    /* No input to refuse. */
    CHECK_EQ_INT(rt_get_debug(), 0);
    CHECK(strcmp(rt_last_error(), PRIMED) == 0);
}

static void bad_input_rt_set_debug_report_hook(void) {
    /* NULL is the documented way back to stderr; any context goes. */
    CHECK_OK(rt_set_debug_report_hook(NULL, NULL));
    CHECK_OK(rt_set_debug_report_hook(NULL, SENTINEL));
}

static void bad_input_rt_object_set_name(void) {
    int not_a_handle[4] = { 0, 0, 0, 0 };
    char buf[16];
    int k;
    zoo_new();
    BAD(rt_object_set_name(NULL, "x"), RT_EINVAL, MSG_NULL);
    BAD(rt_object_set_name(not_a_handle, "x"), RT_EINVAL, MSG_KIND);
    for (k = 0; k < K_COUNT; k++) {
        BAD_WITH(kind_names[k], rt_object_set_name(zoo[k], NULL), RT_EINVAL, "NULL name");
        BAD_WITH(kind_names[k], rt_object_set_name(zoo[k], "\xc3"), RT_EINVAL,
                 "name must be UTF-8");
        /* Refused calls leave no name (a thread keeps its own). */
        if (k != K_THREAD) {
            CHECK_OK(rt_object_name(zoo[k], buf, sizeof buf));
            CHECK(buf[0] == '\0');
        }
    }
    zoo_free();
}

static void bad_input_rt_object_name(void) {
    int not_a_handle[4] = { 0, 0, 0, 0 };
    char buf[16];
    int k;
    zoo_new();
    BAD(rt_object_name(NULL, buf, sizeof buf), RT_EINVAL, MSG_NULL);
    BAD(rt_object_name(not_a_handle, buf, sizeof buf), RT_EINVAL, MSG_KIND);
    for (k = 0; k < K_COUNT; k++) {
        BAD_WITH(kind_names[k], rt_object_name(zoo[k], NULL, sizeof buf), RT_EINVAL, MSG_OUT);
        CHECK_OK(rt_object_set_name(zoo[k], "named"));
        memset(buf, 'x', sizeof buf);
        BAD_WITH(kind_names[k], rt_object_name(zoo[k], buf, 5), RT_EINVAL,
                 "buffer too small: the name needs 6 bytes");
        BAD_WITH(kind_names[k], rt_object_name(zoo[k], buf, 0), RT_EINVAL,
                 "buffer too small: the name needs 6 bytes");
        CHECK(buf[0] == 'x');
        if (k != K_THREAD) CHECK_OK(rt_object_set_name(zoo[k], ""));
    }
    zoo_free();
}

static void bad_input_rt_dump_threads(void) {
    int fds[2];
    BAD(rt_dump_threads(-1), RT_EINVAL, "invalid file descriptor");
    BAD(rt_dump_threads(INT_MIN), RT_EINVAL, "invalid file descriptor");
    /* Not open, or not open for writing: what was written stays, the call says so. */
    BAD(rt_dump_threads(100000), RT_ESTATE, "could not write the dump");
    CHECK(pipe(fds) == 0);
    BAD(rt_dump_threads(fds[0]), RT_ESTATE, "could not write the dump");
    close(fds[0]);
    close(fds[1]);
}

static void bad_input_rt_dump_on_signal(void) {
    static const int not_signals[] = { 0, -1, 65, 1000, INT_MAX, INT_MIN, SIGKILL, SIGSTOP };
    size_t i;
    for (i = 0; i < ARRAY_LEN(not_signals); i++) {
        BAD(rt_dump_on_signal(not_signals[i], 2), RT_EINVAL, "invalid signal number");
        BAD(rt_dump_on_signal(not_signals[i], -1), RT_EINVAL, "invalid signal number");
    }
}


RT_CASES(
    RT_CASE(bad_input_rt_barrier_new),
    RT_CASE(bad_input_rt_barrier_free),
    RT_CASE(bad_input_rt_barrier_wait),
    RT_CASE(bad_input_rt_barrier_reset),
    RT_CASE(bad_input_rt_barrier_abort),
    RT_CASE(bad_input_rt_barrier_parties),
    RT_CASE(bad_input_rt_barrier_n_waiting),
    RT_CASE(bad_input_rt_barrier_broken),
    RT_CASE(bad_input_rt_condition_new),
    RT_CASE(bad_input_rt_condition_new_with_lock),
    RT_CASE(bad_input_rt_condition_new_with_rlock),
    RT_CASE(bad_input_rt_condition_free),
    RT_CASE(bad_input_rt_condition_acquire),
    RT_CASE(bad_input_rt_condition_release),
    RT_CASE(bad_input_rt_condition_wait),
    RT_CASE(bad_input_rt_condition_wait_for),
    RT_CASE(bad_input_rt_condition_notify),
    RT_CASE(bad_input_rt_condition_notify_all),
    RT_CASE(bad_input_rt_set_blocking_hooks),
    RT_CASE(bad_input_rt_thread_interrupt),
    RT_CASE(bad_input_rt_interrupt_main),
    RT_CASE(bad_input_rt_version),
    RT_CASE(bad_input_rt_version_str),
    RT_CASE(bad_input_rt_once),
    RT_CASE(bad_input_rt_interrupt_main_on_signal),
    RT_CASE(bad_input_rt_event_new),
    RT_CASE(bad_input_rt_event_free),
    RT_CASE(bad_input_rt_event_set),
    RT_CASE(bad_input_rt_event_clear),
    RT_CASE(bad_input_rt_event_is_set),
    RT_CASE(bad_input_rt_event_wait),
    RT_CASE(bad_input_rt_local_new),
    RT_CASE(bad_input_rt_local_get),
    RT_CASE(bad_input_rt_local_set),
    RT_CASE(bad_input_rt_local_free),
    RT_CASE(bad_input_rt_lock_new),
    RT_CASE(bad_input_rt_lock_free),
    RT_CASE(bad_input_rt_lock_acquire),
    RT_CASE(bad_input_rt_lock_release),
    RT_CASE(bad_input_rt_lock_locked),
    RT_CASE(bad_input_rt_queue_new),
    RT_CASE(bad_input_rt_lifo_queue_new),
    RT_CASE(bad_input_rt_priority_queue_new),
    RT_CASE(bad_input_rt_simple_queue_new),
    RT_CASE(bad_input_rt_queue_free),
    RT_CASE(bad_input_rt_queue_put),
    RT_CASE(bad_input_rt_queue_get),
    RT_CASE(bad_input_rt_queue_qsize),
    RT_CASE(bad_input_rt_queue_empty),
    RT_CASE(bad_input_rt_queue_full),
    RT_CASE(bad_input_rt_queue_maxsize),
    RT_CASE(bad_input_rt_queue_task_done),
    RT_CASE(bad_input_rt_queue_unfinished_tasks),
    RT_CASE(bad_input_rt_queue_join),
    RT_CASE(bad_input_rt_queue_join_timeout),
    RT_CASE(bad_input_rt_queue_shutdown),
    RT_CASE(bad_input_rt_queue_is_shutdown),
    RT_CASE(bad_input_rt_rlock_new),
    RT_CASE(bad_input_rt_rlock_free),
    RT_CASE(bad_input_rt_rlock_acquire),
    RT_CASE(bad_input_rt_rlock_release),
    RT_CASE(bad_input_rt_rlock_is_owned),
    RT_CASE(bad_input_rt_rlock_count),
    RT_CASE(bad_input_rt_semaphore_new),
    RT_CASE(bad_input_rt_bounded_semaphore_new),
    RT_CASE(bad_input_rt_semaphore_free),
    RT_CASE(bad_input_rt_semaphore_acquire),
    RT_CASE(bad_input_rt_semaphore_release),
    RT_CASE(bad_input_rt_semaphore_value),
    RT_CASE(bad_input_rt_status_str),
    RT_CASE(bad_input_rt_last_error),
    RT_CASE(bad_input_rt_start_new_thread),
    RT_CASE(bad_input_rt_exit_thread),
    RT_CASE(bad_input_rt_get_ident),
    RT_CASE(bad_input_rt_get_native_id),
    RT_CASE(bad_input_rt_stack_size_get),
    RT_CASE(bad_input_rt_stack_size_set),
    RT_CASE(bad_input_rt_timeout_max),
    RT_CASE(bad_input_rt_thread_count),
    RT_CASE(bad_input_rt_thread_new),
    RT_CASE(bad_input_rt_thread_start),
    RT_CASE(bad_input_rt_thread_join),
    RT_CASE(bad_input_rt_thread_is_alive),
    RT_CASE(bad_input_rt_thread_name),
    RT_CASE(bad_input_rt_thread_name_len),
    RT_CASE(bad_input_rt_thread_set_name),
    RT_CASE(bad_input_rt_thread_daemon),
    RT_CASE(bad_input_rt_thread_set_daemon),
    RT_CASE(bad_input_rt_thread_ident),
    RT_CASE(bad_input_rt_thread_native_id),
    RT_CASE(bad_input_rt_thread_retain),
    RT_CASE(bad_input_rt_thread_release),
    RT_CASE(bad_input_rt_active_count),
    RT_CASE(bad_input_rt_enumerate),
    RT_CASE(bad_input_rt_current_thread),
    RT_CASE(bad_input_rt_main_thread),
    RT_CASE(bad_input_rt_shutdown),
    RT_CASE(bad_input_rt_set_exit_wait),
    RT_CASE(bad_input_rt_timer_new),
    RT_CASE(bad_input_rt_timer_cancel),
    RT_CASE(bad_input_rt_set_thread_hooks),
    RT_CASE(bad_input_rt_future_new),
    RT_CASE(bad_input_rt_future_retain),
    RT_CASE(bad_input_rt_future_release),
    RT_CASE(bad_input_rt_future_cancel),
    RT_CASE(bad_input_rt_future_cancelled),
    RT_CASE(bad_input_rt_future_running),
    RT_CASE(bad_input_rt_future_done),
    RT_CASE(bad_input_rt_future_result),
    RT_CASE(bad_input_rt_future_exception),
    RT_CASE(bad_input_rt_future_add_done_callback),
    RT_CASE(bad_input_rt_future_set_running_or_notify_cancel),
    RT_CASE(bad_input_rt_future_set_result),
    RT_CASE(bad_input_rt_future_set_exception),
    RT_CASE(bad_input_rt_set_error_message),
    RT_CASE(bad_input_rt_wait),
    RT_CASE(bad_input_rt_as_completed_new),
    RT_CASE(bad_input_rt_as_completed_next),
    RT_CASE(bad_input_rt_as_completed_free),
    RT_CASE(bad_input_rt_executor_new),
    RT_CASE(bad_input_rt_executor_submit),
    RT_CASE(bad_input_rt_executor_shutdown),
    RT_CASE(bad_input_rt_executor_thread_count),
    RT_CASE(bad_input_rt_executor_free),
    RT_CASE(bad_input_rt_set_debug),
    RT_CASE(bad_input_rt_get_debug),
    RT_CASE(bad_input_rt_set_debug_report_hook),
    RT_CASE(bad_input_rt_object_set_name),
    RT_CASE(bad_input_rt_object_name),
    RT_CASE(bad_input_rt_dump_threads),
    RT_CASE(bad_input_rt_dump_on_signal)
)
