// ConnectAttempts: a host's addresses tried in order, each attempt given an even share of what is
// left of the connect time-out, the last one all of it.
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "connection/connect_attempts.hpp"

namespace rtconn::connection {
namespace {

using namespace std::chrono_literals;

class ConnectAttemptsTest : public testing::Test {
 protected:
  static ConnectAttempts::Endpoint at(const char* address) {
    return {asio::ip::make_address(address), 5060};
  }

  ConnectAttempts attempts_;
  const Clock::time_point start_{};
};

TEST_F(ConnectAttemptsTest, EachAddressGetsAnEvenShareOfWhatIsLeft) {
  attempts_.add_addresses({at("::1"), at("127.0.0.1"), at("127.0.0.2")});
  const auto deadline = start_ + 9s;

  EXPECT_EQ(attempts_.next(start_, deadline), at("::1"));
  EXPECT_EQ(attempts_.attempt_deadline(), start_ + 3s);

  // Refused at once: the two left share the 9 s still there.
  EXPECT_EQ(attempts_.next(start_, deadline), at("127.0.0.1"));
  EXPECT_EQ(attempts_.attempt_deadline(), start_ + 4500ms);

  // The last runs to the connection's own deadline: no attempt deadline of its own.
  EXPECT_EQ(attempts_.next(start_ + 4500ms, deadline), at("127.0.0.2"));
  EXPECT_EQ(attempts_.attempt_deadline(), std::nullopt);

  EXPECT_EQ(attempts_.next(start_ + 5s, deadline), std::nullopt);
}

// DNS load balancing: a pool's connection starts with the address its turn names, counted round
// them, and falls back to the others in the resolver's order (its preferred one first).
TEST_F(ConnectAttemptsTest, TheChosenAddressGoesFirstTheOthersKeepTheirOrder) {
  const auto a = at("127.0.0.1");
  const auto b = at("127.0.0.2");
  const auto c = at("127.0.0.3");
  const std::vector<std::pair<std::size_t, std::vector<ConnectAttempts::Endpoint>>> expected = {
      {0, {a, b, c}}, {1, {b, a, c}}, {2, {c, a, b}}, {4, {b, a, c}}};
  for (const auto& [first, order] : expected) {
    ConnectAttempts attempts;
    attempts.add_addresses({a, b, c}, first);
    for (const auto& address : order) {
      EXPECT_EQ(attempts.next(start_, std::nullopt), address) << "first " << first;
    }
    EXPECT_EQ(attempts.next(start_, std::nullopt), std::nullopt);
  }
  attempts_.add_addresses({}, 3);  // a host with no address: nothing to try, nothing to divide
  EXPECT_EQ(attempts_.next(start_, std::nullopt), std::nullopt);
}

TEST_F(ConnectAttemptsTest, WithoutAConnectTimeOutNoAttemptIsCut) {
  attempts_.add_addresses({at("::1"), at("127.0.0.1")});
  EXPECT_EQ(attempts_.next(start_, std::nullopt), at("::1"));
  EXPECT_EQ(attempts_.attempt_deadline(), std::nullopt);
}

TEST_F(ConnectAttemptsTest, AGivenUpAttemptIsKnownUntilTheNext) {
  attempts_.add_addresses({at("::1"), at("127.0.0.1")});
  ASSERT_TRUE(attempts_.next(start_, start_ + 10s));
  EXPECT_FALSE(attempts_.given_up());
  attempts_.give_up();
  EXPECT_TRUE(attempts_.given_up());
  EXPECT_EQ(attempts_.attempt_deadline(), std::nullopt);  // the timer asks nothing more of it
  ASSERT_TRUE(attempts_.next(start_ + 5s, start_ + 10s));
  EXPECT_FALSE(attempts_.given_up());
}

TEST_F(ConnectAttemptsTest, APastDeadlineLeavesNoTimeToTheRest) {
  attempts_.add_addresses({at("::1"), at("127.0.0.1")});
  ASSERT_TRUE(attempts_.next(start_ + 11s, start_ + 10s));
  EXPECT_EQ(attempts_.attempt_deadline(), start_ + 11s);
}

// SRV's backups (a server still being looked up) count as one more address to leave time for: a
// primary that drops SYNs must not spend the whole time-out.
TEST_F(ConnectAttemptsTest, ServersStillBeingLookedUpAreLeftTheirShare) {
  // A Lookup is the locator's own; any non-null pointer stands for one here.
  const auto owner = std::make_shared<int>(0);
  attempts_.add_addresses({at("127.0.0.1")});
  attempts_.set_later(std::shared_ptr<dns::Lookup>(owner, reinterpret_cast<dns::Lookup*>(1)));
  EXPECT_EQ(attempts_.next(start_, start_ + 10s), at("127.0.0.1"));
  EXPECT_EQ(attempts_.attempt_deadline(), start_ + 5s);
  EXPECT_TRUE(attempts_.take_later());
  EXPECT_FALSE(attempts_.take_later());
  // The backup's addresses come after it; it is the last now, so it runs to the end.
  attempts_.add_addresses({at("127.0.0.2")});
  EXPECT_EQ(attempts_.next(start_ + 5s, start_ + 10s), at("127.0.0.2"));
  EXPECT_EQ(attempts_.attempt_deadline(), std::nullopt);
}

// A later batch is appended, less what is there already; the pool's turn goes round only the
// batch's first `spread` addresses (its first server's).
TEST_F(ConnectAttemptsTest, LaterAddressesAreAppendedAndTurnsGoRoundTheFirstServersOnly) {
  const auto a = at("127.0.0.1");
  const auto b = at("127.0.0.2");
  const auto c = at("127.0.0.3");
  attempts_.add_addresses({a, b, c}, 3, 2);  // turn 3 of the first two: b
  EXPECT_EQ(attempts_.next(start_, std::nullopt), b);
  attempts_.add_addresses({c, at("127.0.0.4"), a});
  for (const auto& expected : {a, c, at("127.0.0.4")}) {
    EXPECT_EQ(attempts_.next(start_, std::nullopt), expected);
  }
  EXPECT_EQ(attempts_.next(start_, std::nullopt), std::nullopt);
}

TEST_F(ConnectAttemptsTest, NoAddressesNothingToTry) {
  EXPECT_EQ(attempts_.next(start_, start_ + 10s), std::nullopt);
}

}  // namespace
}  // namespace rtconn::connection
