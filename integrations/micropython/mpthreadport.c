/*
 * MicroPython's thread layer for the unix port, on rthread.
 *
 * Part of rthread (MIT OR Apache-2.0). Written against MicroPython's (MIT) interface in
 * py/mpthread.h; build.sh puts it in place of ports/unix/mpthreadport.c. docs/embedding.md
 * explains each function's mapping onto rthread.
 *
 * What each piece is:
 * - threads: rt_start_new_thread (detached, as `_thread` threads are), with MicroPython's stack
 *   size set through rt_stack_size_set around the start;
 * - per-thread interpreter state: an rthread local (rt_local) holding the thread's node, whose
 *   `state` is its mp_state_thread_t;
 * - mutex: an rthread Lock; recursive mutex: an rthread RLock; the GIL is one such mutex;
 * - get_id: rt_get_ident, so `_thread.get_ident()` is rthread's ident;
 * - the garbage collector's scan of other threads: each thread, signalled, scans its own stack
 *   and registers, as no other thread can read them (the one place where a POSIX signal and
 *   pthread_kill are needed: rthread has no "suspend a thread" call, by design);
 * - Ctrl-C: the unix port's SIGINT handler schedules KeyboardInterrupt and calls
 *   mp_thread_rthread_sigint (rt_interrupt_main); a blocked `lock.acquire()` in the main
 *   thread then returns RT_EINTR from rthread, and this layer raises the pending exception in
 *   its own frame, after rthread has returned. Nothing ever jumps out of an rthread call.
 * - teardown: at interpreter exit, threads still running are parked (stopped for good in a
 *   signal handler), so none touches the heap the interpreter frees; the layer then lets the
 *   exiting thread run alone.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mpthread.h"
#include "py/runtime.h"
#include "stack_size.h"

#if MICROPY_PY_THREAD

#if MICROPY_ENABLE_PYSTACK
#error "the rthread layer does not scan Python stacks (MICROPY_ENABLE_PYSTACK)"
#endif

// The signal that asks a thread to scan its own roots for the garbage collector, and the one
// that parks a thread at interpreter exit. Real-time signals, clear of SIGUSR1/2.
#define GC_SIGNAL (SIGRTMIN + 5)
#define PARK_SIGNAL (SIGRTMIN + 6)

// Stack kept in reserve below MicroPython's stack limit, to recover from reaching it.
#define STACK_OVERFLOW_MARGIN (8192)

// rthread's smallest thread stack (rt_stack_size_set refuses less).
#define RTHREAD_MIN_STACK (32768)

// One per interpreter thread, the main thread's included; linked into `threads` while the
// thread runs Python.
typedef struct _thread_node_t {
    struct _thread_node_t *next;
    void *(*entry)(void *);
    void *arg;                  // the thread's function and arguments: a GC root
    mp_state_thread_t *state;   // its interpreter state (on its own stack)
    pthread_t pthread;          // for the GC and park signals; set by mp_thread_start
    volatile int ready;         // runs Python: set by mp_thread_start, cleared by finish
} thread_node_t;

// The calling thread's node (rthread thread-local data).
static rt_local *node_local;

// Guards `threads` and the start of threads; also the unix port's atomic section.
static mp_thread_recursive_mutex_t thread_mutex;
static thread_node_t main_node;
static thread_node_t *threads;

// Posted by a thread's signal handler when it has scanned its roots or parked.
static sem_t signal_done;

// Set by mp_thread_deinit: other threads are parked, the caller runs alone and every lock
// operation is a no-op from then on.
static volatile bool exiting;
static volatile bool alone;

static void fatal(const char *what) {
    fprintf(stderr, "micropython: rthread thread layer: %s: %s\n", what, rt_last_error());
    exit(1);
}

// MicroPython's errno for an rthread status (`_thread.start_new_thread` raises OSError).
static int status_errno(rt_status status) {
    switch (status) {
        case RT_EAGAIN:
            return MP_EAGAIN;
        case RT_ENOMEM:
            return MP_ENOMEM;
        case RT_EINTR:
            return MP_EINTR;
        default:
            return MP_EINVAL;
    }
}

static thread_node_t *current_node(void) {
    void *node = NULL;
    if (node_local == NULL || rt_local_get(node_local, &node) != RT_OK) {
        return NULL;
    }
    return node;
}

static void wait_signal_done(void) {
    while (sem_wait(&signal_done) != 0 && errno == EINTR) {
    }
}

/****************************************************************/
// Mutexes

