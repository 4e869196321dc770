// Time-outs of connections and requests, driven by a ManualClock: the tests move time by hand
// and run the io_context; nothing here sleeps. Loopback sockets inside the process stand in for
// peers, since the time-outs are about what a manager does with real connections.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <asio/io_context.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/manual_clock.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn {
namespace {

using namespace std::chrono_literals;
using test::drain;
using test::run_until;

class Timeouts : public testing::Test {
 protected:
  // Declared first so it outlives every manager and socket made on it.
  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<RealTimeServerTcpConnectionManager> server;
  std::vector<ConnectionEventArgs> removed;
  std::optional<Subscription> removed_sub;
  std::optional<IncomingRequest> kept;  // see send_keep_and_half_close

  void start_server(ConnectionManagerOptions options) {
    options.clock = clock;
    server = std::make_unique<RealTimeServerTcpConnectionManager>(io.get_executor(), options);
    removed_sub.emplace(server->incoming_connection_removed.subscribe(
        [this](const ConnectionEventArgs& e) { removed.push_back(e); }));
    server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  }

  // The server with only the new-connection and idle time-outs of these tests (zero: off).
  void start_server(std::chrono::milliseconds new_connection, std::chrono::milliseconds idle) {
    ConnectionManagerOptions options;
    options.new_incoming_connection_timeout = new_connection;
    options.default_incoming_connection_timeout = idle;
    start_server(options);
  }

  IpEndpoint address() const { return server->listening_addresses().at(0); }

  // Waits for the one removal these tests expect and checks why it happened.
  void expect_one_removal(errc reason) {
    ASSERT_TRUE(run_until(io, [&] { return removed.size() == 1; }));
    EXPECT_EQ(removed[0].reason, reason);
  }

  // The server's side of the newest raw connection, once it is ready (its timers are armed
  // then, so advancing the clock afterwards means something).
  std::shared_ptr<RealTimeConnection> wait_for_incoming(std::size_t count = 1) {
    std::shared_ptr<RealTimeConnection> newest;
    const bool ready = run_until(io, [&] {
      const auto all = server->incoming_connections();
      if (all.size() != count) return false;
      for (const auto& c : all) {
        if (!c->is_connected()) return false;
        if (!newest || c->id() > newest->id()) newest = c;
      }
      return true;
    });
    EXPECT_TRUE(ready) << "no ready incoming connection";
    return ready ? newest : nullptr;
  }

  // The server keeps (in `kept`) the OPTIONS `client` sends, unanswered; then `client` ends its
  // side and the server reads that end with the request still owed.
  void send_keep_and_half_close(test::RawClient& client) {
    server->set_request_handler([this](IncomingRequest& request) {
      kept.emplace(std::move(request));
      return true;
    });
    client.send(test::make_request("OPTIONS"));
    ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
    client.end_sending();
    test::settle(io);
  }

