#include "tls/record_protection.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include "common/thread_cache.hpp"

namespace rtconn::tls {
namespace {

constexpr std::size_t header_size = 5;
constexpr std::size_t tag_size = 16;
constexpr std::size_t max_text = 16384;                // 2^14 (RFC 8446 5.1)
constexpr std::size_t max_protected = max_text + 256;  // 2^14 + 256 (5.2)
constexpr std::uint8_t content_alert = 21;
constexpr std::uint8_t content_handshake = 22;
constexpr std::uint8_t content_application_data = 23;
constexpr std::uint8_t handshake_new_session_ticket = 4;
constexpr std::uint8_t handshake_key_update = 24;
constexpr std::uint8_t alert_user_canceled = 90;
// AES-GCM may protect about 2^24.5 full records under one key (RFC 8446 5.5): ours renew sooner.
constexpr std::uint64_t records_per_key = std::uint64_t{1} << 24;

struct SuiteTraits {
  const char* cipher;
  const char* digest;
  std::size_t key_size;
  std::size_t hash_size;
};
constexpr SuiteTraits suite_traits[] = {
    {"AES-128-GCM", "SHA256", 16, 32},
    {"AES-256-GCM", "SHA384", 32, 48},
    {"ChaCha20-Poly1305", "SHA256", 32, 32},
};
constexpr std::size_t suite_count = std::size(suite_traits);

const SuiteTraits& traits(RecordProtection::Suite suite) {
  return suite_traits[static_cast<std::size_t>(suite)];
}

// Fetched once: a fetch by name takes a lock and a table look-up in OpenSSL 3.
const EVP_CIPHER* cipher_of(RecordProtection::Suite suite) {
  static const auto ciphers = [] {
    std::array<EVP_CIPHER*, suite_count> fetched{};
    for (std::size_t i = 0; i < suite_count; ++i) {
      fetched[i] = EVP_CIPHER_fetch(nullptr, suite_traits[i].cipher, nullptr);
    }
    return fetched;
  }();
  return ciphers[static_cast<std::size_t>(suite)];
}

EVP_KDF* hkdf() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

// HKDF-Expand-Label(secret, label, "", out.size()) (RFC 8446 7.1).
void expand_label(RecordProtection::Suite suite, std::span<const std::uint8_t> secret,
                  std::string_view label, std::span<std::uint8_t> out) {
  constexpr std::string_view prefix = "tls13 ";
  std::array<unsigned char, 4 + prefix.size() + 16> info{};
  std::size_t n = 0;
  info[n++] = static_cast<unsigned char>(out.size() >> 8);
  info[n++] = static_cast<unsigned char>(out.size());
  info[n++] = static_cast<unsigned char>(prefix.size() + label.size());
  n = std::copy(prefix.begin(), prefix.end(), info.begin() + n) - info.begin();
  n = std::copy(label.begin(), label.end(), info.begin() + n) - info.begin();
  info[n++] = 0;  // no context

  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> context(EVP_KDF_CTX_new(hkdf()),
                                                                    EVP_KDF_CTX_free);
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                       const_cast<char*>(traits(suite).digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), n),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_end(),
  };
  if (!context || EVP_KDF_derive(context.get(), out.data(), out.size(), params) != 1) {
    throw std::bad_alloc();  // only an allocation can fail with valid inputs
  }
}

// Each thread keeps one cipher context per suite and direction, keyed for the traffic key that
// used it last: a connection that is served several times in a row is keyed once.
struct CipherContexts {
  std::array<EVP_CIPHER_CTX*, suite_count * 2> context{};
  std::array<std::uint64_t, suite_count * 2> keyed_for{};
  CipherContexts() = default;
  CipherContexts(const CipherContexts&) = delete;
  CipherContexts& operator=(const CipherContexts&) = delete;
  ~CipherContexts() {
    for (auto* c : context) EVP_CIPHER_CTX_free(c);
  }
};

std::atomic<std::uint64_t> next_key_id{1};

class RecordCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtconn.tls_record"; }
  std::string message(int value) const override {
    if (value >= static_cast<int>(RecordError::peer_alert_base)) {
      return std::string("the peer sent a TLS alert: ") + SSL_alert_desc_string_long(value);
    }
    switch (static_cast<RecordError>(value)) {
      case RecordError::unexpected_message:
        return "unexpected TLS message after the handshake";
      case RecordError::bad_record_mac:
        return "TLS record failed authentication (bad record MAC)";
      case RecordError::record_overflow:
        return "TLS record too large";
      case RecordError::illegal_parameter:
        return "illegal TLS KeyUpdate request";
      case RecordError::decode_error:
        return "malformed TLS record";
      case RecordError::internal_error:
        return "TLS record protection failed internally";
      default:
        return "TLS record error";
    }
  }
};

}  // namespace

