/*
 * Seed 004's bounded semaphore: a pool of database connections that at most five threads may
 * hold at once, shared by twelve workers.
 *
 *     maxconnections = 5
 *     pool_sema = threading.BoundedSemaphore(value=maxconnections)
 *
 *     with pool_sema:
 *         conn = connectdb()
 *         try:
 *             # use connection
 *         finally:
 *             conn.close()
 *
 * Each "connection" is counted while it is open; the program stops with an error if a sixth
 * one ever opens. Main waits for the workers on a second, plain semaphore that each of them
 * releases when it is done. At the end, one release too many shows what the bound is for.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "rthread.h"

#define MAX_CONNECTIONS 5
#define WORKERS 12
#define QUERIES 4

static rt_semaphore *pool_sema;
static rt_semaphore *finished;
static rt_lock *stats; /* guards open_now, peak and the output */
static int open_now, peak;

static void pause_a_little(void) {
    struct timespec ts = { 0, 2000000 }; /* 2 ms of "work" */
    nanosleep(&ts, NULL);
}

static int connectdb(int worker) {
    int n;
    rt_lock_acquire(stats, 1, RT_FOREVER);
    n = ++open_now;
    if (n > peak) peak = n;
    printf("worker %d: connected (%d open)\n", worker, n);
    fflush(stdout);
    rt_lock_release(stats);
    if (n > MAX_CONNECTIONS) {
        fprintf(stderr, "more than %d connections at once\n", MAX_CONNECTIONS);
        exit(1);
    }
    return n;
}

static void close_connection(int worker) {
    rt_lock_acquire(stats, 1, RT_FOREVER);
    --open_now;
    printf("worker %d: closed\n", worker);
    fflush(stdout);
    rt_lock_release(stats);
}

static void worker(void *arg) {
    int id = (int)(intptr_t)arg, q;
    for (q = 0; q < QUERIES; q++) {
        /* with pool_sema: */
        if (rt_semaphore_acquire(pool_sema, 1, RT_FOREVER) != RT_OK) exit(1);
        connectdb(id);
        pause_a_little(); /* use the connection */
        close_connection(id);
        rt_semaphore_release(pool_sema, 1);
    }
    rt_semaphore_release(finished, 1);
}

int main(void) {
    int i;
    rt_status s;
    if (rt_bounded_semaphore_new(MAX_CONNECTIONS, &pool_sema) != RT_OK) return 1;
    if (rt_semaphore_new(0, &finished) != RT_OK) return 1;
    if (rt_lock_new(&stats) != RT_OK) return 1;
    for (i = 0; i < WORKERS; i++)
        if (rt_start_new_thread(worker, (void *)(intptr_t)i, NULL) != RT_OK) return 1;
    for (i = 0; i < WORKERS; i++) rt_semaphore_acquire(finished, 1, RT_FOREVER);

    printf("peak: %d connections open at once (limit %d)\n", peak, MAX_CONNECTIONS);
    s = rt_semaphore_release(pool_sema, 1); /* a release without an acquire: a bug */
    printf("one release too many: %s: %s\n", rt_status_str(s), rt_last_error());
    printf("value: %lld\n", (long long)rt_semaphore_value(pool_sema));

    rt_semaphore_free(pool_sema);
    rt_semaphore_free(finished);
    rt_lock_free(stats);
    return 0;
}
