// Parsing costs memory in proportion to the message, whatever shape a peer gives it: here, a
// header continued line after line (RFC 3261 7.3.1), each line joined to the value before it.
#include <gtest/gtest.h>

#include <string>
#include <system_error>

#include "counting_allocator.hpp"
#include "rtconn/sip_message.hpp"

namespace rtconn {
namespace {

TEST(ParseAllocation, AHeaderContinuedLineAfterLineCostsMemoryInProportionToIt) {
  constexpr int lines = 16000;  // 64 KB of header section, the framer's default limit
  std::string bytes = "MESSAGE sip:a@b SIP/2.0\r\nSubject: x\r\n";
  std::string expected = "x";
  for (int i = 0; i < lines; ++i) {
    bytes += " a\r\n";
    expected += " a";
  }
  bytes += "Content-Length: 0\r\n\r\n";

  std::error_code ec;
  allocation::count_this_thread(true);
  const auto before = allocation::allocated_bytes();
  const SipMessage message = SipMessage::parse(bytes, ec);
  const auto allocated = allocation::allocated_bytes() - before;
  allocation::count_this_thread(false);

  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(message.header("Subject"), expected);
  // The copy of the bytes, the joined value and the growth of the buffer they share: a small
  // multiple of the 64 KB, where joining the whole value again per line asked for 0.5 GB.
  EXPECT_LT(allocated, 8 * bytes.size());
}

}  // namespace
}  // namespace rtconn
