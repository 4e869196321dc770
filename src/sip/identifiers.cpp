#include "sip/identifiers.hpp"

#include <cstdint>
#include <random>
#include <string_view>

namespace rtconn::sip {
namespace {

std::uint64_t random_bits() {
  // One generator per thread: no lock on the per-request path, and seeds differ per thread.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

// 64 RFC 3261 token characters: six bits each, so 11 of them carry all 64 random bits.
constexpr std::string_view token_digits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
constexpr std::size_t random_digits = 11;

void append_random(std::string& out) {
  std::uint64_t bits = random_bits();
  for (std::size_t i = 0; i < random_digits; ++i, bits >>= 6) out += token_digits[bits & 63];
}

}  // namespace

std::string make_branch() {
  std::string branch = "z9hG4bK";
  append_random(branch);
  return branch;
}

std::string make_tag() {
  std::string tag;
  append_random(tag);
  return tag;
}

}  // namespace rtconn::sip
