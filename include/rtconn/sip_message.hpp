#pragma once
/// \file
/// A SIP message (RFC 3261 section 7): a request or a response, its headers and its body.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace rtconn {
namespace sip {
enum class HeaderId : std::uint8_t;  // the headers the stack reads itself; internal
class LineEnds;                      // where a framer found a header section's lines end; internal
}  // namespace sip

/// One header line as it stands in the message; the name keeps the spelling it was given. The
/// views point into the message and stay valid until it is changed or destroyed.
struct HeaderField {
  std::string_view name;
  std::string_view value;
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
///
/// Every string of a message lives in one buffer and the message keeps offsets into it: parsing
/// is one copy of the bytes, and a response copies what it takes from a request into a buffer
/// sized once — two allocations each, where a string per header made a dozen. Changing a header
/// or the body appends the new text; the text it replaced is dropped when the buffer next grows
/// and is mostly such text.
/// A value type; not synchronised (copy it to share across threads).
class SipMessage {
  struct Span {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    std::uint32_t end() const noexcept { return offset + size; }
  };
  struct Field {
    Span name;
    Span value;
    sip::HeaderId id{};  // the name's, given when the field is made
  };

 public:
  /// The header lines of a message in order, as `HeaderField`s; a view into the message.
  class HeaderList {
   public:
    class iterator {
     public:
      // Yields HeaderField by value: an input iterator to C++17 algorithms, a forward one to
      // C++20's.
      using iterator_category = std::input_iterator_tag;
      using iterator_concept = std::forward_iterator_tag;
      using value_type = HeaderField;
      using difference_type = std::ptrdiff_t;
      using pointer = void;
      using reference = HeaderField;
      iterator() = default;
      HeaderField operator*() const noexcept { return message_->field(*field_); }
      iterator& operator++() noexcept { return ++field_, *this; }
      iterator operator++(int) noexcept { return {message_, field_++}; }
      bool operator==(const iterator& other) const noexcept { return field_ == other.field_; }

     private:
      friend class HeaderList;
      iterator(const SipMessage* message, const Field* field) : message_(message), field_(field) {}
      const SipMessage* message_ = nullptr;
      const Field* field_ = nullptr;
    };
    std::size_t size() const noexcept { return message_->fields_.size(); }
    bool empty() const noexcept { return message_->fields_.empty(); }
    HeaderField operator[](std::size_t i) const noexcept {
      return message_->field(message_->fields_[i]);
    }
    HeaderField back() const noexcept { return message_->field(message_->fields_.back()); }
    iterator begin() const noexcept { return {message_, message_->fields_.data()}; }
    iterator end() const noexcept {
      return {message_, message_->fields_.data() + message_->fields_.size()};
    }

   private:
    friend class SipMessage;
    explicit HeaderList(const SipMessage* message) : message_(message) {}
    const SipMessage* message_;
  };

  SipMessage() = default;
  SipMessage(const SipMessage&) = default;
  SipMessage& operator=(const SipMessage&) = default;
  /// A moved-from message is empty, as one made of strings of its own would be.
  SipMessage(SipMessage&& other) noexcept { *this = std::move(other); }
  SipMessage& operator=(SipMessage&& other) noexcept;
  /// Leaves its buffers to the next message parsed or built on this thread.
  ~SipMessage();

  /// An empty request with the given method and Request-URI.
  static SipMessage request(std::string_view method, std::string_view request_uri);
  /// An empty response; an empty reason takes the RFC 3261 phrase for the status.
  static SipMessage response(int status_code, std::string_view reason_phrase = {});
  /// A response to `request` per RFC 3261 8.2.6.2: every Via, From, To, Call-ID and CSeq copied,
  /// and `to_tag` added to To when it has no tag and the status is above 100.
  static SipMessage response_to(const SipMessage& request, int status_code,
                                std::string_view reason_phrase = {}, std::string_view to_tag = {});
  /// Appends the wire form of `response_to(request, ...)` to `out` without building a message
  /// of its own: how a connection answers with nothing but a status, allocation-free.
  /// `extra_headers`, whole lines ("Retry-After: 5\r\n"), go in after the copied ones.
  static void serialize_response_to(const SipMessage& request, int status_code,
                                    std::string_view reason_phrase, std::string_view to_tag,
                                    std::string& out, std::string_view extra_headers = {});
  /// Parses one complete message as framed from a stream (header section, blank line, body).
  /// The body is everything after the blank line. Sets `ec` (errc::malformed_message) on failure.
  static SipMessage parse(std::string_view bytes, std::error_code& ec);
  /// The same, for bytes a stream framer has just framed: the line ends it found are not
  /// searched for again. Internal.
  static SipMessage parse(std::string_view bytes, sip::LineEnds& line_ends, std::error_code& ec);

