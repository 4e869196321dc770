#pragma once
/// \file
/// What a certificate says about its holder: for the store's listings and for TLS peers.

#include <chrono>
#include <string>
#include <vector>

#include "rtconn/certificate_id.hpp"

namespace rtconn {

/// The facts of an X.509 certificate an application decides by.
struct CertificateInfo {
  std::string subject;  ///< RFC 4514 form
  std::string issuer;   ///< RFC 4514 form
  SerialNumber serial;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::vector<std::string> dns_names;  ///< subjectAltName dNSName entries
  std::vector<std::string> uris;       ///< subjectAltName URI entries (`sip:example.com`)
  /// The SIP domains it vouches for (RFC 5922 7.1): its `sip:` URIs without a user part; else
  /// its dNSName entries; else, with no subjectAltName at all, its subject's common name.
  std::vector<std::string> domains;

  CertificateId id() const { return {issuer, serial}; }
};

/// The TLS state of a connection once its handshake is done.
struct TlsSessionInfo {
  std::string protocol;  ///< "TLSv1.3", "TLSv1.2"
  std::string cipher;    ///< OpenSSL's name of the suite
  bool resumed = false;  ///< an earlier session was resumed (no full handshake)
  bool has_peer_certificate = false;
  CertificateInfo peer_certificate;  ///< valid when has_peer_certificate
  /// On an incoming connection under mutual TLS with allowed domains: the domain of the peer's
  /// certificate that one of them admitted (UCMA MatchingDomainName). Empty otherwise.
  std::string matching_domain_name;
};

}  // namespace rtconn
