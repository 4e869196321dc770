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
  /// 0: none given. The host's SRV records then say where its servers are (RFC 3263 4.2:
  /// `_sip._tcp.host`, `_sips._tcp.host` over TLS, tried by priority and drawn by weight), and
  /// a host without any is reached at the transport's default port, as an address always is.
  std::uint16_t port = 5060;
  TransportType transport = TransportType::Tcp;
  /// Name the TLS server must prove; empty means `host`. Unused for TCP.
  std::string tls_server_name;

  /// The key a request to `uri` goes to: `sips:` or `;transport=tls` choose TLS; a missing port
  /// is 0 for a host name (its SRV records decide) and the transport's default for an address.
  /// Nullopt for a transport rtconn does not speak (e.g. udp).
  static std::optional<PoolKey> from_uri(const SipUri& uri);

  /// `tcp:host:port` (IPv6 hosts in brackets), `tcp:host` with no port.
  std::string to_string() const;

  friend auto operator<=>(const PoolKey&, const PoolKey&) = default;
  friend bool operator==(const PoolKey&, const PoolKey&) = default;
};

}  // namespace rtconn

template <>
struct std::hash<rtconn::PoolKey> {
  std::size_t operator()(const rtconn::PoolKey& key) const noexcept;
};
