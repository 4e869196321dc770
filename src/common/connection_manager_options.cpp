#include "rtconn/connection_manager_options.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace rtconn {
namespace {

void require(bool ok, const char* field, const char* rule) {
  if (!ok)
    throw std::invalid_argument(std::string("ConnectionManagerOptions::") + field + " " + rule);
}

}  // namespace

void ConnectionManagerOptions::validate() const {
  require(event_loop_threads > 0, "event_loop_threads", "must be > 0");
  require(event_loop_threads <= max_event_loop_threads, "event_loop_threads", "must be <= 1024");
  require(default_maximum_number_of_connections_per_pool > 0,
          "default_maximum_number_of_connections_per_pool", "must be > 0");
  require(default_outgoing_connection_timeout.count() >= 0, "default_outgoing_connection_timeout",
          "must not be negative");
  require(default_incoming_connection_timeout.count() >= 0, "default_incoming_connection_timeout",
          "must not be negative");
  require(new_incoming_connection_timeout.count() >= 0, "new_incoming_connection_timeout",
          "must not be negative");
  require(connect_timeout.count() > 0, "connect_timeout", "must be > 0");
  require(request_timeout.count() > 0, "request_timeout", "must be > 0");
  require(connection_throttling_low_mark >= 1, "connection_throttling_low_mark", "must be >= 1");
  require(connection_throttling_high_mark >= connection_throttling_low_mark,
          "connection_throttling_high_mark", "must not be below the low mark");
  require(message_throttling_low_mark >= 1, "message_throttling_low_mark", "must be >= 1");
  require(message_throttling_high_mark >= message_throttling_low_mark,
          "message_throttling_high_mark", "must not be below the low mark");
  require(max_incoming_connections > 0, "max_incoming_connections", "must be > 0");
  require(max_concurrent_tls_handshakes > 0, "max_concurrent_tls_handshakes", "must be > 0");
  require(message_completion_timeout.count() >= 0, "message_completion_timeout",
          "must not be negative");
  require(max_header_bytes >= 256, "max_header_bytes", "must be >= 256");
  require(max_message_bytes >= max_header_bytes, "max_message_bytes",
          "must not be below max_header_bytes");
  require(max_header_name_bytes > 0, "max_header_name_bytes", "must be > 0");
  require(max_header_value_bytes > 0, "max_header_value_bytes", "must be > 0");
  require(max_parameter_count > 0, "max_parameter_count", "must be > 0");
  require(max_write_queue_bytes > 0, "max_write_queue_bytes", "must be > 0");
  require(shutdown_timeout.count() >= 0, "shutdown_timeout", "must not be negative");
  require(keep_alive_interval.count() >= 0, "keep_alive_interval", "must not be negative");
  require(keep_alive_pong_timeout.count() > 0, "keep_alive_pong_timeout", "must be > 0");
  require(dns_cache_max_ttl.count() >= 0, "dns_cache_max_ttl", "must not be negative");
  // A deadline is now + a time-out on a nanosecond clock: past about 292 years it wraps into the
  // past and would close every connection at once.
  const std::pair<std::chrono::milliseconds, const char*> time_outs[] = {
      {default_outgoing_connection_timeout, "default_outgoing_connection_timeout"},
      {default_incoming_connection_timeout, "default_incoming_connection_timeout"},
      {new_incoming_connection_timeout, "new_incoming_connection_timeout"},
      {connect_timeout, "connect_timeout"},
      {request_timeout, "request_timeout"},
      {message_completion_timeout, "message_completion_timeout"},
      {shutdown_timeout, "shutdown_timeout"},
      {keep_alive_interval, "keep_alive_interval"},
      {keep_alive_pong_timeout, "keep_alive_pong_timeout"},
      {dns_cache_max_ttl, "dns_cache_max_ttl"},
  };
  for (const auto& [value, field] : time_outs) {
    require(value <= longest_time_out, field, "must not exceed 100 years");
  }
}

}  // namespace rtconn
