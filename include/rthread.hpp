/*
 * rthread.hpp: the C++ face of rthread (C++17, header-only, namespace rt).
 *
 * Every rthread object has a move-only owner here: rt::Lock, rt::RLock, rt::Condition,
 * rt::Semaphore, rt::BoundedSemaphore, rt::Event, rt::Barrier, rt::Queue<T*>, rt::Local<T>,
 * rt::Thread and rt::Timer. A moved-from owner holds no object (get() is NULL; calls on it fail
 * with RT_EINVAL). Destroying an owner frees its object; a thread object is reference-counted
 * in C, and rt::Thread owns one reference.
 *
 * - Errors are exceptions: rt::Error, a std::runtime_error whose what() is rthread's message
 *   (rt_last_error(), worded like CPython's exception) and whose status() is the rt_status.
 *   unlock() never throws. A call that gave up (a timeout, a busy lock) is not an error: it
 *   returns false or std::nullopt.
 * - rt::Lock and rt::RLock are Lockable and TimedLockable, so std::lock_guard,
 *   std::unique_lock, std::scoped_lock and std::condition_variable_any work with them;
 *   rt::Condition and rt::Semaphore are Lockable too (Python's `with cond:`, `with sem:`).
 * - Timeouts are std::chrono durations or time points of any clock; a time point is turned into
 *   a relative timeout against its own clock and re-checked when the wait ends. A negative
 *   duration polls; one above RT_TIMEOUT_MAX (292 years) waits as long as rthread can. The
 *   Python-style members take double seconds with RT_FOREVER (-1) for "no bound".
 * - rt::Thread runs any callable (copied or moved into the thread, as std::thread does). An
 *   exception that escapes it goes to the handler set with rt::set_thread_exception_handler;
 *   the default prints "Exception in thread NAME:" and the exception to stderr, and the other
 *   threads go on, as Python's threading.excepthook does. rt::exit_thread() ends the calling
 *   thread, running the destructors of the thread's C++ frames on the way.
 * - concurrent.futures: rt::Executor (ThreadPoolExecutor) runs any callable with its arguments
 *   and gives an rt::Future<T> (get, wait_for, wait_until; an exception thrown by the callable
 *   is rethrown by get); rt::wait and rt::as_completed wait on many of them.
 * - Destroy an object only when no thread uses it: rthread refuses to free an object that
 *   threads are blocked in (RT_EBUSY), and a destructor cannot report that, so the object is
 *   then leaked. Destroy a Condition before the Lock or RLock it borrows.
 */
#ifndef RTHREAD_HPP
#define RTHREAD_HPP

#include "rthread.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(__GNUC__) && defined(__has_include)
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define RTHREAD_HPP_DEMANGLE 1
#endif
#endif

namespace rt {

/** An rthread call failed: status() is its code, what() rthread's message for it. */
class Error : public std::runtime_error {
public:
    Error(rt_status status, const std::string &message)
        : std::runtime_error(message.empty() ? std::string(rt_status_str(status)) : message),
          status_(status) {}

    /** The rt_status the call returned (never RT_OK). */
    rt_status status() const noexcept { return status_; }

private:
    rt_status status_;
};

/** The largest timeout rthread accepts, in seconds (threading.TIMEOUT_MAX). */
inline constexpr double timeout_max = RT_TIMEOUT_MAX;

/** "Wait without bound" for the members that take double seconds. */
inline constexpr double forever = RT_FOREVER;

namespace detail {

[[noreturn]] inline void fail(rt_status s) { throw Error(s, rt_last_error()); }

inline void check(rt_status s) {
    if (s != RT_OK) fail(s);
}

/* RT_OK: true; `gave_up` (RT_TIMEOUT, RT_EFULL, RT_EEMPTY): false; anything else throws. */
inline bool check_timed(rt_status s, rt_status gave_up = RT_TIMEOUT) {
    if (s == RT_OK) return true;
    if (s == gave_up) return false;
    fail(s);
}

/* A duration as rthread's double seconds: negative polls (0), above RT_TIMEOUT_MAX is clamped
 * to it; a NaN stays NaN, which rthread rejects (RT_EINVAL). */
template <class Rep, class Period>
double seconds(const std::chrono::duration<Rep, Period> &d) noexcept {
    double s = std::chrono::duration<double>(d).count();
    if (s < 0.0) return 0.0;
    if (s > RT_TIMEOUT_MAX) return RT_TIMEOUT_MAX;
    return s;
}

/* Runs `attempt(seconds)` (true: done, false: timed out) until it succeeds or `deadline` has
 * passed on its own clock; once it has, one last attempt(0.0) polls (try_lock_until's rule). */
template <class Clock, class Duration, class Attempt>
bool until(const std::chrono::time_point<Clock, Duration> &deadline, Attempt &&attempt) {
    for (;;) {
        auto now = Clock::now();
        if (now >= deadline) return attempt(0.0);
        if (attempt(seconds(deadline - now))) return true;
    }
}

/* Members shared by the Lockable types: Derived provides raw_acquire(int wait, double timeout)
 * and raw_release(), both returning rt_status. */
template <class Derived>
class Lockable {
public:
    /** Python's acquire(blocking, timeout): true when acquired, false when not. */
    bool acquire(bool blocking = true, double timeout = RT_FOREVER) {
        return check_timed(self().raw_acquire(blocking ? 1 : 0, timeout));
    }
    /** Python's release(): throws rt::Error where Python raises RuntimeError. */
    void release() { check(self().raw_release()); }

    /** Blocks until acquired (Lockable). Throws rt::Error (RT_EINTR when interrupted). */
    void lock() { check(self().raw_acquire(1, RT_FOREVER)); }
    /** Acquires without blocking (Lockable): true when acquired. */
    bool try_lock() { return acquire(false); }
    /** Releases; never throws (Lockable). A release that fails is ignored. */
    void unlock() noexcept { (void)self().raw_release(); }

    /** Blocks at most `d` (TimedLockable): true when acquired. */
    template <class Rep, class Period>
    bool try_lock_for(const std::chrono::duration<Rep, Period> &d) {
        return acquire(true, seconds(d));
    }
    /** Blocks until `deadline` of any clock (TimedLockable): true when acquired. */
    template <class Clock, class Duration>
    bool try_lock_until(const std::chrono::time_point<Clock, Duration> &deadline) {
        return until(deadline, [this](double s) { return acquire(true, s); });
    }

private:
    Derived &self() noexcept { return static_cast<Derived &>(*this); }
};

/* A type-erased callable, owned by whoever runs it. */
struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
};

/* Run once: the callable and its arguments are passed as rvalues (std::thread's rule). */
template <class Tuple>
struct TaskImpl final : Task {
    Tuple call;
    explicit TaskImpl(Tuple &&t) : call(std::move(t)) {}
    void run() override { std::apply([](auto &&...a) { std::invoke(std::move(a)...); }, std::move(call)); }
};

/* Run any number of times (a barrier's action): called as an lvalue, never moved from. */
template <class F>
struct RepeatedTask final : Task {
    F f;
    explicit RepeatedTask(F &&fn) : f(std::move(fn)) {}
    explicit RepeatedTask(const F &fn) : f(fn) {}
    void run() override { std::invoke(f); }
};

/* Decay-copies the callable and its arguments, as std::thread does. */
template <class F, class... Args>
std::unique_ptr<Task> make_task(F &&f, Args &&...args) {
    using Tuple = std::tuple<std::decay_t<F>, std::decay_t<Args>...>;
    static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                  "rt::Thread needs a callable that can be called with the arguments given");
    return std::make_unique<TaskImpl<Tuple>>(Tuple(std::forward<F>(f), std::forward<Args>(args)...));
}

} // namespace detail

/**
 * Called with the thread's name and the exception when a callable run by rt::Thread, rt::Timer
 * or rt::start_new_thread lets an exception escape (Python's threading.excepthook). It runs in
 * that thread, which then ends; the other threads go on.
 */
using ThreadExceptionHandler = void (*)(const std::string &thread_name, std::exception_ptr error);

