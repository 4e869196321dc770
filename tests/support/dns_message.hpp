#pragma once
// DNS messages built byte by byte (RFC 1035 4.1), for a test's own DNS server and for the
// parsers that read what servers send: records with the TTLs and sections a test chooses.

#include <cstdint>
#include <string>
#include <vector>

#include <asio/ip/address_v4.hpp>

namespace rtconn::test::dns {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_soa = 6;
constexpr std::uint16_t type_srv = 33;

inline void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

inline void put32(Bytes& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

inline Bytes encode_name(const std::string& name) {
  Bytes out;
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

inline Bytes a_record(const char* address) {
  const auto bytes = asio::ip::make_address_v4(address).to_bytes();
  return Bytes(bytes.begin(), bytes.end());
}

inline Bytes srv_record(std::uint16_t priority, std::uint16_t port, const std::string& target) {
  Bytes out;
  put16(out, priority);
  put16(out, 0);  // weight
  put16(out, port);
  const auto name = encode_name(target);
  out.insert(out.end(), name.begin(), name.end());
  return out;
}

/// An SOA's RDATA whose MINIMUM (the negative-answer TTL, RFC 2308 4) is `minimum`.
inline Bytes soa_record(std::uint32_t minimum) {
  Bytes out = encode_name("ns.rtconn.test");
  const auto mailbox = encode_name("hostmaster.rtconn.test");
  out.insert(out.end(), mailbox.begin(), mailbox.end());
  for (const std::uint32_t field : {1u, 3600u, 600u, 86400u}) put32(out, field);  // serial...
  put32(out, minimum);
  return out;
}

struct Record {
  std::uint16_t type = type_a;
  std::uint32_t ttl = 60;
  Bytes rdata;
};

constexpr std::uint8_t no_error = 0;
constexpr std::uint8_t name_error = 3;  // NXDOMAIN

/// A recursive server's answer to query `id` for `name` and `type`, with `rcode`; every record
/// is named by a pointer to the question's name.
inline Bytes response(std::uint16_t id, const std::string& name, std::uint16_t type,
                      const std::vector<Record>& answers, const std::vector<Record>& authority = {},
                      std::uint8_t rcode = no_error) {
  Bytes out;
  put16(out, id);
  put16(out, 0x8180 | rcode);  // a response; recursion desired, and available
  put16(out, 1);
  put16(out, static_cast<std::uint16_t>(answers.size()));
  put16(out, static_cast<std::uint16_t>(authority.size()));
  put16(out, 0);
  const auto question = encode_name(name);
  out.insert(out.end(), question.begin(), question.end());
  put16(out, type);
  put16(out, 1);  // IN
  for (const auto* section : {&answers, &authority}) {
    for (const auto& record : *section) {
      put16(out, 0xc00c);
      put16(out, record.type);
      put16(out, 1);
      put32(out, record.ttl);
      put16(out, static_cast<std::uint16_t>(record.rdata.size()));
      out.insert(out.end(), record.rdata.begin(), record.rdata.end());
    }
  }
  return out;
}

}  // namespace rtconn::test::dns
