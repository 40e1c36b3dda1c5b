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

#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        PT_CHECK(pthread_create(&tids[i], NULL, queue_worker, &args[i]));
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

/* ---- the table ---- */

struct op {
    const char *name;      /* what is measured */
    const char *reference; /* the pthread side */
    bench_fn rt, pt;
    long n;       /* operations per round */
    int fairness; /* print the least-served thread's share */
};

static const struct op OPS[] = {
    {"lock pair (acquire+release)", "pthread_mutex", rt_lock_pair, pt_lock_pair, 2000000, 0},
    {"  floor: 2 inline CAS, no call", "pthread_mutex", floor_pair, pt_lock_pair, 2000000, 0},
    {"lock contended, 2 threads", "pthread_mutex", rt_contend2, pt_contend2, 5000000, 1},
    {"lock contended, 4 threads", "pthread_mutex", rt_contend4, pt_contend4, 5000000, 1},
    {"rlock re-entry", "recursive pthread_mutex", rt_rlock_reentry, pt_rlock_reentry, 2000000, 0},
    {"rlock pair (first acquire)", "recursive pthread_mutex", rt_rlock_pair, pt_rlock_pair, 2000000, 0},
    {"semaphore pair", "sem_t", rt_sem_pair, pt_sem_pair, 2000000, 0},
    {"event ping-pong", "sem_t ping-pong", rt_event_pp, pt_sem_pp, 20000, 0},
    {"semaphore ping-pong", "sem_t ping-pong", rt_semaphore_pp, pt_sem_pp, 20000, 0},
    {"condition ping-pong", "condvar ping-pong", rt_condition_pp, pt_condvar_pp, 20000, 0},
    {"thread start+join (object)", "pthread_create+join", rt_thread_start_join, pt_start_join, 300, 0},
    {"thread start+join (_thread)", "pthread_create+join", rt_start_join, pt_start_join, 300, 0},
    {"queue SPSC, per item", "mutex+2 condvar ring", rt_queue_spsc, pt_queue_spsc, 1000000, 0},
    {"queue 2P/2C, per item", "mutex+2 condvar ring", rt_queue_2p2c, pt_queue_2p2c, 1000000, 0},
    {"pool: empty task, 2 workers", "mutex+condvar pool, counter", rt_pool_tasks, pt_pool_tasks, 1000000, 0},
    {"pool: submit->result, idle", "rthread semaphore ping-pong", rt_pool_round_trip, rt_semaphore_pp, 20000, 0},
};

static int selected(const char *name, int argc, char **argv) {
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

static void *idle(void *arg) {
    return arg;
}

int main(int argc, char **argv) {
    pthread_t tid;
    /* glibc drops the lock prefix of its mutexes until a process first has a second thread;
     * measure as any threaded program runs. */
    PT_CHECK(pthread_create(&tid, NULL, idle, NULL));
    PT_CHECK(pthread_join(tid, NULL));
    RT_CHECK(rt_lock_new(&pair_lock));
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

    printf("medians of %d rounds; ratio = rthread / pthread (below 1: rthread is faster)\n\n",
           ROUNDS);
    printf("%-30s %12s %12s %7s   %s\n", "operation", "rthread", "pthread", "ratio",
           "reference");
    for (size_t k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
        const struct op *op = &OPS[k];
        double rt[ROUNDS], pt[ROUNDS], mr, mp;
        if (!selected(op->name, argc, argv))
            continue;
        n_shares[0] = n_shares[1] = 0;
        /* one untimed round of each to warm caches and thread stacks */
        op->rt(op->n / 10 + 1);
        op->pt(op->n / 10 + 1);
        n_shares[0] = n_shares[1] = 0;
        for (int r = 0; r < ROUNDS; r++) {
            if (r % 2 == 0) {
                rt[r] = op->rt(op->n) / (double)op->n;
                pt[r] = op->pt(op->n) / (double)op->n;
            } else {
                pt[r] = op->pt(op->n) / (double)op->n;
                rt[r] = op->rt(op->n) / (double)op->n;
            }
        }
        mr = median(rt, ROUNDS);
        mp = median(pt, ROUNDS);
        if (mp >= 1000.0)
            printf("%-30s %9.2f us %9.2f us %7.2f   %s\n", op->name, mr / 1000.0, mp / 1000.0,
                   mr / mp, op->reference);
        else
            printf("%-30s %9.2f ns %9.2f ns %7.2f   %s\n", op->name, mr, mp, mr / mp,
                   op->reference);
        if (op->fairness) {
            double worst_rt, worst_pt;
            qsort(shares[1], (size_t)n_shares[1], sizeof(double), cmp_double);
            qsort(shares[0], (size_t)n_shares[0], sizeof(double), cmp_double);
            worst_rt = shares[1][0];
            worst_pt = shares[0][0];
            printf("%-30s %12.2f %12.2f %7s   least-served thread's share: median (worst "
                   "%.2f / %.2f)\n",
                   "  fairness", median(shares[1], n_shares[1]),
                   median(shares[0], n_shares[0]), "", worst_rt, worst_pt);
        }
        fflush(stdout);
    }
    RT_CHECK(rt_lock_free(pair_lock));
    RT_CHECK(rt_rlock_free(reentry_rlock));
    RT_CHECK(rt_semaphore_free(pair_sem));
    return 0;
}
