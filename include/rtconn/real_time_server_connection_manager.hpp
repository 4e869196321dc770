#pragma once
/// \file
/// Managers that also listen (UCMA's RealTimeServerConnectionManager and its TCP form).

#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "rtconn/connection_authorization.hpp"
#include "rtconn/ip_endpoint.hpp"
#include "rtconn/real_time_connection_manager.hpp"

namespace rtconn {

namespace detail {
class ListenerSet;
}

/// A manager that accepts incoming connections besides making outgoing ones. The transport of
/// its listeners is fixed by the subclass. Thread safety and executors as the base class.
class RealTimeServerConnectionManager : public RealTimeConnectionManager {
 public:
  ~RealTimeServerConnectionManager() override;

  /// A peer connected (UCMA IncomingConnectionAdded).
  Event<ConnectionEventArgs>& incoming_connection_added;
  /// An incoming connection closed; `reason` says why (UCMA IncomingConnectionRemoved).
  Event<ConnectionEventArgs>& incoming_connection_removed;
  /// The set of listening addresses changed (UCMA ListeningAddressesChanged).
  Event<ListeningAddressesChangedEventArgs>& listening_addresses_changed;
  /// Listening ended (UCMA ListeningAborted): everywhere, the error empty, when `stop_listening`
  /// ended it; on one address, with the error, when its socket failed (the address then leaves
  /// `listening_addresses`, and ListeningAddressesChanged follows).
  Event<ListeningAbortedEventArgs>& listening_aborted;
  /// An incoming connection is ready and waits to be admitted (UCMA 2.0
  /// ConnectionAuthorizationRequested); with no handler, every connection is admitted.
  /// IncomingConnectionAdded follows for admitted connections only.
  Event<ConnectionAuthorization>& connection_authorization_requested;

  /// The transport the listeners speak.
  TransportType listening_transport() const noexcept { return transport_; }
  bool is_listening() const;
  /// Listens on `endpoint`; `0.0.0.0:0` means every IPv4 interface and any free port, `[::]:0`
  /// every IPv6 one. Throws InvalidOperationException when already listening or stopped, and
  /// ConnectionFailureException (with the socket error) when it cannot listen.
  void start_listening(const IpEndpoint& endpoint);
  /// As above for several endpoints at once: all of them or none; std::invalid_argument for none.
  void start_listening(const std::vector<IpEndpoint>& endpoints);
  /// As above, reporting through `ec` (errc::already_listening, errc::shutdown,
  /// errc::invalid_argument, a socket error) instead.
  void start_listening(const std::vector<IpEndpoint>& endpoints, std::error_code& ec);
  /// Stops accepting; established connections stay. Throws InvalidOperationException when not
  /// listening.
  void stop_listening();
  /// The addresses listened on, with the ports actually bound (UCMA GetListeningAddresses).
  std::vector<IpEndpoint> listening_addresses() const;
  /// The port of the first listening address; 0 when not listening (UCMA ListeningPort).
  std::uint16_t listening_port() const;
  /// Snapshot of the incoming connections (UCMA GetIncomingConnections).
  std::vector<std::shared_ptr<RealTimeConnection>> incoming_connections() const;

  /// Stops listening (raising the events `stop_listening` raises), then stops as the base does.
  void stop() override;

 protected:
  RealTimeServerConnectionManager(asio::any_io_executor executor, ConnectionManagerOptions options,
                                  TransportType transport);

 private:
  const TransportType transport_;
  std::shared_ptr<detail::ListenerSet> listeners_;
};

/// A server manager listening on TCP (UCMA RealTimeServerTcpConnectionManager).
class RealTimeServerTcpConnectionManager final : public RealTimeServerConnectionManager {
 public:
  /// Runs on an event-loop thread of its own.
  explicit RealTimeServerTcpConnectionManager(ConnectionManagerOptions options = {})
      : RealTimeServerConnectionManager(nullptr, std::move(options), TransportType::Tcp) {}
  /// Runs on `executor`.
  explicit RealTimeServerTcpConnectionManager(asio::any_io_executor executor,
                                              ConnectionManagerOptions options = {})
      : RealTimeServerConnectionManager(std::move(executor), std::move(options),
                                        TransportType::Tcp) {}
};

}  // namespace rtconn
