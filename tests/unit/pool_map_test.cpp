// The manager's sharded pool map: one pool per key however many threads ask at once, and removal
// only of the pool still filed under its key.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "manager/pool_map.hpp"
#include "pool/pool_host.hpp"

namespace rtconn::detail {
namespace {

class PoolMapTest : public testing::Test {
 protected:
  std::shared_ptr<ConnectionPool> make_pool(const PoolKey& key) {
    return PoolControl::make(key, 5, io_.get_executor(), nullptr, {});
  }
  static PoolKey key(int i) {
    return {"host" + std::to_string(i) + ".invalid", 5060, TransportType::Tcp, {}};
  }

  asio::io_context io_;
  PoolMap map_;
};

TEST_F(PoolMapTest, ThreadsAskingForTheSameKeysAtOnceGetOnePoolEach) {
  constexpr int keys = 40;
  std::atomic<int> made{0};
  std::vector<std::vector<std::shared_ptr<ConnectionPool>>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < keys; ++i) {
        seen[t].push_back(map_.find_or_make(key(i), [&] {
          ++made;
          return make_pool(key(i));
        }));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(made.load(), keys);
  EXPECT_EQ(map_.size(), static_cast<std::size_t>(keys));
  EXPECT_EQ(map_.all().size(), static_cast<std::size_t>(keys));
  for (int t = 1; t < 4; ++t) EXPECT_EQ(seen[t], seen[0]);
}

TEST_F(PoolMapTest, AMakerReturningNullFilesNothing) {
  EXPECT_EQ(map_.find_or_make(key(1), [] { return std::shared_ptr<ConnectionPool>{}; }), nullptr);
  EXPECT_EQ(map_.size(), 0u);
}

TEST_F(PoolMapTest, RemovesOnlyThePoolStillFiledAndOnlyWhenAgreed) {
  const auto first = map_.find_or_make(key(1), [&] { return make_pool(key(1)); });
  EXPECT_FALSE(map_.remove(first, [] { return false; }));
  EXPECT_EQ(map_.size(), 1u);
  EXPECT_TRUE(map_.remove(first, [] { return true; }));
  EXPECT_EQ(map_.size(), 0u);
  // Its successor under the same key is not removed on behalf of the old one.
  const auto second = map_.find_or_make(key(1), [&] { return make_pool(key(1)); });
  EXPECT_NE(second, first);
  EXPECT_FALSE(map_.remove(first, [] { return true; }));
  EXPECT_EQ(map_.all(), std::vector<std::shared_ptr<ConnectionPool>>{second});
}

}  // namespace
}  // namespace rtconn::detail