const std::error_category& record_category() noexcept {
  static const RecordCategory category;
  return category;
}

std::error_code make_error_code(RecordError e) noexcept {
  return {static_cast<int>(e), record_category()};
}

std::optional<std::uint8_t> alert_for(std::error_code ec) noexcept {
  if (ec.category() != record_category() ||
      ec.value() >= static_cast<int>(RecordError::peer_alert_base)) {
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(ec.value());
}

std::optional<RecordProtection::Suite> RecordProtection::suite_of(std::uint16_t iana_id) noexcept {
  switch (iana_id) {
    case 0x1301:
      return Suite::aes_128_gcm_sha256;
    case 0x1302:
      return Suite::aes_256_gcm_sha384;
    case 0x1303:
      return Suite::chacha20_poly1305;
    default:
      return std::nullopt;
  }
}

RecordProtection::RecordProtection(Suite suite, Direction read, Direction write, Side side)
    : suite_(suite), side_(side) {
  if (!cipher_of(suite) || !hkdf()) throw std::runtime_error("TLS 1.3 cipher not available");
  install(read_, read.secret, read.sequence);
  install(write_, write.secret, write.sequence);
}

void RecordProtection::install(TrafficKey& key, std::span<const std::uint8_t> secret,
                               std::uint64_t sequence) {
  const auto& t = traits(suite_);
  if (secret.size() != t.hash_size) throw std::invalid_argument("traffic secret size");
  std::array<std::uint8_t, 48> copy{};  // secret may be key.secret itself (a KeyUpdate)
  std::copy(secret.begin(), secret.end(), copy.begin());
  key.secret = copy;
  expand_label(suite_, secret, "key", std::span(key.key).first(t.key_size));
  expand_label(suite_, secret, "iv", key.iv);
  key.sequence = sequence;
  key.id = next_key_id.fetch_add(1, std::memory_order_relaxed);
}

void RecordProtection::update(TrafficKey& key) {
  const auto size = traits(suite_).hash_size;
  std::array<std::uint8_t, 48> next{};
  expand_label(suite_, std::span(key.secret).first(size), "traffic upd",
               std::span(next).first(size));
  install(key, std::span(next).first(size), 0);
}

namespace {

// The cipher context for `key`, its nonce set for the key's next record; null only on a thread
// that is exiting (its contexts are gone) or when OpenSSL cannot allocate.
EVP_CIPHER_CTX* keyed_context(RecordProtection::Suite suite, const EVP_CIPHER* cipher, bool encrypt,
                              std::uint64_t key_id, const std::uint8_t* key_bytes,
                              const std::array<std::uint8_t, 12>& iv, std::uint64_t sequence) {
  auto* contexts = detail::ThreadCache<CipherContexts>::get();
  if (!contexts) return nullptr;
  const auto slot = static_cast<std::size_t>(suite) * 2 + (encrypt ? 1 : 0);
  EVP_CIPHER_CTX*& context = contexts->context[slot];
  if (!context) {
    context = EVP_CIPHER_CTX_new();
    if (!context || EVP_CipherInit_ex(context, cipher, nullptr, nullptr, nullptr, encrypt) != 1) {
      return nullptr;
    }
  }
  if (contexts->keyed_for[slot] != key_id) {
    contexts->keyed_for[slot] = 0;
    if (EVP_CipherInit_ex(context, nullptr, nullptr, key_bytes, nullptr, encrypt) != 1) {
      return nullptr;
    }
    contexts->keyed_for[slot] = key_id;
  }
  std::array<std::uint8_t, 12> nonce = iv;  // the IV xor the 64-bit sequence number (5.3)
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<std::uint8_t>(sequence >> (8 * i));
  // A new nonce through EVP_CipherInit_ex goes through OpenSSL 3.0's whole re-initialisation:
  // sealing and opening a 300-byte AES-128-GCM record took 6,924 instructions that way, 6,101
  // with the nonce given as GCM's "fixed IV" of length -1 (the whole IV, the control's special
  // case since OpenSSL 1.0.1). ChaCha20-Poly1305 has no such control for a whole nonce.
  const bool set =
      suite == RecordProtection::Suite::chacha20_poly1305
          ? EVP_CipherInit_ex(context, nullptr, nullptr, nullptr, nonce.data(), encrypt) == 1
          : EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IV_FIXED, -1, nonce.data()) == 1;
  return set ? context : nullptr;
}

}  // namespace