void mp_thread_mutex_init(mp_thread_mutex_t *mutex) {
    if (rt_lock_new(&mutex->lock) != RT_OK) {
        mutex->lock = NULL;
        m_malloc_fail(sizeof(void *));
    }
}

// The mutexes MicroPython keeps for itself; every other mutex is a `_thread` lock's.
static bool is_internal_mutex(mp_thread_mutex_t *mutex) {
    #if MICROPY_PY_THREAD_GIL
    return mutex == &MP_STATE_VM(gil_mutex);
    #else
    return mutex == &MP_STATE_VM(qstr_mutex);
    #endif
}

// Raises the calling thread's pending exception (KeyboardInterrupt from Ctrl-C), if there is
// one. Called from a `_thread` lock's acquire, which runs without the GIL: the raise needs it.
// If the exception is gone by the time the GIL is taken, the GIL is given back and the call
// returns, and the acquire goes on waiting.
static void raise_pending_exception(void) {
    if (MP_STATE_THREAD(mp_pending_exception) == MP_OBJ_NULL) {
        return;
    }
    MP_THREAD_GIL_ENTER();
    mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
    MP_THREAD_GIL_EXIT();
}

#if MICROPY_PY_THREAD_GIL

// The GIL's hand-off policy. The VM "bounces" the GIL (releases it and takes it straight back)
// every few bytecodes so that other threads get a turn; a thread coming back from a real wait
// (sleep, I/O, a `_thread` lock, its start) takes it to run. A bounce re-takes the GIL within
// nanoseconds, so a woken waiter almost never finds it free: rthread's Lock, like a pthread
// mutex, lets the releasing thread barge, and its hand-off to a waiter of 1 ms does not help
// against a thread that releases every microsecond (each wake-up restarts that waiter's clock).
// So the layer gives the GIL away itself:
// - a thread coming back from a wait announces itself in `gil_returning` while it waits;
// - a bouncing thread (one that takes the GIL within GIL_BOUNCE_NS of releasing it) that sees
//   such a thread does not barge: it yields until one of them has taken the GIL (or
//   GIL_YIELD_PATIENCE_NS have passed), then waits its turn like everyone else.
#define GIL_BOUNCE_NS (20 * 1000)
#define GIL_YIELD_PATIENCE_NS (5 * 1000 * 1000)

static __thread uint64_t gil_released_at;
static int gil_returning;        // threads back from a wait, waiting for the GIL
static unsigned gil_handovers;   // how many times such a thread has taken it

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void gil_acquire_blocking(rt_lock *gil) {
    while (rt_lock_acquire(gil, 1, RT_FOREVER) != RT_OK) {
        // RT_EINTR: the GIL is taken all the same; the VM raises the pending exception.
    }
}

static void gil_lock(rt_lock *gil) {
    uint64_t start = now_ns();
    if (start - gil_released_at < GIL_BOUNCE_NS) {
        // A bounce: let a thread that came back from a wait go first.
        if (__atomic_load_n(&gil_returning, __ATOMIC_ACQUIRE) > 0) {
            unsigned seen = __atomic_load_n(&gil_handovers, __ATOMIC_ACQUIRE);
            unsigned spins = 0;
            while (__atomic_load_n(&gil_returning, __ATOMIC_ACQUIRE) > 0
                   && __atomic_load_n(&gil_handovers, __ATOMIC_ACQUIRE) == seen
                   && now_ns() - start < GIL_YIELD_PATIENCE_NS) {
                if (++spins < 16) {
                    sched_yield();
                } else {
                    struct timespec pause = {0, 50 * 1000};
                    nanosleep(&pause, NULL);
                }
            }
        }
        if (rt_lock_acquire(gil, 0, RT_FOREVER) != RT_OK) {
            gil_acquire_blocking(gil);
        }
        return;
    }
    if (rt_lock_acquire(gil, 0, RT_FOREVER) == RT_OK) {
        return;
    }
    __atomic_fetch_add(&gil_returning, 1, __ATOMIC_ACQ_REL);
    gil_acquire_blocking(gil);
    __atomic_fetch_sub(&gil_returning, 1, __ATOMIC_ACQ_REL);
    __atomic_fetch_add(&gil_handovers, 1, __ATOMIC_ACQ_REL);
}

