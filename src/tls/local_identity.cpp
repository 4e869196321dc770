#include "tls/local_identity.hpp"

#include <algorithm>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "rtconn/tls_failure.hpp"
#include "tls/store_reader.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn::tls {
namespace {

std::string describe_id(const CertificateId& id) {
  return "issuer \"" + id.issuer_name + "\", serial " + serial_to_hex(id.serial_number);
}

}  // namespace

LocalIdentity load_local_identity(const CertificateStore& store, const CertificateId& id) {
  auto contents = read_store(store);
  std::vector<StoreEntry*> matches;
  for (auto& entry : contents.entries) {
    if (serials_equal(serial_of(entry.certificate.get()), id.serial_number) &&
        distinguished_names_equal(name_to_string(X509_get_issuer_name(entry.certificate.get())),
                                  id.issuer_name)) {
      matches.push_back(&entry);
    }
  }
  if (matches.empty()) {
    if (!contents.unreadable.empty()) {
      std::string files;
      for (const auto& [file, why] : contents.unreadable) {
        files += " " + file.string() + " (" + why + ")";
      }
      throw TlsFailureException(TlsFailureReason::LocalCertificateUnreadable,
                                "no certificate with " + describe_id(id) + " in " +
                                    store.directory().string() + "; unreadable:" + files);
    }
    throw TlsFailureException(
        TlsFailureReason::LocalCertificateNotFound,
        "no certificate with " + describe_id(id) + " in " + store.directory().string());
  }
  // A copy of the certificate without its key may sit beside the one with it.
  const auto with_key = std::find_if(matches.begin(), matches.end(),
                                     [](const StoreEntry* e) { return e->key != nullptr; });
  StoreEntry& entry = with_key != matches.end() ? **with_key : *matches.front();
  const auto where = entry.file.string();
  if (!entry.key && !entry.unreadable_key.empty()) {
    throw TlsFailureException(
        TlsFailureReason::LocalCertificateUnreadable,
        "certificate with " + describe_id(id) + ": " + entry.unreadable_key +
            " (a wrong password? PEM keys take RTCONN_CERT_PASSWORD or the store's callback)");
  }
  if (!entry.key) {
    throw TlsFailureException(
        TlsFailureReason::LocalCertificatePrivateKeyMissing,
        "certificate with " + describe_id(id) + " in " + where + " has no private key beside it");
  }
  if (X509_check_private_key(entry.certificate.get(), entry.key.get()) != 1) {
    ERR_clear_error();
    throw TlsFailureException(TlsFailureReason::LocalCertificateKeyMismatch,
                              "the private key for " + where + " belongs to another certificate");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(entry.certificate.get())) > 0) {
    throw TlsFailureException(TlsFailureReason::CertificateExpired,
                              "certificate " + where + " is not valid yet");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(entry.certificate.get())) < 0) {
    throw TlsFailureException(TlsFailureReason::CertificateExpired,
                              "certificate " + where + " has expired");
  }
  LocalIdentity identity;
  identity.info = describe(entry.certificate.get(), true, entry.file);
  identity.certificate = std::move(entry.certificate);
  identity.chain = std::move(entry.chain);
  identity.key = std::move(entry.key);
  return identity;
}

}  // namespace rtconn::tls
