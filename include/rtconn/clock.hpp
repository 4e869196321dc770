#pragma once
/// \file
/// The clock seam: every time-out in rtconn reads time and arms timers through a `Clock`, so
/// tests can drive time by hand (`ManualClock`) instead of sleeping.

#include <chrono>
#include <functional>
#include <memory>

#include <asio/any_io_executor.hpp>

namespace rtconn {

/// A one-shot timer made by a `Clock`. Not thread-safe: use it from the executor it was made for.
class Timer {
 public:
  virtual ~Timer() = default;
  /// Calls `on_expiry` on the timer's executor once `after` has passed, unless the timer is
  /// re-armed, cancelled or destroyed first. Re-arming replaces the pending expiry.
  virtual void arm(std::chrono::steady_clock::duration after, std::function<void()> on_expiry) = 0;
  /// Drops the pending expiry, if any; its handler is not called.
  virtual void cancel() = 0;
};

/// Source of the current time and of timers. Thread-safe.
class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  /// A timer whose handlers run on `executor`.
  virtual std::unique_ptr<Timer> make_timer(const asio::any_io_executor& executor) = 0;
};

/// The real clock: `std::chrono::steady_clock` and Asio's steady timers.
std::shared_ptr<Clock> make_steady_clock();

}  // namespace rtconn
