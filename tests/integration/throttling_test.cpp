// UCMA's connection throttling: a connection whose incoming requests the application has not
// answered reaches the high water mark and stops reading; answers bring it to the low mark and
// it reads again. Nothing is lost on the way. And UCMA's message throttling, across the manager:
// at its high mark new requests are answered 503 until answers bring the count to the low mark.
#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>

#include "../support/test_support.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn {
namespace {

using test::run_until;

class Throttling : public ::testing::Test {
 protected:
  void start(int high, int low) {
    ConnectionManagerOptions options;
    options.connection_throttling_high_mark = high;
    options.connection_throttling_low_mark = low;
    start(options);
  }

  void start_with_message_throttling(int high, int low) {
    ConnectionManagerOptions options;
    options.message_throttling_high_mark = high;
    options.message_throttling_low_mark = low;
    start(options);
  }

  void start(const ConnectionManagerOptions& options) {
    server_ = std::make_unique<RealTimeServerTcpConnectionManager>(io_.get_executor(), options);
    // The application keeps every request and answers only when the test says so.
    server_->set_request_handler([this](IncomingRequest& request) {
      taken_.push_back(std::move(request));
      return true;
    });
    server_->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
    client_ = std::make_unique<test::RawClient>(io_, server_->listening_addresses().front());
    ASSERT_TRUE(run_until(io_, [&] { return server_->incoming_connections().size() == 1; }));
    connection_ = server_->incoming_connections().front();
  }

  void send_requests(int count) {
    std::string burst;
    for (int i = 0; i < count; ++i) burst += test::make_request("OPTIONS").to_string();
    client_->send(burst);  // one write: the server reads them all at once
  }

  void answer_oldest() {
    taken_.front().respond(200);
    taken_.pop_front();
    ++answered_;
  }

  std::vector<int> statuses() const {
    std::vector<int> result;
    for (const auto& response : client_->wire().messages) result.push_back(response.status_code());
    return result;
  }

  asio::io_context io_;
  std::unique_ptr<RealTimeServerTcpConnectionManager> server_;
  std::unique_ptr<test::RawClient> client_;
  std::shared_ptr<RealTimeConnection> connection_;
  std::deque<IncomingRequest> taken_;
  int answered_ = 0;
};

TEST_F(Throttling, StopsReadingAtTheHighMarkAndResumesAtTheLowMark) {
  start(3, 1);
  send_requests(8);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 3; }));
  test::settle(io_, std::chrono::milliseconds(100));
  EXPECT_EQ(taken_.size(), 3u) << "read past the high mark";
  EXPECT_TRUE(connection_->is_connection_throttled());
  EXPECT_EQ(connection_->outstanding_requests(), 3);

  answer_oldest();  // 2 outstanding: above the low mark, still throttled
  test::settle(io_);
  EXPECT_EQ(taken_.size(), 2u);
  EXPECT_TRUE(connection_->is_connection_throttled());

  answer_oldest();  // 1 outstanding: the low mark; reading resumes up to the high mark again
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 3; }));
  test::settle(io_);
  EXPECT_EQ(taken_.size(), 3u);
  EXPECT_TRUE(connection_->is_connection_throttled());

  while (answered_ < 8) {
    ASSERT_TRUE(run_until(io_, [&] { return !taken_.empty(); }));
    answer_oldest();
  }
  ASSERT_TRUE(run_until(io_, [&] { return client_->message_count() == 8; }));
  EXPECT_FALSE(connection_->is_connection_throttled());
  EXPECT_EQ(connection_->outstanding_requests(), 0);
  for (const auto& response : client_->wire().messages) EXPECT_EQ(response.status_code(), 200);
}

TEST_F(Throttling, DroppingATakenRequestCountsAsDone) {
  start(2, 1);
  send_requests(4);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  EXPECT_TRUE(connection_->is_connection_throttled());
  taken_.clear();  // the application forgets them: no longer outstanding
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  EXPECT_EQ(connection_->outstanding_requests(), 2);
}

TEST_F(Throttling, OffByDefault) {
  start(INT_MAX, INT_MAX);
  send_requests(50);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 50; }));
  EXPECT_FALSE(connection_->is_connection_throttled());
  EXPECT_EQ(connection_->outstanding_requests(), 50);
}

TEST_F(Throttling, RaisingTheMarksOnALiveConnectionLetsItRead) {
  start(2, 1);
  send_requests(5);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  connection_->set_connection_throttling_marks(10, 5);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 5; }));
  EXPECT_FALSE(connection_->is_connection_throttled());
  EXPECT_EQ(connection_->connection_throttling_high_mark(), 10);
  EXPECT_EQ(connection_->connection_throttling_low_mark(), 5);
  EXPECT_THROW(connection_->set_connection_throttling_marks(1, 2), std::invalid_argument);
  EXPECT_THROW(connection_->set_connection_throttling_marks(1, 0), std::invalid_argument);
}

