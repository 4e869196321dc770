// The per-message SIP path without sockets: framing a stream, parsing, building and writing
// responses. Run: build/release/bench/rtconn_micro_bench --benchmark_filter=Sip
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>

#include "rtconn/sip_message.hpp"
#include "sip/line_ends.hpp"
#include "sip/stream_framer.hpp"

namespace {

// What SIPp's OPTIONS scenario sends, so the numbers speak to the interop load.
const std::string options_request =
    "OPTIONS sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1234-1-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5070>;tag=1\r\n"
    "To: <sip:service@127.0.0.1:5060>\r\n"
    "Call-ID: 1-1234@127.0.0.1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n";

std::string pipelined(int count) {
  std::string stream;
  for (int i = 0; i < count; ++i) stream += options_request;
  return stream;
}

void SipFramerPipelined(benchmark::State& state) {
  const auto stream = pipelined(1000);
  for (auto _ : state) {
    rtconn::sip::StreamFramer framer;
    std::string_view rest = stream;
    while (!rest.empty()) {
      const auto frame = framer.next(rest);
      benchmark::DoNotOptimize(frame.bytes.data());
      rest.remove_prefix(frame.consumed);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(SipFramerPipelined);

// What a connection does with a read of pipelined requests: frame each and parse it, the parse
// taking the line ends the framer found (state.range(0) == 1) or searching again (0), side by
// side so their ratio comes from one run.
void SipFrameAndParse(benchmark::State& state) {
  const auto stream = pipelined(100);
  const bool reuse_line_ends = state.range(0) == 1;
  for (auto _ : state) {
    rtconn::sip::StreamFramer framer;
    std::string_view rest = stream;
    while (!rest.empty()) {
      const auto frame = framer.next(rest);
      std::error_code ec;
      rtconn::sip::LineEnds line_ends(reuse_line_ends ? frame.line_ends
                                                      : std::span<const std::uint32_t>{});
      auto message = rtconn::SipMessage::parse(frame.bytes, line_ends, ec);
      benchmark::DoNotOptimize(message);
      rest.remove_prefix(frame.consumed);
    }
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(SipFrameAndParse)->Arg(0)->Arg(1);

void SipParse(benchmark::State& state) {
  std::error_code ec;
  for (auto _ : state) {
    auto message = rtconn::SipMessage::parse(options_request, ec);
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(SipParse);

void SipRespondAndSerialize(benchmark::State& state) {
  std::error_code ec;
  const auto request = rtconn::SipMessage::parse(options_request, ec);
  std::string out;
  for (auto _ : state) {
    out.clear();
    rtconn::SipMessage::response_to(request, 200, {}, "a6c85cf").serialize_to(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(SipRespondAndSerialize);

// What `IncomingRequest::respond` and the connection's own answers do: the wire bytes written
// straight from the request, with no response message built.
void SipSerializeResponseTo(benchmark::State& state) {
  std::error_code ec;
  const auto request = rtconn::SipMessage::parse(options_request, ec);
  std::string out;
  for (auto _ : state) {
    out.clear();
    rtconn::SipMessage::serialize_response_to(request, 200, {}, "a6c85cf", out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(SipSerializeResponseTo);

}  // namespace
