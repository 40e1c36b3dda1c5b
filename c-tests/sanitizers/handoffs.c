/* A correct program that hands plain, non-atomic data between threads through every rthread
 * primitive: a race detector (ThreadSanitizer, helgrind, DRD) must find nothing in it. With
 * the argument "race" it also makes one real data race, which the detector must report: the
 * main thread writes a variable right after starting a thread that reads it, with nothing
 * ordering the two.
 *
 * Kept small on purpose: helgrind runs it about a hundred times slower than a real CPU.
 * Built by tests/tsan.rs (with -fsanitize=thread) and tests/helgrind.rs (plain, run under
 * valgrind). Exit status: 0 when every hand-off delivered what it should, 2 otherwise. */

#include <rthread.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                          \
    do {                                                                                     \
        rt_status s_ = (call);                                                               \
        if (s_ != RT_OK) {                                                                   \
            fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #call, (int)s_);  \
            exit(2);                                                                         \
        }                                                                                    \
    } while (0)

#define EXPECT(cond)                                                                         \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);              \
            exit(2);                                                                         \
        }                                                                                    \
    } while (0)

enum { WORKERS = 3, ROUNDS = 5 };

/* Every variable below is plain: only rthread orders the accesses to it. */

/* Lock and RLock: counters every worker increments. */
static rt_lock *lock;
static long lock_counter;
static rt_rlock *rlock;
static long rlock_counter;

/* Semaphores: a one-slot mailbox from the main thread to worker 0 and back. */
static rt_semaphore *slot_full, *slot_empty;
static long slot;
static long slot_sum;

/* Event: the main thread publishes a value, every worker reads it. */
static rt_event *published;
static long published_value;

/* Condition: worker 1 fills a value and notifies; the main thread waits for it. */
static rt_condition *cond;
static int cond_ready;
static long cond_value;

/* Barrier: each worker writes its own cell, then, past the barrier, reads the others'. */
static rt_barrier *barrier;
static long cells[WORKERS];
static long cells_seen[WORKERS];

/* Queue: the main thread puts heap items; workers take them, fill them in and mark them done. */
struct item {
    long in;
    long out;
};
static rt_queue *queue;
static struct item items[WORKERS * ROUNDS];

/* rt_once: one initialisation, read by everyone. */
static rt_once_flag once = RT_ONCE_INIT;
static long once_value;

/* Join: each worker leaves a result for the main thread. */
static long results[WORKERS];

/* The planted race (only with "race"). */
static long unsynchronised;
static int plant_race;

static void init_once(void *arg) {
    once_value = *(long *)arg;
}

static int cond_is_ready(void *ctx) {
    (void)ctx;
    return cond_ready;
}

static void worker(void *arg) {
    long me = (long)(size_t)arg;
    long seed = 42;
    CHECK(rt_once(&once, init_once, &seed));
    EXPECT(once_value == 42);

    for (int r = 0; r < ROUNDS; r++) {
        CHECK(rt_lock_acquire(lock, 1, RT_FOREVER));
        lock_counter++;
        CHECK(rt_lock_release(lock));
        CHECK(rt_rlock_acquire(rlock, 1, RT_FOREVER));
        CHECK(rt_rlock_acquire(rlock, 1, RT_FOREVER));
        rlock_counter++;
        CHECK(rt_rlock_release(rlock));
        CHECK(rt_rlock_release(rlock));
    }

    CHECK(rt_event_wait(published, RT_FOREVER));
    EXPECT(published_value == 1234);

    cells[me] = 100 + me;
    size_t index;
    CHECK(rt_barrier_wait(barrier, RT_FOREVER, &index));
    long seen = 0;
    for (int i = 0; i < WORKERS; i++) {
        seen += cells[i];
    }
    cells_seen[me] = seen;

    if (me == 0) {
        for (int r = 0; r < ROUNDS; r++) {
            CHECK(rt_semaphore_acquire(slot_full, 1, RT_FOREVER));
            slot_sum += slot;
            slot = -1;
            CHECK(rt_semaphore_release(slot_empty, 1));
        }
    }
    if (me == 1) {
        CHECK(rt_condition_acquire(cond, 1, RT_FOREVER));
        cond_value = 777;
        cond_ready = 1;
        CHECK(rt_condition_notify_all(cond));
        CHECK(rt_condition_release(cond));
    }

    for (;;) {
        void *got;
        CHECK(rt_queue_get(queue, 1, RT_FOREVER, &got));
        if (got == NULL) {
            CHECK(rt_queue_task_done(queue));
            break;
        }
        struct item *it = got;
        it->out = it->in * 2;
        CHECK(rt_queue_task_done(queue));
    }

    results[me] = 1000 + me;
}

/* The racy reader: the main thread writes `unsynchronised` after starting it. */
static void racy_reader(void *arg) {
    (void)arg;
    long v = unsynchronised;
    (void)v;
}

static int task(void *arg, void **result) {
    struct item *it = arg;
    it->out = it->in + 1;
    *result = it;
    return 0;
}

