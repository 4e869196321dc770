#include "rtconn/sip_message.hpp"
#include "sip/text.hpp"

namespace rtconn {

std::string_view expand_compact_header_name(std::string_view name) noexcept {
  if (name.size() != 1) return name;
  // RFC 3261 7.3.3 plus the compact forms registered by later RFCs (3265, 3515, 3892, 3841,
  // 4028, 8224), indexed by letter so the hot path never compares strings.
  switch (sip::ascii_lower(name.front())) {
    case 'a':
      return "Accept-Contact";
    case 'b':
      return "Referred-By";
    case 'c':
      return "Content-Type";
    case 'd':
      return "Request-Disposition";
    case 'e':
      return "Content-Encoding";
    case 'f':
      return "From";
    case 'i':
      return "Call-ID";
    case 'j':
      return "Reject-Contact";
    case 'k':
      return "Supported";
    case 'l':
      return "Content-Length";
    case 'm':
      return "Contact";
    case 'o':
      return "Event";
    case 'r':
      return "Refer-To";
    case 's':
      return "Subject";
    case 't':
      return "To";
    case 'u':
      return "Allow-Events";
    case 'v':
      return "Via";
    case 'x':
      return "Session-Expires";
    case 'y':
      return "Identity";
    default:
      return name;
  }
}

bool header_names_equal(std::string_view a, std::string_view b) noexcept {
  return sip::iequals(expand_compact_header_name(a), expand_compact_header_name(b));
}

}  // namespace rtconn
