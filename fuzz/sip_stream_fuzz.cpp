// Bytes from a peer, in pieces of fuzzer-chosen sizes, through the stream framer and the parser,
// as a connection feeds them: no crash, no read outside the input, always progress.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rtconn/sip_message.hpp"
#include "sip/stream_framer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so splits land everywhere, byte-at-a-time included.
  const std::size_t chunk = data[0] % 64 + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  rtconn::sip::StreamFramer framer({512, 2048});
  std::string buffer;
  std::size_t fed = 0;
  while (fed < bytes.size()) {
    const auto piece = bytes.substr(fed, chunk);
    fed += piece.size();
    buffer.append(piece);
    for (;;) {
      const auto frame = framer.next(buffer);
      if (frame.consumed > buffer.size()) std::abort();
      if (frame.kind == rtconn::sip::FrameKind::message) {
        std::error_code ec;
        const auto message = rtconn::SipMessage::parse(frame.bytes, ec);
        if (!ec) {
          // What parses must serialise and parse again.
          std::error_code again;
          rtconn::SipMessage::parse(message.to_string(), again);
          if (again) std::abort();
        }
      }
      if (frame.kind == rtconn::sip::FrameKind::need_more ||
          frame.kind == rtconn::sip::FrameKind::framing_lost) {
        break;
      }
      if (frame.consumed == 0) std::abort();  // a frame that eats nothing would loop forever
      buffer.erase(0, frame.consumed);
    }
    if (framer.next(buffer).kind == rtconn::sip::FrameKind::framing_lost) break;
  }
  return 0;
}
