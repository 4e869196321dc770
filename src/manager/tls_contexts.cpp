#include "manager/tls_contexts.hpp"

namespace rtconn::detail {

TlsContexts::TlsContexts(TlsOptions options) : options_(std::move(options)) {}

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

std::shared_ptr<asio::ssl::context> TlsContexts::client() {
  std::lock_guard lock(mutex_);
  if (!client_) {
    if (options_.certificate) {
      const auto identity = tls::load_local_identity(store(), *options_.certificate);
      client_ = tls::make_client_context(trust(), &identity);
    } else {
      client_ = tls::make_client_context(trust(), nullptr);
    }
  }
  return client_;
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
