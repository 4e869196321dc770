// Connection pool rules (UCMA "Creating a Connection Manager"): created on first use, opened up
// to the cap then reused, removed when the last connection goes; against a real server manager.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <asio/error.hpp>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

class Pool : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    answer_everything();
  }

  // Sends `count` messages back to back (the io_context does not run in between), recording
  // each completion on its own, so a second completion of one send would show.
  std::vector<CompletionRecordPtr> send_burst(const PoolKey& key, int count) {
    auto outcomes = make_records(count);
    for (const auto& o : outcomes) client->async_send(key, make_request("OPTIONS"), record(o));
    return outcomes;
  }

  std::set<RealTimeConnection*> server_side() const {
    std::set<RealTimeConnection*> all;
    for (const auto& c : server->incoming_connections()) all.insert(c.get());
    return all;
  }
};

TEST_F(Pool, IsCreatedOnFirstUseWithConnectionPoolAdded) {
  make_client();
  std::vector<std::shared_ptr<ConnectionPool>> added;
  auto sub = client->connection_pool_added.subscribe(
      [&](const ConnectionPoolEventArgs& e) { added.push_back(e.item); });
  EXPECT_TRUE(client->connection_pools().empty());

  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  ASSERT_EQ(client->connection_pools().size(), 1u);
  const auto pool = client->connection_pools()[0];
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0], pool);
  EXPECT_EQ(pool->host_name(), "127.0.0.1");
  EXPECT_EQ(pool->port(), server->listening_port());
  EXPECT_EQ(pool->transport(), TransportType::Tcp);
  EXPECT_EQ(pool->key(), server_key());
  EXPECT_EQ(pool->count(), 1u);
  EXPECT_FALSE(pool->is_removed());

  // Same key again: found, not made.
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  EXPECT_EQ(client->connection_pool(server_key()), pool);
  drain(io);
  EXPECT_EQ(added.size(), 1u);
}

TEST_F(Pool, KnowsItsManagerWhileTheManagerLives) {
  make_client();
  const auto pool = client->connection_pool(server_key());
  EXPECT_EQ(pool->connection_manager(), client.get());
  client.reset();  // the application still holds the pool
  EXPECT_EQ(pool->connection_manager(), nullptr);
}

TEST_F(Pool, DefaultCapIsFiveConnections) {
  make_client();
  const auto outcomes = send_burst(server_key(), 8);
  const auto pool = client->connection_pool(server_key());
  EXPECT_EQ(pool->maximum_number_of_connections(), 5);
  EXPECT_EQ(pool->count(), 5u) << "each send opens a connection until the pool is full";

  ASSERT_TRUE(run_until(io, [&] { return served.size() == 8; }));
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(outcomes[i]->calls, 1) << "send " << i;
    EXPECT_FALSE(outcomes[i]->ec) << "send " << i << ": " << outcomes[i]->ec.message();
  }
  EXPECT_EQ(pool->count(), 5u);
  EXPECT_EQ(server->incoming_connections().size(), 5u);
}

TEST_F(Pool, CustomCapOfTwoGivesExactlyTwoConnections) {
  make_client();
  client->set_default_maximum_number_of_connections_per_pool(2);
  const auto outcomes = send_burst(server_key(), 2 + 5);
  const auto pool = client->connection_pool(server_key());
  EXPECT_EQ(pool->count(), 2u);
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 7; }));
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  for (int i = 0; i < 7; ++i) EXPECT_EQ(outcomes[i]->calls, 1);
  EXPECT_EQ(pool->count(), 2u);
  EXPECT_EQ(server->incoming_connections().size(), 2u);

  // Raising the cap of the live pool lets the next send open one more.
  pool->set_maximum_number_of_connections(3);
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  EXPECT_EQ(pool->count(), 3u);
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 3; }));
}

