#include "io/owned_event_loop.hpp"

#include <algorithm>
#include <chrono>
#include <future>

#include <spdlog/spdlog.h>

namespace rtconn::detail {
namespace {

// A handler of the application's that throws (a completion run on this loop, say) would end the
// loop's thread, and the process with it: it is logged, and the loop goes on, as it does for an
// incoming request's handler. Asio lets run() be called again after a handler threw.
void run(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("event loop: a handler threw, and the loop goes on: {}", e.what());
    } catch (...) {
      spdlog::error("event loop: a handler threw, and the loop goes on");
    }
  }
}

}  // namespace

OwnedEventLoop::OwnedEventLoop(std::size_t loops) {
  // spdlog makes its registry on first use, inside libspdlog, where TSan cannot see the check of
  // the static's guard: two loops logging the process's first lines at once looked like a race
  // (OwnLoops test under TSan). Made here, before the threads start, it happens before both.
  spdlog::default_logger_raw();
  for (std::size_t i = 0; i < loops; ++i) loops_->loops.push_back(std::make_unique<Loop>());
  try {
    for (auto& loop : loops_->loops) threads_.emplace_back([&io = loop->io] { run(io); });
  } catch (...) {
    // A thread the system would not make: the ones made must end before they are destroyed,
    // or std::thread's destructor ends the process instead of the caller hearing why.
    for (auto& loop : loops_->loops) loop->io.stop();
    for (auto& thread : threads_) thread.join();
    throw;
  }
}

OwnedEventLoop::~OwnedEventLoop() {
  for (auto& loop : loops_->loops) loop->work.reset();
  // Closing connections completes their pending sends; give that a moment, but never hang a
  // destructor on a peer or a handler that does not let go.
  auto finished = std::async(std::launch::async, [this] {
    for (auto& thread : threads_) thread.join();
  });
  if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    for (auto& loop : loops_->loops) loop->io.stop();
    finished.wait();
  }
  retire();
}

void OwnedEventLoop::retire() {
  // Set first: a connection destroyed by a shutdown below must already see it.
  loops_->retired.store(true, std::memory_order_release);
  // Handlers left queued (the loops stopped before running them) hold connections, which hold
  // these loops: destroyed now, not with the io_contexts, or neither would ever go.
  for (auto& loop : loops_->loops) loop->io.retire();
}

std::shared_ptr<const std::atomic<bool>> OwnedEventLoop::retired() const {
  return {loops_, &loops_->retired};
}

std::vector<asio::any_io_executor> OwnedEventLoop::executors() {
  std::vector<asio::any_io_executor> result;
  for (auto& loop : loops_->loops) result.push_back(loop->io.get_executor());
  return result;
}

bool OwnedEventLoop::runs_this_thread() const {
  const auto self = std::this_thread::get_id();
  return std::any_of(threads_.begin(), threads_.end(),
                     [self](const std::thread& thread) { return thread.get_id() == self; });
}

}  // namespace rtconn::detail
