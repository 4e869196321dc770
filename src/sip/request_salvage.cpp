#include "sip/request_salvage.hpp"

#include "sip/text.hpp"

namespace rtconn::sip {
namespace {

constexpr std::string_view sip_version = "SIP/2.0";

// "SIP/" then digits, a dot, digits (RFC 3261 25.1 SIP-Version).
bool is_sip_version(std::string_view text) {
  if (text.size() < 7 || !iequals(text.substr(0, 4), "SIP/")) return false;
  const auto dot = text.find('.', 4);
  if (dot == std::string_view::npos) return false;
  const auto major = text.substr(4, dot - 4);
  const auto minor = text.substr(dot + 1);
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  return digits(major) && digits(minor);
}

}  // namespace

std::optional<SalvagedRequest> salvage_request(std::string_view message) {
  const auto start_end = message.find(crlf);
  if (start_end == std::string_view::npos) return std::nullopt;
  const std::string_view start = message.substr(0, start_end);
  const auto first_space = start.find(' ');
  const auto last_space = start.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return std::nullopt;
  const auto method = start.substr(0, first_space);
  const auto uri = start.substr(first_space + 1, last_space - first_space - 1);
  const auto version = start.substr(last_space + 1);
  if (!is_token(method) || uri.empty() || uri.find(' ') != std::string_view::npos ||
      !is_sip_version(version)) {
    return std::nullopt;
  }
  SalvagedRequest salvaged;
  salvaged.other_version = !iequals(version, sip_version);
  salvaged.header_section.reserve(start_end + 64);
  salvaged.header_section.append(start.substr(0, last_space + 1)).append(sip_version).append(crlf);

  bool keeping = false;  // whether the header the continuation lines belong to was kept
  for (auto from = start_end + crlf.size(); from < message.size();) {
    auto end = message.find(crlf, from);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view line = message.substr(from, end - from);
    from = end + crlf.size();
    if (line.empty()) break;
    if (!is_wsp(line.front())) {
      const auto colon = line.find(':');
      keeping = colon != std::string_view::npos && is_token(trim_wsp(line.substr(0, colon)));
    }
    if (keeping) salvaged.header_section.append(line).append(crlf);
  }
  salvaged.header_section.append(crlf);
  return salvaged;
}

}  // namespace rtconn::sip
