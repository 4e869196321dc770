// Choosing who takes an incoming request (RequestRoutes::choose), on every request a manager
// dispatches: without owners (the To is not read), with the To naming an owner, and with the
// To naming none so that the Request-URI is looked up too.
#include <benchmark/benchmark.h>

#include <string>

#include "manager/request_routes.hpp"
#include "rtconn/sip_message.hpp"

namespace {

rtconn::SipMessage invite_to(const std::string& to) {
  auto request = rtconn::SipMessage::request("INVITE", "sip:alice-desk@pbx.example.com:5060");
  request.add_header("Via", "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-1");
  request.add_header("From", "<sip:bob@example.org>;tag=a1");
  request.add_header("To", "\"Alice\" <" + to + ">");
  request.add_header("Call-ID", "call-1@192.0.2.10");
  request.add_header("CSeq", "1 INVITE");
  return request;
}

void RequestRoutesChoose(benchmark::State& state) {
  const rtconn::RequestHandler handler = [](rtconn::IncomingRequest&) { return true; };
  auto routes = rtconn::detail::RequestRoutes().with_default(handler);
  if (state.range(0) > 0) {
    for (const auto* owner : {"sip:alice@example.com", "sip:alice-desk@pbx.example.com:5060",
                              "sip:carol@example.com", "sip:dave@example.com"}) {
      routes = routes.with_owner(*rtconn::detail::RequestRoutes::owner_key(owner), handler);
    }
  }
  const auto request = invite_to(state.range(0) == 2 ? "sip:forwarded@elsewhere.example.net"
                                                     : "sip:alice@example.com");
  for (auto _ : state) {
    benchmark::DoNotOptimize(routes.choose(request));
  }
  state.SetItemsProcessed(state.iterations());
}
// 0: no owners; 1: the To names one; 2: the To names none, the Request-URI one.
BENCHMARK(RequestRoutesChoose)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
