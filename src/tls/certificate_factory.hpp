#pragma once
// Makes X.509 certificates with OpenSSL: the development CA and certificates `rtconn cert create`
// and the embedded default use, and the odd ones tests need (expired, other CA, revoked, ...).

#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tls/openssl_handles.hpp"

namespace rtconn::tls {

struct CertificateRequest {
  std::string common_name;
  std::string organization = "rtconn development";
  /// subjectAltName entries in OpenSSL's form: "DNS:localhost", "IP:127.0.0.1", "URI:sip:x".
  std::vector<std::string> alt_names;
  bool is_ca = false;
  /// extendedKeyUsage of a leaf, in OpenSSL's form.
  std::string extended_key_usage = "serverAuth,clientAuth";
  /// Validity relative to now; a negative end makes an expired certificate.
  std::chrono::seconds valid_from{-3600};
  std::chrono::seconds valid_until{std::chrono::hours(24 * 825)};
};

struct IssuedCertificate {
  X509Ptr certificate;
  EvpPkeyPtr key;
};

/// A new ECDSA P-256 key and a certificate for it, signed by `issuer` (self-signed when null).
/// Throws std::runtime_error with OpenSSL's reason on failure.
IssuedCertificate issue_certificate(const CertificateRequest& request,
                                    const IssuedCertificate* issuer);

/// Writes certificate, then `chain`, then `key` (when not null) as PEM, readable by the owner
/// only when it holds a key; replaces `file` atomically.
void write_pem(const std::filesystem::path& file, const X509* certificate, const EVP_PKEY* key,
               std::span<const X509* const> chain = {});

/// A certificate revocation list of `issuer` listing `revoked` (certificates it issued), issued
/// an hour ago, its next update `next_update` from now (negative: one past its next update).
X509CrlPtr issue_revocation_list(const IssuedCertificate& issuer,
                                 std::span<const X509* const> revoked,
                                 std::chrono::seconds next_update = std::chrono::hours(24 * 7));

/// Writes `list` as PEM; replaces `file` atomically.
void write_pem(const std::filesystem::path& file, const X509_CRL* list);

}  // namespace rtconn::tls
