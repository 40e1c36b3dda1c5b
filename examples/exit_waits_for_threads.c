/*
 * Python's exit rule in C: returning from main waits for every non-daemon thread object, and
 * abandons daemon threads.
 *
 *     def worker(): go.wait(); time.sleep(0.05); print("worker: finished")
 *     def daemon(): print("daemon: started"); forever.wait()
 *     threading.Thread(target=worker).start()
 *     threading.Thread(target=daemon, daemon=True).start()
 *     print("main: returning")          # the interpreter then joins worker, not daemon
 *
 * The worker only starts its work once main is about to return, so its line always comes
 * after main's. A program that wants C's plain behaviour calls rt_set_exit_wait(false), makes
 * its threads daemons, or leaves with _exit().
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "rthread.h"

static rt_lock *go, *forever, *daemon_started;

static void worker(void *arg) {
    struct timespec ts = { 0, 50000000 };
    (void)arg;
    rt_lock_acquire(go, 1, RT_FOREVER);
    while (nanosleep(&ts, &ts) != 0) {
    }
    printf("worker: finished\n");
}

static void daemon_thread(void *arg) {
    (void)arg;
    printf("daemon: started\n");
    fflush(stdout);
    rt_lock_release(daemon_started);
    rt_lock_acquire(forever, 1, RT_FOREVER);
    printf("daemon: finished\n"); /* never */
}

int main(void) {
    rt_thread *w, *d;
    if (rt_lock_new(&go) != RT_OK || rt_lock_new(&forever) != RT_OK ||
        rt_lock_new(&daemon_started) != RT_OK)
        return 1;
    rt_lock_acquire(go, 1, RT_FOREVER);
    rt_lock_acquire(forever, 1, RT_FOREVER);
    rt_lock_acquire(daemon_started, 1, RT_FOREVER);
    if (rt_thread_new(worker, NULL, &w) != RT_OK || rt_thread_start(w) != RT_OK) return 1;
    if (rt_thread_new(daemon_thread, NULL, &d) != RT_OK) return 1;
    rt_thread_set_daemon(d, true);
    if (rt_thread_start(d) != RT_OK) return 1;
    rt_lock_acquire(daemon_started, 1, RT_FOREVER);
    rt_thread_release(w);
    rt_thread_release(d);
    printf("main: returning\n");
    rt_lock_release(go);
    return 0;
}
