#include "rtconn/manual_clock.hpp"

#include <utility>
#include <vector>

#include <asio/post.hpp>

namespace rtconn {

class ManualClock::ManualTimer final : public Timer {
 public:
  ManualTimer(std::shared_ptr<ManualClock> clock, asio::any_io_executor executor)
      : clock_(std::move(clock)), executor_(std::move(executor)) {}
  ~ManualTimer() override { cancel(); }

  void arm(std::chrono::steady_clock::duration after, std::function<void()> on_expiry) override {
    cancel();
    // A handler already posted by advance() but not yet run must not fire after a cancel or
    // re-arm: the generation check drops it, as with the steady timer.
    const auto generation = *generation_;
    id_ = clock_->schedule(clock_->now() + after, executor_,
                           [generation, counter = generation_, on_expiry = std::move(on_expiry)] {
                             if (*counter == generation) on_expiry();
                           });
  }
  void cancel() override {
    ++*generation_;
    if (id_ != 0) clock_->unschedule(std::exchange(id_, 0));
  }

 private:
  std::shared_ptr<ManualClock> clock_;
  asio::any_io_executor executor_;
  std::uint64_t id_ = 0;
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
};

Clock::time_point ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

std::unique_ptr<Timer> ManualClock::make_timer(const asio::any_io_executor& executor) {
  return std::make_unique<ManualTimer>(shared_from_this(), executor);
}

std::uint64_t ManualClock::schedule(time_point due, asio::any_io_executor executor,
                                    std::function<void()> on_expiry) {
  {
    std::lock_guard lock(mutex_);
    if (due > now_) {
      const auto id = next_id_++;
      due_.emplace(due, std::make_pair(id, Entry{std::move(executor), std::move(on_expiry)}));
      return id;
    }
  }
  // Due already (armed for zero or a time past): like a steady timer it expires at once, not at
  // the next advance(), which may never come. Id 0: nothing to unschedule; the timer's
  // generation check still drops it after a cancel.
  asio::post(executor, std::move(on_expiry));
  return 0;
}

void ManualClock::unschedule(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  std::erase_if(due_, [id](const auto& item) { return item.second.first == id; });
}

void ManualClock::advance(duration by) {
  std::vector<Entry> fired;
  {
    std::lock_guard lock(mutex_);
    now_ += by;
    const auto end = due_.upper_bound(now_);
    for (auto it = due_.begin(); it != end; ++it) fired.push_back(std::move(it->second.second));
    due_.erase(due_.begin(), end);
  }
  for (auto& entry : fired) asio::post(entry.executor, std::move(entry.on_expiry));
}

std::size_t ManualClock::pending_timers() const {
  std::lock_guard lock(mutex_);
  return due_.size();
}

}  // namespace rtconn