#endif

static int mutex_lock(mp_thread_mutex_t *mutex, int wait);

// The VM takes the GIL between a system call and its look at errno (the unix port's
// time.sleep retries select() on EINTR and raises OSError(errno) otherwise), so taking a mutex
// keeps errno: rthread's calls do, and the GIL's yields and sleeps here must too.
int mp_thread_mutex_lock(mp_thread_mutex_t *mutex, int wait) {
    int saved_errno = errno;
    int r = mutex_lock(mutex, wait);
    errno = saved_errno;
    return r;
}

static int mutex_lock(mp_thread_mutex_t *mutex, int wait) {
    if (alone) {
        return 1;
    }
    #if MICROPY_PY_THREAD_GIL
    if (wait && mutex == &MP_STATE_VM(gil_mutex)) {
        gil_lock(mutex->lock);
        return 1;
    }
    #endif
    rt_status status = rt_lock_acquire(mutex->lock, 0, RT_FOREVER);
    if (status == RT_OK) {
        return 1;
    }
    if (status != RT_TIMEOUT) {
        return -status_errno(status);
    }
    if (!wait) {
        return 0;
    }
    bool interruptible = !is_internal_mutex(mutex);
    for (;;) {
        // A `_thread` lock: a KeyboardInterrupt pending for this thread ends the wait. It is
        // checked before every wait, so one whose rthread interrupt an earlier internal wait
        // consumed is not missed; one that arrives after the check makes this wait return
        // RT_EINTR.
        if (interruptible) {
            raise_pending_exception();
        }
        status = rt_lock_acquire(mutex->lock, 1, RT_FOREVER);
        if (status == RT_OK) {
            return 1;
        }
        if (status != RT_EINTR) {
            return -status_errno(status);
        }
        // Interrupted. An internal mutex (the GIL, the qstr mutex) is taken all the same: the
        // VM raises the pending exception at its next check.
    }
}

void mp_thread_mutex_unlock(mp_thread_mutex_t *mutex) {
    if (alone) {
        return;
    }
    #if MICROPY_PY_THREAD_GIL
    if (mutex == &MP_STATE_VM(gil_mutex)) {
        gil_released_at = now_ns();
    }
    #endif
    (void)rt_lock_release(mutex->lock);
}

// The recursive mutex: this layer's own thread_mutex needs it in both builds, MicroPython's GC
// only without the GIL (MICROPY_PY_THREAD_RECURSIVE_MUTEX).
static int rlock_lock(mp_thread_recursive_mutex_t *mutex, int wait) {
    if (alone) {
        return 1;
    }
    for (;;) {
        rt_status status = rt_rlock_acquire(mutex->rlock, wait ? 1 : 0, RT_FOREVER);
        if (status == RT_OK) {
            return 1;
        }
        if (status == RT_TIMEOUT) {
            return 0;
        }
        if (status != RT_EINTR) {
            return -status_errno(status);
        }
        // Interrupted: only internal code takes recursive mutexes, so wait on.
    }
}

static void rlock_unlock(mp_thread_recursive_mutex_t *mutex) {
    if (alone) {
        return;
    }
    (void)rt_rlock_release(mutex->rlock);
}

#if MICROPY_PY_THREAD_RECURSIVE_MUTEX

void mp_thread_recursive_mutex_init(mp_thread_recursive_mutex_t *mutex) {
    if (rt_rlock_new(&mutex->rlock) != RT_OK) {
        mutex->rlock = NULL;
        m_malloc_fail(sizeof(void *));
    }
}

int mp_thread_recursive_mutex_lock(mp_thread_recursive_mutex_t *mutex, int wait) {
    return rlock_lock(mutex, wait);
}

