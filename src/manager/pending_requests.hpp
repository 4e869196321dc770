#pragma once
// Requests sent with async_request that wait for their final response: matched by the top Via
// branch and the CSeq method (RFC 3261 17.1.3), failed by time-out, send error or shutdown.

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include <asio/strand.hpp>

#include "rtconn/clock.hpp"
#include "rtconn/detail/completion.hpp"
#include "rtconn/sip_message.hpp"

namespace rtconn::detail {

class PendingRequests : public std::enable_shared_from_this<PendingRequests> {
 public:
  using Done = Completion<std::error_code, SipMessage>;

  PendingRequests(asio::any_io_executor executor, std::shared_ptr<Clock> clock);

  /// The key `request` is matched by; empty if it has no branch.
  static std::string key_of(const SipMessage& message);

  /// Waits up to `timeout` for the final response matching `key`, sent on connection
  /// `connection_id`.
  void add(std::string key, std::uint64_t connection_id, std::chrono::milliseconds timeout,
           Done done);
  /// Completes the request this final response answers; provisional and stray ones are dropped.
  void on_response(SipMessage response);
  /// Fails the request with `key`, if it still waits.
  void fail(std::string key, std::error_code ec);
  /// Fails the requests sent on a connection that closed: over a stream, their responses
  /// could only have come back on it (RFC 3261 18.1.2).
  void fail_connection(std::uint64_t connection_id, std::error_code ec);
  /// Fails every waiting request.
  void fail_all(std::error_code ec);

 private:
  struct Entry {
    Done done;
    std::unique_ptr<Timer> timer;
    std::uint64_t connection_id = 0;
  };
  void finish(const std::string& key, std::error_code ec, SipMessage response);

  asio::strand<asio::any_io_executor> strand_;
  std::shared_ptr<Clock> clock_;
  std::unordered_map<std::string, Entry> entries_;  // strand-only
};

}  // namespace rtconn::detail
