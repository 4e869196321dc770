#include "sip/identifiers.hpp"

#include <random>

#include <fmt/format.h>

namespace rtconn::sip {
namespace {

std::uint64_t random_bits() {
  // One generator per thread: no lock on the per-request path, and seeds differ per thread.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace

std::string make_branch() {
  return fmt::format("z9hG4bK{:016x}", random_bits());
}

std::string make_tag() {
  return fmt::format("{:016x}", random_bits());
}

}  // namespace rtconn::sip
