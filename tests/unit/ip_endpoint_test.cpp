#include "rtconn/ip_endpoint.hpp"

#include <gtest/gtest.h>

#include <set>
#include <unordered_set>

namespace rtconn {
namespace {

TEST(IpEndpoint, ParsesTheAnyAddressesAndPrintsThemBack) {
  const auto v4 = IpEndpoint::parse("0.0.0.0:0");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->address().is_unspecified());
  EXPECT_FALSE(v4->is_v6());
  EXPECT_EQ(v4->port(), 0);
  EXPECT_EQ(*v4, IpEndpoint::any_ipv4());
  EXPECT_EQ(v4->to_string(), "0.0.0.0:0");

  const auto v6 = IpEndpoint::parse("[::]:5060");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_TRUE(v6->address().is_unspecified());
  EXPECT_EQ(v6->port(), 5060);
  EXPECT_EQ(*v6, IpEndpoint::any_ipv6(5060));
  EXPECT_EQ(v6->to_string(), "[::]:5060");
}

TEST(IpEndpoint, ParsesLoopbackAddresses) {
  const auto v4 = IpEndpoint::parse("127.0.0.1:5060");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address(), asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(v4->port(), 5060);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:5060");

  const auto v6 = IpEndpoint::parse("[::1]:65535");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address(), asio::ip::make_address("::1"));
  EXPECT_EQ(v6->port(), 65535);
  EXPECT_EQ(v6->to_string(), "[::1]:65535");
}

TEST(IpEndpoint, RoundTripsThroughText) {
  for (const char* text :
       {"10.1.2.3:1", "[2001:db8::7]:5061", "[fe80::1]:0", "255.255.255.255:65535"}) {
    const auto parsed = IpEndpoint::parse(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(parsed->to_string(), text);
    EXPECT_EQ(IpEndpoint::parse(parsed->to_string()), parsed);
  }
}

TEST(IpEndpoint, RejectsAnIpv6AddressWithoutBrackets) {
  // "::1:5060" is itself a valid IPv6 address, so the port cannot be told apart: refuse it.
  EXPECT_FALSE(IpEndpoint::parse("::1:5060"));
  EXPECT_FALSE(IpEndpoint::parse("::1"));
}

TEST(IpEndpoint, RejectsMissingOrOutOfRangePorts) {
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4"));
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4:"));
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4:70000"));
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4:65536"));
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4:-1"));
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4:+5"));
  EXPECT_FALSE(IpEndpoint::parse("1.2.3.4:50 "));
  EXPECT_FALSE(IpEndpoint::parse("[::1]"));
  EXPECT_FALSE(IpEndpoint::parse("[::1]5060"));
  EXPECT_FALSE(IpEndpoint::parse("[::1:5060"));
}

TEST(IpEndpoint, RejectsWhatIsNotAnAddress) {
  EXPECT_FALSE(IpEndpoint::parse(""));
  EXPECT_FALSE(IpEndpoint::parse(":5060"));
  EXPECT_FALSE(IpEndpoint::parse("localhost:5060"));  // names are for pool keys, not endpoints
  EXPECT_FALSE(IpEndpoint::parse("1.2.3:5060"));
  EXPECT_FALSE(IpEndpoint::parse("[127.0.0.1]:5060"));  // brackets are for IPv6 only
}

TEST(IpEndpoint, OrdersAndHashesConsistently) {
  const auto a = *IpEndpoint::parse("127.0.0.1:5060");
  const auto b = *IpEndpoint::parse("127.0.0.1:5061");
  const auto c = *IpEndpoint::parse("127.0.0.2:1");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, *IpEndpoint::parse("127.0.0.1:5060"));
  EXPECT_EQ(std::hash<IpEndpoint>{}(a),
            std::hash<IpEndpoint>{}(*IpEndpoint::parse("127.0.0.1:5060")));
  const std::set<IpEndpoint> ordered{c, a, b, a};
  EXPECT_EQ(ordered.size(), 3u);
  const std::unordered_set<IpEndpoint> hashed{c, a, b, a};
  EXPECT_EQ(hashed.size(), 3u);
}

}  // namespace
}  // namespace rtconn
