/* Queues with threads blocked on them: wake-ups by put, get, task_done and shutdown, timeouts
 * racing wake-ups, join racing task_done, freeing a queue in use, and many producers and
 * consumers passing items that must each arrive exactly once. */
#include "queue_helpers.h"

static void queue_blocked_get_wakes_on_put(void) {
    rt_queue *q;
    struct call c;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    c = get_call(q, RT_FOREVER);
    start_blocked(&c);
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&c.done), 0);
    CHECK_OK(rt_queue_put(q, ITEM(7), 0, RT_FOREVER));
    WAIT_UNTIL(ATOMIC_LOAD(&c.done), 10.0);
    CHECK_EQ_INT(c.done, 1000 + RT_OK);
    CHECK(c.item == ITEM(7));
    CHECK_EQ_INT(rt_queue_qsize(q), 0);
    CHECK_OK(rt_queue_free(q));
}

static void queue_blocked_put_wakes_on_get(void) {
    rt_queue *q;
    struct call c;
    void *item;
    CHECK_OK(rt_queue_new(1, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    c = put_call(q, 2, RT_FOREVER);
    start_blocked(&c);
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&c.done), 0);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK(item == ITEM(1));
    WAIT_UNTIL(ATOMIC_LOAD(&c.done), 10.0);
    CHECK_EQ_INT(c.done, 1000 + RT_OK);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK(item == ITEM(2));
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 2);
    CHECK_OK(rt_queue_free(q));
}

static void queue_timed_get_and_put_succeed_before_the_deadline(void) {
    rt_queue *q;
    struct call g, p;
    void *item;
    CHECK_OK(rt_queue_new(1, NULL, &q));
    g = get_call(q, 30.0);
    start_blocked(&g);
    CHECK_OK(rt_queue_put(q, ITEM(3), 0, RT_FOREVER));
    WAIT_UNTIL(ATOMIC_LOAD(&g.done), 10.0);
    CHECK_EQ_INT(g.done, 1000 + RT_OK);
    CHECK(g.item == ITEM(3));
    CHECK(g.elapsed < 20.0);
    CHECK_OK(rt_queue_put(q, ITEM(4), 0, RT_FOREVER));
    p = put_call(q, 5, 30.0);
    start_blocked(&p);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    WAIT_UNTIL(ATOMIC_LOAD(&p.done), 10.0);
    CHECK_EQ_INT(p.done, 1000 + RT_OK);
    CHECK(p.elapsed < 20.0);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK(item == ITEM(5));
    CHECK_OK(rt_queue_free(q));
}

static int count_done(struct call *c, int n) {
    int i, done = 0;
    for (i = 0; i < n; i++) done += ATOMIC_LOAD(&c[i].done) != 0;
    return done;
}

static void queue_each_put_wakes_one_blocked_getter(void) {
    /* Three getters sleep; each put lets exactly one more through. */
    rt_queue *q;
    struct call c[3];
    int i, k;
    long sum = 0;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    for (i = 0; i < 3; i++) {
        c[i] = get_call(q, RT_FOREVER);
        start_blocked(&c[i]);
    }
    for (k = 1; k <= 3; k++) {
        CHECK_OK(rt_queue_put(q, ITEM(k), 0, RT_FOREVER));
        WAIT_UNTIL(count_done(c, 3) >= k, 10.0);
        rt_test_sleep(0.02);
        CHECK_EQ_INT(count_done(c, 3), k);
    }
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(c[i].done, 1000 + RT_OK);
        sum += NUM(c[i].item);
    }
    CHECK_EQ_INT(sum, 6);
    CHECK_OK(rt_queue_free(q));
}

static void shutdown_wakes_blocked_getters(int immediate) {
    rt_queue *q;
    struct call c[3];
    int i;
    reset_destroyed();
    CHECK_OK(rt_queue_new(4, record_destroyed, &q));
    for (i = 0; i < 3; i++) {
        c[i] = get_call(q, i == 0 ? 30.0 : RT_FOREVER);
        start_blocked(&c[i]);
    }
    CHECK_OK(rt_queue_shutdown(q, immediate));
    for (i = 0; i < 3; i++) {
        WAIT_UNTIL(ATOMIC_LOAD(&c[i].done), 10.0);
        CHECK_EQ_INT(c[i].done, 1000 + RT_ESHUTDOWN);
        CHECK(c[i].item == ITEM(-1)); /* not written */
        CHECK(c[i].elapsed < 20.0);
    }
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 0);
    CHECK_OK(rt_queue_free(q));
}

