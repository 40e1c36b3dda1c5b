/*
 * Seed 003 (a threading tutorial's work queue): three worker threads take words from a shared
 * queue and print them; the main thread fills the queue with five words.
 *
 *     workQueue = queue.Queue(10)
 *     def process_data(threadName, q):
 *         while not exitFlag:
 *             queueLock.acquire()
 *             if not workQueue.empty():
 *                 data = q.get(); queueLock.release()
 *                 print("{} processing {}".format(threadName, data))
 *             else:
 *                 queueLock.release()
 *             time.sleep(1)
 *     ...
 *     while not workQueue.empty(): pass
 *     exitFlag = 1
 *
 * The seed polls: the workers look at the queue once a second, and the main thread spins until
 * the queue is empty (which happens before the last word is processed) and then raises a flag.
 * Here the workers block in get, the main thread waits with join until every word has been
 * processed (each worker calls task_done after its word), and shutdown tells the workers to
 * leave: once the queue is shut down and empty, get returns RT_ESHUTDOWN. Each worker, as it
 * leaves, puts its name on a second queue, which the main thread reads to know they are gone.
 */
#include <stdio.h>
#include <stdint.h>

#include "rthread.h"

#define WORKERS 3
#define WORDS 5

static rt_queue *work;   /* the words to process */
static rt_queue *exited; /* the workers' names, as they leave */

static char *names[WORKERS] = { "Thread-1", "Thread-2", "Thread-3" };
static char *words[WORDS] = { "One", "Two", "Three", "Four", "Five" };

static void worker(void *arg) {
    char *name = arg;
    void *data;
    printf("Thread Start: %s\n", name);
    while (rt_queue_get(work, 1, RT_FOREVER, &data) == RT_OK) {
        printf("%s processing %s\n", name, (char *)data);
        rt_queue_task_done(work);
    }
    /* RT_ESHUTDOWN: the queue is shut down and no word is left. */
    printf("Thread Exit: %s\n", name);
    rt_queue_put(exited, name, 1, RT_FOREVER);
}

int main(void) {
    void *name;
    int i;
    if (rt_queue_new(10, NULL, &work) != RT_OK) return 1;
    if (rt_simple_queue_new(NULL, &exited) != RT_OK) return 1;
    for (i = 0; i < WORKERS; i++)
        if (rt_start_new_thread(worker, names[i], NULL) != RT_OK) return 1;

    printf("Filling queue...\n");
    for (i = 0; i < WORDS; i++)
        if (rt_queue_put(work, words[i], 1, RT_FOREVER) != RT_OK) return 1;
    printf("Queue filled.\n");

    /* Every word processed: then the workers may go. */
    if (rt_queue_join(work) != RT_OK) return 1;
    if (rt_queue_shutdown(work, 0) != RT_OK) return 1;
    for (i = 0; i < WORKERS; i++)
        if (rt_queue_get(exited, 1, RT_FOREVER, &name) != RT_OK) return 1;
    printf("exit\n");
    rt_queue_free(work);
    rt_queue_free(exited);
    return 0;
}
