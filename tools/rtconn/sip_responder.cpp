#include "sip_responder.hpp"

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace rtconn::cli {
namespace {

// The To tag of serve's dialog for `call_id`: the same for every request of the call, and
// hashed with a key of this process's own, so a BYE must come from whoever saw the 200 (a test
// server's check: std::hash is no MAC).
std::string dialog_tag(std::string_view call_id) {
  static const std::uint64_t key = std::mt19937_64{std::random_device{}()}();
  return fmt::format("rt{:016x}", std::hash<std::string>{}(fmt::format("{:x}{}", key, call_id)));
}

bool in_our_dialog(const SipMessage& request) {
  const auto to = request.header("To");
  const auto call_id = request.header("Call-ID");
  if (!to || !call_id) return false;
  const auto tag = ";tag=" + dialog_tag(*call_id);
  const auto at = to->find(tag);
  if (at == std::string_view::npos) return false;
  const auto after = at + tag.size();
  return after == to->size() || (*to)[after] == ';' || (*to)[after] == ' ';
}

void accept_call(IncomingRequest& request) {
  auto response = SipMessage::response_to(request.message(), 200, {},
                                          dialog_tag(*request.message().header("Call-ID")));
  const auto local = request.connection()->local_endpoint();
  const auto ip = local.address().is_v4() ? "IP4" : "IP6";
  const auto address = local.address().to_string();
  response.add_header("Contact", fmt::format("<sip:rtconn@{};transport={}>", local.to_string(),
                                             to_string(request.connection()->transport())));
  response.set_body(fmt::format("v=0\r\n"
                                "o=rtconn 1 1 IN {0} {1}\r\n"
                                "s=-\r\n"
                                "c=IN {0} {1}\r\n"
                                "t=0 0\r\n"
                                "m=audio 9 RTP/AVP 0\r\n"
                                "a=rtpmap:0 PCMU/8000\r\n",
                                ip, address),
                    "application/sdp");
  request.async_respond(std::move(response), [](std::error_code) {});
}

}  // namespace

void answer_request(IncomingRequest& request) {
  const auto method = request.message().method();
  if (method == "ACK") return;
  if (method == "OPTIONS" || method == "MESSAGE") return request.respond(200);
  if (method == "INVITE") return accept_call(request);
  if (method == "BYE") return request.respond(in_our_dialog(request.message()) ? 200 : 481);
  if (method == "CANCEL") return request.respond(481);
  auto response = request.make_response(405);
  response.add_header("Allow", "OPTIONS, MESSAGE, INVITE, ACK, BYE, CANCEL");
  request.async_respond(std::move(response), [](std::error_code) {});
}

}  // namespace rtconn::cli
