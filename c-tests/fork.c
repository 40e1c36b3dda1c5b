/* fork() in a process whose threads are busy with rthread: the child gets a consistent rthread. */
#include "rt_test.h"

#include <pthread.h>
#include <signal.h>
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

/* ---------------------------------------------------------------------------------------------
 * Every kind of object, hammered by 8 threads while the main thread forks: in each child every
 * object is usable, every timed call honours its timeout, and every object can be freed. */

#define OBJ_HAMMERS 8
#define OBJ_T 0.002 /* the timeout of the child's timed calls, in seconds */
#define OBJ_LATE 5.0 /* a generous upper bound for them */

static rt_lock *o_lock, *o_borrowed;
static rt_rlock *o_rlock;
static rt_condition *o_cond, *o_cond_borrowing;
static rt_semaphore *o_sem, *o_bsem;
static rt_event *o_event;
static rt_barrier *o_barrier;
enum { Q_RING, Q_FIFO, Q_LIFO, Q_PRIO, Q_SIMPLE, Q_COUNT };
static rt_queue *o_q[Q_COUNT];
static const size_t o_q_max[Q_COUNT] = {4, 0, 4, 0, 0};
static rt_thread *o_thread;
static rt_event *o_thread_stop;
static rt_local *o_local;
static int o_stop, o_done;
static long o_ops;
static int o_tokens[64];

static int cmp_items(const void *a, const void *b) {
    return (a > b) - (a < b);
}

static void o_short_thread(void *arg) {
    (void)arg;
}

static void o_waiting_thread(void *arg) {
    (void)arg;
    if (rt_event_wait(o_thread_stop, RT_FOREVER) != RT_OK) abort();
}

static void o_hammer(void *arg) {
    long me = (long)(intptr_t)arg, n = 0;
    void *item;
    int k;
    while (!ATOMIC_LOAD(&o_stop)) {
        rt_status s;
        n++;
        if (rt_lock_acquire(o_lock, 1, 0.0005) == RT_OK && rt_lock_release(o_lock) != RT_OK)
            abort();
        if (rt_rlock_acquire(o_rlock, 1, 0.0005) == RT_OK && rt_rlock_release(o_rlock) != RT_OK)
            abort();
        if (rt_condition_acquire(o_cond, 1, 0.0005) == RT_OK) {
            if (rt_condition_notify(o_cond, 1) != RT_OK) abort();
            s = rt_condition_wait(o_cond, 0.0003);
            if (s != RT_OK && s != RT_TIMEOUT) abort();
            if (rt_condition_release(o_cond) != RT_OK) abort();
        }
        if (rt_condition_acquire(o_cond_borrowing, 1, 0.0005) == RT_OK) {
            s = rt_condition_wait(o_cond_borrowing, 0.0003);
            if (s != RT_OK && s != RT_TIMEOUT) abort();
            if (rt_condition_notify_all(o_cond_borrowing) != RT_OK) abort();
            if (rt_condition_release(o_cond_borrowing) != RT_OK) abort();
        }
        if (rt_semaphore_acquire(o_sem, 1, 0.0005) == RT_OK && rt_semaphore_release(o_sem, 1) != RT_OK)
            abort();
        if (rt_semaphore_acquire(o_bsem, 1, 0.0005) == RT_OK &&
            rt_semaphore_release(o_bsem, 1) != RT_OK)
            abort();
        if (me % 3 == 0 && rt_event_set(o_event) != RT_OK) abort();
        if (me % 3 == 1 && rt_event_clear(o_event) != RT_OK) abort();
        s = rt_event_wait(o_event, 0.0003);
        if (s != RT_OK && s != RT_TIMEOUT) abort();
        s = rt_barrier_wait(o_barrier, 0.0005, NULL);
        if (s == RT_EBROKEN) {
            if (rt_barrier_reset(o_barrier) != RT_OK) abort();
        } else if (s != RT_OK) {
            abort();
        }
        for (k = 0; k < Q_COUNT; k++) {
            rt_queue *q = o_q[k];
            s = rt_queue_put(q, &o_tokens[(me * 8 + n) % 64], 1, 0.0003);
            if (s != RT_OK && s != RT_EFULL) abort();
            /* Take a little less than was put, so that the children find items. */
            if (n % 4 != 0) {
                s = rt_queue_get(q, 1, 0.0003, &item);
                if (s == RT_OK && k != Q_SIMPLE && rt_queue_task_done(q) != RT_OK) abort();
                if (s != RT_OK && s != RT_EEMPTY) abort();
            }
            if (k != Q_SIMPLE && n % 8 == 0) {
                s = rt_queue_join_timeout(q, 0.0002);
                if (s != RT_OK && s != RT_TIMEOUT) abort();
            }
            (void)rt_queue_qsize(q);
            (void)rt_queue_unfinished_tasks(q);
        }
        s = rt_thread_join(o_thread, 0.0002);
        if (s != RT_TIMEOUT) abort();
        if (rt_local_set(o_local, &o_tokens[me]) != RT_OK) abort();
        if (rt_local_get(o_local, &item) != RT_OK || item != &o_tokens[me]) abort();
        if (n % 32 == 0) {
            rt_thread *t;
            if (rt_thread_new(o_short_thread, NULL, &t) != RT_OK) abort();
            if (rt_thread_start(t) != RT_OK) abort();
            if (rt_thread_join(t, 30.0) != RT_OK) abort();
            if (rt_thread_release(t) != RT_OK) abort();
        }
        ATOMIC_ADD(&o_ops, 1);
    }
    ATOMIC_ADD(&o_done, 1);
}

