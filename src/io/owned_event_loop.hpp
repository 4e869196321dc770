#pragma once
// The event loop a manager runs on when the application gives it no executor.

#include <thread>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

namespace rtconn::detail {

class OwnedEventLoop {
 public:
  /// Runs the loop on `threads` threads.
  explicit OwnedEventLoop(std::size_t threads);
  /// Lets work already started finish (bounded), then stops the loop and joins its thread.
  ~OwnedEventLoop();
  OwnedEventLoop(const OwnedEventLoop&) = delete;
  OwnedEventLoop& operator=(const OwnedEventLoop&) = delete;

  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

}  // namespace rtconn::detail
