/*
 * Seed 000, first program: a child thread and the main thread each count to five.
 *
 *     _thread.start_new_thread(run, ("child",))
 *     for i in range(1, 6): print('main', i)
 *
 * The seed keeps the process alive with sleep(); here the child releases a lock that main
 * waits on (any thread may release a Lock), so main exits only after the child is done.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rthread.h"

static rt_lock *print_lock; /* one line at a time */
static rt_lock *done;       /* held until the child finishes */

static void say(const char *who, int i) {
    rt_lock_acquire(print_lock, 1, RT_FOREVER);
    printf("%s %d\n", who, i);
    fflush(stdout);
    rt_lock_release(print_lock);
}

static void run(void *name) {
    int i;
    for (i = 1; i < 6; i++) say((const char *)name, i);
    rt_lock_release(done);
}

int main(void) {
    int i;
    if (rt_lock_new(&print_lock) != RT_OK || rt_lock_new(&done) != RT_OK) return 1;
    rt_lock_acquire(done, 1, RT_FOREVER);
    if (rt_start_new_thread(run, "child", NULL) != RT_OK) {
        fprintf(stderr, "%s\n", rt_last_error());
        return 1;
    }
    for (i = 1; i < 6; i++) say("main", i);
    rt_lock_acquire(done, 1, RT_FOREVER); /* until the child releases it */
    rt_lock_release(done);
    rt_lock_free(done);
    rt_lock_free(print_lock);
    return 0;
}
