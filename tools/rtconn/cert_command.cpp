#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "certificate_arguments.hpp"
#include "commands.hpp"
#include "rtconn/development_certificates.hpp"

namespace rtconn::cli {
namespace {

void print_id(const char* role, const CertificateId& id) {
  fmt::print("{:<7}--cert-issuer '{}' --cert-serial {}\n", role, id.issuer_name,
             serial_to_hex(id.serial_number));
}

}  // namespace

int cert_create(const CertificateArguments& arguments) {
  const auto store = store_of(arguments);
  const auto made = ensure_development_certificates(store);
  fmt::print("store  {}\n", store.directory().string());
  print_id("ca", made.ca);
  print_id("server", made.server);
  print_id("client", made.client);
  fmt::print("trust  {}\n", made.ca_file.string());
  return 0;
}

int cert_list(const CertificateArguments& arguments) {
  const auto store = store_of(arguments);
  const auto certificates = store.list();
  fmt::print("store {}: {} certificate(s)\n", store.directory().string(), certificates.size());
  for (const auto& c : certificates) {
    fmt::print(
        "\n{}\n  subject  {}\n  issuer   {}\n  serial   {}\n  valid    {:%F %T} .. {:%F %T} UTC\n"
        "  key      {}\n",
        c.file.filename().string(), c.subject, c.issuer, serial_to_hex(c.serial),
        std::chrono::floor<std::chrono::seconds>(c.not_before),
        std::chrono::floor<std::chrono::seconds>(c.not_after),
        c.has_private_key ? "present" : "absent");
  }
  return 0;
}

}  // namespace rtconn::cli
