// The development certificates made into a fresh store serve as they are meant to: a TLS server
// from `server`, clients trusting `ca_file`, mutual TLS with `client`.
#include <gtest/gtest.h>

#include "rtconn/development_certificates.hpp"
#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsDevelopmentCertificatesTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    made_ = ensure_development_certificates(CertificateStore(server_store_));
    server_ = start_server(made_.server, dev_options(false));
  }
  void TearDown() override {
    server_.reset();
    TlsTest::TearDown();
  }

  /// Options using the development store and trusting only its CA file; with
  /// `present_client_certificate`, presenting the development client certificate.
  ConnectionManagerOptions dev_options(bool present_client_certificate) const {
    ConnectionManagerOptions options;
    options.tls.certificate_store = server_store_;
    options.tls.trust_system_bundle = false;
    options.tls.trusted_ca_files = {made_.ca_file};
    if (present_client_certificate) options.tls.certificate = made_.client;
    return options;
  }

  DevelopmentCertificates made_;
  std::unique_ptr<RealTimeServerTlsConnectionManager> server_;
};

TEST_F(TlsDevelopmentCertificatesTest, ServerIsAnsweredByName) {
  // A client with a store of its own: only `ca_file` makes it trust the server.
  auto options = client_options(std::vector<fs::path>{made_.ca_file});
  auto client = make_client(options);
  const auto outcome = request(*client, tls_key("localhost", server_->listening_port()));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
}

TEST_F(TlsDevelopmentCertificatesTest, ServerIsAnsweredByLoopbackAddress) {
  // The server certificate names 127.0.0.1 as well.
  auto client = make_client(client_options(std::vector<fs::path>{made_.ca_file}));
  const auto outcome = request(*client, tls_key("127.0.0.1", server_->listening_port()));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
}

TEST_F(TlsDevelopmentCertificatesTest, ServerIsUntrustedWithoutTheCaFile) {
  auto client = make_client(client_options());  // trusts the test's own CA, not the dev CA
  const auto outcome = request(*client, tls_key("localhost", server_->listening_port()));
  EXPECT_EQ(outcome->ec, make_error_code(TlsFailureReason::UntrustedRemoteCertificate));
}

TEST_F(TlsDevelopmentCertificatesTest, MutualTlsWithTheClientCertificateIsAnswered) {
  server_->set_need_mutual_tls(true);
  auto client = make_client(dev_options(true));
  const auto outcome = request(*client, tls_key("localhost", server_->listening_port()));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
  EXPECT_TRUE(failures_->events.empty());
  const auto incoming = server_->incoming_connections();
  ASSERT_EQ(incoming.size(), 1u);
  const auto session = incoming.front()->tls_session();
  ASSERT_TRUE(session && session->has_peer_certificate);
  EXPECT_TRUE(serials_equal(session->peer_certificate.serial, made_.client.serial_number));
}

TEST_F(TlsDevelopmentCertificatesTest, MutualTlsWithoutTheClientCertificateIsRefused) {
  server_->set_need_mutual_tls(true);
  auto client = make_client(dev_options(false));
  const auto outcome = request(*client, tls_key("localhost", server_->listening_port()), 5s);
  EXPECT_TRUE(outcome->ec);
  EXPECT_NE(outcome->ec, errc::request_timeout);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::RemoteCertificateMissing));
}

}  // namespace
}  // namespace rtconn::test
