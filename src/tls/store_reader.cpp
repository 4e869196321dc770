#include "tls/store_reader.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

namespace rtconn::tls {
namespace {

std::string password_for(const CertificateStore& store, const std::filesystem::path& file) {
  if (store.password_callback()) return store.password_callback()(file);
  const char* env = std::getenv("RTCONN_CERT_PASSWORD");
  return env ? env : "";
}

int pem_password(char* buffer, int size, int, void* password) {
  const auto& text = *static_cast<const std::string*>(password);
  const int length = std::min(size, static_cast<int>(text.size()));
  std::memcpy(buffer, text.data(), static_cast<std::size_t>(length));
  return length;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

BioPtr memory_bio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

EvpPkeyPtr read_pem_key(const std::string& bytes, std::string password) {
  auto bio = memory_bio(bytes);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, pem_password, &password));
  ERR_clear_error();  // "no key here" is an answer, not an error to leave queued
  return key;
}

// A PEM private key block of any kind: PKCS#8 plain or encrypted, or a traditional one.
bool holds_pem_key(const std::string& bytes) {
  return bytes.find("PRIVATE KEY-----") != std::string::npos;
}

void read_pem(const CertificateStore& store, const std::filesystem::path& file,
              StoreContents& contents) {
  const auto bytes = read_file(file);
  StoreEntry entry;
  entry.file = file;
  auto bio = memory_bio(bytes);
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (!entry.certificate) {
      entry.certificate.reset(certificate);
    } else {
      entry.chain.emplace_back(certificate);
    }
  }
  ERR_clear_error();
  if (!entry.certificate) {
    contents.unreadable.emplace_back(file, "no PEM certificate in it");
    return;
  }
  const auto password = password_for(store, file);
  entry.key = read_pem_key(bytes, password);
  if (!entry.key && holds_pem_key(bytes)) {
    entry.unreadable_key = "the private key in " + file.string() + " cannot be read";
    contents.unreadable.emplace_back(file, "private key cannot be read");
  }
  if (!entry.key && entry.unreadable_key.empty()) {
    auto key_file = file;
    key_file.replace_extension(".key");
    if (std::filesystem::exists(key_file)) {
      entry.key = read_pem_key(read_file(key_file), password);
      if (!entry.key) {
        entry.unreadable_key = "the private key " + key_file.string() + " cannot be read";
        contents.unreadable.emplace_back(key_file, "private key cannot be read");
      }
    }
  }
  contents.entries.push_back(std::move(entry));
}

void read_pkcs12(const CertificateStore& store, const std::filesystem::path& file,
                 StoreContents& contents) {
  const auto bytes = read_file(file);
  auto bio = memory_bio(bytes);
  PKCS12* p12 = d2i_PKCS12_bio(bio.get(), nullptr);
  if (!p12) {
    contents.unreadable.emplace_back(file, take_openssl_error("not PKCS#12"));
    return;
  }
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  STACK_OF(X509)* chain = nullptr;
  const auto password = password_for(store, file);
  const bool parsed = PKCS12_parse(p12, password.c_str(), &key, &certificate, &chain) == 1;
  PKCS12_free(p12);
  if (!parsed || !certificate) {
    contents.unreadable.emplace_back(file, take_openssl_error("wrong password or damaged"));
    EVP_PKEY_free(key);
    X509_free(certificate);
    sk_X509_pop_free(chain, X509_free);
    return;
  }
  StoreEntry entry;
  entry.file = file;
  entry.certificate.reset(certificate);
  entry.key.reset(key);
  for (int i = 0; chain && i < sk_X509_num(chain); ++i)
    entry.chain.emplace_back(sk_X509_value(chain, i));
  sk_X509_free(chain);  // the certificates now belong to entry.chain
  contents.entries.push_back(std::move(entry));
}

}  // namespace

StoreContents read_store(const CertificateStore& store) {
  // Sorted, so that which of two equal certificates wins does not depend on the file system.
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(store.directory(), ec)) {
    if (item.is_regular_file(ec)) files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  StoreContents contents;
  for (const auto& file : files) {
    const auto extension = file.extension().string();
    if (extension == ".pem" || extension == ".crt") {
      read_pem(store, file, contents);
    } else if (extension == ".p12" || extension == ".pfx") {
      read_pkcs12(store, file, contents);
    }
  }
  return contents;
}

}  // namespace rtconn::tls