/* A call that must give up after OBJ_T seconds, not before and not much later. */
#define TIMED(call, expected, code)                                                      \
    do {                                                                                 \
        double t0_ = rt_test_now(), e_;                                                  \
        if ((call) != (expected)) return (code);                                         \
        e_ = rt_test_now() - t0_;                                                        \
        if (e_ < OBJ_T || e_ > OBJ_LATE) return (code) + 1;                              \
        timeouts++;                                                                      \
    } while (0)
#define MUST(cond, code)                                                                 \
    do {                                                                                 \
        if (!(cond)) return (code);                                                      \
    } while (0)

static int child_timeouts;

/* In the child: one queue is consistent, drains, times out, fills, times out, and is freed. */
static int check_queue_in_child(int k) {
    rt_queue *q = o_q[k];
    size_t n = rt_queue_qsize(q), got = 0, unfinished, i, cap = o_q_max[k];
    int timeouts = 0, code = 100 + 20 * k;
    void *item, *prev = NULL;
    while (rt_queue_get(q, 0, RT_FOREVER, &item) == RT_OK) {
        MUST(item >= (void *)&o_tokens[0] && item <= (void *)&o_tokens[63], code);
        /* A priority queue hands out its smallest item first. */
        MUST(k != Q_PRIO || prev == NULL || item >= prev, code + 1);
        prev = item;
        if (k != Q_SIMPLE) MUST(rt_queue_task_done(q) == RT_OK, code + 2);
        MUST(++got <= n, code + 3);
    }
    MUST(got == n, code + 4);
    MUST(rt_queue_qsize(q) == 0, code + 5);
    TIMED(rt_queue_get(q, 1, OBJ_T, &item), RT_EEMPTY, code + 6);
    if (k != Q_SIMPLE) {
        /* Tasks that vanished getters took stay unfinished: join times out, until they are
         * marked done here. */
        unfinished = rt_queue_unfinished_tasks(q);
        if (unfinished > 0) TIMED(rt_queue_join_timeout(q, OBJ_T), RT_TIMEOUT, code + 8);
        for (i = 0; i < unfinished; i++) MUST(rt_queue_task_done(q) == RT_OK, code + 10);
        MUST(rt_queue_unfinished_tasks(q) == 0, code + 11);
        MUST(rt_queue_join_timeout(q, OBJ_LATE) == RT_OK, code + 12);
    }
    if (cap > 0) {
        for (i = 0; i < cap; i++) MUST(rt_queue_put(q, &o_tokens[i], 0, RT_FOREVER) == RT_OK, code + 13);
        TIMED(rt_queue_put(q, &o_tokens[cap], 1, OBJ_T), RT_EFULL, code + 14);
        for (i = 0; i < cap; i++) {
            MUST(rt_queue_get(q, 1, OBJ_LATE, &item) == RT_OK, code + 16);
            /* FIFO order from the (repaired) ring; LIFO order from the stack. */
            MUST(item == &o_tokens[k == Q_LIFO ? cap - 1 - i : i], code + 17);
            MUST(rt_queue_task_done(q) == RT_OK, code + 18);
        }
    }
    MUST(rt_queue_free(q) == RT_OK, code + 19);
    child_timeouts += timeouts;
    return 0;
}

