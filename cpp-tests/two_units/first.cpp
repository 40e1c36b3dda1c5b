// rthread.hpp included from two translation units (this one and second.cpp): it links, and the
// exception handler set here is the one threads started there use (one handler per program).
#include "cpp_test.hpp"
#include "rthread.hpp" // twice in this unit too: the include guard

#include "two_units.hpp"

#include <atomic>
#include <string>

static std::atomic<int> calls{0};
static std::string last_name;

static void count_exceptions(const std::string &name, std::exception_ptr) {
    last_name = name;
    ++calls;
}

static void both_units_run_threads() {
    int out = 0;
    std::uint64_t ident = run_in_second_unit(&out);
    CHECK_EQ_INT(out, 2);
    CHECK(ident != 0);
    rt::Thread here([&] { out = 1; });
    here.start();
    here.join();
    CHECK_EQ_INT(out, 1);
}

static void one_exception_handler_for_both_units() {
    rt::set_thread_exception_handler(count_exceptions);
    throw_in_second_unit();
    CHECK_EQ_INT(calls.load(), 1);
    CHECK_STR_EQ(last_name, "second");
    rt::set_thread_exception_handler(nullptr);
}

RT_CASES(
    RT_CASE(both_units_run_threads),
    RT_CASE(one_exception_handler_for_both_units)
)