void RecordProtection::seal(std::span<const asio::const_buffer> buffers, std::string& out) {
  std::size_t left = 0;
  for (const auto& b : buffers) left += b.size();
  std::size_t index = 0;
  std::size_t offset = 0;
  while (left > 0) {
    if (write_.sequence >= records_per_key) seal_key_update(false, out);
    // This record's text: up to 16 KiB from where the last one stopped.
    std::size_t take = std::min(left, max_text);
    left -= take;
    const auto start = begin_record(out);
    while (take > 0) {
      const auto& b = buffers[index];
      const auto n = std::min(take, b.size() - offset);
      out.append(static_cast<const char*>(b.data()) + offset, n);
      take -= n;
      offset += n;
      if (offset == b.size()) {
        ++index;
        offset = 0;
      }
    }
    finish_record(content_application_data, start, out);
    fresh_write_key_ = false;
  }
}

void RecordProtection::seal_alert(std::uint8_t description, std::string& out) {
  const auto start = begin_record(out);
  out.push_back(description == 0 ? 1 : 2);  // close_notify is the one warning we send
  out.push_back(static_cast<char>(description));
  finish_record(content_alert, start, out);
}

void RecordProtection::seal_key_update(bool request, std::string& out) {
  const auto start = begin_record(out);
  const char message[] = {static_cast<char>(handshake_key_update), 0, 0, 1, request ? '\1' : '\0'};
  out.append(message, sizeof message);
  finish_record(content_handshake, start, out);
  update(write_);
  fresh_write_key_ = true;
}

std::size_t RecordProtection::begin_record(std::string& out) {
  const auto start = out.size();
  out.append(header_size, '\0');
  return start;
}

void RecordProtection::finish_record(std::uint8_t type, std::size_t start, std::string& out) {
  const std::size_t size = out.size() - start - header_size;
  const std::size_t length = size + 1 + tag_size;
  out.push_back(static_cast<char>(type));
  out.append(tag_size, '\0');
  auto* header = reinterpret_cast<unsigned char*>(out.data() + start);
  header[0] = content_application_data;
  header[1] = header[2] = 3;
  header[3] = static_cast<unsigned char>(length >> 8);
  header[4] = static_cast<unsigned char>(length);
  unsigned char* body = header + header_size;
  auto* context = keyed_context(suite_, cipher_of(suite_), true, write_.id, write_.key.data(),
                                write_.iv, write_.sequence);
  int n = 0;
  // Encryption of valid input cannot fail; without a context (a thread exiting) the record
  // goes out zeroed, its tag wrong: the peer refuses it, and nothing of the text leaks.
  if (!context || EVP_EncryptUpdate(context, nullptr, &n, header, header_size) != 1 ||
      EVP_EncryptUpdate(context, body, &n, body, static_cast<int>(size + 1)) != 1 ||
      EVP_EncryptFinal_ex(context, body + size + 1, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, tag_size, body + size + 1) != 1) {
    std::memset(body, 0, length);
  }
  ++write_.sequence;
}

std::size_t RecordProtection::record_size(std::span<const char> in, std::error_code& ec) noexcept {
  if (in.size() < header_size) return 0;
  // After the handshake every record is protected and says application_data outside; the
  // version field is to be ignored (5.1).
  if (static_cast<std::uint8_t>(in[0]) != content_application_data) {
    ec = make_error_code(RecordError::unexpected_message);
    return 0;
  }
  const std::size_t length =
      (static_cast<std::uint8_t>(in[3]) << 8) | static_cast<std::uint8_t>(in[4]);
  if (length > max_protected) {
    ec = make_error_code(RecordError::record_overflow);
    return 0;
  }
  if (length <= tag_size) {  // no room for a tag and a content type
    ec = make_error_code(RecordError::bad_record_mac);
    return 0;
  }
  return header_size + length;
}

