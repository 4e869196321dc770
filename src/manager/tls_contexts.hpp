#pragma once
// The TLS contexts a manager's connections are made with: one client context, made on first use,
// and the server context a TLS server manager sets (and replaces on certificate changes).

#include <memory>
#include <mutex>

#include <asio/ssl/context.hpp>

#include "rtconn/certificate_store.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "tls/tls_context.hpp"

namespace rtconn::detail {

class TlsContexts {
 public:
  explicit TlsContexts(TlsOptions options);

  CertificateStore store() const;
  tls::TrustSettings trust() const;
  /// The client context; throws TlsFailureException when it cannot be made (e.g. the client
  /// certificate named in the options cannot be used).
  std::shared_ptr<asio::ssl::context> client();
  /// The server context; null until a TLS server manager sets one.
  std::shared_ptr<asio::ssl::context> server() const;
  void set_server(std::shared_ptr<asio::ssl::context> context);

 private:
  const TlsOptions options_;
  mutable std::mutex mutex_;  // guards client_ and server_
  std::shared_ptr<asio::ssl::context> client_;
  std::shared_ptr<asio::ssl::context> server_;
};

}  // namespace rtconn::detail
