/* rthread beside pthreads, measured from C through librthread.so exactly as a C user calls it
 * (no inlining across the library boundary can flatter it).
 *
 * Each operation runs in ROUNDS rounds; a round times rthread and then the pthread reference
 * (the order alternates from round to round, so a drifting machine load favours neither), and
 * the table gives each side's median and the ratio of the medians (rthread / pthread: below 1
 * is faster than pthreads). Build and run it with `cargo run --release --example c_bench`;
 * arguments are filters on the operation names (`-- queue`).
 *
 * Plain C99 with POSIX threads and GCC's __atomic built-ins. */

#define _GNU_SOURCE /* sched_getaffinity, pthread_attr_setaffinity_np (the guard's pinning) */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "anchor.h"
#include "rthread.h"

#define ROUNDS 11
#define MAX_THREADS 8
#define QUEUE_CAP 1024

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "c_bench: %s failed: %s\n", what, rt_last_error());
    exit(1);
}

#define RT_CHECK(call)              \
    do {                            \
        if ((call) != RT_OK)        \
            die(#call);             \
    } while (0)

#define PT_CHECK(call)                                               \
    do {                                                             \
        if ((call) != 0) {                                           \
            fprintf(stderr, "c_bench: %s failed\n", #call);          \
            exit(1);                                                 \
        }                                                            \
    } while (0)

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* One side of a comparison: runs `n` operations and returns the nanoseconds they took. */
typedef double (*bench_fn)(long n);

/* ---- uncontended lock pair ---- */

static rt_lock *pair_lock;
static pthread_mutex_t *pair_mutex; /* on the heap, as an rt_lock is */

static double rt_lock_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_lock_acquire(pair_lock, 1, RT_FOREVER);
        rt_lock_release(pair_lock);
    }
    return now_ns() - t;
}

static double pt_lock_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(pair_mutex);
        pthread_mutex_unlock(pair_mutex);
    }
    return now_ns() - t;
}

/* ---- uncontended queue put+get, one thread: each store's fast path (the bounded FIFO is the
 * ring; LIFO and priority are the locked store) ---- */

static rt_queue *pair_fifo, *pair_lifo, *pair_prio;

static double queue_pair(rt_queue *q, long n) {
    void *item;
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_queue_put(q, (void *)(uintptr_t)(i + 1), 1, RT_FOREVER);
        rt_queue_get(q, 1, RT_FOREVER, &item);
    }
    return now_ns() - t;
}

static double rt_fifo_pair(long n) { return queue_pair(pair_fifo, n); }
static double rt_lifo_pair(long n) { return queue_pair(pair_lifo, n); }
static double rt_prio_pair(long n) { return queue_pair(pair_prio, n); }

/* The floor of any lock whose release must tell a held lock from a free one atomically (as
 * Python's Lock must: of two racing releases exactly one succeeds) and whose acquire must be
 * atomic: two compare-exchanges on a byte, inline, with no call and no check. */
static unsigned char *floor_byte;

static double floor_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        unsigned char expect = 0;
        __atomic_compare_exchange_n(floor_byte, &expect, 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED);
        expect = 1;
        __atomic_compare_exchange_n(floor_byte, &expect, 0, 0, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED);
    }
    return now_ns() - t;
}

/* ---- contended lock: threads increment one counter under the lock until it reaches n ---- */

/* Both locks live in their own heap allocation, away from the counter they protect: an
 * rt_lock cannot be embedded in the user's struct, so the pthread mutex is not either. */
struct contend {
    int rt;
    rt_lock *lock;
    pthread_mutex_t *mutex;
    int threads;
    long total;
    char pad1[64];
    long counter;
    char pad2[64];
    int ready;
    double start[MAX_THREADS], end[MAX_THREADS];
    long counts[MAX_THREADS];
};

struct contend_arg {
    struct contend *c;
    int index;
};

static void *contend_worker(void *p) {
    struct contend_arg *a = p;
    struct contend *c = a->c;
    long mine = 0;
    __atomic_add_fetch(&c->ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE) < c->threads)
        sched_yield();
    c->start[a->index] = now_ns();
    for (;;) {
        int more;
        if (c->rt)
            rt_lock_acquire(c->lock, 1, RT_FOREVER);
        else
            pthread_mutex_lock(c->mutex);
        more = c->counter < c->total;
        if (more)
            c->counter++;
        if (c->rt)
            rt_lock_release(c->lock);
        else
            pthread_mutex_unlock(c->mutex);
        if (!more)
            break;
        mine++;
    }
    c->end[a->index] = now_ns();
    c->counts[a->index] = mine;
    return NULL;
}

/* The least-served thread's share relative to an equal share, per side: the worst and the
 * median over the rounds (1 = even, 0 = a thread starved for a whole round). */
static double shares[2][ROUNDS * 2];
static int n_shares[2];

static double contend_run(int rt, int threads, long n) {
    static struct contend c;
    struct contend_arg args[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    double first = 0, last = 0;
    long min = -1;
    memset(&c, 0, sizeof c);
    c.rt = rt;
    c.threads = threads;
    c.total = n;
    if (rt)
        RT_CHECK(rt_lock_new(&c.lock));
    else if (!(c.mutex = malloc(sizeof *c.mutex)) || pthread_mutex_init(c.mutex, NULL) != 0)
        die("pthread_mutex_init");
    for (int i = 0; i < threads; i++) {
        args[i].c = &c;
        args[i].index = i;
        PT_CHECK(pthread_create(&tids[i], NULL, contend_worker, &args[i]));
    }
    for (int i = 0; i < threads; i++) {
        PT_CHECK(pthread_join(tids[i], NULL));
        if (i == 0 || c.start[i] < first)
            first = c.start[i];
        if (i == 0 || c.end[i] > last)
            last = c.end[i];
        if (min < 0 || c.counts[i] < min)
            min = c.counts[i];
    }
    if (rt)
        RT_CHECK(rt_lock_free(c.lock));
    else {
        pthread_mutex_destroy(c.mutex);
        free(c.mutex);
    }
    if (n_shares[rt] < ROUNDS * 2)
        shares[rt][n_shares[rt]++] = (double)min * threads / (double)n;
    return last - first;
}

static double rt_contend2(long n) { return contend_run(1, 2, n); }
static double pt_contend2(long n) { return contend_run(0, 2, n); }
static double rt_contend4(long n) { return contend_run(1, 4, n); }
static double pt_contend4(long n) { return contend_run(0, 4, n); }

/* ---- thread start + join ---- */

static void *pt_noop(void *arg) {
    return arg;
}

static double pt_start_join(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t tid;
        PT_CHECK(pthread_create(&tid, NULL, pt_noop, NULL));
        PT_CHECK(pthread_join(tid, NULL));
    }
    return now_ns() - t;
}

/* `_thread` style: the started thread releases a lock its starter holds. The thread is
 * detached, so this waits for its function to return, not for the OS thread to be gone. */
static void release_done(void *arg) {
    rt_lock_release(arg);
}

static double rt_start_join(long n) {
    rt_lock *done;
    double t;
    RT_CHECK(rt_lock_new(&done));
    t = now_ns();
    for (long i = 0; i < n; i++) {
        RT_CHECK(rt_lock_acquire(done, 1, RT_FOREVER));
        RT_CHECK(rt_start_new_thread(release_done, done, NULL));
        RT_CHECK(rt_lock_acquire(done, 1, RT_FOREVER));
        RT_CHECK(rt_lock_release(done));
    }
    t = now_ns() - t;
    while (rt_thread_count() != 0)
        sched_yield();
    RT_CHECK(rt_lock_free(done));
    return t;
}

/* thread objects: rt_thread_new + start + join + release */
static void nothing(void *arg) {
    (void)arg;
}

static double rt_thread_start_join(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_thread *th;
        RT_CHECK(rt_thread_new(nothing, NULL, &th));
        RT_CHECK(rt_thread_start(th));
        RT_CHECK(rt_thread_join(th, RT_FOREVER));
        RT_CHECK(rt_thread_release(th));
    }
    return now_ns() - t;
}

/* ---- RLock re-entry (held once already) and Semaphore pair ---- */

static rt_rlock *reentry_rlock;
static pthread_mutex_t *reentry_mutex; /* PTHREAD_MUTEX_RECURSIVE */

static double rt_rlock_reentry(long n) {
    double t;
    RT_CHECK(rt_rlock_acquire(reentry_rlock, 1, RT_FOREVER));
    t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_rlock_acquire(reentry_rlock, 1, RT_FOREVER);
        rt_rlock_release(reentry_rlock);
    }
    t = now_ns() - t;
    RT_CHECK(rt_rlock_release(reentry_rlock));
    return t;
}

static double pt_rlock_reentry(long n) {
    double t;
    PT_CHECK(pthread_mutex_lock(reentry_mutex));
    t = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(reentry_mutex);
        pthread_mutex_unlock(reentry_mutex);
    }
    t = now_ns() - t;
    PT_CHECK(pthread_mutex_unlock(reentry_mutex));
    return t;
}

static double rt_rlock_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_rlock_acquire(reentry_rlock, 1, RT_FOREVER);
        rt_rlock_release(reentry_rlock);
    }
    return now_ns() - t;
}

static double pt_rlock_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(reentry_mutex);
        pthread_mutex_unlock(reentry_mutex);
    }
    return now_ns() - t;
}

static rt_semaphore *pair_sem;
static sem_t *pair_sem_t;

static double rt_sem_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_semaphore_acquire(pair_sem, 1, RT_FOREVER);
        rt_semaphore_release(pair_sem, 1);
    }
    return now_ns() - t;
}

static double pt_sem_pair(long n) {
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        sem_wait(pair_sem_t);
        sem_post(pair_sem_t);
    }
    return now_ns() - t;
}

/* ---- ping-pong round trips between two threads ---- */

enum pp_kind { PP_EVENT, PP_SEMAPHORE, PP_CONDITION, PP_SEM_T, PP_CONDVAR };

struct pp {
    enum pp_kind kind;
    long n;
    rt_event *ev[2];
    rt_semaphore *sem[2];
    rt_condition *cond;
    sem_t st[2];
    pthread_mutex_t m;
    pthread_cond_t cv;
    int flag; /* condition and condvar: protected by their lock */
};

