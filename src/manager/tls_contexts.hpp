#pragma once
// The TLS contexts a manager's connections are made with, and the one certificate they present:
// the client context (made on first use, or by a client manager's change of certificate) and
// the server context a TLS server manager serves with. A change of certificate, of mutual TLS or
// of trust installs fresh contexts, which only handshakes started afterwards use.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include <asio/ssl/context.hpp>

#include "rtconn/certificate_store.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "rtconn/tls_failure.hpp"
#include "tls/local_identity.hpp"
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
  /// certificate cannot be used; any other failure as reason Other), the same one again until
  /// `client_retry_interval` has passed.
  std::shared_ptr<asio::ssl::context> client();
  /// The server context; null unless serving.
  std::shared_ptr<asio::ssl::context> server() const;

  /// The certificate presented: to servers that ask for one (when serving, only if it is for
  /// client use), and to every client when serving.
  std::optional<CertificateId> certificate() const;
  bool mutual() const;

  // Each change takes effect only once what it needs is in place: one that throws
  // (TlsFailureException for a certificate that cannot be used; trust anchors that cannot be
  // read) leaves what is presented and what is reported as they were.
  /// Serves TLS presenting `id` (a TLS server manager's constructor).
  void serve(const CertificateId& id);
  /// Presents `id` from now on.
  void set_certificate(const CertificateId& id);
  /// Asks clients for a certificate, or stops asking; serving only.
  void set_mutual(bool required);
  /// Makes the contexts again with the trust anchors and CRLs as the files now hold them.
  void reload_trust();

 private:
  struct ClientFailure {
    TlsFailureException error;
    Clock::time_point retry_at;
  };

  // `serving`: the certificate is also a TLS server manager's own.
  std::shared_ptr<asio::ssl::context> make_client(const std::optional<CertificateId>& certificate,
                                                  bool serving) const;
  std::shared_ptr<asio::ssl::context> make_client(const tls::LocalIdentity& identity,
                                                  bool serving) const;
  // Logs `error` and, unless the certificate changed since `generation`, keeps it for
  // client_retry_interval; returns it to be thrown.
  TlsFailureException remember_client_failure(TlsFailureException error, std::uint64_t generation);
  // Makes `id` what is presented, with its contexts (a null server: not serving; a null
  // client: made on first use). changes_mutex_ held; nothing here throws.
  void install(const CertificateId& id, tls::LocalIdentity identity,
               std::shared_ptr<asio::ssl::context> server,
               std::shared_ptr<asio::ssl::context> client);

  const TlsOptions options_;
  const std::shared_ptr<Clock> clock_;
  // Held through a change, contexts made and files read under it; serializes changes, not
  // connections.
  std::mutex changes_mutex_;
  std::optional<tls::LocalIdentity> identity_;  // loaded when serving; changes_mutex_ held
  // Guards the members below. Never held while a context is made (files read, keys checked): an
  // accept asks for the server context under it.
  mutable std::mutex mutex_;
  std::optional<CertificateId> certificate_;
  std::uint64_t generation_ = 0;  // counts changes of certificate_ and of trust
  bool mutual_ = false;
  std::shared_ptr<asio::ssl::context> client_;
  std::optional<ClientFailure> client_failure_;
  std::shared_ptr<asio::ssl::context> server_;
};

}  // namespace rtconn::detail