void mp_thread_recursive_mutex_unlock(mp_thread_recursive_mutex_t *mutex) {
    rlock_unlock(mutex);
}

#endif

void mp_thread_unix_begin_atomic_section(void) {
    if (thread_mutex.rlock != NULL) {
        rlock_lock(&thread_mutex, 1);
    }
}

void mp_thread_unix_end_atomic_section(void) {
    if (thread_mutex.rlock != NULL) {
        rlock_unlock(&thread_mutex);
    }
}

/****************************************************************/
// Signals: the GC scan, parking, Ctrl-C

// Runs in a thread that the collecting thread signalled, while the collector holds
// thread_mutex (so `threads` is stable) and waits on signal_done. Scans this thread's
// registers (saved by the kernel in `context`, on this stack) and its stack, from this
// handler's frame up to the top MicroPython recorded. Async-signal-safe: no rthread call,
// no allocation, no lock.
static void gc_signal_handler(int signo, siginfo_t *info, void *context) {
    (void)signo;
    (void)info;
    pthread_t self = pthread_self();
    for (thread_node_t *th = threads; th != NULL; th = th->next) {
        if (th->ready && pthread_equal(th->pthread, self) && th->state != NULL) {
            gc_collect_root((void **)context, sizeof(ucontext_t) / sizeof(void *));
            uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
            uintptr_t top = (uintptr_t)th->state->stack_top;
            if (top > sp) {
                gc_collect_root((void **)sp, (top - sp) / sizeof(void *));
            }
            break;
        }
    }
    sem_post(&signal_done);
}

// Parks the thread for good: it never runs again, and ends with the process.
static void park_forever(void) {
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        sigsuspend(&all);
    }
}

static void park_signal_handler(int signo) {
    (void)signo;
    sem_post(&signal_done);
    park_forever();
}

void mp_thread_rthread_sigint(void) {
    // Async-signal-safe. RT_ESTATE (no main thread known) leaves Ctrl-C to the VM's check.
    (void)rt_interrupt_main();
}

/****************************************************************/
// Threads

void mp_thread_init(void) {
    if (rt_local_new(NULL, &node_local) != RT_OK) {
        fatal("thread-local state");
    }
    main_node.next = NULL;
    main_node.entry = NULL;
    main_node.arg = NULL;
    main_node.state = &mp_state_ctx.thread;
    main_node.pthread = pthread_self();
    main_node.ready = 1;
    if (rt_local_set(node_local, &main_node) != RT_OK) {
        fatal("thread-local state");
    }
    if (rt_rlock_new(&thread_mutex.rlock) != RT_OK) {
        fatal("thread mutex");
    }
    threads = &main_node;
    sem_init(&signal_done, 0, 0);

    struct sigaction sa;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sa.sa_sigaction = gc_signal_handler;
    sigaction(GC_SIGNAL, &sa, NULL);

    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = park_signal_handler;
    sigaction(PARK_SIGNAL, &sa, NULL);
}

// Interpreter exit: park every other thread that runs Python, so that none touches the heap
// or the VM state the interpreter is about to free, then run alone. Threads that have not
// reached mp_thread_start yet park themselves there. (The stock layer cancels them
// asynchronously instead; an rthread thread must not be cancelled, as cancellation would
// unwind through rthread's frames.)
void mp_thread_deinit(void) {
    mp_thread_unix_begin_atomic_section();
    exiting = true;
    thread_node_t *self = current_node();
    for (thread_node_t *th = threads; th != NULL; th = th->next) {
        if (th == self || !th->ready) {
            continue;
        }
        if (pthread_kill(th->pthread, PARK_SIGNAL) == 0) {
            wait_signal_done();
        }
        th->ready = 0;
    }
    mp_thread_unix_end_atomic_section();
    // From here on this thread runs alone: a parked thread may have been waiting for a mutex,
    // and rthread may hand it that mutex, so no mutex is taken any more.
    alone = true;
}

void mp_thread_gc_others(void) {
    mp_thread_unix_begin_atomic_section();
    thread_node_t *self = current_node();
    for (thread_node_t *th = threads; th != NULL; th = th->next) {
        gc_collect_root(&th->arg, 1);
        if (th == self || !th->ready) {
            continue;
        }
        if (pthread_kill(th->pthread, GC_SIGNAL) == 0) {
            wait_signal_done();
        }
    }
    mp_thread_unix_end_atomic_section();
}

