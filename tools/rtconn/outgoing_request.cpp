#include "outgoing_request.hpp"

#include <random>

#include <fmt/format.h>

namespace rtconn::cli {
namespace {

std::uint64_t random_number() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return random();
}

}  // namespace

SipMessage make_request(std::string_view method, const std::string& uri,
                        const std::string& local_host, std::uint32_t cseq) {
  auto request = SipMessage::request(method, uri);
  request.add_header("Max-Forwards", "70");
  request.add_header("From", fmt::format("<sip:rtconn@{}>;tag={:x}", local_host, random_number()));
  request.add_header("To", "<" + uri + ">");
  request.add_header("Call-ID", fmt::format("{:x}@{}", random_number(), local_host));
  request.add_header("CSeq", fmt::format("{} {}", cseq, method));
  request.add_header("User-Agent", "rtconn");
  return request;
}

std::string make_via(TransportType transport, const std::string& local_host) {
  return fmt::format("SIP/2.0/{} {};branch=z9hG4bK{:x};rport", via_protocol_name(transport),
                     local_host, random_number());
}

}  // namespace rtconn::cli
