// TLS on OpenSSL directly, through a BIO that reads from the bytes the socket just gave and
// writes into one output string. asio::ssl::stream keeps four 17 KiB buffers per connection (its
// engine's two and a BIO pair's two) for life: ~70 KB an idle TLS connection. Here an idle
// connection holds its SSL object and nothing else; decrypted input goes straight into the
// connection's scratch buffer, and OpenSSL releases its record buffers between records
// (SSL_MODE_RELEASE_BUFFERS on the context). A TLS 1.3 connection sheds even the SSL object
// (~15 KB in OpenSSL 3.0), a server's once its handshake is over, a client's once the first
// answer is in: tls::RecordProtection carries it on from the traffic secrets, as kernel TLS would.

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/write.hpp>

#include "rtconn/tls_failure.hpp"
#include "stream/byte_stream.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/peer_verification.hpp"
#include "tls/record_protection.hpp"
#include "tls/session_cache.hpp"
#include "tls/traffic_secrets.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn::stream {
namespace {

bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// An idle connection keeps no output buffer: each thread has one that the connection writing
// borrows and gives back once its records are out, so neither an idle connection holds one nor
// a busy one allocates per write. Larger than this (a certificate flight) it is not kept.
constexpr std::size_t lent_output_capacity = 4096;

std::string& spare_output() {
  thread_local std::string spare;
  return spare;
}

void borrow_output(std::string& output) {
  if (output.empty() && output.capacity() < spare_output().capacity()) output.swap(spare_output());
}

void give_back_output(std::string& output) {
  output.clear();
  std::string& spare = spare_output();
  if (spare.capacity() < output.capacity() && output.capacity() <= lent_output_capacity) {
    spare.swap(output);
  }
  std::string().swap(output);
}

// The state a TLS connection's pending operations share; they hold it, so it outlives the
// ByteStream that owns it for as long as one of them is in flight.
class TlsEngine : public std::enable_shared_from_this<TlsEngine> {
 public:
  TlsEngine(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context,
            std::string expected_host)
      : socket_(std::move(socket)),
        context_(std::move(context)),
        ssl_(SSL_new(context_->native_handle())),
        expected_host_(std::move(expected_host)) {
    if (!ssl_) throw std::bad_alloc();
    BIO* bio = BIO_new(bio_method());
    if (!bio) throw std::bad_alloc();
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);  // one BIO both ways; the SSL owns it
  }

  asio::ip::tcp::socket& socket() noexcept { return socket_; }

  void handshake(bool as_client, ByteStream::Handler handler) {
    SSL* ssl = ssl_.get();
    as_client_ = as_client;
    if (as_client) {
      SSL_set_connect_state(ssl);
      if (!expected_host_.empty() && !is_ip_literal(expected_host_)) {
        SSL_set_tlsext_host_name(ssl, expected_host_.c_str());
      }
      std::error_code ignored;
      const auto peer = socket_.remote_endpoint(ignored);
      session_peer_ =
          expected_host_ + "|" + peer.address().to_string() + ":" + std::to_string(peer.port());
      tls::offer_cached_session(ssl, &session_peer_);
    } else {
      SSL_set_accept_state(ssl);
    }
    capture_ = std::make_unique<tls::TrafficSecretCapture>(side());
    capture_->attach(ssl);
    handshake_done_ = std::move(handler);
    step_handshake();
  }

  void wait_readable(ByteStream::Handler handler) {
    // Input SSL has not seen, or decrypted bytes not yet handed out: no need to ask the socket.
    if (deferred_error_ ||
        (protection_ ? input_in_hand() : !leftover_.empty() || SSL_pending(ssl_.get()) > 0)) {
      return asio::post(socket_.get_executor(),
                        [handler = std::move(handler)]() mutable { handler({}); });
    }
    socket_.async_wait(asio::socket_base::wait_read, std::move(handler));
  }

