#pragma once
// The application traffic secrets of a TLS 1.3 handshake, for RecordProtection to
// carry the connection on without its SSL object. OpenSSL 3.0 shows them only to its key log
// callback (as it does to SSLKEYLOGFILE); the callback also keeps writing that file when set.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <openssl/ssl.h>

#include "tls/record_protection.hpp"

namespace rtconn::tls {

/// Counts the whole TLS records in a byte stream given piece by piece.
class RecordCounter {
 public:
  void feed(const char* data, std::size_t size) noexcept;
  std::uint64_t records() const noexcept { return records_; }
  bool at_record_boundary() const noexcept { return header_seen_ == 0; }

 private:
  std::uint64_t records_ = 0;
  std::size_t body_left_ = 0;
  std::array<unsigned char, 5> header_{};
  std::uint8_t header_seen_ = 0;  // 5: inside a record's body
};

/// One handshake's capture, on our `side` of it. The connection feeds the counters every byte
/// OpenSSL reads and writes; the key log callback notes each application secret and how many
/// records had passed when OpenSSL switched to it, which is where its sequence numbers start.
class TrafficSecretCapture {
 public:
  explicit TrafficSecretCapture(Side side = Side::server) noexcept : side_(side) {}

  /// Captures `ssl`'s secrets from now on; the capture must outlive the handshake or be
  /// released first.
  void attach(SSL* ssl) noexcept;
  void release(SSL* ssl) noexcept;

  RecordCounter read;
  RecordCounter written;

  struct Secrets {
    RecordProtection::Direction read;
    RecordProtection::Direction write;
  };
  /// Both directions' secrets and sequence numbers once the handshake is over: nullopt when a
  /// secret is missing or OpenSSL stopped inside a record.
  std::optional<Secrets> secrets() const noexcept;

  /// Takes one key log line of the connection's.
  void note(const char* line) noexcept;

 private:
  struct Noted {
    std::array<std::uint8_t, 48> secret{};
    std::uint8_t size = 0;
    std::uint64_t records_before = 0;
  };
  Noted client_;  // the client's sending secret: what a server reads with
  Noted server_;
  Side side_;
};

/// The key log callback: captures for connections that attached one, and appends the NSS key
/// log line to $SSLKEYLOGFILE when it is set (so Wireshark can decrypt a capture).
void on_key_logged(const SSL* ssl, const char* line);

}  // namespace rtconn::tls
