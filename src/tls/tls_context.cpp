#include "tls/tls_context.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "rtconn/tls_failure.hpp"
#include "tls/peer_verification.hpp"
#include "tls/revocation_lists.hpp"
#include "tls/session_cache.hpp"
#include "tls/traffic_secrets.hpp"

namespace rtconn::tls {
namespace {

// Forward secrecy and AEAD only; TLS 1.3 suites are OpenSSL's defaults, all of which qualify.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

void fail_if(bool failed, const std::string& what) {
  if (failed) {
    throw TlsFailureException(TlsFailureReason::Other, what + ": " + take_openssl_error("failed"));
  }
}

std::shared_ptr<asio::ssl::context> make_base_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls);
  SSL_CTX* ctx = context->native_handle();
  fail_if(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1, "TLS minimum version");
  fail_if(SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1, "TLS 1.2 cipher list");
  fail_if(SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1, "TLS groups");
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle connections then hold no record buffers: tens of KiB each otherwise.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (std::getenv("SSLKEYLOGFILE")) SSL_CTX_set_keylog_callback(ctx, on_key_logged);
  return context;
}

// The system's CAs, read once from its bundle file ($SSL_CERT_FILE, else OpenSSL's default).
// Not SSL_CTX_set_default_verify_paths: the directory it adds is searched lazily during
// handshakes, and OpenSSL 3.0's directory lookup races when two loops verify at once (TSan saw
// one loop read a CA name another was still loading). No bundle on the system: no system CAs.
void load_system_bundle(SSL_CTX* ctx) {
  const char* from_environment = std::getenv(X509_get_default_cert_file_env());
  const std::filesystem::path bundle =
      from_environment ? from_environment : X509_get_default_cert_file();
  std::error_code ec;
  if (!std::filesystem::exists(bundle, ec)) return;
  fail_if(SSL_CTX_load_verify_file(ctx, bundle.c_str()) != 1,
          "system CA bundle " + bundle.string());
}

// OpenSSL 3.0 decodes a certificate's extensions on first use, under the certificate's lock, but
// a verification running at once on another loop reads them without it (TSan: two loops
// checking the same trust anchor's key identifier, 4 runs in 20 of rtconn bench over TLS).
// Decoding them before any handshake leaves nothing to write later.
void decode_extensions_now(X509* certificate) {
  X509_check_purpose(certificate, -1, 0);
}

void load_trust(SSL_CTX* ctx, const TrustSettings& trust) {
  if (trust.system_bundle) load_system_bundle(ctx);
  for (const auto& file : trust.anchor_files) {
    fail_if(SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1,
            "trust anchors " + file.string());
  }
  for (const auto& directory : trust.anchor_directories) {
    std::error_code ec;
    for (const auto& item : std::filesystem::directory_iterator(directory, ec)) {
      const auto extension = item.path().extension();
      if (extension != ".pem" && extension != ".crt") continue;
      fail_if(SSL_CTX_load_verify_locations(ctx, item.path().c_str(), nullptr) != 1,
              "trust anchors " + item.path().string());
    }
  }
  add_revocation_lists(SSL_CTX_get_cert_store(ctx), trust.revocation_list_files);
  STACK_OF(X509_OBJECT)* anchors = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
  for (int i = 0; i < sk_X509_OBJECT_num(anchors); ++i) {
    if (X509* anchor = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(anchors, i))) {
      decode_extensions_now(anchor);
    }
  }
}

void use_identity(SSL_CTX* ctx, const LocalIdentity& identity) {
  decode_extensions_now(identity.certificate.get());
  for (const auto& link : identity.chain) decode_extensions_now(link.get());
  fail_if(SSL_CTX_use_certificate(ctx, identity.certificate.get()) != 1, "certificate");
  fail_if(SSL_CTX_use_PrivateKey(ctx, identity.key.get()) != 1, "private key");
  for (const auto& link : identity.chain) {
    fail_if(SSL_CTX_add1_chain_cert(ctx, link.get()) != 1, "certificate chain");
  }
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_server_context(const LocalIdentity& identity,
                                                        const TrustSettings& trust,
                                                        bool require_client_certificate) {
  auto context = make_base_context();
  SSL_CTX* ctx = context->native_handle();
  use_identity(ctx, identity);
  static const unsigned char session_context[] = "rtconn";
  SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  // One TLS 1.3 ticket per handshake, not OpenSSL's two: a SIP client keeps one session per
  // server (as tls::ClientSessionCache does), and each ticket is a session encoded, encrypted
  // and MACed, 5% of a full handshake's instructions here.
  SSL_CTX_set_num_tickets(ctx, 1);
  // The traffic secrets, for server connections to carry on without their SSL object once
  // the handshake is over (stream/tls_stream.cpp); SSLKEYLOGFILE is still honoured.
  SSL_CTX_set_keylog_callback(ctx, on_key_logged);
  if (require_client_certificate) {
    load_trust(ctx, trust);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_step);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return context;
}

std::shared_ptr<asio::ssl::context> make_client_context(const TrustSettings& trust,
                                                        const LocalIdentity* identity) {
  auto context = make_base_context();
  SSL_CTX* ctx = context->native_handle();
  load_trust(ctx, trust);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_step);
  enable_client_session_cache(ctx);
  SSL_CTX_set_keylog_callback(ctx, on_key_logged);  // the traffic secrets, as for servers
  if (identity) use_identity(ctx, *identity);
  return context;
}

}  // namespace rtconn::tls
