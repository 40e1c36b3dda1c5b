// rt::Thread, rt::Timer, rt::start_new_thread, rt::Local and the thread exception handler.
#include "cpp_test.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

using namespace std::chrono_literals;

static_assert(!std::is_copy_constructible_v<rt::Thread> && std::is_nothrow_move_constructible_v<rt::Thread>);
static_assert(std::is_base_of_v<rt::Thread, rt::Timer>);

// Counts its live copies: tells who destroyed a callable, and when.
struct Tracked {
    static std::atomic<int> alive;
    Tracked() { ++alive; }
    Tracked(const Tracked &) { ++alive; }
    Tracked(Tracked &&) noexcept { ++alive; }
    ~Tracked() { --alive; }
};
std::atomic<int> Tracked::alive{0};

static int add_into(int *out, int a, int b) { return *out = a + b; }

struct Counter {
    int value = 0;
    void bump(int by) { value += by; }
};

static void thread_runs_any_callable_with_its_arguments() {
    auto owned = std::make_unique<int>(41);
    int from_lambda = 0, from_function = 0;
    Counter counter;
    rt::Thread a([p = std::move(owned), &from_lambda] { from_lambda = *p + 1; });
    rt::Thread b(add_into, &from_function, 2, 3);
    rt::Thread c(&Counter::bump, &counter, 7);
    rt::Thread d([](std::string s, int &out) { out = (int)s.size(); }, std::string("four"),
                 std::ref(from_function));
    a.start();
    b.start();
    c.start();
    a.join();
    b.join();
    c.join();
    CHECK_EQ_INT(from_lambda, 42);
    CHECK_EQ_INT(from_function, 5);
    CHECK_EQ_INT(counter.value, 7);
    d.start();
    d.join();
    CHECK_EQ_INT(from_function, 4);
}

static void thread_object_follows_python_rules() {
    std::uint64_t inside = 0;
    bool alive_inside = false;
    rt::Thread t([&] {
        inside = rt::get_ident();
        alive_inside = rt::current_thread().is_alive();
    });
    CHECK(t.name().rfind("Thread-", 0) == 0);
    CHECK(!t.daemon());
    CHECK_EQ_INT(t.ident(), 0);
    CHECK(!t.is_alive());
    CHECK_THROWS(t.join(), RT_ESTATE, "cannot join thread before it is started");
    t.set_name("worker-\xc3\xa9");
    CHECK_STR_EQ(t.name(), "worker-\xc3\xa9");
    t.set_daemon(true);
    CHECK(t.daemon());
    t.set_daemon(false);
    t.start();
    CHECK_THROWS(t.start(), RT_ESTATE, "threads can only be started once");
    CHECK_THROWS(t.set_daemon(true), RT_ESTATE, "cannot set daemon status of active thread");
    t.join();
    t.join(); // again: fine
    CHECK(inside != 0 && inside == t.ident());
    CHECK(t.native_id() != 0);
    CHECK(alive_inside);
    CHECK(!t.is_alive());
    rt::Thread me = rt::current_thread();
    CHECK_THROWS(me.join(), RT_EDEADLK, "cannot join current thread");
    CHECK_STR_EQ(rt::main_thread().name(), "MainThread");
    CHECK_EQ_INT(rt::main_thread().ident(), rt::get_ident());
}

static void join_for_reports_a_live_thread() {
    rt::Event stop;
    rt::Thread t([&] { stop.wait(); });
    t.start();
    double t0 = rt_test_now();
    CHECK(!t.join_for(100ms));
    CHECK_ELAPSED(t0, 0.1, 2.0);
    CHECK(!t.join_until(std::chrono::system_clock::now() + 20ms));
    CHECK(t.is_alive());
    bool listed = false;
    for (const rt::Thread &x : rt::enumerate()) listed = listed || x.ident() == t.ident();
    CHECK(listed);
    CHECK(rt::active_count() >= 2);
    stop.set();
    CHECK(t.join_for(10s));
    for (const rt::Thread &x : rt::enumerate()) CHECK(x.ident() != t.ident());
}

static void the_callable_is_destroyed_by_whoever_owns_it() {
    {
        rt::Thread never([k = Tracked()] { (void)k; });
        CHECK(Tracked::alive.load() >= 1);
        CHECK_THROWS(never.clone(), RT_ESTATE, "cannot share a thread object before it is started");
        rt::Thread moved(std::move(never));
        CHECK(never.handle() == nullptr);
    }
    CHECK_EQ_INT(Tracked::alive.load(), 0); // never started: the owner destroyed it
    rt::Thread t([k = Tracked()] { (void)k; });
    t.start();
    rt::Thread other = t.clone();
    t.join();
    CHECK_EQ_INT(Tracked::alive.load(), 0); // started: the thread destroyed it before ending
    CHECK(other.ident() == t.ident());
}

