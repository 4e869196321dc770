#pragma once
/// \file
/// Outgoing connections to one destination (UCMA's ConnectionPool).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include "rtconn/connection_reference.hpp"
#include "rtconn/detail/completion.hpp"
#include "rtconn/event.hpp"
#include "rtconn/event_args.hpp"
#include "rtconn/pool_key.hpp"
#include "rtconn/real_time_connection.hpp"

namespace rtconn {
class RealTimeConnectionManager;

namespace detail {
class PoolHost;
struct PoolControl;
}  // namespace detail

/// The outgoing connections of one manager to one `PoolKey`.
///
/// Selection follows UCMA: while the pool holds fewer connections than its maximum, each send
/// opens a new one; once full, a send takes the open connection with the fewest pending sends
/// (round-robin among equals). A send made while its connection is being made waits in that
/// connection's queue. The manager creates a pool on first use and removes it (raising
/// ConnectionPoolRemoved) when its last connection has closed; a removed pool fails sends with
/// errc::pool_removed, and the manager's `async_send` then makes a fresh one.
///
/// Thread-safe. Events run on the manager's event strand.
class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
  struct Passkey {};

 public:
  /// Made by a manager only (see `RealTimeConnectionManager::connection_pool`).
  /// `loops_retired`: when `executor` is one of the manager's own loops, their retired flag
  /// (and a share in them); null on an application's executor.
  ConnectionPool(Passkey, PoolKey key, int maximum_number_of_connections,
                 asio::any_io_executor executor,
                 std::shared_ptr<const std::atomic<bool>> loops_retired,
                 std::weak_ptr<detail::PoolHost> host);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  const PoolKey& key() const noexcept { return key_; }
  const std::string& host_name() const noexcept { return key_.host; }
  /// 0 when the host's SRV records choose each connection's server and port.
  std::uint16_t port() const noexcept { return key_.port; }
  TransportType transport() const noexcept { return key_.transport; }

  /// Connections in the pool, in any state but closed (UCMA Count).
  std::size_t count() const;
  int maximum_number_of_connections() const;
  /// Changes the cap; throws std::invalid_argument when `maximum` <= 0. Connections above a
  /// lowered cap stay until they close.
  void set_maximum_number_of_connections(int maximum);
  /// Snapshot of the connections (UCMA GetConnections).
  std::vector<std::shared_ptr<RealTimeConnection>> connections() const;
  /// True once the manager removed the pool.
  bool is_removed() const;
  /// The manager that made the pool (UCMA ConnectionManager); null once it is destroyed. Good
  /// only while that manager lives: a pool the application holds may outlive it.
  RealTimeConnectionManager* connection_manager() const noexcept;

  Event<ConnectionEventArgs> connection_added;
  Event<ConnectionEventArgs> connection_removed;

  /// The connection the next message goes on, opening one if the rules above say so. Sets `ec`
  /// (errc::pool_removed, or why no connection could be opened) and returns null on failure.
  std::shared_ptr<RealTimeConnection> select_connection(std::error_code& ec);
  /// A claim on a connection for a component that will keep sending on it (see
  /// ConnectionReference): while the pool is not full, a new connection; once full, the open
  /// one with the fewest claims (then the fewest pending sends, then in turn). Sets `ec` and
  /// returns an empty reference as `select_connection` does.
  ConnectionReference acquire_connection(std::error_code& ec);

  /// Sends `message` on `select_connection()`'s choice. Completion `void(std::error_code)` as
  /// `RealTimeConnection::async_send`.
  template <class CompletionToken>
  auto async_send(SipMessage message, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [self = shared_from_this()](auto handler, SipMessage msg) {
          const detail::InitiatingScope initiating;
          self->start_send(std::move(msg), detail::make_completion<std::error_code>(
                                               std::move(handler), self->completion_executor()));
        },
        token, std::move(message));
  }

  /// Internal: `async_send`'s body.
  void start_send(SipMessage message, detail::Completion<std::error_code> done);
  /// Internal: the executor completions fall back to: the manager's; a system thread's once a
  /// manager running its own loops is destroyed (they may be gone with it).
  asio::any_io_executor completion_executor() const;

 private:
  friend struct detail::PoolControl;

  /// `select_connection`, which also claims its choice into `claim` when not null.
  std::shared_ptr<RealTimeConnection> take_connection(std::error_code& ec,
                                                      ConnectionReference* claim);

  const PoolKey key_;
  // Held, not only read: a send racing the manager's destructor may still post to the loop,
  // whose io_context must then be there (shut down) rather than freed. Before the executor,
  // which goes first.
  const std::shared_ptr<const std::atomic<bool>> loops_retired_;
  const asio::any_io_executor executor_;
  const std::weak_ptr<detail::PoolHost> host_;

  mutable std::mutex mutex_;  // guards everything below
  int maximum_;
  std::vector<std::shared_ptr<RealTimeConnection>> connections_;
  std::size_t next_ = 0;      // round-robin cursor among equally loaded connections
  std::size_t opened_count_;  // connections opened so far, from a random start
  bool removed_ = false;
};

}  // namespace rtconn
