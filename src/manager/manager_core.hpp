#pragma once
// The shared state behind a manager: outlives the public manager object while connections and
// handlers still refer to it, so none of them can touch freed memory during teardown.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>

#include "connection/connection_observer.hpp"
#include "connection/stream_connection.hpp"
#include "manager/allowed_domains.hpp"
#include "manager/message_throttle.hpp"
#include "manager/pending_requests.hpp"
#include "manager/pool_map.hpp"
#include "manager/refused_invites.hpp"
#include "manager/request_routes.hpp"
#include "manager/tls_contexts.hpp"
#include "pool/pool_host.hpp"
#include "rtconn/connection_authorization.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "rtconn/event.hpp"
#include "rtconn/event_args.hpp"
#include "rtconn/real_time_connection_manager.hpp"

namespace rtconn::detail {

struct ManagerEvents {
  Event<ConnectionPoolEventArgs> pool_added;
  Event<ConnectionPoolEventArgs> pool_removed;
  Event<ConnectionEventArgs> incoming_added;
  Event<ConnectionEventArgs> incoming_removed;
  Event<ListeningAddressesChangedEventArgs> listening_addresses_changed;
  Event<ListeningAbortedEventArgs> listening_aborted;
  Event<TlsNegotiationFailedEventArgs> incoming_tls_negotiation_failed;
  Event<ConnectionAuthorization> authorization_requested;

