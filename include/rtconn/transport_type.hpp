#pragma once
/// \file
/// The transports a connection manager speaks.

#include <optional>
#include <string_view>

namespace rtconn {

/// TCP, TLS over TCP, or mutual TLS (TLS with certificates both ways).
enum class TransportType { Tcp, Tls, Mtls };

/// "tcp", "tls" or "mtls".
std::string_view to_string(TransportType transport) noexcept;
/// Parses "tcp" / "tls" / "mtls" in any case; nullopt otherwise.
std::optional<TransportType> parse_transport_type(std::string_view text) noexcept;
/// The protocol name SIP writes in Via ("TCP" or "TLS"; mutual TLS is TLS on the wire).
std::string_view via_protocol_name(TransportType transport) noexcept;
/// The default port of the transport: 5060 for TCP, 5061 for TLS and mutual TLS.
constexpr unsigned short default_port(TransportType transport) noexcept {
  return transport == TransportType::Tcp ? 5060 : 5061;
}

}  // namespace rtconn
