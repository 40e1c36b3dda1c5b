// The second translation unit of the two_units program: it includes rthread.hpp too, so a
// definition that is not inline (a duplicate symbol) fails the link.
#include "rthread.hpp"

#include "two_units.hpp"

#include <mutex>
#include <stdexcept>

std::uint64_t run_in_second_unit(int *out) {
    rt::Lock lock;
    rt::Thread t([&] {
        std::lock_guard<rt::Lock> g(lock);
        *out = 2;
    });
    t.start();
    t.join();
    return t.ident();
}

void throw_in_second_unit() {
    rt::Thread t([] { throw std::runtime_error("from the second unit"); });
    t.set_name("second");
    t.start();
    t.join();
}
