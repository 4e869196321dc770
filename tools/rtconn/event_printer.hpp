#pragma once
// Turns a manager's events into log lines, for `serve` and `demo`.

#include <functional>
#include <string>
#include <vector>

#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn::cli {

using LinePrinter = std::function<void(const std::string&)>;

/// Prints pool events, and the connection events of every pool as it is added.
std::vector<Subscription> print_pool_events(RealTimeConnectionManager& manager, std::string name,
                                            LinePrinter print);
/// As above, plus the listening and incoming-connection events.
std::vector<Subscription> print_server_events(RealTimeServerConnectionManager& manager,
                                              std::string name, LinePrinter print);

/// `#7 tcp 127.0.0.1:5060 -> 127.0.0.1:40000`.
std::string describe(const RealTimeConnection& connection);

}  // namespace rtconn::cli
