#include "sip_responder.hpp"

#include <algorithm>
#include <cctype>
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

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The To header's tag parameter (RFC 3261 25.1: names in any case, whitespace around `;` and
// `=`); empty when it has none.
std::string_view to_tag_of(std::string_view to) {
  // Parameters of the header follow the URI, which `<>` may enclose with parameters of its own.
  if (const auto close = to.find('>'); close != std::string_view::npos) to.remove_prefix(close);
  for (auto at = to.find(';'); at != std::string_view::npos;) {
    const auto next = to.find(';', at + 1);
    const auto parameter = to.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
    const auto equals = parameter.find('=');
    const auto name = trimmed(parameter.substr(0, equals));
    const auto is_tag =
        name.size() == 3 && std::equal(name.begin(), name.end(), "tag", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        });
    if (equals != std::string_view::npos && is_tag) return trimmed(parameter.substr(equals + 1));
    at = next;
  }
  return {};
}

bool in_our_dialog(const SipMessage& request) {
  const auto to = request.header("To");
  const auto call_id = request.header("Call-ID");
  return to && call_id && to_tag_of(*to) == dialog_tag(*call_id);
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
  // A re-INVITE belongs to a dialog as a BYE does (RFC 3261 12.2.2); serve's own are taken
  // like a new call (the same answer again).
  if (method == "INVITE" && request.message().has_to_tag() && !in_our_dialog(request.message())) {
    return request.respond(481);
  }
  if (method == "INVITE") return accept_call(request);
  if (method == "BYE") return request.respond(in_our_dialog(request.message()) ? 200 : 481);
  if (method == "CANCEL") return request.respond(481);
  auto response = request.make_response(405);
  response.add_header("Allow", "OPTIONS, MESSAGE, INVITE, ACK, BYE, CANCEL");
  request.async_respond(std::move(response), [](std::error_code) {});
}

}  // namespace rtconn::cli
