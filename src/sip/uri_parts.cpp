#include "sip/uri_parts.hpp"

#include <algorithm>

#include "sip/text.hpp"

namespace rtconn::sip {
namespace {

// Host names and IPv4 addresses; '_' is not in RFC 3261's grammar but is met in real DNS names.
bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// Inside `[...]`: hex groups, colons, and a dotted IPv4 tail.
bool is_ipv6_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// Splits `text` at the first of `Delimiters`: returns what precedes it and leaves the rest,
// delimiter included, in `text`. The set is a template's, not find_first_of's, which calls
// memchr on it once per character (an owner lookup parses two URIs a request).
template <char... Delimiters>
std::string_view take_until(std::string_view& text) noexcept {
  const auto end =
      std::find_if(text.begin(), text.end(), [](char c) { return ((c == Delimiters) || ...); });
  const std::string_view head(text.begin(), end);
  text.remove_prefix(head.size());
  return head;
}

// Fills host and port from `host[:port]` or `[v6]:port`; false when either is invalid.
bool parse_hostport(std::string_view hostport, UriParts& uri) noexcept {
  std::string_view host;
  std::string_view after_host;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    host = hostport.substr(1, close - 1);
    after_host = hostport.substr(close + 1);
    if (!std::all_of(host.begin(), host.end(), is_ipv6_char)) return false;
  } else {
    host = take_until<':'>(hostport);
    after_host = hostport;
    if (!std::all_of(host.begin(), host.end(), is_host_char)) return false;
  }
  if (host.empty()) return false;
  uri.host = host;
  if (after_host.empty()) return true;
  if (after_host.front() != ':') return false;
  const auto port = parse_decimal<std::uint16_t>(after_host.substr(1));
  if (!port || *port == 0) return false;
  uri.port = *port;
  return true;
}

}  // namespace

std::optional<UriParts> parse_uri_parts(std::string_view text) noexcept {
  text = trim_wsp(text);
  if (text.starts_with('<')) {
    if (!text.ends_with('>')) return std::nullopt;
    text = text.substr(1, text.size() - 2);
  }
  UriParts uri;
  const std::string_view scheme = take_until<':'>(text);
  if (iequals(scheme, "sip")) {
    uri.scheme = "sip";
  } else if (iequals(scheme, "sips")) {
    uri.scheme = "sips";
  } else {
    return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  text.remove_prefix(1);  // the ':'

  // RFC 3261 allows '@' unescaped only after the userinfo; the '?' bound keeps an unescaped '@'
  // in a header part (seen in Replaces values) from being mistaken for it.
  if (const auto at = text.substr(0, text.find('?')).find('@'); at != std::string_view::npos) {
    std::string_view userinfo = text.substr(0, at);
    uri.user = take_until<':'>(userinfo);  // a password does not choose where a request goes
    if (uri.user.empty()) return std::nullopt;
    text.remove_prefix(at + 1);
  }
  if (!parse_hostport(take_until<';', '?'>(text), uri)) return std::nullopt;

  while (text.starts_with(';')) {
    text.remove_prefix(1);
    std::string_view value = take_until<';', '?'>(text);
    const std::string_view name = take_until<'='>(value);
    if (!iequals(name, "transport") || value.empty()) continue;
    uri.transport = value.substr(1);  // after the '='
  }
  return uri;
}

}  // namespace rtconn::sip
