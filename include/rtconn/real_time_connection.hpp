#pragma once
/// \file
/// One connection to a peer: a stream carrying SIP messages (UCMA's RealTimeConnection).

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>

#include <asio/async_result.hpp>

#include "rtconn/certificate_info.hpp"
#include "rtconn/detail/completion.hpp"
#include "rtconn/ip_endpoint.hpp"
#include "rtconn/sip_message.hpp"
#include "rtconn/transport_type.hpp"

namespace rtconn {

class ConnectionPool;

/// Where a connection is in its life: connecting -> ready -> draining -> closed. Every connection
/// that is added ends in closed, with a reason.
enum class ConnectionState { connecting, ready, draining, closed };

/// "connecting", "ready", "draining" or "closed".
std::string_view to_string(ConnectionState state) noexcept;

/// What passed over a connection so far.
struct ConnectionCounters {
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t keep_alives_received = 0;
  std::uint64_t bad_messages_received = 0;
};

/// A TCP or TLS connection carrying SIP. Made by managers and pools, never by the application.
///
/// Lifetime: shared; the manager holds it until it is closed and the removal event was raised.
/// The application may hold it past the manager (see RealTimeConnectionManager).
/// Thread safety: every member may be called from any thread. Socket work runs on the
/// connection's own strand, so the connection's reads, writes and timers never run concurrently.
class RealTimeConnection : public std::enable_shared_from_this<RealTimeConnection> {
 public:
  virtual ~RealTimeConnection() = default;
  RealTimeConnection(const RealTimeConnection&) = delete;
  RealTimeConnection& operator=(const RealTimeConnection&) = delete;

  /// A number unique within the process.
  std::uint64_t id() const noexcept { return id_; }
  /// The transport (UCMA ProtocolName).
  TransportType transport() const noexcept { return transport_; }
  /// True when the peer opened it (UCMA IsIncomingConnection).
  bool is_incoming_connection() const noexcept { return incoming_; }
  /// The pool of an outgoing connection; null for incoming ones (and once the pool is gone).
  std::shared_ptr<ConnectionPool> connection_pool() const { return pool_.lock(); }

  ConnectionState state() const noexcept { return state_.load(std::memory_order_acquire); }
  /// True while messages can be sent (UCMA IsConnected).
  bool is_connected() const noexcept { return state() == ConnectionState::ready; }
  /// Why the connection closed; empty while it is open.
  virtual std::error_code close_reason() const = 0;

  /// Local address; unspecified until connected.
  virtual IpEndpoint local_endpoint() const = 0;
  /// Remote address; unspecified until connected.
  virtual IpEndpoint remote_endpoint() const = 0;
  virtual ConnectionCounters counters() const = 0;
  /// The TLS session (protocol, cipher, resumption, the peer's certificate — UCMA
  /// RemoteCertificate) once negotiated; nullopt for TCP and before the handshake. After a
  /// handshake that failed with a certificate presented (one untrusted, expired, naming another
  /// host), what it got as far as, with that certificate.
  virtual std::optional<TlsSessionInfo> tls_session() const = 0;
  /// The certificate the peer presented (UCMA RemoteCertificate); nullopt for TCP, before the
  /// handshake, and when the peer presented none.
  std::optional<CertificateInfo> remote_certificate() const {
    auto session = tls_session();
    if (!session || !session->has_peer_certificate) return std::nullopt;
    return std::move(session->peer_certificate);
  }
  /// The allowed domain that admitted the peer (UCMA MatchingDomainName; see
  /// TlsSessionInfo::matching_domain_name); empty when none did or none had to.
  std::string matching_domain_name() const {
    auto session = tls_session();
    return session ? std::move(session->matching_domain_name) : std::string();
  }
  /// Messages accepted by `async_send` and not yet completed.
  virtual std::size_t pending_sends() const = 0;

