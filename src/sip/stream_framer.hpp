#pragma once
// Splits a SIP byte stream into messages (RFC 3261 section 18.3) and RFC 5626 keep-alives.
// Knows no sockets: the caller hands in the unconsumed bytes and drops what a frame consumed.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace rtconn::sip {

struct FramerLimits {
  /// Largest header section (start line to blank line inclusive).
  std::size_t max_header_bytes = 64 * 1024;
  /// Largest whole message (header section plus body).
  std::size_t max_message_bytes = 256 * 1024;
  /// Largest body.
  std::size_t max_body_bytes = std::numeric_limits<std::size_t>::max();
};

enum class FrameKind {
  need_more,        // nothing complete yet; call again with more bytes
  message,          // `bytes` is one whole message: header section and body
  keep_alive_ping,  // a CRLFCRLF ping: answer with a CRLF pong
  keep_alive_pong,  // a lone CRLF between messages (a pong, or stray line ending)
  oversize,         // a message whose body makes it too large: `bytes` is its header section so the
                    // caller can answer 413; the body is skipped as `discarded` frames
  discarded,        // bytes of an oversize body, skipped
  framing_lost,     // the stream cannot be framed any more: `error` says why; `bytes` holds the
                    // header section when one was complete (to answer 400 before closing)
};

struct Frame {
  FrameKind kind = FrameKind::need_more;
  std::size_t consumed = 0;  // bytes the caller must drop from the front of its input
  std::string_view bytes;    // points into the caller's input
  std::error_code error;     // set for oversize (message_too_large) and framing_lost
  // For a message whose header section was searched in this call: the offsets in `bytes` of its
  // first CRLFs (up to 128), for SipMessage::parse not to search again; valid until the next
  // call of any framer on this thread. Empty otherwise.
  std::span<const std::uint32_t> line_ends;
};

class StreamFramer {
 public:
  explicit StreamFramer(FramerLimits limits = {}) noexcept : limits_(limits) {}

  /// Looks at `input`, which must start where the previous frame's `consumed` bytes ended (the
  /// same bytes as last time plus any new ones after a need_more), and returns the next frame.
  /// Linear overall: a message arriving a byte at a time is scanned once, not once per byte.
  /// A lone CRLF at the end of `input` is held (it may become a ping) unless `pong_awaited`: a
  /// connection that pinged takes it for the pong at once.
  Frame next(std::string_view input, bool pong_awaited = false);

  /// True while part of a message has arrived but not all of it (for slow-sender time limits).
  bool inside_message() const noexcept { return scanned_ > 0 || discard_remaining_ > 0; }

 private:
  // What the lines of the current header section seen so far said: each line is looked at once,
  // when its CRLF arrives, and the empty line ends the section in the same pass.
  struct HeaderScan {
    std::size_t line_start = 0;  // where the first line not looked at yet begins (0: start line)
    std::size_t length_value = std::string_view::npos;  // a Content-Length value still open
    std::size_t length = 0;  // what the Content-Length lines closed so far declare, if any did
    // Not an optional and a flag: this lives in every connection, idle ones too.
    enum class Length : std::uint8_t { none, declared, invalid } declared = Length::none;
  };
  /// The header section's size once its empty line is in `input`.
  std::optional<std::size_t> scan_header_lines(std::string_view input);
  /// The header field being read ends where `next_line` begins.
  void end_field(std::string_view input, std::size_t next_line);

  FramerLimits limits_;
  HeaderScan scan_;
  std::size_t scanned_ = 0;            // bytes of the current header section already searched
  std::size_t discard_remaining_ = 0;  // body bytes of an oversize message still to skip
  // Header section plus body of the current message once its header section has been read, so a
  // body arriving in pieces does not make us parse the header section again; 0 until then.
  std::size_t message_bytes_ = 0;
};

}  // namespace rtconn::sip
