// ConnectionReference, what UCMA's RefCount counts: the components that keep sending on one
// connection. A pool hands claims out over its connections by the claims they hold; a claimed
// connection is not closed for idleness, and idles from the moment its last claim goes. Time is
// a ManualClock: nothing here sleeps.

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "loopback.hpp"
#include "rtconn/connection_reference.hpp"
#include "rtconn/manual_clock.hpp"

namespace rtconn::test {
namespace {

using namespace std::chrono_literals;

class ConnectionReferences : public Loopback {
 protected:
  const std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();

  void SetUp() override {
    start_server();
    answer_everything();
    ConnectionManagerOptions options;
    options.clock = clock;
    options.default_outgoing_connection_timeout = 30s;
    make_client(options);
  }

  std::shared_ptr<ConnectionPool> pool(int maximum) {
    auto p = client->connection_pool(server_key());
    p->set_maximum_number_of_connections(maximum);
    return p;
  }

  ConnectionReference acquire(ConnectionPool& from) {
    std::error_code ec;
    auto claim = from.acquire_connection(ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(claim);
    return claim;
  }

  // Sends an OPTIONS on the claimed connection and waits for it to be written: the connection
  // is ready afterwards, its idle time-out armed.
  void use(const ConnectionReference& claim) {
    const auto outcome = make_record();
    claim->async_send(make_request("OPTIONS"), record(outcome));
    ASSERT_TRUE(run_until(io, [&] { return outcome->calls > 0; }));
    ASSERT_FALSE(outcome->ec) << outcome->ec.message();
    drain(io);
  }
};

TEST_F(ConnectionReferences, RefCountCountsTheLiveClaims) {
  auto from = pool(1);
  ConnectionReference empty;
  EXPECT_FALSE(empty);
  auto first = acquire(*from);
  const auto connection = first.connection();
  EXPECT_EQ(connection->ref_count(), 1);
  {
    auto second = acquire(*from);
    EXPECT_EQ(second.connection(), connection) << "a pool of one shares its connection";
    EXPECT_EQ(connection->ref_count(), 2);
    ConnectionReference moved = std::move(second);
    EXPECT_EQ(connection->ref_count(), 2) << "a move hands the claim over";
    ConnectionReference made(connection);
    EXPECT_EQ(connection->ref_count(), 3);
    made = std::move(moved);  // releases made's own claim
    EXPECT_EQ(connection->ref_count(), 2);
  }
  EXPECT_EQ(connection->ref_count(), 1);
  first.reset();
  EXPECT_FALSE(first);
  EXPECT_EQ(connection->ref_count(), 0);
}

TEST_F(ConnectionReferences, APoolOpensUntilFullThenClaimsGoWhereTheFewestAre) {
  auto from = pool(2);
  auto a = acquire(*from);
  auto b = acquire(*from);
  ASSERT_NE(a.connection(), b.connection()) << "not full: each claim opened a connection";
  EXPECT_EQ(from->count(), 2u);
  auto c = acquire(*from);
  auto d = acquire(*from);
  EXPECT_NE(c.connection(), d.connection()) << "c took one, d the other";
  EXPECT_EQ(from->count(), 2u);

  // a's connection now holds two claims against b's one: the next claim goes to b's.
  const auto b_connection = b.connection();
  (c.connection() == b_connection ? c : d).reset();
  b.reset();
  EXPECT_EQ(b_connection->ref_count(), 0);
  auto e = acquire(*from);
  EXPECT_EQ(e.connection(), b_connection);
}

TEST_F(ConnectionReferences, AClaimedConnectionOutlivesItsIdleTimeOutAndIdlesFromItsRelease) {
  auto from = pool(1);
  auto claim = acquire(*from);
  use(claim);
  const auto connection = claim.connection();
  ASSERT_TRUE(connection->is_connected());
  EXPECT_EQ(connection->connection_timeout(), 30s);

  clock->advance(2h);  // a long call, and not a message on its connection
  drain(io);
  EXPECT_TRUE(connection->is_connected()) << "closed for idleness while claimed";

  claim.reset();  // the call ended: idle from here
  drain(io);
  clock->advance(30s - 1ms);
  drain(io);
  EXPECT_TRUE(connection->is_connected()) << "idled from the last message, not the release";
  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return !connection->is_connected(); }));
  EXPECT_EQ(connection->close_reason(), errc::idle_timeout);
}

TEST_F(ConnectionReferences, AClaimDoesNotHoldBackAnyOtherClose) {
  auto from = pool(1);
  auto claim = acquire(*from);
  use(claim);
  claim->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return !claim->is_connected(); }));
  EXPECT_EQ(claim->ref_count(), 1) << "the claim still counts; the holder takes another";
  ASSERT_TRUE(run_until(io, [&] { return from->is_removed(); }));
  std::error_code ec;
  EXPECT_FALSE(from->acquire_connection(ec));
  EXPECT_EQ(ec, errc::pool_removed) << "the pool went with its last connection";
  // The manager makes the pool again, as its async_send would.
  auto fresh = client->acquire_connection(server_key(), ec);
  ASSERT_TRUE(fresh) << ec.message();
  EXPECT_NE(fresh.connection(), claim.connection());
  EXPECT_EQ(fresh->ref_count(), 1);
  EXPECT_EQ(fresh->connection_pool(), client->connection_pool(server_key()));
}

TEST_F(ConnectionReferences, SendsThroughThePoolIgnoreClaims) {
  auto from = pool(2);
  auto a = acquire(*from);
  auto b = acquire(*from);
  ConnectionReference extra(a.connection());  // a's connection: two claims, b's: one
  std::error_code ec;
  std::set<RealTimeConnection*> chosen;
  for (int i = 0; i < 4; ++i) chosen.insert(from->select_connection(ec).get());
  EXPECT_EQ(chosen.size(), 2u) << "sends take turns over both, whatever the claims";
}

}  // namespace
}  // namespace rtconn::test
