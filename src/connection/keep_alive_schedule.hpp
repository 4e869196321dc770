#pragma once
// When an outgoing connection pings and how long it waits for the pong (RFC 5626 4.4.1): the
// arithmetic, apart from sockets and timers, so it can be tested on its own.

#include <optional>
#include <random>

#include "rtconn/clock.hpp"

namespace rtconn::connection {

class KeepAliveSchedule {
 public:
  enum class Step { wait, ping, failed };

  KeepAliveSchedule(Clock::duration interval, Clock::duration pong_timeout, Clock::time_point now)
      : interval_(interval), pong_timeout_(pong_timeout), next_ping_(now + jittered()) {}

  /// When `on_timer` has something to do next.
  Clock::time_point deadline() const { return pong_due_ ? *pong_due_ : next_ping_; }
  bool awaiting_pong() const { return pong_due_.has_value(); }

  /// `ping`: send one now, its pong is awaited from here on; `failed`: the last one's pong did
  /// not come in time, the flow has failed.
  Step on_timer(Clock::time_point now) {
    if (pong_due_) return now >= *pong_due_ ? Step::failed : Step::wait;
    if (now < next_ping_) return Step::wait;
    pong_due_ = now + pong_timeout_;
    return Step::ping;
  }

  /// A pong came, or the ping could not be sent (a full write queue): the next ping is due a
  /// fresh interval from now.
  void rest(Clock::time_point now) {
    pong_due_.reset();
    next_ping_ = now + jittered();
  }

 private:
  // A random 80-100% of the interval (RFC 5626 4.4.1), so clients started together (after a
  // server restart, say) spread their pings out.
  Clock::duration jittered() {
    thread_local std::minstd_rand random(std::random_device{}());
    // whole - whole / 5, not whole * 4 / 5: an interval of up to 100 years in nanoseconds
    // would overflow the product.
    const auto whole = interval_.count();
    std::uniform_int_distribution<Clock::duration::rep> part(whole - whole / 5, whole);
    return Clock::duration(part(random));
  }

  Clock::duration interval_;
  Clock::duration pong_timeout_;
  Clock::time_point next_ping_;
  std::optional<Clock::time_point> pong_due_;
};

}  // namespace rtconn::connection
