// What a server manager does with bytes that are not (quite) SIP, seen from a raw TCP peer:
// keep-alives are answered, recoverable mistakes are answered and the connection kept, and a
// stream that cannot be framed any more is answered (400, or 513 for a header section over the
// limit) and closed.

#include <gtest/gtest.h>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class BadInput : public Loopback {
 protected:
  std::vector<ConnectionEventArgs> removed;
  std::optional<Subscription> removed_sub;

  void SetUp() override { start(ConnectionManagerOptions{}); }

  void start(ConnectionManagerOptions options) {
    server.reset();
    start_server(options);
    answer_everything();
    removed_sub.emplace(server->incoming_connection_removed.subscribe(
        [this](const ConnectionEventArgs& e) { removed.push_back(e); }));
  }

  // A 1 KiB header section and a 2 KiB message at most: a 10,000-byte body is over.
  void start_with_small_limits() {
    ConnectionManagerOptions o;
    o.max_header_bytes = 1024;
    o.max_message_bytes = 2048;
    start(o);
  }

  std::shared_ptr<RealTimeConnection> incoming() {
    EXPECT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
    const auto all = server->incoming_connections();
    return all.empty() ? nullptr : all[0];
  }

  // Sends a valid OPTIONS and expects a 200 as the next message: proof the connection still
  // works and nothing else was answered in between.
  void expect_still_usable(RawClient& raw) {
    const auto before = raw.message_count();
    raw.send(make_request("OPTIONS"));
    ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == before + 1; }))
        << "no answer; received: " << raw.received();
    EXPECT_EQ(raw.wire().messages.back().status_code(), 200);
    EXPECT_FALSE(raw.peer_closed());
  }
};

// A request whose header section is written by hand, so it can be broken in chosen ways.
std::string raw_request(std::string_view extra_headers, std::string_view body = {},
                        bool with_length = true) {
  std::string m = "OPTIONS sip:test@127.0.0.1 SIP/2.0\r\n";
  m += "Via: SIP/2.0/TCP client.invalid;branch=z9hG4bK" + unique_token("raw") + "\r\n";
  m += "From: <sip:tester@client.invalid>;tag=1\r\n";
  m += "To: <sip:test@127.0.0.1>\r\n";
  m += "CSeq: 1 OPTIONS\r\n";
  m += extra_headers;
  if (with_length) m += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  m += "\r\n";
  m += body;
  return m;
}

TEST_F(BadInput, KeepAlivePingGetsAPong) {
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  raw.send("\r\n\r\n");
  ASSERT_TRUE(run_until(io, [&] { return raw.received() == "\r\n"; })) << raw.received();
  settle(io);
  EXPECT_EQ(raw.received(), "\r\n") << "exactly one CRLF";
  EXPECT_EQ(connection->counters().keep_alives_received, 1u);
  EXPECT_EQ(connection->counters().messages_received, 0u);
  expect_still_usable(raw);
}

TEST_F(BadInput, PingsBetweenMessagesAreAnsweredInOrder) {
  RawClient raw(io, server_address());
  raw.send(make_request("OPTIONS").to_string() + "\r\n\r\n" + make_request("OPTIONS").to_string());
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 2; }));
  const auto wire = raw.wire();
  EXPECT_EQ(wire.crlfs, 1u);
  EXPECT_FALSE(wire.trailing_junk);
}

TEST_F(BadInput, OversizeMessageIsAnswered413AndTheConnectionStays) {
  start_with_small_limits();
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  raw.send(raw_request("Call-ID: big@client.invalid\r\nContent-Type: text/plain\r\n",
                       std::string(10000, 'x')));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; })) << raw.received();
  const auto answer = raw.wire().messages[0];
  EXPECT_EQ(answer.status_code(), 413);
  EXPECT_EQ(answer.header("Call-ID"), "big@client.invalid");
  EXPECT_TRUE(answer.has_to_tag()) << "RFC 3261 8.2.6.2: a final response carries a To tag";
  EXPECT_EQ(connection->counters().bad_messages_received, 1u);
  EXPECT_TRUE(served.empty()) << "the oversize request reached the application";

  expect_still_usable(raw);  // the body was skipped, framing kept
  EXPECT_EQ(served.size(), 1u);
  EXPECT_TRUE(connection->is_connected());
}

