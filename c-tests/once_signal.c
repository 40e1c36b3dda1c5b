/* rt_once (RT_ONCE_INIT, one run, the others wait for it, recursion, a function left by
 * rt_exit_thread) and rt_interrupt_main_on_signal (a signal ends the main thread's wait with
 * RT_EINTR, and the handler that was there before still runs). */
#include "rt_test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

/* ---- rt_once */

static rt_once_flag contended = RT_ONCE_INIT;
static int init_runs;
static int init_value;

static void slow_init(void *arg) {
    ATOMIC_ADD(&init_runs, 1);
    /* Long enough that the other threads arrive while it runs. */
    rt_test_sleep(0.1);
    ATOMIC_STORE(&init_value, *(int *)arg);
}

static rt_barrier *start_line;
static int saw_value[8];

static void call_once(void *p) {
    int *slot = p;
    static int value = 42;
    size_t idx;
    if (rt_barrier_wait(start_line, RT_FOREVER, &idx) != RT_OK) abort();
    if (rt_once(&contended, slow_init, &value) != RT_OK) abort();
    /* Returning means the function has returned: its write is visible. */
    *slot = ATOMIC_LOAD(&init_value);
}

static void once_runs_the_function_once_and_the_others_wait_for_it(void) {
    rt_thread *t[8];
    int i;
    CHECK_OK(rt_barrier_new(8, NULL, NULL, RT_FOREVER, &start_line));
    for (i = 0; i < 8; i++) {
        CHECK_OK(rt_thread_new(call_once, &saw_value[i], &t[i]));
        CHECK_OK(rt_thread_start(t[i]));
    }
    for (i = 0; i < 8; i++) {
        CHECK_OK(rt_thread_join(t[i], RT_FOREVER));
        CHECK_OK(rt_thread_release(t[i]));
        CHECK_EQ_INT(saw_value[i], 42);
    }
    CHECK_EQ_INT(ATOMIC_LOAD(&init_runs), 1);
    CHECK_OK(rt_barrier_free(start_line));
}

static rt_once_flag nested = RT_ONCE_INIT;
static rt_status inner_status = RT_OK;
static int nested_runs;

static void calls_itself(void *arg) {
    (void)arg;
    nested_runs++;
    inner_status = rt_once(&nested, calls_itself, NULL);
}

static void once_called_from_its_own_function_is_edeadlk(void) {
    CHECK_OK(rt_once(&nested, calls_itself, NULL));
    CHECK_EQ_INT(inner_status, RT_EDEADLK);
    CHECK_EQ_INT(nested_runs, 1);
    CHECK_OK(rt_once(&nested, calls_itself, NULL));
    CHECK_EQ_INT(nested_runs, 1);
}

static rt_once_flag exited = RT_ONCE_INIT;
static int exit_attempts;
static int completed;

static void exits_the_thread(void *arg) {
    (void)arg;
    ATOMIC_ADD(&exit_attempts, 1);
    rt_exit_thread();
}

static void completes(void *arg) {
    (void)arg;
    ATOMIC_ADD(&completed, 1);
}

static void run_exiting_once(void *arg) {
    (void)arg;
    rt_once(&exited, exits_the_thread, NULL);
    abort(); /* not reached: the thread ended inside the function */
}

static void once_left_by_rt_exit_thread_runs_again_for_the_next_caller(void) {
    rt_thread *t;
    CHECK_OK(rt_thread_new(run_exiting_once, NULL, &t));
    CHECK_OK(rt_thread_start(t));
    CHECK_OK(rt_thread_join(t, RT_FOREVER));
    CHECK_OK(rt_thread_release(t));
    CHECK_EQ_INT(ATOMIC_LOAD(&exit_attempts), 1);
    /* As pthread_once when its function is cancelled: the flag is as new. */
    CHECK_OK(rt_once(&exited, completes, NULL));
    CHECK_OK(rt_once(&exited, completes, NULL));
    CHECK_EQ_INT(ATOMIC_LOAD(&completed), 1);
}

/* ---- rt_interrupt_main_on_signal */

static int previous_calls;
static int previous_saw_signal;

static void previous_handler(int sig) {
    ATOMIC_ADD(&previous_calls, 1);
    ATOMIC_STORE(&previous_saw_signal, sig);
    errno = 0; /* rthread's part keeps errno; the chained handler is the program's */
}

static pthread_t main_pthread;
static int main_done;
static int signals_sent;

static void signal_main_until_done(void *p) {
    int sig = *(int *)p;
    while (!ATOMIC_LOAD(&main_done)) {
        pthread_kill(main_pthread, sig);
        ATOMIC_ADD(&signals_sent, 1);
        rt_test_sleep(0.02);
    }
}

static void a_signal_interrupts_the_main_wait_and_chains_to_the_previous_handler(void) {
    struct sigaction sa, now;
    static int sig = SIGUSR1;
    rt_lock *l;
    rt_thread *t;
    double t0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = previous_handler;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK_OK(rt_interrupt_main_on_signal(SIGUSR1));
    /* A second call with ours in place changes nothing (no handler chained to itself). */
    CHECK_OK(rt_interrupt_main_on_signal(SIGUSR1));
    CHECK(sigaction(SIGUSR1, NULL, &now) == 0);
    CHECK(now.sa_flags & SA_SIGINFO);
    main_pthread = pthread_self();
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK_OK(rt_thread_new(signal_main_until_done, &sig, &t));
    CHECK_OK(rt_thread_start(t));
    t0 = rt_test_now();
    CHECK_STATUS(rt_lock_acquire(l, 1, 30.0), RT_EINTR);
    CHECK_ELAPSED(t0, 0.0, 25.0);
    ATOMIC_STORE(&main_done, 1);
    CHECK_OK(rt_thread_join(t, 10.0));
    CHECK_OK(rt_thread_release(t));
    CHECK(ATOMIC_LOAD(&previous_calls) >= 1);
    CHECK(ATOMIC_LOAD(&previous_calls) <= ATOMIC_LOAD(&signals_sent));
    CHECK_EQ_INT(ATOMIC_LOAD(&previous_saw_signal), SIGUSR1);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void a_default_disposition_is_not_chained_the_signal_only_interrupts(void) {
    struct sigaction sa;
    rt_lock *l;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    CHECK_OK(rt_interrupt_main_on_signal(SIGUSR2));
    CHECK_OK(rt_lock_new(&l));
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    /* Raised on the main thread itself: by default SIGUSR2 would end the process; now it
     * leaves an interrupt pending, which ends the next real wait. */
    CHECK(raise(SIGUSR2) == 0);
    CHECK_STATUS(rt_lock_acquire(l, 1, 10.0), RT_EINTR);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

RT_CASES(
    RT_CASE(once_runs_the_function_once_and_the_others_wait_for_it),
    RT_CASE(once_called_from_its_own_function_is_edeadlk),
    RT_CASE(once_left_by_rt_exit_thread_runs_again_for_the_next_caller),
    RT_CASE(a_signal_interrupts_the_main_wait_and_chains_to_the_previous_handler),
    RT_CASE(a_default_disposition_is_not_chained_the_signal_only_interrupts)
)
