/*
 * Seed 004's last section: Lock, RLock, Condition, Semaphore and BoundedSemaphore as context
 * managers.
 *
 *     with some_lock:
 *         # do something
 *
 * is the same as
 *
 *     some_lock.acquire()
 *     try:
 *         # do something
 *     finally:
 *         some_lock.release()
 *
 * C has no `with`; the same discipline is one acquire and one release on every path, early
 * exits included: each block below goes through a single exit label. After each block the
 * program checks that the primitive is free again.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rthread.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "failed: %s (%s)\n", what, rt_last_error());
        exit(1);
    }
}

/* with lock: ... with a step that may fail half-way. */
static int update_with_lock(rt_lock *lock, int *balance, int amount) {
    int ok = 0;
    if (rt_lock_acquire(lock, 1, RT_FOREVER) != RT_OK) return 0;
    if (*balance + amount < 0) goto out; /* refused: leave through the release */
    *balance += amount;
    ok = 1;
out:
    rt_lock_release(lock);
    return ok;
}

/* with rlock: ... calling a helper that takes the same lock again. */
static uint64_t helper_level(rt_rlock *rl) {
    uint64_t level;
    if (rt_rlock_acquire(rl, 1, RT_FOREVER) != RT_OK) return 0;
    level = rt_rlock_count(rl);
    rt_rlock_release(rl);
    return level;
}

static int item;
static rt_semaphore *producer_done;

static int item_ready(void *ctx) {
    (void)ctx;
    return item != 0;
}

static void produce(void *arg) {
    rt_condition *c = arg;
    /* with cond: item = 42; cond.notify() */
    if (rt_condition_acquire(c, 1, RT_FOREVER) != RT_OK) exit(1);
    item = 42;
    rt_condition_notify(c, 1);
    rt_condition_release(c);
    rt_semaphore_release(producer_done, 1);
}

int main(void) {
    rt_lock *lock;
    rt_rlock *rl;
    rt_condition *cond;
    rt_semaphore *sem, *bounded;
    int balance = 10, got;
    uint64_t inner;

    /* Lock */
    check(rt_lock_new(&lock) == RT_OK, "rt_lock_new");
    check(update_with_lock(lock, &balance, -3), "a withdrawal that fits");
    check(!rt_lock_locked(lock), "lock free after the block");
    check(!update_with_lock(lock, &balance, -100), "an overdraft is refused");
    check(!rt_lock_locked(lock), "lock free after the early exit");
    printf("lock: balance %d, free after both blocks\n", balance);

    /* RLock */
    check(rt_rlock_new(&rl) == RT_OK, "rt_rlock_new");
    check(rt_rlock_acquire(rl, 1, RT_FOREVER) == RT_OK, "with rlock");
    inner = helper_level(rl);
    check(rt_rlock_release(rl) == RT_OK, "end of with rlock");
    check(rt_rlock_count(rl) == 0, "rlock free after the block");
    printf("rlock: level %llu in the nested block, %llu after it\n", (unsigned long long)inner,
           (unsigned long long)rt_rlock_count(rl));

    /* Condition */
    check(rt_condition_new(&cond) == RT_OK, "rt_condition_new");
    check(rt_semaphore_new(0, &producer_done) == RT_OK, "rt_semaphore_new");
    check(rt_condition_acquire(cond, 1, RT_FOREVER) == RT_OK, "with cond");
    check(rt_start_new_thread(produce, cond, NULL) == RT_OK, "start the producer");
    check(rt_condition_wait_for(cond, item_ready, NULL, 10.0) == RT_OK, "cond.wait_for");
    got = item;
    check(rt_condition_release(cond) == RT_OK, "end of with cond");
    check(rt_condition_release(cond) == RT_ENOTOWNER, "cond released once only");
    printf("condition: got item %d with the lock held, released after the block\n", got);

    /* Semaphore and BoundedSemaphore */
    check(rt_semaphore_new(2, &sem) == RT_OK, "rt_semaphore_new");
    check(rt_bounded_semaphore_new(1, &bounded) == RT_OK, "rt_bounded_semaphore_new");
    check(rt_semaphore_acquire(sem, 1, RT_FOREVER) == RT_OK, "with sem");
    printf("semaphore: value %lld in the block", (long long)rt_semaphore_value(sem));
    rt_semaphore_release(sem, 1);
    printf(", %lld after it\n", (long long)rt_semaphore_value(sem));
    check(rt_semaphore_acquire(bounded, 1, RT_FOREVER) == RT_OK, "with bounded");
    check(rt_semaphore_acquire(bounded, 0, RT_FOREVER) == RT_TIMEOUT, "the only permit is out");
    rt_semaphore_release(bounded, 1);
    check(rt_semaphore_release(bounded, 1) == RT_EOVERRELEASE, "a second release is refused");
    printf("bounded semaphore: value %lld after the block; a second release: %s\n",
           (long long)rt_semaphore_value(bounded), rt_last_error());

    rt_lock_free(lock);
    rt_rlock_free(rl);
    rt_semaphore_acquire(producer_done, 1, RT_FOREVER); /* its last call on cond returned */
    rt_condition_free(cond);
    rt_semaphore_free(producer_done);
    rt_semaphore_free(sem);
    rt_semaphore_free(bounded);
    return 0;
}
