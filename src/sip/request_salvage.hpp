#pragma once
// What can still be answered of a request that does not parse. A peer that sends a header line
// without a colon, a header name that is not a token, or another SIP version would otherwise
// get no answer at all over a stream and wait out its transaction time-out (32 s); RFC 3261
// asks for a 400 (8.2.2, 21.4.1) or a 505 (8.2.1, 21.5.7), which need only its Via, From, To,
// Call-ID and CSeq.

#include <optional>
#include <string>
#include <string_view>

namespace rtconn::sip {

struct SalvagedRequest {
  /// The start line (the version made SIP/2.0) and the header lines that parse, each followed
  /// by its continuation lines; the unparseable ones left out; then the blank line.
  std::string header_section;
  /// The version was another SIP version than 2.0: the answer is 505.
  bool other_version = false;
};

/// None when the first line of `message` is no request line (a response, garbage): there is
/// no one to answer. Reads up to the blank line, or all of `message` without one.
std::optional<SalvagedRequest> salvage_request(std::string_view message);

}  // namespace rtconn::sip
