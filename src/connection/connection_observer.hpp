#pragma once
// What a connection tells its owner. Lets the connection layer stay below pools and managers.

#include <memory>
#include <system_error>

#include "rtconn/sip_message.hpp"

namespace rtconn {
class RealTimeConnection;
}

namespace rtconn::connection {

class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  /// The connection is ready for messages (connected, TLS negotiated); runs on its strand.
  /// Returns false to keep it from reading until `StreamConnection::resume_reading`.
  virtual bool on_ready(const std::shared_ptr<RealTimeConnection>& connection) = 0;
  /// A valid message arrived; runs on the connection's strand.
  virtual void on_message(const std::shared_ptr<RealTimeConnection>& connection,
                          SipMessage message) = 0;
  /// A response arrived that the connection will not pass on (it breaks a limit on its parts);
  /// runs on the connection's strand. What waits for it fails with `reason` instead of waiting
  /// out its time.
  virtual void on_rejected_response(const std::shared_ptr<RealTimeConnection>& connection,
                                    SipMessage response, std::error_code reason) = 0;
  /// The connection answered a request itself with a refusal (malformed, too large, draining);
  /// runs on its strand. The request never reached the owner, but an INVITE's ACK will, like
  /// any well-formed request: the owner absorbs it (RFC 3261 17.2.1).
  virtual void on_refused(const SipMessage& request) = 0;
  /// The connection closed (exactly once per connection); runs on the connection's strand.
  virtual void on_closed(const std::shared_ptr<RealTimeConnection>& connection,
                         std::error_code reason) = 0;
};

}  // namespace rtconn::connection