  // Sends a valid OPTIONS on `client` and waits for the server's answer (500: no handler).
  void exchange_options(test::RawClient& client) {
    const auto before = client.message_count();
    client.send(test::make_request("OPTIONS"));
    ASSERT_TRUE(run_until(io, [&] { return client.message_count() == before + 1; }))
        << "no answer; received so far: " << client.received();
  }
};

// A client that half-closes after its request still gets the answer the application owes it,
// and then the connection closes as the peer's doing.
TEST_F(Timeouts, PeerThatEndsItsSideStillGetsTheAnswerTheApplicationOwes) {
  start_server(0ms, 0ms);
  test::RawClient client(io, address());
  ASSERT_NO_FATAL_FAILURE(send_keep_and_half_close(client));
  EXPECT_TRUE(removed.empty());
  EXPECT_FALSE(client.peer_closed());

  kept->respond(200);
  ASSERT_TRUE(run_until(io, [&] { return client.peer_closed(); }));
  ASSERT_EQ(client.message_count(), 1u) << client.received();
  EXPECT_EQ(client.wire().messages[0].status_code(), 200);
  expect_one_removal(errc::peer_closed);
  server->set_request_handler({});
}

TEST_F(Timeouts, PeerThatEndsItsSideWaitsForTheApplicationNoLongerThanTheShutdownTimeOut) {
  ConnectionManagerOptions options;
  options.shutdown_timeout = 5s;
  start_server(options);
  test::RawClient client(io, address());
  ASSERT_NO_FATAL_FAILURE(send_keep_and_half_close(client));
  clock->advance(5s - 1ms);
  test::settle(io);
  EXPECT_TRUE(removed.empty());
  clock->advance(1ms);
  expect_one_removal(errc::peer_closed);
  EXPECT_TRUE(run_until(io, [&] { return client.peer_closed(); }));
  EXPECT_EQ(client.message_count(), 0u);
  server->set_request_handler({});
}

TEST_F(Timeouts, NewIncomingConnectionWithoutAValidMessageClosesAfterItsTimeOut) {
  // only the new-connection rule is in play
  start_server(60s, 0ms);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  clock->advance(60s - 1ms);
  drain(io);
  EXPECT_TRUE(connection->is_connected()) << "closed before its time-out";
  EXPECT_TRUE(removed.empty());

  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return removed.size() == 1 && client.peer_closed(); }));
  EXPECT_EQ(removed[0].item, connection);
  EXPECT_EQ(removed[0].reason, errc::new_connection_timeout);
  EXPECT_EQ(removed[0].reason, condition::timeout);
  EXPECT_EQ(connection->state(), ConnectionState::closed);
  EXPECT_EQ(connection->close_reason(), errc::new_connection_timeout);
  EXPECT_TRUE(server->incoming_connections().empty());
}

TEST_F(Timeouts, KeepAlivesAndInvalidRequestsDoNotSatisfyTheNewConnectionRule) {
  start_server(60s, 0ms);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  client.send("\r\n\r\n");
  auto no_call_id = test::make_request("OPTIONS");
  no_call_id.remove_header("Call-ID");
  client.send(no_call_id);
  ASSERT_TRUE(run_until(io, [&] { return client.message_count() == 1; }));  // the 400

  clock->advance(60s);
  expect_one_removal(errc::new_connection_timeout);
}

TEST_F(Timeouts, AValidMessageEndsTheNewConnectionRule) {
  start_server(60s, 0ms);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);
  exchange_options(client);

  clock->advance(10min);
  test::settle(io);
  EXPECT_TRUE(connection->is_connected());
  EXPECT_TRUE(removed.empty());
}

TEST_F(Timeouts, IncomingConnectionClosesWhenIdleAndActivityPostponesIt) {
  start_server(0ms, 30s);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);
  EXPECT_EQ(connection->connection_timeout(), 30s);

  clock->advance(20s);
  exchange_options(client);  // activity at +20s: the deadline moves to +50s
  clock->advance(20s);       // +40s: past the first deadline, not the second
  drain(io);
  EXPECT_TRUE(connection->is_connected()) << "activity did not postpone the idle time-out";

  clock->advance(10s - 1ms);
  drain(io);
  EXPECT_TRUE(connection->is_connected());
  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return removed.size() == 1 && client.peer_closed(); }));
  EXPECT_EQ(removed[0].reason, errc::idle_timeout);
  EXPECT_EQ(removed[0].reason, condition::timeout);
}

TEST_F(Timeouts, ZeroIdleTimeOutNeverClosesAConnection) {
  start_server(0ms, 0ms);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);
  EXPECT_EQ(connection->connection_timeout(), 0ms);

  clock->advance(24h);
  test::settle(io);
  EXPECT_TRUE(connection->is_connected());
  EXPECT_TRUE(removed.empty());
  EXPECT_FALSE(client.peer_closed());
}

TEST_F(Timeouts, KeepAlivePingIsNotActivityByDefault) {
  start_server(0ms, 30s);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  clock->advance(20s);
  client.send("\r\n\r\n");
  ASSERT_TRUE(run_until(io, [&] { return client.received() == "\r\n"; }));  // the pong
  EXPECT_EQ(connection->counters().keep_alives_received, 1u);

  clock->advance(10s);
  expect_one_removal(errc::idle_timeout);
}

