/* rt_thread_interrupt and rt_interrupt_main: every kind of blocking wait ends with RT_EINTR. */
#include "rt_test.h"

#include <pthread.h>
#include <signal.h>

enum op {
    OP_LOCK, OP_QUEUE_GET, OP_QUEUE_PUT, OP_QUEUE_JOIN, OP_JOIN, OP_LOCK_TWICE, OP_RLOCK,
    OP_COND_WAIT, OP_COND_WAIT_FOR, OP_SEMAPHORE, OP_EVENT, OP_BARRIER
};

struct blocked {
    enum op op;
    rt_lock *lock;
    rt_rlock *rlock;
    rt_condition *cond;
    rt_semaphore *sem;
    rt_event *event;
    rt_barrier *barrier;
    rt_queue *queue;
    rt_thread *other;
    int levels; /* OP_COND_*: how deep the thread holds the condition's lock when it waits */
    long tid;
    int result;  /* 1000 + status of the (first) call */
    int result2; /* 1000 + status of a second call, where the op makes one */
    /* Right after the call: the caller's recursion level of `rlock`, and whether `lock` is
     * locked (the condition cases: the lock is held again, at the same level). */
    long level_after;
    int locked_after;
    double elapsed;
};

static int never(void *ctx) {
    (void)ctx;
    return 0;
}

static void run_blocked(void *p) {
    struct blocked *b = p;
    rt_status s = RT_EINVAL;
    void *item;
    double t0;
    int i;
    if (b->op == OP_COND_WAIT || b->op == OP_COND_WAIT_FOR)
        for (i = 0; i < b->levels; i++)
            if (rt_condition_acquire(b->cond, 1, RT_FOREVER) != RT_OK) abort();
    ATOMIC_STORE(&b->tid, (long)rt_get_native_id());
    t0 = rt_test_now();
    switch (b->op) {
    case OP_LOCK: s = rt_lock_acquire(b->lock, 1, RT_FOREVER); break;
    case OP_RLOCK: s = rt_rlock_acquire(b->rlock, 1, RT_FOREVER); break;
    case OP_COND_WAIT: s = rt_condition_wait(b->cond, RT_FOREVER); break;
    case OP_COND_WAIT_FOR: s = rt_condition_wait_for(b->cond, never, NULL, RT_FOREVER); break;
    case OP_SEMAPHORE: s = rt_semaphore_acquire(b->sem, 1, RT_FOREVER); break;
    case OP_EVENT: s = rt_event_wait(b->event, RT_FOREVER); break;
    case OP_BARRIER: s = rt_barrier_wait(b->barrier, RT_FOREVER, NULL); break;
    case OP_QUEUE_GET: s = rt_queue_get(b->queue, 1, RT_FOREVER, &item); break;
    case OP_QUEUE_PUT: s = rt_queue_put(b->queue, NULL, 1, RT_FOREVER); break;
    case OP_QUEUE_JOIN: s = rt_queue_join(b->queue); break;
    case OP_JOIN: s = rt_thread_join(b->other, RT_FOREVER); break;
    case OP_LOCK_TWICE:
        s = rt_lock_acquire(b->lock, 1, RT_FOREVER);
        b->result2 = 1000 + (int)rt_lock_acquire(b->lock, 1, 0.05);
        break;
    }
    b->elapsed = rt_test_now() - t0;
    if (b->rlock) b->level_after = (long)rt_rlock_count(b->rlock);
    if (b->lock) b->locked_after = rt_lock_locked(b->lock);
    if (b->op == OP_COND_WAIT || b->op == OP_COND_WAIT_FOR)
        for (i = 0; i < b->levels; i++)
            if (rt_condition_release(b->cond) != RT_OK) abort();
    ATOMIC_STORE(&b->result, 1000 + (int)s);
}

/* Starts `b` in a thread object and waits until it sleeps in its call. */
static rt_thread *start_blocked(struct blocked *b) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(run_blocked, b, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&b->tid) != 0, 10.0);
    WAIT_UNTIL(rt_test_sleeps_in_futex(ATOMIC_LOAD(&b->tid)), 10.0);
    CHECK_EQ_INT(ATOMIC_LOAD(&b->result), 0);
    return t;
}

