/*
 * Barrier generations with timeouts, aborts, resets and failing actions. As many threads as
 * parties pass the barrier again and again; some waits have tiny timeouts (which break the
 * barrier), the action fails now and then (which breaks it too), and a controller thread aborts
 * and resets it at random moments. A thread that finds it broken resets it.
 *
 * Accounting per cycle: the action numbers the cycles. A thread that passes reads the number
 * (the next cycle cannot run its action before this thread arrives again), so it knows its
 * cycle, and marks its arrival index in that cycle's mask: no index twice in one cycle, no
 * cycle twice for one thread. When cycle c runs its action, the mask of cycle c-1 is complete:
 * every party passed (all indices), none did (the action failed, or an abort or reset came
 * during it), or, only when an abort came while the cycle drained, some did (Python's
 * behaviour: the threads not yet out see the broken state). Waits without a tiny timeout have
 * a long one: if one of those times out, a wake-up was lost.
 */
#include "stress.h"

#define PARTIES 4
#define MASKS 1024
#define LONG_TIMEOUT 30.0

static rt_barrier *barrier;
static int stop, workers_alive;
static long cycle; /* written by the action only */
static int masks[MASKS];
static long full_cycles, empty_cycles, partial_cycles, action_failures;
static long aborts, resets, passes, broken_results, thread_resets, tiny_waits;
static uint64_t action_rng = 12345;

static void dump(void) {
    fprintf(stderr, "barrier: cycle %ld, full %ld, empty %ld, partial %ld, action failures %ld, "
                    "aborts %ld, resets %ld, passes %ld, broken results %ld, waiting %zu, "
                    "broken %d, workers alive %d\n",
            ATOMIC_LOAD(&cycle), full_cycles, empty_cycles, partial_cycles, action_failures,
            ATOMIC_LOAD(&aborts), ATOMIC_LOAD(&resets), ATOMIC_LOAD(&passes),
            ATOMIC_LOAD(&broken_results), rt_barrier_n_waiting(barrier),
            (int)rt_barrier_broken(barrier), ATOMIC_LOAD(&workers_alive));
}

static void account(int mask) {
    if (mask == (1 << PARTIES) - 1) full_cycles++;
    else if (mask == 0) empty_cycles++;
    else partial_cycles++;
}

/* Runs in the last thread to arrive, before any is released; one at a time. */
static int action(void *ctx) {
    long c = ATOMIC_LOAD(&cycle) + 1;
    (void)ctx;
    if (c > 1) account(ATOMIC_LOAD(&masks[(c - 1) % MASKS]));
    ATOMIC_STORE(&masks[c % MASKS], 0);
    ATOMIC_STORE(&cycle, c);
    if (stress_below(&action_rng, 64) == 0) {
        action_failures++;
        return 1;
    }
    return 0;
}

static void worker(void *arg) {
    uint64_t rng = (uint64_t)(intptr_t)arg * 104729 + 1;
    long last = 0;
    while (!ATOMIC_LOAD(&stop)) {
        size_t index = PARTIES;
        int tiny = stress_below(&rng, 32) == 0;
        rt_status s = rt_barrier_wait(barrier, tiny ? 0.0002 : LONG_TIMEOUT, &index);
        if (tiny) ATOMIC_ADD(&tiny_waits, 1);
        if (s == RT_OK) {
            long c = ATOMIC_LOAD(&cycle);
            int bit, old;
            CHECK(index < PARTIES);
            CHECK(c > last); /* one pass per cycle */
            last = c;
            bit = 1 << index;
            old = __atomic_fetch_or(&masks[c % MASKS], bit, __ATOMIC_SEQ_CST);
            CHECK((old & bit) == 0); /* each index once per cycle */
            ATOMIC_ADD(&passes, 1);
        } else {
            CHECK_STATUS(s, RT_EBROKEN);
            if (!tiny && strcmp(rt_last_error(), "barrier wait timed out") == 0)
                rt_test_fail(__FILE__, __LINE__, "a wait of %g s timed out: a lost wake-up",
                             LONG_TIMEOUT);
            ATOMIC_ADD(&broken_results, 1);
            if (rt_barrier_broken(barrier) && stress_below(&rng, 2) == 0) {
                CHECK_OK(rt_barrier_reset(barrier));
                ATOMIC_ADD(&thread_resets, 1);
            }
        }
        stress_spin(stress_below(&rng, 2000));
    }
    ATOMIC_SUB(&workers_alive, 1);
}

static void barrier_generations_survive_timeouts_aborts_and_resets(void) {
    rt_thread *t[PARTIES];
    void *args[PARTIES];
    uint64_t rng = 7;
    double t0, until;
    int i;
    CHECK_OK(rt_barrier_new(PARTIES, action, NULL, RT_FOREVER, &barrier));
    stress_watchdog(stress_budget(1.0) + LONG_TIMEOUT, dump);
    for (i = 0; i < PARTIES; i++) args[i] = (void *)(intptr_t)(i + 1);
    workers_alive = PARTIES;
    t0 = rt_test_now();
    until = t0 + stress_seconds();
    stress_start(t, PARTIES, worker, args);
    while (rt_test_now() < until) {
        unsigned r = stress_below(&rng, 8);
        CHECK(rt_barrier_n_waiting(barrier) <= PARTIES);
        if (r == 0) {
            CHECK_OK(rt_barrier_abort(barrier));
            ATOMIC_ADD(&aborts, 1);
        } else if (r == 1) {
            CHECK_OK(rt_barrier_reset(barrier));
            ATOMIC_ADD(&resets, 1);
        }
        if (r < 4) stress_yield();
        else rt_test_sleep(0.0001 * r);
    }
    /* Break the barrier until every worker has seen the stop. */
    ATOMIC_STORE(&stop, 1);
    while (ATOMIC_LOAD(&workers_alive) > 0) {
        CHECK_OK(rt_barrier_abort(barrier));
        stress_yield();
    }
    stress_join(t, PARTIES);
    /* The last cycle's mask is complete too, now. */
    if (cycle > 0) account(masks[cycle % MASKS]);
    printf("barrier: %d parties, %ld cycles (%ld all passed, %ld none, %ld some), %ld passes, "
           "%ld broken results; %ld aborts, %ld resets by the controller, %ld by the threads, "
           "%ld tiny timeouts, %ld failed actions in %.2f s\n",
           PARTIES, cycle, full_cycles, empty_cycles, partial_cycles, passes, broken_results,
           aborts, resets, thread_resets, tiny_waits, action_failures, rt_test_now() - t0);
    CHECK_EQ_INT(full_cycles + empty_cycles + partial_cycles, cycle);
    CHECK(partial_cycles <= aborts); /* only an abort while a cycle drains splits it */
    CHECK(empty_cycles <= action_failures + aborts + resets + thread_resets);
    CHECK(full_cycles > 0);
    CHECK_OK(rt_barrier_reset(barrier));
    CHECK(!rt_barrier_broken(barrier));
    CHECK_EQ_INT(rt_barrier_n_waiting(barrier), 0);
    CHECK_OK(rt_barrier_free(barrier));
}

RT_CASES(RT_CASE(barrier_generations_survive_timeouts_aborts_and_resets))
