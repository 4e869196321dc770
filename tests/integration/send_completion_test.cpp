// Every send completes exactly once, whatever the completion token (callback, future,
// coroutine) and whatever happens to it (written, refused for a full queue, failed by stop()).

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include "loopback.hpp"
#include "rtconn/manual_clock.hpp"

namespace rtconn::test {
namespace {

class SendCompletion : public Loopback {
 protected:
  void SetUp() override {
    start_server();
    answer_everything();
    make_client();
  }

  // Each completed exactly once, with `expected` (success when empty).
  static void expect_each_completed_once(const std::vector<CompletionRecordPtr>& outcomes,
                                         std::error_code expected = {}) {
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      EXPECT_EQ(outcomes[i]->calls, 1) << i;
      EXPECT_EQ(outcomes[i]->ec, expected) << i << ": " << outcomes[i]->ec.message();
    }
  }

  struct Stalled {
    std::vector<CompletionRecordPtr> outcomes;  // the stalled message's first
    std::shared_ptr<RealTimeConnection> connection;
  };
  // Over one connection to `peer`, which never reads: a 16 MB message that stalls in the
  // socket, then `behind` OPTIONS queued after it.
  Stalled stall_behind_huge_message(const SilentPeer& peer, int behind) {
    const auto key = key_for(peer.endpoint());
    client->connection_pool(key)->set_maximum_number_of_connections(1);
    Stalled stalled{make_records(1 + behind), nullptr};
    client->async_send(key, huge_message(), record(stalled.outcomes[0]));
    stalled.connection = client->connection_pool(key)->connections().at(0);
    EXPECT_TRUE(run_until(io, [&] { return stalled.connection->is_connected(); }));
    for (int i = 1; i <= behind; ++i) {
      client->async_send(key, make_request("OPTIONS"), record(stalled.outcomes[i]));
    }
    return stalled;
  }

  // A message large enough to stall on a peer that does not read (see SilentPeer).
  static SipMessage huge_message() {
    auto m = make_request("MESSAGE");
    m.set_body(std::string(16 * 1024 * 1024, 'x'), "text/plain");
    return m;
  }

  // A server with a 64 KB write queue and the wait action, keeping its requests; `peer` connects
  // (with `receive_buffer` set, when given) and sends one OPTIONS, which lands in `kept`.
  void keep_a_request_from(asio::ip::tcp::socket& peer, std::optional<int> receive_buffer = {}) {
    ConnectionManagerOptions o;
    o.max_write_queue_bytes = 64 * 1024;
    o.write_queue_full_action = WriteQueueFullAction::wait;
    start_server(o);
    keep_requests();
    peer.open(asio::ip::tcp::v4());
    if (receive_buffer) peer.set_option(asio::socket_base::receive_buffer_size(*receive_buffer));
    peer.connect({server_address().address(), server_address().port()});
    std::string request;
    make_request("OPTIONS").serialize_to(request);
    asio::write(peer, asio::buffer(request));
    ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
  }
};

TEST_F(SendCompletion, CallbackIsCalledExactlyOnceOnTheIoThread) {
  const auto outcome = make_record();
  auto thread = std::make_shared<std::thread::id>();
  client->async_send(server_key(), make_request("OPTIONS"), [outcome, thread](std::error_code ec) {
    record(outcome)(ec);
    *thread = std::this_thread::get_id();
  });
  EXPECT_EQ(outcome->calls, 0) << "completion must not run inside the initiating call";
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls > 0 && served.size() == 1; }));
  settle(io);
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(*thread, std::this_thread::get_id());
}

TEST_F(SendCompletion, CompletionRunsOnTheTokensAssociatedExecutor) {
  auto strand = asio::make_strand(io);
  const auto outcome = make_record();
  auto on_strand = std::make_shared<bool>(false);
  client->async_send(server_key(), make_request("OPTIONS"),
                     asio::bind_executor(strand, [outcome, on_strand, strand](std::error_code ec) {
                       record(outcome)(ec);
                       *on_strand = strand.running_in_this_thread();
                     }));
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls == 1; }));
  EXPECT_TRUE(*on_strand);
}

