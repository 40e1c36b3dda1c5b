// rt::Lock and rt::RLock: Python's locks as the standard's Lockable and TimedLockable types.
#include "cpp_test.hpp"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <type_traits>

using namespace std::chrono_literals;

static_assert(!std::is_copy_constructible_v<rt::Lock> && !std::is_copy_assignable_v<rt::Lock>);
static_assert(std::is_nothrow_move_constructible_v<rt::Lock> && std::is_nothrow_move_assignable_v<rt::Lock>);
static_assert(!std::is_copy_constructible_v<rt::RLock> && std::is_nothrow_move_constructible_v<rt::RLock>);
static_assert(noexcept(std::declval<rt::Lock &>().unlock()));
static_assert(noexcept(std::declval<rt::RLock &>().unlock()));
static_assert(std::is_base_of_v<std::runtime_error, rt::Error>);

// A clock that runs at half the speed of steady_clock: try_lock_until must re-check it.
struct SlowClock {
    using rep = std::chrono::nanoseconds::rep;
    using period = std::chrono::nanoseconds::period;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<SlowClock>;
    static constexpr bool is_steady = true;
    static time_point now() noexcept {
        return time_point(std::chrono::steady_clock::now().time_since_epoch() / 2);
    }
};

static void lock_guard_unique_lock_and_scoped_lock_protect_a_counter() {
    rt::Lock a;
    rt::RLock b;
    long counter = 0;
    const long n = rt_test_scaled(20000, 200);
    // Two threads take the pair in opposite orders: std::scoped_lock must avoid the deadlock.
    rt::Thread t1([&] {
        for (long i = 0; i < n; i++) {
            std::scoped_lock both(a, b);
            counter++;
        }
    });
    rt::Thread t2([&] {
        for (long i = 0; i < n; i++) {
            std::scoped_lock both(b, a);
            counter++;
        }
    });
    t1.start();
    t2.start();
    for (long i = 0; i < n; i++) {
        if (i % 2) {
            std::lock_guard<rt::Lock> g(a);
            std::unique_lock<rt::RLock> u(b);
            counter++;
        } else {
            std::unique_lock<rt::Lock> u(a, std::defer_lock);
            u.lock();
            std::lock_guard<rt::RLock> g(b);
            counter++;
        }
    }
    t1.join();
    t2.join();
    CHECK_EQ_INT(counter, 3 * n);
    CHECK(!a.locked());
}