/* Runs in the child: every object, used, timed out on and freed. Returns the exit status. */
static int child_uses_every_object(void) {
    int timeouts = 0, k, st;
    size_t index;
    rt_status s;
    /* A Lock held by a vanished thread stays held; any thread may release it. */
    if (rt_lock_locked(o_lock)) MUST(rt_lock_release(o_lock) == RT_OK, 10);
    MUST(rt_lock_acquire(o_lock, 0, RT_FOREVER) == RT_OK, 11);
    TIMED(rt_lock_acquire(o_lock, 1, OBJ_T), RT_TIMEOUT, 12);
    MUST(rt_lock_release(o_lock) == RT_OK, 14);
    MUST(rt_lock_free(o_lock) == RT_OK, 15);
    /* A lock that a condition borrows stays busy until the condition is freed. */
    if (rt_lock_locked(o_borrowed)) MUST(rt_lock_release(o_borrowed) == RT_OK, 16);
    MUST(rt_condition_acquire(o_cond_borrowing, 1, OBJ_LATE) == RT_OK, 17);
    TIMED(rt_condition_wait(o_cond_borrowing, OBJ_T), RT_TIMEOUT, 18);
    MUST(rt_condition_release(o_cond_borrowing) == RT_OK, 20);
    MUST(rt_lock_free(o_borrowed) == RT_EBUSY, 21);
    MUST(rt_condition_free(o_cond_borrowing) == RT_OK, 22);
    MUST(rt_lock_free(o_borrowed) == RT_OK, 23);
    /* An RLock (and a condition's own RLock) that a vanished thread owned stays owned by it. */
    s = rt_rlock_acquire(o_rlock, 0, RT_FOREVER);
    if (s == RT_OK) {
        MUST(rt_rlock_release(o_rlock) == RT_OK, 24);
    } else {
        MUST(s == RT_TIMEOUT, 25);
        TIMED(rt_rlock_acquire(o_rlock, 1, OBJ_T), RT_TIMEOUT, 26);
    }
    MUST(rt_rlock_free(o_rlock) == RT_OK, 28);
    s = rt_condition_acquire(o_cond, 0, RT_FOREVER);
    if (s == RT_OK) {
        TIMED(rt_condition_wait(o_cond, OBJ_T), RT_TIMEOUT, 29);
        MUST(rt_condition_release(o_cond) == RT_OK, 31);
    } else {
        MUST(s == RT_TIMEOUT, 32);
        TIMED(rt_condition_acquire(o_cond, 1, OBJ_T), RT_TIMEOUT, 33);
    }
    MUST(rt_condition_free(o_cond) == RT_OK, 35);
    /* Semaphores: a permit a vanished thread held is gone with it. */
    if (rt_semaphore_acquire(o_sem, 0, RT_FOREVER) == RT_OK) {
        TIMED(rt_semaphore_acquire(o_sem, 1, OBJ_T), RT_TIMEOUT, 36);
        MUST(rt_semaphore_release(o_sem, 1) == RT_OK, 38);
    } else {
        TIMED(rt_semaphore_acquire(o_sem, 1, OBJ_T), RT_TIMEOUT, 39);
    }
    MUST(rt_semaphore_free(o_sem) == RT_OK, 41);
    if (rt_semaphore_acquire(o_bsem, 0, RT_FOREVER) == RT_OK) {
        TIMED(rt_semaphore_acquire(o_bsem, 1, OBJ_T), RT_TIMEOUT, 42);
        MUST(rt_semaphore_release(o_bsem, 1) == RT_OK, 44);
        MUST(rt_semaphore_release(o_bsem, 1) == RT_EOVERRELEASE, 45);
    } else {
        TIMED(rt_semaphore_acquire(o_bsem, 1, OBJ_T), RT_TIMEOUT, 46);
    }
    MUST(rt_semaphore_free(o_bsem) == RT_OK, 48);
    /* The event. */
    MUST(rt_event_clear(o_event) == RT_OK, 49);
    TIMED(rt_event_wait(o_event, OBJ_T), RT_TIMEOUT, 50);
    MUST(rt_event_set(o_event) == RT_OK, 52);
    MUST(rt_event_wait(o_event, OBJ_LATE) == RT_OK, 53);
    MUST(rt_event_free(o_event) == RT_OK, 54);
    /* The barrier: vanished waiters are forgotten, reset repairs it, a wait times out. */
    MUST(rt_barrier_reset(o_barrier) == RT_OK, 55);
    MUST(rt_barrier_n_waiting(o_barrier) == 0, 56);
    MUST(!rt_barrier_broken(o_barrier), 57);
    TIMED(rt_barrier_wait(o_barrier, OBJ_T, &index), RT_EBROKEN, 58);
    MUST(rt_barrier_broken(o_barrier), 60);
    MUST(rt_barrier_reset(o_barrier) == RT_OK, 61);
    MUST(!rt_barrier_broken(o_barrier), 62);
    TIMED(rt_barrier_wait(o_barrier, OBJ_T, &index), RT_EBROKEN, 63);
    MUST(rt_barrier_free(o_barrier) == RT_OK, 65);
    /* The queues. */
    for (k = 0; k < Q_COUNT; k++) {
        st = check_queue_in_child(k);
        if (st) return st;
    }
    /* The thread object whose thread stayed in the parent: stopped here. */
    MUST(!rt_thread_is_alive(o_thread), 66);
    MUST(rt_thread_join(o_thread, OBJ_LATE) == RT_OK, 67);
    MUST(rt_thread_release(o_thread) == RT_OK, 68);
    MUST(rt_event_free(o_thread_stop) == RT_OK, 69);
    /* Thread-local data: this thread's value is its own (it had none), and the object frees. */
    {
        void *v = &v;
        MUST(rt_local_get(o_local, &v) == RT_OK && v == NULL, 71);
        MUST(rt_local_set(o_local, &o_tokens[0]) == RT_OK, 72);
        MUST(rt_local_get(o_local, &v) == RT_OK && v == &o_tokens[0], 73);
        MUST(rt_local_free(o_local) == RT_OK, 74);
    }
    timeouts += child_timeouts;
    /* Every timed call above was counted: at least 8 on the objects, one per queue and one
     * more per bounded queue. */
    MUST(timeouts >= 8 + Q_COUNT + 2, 70);
    return 0;
}

