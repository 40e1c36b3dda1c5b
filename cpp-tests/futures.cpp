// rt::Executor, rt::Future<T>, rt::wait and rt::as_completed.
#include "cpp_test.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;

static_assert(std::is_copy_constructible_v<rt::Future<int>>);
static_assert(!std::is_copy_constructible_v<rt::Executor> && std::is_nothrow_move_constructible_v<rt::Executor>);

// Counts its live copies: tells who destroyed a callable, and when.
struct Tracked {
    static std::atomic<int> alive;
    Tracked() { ++alive; }
    Tracked(const Tracked &) { ++alive; }
    Tracked(Tracked &&) noexcept { ++alive; }
    ~Tracked() { --alive; }
};
std::atomic<int> Tracked::alive{0};

static int add(int a, int b) { return a + b; }

static void submit_runs_any_callable_and_get_gives_its_value() {
    rt::Executor ex(2, "cpp");
    auto owned = std::make_unique<int>(40);
    rt::Future<int> a = ex.submit(add, 2, 3);
    rt::Future<std::string> b = ex.submit([](std::string s) { return s + "!"; }, std::string("hi"));
    rt::Future<int> c = ex.submit([p = std::move(owned)] { return *p + 2; });
    std::atomic<int> side{0};
    rt::Future<void> d = ex.submit([&side] { side = 7; });
    rt::Future<std::string> name = ex.submit([] { return rt::current_thread_name(); });
    CHECK_EQ_INT(a.get(), 5);
    CHECK_STR_EQ(b.get(), "hi!");
    CHECK_EQ_INT(c.get(), 42);
    d.get();
    CHECK_EQ_INT(side.load(), 7);
    CHECK(name.get() == "cpp_0" || name.get() == "cpp_1");
    CHECK(a.done() && !a.cancelled() && !a.running());
    CHECK(a.exception() == nullptr);
    rt::Future<int> copy = a; // copies share the future
    CHECK_EQ_INT(copy.get(), 5);
}

static void the_callable_is_destroyed_once_run_or_cancelled() {
    Tracked::alive = 0;
    {
        rt::Executor ex(1);
        rt::Event go;
        auto blocker = ex.submit([&go] { go.wait(); });
        auto f = ex.submit([t = Tracked()] { (void)t; return 1; });
        auto g = ex.submit([t = Tracked()] { (void)t; return 2; });
        CHECK_EQ_INT(Tracked::alive.load(), 2);
        CHECK(g.cancel());
        CHECK_EQ_INT(Tracked::alive.load(), 2); // still queued: freed when a worker drops it
        go.set();
        CHECK_EQ_INT(f.get(), 1);
        CHECK_THROWS(g.get(), RT_ECANCELLED, "the future was cancelled");
        blocker.get();
    }
    CHECK_EQ_INT(Tracked::alive.load(), 0);
}

struct Custom : std::runtime_error {
    using std::runtime_error::runtime_error;
};

static void get_rethrows_what_the_task_threw() {
    rt::Executor ex(1);
    auto f = ex.submit([]() -> int { throw Custom("custom failure"); });
    try {
        f.get();
        rt_test_fail(__FILE__, __LINE__, "get() did not throw");
    } catch (const Custom &e) {
        CHECK_STR_EQ(e.what(), "custom failure");
    }
    CHECK(f.exception() != nullptr);
    // The C face sees a failure with the message and code -1.
    int code = 0;
    void *r;
    CHECK_OK(rt_future_exception(f.get_handle(), 0.0, &code));
    CHECK_EQ_INT(code, -1);
    CHECK_ERR(rt_future_result(f.get_handle(), 0.0, &r), RT_EFAILED, "custom failure");
    // rt::Error keeps its status as the code.
    rt::Lock l;
    auto g = ex.submit([&l] { l.release(); });
    CHECK_THROWS(g.get(), RT_ENOTLOCKED, "release unlocked lock");
    CHECK_OK(rt_future_exception(g.get_handle(), 0.0, &code));
    CHECK_EQ_INT(code, RT_ENOTLOCKED);
}

static void wait_for_and_wait_until_time_out_then_see_it_ready() {
    rt::Executor ex(1);
    rt::Event go;
    auto f = ex.submit([&go] { go.wait(); return 3; });
    double t0 = rt_test_now();
    CHECK(f.wait_for(200ms) == std::future_status::timeout);
    CHECK_ELAPSED(t0, 0.2, 0.2 + RT_TEST_PROMPT);
    t0 = rt_test_now();
    CHECK(f.wait_until(std::chrono::system_clock::now() + 200ms) == std::future_status::timeout);
    CHECK_ELAPSED(t0, 0.19, 0.2 + RT_TEST_PROMPT);
    CHECK(f.running());
    CHECK(!f.cancel());
    go.set();
    CHECK(f.wait_until(std::chrono::steady_clock::now() + 60s) == std::future_status::ready);
    CHECK(f.wait_for(0s) == std::future_status::ready);
    f.wait();
    CHECK_EQ_INT(f.get(), 3);
}

