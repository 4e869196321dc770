#include "sip_responder.hpp"

namespace rtconn::cli {

void answer_request(IncomingRequest& request) {
  const auto method = request.message().method();
  if (method == "ACK") return;
  if (method == "OPTIONS" || method == "MESSAGE") return request.respond(200);
  if (method == "BYE" || method == "CANCEL") return request.respond(481);
  auto response = request.make_response(405);
  response.add_header("Allow", "OPTIONS, MESSAGE, ACK, BYE, CANCEL");
  request.async_respond(std::move(response), [](std::error_code) {});
}

}  // namespace rtconn::cli
