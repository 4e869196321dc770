#include "rtconn/real_time_server_tls_connection_manager.hpp"

#include <mutex>

#include "manager/manager_core.hpp"
#include "tls/local_identity.hpp"
#include "tls/tls_context.hpp"

namespace rtconn {
namespace detail {

// The certificate a TLS server manager presents and whether it asks for the client's; any change
// installs a fresh server context, which only handshakes started afterwards use.
class ServerTlsIdentity {
 public:
  ServerTlsIdentity(ManagerCore& core, CertificateId id)
      : core_(core),
        id_(std::move(id)),
        identity_(tls::load_local_identity(core.tls().store(), id_)) {
    install(identity_, mutual_);
  }

  CertificateId id() const {
    std::lock_guard lock(mutex_);
    return id_;
  }

  bool mutual() const {
    std::lock_guard lock(mutex_);
    return mutual_;
  }

  // Each change is recorded only once its context is in place: one that throws (trust anchors
  // that cannot be read, a certificate that cannot be used) leaves what is served and what is
  // reported as they were.
  void set_mutual(bool required) {
    std::lock_guard lock(mutex_);
    install(identity_, required);
    mutual_ = required;
  }

  void set_certificate(CertificateId id) {
    auto identity = tls::load_local_identity(core_.tls().store(), id);
    std::lock_guard lock(mutex_);
    install(identity, mutual_);
    id_ = std::move(id);
    identity_ = std::move(identity);
  }

 private:
  void install(const tls::LocalIdentity& identity, bool mutual) {
    core_.tls().set_server(tls::make_server_context(identity, core_.tls().trust(), mutual));
  }

  ManagerCore& core_;
  mutable std::mutex mutex_;  // guards id_, identity_ and mutual_
  CertificateId id_;
  tls::LocalIdentity identity_;
  bool mutual_ = false;
};

}  // namespace detail

RealTimeServerTlsConnectionManager::RealTimeServerTlsConnectionManager(
    const std::string& issuer_name, const SerialNumber& serial_number,
    ConnectionManagerOptions options)
    : RealTimeServerTlsConnectionManager(nullptr, issuer_name, serial_number, std::move(options)) {}

RealTimeServerTlsConnectionManager::RealTimeServerTlsConnectionManager(
    asio::any_io_executor executor, const std::string& issuer_name,
    const SerialNumber& serial_number, ConnectionManagerOptions options)
    : RealTimeServerConnectionManager(std::move(executor), std::move(options), TransportType::Tls),
      incoming_tls_negotiation_failed(core().events.incoming_tls_negotiation_failed),
      identity_(std::make_unique<detail::ServerTlsIdentity>(
          core(), CertificateId{issuer_name, serial_number})) {}

RealTimeServerTlsConnectionManager::~RealTimeServerTlsConnectionManager() = default;

bool RealTimeServerTlsConnectionManager::need_mutual_tls() const {
  return identity_->mutual();
}

void RealTimeServerTlsConnectionManager::set_need_mutual_tls(bool required) {
  identity_->set_mutual(required);
}

std::vector<std::string> RealTimeServerTlsConnectionManager::allowed_domains() const {
  return core().allowed_domains().get();
}

void RealTimeServerTlsConnectionManager::set_allowed_domains(std::vector<std::string> domains) {
  core().allowed_domains().set(std::move(domains));
}

void RealTimeServerTlsConnectionManager::add_to_allowed_domains(const std::string& domain) {
  core().allowed_domains().add(domain);
}

bool RealTimeServerTlsConnectionManager::remove_from_allowed_domains(const std::string& domain) {
  return core().allowed_domains().remove(domain);
}

CertificateId RealTimeServerTlsConnectionManager::local_certificate() const {
  return identity_->id();
}

void RealTimeServerTlsConnectionManager::set_local_certificate(const std::string& issuer_name,
                                                               const SerialNumber& serial_number) {
  identity_->set_certificate({issuer_name, serial_number});
}

}  // namespace rtconn
