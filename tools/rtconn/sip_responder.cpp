#include "sip_responder.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sdp_answer.hpp"

namespace rtconn::cli {
namespace {

constexpr std::string_view sdp_type = "application/sdp";

// What serve derives of a dialog, keeping nothing: an HMAC of its Call-ID with a random key of
// this process's own, so a BYE (or re-INVITE) carrying its To tag must come from whoever saw
// the 200: nobody can forge one from the tags they saw.
using DialogMac = std::array<unsigned char, 32>;

DialogMac dialog_mac(std::string_view call_id) {
  static const auto key = [] {
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      throw std::runtime_error("no random bytes for serve's dialog key");
    }
    return bytes;
  }();
  DialogMac mac{};
  std::size_t mac_size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(call_id.data()), call_id.size(), mac.data(),
                mac.size(), &mac_size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return mac;
}

// The To tag: 64 bits of the MAC, so a guess is right once in 2^64.
std::string dialog_tag(const DialogMac& mac) {
  std::string tag = "rt";
  for (std::size_t i = 0; i < 8; ++i) tag += fmt::format("{:02x}", mac[i]);
  return tag;
}

// The SDP's o= numbers: a session id of the dialog's own (48 more bits of the MAC), and the
// INVITE's CSeq number for the version, which each re-INVITE raises (RFC 3264 8 asks for one
// more each time; a caller's other requests in between make it more).
SdpOrigin sdp_origin(const DialogMac& mac, const SipMessage& invite) {
  SdpOrigin origin;
  for (std::size_t i = 8; i < 14; ++i) origin.session_id = origin.session_id << 8 | mac[i];
  origin.version = invite.cseq() ? invite.cseq()->number : 1;
  return origin;
}

bool in_our_dialog(const SipMessage& request) {
  const auto to = request.header("To");
  const auto call_id = request.header("Call-ID");
  return to && call_id && header_parameter(*to, "tag") == dialog_tag(dialog_mac(*call_id));
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
  const auto mac = dialog_mac(*invite.header("Call-ID"));  // the tag's and the o= line's
  std::string sdp;
  if (invite.body().empty()) {
    sdp = make_sdp_offer(local, sdp_origin(mac, invite));  // the caller answers in its ACK
  } else if (!is_sdp(invite.header("Content-Type"))) {
    auto response = request.make_response(415);
    response.add_header("Accept", sdp_type);
    return request.async_respond(std::move(response), [](std::error_code) {});
  } else if (auto answer = make_sdp_answer(invite.body(), local, sdp_origin(mac, invite))) {
    sdp = std::move(*answer);
  } else {
    return request.respond(488);  // no stream it can take (RFC 3264 6)
  }
  auto response = SipMessage::response_to(invite, 200, {}, dialog_tag(mac));
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
