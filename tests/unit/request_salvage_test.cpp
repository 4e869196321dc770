// salvage_request: what of a request that does not parse can still be answered, and with what.
#include <gtest/gtest.h>

#include "sip/request_salvage.hpp"

namespace rtconn::sip {
namespace {

constexpr std::string_view good_headers =
    "Via: SIP/2.0/TCP client.invalid;branch=z9hG4bK1\r\n"
    "From: <sip:a@client.invalid>;tag=1\r\n"
    "To: <sip:b@server.invalid>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 OPTIONS\r\n";

TEST(RequestSalvage, LeavesOutTheLinesThatDoNotParseAndTheirContinuations) {
  const std::string message = "OPTIONS sip:b@server.invalid SIP/2.0\r\n" +
                              std::string(good_headers) +
                              "Max Forwards: 70\r\n"
                              "  continued\r\n"
                              "no colon here\r\n"
                              "Subject: kept\r\n"
                              "  and its continuation\r\n"
                              "Content-Length: 0\r\n\r\n";
  const auto salvaged = salvage_request(message);
  ASSERT_TRUE(salvaged);
  EXPECT_FALSE(salvaged->other_version);
  EXPECT_EQ(salvaged->header_section, "OPTIONS sip:b@server.invalid SIP/2.0\r\n" +
                                          std::string(good_headers) +
                                          "Subject: kept\r\n"
                                          "  and its continuation\r\n"
                                          "Content-Length: 0\r\n\r\n");
}

TEST(RequestSalvage, AnotherSipVersionIsMade2AndSaidSo) {
  const auto salvaged = salvage_request("INVITE sip:b@server.invalid SIP/3.1\r\n" +
                                        std::string(good_headers) + "\r\n");
  ASSERT_TRUE(salvaged);
  EXPECT_TRUE(salvaged->other_version);
  EXPECT_TRUE(salvaged->header_section.starts_with("INVITE sip:b@server.invalid SIP/2.0\r\n"));
}

TEST(RequestSalvage, ResponsesAndGarbageHaveNoOneToAnswer) {
  for (const std::string_view start : {"SIP/2.0 200 OK", "garbage", "OPTIONS sip:b@server.invalid",
                                       "OPTIONS  SIP/2.0", "OPTIONS sip:b@server.invalid HTTP/1.1",
                                       "OPT IONS sip:b SIP/2.0", "OPTIONS sip:b SIP/x.0"}) {
    EXPECT_FALSE(salvage_request(std::string(start) + "\r\n" + std::string(good_headers) + "\r\n"))
        << start;
  }
  EXPECT_FALSE(salvage_request("OPTIONS sip:b@server.invalid SIP/2.0"));  // no line end at all
}

TEST(RequestSalvage, AHeaderSectionWithoutItsBlankLineIsReadToTheEnd) {
  const auto salvaged =
      salvage_request("OPTIONS sip:b SIP/2.0\r\nCall-ID: c1\r\nbroken line\r\nCSeq: 1 OPTIONS");
  ASSERT_TRUE(salvaged);
  EXPECT_EQ(salvaged->header_section,
            "OPTIONS sip:b SIP/2.0\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n");
}

}  // namespace
}  // namespace rtconn::sip
