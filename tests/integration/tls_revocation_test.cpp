// Certificate revocation lists (TlsOptions::crl_files, the store's crls/ folder): a peer whose
// certificate, or a CA certificate above it, is listed by its issuer's CRL is refused at the
// handshake with RemoteCertificateRevoked, on either side; certificates of an issuer without a
// CRL here are not checked; a CRL past its next update refuses its issuer's certificates; and
// reload_trust() reads renewed lists for the handshakes after it.
#include <gtest/gtest.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>

#include "tls/openssl_handles.hpp"
#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsRevocationTest : public TlsTest {
 protected:
  /// Writes a CRL of `issuer` listing `revoked` as PEM at `file`.
  static fs::path write_crl(const fs::path& file, const tls::IssuedCertificate& issuer,
                            std::vector<const X509*> revoked,
                            std::chrono::seconds next_update = std::chrono::hours(24)) {
    tls::write_pem(file, tls::issue_revocation_list(issuer, revoked, next_update).get());
    return file;
  }

  /// Client options presenting `issued` (written into the client's store as `name`).
  ConnectionManagerOptions presenting(const tls::IssuedCertificate& issued,
                                      const std::string& name = "client") {
    auto options = client_options();
    options.tls.certificate = put(client_store_, name, issued);
    return options;
  }

  /// A mutual TLS server for "localhost" from the test CA, with `options`.
  std::unique_ptr<RealTimeServerTlsConnectionManager> start_mutual_server(
      ConnectionManagerOptions options) {
    const auto id = put(server_store_, "server",
                        make_leaf(&ca_, "localhost", {"DNS:localhost", "IP:127.0.0.1"}));
    auto server = start_server(id, options);
    server->set_need_mutual_tls(true);
    return server;
  }

  static tls::IssuedCertificate client_leaf(const std::string& name,
                                            const tls::IssuedCertificate& issuer) {
    return make_leaf(&issuer, name, {"DNS:" + name});
  }

  /// The status of an OPTIONS through a new client manager with `options`, or the error.
  std::error_code request_with(const ConnectionManagerOptions& options, std::uint16_t port) {
    auto client = make_client(options);
    const auto outcome = request(*client, tls_key("localhost", port));
    if (!outcome->ec) {
      EXPECT_EQ(outcome->response->status_code(), 200);
    }
    return outcome->ec;
  }
};

TEST_F(TlsRevocationTest, RevokedClientIsRefusedAndOthersOfItsCaAreAnswered) {
  const auto revoked = client_leaf("revoked.localhost", ca_);
  const auto kept = client_leaf("kept.localhost", ca_);
  auto options = server_options();
  options.tls.crl_files = {write_crl(anchors_ / "ca.crl", ca_, {revoked.certificate.get()})};
  const auto server = start_mutual_server(options);
  const auto port = server->listening_port();

  EXPECT_TRUE(request_with(presenting(revoked, "revoked"), port));
  ASSERT_TRUE(wait_for_failures(1));
  const auto& failure = failures_->events[0];
  EXPECT_EQ(failure.error, make_error_code(TlsFailureReason::RemoteCertificateRevoked))
      << failure.error.message() << ": " << failure.detail;
  ASSERT_TRUE(failure.remote_certificate.has_value());
  EXPECT_EQ(failure.remote_certificate->serial, id_of(revoked).serial_number);

  EXPECT_FALSE(request_with(presenting(kept, "kept"), port));
  EXPECT_EQ(failures_->events.size(), 1u);
}

TEST_F(TlsRevocationTest, RevokedServerCertificateFailsTheClientsSend) {
  const auto server_certificate = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  const auto server = start_server(put(server_store_, "server", server_certificate));
  auto options = client_options();
  options.tls.crl_files = {
      write_crl(anchors_ / "ca.crl", ca_, {server_certificate.certificate.get()})};
  EXPECT_EQ(request_with(options, server->listening_port()),
            make_error_code(TlsFailureReason::RemoteCertificateRevoked));
}

TEST_F(TlsRevocationTest, ADerCrlInTheStoresCrlsFolderIsRead) {
  const auto revoked = client_leaf("revoked.localhost", ca_);
  const auto list =
      tls::issue_revocation_list(ca_, std::vector<const X509*>{revoked.certificate.get()});
  fs::create_directories(server_store_ / "crls");
  {
    tls::BioPtr bio(BIO_new_file((server_store_ / "crls" / "ca.der").c_str(), "wb"));
    ASSERT_TRUE(bio && i2d_X509_CRL_bio(bio.get(), list.get()) == 1);
  }
  const auto server = start_mutual_server(server_options());
  EXPECT_TRUE(request_with(presenting(revoked), server->listening_port()));
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::RemoteCertificateRevoked));
}