namespace detail {
inline std::atomic<ThreadExceptionHandler> thread_exception_handler{nullptr};

inline std::string exception_text(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception &x) {
        std::string type = typeid(x).name();
#ifdef RTHREAD_HPP_DEMANGLE
        int status = 0;
        char *name = abi::__cxa_demangle(type.c_str(), nullptr, nullptr, &status);
        if (status == 0 && name != nullptr) type = name;
        std::free(name);
#endif
        return type + ": " + x.what();
    } catch (...) {
        return "unknown exception (not a std::exception)";
    }
}
} // namespace detail

/**
 * The default handler: prints "Exception in thread NAME:" and, on the next line, the
 * exception's type and what() (or "unknown exception ...") to stderr.
 */
inline void default_thread_exception_handler(const std::string &thread_name,
                                             std::exception_ptr error) {
    std::string text = detail::exception_text(error);
    std::fprintf(stderr, "Exception in thread %s:\n%s\n", thread_name.c_str(), text.c_str());
    std::fflush(stderr);
}

/**
 * Sets the handler for exceptions that escape a thread's callable, for every thread from now
 * on; nullptr restores the default. Returns the previous handler (nullptr for the default).
 * Thread-safe. An exception that escapes the handler itself is reported to stderr and dropped.
 */
inline ThreadExceptionHandler set_thread_exception_handler(ThreadExceptionHandler h) noexcept {
    return detail::thread_exception_handler.exchange(h);
}

/** The calling thread's name (threading.current_thread().name); "" if it has none. */
inline std::string current_thread_name() {
    rt_thread *t = nullptr;
    if (rt_current_thread(&t) != RT_OK) return std::string();
    std::string name;
    for (int attempt = 0; attempt < 8; ++attempt) { /* a rename between the two calls: retry */
        std::size_t n = 0;
        if (rt_thread_name_len(t, &n) != RT_OK) break;
        name.assign(n + 1, '\0');
        if (rt_thread_name(t, &name[0], name.size()) == RT_OK) {
            name.resize(n);
            break;
        }
        name.clear();
    }
    (void)rt_thread_release(t);
    return name;
}

namespace detail {

inline void report_thread_exception(std::exception_ptr error) noexcept {
    try {
        ThreadExceptionHandler h = thread_exception_handler.load();
        std::string name = current_thread_name();
        if (name.empty()) name = std::to_string(rt_get_ident());
        (h != nullptr ? h : default_thread_exception_handler)(name, error);
    } catch (...) {
        std::fputs("Exception in rt::ThreadExceptionHandler (dropped)\n", stderr);
    }
}

/* Every thread that rt::Thread, rt::Timer or rt::start_new_thread starts begins here, and owns
 * its task. A C++ exception stops here: it must never unwind into rthread's C frames (it would
 * abort the process). The one unwind that goes on is rt_exit_thread's or pthread_exit's, a
 * forced unwind (no C++ exception object: std::current_exception() is empty) that ends the
 * thread and must be rethrown. */
inline void run_task(void *arg) {
    std::unique_ptr<Task> task(static_cast<Task *>(arg));
    try {
        task->run();
    } catch (...) {
        std::exception_ptr error = std::current_exception();
        if (!error) throw; /* rt_exit_thread (or a forced unwind): not ours to stop */
        report_thread_exception(error);
    }
}

} // namespace detail

/**
 * A name for an object, given at construction (rt_object_set_name), shown in dumps and debug
 * reports: `rt::Lock accounts{rt::Name("accounts")}`, `rt::Thread worker{rt::Name("worker"), f}`.
 * The text is copied by the constructor; the Name only refers to it meanwhile.
 */
class Name {
public:
    explicit Name(const char *name) noexcept : value_(name) {}
    explicit Name(const std::string &name) noexcept : value_(name.c_str()) {}
    const char *c_str() const noexcept { return value_; }

private:
    const char *value_;
};

namespace detail {
inline void set_object_name(void *handle, const Name &name) { check(rt_object_set_name(handle, name.c_str())); }

inline std::string object_name(const void *handle) {
    std::string s(32, '\0');
    for (int attempt = 0; attempt < 8; ++attempt) {
        rt_status st = rt_object_name(handle, &s[0], s.size());
        if (st == RT_OK) {
            s.resize(std::char_traits<char>::length(s.c_str()));
            return s;
        }
        if (st != RT_EINVAL) fail(st);
        s.resize(s.size() * 4, '\0'); /* too small: the name needs more (or was renamed) */
    }
    fail(RT_EINVAL);
}
} // namespace detail

/** The name of any object of this header (rt_object_name): "" if it has none. */
template <class T>
std::string object_name(const T &object) {
    return detail::object_name(object.handle());
}

/** Names any object of this header (rt_object_set_name); "" removes the name. */
template <class T>
void set_object_name(T &object, const Name &name) {
    detail::set_object_name(object.handle(), name);
}

