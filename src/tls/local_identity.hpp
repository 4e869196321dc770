#pragma once
// A certificate with its key and chain, checked for use as this side's TLS identity.

#include <vector>

#include "rtconn/certificate_store.hpp"
#include "tls/openssl_handles.hpp"

namespace rtconn::tls {

struct LocalIdentity {
  X509Ptr certificate;
  std::vector<X509Ptr> chain;
  EvpPkeyPtr key;
  StoredCertificate info;
};

/// The identity `id` names in `store`; throws TlsFailureException as CertificateStore::find.
LocalIdentity load_local_identity(const CertificateStore& store, const CertificateId& id);

}  // namespace rtconn::tls
