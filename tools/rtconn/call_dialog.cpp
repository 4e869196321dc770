#include "call_dialog.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace rtconn::cli {
namespace {

// The headers every request of the call carries alike.
SipMessage call_request(std::string_view method, std::string_view uri, const SipMessage& invite,
                        std::string_view to, std::uint32_t cseq) {
  auto request = SipMessage::request(method, uri);
  request.add_header("Max-Forwards", "70");
  request.add_header("From", *invite.header("From"));
  request.add_header("To", to);
  request.add_header("Call-ID", *invite.header("Call-ID"));
  request.add_header("CSeq", fmt::format("{} {}", cseq, method));
  return request;
}

}  // namespace

CallDialog CallDialog::from_answer(const SipMessage& invite, const SipMessage& answer) {
  CallDialog dialog;
  const auto contact = answer.header("Contact");
  dialog.remote_target = contact && !header_address(*contact).empty() ? header_address(*contact)
                                                                      : invite.request_uri();
  for (const auto line : answer.header_values("Record-Route")) {
    for (const auto route : split_header_list(line)) dialog.route_set.emplace_back(route);
  }
  std::reverse(dialog.route_set.begin(), dialog.route_set.end());
  dialog.to = answer.header("To").value_or("");
  return dialog;
}

SipMessage CallDialog::request(std::string_view method, const SipMessage& invite,
                               std::uint32_t cseq) const {
  auto request = call_request(method, remote_target, invite, to, cseq);
  for (const auto& route : route_set) request.add_header("Route", route);
  return request;
}

std::string_view CallDialog::next_hop() const {
  return route_set.empty() ? std::string_view(remote_target) : header_address(route_set.front());
}

SipMessage invite_transaction_request(std::string_view method, const SipMessage& invite,
                                      std::string_view to) {
  auto request = call_request(method, invite.request_uri(), invite, to, invite.cseq()->number);
  request.add_header("Via", *invite.header("Via"));
  return request;
}

}  // namespace rtconn::cli
