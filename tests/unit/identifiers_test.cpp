#include "sip/identifiers.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "rtconn/sip_message.hpp"

namespace rtconn::sip {
namespace {

// Lower-case hex: a token (RFC 3261 25.1) that cannot spell a header name such as "CSeq", which
// SIPp looks for anywhere in a response.
bool is_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

TEST(Identifiers, TagsAreFreshHexThatFitsInline) {
  std::set<std::string> seen;
  std::set<char> digits;
  for (int i = 0; i < 1000; ++i) {
    const std::string tag = make_tag();
    EXPECT_EQ(tag.size(), 15u);
    EXPECT_TRUE(is_hex(tag)) << tag;
    digits.insert(tag.begin(), tag.end());
    // Used as `;tag=` parameters, they must read back whole.
    EXPECT_EQ(header_parameter("<sip:a@b>;tag=" + tag, "tag"), tag);
    seen.insert(tag);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(digits.size(), 16u);  // every digit drawn: the bits are spread over all of them
  EXPECT_EQ(make_tag().capacity(), std::string().capacity());  // no heap buffer
}

TEST(Identifiers, BranchesCarryTheRfc3261MagicCookie) {
  std::string via = "SIP/2.0/TCP h;branch=";
  append_branch(via);
  const auto branch = std::string_view(via).substr(via.find('=') + 1);
  EXPECT_EQ(branch.rfind("z9hG4bK", 0), 0u);
  EXPECT_EQ(branch.size(), 23u);
  EXPECT_TRUE(is_hex(branch.substr(7))) << branch;
  std::string another;
  append_branch(another);
  EXPECT_NE(another, branch);
}

}  // namespace
}  // namespace rtconn::sip
