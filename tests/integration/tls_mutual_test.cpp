// Mutual TLS (set_need_mutual_tls): the server admits clients presenting a certificate from a CA
// it trusts, and turns the others away at the handshake, saying why in
// IncomingTlsNegotiationFailed; the refused client's request fails at once, not by time-out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rtconn/manual_clock.hpp"
#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsMutualTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    server_ = start_localhost_server();
    server_->set_need_mutual_tls(true);
    server_->incoming_connection_added += [this](const ConnectionEventArgs&) { ++added_; };
  }
  void TearDown() override {
    server_.reset();
    TlsTest::TearDown();
  }

  /// Client options presenting `issued` (written into the client's store) as its certificate.
  ConnectionManagerOptions presenting(const tls::IssuedCertificate& issued) {
    auto options = client_options();
    options.tls.certificate = put(client_store_, "client", issued);
    return options;
  }

  PoolKey key() const { return tls_key("localhost", server_->listening_port()); }

  std::unique_ptr<RealTimeServerTlsConnectionManager> server_;
  int added_ = 0;
};

TEST_F(TlsMutualTest, ClientWithoutCertificateIsRefusedAtOnce) {
  ASSERT_TRUE(server_->need_mutual_tls());
  auto client = make_client();
  // The request time-out (32 s) is far beyond the 5 s this waits: a completion now is the
  // handshake's refusal, not the time-out.
  ASSERT_EQ(client->options().request_timeout, 32s);
  const auto outcome = request(*client, key(), 5s);
  ASSERT_TRUE(outcome->done());
  EXPECT_TRUE(outcome->ec);
  EXPECT_NE(outcome->ec, errc::request_timeout);
  // With TLS 1.3 the client's half of the handshake is over before the server has looked at its
  // (empty) certificate message, so the client learns of the refusal from the server's alert
  // afterwards: whatever it reports, it is a lost connection, not an answer.
  EXPECT_FALSE(outcome->response.has_value());

  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error, make_error_code(TlsFailureReason::RemoteCertificateMissing))
      << failures_->events[0].error.message() << ": " << failures_->events[0].detail;
  EXPECT_EQ(failures_->events[0].remote_endpoint.address(), asio::ip::address_v4::loopback());
  EXPECT_EQ(failures_->events[0].local_endpoint, server_->listening_addresses().at(0));
  EXPECT_FALSE(failures_->events[0].remote_certificate.has_value());
  settle(io_);
  EXPECT_EQ(added_, 0);
  EXPECT_TRUE(server_->incoming_connections().empty());
}

TEST_F(TlsMutualTest, ClientWithCertificateFromTrustedCaIsAnswered) {
  const auto client_certificate =
      make_leaf(&ca_, "client.localhost", {"DNS:client.localhost", "URI:sip:client.localhost"});
  auto client = make_client(presenting(client_certificate));
  const auto outcome = request(*client, key());
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
  EXPECT_TRUE(failures_->events.empty());

  // The server knows who the client is (UCMA RemoteCertificate).
  ASSERT_TRUE(run_until(io_, [&] { return added_ == 1; }));
  const auto incoming = server_->incoming_connections();
  ASSERT_EQ(incoming.size(), 1u);
  const auto session = incoming.front()->tls_session();
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE(session->has_peer_certificate);
  EXPECT_TRUE(serials_equal(session->peer_certificate.serial,
                            tls::serial_of(client_certificate.certificate.get())));
  EXPECT_EQ(session->peer_certificate.subject, "CN=client.localhost,O=rtconn development");
}

