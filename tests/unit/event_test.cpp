#include "rtconn/event.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rtconn {
namespace {

struct Args {
  int value = 0;
};

// Raising is the owner's business; tests play the owner through the same back door managers use.
void raise(const Event<Args>& event, int value) {
  detail::EventAccess<Args>::raise(event, {value});
}

TEST(Event, PlusEqualsAddsAndMinusEqualsRemoves) {
  Event<Args> event;
  std::vector<int> seen;
  const auto token = event += [&](const Args& a) { seen.push_back(a.value); };
  EXPECT_EQ(event.handler_count(), 1u);
  raise(event, 1);
  event -= token;
  EXPECT_EQ(event.handler_count(), 0u);
  raise(event, 2);
  EXPECT_EQ(seen, std::vector<int>{1});
}

TEST(Event, MinusEqualsRemovesOnlyItsOwnHandler) {
  Event<Args> event;
  std::vector<std::string> seen;
  const auto a = event += [&](const Args&) { seen.push_back("a"); };
  event += [&](const Args&) { seen.push_back("b"); };
  event -= a;
  event -= a;               // twice is harmless
  event -= HandlerToken{};  // a default token names no handler
  raise(event, 0);
  EXPECT_EQ(seen, std::vector<std::string>{"b"});
}

TEST(Event, HandlersRunInSubscriptionOrderWithTheArguments) {
  Event<Args> event;
  std::vector<std::string> seen;
  event += [&](const Args& a) { seen.push_back("first " + std::to_string(a.value)); };
  auto sub =
      event.subscribe([&](const Args& a) { seen.push_back("second " + std::to_string(a.value)); });
  raise(event, 7);
  EXPECT_EQ(seen, (std::vector<std::string>{"first 7", "second 7"}));
}

TEST(Event, SubscriptionRemovesTheHandlerWhenDestroyed) {
  Event<Args> event;
  int calls = 0;
  {
    auto sub = event.subscribe([&](const Args&) { ++calls; });
    raise(event, 0);
    EXPECT_EQ(event.handler_count(), 1u);
  }
  EXPECT_EQ(event.handler_count(), 0u);
  raise(event, 0);
  EXPECT_EQ(calls, 1);
}

TEST(Event, SubscriptionResetAndMoveKeepExactlyOneOwner) {
  Event<Args> event;
  int calls = 0;
  auto first = event.subscribe([&](const Args&) { ++calls; });
  Subscription moved = std::move(first);
  first.reset();  // the moved-from handle owns nothing any more
  raise(event, 0);
  EXPECT_EQ(calls, 1);

  Subscription other = event.subscribe([&](const Args&) { calls += 10; });
  other = std::move(moved);  // assigning drops the handler `other` held
  raise(event, 0);
  EXPECT_EQ(calls, 2);
  other.reset();
  raise(event, 0);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(event.handler_count(), 0u);
}

TEST(Event, SubscriptionOutlivesTheEvent) {
  std::optional<Subscription> sub;
  {
    Event<Args> event;
    sub.emplace(event.subscribe([](const Args&) {}));
  }
  // Destroying (and resetting) the handle after the event is gone must not touch freed memory;
  // the address sanitizer build is what proves it.
  sub->reset();
  sub.reset();
  SUCCEED();
}

TEST(Event, HandlerThatUnsubscribesItselfDuringRaiseRunsOnceAndIsSafe) {
  Event<Args> event;
  std::optional<Subscription> self;
  std::vector<std::string> seen;
  auto payload = std::make_shared<std::string>("still alive");
  self.emplace(event.subscribe([&, payload](const Args&) {
    self.reset();  // removes this very handler while it runs
    // The raise keeps its own reference to the handler, so its captures are still valid here.
    seen.push_back(*payload);
  }));
  auto later = event.subscribe([&](const Args&) { seen.push_back("later"); });
  raise(event, 0);
  raise(event, 0);
  EXPECT_EQ(seen, (std::vector<std::string>{"still alive", "later", "later"}));
  EXPECT_EQ(event.handler_count(), 1u);
}

TEST(Event, ChangesDuringRaiseTakeEffectFromTheNextRaise) {
  Event<Args> event;
  std::vector<std::string> seen;
  std::optional<Subscription> second;
  std::optional<Subscription> added;
  auto first = event.subscribe([&](const Args&) {
    seen.push_back("first");
    second.reset();  // the list was copied before the raise: "second" still runs this time
    if (!added) added.emplace(event.subscribe([&](const Args&) { seen.push_back("added"); }));
  });
  second.emplace(event.subscribe([&](const Args&) { seen.push_back("second"); }));
  raise(event, 0);
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second"}));
  seen.clear();
  raise(event, 0);
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "added"}));
}

TEST(Event, ClearDropsEveryHandler) {
  Event<Args> event;
  int calls = 0;
  event += [&](const Args&) { ++calls; };
  auto sub = event.subscribe([&](const Args&) { ++calls; });
  detail::EventAccess<Args>::clear(event);
  raise(event, 0);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(event.handler_count(), 0u);
}

TEST(Event, ConcurrentSubscribeAndRaiseIsSafe) {
  // Thread-safety is documented; the thread sanitizer or address sanitizer build checks the
  // memory side, this checks that no handler subscribed throughout is ever missed.
  Event<Args> event;
  std::atomic<int> steady_calls{0};
  auto steady = event.subscribe([&](const Args&) { steady_calls.fetch_add(1); });
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop.load()) {
      auto sub = event.subscribe([](const Args&) {});
      const auto token = event += [](const Args&) {};
      event -= token;
    }
  });
  for (int i = 0; i < 2000; ++i) raise(event, i);
  stop.store(true);
  churn.join();
  EXPECT_EQ(steady_calls.load(), 2000);
  EXPECT_EQ(event.handler_count(), 1u);
}

}  // namespace
}  // namespace rtconn