static void queue_shutdown_wakes_blocked_getters(void) {
    shutdown_wakes_blocked_getters(0);
}

static void queue_immediate_shutdown_wakes_blocked_getters(void) {
    shutdown_wakes_blocked_getters(1);
}

static void shutdown_wakes_blocked_putters(int immediate) {
    static const long first[] = { 100, 101 };
    rt_queue *q;
    struct call c[3];
    void *item;
    int i;
    reset_destroyed();
    CHECK_OK(rt_queue_new(2, record_destroyed, &q));
    CHECK_OK(rt_queue_put(q, ITEM(100), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(101), 0, RT_FOREVER));
    for (i = 0; i < 3; i++) {
        c[i] = put_call(q, i, i == 0 ? 30.0 : RT_FOREVER);
        start_blocked(&c[i]);
    }
    CHECK_OK(rt_queue_shutdown(q, immediate));
    for (i = 0; i < 3; i++) {
        WAIT_UNTIL(ATOMIC_LOAD(&c[i].done), 10.0);
        CHECK_EQ_INT(c[i].done, 1000 + RT_ESHUTDOWN);
        CHECK(c[i].elapsed < 20.0);
    }
    if (immediate) {
        /* The two items went to the destructor; the blocked putters' items never entered. */
        check_destroyed(first, 2);
        CHECK_EQ_INT(rt_queue_qsize(q), 0);
        CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
        CHECK_OK(rt_queue_join(q));
    } else {
        /* The items stay, and still come out; then the queue says it is shut down. */
        CHECK_EQ_INT(rt_queue_qsize(q), 2);
        CHECK_OK(rt_queue_get(q, 1, RT_FOREVER, &item));
        CHECK(item == ITEM(100));
        CHECK_OK(rt_queue_get(q, 1, RT_FOREVER, &item));
        CHECK(item == ITEM(101));
        CHECK_ERR(rt_queue_get(q, 1, RT_FOREVER, &item), RT_ESHUTDOWN, "queue is shut down");
        CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 0);
    }
    CHECK_OK(rt_queue_free(q));
}

static void queue_shutdown_wakes_blocked_putters(void) {
    shutdown_wakes_blocked_putters(0);
}

static void queue_immediate_shutdown_wakes_blocked_putters(void) {
    shutdown_wakes_blocked_putters(1);
}

static void queue_join_waits_for_every_task_done(void) {
    rt_queue *q;
    struct call j[2];
    void *item;
    int i;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    for (i = 0; i < 2; i++) {
        j[i] = join_call(q);
        start_blocked(&j[i]);
    }
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK_OK(rt_queue_task_done(q));
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&j[0].done) + ATOMIC_LOAD(&j[1].done), 0);
    CHECK_OK(rt_queue_task_done(q));
    for (i = 0; i < 2; i++) {
        WAIT_UNTIL(ATOMIC_LOAD(&j[i].done), 10.0);
        CHECK_EQ_INT(j[i].done, 1000 + RT_OK);
    }
    CHECK_OK(rt_queue_free(q));
}

static void queue_immediate_shutdown_wakes_joiners(void) {
    static const long left[] = { 1, 2 };
    rt_queue *q;
    struct call j;
    reset_destroyed();
    CHECK_OK(rt_queue_new(0, record_destroyed, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    j = join_call(q);
    start_blocked(&j);
    CHECK_OK(rt_queue_shutdown(q, 1));
    WAIT_UNTIL(ATOMIC_LOAD(&j.done), 10.0);
    CHECK_EQ_INT(j.done, 1000 + RT_OK);
    check_destroyed(left, 2);
    CHECK_OK(rt_queue_free(q));
}

static void queue_join_after_immediate_shutdown_waits_for_items_gotten(void) {
    /* Items already taken out are still being processed: join waits for them (PR #137088). */
    rt_queue *q;
    struct call j;
    void *item;
    reset_destroyed();
    CHECK_OK(rt_queue_new(0, record_destroyed, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(2), 0, RT_FOREVER));
    CHECK_OK(rt_queue_put(q, ITEM(3), 0, RT_FOREVER));
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    j = join_call(q);
    start_blocked(&j);
    CHECK_OK(rt_queue_shutdown(q, 1));
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 2);
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&j.done), 0);
    CHECK_OK(rt_queue_task_done(q));
    WAIT_UNTIL(ATOMIC_LOAD(&j.done), 10.0);
    CHECK_EQ_INT(j.done, 1000 + RT_OK);
    CHECK_OK(rt_queue_free(q));
}

