#pragma once
// How `rtconn serve` answers requests.

#include "rtconn/incoming_request.hpp"

namespace rtconn::cli {

/// OPTIONS and MESSAGE get 200; BYE and CANCEL 481 (the server keeps no dialogs); ACK nothing;
/// anything else 405 with Allow.
void answer_request(IncomingRequest& request);

}  // namespace rtconn::cli
