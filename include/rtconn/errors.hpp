#pragma once
/// \file
/// rtconn's error codes (for asynchronous paths) and exceptions (for set-up calls), after UCMA's
/// RealTimeException family.

#include <stdexcept>
#include <string>
#include <system_error>

namespace rtconn {

/// Error values of rtconn's own category. Socket-level failures keep their system error codes.
enum class errc {
  shutdown = 1,             ///< the manager (or the connection) was stopped before completion
  connection_closed,        ///< the connection closed before the message reached the socket
  idle_timeout,             ///< closed because it was idle longer than its time-out
  new_connection_timeout,   ///< no valid message arrived on a new incoming connection in time
  connect_timeout,          ///< an outgoing connection could not be made in time
  request_timeout,          ///< no final response arrived for a request in time
  write_queue_full,         ///< the connection's bounded write queue has no room for the message
  pool_removed,             ///< the connection pool was removed from its manager
  transport_not_supported,  ///< the manager cannot make connections of that transport
  message_too_large,        ///< a SIP message exceeds the configured maximum size
  headers_too_large,        ///< a SIP header section exceeds the configured maximum size
  missing_content_length,   ///< a message on a stream has no Content-Length
  invalid_content_length,   ///< Content-Length is not a number, or differs between repeats
  malformed_message,        ///< a start line or header cannot be parsed
  framing_lost,             ///< the byte stream cannot be split into messages any more
  peer_closed,              ///< the remote side closed the connection
  not_listening,            ///< the server manager is not listening
  already_listening,        ///< the server manager is already listening
  invalid_argument,         ///< a setting or argument is out of range
  authorization_denied,     ///< the application refused the incoming connection
  message_timeout,          ///< a message was begun but not finished in time
  keep_alive_timeout,       ///< no pong answered a keep-alive ping in time (RFC 5626 4.4.1)
  header_limit_exceeded,    ///< a header name, value or parameter count is over its limit
};

/// Broad classes of errors, so callers can test a category rather than every value.
enum class condition {
  connection_lost = 1,  ///< the connection is gone (closed, reset, timed out, shut down)
  bad_message,          ///< the peer sent something that is not valid SIP on a stream
  resource_limit,       ///< a configured limit refused the work
  timeout,              ///< a timer ran out
};

/// The category of `errc` values ("rtconn").
const std::error_category& error_category() noexcept;
/// The category of `condition` values ("rtconn.condition").
const std::error_category& condition_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

/// Base of rtconn's exceptions (UCMA: RealTimeException).
class RealTimeException : public std::system_error {
 public:
  using std::system_error::system_error;
};

/// A connection could not be made or a listener could not be opened (UCMA:
/// ConnectionFailureException).
class ConnectionFailureException : public RealTimeException {
 public:
  using RealTimeException::RealTimeException;
};

/// An operation did not complete in time (UCMA: OperationTimeoutException).
class OperationTimeoutException : public RealTimeException {
 public:
  using RealTimeException::RealTimeException;
};

/// A call was made in a state that does not allow it, such as listening twice (UCMA:
/// InvalidOperationException).
class InvalidOperationException : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace rtconn

template <>
struct std::is_error_code_enum<rtconn::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<rtconn::condition> : std::true_type {};