  std::size_t read_available(asio::mutable_buffer buffer, std::error_code& ec) {
    if (deferred_error_) {
      ec = std::exchange(deferred_error_, {});
      return 0;
    }
    std::error_code stop;
    const std::size_t total = protection_ ? open_records(buffer, stop) : read_ssl(buffer, stop);
    keep_input();
    // A client sheds once the server's first answer is in: OpenSSL has taken the tickets sent
    // before it by then, and the server has accepted our certificate if it asked for one.
    if (capture_ && total > 0 && (!stop || stop == asio::error::would_block)) shed_ssl();
    flush();  // whatever reading made us say (a KeyUpdate answer, an alert)
    // Bytes read before an error are handed out first; the error comes with the next read.
    if (total == 0) {
      ec = stop;
    } else if (stop && stop != asio::error::would_block) {
      deferred_error_ = stop;
    }
    return total;
  }

  void write(std::span<const asio::const_buffer> buffers, ByteStream::IoHandler handler,
             ByteStream::Completion completion) {
    std::size_t total = 0;
    for (const auto& buffer : buffers) total += buffer.size();
    if (protection_) {
      borrow_output(output_);
      protection_->seal(buffers, output_);
    } else if (const auto ec = write_ssl(buffers)) {
      if (completion == ByteStream::Completion::may_be_inline) return handler(ec, 0);
      return asio::post(socket_.get_executor(),
                        [handler = std::move(handler), ec]() mutable { handler(ec, 0); });
    }
    write_done_ = std::move(handler);
    write_size_ = total;
    if (completion == ByteStream::Completion::may_be_inline && !flushing_ && write_at_once()) {
      return;
    }
    flush();
  }

  void shutdown_send() noexcept {
    queue_close_notify();  // the peer's is read like any record
    shut_after_flush_ = true;
    flush();
    if (!flushing_) shut_socket();
  }

