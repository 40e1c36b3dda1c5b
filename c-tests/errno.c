/* errno: rthread reports through its status codes and rt_last_error, and leaves errno as the
 * caller left it (as pthread_mutex_lock does), blocking calls included: a wait's system calls
 * that time out, find the word changed or are interrupted by a signal set errno, and rthread
 * puts it back. Interpreters rely on this: MicroPython's unix port reads errno after
 * `select()` with its GIL taken in between. */
#include "rt_test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

/* A value no system call sets. */
#define SENTINEL 7919

/* Runs `stmt` (a CHECK_STATUS of a call) with errno set to SENTINEL, and checks it still is. */
#define CHECK_ERRNO_KEPT(stmt)                                                           \
    do {                                                                                 \
        int seen_;                                                                       \
        errno = SENTINEL;                                                                \
        stmt;                                                                            \
        seen_ = errno;                                                                   \
        if (seen_ != SENTINEL)                                                           \
            rt_test_fail(__FILE__, __LINE__, "%s changed errno to %d", #stmt, seen_);    \
    } while (0)

struct holder {
    rt_rlock *rlock;
    int holding;
    int release;
};

static void hold_rlock(void *p) {
    struct holder *h = p;
    if (rt_rlock_acquire(h->rlock, 1, RT_FOREVER) != RT_OK) abort();
    ATOMIC_STORE(&h->holding, 1);
    while (!ATOMIC_LOAD(&h->release)) rt_test_sleep(0.001);
    if (rt_rlock_release(h->rlock) != RT_OK) abort();
}

/* A task that waits for the lock `arg` (which the test holds), then gives it back. */
static int wait_on_lock(void *arg, void **result) {
    rt_lock *lock = arg;
    if (rt_lock_acquire(lock, 1, RT_FOREVER) != RT_OK) return 1;
    *result = arg;
    return rt_lock_release(lock) == RT_OK ? 0 : 1;
}

static void timed_out_waits_keep_errno(void) {
    rt_lock *lock;
    rt_condition *cond;
    rt_semaphore *sem;
    rt_event *event;
    rt_queue *queue;
    rt_barrier *barrier;
    rt_thread *t;
    rt_executor *ex;
    rt_future *f;
    struct holder h;
    void *out = NULL;
    memset(&h, 0, sizeof h);

    CHECK_OK(rt_lock_new(&lock));
    CHECK_OK(rt_lock_acquire(lock, 1, RT_FOREVER));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_lock_acquire(lock, 1, 0.02), RT_TIMEOUT));
    CHECK_OK(rt_lock_release(lock));
    CHECK_OK(rt_lock_free(lock));

    CHECK_OK(rt_rlock_new(&h.rlock));
    CHECK_OK(rt_thread_new(hold_rlock, &h, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&h.holding), 10.0);
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_rlock_acquire(h.rlock, 1, 0.02), RT_TIMEOUT));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_thread_join(t, 0.02), RT_TIMEOUT));
    ATOMIC_STORE(&h.release, 1);
    CHECK_ERRNO_KEPT(CHECK_OK(rt_thread_join(t, RT_FOREVER)));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_rlock_free(h.rlock));

    CHECK_OK(rt_condition_new(&cond));
    CHECK_OK(rt_condition_acquire(cond, 1, RT_FOREVER));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_condition_wait(cond, 0.02), RT_TIMEOUT));
    CHECK_OK(rt_condition_release(cond));
    CHECK_OK(rt_condition_free(cond));

    CHECK_OK(rt_semaphore_new(0, &sem));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_semaphore_acquire(sem, 1, 0.02), RT_TIMEOUT));
    CHECK_OK(rt_semaphore_free(sem));

    CHECK_OK(rt_event_new(&event));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_event_wait(event, 0.02), RT_TIMEOUT));
    CHECK_OK(rt_event_free(event));

    CHECK_OK(rt_queue_new(0, NULL, &queue));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_queue_get(queue, 1, 0.02, &out), RT_EEMPTY));
    CHECK_OK(rt_queue_free(queue));

    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &barrier));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_barrier_wait(barrier, 0.02, NULL), RT_EBROKEN));
    CHECK_OK(rt_barrier_free(barrier));

    /* A future whose task waits on a lock the test holds. */
    CHECK_OK(rt_lock_new(&lock));
    CHECK_OK(rt_lock_acquire(lock, 1, RT_FOREVER));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_executor_new(1, NULL, NULL, NULL, &ex)));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_executor_submit(ex, wait_on_lock, lock, NULL, NULL, &f)));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_future_result(f, 0.02, &out), RT_TIMEOUT));
    CHECK_OK(rt_lock_release(lock));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_future_result(f, RT_FOREVER, &out)));
    CHECK(out == lock);
    CHECK_OK(rt_future_release(f));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_executor_shutdown(ex, 1, 0)));
    CHECK_OK(rt_executor_free(ex));
    CHECK_OK(rt_lock_free(lock));
}

/* Two threads hand a pair of semaphores and a lock back and forth: the waits sleep in the
 * kernel, and now and then find the word changed before they sleep (EAGAIN). */
