#pragma once
// Reads every certificate, chain and key of a CertificateStore directory.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "rtconn/certificate_store.hpp"
#include "tls/openssl_handles.hpp"

namespace rtconn::tls {

struct StoreEntry {
  X509Ptr certificate;
  std::vector<X509Ptr> chain;  // what followed the certificate in its file, issuer first
  EvpPkeyPtr key;              // null when the store holds none for it, or none it can read
  std::filesystem::path file;
  std::string unreadable_key;  // why a key that is there could not be read (a wrong password)
};

struct StoreContents {
  std::vector<StoreEntry> entries;
  std::vector<std::pair<std::filesystem::path, std::string>> unreadable;  // file, why
};

StoreContents read_store(const CertificateStore& store);

}  // namespace rtconn::tls