static void submit_after_shutdown_and_to_a_broken_pool_throws() {
    rt::Executor ex(2);
    ex.shutdown();
    CHECK_THROWS(ex.submit(add, 1, 2), RT_ESHUTDOWN, "cannot schedule new futures after shutdown");
    rt::Executor broken(1, "", [] { throw std::runtime_error("no"); });
    auto f = broken.submit(add, 1, 2);
    CHECK_THROWS(f.get(), RT_EFAILED, "A thread initializer failed, the thread pool is not usable anymore");
    CHECK_THROWS(broken.submit(add, 1, 2), RT_EBROKEN,
                 "A thread initializer failed, the thread pool is not usable anymore");
}

static void initializer_runs_in_each_worker() {
    std::atomic<int> inits{0};
    {
        rt::Executor ex(3, "init", [&inits] { ++inits; });
        rt::Event go;
        std::vector<rt::Future<void>> fs;
        for (int i = 0; i < 3; i++) fs.push_back(ex.submit([&go] { go.wait(); }));
        CHECK_EQ_INT(ex.thread_count(), 3u);
        go.set();
        for (auto &f : fs) f.get();
    }
    CHECK_EQ_INT(inits.load(), 3);
}

static void destructor_waits_for_submitted_work() {
    std::atomic<int> ran{0};
    {
        rt::Executor ex(2);
        for (int i = 0; i < 20; i++) ex.submit([&ran] { rt_test_sleep(0.001); ++ran; });
    }
    CHECK_EQ_INT(ran.load(), 20);
}

static void wait_gives_done_and_not_done() {
    rt::Executor ex(4);
    rt::Event go;
    std::vector<rt::Future<int>> fs;
    fs.push_back(ex.submit(add, 1, 1));
    fs.push_back(ex.submit([&go] { go.wait(); return 0; }));
    fs.push_back(ex.submit([]() -> int { throw std::runtime_error("bad"); }));
    auto r = rt::wait(fs, rt::ReturnWhen::first_exception);
    CHECK(std::set<std::size_t>(r.done.begin(), r.done.end()).count(2) == 1);
    CHECK(std::set<std::size_t>(r.not_done.begin(), r.not_done.end()).count(1) == 1);
    double t0 = rt_test_now();
    r = rt::wait(fs, 100ms);
    CHECK_ELAPSED(t0, 0.1, 0.1 + RT_TEST_PROMPT);
    CHECK(r.done.size() == 2 && r.not_done.size() == 1 && r.not_done[0] == 1);
    go.set();
    r = rt::wait(fs, rt::ReturnWhen::all_completed);
    CHECK(r.done.size() == 3 && r.not_done.empty());
    r = rt::wait(std::vector<rt::Future<int>>{}, rt::ReturnWhen::first_completed);
    CHECK(r.done.empty() && r.not_done.empty());
}

static void as_completed_gives_each_future_once() {
    rt::Executor ex(4);
    std::vector<rt::Future<int>> fs;
    for (int i = 0; i < 200; i++) fs.push_back(ex.submit([i] { return i; }));
    std::set<int> seen;
    for (const auto &f : rt::as_completed(fs)) seen.insert(f.get());
    CHECK_EQ_INT(seen.size(), 200u);
    CHECK_EQ_INT(*seen.rbegin(), 199);
}

static void as_completed_times_out() {
    rt::Executor ex(1);
    rt::Event go;
    std::vector<rt::Future<int>> fs;
    fs.push_back(ex.submit([] { return 1; }));
    fs.push_back(ex.submit([&go] { go.wait(); return 2; }));
    fs[0].wait();
    double t0 = rt_test_now();
    auto it = rt::as_completed(fs, 150ms);
    auto first = it.next();
    CHECK(first && first->get() == 1);
    CHECK_THROWS(it.next(), RT_TIMEOUT, "1 (of 2) futures unfinished");
    CHECK_ELAPSED(t0, 0.15, 0.15 + RT_TEST_PROMPT);
    go.set();
    fs[1].wait();
    auto second = it.next();
    CHECK(second && second->get() == 2);
    CHECK(!it.next());
}

static void done_callback_runs_in_the_completing_thread_with_the_future() {
    rt::Executor ex(1, "cb");
    rt::Event go;
    auto f = ex.submit([&go] { go.wait(); return 42; });
    std::atomic<int> calls{0}, value{0};
    std::atomic<std::uint64_t> ran_in{0};
    f.add_done_callback([&](const rt::Future<int> &done) {
        value = done.get(); // done: no wait
        ran_in = rt::get_ident();
        ++calls;
    });
    // A second one, a function object taking the future by value, runs after the first.
    std::vector<int> order;
    rt::Lock order_lock;
    f.add_done_callback([&](rt::Future<int> done) {
        std::lock_guard<rt::Lock> g(order_lock);
        order.push_back(calls.load());
        CHECK(done.done() && !done.cancelled());
    });
    CHECK_EQ_INT(calls.load(), 0); // not done yet: the task waits for `go`
    go.set();
    CHECK_EQ_INT(f.get(), 42);
    WAIT_UNTIL(calls.load() == 1, 30.0);
    WAIT_UNTIL([&] { std::lock_guard<rt::Lock> g(order_lock); return order.size() == 1; }(), 30.0);
    CHECK_EQ_INT(value.load(), 42);
    CHECK(ran_in.load() != rt::get_ident()); // in the worker
    CHECK_EQ_INT(order[0], 1);               // in the order added
}

