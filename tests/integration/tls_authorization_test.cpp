// ConnectionAuthorizationRequested (the application admits or refuses a connection after seeing
// the peer's certificate), and TLS session resumption for a pool's reconnections.
#include <gtest/gtest.h>

#include "rtconn/manual_clock.hpp"
#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsAuthorizationTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    server_ = start_localhost_server();
    server_->set_need_mutual_tls(true);
    added_ = server_->incoming_connection_added.subscribe([this](const auto&) { ++added_count_; });
    auto options = client_options();
    options.tls.certificate =
        put(client_store_, "client", make_leaf(&ca_, "alice.example", {"URI:sip:alice.example"}));
    client_ = make_client(options);
    key_ = tls_key("localhost", server_->listening_port());
  }

  std::unique_ptr<RealTimeServerTlsConnectionManager> server_;
  std::unique_ptr<RealTimeClientConnectionManager> client_;
  PoolKey key_;
  Subscription added_;
  int added_count_ = 0;
};

TEST_F(TlsAuthorizationTest, HandlerSeesThePeerCertificateAndAllows) {
  std::optional<TlsSessionInfo> seen;
  server_->connection_authorization_requested += [&](const ConnectionAuthorization& request) {
    seen = request.connection()->tls_session();
    request.allow();
  };
  const auto outcome = request(*client_, key_);
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
  ASSERT_TRUE(seen.has_value());
  ASSERT_TRUE(seen->has_peer_certificate);
  EXPECT_EQ(seen->peer_certificate.subject, "CN=alice.example,O=rtconn development");
  EXPECT_EQ(seen->peer_certificate.uris, std::vector<std::string>{"sip:alice.example"});
  EXPECT_EQ(seen->peer_certificate.domains, std::vector<std::string>{"alice.example"});
  EXPECT_TRUE(distinguished_names_equal(seen->peer_certificate.issuer,
                                        "CN=rtconn Test CA,O=rtconn development"));
  EXPECT_EQ(seen->protocol, "TLSv1.3");
  EXPECT_EQ(added_count_, 1);
}

TEST_F(TlsAuthorizationTest, DeniedConnectionClosesUnannounced) {
  int asked = 0;
  server_->connection_authorization_requested += [&](const ConnectionAuthorization& request) {
    ++asked;
    request.deny();
  };
  const auto outcome = request(*client_, key_);
  EXPECT_TRUE(outcome->ec);
  EXPECT_FALSE(outcome->response.has_value());
  settle(io_);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(added_count_, 0);
  EXPECT_TRUE(server_->incoming_connections().empty());
  EXPECT_TRUE(failures_->events.empty());  // a refusal is no negotiation failure
}

TEST_F(TlsAuthorizationTest, DelayedAnswerHoldsMessagesUntilAllowed) {
  std::optional<ConnectionAuthorization> pending;
  server_->connection_authorization_requested +=
      [&](const ConnectionAuthorization& request) { pending = request.delay_authorization(); };
  auto outcome = start_request(*client_, key_, make_request("OPTIONS", "sip:localhost"));
  ASSERT_TRUE(run_until(io_, [&] { return pending.has_value(); }));
  settle(io_, std::chrono::milliseconds(100));
  EXPECT_FALSE(outcome->done());  // the request waits unread
  EXPECT_EQ(added_count_, 0);
  pending->allow();
  ASSERT_TRUE(run_until(io_, [&] { return outcome->done(); }));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
  EXPECT_EQ(added_count_, 1);
}

TEST_F(TlsAuthorizationTest, DelayedDenialClosesTheConnection) {
  std::optional<ConnectionAuthorization> pending;
  server_->connection_authorization_requested +=
      [&](const ConnectionAuthorization& request) { pending = request.delay_authorization(); };
  auto outcome = start_request(*client_, key_, make_request("OPTIONS", "sip:localhost"));
  ASSERT_TRUE(run_until(io_, [&] { return pending.has_value(); }));
  pending->deny();
  pending->allow();  // the first answer counts
  ASSERT_TRUE(run_until(io_, [&] { return outcome->done(); }));
  EXPECT_TRUE(outcome->ec);
  EXPECT_EQ(added_count_, 0);
}

TEST_F(TlsAuthorizationTest, HandlerThatDoesNotAnswerAdmits) {
  int asked = 0;
  server_->connection_authorization_requested += [&](const ConnectionAuthorization&) { ++asked; };
  const auto outcome = request(*client_, key_);
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(added_count_, 1);
}

TEST_F(TlsTest, PoolRemovalCarriesOpenSslsWords) {
  auto server = start_localhost_server();
  server->set_need_mutual_tls(true);
  auto client = make_client();  // presents no certificate
  std::vector<ConnectionEventArgs> removed;
  Subscription pools =
      client->connection_pool_added.subscribe([&](const ConnectionPoolEventArgs& e) {
        e.item->connection_removed += [&](const ConnectionEventArgs& c) { removed.push_back(c); };
      });
  const auto outcome = request(*client, tls_key("localhost", server->listening_port()));
  ASSERT_TRUE(outcome->ec);
  ASSERT_TRUE(run_until(io_, [&] { return !removed.empty(); }));
  EXPECT_TRUE(is_tls_failure(removed.front().reason)) << removed.front().reason.message();
  EXPECT_NE(removed.front().detail.find("certificate required"), std::string::npos)
      << removed.front().detail;
}

