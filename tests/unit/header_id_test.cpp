#include "sip/header_id.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "rtconn/sip_message.hpp"

namespace rtconn::sip {
namespace {

// Every spelling the stack's own lookups rely on, and names that come close to them.
const std::vector<std::string_view> names = {"Via",
                                             "v",
                                             "VIA",
                                             "From",
                                             "f",
                                             "fROM",
                                             "To",
                                             "t",
                                             "tO",
                                             "Call-ID",
                                             "i",
                                             "call-id",
                                             "CSeq",
                                             "cseq",
                                             "CSEQ",
                                             "Content-Length",
                                             "l",
                                             "CONTENT-LENGTH",
                                             "Content-Type",
                                             "c",
                                             "Contact",
                                             "m",
                                             "Vias",
                                             "Fro",
                                             "Tx",
                                             "Call-IE",
                                             "CSeqX",
                                             "Content-Lengths",
                                             "Content-Lengtx",
                                             "X",
                                             "",
                                             "Route",
                                             "Max-Forwards"};

TEST(HeaderId, NamesTheHeadersTheStackReads) {
  EXPECT_EQ(header_id("Via"), HeaderId::via);
  EXPECT_EQ(header_id("V"), HeaderId::via);
  EXPECT_EQ(header_id("from"), HeaderId::from);
  EXPECT_EQ(header_id("F"), HeaderId::from);
  EXPECT_EQ(header_id("TO"), HeaderId::to);
  EXPECT_EQ(header_id("t"), HeaderId::to);
  EXPECT_EQ(header_id("Call-Id"), HeaderId::call_id);
  EXPECT_EQ(header_id("I"), HeaderId::call_id);
  EXPECT_EQ(header_id("cSeQ"), HeaderId::cseq);
  EXPECT_EQ(header_id("content-length"), HeaderId::content_length);
  EXPECT_EQ(header_id("L"), HeaderId::content_length);
}

TEST(HeaderId, OtherNamesAreOther) {
  for (std::string_view name : {"Content-Type", "c", "Contact", "m", "Vias", "Fro", "Tx", "Call-IE",
                                "CSeqX", "Content-Lengths", "Content-Lengtx", "X", "", "Route"}) {
    EXPECT_EQ(header_id(name), HeaderId::other) << name;
  }
}

// Lookups compare ids where both names have one, so the ids must agree with header_names_equal.
TEST(HeaderId, AgreesWithHeaderNamesEqual) {
  for (std::string_view a : names) {
    for (std::string_view b : names) {
      const HeaderId id = header_id(a);
      if (id != HeaderId::other && id == header_id(b)) {
        EXPECT_TRUE(header_names_equal(a, b)) << a << " " << b;
      }
      if (header_names_equal(a, b)) {
        EXPECT_EQ(id, header_id(b)) << a << " " << b;
      }
    }
  }
}

}  // namespace
}  // namespace rtconn::sip