TEST_F(SendCompletion, UseFutureCompletesOnce) {
  auto sent = client->async_send(server_key(), make_request("OPTIONS"), asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return sent.wait_for(0s) == std::future_status::ready; }));
  EXPECT_NO_THROW(sent.get());

  // A failure arrives as the exception the future holds.
  const PoolKey nowhere{"127.0.0.1", unused_loopback_port(io), TransportType::Tcp, {}};
  auto refused = client->async_send(nowhere, make_request("OPTIONS"), asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return refused.wait_for(0s) == std::future_status::ready; }));
  try {
    refused.get();
    FAIL() << "a send to a closed port succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), condition::connection_lost) << e.code().message();
  }

  // async_request's future carries the response.
  auto answered = client->async_request(server_key(), make_request("OPTIONS"), asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return answered.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(answered.get().status_code(), 200);
}

// What a coroutine saw, shared with it so the coroutine never refers to the test's stack.
struct CoroutineState {
  int resumed = 0;
  int status = 0;
  std::error_code caught;
  std::exception_ptr failure;
  bool finished = false;
};

TEST_F(SendCompletion, UseAwaitableCompletesOnceInACoroutine) {
  const auto state = std::make_shared<CoroutineState>();
  auto* manager = client.get();
  const auto key = server_key();
  asio::co_spawn(
      io,
      [state, manager, key]() -> asio::awaitable<void> {
        co_await manager->async_send(key, make_request("OPTIONS"), asio::use_awaitable);
        ++state->resumed;
        const auto pool = manager->connection_pool(key);
        co_await pool->async_send(make_request("OPTIONS"), asio::use_awaitable);
        ++state->resumed;
        const auto connection = pool->connections().at(0);
        co_await connection->async_send(make_request("OPTIONS"), asio::use_awaitable);
        ++state->resumed;
        const auto response =
            co_await manager->async_request(key, make_request("OPTIONS"), asio::use_awaitable);
        ++state->resumed;
        state->status = response.status_code();
      },
      [state](std::exception_ptr e) {
        state->failure = e;
        state->finished = true;
      });
  ASSERT_TRUE(run_until(io, [&] { return state->finished; }));
  EXPECT_FALSE(state->failure);
  EXPECT_EQ(state->resumed, 4);
  EXPECT_EQ(state->status, 200);
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 4; }));
}

TEST_F(SendCompletion, UseAwaitableThrowsTheSendError) {
  const PoolKey nowhere{"127.0.0.1", unused_loopback_port(io), TransportType::Tcp, {}};
  const auto state = std::make_shared<CoroutineState>();
  auto* manager = client.get();
  asio::co_spawn(
      io,
      [state, manager, nowhere]() -> asio::awaitable<void> {
        try {
          co_await manager->async_send(nowhere, make_request("OPTIONS"), asio::use_awaitable);
          ++state->resumed;
        } catch (const std::system_error& e) {
          state->caught = e.code();
        }
        state->finished = true;
      },
      asio::detached);
  ASSERT_TRUE(run_until(io, [&] { return state->finished; }));
  EXPECT_EQ(state->resumed, 0);
  EXPECT_EQ(state->caught, condition::connection_lost) << state->caught.message();
}