/* Starts `b` in a thread object, waits until it sleeps in its call, interrupts it, joins it. */
static void interrupt_while_blocked(struct blocked *b) {
    rt_thread *t = start_blocked(b);
    CHECK_OK(rt_thread_interrupt(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_release(t));
}

static void interrupt_ends_a_blocked_lock_acquire(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_LOCK;
    CHECK_OK(rt_lock_new(&b.lock));
    CHECK_OK(rt_lock_acquire(b.lock, 1, RT_FOREVER));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    /* Not acquired: the lock is still ours, and works. */
    CHECK(rt_lock_locked(b.lock));
    CHECK_OK(rt_lock_release(b.lock));
    CHECK_OK(rt_lock_free(b.lock));
}

static void interrupt_ends_a_blocked_rlock_acquire(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_RLOCK;
    CHECK_OK(rt_rlock_new(&b.rlock));
    CHECK_OK(rt_rlock_acquire(b.rlock, 1, RT_FOREVER));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_EQ_INT(b.level_after, 0); /* the interrupted thread does not own it */
    /* Still ours alone, at our level. */
    CHECK_EQ_INT(rt_rlock_count(b.rlock), 1);
    CHECK_OK(rt_rlock_release(b.rlock));
    CHECK_OK(rt_rlock_free(b.rlock));
}

/* An RLock held two levels deep: the interrupted wait takes it back at level 2. */
static void interrupted_condition_wait(enum op op) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = op;
    b.levels = 2;
    CHECK_OK(rt_rlock_new(&b.rlock));
    CHECK_OK(rt_condition_new_with_rlock(b.rlock, &b.cond));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_EQ_INT(b.level_after, 2);
    CHECK(b.elapsed < 5.0);
    /* The thread released both levels before it ended: the lock is free. */
    CHECK_OK(rt_rlock_acquire(b.rlock, 0, RT_FOREVER));
    CHECK_OK(rt_rlock_release(b.rlock));
    CHECK_OK(rt_condition_free(b.cond));
    CHECK_OK(rt_rlock_free(b.rlock));
}

static void interrupt_ends_a_condition_wait_with_the_rlock_held_again_at_its_level(void) {
    interrupted_condition_wait(OP_COND_WAIT);
}

static void interrupt_ends_a_condition_wait_for_with_the_rlock_held_again_at_its_level(void) {
    interrupted_condition_wait(OP_COND_WAIT_FOR);
}

static void interrupt_ends_a_condition_wait_on_a_lock_with_the_lock_held_again(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_COND_WAIT;
    b.levels = 1;
    CHECK_OK(rt_lock_new(&b.lock));
    CHECK_OK(rt_condition_new_with_lock(b.lock, &b.cond));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_EQ_INT(b.locked_after, 1);
    CHECK(!rt_lock_locked(b.lock)); /* released by the thread afterwards */
    CHECK_OK(rt_condition_free(b.cond));
    CHECK_OK(rt_lock_free(b.lock));
}

static void interrupt_ends_a_blocked_semaphore_acquire(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_SEMAPHORE;
    CHECK_OK(rt_semaphore_new(0, &b.sem));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    /* No permit was taken or lost: one released now is there to take. */
    CHECK_EQ_INT(rt_semaphore_value(b.sem), 0);
    CHECK_OK(rt_semaphore_release(b.sem, 1));
    CHECK_EQ_INT(rt_semaphore_value(b.sem), 1);
    CHECK_OK(rt_semaphore_acquire(b.sem, 0, RT_FOREVER));
    CHECK_OK(rt_semaphore_free(b.sem));
}

static void interrupt_ends_a_blocked_event_wait(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_EVENT;
    CHECK_OK(rt_event_new(&b.event));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK(!rt_event_is_set(b.event));
    CHECK_OK(rt_event_free(b.event));
}

static void interrupted_barrier_wait_breaks_the_barrier_for_the_others(void) {
    struct blocked other, b;
    rt_thread *t;
    size_t index = 9;
    memset(&other, 0, sizeof other);
    memset(&b, 0, sizeof b);
    other.op = b.op = OP_BARRIER;
    CHECK_OK(rt_barrier_new(3, NULL, NULL, RT_FOREVER, &b.barrier));
    other.barrier = b.barrier;
    t = start_blocked(&other);
    WAIT_UNTIL(rt_barrier_n_waiting(b.barrier) == 1, 10.0);
    interrupt_while_blocked(&b);
    /* The interrupted thread gets RT_EINTR; the one that waited with it, RT_EBROKEN. */
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(other.result, 1000 + RT_EBROKEN);
    CHECK(rt_barrier_broken(b.barrier));
    CHECK_ERR(rt_barrier_wait(b.barrier, RT_FOREVER, &index), RT_EBROKEN, "barrier is broken");
    CHECK_EQ_INT(index, 9);
    /* A reset repairs it. */
    CHECK_OK(rt_barrier_reset(b.barrier));
    CHECK(!rt_barrier_broken(b.barrier));
    CHECK_EQ_INT(rt_barrier_n_waiting(b.barrier), 0);
    CHECK_OK(rt_barrier_free(b.barrier));
}

