#include "rtconn/development_certificates.hpp"

#include "rtconn/tls_failure.hpp"
#include "tls/certificate_factory.hpp"
#include "tls/local_identity.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn {
namespace {

constexpr const char* ca_file_name = "rtconn-dev-ca.pem";
constexpr const char* server_file_name = "rtconn-dev-server.pem";
constexpr const char* client_file_name = "rtconn-dev-client.pem";

CertificateId id_of(const X509* certificate) {
  return {tls::name_to_string(X509_get_issuer_name(certificate)), tls::serial_of(certificate)};
}

// The ids of certificates already made, if all three are there and usable.
std::optional<DevelopmentCertificates> existing(const CertificateStore& store) {
  DevelopmentCertificates found;
  for (const auto& info : store.list()) {
    const auto name = info.file.filename();
    if (name == ca_file_name) found.ca = info.id();
    if (name == server_file_name) found.server = info.id();
    if (name == client_file_name) found.client = info.id();
  }
  if (found.ca.serial_number.empty() || found.server.serial_number.empty() ||
      found.client.serial_number.empty()) {
    return std::nullopt;
  }
  try {
    for (const auto* id : {&found.ca, &found.server, &found.client}) store.find(*id);
  } catch (const TlsFailureException&) {
    return std::nullopt;  // expired or damaged: make new ones
  }
  found.ca_file = store.trusted_directory() / ca_file_name;
  if (!std::filesystem::exists(found.ca_file)) return std::nullopt;
  return found;
}

}  // namespace

DevelopmentCertificates ensure_development_certificates(const CertificateStore& store) {
  if (auto found = existing(store)) return *found;

  tls::CertificateRequest ca_request;
  ca_request.common_name = "rtconn Development CA";
  ca_request.is_ca = true;
  const auto ca = tls::issue_certificate(ca_request, nullptr);

  tls::CertificateRequest server_request;
  server_request.common_name = "localhost";
  server_request.alt_names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1", "URI:sip:localhost"};
  const auto server = tls::issue_certificate(server_request, &ca);

  tls::CertificateRequest client_request;
  client_request.common_name = "rtconn development client";
  client_request.alt_names = {"DNS:client.localhost", "URI:sip:client.localhost"};
  const auto client = tls::issue_certificate(client_request, &ca);

  const X509* chain[] = {ca.certificate.get()};
  DevelopmentCertificates made;
  made.ca_file = store.trusted_directory() / ca_file_name;
  tls::write_pem(made.ca_file, ca.certificate.get(), nullptr);
  tls::write_pem(store.directory() / ca_file_name, ca.certificate.get(), ca.key.get());
  tls::write_pem(store.directory() / server_file_name, server.certificate.get(), server.key.get(),
                 chain);
  tls::write_pem(store.directory() / client_file_name, client.certificate.get(), client.key.get(),
                 chain);
  made.ca = id_of(ca.certificate.get());
  made.server = id_of(server.certificate.get());
  made.client = id_of(client.certificate.get());
  return made;
}

}  // namespace rtconn
