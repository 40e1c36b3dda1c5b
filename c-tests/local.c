/* threading.local: thread-local data and its destructors (TH13). */
#include "rt_test.h"

#include <pthread.h>

/* Destructor calls, per value: values are small integers cast to pointers. */
#define VALUES 40000
static int destroyed[VALUES];
static int destroyed_total;

static void count_destroy(void *v) {
    intptr_t i = (intptr_t)v;
    if (i <= 0 || i >= VALUES) abort();
    /* The total first: a thread that sees destroyed[i] change then sees the total too. */
    ATOMIC_ADD(&destroyed_total, 1);
    ATOMIC_ADD(&destroyed[i], 1);
}

static void *as_value(int i) {
    return (void *)(intptr_t)i;
}

static void *get(rt_local *l) {
    void *v = as_value(-1);
    CHECK_OK(rt_local_get(l, &v));
    return v;
}

struct per_thread {
    rt_local *l;
    int mine;
    void *seen_before;
    void *seen_after;
    rt_lock *gate;
    int ready;
};

static void set_and_read(void *p) {
    struct per_thread *pt = p;
    if (rt_local_get(pt->l, &pt->seen_before) != RT_OK) abort();
    if (rt_local_set(pt->l, as_value(pt->mine)) != RT_OK) abort();
    ATOMIC_STORE(&pt->ready, 1);
    if (pt->gate) {
        if (rt_lock_acquire(pt->gate, 1, RT_FOREVER) != RT_OK) abort();
        rt_lock_release(pt->gate);
    }
    if (pt->l && rt_local_get(pt->l, &pt->seen_after) != RT_OK) abort();
}

static void each_thread_sees_only_its_own_value(void) {
    rt_local *l;
    struct per_thread a, b;
    rt_thread *ta, *tb;
    CHECK_OK(rt_local_new(count_destroy, &l));
    CHECK(get(l) == NULL);
    CHECK_OK(rt_local_set(l, as_value(1)));
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    CHECK_OK(rt_lock_new(&a.gate));
    CHECK_OK(rt_lock_acquire(a.gate, 1, RT_FOREVER));
    a.l = b.l = l;
    b.gate = a.gate;
    a.mine = 2;
    b.mine = 3;
    CHECK_OK(rt_thread_new(set_and_read, &a, &ta));
    CHECK_OK(rt_thread_new(set_and_read, &b, &tb));
    CHECK_OK(rt_thread_start(ta));
    CHECK_OK(rt_thread_start(tb));
    WAIT_UNTIL(ATOMIC_LOAD(&a.ready) && ATOMIC_LOAD(&b.ready), 10.0);
    CHECK(get(l) == as_value(1)); /* both have set theirs meanwhile */
    CHECK_OK(rt_lock_release(a.gate));
    CHECK_OK(rt_thread_join(ta, RT_FOREVER));
    CHECK_OK(rt_thread_join(tb, RT_FOREVER));
    CHECK(a.seen_before == NULL && b.seen_before == NULL);
    CHECK(a.seen_after == as_value(2));
    CHECK(b.seen_after == as_value(3));
    CHECK(get(l) == as_value(1));
    CHECK_OK(rt_thread_release(ta));
    CHECK_OK(rt_thread_release(tb));
    CHECK_OK(rt_local_free(l));
    CHECK_OK(rt_lock_free(a.gate));
}

