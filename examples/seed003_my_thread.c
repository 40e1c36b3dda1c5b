/*
 * Seed 003, second program (the class style): a thread object with its own fields, started
 * with start(), checked with is_alive(), waited for with join().
 *
 *     class myThread(threading.Thread):
 *         def __init__(self, threadID, name, counter): ...; self.name = name
 *         def run(self):
 *             print("Thread Start: " + self.name)
 *             print_time(self.name, self.counter, 5)
 *             print("Thread Exit: " + self.name)
 *     thread1 = myThread(1001, "Thread-1", 1); thread2 = myThread(1002, "Thread-2", 2)
 *     print("Thread-1 is Alive?", thread1.isAlive())
 *     thread1.start(); thread2.start()
 *     print("Thread-1 is Alive?", thread1.isAlive())
 *     thread1.join(); thread2.join()
 *     print("Thread-1 is Alive?", thread1.isAlive())
 *     print("exit")
 *
 * In C the "subclass" is a struct holding the thread object, and run() is the thread's
 * function; the thread reads its own name from its object (rt_current_thread). Delays are
 * 0.05 s and 0.1 s, times are offsets from the start. So that the second is_alive() check
 * always sees the thread running, the threads wait at a gate (a lock main holds) until main
 * has checked.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "rthread.h"

struct my_thread {
    rt_thread *thread; /* the "base class" */
    int thread_id;
    const char *name;
    double delay;
};

static double t0;
static rt_lock *gate;

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
    struct my_thread *self = arg;
    rt_thread *me;
    char name[32] = "?";
    if (rt_current_thread(&me) == RT_OK) {
        rt_thread_name(me, name, sizeof name);
        rt_thread_release(me);
    }
    printf("Thread Start: %s\n", name);
    fflush(stdout);
    rt_lock_acquire(gate, 1, RT_FOREVER);
    rt_lock_release(gate);
    print_time(name, self->delay, 5);
    printf("Thread Exit: %s\n", name);
    fflush(stdout);
}

static int my_thread_init(struct my_thread *t, int thread_id, const char *name, double delay) {
    t->thread_id = thread_id;
    t->name = name;
    t->delay = delay;
    if (rt_thread_new(run, t, &t->thread) != RT_OK) return -1;
    return rt_thread_set_name(t->thread, name) == RT_OK ? 0 : -1;
}

static const char *py_bool(bool b) {
    return b ? "True" : "False";
}

int main(void) {
    struct my_thread thread1, thread2;
    t0 = now();
    if (rt_lock_new(&gate) != RT_OK) return 1;
    rt_lock_acquire(gate, 1, RT_FOREVER);
    if (my_thread_init(&thread1, 1001, "Thread-1", 0.05) != 0) return 1;
    if (my_thread_init(&thread2, 1002, "Thread-2", 0.1) != 0) return 1;
    printf("Thread-1 is Alive? %s\n", py_bool(rt_thread_is_alive(thread1.thread)));
    fflush(stdout);
    if (rt_thread_start(thread1.thread) != RT_OK) return 1;
    if (rt_thread_start(thread2.thread) != RT_OK) return 1;
    printf("Thread-1 is Alive? %s\n", py_bool(rt_thread_is_alive(thread1.thread)));
    fflush(stdout);
    rt_lock_release(gate);
    rt_thread_join(thread1.thread, RT_FOREVER);
    rt_thread_join(thread2.thread, RT_FOREVER);
    printf("Thread-1 is Alive? %s\n", py_bool(rt_thread_is_alive(thread1.thread)));
    printf("exit\n");
    rt_thread_release(thread1.thread);
    rt_thread_release(thread2.thread);
    rt_lock_free(gate);
    return 0;
}
