#pragma once
/// \file
/// A component's claim on a connection it keeps using (what UCMA's RefCount counts).

#include <memory>

#include "rtconn/real_time_connection.hpp"

namespace rtconn {

/// Held by whatever keeps sending on one connection (UCMA: a signaling session, a subscription, a
/// page-mode message caching its pool's connection): while it lives the connection counts it in
/// `ref_count()`, is not closed for idleness (a call may be silent for longer than the
/// time-out), and `ConnectionPool::acquire_connection` hands the pool's other connections to the
/// next component first. Closing for any other reason (the peer, an error, `disconnect`, `stop`)
/// is not held back: check `is_connected()` before sending, and take another when it is not.
/// Move-only; dropping it (destructor, `reset`, assignment) releases the claim, from any thread.
/// It may outlive the manager, as any connection the application holds (see
/// RealTimeConnectionManager): a claim dropped later only counts down.
class ConnectionReference {
 public:
  ConnectionReference() noexcept = default;
  /// Claims `connection` (null: an empty reference).
  explicit ConnectionReference(std::shared_ptr<RealTimeConnection> connection) noexcept;
  ConnectionReference(ConnectionReference&& other) noexcept = default;
  ConnectionReference& operator=(ConnectionReference&& other) noexcept;
  ~ConnectionReference();

  const std::shared_ptr<RealTimeConnection>& connection() const noexcept { return connection_; }
  RealTimeConnection* operator->() const noexcept { return connection_.get(); }
  explicit operator bool() const noexcept { return connection_ != nullptr; }

  /// Releases the claim; the reference is empty afterwards.
  void reset() noexcept;

 private:
  std::shared_ptr<RealTimeConnection> connection_;
};

}  // namespace rtconn