static void destructors_run_when_an_rthread_thread_ends_before_join_returns(void) {
    rt_local *l;
    struct per_thread a;
    rt_thread *t;
    CHECK_OK(rt_local_new(count_destroy, &l));
    memset(&a, 0, sizeof a);
    a.l = l;
    a.mine = 7;
    CHECK_OK(rt_thread_new(set_and_read, &a, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    /* No waiting: join returned, so the destructor has run. */
    CHECK_EQ_INT(destroyed[7], 1);
    CHECK_EQ_INT(destroyed_total, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(l));
    CHECK_EQ_INT(destroyed_total, 1); /* main set nothing */
}

static void *set_in_foreign(void *p) {
    set_and_read(p);
    return NULL;
}

static void destructors_run_when_a_foreign_thread_ends(void) {
    rt_local *l;
    struct per_thread a;
    pthread_t pt;
    CHECK_OK(rt_local_new(count_destroy, &l));
    memset(&a, 0, sizeof a);
    a.l = l;
    a.mine = 8;
    CHECK(pthread_create(&pt, NULL, set_in_foreign, &a) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    CHECK(a.seen_after == as_value(8));
    CHECK_EQ_INT(destroyed[8], 1);
    /* And for a thread of rt_start_new_thread. */
    memset(&a, 0, sizeof a);
    a.l = l;
    a.mine = 9;
    CHECK_OK(rt_start_new_thread(set_and_read, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&destroyed[9]) == 1, 10.0);
    CHECK_OK(rt_local_free(l));
    CHECK_EQ_INT(destroyed_total, 2);
}

static void set_does_not_destroy_the_value_it_replaces(void) {
    rt_local *l;
    CHECK_OK(rt_local_new(count_destroy, &l));
    CHECK_OK(rt_local_set(l, as_value(10)));
    CHECK_OK(rt_local_set(l, as_value(11)));
    CHECK_EQ_INT(destroyed_total, 0);
    CHECK(get(l) == as_value(11));
    CHECK_OK(rt_local_set(l, NULL)); /* clears; NULL is never destroyed */
    CHECK(get(l) == NULL);
    CHECK_OK(rt_local_set(l, as_value(12)));
    CHECK_OK(rt_local_free(l));
    /* Freeing destroys the calling thread's own value at once. */
    CHECK_EQ_INT(destroyed[12], 1);
    CHECK_EQ_INT(destroyed_total, 1);
}

static void a_local_without_destructor_just_forgets(void) {
    rt_local *l;
    struct per_thread a;
    rt_thread *t;
    CHECK_OK(rt_local_new(NULL, &l));
    memset(&a, 0, sizeof a);
    a.l = l;
    a.mine = 13;
    CHECK_OK(rt_thread_new(set_and_read, &a, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(a.seen_after == as_value(13));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_set(l, as_value(14)));
    CHECK_OK(rt_local_free(l));
    CHECK_EQ_INT(destroyed_total, 0);
}

static void freeing_a_local_leaves_other_threads_values_to_their_end(void) {
    rt_local *l;
    struct per_thread a;
    rt_thread *t;
    CHECK_OK(rt_local_new(count_destroy, &l));
    memset(&a, 0, sizeof a);
    a.l = l;
    a.mine = 15;
    CHECK_OK(rt_lock_new(&a.gate));
    CHECK_OK(rt_lock_acquire(a.gate, 1, RT_FOREVER));
    CHECK_OK(rt_local_set(l, as_value(16)));
    CHECK_OK(rt_thread_new(set_and_read, &a, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&a.ready), 10.0);
    a.l = NULL; /* the thread must not touch the freed local: it skips its last get */
    CHECK_OK(rt_local_free(l));
    CHECK_EQ_INT(destroyed[16], 1); /* ours, at once */
    CHECK_EQ_INT(destroyed[15], 0); /* the thread's: still its own */
    CHECK_OK(rt_lock_release(a.gate));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(destroyed[15], 1); /* when it ended */
    CHECK_EQ_INT(destroyed_total, 2);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_lock_free(a.gate));
}

/* A thread keeps a value of a local that is freed; a new local (which may reuse the freed
 * one's place) is set in the same thread: both values survive and are destroyed at its end. */
struct reuse {
    rt_local *old_local;
    rt_local *new_local;
    rt_lock *step; /* released by the test once new_local is ready */
    int stage;
    void *new_seen_before;
    void *new_seen_after;
};

static void hold_then_set_new(void *p) {
    struct reuse *r = p;
    if (rt_local_set(r->old_local, as_value(20)) != RT_OK) abort();
    ATOMIC_STORE(&r->stage, 1);
    if (rt_lock_acquire(r->step, 1, RT_FOREVER) != RT_OK) abort();
    rt_lock_release(r->step);
    if (rt_local_get(r->new_local, &r->new_seen_before) != RT_OK) abort();
    if (rt_local_set(r->new_local, as_value(21)) != RT_OK) abort();
    if (rt_local_get(r->new_local, &r->new_seen_after) != RT_OK) abort();
}

static void a_freed_locals_value_survives_a_new_local_in_its_place(void) {
    struct reuse r;
    rt_thread *t;
    memset(&r, 0, sizeof r);
    CHECK_OK(rt_local_new(count_destroy, &r.old_local));
    CHECK_OK(rt_lock_new(&r.step));
    CHECK_OK(rt_lock_acquire(r.step, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(hold_then_set_new, &r, &t));
    CHECK_OK(rt_thread_start(t));
    WAIT_UNTIL(ATOMIC_LOAD(&r.stage) == 1, 10.0);
    CHECK_OK(rt_local_free(r.old_local));
    CHECK_OK(rt_local_new(count_destroy, &r.new_local));
    CHECK_OK(rt_lock_release(r.step));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK(r.new_seen_before == NULL);
    CHECK(r.new_seen_after == as_value(21));
    CHECK_EQ_INT(destroyed[20], 1);
    CHECK_EQ_INT(destroyed[21], 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(r.new_local));
    CHECK_OK(rt_lock_free(r.step));
}

#define LOCALS 5000
static rt_local *many[LOCALS];

static void set_all_locals(void *p) {
    int base = (int)(intptr_t)p, i;
    for (i = 0; i < LOCALS; i++)
        if (rt_local_set(many[i], as_value(base + i)) != RT_OK) abort();
    for (i = 0; i < LOCALS; i++) {
        void *v;
        if (rt_local_get(many[i], &v) != RT_OK || v != as_value(base + i)) abort();
    }
}

static void five_thousand_locals_are_not_limited_by_the_platform(void) {
    rt_thread *t[3];
    int i, k;
    for (i = 0; i < LOCALS; i++) CHECK_OK(rt_local_new(count_destroy, &many[i]));
    for (k = 0; k < 3; k++) {
        CHECK_OK(rt_thread_new(set_all_locals, as_value(1 + (k + 1) * LOCALS), &t[k]));
        CHECK_OK(rt_thread_start(t[k]));
    }
    set_all_locals(as_value(1));
    for (k = 0; k < 3; k++) {
        CHECK_OK(rt_thread_join(t[k], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[k]));
    }
    CHECK_EQ_INT(destroyed_total, 3 * LOCALS);
    for (i = 0; i < LOCALS; i++) CHECK(get(many[i]) == as_value(1 + i));
    for (i = 0; i < LOCALS; i++) CHECK_OK(rt_local_free(many[i]));
    CHECK_EQ_INT(destroyed_total, 4 * LOCALS);
    for (i = 1; i < 1 + 4 * LOCALS; i++) CHECK_EQ_INT(destroyed[i], 1);
}

/* Many threads (rthread's and foreign ones) set many values at once: each value is destroyed
 * exactly once. */
#define RACERS 8
#define RACE_LOCALS 64
static rt_local *race_locals[RACE_LOCALS];

static void set_race_values(void *p) {
    int base = (int)(intptr_t)p, i;
    for (i = 0; i < RACE_LOCALS; i++) {
        /* set, replace, clear, set again: only the last value is destroyed by rthread */
        if (rt_local_set(race_locals[i], as_value(base + i)) != RT_OK) abort();
        if (rt_local_set(race_locals[i], NULL) != RT_OK) abort();
        if (rt_local_set(race_locals[i], as_value(base + i)) != RT_OK) abort();
    }
}

static void *set_race_values_foreign(void *p) {
    set_race_values(p);
    return NULL;
}

static void destructors_run_exactly_once_per_value(void) {
    rt_thread *t[RACERS];
    pthread_t pt[RACERS];
    int round, i, k;
    for (i = 0; i < RACE_LOCALS; i++) CHECK_OK(rt_local_new(count_destroy, &race_locals[i]));
    for (round = 0; round < 10; round++) {
        int base = 1 + round * 2 * RACERS * RACE_LOCALS;
        for (k = 0; k < RACERS; k++) {
            CHECK_OK(rt_thread_new(set_race_values, as_value(base + k * RACE_LOCALS), &t[k]));
            CHECK_OK(rt_thread_start(t[k]));
            CHECK(pthread_create(&pt[k], NULL, set_race_values_foreign,
                                 as_value(base + (RACERS + k) * RACE_LOCALS)) == 0);
        }
        for (k = 0; k < RACERS; k++) {
            CHECK_OK(rt_thread_join(t[k], RT_FOREVER));
            CHECK_OK(rt_thread_release(t[k]));
            CHECK(pthread_join(pt[k], NULL) == 0);
        }
    }
    CHECK_EQ_INT(destroyed_total, 10 * 2 * RACERS * RACE_LOCALS);
    for (i = 1; i <= 10 * 2 * RACERS * RACE_LOCALS; i++) CHECK_EQ_INT(destroyed[i], 1);
    for (i = 0; i < RACE_LOCALS; i++) CHECK_OK(rt_local_free(race_locals[i]));
}

/* A destructor may set a value again: it gets another round, up to four in all. */
static rt_local *again_local;
static int again_calls;

static void set_again(void *v) {
    intptr_t i = (intptr_t)v;
    ATOMIC_ADD(&again_calls, 1);
    if (i < 100) rt_local_set(again_local, as_value((int)i + 1));
}

static void set_one(void *p) {
    (void)p;
    rt_local_set(again_local, as_value((int)(intptr_t)p));
}

static void destructors_that_set_values_get_more_rounds(void) {
    rt_thread *t;
    CHECK_OK(rt_local_new(set_again, &again_local));
    /* 98 -> 99 -> 100: three rounds, the last sets nothing. */
    CHECK_OK(rt_thread_new(set_one, as_value(98), &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(again_calls, 3);
    /* 1 -> 2 -> 3 -> 4 -> (5): four rounds, then the value left is not destroyed. */
    again_calls = 0;
    CHECK_OK(rt_thread_new(set_one, as_value(1), &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(again_calls, 4);
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    rt_test_sleep(0.01);
    CHECK_EQ_INT(again_calls, 4);
    CHECK_OK(rt_local_free(again_local));
}

static void exit_in_a_destructor(void *v) {
    (void)v;
    if (rt_exit_thread() != RT_ESTATE) abort();
    ATOMIC_ADD(&destroyed_total, 1);
}

static rt_local *exit_local;

static void set_exit_local(void *p) {
    (void)p;
    if (rt_local_set(exit_local, as_value(1)) != RT_OK) abort();
}

static void exit_thread_inside_a_destructor_is_refused(void) {
    rt_thread *t;
    CHECK_OK(rt_local_new(exit_in_a_destructor, &exit_local));
    CHECK_OK(rt_thread_new(set_exit_local, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_EQ_INT(destroyed_total, 1);
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_local_free(exit_local));
}

static void null_and_wrong_kind_locals_are_einval(void) {
    rt_lock *lock;
    rt_local *wrong, *l;
    void *v = as_value(5);
    CHECK_OK(rt_lock_new(&lock));
    wrong = (rt_local *)(void *)lock;
    CHECK_ERR(rt_local_new(NULL, NULL), RT_EINVAL, "NULL output pointer");
    CHECK_ERR(rt_local_get(NULL, &v), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_local_get(wrong, &v), RT_EINVAL, "handle of the wrong kind");
    CHECK(v == as_value(5));
    CHECK_ERR(rt_local_set(NULL, v), RT_EINVAL, "NULL handle");
    CHECK_ERR(rt_local_set(wrong, v), RT_EINVAL, "handle of the wrong kind");
    CHECK_OK(rt_local_free(NULL));
    CHECK_ERR(rt_local_free(wrong), RT_EINVAL, "handle of the wrong kind");
    CHECK_OK(rt_local_new(NULL, &l));
    CHECK_ERR(rt_local_get(l, NULL), RT_EINVAL, "NULL output pointer");
    /* A thread handle is the wrong kind too, and the other way round. */
    CHECK_ERR(rt_thread_start((rt_thread *)(void *)l), RT_EINVAL, "handle of the wrong kind");
    CHECK_OK(rt_local_free(l));
    CHECK(!rt_lock_locked(lock));
    CHECK_OK(rt_lock_free(lock));
}

/* While a thread's destructors run, a local whose destructor has not run yet still has its
 * value, and one whose destructor ran has none (as with pthread_getspecific). */
static rt_local *pair[2];
static void *pair_seen[2];
static int pair_calls;

static void pair_destroy(int self, void *v) {
    void *other = as_value(-1);
    if (v != as_value(100 + self)) abort();
    if (rt_local_get(pair[1 - self], &other) != RT_OK) abort();
    pair_seen[self] = other;
    ATOMIC_ADD(&pair_calls, 1);
}

static void pair_destroy_0(void *v) {
    pair_destroy(0, v);
}

static void pair_destroy_1(void *v) {
    pair_destroy(1, v);
}

static void set_pair(void *p) {
    (void)p;
    if (rt_local_set(pair[0], as_value(100)) != RT_OK) abort();
    if (rt_local_set(pair[1], as_value(101)) != RT_OK) abort();
}

static void *set_pair_foreign(void *p) {
    set_pair(p);
    return NULL;
}

/* One destructor ran first and saw the other's value; the second saw the first's gone. */
static void check_pair_seen(void) {
    CHECK_EQ_INT(pair_calls, 2);
    CHECK((pair_seen[0] == as_value(101) && pair_seen[1] == NULL) ||
          (pair_seen[1] == as_value(100) && pair_seen[0] == NULL));
    pair_calls = 0;
    pair_seen[0] = pair_seen[1] = as_value(-1);
}

static void destructors_see_the_values_not_destroyed_yet(void) {
    rt_thread *t;
    pthread_t pt;
    CHECK_OK(rt_local_new(pair_destroy_0, &pair[0]));
    CHECK_OK(rt_local_new(pair_destroy_1, &pair[1]));
    /* A thread rthread started: its destructors run after its function. */
    CHECK_OK(rt_thread_new(set_pair, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    check_pair_seen();
    /* A foreign thread: from the system's thread-exit processing. */
    CHECK(pthread_create(&pt, NULL, set_pair_foreign, NULL) == 0);
    CHECK(pthread_join(pt, NULL) == 0);
    check_pair_seen();
    CHECK_OK(rt_local_free(pair[0]));
    CHECK_OK(rt_local_free(pair[1]));
}

RT_CASES(
    RT_CASE(each_thread_sees_only_its_own_value),
    RT_CASE(destructors_see_the_values_not_destroyed_yet),
    RT_CASE(destructors_run_when_an_rthread_thread_ends_before_join_returns),
    RT_CASE(destructors_run_when_a_foreign_thread_ends),
    RT_CASE(set_does_not_destroy_the_value_it_replaces),
    RT_CASE(a_local_without_destructor_just_forgets),
    RT_CASE(freeing_a_local_leaves_other_threads_values_to_their_end),
    RT_CASE(a_freed_locals_value_survives_a_new_local_in_its_place),
    RT_CASE(five_thousand_locals_are_not_limited_by_the_platform),
    RT_CASE(destructors_run_exactly_once_per_value),
    RT_CASE(destructors_that_set_values_get_more_rounds),
    RT_CASE(exit_thread_inside_a_destructor_is_refused),
    RT_CASE(null_and_wrong_kind_locals_are_einval)
)
