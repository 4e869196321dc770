#pragma once
/// \file
/// What a connection pool is keyed by: where outgoing connections go.

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "rtconn/sip_uri.hpp"
#include "rtconn/transport_type.hpp"

namespace rtconn {

/// A destination tuple (host, port, transport, TLS server name). Host names are compared as
/// written, so two names of one address make two pools, as in UCMA.
struct PoolKey {
  std::string host;
  std::uint16_t port = 5060;
  TransportType transport = TransportType::Tcp;
  /// Name the TLS server must prove; empty means `host`. Unused for TCP.
  std::string tls_server_name;

  /// The key a request to `uri` goes to: `sips:` or `;transport=tls` choose TLS; a missing port
  /// takes the transport's default. Nullopt for a transport rtconn does not speak (e.g. udp).
  static std::optional<PoolKey> from_uri(const SipUri& uri);

  /// `tcp:host:port` (IPv6 hosts in brackets).
  std::string to_string() const;

  friend auto operator<=>(const PoolKey&, const PoolKey&) = default;
  friend bool operator==(const PoolKey&, const PoolKey&) = default;
};

}  // namespace rtconn

template <>
struct std::hash<rtconn::PoolKey> {
  std::size_t operator()(const rtconn::PoolKey& key) const noexcept;
};
