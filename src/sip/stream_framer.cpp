#include "sip/stream_framer.hpp"

#include <algorithm>
#include <optional>

#include "rtconn/errors.hpp"
#include "rtconn/sip_message.hpp"
#include "sip/text.hpp"

namespace rtconn::sip {
namespace {

constexpr std::string_view header_end = "\r\n\r\n";

Frame framing_lost(errc error, std::string_view header_section = {}) {
  return {FrameKind::framing_lost, 0, header_section, make_error_code(error)};
}

// RFC 5626 3.5.1 keep-alives between messages: CRLFCRLF is a ping, a lone CRLF a pong. Returns
// nullopt when `input` starts a message instead.
std::optional<Frame> keep_alive(std::string_view input) {
  const std::size_t common = std::min(input.size(), header_end.size());
  if (input.substr(0, common) == header_end.substr(0, common)) {
    if (common < header_end.size()) return Frame{};  // may still become a ping
    return Frame{FrameKind::keep_alive_ping, common, input.substr(0, common), {}};
  }
  if (input.starts_with(crlf)) {
    return Frame{FrameKind::keep_alive_pong, crlf.size(), input.substr(0, crlf.size()), {}};
  }
  return std::nullopt;
}

// Whitespace around a Content-Length value, including the line break of a folded header.
std::string_view trim_lws(std::string_view s) noexcept {
  constexpr std::string_view lws = " \t\r\n";
  const auto first = s.find_first_not_of(lws);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(lws) - first + 1);
}

// The body length declared by a header section ending in CRLFCRLF. Only names at the start of a
// header line count: "Content-Length" inside another header's value (or a folded continuation)
// says nothing about this message.
std::optional<std::size_t> declared_body_length(std::string_view header, errc& error) {
  std::optional<std::size_t> length;
  std::size_t pos = header.find(crlf) + crlf.size();  // past the start line
  while (true) {
    std::size_t end = header.find(crlf, pos);
    while (end + crlf.size() < header.size() && is_wsp(header[end + crlf.size()])) {
      end = header.find(crlf, end + crlf.size());
    }
    const std::string_view field = header.substr(pos, end - pos);
    pos = end + crlf.size();
    if (field.empty()) break;  // the blank line

    const auto colon = field.find(':');
    if (colon == std::string_view::npos ||
        !header_names_equal(trim_wsp(field.substr(0, colon)), "Content-Length")) {
      continue;
    }
    const auto value = parse_decimal<std::size_t>(trim_lws(field.substr(colon + 1)));
    if (!value || (length && *length != *value)) {
      error = errc::invalid_content_length;
      return std::nullopt;
    }
    length = value;
  }
  if (!length) error = errc::missing_content_length;
  return length;
}

}  // namespace

Frame StreamFramer::next(std::string_view input) {
  if (discard_remaining_ > 0) {
    if (input.empty()) return {};
    const std::size_t n = std::min(discard_remaining_, input.size());
    discard_remaining_ -= n;
    return {FrameKind::discarded, n, input.substr(0, n), {}};
  }

  if (message_bytes_ == 0) {
    if (scanned_ == 0) {
      if (auto frame = keep_alive(input)) return *frame;
    }
    // Resume where the last search stopped, less the bytes of a marker split across reads.
    constexpr std::size_t overlap = header_end.size() - 1;
    const std::size_t from = scanned_ > overlap ? scanned_ - overlap : 0;
    const auto found = input.find(header_end, from);
    if (found == std::string_view::npos) {
      if (input.size() > limits_.max_header_bytes) return framing_lost(errc::headers_too_large);
      scanned_ = input.size();
      return {};
    }
    const std::size_t header_bytes = found + header_end.size();
    const std::string_view header = input.substr(0, header_bytes);
    // Checked here too so the outcome does not depend on how the bytes were split into reads.
    if (header_bytes > limits_.max_header_bytes) {
      return framing_lost(errc::headers_too_large, header);
    }
    errc error{};
    const auto body_bytes = declared_body_length(header, error);
    if (!body_bytes) return framing_lost(error, header);
    if (header_bytes > limits_.max_message_bytes ||
        *body_bytes > limits_.max_message_bytes - header_bytes) {
      scanned_ = 0;
      discard_remaining_ = *body_bytes;
      return {FrameKind::oversize, header_bytes, header, make_error_code(errc::message_too_large)};
    }
    scanned_ = header_bytes;
    message_bytes_ = header_bytes + *body_bytes;
  }

  if (input.size() < message_bytes_) return {};
  const Frame frame{FrameKind::message, message_bytes_, input.substr(0, message_bytes_), {}};
  scanned_ = 0;
  message_bytes_ = 0;
  return frame;
}

}  // namespace rtconn::sip