TEST_F(BadInput, TheAckOfAnInviteRefused413NeverReachesTheApplication) {
  start_with_small_limits();
  RawClient raw(io, server_address());
  auto invite = make_request("INVITE");
  invite.set_body(std::string(10000, 'x'), "application/sdp");
  raw.send(invite);
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; })) << raw.received();
  ASSERT_EQ(raw.wire().messages[0].status_code(), 413);
  raw.send(make_ack(invite, raw.wire().messages[0]));
  expect_still_usable(raw);  // answered after the ACK was read
  ASSERT_EQ(served.size(), 1u) << "the ACK reached the application";
  EXPECT_EQ(served[0].method(), "OPTIONS");
}

TEST_F(BadInput, MissingContentLengthIsAnswered400AndTheConnectionCloses) {
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  raw.send(raw_request("Call-ID: nolength@client.invalid\r\n", {}, false));
  ASSERT_TRUE(run_until(io, [&] { return raw.peer_closed(); })) << raw.received();
  const auto wire = raw.wire();
  ASSERT_EQ(wire.messages.size(), 1u) << raw.received();
  EXPECT_EQ(wire.messages[0].status_code(), 400);
  EXPECT_EQ(wire.messages[0].header("Call-ID"), "nolength@client.invalid");
  EXPECT_TRUE(wire.messages[0].has_to_tag());
  ASSERT_TRUE(run_until(io, [&] { return removed.size() == 1; }));
  EXPECT_EQ(removed[0].reason, errc::framing_lost);
  EXPECT_EQ(removed[0].reason, condition::connection_lost);
  EXPECT_TRUE(served.empty());
}

TEST_F(BadInput, ConflictingContentLengthsCloseTheConnection) {
  RawClient raw(io, server_address());
  raw.send(raw_request("Call-ID: twice@client.invalid\r\nContent-Length: 5\r\n", "abc"));
  ASSERT_TRUE(run_until(io, [&] { return raw.peer_closed(); }));
  ASSERT_EQ(raw.wire().messages.size(), 1u);
  EXPECT_EQ(raw.wire().messages[0].status_code(), 400);
}

TEST_F(BadInput, GarbageStartLineWithValidLengthIsDroppedAndTheConnectionStays) {
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  raw.send("THIS IS NOT SIP AT ALL\r\nContent-Length: 4\r\n\r\nabcd");
  expect_still_usable(raw);  // the 200 is the first and only message: nothing for the garbage
  EXPECT_EQ(raw.wire().messages.size(), 1u);
  EXPECT_EQ(connection->counters().bad_messages_received, 1u);
  EXPECT_EQ(served.size(), 1u);
}

TEST_F(BadInput, RequestWithoutCallIdIsAnswered400AndTheConnectionStays) {
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  raw.send(raw_request(""));  // every required header but Call-ID
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; })) << raw.received();
  const auto answer = raw.wire().messages[0];
  EXPECT_EQ(answer.status_code(), 400);
  EXPECT_EQ(answer.cseq()->method, "OPTIONS");
  EXPECT_TRUE(answer.has_to_tag());
  EXPECT_TRUE(served.empty());
  expect_still_usable(raw);
  EXPECT_TRUE(connection->is_connected());
}

TEST_F(BadInput, StrayResponseIsDroppedAndTheConnectionStays) {
  RawClient raw(io, server_address());
  auto stray = SipMessage::response_to(make_request("OPTIONS"), 200, {}, "x");
  raw.send(stray);
  expect_still_usable(raw);
  EXPECT_EQ(raw.wire().messages.size(), 1u);
}

