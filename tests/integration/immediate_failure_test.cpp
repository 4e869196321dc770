// An operation that fails before it starts (no route, a request async_request cannot wait for,
// a send a closed connection refuses) completes in a handler of its own, never inside the call
// that started it, even when that call is made on the executor its handler runs on: a caller that
// starts the next operation from the handler would otherwise recurse (`rtconn ping --count 200000`
// against a TLS context that could not be made overflowed its stack).

#include <gtest/gtest.h>

#include <asio/post.hpp>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class ImmediateFailure : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    make_client();
  }

  /// Runs `start(returned, completed)` in a handler on the managers' io_context; checks that
  /// the completion ran once, after `start` returned.
  template <class Start>
  void completes_after_returning(Start start) {
    bool returned = false;
    bool completed_inside = false;
    int completions = 0;
    asio::post(io, [&] {
      start([&] {
        ++completions;
        completed_inside = !returned;
      });
      returned = true;
    });
    ASSERT_TRUE(run_until(io, [&] { return completions > 0; }));
    settle(io);
    EXPECT_EQ(completions, 1);
    EXPECT_FALSE(completed_inside) << "the handler ran inside the call that started it";
  }

  /// An async_request handler that expects `expected`, then calls `done`.
  template <class Done>
  static auto failing_with(errc expected, Done done) {
    return [expected, done](std::error_code ec, SipMessage) mutable {
      EXPECT_EQ(ec, expected) << ec.message();
      done();
    };
  }
};

TEST_F(ImmediateFailure, ARequestAsyncRequestCannotWaitFor) {
  completes_after_returning([&](auto done) {
    client->async_request(server_key(), make_request("INVITE"),
                          failing_with(errc::invalid_argument, done));
  });
}

TEST_F(ImmediateFailure, ARequestOnNoConnection) {
  completes_after_returning([&](auto done) {
    client->async_request(std::shared_ptr<RealTimeConnection>{}, make_request("OPTIONS"),
                          failing_with(errc::invalid_argument, done));
  });
}

TEST_F(ImmediateFailure, ASendThroughAStoppedManager) {
  client->stop();
  completes_after_returning([&](auto done) {
    client->async_send(server_key(), make_request("OPTIONS"), [done](std::error_code ec) mutable {
      EXPECT_EQ(ec, errc::shutdown);
      done();
    });
  });
  completes_after_returning([&](auto done) {
    client->async_request(server_key(), make_request("OPTIONS"),
                          failing_with(errc::shutdown, done));
  });
}

TEST_F(ImmediateFailure, ASendThroughAPoolOfAStoppedManager) {
  const auto pool = client->connection_pool(server_key());
  client->stop();
  completes_after_returning([&](auto done) {
    pool->async_send(make_request("OPTIONS"), [done](std::error_code ec) mutable {
      EXPECT_TRUE(ec);
      done();
    });
  });
}

// A send on a closed connection made from that connection's own strand (its request handler):
// the connection takes it inline, and its refusal must still come after the call.
TEST_F(ImmediateFailure, ASendOnAClosedConnectionFromItsOwnStrand) {
  bool returned = false;
  bool completed_inside = false;
  int completions = 0;
  server->set_request_handler([&](IncomingRequest& request) {
    const auto connection = request.connection();
    connection->disconnect();
    connection->async_send(make_request("OPTIONS"), [&](std::error_code ec) {
      EXPECT_EQ(ec, condition::connection_lost) << ec.message();
      ++completions;
      completed_inside = !returned;
    });
    returned = true;
    return true;
  });
  client->async_send(server_key(), make_request("OPTIONS"), [](std::error_code) {});
  ASSERT_TRUE(run_until(io, [&] { return completions > 0; }));
  EXPECT_FALSE(completed_inside) << "the handler ran inside the async_send that started it";
}

}  // namespace
}  // namespace rtconn::test
