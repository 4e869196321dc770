#pragma once
// The event loops a manager runs on when the application gives it no executor: one io_context
// per thread, so a connection pinned to one runs on one thread and needs no strand.

#include <memory>
#include <thread>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

namespace rtconn::detail {

class OwnedEventLoop {
 public:
  /// Runs `loops` loops, each on a thread of its own.
  explicit OwnedEventLoop(std::size_t loops);
  /// Lets work already started finish (bounded), then stops the loops and joins their threads.
  ~OwnedEventLoop();
  OwnedEventLoop(const OwnedEventLoop&) = delete;
  OwnedEventLoop& operator=(const OwnedEventLoop&) = delete;

  /// The first loop's: for the manager's own work (events, listeners, request matching).
  asio::any_io_executor executor() { return executors().front(); }
  /// Every loop's, to pin connections to.
  std::vector<asio::any_io_executor> executors();
  /// Whether the calling thread is one of the loops'.
  bool runs_this_thread() const;

 private:
  struct Loop {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  };
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace rtconn::detail