TEST_F(TlsMutualTest, ClientWithCertificateFromAnotherCaIsRefused) {
  const auto other_ca = make_ca("Some Other CA");
  auto client =
      make_client(presenting(make_leaf(&other_ca, "client.localhost", {"DNS:client.localhost"})));
  const auto outcome = request(*client, key(), 5s);
  ASSERT_TRUE(outcome->done());
  EXPECT_TRUE(outcome->ec);
  EXPECT_NE(outcome->ec, errc::request_timeout);
  EXPECT_FALSE(outcome->response.has_value());

  ASSERT_TRUE(wait_for_failures(1));
  // OpenSSL fails the chain with "unable to get local issuer certificate", which the library
  // reports as an untrusted remote certificate.
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::UntrustedRemoteCertificate))
      << failures_->events[0].error.message() << ": " << failures_->events[0].detail;
  // Whom it turned away (UCMA TlsFailureException.RemoteCertificate).
  ASSERT_TRUE(failures_->events[0].remote_certificate.has_value());
  EXPECT_EQ(failures_->events[0].remote_certificate->subject,
            "CN=client.localhost,O=rtconn development");
  EXPECT_EQ(failures_->events[0].local_endpoint, server_->listening_addresses().at(0));
  settle(io_);
  EXPECT_EQ(added_, 0);
}

TEST_F(TlsMutualTest, SelfSignedClientCertificateIsRefused) {
  auto client = make_client(presenting(make_leaf(nullptr, "client.localhost", {})));
  const auto outcome = request(*client, key(), 5s);
  EXPECT_TRUE(outcome->ec);
  EXPECT_NE(outcome->ec, errc::request_timeout);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::UntrustedRemoteCertificate))
      << failures_->events[0].detail;
}

TEST_F(TlsMutualTest, ExpiredClientCertificateIsRefusedByTheClientItself) {
  // The client manager checks its own certificate as the server manager does: an expired one is
  // never offered, and the sends fail with the local reason before any connection is made.
  auto options = client_options();
  options.tls.certificate =
      put(client_store_, "client",
          make_leaf(&ca_, "client.localhost", {}, std::chrono::hours(-48), std::chrono::hours(-1)));
  auto client = make_client(options);
  const auto send = start_send(*client, key(), make_request("OPTIONS", "sip:localhost"));
  ASSERT_TRUE(run_until(io_, [&] { return send->done(); }));
  EXPECT_EQ(send->ec, make_error_code(TlsFailureReason::CertificateExpired));
  settle(io_);
  EXPECT_EQ(send->completions, 1);
  EXPECT_TRUE(failures_->events.empty());  // nothing reached the server
}

TEST_F(TlsMutualTest, ClientCertificateMissingFromClientStoreFailsSends) {
  auto options = client_options();
  options.tls.certificate = id_of(make_leaf(&ca_, "client.localhost", {}));  // never written
  auto client = make_client(options);
  int added = 0;
  int removed = 0;
  const auto on_added =
      client->connection_pool_added.subscribe([&](const ConnectionPoolEventArgs&) { ++added; });
  const auto on_removed =
      client->connection_pool_removed.subscribe([&](const ConnectionPoolEventArgs&) { ++removed; });
  const auto outcome = request(*client, key());
  EXPECT_EQ(outcome->ec, make_error_code(TlsFailureReason::LocalCertificateNotFound));
  settle(io_);
  // A pool that could open no connection goes, or one would stay per destination tried.
  EXPECT_TRUE(client->connection_pools().empty());
  EXPECT_EQ(added, 1);
  EXPECT_EQ(removed, 1);
}

TEST_F(TlsMutualTest, AClientCertificatePutRightIsUsedOnceTheRetryIntervalHasPassed) {
  // A client context that cannot be made stays failed for 5 s (TlsContexts): a flood of sends
  // to TLS destinations reads the store, and logs, once, not once a send.
  const auto clock = std::make_shared<ManualClock>();
  auto options = client_options();
  options.clock = clock;
  const auto issued = make_leaf(&ca_, "client.localhost", {});
  options.tls.certificate = id_of(issued);  // not in the store yet
  auto client = make_client(options);
  EXPECT_EQ(request(*client, key())->ec,
            make_error_code(TlsFailureReason::LocalCertificateNotFound));

  put(client_store_, "client", issued);
  EXPECT_EQ(request(*client, key())->ec,
            make_error_code(TlsFailureReason::LocalCertificateNotFound))
      << "the store was read again within the retry interval";

  clock->advance(5s);
  const auto outcome = request(*client, key());
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(added_, 1);
}

