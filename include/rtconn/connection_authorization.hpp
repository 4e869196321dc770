#pragma once
/// \file
/// Letting the application admit or refuse an incoming connection (UCMA 2.0's
/// ConnectionAuthorizationRequested).

#include <functional>
#include <memory>

namespace rtconn {

class RealTimeConnection;

/// The question "may this connection carry messages?", asked once its TLS handshake is done and
/// before any of its messages is read; the peer's certificate is in
/// `connection()->tls_session()`. A handler answers with `allow()` or `deny()`; when the handlers
/// return without an answer the connection is allowed, unless one called
/// `delay_authorization()`, which keeps it waiting (unread, but bounded by the new-connection
/// time-out) until `allow()` or `deny()` is called on any copy, from any thread. The first answer
/// counts.
class ConnectionAuthorization {
 public:
  /// Made by the manager; `decide` is called with the first answer.
  ConnectionAuthorization(std::shared_ptr<RealTimeConnection> connection,
                          std::function<void(bool allowed)> decide);

  const std::shared_ptr<RealTimeConnection>& connection() const noexcept;
  void allow() const;
  void deny() const;
  /// Keeps the connection waiting after the handlers return (UCMA DelayAuthorization); returns a
  /// copy to answer later.
  ConnectionAuthorization delay_authorization() const;

  /// Internal: after the handlers ran, allows a connection nobody answered or delayed.
  void settle_default() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace rtconn
