#pragma once
// OpenSSL contexts for rtconn's TLS: 1.2 and 1.3 only, modern suites, record buffers released
// when idle, session resumption, SSLKEYLOGFILE honoured.

#include <filesystem>
#include <memory>
#include <vector>

#include <asio/ssl/context.hpp>

#include "tls/local_identity.hpp"

namespace rtconn::tls {

/// Where trust anchors come from.
struct TrustSettings {
  bool system_bundle = true;                              // the system's CA bundle
  std::vector<std::filesystem::path> anchor_files;        // PEM files, each one or more CAs
  std::vector<std::filesystem::path> anchor_directories;  // every .pem/.crt in them
  // Certificate revocation lists checked against (see tls/revocation_lists.hpp).
  std::vector<std::filesystem::path> revocation_list_files;
};

/// A server context presenting `identity`; with `require_client_certificate`, the handshake
/// fails unless the client presents a certificate chaining to `trust`.
std::shared_ptr<asio::ssl::context> make_server_context(const LocalIdentity& identity,
                                                        const TrustSettings& trust,
                                                        bool require_client_certificate);

/// A client context verifying servers against `trust`, presenting `identity` when not null.
std::shared_ptr<asio::ssl::context> make_client_context(const TrustSettings& trust,
                                                        const LocalIdentity* identity);

}  // namespace rtconn::tls
