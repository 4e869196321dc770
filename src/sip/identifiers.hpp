#pragma once
// Fresh SIP identifiers: Via branches (RFC 3261 8.1.1.7) and tags (19.3).

#include <string>

namespace rtconn::sip {

/// Appends `z9hG4bK` followed by 64 random bits as 16 lower-case hex digits: written where the
/// Via is being made, as 23 characters would not fit a string's inline buffer.
void append_branch(std::string& out);
/// 60 random bits as 15 lower-case hex digits: short enough for std::string's inline buffer, so
/// a tag per answered request allocates nothing.
std::string make_tag();

}  // namespace rtconn::sip
