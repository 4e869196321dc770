#pragma once
// The TLS contexts a manager's connections are made with: one client context, made on first use,
// and the server context a TLS server manager sets (and replaces on certificate changes).

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include <asio/ssl/context.hpp>

#include "rtconn/certificate_store.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "rtconn/tls_failure.hpp"
#include "tls/tls_context.hpp"

namespace rtconn::detail {

class TlsContexts {
 public:
  /// How long a client context that could not be made stays failed before the store is read
  /// again: long enough that a flood of sends to TLS destinations does not read (and log) it once
  /// each, short enough that a certificate put right is used soon.
  static constexpr std::chrono::seconds client_retry_interval{5};

  TlsContexts(TlsOptions options, std::shared_ptr<Clock> clock);

  CertificateStore store() const;
  tls::TrustSettings trust() const;
  /// The client context; throws TlsFailureException when it cannot be made (e.g. the client
  /// certificate named in the options cannot be used; any other failure as reason Other), the
  /// same one again until `client_retry_interval` has passed.
  std::shared_ptr<asio::ssl::context> client();
  /// The server context; null until a TLS server manager sets one.
  std::shared_ptr<asio::ssl::context> server() const;
  void set_server(std::shared_ptr<asio::ssl::context> context);

 private:
  struct ClientFailure {
    TlsFailureException error;
    Clock::time_point retry_at;
  };

  std::shared_ptr<asio::ssl::context> make_client() const;
  // Logs `error` and keeps it for client_retry_interval; returns it to be thrown.
  TlsFailureException remember_client_failure(TlsFailureException error);

  const TlsOptions options_;
  const std::shared_ptr<Clock> clock_;
  // Guards the members below. Never held while a context is made (files read, keys checked): an
  // accept asks for the server context under it.
  mutable std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> client_;
  std::optional<ClientFailure> client_failure_;
  std::shared_ptr<asio::ssl::context> server_;
};

}  // namespace rtconn::detail
