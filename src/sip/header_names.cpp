#include "rtconn/sip_message.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

#include "sip/header_id.hpp"
#include "sip/text.hpp"

namespace rtconn {

std::string_view expand_compact_header_name(std::string_view name) noexcept {
  if (name.size() != 1) return name;
  // RFC 3261 7.3.3 plus the compact forms registered by later RFCs (3265, 3515, 3892, 3841,
  // 4028, 8224), indexed by letter so the hot path never compares strings.
  switch (sip::ascii_lower(name.front())) {
    case 'a':
      return "Accept-Contact";
    case 'b':
      return "Referred-By";
    case 'c':
      return "Content-Type";
    case 'd':
      return "Request-Disposition";
    case 'e':
      return "Content-Encoding";
    case 'f':
      return "From";
    case 'i':
      return "Call-ID";
    case 'j':
      return "Reject-Contact";
    case 'k':
      return "Supported";
    case 'l':
      return "Content-Length";
    case 'm':
      return "Contact";
    case 'o':
      return "Event";
    case 'r':
      return "Refer-To";
    case 's':
      return "Subject";
    case 't':
      return "To";
    case 'u':
      return "Allow-Events";
    case 'v':
      return "Via";
    case 'x':
      return "Session-Expires";
    case 'y':
      return "Identity";
    default:
      return name;
  }
}

bool header_names_equal(std::string_view a, std::string_view b) noexcept {
  return sip::iequals(expand_compact_header_name(a), expand_compact_header_name(b));
}

namespace sip {
namespace {

// A header name in lower case and, per byte, the bit that folds a name's byte to compare with it:
// 0x20 under a letter (ORed in, it lower-cases an ASCII letter and turns no other byte into a
// letter), none under the rest ('-'), which must match exactly.
template <std::size_t N>
struct FoldedName {
  static constexpr std::size_t size = N - 1;
  static_assert(size > 0 && size <= 16, "one or two words");
  char bytes[size]{};
  char fold[size]{};

  consteval FoldedName(const char (&lower)[N]) {
    for (std::size_t i = 0; i < size; ++i) {
      bytes[i] = lower[i];
      fold[i] = lower[i] >= 'a' && lower[i] <= 'z' ? 0x20 : 0;
    }
  }
};

// `count` bytes from `p` as memcpy lays them into a zeroed word on this machine.
consteval std::uint64_t word_of(const char* p, std::size_t count) {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto shift = std::endian::native == std::endian::little ? 8 * i : 8 * (7 - i);
    word |= std::uint64_t{static_cast<unsigned char>(p[i])} << shift;
  }
  return word;
}

inline std::uint64_t load(const char* p, std::size_t count) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, p, count);
  return word;
}

// `name` equals `Lower` but for the case of its letters. One or two word compares instead of a
// branch per character: every line of every message is named by this.
template <FoldedName Lower>
bool equals_folded(std::string_view name) noexcept {
  constexpr std::size_t size = Lower.size;
  if (name.size() != size) return false;  // the loads below read `size` bytes
  constexpr std::size_t first = size < 8 ? size : 8;
  constexpr std::uint64_t want = word_of(Lower.bytes, first);
  constexpr std::uint64_t fold = word_of(Lower.fold, first);
  if ((load(name.data(), first) | fold) != want) return false;
  if constexpr (size <= 8) {
    return true;
  } else {  // the last eight bytes, overlapping the first word
    constexpr std::uint64_t want_tail = word_of(Lower.bytes + size - 8, 8);
    constexpr std::uint64_t fold_tail = word_of(Lower.fold + size - 8, 8);
    return (load(name.data() + size - 8, 8) | fold_tail) == want_tail;
  }
}

}  // namespace

HeaderId header_id(std::string_view name) noexcept {
  // By length first: most lines are told apart without comparing a single character.
  switch (name.size()) {
    case 1:
      switch (ascii_lower(name.front())) {
        case 'v':
          return HeaderId::via;
        case 'f':
          return HeaderId::from;
        case 't':
          return HeaderId::to;
        case 'i':
          return HeaderId::call_id;
        case 'l':
          return HeaderId::content_length;
        default:
          return HeaderId::other;
      }
    case 2:
      return equals_folded<"to">(name) ? HeaderId::to : HeaderId::other;
    case 3:
      return equals_folded<"via">(name) ? HeaderId::via : HeaderId::other;
    case 4:
      if (equals_folded<"from">(name)) return HeaderId::from;
      return equals_folded<"cseq">(name) ? HeaderId::cseq : HeaderId::other;
    case 7:
      return equals_folded<"call-id">(name) ? HeaderId::call_id : HeaderId::other;
    case 9:
      return equals_folded<"timestamp">(name) ? HeaderId::timestamp : HeaderId::other;
    case 14:
      return equals_folded<"content-length">(name) ? HeaderId::content_length : HeaderId::other;
    default:
      return HeaderId::other;
  }
}

}  // namespace sip
}  // namespace rtconn