TEST_F(Throttling, TheManagersMarksApplyToItsOpenConnectionsToo) {
  start(INT_MAX, INT_MAX);  // connection_ is open before the marks are set
  server_->set_connection_throttling_marks(2, 1);
  EXPECT_EQ(connection_->connection_throttling_high_mark(), 2);
  EXPECT_EQ(connection_->connection_throttling_low_mark(), 1);
  send_requests(4);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  test::settle(io_);
  EXPECT_EQ(taken_.size(), 2u) << "read past the manager's high mark";
  EXPECT_TRUE(connection_->is_connection_throttled());
}

TEST_F(Throttling, MessageThrottlingAnswers503AboveTheHighMarkUntilTheLowMark) {
  start_with_message_throttling(3, 1);
  send_requests(5);
  ASSERT_TRUE(run_until(io_, [&] { return client_->message_count() == 2; }));
  test::settle(io_);
  EXPECT_EQ(taken_.size(), 3u);
  EXPECT_EQ(statuses(), (std::vector<int>{503, 503}));
  // A 503 without Retry-After is a 500 to the client (RFC 3261 21.5.4).
  EXPECT_EQ(client_->wire().messages[0].header("Retry-After"), "5");
  EXPECT_EQ(server_->current_message_throttling_count(), 3);
  EXPECT_EQ(server_->counters().requests_refused_message_throttling, 2u);
  EXPECT_FALSE(connection_->is_connection_throttled()) << "the connection itself still reads";

  answer_oldest();  // 2 waiting: above the low mark, still refusing
  send_requests(1);
  ASSERT_TRUE(run_until(io_, [&] { return client_->message_count() == 4; }));
  EXPECT_EQ(statuses().back(), 503);
  EXPECT_EQ(taken_.size(), 2u);

  answer_oldest();  // 1 waiting: the low mark; requests reach the application again
  send_requests(2);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 3; }));
  test::settle(io_);
  EXPECT_EQ(server_->current_message_throttling_count(), 3);
  EXPECT_EQ(server_->counters().requests_refused_message_throttling, 3u);
}

TEST_F(Throttling, MessageThrottlingMarksCanChangeAndAreValidated) {
  start(INT_MAX, INT_MAX);
  EXPECT_EQ(server_->message_throttling_high_mark(), INT_MAX);
  server_->set_message_throttling_marks(1, 1);
  send_requests(3);
  ASSERT_TRUE(run_until(io_, [&] { return client_->message_count() == 2; }));
  EXPECT_EQ(taken_.size(), 1u);
  server_->set_message_throttling_marks(10, 5);  // at or below the new low mark: open again
  EXPECT_EQ(server_->message_throttling_high_mark(), 10);
  EXPECT_EQ(server_->message_throttling_low_mark(), 5);
  send_requests(1);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  EXPECT_THROW(server_->set_message_throttling_marks(1, 2), std::invalid_argument);
  EXPECT_THROW(server_->set_message_throttling_marks(0, 0), std::invalid_argument);
  EXPECT_EQ(server_->message_throttling_high_mark(), 10);
}

TEST_F(Throttling, CancelsPassMessageThrottling) {
  start_with_message_throttling(1, 1);
  send_requests(1);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 1; }));
  client_->send(test::make_request("CANCEL"));  // it belongs to a request already taken
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  EXPECT_EQ(taken_.back().message().method(), "CANCEL");
  EXPECT_EQ(server_->counters().requests_refused_message_throttling, 0u);
  EXPECT_EQ(server_->current_message_throttling_count(), 2) << "a CANCEL is answered too";
  answer_oldest();
  answer_oldest();
  EXPECT_EQ(server_->current_message_throttling_count(), 0);
}

TEST_F(Throttling, TheAckOfAnInviteRefused503NeverReachesTheApplication) {
  start_with_message_throttling(1, 1);
  send_requests(1);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 1; }));
  const auto invite = test::make_request("INVITE");
  client_->send(invite);
  ASSERT_TRUE(run_until(io_, [&] { return client_->message_count() == 1; }));
  ASSERT_EQ(statuses(), (std::vector<int>{503}));
  // An ACK with the same Call-ID and CSeq number but another branch is another transaction's
  // (a fork's): it is the application's.
  auto other = test::make_ack(invite, client_->wire().messages[0]);
  other.set_header("Via", "SIP/2.0/TCP client.invalid;branch=z9hG4bK-another-fork");
  client_->send(other);
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  EXPECT_EQ(taken_.back().message().method(), "ACK");
  // The ACK for that 503: same branch, Call-ID and CSeq number (RFC 3261 17.1.1.3).
  client_->send(test::make_ack(invite, client_->wire().messages[0]));
  send_requests(1);  // answered 503 too (still throttled): proves the ACK was read before it
  ASSERT_TRUE(run_until(io_, [&] { return client_->message_count() == 2; }));
  test::settle(io_);
  EXPECT_EQ(taken_.size(), 2u) << "the ACK reached the application";
}

TEST_F(Throttling, AcksPassMessageThrottling) {
  start_with_message_throttling(1, 1);
  client_->send(test::make_request("INVITE").to_string() + test::make_request("ACK").to_string());
  ASSERT_TRUE(run_until(io_, [&] { return taken_.size() == 2; }));
  EXPECT_EQ(taken_.back().message().method(), "ACK");
  EXPECT_EQ(server_->current_message_throttling_count(), 1) << "an ACK is no transaction";
}

}  // namespace
}  // namespace rtconn
