/*
 * Every rthread primitive once, each in a few lines, in the order of Python's modules:
 * _thread (start_new_thread, exit), threading (Lock, RLock, Condition, Semaphore,
 * BoundedSemaphore, Event, Barrier, Thread, Timer, local, current_thread/main_thread/enumerate,
 * and rthread's interrupt), queue (Queue, LifoQueue, PriorityQueue, SimpleQueue).
 *
 * Its output is the same in every run: one line per primitive.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rthread.h"

/* Any failure ends the program with rthread's message. */
#define TRY(call)                                                                       \
    do {                                                                                \
        rt_status s_ = (call);                                                          \
        if (s_ != RT_OK) {                                                              \
            fprintf(stderr, "%s: %s (%s)\n", #call, rt_status_str(s_), rt_last_error()); \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

/* Starts a thread object running fn(arg); the caller joins and releases it. */
static rt_thread *spawn(rt_thread_fn fn, void *arg) {
    rt_thread *t;
    TRY(rt_thread_new(fn, arg, &t));
    TRY(rt_thread_start(t));
    return t;
}

static void join(rt_thread *t) {
    TRY(rt_thread_join(t, RT_FOREVER));
    TRY(rt_thread_release(t));
}

/* _thread.start_new_thread: a detached thread; an Event says it ran. */
static void detached(void *arg) { rt_event_set(arg); }

/* _thread.exit(): ends the thread; the line after it never runs. */
static void exits_early(void *arg) {
    *(int *)arg = 1;
    rt_exit_thread();
    *(int *)arg = 2;
}

/* Lock: four threads add 1000 each to a counter under it. */
static rt_lock *lock;
static long counter;

static void add_1000(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        rt_lock_acquire(lock, 1, RT_FOREVER);
        counter++;
        rt_lock_release(lock);
    }
}

/* Condition: a producer hands over a value; the consumer waits for it with wait_for. */
static rt_condition *cond;
static int value;

static int value_ready(void *ctx) { return *(int *)ctx != 0; }

static void produce(void *arg) {
    (void)arg;
    rt_condition_acquire(cond, 1, RT_FOREVER);
    value = 42;
    rt_condition_notify(cond, 1);
    rt_condition_release(cond);
}

/* BoundedSemaphore: at most two of four threads inside at once. */
static rt_semaphore *pool;
static rt_lock *stats_lock;
static int inside, most_inside;

static void use_pool(void *arg) {
    (void)arg;
    for (int i = 0; i < 50; i++) {
        rt_semaphore_acquire(pool, 1, RT_FOREVER);
        rt_lock_acquire(stats_lock, 1, RT_FOREVER);
        if (++inside > most_inside) most_inside = inside;
        rt_lock_release(stats_lock);
        rt_lock_acquire(stats_lock, 1, RT_FOREVER);
        inside--;
        rt_lock_release(stats_lock);
        rt_semaphore_release(pool, 1);
    }
}

/* Event and interrupt: a waiter woken by set, another ended by rt_thread_interrupt. */
static rt_event *event;

static void wait_event(void *arg) { *(rt_status *)arg = rt_event_wait(event, RT_FOREVER); }

/* Barrier: three threads pass it twice; its action counts the cycles. */
static rt_barrier *barrier;
static int cycles;

static int count_cycle(void *ctx) {
    ++*(int *)ctx;
    return 0;
}

static void pass_twice(void *arg) {
    (void)arg;
    rt_barrier_wait(barrier, RT_FOREVER, NULL);
    rt_barrier_wait(barrier, RT_FOREVER, NULL);
}

/* Timer */
static void fire(void *arg) { *(int *)arg = 1; }

/* local: each thread sets its own value; the destructor runs as each thread ends. */
static rt_local *local;
static int destroyed;

static void count_destroyed(void *v) {
    (void)v;
    __atomic_add_fetch(&destroyed, 1, __ATOMIC_SEQ_CST);
}

static void set_local(void *arg) {
    void *seen = arg;
    rt_local_get(local, &seen); /* NULL: this thread has set nothing yet */
    if (seen == NULL) rt_local_set(local, arg);
}

/* Queues: a worker takes jobs until the queue is shut down. */
static rt_queue *jobs;
static long jobs_total;

static void queue_worker(void *arg) {
    void *job;
    (void)arg;
    while (rt_queue_get(jobs, 1, RT_FOREVER, &job) == RT_OK) {
        jobs_total += (long)(intptr_t)job;
        rt_queue_task_done(jobs);
    }
}

static int compare_ints(const void *a, const void *b) {
    intptr_t x = (intptr_t)a, y = (intptr_t)b;
    return (x > y) - (x < y);
}

static void print_queue(const char *what, rt_queue *q) {
    void *item;
    printf("%s:", what);
    while (rt_queue_get(q, 0, RT_FOREVER, &item) == RT_OK) printf(" %d", (int)(intptr_t)item);
    printf("\n");
}

int main(void) {
    rt_thread *threads[4], *t, *u;
    int flag = 0;

    /* _thread */
    TRY(rt_event_new(&event));
    TRY(rt_start_new_thread(detached, event, NULL));
    TRY(rt_event_wait(event, RT_FOREVER));
    printf("start_new_thread: ran\n");
    TRY(rt_event_clear(event));
    join(spawn(exits_early, &flag));
    printf("exit_thread: %s\n", flag == 1 ? "ended the thread early" : "did not");

    /* Lock */
    TRY(rt_lock_new(&lock));
    for (int i = 0; i < 4; i++) threads[i] = spawn(add_1000, NULL);
    for (int i = 0; i < 4; i++) join(threads[i]);
    printf("Lock: counter = %ld\n", counter);

    /* RLock */
    rt_rlock *rl;
    TRY(rt_rlock_new(&rl));
    TRY(rt_rlock_acquire(rl, 1, RT_FOREVER));
    TRY(rt_rlock_acquire(rl, 1, RT_FOREVER));
    printf("RLock: held %d levels deep\n", (int)rt_rlock_count(rl));
    TRY(rt_rlock_release(rl));
    TRY(rt_rlock_release(rl));

    /* Condition (on that RLock) */
    TRY(rt_condition_new_with_rlock(rl, &cond));
    TRY(rt_condition_acquire(cond, 1, RT_FOREVER));
    t = spawn(produce, NULL);
    TRY(rt_condition_wait_for(cond, value_ready, &value, RT_FOREVER));
    TRY(rt_condition_release(cond));
    join(t);
    printf("Condition: got %d\n", value);
    TRY(rt_condition_free(cond));
    TRY(rt_rlock_free(rl));

    /* Semaphore and BoundedSemaphore */
    rt_semaphore *sem;
    TRY(rt_semaphore_new(0, &sem));
    TRY(rt_semaphore_release(sem, 3));
    printf("Semaphore: value %lld after release(3)\n", (long long)rt_semaphore_value(sem));
    TRY(rt_semaphore_free(sem));
    TRY(rt_bounded_semaphore_new(2, &pool));
    TRY(rt_lock_new(&stats_lock));
    for (int i = 0; i < 4; i++) threads[i] = spawn(use_pool, NULL);
    for (int i = 0; i < 4; i++) join(threads[i]);
    printf("BoundedSemaphore: at most %s inside; ", most_inside <= 2 ? "two" : "more than two");
    if (rt_semaphore_release(pool, 1) == RT_EOVERRELEASE) printf("%s\n", rt_last_error());

    /* Event */
    rt_status woke = RT_EINVAL, interrupted = RT_EINVAL;
    t = spawn(wait_event, &woke);
    TRY(rt_event_set(event));
    join(t);
    printf("Event: the waiter got %s\n", rt_status_str(woke));

    /* Interrupt: a thread blocked on an event that nobody sets */
    TRY(rt_event_clear(event));
    t = spawn(wait_event, &interrupted);
    TRY(rt_thread_interrupt(t));
    join(t);
    printf("interrupt: the waiter got %s\n", rt_status_str(interrupted));

    /* Barrier */
    TRY(rt_barrier_new(3, count_cycle, &cycles, RT_FOREVER, &barrier));
    for (int i = 0; i < 3; i++) threads[i] = spawn(pass_twice, NULL);
    for (int i = 0; i < 3; i++) join(threads[i]);
    printf("Barrier: %d cycles of %zu threads\n", cycles, rt_barrier_parties(barrier));

    /* Thread objects */
    char name[32];
    TRY(rt_thread_new(NULL, NULL, &t));
    TRY(rt_thread_set_name(t, "worker"));
    TRY(rt_thread_start(t));
    TRY(rt_thread_join(t, RT_FOREVER));
    TRY(rt_thread_name(t, name, sizeof name));
    printf("Thread: %s ran and %s\n", name, rt_thread_is_alive(t) ? "still runs" : "ended");
    TRY(rt_thread_release(t));
    TRY(rt_current_thread(&t));
    TRY(rt_main_thread(&u));
    TRY(rt_thread_name(u, name, sizeof name));
    printf("current_thread: %s, %s\n", name, t == u ? "the main thread" : "another");
    TRY(rt_thread_release(t));
    TRY(rt_thread_release(u));

    /* Timer: one fires, one is cancelled first */
    int fired = 0, cancelled_fired = 0;
    TRY(rt_timer_new(0.05, fire, &fired, &t));
    TRY(rt_timer_new(60.0, fire, &cancelled_fired, &u));
    TRY(rt_thread_start(t));
    TRY(rt_thread_start(u));
    TRY(rt_timer_cancel(u));
    join(t);
    join(u);
    printf("Timer: %s; the cancelled one %s\n", fired ? "fired" : "did not fire",
           cancelled_fired ? "fired" : "did not");

    /* local */
    static int a, b;
    TRY(rt_local_new(count_destroyed, &local));
    threads[0] = spawn(set_local, &a);
    threads[1] = spawn(set_local, &b);
    join(threads[0]);
    join(threads[1]);
    printf("local: %d per-thread values destroyed\n", destroyed);

    /* Queue: a worker, task_done and join, shutdown */
    TRY(rt_queue_new(4, NULL, &jobs));
    t = spawn(queue_worker, NULL);
    for (intptr_t i = 1; i <= 10; i++) TRY(rt_queue_put(jobs, (void *)i, 1, RT_FOREVER));
    TRY(rt_queue_join(jobs));
    TRY(rt_queue_shutdown(jobs, 0));
    join(t);
    printf("Queue: the worker summed %ld, then saw the shutdown\n", jobs_total);

    /* LifoQueue, PriorityQueue, SimpleQueue */
    rt_queue *lifo, *prio, *simple;
    TRY(rt_lifo_queue_new(0, NULL, &lifo));
    TRY(rt_priority_queue_new(0, compare_ints, NULL, &prio));
    TRY(rt_simple_queue_new(NULL, &simple));
    for (intptr_t i = 1; i <= 3; i++) TRY(rt_queue_put(lifo, (void *)i, 1, RT_FOREVER));
    TRY(rt_queue_put(prio, (void *)(intptr_t)2, 1, RT_FOREVER));
    TRY(rt_queue_put(prio, (void *)(intptr_t)3, 1, RT_FOREVER));
    TRY(rt_queue_put(prio, (void *)(intptr_t)1, 1, RT_FOREVER));
    for (intptr_t i = 1; i <= 3; i++) TRY(rt_queue_put(simple, (void *)i, 1, RT_FOREVER));
    print_queue("LifoQueue", lifo);
    print_queue("PriorityQueue", prio);
    print_queue("SimpleQueue", simple);

    TRY(rt_queue_free(lifo));
    TRY(rt_queue_free(prio));
    TRY(rt_queue_free(simple));
    TRY(rt_queue_free(jobs));
    TRY(rt_local_free(local));
    TRY(rt_barrier_free(barrier));
    TRY(rt_event_free(event));
    TRY(rt_semaphore_free(pool));
    TRY(rt_lock_free(stats_lock));
    TRY(rt_lock_free(lock));
    return 0;
}
