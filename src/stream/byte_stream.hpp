#pragma once
// A byte stream that is plain TCP or TLS over TCP, behind one interface, so the connection above
// is transport-blind. Knows no SIP.

#include <memory>
#include <span>
#include <system_error>

#include <optional>
#include <string>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>

#include "rtconn/certificate_info.hpp"
#include "rtconn/detail/completion.hpp"

namespace asio::ssl {
class context;
}

namespace rtconn::stream {

class ByteStream {
 public:
  // Move-only, holding a connection's `self` inline: waiting and writing allocate nothing.
  using IoHandler = detail::UniqueFunction<void(std::error_code, std::size_t)>;
  using Handler = detail::UniqueFunction<void(std::error_code)>;
  /// Whether a write may complete before async_write returns.
  enum class Completion { posted, may_be_inline };

  virtual ~ByteStream() = default;

  /// The TCP socket beneath: for connecting, endpoints and socket options.
  virtual asio::ip::tcp::socket& socket() noexcept = 0;
  /// Runs after the TCP connection exists: the TLS handshake, or nothing for TCP.
  virtual void async_handshake(bool as_client, Handler handler) = 0;
  /// Completes when there may be input to read (the socket is readable, or the stream holds
  /// bytes already). Reads wait this way, with no buffer, so an idle connection holds none.
  virtual void async_wait_readable(Handler handler) = 0;
  /// Reads what is there now without waiting: asio::error::would_block when nothing is (a
  /// readiness that brought only part of a TLS record, say).
  virtual std::size_t read_available(asio::mutable_buffer buffer, std::error_code& ec) = 0;
  /// Writes every byte of `buffers` (one gathered write where the transport allows); the list
  /// is the caller's until `handler` runs, and the stream may trim it. With `may_be_inline`,
  /// what the socket takes at once is written before returning and, if that is all, `handler`
  /// runs then: no trip through the event loop. Only for callers with no application code of
  /// their own above them on the stack.
  virtual void async_write(std::span<asio::const_buffer> buffers, IoHandler handler,
                           Completion completion = Completion::posted) = 0;
  /// Ends our side of the stream once what was written is out (TLS: after a close_notify);
  /// reading goes on until the peer ends its side.
  virtual void shutdown_send() noexcept = 0;
  /// Closes at once; pending operations complete with operation_aborted.
  virtual void close() noexcept = 0;
  /// The lower layer's own words for the last handshake failure (OpenSSL's reason), if any.
  virtual std::string failure_detail() const { return {}; }
  /// The error to report for `ec`, which ended a read or write after the handshake: a TLS alert
  /// becomes a TlsFailureReason (its text kept in failure_detail), a TLS close without
  /// close_notify the peer closing. Only called on errors, so the data path pays nothing.
  virtual std::error_code translate_error(std::error_code ec) { return ec; }
  /// The negotiated TLS session; nullopt for TCP.
  virtual std::optional<TlsSessionInfo> tls_session() const { return std::nullopt; }
};

std::unique_ptr<ByteStream> make_tcp_stream(asio::ip::tcp::socket socket);

/// TLS over `socket`. A client checks that the server's certificate names `expected_host`
/// (RFC 5922; skipped when empty) and sends it as SNI when it is a name.
std::unique_ptr<ByteStream> make_tls_stream(asio::ip::tcp::socket socket,
                                            std::shared_ptr<asio::ssl::context> context,
                                            std::string expected_host);

}  // namespace rtconn::stream
