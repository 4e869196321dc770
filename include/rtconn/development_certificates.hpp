#pragma once
/// \file
/// The embedded default identity: a development CA and certificates made on first use.

#include <filesystem>

#include "rtconn/certificate_store.hpp"

namespace rtconn {

/// What `ensure_development_certificates` made or found.
struct DevelopmentCertificates {
  CertificateId ca;
  CertificateId server;           ///< for localhost, 127.0.0.1, ::1 and sip:localhost
  CertificateId client;           ///< for mutual TLS
  std::filesystem::path ca_file;  ///< the CA certificate, also placed in the store's trusted/
};

/// Makes a development CA, a server and a client certificate (ECDSA P-256) in `store` unless
/// usable ones are there already, and returns their ids. For development and tests only: the
/// CA's key sits in the store beside it.
DevelopmentCertificates ensure_development_certificates(const CertificateStore& store);

}  // namespace rtconn
