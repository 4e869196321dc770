#include "sip/identifiers.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "rtconn/sip_message.hpp"

namespace rtconn::sip {
namespace {

bool is_token(const std::string& s) {
  return !s.empty() && s.find_first_not_of(
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-.!%*_+`'~") == std::string::npos;
}

TEST(Identifiers, TagsAreFreshTokensThatFitInline) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string tag = make_tag();
    EXPECT_EQ(tag.size(), 11u);
    EXPECT_TRUE(is_token(tag)) << tag;
    // Used as `;tag=` parameters, they must read back whole.
    EXPECT_EQ(header_parameter("<sip:a@b>;tag=" + tag, "tag"), tag);
    seen.insert(tag);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(make_tag().capacity(), std::string().capacity());  // no heap buffer
}

TEST(Identifiers, BranchesCarryTheRfc3261MagicCookie) {
  const std::string branch = make_branch();
  EXPECT_EQ(branch.rfind("z9hG4bK", 0), 0u);
  EXPECT_EQ(branch.size(), 18u);
  EXPECT_TRUE(is_token(branch)) << branch;
  EXPECT_NE(make_branch(), branch);
}

}  // namespace
}  // namespace rtconn::sip
