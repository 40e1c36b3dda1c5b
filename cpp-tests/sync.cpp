// rt::Condition, rt::Semaphore, rt::BoundedSemaphore, rt::Event and rt::Barrier.
#include "cpp_test.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

static_assert(!std::is_copy_constructible_v<rt::Condition> && std::is_nothrow_move_constructible_v<rt::Condition>);
static_assert(!std::is_copy_constructible_v<rt::Semaphore> && std::is_nothrow_move_constructible_v<rt::Semaphore>);
static_assert(!std::is_copy_constructible_v<rt::Event> && std::is_nothrow_move_constructible_v<rt::Event>);
static_assert(!std::is_copy_constructible_v<rt::Barrier> && std::is_nothrow_move_constructible_v<rt::Barrier>);
static_assert(std::is_base_of_v<rt::Semaphore, rt::BoundedSemaphore>);

static void condition_producer_consumer_with_unique_lock() {
    rt::Condition c;
    std::vector<int> items;
    const int n = 500;
    long sum = 0;
    rt::Thread consumer([&] {
        for (int got = 0; got < n; got++) {
            std::unique_lock<rt::Condition> u(c);
            c.wait([&] { return !items.empty(); });
            sum += items.back();
            items.pop_back();
        }
    });
    consumer.start();
    for (int i = 1; i <= n; i++) {
        std::lock_guard<rt::Condition> g(c);
        items.push_back(i);
        c.notify();
    }
    consumer.join();
    CHECK_EQ_INT(sum, (long)n * (n + 1) / 2);
}

static void condition_wait_for_times_out_and_keeps_the_lock() {
    rt::Lock l;
    {
        rt::Condition c(l);
        std::unique_lock<rt::Condition> u(c);
        double t0 = rt_test_now();
        CHECK(!c.wait_for(100ms));
        CHECK_ELAPSED(t0, 0.1, 2.0);
        CHECK(l.locked());
        t0 = rt_test_now();
        CHECK(!c.wait_for(50ms, [] { return false; }));
        CHECK_ELAPSED(t0, 0.05, 2.0);
        CHECK(!c.wait_until(std::chrono::system_clock::now() + 50ms));
        CHECK(c.wait_until(std::chrono::steady_clock::now() + 10s, [] { return true; }));
        CHECK(!c.wait(0.0));
        CHECK(l.locked());
    }
    CHECK(!l.locked());
}

static void condition_wait_releases_a_recursive_rlock_fully() {
    rt::RLock r;
    rt::Condition c(r);
    std::atomic<int> stage{0};
    rt::Thread t([&] {
        std::lock_guard<rt::RLock> g(r); // only possible if the waiter released every level
        stage = 1;
        c.notify();
    });
    std::lock_guard<rt::RLock> g1(r);
    std::lock_guard<rt::RLock> g2(r);
    t.start();
    c.wait([&] { return stage.load() == 1; });
    CHECK_EQ_INT(r.count(), 2);
    t.join();
}

static void condition_predicate_exception_propagates_with_the_lock_held() {
    rt::Condition c;
    std::unique_lock<rt::Condition> u(c);
    bool caught = false;
    try {
        c.wait([]() -> bool { throw std::logic_error("predicate failed"); });
    } catch (const std::logic_error &e) {
        caught = std::string(e.what()) == "predicate failed";
    }
    CHECK(caught);
    // The condition's own RLock is still held by this thread: notify needs it.
    c.notify_all();
}

static void condition_without_its_lock_throws() {
    rt::Condition c;
    CHECK_THROWS(c.wait(), RT_ENOTOWNER, "cannot wait on un-acquired lock");
    CHECK_THROWS(c.notify(), RT_ENOTOWNER, "cannot notify on un-acquired lock");
    CHECK_THROWS(c.notify_all(), RT_ENOTOWNER, "cannot notify on un-acquired lock");
}