int main(int argc, char **argv) {
    plant_race = argc > 1 && strcmp(argv[1], "race") == 0;

    CHECK(rt_lock_new(&lock));
    CHECK(rt_rlock_new(&rlock));
    CHECK(rt_semaphore_new(0, &slot_full));
    CHECK(rt_semaphore_new(1, &slot_empty));
    CHECK(rt_event_new(&published));
    CHECK(rt_condition_new(&cond));
    CHECK(rt_barrier_new(WORKERS, NULL, NULL, RT_FOREVER, &barrier));
    CHECK(rt_queue_new(2, NULL, &queue));

    rt_thread *threads[WORKERS];
    for (long i = 0; i < WORKERS; i++) {
        CHECK(rt_thread_new(worker, (void *)(size_t)i, &threads[i]));
        CHECK(rt_thread_start(threads[i]));
    }

    rt_thread *racy = NULL;
    if (plant_race) {
        CHECK(rt_thread_new(racy_reader, NULL, &racy));
        CHECK(rt_thread_start(racy));
        unsynchronised = 1; /* the race: nothing orders this write with the reader's read */
    }

    published_value = 1234;
    CHECK(rt_event_set(published));

    long expected_slot_sum = 0;
    for (int r = 0; r < ROUNDS; r++) {
        CHECK(rt_semaphore_acquire(slot_empty, 1, RT_FOREVER));
        EXPECT(r == 0 || slot == -1);
        slot = 10 + r;
        expected_slot_sum += slot;
        CHECK(rt_semaphore_release(slot_full, 1));
    }

    CHECK(rt_condition_acquire(cond, 1, RT_FOREVER));
    CHECK(rt_condition_wait_for(cond, cond_is_ready, NULL, RT_FOREVER));
    EXPECT(cond_value == 777);
    CHECK(rt_condition_release(cond));

    for (int i = 0; i < WORKERS * ROUNDS; i++) {
        items[i].in = i;
        CHECK(rt_queue_put(queue, &items[i], 1, RT_FOREVER));
    }
    CHECK(rt_queue_join(queue));
    for (int i = 0; i < WORKERS * ROUNDS; i++) {
        EXPECT(items[i].out == 2 * i);
    }
    for (int i = 0; i < WORKERS; i++) {
        CHECK(rt_queue_put(queue, NULL, 1, RT_FOREVER));
    }

    for (int i = 0; i < WORKERS; i++) {
        CHECK(rt_thread_join(threads[i], RT_FOREVER));
        CHECK(rt_thread_release(threads[i]));
    }
    if (racy != NULL) {
        CHECK(rt_thread_join(racy, RT_FOREVER));
        CHECK(rt_thread_release(racy));
    }
    EXPECT(lock_counter == WORKERS * ROUNDS);
    EXPECT(rlock_counter == WORKERS * ROUNDS);
    EXPECT(slot_sum == expected_slot_sum);
    for (int i = 0; i < WORKERS; i++) {
        EXPECT(results[i] == 1000 + i);
        EXPECT(cells_seen[i] == 100 * WORKERS + WORKERS * (WORKERS - 1) / 2);
    }

    /* Futures: the submitter's writes reach the task, the task's reach result(). */
    rt_executor *ex;
    CHECK(rt_executor_new(2, "pool", NULL, NULL, &ex));
    struct item jobs[4];
    rt_future *futures[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].in = 5 * i;
        CHECK(rt_executor_submit(ex, task, &jobs[i], NULL, NULL, &futures[i]));
    }
    /* result() for the first, wait() for the next two, as_completed() for the last. */
    void *result;
    CHECK(rt_future_result(futures[0], RT_FOREVER, &result));
    EXPECT(result == &jobs[0]);
    EXPECT(jobs[0].out == 1);
    bool done[2];
    size_t n_done;
    CHECK(rt_wait(&futures[1], 2, RT_FOREVER, RT_ALL_COMPLETED, done, &n_done));
    EXPECT(n_done == 2);
    EXPECT(jobs[1].out == 6 && jobs[2].out == 11);
    rt_as_completed *it;
    CHECK(rt_as_completed_new(&futures[3], 1, RT_FOREVER, &it));
    rt_future *next;
    CHECK(rt_as_completed_next(it, &next));
    EXPECT(next == futures[3]);
    EXPECT(jobs[3].out == 16);
    CHECK(rt_as_completed_free(it));
    for (int i = 0; i < 4; i++) {
        CHECK(rt_future_release(futures[i]));
    }
    CHECK(rt_executor_shutdown(ex, 1, 0));
    CHECK(rt_executor_free(ex));

    CHECK(rt_queue_free(queue));
    CHECK(rt_barrier_free(barrier));
    CHECK(rt_condition_free(cond));
    CHECK(rt_event_free(published));
    CHECK(rt_semaphore_free(slot_empty));
    CHECK(rt_semaphore_free(slot_full));
    CHECK(rt_rlock_free(rlock));
    CHECK(rt_lock_free(lock));
    puts("handoffs: ok");
    return 0;
}
