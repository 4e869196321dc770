#include "certificate_arguments.hpp"

#include <stdexcept>

namespace rtconn::cli {

CertificateStore store_of(const CertificateArguments& arguments) {
  return arguments.store.empty() ? CertificateStore() : CertificateStore(arguments.store);
}

std::optional<CertificateId> certificate_of(const CertificateArguments& arguments) {
  if (arguments.issuer.empty() && arguments.serial.empty()) return std::nullopt;
  if (arguments.issuer.empty() || arguments.serial.empty()) {
    throw std::invalid_argument("--cert-issuer and --cert-serial go together");
  }
  auto serial = serial_from_hex(arguments.serial);
  if (!serial) throw std::invalid_argument("--cert-serial is not hex: " + arguments.serial);
  return CertificateId{arguments.issuer, std::move(*serial)};
}

}  // namespace rtconn::cli
