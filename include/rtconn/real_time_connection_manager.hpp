#pragma once
/// \file
/// The base of every connection manager (UCMA's RealTimeConnectionManager): connection pools for
/// outgoing connections, the settings, the events, and the dispatch of incoming requests.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include "rtconn/connection_manager_options.hpp"
#include "rtconn/connection_pool.hpp"
#include "rtconn/connection_reference.hpp"
#include "rtconn/detail/completion.hpp"
#include "rtconn/event.hpp"
#include "rtconn/event_args.hpp"
#include "rtconn/incoming_request.hpp"
#include "rtconn/pool_key.hpp"
#include "rtconn/sip_message.hpp"

namespace rtconn {

namespace detail {
class ManagerCore;
class OwnedEventLoop;
}  // namespace detail

/// What the manager's limits have refused so far.
struct ManagerCounters {
  /// Incoming connections closed at accept: `max_incoming_connections` reached.
  std::uint64_t connections_refused_total_limit = 0;
  /// Incoming connections closed at accept: `max_incoming_connections_per_address` reached.
  std::uint64_t connections_refused_address_limit = 0;
  /// Incoming requests answered 503 by message throttling.
  std::uint64_t requests_refused_message_throttling = 0;
  /// Times a listener paused accepting: `max_accepts_per_second` reached.
  std::uint64_t accept_pauses = 0;
  /// Incoming TLS connections that waited for a handshake slot:
  /// `max_concurrent_tls_handshakes` reached.
  std::uint64_t tls_handshakes_queued = 0;
};

/// Called for each incoming request, on the strand of the connection it came in on (keep it
/// short; answer later from anywhere by moving the request away). Return true to take the
/// request (then the application answers it), false to have the manager answer it as UCMA does:
/// 481 inside a dialog or to a CANCEL, 500 otherwise. A request no handler is set for is
/// answered so, or, when owners have handlers and neither its To nor its Request-URI names one
/// of them, 404 (but for an ACK, a CANCEL or a request inside a dialog; see
/// `set_request_handler(owner_uri, handler)`).
using RequestHandler = std::function<bool(IncomingRequest&)>;

/// Called for each response that completes no `async_request`: those to requests sent with
/// `async_send` (an INVITE's provisional and final responses, say), provisional responses to
/// any request, and strays; not one that breaks a message limit (dropped, counted in the
/// connection's `bad_messages_received`). Called on the strand of the connection it came in on, in
/// the order the connection's messages came, one at a time per connection (keep it short). The
/// response may be moved away. `connection` is the one it came on: the ACK of a non-2xx final
/// response to an INVITE goes back on it (RFC 3261 17.1.1.3); an ACK for a 2xx is a request of its
/// own, sent like any other. With no handler set, such responses are dropped. A handler that throws
/// a std::exception is logged; the connection goes on.
using ResponseHandler = std::function<void(SipMessage& response,
                                           const std::shared_ptr<RealTimeConnection>& connection)>;

/// The common part of client and server managers. Not copyable or movable.
///
/// Executors: a manager made without one runs its own event loops (`event_loop_threads`); one
/// made with an executor runs everything on it (a strand per connection, one strand for events).
/// Events are raised on the manager's event strand, one at a time, in the order things happened
/// (a connection's "added" always before its "removed"). As with a C# event, a manager's event
/// that has no handler when it happens is not raised: subscribe before listening or sending. A
/// pool's own events are raised whatever: subscribe to them when its ConnectionPoolAdded is
/// handled.
/// Thread safety: every member may be called from any thread.
/// Lifetime: destroying the manager stops it (see `stop`); handlers are no longer called after
/// the destructor returns, except one already running on another thread. A manager running its
/// own event loops must not be destroyed from a handler running on them (the destructor would
/// wait for those loops to finish): that terminates the process, saying why on stderr; call
/// `stop()` there and destroy it elsewhere. With its own loops the destructor waits for the
/// drain (up to `shutdown_timeout`), closes what is left and waits up to 1 s more for those
/// closes to run, so pools the application still holds are empty after it. What the
/// application still holds then (connections, claims, requests, pools) stays safe to use and to
/// drop: the loops' io_contexts stay, shut down and without threads, until the last connection
/// or pool goes. A send on one fails with its close reason (errc::shutdown if it had none), one
/// through a pool with errc::pool_removed, on the token's executor or else a system thread; the
/// rest does nothing. (Once the destructor has returned: a send racing it may lose its completion.)
/// On an application's executor, connections and pools are that executor's I/O objects (a
/// pool's sends complete on it): they must go before its io_context.
class RealTimeConnectionManager {
 private:
  std::unique_ptr<detail::OwnedEventLoop> loop_;  // first member: destroyed last
  std::shared_ptr<detail::ManagerCore> core_;

