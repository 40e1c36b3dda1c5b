/* Embedding: blocking hooks (and, with thread objects, interrupts). */
#include "rt_test.h"

#include <pthread.h>

static int before_calls, after_calls;

static void count_before(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&before_calls, 1);
}

static void count_after(void *ctx) {
    (void)ctx;
    ATOMIC_ADD(&after_calls, 1);
}

static void hooks_never_run_on_uncontended_paths(void) {
    rt_lock *l;
    rt_queue *q;
    void *item;
    int i;
    rt_set_blocking_hooks(count_before, count_after, NULL);
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_queue_new(4, NULL, &q));
    for (i = 0; i < 1000; i++) {
        CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
        CHECK_OK(rt_lock_release(l));
        CHECK_OK(rt_queue_put(q, &i, 1, RT_FOREVER));
        CHECK_OK(rt_queue_get(q, 1, RT_FOREVER, &item));
    }
    CHECK_OK(rt_lock_acquire(l, 0, RT_FOREVER));
    CHECK_STATUS(rt_lock_acquire(l, 0, RT_FOREVER), RT_TIMEOUT); /* a try never blocks */
    CHECK_EQ_INT(ATOMIC_LOAD(&before_calls), 0);
    CHECK_EQ_INT(ATOMIC_LOAD(&after_calls), 0);
    rt_set_blocking_hooks(NULL, NULL, NULL);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_queue_free(q));
}

static void hooks_run_once_around_a_real_block(void) {
    rt_lock *l;
    int ctx_seen = 0;
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    rt_set_blocking_hooks(count_before, count_after, &ctx_seen);
    /* Long enough that the wait outlasts the spin before a sleep even on a loaded machine
     * under valgrind (where a few yields can take tens of milliseconds): the thread must
     * really sleep, once. */
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.5), RT_TIMEOUT);
    rt_set_blocking_hooks(NULL, NULL, NULL);
    CHECK_EQ_INT(before_calls, 1);
    CHECK_EQ_INT(after_calls, 1);
    /* Removed hooks no longer run. */
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.01), RT_TIMEOUT);
    CHECK_EQ_INT(before_calls, 1);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

/* A simulated interpreter: threads run only while holding the "GIL" (an rt_lock), and the
 * blocking hooks drop it while a thread sleeps. Each thread passes a token around a ring of
 * queues, blocking in get with the GIL held: without the hooks nobody else could ever run. */

#define GIL_THREADS 4
#define GIL_ROUNDS 300

static rt_lock *gil;
static pthread_key_t holds_gil;     /* non-NULL while this thread holds the GIL */
static pthread_key_t dropped_gil;   /* non-NULL between a before and its after */
static rt_queue *ring[GIL_THREADS];
static int gil_done;
static int gil_violations;
static int in_gil; /* threads inside the GIL: must never exceed 1 */

static void take_gil(void) {
    if (rt_lock_acquire(gil, 1, RT_FOREVER) != RT_OK) abort();
    if (ATOMIC_ADD(&in_gil, 1) != 1) ATOMIC_ADD(&gil_violations, 1);
    pthread_setspecific(holds_gil, &holds_gil);
}

static void drop_gil(void) {
    pthread_setspecific(holds_gil, NULL);
    ATOMIC_ADD(&in_gil, -1);
    if (rt_lock_release(gil) != RT_OK) abort();
}

static void gil_before(void *ctx) {
    (void)ctx;
    if (pthread_getspecific(holds_gil)) {
        drop_gil();
        pthread_setspecific(dropped_gil, &dropped_gil);
    }
}

static void gil_after(void *ctx) {
    (void)ctx;
    if (pthread_getspecific(dropped_gil)) {
        pthread_setspecific(dropped_gil, NULL);
        take_gil(); /* may block: the hooks do not run again inside a hook */
    }
}

static void gil_worker(void *arg) {
    int me = (int)(intptr_t)arg, r;
    void *token;
    take_gil();
    for (r = 0; r < GIL_ROUNDS; r++) {
        if (rt_queue_get(ring[me], 1, RT_FOREVER, &token) != RT_OK) abort();
        if (!pthread_getspecific(holds_gil)) ATOMIC_ADD(&gil_violations, 1);
        if (rt_queue_put(ring[(me + 1) % GIL_THREADS], token, 1, RT_FOREVER) != RT_OK) abort();
    }
    drop_gil();
    ATOMIC_ADD(&gil_done, 1);
}

static void hooks_let_a_global_lock_go_while_threads_block(void) {
    int i;
    void *token;
    CHECK(pthread_key_create(&holds_gil, NULL) == 0);
    CHECK(pthread_key_create(&dropped_gil, NULL) == 0);
    CHECK_OK(rt_lock_new(&gil));
    for (i = 0; i < GIL_THREADS; i++) CHECK_OK(rt_queue_new(0, NULL, &ring[i]));
    rt_set_blocking_hooks(gil_before, gil_after, NULL);
    for (i = 0; i < GIL_THREADS; i++)
        CHECK_OK(rt_start_new_thread(gil_worker, (void *)(intptr_t)i, NULL));
    CHECK_OK(rt_queue_put(ring[0], &gil_done, 1, RT_FOREVER));
    WAIT_UNTIL(ATOMIC_LOAD(&gil_done) == GIL_THREADS, 60.0);
    CHECK_EQ_INT(gil_violations, 0);
    /* The token went round GIL_ROUNDS times and is back in the first queue. */
    CHECK_OK(rt_queue_get(ring[0], 0, RT_FOREVER, &token));
    CHECK(token == &gil_done);
    rt_set_blocking_hooks(NULL, NULL, NULL);
    for (i = 0; i < GIL_THREADS; i++) CHECK_OK(rt_queue_free(ring[i]));
    CHECK(!rt_lock_locked(gil));
    CHECK_OK(rt_lock_free(gil));
}

static int exit_refused;
static int hook_ran;

static void exiting_hook(void *ctx) {
    (void)ctx;
    if (rt_exit_thread() == RT_ESTATE) ATOMIC_STORE(&exit_refused, 1);
    ATOMIC_STORE(&hook_ran, 1);
}

struct block_args {
    rt_lock *lock;
    int done;
};

static void block_until_released(void *p) {
    struct block_args *a = p;
    if (rt_lock_acquire(a->lock, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(a->lock) != RT_OK) abort();
    ATOMIC_STORE(&a->done, 1);
}

static void exit_is_refused_inside_a_hook(void) {
    struct block_args a = { NULL, 0 };
    CHECK_OK(rt_lock_new(&a.lock));
    CHECK_OK(rt_lock_acquire(a.lock, 1, RT_FOREVER));
    rt_set_blocking_hooks(exiting_hook, NULL, NULL);
    CHECK_OK(rt_start_new_thread(block_until_released, &a, NULL));
    /* The thread must block (the lock is ours), so its hook runs. */
    WAIT_UNTIL(ATOMIC_LOAD(&hook_ran), 30.0);
    rt_set_blocking_hooks(NULL, NULL, NULL);
    CHECK_OK(rt_lock_release(a.lock));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 30.0);
    CHECK_EQ_INT(exit_refused, 1);
    WAIT_UNTIL(rt_lock_free(a.lock) == RT_OK, 30.0);
}

RT_CASES(
    RT_CASE(hooks_never_run_on_uncontended_paths),
    RT_CASE(hooks_run_once_around_a_real_block),
    RT_CASE(hooks_let_a_global_lock_go_while_threads_block),
    RT_CASE(exit_is_refused_inside_a_hook)
)
