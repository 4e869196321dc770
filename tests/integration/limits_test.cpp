// Limits a remote peer runs into: connections in total and per address, refused at accept
// without harm to the admitted ones; the accept rate; the time a sender has to finish a message
// it began; and what a flood of keep-alives may cost.
#include <gtest/gtest.h>

#include <array>

#include <asio/ip/tcp.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/manual_clock.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn {
namespace {

using test::RawClient;
using test::run_until;

class LimitsTest : public ::testing::Test {
 protected:
  void start(ConnectionManagerOptions options) {
    server_ = std::make_unique<RealTimeServerTcpConnectionManager>(io_.get_executor(), options);
    added_ = server_->incoming_connection_added.subscribe([this](const auto&) { ++added_count_; });
    removed_ = server_->incoming_connection_removed.subscribe(
        [this](const ConnectionEventArgs& e) { reasons_.push_back(e.reason); });
    server_->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
    endpoint_ = server_->listening_addresses().front();
  }

  // A raw client bound to `source` (127.0.0.x), so tests can speak for several addresses.
  std::unique_ptr<asio::ip::tcp::socket> connect_from(const char* source) {
    auto socket = std::make_unique<asio::ip::tcp::socket>(io_);
    socket->open(asio::ip::tcp::v4());
    socket->bind({asio::ip::make_address(source), 0});
    socket->connect({endpoint_.address(), endpoint_.port()});
    return socket;
  }

  // Reads past whatever the server sent before it closed.
  static bool closed_by_peer(asio::ip::tcp::socket& socket) {
    std::array<char, 64 * 1024> discard;
    std::error_code ec;
    socket.non_blocking(true);
    while (!ec) socket.read_some(asio::buffer(discard), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  asio::io_context io_;
  std::unique_ptr<RealTimeServerTcpConnectionManager> server_;
  IpEndpoint endpoint_;
  Subscription added_;
  Subscription removed_;
  int added_count_ = 0;
  std::vector<std::error_code> reasons_;
};

TEST_F(LimitsTest, ConnectionsBeyondTheTotalAreClosedAtAccept) {
  ConnectionManagerOptions options;
  options.max_incoming_connections = 3;
  start(options);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(std::make_unique<RawClient>(io_, endpoint_));
  ASSERT_TRUE(
      run_until(io_, [&] { return server_->counters().connections_refused_total_limit == 2; }));
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 3; }));
  int closed = 0;
  ASSERT_TRUE(run_until(io_, [&] {
    closed = 0;
    for (const auto& c : clients) closed += c->peer_closed() ? 1 : 0;
    return closed == 2;
  }));
  EXPECT_EQ(server_->incoming_connections().size(), 3u);
  // The admitted ones are served as before.
  for (auto& client : clients) {
    if (!client->peer_closed()) client->send(test::make_request("OPTIONS"));
  }
  ASSERT_TRUE(run_until(io_, [&] {
    int answered = 0;
    for (const auto& c : clients) answered += c->message_count();
    return answered == 3;
  }));
}

TEST_F(LimitsTest, ConnectionsBeyondThePerAddressLimitAreClosedOthersAdmitted) {
  ConnectionManagerOptions options;
  options.max_incoming_connections_per_address = 2;
  start(options);
  auto first = connect_from("127.0.0.1");
  auto second = connect_from("127.0.0.1");
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 2; }));
  auto third = connect_from("127.0.0.1");
  auto other_address = connect_from("127.0.0.2");
  ASSERT_TRUE(
      run_until(io_, [&] { return server_->counters().connections_refused_address_limit == 1; }));
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 3; }));
  EXPECT_TRUE(run_until(io_, [&] { return closed_by_peer(*third); }));
  EXPECT_FALSE(closed_by_peer(*other_address));
  EXPECT_EQ(server_->counters().connections_refused_total_limit, 0u);
  // A slot freed by a closing connection is free again.
  first->close();
  ASSERT_TRUE(run_until(io_, [&] { return reasons_.size() == 1; }));
  auto again = connect_from("127.0.0.1");
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 4; }));
  EXPECT_EQ(server_->counters().connections_refused_address_limit, 1u);
}

