#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "rtconn/detail/completion.hpp"

namespace rtconn::detail {
namespace {

// Counts the live copies of a callable so each test can see nothing leaks or is destroyed twice.
template <std::size_t Padding>
struct Counted {
  explicit Counted(int& counter) : live(&counter) { ++counter; }
  Counted(Counted&& other) noexcept : live(other.live), padding(other.padding) { ++*live; }
  Counted(const Counted&) = delete;
  ~Counted() { --*live; }
  int operator()(int x) const { return x + static_cast<int>(padding.size()); }
  int* live;
  std::array<char, Padding> padding{};
};

template <class F>
void check_moves_and_calls(int& live, F f, int expected) {
  {
    UniqueFunction<int(int)> a(std::move(f));
    EXPECT_EQ(live, 2);  // f (moved from) and the one inside
    UniqueFunction<int(int)> b(std::move(a));
    EXPECT_FALSE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(b(1), expected);
    UniqueFunction<int(int)> c;
    c = std::move(b);
    EXPECT_EQ(c(1), expected);
    c = UniqueFunction<int(int)>([](int x) { return -x; });
    EXPECT_EQ(live, 1);  // only f is left
    EXPECT_EQ(c(1), -1);
  }
  EXPECT_EQ(live, 1);
}

TEST(UniqueFunction, SmallCallablesMoveAndDieOnce) {
  int live = 0;
  check_moves_and_calls(live, Counted<4>(live), 5);
}

TEST(UniqueFunction, LargeCallablesMoveAndDieOnce) {
  int live = 0;
  check_moves_and_calls(live, Counted<256>(live), 257);
}

TEST(UniqueFunction, HoldsMoveOnlyCallablesAndPassesReferences) {
  UniqueFunction<void(std::string&)> append =
      [suffix = std::make_unique<std::string>("!")](std::string& s) { s += *suffix; };
  std::string text = "hi";
  append(text);
  EXPECT_EQ(text, "hi!");
}

}  // namespace
}  // namespace rtconn::detail
