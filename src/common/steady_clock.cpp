#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "rtconn/clock.hpp"

namespace rtconn {
namespace {

class SteadyTimer final : public Timer {
 public:
  explicit SteadyTimer(const asio::any_io_executor& executor) : timer_(executor) {}

  void arm(std::chrono::steady_clock::duration after, std::function<void()> on_expiry) override {
    // The generation tells a stale completion (from before a re-arm or cancel) from a live one;
    // the shared counter keeps that check valid even after this timer is destroyed.
    const auto generation = ++*generation_;
    timer_.expires_after(after);
    timer_.async_wait(
        [generation, counter = generation_, on_expiry = std::move(on_expiry)](std::error_code ec) {
          if (!ec && *counter == generation) on_expiry();
        });
  }

  void cancel() override {
    ++*generation_;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
};

class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  std::unique_ptr<Timer> make_timer(const asio::any_io_executor& executor) override {
    return std::make_unique<SteadyTimer>(executor);
  }
};

}  // namespace

std::shared_ptr<Clock> make_steady_clock() {
  static const auto clock = std::make_shared<SteadyClock>();
  return clock;
}

}  // namespace rtconn
