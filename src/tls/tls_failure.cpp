#include "rtconn/tls_failure.hpp"

namespace rtconn {
namespace {

class tls_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtconn.tls"; }
  std::string message(int value) const override {
    switch (static_cast<TlsFailureReason>(value)) {
      case TlsFailureReason::Other:
        return "TLS failed";
      case TlsFailureReason::LocalCertificateNotFound:
        return "local certificate not found";
      case TlsFailureReason::LocalCertificatePrivateKeyMissing:
        return "local certificate has no private key";
      case TlsFailureReason::LocalCertificateKeyMismatch:
        return "private key does not match the local certificate";
      case TlsFailureReason::LocalCertificateUnreadable:
        return "certificate file unreadable";
      case TlsFailureReason::CertificateExpired:
        return "certificate expired or not yet valid";
      case TlsFailureReason::UntrustedRemoteCertificate:
        return "remote certificate not trusted";
      case TlsFailureReason::IncorrectNameInRemoteCertificate:
        return "remote certificate names another host";
      case TlsFailureReason::TlsNegotiationFailure:
        return "TLS negotiation failed";
      case TlsFailureReason::RemoteDisconnected:
        return "remote closed during TLS negotiation";
      case TlsFailureReason::RemoteCertificateRevoked:
        return "remote certificate revoked";
      case TlsFailureReason::RemoteCertificateInvalidUsage:
        return "remote certificate not valid for this use";
      case TlsFailureReason::RemoteCertificateMissing:
        return "remote presented no certificate";
    }
    return "unknown TLS failure";
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    const auto reason = static_cast<TlsFailureReason>(value);
    // A handshake that failed on the wire lost the connection; a bad local certificate did not.
    if (reason >= TlsFailureReason::CertificateExpired) return condition::connection_lost;
    return {value, *this};
  }
};

}  // namespace

const std::error_category& tls_failure_category() noexcept {
  static const tls_category_impl instance;
  return instance;
}

}  // namespace rtconn