  bool is_request() const noexcept { return status_code_ == 0; }
  bool is_response() const noexcept { return status_code_ != 0; }
  /// Request method, e.g. "OPTIONS"; empty for a response.
  std::string_view method() const noexcept { return text(method_); }
  /// Request-URI; empty for a response.
  std::string_view request_uri() const noexcept { return text(request_uri_); }
  /// Status code of a response; 0 for a request.
  int status_code() const noexcept { return status_code_; }
  /// Reason phrase of a response.
  std::string_view reason_phrase() const noexcept { return text(reason_phrase_); }

  /// The first value of the named header, if present.
  std::optional<std::string_view> header(std::string_view name) const;
  /// Every value of the named header in order; a comma-separated line counts as one value.
  std::vector<std::string_view> header_values(std::string_view name) const;
  /// All header lines in order (Content-Length excluded, see the class comment).
  HeaderList headers() const noexcept { return HeaderList(this); }
  /// Appends a header line.
  void add_header(std::string_view name, std::string_view value);
  /// Replaces every line of the named header by one line, or appends it.
  void set_header(std::string_view name, std::string_view value);
  /// Removes every line of the named header; returns how many went.
  std::size_t remove_header(std::string_view name);

  std::string_view body() const noexcept { return text(body_); }
  /// Sets the body, and Content-Type when `content_type` is not empty.
  void set_body(std::string_view body, std::string_view content_type = {});

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
  std::string_view text(Span span) const noexcept {
    return {text_.data() + span.offset, span.size};
  }
  HeaderField field(const Field& f) const noexcept { return {text(f.name), text(f.value)}; }
  /// Makes this message response_to(request, ...), reusing its buffers.
  void assign_response_to(const SipMessage& request, int status_code,
                          std::string_view reason_phrase, std::string_view to_tag);
  /// Appends `parts` one after the other and returns where they went. Any of them may lie in
  /// text_ itself: none is read after the buffer moves.
  Span store(std::initializer_list<std::string_view> parts);
  /// store(), choosing whether a buffer that grows may leave replaced text behind (it may not
  /// while a parse still maps offsets of the parsed bytes).
  Span append(std::initializer_list<std::string_view> parts, bool may_compact);
  Field store_field(std::string_view name, std::string_view value);
  /// Puts `field` where the first line of its name stands, dropping the others; or appends it.
  void replace_fields(Field field);
  /// Whether `f` is a line of the header `name`, whose id is `id`.
  bool named(const Field& f, sip::HeaderId id, std::string_view name) const noexcept;
  /// The To of `request` that a response with this status code and To tag adds the tag to, or
  /// null.
  static const Field* tagged_to(const SipMessage& request, int status_code,
                                std::string_view to_tag) noexcept;
  /// Where `part`, a view into `bytes`, lies in text_ when text_ is a copy of `bytes`.
  static Span span_in(std::string_view bytes, std::string_view part) noexcept;
  struct RecycledFields;  // the thread's header tables, kept between messages
  /// Takes buffers an earlier message left on this thread (an empty message's only): what a
  /// new message builds or parses goes into storage that is already there.
  void take_recycled_buffers() noexcept;
  /// Takes the header lines of a message being parsed from `bytes`, whose copy text_ is, from
  /// offset `from` up to the first empty line: where that line starts, or npos when the lines
  /// are malformed or no empty line ends them.
  std::size_t take_header_lines(std::string_view bytes, std::size_t from, sip::LineEnds& line_ends);

  std::string text_;  // every string the spans below point into
  std::vector<Field> fields_;
  Span method_;
  Span request_uri_;
  Span reason_phrase_;
  Span body_;
  int status_code_ = 0;
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
/// The URI of an address header value (To, From, Contact, Route): what `<...>` holds in
/// `"Bob" <sip:bob@b;transport=tcp>;tag=x`, the text before the header parameters in
/// `sip:bob@b;tag=x` (whose parameters are the header's, RFC 3261 20). Empty when a `<` or a
/// quoted display name is never closed.
std::string_view header_address(std::string_view header_value) noexcept;
/// The elements of a comma-separated header value (`<sip:p1;lr>, "A, B" <sip:p2;lr>`), split at
/// the commas outside quoted strings and `<...>`, each without surrounding whitespace; empty
/// elements are skipped.
std::vector<std::string_view> split_header_list(std::string_view header_value);

}  // namespace rtconn
