// Answering a request allocates nothing once the loop's caches are warm: every operator new on
// the server's loop thread is counted while a client trades requests with it.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>

#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "counting_allocator.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn {
namespace {

std::string options_request(int n) {
  return "OPTIONS sip:rtconn@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-" +
         std::to_string(n) +
         "\r\n"
         "From: <sip:test@127.0.0.1>;tag=a1\r\n"
         "To: <sip:rtconn@127.0.0.1>\r\n"
         "Call-ID: call-" +
         std::to_string(n) +
         "@127.0.0.1\r\n"
         "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

// A server manager on a loop thread of its own (the counted one), answering every request 200,
// and a blocking client socket on the test's thread.
class SteadyStateAllocation : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RealTimeServerTcpConnectionManager>(loop_.get_executor());
    server_->set_request_handler([](IncomingRequest& request) {
      request.respond(200);
      return true;
    });
    server_->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
    thread_ = std::thread([this] {
      allocation::count_this_thread(true);
      loop_.run();
    });
    const auto address = server_->listening_addresses().at(0);
    client_.connect({address.address(), address.port()});
  }

  void TearDown() override {
    client_.close();
    on_loop([this] { server_.reset(); });
    work_.reset();
    thread_.join();
  }

  /// Runs `f` on the loop thread and waits for it.
  template <class F>
  void on_loop(F f) {
    std::atomic<bool> done{false};
    asio::post(loop_, [&] {
      f();
      done.store(true);
    });
    while (!done.load()) std::this_thread::yield();
  }

  /// Sends `count` requests, `batch` per write, and reads every answer.
  void trade(int count, int batch) {
    for (int sent = 0; sent < count; sent += batch) {
      std::string requests;
      for (int i = 0; i < batch; ++i) requests += options_request(sent + i);
      asio::write(client_, asio::buffer(requests));
      read_answers(batch);
    }
  }

  void read_answers(int count) {
    // Each answer ends in one blank line (Content-Length: 0); one may straddle two reads.
    std::string_view end = "\r\n\r\n";
    std::size_t matched = 0;
    char buffer[8192];
    while (count > 0) {
      const std::size_t n = client_.read_some(asio::buffer(buffer));
      for (std::size_t i = 0; i < n; ++i) {
        matched = buffer[i] == end[matched] ? matched + 1 : (buffer[i] == end[0] ? 1 : 0);
        if (matched == end.size()) {
          --count;
          matched = 0;
        }
      }
    }
  }

  // No handler is posted to the loop to mark the window's ends: its memory would land in Asio's
  // per-thread cache and displace a block the requests use. Each answer read means its request
  // was parsed and answered, which is where allocations would be.
  std::size_t allocations_while(int count, int batch) {
    const auto before = allocation::allocations();
    trade(count, batch);
    return allocation::allocations() - before;
  }

  asio::io_context loop_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{loop_.get_executor()};
  std::unique_ptr<RealTimeServerTcpConnectionManager> server_;
  std::thread thread_;
  asio::io_context client_context_;
  asio::ip::tcp::socket client_{client_context_};
};

TEST_F(SteadyStateAllocation, OneRequestAtATimeAllocatesNothingOnceWarm) {
  trade(200, 1);
  EXPECT_EQ(allocations_while(2000, 1), 0u);
}

TEST_F(SteadyStateAllocation, PipelinedRequestsAllocateNothingOnceWarm) {
  // Sixteen answers queue at once: the write queue grows past its idle size every time.
  trade(320, 16);
  EXPECT_EQ(allocations_while(3200, 16), 0u);
}

TEST_F(SteadyStateAllocation, DispatchByOwnerAllocatesNothingOnceWarm) {
  // The To's URI is looked up among the owners, by a key longer than a short string holds.
  std::atomic<int> owned{0};
  server_->set_request_handler("sip:rtconn@127.0.0.1", [&owned](IncomingRequest& request) {
    ++owned;
    request.respond(200);
    return true;
  });
  server_->set_request_handler("sip:someone-else@127.0.0.1",
                               [](IncomingRequest&) { return false; });
  trade(200, 1);
  EXPECT_EQ(allocations_while(2000, 1), 0u);
  EXPECT_EQ(owned.load(), 2200);
}

}  // namespace
}  // namespace rtconn
