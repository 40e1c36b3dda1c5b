/*
 * Seed 004's module functions, one after the other: active_count(), current_thread(),
 * get_ident(), enumerate(), main_thread(), stack_size() and TIMEOUT_MAX, first with the main
 * thread alone, then with a daemon thread "SockThread" running (as in the seed's enumerate()
 * output), which looks at itself the same way.
 *
 *     >>> threading.active_count()                  2
 *     >>> threading.current_thread()                <_MainThread(MainThread, started 14352)>
 *     >>> threading.get_ident()                     14352
 *     >>> threading.enumerate()                     [<_MainThread(MainThread, started 14352)>,
 *                                                    <Thread(SockThread, started daemon 9864)>]
 *     >>> threading.main_thread()                   <_MainThread(MainThread, started 14352)>
 *     >>> threading.stack_size()                    0
 *
 * Idents differ from run to run, so the program prints how they compare, not their values.
 */
#include <stdio.h>
#include <string.h>

#include "rthread.h"

static rt_lock *sock_may_end;
static rt_lock *sock_has_looked;

static const char *yes_no(bool b) {
    return b ? "yes" : "no";
}

static void describe(rt_thread *t, char *out, size_t len) {
    char name[64] = "?";
    rt_thread_name(t, name, sizeof name);
    snprintf(out, len, "%s (%s%s)", name, rt_thread_is_alive(t) ? "started" : "not started",
             rt_thread_daemon(t) ? ", daemon" : "");
}

static void look_at_myself(const char *who) {
    rt_thread *cur, *main_thread;
    char text[96];
    rt_current_thread(&cur);
    rt_main_thread(&main_thread);
    describe(cur, text, sizeof text);
    printf("[%s] current_thread(): %s\n", who, text);
    printf("[%s] get_ident() is current_thread().ident: %s\n", who,
           yes_no(rt_get_ident() == rt_thread_ident(cur)));
    printf("[%s] current_thread() is main_thread(): %s\n", who, yes_no(cur == main_thread));
    rt_thread_release(cur);
    rt_thread_release(main_thread);
}

static void list_threads(void) {
    rt_thread *buf[8];
    char text[96];
    size_t n = 0, i, printed = 0;
    rt_enumerate(buf, 8, &n);
    printf("active_count(): %zu\n", rt_active_count());
    printf("enumerate(): %zu threads\n", n);
    /* The list has no order: print the main thread first, then the others. */
    for (i = 0; i < n && i < 8; i++) {
        rt_thread *m;
        rt_main_thread(&m);
        if (buf[i] == m) {
            describe(buf[i], text, sizeof text);
            printf("  %s\n", text);
            printed++;
        }
        rt_thread_release(m);
    }
    for (i = 0; i < n && i < 8; i++) {
        rt_thread *m;
        rt_main_thread(&m);
        if (buf[i] != m) {
            describe(buf[i], text, sizeof text);
            printf("  %s\n", text);
            printed++;
        }
        rt_thread_release(m);
        rt_thread_release(buf[i]);
    }
    if (printed != n) printf("  (%zu not shown)\n", n - printed);
}

static void sock_thread(void *arg) {
    (void)arg;
    look_at_myself("SockThread");
    rt_lock_release(sock_has_looked);
    rt_lock_acquire(sock_may_end, 1, RT_FOREVER);
    rt_lock_release(sock_may_end);
}

int main(void) {
    rt_thread *main_thread, *sock;
    char text[96];
    size_t previous = 1;

    printf("active_count(): %zu\n", rt_active_count());
    look_at_myself("main");
    rt_main_thread(&main_thread);
    describe(main_thread, text, sizeof text);
    printf("main_thread(): %s, ident is get_ident(): %s\n", text,
           yes_no(rt_thread_ident(main_thread) == rt_get_ident()));
    rt_thread_release(main_thread);

    printf("-- start a daemon thread named SockThread\n");
    rt_lock_new(&sock_may_end);
    rt_lock_new(&sock_has_looked);
    rt_lock_acquire(sock_may_end, 1, RT_FOREVER);
    rt_lock_acquire(sock_has_looked, 1, RT_FOREVER);
    fflush(stdout);
    if (rt_thread_new(sock_thread, NULL, &sock) != RT_OK) return 1;
    rt_thread_set_name(sock, "SockThread");
    rt_thread_set_daemon(sock, true);
    if (rt_thread_start(sock) != RT_OK) return 1;
    rt_lock_acquire(sock_has_looked, 1, RT_FOREVER);
    list_threads();
    rt_lock_release(sock_may_end);
    rt_thread_join(sock, RT_FOREVER);
    printf("-- after join\n");
    list_threads();
    rt_thread_release(sock);

    printf("stack_size(): %zu\n", rt_stack_size_get());
    rt_stack_size_set(65536, &previous);
    printf("stack_size(65536) returned %zu; stack_size(): %zu\n", previous, rt_stack_size_get());
    if (rt_stack_size_set(4096, NULL) != RT_OK)
        printf("stack_size(4096): %s; stack_size(): %zu\n", rt_last_error(), rt_stack_size_get());
    rt_stack_size_set(0, NULL);
    printf("TIMEOUT_MAX: %.1f\n", RT_TIMEOUT_MAX);
    rt_lock_free(sock_may_end);
    rt_lock_free(sock_has_looked);
    return 0;
}
