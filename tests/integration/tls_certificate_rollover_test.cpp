// set_local_certificate on a running TLS server (UCMA 3.0 SetLocalCertificate): connections
// accepted afterwards see the new certificate, established ones carry on with theirs, and a
// certificate that cannot be used is refused with the old one kept.
#include <gtest/gtest.h>

#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsCertificateRolloverTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    first_ = make_leaf(&ca_, "localhost", {"DNS:localhost"});
    second_ = make_leaf(&ca_, "localhost", {"DNS:localhost"});
    put(server_store_, "first", first_);
    put(server_store_, "second", second_);
    server_ = start_server(id_of(first_));
    auto options = client_options();
    options.default_maximum_number_of_connections_per_pool = 1;  // every request on one connection
    client_ = make_client(options);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    TlsTest::TearDown();
  }

  PoolKey key() const { return tls_key("localhost", server_->listening_port()); }

  /// The serial a new plain TLS connection is shown.
  SerialNumber presented_serial() {
    PlainTlsClient probe(io_, server_->listening_port());
    EXPECT_TRUE(run_until(io_, [&] { return probe.result().done; }));
    EXPECT_FALSE(probe.result().ec) << probe.result().ec.message();
    return probe.result().peer_serial;
  }

  void expect_answered() {
    const auto outcome = request(*client_, key());
    ASSERT_FALSE(outcome->ec) << outcome->ec.message();
    EXPECT_EQ(outcome->response->status_code(), 200);
  }

  static SerialNumber serial(const tls::IssuedCertificate& issued) {
    return tls::serial_of(issued.certificate.get());
  }

  tls::IssuedCertificate first_;
  tls::IssuedCertificate second_;
  std::unique_ptr<RealTimeServerTlsConnectionManager> server_;
  std::unique_ptr<RealTimeClientConnectionManager> client_;
};

TEST_F(TlsCertificateRolloverTest, NewConnectionsSeeTheNewCertificateEstablishedOnesCarryOn) {
  expect_answered();
  const auto pool = client_->connection_pool(key());
  ASSERT_EQ(pool->count(), 1u);
  const auto established = pool->connections().front();
  ASSERT_TRUE(established->tls_session().has_value());
  EXPECT_TRUE(serials_equal(established->tls_session()->peer_certificate.serial, serial(first_)));
  EXPECT_TRUE(serials_equal(presented_serial(), serial(first_)));

  const auto next = id_of(second_);
  server_->set_local_certificate(next.issuer_name, next.serial_number);
  EXPECT_TRUE(serials_equal(server_->local_certificate().serial_number, serial(second_)));

  // The established connection keeps working, the same one, on its old session.
  expect_answered();
  ASSERT_EQ(pool->count(), 1u);
  EXPECT_EQ(pool->connections().front()->id(), established->id());
  EXPECT_EQ(established->counters().messages_sent, 2u);
  EXPECT_TRUE(serials_equal(established->tls_session()->peer_certificate.serial, serial(first_)));

  // A new connection is shown the new certificate: by a plain TLS client, and by a manager.
  EXPECT_TRUE(serials_equal(presented_serial(), serial(second_)));
  auto other = make_client();
  const auto outcome = request(*other, key());
  ASSERT_FALSE(outcome->ec) << outcome->ec.message();
  const auto fresh = other->connection_pool(key())->connections().front();
  EXPECT_TRUE(serials_equal(fresh->tls_session()->peer_certificate.serial, serial(second_)));
}

TEST_F(TlsCertificateRolloverTest, MissingCertificateThrowsAndTheOldOneStays) {
  expect_answered();
  const auto never_stored = id_of(make_leaf(&ca_, "localhost", {"DNS:localhost"}));
  try {
    server_->set_local_certificate(never_stored.issuer_name, never_stored.serial_number);
    FAIL() << "set_local_certificate did not throw";
  } catch (const TlsFailureException& e) {
    EXPECT_EQ(e.failure_reason(), TlsFailureReason::LocalCertificateNotFound);
  }
  EXPECT_TRUE(serials_equal(server_->local_certificate().serial_number, serial(first_)));
  EXPECT_TRUE(serials_equal(presented_serial(), serial(first_)));
  expect_answered();
  auto other = make_client();
  const auto outcome = request(*other, key());
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
}

TEST_F(TlsCertificateRolloverTest, UnusableCertificatesThrowWithTheirReasonAndTheOldOneStays) {
  const auto expired = make_leaf(&ca_, "localhost", {"DNS:localhost"}, std::chrono::hours(-48),
                                 std::chrono::hours(-1));
  const auto mismatched = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  const auto keyless = make_leaf(&ca_, "localhost", {"DNS:localhost"});
  put(server_store_, "expired", expired);
  tls::write_pem(server_store_ / "mismatched.pem", mismatched.certificate.get(), first_.key.get());
  tls::write_pem(server_store_ / "keyless.pem", keyless.certificate.get(), nullptr);
  const std::pair<const tls::IssuedCertificate*, TlsFailureReason> cases[] = {
      {&expired, TlsFailureReason::CertificateExpired},
      {&mismatched, TlsFailureReason::LocalCertificateKeyMismatch},
      {&keyless, TlsFailureReason::LocalCertificatePrivateKeyMissing},
  };
  for (const auto& [issued, reason] : cases) {
    const auto id = id_of(*issued);
    try {
      server_->set_local_certificate(id.issuer_name, id.serial_number);
      ADD_FAILURE() << "no exception for " << static_cast<int>(reason);
    } catch (const TlsFailureException& e) {
      EXPECT_EQ(e.failure_reason(), reason) << e.what();
    }
  }
  EXPECT_TRUE(serials_equal(server_->local_certificate().serial_number, serial(first_)));
  EXPECT_TRUE(serials_equal(presented_serial(), serial(first_)));
  expect_answered();
}

TEST_F(TlsCertificateRolloverTest, MutualTlsRequirementSurvivesTheChange) {
  server_->set_need_mutual_tls(true);
  const auto next = id_of(second_);
  server_->set_local_certificate(next.issuer_name, next.serial_number);
  EXPECT_TRUE(server_->need_mutual_tls());
  // The client presents no certificate: still refused under the new one.
  const auto outcome = request(*client_, key(), 5s);
  EXPECT_TRUE(outcome->ec);
  ASSERT_TRUE(wait_for_failures(1));
  EXPECT_EQ(failures_->events[0].error,
            make_error_code(TlsFailureReason::RemoteCertificateMissing));
}

}  // namespace
}  // namespace rtconn::test
