// A store file with fuzzer-chosen contents, read as PEM and as PKCS#12: the store must list or
// skip it and name it unreadable, never crash.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "rtconn/certificate_store.hpp"
#include "rtconn/tls_failure.hpp"

namespace {

const std::filesystem::path& store_directory() {
  static const auto directory = [] {
    auto path = std::filesystem::temp_directory_path() /
                ("rtconn-store-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return directory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& directory = store_directory();
  for (const char* name : {"fuzzed.pem", "fuzzed.p12"}) {
    std::ofstream(directory / name, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const rtconn::CertificateStore store(directory, [](const auto&) { return std::string("x"); });
  store.list();
  try {
    store.find({"CN=fuzz", {1}});
  } catch (const rtconn::TlsFailureException&) {
  }
  return 0;
}
