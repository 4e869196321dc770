#include "rtconn/errors.hpp"

#include <asio/error.hpp>

namespace rtconn {
namespace {

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtconn"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::shutdown:
        return "the connection manager was stopped";
      case errc::connection_closed:
        return "the connection closed before the message was sent";
      case errc::idle_timeout:
        return "the connection was idle longer than its time-out";
      case errc::new_connection_timeout:
        return "no valid message arrived on a new connection in time";
      case errc::connect_timeout:
        return "the connection could not be made in time";
      case errc::request_timeout:
        return "no final response arrived in time";
      case errc::write_queue_full:
        return "the connection's write queue is full";
      case errc::pool_removed:
        return "the connection pool was removed";
      case errc::transport_not_supported:
        return "the manager does not support that transport";
      case errc::message_too_large:
        return "the SIP message is larger than allowed";
      case errc::headers_too_large:
        return "the SIP header section is larger than allowed";
      case errc::missing_content_length:
        return "a SIP message on a stream has no Content-Length";
      case errc::invalid_content_length:
        return "the SIP message has an invalid Content-Length";
      case errc::malformed_message:
        return "the SIP message is malformed";
      case errc::framing_lost:
        return "the byte stream cannot be split into SIP messages";
      case errc::peer_closed:
        return "the remote side closed the connection";
      case errc::not_listening:
        return "the manager is not listening";
      case errc::already_listening:
        return "the manager is already listening";
      case errc::invalid_argument:
        return "an argument is out of range";
      case errc::authorization_denied:
        return "the application refused the connection";
      case errc::message_timeout:
        return "a message was not finished in time";
      case errc::keep_alive_timeout:
        return "no pong answered a keep-alive ping in time";
      case errc::header_limit_exceeded:
        return "a SIP header's name, value or parameters exceed the configured limit";
    }
    return "unknown rtconn error";
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::shutdown:
      case errc::connection_closed:
      case errc::peer_closed:
      case errc::framing_lost:
        return condition::connection_lost;
      case errc::idle_timeout:
      case errc::new_connection_timeout:
      case errc::connect_timeout:
      case errc::request_timeout:
      case errc::message_timeout:
      case errc::keep_alive_timeout:
        return condition::timeout;
      case errc::write_queue_full:
        return condition::resource_limit;
      case errc::message_too_large:
      case errc::headers_too_large:
      case errc::missing_content_length:
      case errc::invalid_content_length:
      case errc::malformed_message:
      case errc::header_limit_exceeded:
        return condition::bad_message;
      default:
        return {value, *this};
    }
  }
};

class condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtconn.condition"; }

  std::string message(int value) const override {
    switch (static_cast<condition>(value)) {
      case condition::connection_lost:
        return "the connection was lost";
      case condition::bad_message:
        return "the peer sent an invalid SIP message";
      case condition::resource_limit:
        return "a configured limit was reached";
      case condition::timeout:
        return "a time-out ran out";
    }
    return "unknown rtconn condition";
  }

  // Socket errors that mean "the connection is gone" belong to connection_lost too, so callers
  // need one test whatever layer noticed.
  bool equivalent(const std::error_code& code, int value) const noexcept override {
    if (code.category() == rtconn::error_category()) {
      return rtconn::error_category().default_error_condition(code.value()) ==
             std::error_condition(value, *this);
    }
    if (static_cast<condition>(value) == condition::connection_lost) {
      return code == asio::error::connection_reset || code == asio::error::eof ||
             code == asio::error::broken_pipe || code == asio::error::connection_aborted ||
             code == asio::error::connection_refused || code == asio::error::operation_aborted;
    }
    if (static_cast<condition>(value) == condition::timeout) {
      return code == asio::error::timed_out;
    }
    return false;
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const error_category_impl instance;
  return instance;
}

const std::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

}  // namespace rtconn
