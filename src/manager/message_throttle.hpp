#pragma once
// UCMA's message throttling across a manager: requests handed to the application and not yet
// answered, against a high and a low water mark.

#include <atomic>
#include <cstdint>

namespace rtconn::detail {

/// Above the high mark new requests are refused until the count is back down to the low mark
/// (the band between them is hysteresis). Count and throttled state share one atomic word, so
/// every loop thread admits and ends requests with one compare-and-swap and no lock, and an
/// answer racing a new request on another thread is never lost.
class MessageThrottle {
 public:
  MessageThrottle(int high_mark, int low_mark) noexcept { set_marks(high_mark, low_mark); }

  void set_marks(int high_mark, int low_mark) noexcept {
    high_mark_.store(high_mark, std::memory_order_relaxed);
    low_mark_.store(low_mark, std::memory_order_relaxed);
    update([&](std::int64_t count, bool throttled) {
      return pack(count, throttled && count > low_mark);
    });
  }

  /// Whether a new request may go to the application; counted when it does. One that must not
  /// be refused (a CANCEL) is only counted.
  bool admit(bool may_refuse) noexcept {
    const int high = high_mark_.load(std::memory_order_relaxed);
    const int low = low_mark_.load(std::memory_order_relaxed);
    bool admitted = false;
    update([&](std::int64_t count, bool throttled) {
      if (count <= low) throttled = false;
      if (count >= high) throttled = true;
      admitted = !throttled || !may_refuse;
      return pack(admitted ? count + 1 : count, throttled);
    });
    return admitted;
  }

  /// A request admit let through was answered (or dropped unanswered).
  void end() noexcept {
    const int low = low_mark_.load(std::memory_order_relaxed);
    update([&](std::int64_t count, bool throttled) {
      return pack(count - 1, throttled && count - 1 > low);
    });
  }

  int waiting() const noexcept {
    return static_cast<int>(state_.load(std::memory_order_relaxed) >> 1);
  }

 private:
  static std::int64_t pack(std::int64_t count, bool throttled) noexcept {
    return count * 2 + (throttled ? 1 : 0);
  }
  template <class Next>
  void update(Next next) noexcept {
    std::int64_t state = state_.load(std::memory_order_relaxed);
    while (!state_.compare_exchange_weak(state, next(state >> 1, (state & 1) != 0),
                                         std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
  }

  std::atomic<std::int64_t> state_{0};  // count * 2 + throttled
  std::atomic<int> high_mark_{0};
  std::atomic<int> low_mark_{0};
};

}  // namespace rtconn::detail
