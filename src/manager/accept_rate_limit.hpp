#pragma once
// The accepts one listening address takes per second: a token bucket holding one second's
// worth, shared by the sockets that accept on that address (one per event loop).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>

#include "rtconn/clock.hpp"

namespace rtconn::detail {

class AcceptRateLimit {
 public:
  /// `per_second` 0: no limit.
  AcceptRateLimit(std::shared_ptr<Clock> clock, std::size_t per_second)
      : clock_(std::move(clock)),
        per_second_(per_second),
        tokens_(static_cast<double>(per_second)),
        counted_at_(clock_->now()) {}

  /// Takes a token and returns zero, or returns how long until one is due.
  Clock::duration wait_for_token() {
    if (per_second_ == 0) return Clock::duration::zero();
    const auto now = clock_->now();
    const double rate = static_cast<double>(per_second_);
    std::lock_guard lock(mutex_);
    const std::chrono::duration<double> elapsed = now - counted_at_;
    tokens_ = std::min(rate, tokens_ + std::max(0.0, elapsed.count()) * rate);
    counted_at_ = std::max(counted_at_, now);
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return Clock::duration::zero();
    }
    const std::chrono::duration<double> until((1.0 - tokens_) / rate);
    return std::max(std::chrono::duration_cast<Clock::duration>(until), Clock::duration(1));
  }

 private:
  const std::shared_ptr<Clock> clock_;
  const std::size_t per_second_;
  std::mutex mutex_;  // guards tokens_ and counted_at_
  double tokens_;
  Clock::time_point counted_at_;
};

}  // namespace rtconn::detail