TEST_F(SendCompletion, FullWriteQueueRefusesTheSendOnce) {
  SilentPeer peer(io);
  ConnectionManagerOptions o;
  o.max_write_queue_bytes = 64 * 1024;
  const auto clock = std::make_shared<ManualClock>();
  o.clock = clock;
  make_client(o);
  const auto key = key_for(peer.endpoint());

  // One message larger than the whole limit still goes when the queue is empty ...
  const auto big = make_record();
  client->async_send(key, huge_message(), record(big));
  const auto pool = client->connection_pool(key);
  pool->set_maximum_number_of_connections(1);
  const auto connection = pool->connections().at(0);
  ASSERT_TRUE(run_until(io, [&] { return connection->is_connected(); }));
  settle(io);
  ASSERT_EQ(big->calls, 0) << "the peer was expected to stall a 16 MB write";

  // ... but nothing more fits behind it.
  const auto small = make_record();
  client->async_send(key, make_request("OPTIONS"), record(small));
  ASSERT_TRUE(run_until(io, [&] { return small->calls > 0; }));
  settle(io);
  EXPECT_EQ(small->calls, 1);
  EXPECT_EQ(small->ec, errc::write_queue_full);
  EXPECT_EQ(small->ec, condition::resource_limit);
  EXPECT_TRUE(connection->is_connected()) << "a full queue is no reason to close";
  EXPECT_EQ(connection->pending_sends(), 1u);

  client->stop();
  settle(io);
  clock->advance(o.shutdown_timeout);  // the stalled write cannot drain
  ASSERT_TRUE(run_until(io, [&] { return big->calls > 0; }));
  settle(io);
  EXPECT_EQ(big->calls, 1);
  EXPECT_EQ(big->ec, errc::shutdown);
}

TEST_F(SendCompletion, StopFailsWhatTheShutdownDeadlineLeavesUnwritten) {
  SilentPeer peer(io);
  ConnectionManagerOptions o;
  o.max_write_queue_bytes = 64 * 1024 * 1024;  // room behind the stalled 16 MB
  const auto clock = std::make_shared<ManualClock>();
  o.clock = clock;
  make_client(o);
  const auto stalled = stall_behind_huge_message(peer, 3);
  const auto& outcomes = stalled.outcomes;
  const auto& connection = stalled.connection;
  ASSERT_TRUE(run_until(io, [&] { return connection->pending_sends() == 4; }))
      << connection->pending_sends();
  for (const auto& outcome : outcomes) EXPECT_EQ(outcome->calls, 0);

  client->stop();
  settle(io);
  for (const auto& outcome : outcomes) EXPECT_EQ(outcome->calls, 0) << "failed before the deadline";
  EXPECT_EQ(connection->state(), ConnectionState::draining);
  EXPECT_EQ(client->connection_pools().size(), 1u) << "a pool stays while its connection drains";

  clock->advance(o.shutdown_timeout);
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  settle(io);
  EXPECT_TRUE(client->connection_pools().empty());
  expect_each_completed_once(outcomes, errc::shutdown);
  EXPECT_EQ(connection->state(), ConnectionState::closed);
  EXPECT_EQ(connection->close_reason(), errc::shutdown);
}

TEST_F(SendCompletion, StopWritesWhatWasAlreadyAcceptedThenCloses) {
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));  // one connection is up; four more
  // are made for the sends below (the pool's cap is 5): they drain too, once connected.
  const auto outcomes = make_records(100);
  for (const auto& o : outcomes)
    client->async_send(server_key(), make_request("MESSAGE"), record(o));
  client->stop();
  EXPECT_EQ(send_and_wait(make_request("OPTIONS")), errc::shutdown) << "nothing new after stop";
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  expect_each_completed_once(outcomes);
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 101; }));
  ASSERT_TRUE(run_until(io, [&] { return client->connection_pools().empty(); }));
}

