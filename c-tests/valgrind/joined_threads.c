/*
 * A program that joins every thread it starts, for tests/valgrind_default.rs, which runs it
 * under valgrind with its default options and expects no block "possibly lost".
 *
 * A joined thread has run everything that belongs to it, but its OS thread still has its last
 * steps to take (the system's thread-exit processing: pthread key destructors, then the C
 * library's own). If the process exits meanwhile, the C library's memory for that thread (its
 * TLS vector) shows as "possibly lost". Here one thread's last steps take a while on purpose:
 * a thread-local value set by its exit hook, whose destructor (run by that processing) sleeps.
 */
#include "rthread.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static rt_local *slow;

static void sleep_a_while(void *v) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    (void)v;
    nanosleep(&ts, NULL);
}

static void set_slow_value(void *ctx) {
    (void)ctx;
    if (rt_local_set(slow, (void *)1) != RT_OK) abort();
}

static void work(void *arg) {
    (void)arg;
}

static void must(rt_status s) {
    if (s != RT_OK) {
        fprintf(stderr, "%s: %s\n", rt_status_str(s), rt_last_error());
        exit(1);
    }
}

int main(void) {
    rt_thread *t[8];
    int i;
    must(rt_local_new(sleep_a_while, &slow));
    /* The thread whose end takes a while. */
    must(rt_set_thread_hooks(NULL, set_slow_value, NULL));
    must(rt_thread_new(work, NULL, &t[0]));
    must(rt_thread_start(t[0]));
    must(rt_thread_join(t[0], RT_FOREVER));
    must(rt_thread_release(t[0]));
    must(rt_set_thread_hooks(NULL, NULL, NULL));
    /* Threads and a timer, joined with and without a timeout. */
    for (i = 0; i < 8; i++) {
        if (i == 7)
            must(rt_timer_new(0.0, work, NULL, &t[i]));
        else
            must(rt_thread_new(work, NULL, &t[i]));
        must(rt_thread_start(t[i]));
    }
    for (i = 0; i < 8; i++) {
        must(rt_thread_join(t[i], i % 2 ? 60.0 : RT_FOREVER));
        must(rt_thread_release(t[i]));
    }
    must(rt_local_free(slow));
    puts("joined");
    return 0;
}