  void clear_all();
};

class ManagerCore final : public PoolHost,
                          public connection::ConnectionObserver,
                          public std::enable_shared_from_this<ManagerCore> {
 public:
  /// `loops`: single-threaded loops to pin connections to, and `loops_retired` their
  /// OwnedEventLoop::retired; empty and null run each connection on a strand of `executor`
  /// instead.
  ManagerCore(asio::any_io_executor executor, std::vector<asio::any_io_executor> loops,
              std::shared_ptr<const std::atomic<bool>> loops_retired,
              ConnectionManagerOptions options);

  ManagerEvents events;

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  /// The manager's own single-threaded loops; empty when it runs on an application's executor.
  const std::vector<asio::any_io_executor>& loops() const noexcept { return loops_; }
  /// Where the next connection runs: the next loop in turn, or a new strand.
  asio::any_io_executor connection_executor();
  const std::shared_ptr<Clock>& clock() const noexcept { return clock_; }
  TlsContexts& tls() noexcept { return tls_; }
  AllowedDomains& allowed_domains() noexcept { return allowed_domains_; }
  ConnectionManagerOptions options() const;
  /// One setting, read without copying the rest (some are read per connection or request).
  template <class T>
  T option(T ConnectionManagerOptions::*setting) const {
    std::lock_guard lock(options_mutex_);
    return options_.*setting;
  }
  /// Applies `change` to a copy, validates it (std::invalid_argument), and keeps it.
  template <class Change>
  void update_options(Change&& change) {
    std::lock_guard lock(options_mutex_);
    auto updated = options_;
    change(updated);
    updated.validate();
    options_ = std::move(updated);
    make_connection_settings();
  }
  std::string via_host() const;

  /// Find-or-create; null with `ec` set when stopped or the transport is not spoken.
  std::shared_ptr<ConnectionPool> pool(const PoolKey& key, std::error_code& ec);
  std::vector<std::shared_ptr<ConnectionPool>> pools() const;
  /// The connection a message to `key` goes on (finding or making its pool); null with `ec`.
  std::shared_ptr<RealTimeConnection> route(const PoolKey& key, std::error_code& ec);
  /// As `route`, claiming the connection (ConnectionPool::acquire_connection).
  ConnectionReference acquire(const PoolKey& key, std::error_code& ec);
  void send(const PoolKey& key, SipMessage message, Completion<std::error_code> done);
  void request(const PoolKey& key, SipMessage request,
               Completion<std::error_code, SipMessage> done);
  void request_on(const std::shared_ptr<RealTimeConnection>& connection, SipMessage request,
                  Completion<std::error_code, SipMessage> done);
  void set_request_handler(RequestHandler handler);
  void set_request_handler(std::string_view owner_uri, RequestHandler handler);
  void set_strict_dispatching(bool strict);
  bool strict_dispatching() const;
  void set_response_handler(ResponseHandler handler);

  /// Takes over a socket a listener accepted onto the executor it is to run on, with the
  /// endpoints the accept found.
  void adopt_incoming(asio::ip::tcp::socket socket, TransportType transport, IpEndpoint local,
                      IpEndpoint remote);
  std::vector<std::shared_ptr<RealTimeConnection>> incoming() const;
  ManagerCounters counters() const;

  /// Raises `event` on the event strand; `owner` keeps the event alive until then. As a C#
  /// event, one nobody listens to when it happens is not raised: with a loop per core most
  /// connections live on another thread than the event strand, and each post there wakes it
  /// (IncomingConnectionAdded and Removed: two per connection).
  template <class Args>
  void raise(std::shared_ptr<const void> owner, const Event<Args>& event, Args args) {
    if (event.handler_count() == 0) return;
    raise_always(std::move(owner), event, std::move(args));
  }
  /// As raise, also with no handler yet: for a pool's own events, whose handlers are added on
  /// the event strand when ConnectionPoolAdded is handled, after the pool's first events happen.
  template <class Args>
  void raise_always(std::shared_ptr<const void> owner, const Event<Args>& event, Args args) {
    asio::post(event_strand_, [owner = std::move(owner), &event, args = std::move(args)] {
      EventAccess<Args>::raise(event, args);
    });
  }

  bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  /// Stops taking work and drains every connection (see RealTimeConnectionManager::stop).
  void stop();
  /// Removes the handlers of every pool's own events (the manager is going).
  void clear_pool_events();
  /// Closes every connection still open with `reason` at once.
  void close_all(std::error_code reason);
  /// After stop(): blocks until every connection has closed, or `limit` (real time) passed.
  void wait_until_closed(std::chrono::milliseconds limit);

  void set_message_throttling_marks(int high_mark, int low_mark);
  /// For the connections made from now on and the open ones.
  void set_connection_throttling_marks(int high_mark, int low_mark);
  int messages_waiting() const;
  /// A listener paused accepting at its rate limit.
  void count_accept_pause();

  // PoolHost
  RealTimeConnectionManager* manager() const noexcept override {
    return manager_.load(std::memory_order_acquire);
  }
  /// Set by the manager object once made, cleared first thing in its destructor.
  void set_manager(RealTimeConnectionManager* manager) noexcept {
    manager_.store(manager, std::memory_order_release);
  }
  std::shared_ptr<RealTimeConnection> open_connection(const std::shared_ptr<ConnectionPool>& pool,
                                                      std::size_t sequence,
                                                      std::error_code& ec) override;
  void start_connection(const std::shared_ptr<RealTimeConnection>& connection) override;
  void raise_pool_event(const std::shared_ptr<ConnectionPool>& pool, bool added,
                        ConnectionEventArgs args) override;

  // ConnectionObserver
  bool on_ready(const std::shared_ptr<RealTimeConnection>& connection) override;
  void on_message(const std::shared_ptr<RealTimeConnection>& connection,
                  SipMessage message) override;
  void on_rejected_response(const std::shared_ptr<RealTimeConnection>& connection,
                            SipMessage response, std::error_code reason) override;
  void on_refused(const SipMessage& request) override;
  /// What async_request can wait for gets a Via if it has none, and its match key returned;
  /// empty for what it cannot (not a request, INVITE, ACK, a Via without branch).
  std::string prepare_request(SipMessage& request, TransportType transport);
  void send_and_wait(const std::shared_ptr<RealTimeConnection>& connection, std::string match_key,
                     SipMessage request, Completion<std::error_code, SipMessage> done);
  /// Gives a response no request sent with async_request takes to the response handler.
  void hand_out_response(SipMessage& response,
                         const std::shared_ptr<RealTimeConnection>& connection);
  void on_closed(const std::shared_ptr<RealTimeConnection>& connection,
                 std::error_code reason) override;

 private:
  /// `take(pool, ec)` on the pool for `key`, made if need be, and once more on its successor
  /// when that pool was removed meanwhile; empty with `ec` set when nothing could be taken.
  template <class Take>
  auto take_from_pool(const PoolKey& key, std::error_code& ec, const Take& take)
      -> decltype(take(std::declval<ConnectionPool&>(), ec));
  /// Publishes `change(current routes)`.
  template <class Change>
  void change_routes(const Change& change);

  struct IncomingEntry {
    std::shared_ptr<connection::StreamConnection> connection;
    bool announced = false;    // IncomingConnectionAdded raised (it became ready)
    asio::ip::address peer;    // counted in per_address_
    bool handshaking = false;  // holds one of the TLS handshake slots
    bool queued = false;       // in waiting_for_handshake_
  };

  /// An incoming TLS connection's peer sent its first bytes: start its handshake or queue it.
  void on_first_bytes(const connection::StreamConnection* key);
  /// Starts `connection` now, or queues it until a TLS handshake slot is free. mutex_ held; the
  /// connections to start are added to `start`, to be started once the lock is released.
  void start_or_queue(IncomingEntry& entry,
                      std::vector<std::shared_ptr<connection::StreamConnection>>& start);
  /// Gives back a handshake slot and hands it to the next waiting connection. mutex_ held.
  void release_handshake_slot(std::vector<std::shared_ptr<connection::StreamConnection>>& start);
  /// A queued connection closed: drops the queue's closed entries once they outnumber the
  /// open ones, so connections that time out while they wait cannot grow it. mutex_ held.
  void forget_queued();

  /// Whether the connection limits leave room for one more from `peer`; counts and logs a
  /// refusal. Called with mutex_ held.
  bool admit(const asio::ip::address& peer);
  /// Whether message throttling lets a new request through to the application (see
  /// MessageThrottle::admit); counts and logs a refusal.
  bool admit_message(bool may_refuse);
  /// Answers 503 for message throttling, on `connection`, without a transaction.
  void refuse_overloaded(const SipMessage& request,
                         const std::shared_ptr<RealTimeConnection>& connection);
  /// The token an IncomingRequest holds while its request is unanswered.
  std::shared_ptr<void> open_transaction(const std::shared_ptr<RealTimeConnection>& connection);
  /// Every connection of the stopped manager has closed. mutex_ held.
  bool all_closed() const;
  /// Wakes wait_until_closed once all_closed(). mutex_ held.
  void notify_if_all_closed();
  /// Every connection, incoming and pooled.
  std::vector<std::shared_ptr<connection::StreamConnection>> all_connections() const;

  /// The settings new connections are made with, shared by all of them.
  std::shared_ptr<const connection::ConnectionSettings> connection_settings(bool incoming) const;
  /// Rebuilds the shared settings from options_. options_mutex_ held.
  void make_connection_settings();
  connection::ConnectionSettings settings_from_options(bool incoming) const;
  /// IncomingConnectionAdded for a connection that may now carry messages.
  void announce(const std::shared_ptr<RealTimeConnection>& connection,
                std::string matching_domain_name);
  /// Asks the application (ConnectionAuthorizationRequested), then admits or closes.
  void authorize(const std::shared_ptr<connection::StreamConnection>& connection,
                 std::string matching_domain_name);
  /// Under mutual TLS, the client certificate's domain the allowed domains admit (empty when
  /// they admit all); none, having closed the connection, when they admit none of its domains.
  std::optional<std::string> admitted_domain(RealTimeConnection& connection);
  std::unique_ptr<stream::ByteStream> make_stream(asio::ip::tcp::socket socket,
                                                  TransportType transport, bool incoming,
                                                  const std::string& server_name,
                                                  std::error_code& ec);
  void remove_pool_if_empty(const std::shared_ptr<ConnectionPool>& pool);

  const asio::any_io_executor executor_;
  const std::vector<asio::any_io_executor> loops_;
  const std::shared_ptr<const std::atomic<bool>> loops_retired_;  // handed to each connection
  std::atomic<std::size_t> next_loop_{0};
  asio::any_io_executor event_strand_;  // a strand
  const std::shared_ptr<Clock> clock_;
  const std::shared_ptr<PendingRequests> pending_;
  const std::shared_ptr<dns::ServerLocator> locator_;
  TlsContexts tls_;
  AllowedDomains allowed_domains_;

  mutable std::mutex options_mutex_;  // guards options_
  ConnectionManagerOptions options_;
  std::shared_ptr<const connection::ConnectionSettings> incoming_settings_;
  std::shared_ptr<const connection::ConnectionSettings> outgoing_settings_;

  // Read for every incoming message, so they are swapped atomically rather than locked.
  std::mutex routes_mutex_;  // serialises changes of routes_
  std::atomic<std::shared_ptr<const RequestRoutes>> routes_{
      std::make_shared<const RequestRoutes>()};
  std::atomic<std::shared_ptr<const ResponseHandler>> response_handler_;
  std::atomic<bool> stopped_{false};
  std::atomic<RealTimeConnectionManager*> manager_{nullptr};

  PoolMap pools_;             // locks of its own, each taken before that pool's own mutex
  mutable std::mutex mutex_;  // guards incoming_ and what goes with it below
  std::unordered_map<const RealTimeConnection*, IncomingEntry> incoming_;
  std::unordered_map<asio::ip::address, std::size_t> per_address_;
  std::size_t handshakes_ = 0;  // incoming TLS handshakes in progress
  std::deque<std::weak_ptr<connection::StreamConnection>> waiting_for_handshake_;
  std::size_t queued_ = 0;              // entries of waiting_for_handshake_ still open and queued
  std::condition_variable all_closed_;  // with mutex_
  std::atomic<std::uint64_t> refused_total_limit_{0};
  std::atomic<std::uint64_t> refused_address_limit_{0};
  std::atomic<std::uint64_t> refused_message_throttling_{0};
  std::atomic<std::uint64_t> accept_pauses_{0};
  std::atomic<std::uint64_t> handshakes_queued_{0};

  // Message throttling: read for every incoming request, so not from options_.
  MessageThrottle message_throttle_;
  // Serialises the throttling marks' setters: the options and what enforces them (the message
  // throttle, the open connections) change together, so what the getters report is what is
  // enforced.
  std::mutex marks_mutex_;
  RefusedInvites refused_invites_;
};

}  // namespace rtconn::detail
