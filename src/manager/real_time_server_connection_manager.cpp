#include "rtconn/real_time_server_connection_manager.hpp"

#include <stdexcept>

#include "manager/listener_set.hpp"
#include "manager/manager_core.hpp"
#include "rtconn/errors.hpp"

namespace rtconn {

RealTimeServerConnectionManager::RealTimeServerConnectionManager(asio::any_io_executor executor,
                                                                 ConnectionManagerOptions options,
                                                                 TransportType transport)
    : RealTimeConnectionManager(std::move(executor), std::move(options)),
      incoming_connection_added(core().events.incoming_added),
      incoming_connection_removed(core().events.incoming_removed),
      listening_addresses_changed(core().events.listening_addresses_changed),
      listening_aborted(core().events.listening_aborted),
      connection_authorization_requested(core().events.authorization_requested),
      transport_(transport),
      listeners_(std::make_shared<detail::ListenerSet>(core().shared_from_this(), transport)) {}

RealTimeServerConnectionManager::~RealTimeServerConnectionManager() {
  core().events.clear_all();
  listeners_.reset();
}

bool RealTimeServerConnectionManager::is_listening() const {
  return listeners_->listening();
}

void RealTimeServerConnectionManager::start_listening(const IpEndpoint& endpoint) {
  start_listening(std::vector<IpEndpoint>{endpoint});
}

void RealTimeServerConnectionManager::start_listening(const std::vector<IpEndpoint>& endpoints) {
  std::error_code ec;
  start_listening(endpoints, ec);
  if (ec == errc::already_listening || ec == errc::shutdown) {
    throw InvalidOperationException(ec.message());
  }
  if (ec == errc::invalid_argument) throw std::invalid_argument("start_listening: no endpoint");
  if (ec) {
    std::string where;
    for (const auto& endpoint : endpoints)
      where += (where.empty() ? "" : ", ") + endpoint.to_string();
    throw ConnectionFailureException(ec, "cannot listen on " + where);
  }
}

void RealTimeServerConnectionManager::start_listening(const std::vector<IpEndpoint>& endpoints,
                                                      std::error_code& ec) {
  ec = listeners_->start(endpoints);
}

void RealTimeServerConnectionManager::stop_listening() {
  if (const auto ec = listeners_->stop()) throw InvalidOperationException(ec.message());
}

std::vector<IpEndpoint> RealTimeServerConnectionManager::listening_addresses() const {
  return listeners_->addresses();
}

std::uint16_t RealTimeServerConnectionManager::listening_port() const {
  const auto addresses = listeners_->addresses();
  return addresses.empty() ? 0 : addresses.front().port();
}

void RealTimeServerConnectionManager::stop() {
  listeners_->shutdown();
  RealTimeConnectionManager::stop();
}

std::vector<std::shared_ptr<RealTimeConnection>>
RealTimeServerConnectionManager::incoming_connections() const {
  return core().incoming();
}

}  // namespace rtconn
