/* An idle pool's submit -> result round trip against rthread's semaphore ping-pong, in
 * interleaved batches: each batch times N semaphore round trips, then N pool round trips, then
 * N round trips of a future completed by hand (a thread woken by a semaphore sets its result),
 * so that both sides of the ratio see the same minutes of a noisy machine. Prints the medians
 * and 10th percentiles of the per-batch times, the quartiles of the per-batch ratio (pool /
 * semaphore) and the context switches per 1,000 round trips of each kind.
 *
 * With "pin" as the third argument, the caller runs on CPU 0 and its partner (the pool's
 * worker, the ping-pong partner, the future's completer) on CPU 1, so that the figures do not
 * depend on where the scheduler puts the threads (without it, the two often share one CPU for
 * a while and both sides fall back to yielding and sleeping).
 *
 *   cc -O2 -Iinclude benches/c/pool_round_trip.c -o /tmp/pool_rt -Ltarget/release -lrthread
 *   LD_LIBRARY_PATH=target/release /tmp/pool_rt 200 2000 pin
 */
#define _GNU_SOURCE
#include <rthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int pinned;
static rt_semaphore *ping, *pong, *go;
static rt_future *volatile handed;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static long switches(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_nvcsw + u.ru_nivcsw;
}

static int pin(int cpu) {
    cpu_set_t set;
    if (!pinned)
        return 0;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
}

static void check(rt_status s, const char *what) {
    if (s != RT_OK) {
        fprintf(stderr, "%s: %s\n", what, rt_last_error());
        exit(1);
    }
}

static int empty_task(void *arg, void **result) {
    (void)arg;
    *result = NULL;
    return 0;
}

static int pin_worker(void *ctx) {
    (void)ctx;
    return pin(1);
}

static void ping_partner(void *arg) {
    (void)arg;
    pin(1);
    for (;;) {
        rt_semaphore_acquire(ping, 1, RT_FOREVER);
        rt_semaphore_release(pong, 1);
    }
}

static void future_completer(void *arg) {
    (void)arg;
    pin(1);
    for (;;) {
        rt_future *f;
        rt_semaphore_acquire(go, 1, RT_FOREVER);
        f = handed;
        rt_future_set_running_or_notify_cancel(f);
        rt_future_set_result(f, NULL);
        rt_future_release(f);
    }
}

static void start(void (*fn)(void *)) {
    rt_thread *t;
    check(rt_thread_new(fn, NULL, &t), "rt_thread_new");
    check(rt_thread_set_daemon(t, true), "rt_thread_set_daemon");
    check(rt_thread_start(t), "rt_thread_start");
    check(rt_thread_release(t), "rt_thread_release");
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int batches = argc > 1 ? atoi(argv[1]) : 200;
    long n = argc > 2 ? atol(argv[2]) : 2000;
    double *sem, *pool, *fut, *ratio;
    long cs[3] = {0, 0, 0};
    rt_executor *ex;
    rt_future *f;
    void *r;
    pinned = argc > 3 && strcmp(argv[3], "pin") == 0;
    if (batches < 1 || n < 1) {
        fprintf(stderr, "usage: %s [batches] [round trips per batch] [pin]\n", argv[0]);
        return 2;
    }
    sem = malloc(sizeof(double) * (size_t)batches);
    pool = malloc(sizeof(double) * (size_t)batches);
    fut = malloc(sizeof(double) * (size_t)batches);
    ratio = malloc(sizeof(double) * (size_t)batches);
    if (!sem || !pool || !fut || !ratio || pin(0) != 0) {
        fprintf(stderr, "no memory, or CPUs 0 and 1 not both available\n");
        return 1;
    }
    check(rt_executor_new(1, "bench", pin_worker, NULL, &ex), "rt_executor_new");
    check(rt_executor_submit(ex, empty_task, NULL, NULL, NULL, &f), "submit");
    check(rt_future_result(f, RT_FOREVER, &r), "result");
    check(rt_future_release(f), "release");
    check(rt_semaphore_new(0, &ping), "rt_semaphore_new");
    check(rt_semaphore_new(0, &pong), "rt_semaphore_new");
    check(rt_semaphore_new(0, &go), "rt_semaphore_new");
    start(ping_partner);
    start(future_completer);
    for (int b = 0; b < batches; b++) {
        long c0 = switches(), c1, c2;
        double t0 = now_ns(), t1, t2, t3;
        for (long i = 0; i < n; i++) {
            rt_semaphore_release(ping, 1);
            rt_semaphore_acquire(pong, 1, RT_FOREVER);
        }
        t1 = now_ns();
        c1 = switches();
        for (long i = 0; i < n; i++) {
            check(rt_executor_submit(ex, empty_task, NULL, NULL, NULL, &f), "submit");
            check(rt_future_result(f, RT_FOREVER, &r), "result");
            rt_future_release(f);
        }
        t2 = now_ns();
        c2 = switches();
        for (long i = 0; i < n; i++) {
            check(rt_future_new(NULL, &f), "rt_future_new");
            rt_future_retain(f);
            handed = f;
            rt_semaphore_release(go, 1);
            check(rt_future_result(f, RT_FOREVER, &r), "result");
            rt_future_release(f);
        }
        t3 = now_ns();
        cs[0] += c1 - c0;
        cs[1] += c2 - c1;
        cs[2] += switches() - c2;
        sem[b] = (t1 - t0) / (double)n;
        pool[b] = (t2 - t1) / (double)n;
        fut[b] = (t3 - t2) / (double)n;
        ratio[b] = pool[b] / sem[b];
    }
    qsort(sem, (size_t)batches, sizeof(double), by_value);
    qsort(pool, (size_t)batches, sizeof(double), by_value);
    qsort(fut, (size_t)batches, sizeof(double), by_value);
    qsort(ratio, (size_t)batches, sizeof(double), by_value);
    printf("%d batches of %ld round trips%s (ns per round trip: median, 10th percentile)\n",
           batches, n, pinned ? ", pinned to CPUs 0 and 1" : "");
    printf("semaphore ping-pong   %6.0f %6.0f\n", sem[batches / 2], sem[batches / 10]);
    printf("pool submit->result   %6.0f %6.0f\n", pool[batches / 2], pool[batches / 10]);
    printf("future set by hand    %6.0f %6.0f\n", fut[batches / 2], fut[batches / 10]);
    printf("pool / semaphore, per batch: median %.2f, quartiles %.2f-%.2f\n", ratio[batches / 2],
           ratio[batches / 4], ratio[3 * batches / 4]);
    printf("context switches per 1000 round trips: semaphore %.1f, pool %.1f, future %.1f\n",
           (double)cs[0] * 1000.0 / ((double)batches * (double)n),
           (double)cs[1] * 1000.0 / ((double)batches * (double)n),
           (double)cs[2] * 1000.0 / ((double)batches * (double)n));
    fflush(stdout);
    /* The partners wait forever on their semaphores: leave without joining them. */
    _exit(0);
}
