// The table's part of what async_request costs: its request filed among those waiting
// (PendingRequests: the match key, the lock, the deadline heap) and its response matched there
// and completed, the completion posted and run as on the manager's executor. One thread, so the
// lock is never contended; the Via, the route and the handler's own executor are not in it.
// With others waiting (Arg), as under load; the request measured has the latest deadline, as
// with one request_timeout. Run: build/plain/bench/rtconn_micro_bench
// --benchmark_filter=PendingRequest
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>

#include "manager/pending_requests.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/sip_message.hpp"

namespace {

using namespace std::chrono_literals;

rtconn::SipMessage request_with_branch(const std::string& branch) {
  auto request = rtconn::SipMessage::request("OPTIONS", "sip:service@127.0.0.1:5060");
  request.add_header("Via", "SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK" + branch + ";rport");
  request.add_header("From", "<sip:bench@127.0.0.1>;tag=1");
  request.add_header("To", "<sip:service@127.0.0.1:5060>");
  request.add_header("Call-ID", branch + "@127.0.0.1");
  request.add_header("CSeq", "1 OPTIONS");
  return request;
}

void PendingRequestMatch(benchmark::State& state) {
  asio::io_context io{1};  // as the manager's own loops are made: one thread, no scheduler lock
  using rtconn::detail::PendingRequests;
  const auto pending =
      std::make_shared<PendingRequests>(io.get_executor(), rtconn::make_steady_clock());
  // Others waiting, filed earlier (so with earlier deadlines: the timer is not re-armed).
  for (int i = 0; i < state.range(0); ++i) {
    pending->add(PendingRequests::key_of(request_with_branch("other" + std::to_string(i))), 1, 32s,
                 [](std::error_code, rtconn::SipMessage) {});
  }
  const auto request = request_with_branch("measured");
  auto response = rtconn::SipMessage::response_to(request, 200);
  std::int64_t answered = 0;
  for (auto _ : state) {
    pending->add(PendingRequests::key_of(request), 1, 32s,
                 [&](std::error_code ec, rtconn::SipMessage back) {
                   answered += ec ? 0 : 1;
                   response = std::move(back);  // the same response again next time
                 });
    pending->on_response(response, 1);
    io.poll();
    io.restart();
  }
  if (answered != state.iterations()) state.SkipWithError("a response matched nothing");
  pending->fail_all(std::make_error_code(std::errc::operation_canceled));
  io.poll();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(PendingRequestMatch)->Arg(0)->Arg(1000);

// A connection that sent requests closes: its waiting requests fail (fail_connection), among
// Arg others waiting on other connections. Each round files ten on the closing connection, then
// closes it; the table's lock is held meanwhile, so every response matched elsewhere waits.
void PendingRequestsFailConnection(benchmark::State& state) {
  asio::io_context io{1};
  using rtconn::detail::PendingRequests;
  const auto pending =
      std::make_shared<PendingRequests>(io.get_executor(), rtconn::make_steady_clock());
  for (int i = 0; i < state.range(0); ++i) {
    pending->add(PendingRequests::key_of(request_with_branch("other" + std::to_string(i))),
                 2 + i % 100, 32s, [](std::error_code, rtconn::SipMessage) {});
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) {
    keys.push_back(PendingRequests::key_of(request_with_branch("closing" + std::to_string(i))));
  }
  std::int64_t failed = 0;
  for (auto _ : state) {
    for (const auto& key : keys) {
      pending->add(key, 1, 32s,
                   [&](std::error_code ec, rtconn::SipMessage) { failed += ec ? 1 : 0; });
    }
    pending->fail_connection(1, std::make_error_code(std::errc::connection_reset));
    io.poll();
    io.restart();
  }
  if (failed != 10 * state.iterations()) state.SkipWithError("a request was not failed");
  pending->fail_all(std::make_error_code(std::errc::operation_canceled));
  io.poll();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(PendingRequestsFailConnection)->Arg(0)->Arg(1000)->Arg(10000);

}  // namespace
