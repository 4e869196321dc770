#include "manager/manager_core.hpp"

#include <unistd.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/cached_allocator.hpp"
#include "common/count_and_log.hpp"
#include "common/light_strand.hpp"
#include "common/recycled_buffers.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/tls_failure.hpp"
#include "sip/identifiers.hpp"
#include "stream/byte_stream.hpp"

namespace rtconn::detail {
namespace {

std::uint64_t next_connection_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string machine_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

connection::StreamConnection& as_stream_connection(RealTimeConnection& connection) {
  // Every connection a manager holds is one it made.
  return static_cast<connection::StreamConnection&>(connection);
}

}  // namespace

void ManagerEvents::clear_all() {
  EventAccess<ConnectionPoolEventArgs>::clear(pool_added);
  EventAccess<ConnectionPoolEventArgs>::clear(pool_removed);
  EventAccess<ConnectionEventArgs>::clear(incoming_added);
  EventAccess<ConnectionEventArgs>::clear(incoming_removed);
  EventAccess<ListeningAddressesChangedEventArgs>::clear(listening_addresses_changed);
  EventAccess<ListeningAbortedEventArgs>::clear(listening_aborted);
  EventAccess<TlsNegotiationFailedEventArgs>::clear(incoming_tls_negotiation_failed);
  EventAccess<ConnectionAuthorization>::clear(authorization_requested);
}

ManagerCore::ManagerCore(asio::any_io_executor executor, std::vector<asio::any_io_executor> loops,
                         std::shared_ptr<const std::atomic<bool>> loops_retired,
                         ConnectionManagerOptions options)
    : executor_(std::move(executor)),
      loops_(std::move(loops)),
      loops_retired_(std::move(loops_retired)),
      event_strand_(make_light_strand(executor_)),
      clock_(options.clock ? options.clock : make_steady_clock()),
      pending_(std::make_shared<PendingRequests>(executor_, clock_)),
      locator_(
          dns::ServerLocator::make(executor_, {options.dns_servers, options.resolver_configuration,
                                               clock_, options.dns_cache_max_ttl})),
      tls_(options.tls, clock_),
      options_(std::move(options)),
      message_throttle_(options_.message_throttling_high_mark,
                        options_.message_throttling_low_mark) {
  options_.validate();
  if (options_.local_host_name.empty()) options_.local_host_name = machine_host_name();
  make_connection_settings();
}

ConnectionManagerOptions ManagerCore::options() const {
  auto copy = [this] {
    std::lock_guard lock(options_mutex_);
    return options_;
  }();
  // The certificate changes with set_local_certificate; TlsContexts holds the current one.
  copy.tls.certificate = tls_.certificate();
  return copy;
}

std::string ManagerCore::via_host() const {
  std::lock_guard lock(options_mutex_);
  return options_.local_host_name;
}

std::shared_ptr<const connection::ConnectionSettings> ManagerCore::connection_settings(
    bool incoming) const {
  std::lock_guard lock(options_mutex_);
  return incoming ? incoming_settings_ : outgoing_settings_;
}

void ManagerCore::make_connection_settings() {
  incoming_settings_ =
      std::make_shared<const connection::ConnectionSettings>(settings_from_options(true));
  outgoing_settings_ =
      std::make_shared<const connection::ConnectionSettings>(settings_from_options(false));
}

connection::ConnectionSettings ManagerCore::settings_from_options(bool incoming) const {
  connection::ConnectionSettings settings;
  settings.framer = {options_.max_header_bytes, options_.max_message_bytes,
                     options_.max_body_bytes > 0 ? options_.max_body_bytes
                                                 : std::numeric_limits<std::size_t>::max()};
  settings.message_limits = {options_.max_header_name_bytes, options_.max_header_value_bytes,
                             options_.max_parameter_count};
  settings.idle_timeout = incoming ? options_.default_incoming_connection_timeout
                                   : options_.default_outgoing_connection_timeout;
  settings.new_connection_timeout =
      incoming ? options_.new_incoming_connection_timeout : std::chrono::milliseconds{0};
  settings.connect_timeout = options_.connect_timeout;
  settings.message_completion_timeout = options_.message_completion_timeout;
  settings.shutdown_timeout = options_.shutdown_timeout;
  settings.max_write_queue_bytes = options_.max_write_queue_bytes;
  settings.wait_when_queue_full = options_.write_queue_full_action == WriteQueueFullAction::wait;
  settings.throttling_high_mark = options_.connection_throttling_high_mark;
  settings.throttling_low_mark = options_.connection_throttling_low_mark;
  settings.keep_alive_counts_as_activity = options_.keep_alive_counts_as_activity;
  if (!incoming) settings.keep_alive_interval = options_.keep_alive_interval;
  settings.keep_alive_pong_timeout = options_.keep_alive_pong_timeout;
  settings.loops_retired = loops_retired_;
  settings.clock = clock_;
  if (!incoming) settings.locator = locator_;
  return settings;
}

std::shared_ptr<ConnectionPool> ManagerCore::pool(const PoolKey& key, std::error_code& ec) {
  ec = make_error_code(errc::shutdown);
  if (stopped()) return nullptr;
  bool made = false;
  // stop() sets stopped_ before it collects the pools, shard by shard: a pool made here is
  // either refused or collected.
  auto found = pools_.find_or_make(key, [&]() -> std::shared_ptr<ConnectionPool> {
    if (stopped()) return nullptr;
    auto created = PoolControl::make(
        key, option(&ConnectionManagerOptions::default_maximum_number_of_connections_per_pool),
        executor_, loops_retired_, weak_from_this());
    // Raised under the shard's lock: its removal cannot be raised before it.
    raise(shared_from_this(), events.pool_added, ConnectionPoolEventArgs{created});
    made = true;
    return created;
  });
  if (!found) return nullptr;
  ec.clear();
  if (made) spdlog::debug("connection pool {} added", key.to_string());
  return found;
}

std::vector<std::shared_ptr<ConnectionPool>> ManagerCore::pools() const {
  return pools_.all();
}

template <class Take>
auto ManagerCore::take_from_pool(const PoolKey& key, std::error_code& ec, const Take& take)
    -> decltype(take(std::declval<ConnectionPool&>(), ec)) {
  // A pool found just as its last connection closed may be removed before it selects; the
  // second look finds (or makes) its successor.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = pool(key, ec);
    if (!found) return {};
    auto taken = take(*found, ec);
    if (taken) return taken;
    if (ec != errc::pool_removed) {
      // No connection could be opened (a client TLS context that cannot be made, say): a pool
      // left without one would stay for good, one more for every destination tried.
      remove_pool_if_empty(found);
      return {};
    }
  }
  return {};
}

