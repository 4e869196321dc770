#include "manager/listener_set.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>

#include "common/light_strand.hpp"
#include "manager/manager_core.hpp"
#include "rtconn/errors.hpp"

namespace rtconn::detail {
namespace {

// Out of descriptors or memory is usually brief (connections are closing): pause accepting
// rather than give up listening.
bool is_transient_accept_error(const std::error_code& ec) {
  return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
         ec == std::errc::no_buffer_space || ec == std::errc::not_enough_memory ||
         ec == asio::error::connection_aborted;
}

constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

}  // namespace

class ListenerSet::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<ManagerCore> core, TransportType transport)
      : core_(std::move(core)),
        transport_(transport),
        strand_(make_light_strand(core_->executor())),
        acceptor_(strand_),
        retry_timer_(core_->clock()->make_timer(strand_)),
        accepts_per_second_(core_->option(&ConnectionManagerOptions::max_accepts_per_second)),
        accept_tokens_(static_cast<double>(accepts_per_second_)),
        tokens_counted_at_(core_->clock()->now()) {}

  std::error_code open(const IpEndpoint& endpoint) {
    const asio::ip::tcp::endpoint where(endpoint.address(), endpoint.port());
    std::error_code ec;
    acceptor_.open(where.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    // `[::]` means the IPv6 interfaces only; `0.0.0.0` covers IPv4, so both can be asked for.
    if (!ec && endpoint.is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor_.bind(where, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      const auto bound = acceptor_.local_endpoint(ec);
      address_ = IpEndpoint(bound.address(), bound.port());
    }
    return ec;
  }

  const IpEndpoint& address() const noexcept { return address_; }

  void start() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->accept(); });
  }

  /// Closes a listener that was opened but never started: nothing else can touch its acceptor
  /// yet, so it closes here and now, and its port is free when start() returns.
  void close_unstarted() {
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  void close() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->closed_ = true;
      self->retry_timer_->cancel();
      std::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  void accept() {
    if (closed_) return;
    if (const auto wait = wait_for_accept_token(); wait > Clock::duration::zero()) {
      core_->count_accept_pause();
      retry_timer_->arm(wait, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->accept();
      });
      return;
    }
    acceptor_.async_accept(
        core_->connection_executor(),
        [self = shared_from_this()](std::error_code ec, asio::ip::tcp::socket socket) {
          self->on_accept(ec, std::move(socket));
        });
  }

  void on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
    if (closed_) return;
    if (!ec) {
      core_->adopt_incoming(std::move(socket), transport_);
      return accept();
    }
    if (is_transient_accept_error(ec)) {
      spdlog::warn("listener {}: accept paused: {}", address_.to_string(), ec.message());
      retry_timer_->arm(accept_retry_delay, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->accept();
      });
      return;
    }
    spdlog::error("listener {}: listening aborted: {}", address_.to_string(), ec.message());
    closed_ = true;
    core_->raise(core_, core_->events.listening_aborted, ListeningAbortedEventArgs{ec});
  }

  // A token bucket holding one second's worth of accepts: takes a token and returns zero, or
  // returns how long until one is due.
  Clock::duration wait_for_accept_token() {
    if (accepts_per_second_ == 0) return Clock::duration::zero();
    const auto now = core_->clock()->now();
    const double rate = static_cast<double>(accepts_per_second_);
    const std::chrono::duration<double> elapsed = now - tokens_counted_at_;
    accept_tokens_ = std::min(rate, accept_tokens_ + elapsed.count() * rate);
    tokens_counted_at_ = now;
    if (accept_tokens_ >= 1.0) {
      accept_tokens_ -= 1.0;
      return Clock::duration::zero();
    }
    const std::chrono::duration<double> until((1.0 - accept_tokens_) / rate);
    return std::max(std::chrono::duration_cast<Clock::duration>(until), Clock::duration(1));
  }

  const std::shared_ptr<ManagerCore> core_;
  const TransportType transport_;
  asio::any_io_executor strand_;
  asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<Timer> retry_timer_;
  IpEndpoint address_;
  const std::size_t accepts_per_second_;  // 0: no limit
  // Strand-only.
  double accept_tokens_;
  Clock::time_point tokens_counted_at_;
  bool closed_ = false;
};

ListenerSet::ListenerSet(std::shared_ptr<ManagerCore> core, TransportType transport)
    : core_(std::move(core)), transport_(transport) {}

ListenerSet::~ListenerSet() {
  std::lock_guard lock(mutex_);
  for (const auto& listener : listeners_) listener->close();
}

std::error_code ListenerSet::start(const std::vector<IpEndpoint>& endpoints) {
  std::lock_guard lock(mutex_);
  if (!listeners_.empty()) return make_error_code(errc::already_listening);
  if (endpoints.empty()) return make_error_code(errc::invalid_argument);
  if (core_->stopped()) return make_error_code(errc::shutdown);
  std::vector<std::shared_ptr<Listener>> opened;
  for (const auto& endpoint : endpoints) {
    auto listener = std::make_shared<Listener>(core_, transport_);
    if (const auto ec = listener->open(endpoint)) {
      // All or nothing: the ports already bound are given back before this returns, not
      // whenever the executor next runs.
      for (const auto& other : opened) other->close_unstarted();
      return ec;
    }
    opened.push_back(std::move(listener));
  }
  listeners_ = std::move(opened);
  std::vector<IpEndpoint> addresses;
  for (const auto& listener : listeners_) {
    addresses.push_back(listener->address());
    listener->start();
  }
  core_->raise(core_, core_->events.listening_addresses_changed,
               ListeningAddressesChangedEventArgs{std::move(addresses)});
  return {};
}

std::error_code ListenerSet::stop() {
  std::lock_guard lock(mutex_);
  if (listeners_.empty()) return make_error_code(errc::not_listening);
  close_all();
  return {};
}

void ListenerSet::shutdown() {
  std::lock_guard lock(mutex_);
  if (!listeners_.empty()) close_all();
}

void ListenerSet::close_all() {
  for (const auto& listener : listeners_) listener->close();
  listeners_.clear();
  core_->raise(core_, core_->events.listening_addresses_changed,
               ListeningAddressesChangedEventArgs{});
  core_->raise(core_, core_->events.listening_aborted, ListeningAbortedEventArgs{});
}

bool ListenerSet::listening() const {
  std::lock_guard lock(mutex_);
  return !listeners_.empty();
}

std::vector<IpEndpoint> ListenerSet::addresses() const {
  std::lock_guard lock(mutex_);
  std::vector<IpEndpoint> result;
  for (const auto& listener : listeners_) result.push_back(listener->address());
  return result;
}

}  // namespace rtconn::detail
