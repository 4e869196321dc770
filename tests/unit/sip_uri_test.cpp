#include "rtconn/sip_uri.hpp"

#include <gtest/gtest.h>

namespace rtconn {
namespace {

TEST(SipUri, ParsesUserAndHost) {
  const auto uri = SipUri::parse("sip:alice@atlanta.example.com");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->scheme, "sip");
  EXPECT_EQ(uri->user, "alice");
  EXPECT_EQ(uri->host, "atlanta.example.com");
  EXPECT_EQ(uri->port, 0);
  EXPECT_EQ(uri->transport, "");
  EXPECT_EQ(uri->to_string(), "sip:alice@atlanta.example.com");
}

TEST(SipUri, ParsesEveryPartAndDropsWhatDoesNotRoute) {
  const auto uri =
      SipUri::parse("SIPS:bob:secret@Biloxi.example.com:5061;lr;Transport=TLS;maddr=x?subject=hi");
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->scheme, "sips");
  EXPECT_EQ(uri->user, "bob");
  EXPECT_EQ(uri->host, "Biloxi.example.com");
  EXPECT_EQ(uri->port, 5061);
  EXPECT_EQ(uri->transport, "tls");
  EXPECT_EQ(uri->to_string(), "sips:bob@Biloxi.example.com:5061;transport=tls");
}

TEST(SipUri, ParsesIpAddressesAndBrackets) {
  const auto v6 = SipUri::parse("<sip:[2001:db8::1]:5070;transport=tcp>");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 5070);
  EXPECT_EQ(v6->transport, "tcp");
  EXPECT_EQ(v6->to_string(), "sip:[2001:db8::1]:5070;transport=tcp");

  const auto v6_no_port = SipUri::parse("sip:[::1]");
  ASSERT_TRUE(v6_no_port);
  EXPECT_EQ(v6_no_port->host, "::1");
  EXPECT_EQ(v6_no_port->to_string(), "sip:[::1]");

  const auto v4 = SipUri::parse("sip:192.0.2.4:65535");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->user, "");
  EXPECT_EQ(v4->host, "192.0.2.4");
  EXPECT_EQ(v4->port, 65535);
}

TEST(SipUri, UserPartMayHoldSemicolonsAndHeadersMayHoldAt) {
  const auto phone = SipUri::parse("sip:+1-212-555-1212;phone-context=x@gw.example.com;user=phone");
  ASSERT_TRUE(phone);
  EXPECT_EQ(phone->user, "+1-212-555-1212;phone-context=x");
  EXPECT_EQ(phone->host, "gw.example.com");

  const auto replaces = SipUri::parse("sip:gw.example.com?Replaces=abc@host");
  ASSERT_TRUE(replaces);
  EXPECT_EQ(replaces->user, "");
  EXPECT_EQ(replaces->host, "gw.example.com");
}

TEST(SipUri, RejectsWhatIsNotASipUriWithAHost) {
  for (const char* bad : {"",
                          "tel:+15551234",
                          "http://example.com",
                          "sip",
                          "sip:",
                          "sip:@host",
                          "sip:alice@",
                          "sip:host:0",
                          "sip:host:65536",
                          "sip:host:",
                          "sip:host:5o6",
                          "sip:host:-1",
                          "sip:[::1",
                          "sip:[]",
                          "sip:[::1]x",
                          "sip:[g::1]",
                          "<sip:host",
                          "sip:ho st",
                          "sip:host:5060:1",
                          "sipx:host"}) {
    EXPECT_EQ(SipUri::parse(bad), std::nullopt) << bad;
  }
}

TEST(SipUri, WritesAPortOnlyWhenSet) {
  SipUri uri;
  uri.scheme = "sip";
  uri.host = "proxy.example.com";
  EXPECT_EQ(uri.to_string(), "sip:proxy.example.com");
  uri.port = 5060;
  uri.transport = "udp";
  EXPECT_EQ(uri.to_string(), "sip:proxy.example.com:5060;transport=udp");
  const auto reparsed = SipUri::parse(uri.to_string());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(reparsed->host, uri.host);
  EXPECT_EQ(reparsed->port, uri.port);
  EXPECT_EQ(reparsed->transport, uri.transport);
}

}  // namespace
}  // namespace rtconn
