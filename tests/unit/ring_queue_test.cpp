// The write queue's ring: FIFO order across wrap-around and growth, taking from both ends, and
// no memory kept beyond a few slots once empty.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "connection/ring_queue.hpp"

namespace rtconn::connection {
namespace {

TEST(RingQueue, KeepsOrderAcrossWrapAroundAndGrowth) {
  RingQueue<std::string> queue;
  int next_in = 0;
  int next_out = 0;
  // Interleave pushes and pops so the head walks around the ring while it grows.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3; ++i) queue.push_back(std::to_string(next_in++));
    EXPECT_EQ(queue.take_front(), std::to_string(next_out++));
    EXPECT_EQ(queue[0], std::to_string(next_out));
    EXPECT_EQ(queue.back(), std::to_string(next_in - 1));
  }
  EXPECT_EQ(queue.size(), 100u);
  while (!queue.empty()) EXPECT_EQ(queue.take_front(), std::to_string(next_out++));
  EXPECT_EQ(next_out, next_in);
}

TEST(RingQueue, TakesFromTheBackNewestFirst) {
  RingQueue<int> queue;
  for (int i = 0; i < 5; ++i) queue.push_back(i);
  EXPECT_EQ(queue.take_back(), 4);
  EXPECT_EQ(queue.take_back(), 3);
  EXPECT_EQ(queue.take_front(), 0);
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.front(), 1);
  EXPECT_EQ(queue.back(), 2);
}

TEST(RingQueue, TakenSlotsReleaseWhatTheyHeld) {
  RingQueue<std::shared_ptr<int>> queue;
  auto held = std::make_shared<int>(7);
  queue.push_back(held);
  queue.push_back(held);
  EXPECT_EQ(held.use_count(), 3);
  queue.take_front();
  EXPECT_EQ(held.use_count(), 2) << "a taken slot must not keep its value alive";
  queue.take_back();
  EXPECT_EQ(held.use_count(), 1);
  EXPECT_TRUE(queue.empty());
  queue.push_back(held);  // usable again after emptying (and after its slots were released)
  EXPECT_EQ(*queue.front(), 7);
}

}  // namespace
}  // namespace rtconn::connection