// OpenSSL refuses every certificate whose issuer has no CRL once any CRL is loaded ("unable to
// get certificate CRL"); here only issuers with one are checked.
TEST_F(TlsRevocationTest, CertificatesOfAnIssuerWithoutACrlAreNotChecked) {
  const auto other_ca = make_ca("rtconn Other CA");
  const auto other_client = client_leaf("other.localhost", other_ca);
  auto server_side = server_options();
  server_side.tls.crl_files = {
      write_crl(anchors_ / "other.crl", other_ca, {other_client.certificate.get()})};
  const auto server = start_mutual_server(server_side);

  auto client_side = presenting(client_leaf("client.localhost", ca_));
  client_side.tls.crl_files = server_side.tls.crl_files;
  EXPECT_FALSE(request_with(client_side, server->listening_port()));
  EXPECT_TRUE(failures_->events.empty());
}

// A revoked intermediate takes the certificates it issued with it, though it published no CRL.
TEST_F(TlsRevocationTest, ARevokedIntermediateCaRefusesTheCertificatesItIssued) {
  tls::CertificateRequest intermediate_request;
  intermediate_request.common_name = "rtconn Intermediate CA";
  intermediate_request.is_ca = true;
  const auto intermediate = tls::issue_certificate(intermediate_request, &ca_);
  const auto leaf = make_leaf(&intermediate, "localhost", {"DNS:localhost"});
  const X509* chain[] = {intermediate.certificate.get()};
  tls::write_pem(server_store_ / "server.pem", leaf.certificate.get(), leaf.key.get(), chain);
  const auto server = start_server(id_of(leaf));
  const auto port = server->listening_port();

  EXPECT_FALSE(request_with(client_options(), port));  // the chain is trusted as such
  auto options = client_options();
  options.tls.crl_files = {write_crl(anchors_ / "ca.crl", ca_, {intermediate.certificate.get()})};
  EXPECT_EQ(request_with(options, port),
            make_error_code(TlsFailureReason::RemoteCertificateRevoked));
}

TEST_F(TlsRevocationTest, ACrlPastItsNextUpdateRefusesItsIssuersCertificates) {
  auto options = server_options();
  options.tls.crl_files = {write_crl(anchors_ / "ca.crl", ca_, {}, -std::chrono::minutes(1))};
  const auto server = start_mutual_server(options);
  EXPECT_TRUE(
      request_with(presenting(client_leaf("client.localhost", ca_)), server->listening_port()));
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::UntrustedRemoteCertificate));
  EXPECT_NE(failures_->events[0].detail.find("CRL has expired"), std::string::npos)
      << failures_->events[0].detail;
}

TEST_F(TlsRevocationTest, ReloadTrustReadsARenewedCrlForTheHandshakesAfterIt) {
  const auto client_certificate = client_leaf("client.localhost", ca_);
  const auto server = start_mutual_server(server_options());
  const auto key = tls_key("localhost", server->listening_port());
  auto one_connection = presenting(client_certificate);
  one_connection.default_maximum_number_of_connections_per_pool = 1;  // reused, not added to
  auto before = make_client(one_connection);
  const auto first = request(*before, key);
  ASSERT_FALSE(first->ec) << first->ec.message();

  write_crl(server_store_ / "crls" / "ca.pem", ca_, {client_certificate.certificate.get()});
  // Read when a context is made: a new handshake before the reload still gets through.
  EXPECT_FALSE(request_with(presenting(client_certificate), server->listening_port()));
  server->reload_trust();
  // Under TLS 1.3 the client hears of the refusal as a lost connection: the server says why.
  EXPECT_TRUE(request_with(presenting(client_certificate), server->listening_port()));
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::RemoteCertificateRevoked));
  // The connection made before the reload keeps going.
  const auto again = request(*before, key);
  ASSERT_FALSE(again->ec) << again->ec.message();
  EXPECT_EQ(again->response->status_code(), 200);
}

