#pragma once
// The peers a mutual-TLS server manager admits (UCMA AllowedDomains): a client certificate must
// vouch for one of these domains, "example.com" exactly or ".example.com" any name under it.
// Empty admits every client whose chain the handshake accepted.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rtconn/certificate_info.hpp"

namespace rtconn::detail {

/// Safe to use from any thread.
class AllowedDomains {
 public:
  std::vector<std::string> get() const;
  bool empty() const;
  /// Each throws std::invalid_argument for an empty domain, a lone ".", ".." or a wildcard;
  /// each domain is kept once, case aside.
  void set(std::vector<std::string> domains);
  void add(const std::string& domain);
  /// False when it was not there.
  bool remove(const std::string& domain);

  /// The certificate's domain that an entry admits; an empty string when every client is
  /// admitted (an empty list); none when the certificate vouches for no allowed domain.
  std::optional<std::string> match(const CertificateInfo& certificate) const;

 private:
  mutable std::mutex mutex_;  // guards domains_
  std::vector<std::string> domains_;
};

}  // namespace rtconn::detail
