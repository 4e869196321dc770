// RFC 5626 keep-alives an outgoing connection sends (keep_alive_interval): its CRLFCRLF pings
// are answered with pongs by any server that reads them (ours here), and a server that answers
// none within keep_alive_pong_timeout is taken for dead: the connection closes with
// errc::keep_alive_timeout, found before a send needs it. Time is a ManualClock.
#include <gtest/gtest.h>

#include "loopback.hpp"
#include "rtconn/manual_clock.hpp"

namespace rtconn::test {
namespace {

class KeepAlive : public Loopback {
 protected:
  void SetUp() override {
    ConnectionManagerOptions options;
    options.clock = clock_;
    start_server(options);
    answer_everything();
    options.keep_alive_interval = 30s;
    options.keep_alive_pong_timeout = 10s;
    make_client(options);
  }

  // The client's one connection to `key`, made by a send.
  std::shared_ptr<RealTimeConnection> connect_to(const PoolKey& key) {
    EXPECT_FALSE(send_and_wait(key, make_request("OPTIONS")));
    return client->connection_pool(key)->connections().at(0);
  }

  const std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(KeepAlive, PingsAreAnsweredAndTheConnectionStays) {
  const auto outgoing = connect_to(server_key());
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
  const auto incoming = server->incoming_connections().at(0);

  for (std::uint64_t round = 1; round <= 3; ++round) {
    clock_->advance(30s);  // a ping is due within 24-30 s
    ASSERT_TRUE(run_until(io, [&] { return outgoing->counters().keep_alives_received == round; }))
        << "no pong taken in round " << round;
    EXPECT_EQ(incoming->counters().keep_alives_received, round) << "pings the server read";
    clock_->advance(10s);  // the pong time-out of a pong not taken would end here
    settle(io);
    ASSERT_TRUE(outgoing->is_connected()) << outgoing->close_reason().message();
  }
  EXPECT_EQ(incoming->counters().messages_received, 1u) << "a ping was taken for a message";
}

TEST_F(KeepAlive, AServerThatAnswersNoPingIsTakenForDead) {
  SilentPeer silent(io);
  const auto key = key_for(silent.endpoint());
  const auto outgoing = connect_to(key);
  std::optional<ConnectionEventArgs> removed;
  client->connection_pool(key)->connection_removed +=
      [&](const ConnectionEventArgs& e) { removed = e; };

  clock_->advance(30s);  // the ping goes out
  settle(io);
  clock_->advance(9s);
  settle(io);
  EXPECT_TRUE(outgoing->is_connected()) << "closed before the pong time-out";
  clock_->advance(1s);
  ASSERT_TRUE(run_until(io, [&] { return removed.has_value(); }));
  EXPECT_EQ(removed->reason, errc::keep_alive_timeout);
  EXPECT_EQ(removed->reason, condition::timeout);
}

TEST_F(KeepAlive, AThrottledConnectionIsNotTakenForDead) {
  // The application holds two requests the server sent over the flow, and a third waits behind
  // them: the connection stops reading (connection throttling), so a pong would go unread. The
  // flow is not judged meanwhile, or it would be closed with the answers it owes.
  client->set_connection_throttling_marks(2, 1);
  std::vector<IncomingRequest> held;
  client->set_request_handler([&held](IncomingRequest& request) {
    held.push_back(std::move(request));
    return true;
  });
  const auto outgoing = connect_to(server_key());
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
  const auto incoming = server->incoming_connections().at(0);
  for (int i = 0; i < 3; ++i) incoming->async_send(make_request("MESSAGE"), [](std::error_code) {});
  ASSERT_TRUE(run_until(io, [&] { return outgoing->is_connection_throttled(); }));
  ASSERT_EQ(held.size(), 2u);

  for (int i = 0; i < 4; ++i) {
    clock_->advance(30s);
    settle(io);
  }
  EXPECT_TRUE(outgoing->is_connected()) << outgoing->close_reason().message();
  held.front().respond(200);  // down to the low mark: reading resumes, the third arrives
  ASSERT_TRUE(run_until(io, [&] { return held.size() == 3; }));
}

TEST_F(KeepAlive, NoPingWaitsBehindOtherWrites) {
  // A slow link, not a dead one: behind a large write the pong's wait would start before the
  // ping leaves, and the flow would be closed while its data still drains.
  SilentPeer silent(io);
  const auto outgoing = connect_to(key_for(silent.endpoint()));
  auto large = make_request("MESSAGE");
  large.set_body(std::string(8 * 1024 * 1024, 'x'), "text/plain");
  outgoing->async_send(std::move(large), [](std::error_code) {});
  settle(io);
  ASSERT_EQ(outgoing->pending_sends(), 1u) << "the write did not stall";
  for (int i = 0; i < 3; ++i) {
    clock_->advance(30s);
    settle(io);
  }
  EXPECT_TRUE(outgoing->is_connected()) << outgoing->close_reason().message();
}

TEST_F(KeepAlive, IncomingConnectionsSendNoPings) {
  // RFC 5626: the client pings its edge, never the other way round.
  server.reset();
  ConnectionManagerOptions options;
  options.clock = clock_;
  options.keep_alive_interval = 30s;
  start_server(options);
  answer_everything();
  RawClient raw(io, server_address());
  raw.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  clock_->advance(60s);
  settle(io);
  EXPECT_EQ(raw.wire().crlfs, 0u);
  EXPECT_FALSE(raw.peer_closed());
}

}  // namespace
}  // namespace rtconn::test