TEST_F(Timeouts, KeepAlivePingIsActivityWhenConfigured) {
  ConnectionManagerOptions o;
  o.new_incoming_connection_timeout = 0ms;
  o.default_incoming_connection_timeout = 30s;
  o.keep_alive_counts_as_activity = true;
  start_server(o);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  clock->advance(20s);
  client.send("\r\n\r\n");
  ASSERT_TRUE(run_until(io, [&] { return client.received() == "\r\n"; }));

  clock->advance(10s);  // +30s: idle only 10s since the ping
  test::settle(io);
  EXPECT_TRUE(connection->is_connected()) << "the ping was not counted as activity";

  clock->advance(20s);  // +50s: 30s since the ping
  expect_one_removal(errc::idle_timeout);
}

TEST_F(Timeouts, SetConnectionTimeoutOnALiveConnectionArmsIt) {
  start_server(0ms, 0ms);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  clock->advance(5s);
  exchange_options(client);  // last activity at +5s
  connection->set_connection_timeout(10s);
  EXPECT_EQ(connection->connection_timeout(), 10s);
  drain(io);

  clock->advance(10s - 1ms);
  drain(io);
  EXPECT_TRUE(connection->is_connected());
  clock->advance(1ms);
  expect_one_removal(errc::idle_timeout);
}

TEST_F(Timeouts, SetConnectionTimeoutZeroOnALiveConnectionDisarmsIt) {
  start_server(0ms, 30s);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  connection->set_connection_timeout(0ms);
  drain(io);
  clock->advance(1h);
  test::settle(io);
  EXPECT_TRUE(connection->is_connected());
  EXPECT_TRUE(removed.empty());
}

TEST_F(Timeouts, AConnectionTimeOutOutOfRangeIsRefusedAndTheOldOneKept) {
  start_server(0ms, 30s);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  // Negative would have disabled the time-out; the largest value, a natural "never", would
  // have wrapped its deadline into the past and closed the connection at once.
  EXPECT_THROW(connection->set_connection_timeout(-1ms), std::invalid_argument);
  EXPECT_THROW(connection->set_connection_timeout(std::chrono::milliseconds::max()),
               std::invalid_argument);
  EXPECT_EQ(connection->connection_timeout(), 30s);
  drain(io);
  EXPECT_TRUE(connection->is_connected());
  clock->advance(30s);
  expect_one_removal(errc::idle_timeout);
}

TEST_F(Timeouts, ShorteningTheTimeOutOfAnIdleConnectionClosesItAtOnce) {
  start_server(0ms, 15min);
  test::RawClient client(io, address());
  const auto connection = wait_for_incoming();
  ASSERT_TRUE(connection);

  clock->advance(2min);
  drain(io);
  connection->set_connection_timeout(1min);  // already idle longer than that
  expect_one_removal(errc::idle_timeout);
}

TEST_F(Timeouts, ChangingTheDefaultIncomingTimeOutAffectsNewConnectionsOnly) {
  start_server(0ms, 30s);
  test::RawClient first_client(io, address());
  const auto first = wait_for_incoming(1);
  ASSERT_TRUE(first);
  server->set_default_incoming_connection_timeout(60s);
  test::RawClient second_client(io, address());
  const auto second = wait_for_incoming(2);
  ASSERT_TRUE(second);
  ASSERT_NE(first, second);
  EXPECT_EQ(first->connection_timeout(), 30s);
  EXPECT_EQ(second->connection_timeout(), 60s);

  clock->advance(30s);
  ASSERT_TRUE(run_until(io, [&] { return removed.size() == 1; }));
  EXPECT_EQ(removed[0].item, first);
  EXPECT_TRUE(second->is_connected());
  clock->advance(30s);
  ASSERT_TRUE(run_until(io, [&] { return removed.size() == 2; }));
  EXPECT_EQ(removed[1].item, second);
}

