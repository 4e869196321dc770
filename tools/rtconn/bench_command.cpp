#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "client_arguments.hpp"
#include "latency_samples.hpp"
#include "outgoing_request.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"

namespace rtconn::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A load generator good enough not to be the bottleneck: client connection managers on their
// own loops, requests matched to responses by the library, the sending paced from one thread
// (fixed rate) or by the completions themselves (flat out, a window of requests in flight).
class BenchRun {
 public:
  BenchRun(RealTimeClientConnectionManager& manager, PoolKey key, const BenchArguments& arguments)
      : manager_(manager), key_(std::move(key)), arguments_(arguments) {}

  void run() {
    start_ = Clock::now();
    end_ = start_ + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(arguments_.seconds));
    if (arguments_.rate > 0) {
      pace();
    } else {
      const int window =
          arguments_.window > 0 ? arguments_.window : 4 * arguments_.client.connections;
      for (int i = 0; i < window; ++i) send();
      report_until(end_);
    }
    // What is in flight gets its answer or its time-out.
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return in_flight_ == 0; });
    finished_ = Clock::now();
  }

  int summarize() const {
    std::lock_guard lock(mutex_);
    const double seconds = std::chrono::duration<double>(finished_ - start_).count();
    fmt::print(
        "--- {} bench: {} sent, {} answered 2xx, {} failed in {:.2f} s: {:.0f} answered/s ---\n",
        arguments_.client.uri, sent_, rtts_.size(), failed_, seconds,
        static_cast<double>(rtts_.size()) / seconds);
    if (!rtts_.empty()) fmt::print("{}\n", rtts_.summary());
    if (first_error_) fmt::print("first failure: {}\n", first_error_.message());
    return failed_ == 0 && sent_ > 0 ? 0 : 1;
  }

 private:
  // Fixed rate: every millisecond, sends what the rate says is due by now.
  void pace() {
    std::uint64_t due_sent = 0;
    auto next_report = start_ + std::chrono::seconds(1);
    for (auto now = Clock::now(); now < end_; now = Clock::now()) {
      const double elapsed = std::chrono::duration<double>(now - start_).count();
      const auto due = static_cast<std::uint64_t>(elapsed * arguments_.rate);
      for (; due_sent < due; ++due_sent) send();
      if (now >= next_report) {
        report(now);
        next_report += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void report_until(Clock::time_point end) {
    for (auto next = start_ + std::chrono::seconds(1); next < end;
         next += std::chrono::seconds(1)) {
      std::this_thread::sleep_until(next);
      report(next);
    }
    std::this_thread::sleep_until(end);
  }

  void report(Clock::time_point now) {
    if (arguments_.quiet) return;
    std::lock_guard lock(mutex_);
    const auto answered = rtts_.size();
    fmt::print("{:5.1f} s: {} sent, {} answered 2xx, {} failed, {} in flight, {} answered/s\n",
               std::chrono::duration<double>(now - start_).count(), sent_, answered, failed_,
               in_flight_, answered - answered_at_last_report_);
    answered_at_last_report_ = answered;
    std::fflush(stdout);
  }

  void send() {
    std::uint32_t sequence = 0;
    {
      std::lock_guard lock(mutex_);
      sequence = static_cast<std::uint32_t>(++sent_);
      ++in_flight_;
    }
    issue(sequence);
  }

  // The request's place in flight is already counted, so run() cannot return before it ends.
  void issue(std::uint32_t sequence) {
    const auto start = Clock::now();
    manager_.async_request(
        key_, make_request("OPTIONS", arguments_.client.uri, manager_.local_host_name(), sequence),
        [this, start](std::error_code ec, SipMessage response) {
          record(ec, response, Clock::now() - start);
        });
  }

  void record(std::error_code ec, const SipMessage& response, Clock::duration elapsed) {
    std::optional<std::uint32_t> next;
    {
      std::lock_guard lock(mutex_);
      if (!ec && response.status_code() >= 200 && response.status_code() < 300) {
        rtts_.add(std::chrono::duration<double, std::milli>(elapsed).count());
      } else {
        ++failed_;
        if (!first_error_) first_error_ = ec ? ec : make_error_code(std::errc::protocol_error);
      }
      // Flat out, the next request takes this one's place in flight without it ever reaching
      // zero: run() may return (and this object go) the moment it does.
      if (arguments_.rate <= 0 && Clock::now() < end_) {
        next = static_cast<std::uint32_t>(++sent_);
      } else if (--in_flight_ == 0) {
        idle_.notify_all();
      }
    }
    // A request that fails at once (a TLS context that cannot be made) completes in a handler
    // of its own: issuing the next one from here does not recurse.
    if (next) issue(*next);
  }

  RealTimeClientConnectionManager& manager_;
  const PoolKey key_;
  const BenchArguments& arguments_;
  Clock::time_point start_;
  Clock::time_point end_;
  Clock::time_point finished_;
  mutable std::mutex mutex_;  // guards everything below and stdout
  std::condition_variable idle_;
  std::uint64_t sent_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t answered_at_last_report_ = 0;
  std::error_code first_error_;
  LatencySamples rtts_;
};

}  // namespace

int bench(const BenchArguments& arguments) {
  const auto key = target_of(arguments.client);
  auto options = client_options(arguments.client);
  options.event_loop_threads =
      arguments.threads > 0 ? arguments.threads : std::max(1u, std::thread::hardware_concurrency());
  RealTimeClientConnectionManager manager(options);
  BenchRun run(manager, key, arguments);
  run.run();
  return run.summarize();
}

}  // namespace rtconn::cli