TEST_F(TlsMutualTest, AClientManagerPresentsTheCertificateSetAfterConstruction) {
  auto client = make_client();
  EXPECT_FALSE(client->local_certificate().has_value());
  EXPECT_TRUE(request(*client, key(), 5s)->ec) << "admitted without a certificate";

  const auto absent = id_of(make_leaf(&ca_, "client.localhost", {}));  // never written
  try {
    client->set_local_certificate(absent.issuer_name, absent.serial_number);
    ADD_FAILURE() << "a certificate missing from the store was taken";
  } catch (const TlsFailureException& e) {
    EXPECT_EQ(e.failure_reason(), TlsFailureReason::LocalCertificateNotFound);
  }
  EXPECT_FALSE(client->local_certificate().has_value()) << "a failed change was kept";

  const auto issued = make_leaf(&ca_, "client.localhost", {"DNS:client.localhost"});
  const auto id = put(client_store_, "client", issued);
  client->set_local_certificate(id.issuer_name, id.serial_number);
  ASSERT_TRUE(client->local_certificate().has_value());
  EXPECT_TRUE(serials_equal(client->local_certificate()->serial_number, id.serial_number));
  EXPECT_TRUE(serials_equal(client->options().tls.certificate->serial_number, id.serial_number));

  const auto outcome = request(*client, key());
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  ASSERT_TRUE(run_until(io_, [&] { return added_ == 1; }));
  const auto session = server_->incoming_connections().at(0)->tls_session();
  ASSERT_TRUE(session && session->has_peer_certificate);
  EXPECT_TRUE(
      serials_equal(session->peer_certificate.serial, tls::serial_of(issued.certificate.get())));
}

TEST_F(TlsMutualTest, ATlsServerManagerPresentsItsOwnCertificateToServersThatAskForOne) {
  // Server to server (a federation peer): the one certificate goes both ways, as in UCMA.
  const auto issued = make_leaf(&ca_, "peer.localhost", {"DNS:peer.localhost"});
  auto peer = start_server(put(server_store_, "peer", issued));
  const auto outcome = request(*peer, key());
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
  ASSERT_TRUE(run_until(io_, [&] { return added_ == 1; }));
  const auto session = server_->incoming_connections().at(0)->tls_session();
  ASSERT_TRUE(session && session->has_peer_certificate);
  EXPECT_EQ(session->peer_certificate.subject, "CN=peer.localhost,O=rtconn development");
}

TEST_F(TlsMutualTest, AServerCertificateNotForClientUseIsNotPresentedOutgoing) {
  // Issued for serverAuth alone: any server asking for a client certificate refuses it (a
  // wrong purpose), even one that would serve a client presenting none. So none is presented,
  // and this server, which requires one, says it got none.
  tls::CertificateRequest server_only;
  server_only.common_name = "peer.localhost";
  server_only.extended_key_usage = "serverAuth";
  auto peer = start_server(put(server_store_, "peer", tls::issue_certificate(server_only, &ca_)));
  EXPECT_TRUE(request(*peer, key(), 5s)->ec);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error, make_error_code(TlsFailureReason::RemoteCertificateMissing))
      << failures_->events[0].error.message() << ": " << failures_->events[0].detail;
}

