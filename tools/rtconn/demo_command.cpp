#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>

#include <fmt/format.h>
#include <asio/use_future.hpp>

#include "commands.hpp"
#include "event_printer.hpp"
#include "outgoing_request.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "sip_responder.hpp"

namespace rtconn::cli {
namespace {

constexpr int demo_requests = 3;
constexpr auto event_wait = std::chrono::seconds(5);

// Events arrive on the managers' threads; one lock keeps their lines whole.
LinePrinter stdout_printer() {
  auto mutex = std::make_shared<std::mutex>();
  return [mutex](const std::string& line) {
    std::lock_guard lock(*mutex);
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
}

// Fulfils a promise the first time an event fires, so the demo can wait for it.
template <class Args>
std::future<void> next_time(Event<Args>& event, std::vector<Subscription>& keep) {
  auto promise = std::make_shared<std::promise<void>>();
  auto future = promise->get_future();
  keep.push_back(event.subscribe([promise, once = std::make_shared<std::once_flag>()](const Args&) {
    std::call_once(*once, [&] { promise->set_value(); });
  }));
  return future;
}

}  // namespace

int demo() {
  const auto print = stdout_printer();
  print("rtconn demo: a TCP server connection manager and a client connection manager on loopback");

  RealTimeServerTcpConnectionManager server;
  auto subscriptions = print_server_events(server, "server", print);
  server.set_request_handler([](IncomingRequest& request) {
    answer_request(request);
    return true;
  });
  auto incoming_gone = next_time(server.incoming_connection_removed, subscriptions);
  server.start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  const auto port = server.listening_port();
  print(fmt::format("listening tcp 127.0.0.1:{}", port));

  int failures = 0;
  {
    // A cap of two shows both of UCMA's pool rules: open until full, then reuse.
    ConnectionManagerOptions client_options;
    client_options.default_maximum_number_of_connections_per_pool = 2;
    RealTimeClientConnectionManager client(client_options);
    auto client_subscriptions = print_pool_events(client, "client", print);
    auto pool_gone = next_time(client.connection_pool_removed, client_subscriptions);
    const PoolKey key{"127.0.0.1", port, TransportType::Tcp, {}};
    const auto uri = fmt::format("sip:127.0.0.1:{};transport=tcp", port);
    for (int i = 1; i <= demo_requests; ++i) {
      const auto start = std::chrono::steady_clock::now();
      // use_future turns an error code into an exception from get().
      try {
        const auto response =
            client
                .async_request(key, make_request("OPTIONS", uri, client.local_host_name(), i),
                               asio::use_future)
                .get();
        const std::chrono::duration<double, std::milli> rtt =
            std::chrono::steady_clock::now() - start;
        print(fmt::format("[client] OPTIONS {} -> {} {} in {:.3f} ms", i, response.status_code(),
                          response.reason_phrase(), rtt.count()));
      } catch (const std::system_error& e) {
        ++failures;
        print(fmt::format("[client] OPTIONS {} failed: {}", i, e.what()));
      }
    }
    client.stop();
    if (pool_gone.wait_for(event_wait) != std::future_status::ready) ++failures;
  }
  if (incoming_gone.wait_for(event_wait) != std::future_status::ready) ++failures;
  server.stop_listening();
  server.stop();
  print(failures == 0 ? "demo finished: every request answered, every connection closed"
                      : fmt::format("demo finished with {} failures", failures));
  return failures == 0 ? 0 : 1;
}

}  // namespace rtconn::cli
