#pragma once
/// \file
/// A request that arrived, and the way to answer it where it came from.

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/async_result.hpp>

#include "rtconn/real_time_connection.hpp"
#include "rtconn/sip_message.hpp"

namespace rtconn {

/// An incoming request. Responses go back on the connection the request came in on (RFC 3261
/// section 18.2.2). Movable, so a handler may keep it and answer later, from any thread.
class IncomingRequest {
 public:
  /// `transaction` counts the request as outstanding on its connection until it is answered
  /// with a final response or this object (and every copy) is gone.
  IncomingRequest(SipMessage request, std::shared_ptr<RealTimeConnection> connection,
                  std::shared_ptr<void> transaction = {});

  const SipMessage& message() const noexcept { return request_; }
  const std::shared_ptr<RealTimeConnection>& connection() const noexcept { return connection_; }
  /// The To tag every response to this request carries (RFC 3261 8.2.6.2).
  const std::string& to_tag() const noexcept { return to_tag_; }

  /// `SipMessage::response_to` with this request's To tag.
  SipMessage make_response(int status_code, std::string_view reason_phrase = {}) const;

  /// Sends `response` on the request's connection. Completion `void(std::error_code)` as
  /// `RealTimeConnection::async_send`.
  template <class CompletionToken>
  auto async_respond(SipMessage response, CompletionToken&& token) {
    if (response.status_code() >= 200) transaction_.reset();
    return connection_->async_send(std::move(response), std::forward<CompletionToken>(token));
  }

  /// Answers with `status_code` and forgets the outcome but for a log line on failure: for
  /// callers that would do nothing else with the error. ACK is never answered (RFC 3261 17.1.1).
  /// An answer that finds the connection's write queue full is refused, whatever
  /// `write_queue_full_action` says: with nothing to wait on, a peer that sends requests and
  /// never reads would make held answers pile up (it waits only to keep its place behind sends
  /// that wait for room, within one more queue's worth). `async_respond` waits as configured.
  void respond(int status_code, std::string_view reason_phrase = {});

 private:
  SipMessage request_;
  std::shared_ptr<RealTimeConnection> connection_;
  std::string to_tag_;
  std::shared_ptr<void> transaction_;
};

}  // namespace rtconn
