#include "rtconn/real_time_server_tls_connection_manager.hpp"

#include "manager/manager_core.hpp"

namespace rtconn {
namespace {

// The manager presents one certificate, to clients and to the servers it connects to.
ConnectionManagerOptions presenting(ConnectionManagerOptions options, CertificateId id) {
  options.tls.certificate = std::move(id);
  return options;
}

}  // namespace

RealTimeServerTlsConnectionManager::RealTimeServerTlsConnectionManager(
    const std::string& issuer_name, const SerialNumber& serial_number,
    ConnectionManagerOptions options)
    : RealTimeServerTlsConnectionManager(nullptr, issuer_name, serial_number, std::move(options)) {}

RealTimeServerTlsConnectionManager::RealTimeServerTlsConnectionManager(
    asio::any_io_executor executor, const std::string& issuer_name,
    const SerialNumber& serial_number, ConnectionManagerOptions options)
    : RealTimeServerConnectionManager(
          std::move(executor),
          presenting(std::move(options), CertificateId{issuer_name, serial_number}),
          TransportType::Tls),
      incoming_tls_negotiation_failed(core().events.incoming_tls_negotiation_failed) {
  core().tls().serve({issuer_name, serial_number});
}

RealTimeServerTlsConnectionManager::~RealTimeServerTlsConnectionManager() = default;

bool RealTimeServerTlsConnectionManager::need_mutual_tls() const {
  return core().tls().mutual();
}

void RealTimeServerTlsConnectionManager::set_need_mutual_tls(bool required) {
  core().tls().set_mutual(required);
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
  return *RealTimeConnectionManager::local_certificate();
}

}  // namespace rtconn
