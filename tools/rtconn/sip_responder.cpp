#include "sip_responder.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sdp_answer.hpp"

namespace rtconn::cli {
namespace {

constexpr std::string_view sdp_type = "application/sdp";

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
  return to && call_id && header_parameter(*to, "tag") == dialog_tag(*call_id);
}

// A link-local zone (fe80::1%eth0) means nothing to the peer, and neither a URI nor SDP can
// carry it.
asio::ip::address without_zone(asio::ip::address address) {
  if (!address.is_v6()) return address;
  auto v6 = address.to_v6();
  v6.scope_id(0);
  return v6;
}

// Where serve takes the dialog's requests: this connection's address, sips: over TLS (RFC 5630:
// not sip: with transport=tls).
std::string contact_of(const RealTimeConnection& connection) {
  const IpEndpoint local(without_zone(connection.local_endpoint().address()),
                         connection.local_endpoint().port());
  if (connection.transport() == TransportType::Tcp) {
    return fmt::format("<sip:rtconn@{};transport=tcp>", local.to_string());
  }
  return fmt::format("<sips:rtconn@{}>", local.to_string());
}

bool is_sdp(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  auto media_type = content_type->substr(0, content_type->find(';'));
  while (!media_type.empty() && (media_type.back() == ' ' || media_type.back() == '\t')) {
    media_type.remove_suffix(1);
  }
  return std::equal(
      media_type.begin(), media_type.end(), sdp_type.begin(), sdp_type.end(),
      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

void accept_call(IncomingRequest& request) {
  const auto& invite = request.message();
  const auto local = without_zone(request.connection()->local_endpoint().address());
  std::string sdp;
  if (invite.body().empty()) {
    sdp = make_sdp_offer(local);  // the caller answers in its ACK
  } else if (!is_sdp(invite.header("Content-Type"))) {
    auto response = request.make_response(415);
    response.add_header("Accept", sdp_type);
    return request.async_respond(std::move(response), [](std::error_code) {});
  } else if (auto answer = make_sdp_answer(invite.body(), local)) {
    sdp = std::move(*answer);
  } else {
    return request.respond(488);  // no stream it can take (RFC 3264 6)
  }
  auto response = SipMessage::response_to(invite, 200, {}, dialog_tag(*invite.header("Call-ID")));
  response.add_header("Contact", contact_of(*request.connection()));
  response.set_body(sdp, sdp_type);
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
