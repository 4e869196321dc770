#include "manager/listener_set.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>
#include <asio/bind_allocator.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>

#include "common/light_strand.hpp"
#include "manager/accept_rate_limit.hpp"
#include "manager/manager_core.hpp"
#include "rtconn/errors.hpp"

namespace rtconn::detail {
namespace {

// accept(2) passes on the network errors of the connection it was taking (reset, unreachable,
// refused by a firewall rule, ...); they are that connection's, and the next may be fine. Each
// new try takes a token of the accept rate limit, which bounds a run of them.
bool is_connection_error(const std::error_code& ec) {
  if (ec.category() != std::system_category()) return false;
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENONET:
    case ENOPROTOOPT:
    case EOPNOTSUPP:
    case EPERM:
      return true;
    default:
      return false;
  }
}

// Out of descriptors or memory is usually brief (connections are closing): pause accepting
// rather than give up listening.
bool is_resource_error(const std::error_code& ec) {
  return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
         ec == std::errc::no_buffer_space || ec == std::errc::not_enough_memory;
}

constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

// How long stop_listening waits for the loops to close their sockets: they close at once unless
// a loop is stuck in an application's handler, and then stopping must not hang with it.
constexpr auto close_wait_limit = std::chrono::seconds(2);

bool running_on_one_of(const std::vector<asio::any_io_executor>& loops) {
  return std::any_of(loops.begin(), loops.end(), [](const asio::any_io_executor& loop) {
    const auto* io = loop.target<asio::io_context::executor_type>();
    return io != nullptr && io->running_in_this_thread();
  });
}

// Memory for the accept operation straight from the heap, not through Asio's per-thread cache of
// operation blocks: that cache hands a freed block to the next operation that fits in it, and
// the next ones are the new connection's first waits (its timer's, its socket's), which live as
// long as it idles: each idle connection held the accept's larger block (heaptrack, 5,000 idle
// connections: 288 B each from the accept; 40 B more PSS per connection than when the accept
// left its block to short-lived operations).
template <class T>
struct UncachedAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UncachedAllocator<U>;
  };
  UncachedAllocator() = default;
  template <class U>
  UncachedAllocator(const UncachedAllocator<U>&) noexcept {}
};

}  // namespace

// One listening socket and its accept loop, on one executor: a loop of the manager's own (the
// connections it accepts stay on that loop) or a strand over the application's executor (they
// are spread over connection_executor()).
class ListenerSet::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<ManagerCore> core, std::weak_ptr<ListenerSet> set,
           TransportType transport, asio::any_io_executor executor, bool accepts_onto_own_loop,
           std::shared_ptr<AcceptRateLimit> rate_limit)
      : core_(std::move(core)),
        set_(std::move(set)),
        transport_(transport),
        executor_(std::move(executor)),
        accepts_onto_own_loop_(accepts_onto_own_loop),
        acceptor_(executor_),
        retry_timer_(core_->clock()->make_timer(executor_)),
        rate_limit_(std::move(rate_limit)) {}

  std::error_code open(const IpEndpoint& endpoint, Bind bind) {
    const asio::ip::tcp::endpoint where(endpoint.address(), endpoint.port());
    std::error_code ec;
    acceptor_.open(where.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && bind == Bind::shared) acceptor_.set_option(ReusePort(true), ec);
    // `[::]` means the IPv6 interfaces only; `0.0.0.0` covers IPv4, so both can be asked for.
    if (!ec && endpoint.is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor_.bind(where, ec);
    // A probe does not listen: a bound socket that does not listen is no obstacle to the group's
    // binds (both have SO_REUSEADDR) even while its close is still going through the kernel,
    // where a listening one could hold the port for tens of ms after close() (ASan, loaded
    // machine: the group's binds failed for 40 ms), yet its bind is refused by anyone's listener.
    if (!ec && bind != Bind::probe) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      const auto bound = acceptor_.local_endpoint(ec);
      address_ = IpEndpoint(bound.address(), bound.port());
    }
    return ec;
  }

  const IpEndpoint& address() const noexcept { return address_; }
  bool on_own_loop() const noexcept { return accepts_onto_own_loop_; }

  void start() {
    asio::dispatch(executor_, [self = shared_from_this()] { self->accept(); });
  }

  /// Closes a listener that was opened but never started: nothing else can touch its acceptor
  /// yet, so it closes here and now, and its port is free when start() returns.
  void close_unstarted() {
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  /// Closes on its executor; the future is ready once the socket is closed.
  std::future<void> close() {
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::dispatch(executor_, [self = shared_from_this(), closed] {
      self->closed_ = true;
      self->retry_timer_->cancel();
      std::error_code ignored;
      self->acceptor_.close(ignored);
      closed->set_value();
    });
    return done;
  }

 private:
  using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

  void accept() {
    if (closed_) return;
    if (const auto wait = rate_limit_->wait_for_token(); wait > Clock::duration::zero()) {
      core_->count_accept_pause();
      retry_timer_->arm(wait, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->accept();
      });
      return;
    }
    // The peer's address comes with the accept: no getpeername for it.
    acceptor_.async_accept(
        accepts_onto_own_loop_ ? executor_ : core_->connection_executor(), peer_,
        asio::bind_allocator(
            UncachedAllocator<void>{},
            [self = shared_from_this()](std::error_code ec, asio::ip::tcp::socket socket) {
              self->on_accept(ec, std::move(socket));
            }));
  }

  void on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
    if (closed_) return;
    if (!ec) {
      // Read before the call: its arguments may be evaluated in any order, the move first.
      const IpEndpoint local = local_address_of(socket);
      core_->adopt_incoming(std::move(socket), transport_, local,
                            IpEndpoint(peer_.address(), peer_.port()));
      return accept();
    }
    if (is_connection_error(ec)) {
      spdlog::debug("listener {}: a connection failed as it was accepted: {}", address_.to_string(),
                    ec.message());
      return accept();
    }
    if (is_resource_error(ec)) {
      spdlog::warn("listener {}: accept paused: {}", address_.to_string(), ec.message());
      retry_timer_->arm(accept_retry_delay, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->accept();
      });
      return;
    }
    // The socket itself is broken (shut down, closed under us): it goes, with what the manager
    // says it listens on, or clients would wait in a backlog no one reads.
    spdlog::error("listener {}: its socket failed: {}", address_.to_string(), ec.message());
    closed_ = true;
    std::error_code ignored;
    acceptor_.close(ignored);
    if (const auto set = set_.lock()) set->forget(*this, ec);
  }

  // A listener bound to one address accepts on that address; only a wildcard one must ask.
  IpEndpoint local_address_of(const asio::ip::tcp::socket& socket) const {
    if (!address_.address().is_unspecified()) return address_;
    std::error_code ignored;
    const auto local = socket.local_endpoint(ignored);
    return IpEndpoint(local.address(), local.port());
  }

  const std::shared_ptr<ManagerCore> core_;
  const std::weak_ptr<ListenerSet> set_;
  const TransportType transport_;
  const asio::any_io_executor executor_;
  const bool accepts_onto_own_loop_;
  asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<Timer> retry_timer_;
  const std::shared_ptr<AcceptRateLimit> rate_limit_;
  IpEndpoint address_;
  // On executor_ only.
  asio::ip::tcp::endpoint peer_;  // written by the accept in progress
  bool closed_ = false;
};

