/* The _thread functions: seeds 000 and 001, case by case. */
#define _GNU_SOURCE 1
#include "rt_test.h"

#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>

struct start_args {
    void *arg_seen;
    uint64_t ident_inside;
    uint64_t native_inside;
    int done;
};

static void record_identity(void *p) {
    struct start_args *a = p;
    a->arg_seen = p;
    a->ident_inside = rt_get_ident();
    a->native_inside = rt_get_native_id();
    ATOMIC_STORE(&a->done, 1);
}

static void start_new_thread_runs_the_function(void) {
    struct start_args a = { NULL, 0, 0, 0 };
    uint64_t ident = 0;
    CHECK_OK(rt_start_new_thread(record_identity, &a, &ident));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK(a.arg_seen == &a);
    CHECK(ident != 0);
    CHECK(ident == a.ident_inside);
    CHECK(ident != rt_get_ident());
}

static void start_new_thread_ident_is_optional(void) {
    struct start_args a = { NULL, 0, 0, 0 };
    CHECK_OK(rt_start_new_thread(record_identity, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK(a.ident_inside != 0);
}

static void start_new_thread_rejects_null_function(void) {
    uint64_t ident = 77;
    CHECK_ERR(rt_start_new_thread(NULL, NULL, &ident), RT_EINVAL, "first arg must be callable");
    CHECK_EQ_INT(ident, 77); /* not written on failure */
}

static void idents_are_nonzero(void) {
    CHECK(rt_get_ident() != 0);
    CHECK(rt_get_native_id() != 0);
    CHECK(rt_get_ident() == rt_get_ident());
}

#define LIVE 8

struct live_args {
    rt_lock *gate; /* held by main: the threads stay alive until it opens */
    uint64_t ident[LIVE];
    uint64_t native[LIVE];
    int ready;
    int done;
};

static struct live_args live;

static void live_thread(void *p) {
    int i = (int)(intptr_t)p;
    live.ident[i] = rt_get_ident();
    live.native[i] = rt_get_native_id();
    ATOMIC_ADD(&live.ready, 1);
    if (rt_lock_acquire(live.gate, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(live.gate) != RT_OK) abort();
    ATOMIC_ADD(&live.done, 1);
}

static void idents_are_distinct_among_live_threads(void) {
    int i, j;
    CHECK_OK(rt_lock_new(&live.gate));
    CHECK_OK(rt_lock_acquire(live.gate, 1, RT_FOREVER));
    for (i = 0; i < LIVE; i++)
        CHECK_OK(rt_start_new_thread(live_thread, (void *)(intptr_t)i, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&live.ready) == LIVE, 10.0);
    for (i = 0; i < LIVE; i++) {
        CHECK(live.ident[i] != 0);
        CHECK(live.native[i] != 0);
        CHECK(live.ident[i] != rt_get_ident());
        CHECK(live.native[i] != rt_get_native_id());
        for (j = 0; j < i; j++) {
            CHECK(live.ident[i] != live.ident[j]);
            CHECK(live.native[i] != live.native[j]);
        }
    }
    CHECK_OK(rt_lock_release(live.gate));
    WAIT_UNTIL(ATOMIC_LOAD(&live.done) == LIVE, 10.0);
    CHECK_OK(rt_lock_free(live.gate));
}

static void native_id_is_the_kernel_thread_id(void) {
    struct start_args a = { NULL, 0, 0, 0 };
    CHECK_EQ_INT(rt_get_native_id(), (long long)syscall(SYS_gettid));
    /* In the main thread the kernel's thread id is the process id. */
    CHECK_EQ_INT(rt_get_native_id(), (long long)getpid());
    CHECK_OK(rt_start_new_thread(record_identity, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK(a.native_inside != (uint64_t)getpid());
}

static void ident_is_pthread_self(void) {
    CHECK(rt_get_ident() == (uint64_t)pthread_self());
}

static void timeout_max_matches_cpython(void) {
    CHECK(RT_TIMEOUT_MAX == 9223372036.0);
    CHECK(rt_timeout_max() == RT_TIMEOUT_MAX);
    CHECK(RT_FOREVER == -1.0);
}

static void stack_size_defaults_to_zero(void) {
    CHECK_EQ_INT(rt_stack_size_get(), 0);
}

static void stack_size_validation_leaves_it_unchanged(void) {
    size_t prev = 12345;
    CHECK_ERR(rt_stack_size_set(4096, &prev), RT_EINVAL, "size not valid: 4096 bytes");
    CHECK_EQ_INT(prev, 12345);
    CHECK_ERR(rt_stack_size_set(1, NULL), RT_EINVAL, "size not valid: 1 bytes");
    CHECK_ERR(rt_stack_size_set(32767, NULL), RT_EINVAL, "size not valid: 32767 bytes");
    CHECK_EQ_INT(rt_stack_size_get(), 0);
    CHECK_OK(rt_stack_size_set(32768, &prev));
    CHECK_EQ_INT(prev, 0);
    CHECK_EQ_INT(rt_stack_size_get(), 32768);
    CHECK_ERR(rt_stack_size_set(100, &prev), RT_EINVAL, "size not valid: 100 bytes");
    CHECK_EQ_INT(rt_stack_size_get(), 32768);
    CHECK_OK(rt_stack_size_set(32769, &prev)); /* CPython accepts 32769 too */
    CHECK_EQ_INT(prev, 32768);
    CHECK_OK(rt_stack_size_set(0, &prev));
    CHECK_EQ_INT(prev, 32769);
    CHECK_EQ_INT(rt_stack_size_get(), 0);
}

struct stack_args {
    size_t size;
    int done;
};

static void measure_stack(void *p) {
    struct stack_args *a = p;
    pthread_attr_t attr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
    }
    a->size = size;
    ATOMIC_STORE(&a->done, 1);
}

static void stack_size_applies_to_new_threads(void) {
    struct stack_args a = { 0, 0 };
    size_t want = 3 * 1024 * 1024 + 64 * 1024;
    CHECK_OK(rt_stack_size_set(want, NULL));
    CHECK_OK(rt_start_new_thread(measure_stack, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK(a.size >= want && a.size < want + 65536);
    a.done = 0;
    CHECK_OK(rt_stack_size_set(64 * 1024, NULL));
    CHECK_OK(rt_start_new_thread(measure_stack, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK(a.size >= 64 * 1024 && a.size < 64 * 1024 + 65536);
    CHECK_OK(rt_stack_size_set(0, NULL));
}

static void refused_thread_is_eagain_with_the_reason(void) {
    uint64_t ident = 5;
    size_t before = rt_thread_count();
    /* No system can map a stack this large. */
    CHECK_OK(rt_stack_size_set((size_t)1 << 62, NULL));
    CHECK_STATUS(rt_start_new_thread(record_identity, NULL, &ident), RT_EAGAIN);
    CHECK(strncmp(rt_last_error(), "can't start new thread: ", 24) == 0);
    CHECK(strlen(rt_last_error()) > 24);
    CHECK_EQ_INT(ident, 5);
    CHECK_EQ_INT(rt_thread_count(), before);
    CHECK_OK(rt_stack_size_set(0, NULL));
}

static int after_exit_ran;
static int before_exit_ran;

static void exit_deep_down(int depth) {
    if (depth == 0) {
        rt_exit_thread();
        after_exit_ran = 1; /* never reached */
        return;
    }
    exit_deep_down(depth - 1);
    after_exit_ran = 1; /* never reached either */
}

static void thread_that_exits(void *p) {
    rt_lock *gate = p;
    ATOMIC_STORE(&before_exit_ran, 1);
    if (rt_lock_acquire(gate, 1, RT_FOREVER) != RT_OK) abort();
    exit_deep_down(5);
    after_exit_ran = 1;
}

static void exit_thread_from_a_nested_function(void) {
    rt_lock *gate;
    size_t base = rt_thread_count();
    CHECK_OK(rt_lock_new(&gate));
    CHECK_OK(rt_lock_acquire(gate, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(thread_that_exits, gate, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&before_exit_ran), 10.0);
    CHECK_EQ_INT(rt_thread_count(), base + 1);
    CHECK_OK(rt_lock_release(gate));
    WAIT_UNTIL(rt_thread_count() == base, 10.0);
    CHECK_EQ_INT(after_exit_ran, 0);
    /* The exiting thread still holds the gate: exit does not release locks (as in Python). */
    CHECK(rt_lock_locked(gate));
    CHECK_OK(rt_lock_release(gate));
    CHECK_OK(rt_lock_free(gate));
}

static void exit_thread_in_the_main_thread_is_refused(void) {
    CHECK_STATUS(rt_exit_thread(), RT_ESTATE);
    CHECK(strstr(rt_last_error(), "thread started by rthread") != NULL);
}

struct count_args {
    rt_lock *gate;
    int started;
};

static void wait_on_gate(void *p) {
    struct count_args *a = p;
    ATOMIC_ADD(&a->started, 1);
    if (rt_lock_acquire(a->gate, 1, RT_FOREVER) != RT_OK) abort();
    if (rt_lock_release(a->gate) != RT_OK) abort();
}

static void thread_count_follows_running_threads(void) {
    struct count_args a = { NULL, 0 };
    int i;
    CHECK_EQ_INT(rt_thread_count(), 0);
    CHECK_OK(rt_lock_new(&a.gate));
    CHECK_OK(rt_lock_acquire(a.gate, 1, RT_FOREVER));
    for (i = 0; i < 5; i++) CHECK_OK(rt_start_new_thread(wait_on_gate, &a, NULL));
    CHECK_EQ_INT(rt_thread_count(), 5);
    WAIT_UNTIL(ATOMIC_LOAD(&a.started) == 5, 10.0);
    CHECK_EQ_INT(rt_thread_count(), 5);
    CHECK_OK(rt_lock_release(a.gate));
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    CHECK_OK(rt_lock_free(a.gate));
}

static int returned_value;

static void returns_quietly(void *p) {
    (void)p;
    ATOMIC_STORE(&returned_value, 1);
}

static void a_returning_thread_ends_silently_and_others_go_on(void) {
    struct count_args a = { NULL, 0 };
    CHECK_OK(rt_lock_new(&a.gate));
    CHECK_OK(rt_lock_acquire(a.gate, 1, RT_FOREVER));
    CHECK_OK(rt_start_new_thread(wait_on_gate, &a, NULL));
    CHECK_OK(rt_start_new_thread(returns_quietly, NULL, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&returned_value) && rt_thread_count() == 1, 10.0);
    /* The other thread is still there, and finishes when let go. */
    CHECK_OK(rt_lock_release(a.gate));
    WAIT_UNTIL(rt_thread_count() == 0, 10.0);
    CHECK_OK(rt_lock_free(a.gate));
}

RT_CASES(
    RT_CASE(start_new_thread_runs_the_function),
    RT_CASE(start_new_thread_ident_is_optional),
    RT_CASE(start_new_thread_rejects_null_function),
    RT_CASE(idents_are_nonzero),
    RT_CASE(idents_are_distinct_among_live_threads),
    RT_CASE(native_id_is_the_kernel_thread_id),
    RT_CASE(ident_is_pthread_self),
    RT_CASE(timeout_max_matches_cpython),
    RT_CASE(stack_size_defaults_to_zero),
    RT_CASE(stack_size_validation_leaves_it_unchanged),
    RT_CASE(stack_size_applies_to_new_threads),
    RT_CASE(refused_thread_is_eagain_with_the_reason),
    RT_CASE(exit_thread_from_a_nested_function),
    RT_CASE(exit_thread_in_the_main_thread_is_refused),
    RT_CASE(thread_count_follows_running_threads),
    RT_CASE(a_returning_thread_ends_silently_and_others_go_on)
)