static void fork_children_inherit_every_object_usable_and_freeable(void) {
    int i, k, forks = (int)rt_test_scaled(200, 20);
    CHECK_OK(rt_lock_new(&o_lock));
    CHECK_OK(rt_lock_new(&o_borrowed));
    CHECK_OK(rt_rlock_new(&o_rlock));
    CHECK_OK(rt_condition_new(&o_cond));
    CHECK_OK(rt_condition_new_with_lock(o_borrowed, &o_cond_borrowing));
    CHECK_OK(rt_semaphore_new(1, &o_sem));
    CHECK_OK(rt_bounded_semaphore_new(1, &o_bsem));
    CHECK_OK(rt_event_new(&o_event));
    CHECK_OK(rt_barrier_new(2, NULL, NULL, RT_FOREVER, &o_barrier));
    CHECK_OK(rt_queue_new(o_q_max[Q_RING], NULL, &o_q[Q_RING]));
    CHECK_OK(rt_queue_new(0, NULL, &o_q[Q_FIFO]));
    CHECK_OK(rt_lifo_queue_new(o_q_max[Q_LIFO], NULL, &o_q[Q_LIFO]));
    CHECK_OK(rt_priority_queue_new(0, cmp_items, NULL, &o_q[Q_PRIO]));
    CHECK_OK(rt_simple_queue_new(NULL, &o_q[Q_SIMPLE]));
    CHECK_OK(rt_event_new(&o_thread_stop));
    CHECK_OK(rt_local_new(NULL, &o_local));
    CHECK_OK(rt_thread_new(o_waiting_thread, NULL, &o_thread));
    CHECK_OK(rt_thread_start(o_thread));
    for (i = 0; i < OBJ_HAMMERS; i++)
        CHECK_OK(rt_start_new_thread(o_hammer, (void *)(intptr_t)i, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&o_ops) > 200, 30.0);
    for (i = 0; i < forks; i++) {
        pid_t pid;
        int status = 0;
        double until;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) _exit(child_uses_every_object());
        if (i == 0 || i == forks - 1)
            fprintf(stderr, "fork %d at %.2fs, %ld rounds of the hammers\n", i, rt_test_now(),
                    ATOMIC_LOAD(&o_ops));
        /* A hung child is killed and reported. */
        until = rt_test_now() + 60.0;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (rt_test_now() > until) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                rt_test_fail(__FILE__, __LINE__, "child %d hung", i);
            }
            rt_test_sleep(0.001);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rt_test_fail(__FILE__, __LINE__, "child %d ended with status 0x%x", i, status);
    }
    ATOMIC_STORE(&o_stop, 1);
    WAIT_UNTIL(ATOMIC_LOAD(&o_done) == OBJ_HAMMERS, 30.0);
    CHECK_OK(rt_event_set(o_thread_stop));
    CHECK_OK(rt_thread_join(o_thread, 30.0));
    CHECK_OK(rt_thread_release(o_thread));
    CHECK_OK(rt_event_free(o_thread_stop));
    CHECK_OK(rt_lock_free(o_lock));
    CHECK_OK(rt_condition_free(o_cond_borrowing));
    CHECK_OK(rt_lock_free(o_borrowed));
    CHECK_OK(rt_rlock_free(o_rlock));
    CHECK_OK(rt_condition_free(o_cond));
    CHECK_OK(rt_semaphore_free(o_sem));
    CHECK_OK(rt_semaphore_free(o_bsem));
    CHECK_OK(rt_event_free(o_event));
    CHECK_OK(rt_barrier_free(o_barrier));
    for (k = 0; k < Q_COUNT; k++) CHECK_OK(rt_queue_free(o_q[k]));
    CHECK_OK(rt_local_free(o_local));
}

