// RealTimeServerTlsConnectionManager made from an issuer name and serial number looked up in a
// real store directory: every way the certificate can be unusable throws TlsFailureException with
// its own reason, and a good one, named as an administrator would copy it, serves TLS.
#include <gtest/gtest.h>

#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsServerCertificateTest : public TlsTest {
 protected:
  /// The reason the constructor gave, or Other (with a failure recorded) when it did not throw.
  TlsFailureReason construction_failure(const CertificateId& id) {
    try {
      RealTimeServerTlsConnectionManager server(io_.get_executor(), id.issuer_name,
                                                id.serial_number, server_options());
    } catch (const TlsFailureException& e) {
      // The exception is also a RealTimeException carrying the same reason as an error code.
      const RealTimeException& base = e;
      EXPECT_EQ(base.code(), make_error_code(e.failure_reason()));
      EXPECT_TRUE(is_tls_failure(base.code()));
      return e.failure_reason();
    }
    ADD_FAILURE() << "the constructor did not throw";
    return TlsFailureReason::Other;
  }
};

TEST_F(TlsServerCertificateTest, CertificateNotInStoreIsNotFound) {
  const auto elsewhere = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  put(client_store_, "server", elsewhere);  // in a store, just not the server's
  EXPECT_EQ(construction_failure(id_of(elsewhere)), TlsFailureReason::LocalCertificateNotFound);
}

TEST_F(TlsServerCertificateTest, SerialOfAnotherCertificateIsNotFound) {
  const auto present = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  auto id = put(server_store_, "server", present);
  id.serial_number.back() ^= 0x01;
  EXPECT_EQ(construction_failure(id), TlsFailureReason::LocalCertificateNotFound);
}

TEST_F(TlsServerCertificateTest, CertificateWithoutPrivateKey) {
  const auto server = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  tls::write_pem(server_store_ / "server.pem", server.certificate.get(), nullptr);
  EXPECT_EQ(construction_failure(id_of(server)),
            TlsFailureReason::LocalCertificatePrivateKeyMissing);
}

TEST_F(TlsServerCertificateTest, PrivateKeyOfAnotherCertificate) {
  const auto server = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  const auto other = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  tls::write_pem(server_store_ / "server.pem", server.certificate.get(), other.key.get());
  EXPECT_EQ(construction_failure(id_of(server)), TlsFailureReason::LocalCertificateKeyMismatch);
}

TEST_F(TlsServerCertificateTest, ExpiredCertificate) {
  const auto expired = make_leaf(&ca_, "localhost", {"DNS:localhost"}, std::chrono::hours(-48),
                                 std::chrono::hours(-1));
  EXPECT_EQ(construction_failure(put(server_store_, "expired", expired)),
            TlsFailureReason::CertificateExpired);
}

TEST_F(TlsServerCertificateTest, NotYetValidCertificate) {
  const auto future = make_leaf(&ca_, "localhost", {"DNS:localhost"}, std::chrono::hours(24),
                                std::chrono::hours(48));
  EXPECT_EQ(construction_failure(put(server_store_, "future", future)),
            TlsFailureReason::CertificateExpired);
}

TEST_F(TlsServerCertificateTest, GoodCertificateNamedWithReversedIssuerAndColonHexServes) {
  const auto issued = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  put(server_store_, "server", issued);
  // As an administrator copies them from `openssl x509 -issuer -serial`, in the other RDN order
  // than the library prints, and the serial as colon-separated hex.
  const std::string issuer = "O=rtconn development, CN=rtconn Test CA";
  ASSERT_EQ(tls::name_to_string(X509_get_issuer_name(issued.certificate.get())),
            "CN=rtconn Test CA,O=rtconn development");
  const auto serial = serial_from_hex(openssl_colon_hex_serial(issued.certificate.get()));
  ASSERT_TRUE(serial.has_value());

  std::unique_ptr<RealTimeServerTlsConnectionManager> server;
  ASSERT_NO_THROW(server = std::make_unique<RealTimeServerTlsConnectionManager>(
                      io_.get_executor(), issuer, *serial, server_options()));
  EXPECT_EQ(server->listening_transport(), TransportType::Tls);
  EXPECT_FALSE(server->need_mutual_tls());
  EXPECT_EQ(server->local_certificate().issuer_name, issuer);
  EXPECT_TRUE(serials_equal(server->local_certificate().serial_number,
                            tls::serial_of(issued.certificate.get())));

  server->set_request_handler([](IncomingRequest& request) {
    request.respond(200);
    return true;
  });
  server->start_listening(IpEndpoint(asio::ip::address_v4::loopback(), 0));
  ASSERT_NE(server->listening_port(), 0);
  auto client = make_client();
  const auto outcome = request(*client, tls_key("localhost", server->listening_port()));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 200);
}

TEST_F(TlsServerCertificateTest, SerialWithOpensslPrefixAndServerWithoutHandlerAnswers500) {
  const auto issued = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  const auto id = put(server_store_, "server", issued);
  const auto serial = serial_from_hex("serial=" + serial_to_hex(id.serial_number));
  ASSERT_TRUE(serial.has_value());
  RealTimeServerTlsConnectionManager server(io_.get_executor(), id.issuer_name, *serial,
                                            server_options());
  server.start_listening(IpEndpoint(asio::ip::address_v4::loopback(), 0));
  auto client = make_client();
  // No request handler: the manager answers as UCMA does, 500 outside a dialog. Over TLS, that
  // the response came back at all is the point.
  const auto outcome = request(*client, tls_key("localhost", server.listening_port()));
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(outcome->response->status_code(), 500);
}

}  // namespace
}  // namespace rtconn::test
