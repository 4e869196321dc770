#include "manager/tls_contexts.hpp"

#include <spdlog/spdlog.h>

#include "tls/revocation_lists.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn::detail {

TlsContexts::TlsContexts(TlsOptions options, std::shared_ptr<Clock> clock)
    : options_(std::move(options)), clock_(std::move(clock)), certificate_(options_.certificate) {}

CertificateStore TlsContexts::store() const {
  return options_.certificate_store.empty() ? CertificateStore()
                                            : CertificateStore(options_.certificate_store);
}

tls::TrustSettings TlsContexts::trust() const {
  tls::TrustSettings trust;
  trust.system_bundle = options_.trust_system_bundle;
  trust.anchor_files = options_.trusted_ca_files;
  trust.anchor_directories = {store().trusted_directory()};
  trust.revocation_list_files = tls::revocation_list_files(store().crl_directory());
  trust.revocation_list_files.insert(trust.revocation_list_files.end(), options_.crl_files.begin(),
                                     options_.crl_files.end());
  return trust;
}

std::shared_ptr<asio::ssl::context> TlsContexts::make_client(
    const std::optional<CertificateId>& certificate, bool serving) const {
  if (!certificate) return tls::make_client_context(trust(), nullptr);
  return make_client(tls::load_local_identity(store(), *certificate), serving);
}

std::shared_ptr<asio::ssl::context> TlsContexts::make_client(const tls::LocalIdentity& identity,
                                                             bool serving) const {
  // A server's certificate goes out to servers too, but only where it may: one issued for
  // serverAuth alone would fail every server that asks for a client certificate, even one that
  // would have served a client presenting none.
  if (serving && !tls::may_authenticate_client(identity.certificate.get())) {
    spdlog::info("outgoing TLS connections present no certificate: {} is not for client use",
                 identity.info.subject);
    return tls::make_client_context(trust(), nullptr);
  }
  return tls::make_client_context(trust(), &identity);
}

std::shared_ptr<asio::ssl::context> TlsContexts::client() {
  const auto now = clock_->now();
  std::optional<CertificateId> certificate;
  std::uint64_t generation = 0;
  bool serving = false;
  {
    std::lock_guard lock(mutex_);
    if (client_) return client_;
    if (client_failure_ && now < client_failure_->retry_at) throw client_failure_->error;
    certificate = certificate_;
    generation = generation_;
    serving = server_ != nullptr;
  }
  // Two first sends may both make one; the first installed is kept, the other dropped. One made
  // for a certificate changed meanwhile serves its connection and is not kept.
  std::shared_ptr<asio::ssl::context> made;
  try {
    made = make_client(certificate, serving);
  } catch (const TlsFailureException& e) {
    throw remember_client_failure(e, generation);
  } catch (const std::exception& e) {  // OpenSSL out of memory, a store directory unreadable
    throw remember_client_failure(TlsFailureException(TlsFailureReason::Other, e.what()),
                                  generation);
  }
  std::lock_guard lock(mutex_);
  if (generation != generation_) return made;
  if (!client_) client_ = std::move(made);
  client_failure_.reset();
  return client_;
}

TlsFailureException TlsContexts::remember_client_failure(TlsFailureException error,
                                                         std::uint64_t generation) {
  spdlog::error("TLS unavailable for outgoing connections (tried again in {} s): {}",
                client_retry_interval.count(), error.what());
  const auto retry_at = clock_->now() + client_retry_interval;
  std::lock_guard lock(mutex_);
  if (generation == generation_) client_failure_.emplace(ClientFailure{error, retry_at});
  return error;
}

std::shared_ptr<asio::ssl::context> TlsContexts::server() const {
  std::lock_guard lock(mutex_);
  return server_;
}

std::optional<CertificateId> TlsContexts::certificate() const {
  std::lock_guard lock(mutex_);
  return certificate_;
}

bool TlsContexts::mutual() const {
  std::lock_guard lock(mutex_);
  return mutual_;
}

void TlsContexts::serve(const CertificateId& id) {
  std::lock_guard changing(changes_mutex_);
  auto identity = tls::load_local_identity(store(), id);
  auto server = tls::make_server_context(identity, trust(), mutual());
  // The client context is made on first use: a server may never connect out.
  install(id, std::move(identity), std::move(server), nullptr);
}

void TlsContexts::set_certificate(const CertificateId& id) {
  std::lock_guard changing(changes_mutex_);
  auto identity = tls::load_local_identity(store(), id);
  if (identity_) {
    // Serving: making the server context checks what OpenSSL thinks of the certificate; the
    // client context, and the anchors only it reads, wait for a first connection out, as at
    // start.
    auto server = tls::make_server_context(identity, trust(), mutual());
    return install(id, std::move(identity), std::move(server), nullptr);
  }
  // A client manager's is made now, so a certificate OpenSSL will not use (or anchors that
  // cannot be read) are refused here, not at the next send.
  std::shared_ptr<asio::ssl::context> client;
  try {
    client = make_client(identity, false);
  } catch (const TlsFailureException&) {
    throw;
  } catch (const std::exception& e) {  // OpenSSL out of memory, as in client()
    throw TlsFailureException(TlsFailureReason::Other, e.what());
  }
  install(id, std::move(identity), nullptr, std::move(client));
}

void TlsContexts::set_mutual(bool required) {
  std::lock_guard changing(changes_mutex_);
  if (!identity_) throw std::logic_error("mutual TLS needs a TLS server manager");
  auto server = tls::make_server_context(*identity_, trust(), required);
  std::lock_guard lock(mutex_);
  server_ = std::move(server);
  mutual_ = required;
}

void TlsContexts::reload_trust() {
  std::lock_guard changing(changes_mutex_);
  std::shared_ptr<asio::ssl::context> server;
  std::shared_ptr<asio::ssl::context> client;
  try {
    if (identity_) {
      server = tls::make_server_context(*identity_, trust(), mutual());
      // Made now, not on first use as at start: a server that asks no client for a certificate
      // reads the trust files for this one only, and one that cannot be read must stop the
      // reload here rather than the next connection out.
      client = make_client(*identity_, true);
    } else {
      client = make_client(certificate(), false);
    }
  } catch (const TlsFailureException&) {
    throw;
  } catch (const std::exception& e) {  // OpenSSL out of memory, a folder unreadable
    throw TlsFailureException(TlsFailureReason::Other, e.what());
  }
  std::lock_guard lock(mutex_);
  if (server) server_ = std::move(server);
  client_ = std::move(client);
  client_failure_.reset();
  ++generation_;  // a client context being made meanwhile from the old files is not kept
}

void TlsContexts::install(const CertificateId& id, tls::LocalIdentity identity,
                          std::shared_ptr<asio::ssl::context> server,
                          std::shared_ptr<asio::ssl::context> client) {
  std::lock_guard lock(mutex_);
  certificate_ = id;
  ++generation_;
  client_ = std::move(client);
  client_failure_.reset();
  if (server) {
    server_ = std::move(server);
    identity_ = std::move(identity);
  }
}

}  // namespace rtconn::detail
