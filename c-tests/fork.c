/* fork() in a process whose threads are busy with rthread: the child gets a consistent rthread. */
#include "rt_test.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define HAMMERS 4

static rt_lock *shared_lock;
static rt_rlock *shared_rlock;
static rt_condition *shared_cond;
static rt_event *shared_event;
static rt_queue *shared_queue;
static int stop;
static int hammers_done;
static long hammer_ops;

/* Each hammer takes the lock, the RLock (twice), the condition (notifying the others, then
 * waiting a little), the event (set by some, cleared by others) and the queue, so that forks
 * happen while threads hold or wait on each of them. */
static void hammer(void *arg) {
    void *item;
    long me = (long)(intptr_t)arg;
    while (!ATOMIC_LOAD(&stop)) {
        rt_status s;
        if (rt_lock_acquire(shared_lock, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_lock_release(shared_lock) != RT_OK) abort();
        if (rt_rlock_acquire(shared_rlock, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_acquire(shared_rlock, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_rlock_release(shared_rlock) != RT_OK) abort();
        if (rt_rlock_release(shared_rlock) != RT_OK) abort();
        if (rt_condition_acquire(shared_cond, 1, RT_FOREVER) != RT_OK) abort();
        if (rt_condition_notify(shared_cond, 1) != RT_OK) abort();
        s = rt_condition_wait(shared_cond, 0.0005);
        if (s != RT_OK && s != RT_TIMEOUT) abort();
        if (rt_condition_release(shared_cond) != RT_OK) abort();
        if (me % 2 == 0) {
            if (rt_event_set(shared_event) != RT_OK) abort();
        } else {
            if (rt_event_clear(shared_event) != RT_OK) abort();
        }
        s = rt_event_wait(shared_event, 0.0005);
        if (s != RT_OK && s != RT_TIMEOUT) abort();
        if (rt_queue_put(shared_queue, &stop, 1, 0.001) == RT_OK) {
            if (rt_queue_get(shared_queue, 1, 0.001, &item) != RT_OK && 0) abort();
        }
        ATOMIC_ADD(&hammer_ops, 1);
    }
    ATOMIC_ADD(&hammers_done, 1);
}

static rt_queue *child_q;

static void child_thread(void *arg) {
    if (rt_queue_put(child_q, arg, 1, RT_FOREVER) != RT_OK) abort();
}

/* In the child: the registry holds only the calling thread, and it is the main thread. */
static int check_registry_in_child(int started_by_rthread) {
    rt_thread *buf[8], *me, *main_t;
    size_t n = 0, i;
    int status = 0;
    if (rt_enumerate(buf, 8, &n) != RT_OK) return 30;
    if (rt_current_thread(&me) != RT_OK) return 31;
    if (rt_main_thread(&main_t) != RT_OK) return 32;
    if (n != 1) status = 33;
    else if (buf[0] != me) status = 34;
    else if (main_t != me) status = 35;
    else if (rt_active_count() != 1) status = 36;
    else if (rt_thread_count() != (size_t)started_by_rthread) status = 37;
    else if (!rt_thread_is_alive(me)) status = 38;
    for (i = 0; i < n && i < 8; i++) rt_thread_release(buf[i]);
    rt_thread_release(me);
    rt_thread_release(main_t);
    return status;
}

static void child_object_thread(void *arg) {
    (void)arg;
}

/* Runs in the child: everything new must work. Returns the exit status. */
static int child_main(void) {
    rt_lock *l;
    void *item = NULL;
    int token = 42;
    long tries;
    rt_condition *c;
    rt_event *e;
    int first = check_registry_in_child(0);
    if (first) return first;
    /* A new condition and event: timed waits really wait, and a set is seen. */
    if (rt_condition_new(&c) != RT_OK) return 50;
    if (rt_condition_acquire(c, 1, RT_FOREVER) != RT_OK) return 51;
    if (rt_condition_wait(c, 0.001) != RT_TIMEOUT) return 52;
    if (rt_condition_release(c) != RT_OK) return 53;
    if (rt_condition_free(c) != RT_OK) return 54;
    if (rt_event_new(&e) != RT_OK) return 55;
    if (rt_event_wait(e, 0.001) != RT_TIMEOUT) return 56;
    if (rt_event_set(e) != RT_OK) return 57;
    if (rt_event_wait(e, RT_FOREVER) != RT_OK) return 58;
    if (rt_event_free(e) != RT_OK) return 59;
    if (rt_lock_new(&l) != RT_OK) return 10;
    if (rt_lock_acquire(l, 1, RT_FOREVER) != RT_OK) return 11;
    if (rt_lock_acquire(l, 1, 0.001) != RT_TIMEOUT) return 12; /* a real timed wait */
    if (rt_lock_release(l) != RT_OK) return 13;
    if (rt_lock_free(l) != RT_OK) return 14;
    if (rt_queue_new(1, NULL, &child_q) != RT_OK) return 15;
    if (rt_start_new_thread(child_thread, &token, NULL) != RT_OK) return 16;
    if (rt_queue_get(child_q, 1, 10.0, &item) != RT_OK) return 17;
    if (item != &token) return 18;
    /* The putter may still be returning from its call: the free says RT_EBUSY until then. */
    for (tries = 0; rt_queue_free(child_q) != RT_OK; tries++) {
        if (tries > 100000) return 19;
        rt_test_sleep(0.0001);
    }
    {
        rt_thread *t;
        if (rt_thread_new(child_object_thread, NULL, &t) != RT_OK) return 20;
        if (rt_thread_start(t) != RT_OK) return 21;
        if (rt_thread_join(t, 10.0) != RT_OK) return 22;
        if (rt_thread_release(t) != RT_OK) return 23;
        /* The rt_start_new_thread thread may still be on its way out. */
        for (tries = 0; rt_thread_count() != 0; tries++) {
            if (tries > 100000) return 24;
            rt_test_sleep(0.0001);
        }
        return check_registry_in_child(0);
    }
}

static void fork_child_uses_new_primitives_while_parent_threads_hammer(void) {
    int i, status;
    CHECK_OK(rt_lock_new(&shared_lock));
    CHECK_OK(rt_rlock_new(&shared_rlock));
    CHECK_OK(rt_condition_new(&shared_cond));
    CHECK_OK(rt_event_new(&shared_event));
    CHECK_OK(rt_queue_new(2, NULL, &shared_queue));
    for (i = 0; i < HAMMERS; i++)
        CHECK_OK(rt_start_new_thread(hammer, (void *)(intptr_t)i, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&hammer_ops) > 1000, 10.0);
    for (i = 0; i < 200; i++) {
        pid_t pid;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) _exit(child_main());
        CHECK(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rt_test_fail(__FILE__, __LINE__, "child %d ended with status 0x%x", i, status);
    }
    ATOMIC_STORE(&stop, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&hammers_done) == HAMMERS, 10.0);
    CHECK_OK(rt_lock_free(shared_lock));
    CHECK_OK(rt_rlock_free(shared_rlock));
    CHECK_OK(rt_condition_free(shared_cond));
    CHECK_OK(rt_event_free(shared_event));
    CHECK_OK(rt_queue_free(shared_queue));
}

static rt_lock *gate;
static rt_lock *held;

static void wait_on_gate_obj(void *arg) {
    (void)arg;
    if (rt_lock_acquire(gate, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(gate) != RT_OK) abort();
}
static int holder_ready;

static void hold_until_gate(void *arg) {
    (void)arg;
    if (rt_lock_acquire(held, 1, RT_FOREVER) != RT_OK) abort();
    ATOMIC_STORE(&holder_ready, 1);
    if (rt_lock_acquire(gate, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(held) != RT_OK) abort();
    if (rt_lock_release(gate) != RT_OK) abort();
    ATOMIC_STORE(&holder_ready, 2);
}

static void fork_keeps_locks_held_by_vanished_threads_locked(void) {
    pid_t pid;
    int status;
    CHECK_OK(rt_lock_new(&gate));
    CHECK_OK(rt_lock_new(&held));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(hold_until_gate, NULL, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&holder_ready) == 1, 10.0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The holder does not exist here: its lock stays locked, and waiting times out. */
        if (!rt_lock_locked(held)) _exit(1);
        if (rt_lock_acquire(held, 1, 0.02) != RT_TIMEOUT) _exit(2);
        /* Any thread may release a Lock: the child can still free it. */
        if (rt_lock_release(held) != RT_OK) _exit(3);
        if (rt_lock_acquire(held, 0, RT_FOREVER) != RT_OK) _exit(4);
        _exit(0);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    /* The parent is unaffected. */
    CHECK(rt_lock_locked(held));
    CHECK_OK(rt_lock_release(gate));
    WAIT_UNTIL(ATOMIC_LOAD(&holder_ready) == 2, 10.0);
    CHECK(!rt_lock_locked(held));
    CHECK_OK(rt_lock_free(held));
    CHECK_OK(rt_lock_free(gate));
}

/* A fork from a thread object: in the child that thread is the main thread. */
static int forked_status = -1;

static void fork_from_here(void *arg) {
    pid_t pid;
    int status;
    (void)arg;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        rt_thread *t;
        int st = check_registry_in_child(1);
        if (st) _exit(st);
        if (rt_thread_new(child_object_thread, NULL, &t) != RT_OK) _exit(40);
        if (rt_thread_start(t) != RT_OK) _exit(41);
        if (rt_thread_join(t, 10.0) != RT_OK) _exit(42);
        rt_thread_release(t);
        exit(0); /* the exit wait must not wait for the parent's threads */
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        ATOMIC_STORE(&forked_status, WIFEXITED(status) ? WEXITSTATUS(status) : 100);
    else
        ATOMIC_STORE(&forked_status, 101);
}

static void fork_from_a_thread_makes_it_the_childs_main_thread(void) {
    rt_thread *t, *other;
    CHECK_OK(rt_lock_new(&gate));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    /* A bystander thread object that must not appear in the child. */
    CHECK_OK(rt_thread_new(wait_on_gate_obj, NULL, &other));
    CHECK_OK(rt_thread_start(other));
    CHECK_OK(rt_thread_new(fork_from_here, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 60.0));
    CHECK_EQ_INT(ATOMIC_LOAD(&forked_status), 0);
    CHECK_OK(rt_lock_release(gate));
    CHECK_OK(rt_thread_join(other, 10.0));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_thread_release(other));
    CHECK_OK(rt_lock_free(gate));
}

RT_CASES(
    RT_CASE(fork_child_uses_new_primitives_while_parent_threads_hammer),
    RT_CASE(fork_keeps_locks_held_by_vanished_threads_locked),
    RT_CASE(fork_from_a_thread_makes_it_the_childs_main_thread)
)