TEST_F(SendCompletion, DestroyingAManagerOnItsOwnLoopFirstWritesWhatItAccepted) {
  std::atomic<int> received{0};
  server->set_request_handler([&received](IncomingRequest& request) {
    ++received;
    request.respond(200);
    return true;
  });
  auto guard = asio::make_work_guard(io);
  std::thread server_thread([this] { io.run(); });
  std::atomic<int> written{0};
  std::atomic<int> failed{0};
  constexpr int count = 200;
  {
    RealTimeClientConnectionManager own;  // runs its own event loop
    own.async_send(server_key(), make_request("OPTIONS"), asio::use_future).get();
    for (int i = 0; i < count; ++i) {
      own.async_send(server_key(), make_request("MESSAGE"),
                     [&](std::error_code ec) { ++(ec ? failed : written); });
    }
  }  // the destructor drains, then ends the loop: every completion has run by now
  EXPECT_EQ(written.load(), count);
  EXPECT_EQ(failed.load(), 0);
  for (int i = 0; i < 500 && received.load() < count + 1; ++i) std::this_thread::sleep_for(10ms);
  guard.reset();
  io.stop();
  server_thread.join();
  EXPECT_EQ(received.load(), count + 1);
}

TEST_F(SendCompletion, StopStillWritesTheAnswersToRequestsTheApplicationHolds) {
  keep_requests();
  RawClient peer(io, server_address());
  peer.send(make_request("OPTIONS"));
  ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
  const auto connection = server->incoming_connections().at(0);

  server->stop();
  peer.send(make_request("OPTIONS"));  // arrives while draining: refused, not taken on
  ASSERT_TRUE(run_until(io, [&] { return peer.message_count() == 1; }));
  EXPECT_EQ(peer.wire().messages[0].status_code(), 503);
  // Without Retry-After a 503 counts as a 500 (RFC 3261 21.5.4); here, the drain's time left.
  const auto retry_after = peer.wire().messages[0].header("Retry-After");
  ASSERT_TRUE(retry_after.has_value());
  const int seconds = std::stoi(std::string(*retry_after));
  EXPECT_TRUE(seconds >= 1 && seconds <= 5) << seconds;  // 5 s shutdown_timeout, less what passed
  EXPECT_FALSE(peer.peer_closed()) << "closed with a request still unanswered";
  EXPECT_EQ(connection->state(), ConnectionState::draining);

  kept->respond(200);
  ASSERT_TRUE(run_until(io, [&] { return peer.peer_closed(); }));
  ASSERT_EQ(peer.message_count(), 2u) << "the answer comes before the end, nothing after it";
  EXPECT_EQ(peer.wire().messages[1].status_code(), 200);
  peer.close();  // the peer ends its side too: the drain is over
  ASSERT_TRUE(run_until(io, [&] { return connection->state() == ConnectionState::closed; }));
  EXPECT_EQ(connection->close_reason(), errc::shutdown);
}

TEST_F(SendCompletion, WithTheWaitActionAFullQueueHoldsSendsUntilTheConnectionCloses) {
  SilentPeer peer(io);
  ConnectionManagerOptions o;
  o.max_write_queue_bytes = 64 * 1024;
  o.write_queue_full_action = WriteQueueFullAction::wait;
  make_client(o);
  const auto stalled = stall_behind_huge_message(peer, 3);
  const auto& outcomes = stalled.outcomes;
  const auto& connection = stalled.connection;
  settle(io);
  for (const auto& outcome : outcomes) EXPECT_EQ(outcome->calls, 0) << "a send failed or finished";
  EXPECT_EQ(connection->pending_sends(), 4u);

  connection->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  settle(io);
  expect_each_completed_once(outcomes, errc::connection_closed);
  EXPECT_EQ(connection->pending_sends(), 0u);
}