static void semaphore_counts_and_times_out() {
    rt::Semaphore s(2);
    CHECK(s.try_acquire());
    CHECK(s.acquire());
    CHECK_EQ_INT(s.value(), 0);
    double t0 = rt_test_now();
    CHECK(!s.try_acquire_for(100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!s.try_acquire_until(std::chrono::system_clock::now() + 50ms));
    s.release(3);
    CHECK_EQ_INT(s.value(), 3);
    CHECK_THROWS(s.release(0), RT_EINVAL, "n must be one or more");
    CHECK_THROWS(s.acquire(false, 1.0), RT_EINVAL, "can't specify timeout for non-blocking acquire");
    CHECK_THROWS(rt::Semaphore(-1), RT_EINVAL, "semaphore initial value must be >= 0");
}

static void semaphore_wakes_a_blocked_thread() {
    rt::Semaphore s(0);
    std::atomic<int> got{0};
    rt::Thread t([&] {
        s.acquire();
        got = 1;
    });
    t.start();
    WAIT_UNTIL(rt_test_sleeps_in_futex((long)t.native_id()), 10.0);
    CHECK_EQ_INT(got.load(), 0);
    s.release();
    t.join();
    CHECK_EQ_INT(got.load(), 1);
}

static void bounded_semaphore_is_a_lockable_pool() {
    rt::BoundedSemaphore pool(2);
    std::atomic<int> inside{0}, most{0};
    std::vector<rt::Thread> threads;
    for (int i = 0; i < 6; i++) {
        threads.emplace_back([&] {
            for (int k = 0; k < 200; k++) {
                std::lock_guard<rt::Semaphore> g(pool); // Python: with pool_sema:
                int now = ++inside;
                int m = most.load();
                while (now > m && !most.compare_exchange_weak(m, now)) {
                }
                --inside;
            }
        });
    }
    for (auto &t : threads) t.start();
    for (auto &t : threads) t.join();
    CHECK(most.load() >= 1 && most.load() <= 2);
    CHECK_EQ_INT(pool.value(), 2);
    CHECK_THROWS(pool.release(), RT_EOVERRELEASE, "Semaphore released too many times");
    CHECK_EQ_INT(pool.value(), 2);
    pool.unlock(); // never throws
    CHECK_EQ_INT(pool.value(), 2);
}

static void event_wait_set_and_clear() {
    rt::Event e;
    CHECK(!e.is_set());
    double t0 = rt_test_now();
    CHECK(!e.wait_for(100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!e.wait_until(std::chrono::system_clock::now() + 20ms));
    CHECK(!e.wait(0.0));
    std::atomic<int> woke{0};
    std::vector<rt::Thread> waiters;
    for (int i = 0; i < 4; i++) {
        waiters.emplace_back([&] {
            if (e.wait()) ++woke;
        });
        waiters.back().start();
    }
    e.set();
    for (auto &t : waiters) t.join();
    CHECK_EQ_INT(woke.load(), 4);
    CHECK(e.is_set());
    CHECK(e.wait_for(0s));
    e.clear();
    CHECK(!e.is_set());
    CHECK_THROWS(e.wait(-2.0), RT_EINVAL, "timeout value must be a non-negative number");
}

static void barrier_hands_out_every_index_and_runs_the_action() {
    const int parties = 4, cycles = 50;
    std::atomic<int> actions{0};
    // The action runs once per cycle, each time on the same object (its string is not moved
    // away after the first cycle).
    rt::Barrier b(parties, [&actions, tag = std::string("cycle")] {
        if (tag == "cycle") ++actions;
    });
    CHECK_EQ_INT(b.parties(), parties);
    std::vector<std::vector<std::size_t>> seen(parties);
    std::vector<rt::Thread> threads;
    for (int i = 0; i < parties; i++) {
        threads.emplace_back([&, i] {
            for (int c = 0; c < cycles; c++) seen[i].push_back(b.wait());
        });
    }
    for (auto &t : threads) t.start();
    for (auto &t : threads) t.join();
    CHECK_EQ_INT(actions.load(), cycles);
    for (int c = 0; c < cycles; c++) {
        unsigned mask = 0;
        for (int i = 0; i < parties; i++) mask |= 1u << seen[i][c];
        CHECK_EQ_INT(mask, (1u << parties) - 1);
    }
    CHECK(!b.broken());
}

static void barrier_action_exception_goes_to_its_thread() {
    rt::Barrier b(2, [] { throw std::runtime_error("action failed"); });
    int other = -1;
    rt::Thread t([&] {
        try {
            b.wait();
            other = RT_OK;
        } catch (const rt::Error &e) {
            other = e.status();
        } catch (...) {
            other = 1000;
        }
    });
    t.start();
    WAIT_UNTIL(b.n_waiting() == 1, 10.0);
    bool caught = false;
    try {
        b.wait(); // the last to arrive: runs the action
    } catch (const std::runtime_error &e) {
        caught = std::string(e.what()) == "action failed" && dynamic_cast<const rt::Error *>(&e) == nullptr;
    }
    t.join();
    CHECK(caught);
    CHECK_EQ_INT(other, RT_EBROKEN);
    CHECK(b.broken());
    CHECK_THROWS(b.wait(), RT_EBROKEN, "barrier is broken");
    b.reset();
    CHECK(!b.broken());
}

static void barrier_timeout_breaks_it() {
    rt::Barrier b(2);
    double t0 = rt_test_now();
    CHECK_THROWS(b.wait_for(100ms), RT_EBROKEN, "barrier wait timed out");
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(b.broken());
    b.reset();
    rt::Barrier d(2, 50ms); // a default timeout
    CHECK_THROWS(d.wait(), RT_EBROKEN, "barrier wait timed out");
    rt::Barrier a(3);
    a.abort();
    CHECK_THROWS(a.wait(), RT_EBROKEN, "barrier is broken");
    CHECK_THROWS(rt::Barrier(0), RT_EINVAL, "parties must be > 0");
}

RT_CASES(
    RT_CASE(condition_producer_consumer_with_unique_lock),
    RT_CASE(condition_wait_for_times_out_and_keeps_the_lock),
    RT_CASE(condition_wait_releases_a_recursive_rlock_fully),
    RT_CASE(condition_predicate_exception_propagates_with_the_lock_held),
    RT_CASE(condition_without_its_lock_throws),
    RT_CASE(semaphore_counts_and_times_out),
    RT_CASE(semaphore_wakes_a_blocked_thread),
    RT_CASE(bounded_semaphore_is_a_lockable_pool),
    RT_CASE(event_wait_set_and_clear),
    RT_CASE(barrier_hands_out_every_index_and_runs_the_action),
    RT_CASE(barrier_action_exception_goes_to_its_thread),
    RT_CASE(barrier_timeout_breaks_it)
)
