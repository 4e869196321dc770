#pragma once
// Certificate revocation lists (RFC 5280 section 5) read from files into a context's trust
// store. Revocation is checked where the store holds a CRL of the certificate's issuer, for the
// peer's certificate and each CA certificate above it; a certificate whose issuer published none
// here is not checked (see verify_step), so CRLs of some CAs do not cut off every other CA's.

#include <filesystem>
#include <vector>

#include <openssl/x509_vfy.h>

namespace rtconn::tls {

/// Adds every CRL in `files` (PEM, any number each, or one DER) to `store` and, when there was
/// any, turns on revocation checking for the chains it verifies. Throws TlsFailureException
/// (reason Other) naming a file that cannot be read or holds no CRL.
void add_revocation_lists(X509_STORE* store, const std::vector<std::filesystem::path>& files);

/// The CRL files of `directory`: its `.pem`, `.crl` and `.der` files, in name order; none when
/// it does not exist.
std::vector<std::filesystem::path> revocation_list_files(const std::filesystem::path& directory);

}  // namespace rtconn::tls
