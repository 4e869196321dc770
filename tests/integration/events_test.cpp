// The managers' events and their order: per connection "added" before "removed", removal with
// its reason, listening changes, pools before their connections and after them.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <asio/error.hpp>
#include <asio/use_future.hpp>

#include "loopback.hpp"
#include "rtconn/manual_clock.hpp"

namespace rtconn::test {
namespace {

// Records events as short strings; connection ids make "added #3" / "removed #3" comparable.
struct EventLog {
  std::vector<std::string> lines;
  std::vector<Subscription> subs;

  static std::string id(const std::shared_ptr<RealTimeConnection>& c) {
    return "#" + std::to_string(c->id());
  }

  void watch_incoming(RealTimeServerConnectionManager& m) {
    subs.push_back(m.incoming_connection_added.subscribe([this](const ConnectionEventArgs& e) {
      EXPECT_FALSE(e.reason) << "an added event carries no reason";
      lines.push_back("incoming added " + id(e.item));
    }));
    subs.push_back(m.incoming_connection_removed.subscribe([this](const ConnectionEventArgs& e) {
      lines.push_back("incoming removed " + id(e.item) + " " + e.reason.message());
    }));
  }
  void watch_listening(RealTimeServerConnectionManager& m) {
    subs.push_back(m.listening_addresses_changed.subscribe(
        [this](const ListeningAddressesChangedEventArgs& e) {
          std::string line = "addresses";
          for (const auto& a : e.addresses) line += " " + a.to_string();
          lines.push_back(line);
        }));
    subs.push_back(m.listening_aborted.subscribe([this](const ListeningAbortedEventArgs& e) {
      lines.push_back("aborted " + (e.error ? e.error.message() : std::string("(no error)")));
    }));
  }
  void watch_pools(RealTimeConnectionManager& m) {
    subs.push_back(m.connection_pool_added.subscribe([this](const ConnectionPoolEventArgs& e) {
      lines.push_back("pool added " + e.item->key().to_string());
      // Subscribing from inside the pool-added handler still sees the pool's first connection.
      watch_pool(*e.item);
    }));
    subs.push_back(m.connection_pool_removed.subscribe([this](const ConnectionPoolEventArgs& e) {
      lines.push_back("pool removed " + e.item->key().to_string());
    }));
  }
  void watch_pool(ConnectionPool& pool) {
    subs.push_back(pool.connection_added.subscribe([this](const ConnectionEventArgs& e) {
      EXPECT_FALSE(e.reason);
      lines.push_back("pool connection added " + id(e.item));
    }));
    subs.push_back(pool.connection_removed.subscribe([this](const ConnectionEventArgs& e) {
      lines.push_back("pool connection removed " + id(e.item) + " " + e.reason.message());
    }));
  }
};

std::string text(errc e) {
  return make_error_code(e).message();
}

class Events : public Loopback {
 protected:
  EventLog log;
  void SetUp() override {
    server = std::make_unique<RealTimeServerTcpConnectionManager>(io.get_executor());
    log.watch_incoming(*server);
    log.watch_listening(*server);
    server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
    answer_everything();
  }