/** threading.Lock: a lock that any thread may release. Lockable and TimedLockable. */
class Lock : public detail::Lockable<Lock> {
public:
    /** A new unlocked lock. Throws rt::Error (RT_ENOMEM). */
    Lock() { detail::check(rt_lock_new(&h_)); }
    /** A new unlocked lock with a name (for dumps and debug reports). */
    explicit Lock(const Name &name) : Lock() { detail::set_object_name(h_, name); }
    /** Takes ownership of a handle from rt_lock_new (NULL makes an empty owner). */
    static Lock adopt(rt_lock *h) noexcept { return Lock(Adopt{}, h); }
    Lock(Lock &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Lock &operator=(Lock &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Lock(const Lock &) = delete;
    Lock &operator=(const Lock &) = delete;
    ~Lock() { destroy(); }

    /** Whether some thread holds it (lock.locked()). */
    bool locked() const noexcept { return rt_lock_locked(h_); }

    /** The C handle, still owned by this object. */
    rt_lock *handle() const noexcept { return h_; }
    /** Gives up ownership: the caller frees the handle with rt_lock_free. */
    rt_lock *detach() noexcept { return std::exchange(h_, nullptr); }


private:
    friend class detail::Lockable<Lock>;
    struct Adopt {};
    Lock(Adopt, rt_lock *h) noexcept : h_(h) {}
    rt_status raw_acquire(int wait, double timeout) noexcept { return rt_lock_acquire(h_, wait, timeout); }
    rt_status raw_release() noexcept { return rt_lock_release(h_); }
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_lock_free(h_);
        h_ = nullptr;
    }
    rt_lock *h_ = nullptr;
};

/** threading.RLock: re-entrant, released only by its owner. Lockable and TimedLockable. */
class RLock : public detail::Lockable<RLock> {
public:
    /** A new unlocked re-entrant lock. Throws rt::Error (RT_ENOMEM). */
    RLock() { detail::check(rt_rlock_new(&h_)); }
    /** With a name (for dumps and debug reports). */
    explicit RLock(const Name &name) : RLock() { detail::set_object_name(h_, name); }
    /** Takes ownership of a handle from rt_rlock_new. */
    static RLock adopt(rt_rlock *h) noexcept { return RLock(Adopt{}, h); }
    RLock(RLock &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    RLock &operator=(RLock &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    RLock(const RLock &) = delete;
    RLock &operator=(const RLock &) = delete;
    ~RLock() { destroy(); }

    /** Whether the calling thread owns it (rlock._is_owned()). */
    bool is_owned() const noexcept { return rt_rlock_is_owned(h_); }
    /** The calling thread's recursion level (rlock._recursion_count()). */
    std::uint64_t count() const noexcept { return rt_rlock_count(h_); }

    rt_rlock *handle() const noexcept { return h_; }
    rt_rlock *detach() noexcept { return std::exchange(h_, nullptr); }


private:
    friend class detail::Lockable<RLock>;
    struct Adopt {};
    RLock(Adopt, rt_rlock *h) noexcept : h_(h) {}
    rt_status raw_acquire(int wait, double timeout) noexcept { return rt_rlock_acquire(h_, wait, timeout); }
    rt_status raw_release() noexcept { return rt_rlock_release(h_); }
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_rlock_free(h_);
        h_ = nullptr;
    }
    rt_rlock *h_ = nullptr;
};

/**
 * threading.Condition. Lockable itself (its lock), so `std::unique_lock<rt::Condition>` and
 * std::scoped_lock hold it; wait and notify need the lock held. A condition made from a Lock or
 * RLock borrows it: destroy the condition first.
 */
class Condition : public detail::Lockable<Condition> {
public:
    /** With a new RLock of its own (Condition()). */
    Condition() { detail::check(rt_condition_new(&h_)); }
    /** With the caller's plain lock (Condition(lock)). */
    explicit Condition(Lock &lock) { detail::check(rt_condition_new_with_lock(lock.handle(), &h_)); }
    /** With the caller's re-entrant lock (Condition(rlock)). */
    explicit Condition(RLock &lock) { detail::check(rt_condition_new_with_rlock(lock.handle(), &h_)); }
    /** The same, with a name (for dumps and debug reports). */
    explicit Condition(const Name &name) : Condition() { detail::set_object_name(h_, name); }
    Condition(Lock &lock, const Name &name) : Condition(lock) { detail::set_object_name(h_, name); }
    Condition(RLock &lock, const Name &name) : Condition(lock) { detail::set_object_name(h_, name); }
    Condition(Condition &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Condition &operator=(Condition &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Condition(const Condition &) = delete;
    Condition &operator=(const Condition &) = delete;
    ~Condition() { destroy(); }

    /** cond.wait(timeout): true when notified, false when `timeout` seconds passed first. */
    bool wait(double timeout = RT_FOREVER) { return detail::check_timed(rt_condition_wait(h_, timeout)); }
    /** Waits at most `d`: true when notified. */
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period> &d) {
        return wait(detail::seconds(d));
    }
    /** Waits until `deadline` of any clock: true when notified, false once it has passed. */
    template <class Clock, class Duration>
    bool wait_until(const std::chrono::time_point<Clock, Duration> &deadline) {
        for (;;) {
            auto now = Clock::now();
            if (now >= deadline) return false;
            if (wait(detail::seconds(deadline - now))) return true;
        }
    }

    /** cond.wait_for(pred) without a bound: returns once pred() is true (checked first). An
     * exception from pred propagates, with the lock held. */
    template <class Pred, class = std::enable_if_t<std::is_invocable_v<Pred &>>>
    void wait(Pred pred) {
        (void)wait_pred(pred, RT_FOREVER);
    }
    /** cond.wait_for(pred, timeout): pred()'s final value (false: time ran out). */
    template <class Rep, class Period, class Pred>
    bool wait_for(const std::chrono::duration<Rep, Period> &d, Pred pred) {
        return wait_pred(pred, detail::seconds(d));
    }
    /** As wait_for, until `deadline` of any clock. */
    template <class Clock, class Duration, class Pred>
    bool wait_until(const std::chrono::time_point<Clock, Duration> &deadline, Pred pred) {
        for (;;) {
            auto now = Clock::now();
            if (now >= deadline) return static_cast<bool>(pred());
            if (wait_pred(pred, detail::seconds(deadline - now))) return true;
        }
    }

    /** Wakes at most `n` waiters (cond.notify(n)). */
    void notify(std::size_t n = 1) { detail::check(rt_condition_notify(h_, n)); }
    /** Wakes every waiter (cond.notify_all()). */
    void notify_all() { detail::check(rt_condition_notify_all(h_)); }

    rt_condition *handle() const noexcept { return h_; }
    rt_condition *detach() noexcept { return std::exchange(h_, nullptr); }


private:
    friend class detail::Lockable<Condition>;
    rt_status raw_acquire(int wait, double timeout) noexcept { return rt_condition_acquire(h_, wait, timeout); }
    rt_status raw_release() noexcept { return rt_condition_release(h_); }
    template <class Pred>
    struct PredContext {
        Pred *pred;
        std::exception_ptr error;
    };
    template <class Pred>
    static int call_pred(void *ctx) noexcept {
        auto *c = static_cast<PredContext<Pred> *>(ctx);
        try {
            return (*c->pred)() ? 1 : 0;
        } catch (...) {
            c->error = std::current_exception();
            return 1; /* stop waiting; the exception is rethrown by wait_pred */
        }
    }
    template <class Pred>
    bool wait_pred(Pred &pred, double timeout) {
        PredContext<Pred> ctx{&pred, nullptr};
        rt_status s = rt_condition_wait_for(h_, &call_pred<Pred>, &ctx, timeout);
        if (ctx.error) std::rethrow_exception(ctx.error);
        return detail::check_timed(s);
    }
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_condition_free(h_);
        h_ = nullptr;
    }
    rt_condition *h_ = nullptr;
};

/**
 * threading.Semaphore. Also Lockable (lock() takes a permit, unlock() gives it back), so
 * `std::lock_guard guard(sem);` is Python's `with sem:`.
 */
class Semaphore {
public:
    /** A semaphore holding `value` permits (Semaphore(value)). Throws rt::Error for value < 0. */
    explicit Semaphore(std::int64_t value = 1) { detail::check(rt_semaphore_new(value, &h_)); }
    /** With a name (for dumps and debug reports). */
    Semaphore(std::int64_t value, const Name &name) : Semaphore(value) { detail::set_object_name(h_, name); }
    /** Takes ownership of a handle from rt_semaphore_new or rt_bounded_semaphore_new. */
    static Semaphore adopt(rt_semaphore *h) noexcept { return Semaphore(Adopt{}, h); }
    Semaphore(Semaphore &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Semaphore &operator=(Semaphore &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Semaphore(const Semaphore &) = delete;
    Semaphore &operator=(const Semaphore &) = delete;
    ~Semaphore() { destroy(); }

    /** sem.acquire(blocking, timeout): true when a permit was taken. */
    bool acquire(bool blocking = true, double timeout = RT_FOREVER) {
        return detail::check_timed(rt_semaphore_acquire(h_, blocking ? 1 : 0, timeout));
    }
    /** Takes a permit if one is free (std::counting_semaphore's name). */
    bool try_acquire() { return acquire(false); }
    /** Waits at most `d` for a permit. */
    template <class Rep, class Period>
    bool try_acquire_for(const std::chrono::duration<Rep, Period> &d) {
        return acquire(true, detail::seconds(d));
    }
    /** Waits until `deadline` of any clock for a permit. */
    template <class Clock, class Duration>
    bool try_acquire_until(const std::chrono::time_point<Clock, Duration> &deadline) {
        return detail::until(deadline, [this](double s) { return acquire(true, s); });
    }
    /** sem.release(n): throws rt::Error (RT_EOVERRELEASE for a bounded semaphore released too
     * many times; RT_EINVAL for n 0). */
    void release(std::uint64_t n = 1) { detail::check(rt_semaphore_release(h_, n)); }
    /** The permits available now (sem._value). */
    std::int64_t value() const noexcept { return rt_semaphore_value(h_); }

    void lock() { detail::check(rt_semaphore_acquire(h_, 1, RT_FOREVER)); }
    bool try_lock() { return try_acquire(); }
    void unlock() noexcept { (void)rt_semaphore_release(h_, 1); }

    rt_semaphore *handle() const noexcept { return h_; }
    rt_semaphore *detach() noexcept { return std::exchange(h_, nullptr); }

protected:
    struct Bounded {};
    Semaphore(Bounded, std::int64_t value) { detail::check(rt_bounded_semaphore_new(value, &h_)); }

private:
    struct Adopt {};
    Semaphore(Adopt, rt_semaphore *h) noexcept : h_(h) {}
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_semaphore_free(h_);
        h_ = nullptr;
    }
    rt_semaphore *h_ = nullptr;
};

/** threading.BoundedSemaphore: release() past the initial value throws (RT_EOVERRELEASE). */
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(Bounded{}, value) {}
    /** With a name (for dumps and debug reports). */
    BoundedSemaphore(std::int64_t value, const Name &name) : Semaphore(Bounded{}, value) {
        detail::set_object_name(handle(), name);
    }
};

/** threading.Event. */
class Event {
public:
    /** A new event, not set. */
    Event() { detail::check(rt_event_new(&h_)); }
    /** With a name (for dumps and debug reports). */
    explicit Event(const Name &name) : Event() { detail::set_object_name(h_, name); }
    Event(Event &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Event &operator=(Event &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;
    ~Event() { destroy(); }

    void set() { detail::check(rt_event_set(h_)); }
    void clear() { detail::check(rt_event_clear(h_)); }
    bool is_set() const noexcept { return rt_event_is_set(h_); }
    /** event.wait(timeout): true when the flag is (or gets) set, false on a timeout. */
    bool wait(double timeout = RT_FOREVER) { return detail::check_timed(rt_event_wait(h_, timeout)); }
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period> &d) {
        return wait(detail::seconds(d));
    }
    template <class Clock, class Duration>
    bool wait_until(const std::chrono::time_point<Clock, Duration> &deadline) {
        return detail::until(deadline, [this](double s) { return wait(s); });
    }

    rt_event *handle() const noexcept { return h_; }
    rt_event *detach() noexcept { return std::exchange(h_, nullptr); }

private:
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_event_free(h_);
        h_ = nullptr;
    }
    rt_event *h_ = nullptr;
};

/**
 * threading.Barrier. wait() returns the arrival index (0 … parties-1); a broken barrier throws
 * rt::Error with status RT_EBROKEN (threading.BrokenBarrierError). The action, if any, runs in
 * the last thread to arrive; if it throws, the barrier breaks and that thread gets the action's
 * exception (the others RT_EBROKEN), as in Python.
 */
class Barrier {
public:
    explicit Barrier(std::size_t parties) { detail::check(rt_barrier_new(parties, nullptr, nullptr, RT_FOREVER, &h_)); }
    /** With a name (for dumps and debug reports). */
    Barrier(std::size_t parties, const Name &name) : Barrier(parties) { detail::set_object_name(h_, name); }
    /** With an action (a callable taking no arguments) and no default timeout. */
    template <class F, class = std::enable_if_t<std::is_invocable_v<std::decay_t<F> &>>>
    Barrier(std::size_t parties, F &&action) : Barrier(parties, std::forward<F>(action), RT_FOREVER) {}
    /** With an action and a default timeout for wait(). */
    template <class F, class Rep, class Period>
    Barrier(std::size_t parties, F &&action, const std::chrono::duration<Rep, Period> &timeout)
        : Barrier(parties, std::forward<F>(action), detail::seconds(timeout)) {}
    /** With a default timeout and no action. */
    template <class Rep, class Period>
    Barrier(std::size_t parties, const std::chrono::duration<Rep, Period> &timeout) {
        detail::check(rt_barrier_new(parties, nullptr, nullptr, detail::seconds(timeout), &h_));
    }
    Barrier(Barrier &&o) noexcept : h_(std::exchange(o.h_, nullptr)), action_(std::move(o.action_)) {}
    Barrier &operator=(Barrier &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
            action_ = std::move(o.action_);
        }
        return *this;
    }
    Barrier(const Barrier &) = delete;
    Barrier &operator=(const Barrier &) = delete;
    ~Barrier() { destroy(); }

