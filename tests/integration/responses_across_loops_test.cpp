// Responses on managers with loops of their own (two threads each): async_request's table and
// the response handler used at once from both of the client's loops, over four connections. Each
// response must end up in exactly one place; under ThreadSanitizer (CI's tsan build) this is
// where the table's lock and the handler's hand-off meet real threads.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "../support/test_support.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn::test {
namespace {

constexpr int calls = 200;  // INVITEs with async_send, and as many OPTIONS with async_request

TEST(ResponsesAcrossLoops, EachResponseEndsUpInExactlyOnePlace) {
  // First: outlives the managers, whose destructors may still run a send's completion.
  std::mutex mutex;                       // guards what follows
  std::map<std::string, int> handed_out;  // Call-ID -> final responses handed out
  std::set<std::string> invites, completed;
  int provisional = 0;
  int failed = 0;
  int left = 2 * calls;  // finals handed out and requests completed still to come
  std::promise<void> all_done;
  const auto count_down = [&] {
    if (--left == 0) all_done.set_value();
  };

  ConnectionManagerOptions server_options;
  server_options.event_loop_threads = 2;
  RealTimeServerTcpConnectionManager server(server_options);
  server.set_request_handler([](IncomingRequest& request) {
    if (request.message().method() == "INVITE") request.respond(180);
    request.respond(200);
    return true;
  });
  server.start_listening(*IpEndpoint::parse("127.0.0.1:0"));

  ConnectionManagerOptions client_options;
  client_options.event_loop_threads = 2;
  client_options.default_maximum_number_of_connections_per_pool = 4;
  RealTimeClientConnectionManager client(client_options);

  client.set_response_handler(
      [&](SipMessage& response, const std::shared_ptr<RealTimeConnection>&) {
        std::lock_guard lock(mutex);
        if (response.status_code() < 200) {
          ++provisional;
          return;
        }
        if (++handed_out[std::string(*response.header("Call-ID"))] == 1) count_down();
      });

  const auto key = key_for({asio::ip::make_address("127.0.0.1"), server.listening_port()});
  for (int i = 0; i < calls; ++i) {
    auto invite = make_request("INVITE");
    {
      std::lock_guard lock(mutex);
      invites.emplace(*invite.header("Call-ID"));
    }
    client.async_send(key, std::move(invite), [&](std::error_code ec) {
      std::lock_guard lock(mutex);
      if (ec) ++failed;
    });
    auto options = make_request("OPTIONS");
    auto id = std::string(*options.header("Call-ID"));
    client.async_request(key, std::move(options),
                         [&, id = std::move(id)](std::error_code ec, const SipMessage& response) {
                           std::lock_guard lock(mutex);
                           if (ec || response.status_code() != 200) ++failed;
                           completed.insert(id);
                           count_down();
                         });
  }

  const bool done = all_done.get_future().wait_for(20s) == std::future_status::ready;
  client.set_response_handler({});
  server.set_request_handler({});
  std::lock_guard lock(mutex);
  ASSERT_TRUE(done) << left << " responses still to come";
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(provisional, calls) << "every 180 handed out";
  EXPECT_EQ(completed.size(), static_cast<std::size_t>(calls));
  for (const auto& [call_id, times] : handed_out) {
    EXPECT_EQ(times, 1) << call_id;
    EXPECT_TRUE(invites.contains(call_id)) << call_id << ": an OPTIONS' 200 was handed out too";
  }
  EXPECT_EQ(handed_out.size(), static_cast<std::size_t>(calls));
}

}  // namespace
}  // namespace rtconn::test