TEST_F(TlsRevocationTest, AnUnreadableCrlFailsTheReloadAndKeepsWhatWasInUse) {
  const auto server = start_mutual_server(server_options());
  fs::create_directories(server_store_ / "crls");
  std::ofstream(server_store_ / "crls" / "broken.crl") << "not a revocation list";
  try {
    server->reload_trust();
    ADD_FAILURE() << "reload_trust accepted a file with no CRL in it";
  } catch (const TlsFailureException& e) {
    EXPECT_EQ(e.failure_reason(), TlsFailureReason::Other);
    EXPECT_NE(std::string(e.what()).find("broken.crl"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(
      request_with(presenting(client_leaf("client.localhost", ca_)), server->listening_port()));

  // A client manager finds out at its first send, as for any trust it cannot read.
  auto options = client_options();
  options.tls.crl_files = {server_store_ / "crls" / "broken.crl"};
  EXPECT_EQ(request_with(options, server->listening_port()),
            make_error_code(TlsFailureReason::Other));
}

// OpenSSL finds the CRL of an issuer it cannot use (here signed by another key under the CA's
// name, as after a re-keying) and says "unable to get CRL", as for an issuer without one: the
// certificate stays refused, its revocation unknown, rather than passing unchecked.
TEST_F(TlsRevocationTest, ACrlSignedByAnotherKeyUnderTheIssuersNameRefuses) {
  const auto impostor = make_ca("rtconn Test CA");  // the same name, another key
  const auto client_certificate = client_leaf("client.localhost", ca_);
  auto options = server_options();
  options.tls.crl_files = {write_crl(anchors_ / "ca.crl", impostor, {})};
  const auto server = start_mutual_server(options);
  EXPECT_TRUE(request_with(presenting(client_certificate), server->listening_port()));
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::UntrustedRemoteCertificate))
      << failures_->events[0].detail;
}

TEST_F(TlsRevocationTest, UnusableCrlFilesAreRefusedWhenRead) {
  const auto server =
      start_server(put(server_store_, "server", make_leaf(&ca_, "localhost", {"DNS:localhost"})));
  const auto refused = [&](const std::string& why) {
    try {
      server->reload_trust();
      ADD_FAILURE() << "reload_trust accepted " << why;
    } catch (const TlsFailureException& e) {
      EXPECT_EQ(e.failure_reason(), TlsFailureReason::Other) << why;
      EXPECT_NE(std::string(e.what()).find("crls"), std::string::npos) << why << ": " << e.what();
    }
  };
  // A server that asks no client for a certificate reads them for its connections out.
  const auto crls = server_store_ / "crls";
  std::ofstream(crls) << "a file where the folder should be\n";
  refused("a crls that is no folder");
  fs::remove(crls);

  // A good CRL followed by a damaged one: the second's issuer must not go unchecked.
  write_crl(crls / "two.pem", ca_, {});
  std::ofstream(crls / "two.pem", std::ios::app)
      << "-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n";
  refused("a damaged second CRL");
  fs::remove(crls / "two.pem");

  server->reload_trust();  // all well again
}

// A full CRL whose issuing distribution point limits it to user certificates, and a delta
// beside it (as AD CS publishes both). The delta is skipped and the full CRL counts; the root,
// checked against its own CRL, is out of that CRL's scope and passes as the trust anchor.
TEST_F(TlsRevocationTest, AFullCrlWithADeltaBesideItCountsAndTheRootPasses) {
  const auto revoked = client_leaf("revoked.localhost", ca_);
  const auto kept = client_leaf("kept.localhost", ca_);
  const auto with_extension = [&](tls::X509CrlPtr list, int nid, const char* value) {
    const std::unique_ptr<X509_EXTENSION, tls::OpensslDeleter<X509_EXTENSION, X509_EXTENSION_free>>
        extension(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value));
    EXPECT_TRUE(extension && X509_CRL_add_ext(list.get(), extension.get(), -1) == 1);
    EXPECT_GT(X509_CRL_sign(list.get(), ca_.key.get(), EVP_sha256()), 0);
    return list;
  };
  const auto full = with_extension(
      tls::issue_revocation_list(ca_, std::vector<const X509*>{revoked.certificate.get()}),
      NID_issuing_distribution_point, "critical,onlyuser:TRUE");
  tls::write_pem(server_store_ / "crls" / "ca.pem", full.get());
  auto delta = tls::issue_revocation_list(ca_, {});
  const std::unique_ptr<ASN1_INTEGER, tls::OpensslDeleter<ASN1_INTEGER, ASN1_INTEGER_free>> base(
      ASN1_INTEGER_new());
  ASSERT_TRUE(base && ASN1_INTEGER_set(base.get(), 1) == 1);
  ASSERT_EQ(X509_CRL_add1_ext_i2d(delta.get(), NID_delta_crl, base.get(), 1, 0), 1);
  ASSERT_GT(X509_CRL_sign(delta.get(), ca_.key.get(), EVP_sha256()), 0);
  tls::write_pem(server_store_ / "crls" / "ca-delta.pem", delta.get());

  const auto server = start_mutual_server(server_options());
  EXPECT_FALSE(request_with(presenting(kept, "kept"), server->listening_port()));
  EXPECT_TRUE(failures_->events.empty());
  EXPECT_TRUE(request_with(presenting(revoked, "revoked"), server->listening_port()));
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::RemoteCertificateRevoked));
}

TEST_F(TlsRevocationTest, AClientManagersReloadChecksTheServersItConnectsToAfterIt) {
  const auto server_certificate = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  const auto server = start_server(put(server_store_, "server", server_certificate));
  const auto crl = write_crl(anchors_ / "ca.crl", ca_, {});
  auto options = client_options();
  options.tls.crl_files = {crl};
  auto client = make_client(options);
  const auto key = tls_key("localhost", server->listening_port());
  ASSERT_FALSE(request(*client, key)->ec);

  write_crl(crl, ca_, {server_certificate.certificate.get()});
  client->reload_trust();
  client->connection_pool(key)->connections().front()->disconnect();
  settle(io_);
  EXPECT_EQ(request(*client, key)->ec, make_error_code(TlsFailureReason::RemoteCertificateRevoked));
}

}  // namespace
}  // namespace rtconn::test
