// What the application still holds when a manager running its own loops is destroyed: its
// connections (outgoing and incoming), a claim on one, an unanswered request, a pool. Each must
// stay safe to use and to drop: the loops' threads are gone, so sends fail with a reason on a
// system thread, the rest does nothing, and every socket and timer is destroyed on a live (shut
// down) io_context. Run under ASan, a use after free here fails the test.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

#include <asio/use_future.hpp>

#include "../support/test_support.hpp"
#include "loopback.hpp"
#include "rtconn/connection_reference.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn::test {
namespace {

using namespace std::chrono_literals;

ConnectionManagerOptions own_loops() {
  ConnectionManagerOptions options;
  options.event_loop_threads = 2;
  options.shutdown_timeout = 200ms;  // the kept request is never answered before the stop
  return options;
}

TEST(OutlivingManager, HeldObjectsStaySafeOnceTheLoopsAreGone) {
  auto server = std::make_unique<RealTimeServerTcpConnectionManager>(own_loops());
  std::promise<IncomingRequest> arrived;
  server->set_request_handler([&arrived](IncomingRequest& request) {
    arrived.set_value(std::move(request));
    return true;
  });
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  auto client = std::make_unique<RealTimeClientConnectionManager>(own_loops());
  auto pool = client->connection_pool(key_for(server->listening_addresses().at(0)));

  std::error_code ec;
  auto outgoing = pool->select_connection(ec);
  ASSERT_TRUE(outgoing) << ec.message();
  auto claim = pool->acquire_connection(ec);
  ASSERT_TRUE(claim) << ec.message();
  std::promise<std::error_code> sent;
  outgoing->async_send(make_request("OPTIONS"), [&sent](std::error_code e) { sent.set_value(e); });
  ASSERT_EQ(sent.get_future().get(), std::error_code());
  auto kept_future = arrived.get_future();
  ASSERT_EQ(kept_future.wait_for(10s), std::future_status::ready);
  std::optional<IncomingRequest> kept = kept_future.get();
  auto incoming = kept->connection();

  client.reset();
  server.reset();

  EXPECT_EQ(outgoing->state(), ConnectionState::closed);
  EXPECT_EQ(incoming->state(), ConnectionState::closed);
  EXPECT_EQ(pool->select_connection(ec), nullptr);
  EXPECT_EQ(ec, errc::pool_removed);

  // A send completes with why, and not inside the call that made it: on a thread of its own,
  // the connection's loop being gone.
  std::promise<std::pair<std::error_code, std::thread::id>> failed;
  outgoing->async_send(make_request("OPTIONS"), [&failed](std::error_code e) {
    failed.set_value({e, std::this_thread::get_id()});
  });
  auto failure = failed.get_future();
  ASSERT_EQ(failure.wait_for(10s), std::future_status::ready);
  const auto [reason, thread] = failure.get();
  EXPECT_TRUE(reason);
  EXPECT_NE(thread, std::this_thread::get_id());
  auto as_future = incoming->async_send(make_request("OPTIONS"), asio::use_future);
  ASSERT_EQ(as_future.wait_for(10s), std::future_status::ready);
  EXPECT_THROW(as_future.get(), std::system_error);

  // The rest does nothing, and says nothing is wrong.
  EXPECT_NO_THROW(outgoing->set_connection_timeout(5s));
  EXPECT_NO_THROW(outgoing->set_connection_throttling_marks(10, 5));
  outgoing->disconnect();
  kept->respond(200);  // the request's answer has nowhere to go: logged, not sent
  kept.reset();        // its transaction ends

  claim = {};
  outgoing.reset();
  incoming.reset();

  // The pool, the last holder: the loops are gone for good now.
  std::promise<std::error_code> refused;
  pool->async_send(make_request("OPTIONS"),
                   [&refused](std::error_code e) { refused.set_value(e); });
  auto refusal = refused.get_future();
  ASSERT_EQ(refusal.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(refusal.get(), errc::pool_removed);
  pool.reset();
}

// On the application's executor the connection lives on the application's io_context, as
// before: usable until that goes.
class OutlivingManagerOnApplicationExecutor : public Loopback {};

TEST_F(OutlivingManagerOnApplicationExecutor, HeldConnectionFailsSendsWithWhy) {
  start_server();
  answer_everything();
  make_client();
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  std::error_code ec;
  auto pool = client->connection_pool(server_key());
  auto connection = pool->select_connection(ec);
  ASSERT_TRUE(connection) << ec.message();

  client.reset();
  server.reset();
  drain(io);

  EXPECT_EQ(connection->state(), ConnectionState::closed);
  const auto outcome = make_record();
  connection->async_send(make_request("OPTIONS"), record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls > 0; }));
  EXPECT_EQ(outcome->ec, errc::shutdown);
  connection.reset();

  // A pool's send still completes on the application's executor, not on a thread of its own.
  std::atomic<std::thread::id> ran_on{};
  pool->async_send(make_request("OPTIONS"),
                   [&ran_on](std::error_code) { ran_on = std::this_thread::get_id(); });
  ASSERT_TRUE(run_until(io, [&] { return ran_on.load() != std::thread::id(); }));
  EXPECT_EQ(ran_on.load(), std::this_thread::get_id());
}

}  // namespace
}  // namespace rtconn::test
