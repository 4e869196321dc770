// A client manager's TLS pool to a TLS server manager: the request is answered when the server's
// chain leads to a CA the client trusts and its certificate names the host the pool was asked
// for; otherwise every send fails with the TlsFailureReason that says why, exactly once.
#include <gtest/gtest.h>

#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsClientVerificationTest : public TlsTest {
 protected:
  /// A server presenting a certificate from the test CA with `alt_names`, CN `common_name`.
  std::unique_ptr<RealTimeServerTlsConnectionManager> server_for(
      const std::string& common_name, std::vector<std::string> alt_names) {
    return start_server(
        put(server_store_, "server", make_leaf(&ca_, common_name, std::move(alt_names))));
  }

  std::error_code request_error(const PoolKey& key) {
    auto client = make_client();
    const auto outcome = request(*client, key);
    EXPECT_EQ(outcome->completions, 1);
    if (!outcome->ec) {
      EXPECT_EQ(outcome->response->status_code(), 200);
    }
    return outcome->ec;
  }
};

TEST_F(TlsClientVerificationTest, LocalhostCertificateReachedAsLocalhostIsAnswered) {
  const auto server = server_for("localhost", {"DNS:localhost"});
  auto client = make_client();
  const auto key = tls_key("localhost", server->listening_port());
  const auto outcome = request(*client, key);
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);

  // The pool holds one TLS connection that knows whom it talks to.
  const auto pool = client->connection_pool(key);
  ASSERT_EQ(pool->count(), 1u);
  const auto connection = pool->connections().front();
  EXPECT_EQ(connection->transport(), TransportType::Tls);
  const auto session = connection->tls_session();
  ASSERT_TRUE(session.has_value());
  EXPECT_TRUE(session->protocol == "TLSv1.3" || session->protocol == "TLSv1.2")
      << session->protocol;
  ASSERT_TRUE(session->has_peer_certificate);
  EXPECT_EQ(session->peer_certificate.subject, "CN=localhost,O=rtconn development");
  // The server saw a TLS connection, and no handshake failed.
  EXPECT_EQ(server->incoming_connections().size(), 1u);
  EXPECT_TRUE(failures_->events.empty());
}