ListenerSet::ListenerSet(std::shared_ptr<ManagerCore> core, TransportType transport)
    : core_(std::move(core)), transport_(transport) {}

ListenerSet::~ListenerSet() {
  std::lock_guard lock(mutex_);
  for (const auto& listener : listeners_) (void)listener->close();
}

std::error_code ListenerSet::start(const std::vector<IpEndpoint>& endpoints) {
  std::lock_guard lock(mutex_);
  if (!listeners_.empty()) return make_error_code(errc::already_listening);
  if (endpoints.empty()) return make_error_code(errc::invalid_argument);
  if (core_->stopped()) return make_error_code(errc::shutdown);
  std::vector<std::shared_ptr<Listener>> opened;
  std::vector<IpEndpoint> addresses;
  for (const auto& endpoint : endpoints) {
    if (const auto ec = open_address(endpoint, opened, addresses)) {
      // All or nothing: the ports already bound are given back before this returns, not
      // whenever the executor next runs.
      for (const auto& other : opened) other->close_unstarted();
      return ec;
    }
  }
  listeners_ = std::move(opened);
  addresses_ = addresses;
  for (const auto& listener : listeners_) listener->start();
  core_->raise(core_, core_->events.listening_addresses_changed,
               ListeningAddressesChangedEventArgs{std::move(addresses)});
  return {};
}

// With loops of its own, each loop accepts the connections it is to serve, on a socket of its
// own bound to the address with SO_REUSEPORT (the kernel spreads connections over them): none
// is handed from the accepting thread to another loop, which cost a wake-up of that loop per
// connection. A plain bind first, given up before the group binds, keeps "address in use"
// meaning what it did: sockets with SO_REUSEPORT would otherwise share a port that a socket of
// the same user, another manager among them, already listens on. A port of 0 becomes the probe's
// port; if another socket takes it in between, a new probe picks another.
std::error_code ListenerSet::open_address(const IpEndpoint& endpoint,
                                          std::vector<std::shared_ptr<Listener>>& opened,
                                          std::vector<IpEndpoint>& addresses) {
  auto rate_limit = std::make_shared<AcceptRateLimit>(
      core_->clock(), core_->option(&ConnectionManagerOptions::max_accepts_per_second));
  const auto& loops = core_->loops();
  const bool closed_here = std::find(closed_.begin(), closed_.end(), endpoint) != closed_.end();
  if (loops.size() < 2) {
    // One loop of the manager's own accepts on that loop, as each of several does, so that
    // stop_listening can wait for its close; an application's executor gets a strand.
    const bool own_loop = loops.size() == 1;
    auto listener =
        std::make_shared<Listener>(core_, weak_from_this(), transport_,
                                   own_loop ? loops.front() : make_light_strand(core_->executor()),
                                   own_loop, std::move(rate_limit));
    if (const auto ec = open_after_close(*listener, endpoint, Bind::alone, closed_here)) return ec;
    addresses.push_back(listener->address());
    opened.push_back(std::move(listener));
    return {};
  }
  constexpr int attempts_for_any_port = 3;
  std::error_code ec;
  for (int attempt = 0; attempt < attempts_for_any_port; ++attempt) {
    auto probe = std::make_shared<Listener>(core_, weak_from_this(), transport_, loops.front(),
                                            true, rate_limit);
    if ((ec = open_after_close(*probe, endpoint, Bind::probe, closed_here))) return ec;
    const IpEndpoint where(endpoint.address(), probe->address().port());
    probe->close_unstarted();
    std::vector<std::shared_ptr<Listener>> group;
    for (const auto& loop : loops) {
      auto listener =
          std::make_shared<Listener>(core_, weak_from_this(), transport_, loop, true, rate_limit);
      if ((ec = open_after_close(*listener, where, Bind::shared, true))) break;
      group.push_back(std::move(listener));
    }
    if (!ec) {
      addresses.push_back(group.front()->address());
      opened.insert(opened.end(), group.begin(), group.end());
      return {};
    }
    for (const auto& listener : group) listener->close_unstarted();
    if (endpoint.port() != 0 || ec != asio::error::address_in_use) return ec;
  }
  return ec;
}

