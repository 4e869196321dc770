#include <cstdint>
#include <limits>

#include "rtconn/errors.hpp"
#include "rtconn/sip_message.hpp"
#include "sip/header_id.hpp"
#include "sip/line_ends.hpp"
#include "sip/text.hpp"

namespace rtconn {
namespace {

constexpr std::string_view sip_version = "SIP/2.0";

struct StartLine {
  std::string_view method;
  std::string_view request_uri;
  int status_code = 0;
  std::string_view reason_phrase;
};

// `Request-Line` or `Status-Line` (RFC 3261 7.1, 7.2); single spaces as the grammar says.
std::optional<StartLine> parse_start_line(std::string_view line) {
  if (line.size() > sip_version.size() && line[sip_version.size()] == ' ' &&
      sip::iequals(line.substr(0, sip_version.size()), sip_version)) {
    std::string_view rest = line.substr(sip_version.size() + 1);
    if (rest.size() < 3) return std::nullopt;
    // Codes outside 1xx..6xx are rejected; 0 would also make the message look like a request.
    const auto code = sip::parse_decimal<unsigned>(rest.substr(0, 3));
    if (!code || *code < 100 || *code > 699) return std::nullopt;
    rest.remove_prefix(3);
    // Some peers leave out the space before an empty reason phrase; accepting it costs nothing.
    if (!rest.empty()) {
      if (rest.front() != ' ') return std::nullopt;
      rest.remove_prefix(1);
    }
    return StartLine{{}, {}, static_cast<int>(*code), rest};
  }
  const auto first_space = line.find(' ');
  const auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return std::nullopt;
  StartLine start;
  start.method = line.substr(0, first_space);
  start.request_uri = line.substr(first_space + 1, last_space - first_space - 1);
  if (!sip::is_token(start.method) || start.request_uri.empty() ||
      start.request_uri.find(' ') != std::string_view::npos ||
      !sip::iequals(line.substr(last_space + 1), sip_version)) {
    return std::nullopt;
  }
  return start;
}

// The end of a quoted string that opens at `open`, honouring backslash escapes; npos if unclosed.
std::size_t closing_quote(std::string_view text, std::size_t open) noexcept {
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Where the header parameters of `value` start: the first ';' (or the ',' that ends the value)
// outside a quoted display name and outside `<...>`, whose ';' belong to the URI.
std::size_t end_of_address(std::string_view value) noexcept {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '"') {
      i = closing_quote(value, i);
    } else if (c == '<') {
      i = value.find('>', i + 1);  // the URI is most of the value: passed over in one search
    } else if (c == ';' || c == ',') {
      return i;
    }
    if (i == std::string_view::npos) return value.size();
  }
  return value.size();
}

}  // namespace

SipMessage SipMessage::parse(std::string_view bytes, std::error_code& ec) {
  sip::LineEnds search;
  return parse(bytes, search, ec);
}

SipMessage SipMessage::parse(std::string_view bytes, sip::LineEnds& line_ends,
                             std::error_code& ec) {
  ec = make_error_code(errc::malformed_message);
  const auto start_line_end = line_ends.next(bytes, 0);
  if (start_line_end == std::string_view::npos) return {};
  const auto start = parse_start_line(bytes.substr(0, start_line_end));
  if (!start) return {};
  if (bytes.size() > std::numeric_limits<std::uint32_t>::max()) return {};

  // The message keeps one copy of the bytes; everything it holds is a span of that copy, at the
  // offset it has in `bytes`.
  SipMessage message;
  message.take_recycled_buffers();
  message.text_.assign(bytes);
  const auto blank_line =
      message.take_header_lines(bytes, start_line_end + sip::crlf.size(), line_ends);
  if (blank_line == std::string_view::npos) return {};
  message.method_ = span_in(bytes, start->method);
  message.request_uri_ = span_in(bytes, start->request_uri);
  message.status_code_ = start->status_code;
  message.reason_phrase_ = span_in(bytes, start->reason_phrase);
  message.body_ = span_in(bytes, bytes.substr(blank_line + sip::crlf.size()));
  ec.clear();
  return message;
}

SipMessage::Span SipMessage::span_in(std::string_view bytes, std::string_view part) noexcept {
  if (part.empty()) return {};  // may be a default view, pointing nowhere in `bytes`
  return {static_cast<std::uint32_t>(part.data() - bytes.data()),
          static_cast<std::uint32_t>(part.size())};
}