  /// Incoming requests handed to the application and not yet answered with a final response.
  virtual int outstanding_requests() const = 0;
  /// True while the connection stopped reading because `outstanding_requests()` reached the high
  /// water mark; it reads again once answers bring the count down to the low mark, so a peer
  /// that outruns the application is slowed by TCP itself (UCMA IsConnectionThrottled).
  virtual bool is_connection_throttled() const = 0;
  /// UCMA ConnectionThrottlingHighMark / LowMark; INT_MAX for both switches throttling off.
  virtual int connection_throttling_high_mark() const = 0;
  virtual int connection_throttling_low_mark() const = 0;
  /// Throws std::invalid_argument when `low_mark` < 1 or `high_mark` < `low_mark`.
  virtual void set_connection_throttling_marks(int high_mark, int low_mark) = 0;

  /// The components holding a ConnectionReference to it (UCMA RefCount).
  int ref_count() const noexcept { return references_.load(std::memory_order_acquire); }

  /// Idle time-out (UCMA ConnectionTimeout); zero never closes the connection for idleness. A
  /// connection with references is not closed for idleness; once the last goes, the time-out
  /// counts from then.
  virtual std::chrono::milliseconds connection_timeout() const = 0;
  /// Throws std::invalid_argument below zero or above
  /// ConnectionManagerOptions::longest_time_out (100 years).
  virtual void set_connection_timeout(std::chrono::milliseconds timeout) = 0;

  /// Whatever the application wants to keep with the connection (UCMA ApplicationContext).
  std::any application_context() const {
    std::lock_guard lock(context_mutex_);
    return application_context_;
  }
  void set_application_context(std::any context) {
    std::lock_guard lock(context_mutex_);
    application_context_ = std::move(context);
  }

  /// Sends a message. Completion signature `void(std::error_code)`: empty once the whole message
  /// was written to the socket, else why not (errc::write_queue_full, errc::connection_closed,
  /// errc::shutdown, a socket error). Completes exactly once, on the token's associated executor
  /// (else the connection's; a system thread's once a manager running its own loops is
  /// destroyed). A send made while connecting waits for the connection.
  template <class CompletionToken>
  auto async_send(SipMessage message, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [self = shared_from_this()](auto handler, SipMessage msg) {
          const detail::InitiatingScope initiating;
          auto fallback = self->completion_executor();
          self->start_send(std::move(msg),
                           detail::make_completion<std::error_code>(std::move(handler), fallback));
        },
        token, std::move(message));
  }

  /// Closes the connection: pending sends fail with errc::connection_closed. No-op once closed.
  virtual void disconnect() = 0;

  /// Internal: what a send finding the write queue full does. The answers the library sends on
  /// the application's behalf (IncomingRequest::respond, a 503) are refused, whatever
  /// write_queue_full_action says: nothing paces them, so a peer that sends requests and never
  /// reads would otherwise have them pile up. They wait only to keep their place behind sends
  /// that wait, while what waits stays within one more `max_write_queue_bytes`.
  enum class WhenQueueFull { as_configured, refuse };
  /// Internal: starts a send; `async_send` is the public form.
  void start_send(const SipMessage& message, detail::Completion<std::error_code> done);
  /// Internal: starts sending a message already in its wire form.
  virtual void start_send_serialized(std::string wire, detail::Completion<std::error_code> done,
                                     WhenQueueFull when_full) = 0;
  /// Internal: the executor completions fall back to.
  virtual asio::any_io_executor completion_executor() const = 0;

 protected:
  RealTimeConnection(std::uint64_t id, TransportType transport, bool incoming,
                     std::weak_ptr<ConnectionPool> pool)
      : id_(id), transport_(transport), incoming_(incoming), pool_(std::move(pool)) {}

  std::atomic<ConnectionState> state_{ConnectionState::connecting};

  /// The last ConnectionReference went (called on the thread that dropped it).
  virtual void on_unreferenced() noexcept = 0;

 private:
  friend class ConnectionReference;

  std::atomic<int> references_{0};  // beside state_: fills its padding, the object does not grow
  const std::uint64_t id_;
  const TransportType transport_;
  const bool incoming_;
  const std::weak_ptr<ConnectionPool> pool_;
  mutable std::mutex context_mutex_;  // guards application_context_
  std::any application_context_;
};

}  // namespace rtconn
