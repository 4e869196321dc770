// Look-ups in a real store directory, with certificates made for each case.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "rtconn/certificate_store.hpp"
#include "rtconn/development_certificates.hpp"
#include "rtconn/tls_failure.hpp"
#include "tls/certificate_factory.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn {
namespace {

namespace fs = std::filesystem;

class CertificateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        fs::temp_directory_path() /
        ("rtconn-store-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    tls::CertificateRequest ca_request;
    ca_request.common_name = "Test CA";
    ca_request.is_ca = true;
    ca_ = tls::issue_certificate(ca_request, nullptr);
  }
  void TearDown() override { fs::remove_all(directory_); }

  tls::IssuedCertificate issue(std::chrono::seconds from = std::chrono::seconds(-60),
                               std::chrono::seconds until = std::chrono::hours(24)) {
    tls::CertificateRequest request;
    request.common_name = "server.test";
    request.alt_names = {"DNS:server.test"};
    request.valid_from = from;
    request.valid_until = until;
    return tls::issue_certificate(request, &ca_);
  }

  static CertificateId id_of(const tls::IssuedCertificate& c) {
    return {tls::name_to_string(X509_get_issuer_name(c.certificate.get())),
            tls::serial_of(c.certificate.get())};
  }

  TlsFailureReason failure_of(const CertificateId& id) {
    try {
      CertificateStore(directory_).find(id);
    } catch (const TlsFailureException& e) {
      return e.failure_reason();
    }
    ADD_FAILURE() << "find() did not throw";
    return TlsFailureReason::Other;
  }

  /// With the password "secret" the store finds `id` with its key; with another, the file
  /// holding it is unreadable, and the error names it.
  void expect_readable_only_with_secret(const CertificateId& id, const std::string& file) const {
    const CertificateStore store(directory_, [](const fs::path&) { return std::string("secret"); });
    EXPECT_TRUE(store.find(id).has_private_key);
    const CertificateStore wrong(directory_, [](const fs::path&) { return std::string("nope"); });
    try {
      wrong.find(id);
      ADD_FAILURE() << "find() with the wrong password did not throw";
    } catch (const TlsFailureException& e) {
      EXPECT_EQ(e.failure_reason(), TlsFailureReason::LocalCertificateUnreadable) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }

  fs::path directory_;
  tls::IssuedCertificate ca_;
};

TEST_F(CertificateStoreTest, FindsCertificateWithKeyInOneFile) {
  const auto server = issue();
  tls::write_pem(directory_ / "server.pem", server.certificate.get(), server.key.get());
  const auto found = CertificateStore(directory_).find(id_of(server));
  EXPECT_TRUE(found.has_private_key);
  EXPECT_EQ(found.subject, "CN=server.test,O=rtconn development");
  EXPECT_EQ(found.issuer, "CN=Test CA,O=rtconn development");
  EXPECT_EQ(found.dns_names, std::vector<std::string>{"server.test"});
  EXPECT_EQ(found.domains, std::vector<std::string>{"server.test"});  // no sip: URI: the DNS names
}

TEST_F(CertificateStoreTest, FindsByIssuerInReverseOrderAndDotNetSerial) {
  const auto server = issue();
  tls::write_pem(directory_ / "server.pem", server.certificate.get(), server.key.get());
  auto serial = tls::serial_of(server.certificate.get());
  const SerialNumber little_endian(serial.rbegin(), serial.rend());
  const CertificateId id{"O=rtconn development, CN=test ca",
                         serial_from_little_endian(little_endian)};
  EXPECT_NO_THROW(CertificateStore(directory_).find(id));
}

TEST_F(CertificateStoreTest, FindsKeyInSiblingKeyFile) {
  const auto server = issue();
  tls::write_pem(directory_ / "server.crt", server.certificate.get(), nullptr);
  tls::write_pem(directory_ / "server.key", server.certificate.get(), server.key.get());
  EXPECT_TRUE(CertificateStore(directory_).find(id_of(server)).has_private_key);
}

TEST_F(CertificateStoreTest, FindsPkcs12WithPasswordFromCallback) {
  const auto server = issue();
  PKCS12* p12 = PKCS12_create("secret", "server", server.key.get(), server.certificate.get(),
                              nullptr, 0, 0, 0, 0, 0);
  ASSERT_NE(p12, nullptr);
  {
    tls::BioPtr bio(BIO_new_file((directory_ / "server.p12").c_str(), "wb"));
    i2d_PKCS12_bio(bio.get(), p12);
  }
  PKCS12_free(p12);
  expect_readable_only_with_secret(id_of(server), "server.p12");
}

TEST_F(CertificateStoreTest, NotFound) {
  const auto server = issue();
  EXPECT_EQ(failure_of(id_of(server)), TlsFailureReason::LocalCertificateNotFound);
}

TEST_F(CertificateStoreTest, WrongSerialIsNotFound) {
  const auto server = issue();
  tls::write_pem(directory_ / "server.pem", server.certificate.get(), server.key.get());
  auto id = id_of(server);
  id.serial_number.back() ^= 1;
  EXPECT_EQ(failure_of(id), TlsFailureReason::LocalCertificateNotFound);
}

TEST_F(CertificateStoreTest, PrivateKeyMissing) {
  const auto server = issue();
  tls::write_pem(directory_ / "server.pem", server.certificate.get(), nullptr);
  EXPECT_EQ(failure_of(id_of(server)), TlsFailureReason::LocalCertificatePrivateKeyMissing);
}

TEST_F(CertificateStoreTest, AnEncryptedKeyWithTheWrongPasswordIsUnreadableNotMissing) {
  const auto server = issue();
  {
    tls::BioPtr bio(BIO_new_file((directory_ / "server.pem").c_str(), "wb"));
    PEM_write_bio_X509(bio.get(), server.certificate.get());
    PEM_write_bio_PrivateKey(bio.get(), server.key.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr,
                             const_cast<char*>("secret"));
  }
  expect_readable_only_with_secret(id_of(server), "server.pem");
}

TEST_F(CertificateStoreTest, KeyOfAnotherCertificate) {
  const auto server = issue();
  const auto other = issue();
  tls::write_pem(directory_ / "server.pem", server.certificate.get(), other.key.get());
  EXPECT_EQ(failure_of(id_of(server)), TlsFailureReason::LocalCertificateKeyMismatch);
}

TEST_F(CertificateStoreTest, ExpiredAndNotYetValid) {
  const auto expired = issue(std::chrono::hours(-48), std::chrono::hours(-24));
  const auto future = issue(std::chrono::hours(24), std::chrono::hours(48));
  tls::write_pem(directory_ / "expired.pem", expired.certificate.get(), expired.key.get());
  tls::write_pem(directory_ / "future.pem", future.certificate.get(), future.key.get());
  EXPECT_EQ(failure_of(id_of(expired)), TlsFailureReason::CertificateExpired);
  EXPECT_EQ(failure_of(id_of(future)), TlsFailureReason::CertificateExpired);
}

TEST_F(CertificateStoreTest, UnreadableFileIsNamedWhenNothingMatches) {
  std::ofstream(directory_ / "broken.pem") << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  const auto server = issue();
  EXPECT_EQ(failure_of(id_of(server)), TlsFailureReason::LocalCertificateUnreadable);
  // A readable match elsewhere wins over an unreadable neighbour.
  tls::write_pem(directory_ / "server.pem", server.certificate.get(), server.key.get());
  EXPECT_NO_THROW(CertificateStore(directory_).find(id_of(server)));
}

TEST_F(CertificateStoreTest, ListShowsEveryCertificate) {
  const auto server = issue();
  tls::write_pem(directory_ / "a.pem", server.certificate.get(), server.key.get());
  tls::write_pem(directory_ / "b.crt", ca_.certificate.get(), nullptr);
  const auto listed = CertificateStore(directory_).list();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].has_private_key);
  EXPECT_FALSE(listed[1].has_private_key);
  EXPECT_EQ(listed[1].subject, "CN=Test CA,O=rtconn development");
}