/* side 0 pings (hands the turn over and waits for it back), side 1 pongs */
static void pp_step(struct pp *p, int side) {
    switch (p->kind) {
    case PP_EVENT:
        if (side == 0) {
            rt_event_set(p->ev[0]);
            rt_event_wait(p->ev[1], RT_FOREVER);
            rt_event_clear(p->ev[1]);
        } else {
            rt_event_wait(p->ev[0], RT_FOREVER);
            rt_event_clear(p->ev[0]);
            rt_event_set(p->ev[1]);
        }
        break;
    case PP_SEMAPHORE:
        rt_semaphore_release(p->sem[side], 1);
        rt_semaphore_acquire(p->sem[!side], 1, RT_FOREVER);
        break;
    case PP_SEM_T:
        if (side == 0) {
            sem_post(&p->st[0]);
            while (sem_wait(&p->st[1]) != 0) {
            }
        } else {
            while (sem_wait(&p->st[0]) != 0) {
            }
            sem_post(&p->st[1]);
        }
        break;
    case PP_CONDITION:
        rt_condition_acquire(p->cond, 1, RT_FOREVER);
        if (side == 0) {
            p->flag = 1;
            rt_condition_notify(p->cond, 1);
            while (p->flag)
                rt_condition_wait(p->cond, RT_FOREVER);
        } else {
            while (!p->flag)
                rt_condition_wait(p->cond, RT_FOREVER);
            p->flag = 0;
            rt_condition_notify(p->cond, 1);
        }
        rt_condition_release(p->cond);
        break;
    case PP_CONDVAR:
        pthread_mutex_lock(&p->m);
        if (side == 0) {
            p->flag = 1;
            pthread_cond_signal(&p->cv);
            while (p->flag)
                pthread_cond_wait(&p->cv, &p->m);
        } else {
            while (!p->flag)
                pthread_cond_wait(&p->cv, &p->m);
            p->flag = 0;
            pthread_cond_signal(&p->cv);
        }
        pthread_mutex_unlock(&p->m);
        break;
    }
}

static void *pp_partner(void *arg) {
    struct pp *p = arg;
    for (long i = 0; i <= p->n; i++)
        pp_step(p, 1);
    return NULL;
}

/* Times n round trips; the partner starts (and is joined) outside the timing, after one
 * untimed round trip. */
static double pp_run(enum pp_kind kind, long n) {
    struct pp *p = calloc(1, sizeof *p);
    pthread_t tid;
    double t;
    if (!p)
        die("calloc");
    p->kind = kind;
    p->n = n;
    switch (kind) {
    case PP_EVENT:
        RT_CHECK(rt_event_new(&p->ev[0]));
        RT_CHECK(rt_event_new(&p->ev[1]));
        break;
    case PP_SEMAPHORE:
        RT_CHECK(rt_semaphore_new(0, &p->sem[0]));
        RT_CHECK(rt_semaphore_new(0, &p->sem[1]));
        break;
    case PP_CONDITION:
        RT_CHECK(rt_condition_new(&p->cond));
        break;
    case PP_SEM_T:
        PT_CHECK(sem_init(&p->st[0], 0, 0));
        PT_CHECK(sem_init(&p->st[1], 0, 0));
        break;
    case PP_CONDVAR:
        PT_CHECK(pthread_mutex_init(&p->m, NULL));
        PT_CHECK(pthread_cond_init(&p->cv, NULL));
        break;
    }
    PT_CHECK(pthread_create(&tid, NULL, pp_partner, p));
    pp_step(p, 0);
    t = now_ns();
    for (long i = 0; i < n; i++)
        pp_step(p, 0);
    t = now_ns() - t;
    PT_CHECK(pthread_join(tid, NULL));
    switch (kind) {
    case PP_EVENT:
        RT_CHECK(rt_event_free(p->ev[0]));
        RT_CHECK(rt_event_free(p->ev[1]));
        break;
    case PP_SEMAPHORE:
        RT_CHECK(rt_semaphore_free(p->sem[0]));
        RT_CHECK(rt_semaphore_free(p->sem[1]));
        break;
    case PP_CONDITION:
        RT_CHECK(rt_condition_free(p->cond));
        break;
    case PP_SEM_T:
        sem_destroy(&p->st[0]);
        sem_destroy(&p->st[1]);
        break;
    case PP_CONDVAR:
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->m);
        break;
    }
    free(p);
    return t;
}

static double rt_event_pp(long n) { return pp_run(PP_EVENT, n); }
static double rt_semaphore_pp(long n) { return pp_run(PP_SEMAPHORE, n); }
static double rt_condition_pp(long n) { return pp_run(PP_CONDITION, n); }
static double pt_sem_pp(long n) { return pp_run(PP_SEM_T, n); }
static double pt_condvar_pp(long n) { return pp_run(PP_CONDVAR, n); }

/* ---- queues: producers put n items in total, consumers get them ---- */

/* The classic bounded buffer: a mutex, two condition variables, a ring. */
struct ring {
    pthread_mutex_t m;
    pthread_cond_t not_empty, not_full;
    void *buf[QUEUE_CAP];
    size_t head, len;
};

static void ring_put(struct ring *r, void *item) {
    pthread_mutex_lock(&r->m);
    while (r->len == QUEUE_CAP)
        pthread_cond_wait(&r->not_full, &r->m);
    r->buf[(r->head + r->len) % QUEUE_CAP] = item;
    r->len++;
    pthread_cond_signal(&r->not_empty);
    pthread_mutex_unlock(&r->m);
}

static void *ring_get(struct ring *r) {
    void *item;
    pthread_mutex_lock(&r->m);
    while (r->len == 0)
        pthread_cond_wait(&r->not_empty, &r->m);
    item = r->buf[r->head];
    r->head = (r->head + 1) % QUEUE_CAP;
    r->len--;
    pthread_cond_signal(&r->not_full);
    pthread_mutex_unlock(&r->m);
    return item;
}

struct qrun {
    int rt;
    rt_queue *q;
    struct ring *r;
    int threads; /* producers + consumers */
    int ready;
    double start[MAX_THREADS], end[MAX_THREADS];
};

struct qarg {
    struct qrun *run;
    int index;
    int producer;
    long count;
};

static void *queue_worker(void *p) {
    struct qarg *a = p;
    struct qrun *run = a->run;
    uintptr_t sum = 0;
    __atomic_add_fetch(&run->ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&run->ready, __ATOMIC_ACQUIRE) < run->threads)
        sched_yield();
    run->start[a->index] = now_ns();
    for (long i = 0; i < a->count; i++) {
        if (a->producer) {
            void *item = (void *)(uintptr_t)(i + 1);
            if (run->rt)
                rt_queue_put(run->q, item, 1, RT_FOREVER);
            else
                ring_put(run->r, item);
        } else {
            void *item = NULL;
            if (run->rt)
                rt_queue_get(run->q, 1, RT_FOREVER, &item);
            else
                item = ring_get(run->r);
            sum += (uintptr_t)item;
        }
    }
    run->end[a->index] = now_ns();
    return (void *)sum;
}

/* The guard runs the queue rows with each thread pinned to a CPU of the process's set in turn
 * (producer and consumer of the SPSC row on two different CPUs), both sides alike: left to the
 * scheduler, whether the two threads share a CPU changes the rthread/pthread ratio of these rows
 * by 3x or more from one machine or minute to the next (a lock-free ring gains most across
 * CPUs, a mutex+condvar ring loses least on one), which a regression guard must not measure. */
static int pin_queue_threads;

/* Makes `attr` pin a thread to the `k`th CPU (in turn) of the process's affinity set; 0 when
 * the set has fewer than two CPUs or cannot be read (the thread is then not pinned). */
static int pin_attr(pthread_attr_t *attr, int k) {
    cpu_set_t set, one;
    int cpus[CPU_SETSIZE], n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    if (n < 2)
        return 0;
    CPU_ZERO(&one);
    CPU_SET(cpus[k % n], &one);
    return pthread_attr_setaffinity_np(attr, sizeof one, &one) == 0;
}

