// What the two units of the two_units program share.
#ifndef TWO_UNITS_HPP
#define TWO_UNITS_HPP

#include <cstdint>

// Runs a thread (rt::Thread, rt::Lock) in second.cpp; writes 2 to *out; returns its ident.
std::uint64_t run_in_second_unit(int *out);
// Starts a thread in second.cpp whose callable throws, and joins it.
void throw_in_second_unit();

#endif
