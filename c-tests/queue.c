/* queue.Queue, LifoQueue, PriorityQueue, SimpleQueue: order, sizes, timeouts, shutdown, task
 * counting, item ownership and argument checking, case by case (no thread blocks here;
 * queue_threads.c has the cases where threads wait on a queue). */
#include "queue_helpers.h"

static void put_all(rt_queue *q, const long *items, int n) {
    int i;
    for (i = 0; i < n; i++) CHECK_OK(rt_queue_put(q, ITEM(items[i]), 0, RT_FOREVER));
}

/* Gets n items without blocking and checks them against want. */
static void get_expect(rt_queue *q, const long *want, int n) {
    int i;
    void *item;
    for (i = 0; i < n; i++) {
        item = ITEM(-99);
        CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
        CHECK_EQ_INT(NUM(item), want[i]);
    }
}

static void queue_fifo_order(void) {
    static const long in[] = { 3, 1, 4, 1, 5, 9, 2, 6 };
    rt_queue *q;
    void *item = ITEM(77);
    CHECK_OK(rt_queue_new(0, NULL, &q));
    put_all(q, in, 8);
    CHECK_EQ_INT(rt_queue_qsize(q), 8);
    get_expect(q, in, 8);
    CHECK_ERR(rt_queue_get(q, 0, RT_FOREVER, &item), RT_EEMPTY, "queue is empty");
    CHECK(item == ITEM(77)); /* not written on error */
    CHECK_OK(rt_queue_free(q));
}

static void queue_fifo_order_survives_wrapping_the_ring(void) {
    /* A bounded FIFO is a ring: go round it many times, half full. */
    rt_queue *q;
    long next_in = 0, next_out = 0;
    int round;
    void *item;
    CHECK_OK(rt_queue_new(5, NULL, &q));
    for (round = 0; round < 100; round++) {
        while (!rt_queue_full(q)) CHECK_OK(rt_queue_put(q, ITEM(next_in++), 0, RT_FOREVER));
        while (rt_queue_qsize(q) > 2) {
            CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
            CHECK_EQ_INT(NUM(item), next_out++);
        }
    }
    while (rt_queue_get(q, 0, RT_FOREVER, &item) == RT_OK) CHECK_EQ_INT(NUM(item), next_out++);
    CHECK_EQ_INT(next_out, next_in);
    CHECK_OK(rt_queue_free(q));
}

static void queue_lifo_order(void) {
    static const long in[] = { 3, 1, 4, 1, 5 };
    static const long out[] = { 5, 1, 4, 1, 3 };
    static const long out2[] = { 8, 7, 6 };
    rt_queue *q;
    CHECK_OK(rt_lifo_queue_new(5, NULL, &q));
    put_all(q, in, 5);
    CHECK(rt_queue_full(q));
    get_expect(q, out, 5);
    CHECK(rt_queue_empty(q));
    CHECK_OK(rt_queue_put(q, ITEM(6), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(7), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(8), 0, RT_FOREVER));
    get_expect(q, out2, 3);
    CHECK_OK(rt_queue_free(q));
}

static void queue_priority_order(void) {
    static const long in[] = { 50, 10, 40, 20, 30, 0, 60 };
    static const long out[] = { 0, 10, 20, 30, 40, 50, 60 };
    static const long mixed_out[] = { 5, 15, 25, 35 };
    rt_queue *q;
    CHECK_OK(rt_priority_queue_new(0, cmp_int, NULL, &q));
    put_all(q, in, 7);
    get_expect(q, out, 7);
    /* Interleaved: the smallest present leaves first. */
    CHECK_OK(rt_queue_put(q, ITEM(35), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(5), 0, RT_FOREVER));
    get_expect(q, mixed_out, 1);
    CHECK_OK(rt_queue_put(q, ITEM(25), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(15), 0, RT_FOREVER));
    get_expect(q, mixed_out + 1, 3);
    CHECK_OK(rt_queue_free(q));
}

struct task {
    int priority;
    int seq;
};

