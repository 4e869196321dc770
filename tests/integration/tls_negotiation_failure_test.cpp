// What a TLS listener does with peers that do not speak TLS, or not well enough: it closes their
// connection, raises IncomingTlsNegotiationFailed (never IncomingConnectionAdded), and goes on
// serving TLS clients. TLS 1.0 and 1.1 are refused.
#include <gtest/gtest.h>

#include <random>

#include "rtconn/manual_clock.hpp"
#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsNegotiationFailureTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    server_ = start_localhost_server();
    local_certificate_ = server_->local_certificate();
    subscribe();
  }
  void TearDown() override {
    server_.reset();
    TlsTest::TearDown();
  }

  void subscribe() {
    server_->incoming_connection_added += [this](const ConnectionEventArgs&) { ++added_; };
  }

  IpEndpoint server_endpoint() const {
    return {asio::ip::address_v4::loopback(), server_->listening_port()};
  }

  /// A TLS client's request is answered: the listener is still serving.
  void expect_tls_client_answered() {
    auto client = make_client();
    const auto outcome = request(*client, tls_key("localhost", server_->listening_port()));
    ASSERT_FALSE(outcome->ec) << outcome->ec.message();
    EXPECT_EQ(outcome->response->status_code(), 200);
  }

  /// The one failure event that names `peer`.
  const TlsNegotiationFailedEventArgs* failure_from(const IpEndpoint& peer) const {
    const TlsNegotiationFailedEventArgs* found = nullptr;
    for (const auto& event : failures_->events) {
      if (event.remote_endpoint == peer) {
        EXPECT_EQ(found, nullptr) << "two failure events for " << peer.to_string();
        found = &event;
      }
    }
    return found;
  }

  std::unique_ptr<RealTimeServerTlsConnectionManager> server_;
  CertificateId local_certificate_;
  int added_ = 0;
};

TEST_F(TlsNegotiationFailureTest, PlaintextSipIsRefusedAndTlsClientsStillServed) {
  RawClient raw(io_, server_endpoint());
  const auto peer = raw.local_endpoint();
  raw.send(make_request("OPTIONS", "sip:localhost"));
  ASSERT_TRUE(run_until(io_, [&] { return raw.peer_closed() && !failures_->events.empty(); }));

  const auto* failure = failure_from(peer);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, make_error_code(TlsFailureReason::TlsNegotiationFailure))
      << failure->error.message();
  EXPECT_FALSE(failure->detail.empty());  // OpenSSL's words ("wrong version number")
  // Nothing in clear came back: at most a TLS alert.
  EXPECT_EQ(raw.received().find("SIP/2.0"), std::string::npos);

  expect_tls_client_answered();
  EXPECT_EQ(added_, 1);  // the TLS client only
  EXPECT_EQ(failures_->events.size(), 1u);
}

TEST_F(TlsNegotiationFailureTest, GarbageIsRefusedAndTlsClientsStillServed) {
  std::mt19937 random(20240603);  // fixed: the same bytes every run
  std::string garbage(512, '\0');
  for (auto& byte : garbage) byte = static_cast<char>(random() & 0xff);
  garbage[0] = 0x42;  // not a TLS record type, so the first record header is already wrong
  RawClient raw(io_, server_endpoint());
  const auto peer = raw.local_endpoint();
  raw.send(garbage);
  ASSERT_TRUE(run_until(io_, [&] { return raw.peer_closed() && !failures_->events.empty(); }));

  const auto* failure = failure_from(peer);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, make_error_code(TlsFailureReason::TlsNegotiationFailure))
      << failure->error.message();
  expect_tls_client_answered();
  EXPECT_EQ(added_, 1);
}

TEST_F(TlsNegotiationFailureTest, ConnectionClosedAtOnceIsRemoteDisconnected) {
  RawClient raw(io_, server_endpoint());
  const auto peer = raw.local_endpoint();
  raw.close();
  ASSERT_TRUE(wait_for_failures(1));
  const auto* failure = failure_from(peer);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, make_error_code(TlsFailureReason::RemoteDisconnected))
      << failure->error.message() << ": " << failure->detail;
  expect_tls_client_answered();
  EXPECT_EQ(added_, 1);
}

TEST_F(TlsNegotiationFailureTest, ConnectionClosedInsideTheFirstRecordIsRemoteDisconnected) {
  RawClient raw(io_, server_endpoint());
  const auto peer = raw.local_endpoint();
  raw.send(std::string_view("\x16\x03\x01\x02", 4));  // a handshake record header, cut short
  settle(io_);
  EXPECT_TRUE(failures_->events.empty());  // the server waits for the rest
  raw.close();
  ASSERT_TRUE(wait_for_failures(1));
  const auto* failure = failure_from(peer);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, make_error_code(TlsFailureReason::RemoteDisconnected))
      << failure->error.message() << ": " << failure->detail;
  expect_tls_client_answered();
}

