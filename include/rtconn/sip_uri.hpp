#pragma once
/// \file
/// The parts of a SIP or SIPS URI (RFC 3261 section 19.1) that choose where a request goes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtconn {

/// A parsed `sip:` / `sips:` URI: `sip:user@host:port;transport=tcp`.
struct SipUri {
  std::string scheme;      ///< "sip" or "sips", lower case
  std::string user;        ///< may be empty
  std::string host;        ///< host name, IPv4 address, or IPv6 address without brackets
  std::uint16_t port = 0;  ///< 0 when the URI names none
  std::string transport;   ///< the `transport` parameter, lower case; empty when absent

  /// Parses `text`; nullopt when it is not a sip/sips URI with a host. Accepts `<...>` brackets.
  static std::optional<SipUri> parse(std::string_view text);
  /// The URI written back (`sip:user@[::1]:5060;transport=tcp`).
  std::string to_string() const;
};

}  // namespace rtconn
