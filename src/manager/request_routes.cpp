#include "manager/request_routes.hpp"

#include <algorithm>

#include "rtconn/sip_uri.hpp"
#include "sip/text.hpp"

namespace rtconn::detail {

std::optional<std::string> RequestRoutes::owner_key(std::string_view uri) {
  const auto parsed = SipUri::parse(uri);
  if (!parsed) return std::nullopt;
  std::string key = parsed->scheme + ':' + parsed->user + '@';
  // Bracketed as written: sip:u@[::1]:5060 and sip:u@[::1:5060] are different hosts.
  const bool ipv6 = parsed->host.find(':') != std::string::npos;
  if (ipv6) key += '[';
  std::ranges::transform(parsed->host, std::back_inserter(key), sip::ascii_lower);
  if (ipv6) key += ']';
  if (parsed->port != 0) key += ':' + std::to_string(parsed->port);
  return key;
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
  for (const auto uri : {to ? header_address(*to) : std::string_view(), request.request_uri()}) {
    if (const auto key = owner_key(uri)) {
      if (const auto it = owners_.find(*key); it != owners_.end()) return {&it->second, false};
    }
  }
  if (strict_ && owners_.size() == 1) return {&owners_.begin()->second, false};
  if (default_) return {&default_, false};
  return {nullptr, true};
}

}  // namespace rtconn::detail
