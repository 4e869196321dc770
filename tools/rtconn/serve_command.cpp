#include <csignal>
#include <cstdio>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "event_printer.hpp"
#include "rtconn/errors.hpp"
#include "sip_responder.hpp"

namespace rtconn::cli {

int serve(const ServeArguments& arguments) {
  std::vector<IpEndpoint> endpoints;
  for (const auto& text : arguments.tcp) {
    const auto endpoint = IpEndpoint::parse(text);
    if (!endpoint) throw std::invalid_argument("not an address:port: " + text);
    endpoints.push_back(*endpoint);
  }

  // Asio turns the signal into a completion here whichever thread the kernel delivers it to.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);

  RealTimeServerTcpConnectionManager manager;
  std::vector<Subscription> subscriptions;
  if (!arguments.quiet) {
    subscriptions = print_server_events(manager, "serve", [](const std::string& line) {
      spdlog::info("{}", line);
    });
  }
  manager.set_request_handler([](IncomingRequest& request) {
    answer_request(request);
    return true;
  });
  manager.start_listening(endpoints);
  for (const auto& address : manager.listening_addresses()) {
    fmt::print("listening tcp {}\n", address.to_string());
  }
  std::fflush(stdout);

  int signal_number = 0;
  signals.async_wait([&](std::error_code, int number) { signal_number = number; });
  signals_io.run();
  spdlog::info("signal {}: stopping", signal_number);
  manager.stop_listening();
  manager.stop();
  return 0;
}

}  // namespace rtconn::cli