TEST_F(BadInput, ARequestThatDoesNotParseIsStillAnswered400AndTheConnectionStays) {
  // A header name that is not a token: without an answer a peer waits out its 32 s time-out.
  RawClient raw(io, server_address());
  raw.send(raw_request("Call-ID: bad-name@client.invalid\r\nMax Forwards: 70\r\n"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  const auto answer = raw.wire().messages[0];
  EXPECT_EQ(answer.status_code(), 400);
  EXPECT_EQ(answer.header("Call-ID"), "bad-name@client.invalid");
  EXPECT_TRUE(served.empty());
  expect_still_usable(raw);
}

TEST_F(BadInput, AnotherSipVersionIsAnswered505) {
  RawClient raw(io, server_address());
  auto request = raw_request("Call-ID: v3@client.invalid\r\n");
  request.replace(request.find("SIP/2.0\r\n"), 7, "SIP/3.0");  // the request line's
  raw.send(request);
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  EXPECT_EQ(raw.wire().messages[0].status_code(), 505);  // RFC 3261 8.2.1
  EXPECT_TRUE(served.empty());
}

TEST_F(BadInput, AHeaderSectionOverTheLimitIsAnswered513AndTheConnectionCloses) {
  ConnectionManagerOptions o;
  o.max_header_bytes = 1024;
  start(o);
  RawClient raw(io, server_address());
  // Whole in one write, so the framer sees where it ends (else it cannot tell whom to answer;
  // the framer's unit tests cover a section over the limit whose end never comes).
  raw.send(
      raw_request("Call-ID: big@client.invalid\r\nX-Padding: " + std::string(1100, 'p') + "\r\n"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  EXPECT_EQ(raw.wire().messages[0].status_code(), 513);  // RFC 3261 21.5.14
  ASSERT_TRUE(run_until(io, [&] { return raw.peer_closed(); }));
  ASSERT_TRUE(run_until(io, [&] { return removed.size() == 1; }));
  EXPECT_EQ(removed[0].reason, errc::framing_lost);
  EXPECT_TRUE(served.empty());
}

// UCMA's MaxHeaderNameLength, MaxHeaderValueLength and MaxParameterCount, per manager: a request
// over one is refused with a reason that names it, never dispatched, and the connection kept;
// one exactly at each limit is served.
TEST_F(BadInput, HeaderPartsOverTheirLimitsAreAnswered400AndTheConnectionStays) {
  ConnectionManagerOptions o;
  o.max_header_name_bytes = 20;
  o.max_header_value_bytes = 100;
  o.max_parameter_count = 4;
  start(o);
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  const std::string four_params = "<sip:a;lr;x>;tag=1;y";
  const std::string call_id = "Call-ID: over@client.invalid\r\n";
  auto uri_over = raw_request(call_id);
  uri_over.replace(uri_over.find("sip:test@127.0.0.1 "), 18, "sip:test@127.0.0.1;a;b;c;d;e");
  const std::pair<std::string, std::string_view> over[] = {
      {raw_request(call_id + std::string(21, 'N') + ": v\r\n"), "Header Name Too Long"},
      {raw_request(call_id + "X-Long: " + std::string(101, 'v') + "\r\n"), "Header Value Too Long"},
      {raw_request(call_id + "Route: " + four_params + ";z\r\n"), "Too Many Parameters"},
      {uri_over, "Too Many Parameters"},
  };
  std::size_t answered = 0;
  for (const auto& [request, reason] : over) {
    raw.send(request);
    ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == answered + 1; }))
        << raw.received();
    const auto answer = raw.wire().messages[answered++];
    EXPECT_EQ(answer.status_code(), 400) << reason;
    EXPECT_EQ(answer.reason_phrase(), reason);
    EXPECT_EQ(answer.header("Call-ID"), "over@client.invalid");
  }
  EXPECT_TRUE(served.empty()) << "a request over a limit reached the application";
  EXPECT_EQ(connection->counters().bad_messages_received, 4u);

  // At the limits, and four ';' inside a quoted display name that are no parameters.
  raw.send(raw_request("Call-ID: at@client.invalid\r\n" + std::string(20, 'N') + ": v\r\n" +
                       "X-Long: " + std::string(100, 'v') + "\r\n" + "Route: " + four_params +
                       "\r\n" + "Contact: \"a;b;c;d;e\" <sip:c;lr>\r\n"));
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 1; })) << raw.received();
  EXPECT_EQ(served[0].header("Call-ID"), "at@client.invalid");
  expect_still_usable(raw);
}