struct ping {
    rt_semaphore *to_a, *to_b;
    rt_lock *lock;
    long rounds;
    int bad_errno;
};

static void pong(void *p) {
    struct ping *g = p;
    long i;
    errno = SENTINEL;
    for (i = 0; i < g->rounds; i++) {
        if (rt_semaphore_acquire(g->to_b, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_acquire(g->lock, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_release(g->lock) != RT_OK) abort();
        if (rt_semaphore_release(g->to_a, 1) != RT_OK) abort();
        if (errno != SENTINEL) g->bad_errno = errno;
    }
}

static void handoffs_keep_errno(void) {
    struct ping g;
    rt_thread *t;
    long i;
    memset(&g, 0, sizeof g);
    g.rounds = rt_test_scaled(20000, 200);
    CHECK_OK(rt_semaphore_new(0, &g.to_a));
    CHECK_OK(rt_semaphore_new(0, &g.to_b));
    CHECK_OK(rt_lock_new(&g.lock));
    CHECK_OK(rt_thread_new(pong, &g, &t));
    CHECK_OK(rt_thread_start(t));
    errno = SENTINEL;
    for (i = 0; i < g.rounds; i++) {
        CHECK_OK(rt_lock_acquire(g.lock, 1, RT_FOREVER));
        CHECK_OK(rt_semaphore_release(g.to_b, 1));
        CHECK_OK(rt_lock_release(g.lock));
        CHECK_OK(rt_semaphore_acquire(g.to_a, 1, RT_FOREVER));
        if (errno != SENTINEL) rt_test_fail(__FILE__, __LINE__, "round %ld: errno %d", i, errno);
    }
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(g.bad_errno, 0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_semaphore_free(g.to_a));
    CHECK_OK(rt_semaphore_free(g.to_b));
    CHECK_OK(rt_lock_free(g.lock));
}

/* A thread blocked in rt_lock_acquire gets signals (each ends its futex wait with EINTR, and
 * rthread waits on); the lock then comes to it, and its errno is what it set before. */
struct signalled {
    rt_lock *lock;
    long tid;
    pthread_t pthread;
    int status;
    int errno_after;
    int done;
};

static void ignore_signal(int signo) {
    (void)signo;
}

static void wait_for_lock(void *p) {
    struct signalled *s = p;
    s->pthread = pthread_self();
    ATOMIC_STORE(&s->tid, (long)rt_get_native_id());
    errno = SENTINEL;
    s->status = rt_lock_acquire(s->lock, 1, RT_FOREVER);
    s->errno_after = errno;
    if (s->status == RT_OK) (void)rt_lock_release(s->lock);
    ATOMIC_STORE(&s->done, 1);
}

static void waits_interrupted_by_signals_keep_errno(void) {
    struct signalled s;
    struct sigaction sa, old;
    rt_thread *t;
    int i;
    memset(&s, 0, sizeof s);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ignore_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the futex wait returns EINTR */
    CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
    CHECK_OK(rt_lock_new(&s.lock));
    CHECK_OK(rt_lock_acquire(s.lock, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(wait_for_lock, &s, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&s.tid) != 0, 10.0);
    for (i = 0; i < 5; i++) {
        WAIT_UNTIL(rt_test_sleeps_in_futex(ATOMIC_LOAD(&s.tid)), 10.0);
        CHECK(pthread_kill(s.pthread, SIGUSR1) == 0);
        rt_test_sleep(0.01);
    }
    WAIT_UNTIL(rt_test_sleeps_in_futex(ATOMIC_LOAD(&s.tid)), 10.0);
    CHECK_EQ_INT(ATOMIC_LOAD(&s.done), 0);
    CHECK_OK(rt_lock_release(s.lock));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(s.status, RT_OK);
    CHECK_EQ_INT(s.errno_after, SENTINEL);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(s.lock));
    CHECK(sigaction(SIGUSR1, &old, NULL) == 0);
}

static void just_return(void *p) {
    (void)p;
}

static void failed_calls_and_threads_keep_errno(void) {
    rt_lock *lock;
    rt_thread *t;
    uint64_t ident;
    CHECK_OK(rt_lock_new(&lock));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_lock_release(lock), RT_ENOTLOCKED));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_lock_acquire(NULL, 1, RT_FOREVER), RT_EINVAL));
    CHECK_ERRNO_KEPT(CHECK_STATUS(rt_lock_acquire(lock, 0, 1.0), RT_EINVAL));
    CHECK_OK(rt_lock_free(lock));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_thread_new(just_return, NULL, &t)));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_thread_set_name(t, "a name longer than the kernel keeps")));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_thread_start(t)));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_thread_join(t, RT_FOREVER)));
    CHECK_OK(rt_thread_release(t));
    CHECK_ERRNO_KEPT(CHECK_OK(rt_start_new_thread(just_return, NULL, &ident)));
}

RT_CASES(RT_CASE(timed_out_waits_keep_errno), RT_CASE(handoffs_keep_errno),
         RT_CASE(waits_interrupted_by_signals_keep_errno),
         RT_CASE(failed_calls_and_threads_keep_errno))
