#include "tls/peer_verification.hpp"

#include <strings.h>

#include <algorithm>

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

// The SSL object owns what it keeps here: freed with it.
int rejected_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* kept, CRYPTO_EX_DATA*, int, long, void*) {
        X509_free(static_cast<X509*>(kept));
      });
  return index;
}

// Whether `error` says only that the revocation of the certificate being checked cannot be
// known, where that is accepted:
// - its issuer published no CRL here (OpenSSL would refuse every such certificate once any CRL
//   is loaded). When there is one OpenSSL cannot use (signed by another key under the issuer's
//   name, a distribution point it does not handle), the certificate stays refused.
// - it is the trust anchor, trusted as such (RFC 5280 6.1). X509_V_FLAG_CRL_CHECK_ALL checks a
//   root against its own CRL too, which need not cover it: one for user certificates only, or
//   naming a distribution point, is of a "different CRL scope".
bool revocation_may_stay_unknown(X509_STORE_CTX* store, int error) {
  if (error != X509_V_ERR_UNABLE_TO_GET_CRL && error != X509_V_ERR_DIFFERENT_CRL_SCOPE) {
    return false;
  }
  X509* checked = X509_STORE_CTX_get_current_cert(store);
  if (checked == nullptr) return false;
  if (X509_self_signed(checked, 0) == 1) return true;
  if (error != X509_V_ERR_UNABLE_TO_GET_CRL) return false;
  STACK_OF(X509_CRL)* lists = X509_STORE_CTX_get1_crls(store, X509_get_issuer_name(checked));
  const bool none = lists == nullptr || sk_X509_CRL_num(lists) == 0;
  sk_X509_CRL_pop_free(lists, X509_CRL_free);
  return none;
}

}  // namespace

bool certificate_names_host(X509* certificate, std::string_view host) {
  if (is_ip_literal(host)) {
    return X509_check_ip_asc(certificate, std::string(host).c_str(), 0) == 1;
  }
  const auto domains = domains_of(certificate);
  return std::any_of(domains.begin(), domains.end(), [host](const std::string& domain) {
    return equal_ignoring_case(domain, host);
  });
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

int verify_step(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 1) return preverify_ok;
  if (revocation_may_stay_unknown(store, X509_STORE_CTX_get_error(store))) {
    // Cleared, not just passed over: what is left in the context becomes the connection's
    // verify result, which would otherwise read as a failure on a connection that succeeded.
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (ssl && leaf && !SSL_get_ex_data(ssl, rejected_index()) && X509_up_ref(leaf) == 1) {
    if (SSL_set_ex_data(ssl, rejected_index(), leaf) != 1) X509_free(leaf);
  }
  return preverify_ok;
}

X509* peer_certificate_presented(SSL* ssl) {
  if (X509* peer = SSL_get0_peer_certificate(ssl)) return peer;
  return static_cast<X509*>(SSL_get_ex_data(ssl, rejected_index()));
}

}  // namespace rtconn::tls
