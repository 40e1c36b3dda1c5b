/*
 * Seed 000, second program: two threads take turns through one lock. Each prints that it has
 * the lock, ten stars, and that it released it; the lock keeps each block whole.
 *
 *     lock = _thread.allocate_lock()
 *     def run(threadName):
 *         lock.acquire(); synchronized(threadName); lock.release()
 *
 * Main waits for both: each thread releases its own "done" lock, which main holds.
 */
#include <stdio.h>
#include <stdint.h>

#include "rthread.h"

static rt_lock *lock;
static rt_lock *done[2];
static const char *names[2] = { "t1", "t2" };

static void synchronized(const char *name) {
    int counter = 10;
    printf("%s has acquired lock\n", name);
    while (counter) {
        putchar('*');
        counter = counter - 1;
    }
    printf("\n%s has released lock\n", name);
    fflush(stdout);
}

static void run(void *arg) {
    int i = (int)(intptr_t)arg;
    rt_lock_acquire(lock, 1, RT_FOREVER);
    synchronized(names[i]);
    rt_lock_release(lock);
    rt_lock_release(done[i]);
}

int main(void) {
    int i;
    if (rt_lock_new(&lock) != RT_OK) return 1;
    for (i = 0; i < 2; i++) {
        if (rt_lock_new(&done[i]) != RT_OK) return 1;
        rt_lock_acquire(done[i], 1, RT_FOREVER);
    }
    for (i = 0; i < 2; i++)
        if (rt_start_new_thread(run, (void *)(intptr_t)i, NULL) != RT_OK) return 1;
    for (i = 0; i < 2; i++) {
        rt_lock_acquire(done[i], 1, RT_FOREVER);
        rt_lock_free(done[i]);
    }
    rt_lock_free(lock);
    return 0;
}