static double queue_run(int rt, int producers, int consumers, long n) {
    struct qrun run;
    struct qarg args[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    int threads = producers + consumers;
    double first = 0, last = 0;
    memset(&run, 0, sizeof run);
    run.rt = rt;
    run.threads = threads;
    if (rt) {
        RT_CHECK(rt_queue_new(QUEUE_CAP, NULL, &run.q));
    } else {
        run.r = calloc(1, sizeof *run.r);
        if (!run.r)
            die("calloc");
        PT_CHECK(pthread_mutex_init(&run.r->m, NULL));
        PT_CHECK(pthread_cond_init(&run.r->not_empty, NULL));
        PT_CHECK(pthread_cond_init(&run.r->not_full, NULL));
    }
    for (int i = 0; i < threads; i++) {
        int producer = i < producers;
        int k = producer ? producers : consumers;
        int j = producer ? i : i - producers;
        args[i].run = &run;
        args[i].index = i;
        args[i].producer = producer;
        args[i].count = n / k + (j < n % k);
        if (pin_queue_threads) {
            pthread_attr_t attr;
            PT_CHECK(pthread_attr_init(&attr));
            pin_attr(&attr, i);
            PT_CHECK(pthread_create(&tids[i], &attr, queue_worker, &args[i]));
            pthread_attr_destroy(&attr);
        } else {
            PT_CHECK(pthread_create(&tids[i], NULL, queue_worker, &args[i]));
        }
    }
    for (int i = 0; i < threads; i++) {
        PT_CHECK(pthread_join(tids[i], NULL));
        if (i == 0 || run.start[i] < first)
            first = run.start[i];
        if (i == 0 || run.end[i] > last)
            last = run.end[i];
    }
    if (rt) {
        RT_CHECK(rt_queue_free(run.q));
    } else {
        pthread_cond_destroy(&run.r->not_full);
        pthread_cond_destroy(&run.r->not_empty);
        pthread_mutex_destroy(&run.r->m);
        free(run.r);
    }
    return last - first;
}

static double rt_queue_spsc(long n) { return queue_run(1, 1, 1, n); }
static double pt_queue_spsc(long n) { return queue_run(0, 1, 1, n); }
static double rt_queue_2p2c(long n) { return queue_run(1, 2, 2, n); }
static double pt_queue_2p2c(long n) { return queue_run(0, 2, 2, n); }

/* ---- thread pools: n empty tasks through 2 workers, every result collected ---- */

static int empty_task(void *arg, void **result) {
    (void)arg;
    (void)result;
    return 0;
}

static double rt_pool_tasks(long n) {
    rt_executor *ex;
    rt_future **fs = malloc((size_t)n * sizeof *fs);
    double t0, t;
    void *r;
    if (!fs)
        die("malloc");
    RT_CHECK(rt_executor_new(2, "bench", NULL, NULL, &ex));
    t0 = now_ns();
    for (long i = 0; i < n; i++)
        RT_CHECK(rt_executor_submit(ex, empty_task, NULL, NULL, NULL, &fs[i]));
    for (long i = 0; i < n; i++) {
        RT_CHECK(rt_future_result(fs[i], RT_FOREVER, &r));
        RT_CHECK(rt_future_release(fs[i]));
    }
    t = now_ns() - t0;
    RT_CHECK(rt_executor_free(ex));
    free(fs);
    return t;
}

/* The reference: 2 pthreads on a mutex+condvar list of function calls, and a completion
 * counter the submitter waits on (what a GThreadPool user writes). */
struct pt_pool {
    pthread_mutex_t m;
    pthread_cond_t work, done;
    long queued, taken, finished;
    int stop;
};

static void *pt_pool_worker(void *arg) {
    struct pt_pool *p = arg;
    void *r;
    pthread_mutex_lock(&p->m);
    for (;;) {
        while (p->taken == p->queued && !p->stop)
            pthread_cond_wait(&p->work, &p->m);
        if (p->taken == p->queued)
            break;
        p->taken++;
        pthread_mutex_unlock(&p->m);
        empty_task(NULL, &r);
        pthread_mutex_lock(&p->m);
        if (++p->finished == p->queued)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->m);
    return NULL;
}

static double pt_pool_tasks(long n) {
    struct pt_pool *p = calloc(1, sizeof *p);
    pthread_t w[2];
    double t0, t;
    if (!p)
        die("calloc");
    PT_CHECK(pthread_mutex_init(&p->m, NULL));
    PT_CHECK(pthread_cond_init(&p->work, NULL));
    PT_CHECK(pthread_cond_init(&p->done, NULL));
    for (int i = 0; i < 2; i++)
        PT_CHECK(pthread_create(&w[i], NULL, pt_pool_worker, p));
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&p->m);
        p->queued++;
        pthread_cond_signal(&p->work);
        pthread_mutex_unlock(&p->m);
    }
    pthread_mutex_lock(&p->m);
    while (p->finished < n)
        pthread_cond_wait(&p->done, &p->m);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->m);
    t = now_ns() - t0;
    for (int i = 0; i < 2; i++)
        PT_CHECK(pthread_join(w[i], NULL));
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->m);
    free(p);
    return t;
}

/* submit -> result on an idle pool, one task at a time (compared with rthread's own semaphore
 * ping-pong, the bound). */
static double rt_pool_round_trip(long n) {
    rt_executor *ex;
    rt_future *f;
    double t0, t;
    void *r;
    RT_CHECK(rt_executor_new(1, "bench", NULL, NULL, &ex));
    RT_CHECK(rt_executor_submit(ex, empty_task, NULL, NULL, NULL, &f)); /* the worker exists */
    RT_CHECK(rt_future_result(f, RT_FOREVER, &r));
    RT_CHECK(rt_future_release(f));
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        RT_CHECK(rt_executor_submit(ex, empty_task, NULL, NULL, NULL, &f));
        RT_CHECK(rt_future_result(f, RT_FOREVER, &r));
        RT_CHECK(rt_future_release(f));
    }
    t = now_ns() - t0;
    RT_CHECK(rt_executor_free(ex));
    return t;
}

/* ==== the comparison rows: every implementation of anchor.h, at several thread counts ==== */

#define MAX_WORKERS 64

double bench_now_ns(void) {
    return now_ns();
}

/* Process CPU time (every thread, user + system), nanoseconds. */
static double cpu_ns(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return ((double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec) * 1e9 +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) * 1e3;
}

/* ---- rthread and pthreads as implementations ---- */

static void *rt_impl_lock_new(void) {
    rt_lock *l;
    RT_CHECK(rt_lock_new(&l));
    return l;
}
static void rt_impl_lock_acquire(void *l) { rt_lock_acquire(l, 1, RT_FOREVER); }
static void rt_impl_lock_release(void *l) { rt_lock_release(l); }
static void rt_impl_lock_free(void *l) { RT_CHECK(rt_lock_free(l)); }
static double rt_impl_lock_pair(long n) {
    rt_lock *l = rt_impl_lock_new();
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        rt_lock_acquire(l, 1, RT_FOREVER);
        rt_lock_release(l);
    }
    t = now_ns() - t;
    rt_impl_lock_free(l);
    return t;
}

/* `threading.Condition()` (with an RLock of its own) for one condition variable; two
 * conditions over one RLock for two. */
struct rt_mon {
    rt_rlock *rlock;
    rt_condition *cv[2];
};

static void *rt_impl_mon_new(int ncv) {
    struct rt_mon *m = calloc(1, sizeof *m);
    if (!m)
        die("calloc");
    if (ncv == 1) {
        RT_CHECK(rt_condition_new(&m->cv[0]));
    } else {
        RT_CHECK(rt_rlock_new(&m->rlock));
        RT_CHECK(rt_condition_new_with_rlock(m->rlock, &m->cv[0]));
        RT_CHECK(rt_condition_new_with_rlock(m->rlock, &m->cv[1]));
    }
    return m;
}
static void rt_impl_mon_lock(void *m) {
    rt_condition_acquire(((struct rt_mon *)m)->cv[0], 1, RT_FOREVER);
}
static void rt_impl_mon_unlock(void *m) { rt_condition_release(((struct rt_mon *)m)->cv[0]); }
static void rt_impl_mon_wait(void *m, int cv) {
    rt_condition_wait(((struct rt_mon *)m)->cv[cv], RT_FOREVER);
}
static void rt_impl_mon_signal(void *m, int cv) {
    rt_condition_notify(((struct rt_mon *)m)->cv[cv], 1);
}
static void rt_impl_mon_broadcast(void *m, int cv) {
    rt_condition_notify_all(((struct rt_mon *)m)->cv[cv]);
}
static void rt_impl_mon_free(void *p) {
    struct rt_mon *m = p;
    RT_CHECK(rt_condition_free(m->cv[0]));
    if (m->cv[1])
        RT_CHECK(rt_condition_free(m->cv[1]));
    if (m->rlock)
        RT_CHECK(rt_rlock_free(m->rlock));
    free(m);
}

static int rt_item_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

static void *rt_impl_queue_new(enum bench_queue_kind kind, size_t cap) {
    rt_queue *q = NULL;
    switch (kind) {
    case BQ_FIFO:
        RT_CHECK(rt_queue_new(cap, NULL, &q));
        break;
    case BQ_UNBOUNDED:
        RT_CHECK(rt_queue_new(0, NULL, &q));
        break;
    case BQ_LIFO:
        RT_CHECK(rt_lifo_queue_new(cap, NULL, &q));
        break;
    case BQ_PRIORITY:
        RT_CHECK(rt_priority_queue_new(cap, rt_item_cmp, NULL, &q));
        break;
    }
    return q;
}
static void rt_impl_queue_put(void *q, void *item) { rt_queue_put(q, item, 1, RT_FOREVER); }
static void *rt_impl_queue_get(void *q) {
    void *item = NULL;
    rt_queue_get(q, 1, RT_FOREVER, &item);
    return item;
}
static void rt_impl_queue_free(void *q) { RT_CHECK(rt_queue_free(q)); }

static const struct bench_impl RTHREAD = {
    .name = "rthread",
    .what = "rt_lock, rt_condition, rt_queue, rt_executor",
    .lock_new = rt_impl_lock_new,
    .lock_acquire = rt_impl_lock_acquire,
    .lock_release = rt_impl_lock_release,
    .lock_free = rt_impl_lock_free,
    .lock_pair = rt_impl_lock_pair,
    .mon_new = rt_impl_mon_new,
    .mon_lock = rt_impl_mon_lock,
    .mon_unlock = rt_impl_mon_unlock,
    .mon_wait = rt_impl_mon_wait,
    .mon_signal = rt_impl_mon_signal,
    .mon_broadcast = rt_impl_mon_broadcast,
    .mon_free = rt_impl_mon_free,
    .queue_new = rt_impl_queue_new,
    .queue_put = rt_impl_queue_put,
    .queue_get = rt_impl_queue_get,
    .queue_free = rt_impl_queue_free,
    .pool_tasks = rt_pool_tasks,
};

static void *pt_impl_lock_new(void) {
    pthread_mutex_t *m = malloc(sizeof *m);
    if (!m || pthread_mutex_init(m, NULL) != 0)
        die("pthread_mutex_init");
    return m;
}
static void pt_impl_lock_acquire(void *m) { pthread_mutex_lock(m); }
static void pt_impl_lock_release(void *m) { pthread_mutex_unlock(m); }
static void pt_impl_lock_free(void *m) {
    pthread_mutex_destroy(m);
    free(m);
}

struct pt_mon {
    pthread_mutex_t m;
    pthread_cond_t cv[2];
};

