/* A one-second hammer of one rt_lock: T threads each loop acquire, work W microseconds (a busy
 * loop on the clock; 0: none), count, release. Prints the acquisitions, the least-served
 * thread's share of an even split (min * T / total), the process's context switches and its
 * CPU time. Used to compare two builds of librthread on one machine, run alternately:
 *
 *   cc -O2 -Iinclude benches/c/lock_share.c -o /tmp/lock_share -Ltarget/release -lrthread -pthread
 *   LD_LIBRARY_PATH=target/release /tmp/lock_share 4 0
 */
#include <pthread.h>
#include <rthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_THREADS 64

static rt_lock *lock;
static volatile int stop;
static long counts[MAX_THREADS];
static int work_us;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *hammer(void *arg) {
    long i = (long)arg;
    while (!stop) {
        if (rt_lock_acquire(lock, 1, RT_FOREVER) != RT_OK)
            abort();
        if (work_us) {
            double end = now_s() + work_us * 1e-6;
            while (now_s() < end) {
            }
        }
        counts[i]++;
        rt_lock_release(lock);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t tid[MAX_THREADS];
    struct timespec second = {1, 0};
    struct rusage ru;
    long total = 0, least = -1;
    work_us = argc > 2 ? atoi(argv[2]) : 0;
    if (threads < 1 || threads > MAX_THREADS || rt_lock_new(&lock) != RT_OK)
        return 2;
    for (long i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, hammer, (void *)i) != 0)
            return 1;
    nanosleep(&second, NULL);
    stop = 1;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += counts[i];
        if (least < 0 || counts[i] < least)
            least = counts[i];
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("threads=%d work=%dus acquisitions=%ld share=%.2f involuntary=%ld voluntary=%ld "
           "cpu=%.2fs\n",
           threads, work_us, total, total ? (double)least * threads / (double)total : 0.0,
           ru.ru_nivcsw, ru.ru_nvcsw,
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6);
    rt_lock_free(lock);
    return 0;
}