static int cmp_task(const void *a, const void *b) {
    const struct task *x = a, *y = b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

static void queue_priority_equal_items_leave_in_fifo_order(void) {
    /* Python's PriorityQueue does not promise this; rthread does. */
    struct task tasks[300];
    rt_queue *q;
    void *item;
    int i, last_priority = -1, last_seq = -1, count = 0;
    CHECK_OK(rt_priority_queue_new(0, cmp_task, NULL, &q));
    for (i = 0; i < 300; i++) {
        tasks[i].priority = (i * 7) % 4;
        tasks[i].seq = i;
        CHECK_OK(rt_queue_put(q, &tasks[i], 0, RT_FOREVER));
    }
    while (rt_queue_get(q, 0, RT_FOREVER, &item) == RT_OK) {
        const struct task *t = item;
        CHECK(t->priority >= last_priority);
        if (t->priority == last_priority) CHECK(t->seq > last_seq);
        last_priority = t->priority;
        last_seq = t->seq;
        count++;
    }
    CHECK_EQ_INT(count, 300);
    CHECK_OK(rt_queue_free(q));
}

static void queue_null_is_a_valid_item(void) {
    rt_queue *q;
    void *item = ITEM(5);
    CHECK_OK(rt_queue_new(1, NULL, &q));
    CHECK_OK(rt_queue_put(q, NULL, 0, RT_FOREVER));
    CHECK(rt_queue_full(q));
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK(item == NULL);
    CHECK_OK(rt_queue_free(q));
}

static void queue_sizes_and_bounds(void) {
    rt_queue *b, *u;
    int i;
    CHECK_OK(rt_queue_new(3, NULL, &b));
    CHECK_OK(rt_queue_new(0, NULL, &u));
    CHECK_EQ_INT(rt_queue_maxsize(b), 3);
    CHECK_EQ_INT(rt_queue_maxsize(u), 0);
    CHECK(rt_queue_empty(b));
    CHECK(!rt_queue_full(b));
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(rt_queue_qsize(b), i);
        CHECK(!rt_queue_full(b));
        CHECK_OK(rt_queue_put(b, ITEM(i), 0, RT_FOREVER));
        CHECK(!rt_queue_empty(b));
    }
    CHECK(rt_queue_full(b));
    CHECK_EQ_INT(rt_queue_qsize(b), 3);
    /* An unbounded queue is never full. */
    for (i = 0; i < 1000; i++) CHECK_OK(rt_queue_put(u, ITEM(i), 1, RT_FOREVER));
    CHECK_EQ_INT(rt_queue_qsize(u), 1000);
    CHECK(!rt_queue_full(u));
    CHECK_OK(rt_queue_free(b));
    CHECK_OK(rt_queue_free(u));
}

static void queue_nonblocking_put_on_full_is_efull(void) {
    rt_queue *q;
    CHECK_OK(rt_queue_new(2, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, RT_FOREVER), RT_EFULL, "queue is full");
    /* A non-blocking put never reads the timeout. */
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, -5.0), RT_EFULL, "queue is full");
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, NAN), RT_EFULL, "queue is full");
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, INFINITY), RT_EFULL, "queue is full");
    CHECK_EQ_INT(rt_queue_qsize(q), 2);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 2);
    CHECK_OK(rt_queue_free(q));
}

static void queue_nonblocking_get_on_empty_is_eempty(void) {
    rt_queue *q;
    void *item = ITEM(42);
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_ERR(rt_queue_get(q, 0, RT_FOREVER, &item), RT_EEMPTY, "queue is empty");
    /* A non-blocking get never reads the timeout. */
    CHECK_ERR(rt_queue_get(q, 0, -5.0, &item), RT_EEMPTY, "queue is empty");
    CHECK_ERR(rt_queue_get(q, 0, NAN, &item), RT_EEMPTY, "queue is empty");
    CHECK_ERR(rt_queue_get(q, 0, 1e100, &item), RT_EEMPTY, "queue is empty");
    CHECK(item == ITEM(42));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_get(q, 0, -5.0, &item));
    CHECK(item == ITEM(1));
    CHECK_OK(rt_queue_free(q));
}