static void *pt_impl_mon_new(int ncv) {
    struct pt_mon *m = calloc(1, sizeof *m);
    (void)ncv;
    if (!m)
        die("calloc");
    PT_CHECK(pthread_mutex_init(&m->m, NULL));
    PT_CHECK(pthread_cond_init(&m->cv[0], NULL));
    PT_CHECK(pthread_cond_init(&m->cv[1], NULL));
    return m;
}
static void pt_impl_mon_lock(void *m) { pthread_mutex_lock(&((struct pt_mon *)m)->m); }
static void pt_impl_mon_unlock(void *m) { pthread_mutex_unlock(&((struct pt_mon *)m)->m); }
static void pt_impl_mon_wait(void *p, int cv) {
    struct pt_mon *m = p;
    pthread_cond_wait(&m->cv[cv], &m->m);
}
static void pt_impl_mon_signal(void *m, int cv) {
    pthread_cond_signal(&((struct pt_mon *)m)->cv[cv]);
}
static void pt_impl_mon_broadcast(void *m, int cv) {
    pthread_cond_broadcast(&((struct pt_mon *)m)->cv[cv]);
}
static void pt_impl_mon_free(void *p) {
    struct pt_mon *m = p;
    pthread_cond_destroy(&m->cv[0]);
    pthread_cond_destroy(&m->cv[1]);
    pthread_mutex_destroy(&m->m);
    free(m);
}

static double pt_impl_lock_pair(long n) {
    pthread_mutex_t *m = pt_impl_lock_new();
    double t = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
    }
    t = now_ns() - t;
    pt_impl_lock_free(m);
    return t;
}

static const struct bench_impl PTHREAD = {
    .name = "pthread",
    .what = "pthread_mutex, pthread_cond, rings over them",
    .lock_new = pt_impl_lock_new,
    .lock_acquire = pt_impl_lock_acquire,
    .lock_release = pt_impl_lock_release,
    .lock_free = pt_impl_lock_free,
    .lock_pair = pt_impl_lock_pair,
    .mon_new = pt_impl_mon_new,
    .mon_lock = pt_impl_mon_lock,
    .mon_unlock = pt_impl_mon_unlock,
    .mon_wait = pt_impl_mon_wait,
    .mon_signal = pt_impl_mon_signal,
    .mon_broadcast = pt_impl_mon_broadcast,
    .mon_free = pt_impl_mon_free,
    .pool_tasks = pt_pool_tasks,
};

#define MAX_IMPLS 8
static const struct bench_impl *impls[MAX_IMPLS];
static int n_impls;

/* ---- the queue of an implementation without one: a ring, a stack or a heap under its
 * monitor (cv 0: not empty, cv 1: not full) ---- */

struct mring {
    const struct bench_impl *im;
    void *mon;
    enum bench_queue_kind kind;
    size_t cap, len, head, room; /* room: slots allocated (grows when unbounded) */
    uintptr_t *buf;
};

static struct mring *mring_new(const struct bench_impl *im, enum bench_queue_kind kind,
                               size_t cap) {
    struct mring *r = calloc(1, sizeof *r);
    if (!r)
        die("calloc");
    r->im = im;
    r->mon = im->mon_new(2);
    r->kind = kind;
    r->cap = kind == BQ_UNBOUNDED ? 0 : cap;
    r->room = kind == BQ_UNBOUNDED ? 1024 : cap;
    if (!(r->buf = malloc(r->room * sizeof *r->buf)))
        die("malloc");
    return r;
}

static void mring_free(struct mring *r) {
    r->im->mon_free(r->mon);
    free(r->buf);
    free(r);
}

static void mring_put(struct mring *r, void *item) {
    uintptr_t v = (uintptr_t)item;
    r->im->mon_lock(r->mon);
    while (r->cap && r->len == r->cap)
        r->im->mon_wait(r->mon, 1);
    if (r->len == r->room) { /* unbounded: double, unwrapping the ring */
        uintptr_t *b = malloc(2 * r->room * sizeof *b);
        if (!b)
            die("malloc");
        for (size_t i = 0; i < r->len; i++)
            b[i] = r->buf[(r->head + i) % r->room];
        free(r->buf);
        r->buf = b;
        r->head = 0;
        r->room *= 2;
    }
    switch (r->kind) {
    case BQ_FIFO:
    case BQ_UNBOUNDED:
        r->buf[(r->head + r->len) % r->room] = v;
        break;
    case BQ_LIFO:
        r->buf[r->len] = v;
        break;
    case BQ_PRIORITY: { /* a binary min-heap */
        size_t i = r->len;
        while (i > 0 && r->buf[(i - 1) / 2] > v) {
            r->buf[i] = r->buf[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        r->buf[i] = v;
        break;
    }
    }
    r->len++;
    r->im->mon_signal(r->mon, 0);
    r->im->mon_unlock(r->mon);
}

static void *mring_get(struct mring *r) {
    uintptr_t v = 0;
    r->im->mon_lock(r->mon);
    while (r->len == 0)
        r->im->mon_wait(r->mon, 0);
    switch (r->kind) {
    case BQ_FIFO:
    case BQ_UNBOUNDED:
        v = r->buf[r->head];
        r->head = (r->head + 1) % r->room;
        r->len--;
        break;
    case BQ_LIFO:
        v = r->buf[--r->len];
        break;
    case BQ_PRIORITY: {
        uintptr_t last = r->buf[--r->len];
        size_t i = 0;
        v = r->buf[0];
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= r->len)
                break;
            if (c + 1 < r->len && r->buf[c + 1] < r->buf[c])
                c++;
            if (r->buf[c] >= last)
                break;
            r->buf[i] = r->buf[c];
            i = c;
        }
        r->buf[i] = last;
        break;
    }
    }
    if (r->cap)
        r->im->mon_signal(r->mon, 1);
    r->im->mon_unlock(r->mon);
    return (void *)v;
}

/* ---- the cases: each runs n operations of one implementation with `threads` threads and
 * returns the wall-clock nanoseconds from the first thread's start to the last one's end ---- */

struct start_line { /* every worker spins here until all exist, then reads the clock */
    int threads, ready;
    double start[MAX_WORKERS], end[MAX_WORKERS];
};

static void line_up(struct start_line *s, int index) {
    __atomic_add_fetch(&s->ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) < s->threads)
        sched_yield();
    s->start[index] = now_ns();
}

static double line_span(const struct start_line *s) {
    double first = s->start[0], last = s->end[0];
    for (int i = 1; i < s->threads; i++) {
        if (s->start[i] < first)
            first = s->start[i];
        if (s->end[i] > last)
            last = s->end[i];
    }
    return last - first;
}

struct worker_arg {
    void *shared;
    int index;
};

/* Starts `threads` workers on fn, each given the shared state and its index; joins them. */
static void run_workers(int threads, void *(*fn)(void *), void *shared) {
    pthread_t tids[MAX_WORKERS];
    struct worker_arg args[MAX_WORKERS];
    for (int i = 0; i < threads; i++) {
        args[i].shared = shared;
        args[i].index = i;
        PT_CHECK(pthread_create(&tids[i], NULL, fn, &args[i]));
    }
    for (int i = 0; i < threads; i++)
        PT_CHECK(pthread_join(tids[i], NULL));
}

/* lock contention, timed: every thread increments one counter under the lock until the main
 * thread raises `stop`; each thread counts its own acquisitions, so the least-served share is
 * measured over the same time for all. The run lasts n microseconds up to 4 threads and
 * grows with the threads beyond (n/4 per thread): on 2 cores every thread must get several
 * scheduler time slices, or the share measures the scheduler's rotation, not the lock. */
struct mcontend {
    struct start_line line;
    const struct bench_impl *im;
    void *lock;
    int stop;
    char pad1[64];
    long counter;
    char pad2[64];
    long counts[MAX_WORKERS];
};

/* The operations a case performed, when not the n it was given (set by the timed cases). */
static long case_ops;

static void *mcontend_worker(void *p) {
    struct worker_arg *a = p;
    struct mcontend *c = a->shared;
    const struct bench_impl *im = c->im;
    long mine = 0;
    line_up(&c->line, a->index);
    while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
        im->lock_acquire(c->lock);
        c->counter++;
        im->lock_release(c->lock);
        mine++;
    }
    c->line.end[a->index] = now_ns();
    c->counts[a->index] = mine;
    return NULL;
}

static double case_contend(const struct bench_impl *im, int threads, long n, double *share) {
    struct mcontend *c = calloc(1, sizeof *c);
    pthread_t tids[MAX_WORKERS];
    struct worker_arg args[MAX_WORKERS];
    struct timespec ts;
    long min, total = 0;
    double t;
    if (!c)
        die("calloc");
    c->im = im;
    c->line.threads = threads;
    c->lock = im->lock_new();
    for (int i = 0; i < threads; i++) {
        args[i].shared = c;
        args[i].index = i;
        PT_CHECK(pthread_create(&tids[i], NULL, mcontend_worker, &args[i]));
    }
    while (__atomic_load_n(&c->line.ready, __ATOMIC_ACQUIRE) < threads)
        sched_yield();
    n = n * (threads > 4 ? threads : 4) / 4;
    ts.tv_sec = n / 1000000;
    ts.tv_nsec = (n % 1000000) * 1000;
    nanosleep(&ts, NULL);
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < threads; i++)
        PT_CHECK(pthread_join(tids[i], NULL));
    im->lock_free(c->lock);
    min = c->counts[0];
    for (int i = 0; i < threads; i++) {
        total += c->counts[i];
        if (c->counts[i] < min)
            min = c->counts[i];
    }
    if (total != c->counter)
        die("the contended counter"); /* a lock that did not exclude */
    *share = total ? (double)min * threads / (double)total : 0;
    case_ops = total ? total : 1;
    t = line_span(&c->line);
    free(c);
    return t;
}

static double case_lock_pair(const struct bench_impl *im, int threads, long n, double *share) {
    (void)threads;
    (void)share;
    return im->lock_pair(n);
}

/* condition hand-off: a turn passes around `threads` threads under one condition; each waits
 * for its turn, passes it on and wakes the others (notify_all; with 2 threads, the ping-pong
 * row, notify(1)) */
struct handoff {
    struct start_line line;
    const struct bench_impl *im;
    void *mon;
    long turns; /* per thread */
    int turn;
    int signal_one;
};

