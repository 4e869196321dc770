// Requests waiting for their final response, on the manual clock: each fails at its own
// deadline whatever was answered before it, answers complete only theirs, and one timer serves
// all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "../support/test_support.hpp"
#include "manager/pending_requests.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/manual_clock.hpp"

namespace rtconn::detail {
namespace {

using namespace std::chrono_literals;

class PendingRequestsTest : public testing::Test {
 protected:
  /// Adds a request with its own branch; its outcome lands in outcomes[name].
  void add(const std::string& name, std::chrono::milliseconds timeout,
           std::uint64_t connection = 1) {
    add_without_running(name, timeout, connection, [this, name](std::error_code ec, SipMessage) {
      outcomes[name] = ec ? ec.message() : "answered";
    });
    test::drain(io);
  }

  std::uint64_t add_without_running(const std::string& name, std::chrono::milliseconds timeout,
                                    std::uint64_t connection, PendingRequests::Done done) {
    return pending->add(key_of(name), connection, timeout, std::move(done));
  }

  static SipMessage request_named(const std::string& name) {
    auto request = test::make_request("OPTIONS");
    request.set_header("Via", "SIP/2.0/TCP client.invalid;branch=z9hG4bK-" + name);
    return request;
  }

  static std::string key_of(const std::string& name) {
    return PendingRequests::key_of(request_named(name));
  }

  // A request whose completion's handler throws (run on this io_context, as a handler on the
  // manager's own executor is); the exception comes out of the io_context's run.
  void add_throwing(const std::string& name, std::chrono::milliseconds timeout) {
    add_without_running(name, timeout, 1, [](std::error_code, SipMessage) {
      throw std::runtime_error("an application's handler threw");
    });
  }

  /// Whether a 200 for `name`, come on `connection`, completed a request.
  bool answer(const std::string& name, std::uint64_t connection = 1) {
    auto response = SipMessage::response_to(request_named(name), 200);
    const bool taken = pending->on_response(response, connection);
    test::drain(io);
    return taken;
  }