static void try_lock_for_times_out_on_a_held_lock() {
    rt::Lock l;
    l.lock();
    double t0 = rt_test_now();
    CHECK(!l.try_lock_for(100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!l.try_lock());
    CHECK(!l.try_lock_for(-5s)); // a negative duration polls
    l.unlock();
    CHECK(l.try_lock_for(100ms));
    l.unlock();
}

static void try_lock_until_takes_any_clock() {
    rt::Lock l;
    l.lock();
    double t0 = rt_test_now();
    CHECK(!l.try_lock_until(std::chrono::steady_clock::now() + 100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    t0 = rt_test_now();
    CHECK(!l.try_lock_until(std::chrono::system_clock::now() + 100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    l.unlock();
    // A deadline in the past is a try_lock.
    CHECK(l.try_lock_until(std::chrono::system_clock::now() - 1h));
    CHECK(!l.try_lock_until(std::chrono::steady_clock::now() - 1h));
    l.unlock();
}

static void try_lock_until_rechecks_a_slow_clock() {
    rt::Lock l;
    l.lock();
    double t0 = rt_test_now();
    // 50 ms on a clock at half speed: at least 100 ms of real time.
    CHECK(!l.try_lock_until(SlowClock::now() + 50ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    l.unlock();
}

static void timed_rlock_is_timed_lockable() {
    rt::RLock r;
    std::unique_lock<rt::RLock> mine(r);
    bool other_got_it = true;
    rt::Thread t([&] {
        std::unique_lock<rt::RLock> u(r, std::defer_lock);
        other_got_it = u.try_lock_for(50ms);
        if (!other_got_it) other_got_it = u.try_lock_until(std::chrono::system_clock::now() + 50ms);
    });
    t.start();
    t.join();
    CHECK(!other_got_it);
    // The owner re-enters without blocking, whatever the timeout.
    CHECK(r.try_lock_for(0s));
    CHECK_EQ_INT(r.count(), 2);
    r.unlock();
}

static void condition_variable_any_works_with_rt_lock() {
    rt::Lock l;
    std::condition_variable_any cv;
    std::deque<int> items;
    const int n = 1000;
    long sum = 0;
    rt::Thread consumer([&] {
        for (int got = 0; got < n; got++) {
            std::unique_lock<rt::Lock> u(l);
            cv.wait(u, [&] { return !items.empty(); });
            sum += items.front();
            items.pop_front();
        }
    });
    consumer.start();
    for (int i = 1; i <= n; i++) {
        {
            std::lock_guard<rt::Lock> g(l);
            items.push_back(i);
        }
        cv.notify_one();
    }
    consumer.join();
    CHECK_EQ_INT(sum, (long)n * (n + 1) / 2);
    // A timed wait through the standard's condition variable.
    std::unique_lock<rt::Lock> u(l);
    double t0 = rt_test_now();
    CHECK(cv.wait_for(u, 50ms) == std::cv_status::timeout);
    CHECK_ELAPSED(t0, 0.05, 2.0);
    CHECK(l.locked());
}

static void condition_variable_any_works_with_rt_rlock() {
    rt::RLock r;
    std::condition_variable_any cv;
    bool ready = false;
    rt::Thread t([&] {
        std::lock_guard<rt::RLock> g(r);
        ready = true;
        cv.notify_all();
    });
    std::unique_lock<rt::RLock> u(r);
    t.start();
    cv.wait(u, [&] { return ready; });
    CHECK(r.is_owned());
    u.unlock();
    t.join();
}

static void any_thread_may_release_a_lock() {
    rt::Lock l;
    rt::Thread t([&] { l.lock(); });
    t.start();
    t.join();
    CHECK(l.locked());
    l.release(); // Python: a Lock has no owner
    CHECK(!l.locked());
}

static void unlock_never_throws_and_release_does() {
    rt::Lock l;
    l.unlock(); // unlocked already: ignored
    CHECK(!l.locked());
    CHECK_THROWS(l.release(), RT_ENOTLOCKED, "release unlocked lock");
    rt::RLock r;
    r.unlock();
    CHECK_THROWS(r.release(), RT_ENOTOWNER, "cannot release un-acquired lock");
}

static void rlock_is_reentrant_and_owned() {
    rt::RLock r;
    {
        std::lock_guard<rt::RLock> g1(r);
        std::lock_guard<rt::RLock> g2(r);
        std::unique_lock<rt::RLock> g3(r);
        CHECK(r.is_owned());
        CHECK_EQ_INT(r.count(), 3);
    }
    CHECK(!r.is_owned());
    CHECK_EQ_INT(r.count(), 0);
}

static void rlock_release_by_another_thread_throws() {
    rt::RLock r;
    r.lock();
    bool threw = false, still_owned = false;
    std::string message;
    rt::Thread t([&] {
        r.unlock(); // ignored: not the owner
        try {
            r.release();
        } catch (const rt::Error &e) {
            threw = e.status() == RT_ENOTOWNER;
            message = e.what();
        }
    });
    t.start();
    t.join();
    still_owned = r.is_owned();
    CHECK(threw);
    CHECK_STR_EQ(message, "cannot release un-acquired lock");
    CHECK(still_owned);
    r.release();
}

static void python_style_acquire_returns_bool_and_checks_arguments() {
    rt::Lock l;
    CHECK(l.acquire());
    CHECK(!l.acquire(false));
    CHECK(!l.acquire(true, 0.05));
    CHECK_THROWS(l.acquire(false, 1.0), RT_EINVAL, "can't specify a timeout for a non-blocking call");
    CHECK_THROWS(l.acquire(true, -2.0), RT_EINVAL, "timeout value must be a non-negative number");
    CHECK_THROWS(l.acquire(true, NAN), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_THROWS(l.try_lock_for(std::chrono::duration<double>(NAN)), RT_EINVAL,
                 "Invalid value NaN (not a number)");
    // A duration beyond RT_TIMEOUT_MAX is clamped, not an overflow: poll it with a free lock.
    l.release();
    CHECK(l.try_lock_for(std::chrono::hours::max()));
    l.release();
}

static void moved_from_lock_is_empty() {
    rt::Lock a;
    rt_lock *h = a.handle();
    rt::Lock b(std::move(a));
    CHECK(a.handle() == nullptr);
    CHECK(b.handle() == h);
    CHECK_THROWS(a.lock(), RT_EINVAL, "NULL handle");
    a.unlock(); // still never throws
    rt::Lock c;
    c = std::move(b);
    CHECK(c.handle() == h);
    c.lock();
    CHECK(c.locked());
    c.unlock();
    rt_lock *raw = c.detach();
    CHECK(raw == h && c.handle() == nullptr);
    rt::Lock d = rt::Lock::adopt(raw);
    CHECK(d.handle() == raw);
}

static void a_blocked_lock_is_interruptible() {
    rt::Lock l;
    l.lock();
    int status = -1;
    rt::Thread t([&] {
        try {
            l.lock();
            status = RT_OK;
        } catch (const rt::Error &e) {
            status = e.status();
        }
    });
    t.start();
    WAIT_UNTIL(rt_test_sleeps_in_futex((long)t.native_id()), 10.0);
    t.interrupt();
    t.join();
    CHECK_EQ_INT(status, RT_EINTR);
    l.unlock();
}

RT_CASES(
    RT_CASE(lock_guard_unique_lock_and_scoped_lock_protect_a_counter),
    RT_CASE(try_lock_for_times_out_on_a_held_lock),
    RT_CASE(try_lock_until_takes_any_clock),
    RT_CASE(try_lock_until_rechecks_a_slow_clock),
    RT_CASE(timed_rlock_is_timed_lockable),
    RT_CASE(condition_variable_any_works_with_rt_lock),
    RT_CASE(condition_variable_any_works_with_rt_rlock),
    RT_CASE(any_thread_may_release_a_lock),
    RT_CASE(unlock_never_throws_and_release_does),
    RT_CASE(rlock_is_reentrant_and_owned),
    RT_CASE(rlock_release_by_another_thread_throws),
    RT_CASE(python_style_acquire_returns_bool_and_checks_arguments),
    RT_CASE(moved_from_lock_is_empty),
    RT_CASE(a_blocked_lock_is_interruptible)
)
