#include "sip/message_limits.hpp"

namespace rtconn::sip {
namespace {

// A text of n bytes holds at most n semicolons: only a longer one needs counting, so a
// message of ordinary headers is checked without reading their values.
bool too_many_parameters(std::string_view text, std::size_t limit) noexcept {
  return text.size() > limit && parameter_count(text) > limit;
}

}  // namespace

std::size_t parameter_count(std::string_view text) noexcept {
  std::size_t outside = 0;
  std::size_t all = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '\\') {
      ++i;  // an escaped character, a quote among them
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ';') {
      ++all;
      if (!quoted) ++outside;
    }
  }
  // A quote that never closes quotes nothing to a reader that splits on ';' (and would let a
  // header of 10,000 parameters pass as none).
  return quoted ? all : outside;
}

std::optional<std::string_view> exceeded_limit(const SipMessage& message,
                                               const MessageLimits& limits) noexcept {
  if (too_many_parameters(message.request_uri(), limits.max_parameter_count)) {
    return "Too Many Parameters";
  }
  for (const auto& [name, value] : message.headers()) {
    if (name.size() > limits.max_header_name_bytes) return "Header Name Too Long";
    if (value.size() > limits.max_header_value_bytes) return "Header Value Too Long";
    if (too_many_parameters(value, limits.max_parameter_count)) return "Too Many Parameters";
  }
  return std::nullopt;
}

}  // namespace rtconn::sip