TEST_F(TlsClientVerificationTest, AddressWithoutIpEntryInCertificateIsIncorrectName) {
  const auto server = server_for("localhost", {"DNS:localhost"});
  // 127.0.0.1 is where "localhost" is, but the certificate does not say so (RFC 5922: an IP
  // address must be an iPAddress entry).
  EXPECT_EQ(request_error(tls_key("127.0.0.1", server->listening_port())),
            make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, AddressWithIpEntryInCertificateIsAnswered) {
  const auto server = server_for("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  EXPECT_FALSE(request_error(tls_key("127.0.0.1", server->listening_port())));
}

TEST_F(TlsClientVerificationTest, AddressWithTlsServerNameChecksTheName) {
  const auto server = server_for("localhost", {"DNS:localhost"});
  // Connect to the address, prove the name: the key's tls_server_name is what is checked.
  EXPECT_FALSE(request_error(tls_key("127.0.0.1", server->listening_port(), "localhost")));
}

TEST_F(TlsClientVerificationTest, CertificateForAnotherHostIsIncorrectName) {
  const auto server = server_for("sip.example.com", {"DNS:sip.example.com"});
  EXPECT_EQ(request_error(tls_key("localhost", server->listening_port())),
            make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, SipUriEntryNamingAnotherDomainWinsOverDnsEntry) {
  // RFC 5922 7.1: when the certificate has sip: URIs, only they count.
  const auto server = server_for("localhost", {"URI:sip:example.com", "DNS:localhost"});
  EXPECT_EQ(request_error(tls_key("localhost", server->listening_port())),
            make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, SipUriWithAUserPartNamesNoDomain) {
  // RFC 5922 7.1: sip:alice@example.com names a user, not a domain; the DNS entry decides.
  const auto server = server_for("localhost", {"URI:sip:alice@example.com", "DNS:localhost"});
  EXPECT_FALSE(request_error(tls_key("localhost", server->listening_port())));
}

TEST_F(TlsClientVerificationTest, CommonNameIsNotTheNameWhenSubjectAltNameIsPresent) {
  // A subjectAltName with no SIP URI or DNS name (an address only) still rules the CN out.
  const auto server = server_for("localhost", {"IP:127.0.0.2"});
  EXPECT_EQ(request_error(tls_key("localhost", server->listening_port())),
            make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, CertificateWithoutSubjectAltNamesIsCheckedByCommonName) {
  // No subjectAltName at all: the subject CN is the name (RFC 5922 7.1, last resort).
  const auto right = server_for("localhost", {});
  EXPECT_FALSE(request_error(tls_key("localhost", right->listening_port())));
}

TEST_F(TlsClientVerificationTest, CertificateWithoutSubjectAltNamesNamingAnotherHost) {
  const auto wrong = server_for("sip.example.com", {});
  EXPECT_EQ(request_error(tls_key("localhost", wrong->listening_port())),
            make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, CertificateFromUntrustedCaIsUntrusted) {
  const auto other_ca = make_ca("Some Other CA");
  const auto server = start_server(
      put(server_store_, "server", make_leaf(&other_ca, "localhost", {"DNS:localhost"})));
  auto client = make_client();
  std::optional<ConnectionEventArgs> removed;
  const auto on_pool = client->connection_pool_added.subscribe([&](const auto& args) {
    args.item->connection_removed += [&](const ConnectionEventArgs& e) { removed = e; };
  });
  const auto outcome = request(*client, tls_key("localhost", server->listening_port()));
  EXPECT_EQ(outcome->ec, make_error_code(TlsFailureReason::UntrustedRemoteCertificate));
  // The connection removed says whom it turned away: OpenSSL keeps no peer certificate once
  // verifying it failed, so this is the one the verify callback kept.
  ASSERT_TRUE(run_until(io_, [&] { return removed.has_value(); }));
  EXPECT_EQ(removed->reason, make_error_code(TlsFailureReason::UntrustedRemoteCertificate));
  const auto session = removed->item->tls_session();
  ASSERT_TRUE(session && session->has_peer_certificate);
  EXPECT_EQ(session->peer_certificate.subject, "CN=localhost,O=rtconn development");
  EXPECT_EQ(session->peer_certificate.issuer, "CN=Some Other CA,O=rtconn development");
}

TEST_F(TlsClientVerificationTest, SelfSignedCertificateIsUntrusted) {
  const auto server = start_server(
      put(server_store_, "server", make_leaf(nullptr, "localhost", {"DNS:localhost"})));
  EXPECT_EQ(request_error(tls_key("localhost", server->listening_port())),
            make_error_code(TlsFailureReason::UntrustedRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, ClientTrustingNothingFindsEveryServerUntrusted) {
  const auto server = server_for("localhost", {"DNS:localhost"});
  auto client = make_client(client_options(std::vector<fs::path>{}));
  const auto outcome = request(*client, tls_key("localhost", server->listening_port()));
  EXPECT_EQ(outcome->ec, make_error_code(TlsFailureReason::UntrustedRemoteCertificate));
}

TEST_F(TlsClientVerificationTest, CaInClientStoreTrustedFolderIsTrusted) {
  const auto server = server_for("localhost", {"DNS:localhost"});
  tls::write_pem(client_store_ / "trusted" / "ca.pem", ca_.certificate.get(), nullptr);
  auto client = make_client(client_options(std::vector<fs::path>{}));
  const auto outcome = request(*client, tls_key("localhost", server->listening_port()));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
}

TEST_F(TlsClientVerificationTest, ExpiredServerCertificateIsCertificateExpired) {
  // The server manager refuses an expired certificate at construction (see
  // TlsServerCertificateTest.ExpiredCertificate), so a plain asio::ssl server presents it.
  const auto expired = make_leaf(&ca_, "localhost", {"DNS:localhost"}, std::chrono::hours(-48),
                                 std::chrono::hours(-1));
  PlainTlsServer server(io_, expired);
  EXPECT_EQ(request_error(tls_key("localhost", server.port())),
            make_error_code(TlsFailureReason::CertificateExpired));
}

TEST_F(TlsClientVerificationTest, NotYetValidServerCertificateIsCertificateExpired) {
  const auto future = make_leaf(&ca_, "localhost", {"DNS:localhost"}, std::chrono::hours(24),
                                std::chrono::hours(48));
  PlainTlsServer server(io_, future);
  EXPECT_EQ(request_error(tls_key("localhost", server.port())),
            make_error_code(TlsFailureReason::CertificateExpired));
}

TEST_F(TlsClientVerificationTest, TlsFailuresAreConnectionLostConditions) {
  const auto server = server_for("sip.example.com", {"DNS:sip.example.com"});
  const auto ec = request_error(tls_key("localhost", server->listening_port()));
  EXPECT_TRUE(is_tls_failure(ec));
  EXPECT_EQ(ec, condition::connection_lost);
}

/// Every send queued on a pool whose connections fail their handshake completes once, with the
/// reason, whether it waited on a connection being made or opened one of its own.
class TlsQueuedSendsTest : public TlsClientVerificationTest,
                           public ::testing::WithParamInterface<int> {};

TEST_P(TlsQueuedSendsTest, EveryQueuedSendCompletesOnceWithTheReason) {
  const auto server = server_for("sip.example.com", {"DNS:sip.example.com"});
  auto options = client_options();
  options.default_maximum_number_of_connections_per_pool = GetParam();
  auto client = make_client(options);
  const auto key = tls_key("localhost", server->listening_port());

  constexpr int sends = 12;
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < sends; ++i) {
    outcomes.push_back(start_send(*client, key, make_request("OPTIONS", "sip:localhost")));
  }
  // And requests: their completions come through the pending-request table instead.
  std::vector<std::shared_ptr<Outcome>> requests;
  for (int i = 0; i < 4; ++i) {
    requests.push_back(start_request(*client, key, make_request("OPTIONS", "sip:localhost")));
  }
  const auto all_done = [&] {
    for (const auto& o : outcomes)
      if (!o->done()) return false;
    for (const auto& o : requests)
      if (!o->done()) return false;
    return true;
  };
  ASSERT_TRUE(run_until(io_, all_done, 10s));
  settle(io_);  // a second completion, had there been one, would have landed by now
  const auto expected = make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate);
  for (const auto& o : outcomes) {
    EXPECT_EQ(o->completions, 1);
    EXPECT_EQ(o->ec, expected) << o->ec.message();
  }
  for (const auto& o : requests) {
    EXPECT_EQ(o->completions, 1);
    EXPECT_EQ(o->ec, expected) << o->ec.message();
  }
  // The failed connections are gone, and with them the pool.
  EXPECT_TRUE(run_until(io_, [&] { return client->connection_pools().empty(); }));
}

INSTANTIATE_TEST_SUITE_P(TlsPoolCaps, TlsQueuedSendsTest, ::testing::Values(1, 3, 20));

}  // namespace
}  // namespace rtconn::test
