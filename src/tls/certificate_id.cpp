#include "rtconn/certificate_id.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <fmt/format.h>

namespace rtconn {
namespace {

std::span<const std::uint8_t> without_leading_zeros(std::span<const std::uint8_t> serial) {
  std::size_t skip = 0;
  while (skip < serial.size() && serial[skip] == 0) ++skip;
  return serial.subspan(skip);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Attribute type names as RFC 4514 writes them; long names and .NET's spellings map onto them.
std::string canonical_attribute_type(std::string type) {
  for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::pair<const char*, const char*> aliases[] = {
      {"COMMONNAME", "CN"},
      {"ORGANIZATIONNAME", "O"},
      {"ORGANIZATIONALUNITNAME", "OU"},
      {"COUNTRYNAME", "C"},
      {"STATEORPROVINCENAME", "ST"},
      {"S", "ST"},
      {"LOCALITYNAME", "L"},
      {"EMAILADDRESS", "E"},
      {"STREETADDRESS", "STREET"},
      {"DOMAINCOMPONENT", "DC"},
      {"USERID", "UID"},
  };
  for (const auto& [from, to] : aliases) {
    if (type == from) return to;
  }
  return type;
}

// Folds a value for comparison: escapes undone, outer spaces trimmed, inner runs of spaces made
// one, ASCII lower-cased. Quotes are dropped.
std::string fold_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '"') continue;
    if (c == '\\' && i + 1 < value.size()) {
      const int hi = hex_value(value[i + 1]);
      const int lo = i + 2 < value.size() ? hex_value(value[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        c = value[++i];
      }
    } else if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The attribute-value pairs of a DN in written order; nullopt when one lacks '='.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_dn(std::string_view dn) {
  std::vector<std::pair<std::string, std::string>> parts;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= dn.size(); ++i) {
    if (i < dn.size()) {
      const char c = dn[i];
      if (c == '\\') {
        ++i;
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (quoted || (c != ',' && c != '+' && c != ';')) continue;
    }
    const auto part = dn.substr(start, i - start);
    start = i + 1;
    const auto first = part.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;  // tolerate a trailing separator
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto type = std::string(part.substr(0, eq));
    std::erase_if(type, [](char c) { return c == ' ' || c == '\t'; });
    if (type.empty()) return std::nullopt;
    parts.emplace_back(canonical_attribute_type(std::move(type)), fold_value(part.substr(eq + 1)));
  }
  if (parts.empty()) return std::nullopt;
  return parts;
}

}  // namespace

SerialNumber serial_from_little_endian(std::span<const std::uint8_t> bytes) {
  return SerialNumber(bytes.rbegin(), bytes.rend());
}

std::optional<SerialNumber> serial_from_hex(std::string_view text) {
  if (text.starts_with("serial=")) text.remove_prefix(7);
  std::string digits;
  for (const char c : text) {
    if (c == ':' || c == ' ') continue;
    if (hex_value(c) < 0) return std::nullopt;
    digits += c;
  }
  if (digits.empty()) return std::nullopt;
  if (digits.size() % 2 != 0) digits.insert(digits.begin(), '0');
  SerialNumber serial;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    serial.push_back(
        static_cast<std::uint8_t>(hex_value(digits[i]) * 16 + hex_value(digits[i + 1])));
  }
  return serial;
}

std::string serial_to_hex(std::span<const std::uint8_t> serial) {
  std::string text;
  for (const auto byte : serial) {
    if (!text.empty()) text += ':';
    text += fmt::format("{:02X}", byte);
  }
  return text;
}

bool serials_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  const auto x = without_leading_zeros(a);
  const auto y = without_leading_zeros(b);
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

bool distinguished_names_equal(std::string_view a, std::string_view b) {
  const auto x = parse_dn(a);
  auto y = parse_dn(b);
  if (!x || !y || x->size() != y->size()) return false;
  if (*x == *y) return true;
  std::reverse(y->begin(), y->end());
  return *x == *y;
}

}  // namespace rtconn
