// The per-thread caches behind the allocation-free message path: what they keep, what they
// refuse, and that a thread's exit may give them buffers after they are gone.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/cached_allocator.hpp"
#include "common/recycled_buffers.hpp"

namespace rtconn::detail {
namespace {

// Parameters of their own: the library's caches on this thread stay out of it.
using Strings = RecycledBuffers<std::string, 2, 1000>;

std::string with_capacity(std::size_t n) {
  std::string s;
  s.reserve(n);
  s = "some text";
  return s;
}

TEST(RecycledBuffers, TheBufferGivenBackIsTheNextTakenEmptyWithItsStorage) {
  auto buffer = with_capacity(500);
  const char* storage = buffer.data();
  Strings::give_back(std::move(buffer));
  const auto again = Strings::take();
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.data(), storage);
  EXPECT_GE(again.capacity(), 500u);
  EXPECT_EQ(Strings::take().capacity(), std::string().capacity()) << "nothing else was kept";
}

TEST(RecycledBuffers, KeepsNeitherLargeBuffersNorMoreThanItsBound) {
  Strings::give_back(with_capacity(5000));
  EXPECT_EQ(Strings::take().capacity(), std::string().capacity());

  for (int i = 0; i < 3; ++i) Strings::give_back(with_capacity(100));
  EXPECT_GE(Strings::take().capacity(), 100u);
  EXPECT_GE(Strings::take().capacity(), 100u);
  EXPECT_EQ(Strings::take().capacity(), std::string().capacity()) << "the third was freed";
}

TEST(RecycledBuffers, EachThreadHasItsOwn) {
  Strings::give_back(with_capacity(100));
  std::size_t other_thread_capacity = 0;
  std::thread([&] { other_thread_capacity = Strings::take().capacity(); }).join();
  EXPECT_EQ(other_thread_capacity, std::string().capacity());
  EXPECT_GE(Strings::take().capacity(), 100u);
}

// Made before the thread's cache, so destroyed after it at thread exit.
struct GivesBackAtExit {
  ~GivesBackAtExit() {
    Strings::give_back(with_capacity(100));
    std::vector<int, CachedAllocator<int>> block(8);
  }
};

TEST(RecycledBuffers, ABufferGivenBackAfterTheThreadsCacheIsGoneIsFreed) {
  std::thread([] {
    thread_local GivesBackAtExit late;
    (void)&late;
    Strings::give_back(with_capacity(100));
    std::vector<int, CachedAllocator<int>> block(8);
  }).join();
  SUCCEED() << "no crash, and the sanitizers see no leak";
}

TEST(CachedAllocator, AFreedBlockIsReusedForTheSameSizeClass) {
  CachedAllocator<char> allocator;
  char* first = allocator.allocate(100);
  allocator.deallocate(first, 100);
  char* second = allocator.allocate(120);  // the same 128-byte class
  EXPECT_EQ(second, first);
  allocator.deallocate(second, 120);
}

TEST(CachedAllocator, LargeBlocksBypassTheCache) {
  CachedAllocator<char> allocator;
  char* large = allocator.allocate(100000);
  large[99999] = 'x';
  allocator.deallocate(large, 100000);
}

TEST(CachedAllocator, BacksSharedPointersWhoseDeleterRunsOnce) {
  int destroyed = 0;
  struct Counted {
    int* destroyed;
    ~Counted() { ++*destroyed; }
  };
  {
    auto p = std::allocate_shared<Counted>(CachedAllocator<Counted>{}, Counted{&destroyed});
    destroyed = 0;  // the temporary above
    auto copy = p;
  }
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace rtconn::detail
