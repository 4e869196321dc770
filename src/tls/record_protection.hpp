#pragma once
// TLS 1.3 record protection (RFC 8446 section 5) for a connection whose handshake OpenSSL did:
// what kernel TLS offload does, done in user space. OpenSSL 3.0 keeps ~15 KB per SSL object for
// the life of a connection and offers no way to shed it; with the traffic secrets in hand, a
// connection needs ~250 bytes of key state instead. The AEAD itself is still OpenSSL's (EVP),
// through cipher contexts each thread keeps, re-keyed only when another connection used them.
// Knows no sockets: records come in and go out as bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include <asio/buffer.hpp>

namespace rtconn::tls {

/// Why a protected stream failed: one of ours (the value is the alert we send, RFC 8446 6), or
/// the peer's alert (peer_alert_base + its description).
enum class RecordError {
  unexpected_message = 10,
  bad_record_mac = 20,
  record_overflow = 22,
  illegal_parameter = 47,
  decode_error = 50,
  internal_error = 80,
  peer_alert_base = 256,
};
const std::error_category& record_category() noexcept;
std::error_code make_error_code(RecordError e) noexcept;
/// The alert to send for `ec` before closing; nullopt for the peer's own alert.
std::optional<std::uint8_t> alert_for(std::error_code ec) noexcept;

/// Which end of the connection we are.
enum class Side : std::uint8_t { server, client };

class RecordProtection {
 public:
  enum class Suite : std::uint8_t { aes_128_gcm_sha256, aes_256_gcm_sha384, chacha20_poly1305 };
  /// The suite for an IANA cipher suite number; nullopt for one not handled here (CCM).
  static std::optional<Suite> suite_of(std::uint16_t iana_id) noexcept;

  struct Direction {
    std::span<const std::uint8_t> secret;  ///< the application traffic secret
    std::uint64_t sequence;                ///< records already protected under it
  };
  /// A client also takes the server's NewSessionTickets, ignoring them: the session cache has
  /// what came before the SSL object went.
  RecordProtection(Suite suite, Direction read, Direction write, Side side = Side::server);

  /// Appends `buffers` as application data records (16 KiB of text at most each).
  void seal(std::span<const asio::const_buffer> buffers, std::string& out);
  /// Appends an alert record: close_notify (0), or the one alert_for names before a close.
  void seal_alert(std::uint8_t description, std::string& out);

  /// The size of the record `in` begins with, 0 while its header is incomplete; an error for a
  /// header no protected TLS 1.3 record has.
  static std::size_t record_size(std::span<const char> in, std::error_code& ec) noexcept;

  struct Opened {
    enum class Kind { data, control, peer_closed } kind;
    std::span<char> data;  ///< the application data (Kind::data)
  };
  /// Decrypts the whole record `record` in place. Handshake messages (KeyUpdate; a client's
  /// tickets) and harmless alerts are handled here: Kind::control, any answer appended to
  /// `reply`.
  Opened open(std::span<char> record, std::string& reply, std::error_code& ec);

 private:
  struct TrafficKey {
    std::array<std::uint8_t, 48> secret;
    std::array<std::uint8_t, 32> key;
    std::array<std::uint8_t, 12> iv;
    std::uint64_t sequence;
    std::uint64_t id;  // names this key in the threads' cipher contexts; never reused
  };

  void install(TrafficKey& key, std::span<const std::uint8_t> secret, std::uint64_t sequence);
  void update(TrafficKey& key);
  static std::size_t begin_record(std::string& out);
  void finish_record(std::uint8_t type, std::size_t start, std::string& out);
  void seal_key_update(bool request, std::string& out);
  void take_handshake(std::span<const char> message, std::string& reply, std::error_code& ec);

  TrafficKey read_;
  TrafficKey write_;
  Suite suite_;
  Side side_;
  bool fresh_write_key_ = false;   // our KeyUpdate went, and no application data since
  std::uint32_t ticket_left_ = 0;  // bytes of a ticket that go on in the next handshake record
};

}  // namespace rtconn::tls

template <>
struct std::is_error_code_enum<rtconn::tls::RecordError> : std::true_type {};