static void done_callback_on_a_done_future_runs_at_once_in_the_caller() {
    rt::Executor ex(1);
    auto f = ex.submit([] { return std::string("ready"); });
    f.wait();
    std::string seen;
    std::uint64_t ran_in = 0;
    f.add_done_callback([&](const rt::Future<std::string> &done) {
        seen = done.get();
        ran_in = rt::get_ident();
    });
    CHECK_STR_EQ(seen, "ready");
    CHECK(ran_in == rt::get_ident());
    // A failed task's callback sees the exception, a cancelled one's the cancellation.
    auto g = ex.submit([]() -> int { throw Custom("task failed"); });
    g.wait();
    bool saw_exception = false;
    g.add_done_callback([&](const rt::Future<int> &done) { saw_exception = done.exception() != nullptr; });
    CHECK(saw_exception);
    rt::Event go;
    auto blocker = ex.submit([&go] { go.wait(); });
    auto queued = ex.submit([] { return 1; });
    bool saw_cancelled = false;
    std::uint64_t cancelled_in = 0;
    queued.add_done_callback([&](const rt::Future<int> &done) {
        saw_cancelled = done.cancelled();
        cancelled_in = rt::get_ident();
    });
    CHECK(!saw_cancelled);
    CHECK(queued.cancel()); // the callbacks run here, in the cancelling thread
    CHECK(saw_cancelled && cancelled_in == rt::get_ident());
    go.set();
    blocker.get();
    // The callable is destroyed once it has run (on a pending future, or at once).
    Tracked::alive = 0;
    auto h = ex.submit([] { return 5; });
    h.add_done_callback([t = Tracked()](const rt::Future<int> &) { (void)t; });
    h.get();
    WAIT_UNTIL(Tracked::alive.load() == 0, 30.0);
    h.add_done_callback([t = Tracked()](const rt::Future<int> &) { (void)t; });
    CHECK_EQ_INT(Tracked::alive.load(), 0);
    // An empty Future has none.
    rt::Future<int> none;
    CHECK_THROWS(none.add_done_callback([](const rt::Future<int> &) {}), RT_EINVAL, "NULL handle");
}

/* Runs `body` with stderr going to a file; gives what was written. */
template <class F>
static std::string capture_stderr(F body) {
    StderrCapture capture;
    body();
    return capture.finish();
}

static void done_callback_exceptions_are_logged_and_ignored() {
    rt::Executor ex(1);
    rt::Event go;
    std::atomic<int> later{0};
    rt::Future<int> f, done;
    std::string log = capture_stderr([&] {
        f = ex.submit([&go] { go.wait(); return 1; });
        // In the worker: the exception does not reach it, and the next callback runs.
        f.add_done_callback([](const rt::Future<int> &) { throw std::runtime_error("callback failed"); });
        f.add_done_callback([&later](const rt::Future<int> &) { ++later; });
        go.set();
        CHECK_EQ_INT(f.get(), 1);
        WAIT_UNTIL(later.load() == 1, 30.0);
        // At once, in this thread: add_done_callback does not throw it.
        done = ex.submit([] { return 2; });
        done.wait();
        done.add_done_callback([](const rt::Future<int> &) { throw 17; });
    });
    CHECK_EQ_INT(later.load(), 1);
    // The pool goes on.
    CHECK_EQ_INT(ex.submit(add, 20, 22).get(), 42);
    char first[128], second[128];
    std::snprintf(first, sizeof first,
                  "exception calling callback for <Future at %p state=finished>: callback failed\n",
                  static_cast<void *>(f.get_handle()));
    std::snprintf(second, sizeof second,
                  "exception calling callback for <Future at %p state=finished>: unknown exception "
                  "(not a std::exception)\n",
                  static_cast<void *>(done.get_handle()));
    CHECK_STR_EQ(log, std::string(first) + second);
}

RT_CASES(
    RT_CASE(submit_runs_any_callable_and_get_gives_its_value),
    RT_CASE(the_callable_is_destroyed_once_run_or_cancelled),
    RT_CASE(get_rethrows_what_the_task_threw),
    RT_CASE(wait_for_and_wait_until_time_out_then_see_it_ready),
    RT_CASE(submit_after_shutdown_and_to_a_broken_pool_throws),
    RT_CASE(initializer_runs_in_each_worker),
    RT_CASE(destructor_waits_for_submitted_work),
    RT_CASE(wait_gives_done_and_not_done),
    RT_CASE(as_completed_gives_each_future_once),
    RT_CASE(as_completed_times_out),
    RT_CASE(done_callback_runs_in_the_completing_thread_with_the_future),
    RT_CASE(done_callback_on_a_done_future_runs_at_once_in_the_caller),
    RT_CASE(done_callback_exceptions_are_logged_and_ignored)
)