static void *handoff_worker(void *p) {
    struct worker_arg *a = p;
    struct handoff *h = a->shared;
    const struct bench_impl *im = h->im;
    int me = a->index, next = (a->index + 1) % h->line.threads;
    line_up(&h->line, me);
    for (long k = 0; k < h->turns; k++) {
        im->mon_lock(h->mon);
        while (h->turn != me)
            im->mon_wait(h->mon, 0);
        h->turn = next;
        if (h->signal_one)
            im->mon_signal(h->mon, 0);
        else
            im->mon_broadcast(h->mon, 0);
        im->mon_unlock(h->mon);
    }
    h->line.end[me] = now_ns();
    return NULL;
}

static double handoff_run(const struct bench_impl *im, int threads, long n, int signal_one) {
    struct handoff *h = calloc(1, sizeof *h);
    double t;
    if (!h)
        die("calloc");
    h->im = im;
    h->line.threads = threads;
    h->turns = n / threads;
    h->signal_one = signal_one;
    h->mon = im->mon_new(1);
    run_workers(threads, handoff_worker, h);
    im->mon_free(h->mon);
    t = line_span(&h->line) * (double)n / (double)(h->turns * threads);
    free(h);
    return t;
}

static double case_pingpong(const struct bench_impl *im, int threads, long n, double *share) {
    (void)share;
    /* n round trips: 2n hand-offs */
    return handoff_run(im, threads, 2 * n, 1);
}

static double case_handoff(const struct bench_impl *im, int threads, long n, double *share) {
    (void)share;
    return handoff_run(im, threads, n, threads == 2);
}

/* queues: threads/2 producers put n items in total, as many consumers get them */
struct mqueue {
    struct start_line line;
    const struct bench_impl *im;
    void *q; /* the implementation's queue, or NULL */
    struct mring *ring;
    int producers;
    long n;
};

static long share_of(long n, int k, int i) {
    return n / k + (i < n % k);
}

static void *mqueue_worker(void *p) {
    struct worker_arg *a = p;
    struct mqueue *m = a->shared;
    const struct bench_impl *im = m->im;
    int consumers = m->line.threads - m->producers;
    uintptr_t sum = 0;
    line_up(&m->line, a->index);
    if (a->index < m->producers) {
        long count = share_of(m->n, m->producers, a->index);
        /* distinct values, so that a priority queue has something to order */
        uintptr_t base = (uintptr_t)a->index * 7919u;
        for (long i = 0; i < count; i++) {
            void *item = (void *)(uintptr_t)(((base + (uintptr_t)i * 2654435761u) & 0xffffff) + 1);
            if (m->q)
                im->queue_put(m->q, item);
            else
                mring_put(m->ring, item);
        }
    } else {
        long count = share_of(m->n, consumers, a->index - m->producers);
        for (long i = 0; i < count; i++)
            sum += (uintptr_t)(m->q ? im->queue_get(m->q) : mring_get(m->ring));
    }
    m->line.end[a->index] = now_ns();
    return (void *)sum;
}

static int has_queue(const struct bench_impl *im, enum bench_queue_kind kind) {
    if (im->queue_new) {
        void *q = im->queue_new(kind, QUEUE_CAP);
        if (!q)
            return 0;
        im->queue_free(q);
        return 1;
    }
    return im->mon_new != NULL;
}

static double queue_case(enum bench_queue_kind kind, const struct bench_impl *im, int threads,
                         long n) {
    struct mqueue *m = calloc(1, sizeof *m);
    double t;
    if (!m)
        die("calloc");
    m->im = im;
    m->line.threads = threads;
    m->producers = threads / 2;
    m->n = n;
    if (im->queue_new)
        m->q = im->queue_new(kind, QUEUE_CAP);
    else
        m->ring = mring_new(im, kind, QUEUE_CAP);
    run_workers(threads, mqueue_worker, m);
    if (m->q)
        im->queue_free(m->q);
    else
        mring_free(m->ring);
    t = line_span(&m->line);
    free(m);
    return t;
}

static double case_queue_bounded(const struct bench_impl *im, int t, long n, double *s) {
    (void)s;
    return queue_case(BQ_FIFO, im, t, n);
}
static double case_queue_unbounded(const struct bench_impl *im, int t, long n, double *s) {
    (void)s;
    return queue_case(BQ_UNBOUNDED, im, t, n);
}
static double case_queue_lifo(const struct bench_impl *im, int t, long n, double *s) {
    (void)s;
    return queue_case(BQ_LIFO, im, t, n);
}
static double case_queue_priority(const struct bench_impl *im, int t, long n, double *s) {
    (void)s;
    return queue_case(BQ_PRIORITY, im, t, n);
}

static double case_pool(const struct bench_impl *im, int threads, long n, double *share) {
    (void)threads;
    (void)share;
    return im->pool_tasks(n);
}

/* semaphore pair: only rthread and sem_t have one */
static double case_sem_pair(const struct bench_impl *im, int threads, long n, double *share) {
    (void)threads;
    (void)share;
    return im == &RTHREAD ? rt_sem_pair(n) : pt_sem_pair(n);
}

/* ---- the rows ---- */

enum need { NEED_LOCK, NEED_PAIR, NEED_MON, NEED_QFIFO, NEED_QUNB, NEED_QLIFO, NEED_QPRIO,
            NEED_POOL, NEED_SEM };

struct row {
    const char *key;  /* the row column of the machine-readable output */
    const char *what; /* for the human table */
    enum need need;
    double (*run)(const struct bench_impl *im, int threads, long n, double *share);
    long n, quick_n; /* operations per run, all threads together (timed rows: microseconds) */
    int threads[8];  /* thread counts, 0-terminated */
    int quick_threads[8];
    int fairness;
};

static const struct row ROWS[] = {
    {"lock-pair", "uncontended acquire+release (ns per pair)", NEED_PAIR, case_lock_pair,
     2000000, 1000000, {1}, {1}, 0},
    {"sem-pair", "semaphore acquire+release, uncontended (ns per pair; sem_t as pthread)",
     NEED_SEM, case_sem_pair, 2000000, 1000000, {1}, {1}, 0},
    {"lock-contention", "threads increment one counter under one lock for 150 ms (quick: 80 "
                        "ms), longer beyond 4 threads: ns per acquisition, all threads",
     NEED_LOCK, case_contend, 150000, 80000, {1, 2, 4, 8, 16, 32, 64},
     {1, 2, 4, 8, 16, 32, 64}, 1},
    {"cond-pingpong", "two threads hand a turn flag back and forth under a condition "
                      "(ns per round trip)",
     NEED_MON, case_pingpong, 10000, 4000, {2}, {2}, 0},
    {"cond-handoff", "a turn passes around the threads under one condition, notify_all "
                     "(ns per hand-off)",
     NEED_MON, case_handoff, 6400, 1280, {1, 2, 4, 8, 16, 32, 64}, {1, 2, 4, 8, 16, 32, 64}, 0},
    {"queue-bounded", "bounded FIFO (1024), threads/2 producers and consumers (ns per item)",
     NEED_QFIFO, case_queue_bounded, 1000000, 200000, {2, 4, 8, 16, 32, 64},
     {2, 4, 8, 16, 32, 64}, 0},
    {"queue-unbounded", "unbounded FIFO, threads/2 producers and consumers (ns per item)",
     NEED_QUNB, case_queue_unbounded, 1000000, 200000, {2, 4, 8, 16}, {2, 8}, 0},
    {"queue-lifo", "LIFO (1024), threads/2 producers and consumers (ns per item)", NEED_QLIFO,
     case_queue_lifo, 1000000, 200000, {2, 4, 8, 16}, {2, 8}, 0},
    {"queue-priority", "priority queue (1024), threads/2 producers and consumers (ns per item)",
     NEED_QPRIO, case_queue_priority, 1000000, 200000, {2, 4, 8, 16}, {2, 8}, 0},
    {"pool-tasks", "empty tasks through a pool of 2 workers, completions counted (ns per task)",
     NEED_POOL, case_pool, 1000000, 200000, {2}, {2}, 0},
};

static int impl_has(const struct bench_impl *im, enum need need) {
    switch (need) {
    case NEED_LOCK:
        return im->lock_new != NULL;
    case NEED_PAIR:
        return im->lock_pair != NULL;
    case NEED_MON:
        return im->mon_new != NULL;
    case NEED_QFIFO:
        return has_queue(im, BQ_FIFO);
    case NEED_QUNB:
        return has_queue(im, BQ_UNBOUNDED);
    case NEED_QLIFO:
        return has_queue(im, BQ_LIFO);
    case NEED_QPRIO:
        return has_queue(im, BQ_PRIORITY);
    case NEED_POOL:
        return im->pool_tasks != NULL;
    case NEED_SEM:
        return im == &RTHREAD || im == &PTHREAD;
    }
    return 0;
}

static FILE *tsv; /* --tsv FILE */
static int quick;
static int matrix_rounds = 0; /* --rounds; else 5, or 3 with --quick */

static void tsv_line(const char *row, const char *impl, int threads, const char *unit,
                     double med, double lo, double hi, double cpu, double ratio,
                     double share_med, double share_worst) {
    if (!tsv)
        return;
    fprintf(tsv, "%s\t%s\t%d\t%s\t%.3f\t%.3f\t%.3f\t", row, impl, threads, unit, med, lo, hi);
    if (cpu >= 0)
        fprintf(tsv, "%.3f\t", cpu);
    else
        fprintf(tsv, "-\t");
    if (ratio >= 0)
        fprintf(tsv, "%.4f\t", ratio);
    else
        fprintf(tsv, "-\t");
    if (share_med >= 0)
        fprintf(tsv, "%.4f\t%.4f\n", share_med, share_worst);
    else
        fprintf(tsv, "-\t-\n");
    fflush(tsv);
}

static void print_time(double ns) {
    if (ns >= 1e6)
        printf(" %8.2f ms", ns / 1e6);
    else if (ns >= 1e3)
        printf(" %8.2f us", ns / 1e3);
    else
        printf(" %8.2f ns", ns);
}

