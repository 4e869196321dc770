#include "sdp_answer.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

namespace rtconn::cli {
namespace {

struct Codec {
  std::string_view payload_type;
  std::string_view rtpmap;
};
constexpr std::array<Codec, 2> codecs{{{"0", "PCMU/8000"}, {"8", "PCMA/8000"}}};

std::string session_lines(const asio::ip::address& local, SdpOrigin origin) {
  return fmt::format("v=0\r\no=rtconn {2} {3} IN IP{0} {1}\r\ns=-\r\nc=IN IP{0} {1}\r\nt=0 0\r\n",
                     local.is_v4() ? 4 : 6, local.to_string(), origin.session_id, origin.version);
}

// RFC 4566's token: what media, protocol and formats are made of. The answer copies those of
// rejected streams, so nothing else may get through.
bool is_token(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= '!' && c <= '~') && c != '"' && c != '(' && c != ')' && c != ',' && c != ':' &&
           c != ';' && c != '<' && c != '>' && c != '@' && c != '[' && c != '\\' && c != ']' &&
           c != '{' && c != '}' && c != '=';
  });
}

// The offer's lines, without their line ends (CRLF, or LF from a lax peer).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return lines;
}

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = line.find(' ');
    words.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  return words;
}

// The direction that answers an offered one (RFC 3264 6.1).
std::string_view mirrored(std::string_view direction) {
  if (direction == "sendonly") return "recvonly";
  if (direction == "recvonly") return "sendonly";
  return direction;
}

bool is_direction(std::string_view attribute) {
  return attribute == "sendrecv" || attribute == "sendonly" || attribute == "recvonly" ||
         attribute == "inactive";
}

// m=<media> <port> <proto> <fmt> ...: four words at least, each a token (the port, and the
// "/<count>" after it, too).
bool is_media_line(const std::vector<std::string_view>& m) {
  return m.size() >= 4 && std::all_of(m.begin(), m.end(), is_token);
}

struct OfferedStream {
  std::vector<std::string_view> m_line;  // media, port, protocol, formats...
  std::string_view direction;            // this stream's, else the session's, else empty
};

std::vector<OfferedStream> streams_of(std::string_view offer) {
  std::vector<OfferedStream> streams;
  std::string_view session_direction;
  for (const auto line : lines_of(offer)) {
    if (line.starts_with("m=")) {
      streams.push_back({words_of(line.substr(2)), session_direction});
    } else if (line.starts_with("a=") && is_direction(line.substr(2))) {
      (streams.empty() ? session_direction : streams.back().direction) = line.substr(2);
    }
  }
  return streams;
}

// The answer's lines for one offered (and checked) stream; `accepted` false when it is rejected.
std::string answer_stream(const OfferedStream& stream, bool& accepted) {
  const auto& m = stream.m_line;
  if (m[0] == "audio" && m[1] != "0" && m[2] == "RTP/AVP") {
    for (std::size_t i = 3; i < m.size(); ++i) {
      for (const auto& codec : codecs) {
        if (m[i] != codec.payload_type) continue;
        accepted = true;
        auto lines = fmt::format("m=audio 9 RTP/AVP {0}\r\na=rtpmap:{0} {1}\r\n",
                                 codec.payload_type, codec.rtpmap);
        if (!stream.direction.empty()) lines += fmt::format("a={}\r\n", mirrored(stream.direction));
        return lines;
      }
    }
  }
  // Rejected: port 0 with the offer's protocol and one of its formats (RFC 3264 6).
  return fmt::format("m={} 0 {} {}\r\n", m[0], m[2], m[3]);
}

}  // namespace

std::optional<std::string> make_sdp_answer(std::string_view offer, const asio::ip::address& local,
                                           SdpOrigin origin) {
  const auto streams = streams_of(offer);
  if (streams.size() > max_streams ||
      !std::all_of(streams.begin(), streams.end(),
                   [](const OfferedStream& s) { return is_media_line(s.m_line); })) {
    return std::nullopt;
  }
  auto answer = session_lines(local, origin);
  bool any_accepted = false;
  for (const auto& stream : streams) {
    bool accepted = false;
    answer += answer_stream(stream, accepted);
    any_accepted = any_accepted || accepted;
  }
  if (!any_accepted) return std::nullopt;
  return answer;
}

std::string make_sdp_offer(const asio::ip::address& local, SdpOrigin origin) {
  return session_lines(local, origin) + "m=audio 9 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n" +
         "a=rtpmap:8 PCMA/8000\r\n";
}

}  // namespace rtconn::cli
