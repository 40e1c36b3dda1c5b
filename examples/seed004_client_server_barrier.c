/*
 * Seed 004's barrier: a client and a server meet at a barrier, so that the client connects only
 * once the server listens.
 *
 *     b = threading.Barrier(2, timeout=5)
 *     def server():
 *         start_server()
 *         b.wait()
 *         while True:
 *             connection = accept_connection()
 *             process_server_connection(connection)
 *     def client():
 *         b.wait()
 *         while True:
 *             connection = make_connection()
 *             process_client_connection(connection)
 *
 * and the seed's use of the arrival index:
 *
 *     i = barrier.wait()
 *     if i == 0:
 *         print("passed the barrier")
 *
 * The "network" is a one-request mailbox under a condition. The client makes three requests
 * and the server answers each; main waits for both at a second barrier.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rthread.h"

#define REQUESTS 3

static rt_barrier *b;         /* the seed's Barrier(2, timeout=5) */
static rt_barrier *all_done;  /* client, server and main */
static rt_condition *mailbox; /* guards everything below, and the output */
static int listening, request, reply;

static void say(const char *what, int n, int m) {
    printf(what, n, m);
    putchar('\n');
    fflush(stdout);
}

static void meet(const char *who) {
    size_t i;
    if (rt_barrier_wait(b, RT_FOREVER, &i) != RT_OK) { /* RT_FOREVER: the barrier's 5 s */
        fprintf(stderr, "%s: %s\n", who, rt_last_error());
        exit(1);
    }
    if (i == 0) {
        rt_condition_acquire(mailbox, 1, RT_FOREVER);
        say("passed the barrier", 0, 0);
        rt_condition_release(mailbox);
    }
}

static int request_pending(void *ctx) {
    (void)ctx;
    return request != 0;
}

static int reply_ready(void *ctx) {
    (void)ctx;
    return reply != 0;
}

static void server(void *arg) {
    int n;
    (void)arg;
    rt_condition_acquire(mailbox, 1, RT_FOREVER); /* start_server() */
    say("server: starting", 0, 0);
    listening = 1;
    say("server: listening", 0, 0);
    rt_condition_release(mailbox);
    meet("server");
    for (n = 0; n < REQUESTS; n++) {
        rt_condition_acquire(mailbox, 1, RT_FOREVER); /* accept_connection() */
        rt_condition_wait_for(mailbox, request_pending, NULL, RT_FOREVER);
        reply = request * 10; /* process_server_connection() */
        say("server: request %d answered", request, 0);
        request = 0;
        rt_condition_notify_all(mailbox);
        rt_condition_release(mailbox);
    }
    rt_barrier_wait(all_done, RT_FOREVER, NULL);
}

static void client(void *arg) {
    int n;
    (void)arg;
    meet("client");
    for (n = 1; n <= REQUESTS; n++) {
        rt_condition_acquire(mailbox, 1, RT_FOREVER); /* make_connection() */
        if (!listening) say("client: the server is not listening", 0, 0);
        request = n;
        rt_condition_notify_all(mailbox);
        rt_condition_wait_for(mailbox, reply_ready, NULL, RT_FOREVER);
        say("client: reply %d to request %d", reply, n); /* process_client_connection() */
        reply = 0;
        rt_condition_release(mailbox);
    }
    rt_barrier_wait(all_done, RT_FOREVER, NULL);
}

int main(void) {
    if (rt_barrier_new(2, NULL, NULL, 5.0, &b) != RT_OK) return 1;
    if (rt_barrier_new(3, NULL, NULL, RT_FOREVER, &all_done) != RT_OK) return 1;
    if (rt_condition_new(&mailbox) != RT_OK) return 1;
    /* The client starts first: the barrier still makes it wait for the server. */
    if (rt_start_new_thread(client, NULL, NULL) != RT_OK) return 1;
    if (rt_start_new_thread(server, NULL, NULL) != RT_OK) return 1;
    rt_barrier_wait(all_done, RT_FOREVER, NULL);
    printf("done\n");
    /* The threads may still be on their way out of all_done. */
    while (rt_barrier_free(all_done) == RT_EBUSY) {
    }
    rt_barrier_free(b);
    rt_condition_free(mailbox);
    return 0;
}