  std::shared_ptr<RealTimeConnection> only_incoming() {
    EXPECT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
    const auto all = server->incoming_connections();
    return all.empty() ? nullptr : all[0];
  }
};

TEST_F(Events, IncomingAddedThenRemovedWithPeerClosedWhenTheClientCloses) {
  std::string id;
  {
    RawClient raw(io, server_address());
    const auto connection = only_incoming();
    ASSERT_TRUE(connection);
    id = EventLog::id(connection);
    ASSERT_TRUE(run_until(io, [&] { return log.lines.size() == 2; }));
  }  // the raw client closes its socket
  ASSERT_TRUE(run_until(io, [&] { return log.lines.size() == 3; }));
  EXPECT_EQ(log.lines, (std::vector<std::string>{
                           "addresses " + server_address().to_string(),
                           "incoming added " + id,
                           "incoming removed " + id + " " + text(errc::peer_closed),
                       }));
  EXPECT_TRUE(server->incoming_connections().empty());
}

TEST_F(Events, IncomingRemovedWithShutdownOnStopForEveryConnection) {
  RawClient first(io, server_address());
  RawClient second(io, server_address());
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 2; }));
  const auto connections = server->incoming_connections();
  server->stop();
  // The server ends its side and waits for ours (the shutdown drain), as a real peer does.
  ASSERT_TRUE(run_until(io, [&] { return first.peer_closed() && second.peer_closed(); }));
  first.close();
  second.close();
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().empty(); }));
  drain(io);
  for (const auto& c : connections) {
    const auto added =
        std::find(log.lines.begin(), log.lines.end(), "incoming added " + EventLog::id(c));
    const auto removed =
        std::find(log.lines.begin(), log.lines.end(),
                  "incoming removed " + EventLog::id(c) + " " + text(errc::shutdown));
    ASSERT_NE(added, log.lines.end()) << EventLog::id(c);
    ASSERT_NE(removed, log.lines.end()) << EventLog::id(c);
    EXPECT_LT(added, removed);
    EXPECT_EQ(c->close_reason(), errc::shutdown);
  }
  EXPECT_TRUE(server->incoming_connections().empty());
}

TEST_F(Events, ListeningAddressesChangedOnStartAndStopThenAbortedWithoutError) {
  const auto address = server_address();
  server->stop_listening();
  drain(io);
  EXPECT_EQ(log.lines, (std::vector<std::string>{
                           "addresses " + address.to_string(),
                           "addresses",  // the set is empty now
                           "aborted (no error)",
                       }));
  log.lines.clear();
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  drain(io);
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "addresses " + server_address().to_string());
}

TEST_F(Events, StopEndsListeningWithTheSameEventsAsStopListening) {
  const auto address = server_address();
  server->stop();
  drain(io);
  EXPECT_EQ(log.lines, (std::vector<std::string>{
                           "addresses " + address.to_string(),
                           "addresses",
                           "aborted (no error)",
                       }));
  EXPECT_FALSE(server->is_listening());
}

TEST_F(Events, StopListeningLeavesEstablishedConnectionsAlone) {
  RawClient raw(io, server_address());
  const auto connection = only_incoming();
  ASSERT_TRUE(connection);
  const auto address = server_address();
  server->stop_listening();
  drain(io);
  EXPECT_FALSE(server->is_listening());

  raw.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return raw.message_count() == 1; }));
  EXPECT_EQ(raw.wire().messages[0].status_code(), 200);
  EXPECT_TRUE(connection->is_connected());
  EXPECT_EQ(server->incoming_connections().size(), 1u);

  // Nothing accepts on the old address any more.
  asio::ip::tcp::socket late(io);
  std::error_code ec;
  late.connect({address.address(), address.port()}, ec);
  EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
}

TEST_F(Events, PoolEventsComeInLifeCycleOrder) {
  make_client();
  log.watch_pools(*client);
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  const auto pool = client->connection_pool(server_key());
  const auto connection = pool->connections().at(0);
  const auto id = EventLog::id(connection);
  connection->disconnect();
  ASSERT_TRUE(run_until(io, [&] {
    return std::count_if(log.lines.begin(), log.lines.end(),
                         [](const auto& l) { return l.starts_with("pool removed"); }) == 1;
  }));
  std::vector<std::string> pool_lines;
  for (const auto& l : log.lines) {
    if (l.starts_with("pool")) pool_lines.push_back(l);
  }
  const auto key = server_key().to_string();
  EXPECT_EQ(pool_lines, (std::vector<std::string>{
                            "pool added " + key,
                            "pool connection added " + id,
                            "pool connection removed " + id + " " + text(errc::connection_closed),
                            "pool removed " + key,
                        }));
}