    /** barrier.wait(): with the barrier's default timeout (none unless one was given). */
    std::size_t wait() { return wait_seconds(RT_FOREVER); }
    /** barrier.wait(timeout): a timeout breaks the barrier (RT_EBROKEN). */
    template <class Rep, class Period>
    std::size_t wait_for(const std::chrono::duration<Rep, Period> &timeout) {
        return wait_seconds(detail::seconds(timeout));
    }
    /** barrier.reset(): waiters get RT_EBROKEN; the barrier is usable again. */
    void reset() { detail::check(rt_barrier_reset(h_)); }
    /** barrier.abort() */
    void abort() { detail::check(rt_barrier_abort(h_)); }
    std::size_t parties() const noexcept { return rt_barrier_parties(h_); }
    std::size_t n_waiting() const noexcept { return rt_barrier_n_waiting(h_); }
    bool broken() const noexcept { return rt_barrier_broken(h_); }

    rt_barrier *handle() const noexcept { return h_; }

private:
    template <class F>
    Barrier(std::size_t parties, F &&action, double timeout)
        : action_(std::make_unique<detail::RepeatedTask<std::decay_t<F>>>(std::forward<F>(action))) {
        static_assert(std::is_invocable_v<std::decay_t<F> &>, "a barrier's action takes no arguments");
        detail::check(rt_barrier_new(parties, &call_action, action_.get(), timeout, &h_));
    }
    static std::exception_ptr &action_error() noexcept {
        static thread_local std::exception_ptr error;
        return error;
    }
    static int call_action(void *ctx) noexcept {
        try {
            static_cast<detail::Task *>(ctx)->run();
            return 0;
        } catch (...) {
            action_error() = std::current_exception();
            return 1; /* breaks the barrier */
        }
    }
    std::size_t wait_seconds(double timeout) {
        std::size_t index = 0;
        action_error() = nullptr;
        rt_status s = rt_barrier_wait(h_, timeout, &index);
        if (std::exception_ptr e = std::exchange(action_error(), nullptr)) std::rethrow_exception(e);
        detail::check(s);
        return index;
    }
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_barrier_free(h_);
        h_ = nullptr;
        action_.reset();
    }
    rt_barrier *h_ = nullptr;
    std::unique_ptr<detail::Task> action_;
};

/** An item destructor for a queue of `T*` that owns its items: deletes them. */
template <class T>
void delete_item(void *item) noexcept {
    delete static_cast<T *>(item);
}

template <class T>
class Queue;

/**
 * A queue of pointers: queue.Queue, LifoQueue, PriorityQueue or SimpleQueue (by how it is
 * made). Items are stored as they are (nullptr is a valid item) and never dereferenced, except
 * by a priority queue's comparator. Items the queue discards (left in it when it is destroyed,
 * or removed by shutdown(true)) go to the item destructor given at creation, if any, e.g.
 * rt::delete_item<T>.
 *
 * put/get throw rt::Error with RT_ESHUTDOWN once the queue is shut down (and, for get, empty);
 * try_put and try_get report a full or empty queue by returning false / std::nullopt.
 */