static void interrupt_ends_a_blocked_queue_get(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_QUEUE_GET;
    CHECK_OK(rt_queue_new(1, NULL, &b.queue));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_OK(rt_queue_put(b.queue, NULL, 0, RT_FOREVER));
    CHECK_EQ_INT(rt_queue_qsize(b.queue), 1); /* nothing was taken */
    CHECK_OK(rt_queue_free(b.queue));
}

static void interrupt_ends_a_blocked_queue_put(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_QUEUE_PUT;
    CHECK_OK(rt_queue_new(1, NULL, &b.queue));
    CHECK_OK(rt_queue_put(b.queue, &b, 0, RT_FOREVER));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_EQ_INT(rt_queue_qsize(b.queue), 1); /* nothing was added */
    CHECK_EQ_INT(rt_queue_unfinished_tasks(b.queue), 1);
    CHECK_OK(rt_queue_free(b.queue));
}

static void interrupt_ends_a_blocked_queue_join(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_QUEUE_JOIN;
    CHECK_OK(rt_queue_new(0, NULL, &b.queue));
    CHECK_OK(rt_queue_put(b.queue, &b, 0, RT_FOREVER));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(b.queue), 1);
    CHECK_OK(rt_queue_free(b.queue));
}

static rt_lock *sleeper_gate;