// Each header line ends in CRLF, and the first empty line ends them: found in the same pass, so
// the header section is read once. Continuation lines (RFC 3261 7.3.1) are joined to their header
// with one space, in new text after the copy. Content-Length is dropped: the body decides it.
std::size_t SipMessage::take_header_lines(std::string_view bytes, std::size_t from,
                                          sip::LineEnds& line_ends) {
  constexpr auto malformed = std::string_view::npos;
  bool have_header = false;
  bool dropping = false;
  while (true) {
    const auto end = line_ends.next(bytes, from);
    if (end == std::string_view::npos) return malformed;
    const std::string_view line = bytes.substr(from, end - from);
    if (line.empty()) return from;
    from = end + sip::crlf.size();

    if (sip::is_wsp(line.front())) {
      if (!have_header) return malformed;
      const std::string_view more = sip::trim_wsp(line);
      if (dropping || more.empty()) continue;
      Span& value = fields_.back().value;
      if (value.size == 0) {
        value = span_in(bytes, more);
        continue;
      }
      // Appended without compacting: the spans of the fields still to come are offsets into
      // the copy of `bytes` at the front of text_. A value joined before ends text_, so the
      // next line only extends it: copying the value again per line would cost the square of
      // the lines (16,000 fit in 64 KiB of header, a quarter GB of copies).
      if (value.end() == text_.size()) {
        value.size += append({" ", more}, false).size;
      } else {
        value = append({text(value), " ", more}, false);
      }
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return malformed;
    const std::string_view name = sip::trim_wsp(line.substr(0, colon));
    // A name header_id knows is one of its own tokens, letter for letter: only the others are
    // checked a byte at a time (most of a request's lines are the ones the stack reads).
    const auto id = sip::header_id(name);
    if (id == sip::HeaderId::other && !sip::is_token(name)) return malformed;
    have_header = true;
    dropping = id == sip::HeaderId::content_length;
    if (!dropping) {
      fields_.push_back(
          {span_in(bytes, name), span_in(bytes, sip::trim_wsp(line.substr(colon + 1))), id});
    }
  }
}

std::optional<std::string_view> header_parameter(std::string_view value,
                                                 std::string_view name) noexcept {
  std::size_t i = end_of_address(value);
  const auto skip_wsp = [&] {
    while (i < value.size() && sip::is_wsp(value[i])) ++i;
  };
  const auto ends_param = [](char c) { return c == ';' || c == ','; };
  while (i < value.size() && value[i] == ';') {
    ++i;
    skip_wsp();
    const std::size_t name_begin = i;
    while (i < value.size() && !ends_param(value[i]) && value[i] != '=' && !sip::is_wsp(value[i])) {
      ++i;
    }
    const std::string_view param_name = value.substr(name_begin, i - name_begin);
    skip_wsp();
    std::string_view param_value;
    if (i < value.size() && value[i] == '=') {
      ++i;
      skip_wsp();
      if (i < value.size() && value[i] == '"') {
        const std::size_t close = closing_quote(value, i);
        if (close == std::string_view::npos) return std::nullopt;
        param_value = value.substr(i + 1, close - i - 1);
        i = close + 1;
      } else {
        const std::size_t value_begin = i;
        while (i < value.size() && !ends_param(value[i])) ++i;
        param_value = sip::trim_wsp(value.substr(value_begin, i - value_begin));
      }
    }
    if (sip::iequals(param_name, name)) return param_value;
    while (i < value.size() && !ends_param(value[i])) ++i;
  }
  return std::nullopt;
}

std::string_view header_address(std::string_view value) noexcept {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '"') {
      i = closing_quote(value, i);
      if (i == std::string_view::npos) return {};
    } else if (c == '<') {
      const auto close = value.find('>', i + 1);
      if (close == std::string_view::npos) return {};
      return value.substr(i + 1, close - i - 1);
    } else if (c == ';' || c == ',') {
      break;
    }
  }
  return sip::trim_wsp(value.substr(0, end_of_address(value)));
}

std::vector<std::string_view> split_header_list(std::string_view value) {
  std::vector<std::string_view> elements;
  std::size_t start = 0;
  const auto take = [&](std::size_t end) {
    if (const auto element = sip::trim_wsp(value.substr(start, end - start)); !element.empty()) {
      elements.push_back(element);
    }
    start = end + 1;
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"') {
      i = closing_quote(value, i);
    } else if (value[i] == '<') {
      i = value.find('>', i + 1);
    } else if (value[i] == ',') {
      take(i);
    }
    if (i == std::string_view::npos) break;
  }
  take(value.size());
  return elements;
}

}  // namespace rtconn