 public:
  virtual ~RealTimeConnectionManager();
  RealTimeConnectionManager(const RealTimeConnectionManager&) = delete;
  RealTimeConnectionManager& operator=(const RealTimeConnectionManager&) = delete;

  /// A pool was created (UCMA ConnectionPoolAdded).
  Event<ConnectionPoolEventArgs>& connection_pool_added;
  /// A pool was removed after its last connection closed (UCMA ConnectionPoolRemoved).
  Event<ConnectionPoolEventArgs>& connection_pool_removed;

  asio::any_io_executor get_executor() const;
  /// A copy of the current settings.
  ConnectionManagerOptions options() const;
  /// The host name the manager puts in the Via of the requests it makes.
  std::string local_host_name() const;
  /// The certificate presented (UCMA LocalCertificateIssuerName and serial): to servers that ask
  /// for one (mutual TLS), and by a TLS server manager to its clients (and to servers only when
  /// it is for client use, see RealTimeServerTlsConnectionManager). Empty when none.
  std::optional<CertificateId> local_certificate() const;
  /// Presents another certificate, or the renewed file of the same one, from now on: handshakes
  /// started afterwards use it, established connections keep theirs (UCMA 3.0
  /// SetLocalCertificate). Throws TlsFailureException, keeping the old one, when it cannot be
  /// found or used (see CertificateStore::find), or, on a client manager, when its trust anchors
  /// cannot be read (its TLS context is made by the change).
  void set_local_certificate(const std::string& issuer_name, const SerialNumber& serial_number);
  /// Reads the trust anchors and certificate revocation lists again (the store's `trusted/` and
  /// `crls/`, the files `options.tls` names, the system bundle): handshakes started afterwards
  /// are checked against them, established connections keep going. For a CRL renewed, a CA
  /// added or withdrawn. Throws TlsFailureException, keeping what was in use, when they cannot
  /// be read (reason Other) or the local certificate can no longer be used (its reason).
  void reload_trust();

  /// Cap given to pools created from now on (UCMA DefaultMaximumNumberOfConnectionsPerPool);
  /// throws std::invalid_argument when <= 0.
  void set_default_maximum_number_of_connections_per_pool(int maximum);
  /// Idle time-out of outgoing connections made from now on; zero disables, negative throws
  /// std::invalid_argument.
  void set_default_outgoing_connection_timeout(std::chrono::milliseconds timeout);
  /// Idle time-out of incoming connections accepted from now on; as above.
  void set_default_incoming_connection_timeout(std::chrono::milliseconds timeout);
  /// Whether connections opened from now on all start with their host's first address (UCMA
  /// DnsLoadBalancingDisabled; see ConnectionManagerOptions).
  void set_dns_load_balancing_disabled(bool disabled);
  bool dns_load_balancing_disabled() const;
  /// Outstanding-message water marks of every connection, the open ones and those made from now
  /// on (a connection's own setter changes one); throws std::invalid_argument when high < low or
  /// either < 1.
  void set_connection_throttling_marks(int high_mark, int low_mark);

  /// Manager-wide water marks of requests dispatched and not yet answered (UCMA
  /// MessageThrottlingHighMark/LowMark); throws std::invalid_argument when high < low or either
  /// < 1. INT_MAX for both switches message throttling off.
  void set_message_throttling_marks(int high_mark, int low_mark);
  int message_throttling_high_mark() const;
  int message_throttling_low_mark() const;
  /// Requests dispatched to the application and not yet answered (UCMA
  /// CurrentMessageThrottlingCount).
  int current_message_throttling_count() const;

  /// What the limits refused so far.
  ManagerCounters counters() const;

  /// Snapshot of the pools (UCMA GetConnectionPools).
  std::vector<std::shared_ptr<ConnectionPool>> connection_pools() const;
  /// The pool for `key`, created (raising ConnectionPoolAdded) if there is none.
  std::shared_ptr<ConnectionPool> connection_pool(const PoolKey& key);
  /// A claim on a connection to `key` (see ConnectionPool::acquire_connection), from its pool,
  /// made as `async_send` makes it: again when the pool found was removed meanwhile. Sets `ec`
  /// and returns an empty reference when no connection could be had.
  ConnectionReference acquire_connection(const PoolKey& key, std::error_code& ec);

  /// Sends a message through the pool for `key`. Completion `void(std::error_code)`: empty once
  /// it was written to a socket, else why not. Completes exactly once.
  template <class CompletionToken>
  auto async_send(const PoolKey& key, SipMessage message, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [this](auto handler, const PoolKey& k, SipMessage msg) {
          const detail::InitiatingScope initiating;
          start_send(k, std::move(msg),
                     detail::make_completion<std::error_code>(std::move(handler), get_executor()));
        },
        token, key, std::move(message));
  }

