#pragma once
// The event loops a manager runs on when the application gives it no executor: one io_context
// per thread, so a connection pinned to one runs on one thread and needs no strand.

#include <atomic>
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
  /// Lets work already started finish (bounded), stops the loops, joins their threads and
  /// retires the loops (see `retired`).
  ~OwnedEventLoop();
  OwnedEventLoop(const OwnedEventLoop&) = delete;
  OwnedEventLoop& operator=(const OwnedEventLoop&) = delete;

  /// The first loop's: for the manager's own work (events, listeners, request matching).
  asio::any_io_executor executor() { return executors().front(); }
  /// Every loop's, to pin connections to.
  std::vector<asio::any_io_executor> executors();
  /// Whether the calling thread is one of the loops'.
  bool runs_this_thread() const;
  /// True once the loops are retired: their threads are gone and their io_contexts shut down,
  /// so what is posted to them never runs (and is never freed). Holding it keeps those
  /// io_contexts, without their threads: a connection the application still holds after its
  /// manager is destroyed destroys its socket and timers on a live io_context.
  std::shared_ptr<const std::atomic<bool>> retired() const;

 private:
  // An io_context that can be shut down before it is destroyed, as its destructor would: the
  // handlers still queued are destroyed, and objects made on it can still be destroyed after.
  class Context : public asio::io_context {
   public:
    using asio::io_context::io_context;
    void retire() { shutdown(); }
  };
  struct Loop {
    Context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  };
  // Shared with what `retired` hands out.
  struct Loops {
    std::vector<std::unique_ptr<Loop>> loops;
    std::atomic<bool> retired{false};
  };

  void retire();

  const std::shared_ptr<Loops> loops_ = std::make_shared<Loops>();
  std::vector<std::thread> threads_;
};

}  // namespace rtconn::detail
