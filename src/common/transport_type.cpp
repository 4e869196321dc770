#include "rtconn/transport_type.hpp"

#include <strings.h>

#include <string>

namespace rtconn {

std::string_view to_string(TransportType transport) noexcept {
  switch (transport) {
    case TransportType::Tcp:
      return "tcp";
    case TransportType::Tls:
      return "tls";
    case TransportType::Mtls:
      return "mtls";
  }
  return "unknown";
}

std::optional<TransportType> parse_transport_type(std::string_view text) noexcept {
  for (auto t : {TransportType::Tcp, TransportType::Tls, TransportType::Mtls}) {
    const auto name = to_string(t);
    if (text.size() == name.size() && ::strncasecmp(text.data(), name.data(), name.size()) == 0) {
      return t;
    }
  }
  return std::nullopt;
}

std::string_view via_protocol_name(TransportType transport) noexcept {
  return transport == TransportType::Tcp ? "TCP" : "TLS";
}

}  // namespace rtconn