std::shared_ptr<RealTimeConnection> ManagerCore::route(const PoolKey& key, std::error_code& ec) {
  return take_from_pool(
      key, ec, [](ConnectionPool& pool, std::error_code& e) { return pool.select_connection(e); });
}

ConnectionReference ManagerCore::acquire(const PoolKey& key, std::error_code& ec) {
  return take_from_pool(
      key, ec, [](ConnectionPool& pool, std::error_code& e) { return pool.acquire_connection(e); });
}

void ManagerCore::send(const PoolKey& key, SipMessage message, Completion<std::error_code> done) {
  std::error_code ec;
  auto connection = route(key, ec);
  if (!connection) return done(ec);
  connection->start_send(std::move(message), std::move(done));
}

void ManagerCore::request(const PoolKey& key, SipMessage request,
                          Completion<std::error_code, SipMessage> done) {
  auto match_key = prepare_request(request, key.transport);
  if (match_key.empty()) return done(make_error_code(errc::invalid_argument), {});
  std::error_code ec;
  auto connection = route(key, ec);
  if (!connection) return done(ec, {});
  send_and_wait(connection, std::move(match_key), std::move(request), std::move(done));
}

void ManagerCore::request_on(const std::shared_ptr<RealTimeConnection>& connection,
                             SipMessage request, Completion<std::error_code, SipMessage> done) {
  // Another manager's connection hands its responses to that manager: this one would wait in
  // vain. The application may hand over anything derived from RealTimeConnection.
  const auto* stream = dynamic_cast<const connection::StreamConnection*>(connection.get());
  if (stream == nullptr || !stream->reports_to(this)) {
    return done(make_error_code(errc::invalid_argument), {});
  }
  auto match_key = prepare_request(request, connection->transport());
  if (match_key.empty()) return done(make_error_code(errc::invalid_argument), {});
  send_and_wait(connection, std::move(match_key), std::move(request), std::move(done));
}

