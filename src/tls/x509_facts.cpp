#include "tls/x509_facts.hpp"

#include <strings.h>

#include <ctime>

#include <openssl/x509v3.h>

#include "tls/openssl_handles.hpp"

namespace rtconn::tls {

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // RFC 2253 order and escaping, but UTF-8 kept as is rather than escaped byte by byte.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

SerialNumber serial_of(const X509* certificate) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate);
  BIGNUM* number = ASN1_INTEGER_to_BN(serial, nullptr);
  SerialNumber bytes(static_cast<std::size_t>(BN_num_bytes(number)));
  BN_bn2bin(number, bytes.data());
  BN_free(number);
  if (bytes.empty()) bytes.push_back(0);
  return bytes;
}

std::chrono::system_clock::time_point time_of(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::vector<std::string> alt_names_of(const X509* certificate, int kind) {
  std::vector<std::string> names;
  auto* alt = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (!alt) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(alt); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(alt, i);
    if (entry->type != kind || (kind != GEN_DNS && kind != GEN_URI)) continue;
    const ASN1_IA5STRING* text =
        kind == GEN_DNS ? entry->d.dNSName : entry->d.uniformResourceIdentifier;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
  }
  GENERAL_NAMES_free(alt);
  return names;
}

std::vector<std::string> domains_of(const X509* certificate) {
  // RFC 5922 7.1: a SIP URI naming a domain (sip:alice@example.com names a user) decides when
  // there is one; else the DNS names; the common name only without any subjectAltName.
  std::vector<std::string> domains;
  for (auto& uri : alt_names_of(certificate, GEN_URI)) {
    if (uri.size() < 4 || ::strncasecmp(uri.data(), "sip:", 4) != 0) continue;
    if (uri.find('@') != std::string::npos) continue;
    domains.push_back(uri.substr(4));
  }
  if (!domains.empty()) return domains;
  domains = alt_names_of(certificate, GEN_DNS);
  if (!domains.empty() || X509_get_ext_by_NID(certificate, NID_subject_alt_name, -1) >= 0) {
    return domains;
  }
  char common_name[256] = {};
  const int length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
                                               common_name, sizeof common_name);
  if (length > 0) domains.emplace_back(common_name, static_cast<std::size_t>(length));
  return domains;
}

CertificateInfo facts_of(const X509* certificate) {
  CertificateInfo info;
  info.subject = name_to_string(X509_get_subject_name(certificate));
  info.issuer = name_to_string(X509_get_issuer_name(certificate));
  info.serial = serial_of(certificate);
  info.not_before = time_of(X509_get0_notBefore(certificate));
  info.not_after = time_of(X509_get0_notAfter(certificate));
  info.dns_names = alt_names_of(certificate, GEN_DNS);
  info.uris = alt_names_of(certificate, GEN_URI);
  info.domains = domains_of(certificate);
  return info;
}

StoredCertificate describe(const X509* certificate, bool has_private_key,
                           const std::filesystem::path& file) {
  StoredCertificate stored;
  static_cast<CertificateInfo&>(stored) = facts_of(certificate);
  stored.has_private_key = has_private_key;
  stored.file = file;
  return stored;
}

bool may_authenticate_client(X509* certificate) {
  return X509_check_purpose(certificate, X509_PURPOSE_SSL_CLIENT, 0) == 1;
}

}  // namespace rtconn::tls
