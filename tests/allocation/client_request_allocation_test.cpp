// What async_request allocates per request once warm, when it is called from a handler on the
// client manager's own loop (a UA reacting to a message, a proxy forwarding one): every operator
// new on that loop's thread is counted while it sends a request, writes it, matches the answer
// and runs the completion, which sends the next. The requests are built beforehand, off the
// counted thread: building one is the application's cost, not the library's.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "../support/test_support.hpp"
#include "counting_allocator.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn {
namespace {

class ClientRequestAllocation : public testing::Test {
 protected:
  void SetUp() override {
    ConnectionManagerOptions server_options;
    server_options.event_loop_threads = 1;  // its own thread, not counted
    server_ = std::make_unique<RealTimeServerTcpConnectionManager>(server_options);
    server_->set_request_handler([](IncomingRequest& request) {
      request.respond(200);
      return true;
    });
    server_->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
    key_ = test::key_for(server_->listening_addresses().at(0));
    client_ = std::make_unique<RealTimeClientConnectionManager>(loop_.get_executor());
    thread_ = std::thread([this] {
      allocation::count_this_thread(true);
      loop_.run();
    });
  }

  void TearDown() override {
    std::atomic<bool> done{false};
    asio::post(loop_, [&] {
      client_.reset();
      done.store(true);
    });
    while (!done.load()) std::this_thread::yield();
    work_.reset();
    thread_.join();
    server_.reset();
  }

  /// Sends `count` requests one after another from the loop, each from the last one's
  /// completion, and returns the allocations the loop's thread made meanwhile.
  std::size_t allocations_for(int count) {
    requests_.clear();
    for (int i = 0; i < count; ++i) requests_.push_back(test::make_request("OPTIONS"));
    answered_ = 0;
    failed_ = 0;
    finished_.store(false);
    const auto before = allocation::allocations();
    asio::post(loop_, [this] { send(0); });
    while (!finished_.load()) std::this_thread::yield();
    return allocation::allocations() - before;
  }

  void send(std::size_t next) {
    if (next == requests_.size()) return finished_.store(true);
    client_->async_request(key_, std::move(requests_[next]),
                           [this, next](std::error_code ec, SipMessage) {
                             ec ? ++failed_ : ++answered_;
                             send(next + 1);
                           });
  }

  asio::io_context loop_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{loop_.get_executor()};
  std::unique_ptr<RealTimeServerTcpConnectionManager> server_;
  std::unique_ptr<RealTimeClientConnectionManager> client_;
  PoolKey key_;
  std::thread thread_;
  std::vector<SipMessage> requests_;
  int answered_ = 0;  // loop only
  int failed_ = 0;    // loop only
  std::atomic<bool> finished_{false};
};

TEST_F(ClientRequestAllocation, RequestsFromTheLoopAllocateNothingOnceWarm) {
  allocations_for(200);
  // Two runs compared: what a run costs once, whatever its length, drops out.
  const auto shorter = allocations_for(1000);
  const auto longer = allocations_for(3000);
  EXPECT_EQ(answered_, 3000);
  EXPECT_EQ(failed_, 0);
  // The request's Via (branch and all), its wire bytes, its two keys (the table's, and the one
  // its send's completion keeps to fail it if the send fails) and both completions
  // (async_request's, holding the handler and its executor; the send's) come from what the
  // requests before it gave back on this thread.
  EXPECT_LE(longer, shorter) << "2,000 more requests made " << longer - shorter << " more";
}

}  // namespace
}  // namespace rtconn
