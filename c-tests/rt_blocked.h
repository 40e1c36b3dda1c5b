/*
 * Telling from outside that a thread is blocked, for the primitives' C cases.
 *
 * A case that must act while a thread sleeps inside a blocking call (free it and expect
 * RT_EBUSY, set an event and clear it at once, count the threads a release lets through) cannot
 * learn that from rthread without changing what it tests. The kernel knows: a thread asleep in
 * a futex is in state 'S' in /proc/self/task/TID/stat. The thread records its native id
 * (rt_get_native_id) just before the call, does nothing else that may sleep in between, and
 * the case waits with WAIT_BLOCKED until the kernel reports it asleep, twice in a row.
 *
 * Without /proc (not Linux), thread_is_blocked() sleeps 200 ms and says yes.
 */
#ifndef RT_BLOCKED_H
#define RT_BLOCKED_H

#include "rt_test.h"

static int thread_state_is_sleeping(uint64_t tid) {
    char path[64], buf[512];
    FILE *f;
    char *p;
    int sleeping = 0;
    snprintf(path, sizeof path, "/proc/self/task/%llu/stat", (unsigned long long)tid);
    f = fopen(path, "r");
    if (f == NULL) return -1;
    if (fgets(buf, sizeof buf, f) != NULL) {
        p = strrchr(buf, ')'); /* the name, in parentheses, may contain anything */
        sleeping = p != NULL && p[1] == ' ' && p[2] == 'S';
    }
    fclose(f);
    return sleeping;
}

/* Whether the thread whose native id is `tid` (0: not known yet) is blocked. */
static int thread_is_blocked(uint64_t tid) {
    int s;
    if (tid == 0) return 0;
    s = thread_state_is_sleeping(tid);
    if (s < 0) {
        rt_test_sleep(0.2); /* no /proc: give it time */
        return 1;
    }
    if (s == 0) return 0;
    rt_test_sleep(0.002);
    return thread_state_is_sleeping(tid) == 1;
}

/* Waits until the thread whose native id is stored at `tidp` is blocked. */
#define WAIT_BLOCKED(tidp) WAIT_UNTIL(thread_is_blocked(ATOMIC_LOAD(tidp)), 30.0)

#endif
