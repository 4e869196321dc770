// The manual clock is what every time-out test stands on, so it gets checked on its own: a timer
// must fire exactly when its time has come, never twice, and never after a cancel.

#include "rtconn/manual_clock.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "../support/test_support.hpp"

namespace rtconn {
namespace {

using namespace std::chrono_literals;
using test::drain;

class ManualClockTest : public testing::Test {
 protected:
  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
};

TEST_F(ManualClockTest, TimeMovesOnlyWhenAdvanced) {
  const auto start = clock->now();
  drain(io);
  EXPECT_EQ(clock->now(), start);
  clock->advance(90s);
  EXPECT_EQ(clock->now() - start, 90s);
}

TEST_F(ManualClockTest, TimerFiresWhenItsTimeHasComeAndNotBefore) {
  auto timer = clock->make_timer(io.get_executor());
  int fired = 0;
  timer->arm(10s, [&] { ++fired; });
  EXPECT_EQ(clock->pending_timers(), 1u);
  clock->advance(10s - 1ns);
  drain(io);
  EXPECT_EQ(fired, 0);
  clock->advance(1ns);
  EXPECT_EQ(fired, 0) << "handlers run on the executor, not inside advance()";
  drain(io);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(clock->pending_timers(), 0u);
  clock->advance(1h);
  drain(io);
  EXPECT_EQ(fired, 1);
}

TEST_F(ManualClockTest, TimerArmedForZeroOrThePastFiresWithoutAnAdvance) {
  // Connections arm "now" when a deadline has already passed (a shortened time-out); a steady
  // timer fires at once then, and so must the manual one.
  auto zero = clock->make_timer(io.get_executor());
  auto past = clock->make_timer(io.get_executor());
  std::vector<std::string> fired;
  zero->arm(0s, [&] { fired.push_back("zero"); });
  past->arm(-5s, [&] { fired.push_back("past"); });
  drain(io);
  EXPECT_EQ(fired, (std::vector<std::string>{"zero", "past"}));
}

TEST_F(ManualClockTest, CancelAndRearmDropTheOldExpiry) {
  auto timer = clock->make_timer(io.get_executor());
  std::vector<std::string> fired;
  timer->arm(5s, [&] { fired.push_back("first"); });
  timer->cancel();
  EXPECT_EQ(clock->pending_timers(), 0u);
  timer->arm(5s, [&] { fired.push_back("second"); });
  timer->arm(8s, [&] { fired.push_back("third"); });  // replaces "second"
  clock->advance(10s);
  drain(io);
  EXPECT_EQ(fired, std::vector<std::string>{"third"});
}

TEST_F(ManualClockTest, CancelAfterTheExpiryWasPostedStillDropsIt) {
  auto timer = clock->make_timer(io.get_executor());
  int fired = 0;
  timer->arm(1s, [&] { ++fired; });
  clock->advance(1s);  // posted, not yet run
  timer->cancel();
  drain(io);
  EXPECT_EQ(fired, 0);

  timer->arm(0s, [&] { ++fired; });  // posted at once ...
  timer->cancel();                   // ... and dropped all the same
  drain(io);
  EXPECT_EQ(fired, 0);
}

TEST_F(ManualClockTest, DestroyingATimerDropsItsExpiry) {
  int fired = 0;
  {
    auto timer = clock->make_timer(io.get_executor());
    timer->arm(1s, [&] { ++fired; });
  }
  EXPECT_EQ(clock->pending_timers(), 0u);
  clock->advance(1s);
  drain(io);
  EXPECT_EQ(fired, 0);
}

TEST_F(ManualClockTest, TimersDueInOneAdvanceFireEarliestFirst) {
  std::vector<std::string> fired;
  auto late = clock->make_timer(io.get_executor());
  auto early = clock->make_timer(io.get_executor());
  auto middle = clock->make_timer(io.get_executor());
  late->arm(30s, [&] { fired.push_back("late"); });
  early->arm(10s, [&] { fired.push_back("early"); });
  middle->arm(20s, [&] { fired.push_back("middle"); });
  clock->advance(1min);
  drain(io);
  EXPECT_EQ(fired, (std::vector<std::string>{"early", "middle", "late"}));
}

}  // namespace
}  // namespace rtconn