std::string ManagerCore::prepare_request(SipMessage& request, TransportType transport) {
  // A non-INVITE transaction (RFC 3261 17.1.2) is what this waits for: an INVITE's would need
  // timer C after a provisional response and an ACK for a failure, which are the SIP stack's
  // above; an ACK has no response at all.
  if (!request.is_request() || request.method() == "INVITE" || request.method() == "ACK") {
    return {};
  }
  if (!request.header("Via")) {
    // Made in the thread's string, whose capacity stays: no allocation for it once warm.
    thread_local std::string via;
    via.assign("SIP/2.0/").append(via_protocol_name(transport)).append(1, ' ');
    {
      std::lock_guard lock(options_mutex_);
      via.append(options_.local_host_name);
    }
    via.append(";branch=");
    sip::append_branch(via);
    via.append(";rport");
    request.add_header("Via", via);
  }
  return PendingRequests::key_of(request);
}

void ManagerCore::send_and_wait(const std::shared_ptr<RealTimeConnection>& connection,
                                std::string match_key, SipMessage request,
                                Completion<std::error_code, SipMessage> done) {
  as_stream_connection(*connection).expect_responses();
  // The ticket, not the key alone: a send failing after its request was replaced by another
  // with the same branch must not fail the newcomer.
  // The send's completion keeps a copy of the key, to fail the request if the send fails. Both
  // copies are recycled strings: a request made where the last one's went allocates neither.
  RecycledString kept_key(match_key);
  const auto ticket =
      pending_->add(std::move(match_key), connection->id(),
                    option(&ConnectionManagerOptions::request_timeout), std::move(done));
  if (ticket == 0) return;  // failed already: the manager stopped
  connection->start_send(std::move(request), [pending = pending_, key = std::move(kept_key),
                                              ticket](std::error_code e) {
    if (e) pending->fail(key.view(), ticket, e);
  });
}

template <class Change>
void ManagerCore::change_routes(const Change& change) {
  // Changes one at a time, so racing setters each see the other's: none is lost to a stale
  // copy. (Not a compare-exchange loop: libstdc++'s atomic<shared_ptr> exchange is a data race
  // to ThreadSanitizer.)
  std::lock_guard lock(routes_mutex_);
  routes_.store(std::make_shared<const RequestRoutes>(change(*routes_.load())));
}

void ManagerCore::set_request_handler(RequestHandler handler) {
  change_routes([&](const RequestRoutes& routes) { return routes.with_default(handler); });
}

void ManagerCore::set_request_handler(std::string_view owner_uri, RequestHandler handler) {
  const auto key = RequestRoutes::owner_key(owner_uri);
  if (!key) {
    throw std::invalid_argument("not a sip or sips URI: \"" + std::string(owner_uri) + "\"");
  }
  change_routes([&](const RequestRoutes& routes) { return routes.with_owner(*key, handler); });
}

void ManagerCore::set_strict_dispatching(bool strict) {
  change_routes(
      [&](const RequestRoutes& routes) { return routes.with_strict_dispatching(strict); });
}

bool ManagerCore::strict_dispatching() const {
  return routes_.load()->strict_dispatching();
}

void ManagerCore::set_response_handler(ResponseHandler handler) {
  response_handler_.store(handler ? std::make_shared<const ResponseHandler>(std::move(handler))
                                  : nullptr);
}

std::unique_ptr<stream::ByteStream> ManagerCore::make_stream(asio::ip::tcp::socket socket,
                                                             TransportType transport, bool incoming,
                                                             const std::string& server_name,
                                                             std::error_code& ec) {
  if (transport == TransportType::Tcp) return stream::make_tcp_stream(std::move(socket));
  std::shared_ptr<asio::ssl::context> context;
  try {
    context = incoming ? tls_.server() : tls_.client();
  } catch (const TlsFailureException& e) {  // logged where the context could not be made
    ec = e.code();
    return nullptr;
  }
  if (!context) {
    ec = make_error_code(errc::transport_not_supported);
    return nullptr;
  }
  return stream::make_tls_stream(std::move(socket), std::move(context), server_name);
}

