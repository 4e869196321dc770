#include "rtconn/sip_message.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "rtconn/errors.hpp"

namespace rtconn {
namespace {

constexpr std::string_view invite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
    "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK1\r\n"
    "Max-Forwards: 70\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

SipMessage parse_ok(std::string_view bytes) {
  std::error_code ec = make_error_code(errc::shutdown);  // parse must clear it
  SipMessage message = SipMessage::parse(bytes, ec);
  EXPECT_FALSE(ec) << ec.message() << " for: " << bytes;
  return message;
}

std::error_code parse_error(std::string_view bytes) {
  std::error_code ec;
  SipMessage::parse(bytes, ec);
  return ec;
}

TEST(SipMessage, ParsesRequest) {
  const SipMessage m = parse_ok(invite);
  EXPECT_TRUE(m.is_request());
  EXPECT_FALSE(m.is_response());
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.request_uri(), "sip:bob@biloxi.example.com");
  EXPECT_EQ(m.status_code(), 0);
  EXPECT_EQ(m.headers().size(), 9u);  // Content-Length is not stored
  EXPECT_EQ(m.header("Max-Forwards"), "70");
  EXPECT_EQ(m.header("Content-Length"), std::nullopt);
  EXPECT_EQ(m.body(), "v=0\n");
}

TEST(SipMessage, RoundTripsByteForByte) {
  EXPECT_EQ(parse_ok(invite).to_string(), invite);
  const std::string response = "SIP/2.0 180 Ringing\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parse_ok(response).to_string(), response);
}

TEST(SipMessage, ParsesResponsesWithAnyReasonPhrase) {
  const SipMessage m = parse_ok("SIP/2.0 481 Call/Transaction Does Not Exist\r\n\r\n");
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.status_code(), 481);
  EXPECT_EQ(m.reason_phrase(), "Call/Transaction Does Not Exist");
  EXPECT_EQ(m.method(), "");
  EXPECT_EQ(parse_ok("SIP/2.0 200 \r\n\r\n").reason_phrase(), "");
  EXPECT_EQ(parse_ok("SIP/2.0 200\r\n\r\n").status_code(), 200);
}

TEST(SipMessage, BodyIsEverythingAfterTheBlankLine) {
  const SipMessage m = parse_ok("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nab\r\n\r\ncd");
  EXPECT_EQ(m.body(), "ab\r\n\r\ncd");
  EXPECT_NE(m.to_string().find("Content-Length: 8\r\n"), std::string::npos);
}

TEST(SipMessage, CompactHeadersAreFoundByLongNames) {
  const SipMessage m = parse_ok(
      "OPTIONS sip:a@b SIP/2.0\r\n"
      "v: SIP/2.0/TLS h;branch=z9hG4bKc\r\n"
      "i: compact-id\r\n"
      "f: <sip:x@y>;tag=1\r\n"
      "t: <sip:a@b>\r\n"
      "m: <sip:x@h>\r\n"
      "l: 3\r\n"
      "\r\n"
      "abc");
  EXPECT_EQ(m.header("Via"), "SIP/2.0/TLS h;branch=z9hG4bKc");
  EXPECT_EQ(m.header("Call-ID"), "compact-id");
  EXPECT_EQ(m.header("From"), "<sip:x@y>;tag=1");
  EXPECT_EQ(m.header("To"), "<sip:a@b>");
  EXPECT_EQ(m.header("Contact"), "<sip:x@h>");
  EXPECT_EQ(m.header("i"), "compact-id");
  EXPECT_EQ(m.header("Content-Length"), std::nullopt);
  EXPECT_EQ(m.headers().size(), 5u);
  EXPECT_EQ(m.headers()[1].name, "i");  // the spelling is kept
  EXPECT_EQ(m.top_via_branch(), "z9hG4bKc");
  EXPECT_NE(m.to_string().find("\r\nContent-Length: 3\r\n\r\nabc"), std::string::npos);
}

