#pragma once
// A c-ares channel driven by an Asio executor. c-ares makes and closes its own sockets and says
// which to watch (its socket-state callback); they are waited on with the executor's reactor and
// their readiness handed back, and a timer wakes c-ares for its own time-outs (retries, servers
// that do not answer), which it keeps on the system clock, not on the manager's clock seam.
// c-ares 1.18 has no thread of its own and its channel is not thread-safe: everything here,
// the channel's callbacks included, runs on one strand, and the owner calls in only from it.

#include <ares.h>

#include <exception>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "rtconn/ip_endpoint.hpp"

namespace rtconn::dns {

/// What a c-ares status means as an error: no such name (or no address of it) is Asio's
/// host_not_found, a server that failed or did not answer host_not_found_try_again, a channel
/// ended while its queries ran errc::shutdown.
std::error_code ares_error(int status);

void log_lost_callback(const char* what, const std::exception& e) noexcept;

/// Runs `f` inside a callback c-ares made: nothing may unwind through its C frames, so an
/// exception (memory ran out; what the callback was for is lost) is logged here instead.
template <class F>
void not_unwinding_into_c(const char* what, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    log_lost_callback(what, e);
  }
}

/// Held by a shared_ptr: its waits hold a weak one, as they may complete after it is gone.
class AresChannel : public std::enable_shared_from_this<AresChannel> {
 public:
  /// On `strand`, configured by the resolv.conf file `configuration`, whose servers `servers`
  /// replace unless empty (each one's port 0 is 53). Throws std::system_error when c-ares cannot
  /// start or takes none of the servers.
  AresChannel(asio::any_io_executor strand, const std::vector<IpEndpoint>& servers,
              const std::filesystem::path& configuration);
  /// Ends every query still running: their callbacks run now, with ARES_EDESTRUCTION. On the
  /// strand, or wherever the last reference drops: a wait or timer handler holds one while it
  /// calls into c-ares, so none can be running then.
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  ares_channel get() const noexcept { return channel_; }
  /// Call after each query is started: it may have set c-ares a new time-out.
  void arm_timer();

  /// Queries started and not yet called back, counted by whoever starts them (on the strand).
  std::size_t running_queries = 0;

 private:
  struct Watch {
    explicit Watch(const asio::any_io_executor& executor) : descriptor(executor) {}
    asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;  // a wait is under way
    bool writing = false;
  };

  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable);
  void watch(ares_socket_t fd, bool readable, bool writable);
  void wait(ares_socket_t fd, Watch& watch, bool for_read);
  void process(ares_socket_t read_fd, ares_socket_t write_fd);

  asio::any_io_executor strand_;
  ares_channel channel_ = nullptr;
  // A socket's watch is replaced, never reused, when c-ares closes the socket and opens another
  // with the same number, so a wait still due for the old one finds it gone.
  std::unordered_map<ares_socket_t, std::shared_ptr<Watch>> watches_;
  asio::steady_timer timer_;
};

}  // namespace rtconn::dns
