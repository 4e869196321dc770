#include "rtconn/real_time_connection.hpp"

#include "common/recycled_buffers.hpp"

namespace rtconn {

void RealTimeConnection::start_send(const SipMessage& message,
                                    detail::Completion<std::error_code> done) {
  // A buffer a finished write gave back on this thread: a request sent from a handler on the
  // connection's loop (a proxy forwarding one, say) allocates none for its bytes.
  std::string wire = detail::RecycledStrings::take();
  message.serialize_to(wire);
  start_send_serialized(std::move(wire), std::move(done), WhenQueueFull::as_configured);
}

std::string_view to_string(ConnectionState state) noexcept {
  switch (state) {
    case ConnectionState::connecting:
      return "connecting";
    case ConnectionState::ready:
      return "ready";
    case ConnectionState::draining:
      return "draining";
    case ConnectionState::closed:
      return "closed";
  }
  return "unknown";
}

}  // namespace rtconn
