// PoolKey::from_uri: where a request to a URI goes (RFC 3263 4.2 for a URI without a port).
#include "rtconn/pool_key.hpp"

#include <gtest/gtest.h>

namespace rtconn {
namespace {

PoolKey key_of(const char* uri) {
  const auto parsed = SipUri::parse(uri);
  EXPECT_TRUE(parsed) << uri;
  const auto key = PoolKey::from_uri(*parsed);
  EXPECT_TRUE(key) << uri;
  return *key;
}

TEST(PoolKey, AHostNameWithoutAPortIsLeftToItsSrvRecords) {
  EXPECT_EQ(key_of("sip:example.com").port, 0);
  EXPECT_EQ(key_of("sips:example.com").port, 0);
  EXPECT_EQ(key_of("sip:example.com;transport=tls").transport, TransportType::Tls);
  EXPECT_EQ(key_of("sip:example.com").to_string(), "tcp:example.com");
}

TEST(PoolKey, AnAddressWithoutAPortTakesTheTransportsDefault) {
  EXPECT_EQ(key_of("sip:192.0.2.1").port, 5060);
  EXPECT_EQ(key_of("sips:192.0.2.1").port, 5061);
  EXPECT_EQ(key_of("sip:[2001:db8::1];transport=tls").port, 5061);
  EXPECT_EQ(key_of("sip:[2001:db8::1]").to_string(), "tcp:[2001:db8::1]:5060");
}

TEST(PoolKey, AGivenPortIsKept) {
  EXPECT_EQ(key_of("sip:example.com:5070").port, 5070);
  EXPECT_EQ(key_of("sip:example.com:5070").to_string(), "tcp:example.com:5070");
}

TEST(PoolKey, OnlyTcpAndTlsAreSpoken) {
  const auto uri = SipUri::parse("sip:example.com;transport=udp");
  ASSERT_TRUE(uri);
  EXPECT_FALSE(PoolKey::from_uri(*uri));
}

}  // namespace
}  // namespace rtconn
