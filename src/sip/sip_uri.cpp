#include "rtconn/sip_uri.hpp"

#include <algorithm>

#include "sip/text.hpp"
#include "sip/uri_parts.hpp"

namespace rtconn {

std::optional<SipUri> SipUri::parse(std::string_view text) {
  const auto parts = sip::parse_uri_parts(text);
  if (!parts) return std::nullopt;
  SipUri uri;
  uri.scheme = parts->scheme;
  uri.user = parts->user;
  uri.host = parts->host;
  uri.port = parts->port;
  uri.transport.resize(parts->transport.size());
  std::ranges::transform(parts->transport, uri.transport.begin(), sip::ascii_lower);
  return uri;
}

std::string SipUri::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out;
  // 24 covers the punctuation, brackets, a five-digit port and ";transport=".
  out.reserve(scheme.size() + user.size() + host.size() + transport.size() + 24);
  out.append(scheme).append(":");
  if (!user.empty()) out.append(user).append("@");
  if (ipv6) out.append("[");
  out.append(host);
  if (ipv6) out.append("]");
  if (port != 0) out.append(":").append(std::to_string(port));
  if (!transport.empty()) out.append(";transport=").append(transport);
  return out;
}

}  // namespace rtconn
