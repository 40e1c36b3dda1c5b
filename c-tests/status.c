/* Status codes, their names, and the per-thread last-error message. */
#include "rt_test.h"

static void status_codes_have_names(void) {
    CHECK(strcmp(rt_status_str(RT_OK), "RT_OK") == 0);
    CHECK(strcmp(rt_status_str(RT_TIMEOUT), "RT_TIMEOUT") == 0);
    CHECK(strcmp(rt_status_str(RT_EINVAL), "RT_EINVAL") == 0);
    CHECK(strcmp(rt_status_str(RT_EOVERFLOW), "RT_EOVERFLOW") == 0);
    CHECK(strcmp(rt_status_str(RT_ENOTLOCKED), "RT_ENOTLOCKED") == 0);
    CHECK(strcmp(rt_status_str(RT_ENOTOWNER), "RT_ENOTOWNER") == 0);
    CHECK(strcmp(rt_status_str(RT_ESTATE), "RT_ESTATE") == 0);
    CHECK(strcmp(rt_status_str(RT_EDEADLK), "RT_EDEADLK") == 0);
    CHECK(strcmp(rt_status_str(RT_EBROKEN), "RT_EBROKEN") == 0);
    CHECK(strcmp(rt_status_str(RT_EFULL), "RT_EFULL") == 0);
    CHECK(strcmp(rt_status_str(RT_EEMPTY), "RT_EEMPTY") == 0);
    CHECK(strcmp(rt_status_str(RT_ESHUTDOWN), "RT_ESHUTDOWN") == 0);
    CHECK(strcmp(rt_status_str(RT_EOVERRELEASE), "RT_EOVERRELEASE") == 0);
    CHECK(strcmp(rt_status_str(RT_EAGAIN), "RT_EAGAIN") == 0);
    CHECK(strcmp(rt_status_str(RT_ENOMEM), "RT_ENOMEM") == 0);
    CHECK(strcmp(rt_status_str(RT_EBUSY), "RT_EBUSY") == 0);
    CHECK(strcmp(rt_status_str(RT_EINTR), "RT_EINTR") == 0);
    CHECK(strcmp(rt_status_str(RT_ECANCELLED), "RT_ECANCELLED") == 0);
    CHECK(strcmp(rt_status_str(RT_EFAILED), "RT_EFAILED") == 0);
    CHECK(strcmp(rt_status_str(RT_EINVALIDSTATE), "RT_EINVALIDSTATE") == 0);
    CHECK_EQ_INT(RT_OK, 0);
    CHECK_EQ_INT(RT_EINTR, 16); /* codes are ABI: new ones only ever appended */
    CHECK_EQ_INT(RT_ECANCELLED, 17);
    CHECK_EQ_INT(RT_EFAILED, 18);
    CHECK_EQ_INT(RT_EINVALIDSTATE, 19);
}

static void unknown_codes_are_named_unknown(void) {
    CHECK(strcmp(rt_status_str(-1), "RT_UNKNOWN") == 0);
    CHECK(strcmp(rt_status_str(20), "RT_UNKNOWN") == 0);
    CHECK(strcmp(rt_status_str(1 << 30), "RT_UNKNOWN") == 0);
}

struct fresh_args {
    char seen[64];
    int done;
};

static void read_last_error(void *p) {
    struct fresh_args *a = p;
    strncpy(a->seen, rt_last_error(), sizeof a->seen - 1);
    ATOMIC_STORE(&a->done, 1);
}

static void last_error_starts_empty_and_is_per_thread(void) {
    struct fresh_args a;
    rt_lock *l;
    memset(&a, 0, sizeof a);
    a.seen[0] = 'x';
    CHECK(rt_last_error() != NULL);
    CHECK_OK(rt_lock_new(&l));
    CHECK_STATUS(rt_lock_release(l), RT_ENOTLOCKED);
    CHECK(strcmp(rt_last_error(), "release unlocked lock") == 0);
    /* Another thread has its own, empty message. */
    CHECK_OK(rt_start_new_thread(read_last_error, &a, NULL));
    WAIT_UNTIL(ATOMIC_LOAD(&a.done), 10.0);
    CHECK(strcmp(a.seen, "") == 0);
    /* Successful calls leave the message alone; the next failure replaces it. */
    CHECK_OK(rt_lock_acquire(l, 1, RT_FOREVER));
    CHECK(strcmp(rt_last_error(), "release unlocked lock") == 0);
    CHECK_STATUS(rt_lock_acquire(l, 1, NAN), RT_EINVAL);
    CHECK(strcmp(rt_last_error(), "Invalid value NaN (not a number)") == 0);
    CHECK_OK(rt_lock_release(l));
    CHECK_OK(rt_lock_free(l));
}

static void version_macros_are_defined(void) {
    CHECK(RTHREAD_VERSION_MAJOR >= 0);
    CHECK(RTHREAD_VERSION_MINOR >= 0);
    CHECK(RTHREAD_VERSION_PATCH >= 0);
}

RT_CASES(
    RT_CASE(status_codes_have_names),
    RT_CASE(unknown_codes_are_named_unknown),
    RT_CASE(last_error_starts_empty_and_is_per_thread),
    RT_CASE(version_macros_are_defined)
)