asio::any_io_executor ManagerCore::connection_executor() {
  // An application's executor may run on many threads: a strand keeps a connection's handlers
  // one at a time. A loop of our own has one thread, which does that for free (no strand state,
  // no lock per handler).
  if (loops_.empty()) return make_light_strand(executor_);
  return loops_[next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void ManagerCore::adopt_incoming(asio::ip::tcp::socket socket, TransportType transport,
                                 IpEndpoint local, IpEndpoint remote) {
  std::error_code ec;
  const auto peer = remote.address();
  const auto socket_executor = socket.get_executor();
  auto stream = make_stream(std::move(socket), transport, true, {}, ec);
  if (!stream) return;  // the socket closed with it
  auto connection = connection::StreamConnection::make_incoming(
      next_connection_id(), transport, socket_executor, std::move(stream), std::move(local),
      std::move(remote), connection_settings(true), weak_from_this());
  std::vector<std::shared_ptr<connection::StreamConnection>> start;
  {
    std::lock_guard lock(mutex_);
    // Refused or stopping: the socket closes with the connection object, never started.
    if (stopped() || !admit(peer)) return;
    ++per_address_[peer];
    auto& entry = incoming_.emplace(connection.get(), IncomingEntry{connection, false, peer, false})
                      .first->second;
    if (transport == TransportType::Tcp) start_or_queue(entry, start);
  }
  for (const auto& c : start) c->start();
  if (transport == TransportType::Tcp) return;
  // What a handshake slot bounds is the CPU handshakes take, which a ClientHello starts: a peer
  // that connects and says nothing must not hold a slot (256 such connections a minute would
  // otherwise keep every other TLS client waiting).
  connection->await_first_bytes([weak = weak_from_this(), key = connection.get()] {
    if (const auto self = weak.lock()) self->on_first_bytes(key);
  });
}

void ManagerCore::on_first_bytes(const connection::StreamConnection* key) {
  std::vector<std::shared_ptr<connection::StreamConnection>> start;
  {
    std::lock_guard lock(mutex_);
    const auto it = incoming_.find(key);
    if (it == incoming_.end()) return;  // closed meanwhile
    start_or_queue(it->second, start);
  }
  for (const auto& c : start) c->start();
}

void ManagerCore::start_or_queue(
    IncomingEntry& entry, std::vector<std::shared_ptr<connection::StreamConnection>>& start) {
  if (entry.connection->transport() == TransportType::Tcp) {
    start.push_back(entry.connection);
    return;
  }
  if (handshakes_ < option(&ConnectionManagerOptions::max_concurrent_tls_handshakes)) {
    ++handshakes_;
    entry.handshaking = true;
    start.push_back(entry.connection);
    return;
  }
  // Its ClientHello waits in the socket, unread, until a slot frees; its new-connection
  // time-out still runs (await_first_bytes armed it).
  waiting_for_handshake_.push_back(entry.connection);
  entry.queued = true;
  ++queued_;
  count_and_log(
      handshakes_queued_,
      "a TLS connection waits for a handshake slot: max_concurrent_tls_handshakes reached");
}

void ManagerCore::release_handshake_slot(
    std::vector<std::shared_ptr<connection::StreamConnection>>& start) {
  --handshakes_;
  while (!waiting_for_handshake_.empty()) {
    const auto next = waiting_for_handshake_.front().lock();
    waiting_for_handshake_.pop_front();
    const auto it = next ? incoming_.find(next.get()) : incoming_.end();
    if (it == incoming_.end()) continue;  // closed while it waited
    it->second.queued = false;
    --queued_;
    start_or_queue(it->second, start);
    return;
  }
}

void ManagerCore::forget_queued() {
  --queued_;
  if (waiting_for_handshake_.size() <= 2 * queued_ + 64) return;
  std::erase_if(waiting_for_handshake_, [this](const auto& weak) {
    const auto connection = weak.lock();
    return !connection || !incoming_.contains(connection.get());
  });
}

bool ManagerCore::admit(const asio::ip::address& peer) {
  if (incoming_.size() >= option(&ConnectionManagerOptions::max_incoming_connections)) {
    count_and_log(refused_total_limit_, "refused a connection from " + peer.to_string() +
                                            ": max_incoming_connections reached");
    return false;
  }
  const auto it = per_address_.find(peer);
  const auto per_address = option(&ConnectionManagerOptions::max_incoming_connections_per_address);
  if (per_address > 0 && it != per_address_.end() && it->second >= per_address) {
    count_and_log(refused_address_limit_, "refused a connection from " + peer.to_string() +
                                              ": max_incoming_connections_per_address reached");
    return false;
  }
  return true;
}

void ManagerCore::count_accept_pause() {
  count_and_log(accept_pauses_, "paused accepting: max_accepts_per_second reached");
}

void ManagerCore::set_connection_throttling_marks(int high_mark, int low_mark) {
  std::lock_guard lock(marks_mutex_);
  update_options([=](auto& o) {  // validates; connections made from now on take them
    o.connection_throttling_high_mark = high_mark;
    o.connection_throttling_low_mark = low_mark;
  });
  // UCMA's marks are the manager's, for all its connections: the open ones take them too.
  for (const auto& connection : all_connections()) {
    connection->set_connection_throttling_marks(high_mark, low_mark);
  }
}

void ManagerCore::set_message_throttling_marks(int high_mark, int low_mark) {
  std::lock_guard lock(marks_mutex_);
  update_options([=](auto& o) {
    o.message_throttling_high_mark = high_mark;
    o.message_throttling_low_mark = low_mark;
  });
  message_throttle_.set_marks(high_mark, low_mark);
}

int ManagerCore::messages_waiting() const {
  return message_throttle_.waiting();
}

bool ManagerCore::admit_message(bool may_refuse) {
  if (message_throttle_.admit(may_refuse)) return true;
  count_and_log(refused_message_throttling_, "answered a request 503: message throttling");
  return false;
}

std::shared_ptr<void> ManagerCore::open_transaction(
    const std::shared_ptr<RealTimeConnection>& connection) {
  as_stream_connection(*connection).begin_transaction();
  // Weak references: an unanswered request the application keeps holds neither the connection
  // nor the manager. One block from the thread's cache: a token per request answered.
  struct Transaction {
    Transaction(std::weak_ptr<RealTimeConnection> c, std::weak_ptr<ManagerCore> m)
        : connection(std::move(c)), core(std::move(m)) {}
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
      if (const auto c = connection.lock()) as_stream_connection(*c).end_transaction();
      if (const auto self = core.lock()) self->message_throttle_.end();
    }
    std::weak_ptr<RealTimeConnection> connection;
    std::weak_ptr<ManagerCore> core;
  };
  return std::allocate_shared<Transaction>(CachedAllocator<Transaction>{}, connection,
                                           weak_from_this());
}

ManagerCounters ManagerCore::counters() const {
  return {refused_total_limit_.load(std::memory_order_relaxed),
          refused_address_limit_.load(std::memory_order_relaxed),
          refused_message_throttling_.load(std::memory_order_relaxed),
          accept_pauses_.load(std::memory_order_relaxed),
          handshakes_queued_.load(std::memory_order_relaxed)};
}

std::vector<std::shared_ptr<RealTimeConnection>> ManagerCore::incoming() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<RealTimeConnection>> result;
  result.reserve(incoming_.size());
  for (const auto& [key, entry] : incoming_) {
    if (entry.announced) result.push_back(entry.connection);
  }
  return result;
}