  void close() noexcept {
    say_close_notify();
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  const std::string& failure_detail() const noexcept { return failure_detail_; }

  std::error_code translate_error(std::error_code ec) {
    if (ec == asio::ssl::error::stream_truncated) return asio::error::eof;
    if (ec.category() == tls::record_category()) {
      failure_detail_ = ec.message();
      return make_error_code(ec.value() == static_cast<int>(tls::RecordError::peer_alert_base) +
                                               SSL_AD_CERTIFICATE_EXPIRED
                                 ? TlsFailureReason::CertificateExpired
                                 : TlsFailureReason::TlsNegotiationFailure);
    }
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

  std::optional<TlsSessionInfo> session() const {
    SSL* ssl = ssl_.get();
    TlsSessionInfo info;
    info.protocol = ssl ? SSL_get_version(ssl) : "TLSv1.3";
    info.cipher = SSL_CIPHER_get_name(ssl ? SSL_get_current_cipher(ssl) : shed_.cipher);
    info.resumed = ssl ? SSL_session_reused(ssl) == 1 : shed_.resumed;
    if (X509* peer = ssl ? tls::peer_certificate_presented(ssl) : shed_.peer.get()) {
      info.has_peer_certificate = true;
      info.peer_certificate = tls::facts_of(peer);
    }
    return info;
  }

 private:
  struct SslFree {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
  };

  static TlsEngine& of(BIO* bio) { return *static_cast<TlsEngine*>(BIO_get_data(bio)); }

  // Decrypts through the SSL object into `buffer`.
  std::size_t read_ssl(asio::mutable_buffer buffer, std::error_code& stop) {
    auto* data = static_cast<char*>(buffer.data());
    std::size_t total = 0;
    // Once the socket gave less than asked and something was decrypted, asking it again would
    // only hear "would block": the caller waits for readiness instead, one system call fewer.
    bool socket_drained = false;
    while (total < buffer.size()) {
      ERR_clear_error();
      std::size_t got = 0;
      const int result = SSL_read_ex(ssl_.get(), data + total, buffer.size() - total, &got);
      if (result == 1) {
        total += got;
        continue;
      }
      const int error = SSL_get_error(ssl_.get(), result);
      if (error == SSL_ERROR_WANT_READ && !(total > 0 && socket_drained) &&
          fill_input(stop, &socket_drained)) {
        continue;
      }
      if (error == SSL_ERROR_ZERO_RETURN) {
        stop = asio::error::eof;
      } else if (error != SSL_ERROR_WANT_READ) {
        stop = error_of(error);
      }
      break;
    }
    return total;
  }

  std::error_code write_ssl(std::span<const asio::const_buffer> buffers) {
    for (const auto& buffer : buffers) {
      if (buffer.size() == 0) continue;
      ERR_clear_error();
      std::size_t written = 0;
      const int result = SSL_write_ex(ssl_.get(), buffer.data(), buffer.size(), &written);
      if (result != 1) return error_of(SSL_get_error(ssl_.get(), result));
    }
    return {};
  }

  // Opens the records in hand and the socket's into `buffer` (RecordProtection, no SSL object).
  std::size_t open_records(asio::mutable_buffer buffer, std::error_code& stop) {
    auto* data = static_cast<char*>(buffer.data());
    std::size_t total = take_held_text(data, buffer.size());
    bool socket_drained = false;  // as in read_ssl
    while (total < buffer.size()) {
      const auto size = tls::RecordProtection::record_size({in_, in_size_}, stop);
      if (stop) break;
      if (size == 0 || size > in_size_) {
        if ((total > 0 && socket_drained) || !fill_input(stop, &socket_drained)) break;
        continue;
      }
      const std::span<char> record(in_, size);
      in_ += size;
      in_size_ -= size;
      const auto opened = protection_->open(record, output_, stop);
      if (stop) break;
      using Kind = tls::RecordProtection::Opened::Kind;
      if (opened.kind == Kind::control) continue;  // a KeyUpdate: any answer is in output_
      if (opened.kind == Kind::peer_closed) {
        stop = asio::error::eof;
        break;
      }
      const auto n = std::min(opened.data.size(), buffer.size() - total);
      std::memcpy(data + total, opened.data.data(), n);
      total += n;
      held_text_.assign(opened.data.data() + n, opened.data.size() - n);
    }
    if (stop.category() == tls::record_category()) {
      alerted_ = true;  // an error alert ends the stream, the peer's or ours
      if (const auto alert = tls::alert_for(stop)) {
        borrow_output(output_);
        protection_->seal_alert(*alert, output_);
      }
    }
    return total;
  }

  // Decrypted text a caller's buffer had no room for, handed out first next time.
  std::size_t take_held_text(char* data, std::size_t size) {
    const auto n = std::min(size, held_text_.size());
    if (n == 0) return 0;
    std::memcpy(data, held_text_.data(), n);
    held_text_.erase(0, n);
    if (held_text_.empty()) std::string().swap(held_text_);
    return n;
  }

  // Held text or a whole record kept from the last read (not a record still cut off).
  bool input_in_hand() const {
    std::error_code ec;  // a bad header is found by the read that comes next
    const auto size = tls::RecordProtection::record_size(leftover_, ec);
    return !held_text_.empty() || ec || (size > 0 && size <= leftover_.size());
  }

  // Raw records are read here and decrypted into the caller's buffer: no per-connection copy.
  static std::array<char, 32 * 1024>& raw_input() {
    thread_local std::array<char, 32 * 1024> raw;
    return raw;
  }

  // Into output_; OpenSSL refuses after a fatal error, when it sent its alert instead.
  void queue_close_notify() {
    if (protection_) {
      borrow_output(output_);
      protection_->seal_alert(0, output_);
    } else {
      ERR_clear_error();
      SSL_shutdown(ssl_.get());
    }
  }

  // RFC 8446 6.1: a TLS stream ends with a close_notify unless an error alert went instead;
  // closing at once (a peer that sent its own, a time-out) says it in what the socket takes
  // now. Not behind output still on its way, which the close abandons anyway.
  void say_close_notify() noexcept {
    if (!socket_.is_open() || !established_ || alerted_ || shut_after_flush_ || flushing_) return;
    shut_after_flush_ = true;
    try {
      queue_close_notify();
      std::error_code ignored;
      if (!output_.empty()) socket_.write_some(asio::buffer(output_), ignored);
    } catch (const std::bad_alloc&) {
      // Saying goodbye is a courtesy; the close goes on.
    }
    give_back_output(output_);
  }

  tls::Side side() const noexcept { return as_client_ ? tls::Side::client : tls::Side::server; }

  // After a server's TLS 1.3 handshake, or a client's first answer: the SSL object goes,
  // RecordProtection carries on from the captured secrets. Anything else (TLS 1.2, a CCM suite,
  // bytes OpenSSL still holds) keeps the SSL object, which works as well, only larger.
  void shed_ssl() {
    SSL* ssl = ssl_.get();
    const auto capture = std::move(capture_);
    capture->release(ssl);
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    const auto suite = tls::RecordProtection::suite_of(SSL_CIPHER_get_protocol_id(cipher));
    const auto secrets = capture->secrets();
    if (SSL_version(ssl) != TLS1_3_VERSION || !suite || !secrets || SSL_has_pending(ssl)) return;
    try {
      protection_ =
          std::make_unique<tls::RecordProtection>(*suite, secrets->read, secrets->write, side());
    } catch (const std::exception&) {
      return;
    }
    shed_.cipher = cipher;
    shed_.resumed = SSL_session_reused(ssl) == 1;
    if (X509* peer = SSL_get0_peer_certificate(ssl); peer && X509_up_ref(peer) == 1) {
      shed_.peer.reset(peer);
    }
    ssl_.reset();
  }

  // The BIO: reads take from the input in hand and ask for a retry when there is none; writes
  // always succeed, into the output string.
  static const BIO_METHOD* bio_method() {
    static const BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtconn socket");
      BIO_meth_set_read(m, [](BIO* bio, char* out, int size) -> int {
        auto& self = of(bio);
        BIO_clear_retry_flags(bio);
        if (self.in_size_ == 0) {
          BIO_set_retry_read(bio);
          return -1;
        }
        const auto n = std::min(self.in_size_, static_cast<std::size_t>(size));
        std::memcpy(out, self.in_, n);
        if (self.capture_) self.capture_->read.feed(self.in_, n);
        self.in_ += n;
        self.in_size_ -= n;
        return static_cast<int>(n);
      });
      BIO_meth_set_write(m, [](BIO* bio, const char* in, int size) -> int {
        auto& self = of(bio);
        borrow_output(self.output_);
        self.output_.append(in, static_cast<std::size_t>(size));
        if (self.capture_) self.capture_->written.feed(in, static_cast<std::size_t>(size));
        return size;
      });
      BIO_meth_set_ctrl(m, [](BIO*, int command, long, void*) -> long {
        return command == BIO_CTRL_FLUSH ? 1 : 0;
      });
      return m;
    }();
    return method;
  }

  // Puts more input in hand: what was left last time first; else what the socket holds now,
  // behind whatever is still in hand (a record cut off at the end of what was read). False with
  // `ec` (would_block, eof, a socket error) when the socket has nothing. Sets *drained, when
  // given, if the socket had less than a full buffer to give.
  bool fill_input(std::error_code& ec, bool* drained = nullptr) {
    if (in_size_ == 0 && !in_leftover_ && !leftover_.empty()) {
      in_ = leftover_.data();
      in_size_ = leftover_.size();
      in_leftover_ = true;
      return true;
    }
    keep_input();  // drops what was taken of the leftover, keeps what is still in hand
    auto& raw = raw_input();
    const auto n = socket_.read_some(asio::buffer(raw), ec);
    if (ec) return false;
    if (drained) *drained = n < raw.size();
    if (leftover_.empty()) {
      in_ = raw.data();
      in_size_ = n;
      in_leftover_ = false;
    } else {
      leftover_.append(raw.data(), n);
      in_ = leftover_.data();
      in_size_ = leftover_.size();
      in_leftover_ = true;
    }
    return true;
  }

  // After OpenSSL calls: keeps the input it did not take (it reads record by record).
  void keep_input() {
    if (in_leftover_) {
      leftover_.erase(0, leftover_.size() - in_size_);
      if (leftover_.empty()) std::string().swap(leftover_);
    } else if (in_size_ > 0) {
      leftover_.assign(in_, in_size_);
    }
    in_ = nullptr;
    in_size_ = 0;
    in_leftover_ = false;
  }

  // Never empty: callers tell failure from success by it.
  std::error_code error_of(int ssl_error) {
    if (ssl_error == SSL_ERROR_SSL) {
      const auto code = ERR_get_error();
      ERR_clear_error();
      if (code == 0) return asio::ssl::error::unexpected_result;  // OpenSSL queued no reason
      return {static_cast<int>(code), asio::error::get_ssl_category()};
    }
    return asio::ssl::error::stream_truncated;
  }

  void step_handshake() {
    for (;;) {
      ERR_clear_error();
      const int result = SSL_do_handshake(ssl_.get());
      const int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
      std::error_code ec;
      if (error == SSL_ERROR_WANT_READ && fill_input(ec)) continue;
      keep_input();
      if (error == SSL_ERROR_NONE) {
        flush();  // our last flight; what the application writes next goes out behind it
        return finish_handshake({});
      }
      if (error == SSL_ERROR_WANT_READ && ec == asio::error::would_block) {
        flush();
        socket_.async_wait(asio::socket_base::wait_read,
                           [self = shared_from_this()](std::error_code e) {
                             if (e) return self->fail_handshake(e);
                             self->step_handshake();
                           });
        return;
      }
      return fail_handshake(error == SSL_ERROR_WANT_READ ? ec : error_of(error));
    }
  }

  // The alert OpenSSL queued goes out before the failure is reported (and the caller closes).
  void fail_handshake(std::error_code ec) {
    handshake_error_ = ec;  // never empty: a socket error or OpenSSL's
    flush();
    if (!flushing_) finish_handshake(ec);
  }

  void finish_handshake(std::error_code ec) {
    if (!handshake_done_) return;
    ec = classify_handshake(ec);
    established_ = !ec;
    if (!ec && capture_ && !as_client_) shed_ssl();
    asio::post(socket_.get_executor(),
               [handler = std::move(handshake_done_), ec]() mutable { handler(ec); });
    handshake_done_ = {};
  }

  void flush() {
    if (flushing_ || output_.empty()) return;
    flushing_ = true;
    sending_.swap(output_);
    asio::async_write(
        socket_, asio::buffer(sending_),
        [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_flushed(ec); });
  }

  // The records go straight to the socket. True when the write is over (all taken, or failed)
  // and its handler has run; false leaves the rest for flush().
  bool write_at_once() {
    std::error_code ec;
    const std::size_t sent = socket_.write_some(asio::buffer(output_), ec);
    if (ec == asio::error::would_block) return false;
    if (ec) {
      on_flushed(ec);
      return true;
    }
    output_.erase(0, sent);
    if (!output_.empty()) return false;
    give_back_output(output_);
    std::exchange(write_done_, {})({}, write_size_);
    return true;
  }

  void on_flushed(std::error_code ec) {
    flushing_ = false;
    give_back_output(sending_);
    if (output_.empty()) give_back_output(output_);
    if (!ec && !output_.empty()) return flush();  // more was said meanwhile
    if (shut_after_flush_) shut_socket();
    if (write_done_) {
      std::exchange(write_done_, {})(ec, ec ? 0 : write_size_);
    }
    if (handshake_error_) finish_handshake(handshake_error_);
  }

  void shut_socket() noexcept {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

  std::error_code classify_handshake(std::error_code ec) {
    SSL* ssl = ssl_.get();
    if (!ec) {
      if (!as_client_ || expected_host_.empty()) return {};
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

  asio::ip::tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> context_;  // outlives ssl_, made from it
  std::unique_ptr<SSL, SslFree> ssl_;  // null once shed (protection_ then carries the stream)
  std::unique_ptr<tls::TrafficSecretCapture> capture_;  // a server's, during its handshake
  std::unique_ptr<tls::RecordProtection> protection_;
  struct {
    const SSL_CIPHER* cipher = nullptr;  // OpenSSL's static table: outlives any SSL
    bool resumed = false;
    tls::X509Ptr peer;
  } shed_;  // what tls_session() tells once the SSL object is gone
  const std::string expected_host_;
  std::string session_peer_;  // the session cache's name for the server; outlives the SSL
  std::string failure_detail_;
  bool as_client_ = false;
  bool established_ = false;  // the handshake succeeded: a close owes the peer a close_notify
  bool alerted_ = false;      // an error alert of ours went instead

  // Input in hand while OpenSSL runs (the thread's raw buffer, or leftover_), and what it did
  // not take: allocated only while a record is cut off at a read's end.
  char* in_ = nullptr;
  std::size_t in_size_ = 0;
  bool in_leftover_ = false;
  std::string leftover_;
  std::string held_text_;           // decrypted text a read had no room for (protection_ only)
  std::error_code deferred_error_;  // met after bytes already read: reported next time

  // Output: what OpenSSL wrote (output_) and what is on its way to the socket (sending_).
  std::string output_;
  std::string sending_;
  bool flushing_ = false;
  bool shut_after_flush_ = false;     // shutdown_send: end the TCP stream once output is out
  ByteStream::IoHandler write_done_;  // the caller's write, complete once all is flushed
  std::size_t write_size_ = 0;
  ByteStream::Handler handshake_done_;
  std::error_code handshake_error_;  // set when the handshake failed: reported after the flush
};

class TlsStream final : public ByteStream {
 public:
  TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context,
            std::string expected_host)
      : engine_(std::make_shared<TlsEngine>(std::move(socket), std::move(context),
                                            std::move(expected_host))) {}
  // Ends what is in flight, so the engine (and the handlers it holds) is let go.
  ~TlsStream() override { engine_->close(); }

  asio::ip::tcp::socket& socket() noexcept override { return engine_->socket(); }

  void async_handshake(bool as_client, Handler handler) override {
    std::error_code ignored;
    socket().non_blocking(true, ignored);  // the engine reads without waiting
    socket().set_option(asio::ip::tcp::no_delay(true), ignored);  // (see TcpStream)
    engine_->handshake(as_client, std::move(handler));
  }

  void async_wait_readable(Handler handler) override { engine_->wait_readable(std::move(handler)); }
  std::size_t read_available(asio::mutable_buffer buffer, std::error_code& ec) override {
    return engine_->read_available(buffer, ec);
  }

  void async_write(std::span<asio::const_buffer> buffers, IoHandler handler,
                   Completion completion) override {
    engine_->write(buffers, std::move(handler), completion);
  }

  void shutdown_send() noexcept override { engine_->shutdown_send(); }
  void close() noexcept override { engine_->close(); }
  std::string failure_detail() const override { return engine_->failure_detail(); }
  std::error_code translate_error(std::error_code ec) override {
    return engine_->translate_error(ec);
  }
  std::optional<TlsSessionInfo> tls_session() const override { return engine_->session(); }

 private:
  std::shared_ptr<TlsEngine> engine_;
};

}  // namespace

std::unique_ptr<ByteStream> make_tls_stream(asio::ip::tcp::socket socket,
                                            std::shared_ptr<asio::ssl::context> context,
                                            std::string expected_host) {
  return std::make_unique<TlsStream>(std::move(socket), std::move(context),
                                     std::move(expected_host));
}

}  // namespace rtconn::stream