/* A fork from a foreign thread (one rthread did not start) that had a dummy: in the child that
 * thread is the main thread, "MainThread", not a daemon (CPython's
 * test_main_thread_after_fork_from_dummy_thread). */
static int foreign_fork_status = -1;

static int check_dummy_became_main(rt_thread *dummy) {
    rt_thread *m, *c, *buf[4];
    char name[32];
    size_t n = 0, i;
    int st = 0;
    if (rt_main_thread(&m) != RT_OK) return 60;
    if (rt_current_thread(&c) != RT_OK) return 61;
    if (m != dummy) st = 62;
    else if (c != dummy) st = 63;
    else if (rt_thread_name(m, name, sizeof name) != RT_OK) st = 64;
    else if (strcmp(name, "MainThread") != 0) st = 65;
    else if (rt_thread_daemon(m)) st = 66;
    else if (!rt_thread_is_alive(m)) st = 67;
    else if (rt_thread_ident(m) != rt_get_ident()) st = 68;
    else if (rt_thread_join(m, 0.0) != RT_EDEADLK) st = 69;
    else if (rt_enumerate(buf, 4, &n) != RT_OK) st = 70;
    else if (n != 1 || buf[0] != m) st = 71;
    for (i = 0; i < n && i < 4; i++) rt_thread_release(buf[i]);
    rt_thread_release(m);
    rt_thread_release(c);
    return st;
}