mp_state_thread_t *mp_thread_get_state(void) {
    thread_node_t *node = current_node();
    return node != NULL ? node->state : NULL;
}

void mp_thread_set_state(mp_state_thread_t *state) {
    thread_node_t *node = current_node();
    if (node != NULL) {
        node->state = state;
    }
}

mp_uint_t mp_thread_get_id(void) {
    MP_STATIC_ASSERT(sizeof(mp_uint_t) >= sizeof(uint64_t));
    return (mp_uint_t)rt_get_ident();
}

static void unlink_node(thread_node_t *node) {
    for (thread_node_t **p = &threads; *p != NULL; p = &(*p)->next) {
        if (*p == node) {
            *p = node->next;
            break;
        }
    }
}

// The function rthread runs in a new thread: MicroPython's entry, with the thread's node as
// its thread-local data. Once the entry returns (after mp_thread_finish), the node is freed.
static void thread_trampoline(void *arg) {
    thread_node_t *node = arg;
    if (rt_local_set(node_local, node) != RT_OK) {
        // Out of memory for the thread-local table: this thread cannot run Python.
        fprintf(stderr, "micropython: thread not started: %s\n", rt_last_error());
        mp_thread_unix_begin_atomic_section();
        unlink_node(node);
        mp_thread_unix_end_atomic_section();
        free(node);
        return;
    }
    node->entry(node->arg);
    (void)rt_local_set(node_local, NULL);
    free(node);
}

void mp_thread_start(void) {
    mp_thread_unix_begin_atomic_section();
    thread_node_t *node = current_node();
    bool park = exiting;
    if (node != NULL && !park) {
        node->pthread = pthread_self();
        node->ready = 1;
    }
    mp_thread_unix_end_atomic_section();
    if (park) {
        // The interpreter is exiting: this thread must not run Python.
        park_forever();
    }
}

mp_uint_t mp_thread_create(void *(*entry)(void *), void *arg, size_t *stack_size) {
    if (*stack_size == 0) {
        *stack_size = 32768 * UNIX_STACK_MULTIPLIER;
    }
    if (*stack_size < RTHREAD_MIN_STACK) {
        *stack_size = RTHREAD_MIN_STACK;
    }
    if (*stack_size < 2 * STACK_OVERFLOW_MARGIN) {
        *stack_size = 2 * STACK_OVERFLOW_MARGIN;
    }
    size_t thread_stack = *stack_size;
    // The new thread reads *stack_size (MicroPython's stack limit) as it starts: set it first.
    *stack_size -= STACK_OVERFLOW_MARGIN;

    thread_node_t *node = malloc(sizeof(thread_node_t));
    if (node == NULL) {
        mp_raise_OSError(MP_ENOMEM);
    }
    node->entry = entry;
    node->arg = arg;
    node->state = NULL;
    node->ready = 0;

    // rthread's stack size applies to the threads started after it is set: set it, start,
    // and put the previous one back, all under thread_mutex so no other start comes between.
    mp_thread_unix_begin_atomic_section();
    node->next = threads;
    threads = node;
    size_t previous = 0;
    uint64_t ident = 0;
    rt_status status = rt_stack_size_set(thread_stack, &previous);
    if (status == RT_OK) {
        status = rt_start_new_thread(thread_trampoline, node, &ident);
        (void)rt_stack_size_set(previous, NULL);
    }
    if (status != RT_OK) {
        unlink_node(node);
        mp_thread_unix_end_atomic_section();
        free(node);
        mp_raise_OSError(status_errno(status));
    }
    mp_thread_unix_end_atomic_section();
    return (mp_uint_t)ident;
}

void mp_thread_finish(void) {
    mp_thread_unix_begin_atomic_section();
    thread_node_t *node = current_node();
    if (node != NULL) {
        node->ready = 0;
        unlink_node(node);
    }
    mp_thread_unix_end_atomic_section();
}

#endif // MICROPY_PY_THREAD
