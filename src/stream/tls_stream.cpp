#include <openssl/err.h>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include "rtconn/tls_failure.hpp"
#include "stream/byte_stream.hpp"
#include "tls/peer_verification.hpp"
#include "tls/session_cache.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn::stream {
namespace {

bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

class TlsStream final : public ByteStream {
 public:
  TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context,
            std::string expected_host)
      : context_(std::move(context)),
        stream_(std::move(socket), *context_),
        expected_host_(std::move(expected_host)) {
    std::error_code ignored;
    stream_.next_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
  }

  asio::ip::tcp::socket& socket() noexcept override { return stream_.next_layer(); }

  void async_handshake(bool as_client, Handler handler) override {
    SSL* ssl = stream_.native_handle();
    if (as_client) {
      if (!expected_host_.empty() && !is_ip_literal(expected_host_)) {
        SSL_set_tlsext_host_name(ssl, expected_host_.c_str());
      }
      std::error_code ignored;
      session_peer_ = expected_host_ + "|" +
                      socket().remote_endpoint(ignored).address().to_string() + ":" +
                      std::to_string(socket().remote_endpoint(ignored).port());
      tls::offer_cached_session(ssl, &session_peer_);
    }
    stream_.async_handshake(
        as_client ? asio::ssl::stream_base::client : asio::ssl::stream_base::server,
        [this, as_client, handler = std::move(handler)](std::error_code ec) {
          handler(classify_handshake(ec, as_client));
        });
  }

  void async_read_some(asio::mutable_buffer buffer, IoHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }

  void async_write(std::span<const asio::const_buffer> buffers, IoHandler handler) override {
    // The TLS stream writes one buffer per record; joining them makes one record and one
    // syscall for a whole batch.
    if (buffers.size() == 1) return asio::async_write(stream_, buffers, std::move(handler));
    joined_.clear();
    for (const auto& buffer : buffers) {
      joined_.append(static_cast<const char*>(buffer.data()), buffer.size());
    }
    asio::async_write(stream_, asio::buffer(joined_), std::move(handler));
  }

  void close() noexcept override {
    std::error_code ignored;
    stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
  }

  std::string failure_detail() const override { return failure_detail_; }

  std::error_code translate_error(std::error_code ec) override {
    if (ec == asio::ssl::error::stream_truncated) return asio::error::eof;
    if (ec.category() != asio::error::get_ssl_category()) return ec;
    // The peer refused us after the handshake had finished on our side (with TLS 1.3 a mutual-
    // TLS server judges the client's certificate then), or the record layer broke.
    failure_detail_ = ec.message();
    const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED) {
      return make_error_code(TlsFailureReason::CertificateExpired);
    }
    return make_error_code(TlsFailureReason::TlsNegotiationFailure);
  }

  std::optional<TlsSessionInfo> tls_session() const override {
    SSL* ssl = const_cast<TlsStream*>(this)->stream_.native_handle();
    TlsSessionInfo info;
    info.protocol = SSL_get_version(ssl);
    info.cipher = SSL_get_cipher_name(ssl);
    info.resumed = SSL_session_reused(ssl) == 1;
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
      info.has_peer_certificate = true;
      info.peer_certificate = tls::facts_of(peer);
    }
    return info;
  }

 private:
  std::error_code classify_handshake(std::error_code ec, bool as_client) {
    SSL* ssl = stream_.native_handle();
    if (!ec) {
      if (!as_client || expected_host_.empty()) return {};
      X509* peer = SSL_get0_peer_certificate(ssl);
      if (peer && tls::certificate_names_host(peer, expected_host_)) return {};
      failure_detail_ = "the server's certificate does not name " + expected_host_;
      return make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate);
    }
    failure_detail_ = ec.message();
    // The verification result alone decides: OpenSSL 3 keeps no peer certificate on the session
    // when verifying it failed, so SSL_get0_peer_certificate is null exactly in these cases.
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      failure_detail_ += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      return tls::error_of_verify_result(verify);
    }
    if (ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
            SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      return make_error_code(TlsFailureReason::RemoteCertificateMissing);
    }
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset) {
      return make_error_code(TlsFailureReason::RemoteDisconnected);
    }
    return make_error_code(TlsFailureReason::TlsNegotiationFailure);
  }

  std::shared_ptr<asio::ssl::context> context_;  // outlives stream_, which refers to it
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  const std::string expected_host_;
  std::string joined_;
  std::string failure_detail_;
  std::string session_peer_;  // the session cache's name for the server; outlives the SSL
};

}  // namespace

std::unique_ptr<ByteStream> make_tls_stream(asio::ip::tcp::socket socket,
                                            std::shared_ptr<asio::ssl::context> context,
                                            std::string expected_host) {
  return std::make_unique<TlsStream>(std::move(socket), std::move(context),
                                     std::move(expected_host));
}

}  // namespace rtconn::stream