static void run_row(const struct row *row) {
    const struct bench_impl *im[MAX_IMPLS];
    int k = 0;
    const int *threads = quick ? row->quick_threads : row->threads;
    long n = quick ? row->quick_n : row->n;
    for (int i = 0; i < n_impls; i++)
        if (impl_has(impls[i], row->need))
            im[k++] = impls[i];
    printf("\n== %s: %s\n", row->key, row->what);
    printf("%7s %-16s %11s %23s %11s %7s%s\n", "threads", "impl", "median", "range", "cpu/op",
           "÷pthr", row->fairness ? "  least-served share (median, worst)" : "");
    for (int t = 0; t < 8 && threads[t]; t++) {
        int th = threads[t];
        double wall[MAX_IMPLS][16], cpu[MAX_IMPLS][16], share[MAX_IMPLS][16];
        double med[MAX_IMPLS], pthread_med = -1;
        int rounds = matrix_rounds > 16 ? 16 : matrix_rounds;
        for (int i = 0; i < k; i++) { /* warm-up */
            double s;
            case_ops = 0;
            row->run(im[i], th, n / 10 + th, &s);
        }
        for (int r = 0; r < rounds; r++)
            for (int j = 0; j < k; j++) { /* each round starts with the next implementation */
                int i = (j + r) % k;
                double s = -1, c0 = cpu_ns(), w, ops;
                case_ops = 0;
                w = row->run(im[i], th, n, &s);
                ops = case_ops ? (double)case_ops : (double)n;
                wall[i][r] = w / ops;
                cpu[i][r] = (cpu_ns() - c0) / ops;
                share[i][r] = s;
            }
        for (int i = 0; i < k; i++) {
            double w[16];
            memcpy(w, wall[i], sizeof w);
            med[i] = median(w, rounds);
            if (im[i] == &PTHREAD)
                pthread_med = med[i];
        }
        for (int i = 0; i < k; i++) {
            double lo = wall[i][0], hi = wall[i][0], c, ratio = -1, sm = -1, sw = -1;
            for (int r = 1; r < rounds; r++) {
                if (wall[i][r] < lo)
                    lo = wall[i][r];
                if (wall[i][r] > hi)
                    hi = wall[i][r];
            }
            c = median(cpu[i], rounds);
            if (pthread_med > 0)
                ratio = med[i] / pthread_med;
            printf("%7d %-16s", th, im[i]->name);
            print_time(med[i]);
            printf("  (");
            print_time(lo);
            printf(" -");
            print_time(hi);
            printf(")");
            print_time(c);
            if (ratio >= 0)
                printf(" %7.2f", ratio);
            else
                printf(" %7s", "");
            if (row->fairness && th > 1) {
                sw = share[i][0];
                for (int r = 1; r < rounds; r++)
                    if (share[i][r] < sw)
                        sw = share[i][r];
                sm = median(share[i], rounds);
                printf("  %.2f, %.2f", sm, sw);
            }
            printf("\n");
            tsv_line(row->key, im[i]->name, th, "ns/op", med[i], lo, hi, c, ratio, sm, sw);
        }
        fflush(stdout);
    }
}

/* ---- memory: the resident set of 10,000 live idle threads ---- */