static void queue_get_times_out_on_empty(void) {
    rt_queue *q;
    void *item = ITEM(42);
    double t0;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    t0 = rt_test_now();
    CHECK_ERR(rt_queue_get(q, 1, 0.1, &item), RT_EEMPTY, "queue is empty");
    CHECK_ELAPSED(t0, 0.1, 2.0);
    t0 = rt_test_now();
    CHECK_ERR(rt_queue_get(q, 1, 0.0, &item), RT_EEMPTY, "queue is empty");
    CHECK_ERR(rt_queue_get(q, 1, -0.0, &item), RT_EEMPTY, "queue is empty");
    CHECK_ERR(rt_queue_get(q, 1, 1e-10, &item), RT_EEMPTY, "queue is empty");
    CHECK_PROMPT(t0);
    CHECK(item == ITEM(42));
    CHECK_OK(rt_queue_free(q));
}

static void queue_put_times_out_on_full(void) {
    rt_queue *q;
    void *item;
    double t0;
    CHECK_OK(rt_lifo_queue_new(1, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, 0.0)); /* room: a zero timeout does not matter */
    t0 = rt_test_now();
    CHECK_ERR(rt_queue_put(q, ITEM(2), 1, 0.1), RT_EFULL, "queue is full");
    CHECK_ELAPSED(t0, 0.1, 2.0);
    t0 = rt_test_now();
    CHECK_ERR(rt_queue_put(q, ITEM(2), 1, 0.0), RT_EFULL, "queue is full");
    CHECK_PROMPT(t0);
    CHECK_EQ_INT(rt_queue_qsize(q), 1);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 1);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK(item == ITEM(1));
    CHECK_OK(rt_queue_free(q));
}

static void queue_unbounded_put_ignores_wait_and_timeout(void) {
    rt_queue *q;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, -5.0));
    CHECK_OK(rt_queue_put(q, ITEM(2), 1, NAN));
    CHECK_OK(rt_queue_put(q, ITEM(3), 1, 1e100));
    CHECK_OK(rt_queue_put(q, ITEM(4), 0, 3.0));
    CHECK_EQ_INT(rt_queue_qsize(q), 4);
    CHECK_OK(rt_queue_free(q));
}

static void queue_timeout_errors_with_messages(void) {
    rt_queue *q;
    void *item = ITEM(42);
    CHECK_OK(rt_queue_new(1, NULL, &q));
    /* put on a bounded queue with wait reads the timeout, even with room. */
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, -2.0), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, -0.5), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, -INFINITY), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, INFINITY), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, RT_TIMEOUT_MAX + 1.0), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_EQ_INT(rt_queue_qsize(q), 0);
    CHECK_OK(rt_queue_put(q, ITEM(1), 1, RT_TIMEOUT_MAX));
    /* get with wait reads the timeout, even with an item there. */
    CHECK_ERR(rt_queue_get(q, 1, -2.0, &item), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_get(q, 1, -INFINITY, &item), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_get(q, 1, NAN, &item), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_queue_get(q, 1, 1e100, &item), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_ERR(rt_queue_get(q, 1, INFINITY, &item), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK(item == ITEM(42));
    CHECK_EQ_INT(rt_queue_qsize(q), 1);
    CHECK_OK(rt_queue_get(q, 1, RT_TIMEOUT_MAX, &item));
    CHECK(item == ITEM(1));
    /* The timed join checks its timeout the same way, before anything else. */
    CHECK_ERR(rt_queue_join_timeout(q, -2.0), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_join_timeout(q, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_ERR(rt_queue_join_timeout(q, 1e100), RT_EOVERFLOW,
              "timestamp out of range for platform time_t");
    CHECK_OK(rt_queue_free(q));
}

static void queue_task_done_counts_and_too_many(void) {
    rt_queue *q;
    void *item;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    CHECK_ERR(rt_queue_task_done(q), RT_EOVERRELEASE, "task_done() called too many times");
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 2);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 2); /* a get is not a task_done */
    CHECK_OK(rt_queue_task_done(q));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 1);
    /* Python does not tie task_done to gets: a second one is fine while a task is left. */
    CHECK_OK(rt_queue_task_done(q));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    CHECK_ERR(rt_queue_task_done(q), RT_EOVERRELEASE, "task_done() called too many times");
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    CHECK_EQ_INT(rt_queue_qsize(q), 1);
    CHECK_OK(rt_queue_free(q));
}

