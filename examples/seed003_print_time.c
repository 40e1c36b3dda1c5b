/*
 * Seed 003, first program (the functional style): two threads started with
 * _thread.start_new_thread print the time five times each, every `delay` seconds.
 *
 *     def print_time(threadName, delay):
 *         count = 0
 *         while count < 5:
 *             time.sleep(delay); count += 1
 *             print("{}: {}".format(threadName, time.ctime(time.time())))
 *     _thread.start_new_thread(print_time, ("Thread-1", 2))
 *     _thread.start_new_thread(print_time, ("Thread-2", 4))
 *     while 1: pass
 *
 * The delays are 0.05 s and 0.1 s instead of 2 s and 4 s, and each line shows the time since
 * the start instead of the wall-clock time, so the output can be checked. The seed's main
 * thread spins forever; here it waits until both threads are done: each releases its own
 * "done" lock, which main holds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "rthread.h"

struct job {
    const char *name;
    double delay;
    rt_lock *done;
};

static double t0;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_for(double secs) {
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void print_time(void *arg) {
    struct job *j = arg;
    int count = 0;
    while (count < 5) {
        sleep_for(j->delay);
        count += 1;
        printf("%s: %d at +%.3fs\n", j->name, count, now() - t0);
        fflush(stdout);
    }
    rt_lock_release(j->done);
}

int main(void) {
    struct job jobs[2] = { { "Thread-1", 0.05, NULL }, { "Thread-2", 0.1, NULL } };
    int i;
    t0 = now();
    for (i = 0; i < 2; i++) {
        if (rt_lock_new(&jobs[i].done) != RT_OK) return 1;
        rt_lock_acquire(jobs[i].done, 1, RT_FOREVER);
    }
    for (i = 0; i < 2; i++) {
        if (rt_start_new_thread(print_time, &jobs[i], NULL) != RT_OK) {
            printf("Error\n");
            return 1;
        }
    }
    for (i = 0; i < 2; i++) {
        rt_lock_acquire(jobs[i].done, 1, RT_FOREVER);
        rt_lock_free(jobs[i].done);
    }
    return 0;
}
