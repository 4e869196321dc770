#pragma once
// Fresh SIP identifiers: Via branches (RFC 3261 8.1.1.7) and tags (19.3).

#include <string>

namespace rtconn::sip {

/// `z9hG4bK` followed by 16 random hex digits.
std::string make_branch();
/// 16 random hex digits.
std::string make_tag();

}  // namespace rtconn::sip