TEST_F(Pool, OnceFullEquallyLoadedConnectionsTakeTurns) {
  make_client();
  client->set_default_maximum_number_of_connections_per_pool(3);
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  const auto pool = client->connection_pool(server_key());
  const auto connections = pool->connections();
  ASSERT_EQ(connections.size(), 3u);
  for (const auto& c : connections) {
    EXPECT_EQ(c->counters().messages_sent, 1u) << "the first three sends open one each";
  }

  // Sent one at a time, each finds every connection idle: round robin.
  for (int i = 0; i < 6; ++i) ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  for (const auto& c : connections) EXPECT_EQ(c->counters().messages_sent, 3u);
  EXPECT_EQ(pool->count(), 3u);

  // The same seen through select_connection: a full cycle visits each once, then repeats.
  std::error_code ec;
  std::vector<std::shared_ptr<RealTimeConnection>> picked;
  for (int i = 0; i < 6; ++i) picked.push_back(pool->select_connection(ec));
  ASSERT_FALSE(ec);
  EXPECT_EQ(std::set(picked.begin(), picked.begin() + 3).size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(picked[i], picked[i + 3]);
}

TEST_F(Pool, OnceFullTheLeastLoadedConnectionIsChosen) {
  // A peer that never reads: a large message stays in flight on one connection, so that one is
  // loaded and the others are not.
  SilentPeer peer(io);
  make_client();
  client->set_default_maximum_number_of_connections_per_pool(2);
  const auto key = key_for(peer.endpoint());
  ASSERT_FALSE(send_and_wait(key, make_request("OPTIONS")));
  ASSERT_FALSE(send_and_wait(key, make_request("OPTIONS")));
  const auto pool = client->connection_pool(key);
  ASSERT_EQ(pool->count(), 2u);

  auto big = make_request("MESSAGE");
  big.set_body(std::string(16 * 1024 * 1024, 'x'), "text/plain");
  const auto big_sent = make_record();
  client->async_send(key, std::move(big), record(big_sent));
  std::shared_ptr<RealTimeConnection> loaded;
  ASSERT_TRUE(run_until(io, [&] {
    for (const auto& c : pool->connections()) {
      if (c->pending_sends() == 1) loaded = c;
    }
    return loaded != nullptr;
  }));
  test::settle(io);
  ASSERT_EQ(big_sent->calls, 0) << "the peer was expected to stall a 16 MB write";
  ASSERT_EQ(loaded->pending_sends(), 1u);
  const auto other =
      pool->connections()[0] == loaded ? pool->connections()[1] : pool->connections()[0];

  for (int i = 0; i < 4; ++i) ASSERT_FALSE(send_and_wait(key, make_request("OPTIONS")));
  EXPECT_EQ(other->counters().messages_sent, 1u + 4u) << "sends went to the loaded connection";
  EXPECT_EQ(loaded->counters().messages_sent, 1u);
  client.reset();  // fails the stalled send before the peer goes away
}

TEST_F(Pool, SendsQueuedWhileConnectingAreAllDeliveredInOrder) {
  make_client();
  client->set_default_maximum_number_of_connections_per_pool(1);
  std::vector<std::string> call_ids;
  const auto outcomes = make_records(20);
  for (int i = 0; i < 20; ++i) {
    auto request = make_request("MESSAGE");
    call_ids.emplace_back(*request.header("Call-ID"));
    client->async_send(server_key(), std::move(request), record(outcomes[i]));
  }
  const auto pool = client->connection_pool(server_key());
  ASSERT_EQ(pool->count(), 1u);
  EXPECT_EQ(pool->connections()[0]->state(), ConnectionState::connecting);
  EXPECT_FALSE(pool->connections()[0]->is_connected());

  ASSERT_TRUE(run_until(io, [&] { return served.size() == 20; }));
  drain(io);
  std::vector<std::string> arrived;
  for (const auto& m : served) arrived.emplace_back(*m.header("Call-ID"));
  EXPECT_EQ(arrived, call_ids) << "one connection must keep the order of its sends";
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(outcomes[i]->calls, 1) << i;
    EXPECT_FALSE(outcomes[i]->ec) << i;
  }
  EXPECT_EQ(pool->connections()[0]->counters().messages_sent, 20u);
}

TEST_F(Pool, IsRemovedAfterItsLastConnectionCloses) {
  make_client();
  std::vector<std::string> events;
  auto added = client->connection_pool_added.subscribe(
      [&](const ConnectionPoolEventArgs&) { events.push_back("pool added"); });
  auto removed = client->connection_pool_removed.subscribe([&](const ConnectionPoolEventArgs& e) {
    events.push_back("pool removed");
    EXPECT_TRUE(e.item->is_removed());
    EXPECT_EQ(e.item->count(), 0u);
  });
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  const auto pool = client->connection_pool(server_key());
  const auto connection = pool->connections().at(0);

  connection->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return events.size() == 2; }));
  EXPECT_EQ(events, (std::vector<std::string>{"pool added", "pool removed"}));
  EXPECT_EQ(connection->close_reason(), errc::connection_closed);
  EXPECT_TRUE(pool->is_removed());
  EXPECT_TRUE(client->connection_pools().empty());

  // The removed pool refuses work; the manager makes a new pool for the same key.
  const auto stale = make_record();
  pool->async_send(make_request("OPTIONS"), record(stale));
  ASSERT_TRUE(run_until(io, [&] { return stale->calls > 0; }));
  EXPECT_EQ(stale->ec, errc::pool_removed);
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  ASSERT_EQ(client->connection_pools().size(), 1u);
  EXPECT_NE(client->connection_pools()[0], pool);
  drain(io);
  EXPECT_EQ(events.back(), "pool added");
}

