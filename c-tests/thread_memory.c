/* What an idle thread costs: the stack a wait uses, in a thread object's thread and in a
 * _thread thread, on its first wait and later ones. An idle thread's resident memory is mostly
 * the stack pages it has touched, so a wait's path must not reserve big frames it rarely
 * needs (such as deadlock detection's buffers). */
#include "rt_test.h"

#include <stdlib.h>
#include <string.h>

/* Under valgrind's memcheck, memory below the stack pointer is undefined whatever it holds:
 * the probe says that it reads it on purpose (a no-op outside valgrind). Valgrind also runs
 * its own code on the program's stack around system calls, so there the depth is printed, not
 * bounded. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define PROBE_READS(buf, n) VALGRIND_MAKE_MEM_DEFINED((buf), (n))
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif
#ifndef PROBE_READS
#define PROBE_READS(buf, n) ((void)0)
#endif

#define PROBE 32768
#define PAINT 0xa5

/* The bound on a wait's stack: what an event wait uses from its caller's frame down, with
 * room to spare. Measured on x86-64, optimised: 0.8-1 KiB (a 2.7 KiB frame on the path made
 * it 3.1 KiB); unoptimised (RTHREAD_TEST_PROFILE=debug, set by tests/c_suite.rs): 3.5 KiB
 * (4.9 KiB with that frame). A thread's first wait goes deeper once (the C library's
 * first-time set-up below it): printed, not bounded. */
static size_t wait_stack_limit(void) {
    const char *profile = getenv("RTHREAD_TEST_PROFILE");
    return profile != NULL && strcmp(profile, "debug") == 0 ? 4096 : 2048;
}

/* paint() and deepest() are called from the same frame, so that their buffers lie at the
 * same address: what the call between them wrote below that frame is the painted bytes it
 * changed, counted from the buffer's top (the stack grows down). */
static __attribute__((noinline)) void paint(void) {
    volatile unsigned char buf[PROBE];
    for (size_t i = 0; i < PROBE; i++) buf[i] = PAINT;
    (void)buf[0];
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
static __attribute__((noinline)) size_t deepest(void) {
    /* Deliberately not initialised: it holds what paint() and the wait left there. */
    volatile unsigned char buf[PROBE];
    size_t i = 0;
    PROBE_READS((void *)buf, PROBE);
    while (i < PROBE && buf[i] == PAINT) i++;
    return PROBE - i;
}
#pragma GCC diagnostic pop

struct probe {
    rt_event *event;
    size_t first, later;
};

static __attribute__((noinline)) size_t one_wait(rt_event *e) {
    size_t used;
    paint();
    /* Not set: the slow path, which times out. */
    CHECK_STATUS(rt_event_wait(e, 0.01), RT_TIMEOUT);
    used = deepest();
    return used;
}

static void probe_waits(void *arg) {
    struct probe *p = arg;
    p->first = one_wait(p->event);
    p->later = one_wait(p->event);
}

struct signalled {
    struct probe *p;
    rt_event *done;
};

static void probe_and_signal(void *arg) {
    struct signalled *s = arg;
    probe_waits(s->p);
    CHECK_OK(rt_event_set(s->done));
}

static int sanitized(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return 1;
#else
    return 0;
#endif
#else
    return 0;
#endif
}

static void check(const char *what, const struct probe *p) {
    printf("%s: first wait %zu bytes of stack, later %zu\n", what, p->first, p->later);
    /* The measurement works: a wait writes something below its caller. */
    CHECK(p->first > 0 && p->later > 0);
    if (UNDER_VALGRIND()) {
        printf("not bounded under valgrind\n");
        return;
    }
    CHECK(p->later <= wait_stack_limit());
}

static void a_thread_objects_wait_uses_little_stack(void) {
    struct probe p;
    rt_thread *t;
    if (sanitized()) {
        printf("skipped: a sanitizer's frames are larger by design\n");
        return;
    }
    memset(&p, 0, sizeof p);
    CHECK_OK(rt_event_new(&p.event));
    CHECK_OK(rt_thread_new(probe_waits, &p, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_OK(rt_event_free(p.event));
    check("thread object", &p);
}

static void a_new_threads_wait_uses_little_stack(void) {
    struct probe p;
    rt_event *done;
    if (sanitized()) {
        printf("skipped: a sanitizer's frames are larger by design\n");
        return;
    }
    memset(&p, 0, sizeof p);
    CHECK_OK(rt_event_new(&p.event));
    CHECK_OK(rt_event_new(&done));
    struct signalled arg = {&p, done};
    CHECK_OK(rt_start_new_thread(probe_and_signal, &arg, NULL));
    CHECK_OK(rt_event_wait(done, RT_FOREVER));
    CHECK_OK(rt_event_free(done));
    CHECK_OK(rt_event_free(p.event));
    check("_thread thread", &p);
}

RT_CASES(
    RT_CASE(a_thread_objects_wait_uses_little_stack),
    RT_CASE(a_new_threads_wait_uses_little_stack),
)
