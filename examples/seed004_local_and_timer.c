/*
 * Seed 004's thread-local data and Timer:
 *
 *     >>> mydata = threading.local()
 *     >>> mydata.x = 7                 # each thread has its own mydata.x
 *     >>> def hello(): print("Hello")
 *     >>> t = threading.Timer(30.0, hello)
 *     >>> t.start()                    # "Hello" after 30 s, unless t.cancel() came first
 *
 * The timer waits 0.05 s here. A second timer is cancelled before it fires.
 */
#include <stdio.h>
#include <stdint.h>

#include "rthread.h"

static rt_local *mydata;

static void show(const char *who) {
    void *x = NULL;
    rt_local_get(mydata, &x);
    if (x)
        printf("%s: mydata.x = %d\n", who, (int)(intptr_t)x);
    else
        printf("%s: mydata.x is not set\n", who);
}

static void other_thread(void *arg) {
    (void)arg;
    show("thread");
    rt_local_set(mydata, (void *)(intptr_t)8);
    show("thread");
}

static void hello(void *arg) {
    (void)arg;
    printf("Hello\n");
}

static void never(void *arg) {
    (void)arg;
    printf("the cancelled timer fired\n");
}

int main(void) {
    rt_thread *t, *timer, *cancelled;
    if (rt_local_new(NULL, &mydata) != RT_OK) return 1;
    rt_local_set(mydata, (void *)(intptr_t)7);
    show("main");
    if (rt_thread_new(other_thread, NULL, &t) != RT_OK) return 1;
    rt_thread_start(t);
    rt_thread_join(t, RT_FOREVER);
    rt_thread_release(t);
    show("main");

    if (rt_timer_new(0.05, hello, NULL, &timer) != RT_OK) return 1;
    if (rt_timer_new(0.05, never, NULL, &cancelled) != RT_OK) return 1;
    rt_thread_start(timer);
    rt_thread_start(cancelled);
    rt_timer_cancel(cancelled);
    rt_thread_join(timer, RT_FOREVER);
    rt_thread_join(cancelled, RT_FOREVER);
    printf("cancelled timer: %s\n", rt_thread_is_alive(cancelled) ? "still waiting" : "ended");
    rt_thread_release(timer);
    rt_thread_release(cancelled);
    rt_local_free(mydata);
    return 0;
}