void ManagerCore::stop() {
  if (stopped_.exchange(true, std::memory_order_acq_rel)) return;
  const auto reason = make_error_code(errc::shutdown);
  const auto timeout = option(&ConnectionManagerOptions::shutdown_timeout);
  const auto pools = pools_.all();
  for (const auto& connection : all_connections()) {
    // Each connection keeps its own deadline (its timer, on the clock seam): nothing here has to
    // outlive the manager to enforce it.
    if (timeout.count() > 0) {
      connection->drain(reason, timeout);
    } else {
      connection->close(reason);
    }
  }
  for (const auto& pool : pools) remove_pool_if_empty(pool);
  pending_->fail_all(reason);
  std::lock_guard lock(mutex_);
  notify_if_all_closed();
}

void ManagerCore::clear_pool_events() {
  for (const auto& pool : pools_.all()) {
    EventAccess<ConnectionEventArgs>::clear(pool->connection_added);
    EventAccess<ConnectionEventArgs>::clear(pool->connection_removed);
  }
}

void ManagerCore::close_all(std::error_code reason) {
  // Not in stop(): a connection still looking its server up drains too (its sends were
  // accepted); here the drain is over.
  locator_->shutdown();
  for (const auto& connection : all_connections()) connection->close(reason);
}

void ManagerCore::wait_until_closed(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  all_closed_.wait_for(lock, limit, [this] { return all_closed(); });
}

