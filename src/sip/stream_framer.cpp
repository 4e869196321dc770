#include "sip/stream_framer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "rtconn/errors.hpp"
#include "sip/header_id.hpp"
#include "sip/text.hpp"

namespace rtconn::sip {
namespace {

constexpr std::string_view header_end = "\r\n\r\n";

// The line ends of the header section the framer last searched from its start on this thread,
// for the message's parse. Per thread rather than per framer: an idle connection holds none.
// Most requests have about a dozen lines; a longer section has the rest searched by the parse.
struct ScannedLines {
  std::array<std::uint32_t, 128> ends;
  std::size_t count;
};
thread_local ScannedLines scanned_lines;

Frame framing_lost(errc error, std::string_view header_section = {}) {
  return {FrameKind::framing_lost, 0, header_section, make_error_code(error), {}};
}

// RFC 5626 3.5.1 keep-alives between messages: CRLFCRLF is a ping, a lone CRLF a pong. Returns
// nullopt when `input` starts a message instead.
std::optional<Frame> keep_alive(std::string_view input, bool pong_awaited) {
  const std::size_t common = std::min(input.size(), header_end.size());
  if (input.substr(0, common) == header_end.substr(0, common)) {
    if (pong_awaited && input == crlf) {
      return Frame{FrameKind::keep_alive_pong, crlf.size(), input, {}, {}};
    }
    if (common < header_end.size()) return Frame{};  // may still become a ping
    return Frame{FrameKind::keep_alive_ping, common, input.substr(0, common), {}, {}};
  }
  if (input.starts_with(crlf)) {
    return Frame{FrameKind::keep_alive_pong, crlf.size(), input.substr(0, crlf.size()), {}, {}};
  }
  return std::nullopt;
}

// Whitespace around a Content-Length value, including the line break of a folded header.
// A loop, not find_first_not_of, which searches its set for every byte.
std::string_view trim_lws(std::string_view s) noexcept {
  const auto is_lws = [](char c) { return is_wsp(c) || c == '\r' || c == '\n'; };
  while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Frame StreamFramer::next(std::string_view input, bool pong_awaited) {
  if (discard_remaining_ > 0) {
    if (input.empty()) return {};
    const std::size_t n = std::min(discard_remaining_, input.size());
    discard_remaining_ -= n;
    return {FrameKind::discarded, n, input.substr(0, n), {}, {}};
  }

  std::span<const std::uint32_t> line_ends;
  if (message_bytes_ == 0) {
    if (scanned_ == 0) {
      if (auto frame = keep_alive(input, pong_awaited)) return *frame;
    }
    const auto header_bytes = scan_header_lines(input);
    if (!header_bytes) {
      if (input.size() > limits_.max_header_bytes) return framing_lost(errc::headers_too_large);
      scanned_ = input.size();
      return {};
    }
    const std::string_view header = input.substr(0, *header_bytes);
    const HeaderScan scan = std::exchange(scan_, {});
    // Checked here too so the outcome does not depend on how the bytes were split into reads.
    if (*header_bytes > limits_.max_header_bytes) {
      return framing_lost(errc::headers_too_large, header);
    }
    if (scan.declared == HeaderScan::Length::invalid) {
      return framing_lost(errc::invalid_content_length, header);
    }
    if (scan.declared == HeaderScan::Length::none) {
      return framing_lost(errc::missing_content_length, header);
    }
    const std::size_t body_bytes = scan.length;
    if (*header_bytes > limits_.max_message_bytes || body_bytes > limits_.max_body_bytes ||
        body_bytes > limits_.max_message_bytes - *header_bytes) {
      scanned_ = 0;
      discard_remaining_ = body_bytes;
      return {
          FrameKind::oversize, *header_bytes, header, make_error_code(errc::message_too_large), {}};
    }
    scanned_ = *header_bytes;
    message_bytes_ = *header_bytes + body_bytes;
    line_ends = {scanned_lines.ends.data(), scanned_lines.count};
  }

  if (input.size() < message_bytes_) return {};
  const Frame frame{
      FrameKind::message, message_bytes_, input.substr(0, message_bytes_), {}, line_ends};
  scanned_ = 0;
  message_bytes_ = 0;
  return frame;
}

std::optional<std::size_t> StreamFramer::scan_header_lines(std::string_view input) {
  // A line arriving a byte at a time is searched once: from where the last search stopped, less
  // the CR of a CRLF split across reads.
  std::size_t from = std::max(scan_.line_start, scanned_ > 0 ? scanned_ - 1 : 0);
  // Only a search from the start finds every line end the parse needs.
  const bool record = from == 0 && input.size() <= std::numeric_limits<std::uint32_t>::max();
  scanned_lines.count = 0;
  while (true) {
    const auto end = input.find(crlf, from);
    if (end == std::string_view::npos) return std::nullopt;
    if (record && scanned_lines.count < scanned_lines.ends.size()) {
      scanned_lines.ends[scanned_lines.count++] = static_cast<std::uint32_t>(end);
    }
    const std::size_t start = std::exchange(scan_.line_start, end + crlf.size());
    from = scan_.line_start;
    if (start == 0) continue;  // the start line
    const std::string_view line = input.substr(start, end - start);
    if (!line.empty() && is_wsp(line.front())) continue;  // a folded line: the field goes on
    end_field(input, start);
    if (line.empty()) return scan_.line_start;
    // Only names at the start of a header line count: "Content-Length" inside another header's
    // value (or a folded continuation) says nothing about this message. Most lines are passed
    // over on their first letter.
    const char first = ascii_lower(line.front());
    if (first != 'c' && first != 'l') continue;
    const auto colon = line.find(':');
    if (colon != std::string_view::npos &&
        header_id(trim_wsp(line.substr(0, colon))) == HeaderId::content_length) {
      scan_.length_value = start + colon + 1;
    }
  }
}

void StreamFramer::end_field(std::string_view input, std::size_t next_line) {
  if (scan_.length_value == std::string_view::npos) return;
  const std::size_t value_end = next_line - crlf.size();
  const auto value = parse_decimal<std::size_t>(
      trim_lws(input.substr(scan_.length_value, value_end - scan_.length_value)));
  scan_.length_value = std::string_view::npos;
  if (scan_.declared == HeaderScan::Length::invalid) return;
  if (!value || (scan_.declared == HeaderScan::Length::declared && scan_.length != *value)) {
    scan_.declared = HeaderScan::Length::invalid;
  } else {
    scan_.declared = HeaderScan::Length::declared;
    scan_.length = *value;
  }
}

}  // namespace rtconn::sip
