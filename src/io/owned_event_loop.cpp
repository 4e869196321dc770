#include "io/owned_event_loop.hpp"

#include <chrono>
#include <future>

namespace rtconn::detail {

OwnedEventLoop::OwnedEventLoop(std::size_t threads)
    : io_(static_cast<int>(threads)), work_(asio::make_work_guard(io_)) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

OwnedEventLoop::~OwnedEventLoop() {
  work_.reset();
  // Closing connections completes their pending sends; give that a moment, but never hang a
  // destructor on a peer or a handler that does not let go.
  auto finished = std::async(std::launch::async, [this] {
    for (auto& thread : threads_) thread.join();
  });
  if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    io_.stop();
    finished.wait();
  }
}

}  // namespace rtconn::detail
