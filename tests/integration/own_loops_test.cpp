// A server manager running loops of its own (no executor given): each loop accepts the
// connections it serves on a listening socket of its own, all sharing the address
// (SO_REUSEPORT). What a user sees must not change: one listening address per endpoint, a busy
// port still busy, a port given back on stop, every connection served, the endpoints right.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/manual_clock.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn::test {
namespace {

class OwnLoops : public testing::Test {
 protected:
  ~OwnLoops() override {
    if (server) server->set_request_handler({});
    server.reset();
    drain(io);
  }

  void start_server(const char* where, std::size_t loops = 2,
                    ConnectionManagerOptions options = {}) {
    options.event_loop_threads = loops;
    server = std::make_unique<RealTimeServerTcpConnectionManager>(options);
    server->set_request_handler([this](IncomingRequest& request) {
      {
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
      }
      request.respond(200);
      ++answered;
      return true;
    });
    server->start_listening(*IpEndpoint::parse(where));
  }

  IpEndpoint loopback_address() const {
    return {asio::ip::make_address("127.0.0.1"), server->listening_port()};
  }

  asio::io_context io;  // the raw clients' (the server runs on its own threads)
  std::unique_ptr<RealTimeServerTcpConnectionManager> server;
  std::atomic<int> answered{0};
  std::mutex mutex;                   // guards threads
  std::set<std::thread::id> threads;  // the threads the requests were handled on
};

TEST_F(OwnLoops, EveryLoopAcceptsAndServesBehindOneAddress) {
  start_server("127.0.0.1:0");
  ASSERT_EQ(server->listening_addresses().size(), 1u);
  const auto address = server->listening_addresses()[0];
  EXPECT_NE(address.port(), 0);

  // The kernel spreads connections over the sockets by their addresses and ports: with 64,
  // every loop gets some unless the spread is broken (chance 2^-63 for two loops).
  constexpr int connections = 64;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < connections; ++i) {
    clients.push_back(std::make_unique<RawClient>(io, address));
    clients.back()->send(make_request("OPTIONS"));
  }
  ASSERT_TRUE(run_until(io, [&] {
    for (const auto& c : clients) {
      if (c->message_count() < 1) return false;
    }
    return true;
  }));
  for (const auto& c : clients)
    EXPECT_TRUE(c->received().starts_with("SIP/2.0 200")) << c->received();
  EXPECT_EQ(answered.load(), connections);
  EXPECT_EQ(server->incoming_connections().size(), static_cast<std::size_t>(connections));
  std::lock_guard lock(mutex);
  EXPECT_EQ(threads.size(), 2u) << "connections were not spread over both loops";
}

TEST_F(OwnLoops, EndpointsComeFromTheAcceptAlsoOnAWildcardAddress) {
  start_server("0.0.0.0:0");
  const auto listening = server->listening_addresses();
  ASSERT_EQ(listening.size(), 1u);
  EXPECT_TRUE(listening[0].address().is_unspecified());
  RawClient raw(io, loopback_address());
  raw.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  const auto incoming = server->incoming_connections();
  ASSERT_EQ(incoming.size(), 1u);
  // The wildcard listener asked the socket which of its addresses took the connection.
  EXPECT_EQ(incoming[0]->local_endpoint(), loopback_address());
  EXPECT_EQ(incoming[0]->remote_endpoint(), raw.local_endpoint());
}

TEST_F(OwnLoops, APortInUseIsBusyForEveryKindOfManager) {
  start_server("127.0.0.1:0");
  const auto taken = server->listening_addresses()[0];
  // Sockets that share a port all set SO_REUSEPORT: a second manager's must not join them.
  ConnectionManagerOptions options;
  options.event_loop_threads = 2;
  RealTimeServerTcpConnectionManager second(options);
  std::error_code ec;
  second.start_listening({taken}, ec);
  EXPECT_EQ(ec, asio::error::address_in_use) << ec.message();
  EXPECT_FALSE(second.is_listening());
  RealTimeServerTcpConnectionManager on_executor(io.get_executor());
  EXPECT_THROW(on_executor.start_listening(taken), ConnectionFailureException);

  // And the other way round: a port held by a plain socket.
  asio::ip::tcp::acceptor plain(io, {asio::ip::address_v4::loopback(), 0});
  const IpEndpoint held(plain.local_endpoint().address(), plain.local_endpoint().port());
  EXPECT_THROW(second.start_listening(held), ConnectionFailureException);
  EXPECT_FALSE(second.is_listening());
}

TEST_F(OwnLoops, StopListeningGivesThePortBack) {
  start_server("127.0.0.1:0");
  const auto address = server->listening_addresses()[0];
  server->stop_listening();
  EXPECT_TRUE(server->listening_addresses().empty());
  // Every socket of the group was closed: a plain bind (no SO_REUSEPORT) takes the port.
  const auto free_again = [&] {
    std::error_code ec;
    asio::ip::tcp::acceptor probe(io);
    probe.open(asio::ip::tcp::v4(), ec);
    probe.set_option(asio::socket_base::reuse_address(true), ec);
    probe.bind({address.address(), address.port()}, ec);
    return !ec;
  };
  EXPECT_TRUE(run_until(io, free_again));
}

