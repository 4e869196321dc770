#pragma once
// The SDP of `rtconn serve` as a callee with no media of its own (RFC 3264 offer/answer): it
// takes audio in PCMU or PCMA at the discard port (9: nothing is sent, nothing read).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <asio/ip/address.hpp>

namespace rtconn::cli {

/// The o= line's numbers: one session id per dialog, and a version that goes up with each SDP
/// of it (RFC 3264 8).
struct SdpOrigin {
  std::uint64_t session_id = 0;
  std::uint32_t version = 0;
};

/// The answer to `offer`: an m-line for each of the offer's, in order (RFC 3264 6); an audio
/// RTP/AVP stream accepted with the first of PCMU and PCMA the offer lists, its direction
/// mirrored (sendonly answered recvonly, ...); every other stream, and one the offer rejected,
/// rejected (port 0). Nullopt when no stream is accepted, or the offer has more than
/// `max_streams` m-lines or one that is no `m=<media> <port> <proto> <fmt>...` of tokens: the
/// call is refused with 488. `local` goes in the c= and o= lines: an IPv6 one without zone.
std::optional<std::string> make_sdp_answer(std::string_view offer, const asio::ip::address& local,
                                           SdpOrigin origin);
inline constexpr std::size_t max_streams = 16;

/// The offer sent in a 200 to an INVITE that had none (the answer comes in the ACK).
std::string make_sdp_offer(const asio::ip::address& local, SdpOrigin origin);

}  // namespace rtconn::cli