TEST_F(Events, EveryConnectionAddedIsRemovedWithAReasonOnStop) {
  make_client();
  log.watch_pools(*client);
  client->set_default_maximum_number_of_connections_per_pool(3);
  for (int i = 0; i < 3; ++i) {
    client->async_send(server_key(), make_request("OPTIONS"), [](std::error_code) {});
  }
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 3; }));
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().empty(); }));
  drain(io);
  int added = 0;
  int removed_with_shutdown = 0;
  for (const auto& l : log.lines) {
    added += l.starts_with("pool connection added") ? 1 : 0;
    removed_with_shutdown +=
        l.starts_with("pool connection removed") && l.ends_with(text(errc::shutdown)) ? 1 : 0;
  }
  EXPECT_EQ(added, 3);
  EXPECT_EQ(removed_with_shutdown, 3);
  // The pool goes after the last of its connections.
  const auto last_connection =
      std::find_if(log.lines.rbegin(), log.lines.rend(),
                   [](const auto& l) { return l.starts_with("pool connection removed"); });
  const auto pool_removed = std::find_if(log.lines.rbegin(), log.lines.rend(), [](const auto& l) {
    return l.starts_with("pool removed");
  });
  ASSERT_NE(pool_removed, log.lines.rend());
  EXPECT_LT(pool_removed, last_connection);  // reverse iterators: later in the log is smaller
  EXPECT_TRUE(client->connection_pools().empty());
}

TEST_F(Events, HandlersRunOnTheManagersExecutor) {
  // The io_context runs only on this thread, so a handler elsewhere would show another id.
  std::vector<std::thread::id> threads;
  auto sub = server->incoming_connection_added.subscribe(
      [&](const ConnectionEventArgs&) { threads.push_back(std::this_thread::get_id()); });
  RawClient raw(io, server_address());
  ASSERT_TRUE(run_until(io, [&] { return threads.size() == 1; }));
  EXPECT_EQ(threads[0], std::this_thread::get_id());
}

TEST_F(Events, NoHandlerRunsAfterTheManagerIsDestroyed) {
  auto flag = std::make_shared<int>(0);
  // Subscriptions kept past the manager: destroying them later must be harmless, too.
  auto removed = server->incoming_connection_removed.subscribe(
      [flag](const ConnectionEventArgs&) { ++*flag; });
  auto changed = server->listening_addresses_changed.subscribe(
      [flag](const ListeningAddressesChangedEventArgs&) { ++*flag; });
  RawClient raw(io, server_address());
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
  drain(io);
  *flag = 0;
  server.reset();  // closes the connection: its "removed" would be raised after this returns
  ASSERT_TRUE(run_until(io, [&] { return raw.peer_closed(); }));
  settle(io);
  EXPECT_EQ(*flag, 0);
}

TEST_F(Events, NoPoolHandlerRunsAfterTheManagerIsDestroyed) {
  // On loops of its own, which run what is left on them as the destructor ends.
  ConnectionManagerOptions options;
  // The server, on io, is not run while the client drains, and the drain's own deadline is on a
  // clock that never moves: the destructor's wait runs out and it closes what is left.
  options.shutdown_timeout = 100ms;
  options.clock = std::make_shared<ManualClock>();
  auto own = std::make_unique<RealTimeClientConnectionManager>(options);
  auto sent = own->async_send(server_key(), make_request("OPTIONS"), asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 1; }));
  sent.get();
  const auto pool = own->connection_pool(server_key());  // kept past the manager
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto removed =
      pool->connection_removed.subscribe([calls](const ConnectionEventArgs&) { ++*calls; });
  own.reset();  // closes the pool's connection: its "removed" would be raised after this
  EXPECT_EQ(calls->load(), 0);
  // Taken out of the pool while the manager was still there: kept in it, the connection's timer
  // and socket would outlive their event loop (a use after free when the pool goes).
  EXPECT_EQ(pool->count(), 0u);
}

}  // namespace
}  // namespace rtconn::test
