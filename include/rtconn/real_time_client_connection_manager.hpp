#pragma once
/// \file
/// A manager that makes outgoing connections and never listens (UCMA's
/// RealTimeClientConnectionManager).

#include "rtconn/real_time_connection_manager.hpp"

namespace rtconn {

/// For applications acting as clients: pools of outgoing connections, no listener.
class RealTimeClientConnectionManager final : public RealTimeConnectionManager {
 public:
  /// Runs on an event-loop thread of its own.
  explicit RealTimeClientConnectionManager(ConnectionManagerOptions options = {})
      : RealTimeConnectionManager(nullptr, std::move(options)) {}
  /// Runs on `executor`.
  explicit RealTimeClientConnectionManager(asio::any_io_executor executor,
                                           ConnectionManagerOptions options = {})
      : RealTimeConnectionManager(std::move(executor), std::move(options)) {}
};

}  // namespace rtconn
