#pragma once
// How `rtconn serve` answers requests.

#include "rtconn/incoming_request.hpp"

namespace rtconn::cli {

/// OPTIONS and MESSAGE get 200. An INVITE gets 200 with an SDP answer (see make_sdp_answer;
/// with no offer, an offer; 488 when it can take no stream, 415 for a body not SDP) and a
/// Contact: a callee that takes every call and keeps nothing of it (a peer could make it keep
/// without end), its To tag a
/// HMAC-SHA256 of the Call-ID under a random key, so a BYE carrying that tag is known to end one of
/// its dialogs and gets 200, any other 481 (RFC 3261 15.1.2). CANCEL gets 481: the INVITE was
/// answered at once, nothing is left to cancel. ACK nothing; anything else 405 with Allow.
void answer_request(IncomingRequest& request);

}  // namespace rtconn::cli
