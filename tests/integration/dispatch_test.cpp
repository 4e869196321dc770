// Dispatch of incoming requests: the handler may take a request and answer it (now or later,
// from anywhere); what nobody takes is answered as UCMA does (481 in a dialog, 500 otherwise);
// ACK is never answered; responses go back on the connection the request came in on.

#include <gtest/gtest.h>

#include <thread>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class Dispatch : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    make_client();
  }
};

TEST_F(Dispatch, HandlerThatTakesTheRequestAnswersItOnTheSameConnection) {
  std::shared_ptr<RealTimeConnection> came_in_on;
  server->set_request_handler([&](IncomingRequest& request) {
    came_in_on = request.connection();
    auto response = request.make_response(200);
    response.add_header("X-Answered-By", "handler");
    request.async_respond(std::move(response), [](std::error_code) {});
    return true;
  });
  auto request = make_request("OPTIONS");
  const auto call_id = std::string(*request.header("Call-ID"));
  const auto answer = request_and_wait(std::move(request));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);
  EXPECT_EQ(answer.response.header("X-Answered-By"), "handler");
  EXPECT_EQ(answer.response.header("Call-ID"), call_id);
  EXPECT_EQ(answer.response.cseq()->method, "OPTIONS");
  EXPECT_TRUE(answer.response.has_to_tag()) << "a final response carries a To tag";

  ASSERT_TRUE(came_in_on);
  EXPECT_TRUE(came_in_on->is_incoming_connection());
  const auto outgoing = client->connection_pool(server_key())->connections().at(0);
  EXPECT_EQ(came_in_on->remote_endpoint(), outgoing->local_endpoint());
  EXPECT_EQ(outgoing->counters().messages_received, 1u);
}

TEST_F(Dispatch, NoHandlerMeans500) {
  const auto answer = request_and_wait(make_request("INFO"));
  ASSERT_FALSE(answer.ec);
  EXPECT_EQ(answer.response.status_code(), 500);
  EXPECT_TRUE(answer.response.has_to_tag());
}

TEST_F(Dispatch, DeclinedOutsideADialogMeans500) {
  int seen = 0;
  server->set_request_handler([&](IncomingRequest&) {
    ++seen;
    return false;
  });
  const auto answer = request_and_wait(make_request("MESSAGE"));
  ASSERT_FALSE(answer.ec);
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(answer.response.status_code(), 500);
}

TEST_F(Dispatch, DeclinedInsideADialogMeans481) {
  server->set_request_handler([](IncomingRequest&) { return false; });
  const auto answer = request_and_wait(make_request("BYE", "sip:test@127.0.0.1", "dialog-tag-1"));
  ASSERT_FALSE(answer.ec);
  EXPECT_EQ(answer.response.status_code(), 481);
  // The dialog's To tag is kept, not replaced.
  EXPECT_EQ(header_parameter(*answer.response.header("To"), "tag"), "dialog-tag-1");
}

TEST_F(Dispatch, NoHandlerInsideADialogMeans481) {
  const auto answer = request_and_wait(make_request("INFO", "sip:test@127.0.0.1", "t9"));
  ASSERT_FALSE(answer.ec);
  EXPECT_EQ(answer.response.status_code(), 481);
}

TEST_F(Dispatch, ACancelNothingTakesIs481) {
  // RFC 3261 9.2: a CANCEL matching no transaction is answered 481, though it has no To tag.
  const auto answer = request_and_wait(make_request("CANCEL"));
  ASSERT_FALSE(answer.ec);
  EXPECT_EQ(answer.response.status_code(), 481);
}

TEST_F(Dispatch, RemovingTheHandlerRestoresTheDefaultAnswer) {
  answer_everything();
  EXPECT_EQ(request_and_wait(make_request("OPTIONS")).response.status_code(), 200);
  server->set_request_handler({});
  EXPECT_EQ(request_and_wait(make_request("OPTIONS")).response.status_code(), 500);
}

