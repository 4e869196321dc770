#include "rtconn/sip_message.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

#include "common/recycled_buffers.hpp"
#include "sip/header_id.hpp"
#include "sip/text.hpp"

namespace rtconn {
namespace {

constexpr std::string_view content_length_name = "Content-Length";
constexpr std::string_view version = "SIP/2.0";
constexpr std::string_view tag_parameter = ";tag=";

bool is_content_length(std::string_view name) noexcept {
  return sip::header_id(name) == sip::HeaderId::content_length;
}

// The headers a response copies from its request (RFC 3261 8.2.6.2).
// RFC 3261 8.2.6.2, and 8.2.6.1 for the Timestamp a 100 (Trying) echoes.
bool copied_to_response(sip::HeaderId id, int status_code) noexcept {
  using enum sip::HeaderId;
  return id == via || id == from || id == to || id == call_id || id == cseq ||
         (id == timestamp && status_code == 100);
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

struct SipMessage::RecycledFields : detail::RecycledBuffers<std::vector<Field>, 32, 64> {};

SipMessage::~SipMessage() {
  detail::RecycledStrings::give_back(std::move(text_));
  RecycledFields::give_back(std::move(fields_));
}

void SipMessage::take_recycled_buffers() noexcept {
  text_ = detail::RecycledStrings::take();
  fields_ = RecycledFields::take();
}

SipMessage& SipMessage::operator=(SipMessage&& other) noexcept {
  if (this == &other) return *this;
  text_ = std::move(other.text_);
  fields_ = std::move(other.fields_);
  method_ = std::exchange(other.method_, {});
  request_uri_ = std::exchange(other.request_uri_, {});
  reason_phrase_ = std::exchange(other.reason_phrase_, {});
  body_ = std::exchange(other.body_, {});
  status_code_ = std::exchange(other.status_code_, 0);
  other.text_.clear();  // a moved-from string or vector is only "valid": make it empty
  other.fields_.clear();
  return *this;
}

SipMessage SipMessage::request(std::string_view method, std::string_view request_uri) {
  SipMessage message;
  message.take_recycled_buffers();
  const Span both = message.store({method, request_uri});
  message.method_ = {both.offset, static_cast<std::uint32_t>(method.size())};
  message.request_uri_ = {message.method_.end(), static_cast<std::uint32_t>(request_uri.size())};
  return message;
}

SipMessage SipMessage::response(int status_code, std::string_view reason_phrase) {
  SipMessage message;
  message.take_recycled_buffers();
  message.status_code_ = status_code;
  message.reason_phrase_ =
      message.store({reason_phrase.empty() ? default_reason_phrase(status_code) : reason_phrase});
  return message;
}

SipMessage SipMessage::response_to(const SipMessage& request, int status_code,
                                   std::string_view reason_phrase, std::string_view to_tag) {
  SipMessage message;
  message.take_recycled_buffers();
  message.assign_response_to(request, status_code, reason_phrase, to_tag);
  return message;
}

void SipMessage::serialize_response_to(const SipMessage& request, int status_code,
                                       std::string_view reason_phrase, std::string_view to_tag,
                                       std::string& out, std::string_view extra_headers) {
  // Written straight from the request's fields: this runs for every request answered.
  if (reason_phrase.empty()) reason_phrase = default_reason_phrase(status_code);
  const Field* tagged = tagged_to(request, status_code, to_tag);
  const Decimal status(static_cast<std::size_t>(status_code));
  constexpr std::string_view no_body = "Content-Length: 0\r\n\r\n";
  // The status line's two spaces and CRLF; each header's ": " and CRLF.
  std::size_t size = version.size() + status.view().size() + reason_phrase.size() + 4 +
                     extra_headers.size() + no_body.size();
  for (const Field& f : request.fields_) {
    if (copied_to_response(f.id, status_code)) size += f.name.size + f.value.size + 4;
  }
  if (tagged != nullptr) size += tag_parameter.size() + to_tag.size();

  // Sized once and filled through a cursor: an append checks the capacity, and there are some
  // thirty pieces.
  const std::size_t start = out.size();
  out.resize(start + size);
  char* cursor = out.data() + start;
  const auto put = [&cursor](std::string_view piece) {
    cursor = std::copy(piece.begin(), piece.end(), cursor);
  };
  put(version);
  put(" ");
  put(status.view());
  put(" ");
  put(reason_phrase);
  put(sip::crlf);
  for (const Field& f : request.fields_) {
    if (!copied_to_response(f.id, status_code)) continue;
    put(request.text(f.name));
    put(": ");
    put(request.text(f.value));
    if (&f == tagged) {
      put(tag_parameter);
      put(to_tag);
    }
    put(sip::crlf);
  }
  put(extra_headers);
  put(no_body);
  assert(cursor == out.data() + out.size());
}

const SipMessage::Field* SipMessage::tagged_to(const SipMessage& request, int status_code,
                                               std::string_view to_tag) noexcept {
  // The tag identifies the dialog this response would create (RFC 3261 8.2.6.2); a 100 creates
  // none, and a To that already has a tag belongs to an existing dialog.
  if (status_code <= 100 || to_tag.empty()) return nullptr;
  const auto to = std::find_if(request.fields_.begin(), request.fields_.end(),
                               [](const Field& f) { return f.id == sip::HeaderId::to; });
  if (to == request.fields_.end() || header_parameter(request.text(to->value), "tag")) {
    return nullptr;
  }
  return &*to;
}

void SipMessage::assign_response_to(const SipMessage& request, int status_code,
                                    std::string_view reason_phrase, std::string_view to_tag) {
  if (reason_phrase.empty()) reason_phrase = default_reason_phrase(status_code);
  const Field* tagged = tagged_to(request, status_code, to_tag);
  std::size_t size = reason_phrase.size();
  std::size_t count = 0;
  for (const Field& f : request.fields_) {
    if (!copied_to_response(f.id, status_code)) continue;
    size += f.name.size + f.value.size;
    ++count;
  }
  if (tagged != nullptr) size += tag_parameter.size() + to_tag.size();

  // Sized once, so the copies below never move the buffer.
  text_.clear();
  fields_.clear();
  text_.reserve(size);
  fields_.reserve(count);
  status_code_ = status_code;
  method_ = request_uri_ = body_ = {};
  reason_phrase_ = store({reason_phrase});
  // In the request's order: RFC 3261 8.2.6.2 asks only that the Vias keep theirs.
  for (const Field& f : request.fields_) {
    if (!copied_to_response(f.id, status_code)) continue;
    const Span field_name = store({request.text(f.name)});
    const Span value = &f == tagged ? store({request.text(f.value), tag_parameter, to_tag})
                                    : store({request.text(f.value)});
    fields_.push_back({field_name, value, f.id});
  }
}

bool SipMessage::named(const Field& f, sip::HeaderId id, std::string_view name) const noexcept {
  if (id != sip::HeaderId::other) return f.id == id;
  return f.id == sip::HeaderId::other && header_names_equal(text(f.name), name);
}

std::optional<std::string_view> SipMessage::header(std::string_view name) const {
  const auto id = sip::header_id(name);
  for (const Field& f : fields_) {
    if (named(f, id, name)) return text(f.value);
  }
  return std::nullopt;
}

std::vector<std::string_view> SipMessage::header_values(std::string_view name) const {
  const auto id = sip::header_id(name);
  std::vector<std::string_view> values;
  for (const Field& f : fields_) {
    if (named(f, id, name)) values.push_back(text(f.value));
  }
  return values;
}

void SipMessage::add_header(std::string_view name, std::string_view value) {
  if (is_content_length(name)) return;
  fields_.push_back(store_field(name, value));
}

void SipMessage::set_header(std::string_view name, std::string_view value) {
  if (is_content_length(name)) return;
  replace_fields(store_field(name, value));
}

void SipMessage::replace_fields(Field field) {
  const std::string_view name = text(field.name);
  const auto matches = [&](const Field& f) { return named(f, field.id, name); };
  const auto first = std::find_if(fields_.begin(), fields_.end(), matches);
  if (first == fields_.end()) {
    fields_.push_back(field);
    return;
  }
  // Erasing after `first` leaves it valid; it keeps the position of the first line.
  fields_.erase(std::remove_if(std::next(first), fields_.end(), matches), fields_.end());
  *first = field;
}

std::size_t SipMessage::remove_header(std::string_view name) {
  const auto id = sip::header_id(name);
  return std::erase_if(fields_, [&](const Field& f) { return named(f, id, name); });
}

void SipMessage::set_body(std::string_view body, std::string_view content_type) {
  // One store, so that neither may move the other when it lies in this message.
  constexpr std::string_view content_type_name = "Content-Type";
  const Span all =
      store({body, content_type.empty() ? std::string_view() : content_type_name, content_type});
  body_ = {all.offset, static_cast<std::uint32_t>(body.size())};
  if (!content_type.empty()) {
    const Span name{body_.end(), static_cast<std::uint32_t>(content_type_name.size())};
    replace_fields({name,
                    {name.end(), static_cast<std::uint32_t>(content_type.size())},
                    sip::header_id(content_type_name)});
  }
}

SipMessage::Field SipMessage::store_field(std::string_view name, std::string_view value) {
  const Span both = store({name, value});
  const Span stored_name{both.offset, static_cast<std::uint32_t>(name.size())};
  return {stored_name,
          {stored_name.end(), static_cast<std::uint32_t>(value.size())},
          sip::header_id(name)};
}

SipMessage::Span SipMessage::store(std::initializer_list<std::string_view> parts) {
  return append(parts, true);
}

SipMessage::Span SipMessage::append(std::initializer_list<std::string_view> parts,
                                    bool may_compact) {
  std::size_t added = 0;
  for (std::string_view part : parts) added += part.size();
  // Offsets are 32-bit: max_message_size bounds a message far below that long before.
  if (added > std::numeric_limits<std::uint32_t>::max() - text_.size()) {
    throw std::length_error("SIP message larger than 4 GiB");
  }
  const Span stored{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(added)};
  if (text_.size() + added <= text_.capacity()) {
    for (std::string_view part : parts) text_.append(part);  // nothing moves
    return stored;
  }
  // A new buffer is filled while the old one, which parts may lie in, still stands. When most
  // of the old text is what edits replaced, only what the spans show moves over: a message
  // edited again and again holds at most about twice what it shows.
  std::size_t live = method_.size + request_uri_.size + reason_phrase_.size + body_.size;
  for (const Field& f : fields_) live += f.name.size + f.value.size;
  std::string grown;
  if (!may_compact || live >= text_.size() / 2) {
    grown.reserve(std::max(text_.size() + added, 2 * text_.capacity()));
    grown.append(text_);
  } else {
    grown.reserve(2 * (live + added));
    const auto move_over = [&](Span& span) {
      const auto offset = static_cast<std::uint32_t>(grown.size());
      grown.append(text(span));
      span.offset = offset;
    };
    for (Span* span : {&method_, &request_uri_, &reason_phrase_, &body_}) move_over(*span);
    for (Field& f : fields_) {
      move_over(f.name);
      move_over(f.value);
    }
  }
  const Span appended{static_cast<std::uint32_t>(grown.size()), static_cast<std::uint32_t>(added)};
  for (std::string_view part : parts) grown.append(part);
  text_.swap(grown);
  return appended;
}

std::optional<CSeq> SipMessage::cseq() const {
  const auto value = header("CSeq");
  if (!value) return std::nullopt;
  const std::string_view text = sip::trim_wsp(*value);
  // Not find_first_of, which searches its set of two once per character: every request's CSeq
  // is read this way, most of them twice.
  const auto gap =
      static_cast<std::size_t>(std::find_if(text.begin(), text.end(), sip::is_wsp) - text.begin());
  if (gap == text.size()) return std::nullopt;
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
  const Decimal status(static_cast<std::size_t>(status_code_));
  const Decimal length(body_.size);

  // Start line: two spaces and CRLF; each header: ": " and CRLF; then the blank line.
  std::size_t size = is_request() ? method_.size + request_uri_.size + version.size() + 4
                                  : version.size() + status.view().size() + reason_phrase_.size + 4;
  for (const Field& f : fields_) size += f.name.size + f.value.size + 4;
  size += content_length_name.size() + 2 + length.view().size() + 4 + body_.size;
  out.reserve(out.size() + size);

  if (is_request()) {
    out.append(method()).append(" ").append(request_uri()).append(" ").append(version);
  } else {
    out.append(version).append(" ").append(status.view()).append(" ").append(reason_phrase());
  }
  out.append(sip::crlf);
  for (const Field& f : fields_) {
    out.append(text(f.name)).append(": ").append(text(f.value)).append(sip::crlf);
  }
  out.append(content_length_name).append(": ").append(length.view()).append(sip::crlf);
  out.append(sip::crlf).append(body());
}

std::string SipMessage::to_string() const {
  std::string out;
  serialize_to(out);
  return out;
}

}  // namespace rtconn
