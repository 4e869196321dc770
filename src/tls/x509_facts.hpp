#pragma once
// Reading facts out of an X509 certificate in the forms rtconn's API speaks.

#include <chrono>
#include <string>
#include <vector>

#include <openssl/x509.h>

#include "rtconn/certificate_store.hpp"

namespace rtconn::tls {

/// RFC 4514 form: most specific RDN first, "CN=...,O=...".
std::string name_to_string(const X509_NAME* name);
SerialNumber serial_of(const X509* certificate);
std::chrono::system_clock::time_point time_of(const ASN1_TIME* time);
/// subjectAltName entries of one kind (GEN_DNS, GEN_URI), as text.
std::vector<std::string> alt_names_of(const X509* certificate, int kind);
/// The SIP domains `certificate` vouches for, as CertificateInfo::domains says.
std::vector<std::string> domains_of(const X509* certificate);
CertificateInfo facts_of(const X509* certificate);
/// Whether `certificate` may be presented as a TLS client's (its extended key usage, if any,
/// names clientAuth; its key usage allows the handshake's signature): what a server asking for
/// one checks.
bool may_authenticate_client(X509* certificate);
StoredCertificate describe(const X509* certificate, bool has_private_key,
                           const std::filesystem::path& file);

}  // namespace rtconn::tls
