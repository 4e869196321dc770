#pragma once
// Small ASCII helpers shared by the SIP parsers. SIP's grammar is ASCII and case-insensitive
// where it matters, so these never consult the locale and never allocate.

#include <array>
#include <charconv>
#include <optional>
#include <string_view>

namespace rtconn::sip {

inline constexpr std::string_view crlf = "\r\n";

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

/// RFC 3261 25.1 `token`, by byte: method names and header names. A table, as every header name
/// of every message is checked a byte at a time.
inline constexpr std::array<bool, 256> token_bytes = [] {
  std::array<bool, 256> is{};
  for (int byte = 0; byte < 256; ++byte) {
    is[byte] = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
               (byte >= '0' && byte <= '9');
  }
  for (char c : std::string_view("-.!%*_+`'~")) is[static_cast<unsigned char>(c)] = true;
  return is;
}();

constexpr bool is_token_char(char c) noexcept {
  return token_bytes[static_cast<unsigned char>(c)];
}

constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

/// Linear white space inside one header line (RFC 3261 25.1 WSP).
constexpr bool is_wsp(char c) noexcept {
  return c == ' ' || c == '\t';
}

constexpr std::string_view trim_wsp(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

/// The whole of `s` as an unsigned decimal number: no sign, no spaces, no overflow.
template <typename Unsigned>
std::optional<Unsigned> parse_decimal(std::string_view s) noexcept {
  Unsigned value{};
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

}  // namespace rtconn::sip
