#pragma once
/// \file
/// Why TLS failed (UCMA's TlsFailureReason) and the exception that carries it.

#include <string>
#include <system_error>

#include "rtconn/errors.hpp"

namespace rtconn {

/// UCMA's reasons, plus the distinct ways a local certificate can be unusable.
enum class TlsFailureReason {
  Other = 1,
  LocalCertificateNotFound,           ///< no certificate with that issuer and serial in the store
  LocalCertificatePrivateKeyMissing,  ///< the certificate is there, its private key is not
  LocalCertificateKeyMismatch,        ///< the private key found does not belong to the certificate
  LocalCertificateUnreadable,         ///< a store file could not be read or parsed
  CertificateExpired,                 ///< a certificate is expired or not yet valid
  UntrustedRemoteCertificate,         ///< the peer's chain does not lead to a trust anchor
  IncorrectNameInRemoteCertificate,   ///< the peer's certificate names another host or domain
  TlsNegotiationFailure,              ///< the handshake failed (protocol, cipher, garbage)
  RemoteDisconnected,                 ///< the peer closed during the handshake
  RemoteCertificateRevoked,
  RemoteCertificateInvalidUsage,  ///< the certificate may not be used for this purpose
  RemoteCertificateMissing,       ///< mutual TLS: the client presented no certificate
};

/// The category of TlsFailureReason values ("rtconn.tls").
const std::error_category& tls_failure_category() noexcept;

inline std::error_code make_error_code(TlsFailureReason reason) noexcept {
  return {static_cast<int>(reason), tls_failure_category()};
}

/// True for every error of the TLS category.
inline bool is_tls_failure(const std::error_code& ec) noexcept {
  return ec.category() == tls_failure_category();
}

/// TLS could not be set up (UCMA TlsFailureException): a local certificate that cannot be used,
/// or a failed handshake. `what()` includes OpenSSL's own reason where there is one.
class TlsFailureException : public RealTimeException {
 public:
  TlsFailureException(TlsFailureReason reason, const std::string& detail)
      : RealTimeException(make_error_code(reason), detail), reason_(reason) {}
  TlsFailureReason failure_reason() const noexcept { return reason_; }

 private:
  TlsFailureReason reason_;
};

}  // namespace rtconn

template <>
struct std::is_error_code_enum<rtconn::TlsFailureReason> : std::true_type {};
