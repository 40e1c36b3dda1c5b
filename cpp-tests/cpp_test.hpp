// The C++ suite's additions to the C harness (c-tests/rt_test.h): checks on rt::Error, and a
// capture of what the process writes to stderr.
#ifndef CPP_TEST_HPP
#define CPP_TEST_HPP

#include "rt_test.h"
#include "rthread.hpp"

#include <cstdio>
#include <string>
#include <unistd.h>

// `expr` throws rt::Error with status `st` and what() exactly `msg`.
#define CHECK_THROWS(expr, st, msg)                                                          \
    do {                                                                                     \
        try {                                                                                \
            (void)(expr);                                                                    \
            rt_test_fail(__FILE__, __LINE__, "%s did not throw", #expr);                     \
        } catch (const rt::Error &e_) {                                                      \
            if (e_.status() != (st))                                                         \
                rt_test_fail(__FILE__, __LINE__, "%s threw %s (%s), expected %s", #expr,     \
                             rt_status_str(e_.status()), e_.what(), rt_status_str(st));      \
            if (std::string(e_.what()) != (msg))                                             \
                rt_test_fail(__FILE__, __LINE__, "%s: message \"%s\", expected \"%s\"",       \
                             #expr, e_.what(), (msg));                                       \
        }                                                                                    \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                   \
    do {                                                                                     \
        std::string sa_ = (a), sb_ = (b);                                                    \
        if (sa_ != sb_)                                                                      \
            rt_test_fail(__FILE__, __LINE__, "%s == %s failed: \"%s\" != \"%s\"", #a, #b,    \
                         sa_.c_str(), sb_.c_str());                                          \
    } while (0)

// Redirects file descriptor 2 to a temporary file until finish(), which returns what was
// written meanwhile.
class StderrCapture {
public:
    StderrCapture() {
        std::fflush(stderr);
        file_ = std::tmpfile();
        CHECK(file_ != nullptr);
        saved_ = dup(2);
        CHECK(saved_ >= 0);
        CHECK(dup2(fileno(file_), 2) >= 0);
    }
    std::string finish() {
        std::fflush(stderr);
        CHECK(dup2(saved_, 2) >= 0);
        close(saved_);
        std::rewind(file_);
        std::string out;
        char buf[512];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) out.append(buf, n);
        std::fclose(file_);
        return out;
    }

private:
    std::FILE *file_ = nullptr;
    int saved_ = -1;
};

#endif
