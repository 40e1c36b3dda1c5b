/* main() of every C test program: see rt_test.h. */
#include "rt_test.h"

#include <stdarg.h>
#include <time.h>
#include <unistd.h>

static const char *current_case = "?";

void rt_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: [%s] ", file, line, current_case);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(NULL);
    /* _exit, not exit: a failed case must not wait for the threads it leaves behind (exit()
     * waits for non-daemon thread objects, as Python does). */
    _exit(1);
}

long rt_test_scaled(long n, long min) {
    const char *env = getenv("RTHREAD_TEST_SCALE");
    double scale = env ? atof(env) : 1.0;
    long v;
    if (!(scale > 0.0) || scale > 1.0) scale = 1.0;
    v = (long)((double)n * scale);
    return v < min ? min : v;
}

double rt_test_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rt_test_sleep(double secs) {
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* The scheduler state of one of our threads ('R', 'S', ...), '?' if unknown. */
static char thread_state(long tid) {
    char path[64], buf[512], *p;
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    f = fopen(path, "r");
    if (!f) return '?';
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ') return '?';
    return p[2];
}

int rt_test_sleeps_in_futex(long tid) {
    char path[64], buf[128];
    size_t n;
    FILE *f;
    if (thread_state(tid) != 'S') return 0;
    snprintf(path, sizeof path, "/proc/self/task/%ld/wchan", tid);
    f = fopen(path, "r");
    if (!f) return 1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return n == 0 || strcmp(buf, "0") == 0 || strstr(buf, "futex") != NULL;
}

static int run_case(const struct rt_case *c) {
    current_case = c->name;
    c->fn();
    return 0;
}

int main(int argc, char **argv) {
    size_t i;
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < rt_ncases; i++) printf("%s\n", rt_cases[i].name);
        return 0;
    }
    if (argc > 1) {
        for (i = 0; i < rt_ncases; i++)
            if (strcmp(argv[1], rt_cases[i].name) == 0) return run_case(&rt_cases[i]);
        fprintf(stderr, "no case named %s\n", argv[1]);
        return 2;
    }
    for (i = 0; i < rt_ncases; i++) {
        run_case(&rt_cases[i]);
        printf("%s ok\n", rt_cases[i].name);
    }
    return 0;
}
