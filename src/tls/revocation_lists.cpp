#include "tls/revocation_lists.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "rtconn/tls_failure.hpp"
#include "tls/openssl_handles.hpp"

namespace rtconn::tls {
namespace {

TlsFailureException unusable(const std::filesystem::path& file, const std::string& why) {
  return TlsFailureException(TlsFailureReason::Other,
                             "certificate revocation list " + file.string() + ": " + why);
}

std::vector<X509CrlPtr> read_revocation_lists(const std::filesystem::path& file) {
  BioPtr bio(BIO_new_file(file.c_str(), "rb"));
  if (!bio) throw unusable(file, take_openssl_error("cannot be opened"));
  std::vector<X509CrlPtr> lists;
  while (X509_CRL* list = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    lists.emplace_back(list);
  }
  // The reader stops at the end of the file ("no start line") or at a CRL it cannot read: one
  // damaged, also after good ones, must not leave its issuer unchecked.
  const auto stopped = ERR_peek_last_error();
  if (stopped != 0 &&
      (ERR_GET_LIB(stopped) != ERR_LIB_PEM || ERR_GET_REASON(stopped) != PEM_R_NO_START_LINE)) {
    throw unusable(file, take_openssl_error("a CRL in it cannot be read"));
  }
  ERR_clear_error();
  if (!lists.empty()) return lists;
  if (BIO_seek(bio.get(), 0) == 0) {
    if (X509_CRL* list = d2i_X509_CRL_bio(bio.get(), nullptr)) lists.emplace_back(list);
  }
  ERR_clear_error();
  if (lists.empty()) throw unusable(file, "holds no CRL (PEM or DER)");
  return lists;
}

// OpenSSL 3.0 sorts a CRL's entries on the first look-up, under the CRL's lock, but asks whether
// they are sorted without it, so two loops verifying at once could see a half-sorted list. A
// look-up before any handshake sorts them while nothing else can read them.
void sort_entries_now(X509_CRL* list) {
  std::unique_ptr<ASN1_INTEGER, OpensslDeleter<ASN1_INTEGER, ASN1_INTEGER_free>> serial(
      ASN1_INTEGER_new());
  X509_REVOKED* entry = nullptr;
  if (serial) X509_CRL_get0_by_serial(list, &entry, serial.get());
}

}  // namespace

void add_revocation_lists(X509_STORE* store, const std::vector<std::filesystem::path>& files) {
  bool any = false;
  for (const auto& file : files) {
    for (auto& list : read_revocation_lists(file)) {
      // Deltas are not used (X509_V_FLAG_USE_DELTAS is off): the base CRL published beside them
      // is what counts. Left out, so a delta alone does not pass for its issuer's CRL.
      if (X509_CRL_get_ext_by_NID(list.get(), NID_delta_crl, -1) >= 0) {
        spdlog::warn("certificate revocation list {}: a delta CRL, skipped (its base CRL counts)",
                     file.string());
        continue;
      }
      sort_entries_now(list.get());
      if (X509_STORE_add_crl(store, list.get()) != 1) {
        throw unusable(file, take_openssl_error("not added"));
      }
      any = true;
    }
  }
  // CRL_CHECK_ALL: a revoked intermediate CA takes every certificate under it with it.
  if (any && X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) != 1) {
    throw TlsFailureException(TlsFailureReason::Other,
                              take_openssl_error("revocation checking could not be turned on"));
  }
}

std::vector<std::filesystem::path> revocation_list_files(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator items(directory, ec);
  // Only a folder that is not there means no CRLs: one that cannot be read would silently turn
  // revocation checking off.
  if (ec == std::errc::no_such_file_or_directory) return files;
  if (ec) throw unusable(directory, ec.message());
  for (const auto& item : items) {
    const auto extension = item.path().extension();
    if (extension == ".pem" || extension == ".crl" || extension == ".der") {
      files.push_back(item.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace rtconn::tls
