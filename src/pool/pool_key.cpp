#include "rtconn/pool_key.hpp"

#include <asio/ip/address.hpp>

namespace rtconn {

std::optional<PoolKey> PoolKey::from_uri(const SipUri& uri) {
  PoolKey key;
  key.host = uri.host;
  if (uri.scheme == "sips" || uri.transport == "tls") {
    key.transport = TransportType::Tls;
  } else if (uri.transport.empty() || uri.transport == "tcp") {
    key.transport = TransportType::Tcp;
  } else {
    return std::nullopt;
  }
  std::error_code not_literal;
  (void)asio::ip::make_address(uri.host, not_literal);
  key.port = uri.port;
  if (key.port == 0 && !not_literal) key.port = default_port(key.transport);
  return key;
}

std::string PoolKey::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  auto text = std::string(rtconn::to_string(transport)) + ":" + (v6 ? "[" + host + "]" : host);
  if (port != 0) text += ":" + std::to_string(port);
  if (!tls_server_name.empty()) text += " (" + tls_server_name + ")";
  return text;
}

}  // namespace rtconn

std::size_t std::hash<rtconn::PoolKey>::operator()(const rtconn::PoolKey& key) const noexcept {
  std::size_t h = std::hash<std::string>{}(key.host);
  h = h * 31 + key.port;
  h = h * 31 + static_cast<std::size_t>(key.transport);
  return h * 31 + std::hash<std::string>{}(key.tls_server_name);
}
