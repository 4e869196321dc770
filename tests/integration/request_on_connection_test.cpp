// async_request on a given connection: a callee's BYE back on the connection the INVITE came in
// on (the caller may not listen at all), a dialog's request on its caller's connection; and what
// it refuses: another manager's connection, one that closed.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class RequestOnConnection : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    make_client();
  }

  /// The server answers an INVITE 200 and keeps the connection it came in on.
  void answer_invites() {
    server->set_request_handler([this](IncomingRequest& request) {
      if (request.message().method() == "INVITE") {
        caller = request.connection();
        request.respond(200);
      }
      return true;
    });
  }

  Answer request_on(RealTimeConnectionManager& manager,
                    const std::shared_ptr<RealTimeConnection>& connection, SipMessage request) {
    const auto outcome = make_record();
    manager.async_request(connection, std::move(request), record_response(outcome));
    EXPECT_TRUE(run_until(io, [&] { return outcome->calls > 0; })) << "request never completed";
    return {outcome->ec, outcome->response};
  }

  std::shared_ptr<RealTimeConnection> caller;  // the server's side of the INVITE's connection
};

TEST_F(RequestOnConnection, ACalleeSendsItsByeBackOnTheConnectionTheInviteCameIn) {
  answer_invites();
  std::vector<SipMessage> client_got;
  client->set_request_handler([&](IncomingRequest& request) {
    client_got.push_back(request.message());
    request.respond(200);
    return true;
  });
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return caller != nullptr; }));

  auto bye = make_request("BYE");
  bye.remove_header("Via");  // the server's manager adds its own
  const auto answer = request_on(*server, caller, std::move(bye));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);
  ASSERT_EQ(client_got.size(), 1u);
  EXPECT_EQ(client_got[0].method(), "BYE");
  EXPECT_TRUE(client_got[0].header("Via")->starts_with("SIP/2.0/TCP "));
  EXPECT_TRUE(server->connection_pools().empty()) << "the callee opened no connection of its own";
  EXPECT_EQ(client->connection_pool(server_key())->connections().size(), 1u);
}

TEST_F(RequestOnConnection, AnOutgoingConnectionCarriesItToo) {
  answer_everything();
  ASSERT_FALSE(request_and_wait(make_request("OPTIONS")).ec);
  const auto connection = client->connection_pool(server_key())->connections().at(0);
  const auto answer = request_on(*client, connection, make_request("MESSAGE"));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);
  EXPECT_EQ(connection->counters().messages_sent, 2u);
}

TEST_F(RequestOnConnection, AConnectionOfAnotherManagerIsRefused) {
  answer_everything();
  ASSERT_FALSE(request_and_wait(make_request("OPTIONS")).ec);
  const auto clients = client->connection_pool(server_key())->connections().at(0);
  const auto answer = request_on(*server, clients, make_request("OPTIONS"));
  EXPECT_EQ(answer.ec, errc::invalid_argument);
  settle(io);
  EXPECT_EQ(served.size(), 1u) << "nothing was sent";
  EXPECT_EQ(request_on(*client, nullptr, make_request("OPTIONS")).ec, errc::invalid_argument);
}

TEST_F(RequestOnConnection, AClosedConnectionFailsItAtOnce) {
  answer_invites();
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return caller != nullptr; }));
  caller->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return caller->state() == ConnectionState::closed; }));
  const auto answer = request_on(*server, caller, make_request("BYE"));
  EXPECT_EQ(answer.ec, condition::connection_lost) << answer.ec.message();
}

}  // namespace
}  // namespace rtconn::test