static long rss_bytes(void) {
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static int mem_started;
static pthread_mutex_t mem_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mem_cv = PTHREAD_COND_INITIALIZER;
static int mem_go;

static void *mem_pt_idle(void *arg) {
    __atomic_add_fetch(&mem_started, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_lock(&mem_m);
    while (!mem_go)
        pthread_cond_wait(&mem_cv, &mem_m);
    pthread_mutex_unlock(&mem_m);
    return arg;
}

static void mem_rt_idle(void *arg) {
    __atomic_add_fetch(&mem_started, 1, __ATOMIC_ACQ_REL);
    rt_event_wait(arg, RT_FOREVER);
}

/* Bytes the allocator has handed out and not taken back, in every arena (glibc). */
static long heap_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return (long)(m.uordblks + m.hblkhd);
}

/* In a fresh process: starts `count` threads that wait, and prints "created rss_before
 * rss_after heap_before heap_after" once all of them run. */
static int mem_child(int rt, int count) {
    long before, after, heap_before, heap_after;
    int created = 0;
    pthread_t *tids = calloc((size_t)count, sizeof *tids);
    rt_thread **ths = calloc((size_t)count, sizeof *ths);
    rt_event *go = NULL;
    if (!tids || !ths)
        die("calloc");
    if (rt)
        RT_CHECK(rt_event_new(&go));
    heap_before = heap_bytes();
    before = rss_bytes();
    for (; created < count; created++) {
        if (rt) {
            if (rt_thread_new(mem_rt_idle, go, &ths[created]) != RT_OK)
                break;
            if (rt_thread_start(ths[created]) != RT_OK) {
                rt_thread_release(ths[created]);
                break;
            }
        } else if (pthread_create(&tids[created], NULL, mem_pt_idle, NULL) != 0) {
            break;
        }
    }
    while (__atomic_load_n(&mem_started, __ATOMIC_ACQUIRE) < created) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    after = rss_bytes();
    heap_after = heap_bytes();
    printf("%d %ld %ld %ld %ld\n", created, before, after, heap_before, heap_after);
    fflush(stdout);
    if (rt) {
        RT_CHECK(rt_event_set(go));
        for (int i = 0; i < created; i++) {
            RT_CHECK(rt_thread_join(ths[i], RT_FOREVER));
            RT_CHECK(rt_thread_release(ths[i]));
        }
        RT_CHECK(rt_event_free(go));
    } else {
        pthread_mutex_lock(&mem_m);
        mem_go = 1;
        pthread_cond_broadcast(&mem_cv);
        pthread_mutex_unlock(&mem_m);
        for (int i = 0; i < created; i++)
            PT_CHECK(pthread_join(tids[i], NULL));
    }
    free(tids);
    free(ths);
    return 0;
}

static const char *self_exe;

static void run_memory(int count) {
    double per[2] = {0, 0}, heap[2] = {0, 0};
    long rss[2] = {0, 0};
    printf("\n== memory-threads: resident set of %d live idle threads (each blocked in a wait; "
           "default stacks), in a fresh process per side\n",
           count);
    for (int rt = 1; rt >= 0; rt--) {
        char cmd[4096];
        int created = 0;
        long before = 0, after = 0, heap_before = 0, heap_after = 0;
        FILE *p;
        snprintf(cmd, sizeof cmd, "'%s' --mem-child %s %d", self_exe, rt ? "rt" : "pt", count);
        p = popen(cmd, "r");
        if (!p || fscanf(p, "%d %ld %ld %ld %ld", &created, &before, &after, &heap_before,
                         &heap_after) != 5) {
            printf("  %s: the child process failed; row skipped\n", rt ? "rthread" : "pthread");
            if (p)
                pclose(p);
            return;
        }
        pclose(p);
        if (created < count)
            printf("  %s: only %d threads could be started (a process or memory limit)\n",
                   rt ? "rthread" : "pthread", created);
        if (created == 0)
            return;
        rss[rt] = after;
        per[rt] = (double)(after - before) / created;
        heap[rt] = (double)(heap_after - heap_before) / created;
        printf("%7d %-16s RSS %8.1f MiB, %8.0f bytes per thread, of which %6.0f from malloc\n",
               created, rt ? "rthread" : "pthread", after / 1048576.0, per[rt], heap[rt]);
        tsv_line("memory-rss", rt ? "rthread" : "pthread", created, "bytes", (double)after,
                 (double)after, (double)after, -1, -1, -1, -1);
        tsv_line("memory-per-thread", rt ? "rthread" : "pthread", created, "bytes/thread",
                 per[rt], per[rt], per[rt], -1, -1, -1, -1);
        tsv_line("memory-heap-per-thread", rt ? "rthread" : "pthread", created, "bytes/thread",
                 heap[rt], heap[rt], heap[rt], -1, -1, -1, -1);
    }
    printf("%7s %-16s %8.0f bytes per thread on top of a pthread by RSS, %.0f by malloc "
           "(RSS ratio %.2f)\n",
           "", "rthread extra", per[1] - per[0], heap[1] - heap[0],
           rss[0] > 0 ? (double)rss[1] / (double)rss[0] : 0);
}

/* ==== the paired table: rthread and its pthread reference, alternating, 11 rounds ==== */

struct op {
    const char *key;       /* stable name for the machine-readable output and the guard */
    const char *name;      /* what is measured */
    const char *reference; /* the pthread side */
    bench_fn rt, pt;
    long n;       /* operations per round */
    int fairness; /* print the least-served thread's share */
};

static const struct op OPS[] = {
    {"lock-pair", "lock pair (acquire+release)", "pthread_mutex", rt_lock_pair, pt_lock_pair, 2000000, 0},
    {"lock-floor", "  floor: 2 inline CAS, no call", "pthread_mutex", floor_pair, pt_lock_pair, 2000000, 0},
    {"contended-2", "lock contended, 2 threads", "pthread_mutex", rt_contend2, pt_contend2, 5000000, 1},
    {"contended-4", "lock contended, 4 threads", "pthread_mutex", rt_contend4, pt_contend4, 5000000, 1},
    {"rlock-reentry", "rlock re-entry", "recursive pthread_mutex", rt_rlock_reentry, pt_rlock_reentry, 2000000, 0},
    {"rlock-pair", "rlock pair (first acquire)", "recursive pthread_mutex", rt_rlock_pair, pt_rlock_pair, 2000000, 0},
    {"semaphore-pair", "semaphore pair", "sem_t", rt_sem_pair, pt_sem_pair, 2000000, 0},
    {"event-pingpong", "event ping-pong", "sem_t ping-pong", rt_event_pp, pt_sem_pp, 20000, 0},
    {"semaphore-pingpong", "semaphore ping-pong", "sem_t ping-pong", rt_semaphore_pp, pt_sem_pp, 20000, 0},
    {"condition-pingpong", "condition ping-pong", "condvar ping-pong", rt_condition_pp, pt_condvar_pp, 20000, 0},
    {"start-join-object", "thread start+join (object)", "pthread_create+join", rt_thread_start_join, pt_start_join, 300, 0},
    {"start-join-thread", "thread start+join (_thread)", "pthread_create+join", rt_start_join, pt_start_join, 300, 0},
    {"queue-spsc", "queue SPSC, per item", "mutex+2 condvar ring", rt_queue_spsc, pt_queue_spsc, 1000000, 0},
    {"queue-2p2c", "queue 2P/2C, per item", "mutex+2 condvar ring", rt_queue_2p2c, pt_queue_2p2c, 1000000, 0},
    {"queue-fifo-pair", "queue put+get, FIFO (1 thread)", "pthread_mutex pair", rt_fifo_pair, pt_lock_pair, 2000000, 0},
    {"queue-lifo-pair", "queue put+get, LIFO (1 thread)", "pthread_mutex pair", rt_lifo_pair, pt_lock_pair, 2000000, 0},
    {"queue-prio-pair", "queue put+get, prio (1 thread)", "pthread_mutex pair", rt_prio_pair, pt_lock_pair, 2000000, 0},
    {"pool-tasks", "pool: empty task, 2 workers", "mutex+condvar pool, counter", rt_pool_tasks, pt_pool_tasks, 1000000, 0},
    {"pool-round-trip", "pool: submit->result, idle", "rthread semaphore ping-pong", rt_pool_round_trip, rt_semaphore_pp, 20000, 0},
};

#define N_OPS (sizeof OPS / sizeof OPS[0])

static char **filters;
static int n_filters;

static int selected(const char *name, const char *key) {
    if (n_filters == 0)
        return 1;
    for (int i = 0; i < n_filters; i++)
        if (strstr(name, filters[i]) || strstr(key, filters[i]))
            return 1;
    return 0;
}

/* One paired measurement: `rounds` rounds of `n` operations per side; the medians per
 * operation of wall time and CPU time. */
struct paired {
    double rt, pt, rt_lo, rt_hi, pt_lo, pt_hi, rt_cpu, pt_cpu;
    double round_ratio; /* the median of the rounds' own ratios (rthread / pthread) */
};

static void range_of(const double *v, int n, double *lo, double *hi) {
    *lo = *hi = v[0];
    for (int i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

static struct paired run_paired(const struct op *op, long n, int rounds) {
    double rt[ROUNDS], pt[ROUNDS], rc[ROUNDS], pc[ROUNDS], ratios[ROUNDS], c0;
    struct paired p;
    n_shares[0] = n_shares[1] = 0;
    /* one untimed round of each to warm caches and thread stacks */
    op->rt(n / 10 + 1);
    op->pt(n / 10 + 1);
    n_shares[0] = n_shares[1] = 0;
    for (int r = 0; r < rounds; r++) {
        for (int side = 0; side < 2; side++) {
            int is_rt = (r % 2 == 0) == (side == 0); /* alternate which goes first */
            c0 = cpu_ns();
            if (is_rt) {
                rt[r] = op->rt(n) / (double)n;
                rc[r] = (cpu_ns() - c0) / (double)n;
            } else {
                pt[r] = op->pt(n) / (double)n;
                pc[r] = (cpu_ns() - c0) / (double)n;
            }
        }
    }
    for (int r = 0; r < rounds; r++)
        ratios[r] = rt[r] / pt[r];
    p.round_ratio = median(ratios, rounds);
    range_of(rt, rounds, &p.rt_lo, &p.rt_hi);
    range_of(pt, rounds, &p.pt_lo, &p.pt_hi);
    p.rt = median(rt, rounds);
    p.pt = median(pt, rounds);
    p.rt_cpu = median(rc, rounds);
    p.pt_cpu = median(pc, rounds);
    return p;
}

static void print_ns(double ns) {
    if (ns >= 1000.0)
        printf(" %9.2f us", ns / 1000.0);
    else
        printf(" %9.2f ns", ns);
}

static void run_table(void) {
    int any = 0;
    for (size_t k = 0; k < N_OPS; k++) {
        const struct op *op = &OPS[k];
        struct paired p;
        char row[64];
        double sm[2] = {-1, -1}, sw[2] = {-1, -1};
        if (!selected(op->name, op->key))
            continue;
        if (!any++) {
            printf("rthread beside its pthread reference: medians of %d rounds; ratio = "
                   "rthread / pthread (below 1: rthread is faster); cpu = process CPU time "
                   "per operation\n\n",
                   ROUNDS);
            printf("%-30s %12s %12s %7s %12s %12s   %s\n", "operation", "rthread", "pthread",
                   "ratio", "cpu rthread", "cpu pthread", "reference");
        }
        p = run_paired(op, quick && op->n > 1000 ? op->n / 4 : op->n, ROUNDS);
        printf("%-30s", op->name);
        print_ns(p.rt);
        print_ns(p.pt);
        printf(" %7.2f", p.rt / p.pt);
        print_ns(p.rt_cpu);
        print_ns(p.pt_cpu);
        printf("   %s\n", op->reference);
        if (op->fairness) {
            for (int s = 0; s < 2; s++) {
                qsort(shares[s], (size_t)n_shares[s], sizeof(double), cmp_double);
                sw[s] = shares[s][0];
                sm[s] = median(shares[s], n_shares[s]);
            }
            printf("%-30s %12.2f %12.2f %7s   least-served thread's share: median (worst "
                   "%.2f / %.2f)\n",
                   "  fairness", sm[1], sm[0], "", sw[1], sw[0]);
        }
        snprintf(row, sizeof row, "paired/%s", op->key);
        tsv_line(row, "rthread", 0, "ns/op", p.rt, p.rt_lo, p.rt_hi, p.rt_cpu, p.rt / p.pt, sm[1],
                 sw[1]);
        tsv_line(row, "pthread", 0, "ns/op", p.pt, p.pt_lo, p.pt_hi, p.pt_cpu, 1.0, sm[0], sw[0]);
        fflush(stdout);
    }
}

/* ==== the regression guard: ratios within one run against committed ceilings ==== */

/* Each ceiling has a wide margin over the medians and ranges of BENCHMARKS.md (five runs of
 * the full benchmark on the 2-core machine): a ceiling is breached when rthread loses its lead,
 * not when the machine is noisy. The ratio of an attempt is the median of its rounds' own
 * ratios (each round times both sides back to back, so load that drifts between rounds
 * cancels); an attempt above the ceiling is followed by another, up to GUARD_ATTEMPTS, and
 * the guard fails only if every attempt breaches. A regression breaches every time; a burst of
 * load from another process rarely lasts through three attempts. */
struct ceiling {
    const char *key;
    double max_ratio; /* rthread / pthread time; a throughput floor of 2x is a ratio of 0.5 */
    const char *basis;
};

static const struct ceiling GUARD[] = {
    {"lock-pair", 1.20, "0.93 (0.93-0.94)"},
    {"rlock-reentry", 1.30, "0.82 (0.72-0.87)"},
    {"semaphore-pair", 1.30, "1.00 (0.96-1.01)"},
    {"contended-4", 1.50, "0.38 (0.34-0.73)"},
    {"event-pingpong", 0.50, "0.04 (0.03-0.06)"},
    {"semaphore-pingpong", 0.50, "0.03 (0.02-0.04)"},
    {"start-join-object", 1.50, "0.97 (0.89-1.00)"},
    {"queue-spsc", 0.50, "0.19 (0.17-0.29): >= 2x the throughput"},
    {"queue-2p2c", 0.50, "0.20 (0.18-0.21): >= 2x the throughput"},
};

#define GUARD_ROUNDS 9
#define GUARD_ATTEMPTS 3
/* Other processes used more than this share of the machine's CPU during an attempt: the
 * attempt is "busy" (it measured the scheduler as much as rthread). */
#define GUARD_BUSY 0.25

/* The machine's busy and total CPU time so far, in clock ticks (/proc/stat). */
static int machine_ticks(double *busy, double *total) {
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n;
    if (!f)
        return 0;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 5)
        return 0;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += (double)v[i];
    *busy = *total - (double)v[3] - (double)v[4]; /* less idle and iowait */
    return 1;
}

/* The relaxed ceiling applies only when every attempt was busy: a regression that loses the
 * lead by far still fails, a loaded machine does not. */
static double relaxed_ceiling(double ceiling) {
    return ceiling * 1.5 > 1.5 ? ceiling * 1.5 : 1.5;
}

static int run_guard(void) {
    int breaches = 0;
    pin_queue_threads = 1;
    double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
    printf("regression guard: rthread / pthread, median of %d paired rounds, against ceilings\n"
           "(an attempt is busy when other processes used more than %.0f%% of the CPU; only if "
           "all %d attempts are busy is the relaxed ceiling applied)\n\n",
           GUARD_ROUNDS, GUARD_BUSY * 100, GUARD_ATTEMPTS);
    printf("%-22s %8s %8s %8s %6s   %s\n", "operation", "ratio", "ceiling", "relaxed", "others",
           "BENCHMARKS.md median (range)");
    for (size_t g = 0; g < sizeof GUARD / sizeof GUARD[0]; g++) {
        const struct op *op = NULL;
        double ceiling = GUARD[g].max_ratio, relaxed = relaxed_ceiling(ceiling);
        double best = 0, ratio = 0;
        int quiet_attempts = 0, pass = 0;
        for (size_t k = 0; k < N_OPS; k++)
            if (strcmp(OPS[k].key, GUARD[g].key) == 0)
                op = &OPS[k];
        if (!op) {
            printf("c_bench: the guard names an unknown operation %s\n", GUARD[g].key);
            return 2;
        }
        for (int attempt = 1; attempt <= GUARD_ATTEMPTS && !pass; attempt++) {
            double b0 = 0, t0 = 0, b1 = 0, t1 = 0, c0 = cpu_ns(), others = -1;
            int ticks = machine_ticks(&b0, &t0);
            ratio = run_paired(op, op->n / 4 + 1, GUARD_ROUNDS).round_ratio;
            if (ticks && machine_ticks(&b1, &t1) && t1 > t0) {
                others = ((b1 - b0) - (cpu_ns() - c0) / tick_ns) / (t1 - t0);
                if (others < 0)
                    others = 0;
            }
            if (others >= 0 && others <= GUARD_BUSY)
                quiet_attempts++;
            if (attempt == 1 || ratio < best)
                best = ratio;
            pass = ratio <= ceiling;
            printf("%-22s %8.2f %8.2f %8.2f %5.0f%%   %s\n", op->key, ratio, ceiling, relaxed,
                   others * 100,
                   pass ? GUARD[g].basis
                        : (attempt < GUARD_ATTEMPTS ? "above the ceiling: measuring again" : ""));
        }
        if (!pass && quiet_attempts == 0 && best <= relaxed) {
            pass = 1;
            printf("%-22s %8.2f: every attempt was busy; within the relaxed ceiling\n", op->key,
                   best);
        }
        if (!pass) {
            printf("%-22s BREACH: %.2f above %.2f in every attempt\n", op->key, best,
                   quiet_attempts ? ceiling : relaxed);
            breaches++;
        }
        tsv_line("guard", op->key, 0, "ratio", pass ? ratio : best, best, ratio, -1, ceiling, -1,
                 -1);
        fflush(stdout);
    }
    if (breaches) {
        printf("\nc_bench --guard: %d ratio(s) above their ceilings\n", breaches);
        return 1;
    }
    printf("\nc_bench --guard: every ratio within its ceiling\n");
    return 0;
}

/* ==== the debug modes' cost: an uncontended lock pair with a mode on, beside the same pair
 * with every mode off (--debug-modes) ==== */

static unsigned debug_mode; /* the flags the "on" side runs with */

static double debug_side(unsigned flags, double (*pair)(long), long n) {
    double t;
    RT_CHECK(rt_set_debug(flags));
    t = pair(n);
    RT_CHECK(rt_set_debug(0));
    return t;
}

static double lock_pair_mode_on(long n) { return debug_side(debug_mode, rt_lock_pair, n); }
static double lock_pair_mode_off(long n) { return debug_side(0, rt_lock_pair, n); }
static double rlock_pair_mode_on(long n) { return debug_side(debug_mode, rt_rlock_pair, n); }
static double rlock_pair_mode_off(long n) { return debug_side(0, rt_rlock_pair, n); }

struct debug_op {
    const char *key, *mode;
    unsigned flags;
    const char *target; /* the ceiling on the ratio, or "" */
};

static const struct debug_op DEBUG_OPS[] = {
    {"deadlock", "RT_DEBUG_DEADLOCK", RT_DEBUG_DEADLOCK, "<= 2"},
    {"lockorder", "RT_DEBUG_LOCK_ORDER", RT_DEBUG_LOCK_ORDER, ""},
    {"contention", "RT_DEBUG_CONTENTION", RT_DEBUG_CONTENTION, "<= 1.5"},
};

/* Each mode, on the lock pair and the rlock pair (first acquire): medians of paired rounds,
 * each round timing "on" and "off" back to back (which goes first alternates). */
static void run_debug_table(void) {
    printf("debug modes on an uncontended pair: medians of %d paired rounds; ratio = the "
           "median of the rounds' own on / off ratios; cpu = process CPU time per pair, and "
           "its ratio\n\n",
           ROUNDS);
    printf("%-26s %-20s %12s %12s %7s %12s %12s %7s   %s\n", "pair", "mode", "on", "off",
           "ratio", "cpu on", "cpu off", "ratio", "target");
    for (size_t m = 0; m < sizeof DEBUG_OPS / sizeof DEBUG_OPS[0]; m++) {
        const struct debug_op *d = &DEBUG_OPS[m];
        for (int k = 0; k < 2; k++) {
            struct op op = {k == 0 ? "lock-pair" : "rlock-pair",
                            k == 0 ? "lock pair" : "rlock pair (first acquire)",
                            "the same pair, modes off",
                            k == 0 ? lock_pair_mode_on : rlock_pair_mode_on,
                            k == 0 ? lock_pair_mode_off : rlock_pair_mode_off,
                            quick ? 500000 : 2000000,
                            0};
            struct paired p;
            char row[64];
            debug_mode = d->flags;
            p = run_paired(&op, op.n, ROUNDS);
            printf("%-26s %-20s", op.name, d->mode);
            print_ns(p.rt);
            print_ns(p.pt);
            printf(" %7.2f", p.round_ratio);
            print_ns(p.rt_cpu);
            print_ns(p.pt_cpu);
            printf(" %7.2f   %s\n", p.rt_cpu / p.pt_cpu, d->target);
            snprintf(row, sizeof row, "debug/%s/%s", d->key, op.key);
            tsv_line(row, "on", 0, "ns/op", p.rt, p.rt_lo, p.rt_hi, p.rt_cpu, p.round_ratio, -1,
                     -1);
            tsv_line(row, "off", 0, "ns/op", p.pt, p.pt_lo, p.pt_hi, p.pt_cpu, 1.0, -1, -1);
            fflush(stdout);
        }
    }
}

static void *idle(void *arg) {
    return arg;
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench [--quick] [--tsv FILE] [--rounds N] [--threads-memory N]\n"
            "             [--no-table] [--no-rows] [--guard] [--debug-modes] [FILTER...]\n");
    exit(2);
}

int main(int argc, char **argv) {
    pthread_t tid;
    int guard = 0, table = 1, rows = 1, memory_threads = 10000, debug_modes = 0;
    self_exe = argv[0];
    if (argc == 4 && strcmp(argv[1], "--mem-child") == 0)
        return mem_child(strcmp(argv[2], "rt") == 0, atoi(argv[3]));
    if (!(filters = calloc((size_t)argc, sizeof *filters)))
        die("calloc");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--guard") == 0)
            guard = 1;
        else if (strcmp(argv[i], "--debug-modes") == 0)
            debug_modes = 1;
        else if (strcmp(argv[i], "--no-table") == 0)
            table = 0;
        else if (strcmp(argv[i], "--no-rows") == 0)
            rows = 0;
        else if (strcmp(argv[i], "--tsv") == 0 && i + 1 < argc) {
            if (!(tsv = fopen(argv[++i], "w"))) {
                perror(argv[i]);
                return 2;
            }
            fprintf(tsv, "row\timpl\tthreads\tunit\tmedian\tmin\tmax\tcpu_ns\tratio_pthread\t"
                         "share_median\tshare_worst\n");
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            matrix_rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads-memory") == 0 && i + 1 < argc)
            memory_threads = atoi(argv[++i]);
        else if (argv[i][0] == '-')
            usage();
        else
            filters[n_filters++] = argv[i];
    }
    if (matrix_rounds == 0)
        matrix_rounds = quick ? 3 : 5;
    if (matrix_rounds < 1 || matrix_rounds > 16 || memory_threads < 1)
        usage();
    /* glibc drops the lock prefix of its mutexes until a process first has a second thread;
     * measure as any threaded program runs. */
    PT_CHECK(pthread_create(&tid, NULL, idle, NULL));
    PT_CHECK(pthread_join(tid, NULL));
    RT_CHECK(rt_lock_new(&pair_lock));
    RT_CHECK(rt_queue_new(1024, NULL, &pair_fifo));
    RT_CHECK(rt_lifo_queue_new(1024, NULL, &pair_lifo));
    RT_CHECK(rt_priority_queue_new(1024, rt_item_cmp, NULL, &pair_prio));
    if (!(floor_byte = calloc(1, 64)))
        die("calloc");
    if (!(pair_mutex = malloc(sizeof *pair_mutex)) || pthread_mutex_init(pair_mutex, NULL) != 0)
        die("pthread_mutex_init");
    RT_CHECK(rt_rlock_new(&reentry_rlock));
    {
        pthread_mutexattr_t a;
        PT_CHECK(pthread_mutexattr_init(&a));
        PT_CHECK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE));
        if (!(reentry_mutex = malloc(sizeof *reentry_mutex)) ||
            pthread_mutex_init(reentry_mutex, &a) != 0)
            die("pthread_mutex_init");
        pthread_mutexattr_destroy(&a);
    }
    RT_CHECK(rt_semaphore_new(1, &pair_sem));
    if (!(pair_sem_t = malloc(sizeof *pair_sem_t)) || sem_init(pair_sem_t, 0, 1) != 0)
        die("sem_init");

    if (debug_modes) {
        run_debug_table();
        RT_CHECK(rt_lock_free(pair_lock));
        RT_CHECK(rt_rlock_free(reentry_rlock));
        if (tsv)
            fclose(tsv);
        return 0;
    }

    if (guard) {
        int rc = run_guard();
        if (tsv)
            fclose(tsv);
        return rc;
    }

    impls[n_impls++] = &RTHREAD;
    impls[n_impls++] = &PTHREAD;
