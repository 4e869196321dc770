#include "dns/answer_ttl.hpp"

#include <gtest/gtest.h>

#include "../support/dns_message.hpp"

namespace rtconn::dns {
namespace {

using namespace std::chrono_literals;
namespace message = test::dns;

std::optional<std::chrono::seconds> positive(const message::Bytes& bytes) {
  return answer_ttl(bytes.data(), bytes.size());
}
std::optional<std::chrono::seconds> negative(const message::Bytes& bytes) {
  return negative_ttl(bytes.data(), bytes.size());
}

TEST(AnswerTtl, IsTheLeastOfTheAnswers) {
  const auto bytes =
      message::response(7, "_sip._tcp.example.com", message::type_srv,
                        {{message::type_srv, 300, message::srv_record(10, 5060, "a.example.com")},
                         {message::type_srv, 120, message::srv_record(20, 5060, "b.example.com")}});
  EXPECT_EQ(positive(bytes), 120s);
  EXPECT_EQ(negative(bytes), std::nullopt);  // no SOA
}

TEST(AnswerTtl, OfNoAnswerIsNone) {
  EXPECT_EQ(positive(message::response(7, "example.com", message::type_a, {})), std::nullopt);
}

// RFC 2181 8: a TTL with its top bit set counts as zero.
TEST(AnswerTtl, WithTheTopBitSetIsZero) {
  const auto bytes =
      message::response(7, "example.com", message::type_a,
                        {{message::type_a, 0x80000000u, message::a_record("10.0.0.1")}});
  EXPECT_EQ(positive(bytes), 0s);
}

TEST(AnswerTtl, OfANegativeAnswerIsTheSoasLesserOfTtlAndMinimum) {
  const auto minimum_less =
      message::response(7, "_sip._tcp.example.com", message::type_srv, {},
                        {{message::type_soa, 3600, message::soa_record(300)}});
  EXPECT_EQ(negative(minimum_less), 300s);
  const auto ttl_less = message::response(7, "_sip._tcp.example.com", message::type_srv, {},
                                          {{message::type_soa, 60, message::soa_record(300)}});
  EXPECT_EQ(negative(ttl_less), 60s);
}

TEST(AnswerTtl, OfADamagedMessageIsNone) {
  const auto bytes = message::response(7, "example.com", message::type_a,
                                       {{message::type_a, 60, message::a_record("10.0.0.1")}});
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_EQ(answer_ttl(bytes.data(), length), std::nullopt) << length;
  }
  EXPECT_EQ(answer_ttl(nullptr, 0), std::nullopt);

  // An SOA whose RDATA stops short of its MINIMUM.
  auto rdata = message::soa_record(30);
  rdata.resize(rdata.size() - 4);
  const auto soa =
      message::response(7, "example.com", message::type_a, {}, {{message::type_soa, 60, rdata}});
  EXPECT_EQ(negative(soa), std::nullopt);
}

}  // namespace
}  // namespace rtconn::dns
