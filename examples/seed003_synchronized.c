/*
 * Seed 003, third program: the same threads, but each prints its times while holding one
 * shared lock, so one thread's block of lines is never interleaved with the other's.
 *
 *     threadLock = threading.Lock()
 *     def run(self):
 *         print("Thread Start: " + self.name)
 *         threadLock.acquire(); print_time(self.name, self.counter, 3); threadLock.release()
 *         print("Thread Exit: " + self.name)
 *     thread1.start(); thread2.start()
 *     for t in threads: t.join()
 *     print("exit")
 *
 * Delays are 0.05 s and 0.1 s, times are offsets from the start.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "rthread.h"

struct job {
    const char *name;
    double delay;
};

static double t0;
static rt_lock *thread_lock;

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

static void print_time(const char *thread_name, double delay, int counter) {
    while (counter) {
        sleep_for(delay);
        printf("%s: +%.3fs\n", thread_name, now() - t0);
        fflush(stdout);
        counter -= 1;
    }
}

static void run(void *arg) {
    struct job *self = arg;
    printf("Thread Start: %s\n", self->name);
    fflush(stdout);
    rt_lock_acquire(thread_lock, 1, RT_FOREVER);
    print_time(self->name, self->delay, 3);
    rt_lock_release(thread_lock);
    printf("Thread Exit: %s\n", self->name);
    fflush(stdout);
}

int main(void) {
    struct job jobs[2] = { { "Thread-1", 0.05 }, { "Thread-2", 0.1 } };
    rt_thread *threads[2];
    int i;
    t0 = now();
    if (rt_lock_new(&thread_lock) != RT_OK) return 1;
    for (i = 0; i < 2; i++) {
        if (rt_thread_new(run, &jobs[i], &threads[i]) != RT_OK) return 1;
        rt_thread_set_name(threads[i], jobs[i].name);
    }
    for (i = 0; i < 2; i++)
        if (rt_thread_start(threads[i]) != RT_OK) return 1;
    for (i = 0; i < 2; i++) {
        rt_thread_join(threads[i], RT_FOREVER);
        rt_thread_release(threads[i]);
    }
    printf("exit\n");
    rt_lock_free(thread_lock);
    return 0;
}
