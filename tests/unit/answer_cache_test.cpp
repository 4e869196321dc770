#include "dns/answer_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rtconn::dns {
namespace {

using namespace std::chrono_literals;

const Clock::time_point start{};

TEST(AnswerCache, AnAnswerIsFoundUntilItExpires) {
  AnswerCache<int> cache(8);
  cache.store("a", 1, start + 10s, start);
  EXPECT_EQ(cache.find("a", start + 9s), 1);
  EXPECT_EQ(cache.find("a", start + 10s), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);  // dropped when found expired
  EXPECT_EQ(cache.find("b", start), std::nullopt);
}

TEST(AnswerCache, AnAnswerAlreadyExpiredOrACacheOfNoneKeepsNothing) {
  AnswerCache<int> cache(8);
  cache.store("a", 1, start, start);
  EXPECT_EQ(cache.size(), 0u);
  AnswerCache<int> none(0);
  none.store("a", 1, start + 10s, start);
  EXPECT_EQ(none.find("a", start), std::nullopt);
}

TEST(AnswerCache, AnAnswerStoredAgainReplacesTheOneBefore) {
  AnswerCache<int> cache(1);
  cache.store("a", 1, start + 10s, start);
  cache.store("a", 2, start + 5s, start);
  EXPECT_EQ(cache.find("a", start + 4s), 2);
  EXPECT_EQ(cache.find("a", start + 6s), std::nullopt);
}

// Full, it first drops what has expired, and only then the live answer soonest to expire.
TEST(AnswerCache, WhenFullTheExpiredThenTheSoonestToExpireGo) {
  AnswerCache<int> cache(3);
  cache.store("old", 0, start + 1s, start);
  cache.store("late", 1, start + 30s, start);
  cache.store("soon", 2, start + 20s, start);
  cache.store("new", 3, start + 40s, start + 2s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("soon", start + 2s), 2);

  cache.store("newer", 4, start + 50s, start + 2s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("soon", start + 2s), std::nullopt);
  EXPECT_EQ(cache.find("late", start + 2s), 1);
  EXPECT_EQ(cache.find("new", start + 2s), 3);
  EXPECT_EQ(cache.find("newer", start + 2s), 4);
}

TEST(AnswerCache, ClearForgetsEverything) {
  AnswerCache<std::string> cache(8);
  cache.store("a", "x", start + 10s, start);
  cache.clear();
  EXPECT_EQ(cache.find("a", start), std::nullopt);
}

}  // namespace
}  // namespace rtconn::dns