TEST_F(SendCompletion, WithTheWaitActionRespondStillRefusesAnAnswerThatFindsTheQueueFull) {
  // A peer that sends a request and never reads (a small fixed receive buffer, as SilentPeer's).
  asio::ip::tcp::socket peer(io);
  keep_a_request_from(peer, 8192);
  const auto connection = kept->connection();
  const auto stalled = make_record();
  connection->async_send(huge_message(), record(stalled));
  settle(io);
  ASSERT_EQ(stalled->calls, 0) << "the peer was expected to stall a 16 MB write";

  kept->respond(200);
  settle(io);
  EXPECT_EQ(connection->pending_sends(), 1u) << "the answer was held behind the stalled write";
  EXPECT_TRUE(connection->is_connected());
  // async_respond, which has a completion to pace by, waits as configured.
  const auto waiting = make_record();
  kept->async_respond(kept->make_response(200), record(waiting));
  settle(io);
  EXPECT_EQ(waiting->calls, 0);
  EXPECT_EQ(connection->pending_sends(), 2u);

  connection->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return stalled->calls > 0 && waiting->calls > 0; }));
  EXPECT_EQ(waiting->ec, errc::connection_closed);
}

TEST_F(SendCompletion, RespondKeepsItsPlaceBehindASendThatWaits) {
  // A peer that reads everything, in the test's io_context.
  asio::ip::tcp::socket peer(io);
  keep_a_request_from(peer);
  std::string received;
  std::array<char, 65536> chunk;
  std::function<void(std::error_code, std::size_t)> on_read = [&](std::error_code ec,
                                                                  std::size_t n) {
    received.append(chunk.data(), n);
    if (!ec) peer.async_read_some(asio::buffer(chunk), on_read);
  };
  peer.async_read_some(asio::buffer(chunk), on_read);

  // A 1 MB message fills the queue; the send after it waits for room, and the answer after
  // that keeps its place behind it rather than being refused.
  const auto connection = kept->connection();
  auto big = make_request("MESSAGE");
  big.set_body(std::string(1024 * 1024, 'x'), "text/plain");
  auto behind = make_request("OPTIONS");
  const std::string behind_call_id(*behind.header("Call-ID"));
  const auto outcomes = make_records(2);
  connection->async_send(std::move(big), record(outcomes[0]));
  connection->async_send(std::move(behind), record(outcomes[1]));
  kept->respond(200);
  ASSERT_TRUE(run_until(io, [&] {
    return all_completed(outcomes) && received.find("SIP/2.0 200") != std::string::npos;
  }));
  expect_each_completed_once(outcomes);
  EXPECT_LT(received.find(behind_call_id), received.find("SIP/2.0 200"));
  EXPECT_EQ(connection->pending_sends(), 0u);
  peer.close();
  drain(io);  // the read's last completion, while what it refers to still stands
}

TEST_F(SendCompletion, WaitingSendsGoOutInOrderAsTheQueueEmpties) {
  ConnectionManagerOptions o;
  o.max_write_queue_bytes = 1;  // every message behind the first waits for it
  o.write_queue_full_action = WriteQueueFullAction::wait;
  make_client(o);
  client->connection_pool(server_key())->set_maximum_number_of_connections(1);
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  const auto outcomes = make_records(50);
  std::vector<std::string> call_ids;
  for (const auto& outcome : outcomes) {
    auto message = make_request("MESSAGE");
    call_ids.push_back(std::string(*message.header("Call-ID")));
    client->async_send(server_key(), std::move(message), record(outcome));
  }
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes) && served.size() == 51; }));
  for (const auto& outcome : outcomes) EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  for (std::size_t i = 0; i < call_ids.size(); ++i) {
    EXPECT_EQ(*served[i + 1].header("Call-ID"), call_ids[i]) << i;
  }
}

TEST_F(SendCompletion, StopDeliversSendsWaitingForTheConnection) {
  const auto outcomes = make_records(3);
  client->connection_pool(server_key())->set_maximum_number_of_connections(1);
  for (const auto& o : outcomes)
    client->async_send(server_key(), make_request("OPTIONS"), record(o));
  client->stop();  // before the io_context ever ran: the connection is still being made
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  expect_each_completed_once(outcomes);
  ASSERT_TRUE(run_until(io, [&] { return served.size() == 3; }));
  ASSERT_TRUE(run_until(io, [&] { return client->connection_pools().empty(); }));
}