TEST_F(Dispatch, HandlerThatThrowsMeans500AndTheConnectionStays) {
  // One connection, so "stays" is about the same connection carrying the second request.
  client->connection_pool(server_key())->set_maximum_number_of_connections(1);
  int calls = 0;
  server->set_request_handler([&](IncomingRequest& request) -> bool {
    if (++calls == 1) throw std::runtime_error("handler bug");
    request.respond(200);
    return true;
  });
  EXPECT_EQ(request_and_wait(make_request("OPTIONS")).response.status_code(), 500);
  EXPECT_EQ(request_and_wait(make_request("OPTIONS")).response.status_code(), 200);
  EXPECT_EQ(server->incoming_connections().size(), 1u);
  EXPECT_EQ(client->connection_pool(server_key())->count(), 1u);
}

TEST_F(Dispatch, AckIsNeverAnswered) {
  for (const bool with_handler : {false, true}) {
    SCOPED_TRACE(with_handler ? "handler declines" : "no handler");
    if (with_handler) server->set_request_handler([](IncomingRequest&) { return false; });
    RawClient raw(io, server_address());
    raw.send(make_request("ACK", "sip:test@127.0.0.1", "dialog-tag"));
    raw.send(make_request("OPTIONS"));
    ASSERT_TRUE(run_until(io, [&] { return raw.message_count() >= 1; }));
    settle(io);
    const auto wire = raw.wire();
    ASSERT_EQ(wire.messages.size(), 1u) << raw.received();
    EXPECT_EQ(wire.messages[0].cseq()->method, "OPTIONS");
    EXPECT_EQ(wire.messages[0].status_code(), 500);
  }
}

TEST_F(Dispatch, TheAckOfADeclinedInviteNeverReachesTheHandler) {
  // The 500 was the stack's; so is the transaction its ACK belongs to (RFC 3261 17.2.1).
  std::vector<std::string> seen;
  server->set_request_handler([&](IncomingRequest& request) {
    seen.emplace_back(request.message().method());
    return false;
  });
  RawClient raw(io, server_address());
  const auto invite = make_request("INVITE");
  raw.send(invite);
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  ASSERT_EQ(raw.wire().messages[0].status_code(), 500);
  raw.send(make_ack(invite, raw.wire().messages[0]));
  raw.send(make_request("OPTIONS"));  // answered after the ACK was read
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 2; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"INVITE", "OPTIONS"}));
}

TEST_F(Dispatch, ResponseGoesBackOnTheConnectionTheRequestCameInOn) {
  keep_requests();
  RawClient a(io, server_address());
  RawClient b(io, server_address());
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 2; }));
  a.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
  EXPECT_EQ(kept->connection()->remote_endpoint(), a.local_endpoint());

  kept->respond(200);
  ASSERT_TRUE(run_until(io, [&] { return a.message_count() == 1; }));
  settle(io);
  EXPECT_EQ(a.wire().messages[0].status_code(), 200);
  EXPECT_TRUE(b.received().empty()) << "the response went to the wrong connection";
}

TEST_F(Dispatch, TakenRequestCanBeAnsweredLaterFromAnotherThread) {
  keep_requests();
  const auto answer = make_record();
  client->async_request(server_key(), make_request("OPTIONS"), record_response(answer));
  ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
  const auto sent = make_record();
  std::thread answerer(
      [&] { kept->async_respond(kept->make_response(202, "Accepted Later"), record(sent)); });
  answerer.join();
  ASSERT_TRUE(run_until(io, [&] { return answer->calls > 0 && sent->calls > 0; }));
  EXPECT_FALSE(sent->ec);
  ASSERT_FALSE(answer->ec);
  EXPECT_EQ(answer->response.status_code(), 202);
  EXPECT_EQ(answer->response.reason_phrase(), "Accepted Later");
}

