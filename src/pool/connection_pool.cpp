#include "rtconn/connection_pool.hpp"

#include <limits>
#include <random>
#include <stdexcept>
#include <utility>

#include <asio/system_executor.hpp>

#include "pool/pool_host.hpp"
#include "rtconn/errors.hpp"

namespace rtconn {

ConnectionPool::ConnectionPool(Passkey, PoolKey key, int maximum_number_of_connections,
                               asio::any_io_executor executor,
                               std::shared_ptr<const std::atomic<bool>> loops_retired,
                               std::weak_ptr<detail::PoolHost> host)
    : key_(std::move(key)),
      loops_retired_(std::move(loops_retired)),
      executor_(std::move(executor)),
      host_(std::move(host)),
      maximum_(maximum_number_of_connections),
      // A random start: a pool is removed with its last connection, so counting from zero would
      // send every pool of one connection at a time, in every process, to the first address.
      opened_count_(std::random_device{}()) {}

RealTimeConnectionManager* ConnectionPool::connection_manager() const noexcept {
  const auto host = host_.lock();
  return host ? host->manager() : nullptr;
}

std::size_t ConnectionPool::count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

int ConnectionPool::maximum_number_of_connections() const {
  std::lock_guard lock(mutex_);
  return maximum_;
}

void ConnectionPool::set_maximum_number_of_connections(int maximum) {
  if (maximum <= 0) {
    throw std::invalid_argument("ConnectionPool: maximum_number_of_connections must be > 0");
  }
  std::lock_guard lock(mutex_);
  maximum_ = maximum;
}

std::vector<std::shared_ptr<RealTimeConnection>> ConnectionPool::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

bool ConnectionPool::is_removed() const {
  std::lock_guard lock(mutex_);
  return removed_;
}

std::shared_ptr<RealTimeConnection> ConnectionPool::select_connection(std::error_code& ec) {
  return take_connection(ec, nullptr);
}

ConnectionReference ConnectionPool::acquire_connection(std::error_code& ec) {
  ConnectionReference claim;
  take_connection(ec, &claim);
  return claim;
}

std::shared_ptr<RealTimeConnection> ConnectionPool::take_connection(std::error_code& ec,
                                                                    ConnectionReference* claim) {
  ec.clear();
  std::shared_ptr<RealTimeConnection> opened;
  std::shared_ptr<detail::PoolHost> host;
  {
    std::lock_guard lock(mutex_);
    if (removed_) {
      ec = make_error_code(errc::pool_removed);
      return nullptr;
    }
    if (connections_.size() >= static_cast<std::size_t>(maximum_)) {
      // Least loaded, scanning from the round-robin cursor so equals take turns. A claim stays
      // for the component's life, so claims spread by the claims held, pending sends after.
      using Load = std::pair<int, std::size_t>;
      std::shared_ptr<RealTimeConnection> best;
      Load best_load{std::numeric_limits<int>::max(), std::numeric_limits<std::size_t>::max()};
      std::size_t best_index = 0;
      for (std::size_t i = 0; i < connections_.size(); ++i) {
        const auto index = (next_ + i) % connections_.size();
        const auto& candidate = connections_[index];
        if (candidate->state() == ConnectionState::closed ||
            candidate->state() == ConnectionState::draining) {
          continue;
        }
        const Load load{claim ? candidate->ref_count() : 0, candidate->pending_sends()};
        if (load < best_load) {
          best = candidate;
          best_load = load;
          best_index = index;
          if (load == Load{0, 0}) break;
        }
      }
      if (best) {
        next_ = best_index + 1;
        if (claim) *claim = ConnectionReference(best);  // under the lock: the next sees it
        return best;
      }
      // Every connection is closing: the cap counts them until they are gone, but a send must
      // not wait for that, so it opens one more.
    }
    host = host_.lock();
    if (!host) {
      ec = make_error_code(errc::shutdown);
      return nullptr;
    }
    opened = host->open_connection(shared_from_this(), opened_count_, ec);
    if (!opened) return nullptr;
    ++opened_count_;
    connections_.push_back(opened);
    if (claim) *claim = ConnectionReference(opened);
    host->raise_pool_event(shared_from_this(), true, {opened, {}, {}, {}});
  }
  host->start_connection(opened);
  return opened;
}

asio::any_io_executor ConnectionPool::completion_executor() const {
  // An application's executor stays the application's, as its connections do.
  if (loops_retired_) {
    const auto host = host_.lock();
    if (!host || host->manager() == nullptr || loops_retired_->load(std::memory_order_acquire)) {
      return asio::system_executor();
    }
  }
  return executor_;
}

void ConnectionPool::start_send(SipMessage message, detail::Completion<std::error_code> done) {
  std::error_code ec;
  auto connection = select_connection(ec);
  if (!connection) return done(ec);
  connection->start_send(std::move(message), std::move(done));
}

namespace detail {

std::shared_ptr<ConnectionPool> PoolControl::make(
    PoolKey key, int maximum, asio::any_io_executor executor,
    std::shared_ptr<const std::atomic<bool>> loops_retired, std::weak_ptr<PoolHost> host) {
  return std::make_shared<ConnectionPool>(ConnectionPool::Passkey{}, std::move(key), maximum,
                                          std::move(executor), std::move(loops_retired),
                                          std::move(host));
}

bool PoolControl::remove_connection(ConnectionPool& pool, const RealTimeConnection& connection) {
  std::lock_guard lock(pool.mutex_);
  std::erase_if(pool.connections_, [&](const auto& c) { return c.get() == &connection; });
  return pool.connections_.empty();
}

bool PoolControl::remove_if_empty(ConnectionPool& pool) {
  std::lock_guard lock(pool.mutex_);
  if (!pool.connections_.empty()) return false;
  pool.removed_ = true;
  return true;
}

}  // namespace detail
}  // namespace rtconn
