#pragma once
// What a caller keeps of the dialog its INVITE's 2xx made (RFC 3261 12.1.2), and the requests
// it sends in that dialog and in the INVITE's own transaction.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rtconn/sip_message.hpp"

namespace rtconn::cli {

struct CallDialog {
  std::string remote_target;           // the 2xx's Contact; the INVITE's Request-URI without one
  std::vector<std::string> route_set;  // the 2xx's Record-Route, in reverse
  std::string to;                      // the 2xx's To, with the callee's tag

  static CallDialog from_answer(const SipMessage& invite, const SipMessage& answer);

  /// A request in the dialog (a BYE; a 2xx's ACK, CSeq 1): to the remote target, through the
  /// route set as loose routers take it (RFC 3261 12.2.1.1; a strict router's, without `lr`,
  /// is not rewritten). No Via: each has a branch of its own.
  SipMessage request(std::string_view method, const SipMessage& invite, std::uint32_t cseq) const;
  /// Where such a request goes first: the first route, else the remote target.
  std::string_view next_hop() const;
};

/// A request of the INVITE's own transaction: its CANCEL (RFC 3261 9.1, with the INVITE's To)
/// or the ACK of a failure (17.1.1.3, with the failure's To). The INVITE's Request-URI, top Via,
/// From, Call-ID and CSeq number: the callee matches them to the INVITE.
SipMessage invite_transaction_request(std::string_view method, const SipMessage& invite,
                                      std::string_view to);

}  // namespace rtconn::cli
