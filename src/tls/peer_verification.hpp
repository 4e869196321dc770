#pragma once
// Checking who the peer is, after OpenSSL checked its chain.

#include <string_view>
#include <system_error>

#include <openssl/ssl.h>

namespace rtconn::tls {

/// RFC 5922 section 7.1 for a SIP domain: subjectAltName `sip:` URIs naming it, else dNSName
/// entries equal to it (no wildcards), else the subject CN when the certificate has neither; an
/// IP address must be an iPAddress entry.
bool certificate_names_host(X509* certificate, std::string_view host);

/// The TlsFailureReason for an X509_V_ERR_* verification result.
std::error_code error_of_verify_result(long result);

/// OpenSSL's verify callback. It lets a certificate whose issuer has no CRL in the store, and the
/// trust anchor, pass without a revocation check (OpenSSL would refuse them once any CRL is
/// loaded, see revocation_lists.hpp), and keeps the
/// first certificate whose chain failed on the connection, since OpenSSL 3 keeps no peer
/// certificate when verifying it failed and the application wants to know whom it turned away
/// (UCMA TlsFailureException.RemoteCertificate).
int verify_step(int preverify_ok, X509_STORE_CTX* store);

/// The peer's certificate as far as the handshake got: the one it presented, else the one
/// `verify_step` kept; null when there was none.
X509* peer_certificate_presented(SSL* ssl);

}  // namespace rtconn::tls