std::vector<std::shared_ptr<connection::StreamConnection>> ManagerCore::all_connections() const {
  std::vector<std::shared_ptr<connection::StreamConnection>> result;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, entry] : incoming_) result.push_back(entry.connection);
  }
  for (const auto& pool : pools_.all()) {
    for (const auto& connection : pool->connections()) {
      result.push_back(std::static_pointer_cast<connection::StreamConnection>(connection));
    }
  }
  return result;
}

bool ManagerCore::all_closed() const {
  return stopped() && incoming_.empty() && pools_.size() == 0;
}

void ManagerCore::notify_if_all_closed() {
  if (!all_closed()) return;
  // No connection is left to look a server up for: the channel ends, so an application's
  // executor runs out of work instead of waiting on c-ares' retries.
  locator_->shutdown();
  all_closed_.notify_all();
}

std::shared_ptr<RealTimeConnection> ManagerCore::open_connection(
    const std::shared_ptr<ConnectionPool>& pool, std::size_t sequence, std::error_code& ec) {
  if (stopped()) {
    ec = make_error_code(errc::shutdown);
    return nullptr;
  }
  auto executor = connection_executor();
  const auto& key = pool->key();
  auto stream = make_stream(asio::ip::tcp::socket(executor), key.transport, false,
                            key.tls_server_name.empty() ? key.host : key.tls_server_name, ec);
  if (!stream) return nullptr;
  const bool balancing = !option(&ConnectionManagerOptions::dns_load_balancing_disabled);
  return connection::StreamConnection::make_outgoing(
      next_connection_id(), key.transport, executor, std::move(stream),
      {key.host, key.port, balancing ? sequence : 0, balancing}, connection_settings(false),
      weak_from_this(), pool);
}

void ManagerCore::start_connection(const std::shared_ptr<RealTimeConnection>& connection) {
  as_stream_connection(*connection).start();
}

void ManagerCore::raise_pool_event(const std::shared_ptr<ConnectionPool>& pool, bool added,
                                   ConnectionEventArgs args) {
  raise_always(pool, added ? pool->connection_added : pool->connection_removed, std::move(args));
}

bool ManagerCore::on_ready(const std::shared_ptr<RealTimeConnection>& connection) {
  if (!connection->is_incoming_connection()) return true;
  std::vector<std::shared_ptr<connection::StreamConnection>> start;
  {
    std::lock_guard lock(mutex_);
    const auto it = incoming_.find(connection.get());
    if (it != incoming_.end() && it->second.handshaking) {
      it->second.handshaking = false;
      release_handshake_slot(start);
    }
  }
  for (const auto& c : start) c->start();
  auto domain = admitted_domain(*connection);
  if (!domain) return false;  // closed
  if (events.authorization_requested.handler_count() == 0) {
    announce(connection, std::move(*domain));
    return true;
  }
  authorize(std::static_pointer_cast<connection::StreamConnection>(connection), std::move(*domain));
  return false;
}