static void *foreign_forks(void *arg) {
    rt_thread *dummy;
    char name[32];
    pid_t pid;
    int status;
    (void)arg;
    if (rt_current_thread(&dummy) != RT_OK) abort();
    if (rt_thread_name(dummy, name, sizeof name) != RT_OK) abort();
    if (strncmp(name, "Dummy-", 6) != 0 || !rt_thread_daemon(dummy)) {
        ATOMIC_STORE(&foreign_fork_status, 102);
        return NULL;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) _exit(check_dummy_became_main(dummy));
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        ATOMIC_STORE(&foreign_fork_status, WIFEXITED(status) ? WEXITSTATUS(status) : 100);
    else
        ATOMIC_STORE(&foreign_fork_status, 101);
    /* In the parent the dummy is still a dummy. */
    if (rt_thread_name(dummy, name, sizeof name) != RT_OK || strncmp(name, "Dummy-", 6) != 0)
        ATOMIC_STORE(&foreign_fork_status, 103);
    rt_thread_release(dummy);
    return NULL;
}

static void fork_from_a_foreign_thread_makes_its_dummy_the_childs_main_thread(void) {
    pthread_t pt;
    CHECK(pthread_create(&pt, NULL, foreign_forks, NULL) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK_EQ_INT(ATOMIC_LOAD(&foreign_fork_status), 0);
}

/* rt_shutdown in a fork child whose forking thread was a thread object: that thread is the
 * child's main thread, and it counts as done first, so a thread that joins it is released. */
static rt_thread *joined_main;
static rt_status joiner_status = RT_EINVAL;

static void join_main(void *arg) {
    (void)arg;
    joiner_status = rt_thread_join(joined_main, RT_FOREVER);
}

static int shutdown_in_child(void) {
    rt_thread *j;
    rt_status s;
    double t0;
    if (rt_main_thread(&joined_main) != RT_OK) return 80;
    if (rt_thread_new(join_main, NULL, &j) != RT_OK) return 81;
    if (rt_thread_start(j) != RT_OK) return 82;
    t0 = rt_test_now();
    s = rt_shutdown(2.0);
    if (s != RT_OK) return 83;
    if (rt_test_now() - t0 >= 2.0) return 84;
    if (joiner_status != RT_OK) return 85;
    if (rt_thread_is_alive(j)) return 86;
    if (rt_thread_is_alive(joined_main)) return 87;
    rt_thread_release(j);
    rt_thread_release(joined_main);
    return 0;
}

static int shutdown_fork_status = -1;

static void fork_then_shutdown(void *arg) {
    pid_t pid;
    int status;
    (void)arg;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) _exit(shutdown_in_child());
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        ATOMIC_STORE(&shutdown_fork_status, WIFEXITED(status) ? WEXITSTATUS(status) : 100);
    else
        ATOMIC_STORE(&shutdown_fork_status, 101);
}

static void shutdown_in_a_fork_child_releases_the_joiners_of_its_main_thread(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(fork_then_shutdown, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, 60.0));
    CHECK_EQ_INT(ATOMIC_LOAD(&shutdown_fork_status), 0);
    CHECK_OK(rt_thread_release(t));
}

RT_CASES(
    RT_CASE(fork_child_uses_new_primitives_while_parent_threads_hammer),
    RT_CASE(fork_keeps_locks_held_by_vanished_threads_locked),
    RT_CASE(fork_from_a_thread_makes_it_the_childs_main_thread),
    RT_CASE(fork_children_inherit_every_object_usable_and_freeable),
    RT_CASE(fork_from_a_foreign_thread_makes_its_dummy_the_childs_main_thread),
    RT_CASE(shutdown_in_a_fork_child_releases_the_joiners_of_its_main_thread)
)