static void queue_plain_shutdown_does_not_end_join(void) {
    rt_queue *q;
    struct call j;
    void *item;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    j = join_call(q);
    start_blocked(&j);
    CHECK_OK(rt_queue_shutdown(q, 0));
    rt_test_sleep(0.05);
    CHECK_EQ_INT(ATOMIC_LOAD(&j.done), 0);
    CHECK_OK(rt_queue_get(q, 0, RT_FOREVER, &item));
    CHECK_OK(rt_queue_task_done(q));
    WAIT_UNTIL(ATOMIC_LOAD(&j.done), 10.0);
    CHECK_EQ_INT(j.done, 1000 + RT_OK);
    CHECK_OK(rt_queue_free(q));
}

static void queue_free_with_blocked_getter_is_ebusy(void) {
    rt_queue *q;
    struct call c;
    reset_destroyed();
    CHECK_OK(rt_queue_new(0, record_destroyed, &q));
    c = get_call(q, RT_FOREVER);
    start_blocked(&c);
    CHECK_ERR(rt_queue_free(q), RT_EBUSY, "object is in use by waiting threads");
    /* Not freed: the queue still works and the getter gets its item. */
    CHECK_OK(rt_queue_put(q, ITEM(9), 0, RT_FOREVER));
    WAIT_UNTIL(ATOMIC_LOAD(&c.done), 10.0);
    CHECK_EQ_INT(c.done, 1000 + RT_OK);
    CHECK(c.item == ITEM(9));
    CHECK_OK(rt_queue_free(q));
    CHECK_EQ_INT(ATOMIC_LOAD(&ndestroyed), 0);
}

static void queue_free_with_blocked_putter_or_joiner_is_ebusy(void) {
    rt_queue *q;
    struct call p, j;
    CHECK_OK(rt_queue_new(1, NULL, &q));
    CHECK_OK(rt_queue_put(q, ITEM(1), 0, RT_FOREVER));
    p = put_call(q, 2, RT_FOREVER);
    start_blocked(&p);
    j = join_call(q);
    start_blocked(&j);
    CHECK_ERR(rt_queue_free(q), RT_EBUSY, "object is in use by waiting threads");
    CHECK_OK(rt_queue_shutdown(q, 1));
    WAIT_UNTIL(ATOMIC_LOAD(&p.done) && ATOMIC_LOAD(&j.done), 10.0);
    CHECK_EQ_INT(p.done, 1000 + RT_ESHUTDOWN);
    CHECK_EQ_INT(j.done, 1000 + RT_OK);
    CHECK_OK(rt_queue_free(q));
}

/* ---- join racing task_done ---- */

#define RACE_ITEMS 16
#define RACE_ROUNDS 150

struct race {
    rt_queue *q;
    int processed;
    int workers_done;
    int joiners_done;
    int joiner_saw[2];
};

struct joiner {
    struct race *r;
    int index;
};

static void race_worker(void *p) {
    struct race *r = p;
    void *item;
    while (rt_queue_get(r->q, 1, RT_FOREVER, &item) == RT_OK) {
        ATOMIC_ADD(&r->processed, 1);
        if (rt_queue_task_done(r->q) != RT_OK) abort();
    }
    ATOMIC_ADD(&r->workers_done, 1);
}

static void race_joiner(void *p) {
    struct joiner *j = p;
    if (rt_queue_join(j->r->q) != RT_OK) abort();
    /* Every task was done before join returned. */
    ATOMIC_STORE(&j->r->joiner_saw[j->index], ATOMIC_LOAD(&j->r->processed));
    ATOMIC_ADD(&j->r->joiners_done, 1);
}

