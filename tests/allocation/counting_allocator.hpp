#pragma once
// The allocation tests' executable replaces the global operator new (counting_allocator.cpp) so
// a test can count what the threads it names allocate.

#include <cstddef>

namespace rtconn::allocation {

/// Counts the calling thread's allocations from now on (true) or no longer (false).
void count_this_thread(bool counted) noexcept;
/// Allocations by counted threads so far.
std::size_t allocations() noexcept;
/// Bytes those allocations asked for.
std::size_t allocated_bytes() noexcept;
/// Counted threads' allocations of exactly `bytes` throw std::bad_alloc from now on (0: none
/// do): memory running out at one chosen place, such as a string of a chosen length.
void refuse_allocations_of(std::size_t bytes) noexcept;

}  // namespace rtconn::allocation