static void queue_join_returns_at_once_without_tasks(void) {
    rt_queue *q;
    double t0;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_OK(rt_queue_join(q));
    CHECK_OK(rt_queue_join_timeout(q, 0.0));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_task_done(q));
    CHECK_OK(rt_queue_join(q));
    /* With a task left, a timed join gives up after its timeout. */
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    t0 = rt_test_now();
    CHECK_ERR(rt_queue_join_timeout(q, 0.1), RT_TIMEOUT, "timed out");
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK_ERR(rt_queue_join_timeout(q, 0.0), RT_TIMEOUT, "timed out");
    CHECK_OK(rt_queue_free(q));
}

static void queue_shutdown_order_of_checks(void) {
    rt_queue *q;
    void *item = ITEM(42);
    CHECK_OK(rt_queue_new(2, NULL, &q));
    CHECK(!rt_queue_is_shutdown(q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    CHECK_OK(rt_queue_shutdown(q, 0));
    CHECK(rt_queue_is_shutdown(q));
    /* put: shut down comes before full and before the timeout checks, for every put. */
    CHECK_ERR(rt_queue_put(q, ITEM(3), 0, RT_FOREVER), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_put(q, ITEM(3), 1, 0.1), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_put(q, ITEM(3), 1, -2.0), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_put(q, ITEM(3), 1, NAN), RT_ESHUTDOWN, "queue is shut down");
    /* get: the items left come out first (the timeout is still checked while there are). */
    CHECK_EQ_INT(rt_queue_qsize(q), 2);
    CHECK(rt_queue_full(q));
    CHECK_ERR(rt_queue_get(q, 1, -2.0, &item), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_OK(rt_queue_get(q, 1, RT_FOREVER, &item));
    CHECK(item == ITEM(1));
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK(item == ITEM(2));
    /* then shut down comes before empty and before the timeout checks. */
    item = ITEM(42);
    CHECK_ERR(rt_queue_get(q, 0, RT_FOREVER, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_get(q, 1, RT_FOREVER, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_get(q, 1, 0.1, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_get(q, 1, -2.0, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_get(q, 1, NAN, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK(item == ITEM(42));
    /* join never fails because of a shutdown. */
    CHECK_OK(rt_queue_task_done(q));
    CHECK_OK(rt_queue_task_done(q));
    CHECK_OK(rt_queue_join(q));
    /* Repeatable, in both modes; there is no way back. */
    CHECK_OK(rt_queue_shutdown(q, 0));
    CHECK_OK(rt_queue_shutdown(q, 1));
    CHECK(rt_queue_is_shutdown(q));
    CHECK_OK(rt_queue_free(q));
}

static void queue_plain_shutdown_keeps_items_and_tasks(void) {
    rt_queue *q;
    reset_destroyed();
    CHECK_OK(rt_queue_new(0, record_destroyed, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_shutdown(q, 0));
    CHECK_EQ_INT(rt_queue_qsize(q), 1);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 1);
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 0);
    CHECK_OK(rt_queue_free(q));
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 1);
}

static void queue_immediate_shutdown_hands_items_left_to_destructor(void) {
    static const long in[] = { 10, 11, 12, 13, 14 };
    static const long left[] = { 12, 13, 14 };
    rt_queue *q;
    void *item;
    reset_destroyed();
    CHECK_OK(rt_queue_new(5, record_destroyed, &q));
    put_all(q, in, 5);
    get_expect(q, in, 2); /* two tasks taken out, not yet done */
    CHECK_OK(rt_queue_task_done(q));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 4);
    CHECK_OK(rt_queue_shutdown(q, 1));
    check_destroyed(left, 3);
    /* Each removed item counts as done; the one still being processed does not. */
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 1);
    CHECK_EQ_INT(rt_queue_qsize(q), 0);
    CHECK_ERR(rt_queue_get(q, 0, RT_FOREVER, &item), RT_ESHUTDOWN, "queue is shut down");
    CHECK_ERR(rt_queue_join_timeout(q, 0.0), RT_TIMEOUT, "timed out");
    CHECK_OK(rt_queue_task_done(q));
    CHECK_OK(rt_queue_join(q));
    CHECK_ERR(rt_queue_task_done(q), RT_EOVERRELEASE, "task_done() called too many times");
    /* Nothing is left to destroy, and nothing is destroyed twice. */
    CHECK_OK(rt_queue_shutdown(q, 1));
    CHECK_OK(rt_queue_free(q));
    check_destroyed(left, 3);
}

static void queue_immediate_shutdown_never_drives_tasks_below_zero(void) {
    /* Tasks marked done before they were gotten (legal in Python) leave fewer unfinished
     * tasks than items: the count stops at zero (gh-116631). */
    rt_queue *q;
    reset_destroyed();
    CHECK_OK(rt_queue_new(0, record_destroyed, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    CHECK_OK(rt_queue_task_done(q));
    CHECK_OK(rt_queue_task_done(q));
    CHECK_OK(rt_queue_shutdown(q, 1));
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 2);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    CHECK_OK(rt_queue_join(q));
    CHECK_OK(rt_queue_free(q));
}

static rt_queue *reentrant_q;
static int reentrant_ok;

static void destructor_that_uses_the_queue(void *item) {
    /* Runs outside the queue's lock: calling the queue does not deadlock. */
    (void)item;
    if (rt_queue_qsize(reentrant_q) == 0 && rt_queue_is_shutdown(reentrant_q) &&
        rt_queue_put(reentrant_q, item, 0, RT_FOREVER) == RT_ESHUTDOWN &&
        rt_queue_task_done(reentrant_q) == RT_EOVERRELEASE)
        ATOMIC_ADD(&reentrant_ok, 1);
}

static void queue_destructor_may_call_the_queue(void) {
    CHECK_OK(rt_queue_new(0, destructor_that_uses_the_queue, &reentrant_q));
    CHECK_OK(rt_queue_put(reentrant_q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(reentrant_q, ITEM(2), 0, RT_FOREVER));
    CHECK_OK(rt_queue_shutdown(reentrant_q, 1));
    CHECK_EQ_INT(ATOMIC_LOAD(&reentrant_ok), 2);
    CHECK_OK(rt_queue_free(reentrant_q));
}

static void queue_free_hands_items_left_to_destructor(void) {
    static const long in[] = { 5, 3, 8, 1, 9, 2 };
    static const long fifo_left[] = { 1, 9, 2 };
    static const long lifo_left[] = { 1, 8, 3, 5 }; /* as gets would return them */
    long prio_left[] = { 5, 8, 9 };                 /* 1, 2, 3 gotten; any order */
    static const long simple_left[] = { 3, 8, 1, 9, 2 };
    rt_queue *q;
    void *item;

    reset_destroyed();
    CHECK_OK(rt_queue_new(6, record_destroyed, &q));
    put_all(q, in, 6);
    get_expect(q, in, 3);
    CHECK_OK(rt_queue_free(q));
    check_destroyed(fifo_left, 3);

    reset_destroyed();
    CHECK_OK(rt_lifo_queue_new(0, record_destroyed, &q));
    put_all(q, in, 6);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK_OK(rt_queue_free(q));
    check_destroyed(lifo_left, 4);

    reset_destroyed();
    CHECK_OK(rt_priority_queue_new(6, cmp_int, record_destroyed, &q));
    put_all(q, in, 6);
    get_expect(q, (const long[]){ 1, 2, 3 }, 3);
    CHECK_OK(rt_queue_free(q));
    check_destroyed_any_order(prio_left, 3);

    reset_destroyed();
    CHECK_OK(rt_simple_queue_new(record_destroyed, &q));
    put_all(q, in, 6);
    get_expect(q, in, 1);
    CHECK_OK(rt_queue_free(q));
    check_destroyed(simple_left, 5);

    /* Without a destructor, freeing a queue with items is fine too. */
    CHECK_OK(rt_queue_new(0, NULL, &q));
    put_all(q, in, 6);
    CHECK_OK(rt_queue_free(q));
}

static void queue_simple_queue_has_no_tasks_bound_or_shutdown(void) {
    rt_queue *q;
    void *item = ITEM(42);
    int i;
    CHECK_OK(rt_simple_queue_new(NULL, &q));
    for (i = 0; i < 100; i++) CHECK_OK(rt_queue_put(q, ITEM(i), 1, NAN)); /* never reads it */
    CHECK_EQ_INT(rt_queue_qsize(q), 100);
    CHECK_EQ_INT(rt_queue_maxsize(q), 0);
    CHECK(!rt_queue_full(q));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    CHECK(!rt_queue_is_shutdown(q));
    CHECK_ERR(rt_queue_task_done(q), RT_EINVAL,
              "'_queue.SimpleQueue' object has no attribute 'task_done'");
    CHECK_ERR(rt_queue_join(q), RT_EINVAL, "'_queue.SimpleQueue' object has no attribute 'join'");
    CHECK_ERR(rt_queue_join_timeout(q, 1.0), RT_EINVAL,
              "'_queue.SimpleQueue' object has no attribute 'join'");
    CHECK_ERR(rt_queue_shutdown(q, 0), RT_EINVAL,
              "'_queue.SimpleQueue' object has no attribute 'shutdown'");
    CHECK_ERR(rt_queue_shutdown(q, 1), RT_EINVAL,
              "'_queue.SimpleQueue' object has no attribute 'shutdown'");
    CHECK(!rt_queue_is_shutdown(q));
    /* get is Queue's get: the timeout is read when waiting is asked for. */
    CHECK_ERR(rt_queue_get(q, 1, -2.0, &item), RT_EINVAL,
              "'timeout' must be a non-negative number");
    CHECK_ERR(rt_queue_get(q, 1, NAN, &item), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK(item == ITEM(42));
    for (i = 0; i < 100; i++) {
        CHECK_OK(rt_queue_get(q, 1, 0.0, &item));
        CHECK_EQ_INT(NUM(item), i);
    }
    CHECK_ERR(rt_queue_get(q, 0, RT_FOREVER, &item), RT_EEMPTY, "queue is empty");
    CHECK_ERR(rt_queue_get(q, 1, 0.05, &item), RT_EEMPTY, "queue is empty");
    CHECK_OK(rt_queue_free(q));
}

static void queue_new_argument_errors(void) {
    rt_queue *q = (rt_queue *)ITEM(1);
    CHECK_ERR(rt_queue_new(0, NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_lifo_queue_new(0, NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_priority_queue_new(0, cmp_int, NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_simple_queue_new(NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_priority_queue_new(0, NULL, NULL, &q), RT_EINVAL,
              "the comparator must not be NULL");
    /* Room for maxsize items is reserved at creation. */
    CHECK_ERR(rt_queue_new(SIZE_MAX, NULL, &q), RT_ENOMEM, "out of memory");
    CHECK_ERR(rt_lifo_queue_new(SIZE_MAX / 2, NULL, &q), RT_ENOMEM, "out of memory");
    CHECK_ERR(rt_priority_queue_new(SIZE_MAX / 4, cmp_int, NULL, &q), RT_ENOMEM, "out of memory");
    CHECK(q == (rt_queue *)ITEM(1)); /* never written on error */
}

static void queue_null_handles_are_einval(void) {
    void *item = ITEM(42);
    CHECK_ERR(rt_queue_put(NULL, ITEM(1), 1, RT_FOREVER), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_queue_get(NULL, 1, RT_FOREVER, &item), RT_EINVAL, "NULL handle");
    CHECK(item == ITEM(42));
    CHECK_ERR(rt_queue_task_done(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_queue_join(NULL), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_queue_join_timeout(NULL, 1.0), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_queue_shutdown(NULL, 0), RT_EINVAL, "NULL handle");
#define CHECK_QUERY(expr, value)                                                         \
    do {                                                                                 \
        /* another message first, so the query's own message is what is checked */     \
        CHECK_STATUS(rt_queue_new(0, NULL, NULL), RT_EINVAL);                            \
        CHECK((expr) == (value));                                                        \
        CHECK(strcmp(rt_last_error(), "NULL handle") == 0);                              \
    } while (0)
    CHECK_QUERY(rt_queue_qsize(NULL), 0);
    CHECK_QUERY(rt_queue_empty(NULL), true);
    CHECK_QUERY(rt_queue_full(NULL), false);
    CHECK_QUERY(rt_queue_maxsize(NULL), 0);
    CHECK_QUERY(rt_queue_unfinished_tasks(NULL), 0);
    CHECK_QUERY(rt_queue_is_shutdown(NULL), false);
#undef CHECK_QUERY
    CHECK_OK(rt_queue_free(NULL));
}

static void queue_get_rejects_null_output(void) {
    rt_queue *q;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_ERR(rt_queue_get(q, 0, RT_FOREVER, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_queue_get(q, 1, RT_FOREVER, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_EQ_INT(rt_queue_qsize(q), 1); /* the item was not taken */
    CHECK_OK(rt_queue_free(q));
}

static void queue_wrong_kind_handles_are_einval(void) {
    /* A real rthread object of another kind. */
    rt_lock *lock;
    rt_queue *q;
    void *item = ITEM(42);
    const char *wrong = "handle of the wrong kind";
    CHECK_OK(rt_lock_new(&lock));
    q = (rt_queue *)(void *)lock;
    CHECK_ERR(rt_queue_put(q, ITEM(1), 1, RT_FOREVER), RT_EINVAL, wrong);
    CHECK_ERR(rt_queue_get(q, 1, RT_FOREVER, &item), RT_EINVAL, wrong);
    CHECK(item == ITEM(42));
    CHECK_ERR(rt_queue_task_done(q), RT_EINVAL, wrong);
    CHECK_ERR(rt_queue_join(q), RT_EINVAL, wrong);
    CHECK_ERR(rt_queue_join_timeout(q, 1.0), RT_EINVAL, wrong);
    CHECK_ERR(rt_queue_shutdown(q, 1), RT_EINVAL, wrong);
    CHECK_ERR(rt_queue_free(q), RT_EINVAL, wrong);
#define CHECK_QUERY(expr, value)                                                         \
    do {                                                                                 \
        CHECK_STATUS(rt_queue_new(0, NULL, NULL), RT_EINVAL);                            \
        CHECK((expr) == (value));                                                        \
        CHECK(strcmp(rt_last_error(), wrong) == 0);                                      \
    } while (0)
    CHECK_QUERY(rt_queue_qsize(q), 0);
    CHECK_QUERY(rt_queue_empty(q), true);
    CHECK_QUERY(rt_queue_full(q), false);
    CHECK_QUERY(rt_queue_maxsize(q), 0);
    CHECK_QUERY(rt_queue_unfinished_tasks(q), 0);
    CHECK_QUERY(rt_queue_is_shutdown(q), false);
#undef CHECK_QUERY
    /* The lock is untouched and still works. */
    CHECK(!rt_lock_locked(lock));
    CHECK_OK(rt_lock_acquire(lock, 0, RT_FOREVER));
    CHECK_OK(rt_lock_release(lock));
    CHECK_OK(rt_lock_free(lock));
}

RT_CASES(
    RT_CASE(queue_fifo_order),
    RT_CASE(queue_fifo_order_survives_wrapping_the_ring),
    RT_CASE(queue_lifo_order),
    RT_CASE(queue_priority_order),
    RT_CASE(queue_priority_equal_items_leave_in_fifo_order),
    RT_CASE(queue_null_is_a_valid_item),
    RT_CASE(queue_sizes_and_bounds),
    RT_CASE(queue_nonblocking_put_on_full_is_efull),
    RT_CASE(queue_nonblocking_get_on_empty_is_eempty),
    RT_CASE(queue_get_times_out_on_empty),
    RT_CASE(queue_put_times_out_on_full),
    RT_CASE(queue_unbounded_put_ignores_wait_and_timeout),
    RT_CASE(queue_timeout_errors_with_messages),
    RT_CASE(queue_task_done_counts_and_too_many),
    RT_CASE(queue_join_returns_at_once_without_tasks),
    RT_CASE(queue_shutdown_order_of_checks),
    RT_CASE(queue_plain_shutdown_keeps_items_and_tasks),
    RT_CASE(queue_immediate_shutdown_hands_items_left_to_destructor),
    RT_CASE(queue_immediate_shutdown_never_drives_tasks_below_zero),
    RT_CASE(queue_destructor_may_call_the_queue),
    RT_CASE(queue_free_hands_items_left_to_destructor),
    RT_CASE(queue_simple_queue_has_no_tasks_bound_or_shutdown),
    RT_CASE(queue_new_argument_errors),
    RT_CASE(queue_null_handles_are_einval),
    RT_CASE(queue_get_rejects_null_output),
    RT_CASE(queue_wrong_kind_handles_are_einval)
)
