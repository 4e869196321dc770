// The response handler: what no async_request takes (an INVITE's responses, provisional ones,
// strays) reaches the application, on the connection it came on and in the order the
// connection's messages came, so a SIP stack above can run an INVITE transaction itself.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class ResponseHandler : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    make_client();
    // One connection, which every message goes on (a pool below its cap opens another).
    client->set_default_maximum_number_of_connections_per_pool(1);
  }

  /// The client hands every response out to `handed` (and its connection to `came_on`).
  void take_responses() {
    client->set_response_handler(
        [this](SipMessage& response, const std::shared_ptr<RealTimeConnection>& connection) {
          handed.push_back(std::move(response));
          came_on.push_back(connection);
        });
  }

  std::shared_ptr<RealTimeConnection> outgoing() const {
    return client->connection_pool(server_key())->connections().at(0);
  }

  std::vector<SipMessage> handed;
  std::vector<std::shared_ptr<RealTimeConnection>> came_on;
};

// RFC 3261 13.2.2 / 17.1.1: the INVITE goes with async_send, its 100, 180 and 200 come back to
// the response handler in order, on the INVITE's connection; the 2xx's ACK goes as a request of
// its own; the BYE is a non-INVITE transaction async_request runs.
TEST_F(ResponseHandler, AnInviteSentWithAsyncSendHasItsResponsesHandedOutInOrder) {
  server->set_request_handler([this](IncomingRequest& request) {
    served.push_back(request.message());
    if (request.message().method() == "INVITE") {
      request.respond(100);
      request.respond(180);
      request.respond(200);
    } else if (request.message().method() != "ACK") {
      request.respond(200);
    }
    return true;
  });
  take_responses();
  const auto invite = make_request("INVITE");
  ASSERT_FALSE(send_and_wait(invite));
  ASSERT_TRUE(run_until(io, [&] { return handed.size() == 3; }));
  EXPECT_EQ(handed[0].status_code(), 100);
  EXPECT_EQ(handed[1].status_code(), 180);
  EXPECT_EQ(handed[2].status_code(), 200);
  for (std::size_t i = 0; i < handed.size(); ++i) {
    EXPECT_EQ(handed[i].header("Call-ID"), invite.header("Call-ID"));
    EXPECT_EQ(came_on[i], outgoing()) << "response " << i;
  }

  auto ack = make_ack(invite, handed[2]);
  ack.set_header("Via", "SIP/2.0/TCP client.invalid;branch=z9hG4bK" + unique_token("ack"));
  ASSERT_FALSE(send_and_wait(ack));
  auto bye = make_request("BYE");
  for (const auto* name : {"From", "Call-ID"}) {
    bye.set_header(name, std::string(*invite.header(name)));
  }
  bye.set_header("To", std::string(*handed[2].header("To")));
  bye.set_header("CSeq", "2 BYE");
  const auto answer = request_and_wait(std::move(bye));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);

  ASSERT_EQ(served.size(), 3u);
  EXPECT_EQ(served[1].method(), "ACK");
  EXPECT_EQ(served[2].method(), "BYE");
  EXPECT_EQ(handed.size(), 3u) << "the BYE's 200 completed its async_request only";
}

TEST_F(ResponseHandler, AFailureToAnInviteIsAckedOnTheConnectionItCameOn) {
  server->set_request_handler([this](IncomingRequest& request) {
    served.push_back(request.message());
    if (request.message().method() == "INVITE") request.respond(486);
    return true;
  });
  const auto invite = make_request("INVITE");
  const auto acked = make_record();
  client->set_response_handler(
      [&](SipMessage& response, const std::shared_ptr<RealTimeConnection>& connection) {
        handed.push_back(response);
        connection->async_send(make_ack(invite, response), record(acked));
      });
  ASSERT_FALSE(send_and_wait(invite));
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 2; }));
  EXPECT_FALSE(acked->ec);
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0].status_code(), 486);
  EXPECT_EQ(served[1].method(), "ACK");
  EXPECT_EQ(served[1].top_via_branch(), invite.top_via_branch())
      << "a non-2xx's ACK belongs to the INVITE's transaction";
}

TEST_F(ResponseHandler, AProvisionalResponseToAnAsyncRequestIsHandedOutAndTheFinalCompletesIt) {
  server->set_request_handler([](IncomingRequest& request) {
    request.respond(100);
    request.respond(202);
    return true;
  });
  take_responses();
  const auto answer = request_and_wait(make_request("MESSAGE"));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 202);
  settle(io);
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0].status_code(), 100);
}

// The response and the request after it on one connection reach the application in that order,
// on a connection that also carries async_request's requests (whose table a response is
// matched against before it is handed out).
TEST_F(ResponseHandler, AResponseIsHandedOutBeforeARequestThatCameAfterIt) {
  server->set_request_handler([](IncomingRequest& request) {
    if (request.message().method() == "INVITE") {
      const auto connection = request.connection();
      request.respond(200);
      auto bye = make_request("BYE");
      bye.set_header("Call-ID", std::string(*request.message().header("Call-ID")));
      connection->async_send(std::move(bye), [](std::error_code) {});
    } else {
      request.respond(200);
    }
    return true;
  });
  std::vector<std::string> seen;
  client->set_response_handler(
      [&](SipMessage& response, const std::shared_ptr<RealTimeConnection>&) {
        seen.push_back("response " + std::to_string(response.status_code()));
      });
  client->set_request_handler([&](IncomingRequest& request) {
    seen.push_back("request " + std::string(request.message().method()));
    request.respond(200);
    return true;
  });
  ASSERT_FALSE(request_and_wait(make_request("OPTIONS")).ec);
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return seen.size() == 2; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"response 200", "request BYE"}));
}

TEST_F(ResponseHandler, AHandlerThatThrowsLeavesTheConnectionReading) {
  answer_everything();
  int calls = 0;
  client->set_response_handler([&](SipMessage&, const std::shared_ptr<RealTimeConnection>&) {
    if (++calls == 1) throw std::runtime_error("an application's handler threw");
  });
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return calls == 1; }));
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return calls == 2; }));
  EXPECT_TRUE(outgoing()->is_connected());
}

TEST_F(ResponseHandler, WithoutOneAResponseNothingTakesIsDroppedAndTheConnectionGoesOn) {
  answer_everything();
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return outgoing()->counters().messages_received == 1; }));
  const auto answer = request_and_wait(make_request("OPTIONS"));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);
  EXPECT_EQ(client->connection_pool(server_key())->connections().size(), 1u);
}

TEST_F(ResponseHandler, RemovingTheHandlerStopsTheHandingOut) {
  answer_everything();
  take_responses();
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return handed.size() == 1; }));
  client->set_response_handler({});
  ASSERT_FALSE(send_and_wait(make_request("INVITE")));
  ASSERT_TRUE(run_until(io, [&] { return outgoing()->counters().messages_received == 2; }));
  settle(io);
  EXPECT_EQ(handed.size(), 1u);
}

}  // namespace
}  // namespace rtconn::test
