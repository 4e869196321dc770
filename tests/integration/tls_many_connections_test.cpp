// Many TLS connections at once from one client manager: a pool allowed 200 connections opens 200
// for 200 requests in flight together, and every one is answered.
#include <gtest/gtest.h>

#include <set>

#include "tls_test_support.hpp"

namespace rtconn::test {
namespace {

class TlsManyConnectionsTest : public TlsTest {};

TEST_F(TlsManyConnectionsTest, TwoHundredConcurrentConnectionsAreAllAnswered) {
  constexpr int connections = 200;
  auto server = start_localhost_server();
  int added = 0;
  server->incoming_connection_added += [&added](const ConnectionEventArgs&) { ++added; };
  auto options = client_options();
  options.default_maximum_number_of_connections_per_pool = connections;
  auto client = make_client(options);
  const auto key = tls_key("localhost", server->listening_port());

  // All started before the io_context runs at all: 200 requests in flight at once, each of
  // which opens a connection of its own while the pool is below its cap.
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < connections; ++i) {
    outcomes.push_back(start_request(*client, key, make_request("OPTIONS", "sip:localhost")));
  }
  const auto pool = client->connection_pool(key);
  EXPECT_EQ(pool->count(), static_cast<std::size_t>(connections));
  const auto all_done = [&] {
    for (const auto& outcome : outcomes)
      if (!outcome->done()) return false;
    return true;
  };
  ASSERT_TRUE(run_until(io_, all_done, 60s));

  int answered = 0;
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome->completions, 1);
    if (!outcome->ec && outcome->response && outcome->response->status_code() == 200) ++answered;
  }
  EXPECT_EQ(answered, connections);
  EXPECT_TRUE(failures_->events.empty());

  // 200 distinct connections, all up, on both sides.
  EXPECT_EQ(pool->count(), static_cast<std::size_t>(connections));
  std::set<std::uint64_t> ids;
  for (const auto& connection : pool->connections()) {
    EXPECT_TRUE(connection->is_connected());
    ids.insert(connection->id());
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(connections));
  ASSERT_TRUE(run_until(io_, [&] { return added == connections; }));
  EXPECT_EQ(server->incoming_connections().size(), static_cast<std::size_t>(connections));

  // A second wave goes over the connections already there: the pool is full and stays so.
  std::vector<std::shared_ptr<Outcome>> second;
  for (int i = 0; i < connections; ++i) {
    second.push_back(start_request(*client, key, make_request("OPTIONS", "sip:localhost")));
  }
  ASSERT_TRUE(run_until(
      io_,
      [&] {
        for (const auto& outcome : second)
          if (!outcome->done()) return false;
        return true;
      },
      60s));
  for (const auto& outcome : second) EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(pool->count(), static_cast<std::size_t>(connections));
  EXPECT_EQ(added, connections);
}

}  // namespace
}  // namespace rtconn::test
