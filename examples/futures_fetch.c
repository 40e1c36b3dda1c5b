/*
 * Fetch and process with a thread pool: concurrent.futures' classic example in C.
 *
 *     with ThreadPoolExecutor(max_workers=8) as pool:
 *         futures = {pool.submit(fetch, url): url for url in urls}
 *         for f in as_completed(futures): ...
 *
 * 1,000 "pages" are fetched by a pool of 8 workers; page 500 is cancelled before it starts and
 * page 777 fails. The results are processed as they complete, in whatever order that is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rthread.h"

#define PAGES 1000

/* Holds the workers until every page is queued, so that the cancellation below always wins. */
static rt_event *go;

static int wait_for_go(void *ctx) {
    (void)ctx;
    return rt_event_wait(go, RT_FOREVER) == RT_OK ? 0 : 1;
}

/* "Fetches" page `arg`: its size is the result, or the fetch fails. */
static int fetch(void *arg, void **result) {
    intptr_t page = (intptr_t)arg;
    if (page == 777) {
        rt_set_error_message("connection reset by peer");
        return 104; /* the task's own error code */
    }
    *result = (void *)(intptr_t)(1000 + (page * 37) % 4096);
    return 0;
}

static void die(const char *what, rt_status s) {
    fprintf(stderr, "%s: %s (%s)\n", what, rt_status_str(s), rt_last_error());
    exit(1);
}

int main(void) {
    rt_executor *pool;
    rt_future *futures[PAGES], *f;
    rt_as_completed *it;
    rt_status s;
    intptr_t i;
    long fetched = 0, bytes = 0, cancelled = 0, failed = 0;

    if ((s = rt_event_new(&go)) != RT_OK) die("rt_event_new", s);
    if ((s = rt_executor_new(8, "fetcher", wait_for_go, NULL, &pool)) != RT_OK)
        die("rt_executor_new", s);
    for (i = 0; i < PAGES; i++)
        if ((s = rt_executor_submit(pool, fetch, (void *)i, NULL, NULL, &futures[i])) != RT_OK)
            die("rt_executor_submit", s);
    if (rt_future_cancel(futures[500])) printf("page 500 cancelled before it started\n");
    rt_event_set(go);

    if ((s = rt_as_completed_new(futures, PAGES, 60.0, &it)) != RT_OK) die("rt_as_completed_new", s);
    while ((s = rt_as_completed_next(it, &f)) == RT_OK && f != NULL) {
        void *size;
        int code;
        s = rt_future_result(f, 0.0, &size);
        if (s == RT_OK) {
            fetched++;
            bytes += (long)(intptr_t)size;
        } else if (s == RT_ECANCELLED) {
            cancelled++;
        } else if (s == RT_EFAILED) {
            rt_future_exception(f, 0.0, &code);
            for (i = 0; futures[i] != f; i++) continue;
            printf("page %ld failed: %s (code %d)\n", (long)i, rt_last_error(), code);
            failed++;
        }
    }
    if (s != RT_OK) die("rt_as_completed_next", s);
    rt_as_completed_free(it);

    printf("%ld pages fetched, %ld bytes; %ld failed, %ld cancelled\n", fetched, bytes, failed,
           cancelled);
    for (i = 0; i < PAGES; i++) rt_future_release(futures[i]);
    rt_executor_free(pool); /* shutdown(wait=True) */
    rt_event_free(go);
    return 0;
}
