// KeepAliveSchedule: a ping every 80-100% of the interval, the flow failed when its pong is later
// than the pong time-out (RFC 5626 4.4.1).
#include <gtest/gtest.h>

#include "connection/keep_alive_schedule.hpp"

namespace rtconn::connection {
namespace {

using namespace std::chrono_literals;
using Step = KeepAliveSchedule::Step;

const Clock::time_point start{};

TEST(KeepAliveSchedule, PingsAfterEightyToAHundredPercentOfTheInterval) {
  for (int i = 0; i < 200; ++i) {
    KeepAliveSchedule schedule(100s, 10s, start);
    EXPECT_GE(schedule.deadline(), start + 80s);
    EXPECT_LE(schedule.deadline(), start + 100s);
    EXPECT_EQ(schedule.on_timer(start + 79s), Step::wait);
    EXPECT_FALSE(schedule.awaiting_pong());
  }
}

TEST(KeepAliveSchedule, APongInTimeStartsAFreshInterval) {
  KeepAliveSchedule schedule(100s, 10s, start);
  const auto ping_at = schedule.deadline();
  EXPECT_EQ(schedule.on_timer(ping_at), Step::ping);
  EXPECT_TRUE(schedule.awaiting_pong());
  EXPECT_EQ(schedule.deadline(), ping_at + 10s);
  EXPECT_EQ(schedule.on_timer(ping_at + 9s), Step::wait);

  schedule.rest(ping_at + 9s);
  EXPECT_FALSE(schedule.awaiting_pong());
  EXPECT_GE(schedule.deadline(), ping_at + 9s + 80s);
  EXPECT_LE(schedule.deadline(), ping_at + 9s + 100s);
}

TEST(KeepAliveSchedule, NoPongWithinTheTimeOutFailsTheFlow) {
  KeepAliveSchedule schedule(100s, 10s, start);
  const auto ping_at = schedule.deadline();
  ASSERT_EQ(schedule.on_timer(ping_at), Step::ping);
  EXPECT_EQ(schedule.on_timer(ping_at + 10s), Step::failed);
}

}  // namespace
}  // namespace rtconn::connection