std::optional<std::string> ManagerCore::admitted_domain(RealTimeConnection& connection) {
  if (connection.transport() == TransportType::Tcp || allowed_domains_.empty()) {
    return std::string();
  }
  const auto session = connection.tls_session();
  if (!session || !session->has_peer_certificate) return std::string();  // not mutual TLS
  auto domain = allowed_domains_.match(session->peer_certificate);
  if (!domain) {
    std::string names;
    for (const auto& name : session->peer_certificate.domains) names += " " + name;
    spdlog::info("connection {} from {}: its certificate names no allowed domain (it names:{})",
                 connection.id(), connection.remote_endpoint().to_string(),
                 names.empty() ? " nothing" : names);
    as_stream_connection(connection)
        .close(make_error_code(TlsFailureReason::IncorrectNameInRemoteCertificate));
  } else {
    as_stream_connection(connection).set_matching_domain_name(*domain);
  }
  return domain;
}

void ManagerCore::announce(const std::shared_ptr<RealTimeConnection>& connection,
                           std::string matching_domain_name) {
  std::lock_guard lock(mutex_);
  const auto it = incoming_.find(connection.get());
  if (it == incoming_.end()) return;
  it->second.announced = true;
  raise(shared_from_this(), events.incoming_added,
        ConnectionEventArgs{connection, {}, {}, std::move(matching_domain_name)});
}

void ManagerCore::authorize(const std::shared_ptr<connection::StreamConnection>& connection,
                            std::string matching_domain_name) {
  ConnectionAuthorization authorization(
      connection, [weak = weak_from_this(), connection,
                   domain = std::move(matching_domain_name)](bool allowed) mutable {
        auto self = weak.lock();
        if (!self) return;
        if (!allowed) return connection->close(make_error_code(errc::authorization_denied));
        self->announce(connection, std::move(domain));
        connection->resume_reading();
      });
  asio::post(event_strand_, [self = shared_from_this(), authorization] {
    EventAccess<ConnectionAuthorization>::raise(self->events.authorization_requested,
                                                authorization);
    authorization.settle_default();
  });
}

void ManagerCore::on_message(const std::shared_ptr<RealTimeConnection>& connection,
                             SipMessage message) {
  if (message.is_response()) {
    // Only a connection that sent requests with async_request can have one waiting: the others
    // skip the table's lock.
    if (as_stream_connection(*connection).expects_responses() &&
        pending_->on_response(message, connection->id())) {
      return;
    }
    return hand_out_response(message, connection);
  }
  // ACK opens no transaction: nothing answers it. Neither it nor a CANCEL (which belongs to a
  // request already taken) is refused by message throttling.
  const bool ack = message.method() == "ACK";
  if (ack && refused_invites_.absorb(message)) return;
  if (!ack && !admit_message(message.method() != "CANCEL")) {
    return refuse_overloaded(message, connection);
  }
  IncomingRequest request(std::move(message), connection,
                          ack ? nullptr : open_transaction(connection));
  bool taken = false;
  const auto routes = routes_.load();  // keeps the chosen handler alive while it runs
  const auto choice = routes->choose(request.message());
  if (choice.handler) {
    try {
      taken = (*choice.handler)(request);
    } catch (const std::exception& e) {
      spdlog::error("request handler threw: {}", e.what());
    }
  }
  // A handler that declined but moved the request away left nothing to answer.
  if (taken || !request.connection()) return;
  on_refused(request.message());
  // A CANCEL that nothing takes matches no transaction here (RFC 3261 9.2); a To that names no
  // owner is a user this manager does not have (21.4.5).
  const auto& refused = request.message();
  request.respond(refused.has_to_tag() || refused.method() == "CANCEL" ? 481
                  : choice.names_no_owner                              ? 404
                                                                       : 500);
}

void ManagerCore::hand_out_response(SipMessage& response,
                                    const std::shared_ptr<RealTimeConnection>& connection) {
  const auto handler = response_handler_.load();
  if (!handler || !*handler) {
    spdlog::debug("connection {}: dropping a {} response that answers no request of ours",
                  connection->id(), response.status_code());
    return;
  }
  try {
    (*handler)(response, connection);
  } catch (const std::exception& e) {
    spdlog::error("response handler threw: {}", e.what());
  }
}

