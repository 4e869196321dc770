#pragma once
/// \file
/// The local certificate store: the Linux counterpart of the machine store UCMA reads.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rtconn/certificate_id.hpp"
#include "rtconn/certificate_info.hpp"

namespace rtconn {

/// What the store knows of one certificate.
struct StoredCertificate : CertificateInfo {
  bool has_private_key = false;
  std::filesystem::path file;
};

/// Asked for the password of an encrypted PKCS#12 file or PEM key.
using PasswordCallback = std::function<std::string(const std::filesystem::path& file)>;

/// A directory of certificates with their private keys:
/// - `NAME.pem` / `NAME.crt`: a certificate (first in the file; the rest is its chain), with its
///   private key in the same file or in `NAME.key` beside it;
/// - `NAME.p12` / `NAME.pfx`: PKCS#12 with key and chain; the password comes from the callback,
///   else from the environment variable RTCONN_CERT_PASSWORD, else it is empty;
/// - `trusted/`: extra trust anchors (PEM), used beside the system's bundle;
/// - `crls/`: certificate revocation lists (`.pem`, `.crl` or `.der`), see TlsOptions::crl_files.
/// Certificates are read at each look-up, so they can be replaced while a program runs; trust
/// anchors and CRLs when a manager makes a TLS context (and again at `reload_trust`).
class CertificateStore {
 public:
  /// $RTCONN_CERT_STORE, else $XDG_DATA_HOME/rtconn/certs, else ~/.local/share/rtconn/certs.
  static std::filesystem::path default_directory();

  /// The store at `default_directory()`.
  CertificateStore();
  explicit CertificateStore(std::filesystem::path directory, PasswordCallback password = {});

  const std::filesystem::path& directory() const noexcept { return directory_; }
  /// `directory()/trusted`.
  std::filesystem::path trusted_directory() const { return directory_ / "trusted"; }
  /// `directory()/crls`.
  std::filesystem::path crl_directory() const { return directory_ / "crls"; }
  const PasswordCallback& password_callback() const noexcept { return password_; }

  /// Every readable certificate in the store (unreadable files are skipped).
  std::vector<StoredCertificate> list() const;

  /// The certificate with this issuer and serial, checked for use as a local identity: found,
  /// with a private key that matches it, and valid now. Throws TlsFailureException with
  /// LocalCertificateNotFound, LocalCertificatePrivateKeyMissing, LocalCertificateKeyMismatch,
  /// CertificateExpired or LocalCertificateUnreadable.
  StoredCertificate find(const CertificateId& id) const;

 private:
  std::filesystem::path directory_;
  PasswordCallback password_;
};

}  // namespace rtconn