  /// Sends a non-INVITE request (RFC 3261 17.1.2) through the pool for `key` and waits for its
  /// final response, taken only from the connection the request went on (provisional ones, and
  /// one with its branch on another connection, go to the response handler). A request without
  /// Via gets one with a fresh branch; one whose top Via has no branch, an INVITE (whose
  /// transaction needs timer C and an ACK for failures, which rtconn does not keep: send it with
  /// `async_send` and take its responses with `set_response_handler`) and an ACK (no response)
  /// fail with errc::invalid_argument, as does a request still waiting when another is sent
  /// with its branch (a response could answer either). Completion `void(std::error_code,
  /// SipMessage response)`; errc::request_timeout after `options().request_timeout`.
  template <class CompletionToken>
  auto async_request(const PoolKey& key, SipMessage request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, SipMessage)>(
        [this](auto handler, const PoolKey& k, SipMessage msg) {
          const detail::InitiatingScope initiating;
          start_request(k, std::move(msg),
                        detail::make_completion<std::error_code, SipMessage>(std::move(handler),
                                                                             get_executor()));
        },
        token, key, std::move(request));
  }

  /// As above, on `connection` rather than a pool's: one of this manager's, outgoing or
  /// incoming (a callee's BYE goes back on the connection the INVITE came in on, where the
  /// caller may not listen for one of its own; RFC 5923). errc::invalid_argument also for a
  /// connection of another manager, whose responses this one never sees; the send's error
  /// when the connection closed.
  template <class CompletionToken>
  auto async_request(std::shared_ptr<RealTimeConnection> connection, SipMessage request,
                     CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, SipMessage)>(
        [this](auto handler, const std::shared_ptr<RealTimeConnection>& on, SipMessage msg) {
          const detail::InitiatingScope initiating;
          start_request_on(on, std::move(msg),
                           detail::make_completion<std::error_code, SipMessage>(std::move(handler),
                                                                                get_executor()));
        },
        token, std::move(connection), std::move(request));
  }

  /// Sets the default handler for incoming requests (see `RequestHandler`): it gets those no
  /// owner's handler takes (UCMA 3.0's default routing endpoint). An empty one removes it.
  void set_request_handler(RequestHandler handler);
  /// Sets the handler for the requests to one owner (UCMA: an endpoint the manager hosts, by its
  /// OwnerUri): those whose To URI is `owner_uri`, any dialog's, and those whose To names no
  /// owner but whose Request-URI is `owner_uri` (a forwarded call, a tel: To). URIs compare by
  /// scheme, user, host (any case) and port (`sip:a@b` is not `sip:a@b:5060`, nor `sips:a@b`);
  /// URI parameters are not compared. An empty handler removes the owner. Throws
  /// std::invalid_argument when `owner_uri` is not a sip or sips URI.
  void set_request_handler(std::string_view owner_uri, RequestHandler handler);
  /// UCMA StrictDispatching (off by default): when on and exactly one owner has a handler, that
  /// handler gets every request, whatever its To names, ahead of the default handler; the
  /// application then sorts out requests that are not its owner's.
  void set_strict_dispatching(bool strict);
  bool strict_dispatching() const;
  /// Sets the handler for the responses no `async_request` takes (see `ResponseHandler`); an
  /// empty one removes it.
  void set_response_handler(ResponseHandler handler);

  /// Stops the manager, gracefully: stops listening and drains every connection. A draining
  /// connection takes no new request, writes what was accepted for sending (a connection still
  /// being made does so once made) and the answers to the requests the application holds, then
  /// ends its side and closes when the peer ends its own. `options().shutdown_timeout` bounds
  /// it: whatever is unwritten then fails with errc::shutdown (zero: close at once). Pools are
  /// removed as their connections close. New sends through the manager, and requests awaiting a
  /// response, fail with errc::shutdown at once. Idempotent; does not block. The destructor stops
  /// too, and when the manager runs its own event loops, waits for that drain (bounded by the
  /// same time-out) before they end.
  virtual void stop();

 protected:
  /// With `executor` null the manager makes and runs its own event loop.
  RealTimeConnectionManager(asio::any_io_executor executor, ConnectionManagerOptions options);
  detail::ManagerCore& core() const noexcept { return *core_; }

 private:
  void start_send(const PoolKey& key, SipMessage message, detail::Completion<std::error_code> done);
  void start_request(const PoolKey& key, SipMessage request,
                     detail::Completion<std::error_code, SipMessage> done);
  void start_request_on(const std::shared_ptr<RealTimeConnection>& connection, SipMessage request,
                        detail::Completion<std::error_code, SipMessage> done);
};

}  // namespace rtconn