TEST_F(TlsNegotiationFailureTest, ManyBadPeersAtOnceThenATlsClient) {
  std::vector<std::unique_ptr<RawClient>> peers;
  for (int i = 0; i < 10; ++i) {
    peers.push_back(std::make_unique<RawClient>(io_, server_endpoint()));
    switch (i % 3) {
      case 0:
        peers.back()->send(make_request("OPTIONS", "sip:localhost"));
        break;
      case 1:
        peers.back()->send(std::string(64, 'x'));
        break;
      case 2:
        peers.back()->close();
        break;
    }
  }
  ASSERT_TRUE(wait_for_failures(peers.size()));
  for (const auto& event : failures_->events) EXPECT_TRUE(is_tls_failure(event.error));
  expect_tls_client_answered();
  settle(io_);
  EXPECT_EQ(added_, 1);
  EXPECT_EQ(failures_->events.size(), peers.size());
}

TEST_F(TlsNegotiationFailureTest, HandshakeNeverStartedEndsByNewConnectionTimeout) {
  // A peer that connects and says nothing would hold a descriptor for ever; the new-connection
  // time-out ends it. Time comes from a manual clock: the test moves it, it does not wait.
  server_.reset();
  auto clock = std::make_shared<ManualClock>();
  auto options = server_options();
  options.clock = clock;
  options.new_incoming_connection_timeout = 5s;
  server_ = start_server(local_certificate_, options);
  subscribe();

  RawClient raw(io_, server_endpoint());
  const auto peer = raw.local_endpoint();
  // The connection is adopted once its time-out timer is armed.
  ASSERT_TRUE(run_until(io_, [&] { return clock->pending_timers() >= 1; }));
  clock->advance(4s);
  settle(io_);
  EXPECT_FALSE(raw.peer_closed());
  EXPECT_TRUE(failures_->events.empty());
  clock->advance(1s);
  ASSERT_TRUE(run_until(io_, [&] { return raw.peer_closed() && !failures_->events.empty(); }));
  const auto* failure = failure_from(peer);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, make_error_code(errc::new_connection_timeout));
  EXPECT_EQ(added_, 0);
}

/// A plain client offering exactly one protocol version, with every suite OpenSSL has (security
/// level 0), so that a refusal is the server's doing, not the client's own configuration.
void offer_only(SSL_CTX* ctx, int version) {
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
}

struct VersionCase {
  int version;
  const char* name;
  bool accepted;
};

void PrintTo(const VersionCase& c, std::ostream* os) {
  *os << c.name;
}

class TlsProtocolVersionTest : public TlsNegotiationFailureTest,
                               public ::testing::WithParamInterface<VersionCase> {};

TEST_P(TlsProtocolVersionTest, OnlyTls12AndLaterAreAccepted) {
  const auto& param = GetParam();
  PlainTlsClient client(io_, server_->listening_port(),
                        [&](SSL_CTX* ctx) { offer_only(ctx, param.version); });
  ASSERT_TRUE(run_until(io_, [&] { return client.result().done; }));
  if (param.accepted) {
    ASSERT_FALSE(client.result().ec) << param.name << ": " << client.result().ec.message();
    EXPECT_EQ(client.result().version, param.version);
    EXPECT_TRUE(failures_->events.empty());
    return;
  }
  EXPECT_TRUE(client.result().ec) << param.name << " was accepted";
  // The client did offer the version (its ClientHello reached the server), and the server
  // refused it: a negotiation failure, not a peer that went away.
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error, make_error_code(TlsFailureReason::TlsNegotiationFailure))
      << failures_->events[0].error.message() << ": " << failures_->events[0].detail;
  settle(io_);
  EXPECT_EQ(added_, 0);
}

INSTANTIATE_TEST_SUITE_P(TlsVersions, TlsProtocolVersionTest,
                         ::testing::Values(VersionCase{TLS1_VERSION, "TLS 1.0", false},
                                           VersionCase{TLS1_1_VERSION, "TLS 1.1", false},
                                           VersionCase{TLS1_2_VERSION, "TLS 1.2", true},
                                           VersionCase{TLS1_3_VERSION, "TLS 1.3", true}),
                         [](const auto& test_info) {
                           std::string name = test_info.param.name;
                           for (auto& c : name) {
                             if (c == ' ' || c == '.') c = '_';
                           }
                           return name;
                         });

TEST_F(TlsNegotiationFailureTest, ClientCappedAtTls11CannotHandshake) {
  // As the issue puts it: a client context whose maximum is TLS 1.1.
  PlainTlsClient client(io_, server_->listening_port(), [](SSL_CTX* ctx) {
    SSL_CTX_set_min_proto_version(ctx, 0);  // the lowest the library has
    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  });
  ASSERT_TRUE(run_until(io_, [&] { return client.result().done; }));
  EXPECT_TRUE(client.result().ec);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_TRUE(is_tls_failure(failures_->events[0].error));
}

}  // namespace
}  // namespace rtconn::test