  void advance(std::chrono::milliseconds by) {
    clock->advance(by);
    test::drain(io);
  }

  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<PendingRequests> pending =
      std::make_shared<PendingRequests>(io.get_executor(), clock);
  std::map<std::string, std::string> outcomes;
  const std::string timed_out = make_error_code(errc::request_timeout).message();
};

TEST_F(PendingRequestsTest, EachTimesOutAtItsOwnDeadlineWhateverWasAnsweredFirst) {
  add("a", 10s);
  add("b", 20s);
  add("c", 5s);
  answer("c");  // the timer was armed for c's deadline, which is gone now
  EXPECT_EQ(outcomes["c"], "answered");
  advance(9999ms);
  EXPECT_EQ(outcomes.count("a"), 0u) << "a failed early";
  advance(1ms);
  EXPECT_EQ(outcomes["a"], timed_out);
  EXPECT_EQ(outcomes.count("b"), 0u);
  advance(10s);
  EXPECT_EQ(outcomes["b"], timed_out);
  EXPECT_EQ(clock->pending_timers(), 0u) << "nothing waits, so no timer is armed";
}

TEST_F(PendingRequestsTest, ALaterRequestWithAnEarlierDeadlineIsNotLate) {
  add("long", 60s);
  add("short", 1s);
  advance(1s);
  EXPECT_EQ(outcomes["short"], timed_out);
  EXPECT_EQ(outcomes.count("long"), 0u);
}

TEST_F(PendingRequestsTest, OneTimerServesAllOfThem) {
  for (int i = 0; i < 100; ++i) add("r" + std::to_string(i), 32s);
  EXPECT_EQ(clock->pending_timers(), 1u);
}

TEST_F(PendingRequestsTest, AResponseCompletesOnlyItsRequestAndOnlyOnce) {
  add("a", 10s);
  add("b", 10s);
  EXPECT_TRUE(answer("a"));
  EXPECT_FALSE(answer("a")) << "a retransmission matches nothing now";
  EXPECT_EQ(outcomes["a"], "answered");
  EXPECT_EQ(outcomes.count("b"), 0u);
  advance(10s);
  EXPECT_EQ(outcomes["b"], timed_out);
  EXPECT_EQ(outcomes["a"], "answered");
}

TEST_F(PendingRequestsTest, AResponseOnAnotherConnectionThanItsRequestAnswersNothing) {
  add("a", 10s, 1);
  // A peer that saw the Via, answering from a connection of its own.
  EXPECT_FALSE(answer("a", 2));
  EXPECT_EQ(outcomes.count("a"), 0u);
  EXPECT_TRUE(answer("a", 1));
  EXPECT_EQ(outcomes["a"], "answered");
}

TEST_F(PendingRequestsTest, ProvisionalAndStrayResponsesAreLeftToTheCaller) {
  add("a", 10s);
  auto trying = SipMessage::response_to(request_named("a"), 100);
  EXPECT_FALSE(pending->on_response(trying, 1));
  EXPECT_EQ(trying.status_code(), 100) << "left whole, for the response handler";
  auto stray = SipMessage::response_to(request_named("nobody"), 200);
  EXPECT_FALSE(pending->on_response(stray, 1));
  EXPECT_EQ(stray.status_code(), 200);
  test::drain(io);
  EXPECT_EQ(outcomes.count("a"), 0u);
}

// A request replaced by another with its branch, whose send then fails: the failure is the
// first one's, and the second still gets its answer.
TEST_F(PendingRequestsTest, ASendFailingAfterItsRequestWasReplacedLeavesTheNewOne) {
  const auto first = add_without_running("a", 10s, 1, [](std::error_code, SipMessage) {});
  add("a", 10s);
  pending->fail(key_of("a"), first, make_error_code(errc::connection_closed));
  test::drain(io);
  EXPECT_EQ(outcomes.count("a"), 0u) << "the newcomer was failed by the first one's send";
  EXPECT_TRUE(answer("a"));
  EXPECT_EQ(outcomes["a"], "answered");
}

// A request gone before the timer was armed for it (its send failed at once) leaves no stale
// deadline behind: the next one, later than it, still times out.
TEST_F(PendingRequestsTest, ARequestGoneBeforeItsTimerWasArmedLeavesTheNextOneTimed) {
  const auto gone = add_without_running("gone", 10s, 1, [](std::error_code, SipMessage) {});
  pending->fail(key_of("gone"), gone, make_error_code(errc::connection_closed));
  test::drain(io);
  add("next", 10s);
  advance(10s);
  EXPECT_EQ(outcomes["next"], timed_out);
  EXPECT_EQ(clock->pending_timers(), 0u);
}

TEST_F(PendingRequestsTest, ARequestAddedAfterFailAllFailsAtOnce) {
  pending->fail_all(make_error_code(errc::shutdown));
  EXPECT_EQ(add_without_running("late", 10s, 1,
                                [this](std::error_code ec, SipMessage) {
                                  outcomes["late"] = ec ? ec.message() : "answered";
                                }),
            0u);
  test::drain(io);
  EXPECT_EQ(outcomes["late"], make_error_code(errc::shutdown).message());
  EXPECT_EQ(clock->pending_timers(), 0u);
}

TEST_F(PendingRequestsTest, TheSameBranchTwiceFailsTheFirstAndKeepsTheSecondsDeadline) {
  add("a", 5s);
  add("a", 10s);
  EXPECT_EQ(outcomes["a"], make_error_code(errc::invalid_argument).message());
  outcomes.erase("a");
  advance(5s);
  EXPECT_EQ(outcomes.count("a"), 0u) << "the first one's deadline no longer applies";
  advance(5s);
  EXPECT_EQ(outcomes["a"], timed_out);
}

TEST_F(PendingRequestsTest, AClosedConnectionFailsOnlyItsOwnRequests) {
  add("on1", 10s, 1);
  add("on2", 10s, 2);
  add("also-on1", 10s, 1);
  pending->fail_connection(1, make_error_code(errc::connection_closed));
  test::drain(io);
  const auto closed = make_error_code(errc::connection_closed).message();
  EXPECT_EQ(outcomes["on1"], closed);
  EXPECT_EQ(outcomes["also-on1"], closed);
  EXPECT_EQ(outcomes.count("on2"), 0u);
  advance(10s);
  EXPECT_EQ(outcomes["on2"], timed_out);
}

// Each connection keeps a list of its waiting requests; requests leaving it from the middle,
// the front and the back (answered, timed out, failed) must leave the rest of it whole.
TEST_F(PendingRequestsTest, AClosedConnectionFailsWhatIsLeftOfItsRequestsWhateverLeftBefore) {
  for (const auto* name : {"a", "b", "c", "d", "e"}) add(name, 10s, 1);
  add("elsewhere", 10s, 2);
  add("late", 20s, 1);
  EXPECT_TRUE(answer("c"));     // the middle
  EXPECT_TRUE(answer("late"));  // the newest: the list's front
  EXPECT_TRUE(answer("a"));     // the oldest: its back
  const auto closed = make_error_code(errc::connection_closed);
  pending->fail_connection(1, closed);
  test::drain(io);
  EXPECT_EQ(outcomes["b"], closed.message());
  EXPECT_EQ(outcomes["d"], closed.message());
  EXPECT_EQ(outcomes["e"], closed.message());
  EXPECT_EQ(outcomes["c"], "answered");
  EXPECT_EQ(outcomes.count("elsewhere"), 0u);
  EXPECT_TRUE(answer("elsewhere", 2));
}

TEST_F(PendingRequestsTest, ARequestReplacedOnAnotherConnectionFailsOnlyWithThatOne) {
  add("moved", 10s, 1);
  add("moved", 10s, 2);  // the same branch again, sent on connection 2: the first one fails
  outcomes.clear();
  pending->fail_connection(1, make_error_code(errc::connection_closed));
  test::drain(io);
  EXPECT_EQ(outcomes.count("moved"), 0u);
  pending->fail_connection(2, make_error_code(errc::connection_closed));
  test::drain(io);
  EXPECT_EQ(outcomes["moved"], make_error_code(errc::connection_closed).message());
}

TEST_F(PendingRequestsTest, RequestsSentAfterTheirConnectionClosedStillFailAndTimeOut) {
  add("before", 10s, 1);
  pending->fail_connection(1, make_error_code(errc::connection_closed));
  // Raced the close: sent on it after its requests were failed, then failed by its send, or
  // timed out; and the connection's close reported again.
  const auto ticket = add_without_running(
      "sent-late", 10s, 1,
      [this](std::error_code ec, SipMessage) { outcomes["sent-late"] = ec.message(); });
  add("timing-out", 5s, 1);
  pending->fail(key_of("sent-late"), ticket, make_error_code(errc::connection_closed));
  advance(5s);
  EXPECT_EQ(outcomes["sent-late"], make_error_code(errc::connection_closed).message());
  EXPECT_EQ(outcomes["timing-out"], timed_out);
  add("after", 10s, 1);
  pending->fail_connection(1, make_error_code(errc::peer_closed));
  test::drain(io);
  EXPECT_EQ(outcomes["after"], make_error_code(errc::peer_closed).message());
  EXPECT_EQ(pending->connections_listed(), 0u) << "nothing waits: no connection's list is kept";
}

TEST_F(PendingRequestsTest, AClosedConnectionsLateRequestReplacedFromAnotherLeavesNoList) {
  pending->fail_connection(1, make_error_code(errc::connection_closed));
  // Filed on connection 1 after it closed, then replaced by the same key from connection 2
  // before its own send failed (its failure then matches nothing).
  const auto late = add_without_running("shared", 10s, 1, [](std::error_code, SipMessage) {});
  add("shared", 10s, 2);
  pending->fail(key_of("shared"), late, make_error_code(errc::connection_closed));
  test::drain(io);
  EXPECT_EQ(pending->connections_listed(), 1u) << "connection 2's only";
  EXPECT_TRUE(answer("shared", 2));
}

TEST_F(PendingRequestsTest, ManyDeadlinesInRandomOrderFailInDeadlineOrder) {
  std::mt19937 random(7);
  std::map<int, std::string> by_deadline;  // seconds -> name
  std::vector<int> seconds(200);
  for (int i = 0; i < 200; ++i) seconds[i] = i + 1;
  std::shuffle(seconds.begin(), seconds.end(), random);
  for (int s : seconds) {
    const auto name = "d" + std::to_string(s);
    add(name, std::chrono::seconds(s));
    by_deadline[s] = name;
  }
  // Answer every third one in a random order; the rest must time out each in its own second.
  for (int s : seconds) {
    if (s % 3 == 0) answer(by_deadline[s]);
  }
  for (int s = 1; s <= 200; ++s) {
    advance(1s);
    for (const auto& [deadline, name] : by_deadline) {
      const bool expected_done = deadline % 3 == 0 || deadline <= s;
      ASSERT_EQ(outcomes.count(name), expected_done ? 1u : 0u) << name << " at " << s << " s";
      if (deadline % 3 != 0 && deadline <= s) {
        ASSERT_EQ(outcomes[name], timed_out) << name;
      }
    }
  }
}

// A handler that throws (out of the io_context's run, as Asio does) leaves the table whole:
// the requests after it still time out, and a request that replaced it still gets its answer.
TEST_F(PendingRequestsTest, AHandlerThatThrowsLeavesTheOthersWaiting) {
  add_throwing("thrower", 999ms);  // overdue first, in the same firing as the next
  test::drain(io);
  add("at-the-same-time", 1s);
  add("later", 2s);
  EXPECT_THROW(advance(1s), std::runtime_error);
  test::drain(io);
  EXPECT_EQ(outcomes["at-the-same-time"], timed_out) << "failed apart from the one that threw";
  advance(1s);
  EXPECT_EQ(outcomes["later"], timed_out) << "the timer was armed again";

  add_throwing("same", 10s);
  test::drain(io);
  add_without_running("same", 10s, 1, [this](std::error_code ec, SipMessage) {
    outcomes["same"] = ec ? ec.message() : "answered";
  });
  EXPECT_THROW(test::drain(io), std::runtime_error);  // the first, replaced
  answer("same");
  EXPECT_EQ(outcomes["same"], "answered");
}

TEST_F(PendingRequestsTest, FailAllFailsEveryOneAndDisarms) {
  add("a", 10s);
  add("b", 20s);
  pending->fail_all(make_error_code(errc::shutdown));
  test::drain(io);
  const auto shutdown = make_error_code(errc::shutdown).message();
  EXPECT_EQ(outcomes["a"], shutdown);
  EXPECT_EQ(outcomes["b"], shutdown);
  advance(30s);
  EXPECT_EQ(outcomes["a"], shutdown) << "completed once";
}

}  // namespace
}  // namespace rtconn::detail
