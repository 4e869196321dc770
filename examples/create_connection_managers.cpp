// The seed page, "Creating a Connection Manager" (UCMA 1.0), written against rtconn: a client
// connection manager with pool event handlers, a TCP server connection manager that listens on
// all interfaces and any free port when it is not listening yet, and a TLS server connection
// manager made from its certificate's issuer name and serial number (here the development
// server certificate of the default store, made there if missing).
#include <cstdio>
#include <memory>
#include <string>

#include "rtconn/rtconn.hpp"

using namespace rtconn;

namespace {

void connection_manager_connection_pool_added(const ConnectionPoolEventArgs& e) {
  std::printf("pool added: %s\n", e.item->key().to_string().c_str());
}

void connection_manager_connection_pool_removed(const ConnectionPoolEventArgs& e) {
  std::printf("pool removed: %s\n", e.item->key().to_string().c_str());
}

void server_connection_manager_incoming_connection_added(const ConnectionEventArgs& e) {
  std::printf("incoming connection from %s\n", e.item->remote_endpoint().to_string().c_str());
}

}  // namespace

int main() {
  // Creating a client connection manager.
  RealTimeClientConnectionManager connection_manager;
  connection_manager.connection_pool_added += connection_manager_connection_pool_added;
  connection_manager.connection_pool_removed += connection_manager_connection_pool_removed;

  // Creating a server connection manager.
  RealTimeServerTcpConnectionManager server_connection_manager;
  server_connection_manager.incoming_connection_added +=
      server_connection_manager_incoming_connection_added;
  if (!server_connection_manager.is_listening()) {
    server_connection_manager.start_listening(IpEndpoint::any_ipv4(0));
  }
  std::printf("listening on port %u\n", server_connection_manager.listening_port());

  // Creating a server TLS connection manager.
  const auto development = ensure_development_certificates(CertificateStore());
  const std::string issuer_name = development.server.issuer_name;
  const SerialNumber serial_number = development.server.serial_number;
  std::unique_ptr<RealTimeServerTlsConnectionManager> server_tls_connection_manager;
  try {
    server_tls_connection_manager =
        std::make_unique<RealTimeServerTlsConnectionManager>(issuer_name, serial_number);
  } catch (const TlsFailureException& e) {
    std::printf("Cannot retrieve the X.509 certificate: %s\n", e.what());
    return 1;
  }
  std::printf("TLS server manager presents %s\n",
              server_tls_connection_manager->local_certificate().issuer_name.c_str());
  return 0;
}
