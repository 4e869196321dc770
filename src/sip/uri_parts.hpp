#pragma once
// A sip/sips URI's parts as views into its text: what SipUri copies out, and what a lookup on
// the per-request path reads without copying (RequestRoutes).

#include <cstdint>
#include <optional>
#include <string_view>

namespace rtconn::sip {

struct UriParts {
  std::string_view scheme;     // "sip" or "sips", lower case (not a view into the text)
  std::string_view user;       // may be empty
  std::string_view host;       // an IPv6 address without its brackets
  std::uint16_t port = 0;      // 0 when none is written
  std::string_view transport;  // the `transport` parameter as written; empty when absent
};

/// The parts of `text` (SipUri::parse's grammar); nullopt when it is no sip/sips URI with a host.
std::optional<UriParts> parse_uri_parts(std::string_view text) noexcept;

}  // namespace rtconn::sip