TEST_F(OwnLoops, TheAcceptRateLimitIsTheAddresssNotEachLoops) {
  const auto clock = std::make_shared<ManualClock>();
  ConnectionManagerOptions options;
  options.clock = clock;
  options.max_accepts_per_second = 4;  // one bucket of 4 for the address, however many loops
  start_server("127.0.0.1:0", 2, options);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 9; ++i) {
    clients.push_back(std::make_unique<RawClient>(io, server->listening_addresses().at(0)));
  }
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() >= 3; }));
  settle(io);
  // A bucket per loop would have taken 8. A loop waits for a connection of its own with a
  // token in hand, so one of the 4 may still be held by the loop that got none.
  EXPECT_LE(server->incoming_connections().size(), 4u);
  EXPECT_GE(server->incoming_connections().size(), 3u);
  EXPECT_GE(server->counters().accept_pauses, 1u);
  // As time moves, the rest come in: waited, not refused.
  EXPECT_TRUE(run_until(io, [&] {
    clock->advance(100ms);
    return server->incoming_connections().size() == 9;
  }));
  for (const auto& client : clients) EXPECT_FALSE(client->peer_closed());
}

TEST_F(OwnLoops, ListeningAgainOnTheSamePortRightAfterStopping) {
  for (const std::size_t loops : {1, 2}) {  // one loop: a listener of its own too, waited for
    start_server("127.0.0.1:0", loops);
    const auto address = server->listening_addresses()[0];
    for (int i = 0; i < 20; ++i) {
      server->stop_listening();
      std::error_code ec;
      server->start_listening({address}, ec);
      ASSERT_FALSE(ec) << loops << " loops, round " << i << ": " << ec.message();
    }
    RawClient raw(io, address);
    raw.send(make_request("OPTIONS"));
    ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; })) << loops << " loops";
  }
}

// Shuts down (for reading) this process's listening sockets on `port`, as a broken socket: their
// accept then fails with EINVAL. Returns how many.
int break_listening_sockets(std::uint16_t port) {
  int broken = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_in local{};
    socklen_t size = sizeof local;
    int listening = 0;
    socklen_t flag_size = sizeof listening;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != port ||
        ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &flag_size) != 0 || !listening) {
      continue;
    }
    if (::shutdown(fd, SHUT_RD) == 0) ++broken;
  }
  return broken;
}

TEST_F(OwnLoops, ABrokenListeningSocketIsNoLongerReportedAsListening) {
  for (const std::size_t loops : {1, 2}) {
    start_server("127.0.0.1:0", loops);
    const auto address = server->listening_addresses()[0];
    std::atomic<int> aborted{0};
    std::atomic<int> emptied{0};
    const auto on_aborted =
        server->listening_aborted.subscribe([&](const ListeningAbortedEventArgs& args) {
          if (args.error) ++aborted;
        });
    const auto on_changed = server->listening_addresses_changed.subscribe(
        [&](const ListeningAddressesChangedEventArgs& args) {
          if (args.addresses.empty()) ++emptied;
        });
    ASSERT_EQ(break_listening_sockets(address.port()), static_cast<int>(loops));
    // Once for the address, when its last socket goes.
    ASSERT_TRUE(run_until(io, [&] { return aborted == 1 && emptied == 1; }))
        << loops << " loops: " << aborted << " aborted, " << emptied << " emptied";
    EXPECT_FALSE(server->is_listening());
    EXPECT_TRUE(server->listening_addresses().empty());
    // Its sockets are closed: the port is free to listen on again.
    std::error_code ec;
    server->start_listening({address}, ec);
    ASSERT_FALSE(ec) << loops << " loops: " << ec.message();
    {
      RawClient raw(io, address);  // gone before the server, which would wait for it to end
      raw.send(make_request("OPTIONS"));
      ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; })) << loops << " loops";
    }
    server->set_request_handler({});
    server.reset();
  }
}

TEST_F(OwnLoops, AHandlerOnALoopMayStopListening) {
  start_server("127.0.0.1:0");
  std::atomic<bool> stopped{false};
  server->set_request_handler([&](IncomingRequest& request) {
    server->stop_listening();  // on a loop: closes without waiting for the other loop
    request.respond(200);
    stopped = true;
    return true;
  });
  RawClient raw(io, server->listening_addresses().at(0));
  raw.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  EXPECT_TRUE(stopped.load());
  EXPECT_FALSE(server->is_listening());
}

TEST_F(OwnLoops, OneLoopAcceptsAndServesToo) {
  start_server("127.0.0.1:0", 1);
  RawClient raw(io, server->listening_addresses().at(0));
  raw.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  EXPECT_TRUE(raw.received().starts_with("SIP/2.0 200"));
}

// A completion handler of the application's that throws on one of the manager's own loops ends
// neither the loop nor the process: the loop goes on, and the next request is answered.
TEST_F(OwnLoops, AHandlerThatThrowsDoesNotEndTheLoop) {
  start_server("127.0.0.1:0", 1);
  ConnectionManagerOptions options;
  options.event_loop_threads = 1;
  RealTimeClientConnectionManager client(options);
  const PoolKey destination = key_for(loopback_address());
  std::promise<void> first;
  client.async_request(destination, make_request("OPTIONS"), [&first](std::error_code, SipMessage) {
    first.set_value();
    throw std::runtime_error("an application's handler threw");
  });
  ASSERT_EQ(first.get_future().wait_for(10s), std::future_status::ready);
  std::promise<std::error_code> second;
  client.async_request(destination, make_request("OPTIONS"),
                       [&second](std::error_code ec, SipMessage) { second.set_value(ec); });
  auto outcome = second.get_future();
  ASSERT_EQ(outcome.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(outcome.get());
  EXPECT_EQ(answered.load(), 2);
}

TEST(OwnLoopsDeathTest, DestroyingTheManagerFromItsOwnLoopFailsAtOnceAndSaysWhy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* manager = new RealTimeClientConnectionManager(ConnectionManagerOptions{});
        asio::post(manager->get_executor(), [manager] { delete manager; });
        std::this_thread::sleep_for(std::chrono::seconds(3));  // less than the 5 s it waited
      },
      "destroyed from a handler on its own event loop");
}

}  // namespace
}  // namespace rtconn::test
