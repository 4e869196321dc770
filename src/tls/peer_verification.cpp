#include "tls/peer_verification.hpp"

#include <strings.h>

#include <openssl/x509v3.h>

#include "rtconn/tls_failure.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn::tls {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool is_ip_literal(std::string_view host) {
  return host.find(':') != std::string_view::npos ||
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace

bool certificate_names_host(X509* certificate, std::string_view host) {
  if (is_ip_literal(host)) {
    return X509_check_ip_asc(certificate, std::string(host).c_str(), 0) == 1;
  }
  // RFC 5922 7.1: a SIP URI naming a domain (no user part; sip:alice@example.com names a user)
  // decides when there is one; else the DNS names; the Common Name only when the certificate has
  // no subjectAltName at all.
  bool any_sip_domain = false;
  for (const auto& uri : alt_names_of(certificate, GEN_URI)) {
    const std::string_view rest = uri;
    if (rest.size() < 4 || !equal_ignoring_case(rest.substr(0, 4), "sip:")) continue;
    const auto domain = rest.substr(4);
    if (domain.find('@') != std::string_view::npos) continue;
    any_sip_domain = true;
    if (equal_ignoring_case(domain, host)) return true;
  }
  if (any_sip_domain) return false;
  for (const auto& name : alt_names_of(certificate, GEN_DNS)) {
    if (equal_ignoring_case(name, host)) return true;
  }
  if (X509_get_ext_by_NID(certificate, NID_subject_alt_name, -1) >= 0) return false;
  char common_name[256] = {};
  const int length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
                                               common_name, sizeof common_name);
  return length > 0 && equal_ignoring_case(std::string_view(common_name, length), host);
}

std::error_code error_of_verify_result(long result) {
  switch (result) {
    case X509_V_OK:
      return {};
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return make_error_code(TlsFailureReason::CertificateExpired);
    case X509_V_ERR_CERT_REVOKED:
      return make_error_code(TlsFailureReason::RemoteCertificateRevoked);
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
      return make_error_code(TlsFailureReason::RemoteCertificateInvalidUsage);
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate);
    default:
      return make_error_code(TlsFailureReason::UntrustedRemoteCertificate);
  }
}

}  // namespace rtconn::tls