TEST_F(Dispatch, ProvisionalResponsesAreSkippedAndOneToTagIsUsedThroughout) {
  server->set_request_handler([&](IncomingRequest& request) {
    request.respond(100);
    request.respond(180);
    request.respond(200);
    return true;
  });
  RawClient raw(io, server_address());
  raw.send(make_request("INVITE"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 3; }));
  const auto wire = raw.wire();
  EXPECT_EQ(wire.messages[0].status_code(), 100);
  EXPECT_EQ(wire.messages[1].status_code(), 180);
  EXPECT_EQ(wire.messages[2].status_code(), 200);
  EXPECT_FALSE(wire.messages[0].has_to_tag()) << "100 Trying creates no dialog";
  EXPECT_EQ(header_parameter(*wire.messages[1].header("To"), "tag"),
            header_parameter(*wire.messages[2].header("To"), "tag"));

  const auto answer = request_and_wait(make_request("MESSAGE"));
  ASSERT_FALSE(answer.ec);
  EXPECT_EQ(answer.response.status_code(), 200) << "async_request completes on the final response";
}

TEST_F(Dispatch, AsyncRequestRefusesInviteAndAck) {
  // An INVITE transaction needs timer C and an ACK for a failure (the SIP stack's, not this
  // layer's); an ACK has no response to wait for.
  answer_everything();
  for (const char* method : {"INVITE", "ACK"}) {
    const auto answer = request_and_wait(make_request(method));
    EXPECT_EQ(answer.ec, errc::invalid_argument) << method;
  }
  settle(io);
  EXPECT_TRUE(served.empty());
}

TEST_F(Dispatch, AsyncRequestAddsAViaWhenThereIsNone) {
  answer_everything();
  auto request = make_request("OPTIONS");
  request.remove_header("Via");
  const auto answer = request_and_wait(std::move(request));
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);
  ASSERT_EQ(served.size(), 1u);
  const auto via = served[0].header("Via");
  ASSERT_TRUE(via);
  EXPECT_TRUE(via->starts_with("SIP/2.0/TCP ")) << *via;
  ASSERT_TRUE(served[0].top_via_branch());
  EXPECT_TRUE(served[0].top_via_branch()->starts_with("z9hG4bK"));
}

TEST_F(Dispatch, AsyncRequestRefusesAViaWithoutBranch) {
  answer_everything();
  auto request = make_request("OPTIONS");
  request.set_header("Via", "SIP/2.0/TCP client.invalid");
  const auto answer = request_and_wait(std::move(request));
  EXPECT_EQ(answer.ec, errc::invalid_argument);
  settle(io);
  EXPECT_TRUE(served.empty());
}

TEST_F(Dispatch, OutstandingRequestFailsWhenItsConnectionCloses) {
  keep_requests();
  const auto outcome = make_record();
  client->async_request(server_key(), make_request("OPTIONS"), record_response(outcome));
  ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
  kept->connection()->disconnect();  // the server hangs up instead of answering
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls > 0; }));
  settle(io);
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_EQ(outcome->ec, errc::peer_closed) << outcome->ec.message();
  EXPECT_EQ(outcome->ec, condition::connection_lost);
}

TEST_F(Dispatch, ResponsesMatchTheirRequestsWhenManyAreOutstanding) {
  // Answered in reverse order: each completion must still get its own response.
  std::vector<IncomingRequest> taken;
  server->set_request_handler([&](IncomingRequest& request) {
    taken.push_back(std::move(request));
    return true;
  });
  std::vector<std::string> call_ids;
  const auto outcomes = make_records(5);
  for (int i = 0; i < 5; ++i) {
    auto request = make_request("OPTIONS");
    call_ids.emplace_back(*request.header("Call-ID"));
    client->async_request(server_key(), std::move(request), record_response(outcomes[i]));
  }
  ASSERT_TRUE(run_until(io, [&] { return taken.size() == 5; }));
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) it->respond(200);
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(outcomes[i]->ec) << outcomes[i]->ec.message();
    EXPECT_EQ(outcomes[i]->response.header("Call-ID"), call_ids[i]);
  }
}

}  // namespace
}  // namespace rtconn::test
