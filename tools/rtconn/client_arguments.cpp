#include "client_arguments.hpp"

#include <stdexcept>

#include "certificate_arguments.hpp"
#include "rtconn/sip_uri.hpp"

namespace rtconn::cli {

PoolKey target_of(const ClientArguments& arguments) {
  const auto uri = SipUri::parse(arguments.uri);
  if (!uri) throw std::invalid_argument("not a SIP URI: " + arguments.uri);
  const auto key = PoolKey::from_uri(*uri);
  if (!key) throw std::invalid_argument("no TCP or TLS transport for " + arguments.uri);
  return *key;
}

namespace {

// `192.0.2.1`, `192.0.2.1:5353`, `::1`, `[::1]:5353`.
IpEndpoint dns_server_of(const std::string& text) {
  if (const auto endpoint = IpEndpoint::parse(text)) return *endpoint;
  std::error_code ec;
  const auto address = asio::ip::make_address(text, ec);
  if (ec) throw std::invalid_argument("--dns-server: not IP or IP:PORT: " + text);
  return {address, 53};
}

}  // namespace

ConnectionManagerOptions client_options(const ClientArguments& arguments) {
  ConnectionManagerOptions options;
  options.default_maximum_number_of_connections_per_pool = arguments.connections;
  options.request_timeout = std::chrono::milliseconds(arguments.timeout_ms);
  options.dns_load_balancing_disabled = arguments.dns_load_balancing_disabled;
  for (const auto& server : arguments.dns_servers) {
    options.dns_servers.push_back(dns_server_of(server));
  }
  if (arguments.connect_timeout_ms) {
    options.connect_timeout = std::chrono::milliseconds(*arguments.connect_timeout_ms);
  }
  options.tls.certificate_store = store_of(arguments.certificate).directory();
  options.tls.certificate = certificate_of(arguments.certificate);
  options.tls.trusted_ca_files.assign(arguments.ca_files.begin(), arguments.ca_files.end());
  options.tls.crl_files.assign(arguments.crl_files.begin(), arguments.crl_files.end());
  return options;
}

}  // namespace rtconn::cli
