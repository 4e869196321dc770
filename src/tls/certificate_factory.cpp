#include "tls/certificate_factory.hpp"

#include <fstream>
#include <memory>
#include <stdexcept>
#include <utility>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace rtconn::tls {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + take_openssl_error("failed"));
}

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  check(extension != nullptr, "certificate extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

void set_random_serial(X509* certificate) {
  unsigned char bytes[16];
  check(RAND_bytes(bytes, sizeof bytes) == 1, "random serial");
  bytes[0] &= 0x7f;  // positive, as RFC 5280 requires
  bytes[0] |= 0x10;  // and never shortened by a leading zero byte
  BIGNUM* number = BN_bin2bn(bytes, sizeof bytes, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate));
  BN_free(number);
}

// Puts what `bio` holds in `file` at once: written beside it, then renamed over it. `secret`:
// readable by the owner only.
void replace_file(const std::filesystem::path& file, BIO* bio, bool secret) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::filesystem::create_directories(file.parent_path());
  auto temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (secret) {
      std::filesystem::permissions(
          temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    out.write(data, size);
    if (!out) throw std::runtime_error("cannot write " + temporary.string());
  }
  std::filesystem::rename(temporary, file);
}

}  // namespace

IssuedCertificate issue_certificate(const CertificateRequest& request,
                                    const IssuedCertificate* issuer) {
  IssuedCertificate issued;
  issued.key.reset(EVP_EC_gen("P-256"));
  check(issued.key != nullptr, "key generation");
  issued.certificate.reset(X509_new());
  X509* certificate = issued.certificate.get();
  check(X509_set_version(certificate, 2) == 1, "certificate version");
  set_random_serial(certificate);
  X509_gmtime_adj(X509_getm_notBefore(certificate), static_cast<long>(request.valid_from.count()));
  X509_gmtime_adj(X509_getm_notAfter(certificate), static_cast<long>(request.valid_until.count()));
  X509_set_pubkey(certificate, issued.key.get());

  X509_NAME* subject = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.organization.c_str()),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()),
                             -1, -1, 0);
  X509* signer = issuer ? issuer->certificate.get() : certificate;
  X509_set_issuer_name(certificate, X509_get_subject_name(signer));

  add_extension(certificate, signer, NID_basic_constraints,
                request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(certificate, signer, NID_key_usage,
                request.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (!request.is_ca)
    add_extension(certificate, signer, NID_ext_key_usage, request.extended_key_usage);
  add_extension(certificate, signer, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(certificate, signer, NID_authority_key_identifier, "keyid:always");
  if (!request.alt_names.empty()) {
    std::string names;
    for (const auto& name : request.alt_names) names += (names.empty() ? "" : ",") + name;
    add_extension(certificate, signer, NID_subject_alt_name, names);
  }
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : issued.key.get();
  check(X509_sign(certificate, signing_key, EVP_sha256()) > 0, "certificate signature");
  return issued;
}

void write_pem(const std::filesystem::path& file, const X509* certificate, const EVP_PKEY* key,
               std::span<const X509* const> chain) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM certificate");
  for (const X509* link : chain) check(PEM_write_bio_X509(bio.get(), link) == 1, "PEM chain");
  if (key) {
    check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM key");
  }
  replace_file(file, bio.get(), key != nullptr);
}

X509CrlPtr issue_revocation_list(const IssuedCertificate& issuer,
                                 std::span<const X509* const> revoked,
                                 std::chrono::seconds next_update) {
  X509CrlPtr list(X509_CRL_new());
  check(list != nullptr, "revocation list");
  X509_CRL* crl = list.get();
  check(X509_CRL_set_version(crl, 1) == 1, "revocation list version");  // v2, for extensions
  check(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.certificate.get())) == 1,
        "revocation list issuer");
  std::unique_ptr<ASN1_TIME, OpensslDeleter<ASN1_TIME, ASN1_TIME_free>> issued_at(
      X509_gmtime_adj(nullptr, -3600));
  std::unique_ptr<ASN1_TIME, OpensslDeleter<ASN1_TIME, ASN1_TIME_free>> next(
      X509_gmtime_adj(nullptr, static_cast<long>(next_update.count())));
  check(issued_at && next && X509_CRL_set1_lastUpdate(crl, issued_at.get()) == 1 &&
            X509_CRL_set1_nextUpdate(crl, next.get()) == 1,
        "revocation list dates");
  for (const X509* certificate : revoked) {
    std::unique_ptr<X509_REVOKED, OpensslDeleter<X509_REVOKED, X509_REVOKED_free>> entry(
        X509_REVOKED_new());
    // The setter copies the serial; it only lacks the const.
    auto* serial = const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(certificate));
    check(entry && X509_REVOKED_set_serialNumber(entry.get(), serial) == 1 &&
              X509_REVOKED_set_revocationDate(entry.get(), issued_at.get()) == 1 &&
              X509_CRL_add0_revoked(crl, entry.get()) == 1,
          "revocation list entry");
    entry.release();  // the list owns it now
  }
  // RFC 5280 5.2: a v2 CRL names the issuer's key and carries a number.
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer.certificate.get(), nullptr, nullptr, crl, 0);
  const std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION, X509_EXTENSION_free>> key_id(
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always"));
  check(key_id && X509_CRL_add_ext(crl, key_id.get(), -1) == 1, "revocation list key id");
  std::unique_ptr<ASN1_INTEGER, OpensslDeleter<ASN1_INTEGER, ASN1_INTEGER_free>> number(
      ASN1_INTEGER_new());
  check(number && ASN1_INTEGER_set(number.get(), 1) == 1 &&
            X509_CRL_add1_ext_i2d(crl, NID_crl_number, number.get(), 0, 0) == 1,
        "revocation list number");
  check(X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, issuer.key.get(), EVP_sha256()) > 0,
        "revocation list signature");
  return list;
}

void write_pem(const std::filesystem::path& file, const X509_CRL* list) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_X509_CRL(bio.get(), list) == 1, "PEM revocation list");
  replace_file(file, bio.get(), false);
}

}  // namespace rtconn::tls
