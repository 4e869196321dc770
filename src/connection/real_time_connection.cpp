#include "rtconn/real_time_connection.hpp"

namespace rtconn {

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