static std::string handled_name;
static std::string handled_what;
static std::atomic<int> handled{0};

static void record_exception(const std::string &name, std::exception_ptr e) {
    handled_name = name;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception &x) {
        handled_what = x.what();
    } catch (int n) {
        handled_what = "int " + std::to_string(n);
    }
    ++handled;
}

static void an_escaping_exception_is_printed_and_others_go_on() {
    StderrCapture capture;
    rt::Thread bad([] { throw std::runtime_error("boom"); });
    bad.set_name("worker");
    bad.start();
    bad.join();
    rt::Thread odd([] { throw 42; });
    odd.set_name("odd");
    odd.start();
    odd.join();
    int after = 0;
    rt::Thread good([&] { after = 1; }); // the process and other threads go on
    good.start();
    good.join();
    std::string err = capture.finish();
    CHECK_STR_EQ(err, "Exception in thread worker:\nstd::runtime_error: boom\n"
                      "Exception in thread odd:\nunknown exception (not a std::exception)\n");
    CHECK_EQ_INT(after, 1);
}

static void the_exception_handler_can_be_replaced() {
    CHECK(rt::set_thread_exception_handler(record_exception) == nullptr);
    rt::Thread t([] { throw std::out_of_range("index 7"); });
    t.set_name("custom");
    t.start();
    t.join();
    CHECK_EQ_INT(handled.load(), 1);
    CHECK_STR_EQ(handled_name, "custom");
    CHECK_STR_EQ(handled_what, "index 7");
    rt::Timer timer(0s, [] { throw 7; });
    timer.start();
    timer.join();
    CHECK_EQ_INT(handled.load(), 2);
    CHECK_STR_EQ(handled_what, "int 7");
    // A handler that throws is reported and dropped.
    rt::set_thread_exception_handler([](const std::string &, std::exception_ptr) { throw 1; });
    StderrCapture capture;
    rt::Thread u([] { throw 3; });
    u.start();
    u.join();
    CHECK_STR_EQ(capture.finish(), "Exception in rt::ThreadExceptionHandler (dropped)\n");
    CHECK(rt::set_thread_exception_handler(nullptr) != nullptr);
}

struct Cleanup {
    std::atomic<int> *ran;
    ~Cleanup() { ++*ran; }
};

static void exit_thread_ends_the_thread_running_destructors() {
    std::atomic<int> destructors{0}, after_exit{0};
    rt::set_thread_exception_handler(record_exception);
    int handled_before = handled.load();
    rt::Thread t([&] {
        Cleanup c{&destructors};
        try {
            rt::exit_thread();
        } catch (const std::exception &) {
            ++after_exit; // rt_exit_thread's unwind is not a C++ exception
        }
        ++after_exit;
    });
    t.start();
    t.join();
    CHECK_EQ_INT(destructors.load(), 1);
    CHECK_EQ_INT(after_exit.load(), 0);
    CHECK_EQ_INT(handled.load(), handled_before);
    rt::set_thread_exception_handler(nullptr);
    CHECK_THROWS(rt::exit_thread(), RT_ESTATE,
                 "rt_exit_thread can only end a thread started by rthread, from outside any callback");
}

// pthread_exit in a callable is a forced unwind: C++ destructors run, catch (...) in
// rthread.hpp rethrows it, and the thread ends as a return would end it.
static void pthread_exit_ends_the_thread_running_destructors() {
    std::atomic<int> destructors{0}, after_exit{0};
    rt::set_thread_exception_handler(record_exception);
    int handled_before = handled.load();
    std::size_t count_before = rt_thread_count();
    rt::Thread t([&] {
        Cleanup c{&destructors};
        try {
            pthread_exit(nullptr);
        } catch (const std::exception &) {
            ++after_exit; // a forced unwind is not a C++ exception
        }
        ++after_exit;
    });
    t.start();
    t.join();
    CHECK(!t.is_alive());
    CHECK_EQ_INT(rt_thread_count(), count_before);
    CHECK_EQ_INT(destructors.load(), 1);
    CHECK_EQ_INT(after_exit.load(), 0);
    CHECK_EQ_INT(handled.load(), handled_before);
    rt::set_thread_exception_handler(nullptr);
}