void ManagerCore::on_rejected_response(const std::shared_ptr<RealTimeConnection>& connection,
                                       SipMessage response, std::error_code reason) {
  // One that completes nothing is dropped: its parts break a limit, so nothing may read them.
  if (as_stream_connection(*connection).expects_responses()) {
    pending_->on_response(response, connection->id(), reason);
  }
}

void ManagerCore::on_refused(const SipMessage& request) {
  if (request.method() == "INVITE") refused_invites_.remember(request);
}

void ManagerCore::refuse_overloaded(const SipMessage& request,
                                    const std::shared_ptr<RealTimeConnection>& connection) {
  on_refused(request);
  // Straight to the connection, no completion: under overload a log line per refusal that
  // cannot be written (a full queue) would only add to it.
  // With Retry-After a client may come back (or try another server) rather than take the 503
  // for a 500 (RFC 3261 21.5.4); a few seconds lets the held requests be answered meanwhile.
  constexpr std::string_view retry_after = "Retry-After: 5\r\n";
  std::string wire = RecycledStrings::take();
  SipMessage::serialize_response_to(request, 503, "Service Unavailable",
                                    request.has_to_tag() ? "" : sip::make_tag(), wire, retry_after);
  connection->start_send_serialized(std::move(wire), Completion<std::error_code>{},
                                    RealTimeConnection::WhenQueueFull::refuse);
}

void ManagerCore::on_closed(const std::shared_ptr<RealTimeConnection>& connection,
                            std::error_code reason) {
  if (as_stream_connection(*connection).expects_responses()) {
    pending_->fail_connection(connection->id(), reason);
  }
  auto detail = as_stream_connection(*connection).failure_detail();
  if (connection->is_incoming_connection()) {
    std::vector<std::shared_ptr<connection::StreamConnection>> start;
    std::unique_lock lock(mutex_);
    const auto it = incoming_.find(connection.get());
    if (it == incoming_.end()) return;
    const auto entry = std::move(it->second);
    incoming_.erase(it);
    notify_if_all_closed();
    if (entry.handshaking) release_handshake_slot(start);
    if (entry.queued) forget_queued();
    if (const auto count = per_address_.find(entry.peer);
        count != per_address_.end() && --count->second == 0) {
      per_address_.erase(count);
    }
    if (entry.announced) {
      raise(shared_from_this(), events.incoming_removed,
            ConnectionEventArgs{connection, reason, std::move(detail), {}});
    } else if (reason == errc::authorization_denied) {
      spdlog::info("connection {} from {} refused by the application", connection->id(),
                   connection->remote_endpoint().to_string());
    } else if (connection->transport() != TransportType::Tcp) {
      // Never ready: the handshake failed. The application hears of it without a connection
      // that was never usable.
      TlsNegotiationFailedEventArgs args{connection->remote_endpoint(), reason, std::move(detail),
                                         connection->local_endpoint(), std::nullopt};
      if (auto session = connection->tls_session(); session && session->has_peer_certificate) {
        args.remote_certificate = std::move(session->peer_certificate);
      }
      raise(shared_from_this(), events.incoming_tls_negotiation_failed, std::move(args));
    }
    lock.unlock();
    // Outside the lock: a start on this loop runs at once, and with its ClientHello waiting,
    // that is the handshake's first flight, signature and all.
    for (const auto& c : start) c->start();
    return;
  }
  const auto pool = connection->connection_pool();
  if (!pool) return;
  const bool empty = PoolControl::remove_connection(*pool, *connection);
  raise_pool_event(pool, false, {connection, reason, std::move(detail), {}});
  if (empty) remove_pool_if_empty(pool);
}

void ManagerCore::remove_pool_if_empty(const std::shared_ptr<ConnectionPool>& pool) {
  const bool removed = pools_.remove(pool, [&] {
    if (!PoolControl::remove_if_empty(*pool)) return false;
    raise(shared_from_this(), events.pool_removed, ConnectionPoolEventArgs{pool});
    return true;
  });
  if (!removed) return;
  spdlog::debug("connection pool {} removed", pool->key().to_string());
  std::lock_guard lock(mutex_);
  notify_if_all_closed();
}

}  // namespace rtconn::detail
