#pragma once
// How long a DNS answer may be kept, read from the message itself: c-ares 1.18 parses SRV
// records without their TTLs, and hands a NODATA or NXDOMAIN answer over as a bare status.
// The message is walked with glibc's libresolv parser (ns_initparse), not by hand.

#include <chrono>
#include <cstddef>
#include <optional>

namespace rtconn::dns {

/// A positive answer's lifetime: the least TTL of its answer section's records (a CNAME on the
/// way ends with its target's). None when the message cannot be parsed or answers nothing.
std::optional<std::chrono::seconds> answer_ttl(const unsigned char* message, std::size_t length);

/// A negative answer's lifetime (RFC 2308 5): the SOA in its authority section, the lesser of
/// that record's TTL and its MINIMUM field. None without one: such an answer is not kept.
std::optional<std::chrono::seconds> negative_ttl(const unsigned char* message, std::size_t length);

}  // namespace rtconn::dns
