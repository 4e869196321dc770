#include "sip/message_limits.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rtconn::sip {
namespace {

TEST(ParameterCount, CountsSemicolonsOutsideQuotedStrings) {
  EXPECT_EQ(parameter_count(""), 0u);
  EXPECT_EQ(parameter_count("<sip:a@b>"), 0u);
  EXPECT_EQ(parameter_count("<sip:a@b;lr>;tag=1"), 2u) << "the URI's parameters count too";
  EXPECT_EQ(parameter_count("SIP/2.0/TCP h;branch=z9hG4bK1;rport, SIP/2.0/TCP g;branch=2"), 3u);
  EXPECT_EQ(parameter_count("\"a;b;c\" <sip:a@b>;tag=1"), 1u);
  EXPECT_EQ(parameter_count("\"a\\\";b\" <sip:a@b>;x"), 1u) << "an escaped quote ends nothing";
  EXPECT_EQ(parameter_count("\"unclosed;a;b"), 2u) << "an open quote hides no parameter";
}

SipMessage request_with(std::string_view name, std::string_view value,
                        std::string_view uri = "sip:a@b") {
  auto request = SipMessage::request("OPTIONS", uri);
  request.add_header(name, value);
  return request;
}

TEST(ExceededLimit, NamesTheLimitABreaks) {
  const MessageLimits limits{
      .max_header_name_bytes = 8, .max_header_value_bytes = 16, .max_parameter_count = 2};
  EXPECT_EQ(exceeded_limit(request_with("X-Eight1", std::string(16, 'v')), limits), std::nullopt);
  EXPECT_EQ(exceeded_limit(request_with("X-Nine123", "v"), limits), "Header Name Too Long");
  EXPECT_EQ(exceeded_limit(request_with("X", std::string(17, 'v')), limits),
            "Header Value Too Long");
  EXPECT_EQ(exceeded_limit(request_with("X", "<s:a;b>;c"), limits), std::nullopt);
  EXPECT_EQ(exceeded_limit(request_with("X", "<s:a;b>;c;d"), limits), "Too Many Parameters");
  EXPECT_EQ(exceeded_limit(request_with("X", "v", "sip:a@b;x;y"), limits), std::nullopt);
  EXPECT_EQ(exceeded_limit(request_with("X", "v", "sip:a@b;x;y;z"), limits), "Too Many Parameters");
}

TEST(ExceededLimit, AResponseIsCheckedAlike) {
  auto response = SipMessage::response(200);
  response.add_header("X-Long", std::string(17, 'v'));
  EXPECT_EQ(exceeded_limit(response, {.max_header_value_bytes = 16}), "Header Value Too Long");
}

}  // namespace
}  // namespace rtconn::sip
