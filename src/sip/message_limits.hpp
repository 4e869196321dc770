#pragma once
// Limits on the parts of a message a peer sends (UCMA's MaxHeaderNameLength,
// MaxHeaderValueLength and MaxParameterCount), checked once a message has been framed and
// parsed. The framer bounds the header section and the message as a whole; these bound what
// the application is handed, whose own parsing of a header (a URI parser, a regular
// expression, a list of parameters) may cost far more per byte than the stack's does.

#include <cstddef>
#include <optional>
#include <string_view>

#include "rtconn/sip_message.hpp"

namespace rtconn::sip {

struct MessageLimits {
  std::size_t max_header_name_bytes = 256;
  std::size_t max_header_value_bytes = 16 * 1024;
  /// Per header line (the parameters of a URI in it included) and in a request's URI.
  std::size_t max_parameter_count = 64;
};

/// The ';'-separated parameters of a header value or URI: its semicolons outside quoted strings
/// (all of them when a quote is left open).
std::size_t parameter_count(std::string_view text) noexcept;

/// The reason phrase a request that breaks a limit is refused with; none within them all.
std::optional<std::string_view> exceeded_limit(const SipMessage& message,
                                               const MessageLimits& limits) noexcept;

}  // namespace rtconn::sip