// A port closed a moment ago may still read as in use: under TSan, a bind right after both
// loops had closed their sockets, or right after the probe had, failed now and then (1 round in
// 5-20 of OwnLoops.ListeningAgainOnTheSamePortRightAfterStopping), and the same bind 60-75 us
// later succeeded. So a bind of a port this set has just given up is tried again for a moment;
// a port someone else holds is still refused, 20 ms later.
std::error_code ListenerSet::open_after_close(Listener& listener, const IpEndpoint& endpoint,
                                              Bind bind, bool just_closed) {
  constexpr int tries = 200;
  constexpr auto pause = std::chrono::microseconds(100);
  std::error_code ec;
  for (int i = 0; i < tries; ++i) {
    ec = listener.open(endpoint, bind);
    if (ec != asio::error::address_in_use || !just_closed) return ec;
    listener.close_unstarted();
    std::this_thread::sleep_for(pause);
  }
  return ec;
}

std::error_code ListenerSet::stop() {
  std::vector<std::future<void>> closing;
  {
    std::lock_guard lock(mutex_);
    if (listeners_.empty()) return make_error_code(errc::not_listening);
    closing = close_all();
  }
  wait_until_closed(closing);
  return {};
}

void ListenerSet::shutdown() {
  std::vector<std::future<void>> closing;
  {
    std::lock_guard lock(mutex_);
    if (!listeners_.empty()) closing = close_all();
  }
  wait_until_closed(closing);
}

// The manager's own loops close their sockets on their threads: waiting for them here lets a
// caller listen again on the same port as soon as this returns (SO_REUSEPORT's probe would
// otherwise find the old sockets still bound). Not on one of those loops (a handler stopping
// its own manager), where the wait could be for a loop that waits on this one; nor for an
// application's executor, which may not be running.
void ListenerSet::wait_until_closed(std::vector<std::future<void>>& closing) const {
  if (running_on_one_of(core_->loops())) return;
  for (auto& closed : closing) closed.wait_for(close_wait_limit);
}

std::vector<std::future<void>> ListenerSet::close_all() {
  std::vector<std::future<void>> closing;
  for (const auto& listener : listeners_) {
    auto closed = listener->close();
    if (listener->on_own_loop()) closing.push_back(std::move(closed));
  }
  listeners_.clear();
  closed_ = std::move(addresses_);
  addresses_.clear();
  core_->raise(core_, core_->events.listening_addresses_changed,
               ListeningAddressesChangedEventArgs{});
  core_->raise(core_, core_->events.listening_aborted, ListeningAbortedEventArgs{});
  return closing;
}

void ListenerSet::forget(const Listener& aborted, std::error_code why) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(listeners_.begin(), listeners_.end(),
                               [&](const auto& listener) { return listener.get() == &aborted; });
  if (it == listeners_.end()) return;  // closed by stop_listening meanwhile
  listeners_.erase(it);
  // A loop's socket of a group sharing the address: the others still listen there.
  const auto address = aborted.address();
  if (std::any_of(listeners_.begin(), listeners_.end(),
                  [&](const auto& listener) { return listener->address() == address; })) {
    return;
  }
  // Raised under the lock (raise only posts): a handler that listens again finds the set as
  // the events describe it.
  addresses_.erase(std::remove(addresses_.begin(), addresses_.end(), address), addresses_.end());
  core_->raise(core_, core_->events.listening_aborted, ListeningAbortedEventArgs{why});
  core_->raise(core_, core_->events.listening_addresses_changed,
               ListeningAddressesChangedEventArgs{addresses_});
}

bool ListenerSet::listening() const {
  std::lock_guard lock(mutex_);
  return !listeners_.empty();
}

std::vector<IpEndpoint> ListenerSet::addresses() const {
  std::lock_guard lock(mutex_);
  return addresses_;
}

}  // namespace rtconn::detail