RecordProtection::Opened RecordProtection::open(std::span<char> record, std::string& reply,
                                                std::error_code& ec) {
  const Opened nothing{Opened::Kind::control, {}};
  auto* header = reinterpret_cast<const unsigned char*>(record.data());
  auto* body = reinterpret_cast<unsigned char*>(record.data() + header_size);
  const std::size_t sealed = record.size() - header_size - tag_size;
  auto* context = keyed_context(suite_, cipher_of(suite_), false, read_.id, read_.key.data(),
                                read_.iv, read_.sequence);
  if (!context) {
    ec = make_error_code(RecordError::internal_error);
    return nothing;
  }
  int n = 0;
  if (EVP_DecryptUpdate(context, nullptr, &n, header, header_size) != 1 ||
      EVP_DecryptUpdate(context, body, &n, body, static_cast<int>(sealed)) != 1 ||
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, tag_size, body + sealed) != 1 ||
      EVP_DecryptFinal_ex(context, body + sealed, &n) != 1) {
    ec = make_error_code(RecordError::bad_record_mac);
    return nothing;
  }
  ++read_.sequence;
  // The inner plaintext: content, the real content type, then zero padding (5.2).
  std::size_t end = sealed;
  while (end > 0 && body[end - 1] == 0) --end;
  if (end == 0) {
    ec = make_error_code(RecordError::unexpected_message);
    return nothing;
  }
  const std::uint8_t type = body[end - 1];
  const auto content = record.subspan(header_size, end - 1);
  if (content.size() > max_text) {
    ec = make_error_code(RecordError::record_overflow);
    return nothing;
  }
  // A handshake message split across records is not to be interleaved with others (5.1).
  if (ticket_left_ > 0 && type != content_handshake) {
    ec = make_error_code(RecordError::unexpected_message);
    return nothing;
  }
  switch (type) {
    case content_application_data:
      return {Opened::Kind::data, content};
    case content_alert: {
      if (content.size() != 2) {
        ec = make_error_code(RecordError::decode_error);
        return nothing;
      }
      const auto description = static_cast<std::uint8_t>(content[1]);
      if (description == 0) return {Opened::Kind::peer_closed, {}};
      if (description != alert_user_canceled) {
        ec = {static_cast<int>(RecordError::peer_alert_base) + description, record_category()};
      }
      return nothing;
    }
    case content_handshake:
      take_handshake(content, reply, ec);
      return nothing;
    default:
      ec = make_error_code(RecordError::unexpected_message);
      return nothing;
  }
}

// After the handshake a server takes only KeyUpdate (4.6.3), which ends its record (a key
// change, 5.1); a client also takes NewSessionTickets (4.6.1), several to a record or one split
// across records, and skips them. Any other handshake message is refused, as is a KeyUpdate or
// a message header split across records (that would need the bytes held over; not seen from
// OpenSSL's servers, in memory or in Kamailio, the only ones tested).
void RecordProtection::take_handshake(std::span<const char> message, std::string& reply,
                                      std::error_code& ec) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(message[i]); };
  if (message.empty()) {  // no zero-length handshake fragments (5.1)
    ec = make_error_code(RecordError::unexpected_message);
    return;
  }
  while (!message.empty()) {
    if (ticket_left_ > 0) {
      const auto n = std::min<std::size_t>(ticket_left_, message.size());
      ticket_left_ -= static_cast<std::uint32_t>(n);
      message = message.subspan(n);
      continue;
    }
    if (message.size() < 4) {
      ec = make_error_code(RecordError::unexpected_message);
      return;
    }
    const std::uint32_t length = (std::uint32_t{byte(1)} << 16) | (byte(2) << 8) | byte(3);
    if (byte(0) == handshake_new_session_ticket && side_ == Side::client) {
      const auto n = std::min<std::size_t>(length, message.size() - 4);
      ticket_left_ = length - static_cast<std::uint32_t>(n);
      message = message.subspan(4 + n);
      continue;
    }
    if (byte(0) != handshake_key_update) {
      ec = make_error_code(RecordError::unexpected_message);
      return;
    }
    if (length != 1) {
      ec = make_error_code(RecordError::decode_error);
      return;
    }
    if (message.size() != 5) {
      ec = make_error_code(RecordError::unexpected_message);
      return;
    }
    const auto request = byte(4);
    if (request > 1) {
      ec = make_error_code(RecordError::illegal_parameter);
      return;
    }
    update(read_);
    // Requests that come while we are silent get one update between them (4.6.3): a peer
    // cannot make us derive keys faster than we send.
    if (request == 1 && !fresh_write_key_) seal_key_update(false, reply);
    return;
  }
}

}  // namespace rtconn::tls
