#pragma once
/// \file
/// A clock that moves only when told to, for tests of time-outs.

#include <map>
#include <mutex>

#include "rtconn/clock.hpp"

namespace rtconn {

/// Time stands still until `advance`; timers due by then have their handlers posted to their
/// executors (run them with `io_context::poll()`). Thread-safe.
class ManualClock final : public Clock, public std::enable_shared_from_this<ManualClock> {
 public:
  time_point now() const override;
  std::unique_ptr<Timer> make_timer(const asio::any_io_executor& executor) override;

  /// Moves time forward and posts the handlers of every timer now due, earliest first.
  void advance(duration by);
  /// Number of timers armed and not yet due.
  std::size_t pending_timers() const;

 private:
  class ManualTimer;
  struct Entry {
    asio::any_io_executor executor;
    std::function<void()> on_expiry;
  };

  std::uint64_t schedule(time_point due, asio::any_io_executor executor,
                         std::function<void()> on_expiry);
  void unschedule(std::uint64_t id);

  mutable std::mutex mutex_;  // guards now_, due_ and next_id_
  time_point now_{std::chrono::hours(1)};
  std::multimap<time_point, std::pair<std::uint64_t, Entry>> due_;
  std::uint64_t next_id_ = 1;
};

}  // namespace rtconn
