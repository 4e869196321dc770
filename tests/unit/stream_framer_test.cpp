#include "sip/stream_framer.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "rtconn/errors.hpp"
#include "rtconn/sip_message.hpp"
#include "sip/line_ends.hpp"

namespace rtconn::sip {
namespace {

std::string make_message(std::string_view body, std::string_view call_id = "c1",
                         std::string_view length_header = "Content-Length") {
  std::string m = "MESSAGE sip:bob@example.com SIP/2.0\r\n";
  m.append("Via: SIP/2.0/TCP a.example.com;branch=z9hG4bK").append(call_id).append("\r\n");
  m.append("Call-ID: ").append(call_id).append("\r\n");
  m.append(length_header).append(": ").append(std::to_string(body.size())).append("\r\n\r\n");
  m.append(body);
  return m;
}

struct Seen {
  FrameKind kind;
  std::string bytes;
  bool operator==(const Seen&) const = default;
};

void PrintTo(const Seen& seen, std::ostream* os) {
  *os << "{kind " << static_cast<int>(seen.kind) << ", " << testing::PrintToString(seen.bytes)
      << "}";
}

// Frames everything `buffer` holds, dropping consumed bytes as a connection would.
std::vector<Seen> drain(StreamFramer& framer, std::string& buffer) {
  std::vector<Seen> seen;
  while (true) {
    const Frame frame = framer.next(buffer);
    if (frame.kind == FrameKind::need_more) {
      EXPECT_EQ(frame.consumed, 0u);
      return seen;
    }
    if (!frame.bytes.empty()) {
      EXPECT_EQ(frame.bytes.data(), buffer.data());  // frames point into the caller's input
    }
    seen.push_back({frame.kind, std::string(frame.bytes)});
    if (frame.kind == FrameKind::framing_lost) return seen;
    buffer.erase(0, frame.consumed);
  }
}

// The first frame a fresh framer finds; `input` must outlive the frame's bytes.
Frame frame_of(std::string_view input, FramerLimits limits = {}) {
  StreamFramer framer(limits);
  return framer.next(input);
}

TEST(StreamFramer, FramesOneWholeMessage) {
  const std::string m = make_message("hello");
  StreamFramer framer;
  EXPECT_FALSE(framer.inside_message());
  const Frame f = framer.next(m);
  EXPECT_EQ(f.kind, FrameKind::message);
  EXPECT_EQ(f.consumed, m.size());
  EXPECT_EQ(f.bytes, m);
  EXPECT_FALSE(f.error);
  EXPECT_FALSE(framer.inside_message());
}

TEST(StreamFramer, WaitsForTheRestOfASplitMessage) {
  const std::string m = make_message("body bytes");
  const std::size_t header_size = m.find("\r\n\r\n") + 4;
  StreamFramer framer;
  for (std::size_t cut : {std::size_t{1}, header_size - 2, header_size, m.size() - 1}) {
    const Frame f = framer.next(std::string_view(m).substr(0, cut));
    EXPECT_EQ(f.kind, FrameKind::need_more) << cut;
    EXPECT_EQ(f.consumed, 0u);
    EXPECT_TRUE(framer.inside_message()) << cut;
  }
  const Frame f = framer.next(m);
  EXPECT_EQ(f.kind, FrameKind::message);
  EXPECT_EQ(f.bytes, m);
  EXPECT_FALSE(framer.inside_message());
}

TEST(StreamFramer, SplitsPipelinedMessages) {
  const std::vector<std::string> messages = {make_message("one", "a"), make_message("", "b"),
                                             make_message("three\r\n\r\nthree", "c")};
  std::string buffer = messages[0] + messages[1] + messages[2];
  StreamFramer framer;
  const std::vector<Seen> seen = drain(framer, buffer);
  EXPECT_EQ(seen, (std::vector<Seen>{{FrameKind::message, messages[0]},
                                     {FrameKind::message, messages[1]},
                                     {FrameKind::message, messages[2]}}));
  EXPECT_TRUE(buffer.empty());
}

TEST(StreamFramer, BodyMayContainABlankLine) {
  const std::string m = make_message("\r\n\r\nv=0\r\n\r\n") + make_message("x");
  StreamFramer framer;
  const Frame f = framer.next(m);
  EXPECT_EQ(f.kind, FrameKind::message);
  EXPECT_EQ(f.bytes, make_message("\r\n\r\nv=0\r\n\r\n"));
}

TEST(StreamFramer, FramesInputArrivingAByteAtATime) {
  const std::string stream = make_message("first\r\n\r\n", "a") + "\r\n\r\n" +
                             make_message("", "b") + "\r\n" + make_message("last", "c");
  StreamFramer framer;
  std::string buffer;
  std::vector<Seen> seen;
  for (char c : stream) {
    buffer.push_back(c);
    for (Seen& s : drain(framer, buffer)) seen.push_back(std::move(s));
  }
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(seen, (std::vector<Seen>{{FrameKind::message, make_message("first\r\n\r\n", "a")},
                                     {FrameKind::keep_alive_ping, "\r\n\r\n"},
                                     {FrameKind::message, make_message("", "b")},
                                     {FrameKind::keep_alive_pong, "\r\n"},
                                     {FrameKind::message, make_message("last", "c")}}));
}

TEST(StreamFramer, FramesRandomlyChunkedInput) {
  std::mt19937 rng(20240607);
  const auto below = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const std::vector<std::string> bodies = {"", "x", "\r\n\r\n", "v=0\r\no=- 1 1 IN IP4 h\r\n\r\n",
                                           std::string(3000, 'b')};
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    std::vector<Seen> expected;
    const std::size_t count = 1 + below(6);
    for (std::size_t i = 0; i < count; ++i) {
      // A keep-alive only between messages: a trailing lone CRLF could still become a ping.
      if (i > 0 && below(3) == 0) {
        const bool ping = below(2) == 0;
        const std::string crlfs = ping ? "\r\n\r\n" : "\r\n";
        stream += crlfs;
        expected.push_back({ping ? FrameKind::keep_alive_ping : FrameKind::keep_alive_pong, crlfs});
      }
      const std::string m = make_message(bodies[below(bodies.size())], std::to_string(i),
                                         below(2) == 0 ? "Content-Length" : "l");
      stream += m;
      expected.push_back({FrameKind::message, m});
    }

    StreamFramer framer;
    std::string buffer;
    std::vector<Seen> seen;
    for (std::size_t pos = 0; pos < stream.size();) {
      const std::size_t chunk = 1 + below(below(4) == 0 ? 2000 : 40);
      buffer.append(stream, pos, chunk);
      pos += chunk;
      for (Seen& s : drain(framer, buffer)) seen.push_back(std::move(s));
    }
    ASSERT_EQ(seen, expected) << "round " << round;
    EXPECT_TRUE(buffer.empty());
    EXPECT_FALSE(framer.inside_message());
  }
}

TEST(StreamFramer, RecognisesKeepAlives) {
  const Frame ping = frame_of("\r\n\r\nINVITE");
  EXPECT_EQ(ping.kind, FrameKind::keep_alive_ping);
  EXPECT_EQ(ping.consumed, 4u);
  const Frame pong = frame_of("\r\nINVITE");
  EXPECT_EQ(pong.kind, FrameKind::keep_alive_pong);
  EXPECT_EQ(pong.consumed, 2u);
  EXPECT_EQ(frame_of("\r\n\rX").kind, FrameKind::keep_alive_pong);
  for (std::string_view partial : {"", "\r", "\r\n", "\r\n\r"}) {
    StreamFramer framer;
    const Frame f = framer.next(partial);
    EXPECT_EQ(f.kind, FrameKind::need_more) << partial.size();
    EXPECT_EQ(f.consumed, 0u);
    EXPECT_FALSE(framer.inside_message());
  }
}

TEST(StreamFramer, ALoneCrlfIsAPongAtOnceWhenOneIsAwaited) {
  // A connection that pinged cannot wait for more bytes to tell the pong from half a ping: the
  // server may send nothing else for minutes.
  StreamFramer framer;
  const Frame pong = framer.next("\r\n", true);
  EXPECT_EQ(pong.kind, FrameKind::keep_alive_pong);
  EXPECT_EQ(pong.consumed, 2u);
  EXPECT_EQ(framer.next("\r", true).kind, FrameKind::need_more);
  EXPECT_EQ(framer.next("\r\n\r\n", true).kind, FrameKind::keep_alive_ping);
}

TEST(StreamFramer, FramesAMessageAfterAPong) {
  std::string buffer = "\r\n" + make_message("hi");
  StreamFramer framer;
  EXPECT_EQ(drain(framer, buffer), (std::vector<Seen>{{FrameKind::keep_alive_pong, "\r\n"},
                                                      {FrameKind::message, make_message("hi")}}));
}

TEST(StreamFramer, MissingContentLengthLosesFraming) {
  const std::string header =
      "MESSAGE sip:a@b SIP/2.0\r\nSubject: Content-Length: 5\r\n"
      "X-Content-Length: 5\r\n\r\n";
  const std::string input = header + "hello";
  const Frame f = frame_of(input);
  EXPECT_EQ(f.kind, FrameKind::framing_lost);
  EXPECT_EQ(f.error, errc::missing_content_length);
  EXPECT_EQ(f.error, condition::bad_message);
  EXPECT_EQ(f.bytes, header);
  EXPECT_EQ(f.consumed, 0u);
}

TEST(StreamFramer, InvalidContentLengthLosesFraming) {
  for (std::string_view bad :
       {"Content-Length: abc\r\n", "Content-Length: -1\r\n", "Content-Length: +1\r\n",
        "Content-Length: 1 2\r\n", "Content-Length:\r\n", "Content-Length: 0x10\r\n",
        "Content-Length: 99999999999999999999999\r\n", "Content-Length: 3\r\nl: 4\r\n"}) {
    const std::string header = "MESSAGE sip:a@b SIP/2.0\r\n" + std::string(bad) + "\r\n";
    const std::string input = header + "abcd";
    const Frame f = frame_of(input);
    EXPECT_EQ(f.kind, FrameKind::framing_lost) << bad;
    EXPECT_EQ(f.error, errc::invalid_content_length) << bad;
    EXPECT_EQ(f.bytes, header);
  }
}

TEST(StreamFramer, AcceptsContentLengthInAnySpelling) {
  for (std::string_view good : {"Content-Length: 3\r\n", "content-length:3\r\n", "L :  3 \t\r\n",
                                "l: 3\r\nCONTENT-LENGTH: 3\r\n", "Content-Length:\r\n 3\r\n"}) {
    const std::string m = "MESSAGE sip:a@b SIP/2.0\r\n" + std::string(good) + "\r\nabcdef";
    const Frame f = frame_of(m);
    EXPECT_EQ(f.kind, FrameKind::message) << good;
    EXPECT_EQ(f.bytes, m.substr(0, m.size() - 3)) << good;
  }
}

// Each line is read once, when its CRLF arrives; a Content-Length value is closed only when the
// next line shows it is not folded. The outcome must not depend on where the reads split it.
TEST(StreamFramer, ReadsContentLengthTheSameWhateverTheChunking) {
  for (std::string_view lines :
       {"Content-Length: 3\r\n", "L :  3 \t\r\n", "Content-Length:\r\n 3\r\n",
        "Content-Length:\r\n\t 3\r\nX: 1\r\n", "Subject: a\r\n Content-Length: 9\r\nl: 3\r\n",
        "Content-Length: 3\r\nl: 4\r\n", "Content-Length: 3\r\n 4\r\n", "X: 3\r\n"}) {
    const std::string m = "MESSAGE sip:a@b SIP/2.0\r\n" + std::string(lines) + "\r\nabcdef";
    const Frame whole = frame_of(m);
    StreamFramer framer;
    Frame bytewise;
    for (std::size_t n = 1; n <= m.size() && bytewise.kind == FrameKind::need_more; ++n) {
      bytewise = framer.next(std::string_view(m).substr(0, n));
    }
    EXPECT_EQ(bytewise.kind, whole.kind) << lines;
    EXPECT_EQ(bytewise.consumed, whole.consumed) << lines;
    EXPECT_EQ(bytewise.bytes, whole.bytes) << lines;
    EXPECT_EQ(bytewise.error, whole.error) << lines;
  }
}

TEST(StreamFramer, RefusesAnOverlongHeaderSection) {
  const FramerLimits limits{.max_header_bytes = 64, .max_message_bytes = 1024};
  StreamFramer framer(limits);
  const std::string endless = "MESSAGE sip:a@b SIP/2.0\r\nX: " + std::string(40, 'x');
  EXPECT_EQ(framer.next(endless.substr(0, 64)).kind, FrameKind::need_more);
  const Frame f = framer.next(endless);
  EXPECT_EQ(f.kind, FrameKind::framing_lost);
  EXPECT_EQ(f.error, errc::headers_too_large);
  EXPECT_TRUE(f.bytes.empty());

  // The same outcome when the whole section arrives in one read.
  const std::string complete = endless + "\r\nContent-Length: 0\r\n\r\n";
  const Frame whole = frame_of(complete, limits);
  EXPECT_EQ(whole.kind, FrameKind::framing_lost);
  EXPECT_EQ(whole.error, errc::headers_too_large);
}

TEST(StreamFramer, SkipsAnOversizeBodyThenFramesTheNextMessage) {
  const FramerLimits limits{.max_header_bytes = 1024, .max_message_bytes = 300};
  const std::string big = make_message(std::string(500, 'B'), "big");
  const std::string header = big.substr(0, big.find("\r\n\r\n") + 4);
  const std::string next = make_message("small", "next");
  const std::string stream = big + next;

  StreamFramer framer(limits);
  std::string_view input(stream.data(), header.size() + 100);
  const Frame over = framer.next(input);
  EXPECT_EQ(over.kind, FrameKind::oversize);
  EXPECT_EQ(over.error, errc::message_too_large);
  EXPECT_EQ(over.consumed, header.size());
  EXPECT_EQ(over.bytes, header);
  EXPECT_TRUE(framer.inside_message());

  std::size_t pos = over.consumed;
  const Frame first = framer.next(stream.substr(pos, 100));
  EXPECT_EQ(first.kind, FrameKind::discarded);
  EXPECT_EQ(first.consumed, 100u);
  pos += first.consumed;
  EXPECT_EQ(framer.next({}).kind, FrameKind::need_more);
  EXPECT_TRUE(framer.inside_message());

  const Frame rest = framer.next(std::string_view(stream).substr(pos));  // body end and `next`
  EXPECT_EQ(rest.kind, FrameKind::discarded);
  EXPECT_EQ(rest.consumed, 400u);
  EXPECT_EQ(rest.bytes, std::string(400, 'B'));
  pos += rest.consumed;
  EXPECT_FALSE(framer.inside_message());

  const Frame after = framer.next(std::string_view(stream).substr(pos));
  EXPECT_EQ(after.kind, FrameKind::message);
  EXPECT_EQ(after.bytes, next);
}

TEST(StreamFramer, MessageExactlyAtTheLimitIsAccepted) {
  const std::string m = make_message(std::string(100, 'x'));
  EXPECT_EQ(frame_of(m, {.max_header_bytes = 1024, .max_message_bytes = m.size()}).kind,
            FrameKind::message);
  EXPECT_EQ(frame_of(m, {.max_header_bytes = 1024, .max_message_bytes = m.size() - 1}).kind,
            FrameKind::oversize);
}

TEST(StreamFramer, BodyOverItsOwnLimitIsOversizeWithinTheMessageLimit) {
  const std::string m = make_message(std::string(100, 'x'));
  const FramerLimits at{.max_header_bytes = 1024, .max_message_bytes = 4096, .max_body_bytes = 100};
  EXPECT_EQ(frame_of(m, at).kind, FrameKind::message);
  FramerLimits under = at;
  under.max_body_bytes = 99;
  const Frame over = frame_of(m, under);
  EXPECT_EQ(over.kind, FrameKind::oversize);
  EXPECT_EQ(over.error, errc::message_too_large);
  EXPECT_EQ(over.bytes, m.substr(0, m.size() - 100)) << "the header section, to answer 413";
}

TEST(StreamFramer, InsideMessageTracksPartialMessages) {
  const std::string m = make_message("abc");
  StreamFramer framer;
  EXPECT_FALSE(framer.inside_message());
  EXPECT_EQ(framer.next("M").kind, FrameKind::need_more);
  EXPECT_TRUE(framer.inside_message());
  EXPECT_EQ(framer.next(std::string_view(m).substr(0, m.size() - 1)).kind, FrameKind::need_more);
  EXPECT_TRUE(framer.inside_message());
  EXPECT_EQ(framer.next(m).kind, FrameKind::message);
  EXPECT_FALSE(framer.inside_message());
}

// The offset of each CRLF from the start line's to the blank line's.
std::vector<std::uint32_t> crlf_offsets(std::string_view message) {
  std::vector<std::uint32_t> ends;
  std::size_t from = 0;
  while (true) {
    const auto end = message.find("\r\n", from);
    ends.push_back(static_cast<std::uint32_t>(end));
    if (end == from && from > 0) return ends;
    from = end + 2;
  }
}

// What the message parses to with the framer's line ends and without: the same, or the parse
// took a line end that is not one.
void expect_same_parse(const Frame& frame) {
  std::error_code searched_ec;
  const SipMessage searched = SipMessage::parse(frame.bytes, searched_ec);
  std::error_code known_ec;
  LineEnds known(frame.line_ends);
  const SipMessage parsed = SipMessage::parse(frame.bytes, known, known_ec);
  ASSERT_FALSE(searched_ec);
  EXPECT_FALSE(known_ec);
  EXPECT_EQ(parsed.to_string(), searched.to_string());
  EXPECT_EQ(parsed.headers().size(), searched.headers().size());
}

TEST(StreamFramer, HandsTheParseTheLineEndsItFound) {
  std::string m = make_message("body\r\nline");
  m.insert(m.find("Call-ID"), "Subject: folded\r\n  over two lines\r\n");
  const Frame f = frame_of(m);
  ASSERT_EQ(f.kind, FrameKind::message);
  EXPECT_EQ(std::vector<std::uint32_t>(f.line_ends.begin(), f.line_ends.end()), crlf_offsets(m));
  expect_same_parse(f);
}

TEST(StreamFramer, GivesNoLineEndsForASectionSearchedOverSeveralReads) {
  const std::string m = make_message("x");
  StreamFramer framer;
  EXPECT_EQ(framer.next(std::string_view(m).substr(0, 20)).kind, FrameKind::need_more);
  const Frame f = framer.next(m);
  ASSERT_EQ(f.kind, FrameKind::message);
  EXPECT_TRUE(f.line_ends.empty());  // the first 20 bytes were searched by the call before
  // A body arriving later: the section was searched whole, but by the call before.
  StreamFramer later;
  EXPECT_EQ(later.next(std::string_view(m).substr(0, m.size() - 1)).kind, FrameKind::need_more);
  EXPECT_TRUE(later.next(m).line_ends.empty());
}

TEST(StreamFramer, LineEndsOfALongSectionStopAt128AndTheParseSearchesOn) {
  std::string m = make_message("");
  for (int i = 0; i < 200; ++i) {
    m.insert(m.find("Call-ID"), "X-Line-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n");
  }
  const Frame f = frame_of(m);
  ASSERT_EQ(f.kind, FrameKind::message);
  const auto all = crlf_offsets(m);
  ASSERT_GT(all.size(), 128u);
  EXPECT_EQ(std::vector<std::uint32_t>(f.line_ends.begin(), f.line_ends.end()),
            std::vector<std::uint32_t>(all.begin(), all.begin() + 128));
  expect_same_parse(f);
}

}  // namespace
}  // namespace rtconn::sip