static void queue_join_races_task_done(void) {
    /* The queue is filled first, so the task count only falls: every join, whenever it
     * started, must return after the last task_done, with every item processed. */
    int round, i;
    for (round = 0; round < RACE_ROUNDS; round++) {
        struct race r;
        struct joiner j[2];
        memset(&r, 0, sizeof r);
        CHECK_OK(rt_queue_new(round % 2 ? RACE_ITEMS : 0, NULL, &r.q));
        for (i = 0; i < RACE_ITEMS; i++) CHECK_OK(rt_queue_put(r.q, ITEM(i), 1, RT_FOREVER));
        CHECK_OK(rt_start_new_thread(race_worker, &r, NULL));
        for (i = 0; i < 2; i++) {
            j[i].r = &r;
            j[i].index = i;
            CHECK_OK(rt_start_new_thread(race_joiner, &j[i], NULL));
        }
        CHECK_OK(rt_start_new_thread(race_worker, &r, NULL));
        CHECK_OK(rt_queue_join(r.q));
        CHECK_EQ_INT(ATOMIC_LOAD(&r.processed), RACE_ITEMS);
        CHECK_EQ_INT(rt_queue_unfinished_tasks(r.q), 0);
        CHECK_OK(rt_queue_shutdown(r.q, 0));
        WAIT_UNTIL(ATOMIC_LOAD(&r.workers_done) == 2 && ATOMIC_LOAD(&r.joiners_done) == 2,
                   10.0);
        for (i = 0; i < 2; i++) CHECK_EQ_INT(r.joiner_saw[i], RACE_ITEMS);
        CHECK_OK(rt_queue_free(r.q));
    }
}

/* ---- many producers and consumers ---- */

struct stream {
    rt_queue *q;
    long n;            /* items 0..n-1; item i comes from producer i % producers */
    int producers;
    unsigned char *seen;
    int producers_done;
    int consumers_done;
    int errors;
    int order_errors;
    double get_timeout; /* RT_FOREVER, or a short timeout to race wake-ups with timeouts */
    int task_done;
};

struct producer {
    struct stream *s;
    int id;
};

static void produce(void *p) {
    struct producer *pr = p;
    struct stream *s = pr->s;
    long i;
    for (i = pr->id; i < s->n; i += s->producers)
        if (rt_queue_put(s->q, ITEM(i), 1, RT_FOREVER) != RT_OK) ATOMIC_ADD(&s->errors, 1);
    ATOMIC_ADD(&s->producers_done, 1);
}

