#include "manager/message_throttle.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <thread>
#include <vector>

namespace rtconn::detail {
namespace {

TEST(MessageThrottle, RefusesFromTheHighMarkUntilBackDownToTheLowMark) {
  MessageThrottle throttle(3, 1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(throttle.admit(true));
  EXPECT_FALSE(throttle.admit(true));
  throttle.end();  // 2: between the marks, still refusing
  EXPECT_FALSE(throttle.admit(true));
  EXPECT_TRUE(throttle.admit(false));  // a CANCEL is counted, never refused
  EXPECT_EQ(throttle.waiting(), 3);
  throttle.end();
  throttle.end();  // 1: the low mark
  EXPECT_TRUE(throttle.admit(true));
  EXPECT_TRUE(throttle.admit(true));
  EXPECT_EQ(throttle.waiting(), 3);
}

TEST(MessageThrottle, NewMarksApplyAtOnce) {
  MessageThrottle throttle(2, 0);
  EXPECT_TRUE(throttle.admit(true));
  EXPECT_TRUE(throttle.admit(true));
  EXPECT_FALSE(throttle.admit(true));
  throttle.set_marks(INT_MAX, 5);  // 2 <= 5: no longer throttled
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(throttle.admit(true));
  EXPECT_EQ(throttle.waiting(), 102);
}

TEST(MessageThrottle, LoopThreadsCountWithoutLosingAny) {
  MessageThrottle throttle(INT_MAX, INT_MAX - 1);
  std::vector<std::thread> loops;
  for (int t = 0; t < 4; ++t) {
    loops.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        ASSERT_TRUE(throttle.admit(true));
        throttle.end();
      }
    });
  }
  for (auto& loop : loops) loop.join();
  EXPECT_EQ(throttle.waiting(), 0);
}

}  // namespace
}  // namespace rtconn::detail
