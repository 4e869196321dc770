#pragma once
// The order in which a client tries a service's SRV targets (RFC 2782): by priority, lowest
// first; among equal priorities, drawn at random with chances in proportion to the weights, so
// a domain's operator decides how load spreads over its servers.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace rtconn::dns {

struct SrvRecord {
  std::string target;
  std::uint16_t port = 0;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;

  friend bool operator==(const SrvRecord&, const SrvRecord&) = default;
};

/// RFC 2782's selection, run to the end: every record once, in the order to try them. Weight 0
/// records keep a small chance (the RFC puts them first in their priority before drawing).
std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, std::mt19937_64& random);

/// The same order with no draw: by priority, then the heaviest first (ties as given). What a
/// client with DNS load balancing turned off tries: the domain's first choice, always.
std::vector<SrvRecord> order_srv_fixed(std::vector<SrvRecord> records);

}  // namespace rtconn::dns
