// Any bytes as a framed message, a URI, header parameters and addresses, a DN and a serial: the
// parsers must reject or accept, never crash, and what they return of a header value lies within
// it; what salvage_request keeps of a request that is rejected must parse. A request is looked
// up in an owner table as dispatch does. A parsed message's lookups (by a one-byte id for the
// headers the stack reads, by name for the rest) must find what header_names_equal says they
// should.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "manager/request_routes.hpp"
#include "rtconn/certificate_id.hpp"
#include "rtconn/sip_message.hpp"
#include "rtconn/sip_uri.hpp"
#include "sip/request_salvage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::error_code ec;
  const auto message = rtconn::SipMessage::parse(text, ec);
  if (!ec) {
    message.cseq();
    message.top_via_branch();
    message.has_to_tag();
    for (const auto& field : message.headers()) {
      rtconn::header_parameter(field.value, "tag");
      rtconn::header_parameter(field.value, "branch");
      const auto within = [&](std::string_view part) {
        if (!part.empty() &&
            (part.data() < field.value.data() ||
             part.data() + part.size() > field.value.data() + field.value.size())) {
          std::abort();
        }
      };
      within(rtconn::header_address(field.value));
      for (const auto element : rtconn::split_header_list(field.value)) within(element);
      std::optional<std::string_view> first;
      std::size_t count = 0;
      for (const auto& other : message.headers()) {
        if (!rtconn::header_names_equal(other.name, field.name)) continue;
        if (!first) first = other.value;
        ++count;
      }
      if (message.header(field.name) != first) std::abort();
      if (message.header_values(field.name).size() != count) std::abort();
    }
    if (message.is_request()) {
      rtconn::SipMessage::response_to(message, 200, {}, "t").to_string();
      static const auto routes = rtconn::detail::RequestRoutes{}.with_owner(
          *rtconn::detail::RequestRoutes::owner_key("sip:alice@example.com"),
          [](rtconn::IncomingRequest&) { return true; });
      routes.choose(message);
    }
  } else if (const auto salvaged = rtconn::sip::salvage_request(text)) {
    // What is kept of a request that does not parse is a request line and header lines that do.
    std::error_code salvaged_ec;
    const auto request = rtconn::SipMessage::parse(salvaged->header_section, salvaged_ec);
    if (salvaged_ec || !request.is_request()) std::abort();
  }
  if (const auto uri = rtconn::SipUri::parse(text)) uri->to_string();
  const auto half = text.substr(0, text.size() / 2);
  rtconn::distinguished_names_equal(half, text.substr(half.size()));
  rtconn::serial_from_hex(text);
  return 0;
}