template <class T>
class Queue<T *> {
public:
    /** queue.Queue(maxsize): FIFO; 0 means unbounded. */
    explicit Queue(std::size_t maxsize = 0, rt_queue_item_destructor destructor = nullptr) {
        detail::check(rt_queue_new(maxsize, destructor, &h_));
    }
    /** queue.Queue(maxsize) with a name (for dumps and debug reports). */
    Queue(std::size_t maxsize, const Name &name, rt_queue_item_destructor destructor = nullptr)
        : Queue(maxsize, destructor) {
        detail::set_object_name(h_, name);
    }
    /** queue.LifoQueue(maxsize). */
    static Queue lifo(std::size_t maxsize = 0, rt_queue_item_destructor destructor = nullptr) {
        rt_queue *q = nullptr;
        detail::check(rt_lifo_queue_new(maxsize, destructor, &q));
        return Queue(Adopt{}, q);
    }
    /** queue.PriorityQueue(maxsize): the smallest item by Compare (on the pointed-to values,
     * std::less<T> by default) leaves first; equal items in the order they were put. Compare
     * runs under the queue's internal lock: it must not use the queue, and must not throw
     * (std::terminate). */
    template <class Compare = std::less<T>>
    static Queue priority(std::size_t maxsize = 0, rt_queue_item_destructor destructor = nullptr) {
        rt_queue *q = nullptr;
        detail::check(rt_priority_queue_new(maxsize, &compare<Compare>, destructor, &q));
        return Queue(Adopt{}, q);
    }
    /** queue.PriorityQueue(maxsize) with a C comparator (see rt_queue_item_compare). */
    static Queue priority(std::size_t maxsize, rt_queue_item_compare cmp,
                          rt_queue_item_destructor destructor = nullptr) {
        rt_queue *q = nullptr;
        detail::check(rt_priority_queue_new(maxsize, cmp, destructor, &q));
        return Queue(Adopt{}, q);
    }
    /** queue.SimpleQueue(): unbounded, no task tracking or shutdown. */
    static Queue simple(rt_queue_item_destructor destructor = nullptr) {
        rt_queue *q = nullptr;
        detail::check(rt_simple_queue_new(destructor, &q));
        return Queue(Adopt{}, q);
    }
    /** Takes ownership of a handle from one of the rt_*queue_new functions. */
    static Queue adopt(rt_queue *h) noexcept { return Queue(Adopt{}, h); }
    Queue(Queue &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Queue &operator=(Queue &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Queue(const Queue &) = delete;
    Queue &operator=(const Queue &) = delete;
    ~Queue() { destroy(); }

    /** q.put(item): blocks while a bounded queue is full. */
    void put(T *item) { detail::check(rt_queue_put(h_, to_void(item), 1, RT_FOREVER)); }
    /** q.put_nowait(item): false when full (queue.Full). */
    bool try_put(T *item) { return detail::check_timed(rt_queue_put(h_, to_void(item), 0, RT_FOREVER), RT_EFULL); }
    /** q.put(item, timeout=d): false when still full after `d`. */
    template <class Rep, class Period>
    bool try_put_for(T *item, const std::chrono::duration<Rep, Period> &d) {
        return put_seconds(item, detail::seconds(d));
    }
    template <class Clock, class Duration>
    bool try_put_until(T *item, const std::chrono::time_point<Clock, Duration> &deadline) {
        return detail::until(deadline, [this, item](double s) { return put_seconds(item, s); });
    }

    /** q.get(): blocks until an item arrives. */
    T *get() {
        void *item = nullptr;
        detail::check(rt_queue_get(h_, 1, RT_FOREVER, &item));
        return static_cast<T *>(item);
    }
    /** The next item, waiting for it; std::nullopt once the queue is shut down and drained
     * (where get() throws RT_ESHUTDOWN): a worker's loop is `while (auto item = q.next())`. */
    std::optional<T *> next() {
        void *item = nullptr;
        rt_status s = rt_queue_get(h_, 1, RT_FOREVER, &item);
        if (s == RT_ESHUTDOWN) return std::nullopt;
        detail::check(s);
        return static_cast<T *>(item);
    }
    /** q.get_nowait(): std::nullopt when empty (queue.Empty). */
    std::optional<T *> try_get() { return get_status(rt_queue_get_nowait()); }
    /** q.get(timeout=d): std::nullopt when still empty after `d`. */
    template <class Rep, class Period>
    std::optional<T *> try_get_for(const std::chrono::duration<Rep, Period> &d) {
        return get_seconds(detail::seconds(d));
    }
    template <class Clock, class Duration>
    std::optional<T *> try_get_until(const std::chrono::time_point<Clock, Duration> &deadline) {
        std::optional<T *> got;
        detail::until(deadline, [this, &got](double s) {
            got = get_seconds(s);
            return got.has_value();
        });
        return got;
    }

    /** q.task_done(): throws RT_EOVERRELEASE when called more times than items were put. */
    void task_done() { detail::check(rt_queue_task_done(h_)); }
    /** q.join(): blocks until every item put has been marked done. */
    void join() { detail::check(rt_queue_join(h_)); }
    /** q.join() with a bound: false when tasks are still unfinished after `d`. */
    template <class Rep, class Period>
    bool join_for(const std::chrono::duration<Rep, Period> &d) {
        return detail::check_timed(rt_queue_join_timeout(h_, detail::seconds(d)));
    }
    /** q.shutdown(immediate) */
    void shutdown(bool immediate = false) { detail::check(rt_queue_shutdown(h_, immediate ? 1 : 0)); }
    bool is_shutdown() const noexcept { return rt_queue_is_shutdown(h_); }
    std::size_t qsize() const noexcept { return rt_queue_qsize(h_); }
    bool empty() const noexcept { return rt_queue_empty(h_); }
    bool full() const noexcept { return rt_queue_full(h_); }
    std::size_t maxsize() const noexcept { return rt_queue_maxsize(h_); }
    std::size_t unfinished_tasks() const noexcept { return rt_queue_unfinished_tasks(h_); }

    rt_queue *handle() const noexcept { return h_; }
    rt_queue *detach() noexcept { return std::exchange(h_, nullptr); }

private:
    struct Adopt {};
    Queue(Adopt, rt_queue *h) noexcept : h_(h) {}
    static void *to_void(T *item) noexcept { return const_cast<void *>(static_cast<const void *>(item)); }
    template <class Compare>
    static int compare(const void *a, const void *b) noexcept {
        Compare less{};
        const T &x = *static_cast<const T *>(a);
        const T &y = *static_cast<const T *>(b);
        if (less(x, y)) return -1;
        return less(y, x) ? 1 : 0;
    }
    bool put_seconds(T *item, double s) {
        return detail::check_timed(rt_queue_put(h_, to_void(item), 1, s), RT_EFULL);
    }
    struct Got {
        rt_status status;
        void *item;
    };
    Got rt_queue_get_nowait() noexcept {
        Got g{RT_OK, nullptr};
        g.status = rt_queue_get(h_, 0, RT_FOREVER, &g.item);
        return g;
    }
    std::optional<T *> get_seconds(double s) {
        Got g{RT_OK, nullptr};
        g.status = rt_queue_get(h_, 1, s, &g.item);
        return get_status(g);
    }
    static std::optional<T *> get_status(Got g) {
        if (!detail::check_timed(g.status, RT_EEMPTY)) return std::nullopt;
        return static_cast<T *>(g.item);
    }
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_queue_free(h_);
        h_ = nullptr;
    }
    rt_queue *h_ = nullptr;
};

/**
 * threading.local for one pointer: each thread sees its own `T*`, nullptr until it sets one.
 * The destructor, if given, runs on every non-null value still set when its thread ends
 * (rt::delete_item<T> deletes them).
 */
template <class T>
class Local {
public:
    explicit Local(rt_local_destructor destructor = nullptr) { detail::check(rt_local_new(destructor, &h_)); }
    Local(Local &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    Local &operator=(Local &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    Local(const Local &) = delete;
    Local &operator=(const Local &) = delete;
    ~Local() { destroy(); }

    /** The calling thread's value (nullptr if it set none). */
    T *get() const {
        void *v = nullptr;
        detail::check(rt_local_get(h_, &v));
        return static_cast<T *>(v);
    }
    /** Sets the calling thread's value; the value it replaces is not destroyed. */
    void set(T *value) { detail::check(rt_local_set(h_, const_cast<void *>(static_cast<const void *>(value)))); }

    rt_local *handle() const noexcept { return h_; }

private:
    void destroy() noexcept {
        if (h_ != nullptr) (void)rt_local_free(h_);
        h_ = nullptr;
    }
    rt_local *h_ = nullptr;
};

/**
 * threading.Thread: one reference to a thread object. Made from a callable and its arguments
 * (decay-copied, as std::thread does), not started: set its name and daemon flag, then start().
 * Destroying or moving the owner never stops or detaches the thread; the process waits for
 * non-daemon threads at exit, as Python does. Start it with start(), not rt_thread_start on its
 * handle: until start() succeeds, the owner keeps the callable (and destroys it with itself).
 */
class Thread {
public:
    /** An empty owner. */
    Thread() noexcept = default;
    /** A thread object that will run f(args...) once started. */
    template <class F, class... Args,
              class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Thread> &&
                                       !std::is_same_v<std::decay_t<F>, rt_thread *> &&
                                       !std::is_same_v<std::decay_t<F>, Name>>>
    explicit Thread(F &&f, Args &&...args) {
        std::unique_ptr<detail::Task> task = detail::make_task(std::forward<F>(f), std::forward<Args>(args)...);
        detail::check(rt_thread_new(&detail::run_task, task.get(), &h_));
        task_ = task.release();
    }
    /** The same, named (thread.name), not started either. */
    template <class F, class... Args>
    Thread(const Name &name, F &&f, Args &&...args) : Thread(std::forward<F>(f), std::forward<Args>(args)...) {
        detail::set_object_name(h_, name);
    }
    /** Takes over one reference to a thread object (from rt_thread_new, rt_current_thread, …). */
    static Thread adopt(rt_thread *reference) noexcept { return Thread(reference, nullptr); }
    Thread(Thread &&o) noexcept : h_(std::exchange(o.h_, nullptr)), task_(std::exchange(o.task_, nullptr)) {}
    Thread &operator=(Thread &&o) noexcept {
        if (this != &o) {
            destroy();
            h_ = std::exchange(o.h_, nullptr);
            task_ = std::exchange(o.task_, nullptr);
        }
        return *this;
    }
    Thread(const Thread &) = delete;
    Thread &operator=(const Thread &) = delete;
    ~Thread() { destroy(); }

    /** Another reference to the same thread object. Not before start() (the owner that made
     * the thread keeps its callable until then): rt::Error RT_ESTATE. */
    Thread clone() const {
        if (task_ != nullptr) throw Error(RT_ESTATE, "cannot share a thread object before it is started");
        detail::check(rt_thread_retain(h_));
        return Thread(h_, nullptr);
    }

    /** thread.start(): returns once the thread runs. The callable now belongs to the thread. */
    void start() {
        detail::check(rt_thread_start(h_));
        task_ = nullptr;
    }
    /** thread.join(): waits until the thread has ended. */
    void join() { detail::check(rt_thread_join(h_, RT_FOREVER)); }
    /** thread.join(timeout): true when the thread has ended, false when it is still alive. */
    template <class Rep, class Period>
    bool join_for(const std::chrono::duration<Rep, Period> &d) {
        return detail::check_timed(rt_thread_join(h_, detail::seconds(d)));
    }
    template <class Clock, class Duration>
    bool join_until(const std::chrono::time_point<Clock, Duration> &deadline) {
        return detail::until(deadline, [this](double s) { return detail::check_timed(rt_thread_join(h_, s)); });
    }
    bool is_alive() const noexcept { return rt_thread_is_alive(h_); }

    /** thread.name */
    std::string name() const {
        rt_status st = RT_OK;
        for (int attempt = 0; attempt < 8; ++attempt) {
            std::size_t n = 0;
            detail::check(rt_thread_name_len(h_, &n));
            std::string s(n + 1, '\0');
            st = rt_thread_name(h_, &s[0], s.size());
            if (st == RT_OK) {
                s.resize(n);
                return s;
            }
            if (st != RT_EINVAL) break; /* RT_EINVAL: renamed to a longer name meanwhile */
        }
        detail::fail(st);
    }
    /** thread.name = name */
    void set_name(const std::string &name) { detail::check(rt_thread_set_name(h_, name.c_str())); }
    bool daemon() const noexcept { return rt_thread_daemon(h_); }
    /** thread.daemon = d, before start(). */
    void set_daemon(bool d) { detail::check(rt_thread_set_daemon(h_, d)); }
    /** thread.ident: 0 before start (Python's None). */
    std::uint64_t ident() const noexcept { return rt_thread_ident(h_); }
    std::uint64_t native_id() const noexcept { return rt_thread_native_id(h_); }
    /** Ends the thread's current or next blocking wait with RT_EINTR (rt_thread_interrupt). */
    void interrupt() { detail::check(rt_thread_interrupt(h_)); }

    rt_thread *handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }

protected:
    Thread(rt_thread *h, detail::Task *task) noexcept : h_(h), task_(task) {}

private:
    void destroy() noexcept {
        delete std::exchange(task_, nullptr); /* never started: the callable is still ours */
        if (h_ != nullptr) (void)rt_thread_release(h_);
        h_ = nullptr;
    }
    rt_thread *h_ = nullptr;
    detail::Task *task_ = nullptr;
};

/**
 * threading.Timer: a thread that runs f(args...) after `interval`, unless cancel() comes first.
 * Start and join it as any rt::Thread. Built as CPython builds it: a thread that waits on an
 * rt::Event for the interval (monotonic clock) and runs the callable unless the event was set,
 * so the callable is destroyed in every case, fired or not. A negative interval fires at once;
 * interrupt() stops a waiting timer as cancel() does. (Its handle is a plain thread object:
 * rt_timer_cancel refuses it; call cancel().)
 */
class Timer : public Thread {
public:
    /** Throws rt::Error RT_EINVAL for a NaN interval. Above RT_TIMEOUT_MAX is clamped. */
    template <class Rep, class Period, class F, class... Args>
    Timer(const std::chrono::duration<Rep, Period> &interval, F &&f, Args &&...args)
        : Timer(Made{}, checked(detail::seconds(interval)), std::make_shared<Event>(),
                detail::make_task(std::forward<F>(f), std::forward<Args>(args)...)) {}
    /** With the interval in seconds, as Python's Timer(interval, function, args). Throws
     * rt::Error: RT_EINVAL for NaN, RT_EOVERFLOW above RT_TIMEOUT_MAX (as rt_timer_new). */
    template <class F, class... Args>
    Timer(double interval, F &&f, Args &&...args)
        : Timer(Made{}, checked(interval), std::make_shared<Event>(),
                detail::make_task(std::forward<F>(f), std::forward<Args>(args)...)) {}
    Timer(Timer &&) noexcept = default;
    Timer &operator=(Timer &&) noexcept = default;