TEST(SipMessage, HeaderNamesAreCaseInsensitive) {
  const SipMessage m = parse_ok("BYE sip:a@b SIP/2.0\r\ncall-id: lower\r\nCSEQ: 2 BYE\r\n\r\n");
  EXPECT_EQ(m.header("Call-ID"), "lower");
  EXPECT_EQ(m.header("CALL-ID"), "lower");
  EXPECT_EQ(m.header("I"), "lower");
  EXPECT_EQ(m.cseq()->number, 2u);
  EXPECT_TRUE(header_names_equal("content-LENGTH", "L"));
  EXPECT_FALSE(header_names_equal("Via", "From"));
  EXPECT_EQ(expand_compact_header_name("V"), "Via");
  EXPECT_EQ(expand_compact_header_name("y"), "Identity");
  EXPECT_EQ(expand_compact_header_name("q"), "q");
  EXPECT_EQ(expand_compact_header_name("Route"), "Route");
}

TEST(SipMessage, FoldedLinesAreJoinedWithOneSpace) {
  const SipMessage m = parse_ok(
      "NOTIFY sip:a@b SIP/2.0\r\n"
      "Subject: I know you're there,\r\n"
      "   \t pick up the phone\r\n"
      "\tand talk to me!\r\n"
      "Empty:\r\n"
      " filled later\r\n"
      "Content-Length:\r\n"
      " 0\r\n"
      "\r\n");
  EXPECT_EQ(m.header("Subject"), "I know you're there, pick up the phone and talk to me!");
  EXPECT_EQ(m.header("Empty"), "filled later");
  EXPECT_EQ(m.headers().size(), 2u);
}

TEST(SipMessage, TrimsNamesAndValues) {
  const SipMessage m = parse_ok("ACK sip:a@b SIP/2.0\r\nMax-Forwards \t:  \t70 \t\r\n\r\n");
  ASSERT_EQ(m.headers().size(), 1u);
  EXPECT_EQ(m.headers()[0].name, "Max-Forwards");
  EXPECT_EQ(m.headers()[0].value, "70");
}

TEST(SipMessage, RejectsMalformedStartLines) {
  for (std::string_view bad : {
           "\r\n\r\n",
           "INVITE sip:a@b\r\n\r\n",
           "INVITE  sip:a@b SIP/2.0\r\n\r\n",
           "INVITE sip:a@b SIP/3.0\r\n\r\n",
           "INV@TE sip:a@b SIP/2.0\r\n\r\n",
           " sip:a@b SIP/2.0\r\n\r\n",
           "HTTP/1.1 200 OK\r\n\r\n",
           "SIP/2.0 20 OK\r\n\r\n",
           "SIP/2.0 2000 OK\r\n\r\n",
           "SIP/2.0 099 Low\r\n\r\n",
           "SIP/2.0 700 High\r\n\r\n",
           "SIP/2.0 2x0 OK\r\n\r\n",
           "SIP/2.0 200OK\r\n\r\n",
           "SIP/2.0\r\n\r\n",
           "OPTIONS sip:a@b SIP/2.0\r\nNo-Blank-Line: 1\r\n",
       }) {
    EXPECT_EQ(parse_error(bad), errc::malformed_message) << bad;
  }
}

TEST(SipMessage, RejectsMalformedHeaderLines) {
  for (std::string_view bad : {
           "OPTIONS sip:a@b SIP/2.0\r\nNo colon here\r\n\r\n",
           "OPTIONS sip:a@b SIP/2.0\r\n: no name\r\n\r\n",
           "OPTIONS sip:a@b SIP/2.0\r\nBad(Name): x\r\n\r\n",
           "OPTIONS sip:a@b SIP/2.0\r\nTwo Words: x\r\n\r\n",
           "OPTIONS sip:a@b SIP/2.0\r\n folded before any header\r\n\r\n",
           // One case bit from a name the stack knows (CR | 0x20 is '-'; 0x01 | 0x20 is '!'):
           // a known name skips the byte-by-byte token check, so it must not match these.
           "OPTIONS sip:a@b SIP/2.0\r\nCall\rID: x\r\n\r\n",
           "OPTIONS sip:a@b SIP/2.0\r\nVi\x01: x\r\n\r\n",
       }) {
    EXPECT_EQ(parse_error(bad), errc::malformed_message) << bad;
  }
  std::error_code ec;
  const SipMessage m = SipMessage::parse("OPTIONS sip:a@b SIP/2.0\r\nBad\r\n\r\n", ec);
  EXPECT_TRUE(m.headers().empty());
  EXPECT_EQ(m.method(), "");
}

