#include "sip/header_id.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rtconn/sip_message.hpp"
#include "sip/text.hpp"

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

// Names are compared a word at a time, with the case bit ORed into letters only: every byte at
// every position of every name is tried, so no other byte can fold into a name ("Call\rID": CR
// ORed with the case bit is '-').
TEST(HeaderId, OnlyTheCaseOfALetterIsIgnored) {
  const std::vector<std::pair<std::string_view, HeaderId>> lower_names = {
      {"via", HeaderId::via},
      {"from", HeaderId::from},
      {"to", HeaderId::to},
      {"call-id", HeaderId::call_id},
      {"cseq", HeaderId::cseq},
      {"content-length", HeaderId::content_length},
      {"timestamp", HeaderId::timestamp}};
  for (const auto& [lower, id] : lower_names) {
    for (std::size_t at = 0; at < lower.size(); ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string name(lower);
        name[at] = static_cast<char>(byte);
        const bool same = ascii_lower(name[at]) == lower[at];
        EXPECT_EQ(header_id(name), same ? id : HeaderId::other) << lower << " byte " << byte;
      }
    }
  }
}

TEST(HeaderId, EveryMixOfCasesNamesTheHeader) {
  const std::string_view lower = "content-length";
  for (unsigned mix = 0; mix < (1u << lower.size()); ++mix) {
    std::string name(lower);
    for (std::size_t i = 0; i < name.size(); ++i) {
      if ((mix >> i) & 1u && name[i] != '-') name[i] = static_cast<char>(name[i] - 'a' + 'A');
    }
    EXPECT_EQ(header_id(name), HeaderId::content_length) << name;
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