static void wait_for_gate(void *p) {
    (void)p;
    if (rt_lock_acquire(sleeper_gate, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(sleeper_gate) != RT_OK) abort();
}

static void interrupt_ends_a_blocked_thread_join(void) {
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_JOIN;
    CHECK_OK(rt_lock_new(&sleeper_gate));
    CHECK_OK(rt_lock_acquire(sleeper_gate, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(wait_for_gate, NULL, &b.other));
    CHECK_OK(rt_thread_start(b.other));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK(rt_thread_is_alive(b.other)); /* the joined thread is untouched */
    CHECK_OK(rt_lock_release(sleeper_gate));
    CHECK_OK(rt_thread_join(b.other, 10.0));
    CHECK_OK(rt_thread_release(b.other));
    CHECK_OK(rt_lock_free(sleeper_gate));
}

static void one_interrupt_ends_one_wait(void) {
    /* Interrupted in the first wait; the second, timed wait runs its full course. */
    struct blocked b;
    memset(&b, 0, sizeof b);
    b.op = OP_LOCK_TWICE;
    CHECK_OK(rt_lock_new(&b.lock));
    CHECK_OK(rt_lock_acquire(b.lock, 1, RT_FOREVER));
    interrupt_while_blocked(&b);
    CHECK_EQ_INT(b.result, 1000 + RT_EINTR);
    CHECK_EQ_INT(b.result2, 1000 + RT_TIMEOUT);
    CHECK_OK(rt_lock_release(b.lock));
    CHECK_OK(rt_lock_free(b.lock));
}

struct pending {
    rt_lock *go;     /* held by main until the interrupt was sent */
    rt_lock *busy;   /* held by main: the thread's real wait */
    rt_lock *free_lock;
    int uncontended; /* 1000 + status of an acquire that did not need to wait */
    int first;       /* 1000 + status of the first real wait */
    int second;
    int ready;
};

static void pending_waiter(void *p) {
    struct pending *w = p;
    ATOMIC_STORE(&w->ready, 1);
    /* Spin (not an rthread wait) until main says the interrupt is out. */
    while (rt_lock_locked(w->go)) {
    }
    w->uncontended = 1000 + (int)rt_lock_acquire(w->free_lock, 1, RT_FOREVER);
    w->first = 1000 + (int)rt_lock_acquire(w->busy, 1, 5.0);
    w->second = 1000 + (int)rt_lock_acquire(w->busy, 1, 0.02);
}

static void a_pending_interrupt_ends_the_next_real_wait(void) {
    struct pending w;
    rt_thread *t;
    double t0;
    memset(&w, 0, sizeof w);
    CHECK_OK(rt_lock_new(&w.go));
    CHECK_OK(rt_lock_new(&w.busy));
    CHECK_OK(rt_lock_new(&w.free_lock));
    CHECK_OK(rt_lock_acquire(w.go, 1, RT_FOREVER));
    CHECK_OK(rt_lock_acquire(w.busy, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(pending_waiter, &w, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&w.ready), 10.0);
    CHECK_OK(rt_thread_interrupt(t));
    t0 = rt_test_now();
    CHECK_OK(rt_lock_release(w.go));
    CHECK_OK(rt_thread_join(t, 10.0));
    /* The uncontended acquire did not consume it; the first real wait ended at once. */
    CHECK_EQ_INT(w.uncontended, 1000 + RT_OK);
    CHECK_EQ_INT(w.first, 1000 + RT_EINTR);
    CHECK_EQ_INT(w.second, 1000 + RT_TIMEOUT);
    CHECK_ELAPSED(t0, 0.02, 4.0);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_release(w.busy));
    CHECK_OK(rt_lock_free(w.go));
    CHECK_OK(rt_lock_free(w.busy));
    CHECK_OK(rt_lock_free(w.free_lock));
}

static int timer_fired;

static void fire(void *p) {
    (void)p;
    ATOMIC_STORE(&timer_fired, 1);
}

static void interrupting_a_waiting_timer_cancels_it(void) {
    rt_thread *t;
    double t0 = rt_test_now();
    CHECK_OK(rt_timer_new(30.0, fire, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_interrupt(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_ELAPSED(t0, 0.0, 5.0);
    CHECK_EQ_INT(timer_fired, 0);
    CHECK_OK(rt_thread_release(t));
}

static void noop(void *p) {
    (void)p;
}

static void interrupting_an_unstarted_or_finished_thread(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(noop, NULL, &t));
    CHECK_ERR(rt_thread_interrupt(t), RT_ESTATE, "cannot interrupt a thread that is not running");
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_interrupt(t)); /* finished: nothing happens */
    CHECK_OK(rt_thread_release(t));
    CHECK_ERR(rt_thread_interrupt(NULL), RT_EINVAL, "NULL handle");
}

static void interrupting_yourself_ends_your_next_wait(void) {
    rt_thread *me;
    rt_lock *l;
    CHECK_OK(rt_current_thread(&me));
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_thread_interrupt(me));
    CHECK_STATUS(rt_lock_acquire(l, 1, 5.0), RT_EINTR);
    CHECK_STATUS(rt_lock_acquire(l, 1, 0.01), RT_TIMEOUT);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
    CHECK_OK(rt_thread_release(me));
}

/* Ctrl-C, simulated: a SIGINT handler calls rt_interrupt_main() while main waits on a lock. */
static void on_sigint(int sig) {
    (void)sig;
    rt_interrupt_main();
}

static pthread_t main_pthread;
static int signals_sent;
static int main_result;

static void send_sigint_until_done(void *p) {
    (void)p;
    while (!ATOMIC_LOAD(&main_result)) {
        pthread_kill(main_pthread, SIGINT);
        ATOMIC_ADD(&signals_sent, 1);
        rt_test_sleep(0.01);
    }
}

static void interrupt_main_from_a_signal_handler(void) {
    struct sigaction sa;
    rt_lock *l;
    rt_thread *t;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGINT, &sa, NULL) == 0);
    main_pthread = pthread_self();
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(send_sigint_until_done, NULL, &t));
    CHECK_OK(rt_thread_set_daemon(t, true));
    CHECK_OK(rt_thread_start(t));
    /* Blocks until the handler's interrupt ends the wait (the lock is ours: nobody releases). */
    ATOMIC_STORE(&main_result, 1000 + (int)rt_lock_acquire(l, 1, 30.0));
    CHECK_EQ_INT(ATOMIC_LOAD(&main_result), 1000 + RT_EINTR);
    CHECK(ATOMIC_LOAD(&signals_sent) >= 1);
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(interrupt_ends_a_blocked_lock_acquire),
    RT_CASE(interrupt_ends_a_blocked_rlock_acquire),
    RT_CASE(interrupt_ends_a_condition_wait_with_the_rlock_held_again_at_its_level),
    RT_CASE(interrupt_ends_a_condition_wait_for_with_the_rlock_held_again_at_its_level),
    RT_CASE(interrupt_ends_a_condition_wait_on_a_lock_with_the_lock_held_again),
    RT_CASE(interrupt_ends_a_blocked_semaphore_acquire),
    RT_CASE(interrupt_ends_a_blocked_event_wait),
    RT_CASE(interrupted_barrier_wait_breaks_the_barrier_for_the_others),
    RT_CASE(interrupt_ends_a_blocked_queue_get),
    RT_CASE(interrupt_ends_a_blocked_queue_put),
    RT_CASE(interrupt_ends_a_blocked_queue_join),
    RT_CASE(interrupt_ends_a_blocked_thread_join),
    RT_CASE(one_interrupt_ends_one_wait),
    RT_CASE(a_pending_interrupt_ends_the_next_real_wait),
    RT_CASE(interrupting_a_waiting_timer_cancels_it),
    RT_CASE(interrupting_an_unstarted_or_finished_thread),
    RT_CASE(interrupting_yourself_ends_your_next_wait),
    RT_CASE(interrupt_main_from_a_signal_handler)
)