TEST_F(TlsMutualTest, AllowedDomainsAdmitOnlyClientsVouchingForOne) {
  std::vector<std::string> admitted;
  server_->incoming_connection_added +=
      [&admitted](const ConnectionEventArgs& e) { admitted.push_back(e.matching_domain_name); };
  server_->set_allowed_domains({"other.example"});
  const auto issued = make_leaf(&ca_, "client.localhost", {"DNS:client.localhost"});
  auto client = make_client(presenting(issued));
  const auto refused = request(*client, key(), 5s);
  EXPECT_TRUE(refused->ec);
  EXPECT_NE(refused->ec, errc::request_timeout);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
  ASSERT_TRUE(failures_->events[0].remote_certificate.has_value());
  EXPECT_EQ(failures_->events[0].remote_certificate->domains,
            (std::vector<std::string>{"client.localhost"}));
  EXPECT_EQ(added_, 0);

  server_->add_to_allowed_domains(".localhost");
  auto admitted_client = make_client(presenting(issued));
  const auto outcome = request(*admitted_client, key());
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  settle(io_);
  EXPECT_EQ(admitted, (std::vector<std::string>{"client.localhost"}));
  // The connection itself says so too (UCMA's RealTimeConnection members).
  const auto incoming = server_->incoming_connections();
  ASSERT_EQ(incoming.size(), 1u);
  EXPECT_EQ(incoming[0]->matching_domain_name(), "client.localhost");
  ASSERT_TRUE(incoming[0]->remote_certificate().has_value());
  EXPECT_EQ(incoming[0]->remote_certificate()->domains,
            (std::vector<std::string>{"client.localhost"}));
  EXPECT_EQ(admitted_client->connection_pools().at(0)->connections().at(0)->matching_domain_name(),
            "")
      << "an outgoing connection admits nobody";
}

TEST_F(TlsMutualTest, RequirementAppliesToConnectionsAcceptedAfterwards) {
  server_->set_need_mutual_tls(false);
  auto options = client_options();
  options.default_maximum_number_of_connections_per_pool = 1;  // one connection, reused
  auto client = make_client(options);
  const auto first = request(*client, key());
  ASSERT_FALSE(first->ec) << first->ec.message();

  server_->set_need_mutual_tls(true);
  // The established connection was accepted without a client certificate, and stays.
  const auto second = request(*client, key());
  ASSERT_FALSE(second->ec) << second->ec.message();
  EXPECT_EQ(client->connection_pool(key())->count(), 1u);

  // A new client without a certificate is now refused.
  auto newcomer = make_client();
  const auto refused = request(*newcomer, key(), 5s);
  EXPECT_TRUE(refused->ec);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::RemoteCertificateMissing));
}

TEST_F(TlsTest, AChangeThatCannotBeInstalledLeavesTheManagerAsItWas) {
  auto options = server_options();
  const auto unreadable = root_ / "not-a-ca.pem";
  std::ofstream(unreadable) << "not a certificate\n";
  options.tls.trusted_ca_files = {unreadable};  // read only when client certificates are asked
  const auto id = put(server_store_, "server", make_leaf(&ca_, "localhost", {"DNS:localhost"}));
  auto server = start_server(id, options);
  EXPECT_THROW(server->set_need_mutual_tls(true), TlsFailureException);
  EXPECT_FALSE(server->need_mutual_tls()) << "reports mutual TLS its context does not ask for";

  const auto keyless = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  tls::write_pem(server_store_ / "keyless.pem", keyless.certificate.get(), nullptr);
  const auto other = id_of(keyless);
  EXPECT_THROW(server->set_local_certificate(other.issuer_name, other.serial_number),
               TlsFailureException);
  EXPECT_EQ(server->local_certificate().serial_number, id.serial_number);
  // Anchors only client certificates and connections out would need do not stop a server's
  // change of certificate.
  const auto renewed = put(server_store_, "renewed", make_leaf(&ca_, "localhost", {}));
  server->set_local_certificate(renewed.issuer_name, renewed.serial_number);
  EXPECT_EQ(server->local_certificate().serial_number, renewed.serial_number);

  // A client manager's context is made by the change too, not at the next send.
  auto client_options = this->client_options();
  client_options.tls.trusted_ca_files = {unreadable};
  auto client = make_client(client_options);
  const auto usable = put(client_store_, "client", make_leaf(&ca_, "client.localhost", {}));
  EXPECT_THROW(client->set_local_certificate(usable.issuer_name, usable.serial_number),
               TlsFailureException);
  EXPECT_FALSE(client->local_certificate().has_value());
  EXPECT_FALSE(client->options().tls.certificate.has_value());
}

}  // namespace
}  // namespace rtconn::test