    /** timer.cancel(): it never fires if it has not yet; a waiting timer's thread ends. */
    void cancel() {
        if (!finished_) throw Error(RT_EINVAL, "NULL handle");
        finished_->set();
    }

private:
    struct Made {};
    Timer(Made, double interval, std::shared_ptr<Event> finished, std::unique_ptr<detail::Task> task)
        : Thread([interval, finished, task = std::move(task)] {
              bool cancelled = true;
              try {
                  cancelled = finished->wait(interval);
              } catch (const Error &e) {
                  if (e.status() != RT_EINTR) throw; /* interrupted: as cancelled */
              }
              if (!cancelled) task->run();
              finished->set();
          }),
          finished_(std::move(finished)) {}
    static double checked(double interval) {
        if (interval != interval) throw Error(RT_EINVAL, "Invalid value NaN (not a number)");
        if (interval > RT_TIMEOUT_MAX) throw Error(RT_EOVERFLOW, "timestamp out of range for platform time_t");
        return interval < 0.0 ? 0.0 : interval;
    }
    std::shared_ptr<Event> finished_;
};

/** _thread.start_new_thread(f, args): a detached thread; returns its ident. */
template <class F, class... Args>
std::uint64_t start_new_thread(F &&f, Args &&...args) {
    std::unique_ptr<detail::Task> task = detail::make_task(std::forward<F>(f), std::forward<Args>(args)...);
    std::uint64_t ident = 0;
    detail::check(rt_start_new_thread(&detail::run_task, task.get(), &ident));
    task.release(); /* the thread owns it now */
    return ident;
}

/** threading.current_thread() */
inline Thread current_thread() {
    rt_thread *t = nullptr;
    detail::check(rt_current_thread(&t));
    return Thread::adopt(t);
}

/** threading.main_thread() */
inline Thread main_thread() {
    rt_thread *t = nullptr;
    detail::check(rt_main_thread(&t));
    return Thread::adopt(t);
}

/** threading.enumerate() */
inline std::vector<Thread> enumerate() {
    std::vector<rt_thread *> buf(rt_active_count() + 4);
    for (;;) {
        std::size_t count = 0;
        detail::check(rt_enumerate(buf.data(), buf.size(), &count));
        if (count <= buf.size()) {
            std::vector<Thread> out;
            out.reserve(count);
            for (std::size_t i = 0; i < count; ++i) out.push_back(Thread::adopt(buf[i]));
            return out;
        }
        for (rt_thread *t : buf) (void)rt_thread_release(t);
        buf.assign(count + 4, nullptr);
    }
}

/** threading.active_count() */
inline std::size_t active_count() noexcept { return rt_active_count(); }
/** threading.get_ident() */
inline std::uint64_t get_ident() noexcept { return rt_get_ident(); }
/** threading.get_native_id() */
inline std::uint64_t get_native_id() noexcept { return rt_get_native_id(); }
/** _thread._count() */
inline std::size_t thread_count() noexcept { return rt_thread_count(); }
/** threading.stack_size() */
inline std::size_t stack_size() noexcept { return rt_stack_size_get(); }
/** threading.stack_size(size): returns the previous size. */
inline std::size_t stack_size(std::size_t size) {
    std::size_t previous = 0;
    detail::check(rt_stack_size_set(size, &previous));
    return previous;
}
/** Waits for the non-daemon threads as at exit (threading._shutdown()); false on a timeout. */
template <class Rep, class Period>
bool shutdown(const std::chrono::duration<Rep, Period> &timeout) {
    return detail::check_timed(rt_shutdown(detail::seconds(timeout)));
}
/** _thread.exit(): ends the calling thread, which rthread must have started (rt::Thread,
 * rt::Timer, rt::start_new_thread); the destructors of its C++ frames run on the way. Where it
 * cannot (another thread, inside a callback), throws rt::Error RT_ESTATE. */
inline void exit_thread() { detail::check(rt_exit_thread()); }
/** _thread.interrupt_main() */
inline void interrupt_main() { detail::check(rt_interrupt_main()); }

// ---------------------------------------------------------------------------------------------
// concurrent.futures

/** wait()'s return_when (concurrent.futures.FIRST_COMPLETED, ...). */
enum class ReturnWhen : int {
    all_completed = RT_ALL_COMPLETED,
    first_completed = RT_FIRST_COMPLETED,
    first_exception = RT_FIRST_EXCEPTION,
};

namespace detail {

/* What a submitted callable left: its value, or the exception it threw. Written by the worker
 * before the C future completes, read after it has. */
template <class T>
struct FutureState {
    std::optional<T> value;
    std::exception_ptr error;
};
template <>
struct FutureState<void> {
    std::exception_ptr error;
};

template <class R, class Tuple>
struct Call {
    Tuple fn_args;
    std::shared_ptr<FutureState<R>> state;

