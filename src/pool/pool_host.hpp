#pragma once
// What a pool needs from the manager that owns it. Keeps the pool layer below the managers: a
// pool asks for connections and raises events through this, never knowing stream types.

#include <atomic>
#include <memory>
#include <system_error>

#include <asio/any_io_executor.hpp>

#include "rtconn/connection_pool.hpp"

namespace rtconn::detail {

class PoolHost {
 public:
  virtual ~PoolHost() = default;
  /// The manager object the pools belong to; null once it is destroyed.
  virtual RealTimeConnectionManager* manager() const noexcept = 0;
  /// A new outgoing connection for `pool`, not started yet; null with `ec` set on failure.
  /// `sequence` counts the connections the pool opened before it, from a random start (spread
  /// over the host's addresses by it, unless DNS load balancing is off).
  virtual std::shared_ptr<RealTimeConnection> open_connection(
      const std::shared_ptr<ConnectionPool>& pool, std::size_t sequence, std::error_code& ec) = 0;
  /// Starts a connection from `open_connection` once the pool holds it.
  virtual void start_connection(const std::shared_ptr<RealTimeConnection>& connection) = 0;
  /// Raises the pool's connection_added (`added`) or connection_removed on the event strand.
  virtual void raise_pool_event(const std::shared_ptr<ConnectionPool>& pool, bool added,
                                ConnectionEventArgs args) = 0;
};

/// The manager's hold on its pools' internals.
struct PoolControl {
  /// `loops_retired`: as ConnectionPool's constructor takes it.
  static std::shared_ptr<ConnectionPool> make(
      PoolKey key, int maximum, asio::any_io_executor executor,
      std::shared_ptr<const std::atomic<bool>> loops_retired, std::weak_ptr<PoolHost> host);
  /// Takes a closed connection out; true when the pool is now empty.
  static bool remove_connection(ConnectionPool& pool, const RealTimeConnection& connection);
  /// Marks the pool removed if it holds no connection; true if it did.
  static bool remove_if_empty(ConnectionPool& pool);
};

}  // namespace rtconn::detail
