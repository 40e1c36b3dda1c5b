/* The helpers of stress.h. */
#include "stress.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

double stress_seconds(void) {
    const char *env = getenv("RTHREAD_STRESS_SECONDS");
    double s = env ? atof(env) : 3.0;
    return s > 0.0 ? s : 3.0;
}

long stress_scaled(long n, long min) {
    const char *env = getenv("RTHREAD_STRESS_SCALE");
    double scale = env ? atof(env) : 1.0;
    long v;
    if (!(scale > 0.0)) scale = 1.0;
    v = (long)((double)n * scale);
    return v < min ? min : v;
}

uint64_t stress_rand(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

unsigned stress_below(uint64_t *state, unsigned n) {
    return n ? (unsigned)((stress_rand(state) >> 33) % n) : 0;
}

void stress_spin(unsigned n) {
    volatile unsigned i;
    for (i = 0; i < n; i++) {
    }
}

void stress_yield(void) {
    sched_yield();
}

static void (*watchdog_dump)(void);
static double watchdog_secs;

static void *watchdog(void *arg) {
    (void)arg;
    rt_test_sleep(watchdog_secs);
    fprintf(stderr, "HANG: the case still runs after %.0f s; its counters:\n", watchdog_secs);
    if (watchdog_dump) watchdog_dump();
    fflush(NULL);
    _exit(3);
    return NULL;
}

void stress_watchdog(double secs, void (*dump)(void)) {
    pthread_t t;
    watchdog_dump = dump;
    watchdog_secs = secs;
    CHECK(pthread_create(&t, NULL, watchdog, NULL) == 0);
    CHECK(pthread_detach(t) == 0);
}

double stress_budget(double phases) {
    return 60.0 + 10.0 * phases * stress_seconds();
}

void stress_start(rt_thread **threads, int n, rt_thread_fn fn, void **args) {
    int i;
    for (i = 0; i < n; i++) CHECK_OK(rt_thread_new(fn, args ? args[i] : NULL, &threads[i]));
    for (i = 0; i < n; i++) CHECK_OK(rt_thread_start(threads[i]));
}

void stress_join_only(rt_thread **threads, int n) {
    int i;
    for (i = 0; i < n; i++) CHECK_OK(rt_thread_join(threads[i], RT_FOREVER));
}

void stress_release(rt_thread **threads, int n) {
    int i;
    for (i = 0; i < n; i++) CHECK_OK(rt_thread_release(threads[i]));
}

void stress_join(rt_thread **threads, int n) {
    stress_join_only(threads, n);
    stress_release(threads, n);
}

static rt_thread **interrupt_targets;
static int interrupt_n, interrupt_stop;
static long interrupts_sent;
static rt_thread *interrupter;

static void interrupt_at_random(void *arg) {
    uint64_t rng = 0x5DEECE66Dull;
    (void)arg;
    while (!ATOMIC_LOAD(&interrupt_stop)) {
        unsigned r = stress_below(&rng, 16);
        CHECK_OK(rt_thread_interrupt(interrupt_targets[stress_below(&rng, (unsigned)interrupt_n)]));
        ATOMIC_ADD(&interrupts_sent, 1);
        if (r == 0) stress_yield();
        else stress_spin(stress_below(&rng, 2000000));
    }
}

void stress_interrupter_start(rt_thread **targets, int n) {
    interrupt_targets = targets;
    interrupt_n = n;
    CHECK_OK(rt_thread_new(interrupt_at_random, NULL, &interrupter));
    CHECK_OK(rt_thread_start(interrupter));
}

long stress_interrupter_stop(void) {
    ATOMIC_STORE(&interrupt_stop, 1);
    CHECK_OK(rt_thread_join(interrupter, RT_FOREVER));
    CHECK_OK(rt_thread_release(interrupter));
    return interrupts_sent;
}