static void consume(void *p) {
    struct stream *s = p;
    long last[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
    void *item;
    rt_status st;
    for (;;) {
        st = rt_queue_get(s->q, 1, s->get_timeout, &item);
        if (st == RT_EEMPTY && s->get_timeout != RT_FOREVER) continue;
        if (st == RT_ESHUTDOWN) break;
        if (st != RT_OK) {
            ATOMIC_ADD(&s->errors, 1);
            break;
        }
        if (NUM(item) < 0 || NUM(item) >= s->n) {
            ATOMIC_ADD(&s->errors, 1);
            continue;
        }
        __atomic_add_fetch(&s->seen[NUM(item)], 1, __ATOMIC_RELAXED);
        /* A FIFO keeps each producer's items in order, for each consumer. */
        if (s->producers <= 8) {
            int from = (int)(NUM(item) % s->producers);
            if (NUM(item) <= last[from]) ATOMIC_ADD(&s->order_errors, 1);
            last[from] = NUM(item);
        }
        if (s->task_done && rt_queue_task_done(s->q) != RT_OK) ATOMIC_ADD(&s->errors, 1);
    }
    ATOMIC_ADD(&s->consumers_done, 1);
}

/* Runs `producers` producers and `consumers` consumers over `q`, passing n items, and checks
 * that every item arrived exactly once. `fifo`: also check each producer's order. */
static void run_stream(rt_queue *q, long n, int producers, int consumers, double get_timeout,
                       int fifo) {
    struct stream s;
    struct producer pr[8];
    long i;
    int k;
    memset(&s, 0, sizeof s);
    s.q = q;
    s.n = n;
    s.producers = producers;
    s.seen = calloc((size_t)n, 1);
    s.get_timeout = get_timeout;
    s.task_done = 1;
    CHECK(s.seen != NULL);
    for (k = 0; k < consumers; k++) CHECK_OK(rt_start_new_thread(consume, &s, NULL));
    for (k = 0; k < producers; k++) {
        pr[k].s = &s;
        pr[k].id = k;
        CHECK_OK(rt_start_new_thread(produce, &pr[k], NULL));
    }
    WAIT_UNTIL(ATOMIC_LOAD(&s.producers_done) == producers, 120.0);
    CHECK_OK(rt_queue_join(q));
    CHECK_OK(rt_queue_shutdown(q, 0));
    WAIT_UNTIL(ATOMIC_LOAD(&s.consumers_done) == consumers, 30.0);
    CHECK_EQ_INT(s.errors, 0);
    if (fifo) CHECK_EQ_INT(s.order_errors, 0);
    for (i = 0; i < n; i++)
        if (s.seen[i] != 1)
            rt_test_fail(__FILE__, __LINE__, "item %ld arrived %d times", i, s.seen[i]);
    CHECK_EQ_INT(rt_queue_qsize(q), 0);
    CHECK_EQ_INT(rt_queue_unfinished_tasks(q), 0);
    free(s.seen);
}

static void queue_4_producers_4_consumers_pass_a_million_items(void) {
    rt_queue *q;
    CHECK_OK(rt_queue_new(256, NULL, &q));
    run_stream(q, rt_test_scaled(1000000, 1000), 4, 4, RT_FOREVER, 1);
    CHECK_OK(rt_queue_free(q));
}

static void queue_unbounded_4_producers_4_consumers_pass_every_item_once(void) {
    rt_queue *q;
    CHECK_OK(rt_queue_new(0, NULL, &q));
    run_stream(q, rt_test_scaled(200000, 1000), 4, 4, RT_FOREVER, 1);
    CHECK_OK(rt_queue_free(q));
}

static void queue_timed_getters_lose_no_wakeup(void) {
    /* Getters time out all the time while puts try to wake them: no item may be stranded and
     * no wake-up spent on a getter that already gave up. */
    rt_queue *q;
    CHECK_OK(rt_queue_new(8, NULL, &q));
    run_stream(q, rt_test_scaled(100000, 1000), 2, 4, 0.0005, 1);
    CHECK_OK(rt_queue_free(q));
}

static void queue_lifo_and_priority_pass_every_item_once(void) {
    rt_queue *q;
    CHECK_OK(rt_lifo_queue_new(64, NULL, &q));
    run_stream(q, rt_test_scaled(100000, 1000), 3, 3, RT_FOREVER, 0);
    CHECK_OK(rt_queue_free(q));
    CHECK_OK(rt_priority_queue_new(64, cmp_int, NULL, &q));
    run_stream(q, rt_test_scaled(100000, 1000), 3, 3, RT_FOREVER, 0);
    CHECK_OK(rt_queue_free(q));
}

RT_CASES(
    RT_CASE(queue_blocked_get_wakes_on_put),
    RT_CASE(queue_blocked_put_wakes_on_get),
    RT_CASE(queue_timed_get_and_put_succeed_before_the_deadline),
    RT_CASE(queue_each_put_wakes_one_blocked_getter),
    RT_CASE(queue_shutdown_wakes_blocked_getters),
    RT_CASE(queue_immediate_shutdown_wakes_blocked_getters),
    RT_CASE(queue_shutdown_wakes_blocked_putters),
    RT_CASE(queue_immediate_shutdown_wakes_blocked_putters),
    RT_CASE(queue_join_waits_for_every_task_done),
    RT_CASE(queue_immediate_shutdown_wakes_joiners),
    RT_CASE(queue_join_after_immediate_shutdown_waits_for_items_gotten),
    RT_CASE(queue_plain_shutdown_does_not_end_join),
    RT_CASE(queue_free_with_blocked_getter_is_ebusy),
    RT_CASE(queue_free_with_blocked_putter_or_joiner_is_ebusy),
    RT_CASE(queue_join_races_task_done),
    RT_CASE(queue_4_producers_4_consumers_pass_a_million_items),
    RT_CASE(queue_unbounded_4_producers_4_consumers_pass_every_item_once),
    RT_CASE(queue_timed_getters_lose_no_wakeup),
    RT_CASE(queue_lifo_and_priority_pass_every_item_once)
)
