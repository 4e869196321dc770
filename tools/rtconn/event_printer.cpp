#include "event_printer.hpp"

#include <fmt/format.h>

namespace rtconn::cli {
namespace {

std::string reason_text(const std::error_code& reason, const std::string& detail = {}) {
  if (!reason) return "";
  return " (" + reason.message() + (detail.empty() ? "" : ": " + detail) + ")";
}

}  // namespace

std::string describe(const RealTimeConnection& connection) {
  return fmt::format("#{} {} {} -> {}", connection.id(), to_string(connection.transport()),
                     connection.local_endpoint().to_string(),
                     connection.remote_endpoint().to_string());
}

std::vector<Subscription> print_pool_events(RealTimeConnectionManager& manager, std::string name,
                                            LinePrinter print) {
  std::vector<Subscription> subscriptions;
  subscriptions.push_back(
      manager.connection_pool_added.subscribe([name, print](const ConnectionPoolEventArgs& e) {
        print(fmt::format("[{}] connection pool added: {}", name, e.item->key().to_string()));
        // The pool's own events live as long as the pool, so plain += is enough here.
        e.item->connection_added += [name, print](const ConnectionEventArgs& c) {
          print(fmt::format("[{}] pool connection added: #{}", name, c.item->id()));
        };
        e.item->connection_removed += [name, print](const ConnectionEventArgs& c) {
          print(fmt::format("[{}] pool connection removed: {}{}", name, describe(*c.item),
                            reason_text(c.reason, c.detail)));
        };
      }));
  subscriptions.push_back(
      manager.connection_pool_removed.subscribe([name, print](const ConnectionPoolEventArgs& e) {
        print(fmt::format("[{}] connection pool removed: {}", name, e.item->key().to_string()));
      }));
  return subscriptions;
}

std::vector<Subscription> print_server_events(RealTimeServerConnectionManager& manager,
                                              std::string name, LinePrinter print) {
  auto subscriptions = print_pool_events(manager, name, print);
  subscriptions.push_back(manager.listening_addresses_changed.subscribe(
      [name, print](const ListeningAddressesChangedEventArgs& e) {
        std::string addresses;
        for (const auto& a : e.addresses) addresses += " " + a.to_string();
        print(fmt::format("[{}] listening addresses changed:{}", name,
                          addresses.empty() ? " (none)" : addresses));
      }));
  subscriptions.push_back(
      manager.listening_aborted.subscribe([name, print](const ListeningAbortedEventArgs& e) {
        print(fmt::format("[{}] listening ended{}", name, reason_text(e.error)));
      }));
  subscriptions.push_back(
      manager.incoming_connection_added.subscribe([name, print](const ConnectionEventArgs& e) {
        print(fmt::format("[{}] incoming connection added: #{}", name, e.item->id()));
      }));
  subscriptions.push_back(
      manager.incoming_connection_removed.subscribe([name, print](const ConnectionEventArgs& e) {
        print(fmt::format("[{}] incoming connection removed: {}{}", name, describe(*e.item),
                          reason_text(e.reason, e.detail)));
      }));
  return subscriptions;
}

}  // namespace rtconn::cli