// Outgoing connections: a client manager on the manual clock sends to a server manager whose own
// clock never moves, so only the client's time-outs are in play.
class OutgoingTimeouts : public Timeouts {
 protected:
  std::shared_ptr<ManualClock> server_clock = std::make_shared<ManualClock>();
  std::unique_ptr<RealTimeClientConnectionManager> client;

  void SetUp() override {
    ConnectionManagerOptions server_options;
    server_options.clock = server_clock;
    server =
        std::make_unique<RealTimeServerTcpConnectionManager>(io.get_executor(), server_options);
    server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  }

  void start_client(ConnectionManagerOptions options) {
    options.clock = clock;
    client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
  }

  // Sends one OPTIONS through the client's pool and returns the connection it went on.
  std::shared_ptr<RealTimeConnection> send_one() {
    std::optional<std::error_code> result;
    client->async_send(test::key_for(address()), test::make_request("OPTIONS"),
                       [&](std::error_code ec) { result = ec; });
    EXPECT_TRUE(run_until(io, [&] { return result.has_value(); }));
    EXPECT_FALSE(result.value_or(errc::shutdown)) << result->message();
    const auto pools = client->connection_pools();
    if (pools.size() != 1 || pools[0]->count() != 1) return nullptr;
    return pools[0]->connections()[0];
  }

  ~OutgoingTimeouts() override { client.reset(); }
};

TEST_F(OutgoingTimeouts, OutgoingConnectionClosesWhenIdle) {
  ConnectionManagerOptions o;
  o.default_outgoing_connection_timeout = 30s;
  start_client(o);
  std::vector<std::string> events;
  auto pool_removed = client->connection_pool_removed.subscribe(
      [&](const ConnectionPoolEventArgs&) { events.push_back("pool removed"); });
  const auto connection = send_one();
  ASSERT_TRUE(connection);
  EXPECT_EQ(connection->connection_timeout(), 30s);
  const auto pool = connection->connection_pool();
  ASSERT_TRUE(pool);
  auto connection_removed = pool->connection_removed.subscribe([&](const ConnectionEventArgs& e) {
    events.push_back("connection removed: " + e.reason.message());
    EXPECT_EQ(e.reason, errc::idle_timeout);
  });
  // The server's 500 to the OPTIONS is activity too; let it land before time moves.
  ASSERT_TRUE(run_until(io, [&] { return connection->counters().messages_received == 1; }));

  clock->advance(30s - 1ms);
  drain(io);
  EXPECT_TRUE(connection->is_connected());
  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return events.size() == 2; }));
  EXPECT_EQ(connection->close_reason(), errc::idle_timeout);
  EXPECT_EQ(events[0], "connection removed: " + make_error_code(errc::idle_timeout).message());
  EXPECT_EQ(events[1], "pool removed");
  EXPECT_TRUE(client->connection_pools().empty());
  // The server sees its peer go away.
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().empty(); }));
}

TEST_F(OutgoingTimeouts, ZeroOutgoingTimeOutNeverClosesTheConnection) {
  ConnectionManagerOptions o;
  o.default_outgoing_connection_timeout = 0ms;
  start_client(o);
  const auto connection = send_one();
  ASSERT_TRUE(connection);
  clock->advance(24h);
  test::settle(io);
  EXPECT_TRUE(connection->is_connected());
  EXPECT_EQ(client->connection_pools().size(), 1u);
}

TEST_F(OutgoingTimeouts, RequestWithoutAnAnswerTimesOut) {
  ConnectionManagerOptions o;
  o.request_timeout = 32s;
  o.default_outgoing_connection_timeout = 0ms;
  start_client(o);
  // The server takes the request and never answers it.
  server->set_request_handler([&](IncomingRequest& request) {
    kept.emplace(std::move(request));
    return true;
  });
  int calls = 0;
  std::error_code result;
  SipMessage response;
  client->async_request(test::key_for(address()), test::make_request("OPTIONS"),
                        [&](std::error_code ec, SipMessage r) {
                          ++calls;
                          result = ec;
                          response = std::move(r);
                        });
  ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));

  clock->advance(32s - 1ms);
  drain(io);
  EXPECT_EQ(calls, 0) << "timed out early";
  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return calls == 1; }));
  EXPECT_EQ(result, errc::request_timeout);
  EXPECT_EQ(result, condition::timeout);

  // A late answer completes nothing a second time, and the connection is still fine.
  ASSERT_EQ(client->connection_pools().size(), 1u);
  const auto connection = client->connection_pools()[0]->connections().at(0);
  kept->respond(200);
  ASSERT_TRUE(run_until(io, [&] { return connection->counters().messages_received == 1; }));
  test::settle(io);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(connection->is_connected());
}

