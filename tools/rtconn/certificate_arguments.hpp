#pragma once
// Turning `--store`, `--cert-issuer`, `--cert-serial` into what the library takes.

#include <optional>

#include "commands.hpp"
#include "rtconn/certificate_store.hpp"

namespace rtconn::cli {

CertificateStore store_of(const CertificateArguments& arguments);
/// The named certificate; nullopt when neither option is given. Throws std::invalid_argument
/// when only one is, or the serial is not hex.
std::optional<CertificateId> certificate_of(const CertificateArguments& arguments);

}  // namespace rtconn::cli
