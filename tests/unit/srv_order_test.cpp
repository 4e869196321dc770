// RFC 2782's order of SRV targets: by priority, lowest first; within a priority drawn in
// proportion to the weights; with load balancing off, the heaviest first.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "dns/srv_order.hpp"

namespace rtconn::dns {
namespace {

std::vector<std::string> targets(const std::vector<SrvRecord>& records) {
  std::vector<std::string> names;
  for (const auto& r : records) names.push_back(r.target);
  return names;
}

TEST(SrvOrder, LowerPrioritiesComeFirstWhateverTheirWeight) {
  std::mt19937_64 random(1);
  const std::vector<SrvRecord> records = {
      {"backup", 5060, 20, 1000}, {"main", 5060, 10, 1}, {"last", 5060, 30, 50}};
  for (int round = 0; round < 20; ++round) {
    EXPECT_EQ(targets(order_srv(records, random)),
              (std::vector<std::string>{"main", "backup", "last"}));
  }
}

// 75:25 drawn 4,000 times: the heavier goes first about 3,000 times (a binomial's standard
// deviation here is 27, so 2,800..3,200 is over seven of them either way; the seed is fixed).
TEST(SrvOrder, WithinAPriorityTheFirstIsDrawnByWeight) {
  std::mt19937_64 random(42);
  const std::vector<SrvRecord> records = {{"heavy", 5060, 10, 75}, {"light", 5061, 10, 25}};
  int heavy_first = 0;
  for (int round = 0; round < 4000; ++round) {
    const auto ordered = order_srv(records, random);
    ASSERT_EQ(ordered.size(), 2u);
    if (ordered.front().target == "heavy") ++heavy_first;
  }
  EXPECT_GT(heavy_first, 2800);
  EXPECT_LT(heavy_first, 3200);
}

// Every record is tried once: a draw removes what it took.
TEST(SrvOrder, EveryRecordComesOnce) {
  std::mt19937_64 random(7);
  const std::vector<SrvRecord> records = {
      {"a", 1, 0, 0}, {"b", 2, 0, 10}, {"c", 3, 0, 0}, {"d", 4, 1, 5}, {"e", 5, 1, 5}};
  for (int round = 0; round < 100; ++round) {
    std::map<std::string, int> seen;
    for (const auto& r : order_srv(records, random)) ++seen[r.target];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}}));
  }
}

// RFC 2782: weight 0 leaves a record "a very small chance of being selected" next to weighted
// ones; when all are 0 each is as likely as the other.
TEST(SrvOrder, WeightZeroKeepsASmallChance) {
  std::mt19937_64 random(3);
  const std::vector<SrvRecord> records = {{"zero", 5060, 10, 0}, {"some", 5060, 10, 100}};
  int zero_first = 0;
  for (int round = 0; round < 2000; ++round) {
    if (order_srv(records, random).front().target == "zero") ++zero_first;
  }
  EXPECT_GT(zero_first, 0);
  EXPECT_LT(zero_first, 100);  // expected 2000/101, about 20

  const std::vector<SrvRecord> unweighted = {{"x", 5060, 10, 0}, {"y", 5060, 10, 0}};
  int x_first = 0;
  for (int round = 0; round < 2000; ++round) {
    if (order_srv(unweighted, random).front().target == "x") ++x_first;
  }
  // Each about 1,000 (standard deviation 22).
  EXPECT_GT(x_first, 800);
  EXPECT_LT(x_first, 1200);
}

TEST(SrvOrder, FixedOrderIsByPriorityThenHeaviestFirst) {
  const std::vector<SrvRecord> records = {{"light", 5060, 10, 10},
                                          {"backup", 5060, 20, 90},
                                          {"heavy", 5060, 10, 90},
                                          {"tie", 5060, 10, 10}};
  EXPECT_EQ(targets(order_srv_fixed(records)),
            (std::vector<std::string>{"heavy", "light", "tie", "backup"}));
}

}  // namespace
}  // namespace rtconn::dns
