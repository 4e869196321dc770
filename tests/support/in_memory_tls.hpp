#pragma once
// An OpenSSL TLS 1.3 client and server joined by memory BIOs: a real peer for the record layer's
// tests and benchmarks, with no socket and no thread. Each side reads from its own input BIO;
// the caller moves bytes between them (to_server, to_client), so it can see and alter records.

#include <stdexcept>
#include <string>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "tls/certificate_factory.hpp"

namespace rtconn::test {

class InMemoryTlsPair {
 public:
  /// Both sides offer only `suite` (a TLS 1.3 suite name); the server has a fresh self-signed
  /// ECDSA P-256 certificate, the client verifies nothing.
  explicit InMemoryTlsPair(const char* suite) {
    tls::CertificateRequest request;
    request.common_name = "localhost";
    const auto issued = tls::issue_certificate(request, nullptr);
    server_context = SSL_CTX_new(TLS_server_method());
    client_context = SSL_CTX_new(TLS_client_method());
    for (SSL_CTX* context : {server_context, client_context}) {
      SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
      SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);  // as rtconn's contexts are
      if (SSL_CTX_set_ciphersuites(context, suite) != 1) throw std::invalid_argument(suite);
    }
    SSL_CTX_use_certificate(server_context, issued.certificate.get());
    SSL_CTX_use_PrivateKey(server_context, issued.key.get());
    client = SSL_new(client_context);
    server = SSL_new(server_context);
    client_in = BIO_new(BIO_s_mem());
    server_in = BIO_new(BIO_s_mem());
    server_out = BIO_new(BIO_s_mem());
    client_out = BIO_new(BIO_s_mem());
    SSL_set_bio(client, client_in, client_out);
    SSL_set_bio(server, server_in, server_out);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
  }
  InMemoryTlsPair(const InMemoryTlsPair&) = delete;
  InMemoryTlsPair& operator=(const InMemoryTlsPair&) = delete;
  ~InMemoryTlsPair() {
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(client_context);
    SSL_CTX_free(server_context);
  }

  /// Runs both sides until the server is done; its session tickets then wait in client_in.
  bool handshake() {
    for (int round = 0; round < 10; ++round) {
      SSL_do_handshake(client);
      to_server(drain(client_out));
      const bool done = SSL_do_handshake(server) == 1;
      to_client(drain(server_out));
      if (done) return true;
    }
    return false;
  }

  static std::string drain(BIO* bio) {
    std::string bytes(static_cast<std::size_t>(BIO_ctrl_pending(bio)), '\0');
    if (!bytes.empty()) BIO_read(bio, bytes.data(), static_cast<int>(bytes.size()));
    return bytes;
  }
  void to_server(const std::string& bytes) { write(server_in, bytes); }
  void to_client(const std::string& bytes) { write(client_in, bytes); }

  SSL_CTX* server_context = nullptr;
  SSL_CTX* client_context = nullptr;
  SSL* client = nullptr;
  SSL* server = nullptr;
  BIO* client_in = nullptr;  // owned by the SSLs from here on
  BIO* client_out = nullptr;
  BIO* server_in = nullptr;
  BIO* server_out = nullptr;

 private:
  static void write(BIO* bio, const std::string& bytes) {
    if (!bytes.empty()) BIO_write(bio, bytes.data(), static_cast<int>(bytes.size()));
  }
};

}  // namespace rtconn::test