    static int run(void *arg, void **result) noexcept {
        auto *c = static_cast<Call *>(arg);
        *result = nullptr;
        try {
            if constexpr (std::is_void_v<R>) {
                std::apply([](auto &f, auto &...a) { std::invoke(std::move(f), std::move(a)...); }, c->fn_args);
            } else {
                c->state->value.emplace(std::apply(
                    [](auto &f, auto &...a) -> R { return std::invoke(std::move(f), std::move(a)...); },
                    c->fn_args));
            }
            return 0;
        } catch (const Error &e) {
            c->state->error = std::current_exception();
            rt_set_error_message(e.what());
            return static_cast<int>(e.status());
        } catch (const std::exception &e) {
            c->state->error = std::current_exception();
            rt_set_error_message(e.what());
            return -1;
        } catch (...) {
            c->state->error = std::current_exception();
            rt_set_error_message("unknown exception (not a std::exception)");
            return -1;
        }
    }
    static void destroy(void *arg) noexcept { delete static_cast<Call *>(arg); }
};

/* A done-callback's exception, logged as CPython's Future._invoke_callbacks logs it
 * ("exception calling callback for <Future ...>") and then ignored. */
inline void log_callback_exception(rt_future *h, const char *what) noexcept {
    std::fprintf(stderr, "exception calling callback for <Future at %p state=%s>: %s\n",
                 static_cast<void *>(h), rt_future_cancelled(h) ? "cancelled" : "finished", what);
    std::fflush(stderr);
}

inline int run_initializer(void *ctx) noexcept {
    try {
        (*static_cast<std::function<void()> *>(ctx))();
        return 0;
    } catch (...) {
        return 1;
    }
}

} // namespace detail

/**
 * The result of a callable run by rt::Executor (concurrent.futures.Future). Copies share one
 * future (each owns a reference to the C object). A default-constructed or moved-from Future
 * holds none (valid() is false; calls throw rt::Error RT_EINVAL).
 */
template <class T>
class Future {
public:
    Future() noexcept = default;
    Future(const Future &o) : h_(o.h_), state_(o.state_) {
        if (h_ != nullptr) detail::check(rt_future_retain(h_));
    }
    Future(Future &&o) noexcept : h_(std::exchange(o.h_, nullptr)), state_(std::move(o.state_)) {}
    Future &operator=(Future o) noexcept {
        std::swap(h_, o.h_);
        std::swap(state_, o.state_);
        return *this;
    }
    ~Future() { rt_future_release(h_); }

    bool valid() const noexcept { return h_ != nullptr; }
    /** The C handle (borrowed). */
    rt_future *get_handle() const noexcept { return h_; }

    /** future.result(): waits, then gives the value (T = void: nothing). Throws what the
     * callable threw; rt::Error RT_ECANCELLED if cancelled; rt::Error RT_EFAILED with the
     * pool's message if a broken pool never ran it; rt::Error RT_EINTR if interrupted. */
    decltype(auto) get() const {
        void *r = nullptr;
        rt_status s = rt_future_result(h_, RT_FOREVER, &r);
        if (s == RT_EFAILED && state_ && state_->error) std::rethrow_exception(state_->error);
        detail::check(s);
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            return static_cast<const T &>(*state_->value);
        }
    }
    /** Waits until the future is done (finished or cancelled). */
    void wait() const { (void)wait_seconds(RT_FOREVER); }
    /** Waits at most `d`: std::future_status::ready once done, ::timeout otherwise. */
    template <class Rep, class Period>
    std::future_status wait_for(const std::chrono::duration<Rep, Period> &d) const {
        return wait_seconds(detail::seconds(d)) ? std::future_status::ready : std::future_status::timeout;
    }
    /** Waits until `deadline` on its own clock. */
    template <class Clock, class Duration>
    std::future_status wait_until(const std::chrono::time_point<Clock, Duration> &deadline) const {
        bool ready = detail::until(deadline, [this](double s) { return wait_seconds(s); });
        return ready ? std::future_status::ready : std::future_status::timeout;
    }
    /** future.exception(): waits; the exception the callable threw, or nullptr. */
    std::exception_ptr exception() const {
        int code = 0;
        detail::check(rt_future_exception(h_, RT_FOREVER, &code));
        if (code == 0) return nullptr;
        if (state_ && state_->error) return state_->error;
        void *r = nullptr;
        rt_status s = rt_future_result(h_, 0.0, &r);
        return std::make_exception_ptr(Error(s, rt_last_error()));
    }
    /** future.cancel(): true if it is cancelled (it had not started). The done-callbacks run
     * in this thread. */
    bool cancel() { return rt_future_cancel(h_); }
    /**
     * future.add_done_callback(fn): calls `fn(future)` once the future is done (finished or
     * cancelled), with an rt::Future<T> for this future (a copy: get(), exception(),
     * cancelled() work in it without waiting). It runs in the thread that completes the
     * future (a worker, or the thread that cancels it), with no internal lock held; at once,
     * in this thread, if the future is done already. Callbacks run in the order they were
     * added. `fn` is any callable taking `const rt::Future<T> &`, copied or moved in (as
     * std::thread does) and destroyed once it has run.
     *
     * As in CPython, an exception that `fn` throws is logged and ignored: it is written to
     * stderr ("exception calling callback for <Future at 0x... state=finished>: what()") and
     * never reaches the thread that completes the future, the pool, the other callbacks or C.
     *
     * Throws rt::Error RT_ENOMEM ("out of memory"; nothing is added, `fn` is destroyed) or
     * RT_EINVAL for a Future that holds none; std::bad_alloc if `fn` cannot be copied in.
     */
    template <class F>
    void add_done_callback(F &&fn) {
        using Cb = DoneCallback<std::decay_t<F>>;
        auto cb = std::make_unique<Cb>(Cb{std::decay_t<F>(std::forward<F>(fn)), state_});
        // On RT_OK the callback owns itself: it has run already (and deleted itself), or the
        // future holds it until it runs.
        detail::check(rt_future_add_done_callback(h_, &Cb::run, cb.get()));
        (void)cb.release();
    }
    bool cancelled() const noexcept { return rt_future_cancelled(h_); }
    bool running() const noexcept { return rt_future_running(h_); }
    bool done() const noexcept { return rt_future_done(h_); }

private:
    friend class Executor;
    Future(rt_future *h, std::shared_ptr<detail::FutureState<T>> st) noexcept : h_(h), state_(std::move(st)) {}

    /* add_done_callback's record: the callable and the state the future's copy shares. The C
     * callback (noexcept) owns it and deletes it when it has run. */
    template <class Fn>
    struct DoneCallback {
        Fn fn;
        std::shared_ptr<detail::FutureState<T>> state;

