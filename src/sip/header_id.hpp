#pragma once
// The headers the stack itself reads on every message, named once when a header line is parsed
// or stored, so that finding one compares a byte instead of a case-insensitive string (each
// request answered looks up Via, From, To, Call-ID and CSeq several times over).

#include <cstdint>
#include <string_view>

#include "rtconn/sip_message.hpp"

namespace rtconn::sip {

enum class HeaderId : std::uint8_t {
  other,
  via,
  from,
  to,
  call_id,
  cseq,
  content_length,
  timestamp  // copied into a 100 (RFC 3261 8.2.6.1)
};

/// The id of a header name, long or compact ("v" is via). Two names header_names_equal calls
/// equal have the same id; two names with the same id other than `other` are equal.
HeaderId header_id(std::string_view name) noexcept;

}  // namespace rtconn::sip