#ifdef RTHREAD_BENCH_NSYNC
    impls[n_impls++] = bench_nsync();
#else
    printf("nsync: not built in (libnsync-dev not found); its columns are skipped\n");
#endif
#ifdef RTHREAD_BENCH_ABSL
    impls[n_impls++] = bench_absl();
#else
    printf("absl: not built in (libabsl-dev not found); its columns are skipped\n");
#endif
#ifdef RTHREAD_BENCH_GLIB
    impls[n_impls++] = bench_glib();
    impls[n_impls++] = bench_glib_async_queue();
#else
    printf("glib: not built in (libglib2.0-dev not found); its columns are skipped\n");
#endif
    printf("implementations:");
    for (int i = 0; i < n_impls; i++)
        printf(" %s (%s)%s", impls[i]->name, impls[i]->what, i + 1 < n_impls ? ";" : "\n");
    printf("%s\n\n", quick ? "quick mode: fewer operations and thread counts per row" : "");

    if (table)
        run_table();
    if (rows) {
        for (size_t r = 0; r < sizeof ROWS / sizeof ROWS[0]; r++)
            if (selected(ROWS[r].key, ROWS[r].key))
                run_row(&ROWS[r]);
        if (selected("memory-threads", "memory-threads"))
            run_memory(memory_threads);
    }
    RT_CHECK(rt_lock_free(pair_lock));
    RT_CHECK(rt_queue_free(pair_fifo));
    RT_CHECK(rt_queue_free(pair_lifo));
    RT_CHECK(rt_queue_free(pair_prio));
    RT_CHECK(rt_rlock_free(reentry_rlock));
    RT_CHECK(rt_semaphore_free(pair_sem));
    if (tsv)
        fclose(tsv);
    return 0;
}