TEST_F(LimitsTest, SlowSenderIsClosedWhenItsMessageTakesTooLong) {
  const auto clock = std::make_shared<ManualClock>();
  ConnectionManagerOptions options;
  options.clock = clock;
  options.message_completion_timeout = 5s;
  start(options);
  RawClient slow(io_, endpoint_);
  RawClient prompt(io_, endpoint_);
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 2; }));
  const auto request = test::make_request("OPTIONS").to_string();
  slow.send(request.substr(0, request.size() / 2));
  prompt.send(request);
  ASSERT_TRUE(run_until(io_, [&] { return prompt.message_count() == 1; }));
  test::settle(io_);
  clock->advance(4s);
  test::drain(io_);
  EXPECT_FALSE(slow.peer_closed());
  clock->advance(2s);
  ASSERT_TRUE(run_until(io_, [&] { return slow.peer_closed(); }));
  ASSERT_EQ(reasons_.size(), 1u);
  EXPECT_EQ(reasons_.front(), errc::message_timeout);
  EXPECT_EQ(reasons_.front(), condition::timeout);
  EXPECT_FALSE(prompt.peer_closed());  // a finished message leaves nothing pending
}

TEST_F(LimitsTest, FinishingTheMessageInTimeKeepsTheConnection) {
  const auto clock = std::make_shared<ManualClock>();
  ConnectionManagerOptions options;
  options.clock = clock;
  options.message_completion_timeout = 5s;
  start(options);
  RawClient client(io_, endpoint_);
  const auto request = test::make_request("OPTIONS").to_string();
  client.send(request.substr(0, 10));
  test::settle(io_);
  clock->advance(3s);
  test::drain(io_);
  client.send(request.substr(10));
  ASSERT_TRUE(run_until(io_, [&] { return client.message_count() == 1; }));
  clock->advance(3s);
  test::drain(io_);
  clock->advance(3s);
  test::settle(io_);
  EXPECT_FALSE(client.peer_closed());
  EXPECT_TRUE(reasons_.empty());
}

TEST_F(LimitsTest, AcceptsBeyondTheRateWaitInTheBacklogUntilTheirTurn) {
  const auto clock = std::make_shared<ManualClock>();
  ConnectionManagerOptions options;
  options.clock = clock;
  options.max_accepts_per_second = 4;  // a bucket of 4, refilled at one per 250 ms
  start(options);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 7; ++i) clients.push_back(std::make_unique<RawClient>(io_, endpoint_));
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 4; }));
  test::settle(io_);
  EXPECT_EQ(added_count_, 4);
  EXPECT_GE(server_->counters().accept_pauses, 1u);

  clock->advance(500ms);  // two more tokens
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 6; }));
  test::settle(io_);
  EXPECT_EQ(added_count_, 6);

  clock->advance(1s);
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 7; }));
  for (const auto& client : clients) EXPECT_FALSE(client->peer_closed()) << "waited, not refused";
  EXPECT_TRUE(reasons_.empty());
}

TEST_F(LimitsTest, KeepAliveFloodCostsOnePongPerWriteAndCannotHoldTheConnection) {
  const auto clock = std::make_shared<ManualClock>();
  ConnectionManagerOptions options;
  options.clock = clock;
  options.new_incoming_connection_timeout = 10s;
  start(options);
  // The flooder never reads its pongs.
  auto flooder = connect_from("127.0.0.1");
  ASSERT_TRUE(run_until(io_, [&] { return added_count_ == 1; }));
  const auto connection = server_->incoming_connections().front();

  std::string pings;
  for (int i = 0; i < 16 * 1024; ++i) pings += "\r\n\r\n";
  constexpr std::uint64_t rounds = 64;  // 4 MiB, 1 Mi pings
  for (std::uint64_t i = 1; i <= rounds; ++i) {
    asio::write(*flooder, asio::buffer(pings));
    ASSERT_TRUE(run_until(
        io_, [&] { return connection->counters().keep_alives_received == i * 16 * 1024; }));
  }
  const auto counters = connection->counters();
  const std::uint64_t pings_sent = rounds * 16 * 1024;
  EXPECT_LT(counters.bytes_sent * 50, pings_sent) << "more than one pong per 100 pings";
  EXPECT_GT(counters.bytes_sent, 0u) << "pings must be answered";

  // Others are served meanwhile, and the flood is no valid message: it cannot keep its
  // connection past the new-connection time-out.
  RawClient prompt(io_, endpoint_);
  prompt.send(test::make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io_, [&] { return prompt.message_count() == 1; }));
  clock->advance(11s);
  ASSERT_TRUE(run_until(io_, [&] { return !reasons_.empty(); }));
  test::settle(io_);
  ASSERT_EQ(reasons_.size(), 1u);
  EXPECT_EQ(reasons_.front(), errc::new_connection_timeout);
  EXPECT_TRUE(closed_by_peer(*flooder));
  EXPECT_FALSE(prompt.peer_closed());
}

}  // namespace
}  // namespace rtconn
