#include "options_request.hpp"

#include <random>

#include <fmt/format.h>

namespace rtconn::cli {

SipMessage make_options_request(const std::string& uri, const std::string& local_host,
                                std::uint32_t cseq) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  auto request = SipMessage::request("OPTIONS", uri);
  request.add_header("Max-Forwards", "70");
  request.add_header("From", fmt::format("<sip:ping@{}>;tag={:x}", local_host, random()));
  request.add_header("To", "<" + uri + ">");
  request.add_header("Call-ID", fmt::format("{:x}@{}", random(), local_host));
  request.add_header("CSeq", fmt::format("{} OPTIONS", cseq));
  request.add_header("User-Agent", "rtconn");
  return request;
}

}  // namespace rtconn::cli