TEST_F(SendCompletion, StopWithoutShutdownTimeFailsSendsWaitingForTheConnection) {
  ConnectionManagerOptions o;
  o.shutdown_timeout = 0ms;
  make_client(o);
  const auto outcomes = make_records(3);
  client->connection_pool(server_key())->set_maximum_number_of_connections(1);
  for (const auto& outcome : outcomes)
    client->async_send(server_key(), make_request("OPTIONS"), record(outcome));
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  settle(io);
  expect_each_completed_once(outcomes, errc::shutdown);
  EXPECT_TRUE(served.empty());
  EXPECT_TRUE(client->connection_pools().empty());
}

TEST_F(SendCompletion, SendsAfterStopFailWithShutdown) {
  ASSERT_FALSE(send_and_wait(make_request("OPTIONS")));
  client->stop();
  client->stop();  // idempotent
  EXPECT_EQ(send_and_wait(make_request("OPTIONS")), errc::shutdown);
  const auto answer = request_and_wait(make_request("OPTIONS"));
  EXPECT_EQ(answer.ec, errc::shutdown);
}

TEST_F(SendCompletion, StopFailsOutstandingRequestsWithShutdown) {
  keep_requests();
  const auto outcome = make_record();
  client->async_request(server_key(), make_request("OPTIONS"), record_response(outcome));
  ASSERT_TRUE(run_until(io, [&] { return kept.has_value(); }));
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls > 0; }));
  settle(io);
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_EQ(outcome->ec, errc::shutdown);
}

TEST_F(SendCompletion, DisconnectFailsQueuedSendsWithConnectionClosed) {
  SilentPeer peer(io);
  ConnectionManagerOptions o;
  o.max_write_queue_bytes = 64 * 1024 * 1024;
  make_client(o);
  const auto stalled = stall_behind_huge_message(peer, 1);
  const auto& outcomes = stalled.outcomes;
  const auto& connection = stalled.connection;
  ASSERT_TRUE(run_until(io, [&] { return connection->pending_sends() == 2; }))
      << connection->pending_sends();
  connection->disconnect();
  ASSERT_TRUE(run_until(io, [&] { return all_completed(outcomes); }));
  settle(io);
  expect_each_completed_once(outcomes, errc::connection_closed);
  connection->disconnect();  // no-op once closed
  // A send on the closed connection fails at once, once.
  const auto late = make_record();
  connection->async_send(make_request("OPTIONS"), record(late));
  ASSERT_TRUE(run_until(io, [&] { return late->calls > 0; }));
  settle(io);
  EXPECT_EQ(late->calls, 1);
  EXPECT_EQ(late->ec, condition::connection_lost) << late->ec.message();
}

TEST_F(SendCompletion, ManyConcurrentSendersEachCompleteOnce) {
  // Sends from several threads at once while the io_context runs here.
  client->connection_pool(server_key())->set_maximum_number_of_connections(3);
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  struct Counts {
    std::atomic<int> completions{0};
    std::atomic<int> failures{0};
  };
  const auto counts = std::make_shared<Counts>();
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        client->async_send(server_key(), make_request("OPTIONS"), [counts](std::error_code ec) {
          counts->completions.fetch_add(1);
          if (ec) counts->failures.fetch_add(1);
        });
      }
    });
  }
  for (auto& sender : senders) sender.join();
  ASSERT_TRUE(run_until(
      io, [&] { return served.size() == threads * per_thread; }, 20s));
  ASSERT_TRUE(run_until(io, [&] { return counts->completions.load() == threads * per_thread; }));
  settle(io);
  EXPECT_EQ(counts->completions.load(), threads * per_thread);
  EXPECT_EQ(counts->failures.load(), 0);
  EXPECT_LE(client->connection_pool(server_key())->count(), 3u);
}

}  // namespace
}  // namespace rtconn::test
