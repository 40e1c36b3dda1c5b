/*
 * Queue checksums with shutdowns. Round after round, a new queue (FIFO, LIFO or priority;
 * bounded or not) gets producers and consumers that put and get with blocking, timed (tiny
 * timeouts) and non-blocking calls, and a joiner that joins with tiny timeouts. Each item is a
 * unique number; the sums of what was put, what was gotten and what the queue's item
 * destructor received (the items an immediate shutdown drops) must balance exactly, and so
 * must the counts of unfinished tasks.
 *
 * Half the rounds shut the queue down mid-stream (plain or immediate, at a random moment): every
 * blocked putter and getter must wake and see RT_ESHUTDOWN. The other half drain first: the
 * producers finish their quotas, the consumers with timeouts leave, and only consumers that
 * wait without bound are left to take the rest while the main thread joins the queue without
 * bound. A wake-up lost by a getter, a putter or a joiner then hangs the round, and the
 * watchdog reports it. In FIFO queues each consumer sees each producer's items in order.
 */
#include "stress.h"

#define PRODUCERS 3
#define CONSUMERS 3

enum { FIFO, LIFO, PRIORITY, KINDS };
static const char *kind_names[KINDS] = {"fifo", "lifo", "priority"};

static rt_queue *queue;
static int kind, round_no, draining, producers_done;
static long quota;
static uint64_t put_sum, got_sum, destroyed_sum;
static long put_count, got_count, destroyed_count, shutdown_results, full_results;
static long empty_results, join_timeouts, joins_ok;
static long rounds_by_mode[4];

static uint64_t hash(uintptr_t id) {
    return (uint64_t)id * 0x9E3779B97F4A7C15ull;
}

static void destroy(void *item) {
    ATOMIC_ADD(&destroyed_sum, hash((uintptr_t)item));
    ATOMIC_ADD(&destroyed_count, 1);
}

static int compare(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)a & 0xff, y = (uintptr_t)b & 0xff; /* many equal priorities */
    return x < y ? -1 : x > y;
}

static void dump(void) {
    fprintf(stderr, "queue: round %d (%s), draining %d, producers done %d; put %ld, got %ld, "
                    "destroyed %ld; qsize %zu, unfinished %zu, shut down %d\n",
            ATOMIC_LOAD(&round_no), kind_names[kind], ATOMIC_LOAD(&draining),
            ATOMIC_LOAD(&producers_done), ATOMIC_LOAD(&put_count), ATOMIC_LOAD(&got_count),
            ATOMIC_LOAD(&destroyed_count), rt_queue_qsize(queue),
            rt_queue_unfinished_tasks(queue), (int)rt_queue_is_shutdown(queue));
}

static double tiny_timeout(uint64_t *rng) {
    static const double choices[] = {0.0, 0.00002, 0.0002, 0.001, 0.002};
    return choices[stress_below(rng, sizeof choices / sizeof choices[0])];
}

/* Producer 0 only blocks without bound; the others mix all three ways. */
static void producer(void *arg) {
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)(me + 1) * 7777 + (uint64_t)round_no;
    long seq = 0;
    while (seq < quota) {
        uintptr_t id = ((uintptr_t)(round_no & 0xffff) << 40) | ((uintptr_t)me << 32) |
                       (uintptr_t)(seq + 1);
        unsigned how = me == 0 ? 0 : stress_below(&rng, 3);
        rt_status s = how == 0   ? rt_queue_put(queue, (void *)id, 1, RT_FOREVER)
                      : how == 1 ? rt_queue_put(queue, (void *)id, 1, tiny_timeout(&rng))
                                 : rt_queue_put(queue, (void *)id, 0, RT_FOREVER);
        if (s == RT_OK) {
            ATOMIC_ADD(&put_sum, hash(id));
            ATOMIC_ADD(&put_count, 1);
            seq++;
        } else if (s == RT_ESHUTDOWN) {
            ATOMIC_ADD(&shutdown_results, 1);
            break;
        } else {
            CHECK_STATUS(s, RT_EFULL);
            CHECK(how != 0);
            ATOMIC_ADD(&full_results, 1);
        }
        if (stress_below(&rng, 8) == 0) stress_spin(stress_below(&rng, 5000));
    }
    ATOMIC_ADD(&producers_done, 1);
}

/* Consumer 0 only blocks without bound; the others mix, and leave when the round drains. */
static void consumer(void *arg) {
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)(me + 1) * 3331 + (uint64_t)round_no;
    uintptr_t last_seq[PRODUCERS] = {0};
    for (;;) {
        unsigned how = me == 0 ? 0 : stress_below(&rng, 3);
        void *item = NULL;
        rt_status s;
        if (me != 0 && ATOMIC_LOAD(&draining)) break;
        s = how == 0   ? rt_queue_get(queue, 1, RT_FOREVER, &item)
            : how == 1 ? rt_queue_get(queue, 1, tiny_timeout(&rng), &item)
                       : rt_queue_get(queue, 0, RT_FOREVER, &item);
        if (s == RT_OK) {
            uintptr_t id = (uintptr_t)item;
            unsigned producer = (unsigned)((id >> 32) & 0xff);
            uintptr_t seq = id & 0xffffffffu;
            CHECK(producer < PRODUCERS);
            CHECK_EQ_INT(id >> 40, round_no & 0xffff);
            if (kind == FIFO) CHECK(seq > last_seq[producer]);
            last_seq[producer] = seq;
            ATOMIC_ADD(&got_sum, hash(id));
            ATOMIC_ADD(&got_count, 1);
            if (stress_below(&rng, 8) == 0) stress_spin(stress_below(&rng, 5000));
            CHECK_OK(rt_queue_task_done(queue));
        } else if (s == RT_ESHUTDOWN) {
            ATOMIC_ADD(&shutdown_results, 1);
            break;
        } else {
            CHECK_STATUS(s, RT_EEMPTY);
            CHECK(how != 0);
            ATOMIC_ADD(&empty_results, 1);
        }
    }
}

