#pragma once
// How `rtconn serve` answers requests.

#include "rtconn/incoming_request.hpp"

namespace rtconn::cli {

/// OPTIONS and MESSAGE get 200. An INVITE gets 200 with an SDP answer: a callee that takes
/// every call and keeps nothing of it (a peer could make it keep without end), its To tag a
/// keyed hash of the Call-ID, so a BYE carrying that tag is known to end one of its dialogs and
/// gets 200, any other 481 (RFC 3261 15.1.2). CANCEL gets 481: the INVITE was answered at once,
/// nothing is left to cancel. ACK nothing; anything else 405 with Allow.
void answer_request(IncomingRequest& request);

}  // namespace rtconn::cli
