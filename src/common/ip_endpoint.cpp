#include "rtconn/ip_endpoint.hpp"

#include <charconv>

namespace rtconn {

std::optional<IpEndpoint> IpEndpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return std::nullopt;
  }
  std::error_code parse_error;
  const auto address = asio::ip::make_address(std::string(host), parse_error);
  if (parse_error) return std::nullopt;
  // Brackets are how a port is told apart from an IPv6 group, so an IPv6 address needs them.
  if (address.is_v6() != text.starts_with('[')) return std::nullopt;
  return IpEndpoint(address, static_cast<std::uint16_t>(port));
}

std::string IpEndpoint::to_string() const {
  const auto port = std::to_string(port_);
  return address_.is_v6() ? "[" + address_.to_string() + "]:" + port
                          : address_.to_string() + ":" + port;
}

std::strong_ordering operator<=>(const IpEndpoint& a, const IpEndpoint& b) noexcept {
  if (a.address_ < b.address_) return std::strong_ordering::less;
  if (b.address_ < a.address_) return std::strong_ordering::greater;
  return a.port_ <=> b.port_;
}

}  // namespace rtconn

std::size_t std::hash<rtconn::IpEndpoint>::operator()(const rtconn::IpEndpoint& e) const noexcept {
  return std::hash<asio::ip::address>{}(e.address()) * 31 + e.port();
}