TEST_F(OutgoingTimeouts, ChangingTheDefaultOutgoingTimeOutAffectsNewPoolsConnectionsOnly) {
  ConnectionManagerOptions o;
  o.default_outgoing_connection_timeout = 30s;
  start_client(o);
  const auto first = send_one();
  ASSERT_TRUE(first);
  client->set_default_outgoing_connection_timeout(0ms);
  EXPECT_EQ(first->connection_timeout(), 30s);
  clock->advance(30s);
  ASSERT_TRUE(run_until(io, [&] { return client->connection_pools().empty(); }));
  const auto second = send_one();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->connection_timeout(), 0ms);
  clock->advance(1h);
  test::settle(io);
  EXPECT_TRUE(second->is_connected());
}

// A listener whose accept queue is full: the kernel drops further SYNs, so a connect to it
// stays pending, which is what a connect time-out needs without any real waiting.
class StalledListener {
 public:
  explicit StalledListener(asio::io_context& io) : acceptor_(io) {
    const asio::ip::tcp::endpoint where(asio::ip::address_v4::loopback(), 0);
    acceptor_.open(where.protocol());
    acceptor_.bind(where);
    acceptor_.listen(0);
    // Fill the queue (Linux admits backlog + 1) with connections nobody accepts. Asynchronous:
    // a synchronous connect would wait out the kernel's SYN retries on the ones left pending.
    fillers_.reserve(3);
    for (int i = 0; i < 3; ++i) {
      fillers_.emplace_back(io);
      fillers_.back().async_connect(acceptor_.local_endpoint(), [](std::error_code) {});
    }
    test::settle(io);
  }
  ~StalledListener() {
    std::error_code ignored;
    for (auto& socket : fillers_) socket.close(ignored);
  }
  IpEndpoint endpoint() const {
    const auto e = acceptor_.local_endpoint();
    return {e.address(), e.port()};
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
  std::vector<asio::ip::tcp::socket> fillers_;
};

TEST_F(OutgoingTimeouts, ConnectThatNeverCompletesTimesOutAndFailsItsSends) {
  StalledListener stalled(io);
  ConnectionManagerOptions o;
  o.connect_timeout = 10s;
  start_client(o);
  const auto key = test::key_for(stalled.endpoint());
  const auto outcomes = test::make_records(3);
  client->connection_pool(key)->set_maximum_number_of_connections(1);
  for (const auto& r : outcomes)
    client->async_send(key, test::make_request("OPTIONS"), test::record(r));
  const auto connection = client->connection_pool(key)->connections().at(0);
  test::settle(io);
  if (connection->state() != ConnectionState::connecting) {
    GTEST_SKIP() << "this kernel completed the connect to a full accept queue";
  }

  clock->advance(10s - 1ms);
  drain(io);
  EXPECT_EQ(connection->state(), ConnectionState::connecting);
  for (const auto& r : outcomes) EXPECT_EQ(r->calls, 0);

  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return test::all_completed(outcomes); }));
  for (const auto& r : outcomes) {
    EXPECT_EQ(r->calls, 1);
    EXPECT_EQ(r->ec, errc::connect_timeout) << r->ec.message();
    EXPECT_EQ(r->ec, condition::timeout);
  }
  EXPECT_EQ(connection->close_reason(), errc::connect_timeout);
  ASSERT_TRUE(run_until(io, [&] { return client->connection_pools().empty(); }));
}

}  // namespace
}  // namespace rtconn
