// Bytes from a peer, in pieces of fuzzer-chosen sizes, through the stream framer and the parser,
// as a connection feeds them: no crash, no read outside the input, always progress, and the same
// frames whatever the pieces (the framer resumes its header scan across reads). A message parses
// the same with the line ends the framer found as with its own search.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "rtconn/sip_message.hpp"
#include "sip/line_ends.hpp"
#include "sip/stream_framer.hpp"

namespace {

using rtconn::sip::FrameKind;

struct Seen {
  FrameKind kind;
  std::string bytes;  // empty for framing_lost, whose bytes depend on how far the reads got
  std::error_code error;
  bool operator==(const Seen&) const = default;
};

// What a connection reading `bytes` in pieces of `chunk` would frame. A body skipped over
// several reads counts as one discarded frame.
std::vector<Seen> frames(std::string_view bytes, std::size_t chunk) {
  rtconn::sip::StreamFramer framer({512, 2048});
  std::vector<Seen> seen;
  std::string buffer;
  std::size_t fed = 0;
  while (fed < bytes.size()) {
    const auto piece = bytes.substr(fed, chunk);
    fed += piece.size();
    buffer.append(piece);
    for (;;) {
      const auto frame = framer.next(buffer);
      if (frame.consumed > buffer.size()) std::abort();
      if (frame.kind == FrameKind::need_more) break;
      if (frame.kind == FrameKind::framing_lost) {
        seen.push_back({frame.kind, {}, frame.error});
        return seen;
      }
      if (frame.kind == FrameKind::message) {
        std::error_code ec;
        const auto message = rtconn::SipMessage::parse(frame.bytes, ec);
        std::error_code framed_ec;
        rtconn::sip::LineEnds line_ends(frame.line_ends);
        const auto framed = rtconn::SipMessage::parse(frame.bytes, line_ends, framed_ec);
        if (framed_ec != ec || framed.to_string() != message.to_string()) std::abort();
        if (!ec) {
          // What parses must serialise and parse again.
          std::error_code again;
          rtconn::SipMessage::parse(message.to_string(), again);
          if (again) std::abort();
        }
      }
      if (frame.consumed == 0) std::abort();  // a frame that eats nothing would loop forever
      if (frame.kind == FrameKind::discarded && !seen.empty() &&
          seen.back().kind == FrameKind::discarded) {
        seen.back().bytes.append(frame.bytes);
      } else {
        seen.push_back({frame.kind, std::string(frame.bytes), frame.error});
      }
      buffer.erase(0, frame.consumed);
    }
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so splits land everywhere, byte-at-a-time included.
  const std::size_t chunk = data[0] % 64 + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (frames(bytes, chunk) != frames(bytes, bytes.size() + 1)) std::abort();
  return 0;
}
