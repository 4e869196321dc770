#pragma once
/// \file
/// Arguments of the managers' events (UCMA's CollectionChangedEventArgs and friends).

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "rtconn/certificate_info.hpp"
#include "rtconn/ip_endpoint.hpp"

namespace rtconn {

class ConnectionPool;
class RealTimeConnection;

/// ConnectionPoolAdded / ConnectionPoolRemoved.
struct ConnectionPoolEventArgs {
  std::shared_ptr<ConnectionPool> item;
};

/// A connection joined (`reason` empty) or left (`reason` says why) a pool or a manager.
struct ConnectionEventArgs {
  std::shared_ptr<RealTimeConnection> item;
  std::error_code reason;
  /// On removal after a TLS failure: OpenSSL's own words (e.g. "tlsv13 alert certificate
  /// required"), which `reason` only classifies. Empty otherwise.
  std::string detail;
  /// IncomingConnectionAdded under mutual TLS with allowed domains (UCMA MatchingDomainName):
  /// the client certificate's domain they admitted. Empty otherwise.
  std::string matching_domain_name;
};

/// ListeningAddressesChanged: the addresses the server manager now listens on (empty: none).
struct ListeningAddressesChangedEventArgs {
  std::vector<IpEndpoint> addresses;
};

/// IncomingTlsNegotiationFailed: a peer connected but TLS could not be set up with it.
/// What UCMA's TlsFailureException carries: the endpoints and the certificate presented.
struct TlsNegotiationFailedEventArgs {
  IpEndpoint remote_endpoint;
  std::error_code error;      ///< a TlsFailureReason, or the socket error that ended the handshake
  std::string detail;         ///< OpenSSL's own words, where it had any
  IpEndpoint local_endpoint;  ///< the address the peer connected to
  /// The client's certificate when the handshake failed over it: untrusted, expired, or outside
  /// the allowed domains.
  std::optional<CertificateInfo> remote_certificate;
};

/// ListeningAborted: listening ended; `error` is empty when the application stopped it.
struct ListeningAbortedEventArgs {
  std::error_code error;
};

}  // namespace rtconn