TEST_F(Pool, IsRemovedWhenThePeerClosesItsConnections) {
  make_client();
  client->set_default_maximum_number_of_connections_per_pool(2);
  const auto outcomes = send_burst(server_key(), 2);
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 2; }));
  const auto pool = client->connection_pool(server_key());
  std::vector<std::error_code> reasons;
  auto sub = pool->connection_removed.subscribe(
      [&](const ConnectionEventArgs& e) { reasons.push_back(e.reason); });
  bool pool_removed = false;
  auto pool_sub = client->connection_pool_removed.subscribe(
      [&](const ConnectionPoolEventArgs& e) { pool_removed = e.item == pool; });

  server->incoming_connections().at(0)->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return reasons.size() == 1; }));
  test::settle(io);
  EXPECT_FALSE(pool_removed) << "one connection is left";
  EXPECT_EQ(pool->count(), 1u);
  EXPECT_EQ(reasons[0], errc::peer_closed);

  server->incoming_connections().at(0)->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return pool_removed; }));
  EXPECT_EQ(reasons.size(), 2u);
}

TEST_F(Pool, TwoHostNamesOfOneAddressMakeTwoPools) {
  make_client();
  const PoolKey by_address{"127.0.0.1", server->listening_port(), TransportType::Tcp, {}};
  const PoolKey by_name{"localhost", server->listening_port(), TransportType::Tcp, {}};
  ASSERT_FALSE(send_and_wait(by_address, make_request("OPTIONS")));
  ASSERT_FALSE(send_and_wait(by_name, make_request("OPTIONS")));
  const auto pools = client->connection_pools();
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_NE(client->connection_pool(by_address), client->connection_pool(by_name));
  EXPECT_EQ(client->connection_pool(by_name)->host_name(), "localhost");
  EXPECT_EQ(client->connection_pool(by_address)->count(), 1u);
  EXPECT_EQ(client->connection_pool(by_name)->count(), 1u);
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 2; }));
}

TEST_F(Pool, IncomingConnectionsBelongToNoPool) {
  make_client();
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
  const auto incoming = server->incoming_connections()[0];
  const auto pool = client->connection_pool(server_key());
  const auto outgoing = pool->connections().at(0);

  EXPECT_TRUE(incoming->is_incoming_connection());
  EXPECT_EQ(incoming->connection_pool(), nullptr);
  EXPECT_FALSE(outgoing->is_incoming_connection());
  EXPECT_EQ(outgoing->connection_pool(), pool);
  EXPECT_EQ(incoming->transport(), TransportType::Tcp);
  EXPECT_EQ(outgoing->transport(), TransportType::Tcp);
  // The two ends of one TCP connection.
  EXPECT_EQ(outgoing->remote_endpoint(), server_address());
  EXPECT_EQ(incoming->local_endpoint(), server_address());
  EXPECT_EQ(incoming->remote_endpoint(), outgoing->local_endpoint());
  EXPECT_NE(incoming->id(), outgoing->id());
  EXPECT_EQ(server->connection_pools().size(), 0u) << "accepting made no pool on the server";
}

TEST_F(Pool, UnreachablePortFailsEveryQueuedSendOnceAndRemovesThePool) {
  make_client();
  const PoolKey key{"127.0.0.1", unused_loopback_port(io), TransportType::Tcp, {}};
  std::vector<std::string> events;
  auto pool_removed = client->connection_pool_removed.subscribe(
      [&](const ConnectionPoolEventArgs&) { events.push_back("pool removed"); });
  const auto pool = client->connection_pool(key);
  pool->set_maximum_number_of_connections(2);
  auto removed = pool->connection_removed.subscribe([&](const ConnectionEventArgs& e) {
    events.push_back("connection removed");
    EXPECT_EQ(e.reason, condition::connection_lost) << e.reason.message();
  });

  const auto outcomes = send_burst(key, 6);
  EXPECT_EQ(pool->count(), 2u);
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes) && events.size() == 3; }));
  test::settle(io);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(outcomes[i]->calls, 1) << "send " << i;
    // Asio 1.22's own system category does not map to std::errc (see listening_test.cpp), so
    // compare with Asio's value.
    EXPECT_EQ(outcomes[i]->ec, asio::error::connection_refused) << outcomes[i]->ec.message();
    EXPECT_EQ(outcomes[i]->ec, condition::connection_lost);
  }
  EXPECT_EQ(events,
            (std::vector<std::string>{"connection removed", "connection removed", "pool removed"}));
  EXPECT_TRUE(pool->is_removed());
  EXPECT_TRUE(client->connection_pools().empty());
}

TEST_F(Pool, SendThroughThePoolObjectItself) {
  make_client();
  const auto pool = client->connection_pool(server_key());
  EXPECT_EQ(pool->count(), 0u) << "a pool opens nothing until asked to send";
  const auto outcome = make_record();
  pool->async_send(make_request("OPTIONS"), record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls > 0 && served.size() == 1; }));
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_FALSE(outcome->ec);
  EXPECT_EQ(pool->count(), 1u);
}

}  // namespace
}  // namespace rtconn::test
