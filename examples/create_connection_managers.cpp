// The seed page, "Creating a Connection Manager" (UCMA 1.0), written against rtconn: a client
// connection manager with pool event handlers, and a TCP server connection manager that listens
// on all interfaces and any free port when it is not listening yet.
#include <cstdio>

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
  return 0;
}
