#include "manager/request_routes.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "sip/text.hpp"
#include "sip/uri_parts.hpp"

namespace rtconn::detail {

std::optional<std::string> RequestRoutes::owner_key(std::string_view uri) {
  std::string key;
  if (!write_owner_key(uri, key)) return std::nullopt;
  return key;
}

bool RequestRoutes::write_owner_key(std::string_view uri, std::string& key) {
  const auto parts = sip::parse_uri_parts(uri);
  if (!parts) return false;
  key.assign(parts->scheme).append(1, ':').append(parts->user).append(1, '@');
  // Bracketed as written: sip:u@[::1]:5060 and sip:u@[::1:5060] are different hosts.
  const bool ipv6 = parts->host.find(':') != std::string_view::npos;
  if (ipv6) key += '[';
  std::ranges::transform(parts->host, std::back_inserter(key), sip::ascii_lower);
  if (ipv6) key += ']';
  if (parts->port != 0) {
    std::array<char, 8> digits;  // ":" and up to five digits
    digits[0] = ':';
    const auto end = std::to_chars(digits.data() + 1, digits.data() + digits.size(), parts->port);
    key.append(digits.data(), end.ptr);
  }
  return true;
}

RequestRoutes RequestRoutes::with_default(RequestHandler handler) const {
  RequestRoutes changed = *this;
  changed.default_ = std::move(handler);
  return changed;
}

RequestRoutes RequestRoutes::with_owner(const std::string& key, RequestHandler handler) const {
  RequestRoutes changed = *this;
  if (handler) {
    changed.owners_.insert_or_assign(key, std::move(handler));
  } else {
    changed.owners_.erase(key);
  }
  return changed;
}

RequestRoutes RequestRoutes::with_strict_dispatching(bool strict) const {
  RequestRoutes changed = *this;
  changed.strict_ = strict;
  return changed;
}

RequestRoutes::Choice RequestRoutes::choose(const SipMessage& request) const {
  // Without owners the To is not even read: the common case pays nothing for the table.
  if (owners_.empty()) return {default_ ? &default_ : nullptr, false};
  // The To names the owner (UCMA); a request whose To names someone else (forwarded, or a tel:
  // URI, RFC 3261 8.2.2.1) may still be addressed to an owner by its Request-URI.
  const auto to = request.header("To");
  thread_local std::string key;  // its capacity kept: no allocation per request once warm
  for (const auto uri : {to ? header_address(*to) : std::string_view(), request.request_uri()}) {
    if (write_owner_key(uri, key)) {
      if (const auto it = owners_.find(key); it != owners_.end()) return {&it->second, false};
    }
  }
  if (strict_ && owners_.size() == 1) return {&owners_.begin()->second, false};
  if (default_) return {&default_, false};
  return {nullptr, true};
}

}  // namespace rtconn::detail