TEST(SipMessage, ContentLengthIsWrittenFromTheBody) {
  SipMessage m = SipMessage::request("MESSAGE", "sip:bob@example.com");
  m.add_header("Content-Length", "99");
  m.add_header("l", "98");
  m.set_header("content-length", "97");
  m.add_header("Call-ID", "c1");
  m.set_body("hello", "text/plain");
  EXPECT_EQ(m.to_string(),
            "MESSAGE sip:bob@example.com SIP/2.0\r\n"
            "Call-ID: c1\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "hello");
  const SipMessage parsed = parse_ok("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 999\r\n\r\nabc");
  EXPECT_TRUE(parsed.headers().empty());
  EXPECT_NE(parsed.to_string().find("Content-Length: 3\r\n"), std::string::npos);
}

TEST(SipMessage, SerializeAppends) {
  std::string out = "prefix|";
  SipMessage::response(200).serialize_to(out);
  EXPECT_EQ(out, "prefix|SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(SipMessage, SetHeaderReplacesEveryLineInPlace) {
  SipMessage m = SipMessage::request("OPTIONS", "sip:a@b");
  m.add_header("Route", "<sip:p1;lr>");
  m.add_header("Call-ID", "c");
  m.add_header("route", "<sip:p2;lr>");
  EXPECT_EQ(m.header_values("Route"),
            (std::vector<std::string_view>{"<sip:p1;lr>", "<sip:p2;lr>"}));
  m.set_header("Route", "<sip:p3;lr>");
  ASSERT_EQ(m.headers().size(), 2u);
  EXPECT_EQ(m.headers()[0].name, "Route");
  EXPECT_EQ(m.headers()[0].value, "<sip:p3;lr>");
  EXPECT_EQ(m.headers()[1].name, "Call-ID");
  m.set_header("Expires", "60");
  EXPECT_EQ(m.headers().back().value, "60");
  EXPECT_EQ(m.remove_header("ROUTE"), 1u);
  EXPECT_EQ(m.remove_header("Route"), 0u);
  EXPECT_EQ(m.headers().size(), 2u);
}

TEST(SipMessage, HeaderValuesKeepsEachLineWhole) {
  const SipMessage m = parse_ok(
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1, SIP/2.0/TCP b\r\n"
      "v: SIP/2.0/TCP c;branch=z9hG4bK3\r\n\r\n");
  EXPECT_EQ(m.header_values("Via"),
            (std::vector<std::string_view>{"SIP/2.0/TCP a;branch=z9hG4bK1, SIP/2.0/TCP b",
                                           "SIP/2.0/TCP c;branch=z9hG4bK3"}));
  EXPECT_EQ(m.top_via_branch(), "z9hG4bK1");
  EXPECT_TRUE(m.header_values("Route").empty());
}

TEST(SipMessage, ResponseToCopiesTheDialogHeadersAndAddsTheTag) {
  const SipMessage request = parse_ok(invite);
  const SipMessage r = SipMessage::response_to(request, 200, {}, "tag42");
  EXPECT_EQ(r.status_code(), 200);
  EXPECT_EQ(r.reason_phrase(), "OK");
  const SipMessage::HeaderList h = r.headers();
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[0].value, "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9");
  EXPECT_EQ(h[1].value, "SIP/2.0/TCP proxy.example.com;branch=z9hG4bK1");
  EXPECT_EQ(h[2].name, "From");
  EXPECT_EQ(h[2].value, "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl");
  EXPECT_EQ(h[3].name, "To");
  EXPECT_EQ(h[3].value, "Bob <sip:bob@biloxi.example.com>;tag=tag42");
  EXPECT_EQ(h[4].value, "3848276298220188511@atlanta.example.com");
  EXPECT_EQ(h[5].value, "1 INVITE");
  EXPECT_TRUE(r.has_to_tag());
  EXPECT_FALSE(request.has_to_tag());
  EXPECT_EQ(r.body(), "");
}

TEST(SipMessage, SerializeResponseToWritesWhatResponseToBuilds) {
  const SipMessage small = parse_ok(invite);
  SipMessage large = small;
  large.set_header("Via", std::string(40000, 'v'));
  // The large one in the middle: the buffers it leaves behind must not leak into the next.
  for (const SipMessage* request : std::vector<const SipMessage*>{&small, &large, &small}) {
    for (int status : {100, 180, 200, 486}) {
      std::string out = "prefix|";
      SipMessage::serialize_response_to(*request, status, {}, "tag42", out);
      EXPECT_EQ(out,
                "prefix|" + SipMessage::response_to(*request, status, {}, "tag42").to_string());
    }
  }
}

TEST(SipMessage, ResponseToLeavesTheTagAloneWhenItMustNotAddOne) {
  const SipMessage request = parse_ok(invite);
  const SipMessage trying = SipMessage::response_to(request, 100, {}, "tag42");
  EXPECT_EQ(trying.header("To"), "Bob <sip:bob@biloxi.example.com>");
  EXPECT_EQ(trying.reason_phrase(), "Trying");
  const SipMessage untagged = SipMessage::response_to(request, 486, "Busy Now");
  EXPECT_EQ(untagged.header("To"), "Bob <sip:bob@biloxi.example.com>");
  EXPECT_EQ(untagged.reason_phrase(), "Busy Now");

  const SipMessage in_dialog = parse_ok(
      "BYE sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK2\r\nt: <sip:a@b>;tag=old\r\n"
      "f: <sip:c@d>;tag=f\r\ni: id\r\nCSeq: 2 BYE\r\n\r\n");
  const SipMessage r = SipMessage::response_to(in_dialog, 200, {}, "new");
  EXPECT_EQ(r.header("To"), "<sip:a@b>;tag=old");
  EXPECT_EQ(r.header_values("Via").size(), 1u);
  EXPECT_EQ(r.cseq()->method, "BYE");
}

TEST(SipMessage, A100TryingEchoesTheTimestampAndNoOtherResponseDoes) {
  SipMessage request = parse_ok(invite);
  request.add_header("Timestamp", "54.2 0.1");
  // RFC 3261 8.2.6.1: the UAS MUST copy the request's Timestamp into the 100 (Trying).
  EXPECT_EQ(SipMessage::response_to(request, 100).header("Timestamp"), "54.2 0.1");
  EXPECT_FALSE(SipMessage::response_to(request, 180, {}, "t").header("Timestamp"));
  EXPECT_FALSE(SipMessage::response_to(request, 200, {}, "t").header("Timestamp"));
  std::string out;
  SipMessage::serialize_response_to(request, 100, {}, {}, out);
  EXPECT_EQ(out, SipMessage::response_to(request, 100).to_string());
}

TEST(SipMessage, HeaderAddressIsTheUriOfANameAddrOrAddrSpec) {
  EXPECT_EQ(header_address("\"Bob\" <sip:bob@b;transport=tcp>;tag=x"), "sip:bob@b;transport=tcp");
  EXPECT_EQ(header_address("Bob <sips:bob@b>"), "sips:bob@b");
  EXPECT_EQ(header_address("\"a <sip:not@this> \\\" b\" <sip:c@d>"), "sip:c@d");
  EXPECT_EQ(header_address("sip:bob@b;tag=x"), "sip:bob@b");
  EXPECT_EQ(header_address("  sip:bob@b  ;tag=x"), "sip:bob@b");
  EXPECT_EQ(header_address("<sip:a>,<sip:b>"), "sip:a");
  EXPECT_EQ(header_address("<sip:a;lr"), "");
  EXPECT_EQ(header_address("\"unclosed <sip:a>"), "");
  EXPECT_EQ(header_address(""), "");
}

TEST(SipMessage, SplitHeaderListSplitsAtCommasOutsideQuotesAndBrackets) {
  using List = std::vector<std::string_view>;
  EXPECT_EQ(split_header_list("<sip:p1;lr>, \"A, B\" <sip:p2;lr> ,sip:p3;x=\"1,2\""),
            (List{"<sip:p1;lr>", "\"A, B\" <sip:p2;lr>", "sip:p3;x=\"1,2\""}));
  EXPECT_EQ(split_header_list("<sip:a,b@h>"), (List{"<sip:a,b@h>"}));
  EXPECT_EQ(split_header_list(" , <sip:a>,, "), (List{"<sip:a>"}));
  EXPECT_EQ(split_header_list(""), List{});
  EXPECT_EQ(split_header_list("<sip:a, <sip:b>"), (List{"<sip:a, <sip:b>"}))
      << "the first < closes at the only >";
}

TEST(SipMessage, HeaderParameterSkipsTheUriInAngleBrackets) {
  EXPECT_EQ(header_parameter("<sip:a;lr>;tag=1", "tag"), "1");
  EXPECT_EQ(header_parameter("<sip:a;lr>;tag=1", "lr"), std::nullopt);
  EXPECT_EQ(header_parameter("<sip:a;tag=inside>", "tag"), std::nullopt);
  EXPECT_EQ(header_parameter("\"A;tag=x <\" <sip:a>;tag=2", "tag"), "2");
  EXPECT_EQ(header_parameter("sip:a@b;tag=3", "tag"), "3");
  EXPECT_EQ(header_parameter("<sip:a> ; TAG = 4 ;x=y", "tag"), "4");
  EXPECT_EQ(header_parameter("<sip:a>;x=\"q;uo\\\"ted\";tag=5", "x"), "q;uo\\\"ted");
  EXPECT_EQ(header_parameter("<sip:a>;x=\"q;uo\\\"ted\";tag=5", "tag"), "5");
  EXPECT_EQ(header_parameter("<sip:a>;x=\"unclosed;tag=5", "tag"), std::nullopt);
  EXPECT_EQ(header_parameter("<sip:a>;lr;tag=6", "lr"), "");
  EXPECT_EQ(header_parameter("<sip:a>;tagx=7", "tag"), std::nullopt);
  EXPECT_EQ(header_parameter("SIP/2.0/UDP a;rport;branch=z9hG4bK8", "BRANCH"), "z9hG4bK8");
  EXPECT_EQ(header_parameter("SIP/2.0/UDP a, SIP/2.0/UDP b;branch=9", "branch"), std::nullopt);
  EXPECT_EQ(header_parameter("", "tag"), std::nullopt);
  EXPECT_EQ(header_parameter("<sip:a;tag=1", "tag"), std::nullopt);  // unclosed: all URI
  EXPECT_EQ(header_parameter("\"A\" <sip:a>;tag=8", "tag"), "8");
  EXPECT_EQ(header_parameter("<sip:a>,<sip:b>;tag=9", "tag"), std::nullopt);
}

TEST(SipMessage, CSeqParsesNumberAndMethod) {
  SipMessage m = SipMessage::request("INVITE", "sip:a@b");
  EXPECT_EQ(m.cseq(), std::nullopt);
  m.set_header("CSeq", "  314159 INVITE");
  ASSERT_TRUE(m.cseq());
  EXPECT_EQ(m.cseq()->number, 314159u);
  EXPECT_EQ(m.cseq()->method, "INVITE");
  m.set_header("CSeq", "4294967295\t ACK ");
  EXPECT_EQ(m.cseq()->number, 4294967295u);
  EXPECT_EQ(m.cseq()->method, "ACK");
  for (const char* bad :
       {"INVITE", "1", "x1 INVITE", "-1 INVITE", "4294967296 INVITE", "1 IN VITE", "1 IN;VITE"}) {
    m.set_header("CSeq", bad);
    EXPECT_EQ(m.cseq(), std::nullopt) << bad;
  }
}

TEST(SipMessage, ACopyOwnsItsTextAndEditsMayQuoteTheMessageItself) {
  SipMessage original = parse_ok(invite);
  const SipMessage copy = original;
  // Each value comes from the message being edited: the buffer it lies in grows under it.
  for (int i = 0; i < 64; ++i) original.add_header("Route", *original.header("Contact"));
  original.set_header("Call-ID", original.headers()[0].value);
  original.set_body(original.body(), *original.header("Content-Type"));
  EXPECT_EQ(original.header_values("Route").size(), 64u);
  EXPECT_EQ(original.header("Call-ID"), copy.headers()[0].value);
  EXPECT_EQ(original.body(), "v=0\n");
  EXPECT_EQ(copy.to_string(), invite);
  original = SipMessage::response(200);
  EXPECT_EQ(copy.header("Call-ID"), "3848276298220188511@atlanta.example.com");
}

TEST(SipMessage, AMovedFromMessageIsEmpty) {
  SipMessage original = parse_ok(invite);
  const SipMessage moved = std::move(original);
  EXPECT_EQ(moved.to_string(), invite);
  // NOLINTNEXTLINE(bugprone-use-after-move): what is left must be safe to use, and empty
  EXPECT_EQ(original.body(), "");
  EXPECT_EQ(original.method(), "");
  EXPECT_TRUE(original.headers().empty());
  EXPECT_EQ(original.to_string(), " " + std::string(" SIP/2.0\r\nContent-Length: 0\r\n\r\n"));
}

TEST(SipMessage, EditedOverAndOverItKeepsWhatItShows) {
  SipMessage m = parse_ok(invite);
  for (int i = 0; i < 20000; ++i) {
    m.set_header("CSeq", std::to_string(i) + " INVITE");
    m.set_body(std::string(static_cast<std::size_t>(i % 50), 'b'), *m.header("Content-Type"));
  }
  EXPECT_EQ(m.header("CSeq"), "19999 INVITE");
  EXPECT_EQ(m.body(), std::string(19999 % 50, 'b'));
  EXPECT_EQ(m.header("Call-ID"), "3848276298220188511@atlanta.example.com");
  EXPECT_EQ(m.request_uri(), "sip:bob@biloxi.example.com");
  EXPECT_EQ(m.headers().size(), 9u);
}

TEST(SipMessage, HeaderListWorksWithStandardAlgorithms) {
  const SipMessage m = parse_ok(invite);
  const auto h = m.headers();
  const std::vector<HeaderField> copied(h.begin(), h.end());
  ASSERT_EQ(copied.size(), 9u);
  EXPECT_EQ(std::distance(h.begin(), h.end()), 9);
  EXPECT_EQ(copied[2].name, "Max-Forwards");
  EXPECT_EQ(std::ranges::count_if(h, [](const HeaderField& f) { return f.name == "Via"; }), 2);
}

TEST(SipMessage, ResponseTakesTheDefaultReasonPhrase) {
  EXPECT_EQ(SipMessage::response(404).reason_phrase(), "Not Found");
  EXPECT_EQ(SipMessage::response(404, "Nobody Here").reason_phrase(), "Nobody Here");
  EXPECT_EQ(default_reason_phrase(100), "Trying");
  EXPECT_EQ(default_reason_phrase(183), "Session Progress");
  EXPECT_EQ(default_reason_phrase(408), "Request Timeout");
  EXPECT_EQ(default_reason_phrase(481), "Call/Transaction Does Not Exist");
  EXPECT_EQ(default_reason_phrase(504), "Server Time-out");
  EXPECT_EQ(default_reason_phrase(606), "Not Acceptable");
  EXPECT_EQ(default_reason_phrase(299), "Unknown");
  EXPECT_EQ(default_reason_phrase(-1), "Unknown");
}

}  // namespace
}  // namespace rtconn
