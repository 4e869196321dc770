#include "dns/answer_ttl.hpp"

#include <arpa/nameser.h>
#include <resolv.h>

#include <algorithm>
#include <cstdint>

namespace rtconn::dns {
namespace {

std::optional<ns_msg> parse(const unsigned char* message, std::size_t length) {
  ns_msg parsed{};
  if (message == nullptr || length > NS_MAXMSG ||
      ns_initparse(message, static_cast<int>(length), &parsed) != 0) {
    return std::nullopt;
  }
  return parsed;
}

// RFC 2181 8: a TTL with its top bit set is read as zero.
std::chrono::seconds ttl_of(const ns_rr& record) {
  const std::uint32_t ttl = ns_rr_ttl(record);
  return std::chrono::seconds(ttl > 0x7fffffffU ? 0 : ttl);
}

// SOA RDATA: MNAME and RNAME (compressible names), then SERIAL, REFRESH, RETRY, EXPIRE and
// MINIMUM, 32 bits each (RFC 1035 3.3.13).
std::optional<std::uint32_t> soa_minimum(const ns_rr& record, const unsigned char* end_of_message) {
  const unsigned char* at = ns_rr_rdata(record);
  const unsigned char* const end = std::min(at + ns_rr_rdlen(record), end_of_message);
  if (ns_name_skip(&at, end) != 0 || ns_name_skip(&at, end) != 0) return std::nullopt;
  constexpr std::ptrdiff_t fields = 5 * NS_INT32SZ;
  if (end - at < fields) return std::nullopt;
  // Read here rather than by libresolv's ns_get32, so a fuzzer's sanitizers see the read.
  const unsigned char* minimum = at + fields - NS_INT32SZ;
  return std::uint32_t{minimum[0]} << 24 | std::uint32_t{minimum[1]} << 16 |
         std::uint32_t{minimum[2]} << 8 | std::uint32_t{minimum[3]};
}

}  // namespace

std::optional<std::chrono::seconds> answer_ttl(const unsigned char* message, std::size_t length) {
  auto parsed = parse(message, length);
  if (!parsed) return std::nullopt;
  std::optional<std::chrono::seconds> least;
  for (int i = 0; i < ns_msg_count(*parsed, ns_s_an); ++i) {
    ns_rr record{};
    if (ns_parserr(&*parsed, ns_s_an, i, &record) != 0) return std::nullopt;
    const auto ttl = ttl_of(record);
    least = least ? std::min(*least, ttl) : ttl;
  }
  return least;
}

std::optional<std::chrono::seconds> negative_ttl(const unsigned char* message, std::size_t length) {
  auto parsed = parse(message, length);
  if (!parsed) return std::nullopt;
  for (int i = 0; i < ns_msg_count(*parsed, ns_s_ns); ++i) {
    ns_rr record{};
    if (ns_parserr(&*parsed, ns_s_ns, i, &record) != 0) return std::nullopt;
    if (ns_rr_type(record) != ns_t_soa) continue;
    const auto minimum = soa_minimum(record, message + length);
    if (!minimum) return std::nullopt;
    return std::min(ttl_of(record), std::chrono::seconds(*minimum > 0x7fffffffU ? 0 : *minimum));
  }
  return std::nullopt;
}

}  // namespace rtconn::dns