TEST_F(CertificateStoreTest, DefaultDirectoryFollowsEnvironment) {
  // Other tests in this process read HOME: put it back however this test ends.
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  const std::unique_ptr<void, void (*)(void*)> restore(
      const_cast<std::string*>(&home),
      [](void* saved) { ::setenv("HOME", static_cast<std::string*>(saved)->c_str(), 1); });
  ::setenv("RTCONN_CERT_STORE", "/tmp/explicit-store", 1);
  EXPECT_EQ(CertificateStore::default_directory(), fs::path("/tmp/explicit-store"));
  ::unsetenv("RTCONN_CERT_STORE");
  ::setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(CertificateStore::default_directory(), fs::path("/tmp/xdg/rtconn/certs"));
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(CertificateStore::default_directory(),
            fs::path("/home/someone/.local/share/rtconn/certs"));
}

TEST_F(CertificateStoreTest, DevelopmentCertificatesAreMadeOnceAndUsable) {
  const CertificateStore store(directory_);
  const auto made = ensure_development_certificates(store);
  EXPECT_TRUE(store.find(made.server).has_private_key);
  EXPECT_TRUE(store.find(made.client).has_private_key);
  EXPECT_TRUE(fs::exists(made.ca_file));
  EXPECT_TRUE(distinguished_names_equal(made.server.issuer_name,
                                        "CN=rtconn Development CA,O=rtconn development"));
  const auto again = ensure_development_certificates(store);
  EXPECT_TRUE(serials_equal(again.server.serial_number, made.server.serial_number));
  const auto server = store.find(made.server);
  EXPECT_EQ(server.dns_names, std::vector<std::string>{"localhost"});
}

}  // namespace
}  // namespace rtconn
