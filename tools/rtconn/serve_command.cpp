#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include "certificate_arguments.hpp"
#include "commands.hpp"
#include "event_printer.hpp"
#include "rtconn/development_certificates.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/real_time_server_tls_connection_manager.hpp"
#include "rtconn/tls_failure.hpp"
#include "sip_responder.hpp"

namespace rtconn::cli {
namespace {

std::vector<IpEndpoint> endpoints_of(const std::vector<std::string>& texts) {
  std::vector<IpEndpoint> endpoints;
  for (const auto& text : texts) {
    const auto endpoint = IpEndpoint::parse(text);
    if (!endpoint) throw std::invalid_argument("not an address:port: " + text);
    endpoints.push_back(*endpoint);
  }
  return endpoints;
}

// One listening manager of `serve`, with its event log lines.
struct Listener {
  std::unique_ptr<RealTimeServerConnectionManager> manager;
  std::string label;  // "tcp", "tls", "mtls"
  std::vector<Subscription> subscriptions;
};

void start(Listener& listener, const std::vector<IpEndpoint>& endpoints, bool quiet) {
  auto& manager = *listener.manager;
  if (!quiet) {
    listener.subscriptions =
        print_server_events(manager, "serve " + listener.label,
                            [](const std::string& line) { spdlog::info("{}", line); });
  }
  if (auto* tls = dynamic_cast<RealTimeServerTlsConnectionManager*>(&manager)) {
    listener.subscriptions.push_back(tls->incoming_tls_negotiation_failed.subscribe(
        [label = listener.label](const TlsNegotiationFailedEventArgs& e) {
          spdlog::warn("[serve {}] TLS negotiation failed with {}: {} {}", label,
                       e.remote_endpoint.to_string(), e.error.message(), e.detail);
        }));
  }
  manager.set_request_handler([](IncomingRequest& request) {
    answer_request(request);
    return true;
  });
  manager.start_listening(endpoints);
  for (const auto& address : manager.listening_addresses()) {
    fmt::print("listening {} {}\n", listener.label, address.to_string());
  }
}

// What SIGHUP asks of a server: its TLS listeners read their trust anchors and revocation lists
// again (a CRL renewed). One that cannot keeps what it had and says why.
void reload_trust(std::vector<Listener>& listeners) {
  for (auto& listener : listeners) {
    if (listener.label == "tcp") continue;
    try {
      listener.manager->reload_trust();
      spdlog::info("[serve {}] trust anchors and revocation lists read again", listener.label);
    } catch (const TlsFailureException& e) {
      spdlog::error("[serve {}] trust kept as it was: {}", listener.label, e.what());
    }
  }
}

}  // namespace

int serve(const ServeArguments& arguments) {
  const auto tcp = endpoints_of(arguments.tcp);
  const auto tls = endpoints_of(arguments.tls);
  const auto mtls = endpoints_of(arguments.mtls);
  if (tcp.empty() && tls.empty() && mtls.empty()) {
    throw std::invalid_argument("nothing to listen on: give --tcp, --tls or --mtls");
  }

  // Asio turns the signal into a completion here whichever thread the kernel delivers it to.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM, SIGHUP);

  ConnectionManagerOptions options;
  options.event_loop_threads = arguments.threads;
  const auto apply = [](const std::optional<double>& seconds, std::chrono::milliseconds& setting) {
    if (seconds) setting = std::chrono::milliseconds(std::llround(*seconds * 1000));
  };
  apply(arguments.idle_timeout, options.default_incoming_connection_timeout);
  apply(arguments.new_connection_timeout, options.new_incoming_connection_timeout);
  apply(arguments.message_timeout, options.message_completion_timeout);
  apply(arguments.shutdown_timeout, options.shutdown_timeout);
  std::vector<Listener> listeners;
  if (!tcp.empty()) {
    listeners.push_back({std::make_unique<RealTimeServerTcpConnectionManager>(options), "tcp", {}});
  }
  if (!tls.empty() || !mtls.empty()) {
    // A named certificate must be usable (the constructor throws TlsFailureException with the
    // reason); without one, the development certificates are made on first use.
    options.tls.certificate_store = store_of(arguments.certificate).directory();
    auto id = certificate_of(arguments.certificate);
    if (!id) id = ensure_development_certificates(store_of(arguments.certificate)).server;
    if (!tls.empty()) {
      listeners.push_back({std::make_unique<RealTimeServerTlsConnectionManager>(
                               id->issuer_name, id->serial_number, options),
                           "tls",
                           {}});
    }
    if (!mtls.empty()) {
      auto manager = std::make_unique<RealTimeServerTlsConnectionManager>(
          id->issuer_name, id->serial_number, options);
      manager->set_need_mutual_tls(true);
      listeners.push_back({std::move(manager), "mtls", {}});
    }
  }
  for (auto& listener : listeners) {
    start(listener,
          listener.label == "tcp"   ? tcp
          : listener.label == "tls" ? tls
                                    : mtls,
          arguments.quiet);
  }
  std::fflush(stdout);

  int signal_number = 0;
  while (signal_number == 0) {
    signals.async_wait([&](std::error_code, int number) { signal_number = number; });
    signals_io.run();
    signals_io.restart();
    if (signal_number == SIGHUP) {
      reload_trust(listeners);
      signal_number = 0;
    }
  }
  spdlog::info("signal {}: stopping", signal_number);
  for (auto& listener : listeners) {
    listener.manager->stop_listening();
    listener.manager->stop();
  }
  return 0;
}

}  // namespace rtconn::cli
