/*
 * Seed 002 (Programming Python's _thread mutex example): five threads each print five lines
 * to the shared standard output, one line at a time under a mutex, so no line is ever mixed
 * with another.
 *
 *     mutex = thread.allocate_lock()
 *     def counter(tid, count):
 *         for i in range(count):
 *             mutex.acquire(); print('[{}] => {}'.format(tid, i)); mutex.release()
 *
 * The seed's main thread exits without waiting (and may cut the others off). Here main waits
 * until every counter has finished: each one releases its own "done" lock.
 */
#include <stdio.h>
#include <stdint.h>

#include "rthread.h"

#define THREADS 5
#define COUNT 5

static rt_lock *mutex;
static rt_lock *done[THREADS];

static void counter(void *arg) {
    int tid = (int)(intptr_t)arg, i;
    for (i = 0; i < COUNT; i++) {
        rt_lock_acquire(mutex, 1, RT_FOREVER);
        /* Written piece by piece on purpose: only the mutex keeps the line whole. */
        fputs("[", stdout);
        printf("%d", tid);
        fputs("] => ", stdout);
        printf("%d", i);
        fputs("\n", stdout);
        fflush(stdout);
        rt_lock_release(mutex);
    }
    rt_lock_release(done[tid]);
}

int main(void) {
    int i;
    if (rt_lock_new(&mutex) != RT_OK) return 1;
    for (i = 0; i < THREADS; i++) {
        if (rt_lock_new(&done[i]) != RT_OK) return 1;
        rt_lock_acquire(done[i], 1, RT_FOREVER);
    }
    for (i = 0; i < THREADS; i++)
        if (rt_start_new_thread(counter, (void *)(intptr_t)i, NULL) != RT_OK) return 1;
    for (i = 0; i < THREADS; i++) {
        rt_lock_acquire(done[i], 1, RT_FOREVER);
        rt_lock_free(done[i]);
    }
    printf("Main thread exiting...\n");
    rt_lock_free(mutex);
    return 0;
}