        static void run(rt_future *h, void *ctx) noexcept {
            std::unique_ptr<DoneCallback> self(static_cast<DoneCallback *>(ctx));
            try {
                detail::check(rt_future_retain(h));
                const Future f(h, self->state);
                std::invoke(std::move(self->fn), f);
            } catch (const std::exception &e) {
                detail::log_callback_exception(h, e.what());
            } catch (...) {
                detail::log_callback_exception(h, "unknown exception (not a std::exception)");
            }
        }
    };

    bool wait_seconds(double s) const {
        int code = 0;
        rt_status st = rt_future_exception(h_, s, &code);
        if (st == RT_OK || st == RT_ECANCELLED) return true;
        return detail::check_timed(st);
    }

    rt_future *h_ = nullptr;
    std::shared_ptr<detail::FutureState<T>> state_;
};

/**
 * A thread pool (concurrent.futures.ThreadPoolExecutor). max_workers 0: min(32, CPUs + 4);
 * workers are named "<prefix>_<n>" ("ThreadPoolExecutor-<k>_<n>" without a prefix) and run
 * `initializer` first (if it throws, the pool breaks: submit throws rt::Error RT_EBROKEN).
 * The destructor shuts the pool down and waits for the work already submitted.
 */
class Executor {
public:
    explicit Executor(std::size_t max_workers = 0, const std::string &thread_name_prefix = "",
                      std::function<void()> initializer = {}) {
        if (initializer) init_ = std::make_unique<std::function<void()>>(std::move(initializer));
        detail::check(rt_executor_new(max_workers, thread_name_prefix.c_str(),
                                      init_ ? &detail::run_initializer : nullptr, init_.get(), &h_));
    }
    Executor(Executor &&o) noexcept : h_(std::exchange(o.h_, nullptr)), init_(std::move(o.init_)) {}
    Executor &operator=(Executor &&o) noexcept {
        if (this != &o) {
            rt_executor_free(h_);
            h_ = std::exchange(o.h_, nullptr);
            init_ = std::move(o.init_);
        }
        return *this;
    }
    Executor(const Executor &) = delete;
    Executor &operator=(const Executor &) = delete;
    ~Executor() { rt_executor_free(h_); }

    /** executor.submit(f, *args): runs f(args...) in a worker (the callable and arguments are
     * copied or moved in, as std::thread does). Throws rt::Error RT_ESHUTDOWN after shutdown,
     * RT_EBROKEN for a broken pool. */
    template <class F, class... Args>
    auto submit(F &&f, Args &&...args) {
        using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
        using Tuple = std::tuple<std::decay_t<F>, std::decay_t<Args>...>;
        using C = detail::Call<R, Tuple>;
        auto state = std::make_shared<detail::FutureState<R>>();
        auto call = std::make_unique<C>(C{Tuple(std::forward<F>(f), std::forward<Args>(args)...), state});
        rt_future *h = nullptr;
        detail::check(rt_executor_submit(h_, &C::run, call.get(), &C::destroy, nullptr, &h));
        call.release();
        return Future<R>(h, std::move(state));
    }
    /** executor.shutdown(wait, cancel_futures=...) */
    void shutdown(bool wait = true, bool cancel_futures = false) {
        detail::check(rt_executor_shutdown(h_, wait, cancel_futures));
    }
    /** How many workers the pool has started. */
    std::size_t thread_count() const noexcept { return rt_executor_thread_count(h_); }
    rt_executor *get() const noexcept { return h_; }

private:
    rt_executor *h_ = nullptr;
    std::unique_ptr<std::function<void()>> init_;
};

/** concurrent.futures.wait's (done, not_done), as indices into the futures given. */
struct WaitResult {
    std::vector<std::size_t> done;
    std::vector<std::size_t> not_done;
};

namespace detail {
template <class Container>
WaitResult wait_seconds(const Container &futures, double timeout, ReturnWhen when) {
    std::vector<rt_future *> hs;
    for (const auto &f : futures) hs.push_back(f.get_handle());
    std::unique_ptr<bool[]> done(new bool[hs.size() + 1]);
    rt_status s = rt_wait(hs.data(), hs.size(), timeout, static_cast<int>(when), done.get(), nullptr);
    if (s != RT_TIMEOUT) check(s);
    WaitResult r;
    for (std::size_t i = 0; i < hs.size(); ++i) (done[i] ? r.done : r.not_done).push_back(i);
    return r;
}
} // namespace detail

/** concurrent.futures.wait(futures, return_when=...): waits without bound. */
template <class Container>
WaitResult wait(const Container &futures, ReturnWhen when = ReturnWhen::all_completed) {
    return detail::wait_seconds(futures, RT_FOREVER, when);
}
/** concurrent.futures.wait(futures, timeout, return_when): the sets when the condition holds or
 * the time is up. */
template <class Container, class Rep, class Period>
WaitResult wait(const Container &futures, const std::chrono::duration<Rep, Period> &timeout,
                ReturnWhen when = ReturnWhen::all_completed) {
    return detail::wait_seconds(futures, detail::seconds(timeout), when);
}

/**
 * concurrent.futures.as_completed: gives each distinct future once, as it completes. next()
 * returns std::nullopt at the end and throws rt::Error RT_TIMEOUT ("N (of M) futures
 * unfinished") once the overall timeout has passed; range-for works too.
 */
template <class T>
class AsCompleted {
public:
    explicit AsCompleted(std::vector<Future<T>> futures, double timeout = RT_FOREVER)
        : futures_(std::move(futures)) {
        std::vector<rt_future *> hs;
        for (std::size_t i = 0; i < futures_.size(); ++i) {
            hs.push_back(futures_[i].get_handle());
            index_.emplace(futures_[i].get_handle(), i);
        }
        detail::check(rt_as_completed_new(hs.data(), hs.size(), timeout, &h_));
    }
    AsCompleted(const AsCompleted &) = delete;
    AsCompleted &operator=(const AsCompleted &) = delete;
    AsCompleted(AsCompleted &&o) noexcept
        : futures_(std::move(o.futures_)), index_(std::move(o.index_)), h_(std::exchange(o.h_, nullptr)) {}
    ~AsCompleted() { rt_as_completed_free(h_); }

    /** The next completed future, or std::nullopt when all were given. */
    std::optional<Future<T>> next() {
        rt_future *f = nullptr;
        detail::check(rt_as_completed_next(h_, &f));
        if (f == nullptr) return std::nullopt;
        return futures_[index_.at(f)];
    }

    class iterator {
    public:
        using value_type = Future<T>;
        using difference_type = std::ptrdiff_t;
        using reference = const Future<T> &;
        using pointer = const Future<T> *;
        using iterator_category = std::input_iterator_tag;
        iterator() = default;
        explicit iterator(AsCompleted *it) : it_(it) { ++*this; }
        reference operator*() const { return *cur_; }
        pointer operator->() const { return &*cur_; }
        iterator &operator++() {
            cur_ = it_->next();
            if (!cur_) it_ = nullptr;
            return *this;
        }
        bool operator==(const iterator &o) const { return it_ == o.it_; }
        bool operator!=(const iterator &o) const { return it_ != o.it_; }

    private:
        AsCompleted *it_ = nullptr;
        std::optional<Future<T>> cur_;
    };
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

private:
    std::vector<Future<T>> futures_;
    std::unordered_map<rt_future *, std::size_t> index_;
    rt_as_completed *h_ = nullptr;
};

/** concurrent.futures.as_completed(futures): no timeout. */
template <class T>
AsCompleted<T> as_completed(std::vector<Future<T>> futures) {
    return AsCompleted<T>(std::move(futures));
}
/** concurrent.futures.as_completed(futures, timeout): the timeout counts from this call. */
template <class T, class Rep, class Period>
AsCompleted<T> as_completed(std::vector<Future<T>> futures, const std::chrono::duration<Rep, Period> &timeout) {
    return AsCompleted<T>(std::move(futures), detail::seconds(timeout));
}

} // namespace rt

#endif /* RTHREAD_HPP */