TEST_F(TlsTest, PoolReconnectionResumesTheTlsSession) {
  auto server = start_localhost_server();
  auto options = client_options();
  options.default_maximum_number_of_connections_per_pool = 1;  // every request on one connection
  auto client = make_client(options);
  const auto key = tls_key("localhost", server->listening_port());
  auto first = request(*client, key);
  ASSERT_FALSE(first->ec) << first->ec.message();
  auto connections = client->connection_pool(key)->connections();
  ASSERT_EQ(connections.size(), 1u);
  ASSERT_TRUE(connections.front()->tls_session().has_value());
  EXPECT_FALSE(connections.front()->tls_session()->resumed);
  // After the first answer the client connection runs without its SSL object: it still
  // carries requests and tells its session, and the tickets taken before are in the cache.
  auto again = request(*client, key);
  ASSERT_FALSE(again->ec) << again->ec.message();
  ASSERT_EQ(client->connection_pool(key)->connections().size(), 1u);
  EXPECT_EQ(connections.front()->tls_session()->protocol, "TLSv1.3");
  EXPECT_FALSE(connections.front()->tls_session()->cipher.empty());
  const auto first_id = connections.front()->id();
  connections.front()->disconnect();
  ASSERT_TRUE(run_until(io_, [&] { return client->connection_pools().empty(); }));

  auto second = request(*client, key);
  ASSERT_FALSE(second->ec) << second->ec.message();
  connections = client->connection_pool(key)->connections();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_NE(connections.front()->id(), first_id);
  EXPECT_TRUE(connections.front()->tls_session()->resumed);
}

}  // namespace
}  // namespace rtconn::test

namespace rtconn::test {
namespace {

// A TLS server on the test CA's "localhost" certificate with one handshake slot.
class HandshakeSlotTest : public TlsTest {
 protected:
  std::unique_ptr<RealTimeServerTlsConnectionManager> start_server_with_one_slot(
      ConnectionManagerOptions options) {
    options.max_concurrent_tls_handshakes = 1;
    const auto id = put(server_store_, "server", make_leaf(&ca_, "localhost", {"DNS:localhost"}));
    return start_server(id, options);
  }

  // A client's OPTIONS to `server` is answered 200.
  void expect_answered(RealTimeServerTlsConnectionManager& server) {
    auto client = make_client();
    const auto outcome = request(*client, tls_key("localhost", server.listening_port()));
    ASSERT_FALSE(outcome->ec) << outcome->ec.message();
    EXPECT_EQ(outcome->response->status_code(), 200);
  }

  // The first bytes of a ClientHello (a record header) and no more.
  static constexpr std::string_view record_header{"\x16\x03\x01\x00\xc8", 5};
};

TEST_F(HandshakeSlotTest, HandshakesBeyondTheCapWaitForASlot) {
  auto server = start_server_with_one_slot(server_options());
  // A peer that starts a handshake and stalls holds the only slot.
  auto stalled = std::make_unique<RawClient>(io_, server->listening_addresses().front());
  stalled->send(record_header);
  settle(io_);
  auto client = make_client();
  auto outcome = start_request(*client, tls_key("localhost", server->listening_port()),
                               make_request("OPTIONS", "sip:localhost"));
  settle(io_, std::chrono::milliseconds(200));
  EXPECT_FALSE(outcome->done()) << "handshake went ahead beyond the cap";
  EXPECT_EQ(server->counters().tls_handshakes_queued, 1u);
  stalled.reset();  // its handshake fails, freeing the slot for the waiting client
  ASSERT_TRUE(run_until(io_, [&] { return outcome->done(); }));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
}

// What it checks is that time-outs in the queue leave a slot free for the next client. It also
// runs the queue's dropping of closed entries (more than 64 of them), under the sanitizers in
// CI; the queue's length itself is not visible from outside, so nothing here asserts it.
TEST_F(HandshakeSlotTest, ConnectionsThatTimeOutWhileQueuedLeaveTheSlotToTheNextClient) {
  auto options = server_options();
  const auto clock = std::make_shared<ManualClock>();
  options.clock = clock;
  auto server = start_server_with_one_slot(options);
  const auto address = server->listening_addresses().front();
  auto holder = std::make_unique<RawClient>(io_, address);
  holder->send(record_header);
  settle(io_);
  // More than the queue keeps closed entries for before it drops them (64).
  constexpr std::size_t queued = 100;
  std::vector<std::unique_ptr<RawClient>> waiting;
  for (std::size_t i = 0; i < queued; ++i) {
    waiting.push_back(std::make_unique<RawClient>(io_, address));
    waiting.back()->send(record_header);
  }
  ASSERT_TRUE(run_until(io_, [&] { return server->counters().tls_handshakes_queued == queued; }));
  holder.reset();  // gives its slot to the first in the queue, which stalls as it did
  settle(io_);
  clock->advance(options.new_incoming_connection_timeout);  // every stalled connection times out
  settle(io_);
  expect_answered(*server);
  EXPECT_EQ(server->counters().tls_handshakes_queued, queued) << "a slot was free for the client";
}

TEST_F(HandshakeSlotTest, APeerThatConnectsAndSaysNothingHoldsNoHandshakeSlot) {
  auto server = start_server_with_one_slot(server_options());
  auto silent = std::make_unique<RawClient>(io_, server->listening_addresses().front());
  settle(io_);
  expect_answered(*server);
  EXPECT_EQ(server->counters().tls_handshakes_queued, 0u);
}

}  // namespace
}  // namespace rtconn::test
