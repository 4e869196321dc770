#include <gtest/gtest.h>

#include "rtconn/certificate_id.hpp"

namespace rtconn {
namespace {

TEST(DistinguishedNames, EqualInEitherRdnOrder) {
  EXPECT_TRUE(distinguished_names_equal("CN=rtconn Dev CA,O=rtconn", "O=rtconn,CN=rtconn Dev CA"));
  EXPECT_TRUE(distinguished_names_equal("CN=rtconn Dev CA, O=rtconn", "CN=rtconn Dev CA,O=rtconn"));
}

TEST(DistinguishedNames, ValuesCaseAndSpaceInsensitive) {
  EXPECT_TRUE(
      distinguished_names_equal("CN=RTCONN   dev CA,O=Rtconn", "cn=rtconn dev ca, o=rtconn"));
  EXPECT_TRUE(distinguished_names_equal("  CN = x , O = y ", "CN=x,O=y"));
}

TEST(DistinguishedNames, LongAndDotNetTypeNames) {
  EXPECT_TRUE(distinguished_names_equal("commonName=x,organizationName=y", "CN=x,O=y"));
  EXPECT_TRUE(
      distinguished_names_equal("CN=x, S=Bavaria, E=a@b", "CN=x,ST=Bavaria,emailAddress=a@b"));
}

TEST(DistinguishedNames, EscapesAndQuotes) {
  EXPECT_TRUE(distinguished_names_equal(R"(CN=Doe\, John,O=x)", R"(CN="Doe, John",O=x)"));
  EXPECT_TRUE(distinguished_names_equal(R"(CN=Doe\2C John,O=x)", R"(CN=Doe\, John,O=x)"));
}

TEST(DistinguishedNames, DifferentNamesDiffer) {
  EXPECT_FALSE(distinguished_names_equal("CN=a,O=x", "CN=b,O=x"));
  EXPECT_FALSE(distinguished_names_equal("CN=a,O=x", "CN=a"));
  EXPECT_FALSE(distinguished_names_equal("CN=a,O=x,C=DE", "O=x,C=DE,CN=a"));  // not a reversal
  EXPECT_FALSE(distinguished_names_equal("not a name", "CN=a"));
  EXPECT_FALSE(distinguished_names_equal("", ""));
}

TEST(SerialNumbers, FromOpensslHexForms) {
  const SerialNumber expected{0x0a, 0x1b, 0xff};
  EXPECT_EQ(serial_from_hex("serial=0A1BFF"), expected);
  EXPECT_EQ(serial_from_hex("0a:1b:ff"), expected);
  EXPECT_EQ(serial_from_hex("A1BFF"), expected);  // odd digit count: leading zero implied
  EXPECT_FALSE(serial_from_hex("0x12").has_value());
  EXPECT_FALSE(serial_from_hex("").has_value());
}

TEST(SerialNumbers, FromDotNetLittleEndianBytes) {
  const std::uint8_t dotnet[] = {0xff, 0x1b, 0x0a};
  EXPECT_EQ(serial_from_little_endian(dotnet), (SerialNumber{0x0a, 0x1b, 0xff}));
}

TEST(SerialNumbers, PrintAndCompare) {
  const SerialNumber serial{0x00, 0x0a, 0x1b};
  EXPECT_EQ(serial_to_hex(serial), "00:0A:1B");
  EXPECT_TRUE(serials_equal(serial, SerialNumber{0x0a, 0x1b}));
  EXPECT_FALSE(serials_equal(serial, SerialNumber{0x0a, 0x1c}));
  EXPECT_FALSE(serials_equal(serial, SerialNumber{0x0a}));
}

}  // namespace
}  // namespace rtconn
