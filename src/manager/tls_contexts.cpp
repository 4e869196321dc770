#include "manager/tls_contexts.hpp"

#include <spdlog/spdlog.h>

namespace rtconn::detail {

TlsContexts::TlsContexts(TlsOptions options, std::shared_ptr<Clock> clock)
    : options_(std::move(options)), clock_(std::move(clock)) {}

CertificateStore TlsContexts::store() const {
  return options_.certificate_store.empty() ? CertificateStore()
                                            : CertificateStore(options_.certificate_store);
}

tls::TrustSettings TlsContexts::trust() const {
  tls::TrustSettings trust;
  trust.system_bundle = options_.trust_system_bundle;
  trust.anchor_files = options_.trusted_ca_files;
  trust.anchor_directories = {store().trusted_directory()};
  return trust;
}

std::shared_ptr<asio::ssl::context> TlsContexts::make_client() const {
  if (!options_.certificate) return tls::make_client_context(trust(), nullptr);
  const auto identity = tls::load_local_identity(store(), *options_.certificate);
  return tls::make_client_context(trust(), &identity);
}

std::shared_ptr<asio::ssl::context> TlsContexts::client() {
  const auto now = clock_->now();
  {
    std::lock_guard lock(mutex_);
    if (client_) return client_;
    if (client_failure_ && now < client_failure_->retry_at) throw client_failure_->error;
  }
  // Two first sends may both make one; the first installed is kept, the other dropped.
  std::shared_ptr<asio::ssl::context> made;
  try {
    made = make_client();
  } catch (const TlsFailureException& e) {
    throw remember_client_failure(e);
  } catch (const std::exception& e) {  // OpenSSL out of memory, a store directory unreadable
    throw remember_client_failure(TlsFailureException(TlsFailureReason::Other, e.what()));
  }
  std::lock_guard lock(mutex_);
  if (!client_) client_ = std::move(made);
  client_failure_.reset();
  return client_;
}

TlsFailureException TlsContexts::remember_client_failure(TlsFailureException error) {
  spdlog::error("TLS unavailable for outgoing connections (tried again in {} s): {}",
                client_retry_interval.count(), error.what());
  const auto retry_at = clock_->now() + client_retry_interval;
  std::lock_guard lock(mutex_);
  client_failure_.emplace(ClientFailure{error, retry_at});
  return error;
}

std::shared_ptr<asio::ssl::context> TlsContexts::server() const {
  std::lock_guard lock(mutex_);
  return server_;
}

void TlsContexts::set_server(std::shared_ptr<asio::ssl::context> context) {
  std::lock_guard lock(mutex_);
  server_ = std::move(context);
}

}  // namespace rtconn::detail