// A C function, as C code hands it to rthread, that lets a C++ exception escape.
extern "C" void throw_from_a_c_thread_function(void *) {
    throw std::runtime_error("escapes the thread function");
}

// rthread does not catch a C++ exception that escapes a thread function given to the C API:
// the C++ runtime calls std::terminate and the process aborts, as with std::thread (the
// header says so). Checked in a fork child.
static void a_cpp_exception_escaping_a_c_thread_function_aborts() {
    std::fflush(nullptr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (rt_start_new_thread(throw_from_a_c_thread_function, nullptr, nullptr) != RT_OK)
            _exit(3);
        rt_test_sleep(60.0);
        _exit(4); // not reached: the abort ends the process first
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ_INT(WTERMSIG(status), SIGABRT);
}

static void timer_fires_after_its_interval_or_never_once_cancelled() {
    std::atomic<double> fired_at{0.0};
    double t0 = rt_test_now();
    rt::Timer t(100ms, [&] { fired_at = rt_test_now(); });
    t.start();
    t.join();
    CHECK(fired_at.load() - t0 >= 0.1);
    std::atomic<int> fired{0};
    rt::Timer never(30.0, [&fired, k = Tracked()] { ++fired; });
    never.start();
    never.cancel();
    t0 = rt_test_now();
    never.join();
    CHECK_ELAPSED(t0, 0.0, 5.0);
    CHECK_EQ_INT(fired.load(), 0);
    CHECK_EQ_INT(Tracked::alive.load(), 0); // a cancelled timer's callable is destroyed too
    rt::Timer interrupted(std::chrono::hours(1), [&fired] { ++fired; });
    interrupted.start();
    interrupted.interrupt(); // stops a waiting timer, as cancel does
    interrupted.join();
    CHECK_EQ_INT(fired.load(), 0);
    rt::Timer late(0.0, [&fired] { ++fired; });
    late.start();
    late.join();
    late.cancel(); // after it fired: nothing happens
    CHECK_EQ_INT(fired.load(), 1);
    CHECK_THROWS(rt::Timer(NAN, [] {}), RT_EINVAL, "Invalid value NaN (not a number)");
    CHECK_THROWS(rt::Timer(1e10, [] {}), RT_EOVERFLOW, "timestamp out of range for platform time_t");
}

static void start_new_thread_runs_a_detached_callable() {
    rt::Event done;
    std::atomic<std::uint64_t> ident{0};
    std::uint64_t got = rt::start_new_thread([&done, &ident](int x) {
        ident = rt::get_ident() + (std::uint64_t)x;
        done.set();
    }, 0);
    CHECK(done.wait_for(10s));
    CHECK(got != 0 && got == ident.load());
}

static std::atomic<int> local_destroyed{0};
static void destroy_int(void *p) {
    delete static_cast<int *>(p);
    ++local_destroyed;
}

static void local_values_are_per_thread() {
    rt::Local<int> local(destroy_int);
    CHECK(local.get() == nullptr);
    int mine = 1;
    local.set(&mine);
    std::vector<rt::Thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; i++) {
        threads.emplace_back([&, i] {
            if (local.get() == nullptr) {
                local.set(new int(i));
                if (*local.get() == i) ++ok;
            }
        });
        threads.back().start();
    }
    for (auto &t : threads) t.join();
    CHECK_EQ_INT(ok.load(), 4);
    CHECK_EQ_INT(local_destroyed.load(), 4);
    CHECK(local.get() == &mine);
    local.set(nullptr);
}

RT_CASES(
    RT_CASE(thread_runs_any_callable_with_its_arguments),
    RT_CASE(thread_object_follows_python_rules),
    RT_CASE(join_for_reports_a_live_thread),
    RT_CASE(the_callable_is_destroyed_by_whoever_owns_it),
    RT_CASE(an_escaping_exception_is_printed_and_others_go_on),
    RT_CASE(the_exception_handler_can_be_replaced),
    RT_CASE(exit_thread_ends_the_thread_running_destructors),
    RT_CASE(pthread_exit_ends_the_thread_running_destructors),
    RT_CASE(a_cpp_exception_escaping_a_c_thread_function_aborts),
    RT_CASE(timer_fires_after_its_interval_or_never_once_cancelled),
    RT_CASE(start_new_thread_runs_a_detached_callable),
    RT_CASE(local_values_are_per_thread)
)