// UCMA's MaxMessageBodyLength: within max_message_bytes, a body over its own limit is refused
// as one over the message's, unread.
TEST_F(BadInput, ABodyOverItsLimitIsAnswered413AndTheConnectionStays) {
  ConnectionManagerOptions o;
  o.max_body_bytes = 100;
  start(o);
  RawClient raw(io, server_address());
  raw.send(raw_request("Call-ID: body@client.invalid\r\nContent-Type: text/plain\r\n",
                       std::string(101, 'x')));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; })) << raw.received();
  EXPECT_EQ(raw.wire().messages[0].status_code(), 413);
  EXPECT_TRUE(served.empty());
  expect_still_usable(raw);
  raw.send(raw_request("Call-ID: body100@client.invalid\r\nContent-Type: text/plain\r\n",
                       std::string(100, 'x')));
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 2; })) << raw.received();
  EXPECT_EQ(served[1].body().size(), 100u);
}

// A response over a limit is not handed on: the request it answers fails at once with the
// reason, rather than waiting out its time-out (an hour here), and the connection stays.
class ResponseOverALimit : public BadInput {
 protected:
  // A request from a client made with `limits`, answered 200 with an X-Long header of
  // `value_bytes` and a body of `body_bytes`; what it completed with.
  std::error_code outcome(ConnectionManagerOptions limits, std::size_t value_bytes,
                          std::size_t body_bytes) {
    server->set_request_handler([=](IncomingRequest& request) {
      auto response = request.make_response(200);
      response.add_header("X-Long", std::string(value_bytes, 'v'));
      response.set_body(std::string(body_bytes, 'b'), "text/plain");
      request.async_respond(std::move(response), [](std::error_code) {});
      return true;
    });
    limits.request_timeout = std::chrono::hours(1);
    make_client(limits);
    const auto answer = request_and_wait(make_request("OPTIONS"));
    const auto connection = client->connection_pool(server_key())->connections().at(0);
    EXPECT_TRUE(connection->is_connected()) << "the response was framed whole: nothing to close";
    EXPECT_EQ(connection->counters().bad_messages_received, 1u);
    return answer.ec;
  }
};

TEST_F(ResponseOverALimit, AHeaderValueFailsItsRequest) {
  ConnectionManagerOptions o;
  o.max_header_value_bytes = 100;
  const auto ec = outcome(o, 101, 0);
  EXPECT_EQ(ec, errc::header_limit_exceeded);
  EXPECT_EQ(ec, condition::bad_message);
}

TEST_F(ResponseOverALimit, ABodyFailsItsRequest) {
  ConnectionManagerOptions o;
  o.max_body_bytes = 100;
  EXPECT_EQ(outcome(o, 1, 101), errc::message_too_large);
}

TEST_F(BadInput, MessageArrivingOneByteAtATimeIsStillAnswered) {
  RawClient raw(io, server_address());
  const auto connection = incoming();
  ASSERT_TRUE(connection);
  const auto bytes = make_request("OPTIONS").to_string() + "\r\n\r\n";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    raw.send(std::string_view(bytes).substr(i, 1));
    // Let the server read this byte on its own before the next one goes.
    ASSERT_TRUE(run_until(io, [&] { return connection->counters().bytes_received == i + 1; }))
        << "byte " << i;
  }
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1 && raw.wire().crlfs == 1; }))
      << raw.received();
  EXPECT_EQ(raw.wire().messages[0].status_code(), 200);
  EXPECT_EQ(served.size(), 1u);
  EXPECT_EQ(connection->counters().keep_alives_received, 1u);
}

TEST_F(BadInput, ManyMessagesInOneWriteAreAllAnswered) {
  RawClient raw(io, server_address());
  std::string burst;
  for (int i = 0; i < 50; ++i) burst += make_request("OPTIONS").to_string();
  raw.send(burst);
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 50; }));
  EXPECT_EQ(served.size(), 50u);
}

}  // namespace
}  // namespace rtconn::test
