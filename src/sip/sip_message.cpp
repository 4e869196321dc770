#include "rtconn/sip_message.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>

#include "sip/text.hpp"

namespace rtconn {
namespace {

constexpr std::string_view content_length_name = "Content-Length";

bool is_content_length(std::string_view name) noexcept {
  return header_names_equal(name, content_length_name);
}

// Decimal digits of a number written without allocating.
class Decimal {
 public:
  explicit Decimal(std::size_t value) noexcept
      : size_(static_cast<std::size_t>(
            std::to_chars(digits_.data(), digits_.data() + digits_.size(), value).ptr -
            digits_.data())) {}
  std::string_view view() const noexcept { return {digits_.data(), size_}; }

 private:
  std::array<char, 20> digits_{};  // enough for any 64-bit value
  std::size_t size_;
};

}  // namespace

SipMessage SipMessage::request(std::string method, std::string request_uri) {
  SipMessage message;
  message.method_ = std::move(method);
  message.request_uri_ = std::move(request_uri);
  return message;
}

SipMessage SipMessage::response(int status_code, std::string reason_phrase) {
  SipMessage message;
  message.status_code_ = status_code;
  message.reason_phrase_ = reason_phrase.empty() ? std::string(default_reason_phrase(status_code))
                                                 : std::move(reason_phrase);
  return message;
}

SipMessage SipMessage::response_to(const SipMessage& request, int status_code,
                                   std::string_view reason_phrase, std::string_view to_tag) {
  SipMessage message = response(status_code, std::string(reason_phrase));
  for (std::string_view name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    for (const HeaderField& field : request.headers_) {
      if (header_names_equal(field.name, name)) message.headers_.push_back(field);
    }
  }
  // The tag identifies the dialog this response would create (RFC 3261 8.2.6.2); a 100 creates
  // none, and a To that already has a tag belongs to an existing dialog.
  if (status_code > 100 && !to_tag.empty()) {
    const auto to =
        std::find_if(message.headers_.begin(), message.headers_.end(),
                     [](const HeaderField& f) { return header_names_equal(f.name, "To"); });
    if (to != message.headers_.end() && !header_parameter(to->value, "tag")) {
      to->value.append(";tag=").append(to_tag);
    }
  }
  return message;
}

std::optional<std::string_view> SipMessage::header(std::string_view name) const {
  for (const HeaderField& field : headers_) {
    if (header_names_equal(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::vector<std::string_view> SipMessage::header_values(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HeaderField& field : headers_) {
    if (header_names_equal(field.name, name)) values.push_back(field.value);
  }
  return values;
}

void SipMessage::add_header(std::string name, std::string value) {
  if (is_content_length(name)) return;
  headers_.push_back({std::move(name), std::move(value)});
}

void SipMessage::set_header(std::string name, std::string value) {
  if (is_content_length(name)) return;
  const auto matches = [&name](const HeaderField& f) { return header_names_equal(f.name, name); };
  const auto first = std::find_if(headers_.begin(), headers_.end(), matches);
  if (first == headers_.end()) {
    headers_.push_back({std::move(name), std::move(value)});
    return;
  }
  // Erasing after `first` leaves it valid; it keeps the position of the first line.
  headers_.erase(std::remove_if(std::next(first), headers_.end(), matches), headers_.end());
  first->name = std::move(name);
  first->value = std::move(value);
}

std::size_t SipMessage::remove_header(std::string_view name) {
  return std::erase_if(headers_,
                       [name](const HeaderField& f) { return header_names_equal(f.name, name); });
}

void SipMessage::set_body(std::string body, std::string content_type) {
  body_ = std::move(body);
  if (!content_type.empty()) set_header("Content-Type", std::move(content_type));
}

std::optional<CSeq> SipMessage::cseq() const {
  const auto value = header("CSeq");
  if (!value) return std::nullopt;
  const std::string_view text = sip::trim_wsp(*value);
  const auto gap = text.find_first_of(" \t");
  if (gap == std::string_view::npos) return std::nullopt;
  const auto number = sip::parse_decimal<std::uint32_t>(text.substr(0, gap));
  const std::string_view method = sip::trim_wsp(text.substr(gap));
  if (!number || !sip::is_token(method)) return std::nullopt;
  return CSeq{*number, method};
}

std::optional<std::string_view> SipMessage::top_via_branch() const {
  const auto via = header("Via");
  if (!via) return std::nullopt;
  return header_parameter(*via, "branch");
}

bool SipMessage::has_to_tag() const {
  const auto to = header("To");
  return to && header_parameter(*to, "tag");
}

void SipMessage::serialize_to(std::string& out) const {
  constexpr std::string_view version = "SIP/2.0";
  const Decimal status(static_cast<std::size_t>(status_code_));
  const Decimal length(body_.size());

  // Start line: two spaces and CRLF; each header: ": " and CRLF; then the blank line.
  std::size_t size = is_request()
                         ? method_.size() + request_uri_.size() + version.size() + 4
                         : version.size() + status.view().size() + reason_phrase_.size() + 4;
  for (const HeaderField& field : headers_) size += field.name.size() + field.value.size() + 4;
  size += content_length_name.size() + 2 + length.view().size() + 4 + body_.size();
  out.reserve(out.size() + size);

  if (is_request()) {
    out.append(method_).append(" ").append(request_uri_).append(" ").append(version);
  } else {
    out.append(version).append(" ").append(status.view()).append(" ").append(reason_phrase_);
  }
  out.append(sip::crlf);
  for (const HeaderField& field : headers_) {
    out.append(field.name).append(": ").append(field.value).append(sip::crlf);
  }
  out.append(content_length_name).append(": ").append(length.view()).append(sip::crlf);
  out.append(sip::crlf).append(body_);
}

std::string SipMessage::to_string() const {
  std::string out;
  serialize_to(out);
  return out;
}

}  // namespace rtconn
