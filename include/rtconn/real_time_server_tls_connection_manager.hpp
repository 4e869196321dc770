#pragma once
/// \file
/// A server manager listening on TLS or mutual TLS (UCMA's RealTimeServerTlsConnectionManager).

#include <string>
#include <vector>

#include "rtconn/certificate_id.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"
#include "rtconn/tls_failure.hpp"

namespace rtconn {

/// Presents a certificate from the local store, named as UCMA names it: issuer and serial; its
/// outgoing TLS connections present the same one to servers that ask (it replaces
/// `options.tls.certificate`), unless it is not for client use (an extendedKeyUsage without
/// clientAuth, which every such server would refuse): then they present none.
/// With `need_mutual_tls`, every client must present a certificate chaining to the trust anchors
/// (the system bundle unless switched off, the store's `trusted/`, `options.tls.trusted_ca_files`).
class RealTimeServerTlsConnectionManager final : public RealTimeServerConnectionManager {
 public:
  /// Looks the certificate up in `options.tls.certificate_store` (or the default store). Throws
  /// TlsFailureException when it cannot be found or used (see CertificateStore::find).
  RealTimeServerTlsConnectionManager(const std::string& issuer_name,
                                     const SerialNumber& serial_number,
                                     ConnectionManagerOptions options = {});
  /// As above, running on `executor`.
  RealTimeServerTlsConnectionManager(asio::any_io_executor executor, const std::string& issuer_name,
                                     const SerialNumber& serial_number,
                                     ConnectionManagerOptions options = {});
  ~RealTimeServerTlsConnectionManager() override;

  /// A peer connected but the TLS handshake failed (UCMA IncomingTlsNegotiationFailed); the
  /// listener goes on serving others.
  Event<TlsNegotiationFailedEventArgs>& incoming_tls_negotiation_failed;

  /// Whether clients must present a certificate (UCMA NeedMutualTls). A change applies to
  /// connections accepted afterwards.
  bool need_mutual_tls() const;
  void set_need_mutual_tls(bool required);

  /// Under mutual TLS, the clients admitted (UCMA AllowedDomains): a client certificate must
  /// vouch (CertificateInfo::domains, RFC 5922) for one of these, "example.com" exactly or
  /// ".example.com" any name under it, case aside; others are closed after the handshake,
  /// reported by IncomingTlsNegotiationFailed as IncorrectNameInRemoteCertificate. Empty (the
  /// default) admits every client whose chain is trusted. IncomingConnectionAdded carries the
  /// name admitted (`matching_domain_name`). Unlike UCMA, switching mutual TLS on does not set
  /// the list to the local host: that suits servers of one domain talking to each other, and
  /// would refuse every other client; the application says whom it admits. Changes apply to
  /// handshakes that finish afterwards. The setters throw std::invalid_argument for "", ".",
  /// a name with ".." or a wildcard ("*.example.com": write ".example.com").
  std::vector<std::string> allowed_domains() const;
  void set_allowed_domains(std::vector<std::string> domains);
  void add_to_allowed_domains(const std::string& domain);
  /// False when it was not in the list.
  bool remove_from_allowed_domains(const std::string& domain);

  /// The certificate presented, to clients and (when for client use) to the servers this manager
  /// connects to; the constructor's until `set_local_certificate` names another.
  CertificateId local_certificate() const;
};

}  // namespace rtconn
