#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <asio/steady_timer.hpp>

#include "client_arguments.hpp"
#include "latency_samples.hpp"
#include "outgoing_request.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"

namespace rtconn::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `count` requests with `connections` of them in flight at a time: each finished request
// starts the next, so the pool (capped at `connections`) opens exactly that many connections.
class PingRun {
 public:
  PingRun(RealTimeClientConnectionManager& manager, PoolKey key, const PingArguments& arguments)
      : manager_(manager),
        key_(std::move(key)),
        arguments_(arguments),
        // What the connections that closed on the way received (one a keep-alive time-out
        // closed, say, and the pool it emptied): the summary counts theirs too.
        pool_added_(manager.connection_pool_added.subscribe(
            [closed = closed_keep_alives_](const ConnectionPoolEventArgs& added) {
              added.item->connection_removed += [closed](const ConnectionEventArgs& removed) {
                *closed += removed.item->counters().keep_alives_received;
              };
            })) {}

  void run() {
    for (int i = 0; i < arguments_.client.connections; ++i) next();
    finished_.get_future().wait();
  }

  int summarize() const {
    std::lock_guard lock(mutex_);
    std::string keep_alives;
    if (arguments_.keep_alive_ms > 0) {
      std::uint64_t received = *closed_keep_alives_;
      for (const auto& pool : manager_.connection_pools()) {
        for (const auto& connection : pool->connections()) {
          received += connection->counters().keep_alives_received;
        }
      }
      keep_alives = fmt::format(", {} keep-alives received", received);
    }
    fmt::print("--- {} ping: {} sent, {} answered 2xx, {} failed{} ---\n", arguments_.client.uri,
               arguments_.count, rtts_.size(), failed_, keep_alives);
    if (!rtts_.empty()) fmt::print("{}\n", rtts_.summary());
    return failed_ == 0 ? 0 : 1;
  }

 private:
  void next() {
    const int sequence = started_.fetch_add(1) + 1;
    if (sequence > arguments_.count) {
      if (++idle_workers_ == arguments_.client.connections) finished_.set_value();
      return;
    }
    const auto start = Clock::now();
    manager_.async_request(
        key_, make_request("OPTIONS", arguments_.client.uri, manager_.local_host_name(), sequence),
        [this, sequence, start](std::error_code ec, SipMessage response) {
          record(sequence, ec, response, Clock::now() - start);
          if (sequence < arguments_.count) return pause_then_next();
          next();
        });
  }

  void pause_then_next() {
    if (arguments_.interval_ms == 0) return next();
    auto timer = std::make_shared<asio::steady_timer>(
        manager_.get_executor(), std::chrono::milliseconds(arguments_.interval_ms));
    timer->async_wait([this, timer](std::error_code) { next(); });
  }

  void record(int sequence, std::error_code ec, const SipMessage& response,
              Clock::duration elapsed) {
    const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    std::lock_guard lock(mutex_);
    const bool ok = !ec && response.status_code() >= 200 && response.status_code() < 300;
    if (ok) {
      rtts_.add(ms);
    } else {
      ++failed_;
    }
    if (arguments_.quiet) return;
    if (ec) {
      fmt::print("seq={} failed: {} ({:.3f} ms)\n", sequence, ec.message(), ms);
    } else {
      fmt::print("{} {} from {} seq={} time={:.3f} ms\n", response.status_code(),
                 response.reason_phrase(), key_.to_string(), sequence, ms);
    }
  }

  RealTimeClientConnectionManager& manager_;
  const PoolKey key_;
  const PingArguments& arguments_;
  const std::shared_ptr<std::atomic<std::uint64_t>> closed_keep_alives_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
  const Subscription pool_added_;
  std::atomic<int> started_{0};
  std::atomic<int> idle_workers_{0};
  std::promise<void> finished_;
  mutable std::mutex mutex_;  // guards rtts_, failed_ and stdout
  LatencySamples rtts_;
  int failed_ = 0;
};

}  // namespace

int ping(const PingArguments& arguments) {
  const auto key = target_of(arguments.client);
  auto options = client_options(arguments.client);
  options.keep_alive_interval = std::chrono::milliseconds(arguments.keep_alive_ms);
  RealTimeClientConnectionManager manager(options);
  PingRun run(manager, key, arguments);
  run.run();
  return run.summarize();
}

}  // namespace rtconn::cli
