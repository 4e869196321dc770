#pragma once
/// \file
/// An IP address and port, as UCMA's IPEndPoint.

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <asio/ip/address.hpp>

namespace rtconn {

/// An IPv4 or IPv6 address with a port. `0.0.0.0:0` (or `[::]:0`) asks a listener for every
/// interface and any free port.
class IpEndpoint {
 public:
  IpEndpoint() = default;
  IpEndpoint(asio::ip::address address, std::uint16_t port) : address_(address), port_(port) {}

  /// Parses `127.0.0.1:5060`, `[::1]:5060`, `[::]:0`; nullopt on anything else.
  static std::optional<IpEndpoint> parse(std::string_view text);
  /// Every IPv4 interface, any port: `0.0.0.0:0`.
  static IpEndpoint any_ipv4(std::uint16_t port = 0) { return {asio::ip::address_v4::any(), port}; }
  /// Every IPv6 interface, any port: `[::]:0`.
  static IpEndpoint any_ipv6(std::uint16_t port = 0) { return {asio::ip::address_v6::any(), port}; }

  const asio::ip::address& address() const noexcept { return address_; }
  std::uint16_t port() const noexcept { return port_; }
  bool is_v6() const noexcept { return address_.is_v6(); }

  /// `127.0.0.1:5060` or `[::1]:5060`.
  std::string to_string() const;

  friend bool operator==(const IpEndpoint&, const IpEndpoint&) = default;
  friend std::strong_ordering operator<=>(const IpEndpoint& a, const IpEndpoint& b) noexcept;

 private:
  asio::ip::address address_;
  std::uint16_t port_ = 0;
};

}  // namespace rtconn

template <>
struct std::hash<rtconn::IpEndpoint> {
  std::size_t operator()(const rtconn::IpEndpoint& e) const noexcept;
};
