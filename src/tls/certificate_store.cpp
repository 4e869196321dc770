#include "rtconn/certificate_store.hpp"

#include <cstdlib>

#include "tls/local_identity.hpp"
#include "tls/store_reader.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn {

std::filesystem::path CertificateStore::default_directory() {
  if (const char* explicit_store = std::getenv("RTCONN_CERT_STORE");
      explicit_store && *explicit_store) {
    return explicit_store;
  }
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) {
    return std::filesystem::path(data) / "rtconn" / "certs";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "rtconn" /
         "certs";
}

CertificateStore::CertificateStore() : CertificateStore(default_directory()) {}

CertificateStore::CertificateStore(std::filesystem::path directory, PasswordCallback password)
    : directory_(std::move(directory)), password_(std::move(password)) {}

std::vector<StoredCertificate> CertificateStore::list() const {
  std::vector<StoredCertificate> result;
  for (const auto& entry : tls::read_store(*this).entries) {
    result.push_back(tls::describe(entry.certificate.get(), entry.key != nullptr, entry.file));
  }
  return result;
}

StoredCertificate CertificateStore::find(const CertificateId& id) const {
  return tls::load_local_identity(*this, id).info;
}

}  // namespace rtconn
