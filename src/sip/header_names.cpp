#include "rtconn/sip_message.hpp"
#include "sip/header_id.hpp"
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

namespace sip {

HeaderId header_id(std::string_view name) noexcept {
  // By length first: most lines are told apart without comparing a single character.
  switch (name.size()) {
    case 1:
      switch (ascii_lower(name.front())) {
        case 'v':
          return HeaderId::via;
        case 'f':
          return HeaderId::from;
        case 't':
          return HeaderId::to;
        case 'i':
          return HeaderId::call_id;
        case 'l':
          return HeaderId::content_length;
        default:
          return HeaderId::other;
      }
    case 2:
      return iequals(name, "To") ? HeaderId::to : HeaderId::other;
    case 3:
      return iequals(name, "Via") ? HeaderId::via : HeaderId::other;
    case 4:
      if (iequals(name, "From")) return HeaderId::from;
      return iequals(name, "CSeq") ? HeaderId::cseq : HeaderId::other;
    case 7:
      return iequals(name, "Call-ID") ? HeaderId::call_id : HeaderId::other;
    case 9:
      return iequals(name, "Timestamp") ? HeaderId::timestamp : HeaderId::other;
    case 14:
      return iequals(name, "Content-Length") ? HeaderId::content_length : HeaderId::other;
    default:
      return HeaderId::other;
  }
}

}  // namespace sip
}  // namespace rtconn
