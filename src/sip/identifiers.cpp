#include "sip/identifiers.hpp"

#include <array>
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

// Lower-case hex digits, four random bits each. Not the 64 token characters that would carry six:
// some peers look for header names anywhere in a message, and a tag that happens to spell one
// breaks them. SIPp takes a response's CSeq method from the first "CSeq" it finds, unanchored
// and case-sensitive: 11 characters of 64 spelled it once in about two million responses, and
// SIPp failed that call as an unexpected message (1 call in 10 runs of 50,000 at 20,000/s).
// Hex spells no header name longer than one letter (it has no s, q, t, v, i, o, m).
constexpr std::string_view hex_digits = "0123456789abcdef";

// `Count` digits carry Count * 4 random bits. Made in place and appended at once: a character
// appended at a time checks the string's capacity each time (a tag is made per request).
template <std::size_t Count>
void append_random(std::string& out) {
  static_assert(Count <= 16, "one draw of 64 bits");
  std::array<char, Count> digits;
  std::uint64_t bits = random_bits();
  for (char& digit : digits) {
    digit = hex_digits[bits & 15];
    bits >>= 4;
  }
  out.append(digits.data(), digits.size());
}

}  // namespace

void append_branch(std::string& out) {
  out.append("z9hG4bK");
  append_random<16>(out);
}

std::string make_tag() {
  // 15 digits, 60 bits (RFC 3261 19.3 asks for 32), fit the string's inline buffer: the tag a
  // server adds to every answer allocates nothing.
  std::string tag;
  append_random<15>(tag);
  return tag;
}

}  // namespace rtconn::sip