static int joiner_stop;

static void joiner(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg + 5;
    while (!ATOMIC_LOAD(&joiner_stop)) {
        rt_status s = rt_queue_join_timeout(queue, tiny_timeout(&rng));
        if (s == RT_OK) {
            ATOMIC_ADD(&joins_ok, 1);
            stress_spin(stress_below(&rng, 20000));
        } else {
            CHECK_STATUS(s, RT_TIMEOUT);
            ATOMIC_ADD(&join_timeouts, 1);
        }
    }
}

static void one_round(uint64_t *rng) {
    rt_thread *p[PRODUCERS], *c[CONSUMERS], *j;
    void *args[PRODUCERS > CONSUMERS ? PRODUCERS : CONSUMERS];
    size_t maxsize = stress_below(rng, 4) == 0 ? 0 : 1 + stress_below(rng, 8);
    unsigned mode = stress_below(rng, 4); /* bit 0: immediate; bit 1: drain first */
    int immediate = (int)(mode & 1), drain = (int)(mode & 2);
    uint64_t put0 = put_sum, got0 = got_sum, destroyed0 = destroyed_sum;
    void *item;
    long i;
    kind = (int)stress_below(rng, KINDS);
    quota = 1 + stress_below(rng, drain ? 2000 : 100000);
    ATOMIC_STORE(&draining, 0);
    ATOMIC_STORE(&producers_done, 0);
    ATOMIC_STORE(&joiner_stop, 0);
    if (kind == FIFO) CHECK_OK(rt_queue_new(maxsize, destroy, &queue));
    else if (kind == LIFO) CHECK_OK(rt_lifo_queue_new(maxsize, destroy, &queue));
    else CHECK_OK(rt_priority_queue_new(maxsize, compare, destroy, &queue));
    for (i = 0; i < PRODUCERS || i < CONSUMERS; i++) args[i] = (void *)(intptr_t)i;
    stress_start(c, CONSUMERS, consumer, args);
    stress_start(p, PRODUCERS, producer, args);
    CHECK_OK(rt_thread_new(joiner, NULL, &j));
    CHECK_OK(rt_thread_start(j));
    if (drain) {
        while (ATOMIC_LOAD(&producers_done) < PRODUCERS) stress_yield();
        ATOMIC_STORE(&draining, 1);
        /* Only consumer 0 is sure to stay: it must get every item left, and the join must
         * wake when the last task is done. */
        CHECK_OK(rt_queue_join(queue));
        CHECK_EQ_INT(rt_queue_qsize(queue), 0);
    } else {
        rt_test_sleep(0.001 * (double)stress_below(rng, 10));
    }
    CHECK_OK(rt_queue_shutdown(queue, immediate));
    CHECK_STATUS(rt_queue_put(queue, NULL, 0, RT_FOREVER), RT_ESHUTDOWN);
    stress_join(p, PRODUCERS);
    stress_join(c, CONSUMERS);
    /* Every task is done or was dropped: the join returns. */
    CHECK_OK(rt_queue_join(queue));
    ATOMIC_STORE(&joiner_stop, 1);
    CHECK_OK(rt_thread_join(j, RT_FOREVER));
    CHECK_OK(rt_thread_release(j));
    CHECK_EQ_INT(rt_queue_qsize(queue), 0); /* the consumers took all, or the shutdown did */
    CHECK_EQ_INT(rt_queue_unfinished_tasks(queue), 0);
    CHECK_STATUS(rt_queue_get(queue, 0, RT_FOREVER, &item), RT_ESHUTDOWN);
    CHECK_OK(rt_queue_free(queue));
    if (put_sum - put0 != (got_sum - got0) + (destroyed_sum - destroyed0))
        rt_test_fail(__FILE__, __LINE__, "round %d (%s, maxsize %zu, mode %u): checksums differ",
                     round_no, kind_names[kind], maxsize, mode);
    rounds_by_mode[mode]++;
}

static void queue_checksums_balance_across_shutdowns_in_both_modes(void) {
    uint64_t rng = 2024;
    double t0 = rt_test_now(), until = t0 + stress_seconds();
    stress_watchdog(stress_budget(1.0), dump);
    for (round_no = 1; rt_test_now() < until || round_no <= 4; round_no++) one_round(&rng);
    printf("queue: %d producers, %d consumers, 1 joiner; %d rounds (%ld shut down mid-stream, "
           "%ld of them immediately; %ld drained first, %ld of them shut down immediately); "
           "%ld items put, %ld gotten, %ld dropped by immediate shutdowns; %ld RT_EFULL, "
           "%ld RT_EEMPTY, %ld RT_ESHUTDOWN; %ld joins returned, %ld timed out in %.2f s\n",
           PRODUCERS, CONSUMERS, round_no - 1, rounds_by_mode[0] + rounds_by_mode[1],
           rounds_by_mode[1], rounds_by_mode[2] + rounds_by_mode[3], rounds_by_mode[3],
           put_count, got_count, destroyed_count, full_results, empty_results,
           shutdown_results, joins_ok, join_timeouts, rt_test_now() - t0);
    CHECK_EQ_INT(put_count, got_count + destroyed_count);
    CHECK(put_sum == got_sum + destroyed_sum);
}

RT_CASES(RT_CASE(queue_checksums_balance_across_shutdowns_in_both_modes))
