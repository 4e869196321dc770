#pragma once
// An outgoing connection's way to its peer: the addresses its host resolved to, tried one at a
// time, each attempt given an even share of what is left of the connect time-out. An address
// that never answers (a blackholed IPv6 route, a host that is down: SYNs dropped, no refusal)
// would otherwise spend the whole time-out and leave the addresses after it untried.
// (RFC 8305 races the families instead; one at a time keeps a connection one socket.)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "rtconn/clock.hpp"

namespace rtconn::dns {
struct Lookup;  // the locator's; only held here
}  // namespace rtconn::dns

namespace rtconn::connection {

/// Used on its connection's executor only, as the rest of the connection's connect state.
class ConnectAttempts {
 public:
  using Endpoint = asio::ip::tcp::endpoint;

  /// More addresses to try, after those given before (less any already there): the `first`th
  /// (counted round the leading `spread` of them: all by default), then the others in the
  /// order given, so the resolver's preferred address is the first fallback.
  void add_addresses(std::vector<Endpoint> addresses, std::size_t first = 0,
                     std::size_t spread = SIZE_MAX) {
    spread = std::min(spread, addresses.size());
    if (spread > 0) {
      const auto chosen = addresses.begin() + static_cast<std::ptrdiff_t>(first % spread);
      std::rotate(addresses.begin(), chosen, chosen + 1);
    }
    for (auto& address : addresses) {
      if (std::find(addresses_.begin(), addresses_.end(), address) == addresses_.end()) {
        addresses_.push_back(std::move(address));
      }
    }
  }

  /// The servers whose addresses come after these (SRV backups still being looked up).
  void set_later(std::shared_ptr<dns::Lookup> later) noexcept { later_ = std::move(later); }
  std::shared_ptr<dns::Lookup> take_later() noexcept { return std::move(later_); }

  /// The next address to try, none when every one has been. `deadline` is when the whole
  /// connect must be done (none: no time-out); the attempt gets its share of what is left.
  std::optional<Endpoint> next(Clock::time_point now, std::optional<Clock::time_point> deadline) {
    attempt_deadline_.reset();
    given_up_ = false;
    if (tried_ == addresses_.size()) return std::nullopt;
    // This one included, and servers still being looked up count as one more: an address that
    // never answers must leave them time.
    const auto left = addresses_.size() - tried_ + (later_ ? 1 : 0);
    // The last attempt runs to the connection's own deadline.
    if (deadline && left > 1) {
      attempt_deadline_ = now + std::max(*deadline - now, Clock::duration::zero()) /
                                    static_cast<Clock::duration::rep>(left);
    }
    return addresses_[tried_++];
  }

  /// When the attempt under way is given up for the next address; none for the last.
  std::optional<Clock::time_point> attempt_deadline() const noexcept { return attempt_deadline_; }
  /// The attempt under way ran out of time; its socket is closed, its completion still due.
  void give_up() noexcept {
    attempt_deadline_.reset();
    given_up_ = true;
  }
  bool given_up() const noexcept { return given_up_; }

 private:
  std::vector<Endpoint> addresses_;
  std::shared_ptr<dns::Lookup> later_;
  std::size_t tried_ = 0;
  std::optional<Clock::time_point> attempt_deadline_;
  bool given_up_ = false;
};

}  // namespace rtconn::connection
