#pragma once
/// \file
/// A SIP message (RFC 3261 section 7): a request or a response, its headers and its body.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace rtconn {

/// One header line as it stands in the message; the name keeps the spelling it was given.
struct HeaderField {
  std::string name;
  std::string value;
};

/// The number and method of a CSeq header.
struct CSeq {
  std::uint32_t number = 0;
  std::string_view method;
};

/// A SIP request or response.
///
/// Header look-up is case-insensitive and treats a compact form as its long name (`v` is `Via`,
/// `l` is `Content-Length`, ...). Content-Length is never stored: `serialize_to` writes it from
/// the body, so a message cannot carry a length that disagrees with its body.
/// A value type; not synchronised (copy it to share across threads).
class SipMessage {
 public:
  /// An empty request with the given method and Request-URI.
  static SipMessage request(std::string method, std::string request_uri);
  /// An empty response; an empty reason takes the RFC 3261 phrase for the status.
  static SipMessage response(int status_code, std::string reason_phrase = {});
  /// A response to `request` per RFC 3261 8.2.6.2: every Via, From, To, Call-ID and CSeq copied,
  /// and `to_tag` added to To when it has no tag and the status is above 100.
  static SipMessage response_to(const SipMessage& request, int status_code,
                                std::string_view reason_phrase = {}, std::string_view to_tag = {});
  /// Parses one complete message as framed from a stream (header section, blank line, body).
  /// The body is everything after the blank line. Sets `ec` (errc::malformed_message) on failure.
  static SipMessage parse(std::string_view bytes, std::error_code& ec);

  bool is_request() const noexcept { return status_code_ == 0; }
  bool is_response() const noexcept { return status_code_ != 0; }
  /// Request method, e.g. "OPTIONS"; empty for a response.
  std::string_view method() const noexcept { return method_; }
  /// Request-URI; empty for a response.
  std::string_view request_uri() const noexcept { return request_uri_; }
  /// Status code of a response; 0 for a request.
  int status_code() const noexcept { return status_code_; }
  /// Reason phrase of a response.
  std::string_view reason_phrase() const noexcept { return reason_phrase_; }

  /// The first value of the named header, if present.
  std::optional<std::string_view> header(std::string_view name) const;
  /// Every value of the named header in order; a comma-separated line counts as one value.
  std::vector<std::string_view> header_values(std::string_view name) const;
  /// All header lines in order (Content-Length excluded, see the class comment).
  const std::vector<HeaderField>& headers() const noexcept { return headers_; }
  /// Appends a header line.
  void add_header(std::string name, std::string value);
  /// Replaces every line of the named header by one line, or appends it.
  void set_header(std::string name, std::string value);
  /// Removes every line of the named header; returns how many went.
  std::size_t remove_header(std::string_view name);

  std::string_view body() const noexcept { return body_; }
  /// Sets the body, and Content-Type when `content_type` is not empty.
  void set_body(std::string body, std::string content_type = {});

  /// The CSeq header, if present and well formed.
  std::optional<CSeq> cseq() const;
  /// The `branch` parameter of the topmost Via, if any.
  std::optional<std::string_view> top_via_branch() const;
  /// True when To carries a tag: the request is inside a dialog.
  bool has_to_tag() const;

  /// Appends the wire form (start line, headers, Content-Length, blank line, body) to `out`.
  void serialize_to(std::string& out) const;
  /// The wire form.
  std::string to_string() const;

 private:
  std::string method_;
  std::string request_uri_;
  int status_code_ = 0;
  std::string reason_phrase_;
  std::vector<HeaderField> headers_;
  std::string body_;
};

/// RFC 3261's reason phrase for a status code ("OK", "Not Found", ...), or "Unknown".
std::string_view default_reason_phrase(int status_code) noexcept;
/// The long name of a compact header name ("v" -> "Via"); other names come back unchanged.
std::string_view expand_compact_header_name(std::string_view name) noexcept;
/// Compares header names as SIP does: case-insensitive, compact forms equal to long names.
bool header_names_equal(std::string_view a, std::string_view b) noexcept;
/// The value of parameter `name` in a header value such as `<sip:a@b>;tag=x` (case-insensitive
/// name); an empty view for a parameter without value; nullopt when absent.
std::optional<std::string_view> header_parameter(std::string_view header_value,
                                                 std::string_view name) noexcept;

}  // namespace rtconn
